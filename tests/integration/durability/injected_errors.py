#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""EIO and EDQUOT injected at the write and fsync steps of a file move, an overwrite and a
tree move, before the install: the rename fails with exactly that errno, source and target
are unchanged, and no staging copy or journal record is left.  ENOSPC and EIO injected past
the point of no return (the install is done and proven: the target directory's fsync, the
source set aside, its removal, the source directory's fsync): the move has happened, so the
rename returns 0, the target holds the note, the source is at most a duplicate at its own
name (never hidden), and vault-fsck then finishes the move."""
import os
import sys

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()

STEPS = {
    "file": ["copy-data", "fsync-temp", "install", "verify-install"],
    "overwrite": ["copy-data", "fsync-temp", "install"],
    "tree": ["copy-data", "stage-entry", "stage-sync", "install", "verify-install"],
}
# Past the point of no return (issue 20 item 7).
LATE_STEPS = ["fsync-target-dir", "aside", "unlink-source", "fsync-source-dir"]


def prepare(vault, kind):
    if kind == "tree":
        src, dst = "a/tree", "b/tree"
        d.write_tree(vault.path(src), 20, size=4096)
    else:
        src, dst = "a/note.md", "b/note.md"
        with open(vault.path(src), "wb") as f:
            f.write(b"note\n" * 5000)
        if kind == "overwrite":
            with open(vault.path(dst), "wb") as f:
                f.write(b"old\n")
    return src, dst


def hidden(root):
    """Set-aside or staging objects (the record may stay: it is private, not in the vault)."""
    return [p for p in d.residue(root) if p.startswith(root)]


runs = 0
for kind, steps in STEPS.items():
    for step in steps:
        for err in ("EIO", "EDQUOT"):
            with d.Vault(("a", "b")) as vault:
                src, dst = prepare(vault, kind)
                before = d.snapshot(vault.root)
                status, got = d.rename(vault, src, dst, fault=f"{step}:{err}")
                what = f"{kind} {err} at {step}"
                runs += 1
                fails.check(status == 1 and got == err, f"{what}: got {status} {got!r}")
                after = {k: v for k, v in d.snapshot(vault.root).items()
                         if ".vaultshim" not in k}
                want = {k: v for k, v in before.items() if ".vaultshim" not in k}
                fails.check(after == want, f"{what}: tree changed")
                left = d.residue(vault.root)
                fails.check(not left, f"{what}: residue {left}")
                rc, report = d.fsck(vault.root)
                fails.check(rc == 0, f"{what}: vault-fsck exit {rc}: {report}")

for kind in STEPS:
    for step in LATE_STEPS:
        for err in ("ENOSPC", "EIO"):
            with d.Vault(("a", "b")) as vault:
                src, dst = prepare(vault, kind)
                moved = d.snapshot(vault.path(src))
                status, got = d.rename(vault, src, dst, fault=f"{step}:{err}")
                what = f"{kind} {err} at {step}"
                runs += 1
                fails.check(status == 0, f"{what}: the installed move returned {status} {got!r}")
                fails.check(d.snapshot(vault.path(dst)) == moved, f"{what}: the target is not the note")
                left_src = d.snapshot(vault.path(src))
                fails.check(not left_src or left_src == moved,
                            f"{what}: the source is neither gone nor a whole duplicate")
                fails.check(not hidden(vault.root), f"{what}: hidden {hidden(vault.root)}")
                rc, report = d.fsck(vault.root)
                fails.check(rc in (0, d.REPAIRED), f"{what}: vault-fsck exit {rc}: {report}")
                fails.check(d.snapshot(vault.path(dst)) == moved and not d.snapshot(vault.path(src)),
                            f"{what}: after vault-fsck the move is not finished")
                left = d.residue(vault.root)
                fails.check(not left, f"{what}: residue {left}")

fails.finish(f"{runs} injected failures left nothing behind")
