#!/usr/bin/env python3
"""docker/examples/ ships what vault-policy prints today, byte for byte.

For every user of users.yaml, `vault-policy resolve --format kasm` (Kasm Volume Mappings) and
`--format docker` (Docker Run Config Override) at the examples' fixed time must equal
kasm/NAME.json and docker/NAME.json; `matrix` must equal matrix.txt (but for trailing blanks); `check` and `lint` must
pass without a word.  `--update` rewrites the files instead (then review the diff).
"""
import difflib
import os
import subprocess
import sys

from vstest.image import BUILD_ROOT, SOURCE_ROOT, finish
import examples

TOOL = os.path.join(BUILD_ROOT, "tools", "vault-policy", "vault-policy")


def policy(*args, ok=(0,)):
    res = subprocess.run([TOOL, *args], capture_output=True)
    if res.returncode not in ok:
        raise SystemExit(f"vault-policy {' '.join(args)}: exit {res.returncode}\n"
                         f"{res.stderr.decode(errors='replace')}")
    return res.stdout, res.stderr


def expected_files():
    """relative path → bytes vault-policy prints for it now."""
    out = {}
    for u in examples.load_users():
        for fmt in ("kasm", "docker"):
            text, _ = policy("resolve", examples.POLICY, "--user", u["name"], "--uid", u["id"],
                             "--groups", ",".join(u["groups"]), "--now", examples.EXAMPLE_NOW,
                             "--format", fmt)
            out[os.path.join(fmt, u["name"] + ".json")] = text
    text, _ = policy("matrix", examples.POLICY, "--users", examples.USERS,
                     "--now", examples.EXAMPLE_NOW)
    # The table is for people: its column padding at line ends is not part of the promise.
    out["matrix.txt"] = b"".join(line.rstrip() + b"\n" for line in text.splitlines())
    return out


def main(argv):
    if not os.access(TOOL, os.X_OK):
        print(f"{TOOL}: not built")
        return 1
    problems = []
    for what in ("check", "lint"):
        out, err = policy(what, examples.POLICY)
        if what == "lint" and (out.strip() or err.strip()):
            problems.append(f"vault-policy lint warns about the example:\n{(out + err).decode()}")
    files = expected_files()
    if "--update" in argv:
        for rel, data in files.items():
            path = os.path.join(examples.EXAMPLES, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        print(f"wrote {len(files)} files under {examples.EXAMPLES}")
        return 0
    shipped = set()
    for d in ("kasm", "docker"):
        if os.path.isdir(os.path.join(examples.EXAMPLES, d)):
            shipped.update(os.path.join(d, n) for n in os.listdir(os.path.join(examples.EXAMPLES, d)))
    for rel in sorted(shipped - set(files)):
        problems.append(f"docker/examples/{rel}: no user in users.yaml produces it")
    for rel, data in sorted(files.items()):
        path = os.path.join(examples.EXAMPLES, rel)
        try:
            with open(path, "rb") as f:
                have = f.read()
        except OSError as e:
            problems.append(f"docker/examples/{rel}: {e.strerror}")
            continue
        if have != data:
            diff = difflib.unified_diff(have.decode().splitlines(), data.decode().splitlines(),
                                        f"docker/examples/{rel}", "vault-policy prints",
                                        lineterm="")
            problems.append("\n".join(diff))
    return finish(problems, f"examples: {len(files)} files compared"
                  + (" (regenerate with tests/integration/image/examples_test.py --update)" if problems else ""))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
