#!/usr/bin/env python3
"""Access classes as Kasm groups equal the policy, for every user at every boundary time.

For the example organisation, the fixture policy and generated policies (properties.py's
generator, with e-mail style and refused user names): at every window bound, one second
before it, and far before and after all of them, take `vault-policy classes --at T`, give
each user the volume_mapping of their one class group, merge it the way Kasm documents for
volume_mapping ("all settings are combined from all groups a user is a member of": a union
of the groups' mappings, keyed by host path) with Kasm's {username}/{user_id} tokens
substituted, and compare with `vault-policy resolve --format kasm` for that user at T; each
member's valid_until must equal resolve's.  `schedule` over the whole span must move every
user exactly where `classes` puts them at each instant.
usage: classes_test.py [SEEDS] (default 10)
"""
import datetime
import json
import os
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import properties  # noqa: E402

TOOL = properties.TOOL
SRC = os.environ["VS_SOURCE_ROOT"]


def run(*args):
    res = subprocess.run([TOOL, *args], capture_output=True, timeout=60)
    if res.returncode not in (0, 3):
        raise AssertionError(f"vault-policy {' '.join(args)} exited {res.returncode}: {res.stderr.decode()}")
    return res.stdout


def parse(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def fmt(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def instants(policy_file):
    with open(policy_file) as f:
        bounds = sorted({parse(m) for m in re.findall(r"not_(?:before|after):\s*\"?([0-9T:.+Z-]+)", f.read())})
    out = {datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
           datetime.datetime(2035, 1, 1, tzinfo=datetime.timezone.utc)}
    for b in bounds:
        out |= {b, b - datetime.timedelta(seconds=1)}
    return sorted(out)


def load_users(policy_file, users_file):
    """name, id, groups of each user, as vault-policy itself reads the users file."""
    return [{"name": u["name"], "id": u["id"], "groups": u["groups"]}
            for u in json.loads(run("matrix", policy_file, "--users", users_file, "--json"))["users"]]


def kasm_merge(groups, user):
    """Kasm's union of the volume_mapping settings of a user's groups, tokens substituted."""
    merged = {}
    for mapping in groups:
        for host, volume in mapping.items():
            host = host.replace("{username}", user["name"]).replace("{user_id}", user["id"])
            if host in merged and merged[host] != volume:
                raise AssertionError(f"{user['name']}: two groups map {host} differently")
            merged[host] = volume
    return merged


def check(policy_file, users_file, label):
    problems = []
    users = load_users(policy_file, users_file)
    times = instants(policy_file)
    for t in times:
        doc = json.loads(run("classes", policy_file, "--users", users_file, "--at", fmt(t)))
        mapping = {c["group"]: c["volume_mapping"] for c in doc["classes"]}
        members = {m["user"]: m for m in doc["members"]}
        if sum(c["members"] for c in doc["classes"]) != len(users):
            problems.append(f"{label} at {fmt(t)}: class sizes do not add up to the users")
        for u in users:
            m = members[u["name"]]
            request = ["--user", u["name"], "--uid", u["id"], "--groups", ",".join(u["groups"]) or ",",
                       "--now", fmt(t)]
            want = json.loads(run("resolve", policy_file, *request, "--format", "kasm"))
            got = kasm_merge([mapping[m["group"]]], u)
            if got != want:
                problems.append(f"{label} at {fmt(t)}: {u['name']} in {m['group']} gets {sorted(got)}, "
                                f"resolve says {sorted(want)}")
            until = json.loads(run("resolve", policy_file, *request, "--format", "json"))["valid_until"]
            if m["valid_until"] != until:
                problems.append(f"{label} at {fmt(t)}: {u['name']} valid_until {m['valid_until']}, "
                                f"resolve says {until}")
    # The schedule over the whole span agrees with classes at each of its instants.
    start, end = times[0], times[-1]
    sched = json.loads(run("schedule", policy_file, "--users", users_file, "--from", fmt(start), "--to",
                           fmt(end), "--json"))
    where = {s["user"]: s["group"] for s in sched["start"]}
    for instant in sched["instants"]:
        now = {m["user"]: m["group"] for m in
               json.loads(run("classes", policy_file, "--users", users_file, "--at", instant["at"]))["members"]}
        for ch in instant["changes"]:
            if where[ch["user"]] != ch["from"]:
                problems.append(f"{label}: schedule moves {ch['user']} from {ch['from']}, "
                                f"but they are in {where[ch['user']]}")
            where[ch["user"]] = ch["to"]
        if where != now:
            problems.append(f"{label}: after the schedule's changes at {instant['at']} the members differ "
                            f"from classes --at")
    return problems, len(times) * len(users)


def main(argv):
    seeds = int(argv[0]) if argv else 10
    cases = [(os.path.join(SRC, "docker/examples/vault-permissions.yaml"),
              os.path.join(SRC, "docker/examples/users.yaml"), "example"),
             (os.path.join(SRC, "tests/data/policy/seed.yaml"),
              os.path.join(SRC, "tests/data/policy/users.yaml"), "seed")]
    problems, checks = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            rng = random.Random(seed)
            policy = properties.random_policy(rng)
            names = ["alice", "user@kasm.local", "first.last+x@example.com", "j\u00fcrgen", "a:b", "f1"]
            users = [{"name": names[i], "id": str(1000 + i) if i != 4 else "x y",
                      "groups": rng.sample(properties.GROUPS, rng.randint(0, 4))} for i in range(len(names))]
            users_file = os.path.join(tmp, f"users-{seed}.yaml")
            with open(users_file, "w") as f:
                f.write("users:\n" + "".join(f"  - {json.dumps(u)}\n" for u in users))
            cases.append((properties.write_policy(tmp, f"policy-{seed}.yaml", policy, rng), users_file,
                          f"seed {seed}"))
        for policy_file, users_file, label in cases:
            p, n = check(policy_file, users_file, label)
            problems += p
            checks += n
    for p in problems[:20]:
        print("FAIL " + p)
    print(f"{len(cases)} policies, {checks} (user, time) comparisons of Kasm's merge of the class groups "
          f"with resolve, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
