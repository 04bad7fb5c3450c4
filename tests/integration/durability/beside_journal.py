#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""When the target's mount root is not writable for the moving user (uid 1000 may write
only a subfolder), or .vaultshim there is not a directory, the journal record goes beside
the target as .vaultshim-journal-<id>:
a crash before and after the install is still repaired by vault-fsck, which finds such
records by walking the vault, and a completed move leaves nothing behind."""
import os
import sys

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()
USER = 1000


def prepare(vault):
    os.chown(vault.path("a"), USER, USER)
    os.chmod(vault.path("b"), 0o755)  # root's: no journal directory at this mount root
    os.mkdir(vault.path("b/inbox"))
    os.chown(vault.path("b/inbox"), USER, USER)
    with open(vault.path("a/note.md"), "w") as f:
        f.write("a note\n" * 100)
    os.chown(vault.path("a/note.md"), USER, USER)
    return d.snapshot(vault.path("a/note.md"))


CASES = (  # fault, expected recovery, mover's uid, a file named .vaultshim at the mount root
    (None, None, USER, False),
    ("install", "rolled-back", USER, False),
    ("unlink-source", "rolled-forward", USER, False),
    ("install", "rolled-back", None, True),
)
for fault, expect, uid, blocked in CASES:
    with d.Vault(("a", "b")) as vault:
        before = prepare(vault)
        if blocked:
            with open(vault.path("b/.vaultshim"), "w") as f:
                f.write("not a directory\n")
        status, err = d.rename(vault, "a/note.md", "b/inbox/note.md", uid=uid,
                               fault=f"{fault}:exit" if fault else None)
        what = (f"crash at {fault}" if fault else "completed move") + \
            (" with .vaultshim a file" if blocked else f" as uid {uid}")
        fails.check(status == (d.CRASH_STATUS if fault else 0), f"{what}: mover {status} {err}")
        fails.check(os.path.isfile(vault.path("b/.vaultshim")) if blocked
                    else not os.path.exists(vault.path("b/.vaultshim")),
                    f"{what}: a journal directory appeared at the mount root")
        records = [n for n in os.listdir(vault.path("b/inbox"))
                   if n.startswith(".vaultshim-journal-")]
        fails.check(len(records) == (1 if fault else 0), f"{what}: beside records {records}")

        rc, report = d.fsck(vault.root)
        outcomes = [r["outcome"] for r in report.get("records", [])]
        fails.check((rc, outcomes) == ((1, [expect]) if fault else (0, [])),
                    f"{what}: vault-fsck {rc} {report}")
        src, dst = d.snapshot(vault.path("a/note.md")), d.snapshot(vault.path("b/inbox/note.md"))
        want_back = expect == "rolled-back"
        fails.check((src, dst) == ((before, {}) if want_back else ({}, before)),
                    f"{what}: not whole on one side")
        left = d.residue(vault.root)
        fails.check(not left, f"{what}: residue {left}")

fails.finish("records beside the target when the mount root is not writable")
