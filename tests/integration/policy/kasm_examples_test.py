#!/usr/bin/env python3
"""docker/examples/kasm-groups/ ships what vault-policy prints for the example, byte for byte.

classes.json and classes.csv (`classes --at` the examples' time), schedule.txt and
schedule.json (`schedule` over a year around the contractors' window) and kasm-native.txt
(`kasm-native`, with the generated organisations of its admin-objects table, which the
README's "Wiring it into Kasm" must show row for row).
`--update` rewrites them instead (then review the diff).
"""
import difflib
import os
import subprocess
import sys

TOOL = os.path.join(os.environ["VS_BUILD_ROOT"], "tools", "vault-policy", "vault-policy")
EXAMPLES = os.path.join(os.environ["VS_SOURCE_ROOT"], "docker", "examples")
OUT = os.path.join(EXAMPLES, "kasm-groups")
POLICY = os.path.join(EXAMPLES, "vault-permissions.yaml")
USERS = os.path.join(EXAMPLES, "users.yaml")
AT = "2026-12-15T00:00:00Z"
FROM, TO = "2026-11-01T00:00:00Z", "2027-11-01T00:00:00Z"

COMMANDS = {
    "classes.json": ["classes", POLICY, "--users", USERS, "--at", AT],
    "classes.csv": ["classes", POLICY, "--users", USERS, "--at", AT, "--format", "csv"],
    "schedule.txt": ["schedule", POLICY, "--users", USERS, "--from", FROM, "--to", TO],
    "schedule.json": ["schedule", POLICY, "--users", USERS, "--from", FROM, "--to", TO, "--json"],
    "kasm-native.txt": ["kasm-native", POLICY, "--users", USERS, "--at", AT],
}


def main(argv):
    problems = []
    for name, args in COMMANDS.items():
        res = subprocess.run([TOOL, *args], capture_output=True, timeout=120)
        if res.returncode != 0:
            problems.append(f"vault-policy {' '.join(args)}: exit {res.returncode}\n{res.stderr.decode()}")
            continue
        path = os.path.join(OUT, name)
        if "--update" in argv:
            os.makedirs(OUT, exist_ok=True)
            with open(path, "wb") as f:
                f.write(res.stdout)
            continue
        try:
            with open(path, "rb") as f:
                have = f.read()
        except OSError as e:
            problems.append(f"{path}: {e.strerror}")
            continue
        if have != res.stdout:
            problems.append("\n".join(difflib.unified_diff(have.decode().splitlines(), res.stdout.decode().splitlines(),
                                                           f"docker/examples/kasm-groups/{name}",
                                                           "vault-policy prints", lineterm="")))
        # Twice: the output must not depend on the run.
        if subprocess.run([TOOL, *args], capture_output=True, timeout=120).stdout != res.stdout:
            problems.append(f"{name}: two runs printed different bytes")
    # The README's admin-objects table is the one kasm-native prints.
    with open(os.path.join(os.environ["VS_SOURCE_ROOT"], "README.md"), encoding="utf-8") as f:
        readme = {line.strip() for line in f}
    with open(os.path.join(OUT, "kasm-native.txt"), encoding="utf-8") as f:
        rows = [line.strip() for line in f if line.startswith("| ")]
    for row in rows:
        if row not in readme:
            problems.append(f"README.md lacks the admin-objects row: {row}")
    for p in problems:
        print("FAIL " + p)
    print(f"kasm-groups examples: {len(COMMANDS)} files compared"
          + (" (regenerate with tests/integration/policy/kasm_examples_test.py --update)" if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
