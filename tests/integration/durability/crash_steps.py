#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A crash (_exit, as kill -9) at every step of a file move, an overwrite and a 200-entry
tree move, then vault-fsck (of the mover's private journal): afterwards each move is whole on exactly one side (all of the
source at the target and none left behind, or nothing changed), no byte is lost, nothing
is duplicated, and no staging or journal residue is left; right after the crash, before any
recovery, the move is whole under its old or its new name.  The step list is read from the
engine's own step table, so a new step is covered the day it is added."""
import os
import sys

from vstest import durability as d

d.enter_namespace()

STEPS = d.move_steps()
# Steps reached once per entry of a tree are also crashed at in the middle and at the end.
PER_ENTRY = {"stage-entry", "unlink-source", "copy-data", "copy-attrs"}
TREE_ENTRIES = 200
FSTYPE = sys.argv[1] if len(sys.argv) > 1 else "tmpfs"  # the filesystem under the vault

SCENARIOS = {
    "file": dict(src="a/note.md", dst="b/note.md"),
    "overwrite": dict(src="a/note.md", dst="b/note.md", existing=True),
    "tree": dict(src="a/project", dst="b/project"),
}


def prepare(vault, name):
    s = SCENARIOS[name]
    if name == "tree":
        d.write_tree(vault.path(s["src"]), TREE_ENTRIES, size=1024, seed="src")
        os.symlink("folder000/note00000.md", vault.path(s["src"] + "/link"))
        os.mkfifo(vault.path(s["src"] + "/pipe"))
    else:
        with open(vault.path(s["src"]), "wb") as f:
            f.write(b"source note\n" * 1000)
        if s.get("existing"):
            with open(vault.path(s["dst"]), "wb") as f:
                f.write(b"old target\n")
    return s


def set_aside(path):
    """The hidden name the source was set aside as, if it is there."""
    parent = os.path.dirname(path)
    for name in os.listdir(parent):
        if name.startswith(".vaultshim-aside-"):
            return os.path.join(parent, name)
    return os.path.join(parent, "no set-aside source")


def faults_for(name):
    out = []
    for step in STEPS:
        out.append(step)
        if name == "tree" and step in PER_ENTRY:
            out += [f"{step}@{TREE_ENTRIES // 2}", f"{step}@{TREE_ENTRIES}"]
    return out


fails = d.Failures()
runs = 0
for name in SCENARIOS:
    for fault in faults_for(name):
        with d.Vault(("a", "b"), fstype=FSTYPE, size_mib=64) as vault:
            s = prepare(vault, name)
            src, dst = vault.path(s["src"]), vault.path(s["dst"])
            before_src, before_dst = d.snapshot(src), d.snapshot(dst)
            status, err = d.rename(vault, s["src"], s["dst"], fault=f"{fault}:exit")
            what = f"{name} crash at {fault}"
            runs += 1
            fails.check(status in (0, d.CRASH_STATUS), f"{what}: mover exited {status} {err}")

            # Right after the crash, before any repair: every source byte has a whole copy
            # (the source may be set aside under its hidden name).
            crashed_src, crashed_dst = d.snapshot(src) or d.snapshot(set_aside(src)), d.snapshot(dst)
            lost = [rel for rel, v in before_src.items()
                    if crashed_src.get(rel) != v and crashed_dst.get(rel) != v]
            fails.check(not lost, f"{what}: lost before recovery: {lost[:5]}")
            # And whole under its old or its new name, for everyone, with nobody recovering:
            # the new name exists before the old one goes (vaultshim(7)).
            fails.check(d.snapshot(src) == before_src or d.snapshot(dst) == before_src,
                        f"{what}: before recovery, whole under neither name")

            rc, report = d.fsck(vault.root)
            fails.check(rc in (0, 1), f"{what}: vault-fsck exit {rc}: {report}")
            if status == 0:
                fails.check(rc == 0, f"{what}: move completed but fsck found work: {report}")

            after_src, after_dst = d.snapshot(src), d.snapshot(dst)
            rolled_back = after_src == before_src and after_dst == before_dst
            forward = not after_src and after_dst == before_src
            fails.check(rolled_back or forward,
                        f"{what}: not whole on one side: source {len(after_src)} entries "
                        f"(was {len(before_src)}), target {len(after_dst)} "
                        f"(source had {len(before_src)})")
            if status == 0:
                fails.check(forward, f"{what}: completed move did not land")
            left = d.residue(vault.root)
            fails.check(not left, f"{what}: residue {left[:5]}")
            rc2, report2 = d.fsck(vault.root)
            fails.check(rc2 == 0, f"{what}: second vault-fsck exit {rc2}: {report2}")

fails.finish(f"{runs} crashes over {len(STEPS)} steps on {FSTYPE}")
