#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A move whose target another mover holds (here this process takes that mover's lock: the
flock on .vaultshim-lock-<dev>-<ino> beside the target) waits for it and then replaces the
target, as rename(2) would.  Regression: on Linux EAGAIN == EWOULDBLOCK, so "target busy"
once read as "plan stale, plan again"; the mover re-planned without pausing until its
re-plan budget ran out and failed with EBUSY whenever the holder was slow (a loaded
machine), which is how durability-concurrency flaked."""
import fcntl
import os
import sys
import threading

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()
HOLD_SECONDS = 1.5  # far longer than the old re-plan budget lasted without a pause

with d.Vault(("a", "b")) as vault:
    with open(vault.path("a/note.md"), "wb") as f:
        f.write(b"new\n")
    with open(vault.path("b/note.md"), "wb") as f:
        f.write(b"old\n")
    target = os.stat(vault.path("b/note.md"))
    lock_file = vault.path(f"b/.vaultshim-lock-{target.st_dev:x}-{target.st_ino:x}")
    held = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)

    def release():  # as a mover does: unlink the lock file, then drop the lock
        os.unlink(lock_file)
        os.close(held)

    releaser = threading.Timer(HOLD_SECONDS, release)
    releaser.start()
    status, err = d.rename(vault, "a/note.md", "b/note.md")
    releaser.join()
    fails.check(status == 0 and err == "", f"move over a busy target: exit {status} {err}")
    fails.check(not os.path.exists(vault.path("a/note.md")), "source left behind")
    with open(vault.path("b/note.md"), "rb") as f:
        fails.check(f.read() == b"new\n", "target does not hold the moved note")
    fails.check(not d.residue(vault.root), f"residue {d.residue(vault.root)}")

fails.finish("a move waits for a busy target's lock, then replaces it")
