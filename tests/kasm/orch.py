"""What the end-to-end tests share: vault-orchestrator run against the stand-in Kasm through
its fixed CLI, and the stand-in's state checked against what vault-policy itself decides
(`classes` for the groups and memberships, `resolve` for each user's folders)."""
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("VS_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
BUILD_ROOT = os.environ.get("VS_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build"))
ORCHESTRATOR = os.path.join(BUILD_ROOT, "tools", "vault-orchestrator", "vault-orchestrator")
VAULT_POLICY = os.path.join(BUILD_ROOT, "tools", "vault-policy", "vault-policy")
EXAMPLES = os.path.join(SOURCE_ROOT, "docker", "examples")
EXAMPLE_POLICY = os.path.join(EXAMPLES, "vault-permissions.yaml")
EXAMPLE_USERS = os.path.join(EXAMPLES, "users.yaml")
EXIT = {"ok": 0, "bad_input": 1, "pending": 2, "kasm": 3}


def require_orchestrator(test):
    """Exit 77 only when this build has no vault-orchestrator at all."""
    if not os.path.exists(ORCHESTRATOR):
        print(f"SKIP: {test}: {ORCHESTRATOR} is not in this build (the program of issue 21 "
              "has not landed)")
        sys.exit(77)


def log(msg):
    print(msg, flush=True)


problems = []          # what check() found failing, for the test's exit status


def check(what, ok, detail=""):
    log(f"{'ok' if ok else 'FAILED'}: {what}" + (f"\n{detail}" if detail and not ok else ""))
    if not ok:
        problems.append(what)
    return ok


class Orchestrator:
    """vault-orchestrator against one stand-in, with its own state dir, lock and audit log."""

    def __init__(self, standin, workdir, policy, users_file=None, timeout=5):
        self.standin, self.policy = standin, policy
        os.makedirs(workdir, exist_ok=True)
        self.state_dir = os.path.join(workdir, "state")
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        self.audit_log = os.path.join(workdir, "audit.log")
        self.common = ["--kasm", standin.url, "--key-file", standin.key_file,
                       "--cacert", standin.cacert, "--state-dir", self.state_dir,
                       "--lock", os.path.join(workdir, "lock"), "--audit-log", self.audit_log,
                       "--timeout", str(timeout)]
        if users_file:
            self.common += ["--users", users_file]

    def argv(self, verb, *extra):
        return [ORCHESTRATOR, verb, self.policy, *self.common, *extra]

    def run(self, verb, *extra, at=None, timeout=600):
        args = list(extra) + (["--at", at] if at else [])
        return subprocess.run(self.argv(verb, *args), capture_output=True, text=True,
                              timeout=timeout)

    def plan(self, at=None):
        """(exit status, the plan's JSON or None, the process)"""
        res = self.run("plan", "--json", at=at)
        try:
            return res.returncode, json.loads(res.stdout), res
        except ValueError:
            return res.returncode, None, res

    def apply(self, at=None, **kw):
        return self.run("apply", at=at, **kw)

    def start(self, poll):
        """`run`: the service, in the background (the caller stops it with stop())."""
        out = open(os.path.join(self.state_dir, "..", "run.log"), "w")
        return subprocess.Popen(self.argv("run", "--poll", str(poll)), stdout=out,
                                stderr=subprocess.STDOUT, text=True)

    def audit_lines(self):
        try:
            with open(self.audit_log, encoding="utf-8") as f:
                return [line for line in f.read().splitlines() if line.strip()]
        except FileNotFoundError:
            return []


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def describe(res):
    return (f"exit {res.returncode}\n--- stdout\n{res.stdout[-3000:]}\n"
            f"--- stderr\n{res.stderr[-3000:]}")


def plan_counts(plan):
    """The write calls a plan announces, {call: n} without zeros; it must carry them."""
    counts = plan.get("counts") if isinstance(plan, dict) else None
    if not isinstance(counts, dict):
        raise ValueError(f"plan --json has no \"counts\" object: {json.dumps(plan)[:400]}")
    return {k: v for k, v in counts.items() if v}


def written(standin, since=0):
    """{call: n} of the write calls the stand-in applied (its log from index since)."""
    out = {}
    for entry in standin.counters()["log"][since:]:
        if entry.get("applied"):
            out[entry["call"]] = out.get(entry["call"], 0) + 1
    return out


