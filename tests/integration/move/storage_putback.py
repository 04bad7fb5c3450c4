#!/usr/bin/env python3
"""A note put back at its name on rclone (--vfs-cache-mode writes) keeps its time.

Past the install a move out of the source's folder sets the source aside under a hidden name
and removes it only if nobody wrote to it since its copy; otherwise, or when the removal
fails, the source goes back to its name.  rclone's rename has no flags, so the put-back is a
rename over an empty name reserved by O_EXCL, and rclone shows a file with the time of its
cache file, or of the object it uploaded: neither may leave the note dated when it was put
back.  Each case moves a note, dated 2021 by the test's utime, from rclone to tmpfs:
  fails       the removal of the set-aside source fails (VAULTSHIM_FAULT unlink-source:EIO);
              the note is back, unchanged, with its own time, both right after the move and
              once rclone's write-back (5 s after the put-back, also the reservation's) ran.
  written     a program that opened the note before the move appends to it while it is set
              aside; the note is back with what it wrote and the time of that write;
  overwritten the same with a write that keeps the note's size (rclone shows only its time).
The note is waiting for its upload, uploaded already, (fails only) put in the storage by
another host (not in this rclone's cache: renamed over a reservation, rclone showed the empty
reservation at its name and uploaded it over the note 5 s later), or (fails only) read by
another program that closes it 100 ms into the move (its time is checked once rclone has that reader's release,
as the kernel's own rename on rclone shows it: tests/integration/move/storage_reader.py).  In every case the
move itself returns 0 and the copy at the new name has the note's own time and bytes.
Exits 1 on any deviation, 77 when not root.
"""
import os
import subprocess
import sys
import threading
import time

import vstest
from vstest import storage

TRIALS = 3
NOTE_NS = 1_609_459_201_123_456_796  # 2021-01-01, with nanoseconds
NOTE = b"# a note\n" * 40
APPENDED = b"a line written while the note was set aside\n"
OVERWRITTEN = b"# A NOTE\n" + NOTE[len(b"# A NOTE\n"):]  # the same size
WRITE_BACK_S = 5  # rclone's default --vfs-write-back
CASES = (("fails", "waiting"), ("fails", "uploaded"), ("fails", "remote"), ("fails", "read"),
         ("written", "waiting"), ("written", "uploaded"),
         ("overwritten", "waiting"), ("overwritten", "uploaded"))
CHECKS = ("after the move", f"{WRITE_BACK_S + 2} s later", "uploaded")


def write_note(path):
    with open(path, "wb") as f:
        f.write(NOTE)
    os.utime(path, ns=(NOTE_NS, NOTE_NS))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def shown_bytes(data):
    if data == NOTE:
        return "its bytes"
    if data == NOTE + APPENDED:
        return "its bytes and the write"
    if data == OVERWRITTEN:
        return "its bytes overwritten"
    return f"{len(data)} other bytes"


def shown(mtime, writes=None):
    if mtime == NOTE_NS:
        return "its own time"
    if writes and writes[0] <= mtime <= writes[1]:
        return "the time of the write"
    return f"another time ({mtime})"


