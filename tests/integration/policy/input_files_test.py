#!/usr/bin/env python3
"""Every input a tool reads, given as a FIFO or as a 50 MB file, is refused at once.

A FIFO named by mistake used to block open() forever; a huge file used to be read into memory
first.  Each invocation must finish within DEADLINE seconds, exit with the tool's error status,
print nothing on stdout, and say why on stderr ("not a regular file", "larger than 4 MiB").
Also: every tool answers --version with its name and the project's version.
"""
import os
import subprocess
import sys
import tempfile

SOURCE = os.environ["VS_SOURCE_ROOT"]
BUILD = os.environ["VS_BUILD_ROOT"]
DATA = os.path.join(SOURCE, "tests", "data", "policy")
DEADLINE = 10


def tool(name):
    return os.path.join(BUILD, "tools", name, name)


def project_version():
    with open(os.path.join(SOURCE, "meson.build"), encoding="utf-8") as f:
        for line in f:
            if line.strip().startswith("version :"):
                return line.split("'")[1]
    raise RuntimeError("no version in meson.build")


def main():
    failures = 0
    count = 0

    def report(ok, what, detail=""):
        nonlocal failures, count
        count += 1
        print(f"{'ok' if ok else 'not ok'} {count} - {what}")
        if not ok:
            failures += 1
            for line in detail.splitlines():
                print(f"#   {line}")

    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "fifo")
        big = os.path.join(tmp, "big")
        os.mkfifo(fifo)
        with open(big, "wb") as f:
            f.truncate(50 * 1000 * 1000)
        seed = os.path.join(DATA, "seed.yaml")
        users = os.path.join(DATA, "users.yaml")
        key = os.path.join(tmp, "hs.key")
        with open(key, "w") as f:
            f.write("k" * 40)
        token = os.path.join(tmp, "token")
        with open(token, "w") as f:
            f.write("e30.e30.\n")
        request = ["--user", "dana", "--uid", "1001", "--now", "2026-12-15T00:00:00Z"]
        # (what, argv with X for the input under test, expected exit, the words naming the input)
        cases = [
            ("vault-policy check POLICY", [tool("vault-policy"), "check", "X"], 1, "cannot read policy"),
            ("vault-policy lint POLICY", [tool("vault-policy"), "lint", "X"], 1, "cannot read policy"),
            ("vault-policy resolve POLICY", [tool("vault-policy"), "resolve", "X", *request, "--groups", "legal"],
             1, "cannot read policy"),
            ("vault-policy explain POLICY", [tool("vault-policy"), "explain", "X", *request, "--groups", "legal"],
             1, "cannot read policy"),
            ("vault-policy matrix POLICY", [tool("vault-policy"), "matrix", "X", "--users", users], 1,
             "cannot read policy"),
            ("vault-policy matrix --users USERS", [tool("vault-policy"), "matrix", seed, "--users", "X"], 1,
             "cannot read users file"),
            ("vault-policy lint --users USERS", [tool("vault-policy"), "lint", seed, "--users", "X"], 1,
             "cannot read users file"),
            ("vault-policy resolve --jwt TOKEN", [tool("vault-policy"), "resolve", seed, *request, "--jwt", "X",
                                                  "--jwt-key", key, "--jwt-alg", "HS256"], 1, "cannot read token"),
            ("vault-policy resolve --jwt-key KEY", [tool("vault-policy"), "resolve", seed, *request, "--jwt", token,
                                                    "--jwt-key", "X", "--jwt-alg", "HS256"], 1, "cannot read key"),
            ("vault-first-launch --manifest MANIFEST", [tool("vault-first-launch"), "--manifest", "X",
                                                        "--no-shim-check", "--no-recovery"], 2,
             "cannot read the manifest"),
            ("vault-first-launch --print-manifest", [tool("vault-first-launch"), "--manifest", "X",
                                                     "--print-manifest"], 2, "cannot read the manifest"),
        ]
        for what, argv, status, words in cases:
            for kind, path, why in (("a FIFO", fifo, "not a regular file"), ("a 50 MB file", big, "larger than 4 MiB")):
                args = [path if a == "X" else a for a in argv]
                try:
                    res = subprocess.run(args, capture_output=True, text=True, timeout=DEADLINE,
                                         env=dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp))
                except subprocess.TimeoutExpired:
                    report(False, f"{what} with {kind}", f"still running after {DEADLINE} s")
                    continue
                problems = []
                if res.returncode != status:
                    problems.append(f"exit {res.returncode}, expected {status}")
                if res.stdout:
                    problems.append(f"stdout is not empty: {res.stdout[:200]!r}")
                if f"{path}: {words}: {why}" not in res.stderr:
                    problems.append(f"stderr lacks {path}: {words}: {why}")
                report(not problems, f"{what} with {kind}: exit {res.returncode}",
                       "\n".join(problems + [f"stderr: {res.stderr.strip()}"]))

    version = project_version()
    for name in ("vault-policy", "vault-first-launch"):
        res = subprocess.run([tool(name), "--version"], capture_output=True, text=True, timeout=DEADLINE)
        expected = f"{name} {version}\n"
        report(res.returncode == 0 and res.stdout == expected, f"{name} --version prints {expected.strip()!r}",
               f"exit {res.returncode}, stdout {res.stdout!r}")
    print(f"1..{count}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
