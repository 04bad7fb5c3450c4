#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Without a private place for the journal a move is not emulated: the caller gets the
kernel's EXDEV and nothing changes, in either mount (no record beside the target, none in a
shared folder).  Private means a directory owned by the mover and writable by nobody else,
reached without a symlink."""
import os

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()
USER = 1000


def prepare(vault):
    for folder in ("a", "b"):
        os.chown(vault.path(folder), USER, USER)
    with open(vault.path("a/note.md"), "w") as f:
        f.write("a note\n" * 100)
    os.chown(vault.path("a/note.md"), USER, USER)


def shared_dir(vault, name, mode):
    p = os.path.join(vault.dir, name)
    os.makedirs(p)
    os.chown(p, USER, USER)
    os.chmod(p, mode)
    return p


CASES = {
    "VAULTSHIM_JOURNAL below a missing directory": lambda v: "/nonexistent-vs/a/b/journal",
    "VAULTSHIM_JOURNAL relative": lambda v: "relative/journal",
    "a journal writable by others": lambda v: shared_dir(v, "open", 0o777),
    "a journal owned by someone else": lambda v: os.path.join(v.dir, "rootdir"),
    "a journal reached through a symlink": lambda v: (
        os.symlink(shared_dir(v, "real", 0o700), os.path.join(v.dir, "link"))
        or os.path.join(v.dir, "link")),
}
for what, journal_of in CASES.items():
    with d.Vault(("a", "b")) as vault:
        os.makedirs(os.path.join(vault.dir, "rootdir"), mode=0o700)
        prepare(vault)
        before_a, before_b = d.snapshot(vault.path("a")), d.snapshot(vault.path("b"))
        status, err = d.rename(vault, "a/note.md", "b/note.md", uid=USER,
                               VAULTSHIM_JOURNAL=journal_of(vault))
        fails.check((status, err) == (1, "EXDEV"), f"{what}: mover {status} {err}")
        fails.check(d.snapshot(vault.path("a")) == before_a and
                    d.snapshot(vault.path("b")) == before_b, f"{what}: the vault changed")
        fails.check(not d.residue(vault.root), f"{what}: residue {d.residue(vault.root)}")

# With a private journal the same move is emulated, and leaves nothing anywhere.
with d.Vault(("a", "b")) as vault:
    prepare(vault)
    status, err = d.rename(vault, "a/note.md", "b/note.md", uid=USER)
    fails.check((status, err) == (0, ""), f"private journal: mover {status} {err}")
    fails.check(not d.residue(vault.root), f"private journal: residue {d.residue(vault.root)}")

fails.finish("no private journal, no emulation: EXDEV and nothing changed")