class Trial:
    """One note on rclone set aside and put back, by the shim's move with a fault or by two
    kernel renames (the reference); what it showed at each check."""

    def __init__(self, remote, export, local, case, mover, n):
        self.event, self.state = case
        self.mover = mover
        name = f"{self.event}-{self.state}-{mover}-{n}.md"
        self.src = os.path.join(remote, name)
        self.aside = os.path.join(remote, ".aside-" + name)
        self.exported = os.path.join(export, name)
        self.dst = os.path.join(local, name)
        self.length = len(NOTE) + (len(APPENDED) if self.event == "written" else 0)
        self.writes = None  # (before, after) the writer's append, in CLOCK_REALTIME ns
        self.seen = {}      # check -> what the note showed
        self.problems = []

    def uploaded(self):
        try:
            st = os.stat(self.exported)
        except FileNotFoundError:
            return False
        return st.st_size == len(NOTE) and st.st_mtime_ns == NOTE_NS

    def move(self, env):
        fd, reader, closer, proc = None, None, None, None
        if self.event != "fails":
            fd = os.open(self.src, os.O_WRONLY | (os.O_APPEND if self.event == "written" else 0))
        elif self.state == "read":
            reader = os.open(self.src, os.O_RDONLY)
            os.read(reader, 4096)
            closer = threading.Timer(0.1, os.close, (reader,))
        if self.mover == "shim":
            fault = "unlink-source:EIO" if self.event == "fails" else "unlink-source:sleep=1500"
            proc = subprocess.Popen([vstest.helper("vs-rename-call"), "rename", self.src,
                                     self.dst, "0"], env=dict(env, VAULTSHIM_FAULT=fault),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        else:
            os.rename(self.src, self.aside)
        if closer:
            closer.start()
        if self.event != "fails":
            # Set aside (its name empty; by the shim once its copy is installed): it writes.
            if wait_for(lambda: not os.path.lexists(self.src), 60):
                before = time.time_ns()
                if self.event == "written":
                    os.write(fd, APPENDED)
                else:
                    os.pwrite(fd, OVERWRITTEN[:len(b"# A NOTE\n")], 0)
                self.writes = (before, time.time_ns())
            else:
                self.problems.append("the source never left its name")
        if proc:
            out, err = proc.communicate(timeout=120)
            result = out.strip() + (f" stderr: {err.strip()}" if err.strip() else "")
            if result != "ret=0 errno=0":
                self.problems.append(f"the move returned {result}, not ret=0 errno=0")
        else:
            os.rename(self.aside, self.src)
        if fd is not None:
            os.close(fd)
        if closer:
            closer.join()

    def check(self, when):
        """The note back at its name with its bytes; the time it shows; the shim's copy."""
        if not os.path.lexists(self.src):
            self.problems.append(f"{when}: the note is not back at its name")
            return
        if self.state == "read":
            # The reader's "now" lasts until rclone gets its release, after close().
            wait_for(lambda: os.stat(self.src).st_mtime_ns == NOTE_NS, 10)
        self.seen[when] = (f"{shown(os.stat(self.src).st_mtime_ns, self.writes)}, "
                           f"{shown_bytes(read(self.src))}")
        if when == CHECKS[0] and self.mover == "shim":
            copy = os.stat(self.dst)
            if copy.st_mtime_ns != NOTE_NS or read(self.dst) != NOTE:
                self.problems.append(f"the copy at the new name has {shown(copy.st_mtime_ns)} "
                                     f"and {copy.st_size} bytes")

    def check_uploaded(self):
        """What rclone uploaded once its write-back ran (also the reservation's)."""
        if not os.path.exists(self.exported):
            self.seen["uploaded"] = "nothing"
            return
        self.seen["uploaded"] = (f"{shown(os.stat(self.exported).st_mtime_ns, self.writes)}, "
                                 f"{shown_bytes(read(self.exported))}")


def main():
    shim = storage.start("notes put back on rclone", "rclone-writes")
    if not shim:
        return 1
    with vstest.Scratch("tmpfs") as scratch:
        export, vault, local, _, env = storage.vault_with_export(scratch, shim)
        with storage.Storage("rclone-writes", os.path.join(scratch.dir, "work"),
                             strict=True) as st:
            remote = os.path.join(vault, "rclone")
            trials = [Trial(remote, export, local, case, mover, n) for case in CASES
                      for mover, count in (("kernel", 1), ("shim", TRIALS))
                      for n in range(count)]
            # Put there by another host or the cloud's own client: not in this rclone's cache.
            for t in trials:
                if t.state == "remote":
                    write_note(t.exported)
            st.mount(export, remote)
            for t in trials:
                if t.state == "uploaded":
                    write_note(t.src)
            # One wait for every upload: rclone uploads 5 s after the last close.
            if not wait_for(lambda: all(t.uploaded() for t in trials
                                        if t.state == "uploaded"), 60):
                print("FAIL: rclone did not upload the notes within 60 s")
                return 1
            for t in trials:
                if t.state not in ("uploaded", "remote"):
                    write_note(t.src)
                    wait_for(lambda: os.stat(t.src).st_mtime_ns == NOTE_NS, 10)
                t.move(env)
                t.check(CHECKS[0])
            # The note's own write-back, and that of the reservation it was renamed over.
            time.sleep(WRITE_BACK_S + 2)
            for t in trials:
                t.check(CHECKS[1])
            if not wait_for(lambda: all(os.path.exists(t.exported) and
                                        os.path.getsize(t.exported) == t.length
                                        for t in trials), 30):
                print("note: rclone had not uploaded every note 30 s later")
            for t in trials:
                t.check_uploaded()
            wanted = {os.path.basename(t.src) for t in trials}
            leftovers = sorted(set(os.listdir(remote)) - wanted)
    failures = 0
    for case in CASES:
        kernel = next(t for t in trials if (t.event, t.state, t.mover) == (*case, "kernel"))
        shim = [t for t in trials if (t.event, t.state, t.mover) == (*case, "shim")]
        reference = ", ".join(f"{when}: {kernel.seen.get(when)}" for when in CHECKS)
        print(f"reference {case[0]:<8} {case[1]:<9} the kernel's two renames on rclone: "
              f"{reference}", flush=True)
        problems = [f"kernel: {p}" for p in kernel.problems]
        for n, t in enumerate(shim):
            problems += [f"trial {n}: {p}" for p in t.problems]
            problems += [f"trial {n}: {when}: {t.seen.get(when)}" for when in CHECKS
                         if t.seen.get(when) != kernel.seen.get(when)]
        if case[0] == "fails" and any(seen != ("its own time, its bytes") for seen in
                                      kernel.seen.values()):
            problems.append("the reference itself lost the note's time or bytes")
        failures += bool(problems)
        print(f"{'ok' if not problems else 'MISMATCH':<9} {case[0]:<8} {case[1]:<9} shim, "
              f"{TRIALS} moves to tmpfs with the source put back: the same", flush=True)
        for line in problems:
            print(f"    {line}")
    if leftovers:
        failures += 1
        print(f"MISMATCH  names left in the rclone folder: {leftovers}")
    print(f"notes put back on rclone: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
