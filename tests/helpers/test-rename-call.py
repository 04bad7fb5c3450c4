#!/usr/bin/env python3
"""vs-rename-call against the kernel alone: each call form reaches the kernel and the
printed result is the kernel's (also across two bind mounts, where it must be EXDEV)."""
import os
import subprocess
import sys

import vstest

CASES = [
    # (argv after the helper, expected output); {d} = one mount, {a}/{b} = two bind mounts
    (["rename", "{d}/one", "{d}/two"], "ret=0 errno=0"),
    (["rename", "{d}/missing", "{d}/x"], "ret=-1 errno=ENOENT"),
    (["rename", "{a}/two", "{b}/three"], "ret=-1 errno=EXDEV"),
    (["--olddir", "{d}", "--newdir", "{d}/sub", "renameat", "two", "two"], "ret=0 errno=0"),
    (["--chdir", "{d}/sub", "renameat", "two", "{d}/one"], "ret=0 errno=0"),
    (["renameat2", "{d}/one", "{d}/keep", "noreplace"], "ret=-1 errno=EEXIST"),
    (["renameat2", "{d}/one", "{d}/keep", "exchange"], "ret=0 errno=0"),
    (["renameat2", "{a}/one", "{b}/keep", "exchange"], "ret=-1 errno=EXDEV"),
    (["renameat2", "{d}/one", "{d}/keep", "0x8"], "ret=-1 errno=EINVAL"),
    (["renameat2", "{d}/one", "{d}/keep", "noreplace|exchange"], "ret=-1 errno=EINVAL"),
    (["--as", "1000:1000", "rename", "{d}/one", "{d}/x"], "ret=-1 errno=EACCES"),
]


def main():
    vstest.require_root("test-rename-call")
    vstest.enter_private_mount_namespace()
    helper = vstest.helper("vs-rename-call")
    failures = 0
    with vstest.Scratch() as scratch:
        d = scratch.fs
        os.mkdir(os.path.join(d, "sub"))
        for name in ("one", "keep"):
            with open(os.path.join(d, name), "w") as f:
                f.write(name)
        a = scratch.bind(d, os.path.join(scratch.dir, "a"))
        b = scratch.bind(d, os.path.join(scratch.dir, "b"))
        for args, expected in CASES:
            argv = [helper] + [x.format(d=d, a=a, b=b) for x in args]
            got = subprocess.run(argv, stdout=subprocess.PIPE, text=True).stdout.strip()
            status = "ok" if got == expected else "FAIL"
            failures += status != "ok"
            print(f"{status:<4} {' '.join(args):<55} {got}" +
                  ("" if status == "ok" else f" (expected {expected})"))
        with open(os.path.join(d, "keep")) as f:
            if f.read() != "one":
                print("FAIL RENAME_EXCHANGE did not swap the files")
                failures += 1
    print(f"{len(CASES)} cases, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
