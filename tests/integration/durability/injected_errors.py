#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""EIO and EDQUOT injected at the write and fsync steps of a file move, an overwrite and a
tree move: the rename fails with exactly that errno, source and target are unchanged, and
no staging copy or journal record is left."""
import os
import sys

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()

STEPS = {
    "file": ["copy-data", "fsync-temp"],
    "overwrite": ["copy-data", "fsync-temp"],
    "tree": ["copy-data", "stage-entry", "stage-sync"],
}
runs = 0
for kind, steps in STEPS.items():
    for step in steps:
        for err in ("EIO", "EDQUOT"):
            with d.Vault(("a", "b")) as vault:
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

fails.finish(f"{runs} injected failures left nothing behind")