# --- what vault-policy decides ------------------------------------------------------------

def load_users(path):
    """[{username, id, groups}] of a users file (the example's flat format, read by the
    session simulator's small reader; vault-policy reads the same file strictly)."""
    import examples
    return [{"username": u["name"], "id": u["id"], "groups": u["groups"]}
            for u in examples.load_users(path)]


def seed(standin, users_file):
    """Kasm's users as SSO keeps them: each with the groups of the users file."""
    standin.seed_users([{"username": u["username"], "groups": u["groups"]}
                        for u in load_users(users_file)])


def vault_policy(*args):
    res = subprocess.run([VAULT_POLICY, *args], capture_output=True, text=True)
    if res.returncode not in (0, 3):
        raise RuntimeError(f"vault-policy {' '.join(args)}: {describe(res)}")
    return res.stdout


def classes(policy, users_file, at):
    """{username: (class group, its volume_mapping)} at `at`."""
    out = json.loads(vault_policy("classes", policy, "--users", users_file, "--at", at))
    mapping = {c["group"]: c["volume_mapping"] for c in out["classes"]}
    return {m["user"]: (m["group"], mapping[m["group"]]) for m in out["members"]}


def resolve(policy, user, at):
    """{folder: mode} that `vault-policy resolve` gives the user at `at`."""
    out = json.loads(vault_policy("resolve", policy, "--user", user["username"], "--uid",
                                  user["id"], "--groups", ",".join(user["groups"]),
                                  "--format", "json", "--now", at))
    return {f["name"]: f["mode"] for f in out["folders"]}


def vault_root(policy):
    with open(policy, encoding="utf-8") as f:
        m = re.search(r"^vault:\s*(\S+)", f.read(), re.M)
    return m.group(1).rstrip("/") if m else "/vault"


def session_folders(mappings, vault="/vault"):
    """{folder: mode} of a session's merged Volume Mappings below the vault root."""
    return {m["bind"][len(vault) + 1:]: m.get("mode", "rw") for m in mappings.values()
            if m["bind"].startswith(vault + "/")}


def out_of_sync(standin, policy, users_file, at):
    """What differs between Kasm and the policy at `at`: each user in exactly their class
    group, each class group with exactly its volume_mapping, no other vault- group with a
    member."""
    want = classes(policy, users_file, at)
    state = standin.state()
    vault_groups = {g["name"]: g for g in state["groups"] if g["name"].startswith("vault-")}
    problems = []
    for user in state["users"]:
        if user["username"] not in want:
            continue
        group, mapping = want[user["username"]]
        have = sorted(g for g in user["groups"] if g.startswith("vault-"))
        if have != [group]:
            problems.append(f"{user['username']} is in {have}, their class group is {group}")
    for group, mapping in {g: m for g, m in want.values()}.items():
        g = vault_groups.get(group)
        if g is None:
            problems.append(f"class group {group} does not exist")
            continue
        vms = [s["parsed"] for s in g["settings"] if s["name"] == "volume_mapping"]
        if vms != [mapping]:
            problems.append(f"{group}: volume_mapping settings {vms}, the class maps {mapping}")
    needed = {g for g, _ in want.values()}
    for name, g in vault_groups.items():
        if name not in needed and g["members"]:
            problems.append(f"{name} is no class group but has members {g['members']}")
    return problems


def sessions_beyond(standin, policy, users_file, at):
    """Running sessions whose mounts give more than the user's access at `at` (a folder they
    lack, or rw where they have ro)."""
    users = {u["username"]: u for u in load_users(users_file)}
    vault = vault_root(policy)
    found = []
    for s in standin.state()["sessions"]:
        user = users.get(s["username"])
        if user is None:
            continue
        allowed = resolve(policy, user, at)
        for name, mode in session_folders(s["volume_mappings"], vault).items():
            if name not in allowed or (mode == "rw" and allowed[name] == "ro"):
                found.append(f"{s['username']}'s session {s['kasm_id'][:8]} has {name} {mode}"
                             f" (allowed: {allowed.get(name, 'none')})")
    return found


def wait_for(what, predicate, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"{what}: not within {timeout} s")
