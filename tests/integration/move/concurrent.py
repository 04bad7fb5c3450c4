#!/usr/bin/env python3
"""Several processes move the same note (or folder) at once, to different targets or to the
same one.  rename(2) on one mount lets exactly one win and tells the others ENOENT; the
shim across two bind mounts must do the same: one success, ENOENT for the rest, the source
gone, exactly one complete copy at the destination — never two copies, never none.
Exits 1 on any deviation, 77 when not root.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys

import vstest

MOVERS = 8
TRIALS = 4
KINDS = [  # (label, object, every mover its own target name?)
    ("note, different targets", "file", True),
    ("note, one target", "file", False),
    ("folder, different targets", "dir", True),
]


def make_source(path, kind):
    if kind == "file":
        with open(path, "wb") as f:
            f.write(hashlib.shake_256(b"race").digest(4 << 20))
        return
    os.mkdir(path)
    for i in range(40):
        with open(os.path.join(path, f"n{i:02d}.md"), "w") as f:
            f.write(f"note {i}\n" * 200)


def digest(path):
    if os.path.isdir(path):
        return tuple(sorted((name, vstest.file_digest(os.path.join(path, name)))
                            for name in os.listdir(path)))
    return vstest.file_digest(path)


def trial(data, old_root, new_root, kind, distinct, env):
    """One race; returns a list of problems."""
    shutil.rmtree(data, ignore_errors=True)
    for side in ("src", "dst"):
        os.makedirs(os.path.join(data, side))
    source = os.path.join(data, "src", "x")
    make_source(source, kind)
    expected = digest(source)
    argv = [vstest.helper("vs-rename-call"), "rename", f"{old_root}/src/x"]
    procs = [subprocess.Popen(argv + [f"{new_root}/dst/x{i if distinct else ''}"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(MOVERS)]
    results = [p.communicate(timeout=120) for p in procs]
    outs = sorted(out.strip() for out, _ in results)
    problems = [f"stderr: {err.strip()}" for _, err in results if err]
    wins = outs.count("ret=0 errno=0")
    losses = outs.count("ret=-1 errno=ENOENT")
    if wins != 1 or losses != MOVERS - 1:
        problems.append(f"expected 1 success and {MOVERS - 1} ENOENT, got {outs}")
    if os.path.lexists(source):
        problems.append("the source is still there")
    copies = sorted(os.listdir(os.path.join(data, "dst")))
    if len(copies) != 1:
        problems.append(f"expected exactly one copy at the destination, found {copies}")
    elif digest(os.path.join(data, "dst", copies[0])) != expected:
        problems.append(f"the copy {copies[0]} is not the source's content")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fs", choices=("tmpfs", "ext4"), default="tmpfs")
    args = parser.parse_args()
    vstest.require_root("the concurrent move test")
    shim = vstest.shim_library()
    vstest.enter_private_mount_namespace()
    failures = 0
    with vstest.Scratch(args.fs) as scratch:
        data = os.path.join(scratch.fs, "data")
        os.makedirs(data)
        vault = os.path.join(scratch.dir, "vault")
        a = scratch.bind(scratch.fs, os.path.join(vault, "a"))
        b = scratch.bind(scratch.fs, os.path.join(vault, "b"))
        journal = os.path.join(scratch.dir, "state", "journal")  # root's private journal
        plain = {k: v for k, v in os.environ.items()
                 if k != "LD_PRELOAD" and not k.startswith("VAULTSHIM_")}
        runs = [("kernel, one mount", scratch.fs, scratch.fs, plain),
                ("shim, two mounts", a, b, dict(plain, LD_PRELOAD=shim, VAULTSHIM_ROOTS=vault,
                                                  VAULTSHIM_JOURNAL=journal))]
        for label, kind, distinct in KINDS:
            for run_label, old_root, new_root, env in runs:
                problems = []
                for _ in range(TRIALS):
                    problems += trial(data, f"{old_root}/data", f"{new_root}/data", kind,
                                      distinct, env)
                status = "ok" if not problems else "MISMATCH"
                failures += bool(problems)
                print(f"{status:<9} {label:<28} {run_label:<18} {MOVERS} movers x {TRIALS}")
                for line in sorted(set(problems)):
                    print(f"    {line}")
    print(f"{args.fs}: {len(KINDS) * 2} races, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
