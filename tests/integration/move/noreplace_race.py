#!/usr/bin/env python3
"""RENAME_NOREPLACE where the storage has no renameat2 flags (its own rename answers EINVAL):
several movers, each with a note (or a folder) of its own on tmpfs, move it with
renameat2(RENAME_NOREPLACE) to ONE name on the storage at the same instant.  The kernel
serialises such renames on one filesystem: exactly one wins, every other gets EEXIST and
keeps its source.  The shim must do the same although it cannot pass the flag on:
  sshfs, bindfs  a file is installed by link(2) (EEXIST when the name exists), a folder by a
                 rename that can replace only an empty directory;
  rclone         no hard links: the name is reserved by an O_EXCL create, then replaced.
Checked: one success, EEXIST for the rest, the target is the winner's, every loser's source
is whole, nothing of the shim's is left.  Exits 1 on any deviation, 77 when not root.
"""
import errno
import hashlib
import os
import subprocess
import sys
import time

import vstest
from vstest import storage

MOVERS = 6
TRIALS = 4
KINDS = ("sshfs", "rclone-writes", "bindfs")


def content(tag):
    return hashlib.shake_256(tag.encode()).digest(64 << 10)


def make(path, kind, tag):
    if kind == "file":
        with open(path, "wb") as f:
            f.write(content(tag))
        return
    os.mkdir(path)
    for i in range(5):
        with open(os.path.join(path, f"n{i}.md"), "wb") as f:
            f.write(content(f"{tag}/{i}"))


def read(path):
    if os.path.isdir(path):
        return tuple(sorted((n, read(os.path.join(path, n))) for n in os.listdir(path)))
    # rclone (writes) fails reads with EIO in a folder renamed before its files were uploaded,
    # until they are (--vfs-write-back, 5 s); its own folder rename does the same
    deadline = time.monotonic() + 30
    while True:
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as e:
            if e.errno != errno.EIO or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def trial(personal, target_dir, obj, tag, env):
    problems = []
    sources = {}
    for i in range(MOVERS):
        src = os.path.join(personal, f"{tag}-{i}")
        make(src, obj, f"{tag}-{i}")
        sources[src] = read(src)
    target = os.path.join(target_dir, tag)
    helper = vstest.helper("vs-rename-call")
    procs = [subprocess.Popen([helper, "renameat2", src, target, "noreplace"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for src in sources]
    outs = [p.communicate(timeout=120) for p in procs]
    results = [out.strip() for out, _ in outs]
    problems += [f"stderr: {err.strip()}" for _, err in outs if err.strip()]
    if results.count("ret=0 errno=0") != 1 or \
            results.count("ret=-1 errno=EEXIST") != MOVERS - 1:
        problems.append(f"expected one success and {MOVERS - 1} EEXIST, got {sorted(results)}")
    winners = [src for src, res in zip(sources, results) if res == "ret=0 errno=0"]
    for src, res in zip(sources, results):
        if res != "ret=0 errno=0" and (not os.path.lexists(src) or read(src) != sources[src]):
            problems.append(f"a loser's source {os.path.basename(src)} is not whole")
    if len(winners) == 1 and (not os.path.lexists(target) or read(target) != sources[winners[0]]):
        problems.append("the target is not the winner's note")
    residue = [name for name in os.listdir(target_dir) if name.startswith(".vaultshim-")]
    if residue:
        problems.append(f"left behind: {residue}")
    return problems


def main():
    shim = storage.start("the NOREPLACE race on storage", *KINDS)
    if not shim:
        return 1
    failures = 0
    with vstest.Scratch("tmpfs") as scratch:
        export, vault, personal, _, env = storage.vault_with_export(scratch, shim, "personal",
                                                                    export_mib=64)
        for kind in KINDS:
            with storage.Storage(kind, os.path.join(scratch.dir, f"work-{kind}")) as st:
                shared = st.mount(export, os.path.join(vault, "shared"))
                target_dir = os.path.join(shared, kind)
                os.mkdir(target_dir)
                for obj in ("file", "dir"):
                    problems = []
                    for n in range(TRIALS):
                        problems += trial(personal, target_dir, obj, f"{kind}-{obj}-{n}", env)
                    failures += bool(problems)
                    print(f"{'ok' if not problems else 'MISMATCH':<9} {kind:<14} {obj:<5} "
                          f"{MOVERS} movers x {TRIALS}: one wins, the rest EEXIST", flush=True)
                    for line in sorted(set(problems))[:10]:
                        print(f"    {line}")
    print(f"NOREPLACE races on storage without renameat2 flags: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
