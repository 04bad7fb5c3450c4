#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A writer appends to a 100 MiB file while it is being moved.  The mover is paused (fault
injection: sleep) right after its copy is complete, the append happens then, and the
engine must notice (dev, ino, size, mtime, ctime changed): it either copies again or fails,
but never installs the stale copy and deletes the new data."""
import os
import stat
import subprocess
import sys
import time

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()
SIZE = 100 * 1024 * 1024
APPENDED = b"written during the move\n"


def copy_complete(pid, source_ino):
    """True once the mover holds a finished copy: a regular file of the full size that is
    not the source."""
    fd_dir = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except FileNotFoundError:
        return False
    for fd in fds:
        try:
            st = os.stat(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_ino != source_ino and st.st_size == SIZE:
            return True
    return False


with d.Vault(("a", "b"), size_mib=512) as vault:
    src, dst = vault.path("a/big.bin"), vault.path("b/big.bin")
    block = os.urandom(1024 * 1024)
    with open(src, "wb") as f:
        for _ in range(SIZE // len(block)):
            f.write(block)
    source_ino = os.stat(src).st_ino
    want = d.digest(block * (SIZE // len(block)) + APPENDED)

    env = d.shim_env(vault, VAULTSHIM_FAULT="fsync-temp:sleep=3000")
    mover = subprocess.Popen([sys.executable, "-c", d.RENAME_CHILD, src, dst], env=env,
                             stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not copy_complete(mover.pid, source_ino) and mover.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    paused = mover.poll() is None
    fails.check(paused, "the mover was not caught with a complete copy")
    with open(src, "ab") as f:
        f.write(APPENDED)
    out, _ = mover.communicate(timeout=120)

    def content(p):
        with open(p, "rb") as f:
            return d.digest(f.read())

    if mover.returncode == 0:
        fails.check(not os.path.exists(src), "moved, but the source is still there")
        fails.check(content(dst) == want, "the installed copy lacks the appended data")
        print("engine copied again and installed the new content")
    else:
        fails.check(os.path.exists(src) and content(src) == want,
                    f"move failed ({out.strip()}) and the source lost the appended data")
        fails.check(not os.path.exists(dst), f"move failed ({out.strip()}) but left a target")
        print(f"engine refused the move: {out.strip()}")
    left = d.residue(vault.root)
    fails.check(not left, f"residue {left}")
    rc, report = d.fsck(vault.root)
    fails.check(rc == 0, f"vault-fsck exit {rc}: {report}")

fails.finish("a source changed during the copy is never replaced by a stale copy")
