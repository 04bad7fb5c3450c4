#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A crash (_exit, as kill -9) at every step of a link install (issue 24, item 1), then
vault-fsck.  One `/usr/bin/mv` through the shim moves two names of one inode: a/f and a/g
(`mv a/f a/g b/`), or the trees a/t1 and a/t2 whose files 1 are linked; the second rename
is installed as a link of the first one's copy, and VAULTSHIM_FAULT=<step>:exit@2 kills mv
at the second time it reaches the step (the first is the first name's copy).  Steps a link
install never reaches (the copy's own) let mv finish.

Afterwards: the first name is moved and whole; the second one is whole on exactly one
side: at its source, or at the target as a link of the first one's copy (never a second
copy, never lost); right after the crash, before any recovery, it is whole under one of
its names; no staging, set-aside or journal residue; a second vault-fsck finds nothing."""
import os
import subprocess
import sys

from vstest import durability as d

d.enter_namespace()

STEPS = d.move_steps()
FSTYPE = sys.argv[1] if len(sys.argv) > 1 else "tmpfs"
CONTENT = b"linked note\n" * 300

SHAPES = {
    # moved names, then (first moved file, second moved file) relative to a/ and b/
    "pair": (["f", "g"], ("f", "g")),
    "tree": (["t1", "t2"], ("t1/1", "t2/1")),
}


def prepare(vault, shape):
    names, (first, second) = SHAPES[shape]
    for rel in (first, second):
        os.makedirs(os.path.dirname(vault.path(f"a/{rel}")), exist_ok=True)
    with open(vault.path(f"a/{first}"), "wb") as f:
        f.write(CONTENT)
    os.link(vault.path(f"a/{first}"), vault.path(f"a/{second}"))
    return names, first, second


def whole(path):
    try:
        with open(path, "rb") as f:
            return f.read() == CONTENT
    except OSError:
        return False


def same_inode(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


fails = d.Failures()
runs = 0
outcomes = {}  # shape -> [step: crashed, and rolled back or forward]
for shape in SHAPES:
    for step in STEPS:
        with d.Vault(("a", "b"), fstype=FSTYPE, size_mib=64) as vault:
            names, first, second = prepare(vault, shape)
            env = d.shim_env(vault, VAULTSHIM_FAULT=f"{step}:exit@2")
            r = subprocess.run(["/usr/bin/mv"] + names + [vault.path("b")],
                               cwd=vault.path("a"), env=env, capture_output=True, text=True)
            what = f"{shape} crash at {step}@2"
            runs += 1
            fails.check(r.returncode in (0, d.CRASH_STATUS),
                        f"{what}: mv exited {r.returncode} {r.stderr.strip()}")
            src, dst = vault.path(f"a/{second}"), vault.path(f"b/{second}")
            moved = vault.path(f"b/{first}")
            fails.check(whole(moved) and not os.path.exists(vault.path(f"a/{first}")),
                        f"{what}: the first name is not moved whole")
            # The source may be set aside under its hidden name, never lost: before any
            # repair it is whole under its old or its new name.
            fails.check(whole(src) or whole(dst), f"{what}: before recovery, whole under "
                                                  "neither name")

            rc, report = d.fsck(vault.root)
            fails.check(rc in (0, 1), f"{what}: vault-fsck exit {rc}: {report}")
            if r.returncode == 0:
                fails.check(rc == 0, f"{what}: mv completed but fsck found work: {report}")
            back = whole(src) and not os.path.exists(dst)
            forward = not os.path.exists(src) and whole(dst) and same_inode(dst, moved)
            fails.check(back or forward,
                        f"{what}: source {'whole' if whole(src) else 'gone'}, target "
                        f"{'whole' if whole(dst) else 'missing'}, "
                        f"{'linked' if same_inode(dst, moved) else 'not linked'} to the "
                        f"first copy")
            if r.returncode == 0:
                fails.check(forward, f"{what}: completed mv did not link the second name")
            else:
                outcomes.setdefault(shape, []).append(
                    f"{step}:{'forward' if forward else 'back' if back else 'neither'}")
            fails.check(whole(moved), f"{what}: the first copy changed in recovery")
            left = d.residue(vault.root)
            fails.check(not left, f"{what}: residue {left[:5]}")
            rc2, report2 = d.fsck(vault.root)
            fails.check(rc2 == 0, f"{what}: second vault-fsck exit {rc2}: {report2}")

for shape, crashed in outcomes.items():
    print(f"{shape}: killed at {' '.join(crashed)}")
fails.check(all(outcomes.get(shape) for shape in SHAPES), "a shape was never killed in its "
                                                          "link install")
fails.finish(f"{runs} crashes of link installs over {len(STEPS)} steps on {FSTYPE}")
