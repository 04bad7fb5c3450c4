#!/usr/bin/env python3
"""Properties of the decision over generated policies, checked through the real CLI.

For each seed: a random valid policy (folders, any/all rules, allows and denies of both
scopes, time windows, acyclic implies chains with max_mode) and random users, then
  1. permuting folders, rules, implies entries, groups and mapping keys gives byte-identical
     output (`matrix --json` and `resolve --format json|manifest`);
  2. adding an allow rule never removes a mount nor lowers a mode;
  3. adding a deny rule never adds a mount nor raises a mode;
  4. the TZ environment variable never changes the output.
usage: properties.py [SEEDS] (default 60)
"""
import json
import os
import random
import subprocess
import sys
import tempfile

TOOL = os.path.join(os.environ["VS_BUILD_ROOT"], "tools", "vault-policy", "vault-policy")
GROUPS = ["g0", "g1", "g2", "g3", "g4", "G4"]
TIMES = ["2026-01-01T00:00:00Z", "2026-06-01T00:00:00+02:00", "2027-01-01T00:00:00Z", "2027-06-01T00:00:00-05:30"]
NOWS = ["2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z", "2026-05-31T22:00:00Z", "2026-09-01T12:00:00Z",
        "2027-01-01T00:00:00Z", "2027-06-01T05:30:00Z", "2030-01-01T00:00:00Z"]
TZS = ["UTC", "Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu", "EST5EDT", "Nowhere/Invalid"]
RANK = {"-": 0, "denied": 0, "ro": 1, "rw": 2}


def random_rule(rng, effect=None):
    rule = {"groups": rng.sample(GROUPS, rng.randint(1, 3))}
    if len(rule["groups"]) > 1 or rng.random() < 0.3:
        rule["compound"] = rng.choice(["any", "all"])
    effect = effect or rng.choice(["allow", "allow", "allow", "deny"])
    if effect == "deny" or rng.random() < 0.3:
        rule["effect"] = effect
    if effect == "allow" and rng.random() < 0.8:
        rule["mode"] = rng.choice(["ro", "rw"])
    if effect == "deny" and rng.random() < 0.6:
        rule["scope"] = rng.choice(["all", "write"])
    if rng.random() < 0.35:
        start, end = sorted(rng.sample(range(len(TIMES)), 2))
        if rng.random() < 0.7:
            rule["not_before"] = TIMES[start]
        rule["not_after"] = TIMES[end]
    return rule


def random_policy(rng):
    n = rng.randint(2, 7)
    names = [f"f{i}" for i in range(n)]
    folders = []
    for i, name in enumerate(names):
        folder = {"name": name, "path": f"/data/{name}" if rng.random() < 0.8 else f"/home/{{username}}/{name}"}
        folder["access"] = [random_rule(rng) for _ in range(rng.randint(0, 4))]
        # edges only towards later folders: acyclic by construction
        targets = rng.sample(names[i + 1:], min(len(names) - i - 1, rng.randint(0, 2)))
        if targets:
            folder["implies"] = [dict({"folder": t}, **({"max_mode": rng.choice(["ro", "rw"])} if rng.random() < 0.6 else {}))
                                 for t in targets]
        folders.append(folder)
    return {"folders": folders}


def permuted(rng, policy):
    folders = json.loads(json.dumps(policy["folders"]))
    rng.shuffle(folders)
    for folder in folders:
        rng.shuffle(folder["access"])
        for rule in folder["access"]:
            rng.shuffle(rule["groups"])
        rng.shuffle(folder.get("implies", []))
    return {"folders": folders}


def scalar(value):
    return value if value in ("ro", "rw", "any", "all", "allow", "deny", "write") or value.startswith("/data") \
        else json.dumps(value)


def emit(value, rng):
    """Flow-style YAML with mapping keys in random order (key order must never matter)."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return "{" + ", ".join(f"{k}: {emit(value[k], rng)}" for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(emit(v, rng) for v in value) + "]"
    return scalar(value)


def write_policy(tmp, name, policy, rng):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("folders:\n")
        for folder in policy["folders"]:
            f.write(f"  - {emit(folder, rng)}\n")
    return path


def run(*args, tz="UTC"):
    env = dict(os.environ, TZ=tz)
    res = subprocess.run([TOOL, *args], capture_output=True, env=env, timeout=30)
    if res.returncode not in (0, 3):
        raise AssertionError(f"vault-policy {' '.join(args)} exited {res.returncode}: {res.stderr.decode()}")
    return res.stdout


def cells(matrix_json):
    return {(u["name"], f): c for u in json.loads(matrix_json)["users"] for f, c in u["folders"].items()}


def main(argv):
    seeds = int(argv[0]) if argv else 60
    failures = checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            rng = random.Random(seed)
            policy = random_policy(rng)
            users = [{"name": f"u{i}", "id": str(1000 + i), "groups": rng.sample(GROUPS, rng.randint(0, 4))}
                     for i in range(6)]
            users_file = os.path.join(tmp, "users.yaml")
            with open(users_file, "w") as f:
                f.write("users:\n" + "".join(f"  - {json.dumps(u)}\n" for u in users))
            base = write_policy(tmp, "base.yaml", policy, rng)
            perm = write_policy(tmp, "perm.yaml", permuted(rng, policy), rng)
            problems = []
            for now in rng.sample(NOWS, 2):
                ref = run("matrix", base, "--users", users_file, "--now", now, "--json")
                if run("matrix", perm, "--users", users_file, "--now", now, "--json") != ref:
                    problems.append(f"permutation changed the matrix at {now}")
                user = users[0]
                request = ["--user", user["name"], "--uid", user["id"], "--groups", ",".join(user["groups"]), "--now", now]
                for fmt in ("json", "manifest"):
                    a = run("resolve", base, *request, "--format", fmt).replace(base.encode(), b"P")
                    b = run("resolve", perm, *request, "--format", fmt).replace(perm.encode(), b"P")
                    if a != b:
                        problems.append(f"permutation changed resolve --format {fmt} at {now}")
                for tz in TZS:
                    if run("matrix", base, "--users", users_file, "--now", now, "--json", tz=tz) != ref:
                        problems.append(f"TZ={tz} changed the matrix at {now}")
                before = cells(ref)
                for effect in ("allow", "deny"):
                    grown = json.loads(json.dumps(policy))
                    rng.choice(grown["folders"])["access"].append(random_rule(rng, effect))
                    path = write_policy(tmp, f"{effect}.yaml", grown, rng)
                    after = cells(run("matrix", path, "--users", users_file, "--now", now, "--json"))
                    for key, old in before.items():
                        new = after[key]
                        if effect == "allow" and RANK[new] < RANK[old]:
                            problems.append(f"adding an allow took {key} from {old} to {new} at {now}")
                        if effect == "deny" and RANK[new] > RANK[old]:
                            problems.append(f"adding a deny took {key} from {old} to {new} at {now}")
                checks += 1
            if problems:
                failures += 1
                print(f"FAIL seed {seed}:\n  " + "\n  ".join(problems[:5]))
                print("  policy: " + json.dumps(policy))
    print(f"{seeds} generated policies, {checks} (policy, time) checks of 4 properties, {failures} failing seeds")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
