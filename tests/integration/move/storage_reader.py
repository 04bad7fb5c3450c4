#!/usr/bin/env python3
"""A note moved out of rclone (--vfs-cache-mode writes) while another program reads it keeps
its own time.

rclone shows a file that waits for its upload with the time of its cache file; any read sets
that to "now" until the reader's descriptor is released, which the kernel sends after close()
has returned.  A note saved and dated 2021 (the test's flags, vstest.storage), not yet
uploaded, read by another process, is moved by the shim to tmpfs:
  closed-before  the reader read it whole and closed it right before the move;
  closes-during  the reader holds it open and closes it 100 ms after the move started.
Each TRIALS times, with a 4 MiB file ending in a hole and a small note.  The reference is the
kernel's rename on rclone: once the reader is gone the renamed note shows its own time
(checked once per case).  Plain GNU mv across the same mounts is printed as context.
Exits 1 on any deviation, 77 when not root.
"""
import os
import subprocess
import sys
import threading
import time

import vstest
from vstest import storage

TRIALS = 10
NOTE_NS = 1_609_459_201_123_456_796  # 2021-01-01, with nanoseconds
SHAPES = {"tail.img": (b"header\n", 4 << 20), "note.md": (b"# a note\n" * 40, None)}
CASES = ("closed-before", "closes-during")


def write_note(path, shape):
    data, hole_to = shape
    with open(path, "wb") as f:
        f.write(data)
        if hole_to:
            f.truncate(hole_to)
    os.utime(path, ns=(NOTE_NS, NOTE_NS))


def wait_time(path, timeout=10):
    """The note's own time back (the reader's release done), or the last time shown."""
    deadline = time.monotonic() + timeout
    while True:
        mtime = os.stat(path).st_mtime_ns
        if mtime == NOTE_NS or time.monotonic() > deadline:
            return mtime
        time.sleep(0.01)


def start_reader(path, case):
    """Reads the note as another program would; returns what to join before checking."""
    if case == "closed-before":
        with open(path, "rb") as f:
            f.read()
        return None
    fd = os.open(path, os.O_RDONLY)
    os.read(fd, 4096)
    closer = threading.Timer(0.1, os.close, (fd,))
    closer.start()
    return closer


def shown(mtime):
    return "its own time" if mtime == NOTE_NS else f"another time ({mtime})"


def move_once(mover, src, dst, shape, case, env):
    """One note written, read, moved; returns (result line, time of the moved note)."""
    write_note(src, shape)
    wait_time(src)
    reader = start_reader(src, case)
    if mover == "kernel":
        os.rename(src, dst)
        result = "ret=0 errno=0"
    else:
        argv = ["mv", src, dst] if mover == "mv" else \
            [vstest.helper("vs-rename-call"), "rename", src, dst, "0"]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        if mover == "shim":
            result = proc.stdout.strip() + (f" stderr: {proc.stderr.strip()}"
                                            if proc.stderr.strip() else "")
        else:  # mv warns that rclone has no extended attributes (EIO)
            result = f"exit {proc.returncode}"
    if reader:
        reader.join()
    mtime = wait_time(dst) if mover == "kernel" else os.stat(dst).st_mtime_ns
    return result, mtime


def main():
    shim = storage.start("moves out of rclone while a note is read", "rclone-writes")
    if not shim:
        return 1
    failures = 0
    with vstest.Scratch("tmpfs") as scratch:
        export, vault, local, base_env, shim_env = storage.vault_with_export(scratch, shim)
        with storage.Storage("rclone-writes", os.path.join(scratch.dir, "work"),
                             strict=True) as st:
            remote = st.mount(export, os.path.join(vault, "rclone"))
            for case in CASES:
                for name, shape in SHAPES.items():
                    src = os.path.join(remote, f"{case}-{name}")
                    _, mtime = move_once("kernel", src, src + ".renamed", shape, case,
                                         base_env)
                    if mtime != NOTE_NS:
                        failures += 1
                    print(f"{'ok' if mtime == NOTE_NS else 'MISMATCH':<9} {case:<14} "
                          f"{name:<9} kernel's rename on rclone: {shown(mtime)}", flush=True)
                    problems = []
                    for n in range(TRIALS):
                        dst = os.path.join(local, f"{case}-{n}-{name}")
                        result, mtime = move_once("shim", src, dst, shape, case, shim_env)
                        if result != "ret=0 errno=0" or mtime != NOTE_NS:
                            problems.append(f"trial {n}: {result}, the moved note has "
                                            f"{shown(mtime)}")
                        if os.path.lexists(src):
                            problems.append(f"trial {n}: the source is still there")
                    failures += bool(problems)
                    print(f"{'ok' if not problems else 'MISMATCH':<9} {case:<14} {name:<9} "
                          f"shim, {TRIALS} moves to tmpfs: the note keeps its own time",
                          flush=True)
                    for line in problems:
                        print(f"    {line}")
                    result, mtime = move_once("mv", src, os.path.join(local, f"mv-{case}-{name}"),
                                              shape, case, base_env)
                    print(f"context   {case:<14} {name:<9} plain mv to tmpfs ({result}): "
                          f"{shown(mtime)}", flush=True)
    print(f"moves out of rclone while the note is read: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
