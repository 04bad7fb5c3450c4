#!/usr/bin/env python3
"""Run one vault-policy fixture case from cases.txt and compare stdout (and stderr) byte for byte.

usage: run-case.py NAME        run the case, exit 0 on match, 1 on mismatch
       run-case.py --update NAME...   rewrite the expected files from the current output
"""
import difflib
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("VS_SOURCE_ROOT", os.path.normpath(os.path.join(HERE, "..", "..", "..")))
BUILD = os.environ.get("VS_BUILD_ROOT", os.path.join(SOURCE, "build"))
DATA = os.path.join(SOURCE, "tests", "data", "policy")
# A case runs vault-policy unless its arguments start with the name of another tool.
TOOLS = ("vault-policy", "vault-first-launch", "vault-fsck")


def load_cases():
    cases = {}
    with open(os.path.join(HERE, "cases.txt"), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, status, args = (part.strip() for part in line.split("|", 2))
            cases[name] = (int(status), shlex.split(args))
    return cases


def run(args):
    # A fixed, odd time zone: the output must not depend on it.
    env = dict(os.environ, TZ="Pacific/Chatham", LC_ALL="C")
    tool = args[0] if args and args[0] in TOOLS else "vault-policy"
    if args and args[0] == tool:
        args = args[1:]
    return subprocess.run([os.path.join(BUILD, "tools", tool, tool)] + args, cwd=DATA, env=env,
                          capture_output=True, timeout=30)


def compare(label, got, path):
    expected = open(path, "rb").read() if os.path.exists(path) else b""
    if got == expected:
        return True
    sys.stdout.write(f"{label} differs from {os.path.relpath(path, SOURCE)}:\n")
    sys.stdout.writelines(difflib.unified_diff(expected.decode(errors="replace").splitlines(True),
                                               got.decode(errors="replace").splitlines(True),
                                               "expected", "got"))
    return False


def main(argv):
    cases = load_cases()
    update = argv[:1] == ["--update"]
    names = argv[1:] if update else argv
    ok = True
    for name in names:
        status, args = cases[name]
        result = run(args)
        out = os.path.join(DATA, "expected", name + ".out")
        err = os.path.join(DATA, "expected", name + ".err")
        if update:
            with open(out, "wb") as f:
                f.write(result.stdout)
            if result.stderr or os.path.exists(err):
                with open(err, "wb") as f:
                    f.write(result.stderr)
            print(f"{name}: exit {result.returncode} (expected {status})")
            continue
        if result.returncode != status:
            print(f"{name}: exit status {result.returncode}, expected {status}\nstderr: {result.stderr.decode()}")
            ok = False
        if status == 1 and result.stdout:
            print(f"{name}: an invalid policy must print nothing on stdout")
            ok = False
        ok &= compare("stdout", result.stdout, out)
        if os.path.exists(err):
            ok &= compare("stderr", result.stderr, err)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
