#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A writer appends to a 100 MiB file while it is being moved.  The mover is paused (fault
injection: sleep) right after its copy is complete, and the append happens then: by path
(the source is still at its name until its copy is installed, so the append reaches it, as
a save just before the kernel's rename would), or through a descriptor opened before the
move; either way the engine must notice (ino, size, mtime, ctime of the source changed): it
copies again or fails, but never installs the stale copy and deletes the new data."""
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


def content(p):
    with open(p, "rb") as f:
        return d.digest(f.read())


def move_paused(vault, src, dst, source_ino, write):
    """Move src to dst, paused after its copy is complete; write() runs during the pause."""
    env = d.shim_env(vault, VAULTSHIM_FAULT="fsync-temp:sleep=3000")
    mover = subprocess.Popen([sys.executable, "-c", d.RENAME_CHILD, src, dst], env=env,
                             stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not copy_complete(mover.pid, source_ino) and mover.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    fails.check(mover.poll() is None, "the mover was not caught with a complete copy")
    write()
    out, _ = mover.communicate(timeout=120)
    return mover.returncode, out.strip()


block = os.urandom(1024 * 1024)
original = block * (SIZE // len(block))

# A save by path during the move: the source keeps its name until its copy is installed,
# so the save appends to it, and the engine copies again (the kernel's rename with the save
# just before it); a save that came after the install would make a new file at the old path
# (the kernel's rename with the save just after it).  Either way nothing is lost.
with d.Vault(("a", "b"), size_mib=512) as vault:
    src, dst = vault.path("a/big.bin"), vault.path("b/big.bin")
    with open(src, "wb") as f:
        f.write(original)

    def save_by_path():
        with open(src, "ab") as f:
            f.write(APPENDED)

    rc, out = move_paused(vault, src, dst, os.stat(src).st_ino, save_by_path)
    fails.check(rc == 0, f"by path: the move failed ({out})")
    before = content(dst) == d.digest(original + APPENDED) and not os.path.exists(src)
    after = (content(dst) == d.digest(original) and os.path.exists(src)
             and content(src) == d.digest(APPENDED))
    fails.check(before or after, "by path: the save is neither in the moved file nor at the old path")
    print(f"by path: the save landed {'in the moved file' if before else 'at the old path'}")
    fails.check(not d.residue(vault.root), f"by path: residue {d.residue(vault.root)}")
    rc, report = d.fsck(vault.root)
    fails.check(rc == 0, f"by path: vault-fsck exit {rc}: {report}")

# A writer holding the file open from before the move appends during its fsync: the engine
# copies again from the source and installs the new content, never the stale copy.
with d.Vault(("a", "b"), size_mib=512) as vault:
    src, dst = vault.path("a/big.bin"), vault.path("b/big.bin")
    with open(src, "wb") as f:
        f.write(original)
    held = open(src, "ab")

    def write_through_fd():
        held.write(APPENDED)
        held.flush()

    rc, out = move_paused(vault, src, dst, os.stat(src).st_ino, write_through_fd)
    held.close()
    want = d.digest(original + APPENDED)
    if rc == 0:
        fails.check(not os.path.exists(src), "by fd: moved, but the source is still there")
        fails.check(content(dst) == want, "by fd: the installed copy lacks the appended data")
        print("by fd: engine copied again and installed the new content")
    else:
        fails.check(os.path.exists(src) and content(src) == want,
                    f"by fd: move failed ({out}) and the source lost the appended data")
        fails.check(not os.path.exists(dst), f"by fd: move failed ({out}) but left a target")
        print(f"by fd: engine refused the move: {out}")
    fails.check(not d.residue(vault.root), f"by fd: residue {d.residue(vault.root)}")
    rc, report = d.fsck(vault.root)
    fails.check(rc == 0, f"by fd: vault-fsck exit {rc}: {report}")

fails.finish("a source changed during the copy is never replaced by a stale copy")
