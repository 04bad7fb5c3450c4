#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Without a private place for the journal a move is not emulated: the caller gets the
kernel's EXDEV and nothing changes, in either mount (no record beside the target, none in a
shared folder).  Private means a directory owned by the mover and writable by nobody else,
reached without a symlink."""
import os
import stat

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

# The default journal on a machine without ~/.local (a fresh container, root on a fresh
# host): every missing level of ~/.local/state/vaultshim/journal is made, mode 0700 (the XDG
# Base Directory spec), and the move is emulated.
with d.Vault(("a", "b")) as vault:
    prepare(vault)
    home = os.path.join(vault.dir, "home")
    os.makedirs(home, mode=0o700)
    os.chown(home, USER, USER)
    status, err = d.rename(vault, "a/note.md", "b/note.md", uid=USER, VAULTSHIM_JOURNAL="",
                           XDG_STATE_HOME="", HOME=home)
    fails.check((status, err) == (0, ""), f"default journal, no ~/.local: mover {status} {err}")
    level = home
    for name in (".local", "state", "vaultshim", "journal"):
        level = os.path.join(level, name)
        st = os.stat(level) if os.path.isdir(level) else None
        fails.check(st and stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == USER,
                    f"default journal: {level} is not a 0700 directory of uid {USER}: {st}")
    fails.check(not os.listdir(level), f"default journal: records left {os.listdir(level)}")
    fails.check(not d.residue(vault.root), f"default journal: residue {d.residue(vault.root)}")
    # A VAULTSHIM_JOURNAL that is set is the image's to lay out: four missing levels are not
    # made, and the move is not emulated.
    status, err = d.rename(vault, "b/note.md", "a/note.md", uid=USER,
                           VAULTSHIM_JOURNAL=os.path.join(home, "w/x/y/journal"))
    fails.check((status, err) == (1, "EXDEV"), f"set journal, four levels missing: {status} {err}")
    fails.check(not os.path.exists(os.path.join(home, "w")), "a set journal's levels were made")

fails.finish("no private journal, no emulation: EXDEV and nothing changed")
