"""A contractor's access window that closes, and one that opens, a few seconds after the test
starts, enforced by `vault-orchestrator run` on the real clock.  Shared by the container-less
test (sessions are the stand-in's records) and the image suite (sessions are containers).

The example policy with the contractors' deal-room window ending at CLOSE, and a new folder,
launch-room, read-only to contractors from OPEN.  Checked: erin's running session ends within
5 s of CLOSE (measured and printed), after her membership left the deal-room class and
without her ever being in two vault- groups; her next session lacks the deal room; at OPEN her
running session stays, with its mounts, and the next one has launch-room.  And while run
holds its lock, a second orchestrator's apply is refused and writes nothing.
"""
import datetime
import os
import time

import orch

CONTRACTOR = "erin"
REVOCATION_GOAL = 5.0          # seconds from the instant to the session's end (issue 21)


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_policy(path, close_at, open_at, host_root=None):
    """The example policy with the window moved; host paths under host_root when given."""
    with open(orch.EXAMPLE_POLICY, encoding="utf-8") as f:
        text = f.read()
    old = "not_after: 2027-01-31T00:00:00Z"
    if text.count(old) != 1:
        raise RuntimeError(f"{orch.EXAMPLE_POLICY}: the contractors' window is not where "
                           "this test expects it")
    text = text.replace(old, f"not_after: {rfc3339(close_at)}")
    text = text.rstrip("\n") + f"""

  # The window that opens while the test runs.
  - name: launch-room
    path: /shared/launch
    access:
      - groups: [contractors]
        mode: ro
        not_before: {rfc3339(open_at)}
"""
    if host_root:
        import re
        text = re.sub(r"^(\s*path:\s*)/", lambda m: f"{m.group(1)}{host_root}/", text, flags=re.M)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def memberships_in_order(standin, user_id, since):
    """Problems with the write calls that moved the user since log index `since`: a remove
    after the add (two class groups at once), or the session ended before the move."""
    log = standin.counters()["log"][since:]
    calls = [(e["call"], e["body"]) for e in log if e.get("applied")]
    mine = [c for c, b in calls if b.get("target_user", {}).get("user_id") == user_id
            or b.get("user_id") == user_id]
    problems = []
    if "remove_user_group" not in mine or "add_user_group" not in mine:
        problems.append(f"the writes for the move were {mine}")
    elif mine.index("add_user_group") < mine.index("remove_user_group"):
        problems.append(f"added before removed (two class groups at once): {mine}")
    if "destroy_kasm" in mine and "remove_user_group" in mine \
            and mine.index("destroy_kasm") < mine.index("remove_user_group"):
        problems.append(f"the session ended before the membership changed: {mine}")
    return problems


def run_window(standin, workdir, lead, gap, folders_of, running):
    """The scenario.  folders_of(kasm record) -> {folder: mode} the session really has;
    running(kasm_id) -> whether the session (its container) still exists.  Returns
    (problems, lines)."""
    problems, lines = [], []
    os.makedirs(workdir, exist_ok=True)
    start = time.time()
    close_at = int(start) + lead
    open_at = close_at + gap
    host_root = os.path.join(workdir, "host") if standin.launcher else None
    policy = window_policy(os.path.join(workdir, "window.yaml"), close_at, open_at, host_root)
    users = {u["username"]: u for u in orch.load_users(orch.EXAMPLE_USERS)}
    orch.seed(standin, orch.EXAMPLE_USERS)
    erin_id = standin.kasm.user_by_name(CONTRACTOR)["user_id"]
    o = orch.Orchestrator(standin, os.path.join(workdir, "orch"), policy)
    if host_root:
        seed_host_folders(policy, users)
    service = o.start(poll=300)
    try:
        try:
            orch.wait_for("Kasm in sync under run", lambda: not orch.out_of_sync(
                standin, policy, orch.EXAMPLE_USERS, rfc3339(time.time())), 60, step=0.5)
        except TimeoutError as e:
            diff = orch.out_of_sync(standin, policy, orch.EXAMPLE_USERS, rfc3339(time.time()))
            return [f"{e}: {diff}"], lines
        lines.append(f"run: in sync {time.time() - start:.1f} s after it started")
        # A second orchestrator on the same lock while run holds it: refused, writes nothing.
        writes = standin.counters()["writes"]
        res = o.apply()
        if res.returncode == 0 or standin.counters()["writes"] != writes \
                or "lock" not in res.stdout + res.stderr:
            problems.append(f"apply while run holds the lock: {orch.describe(res)}")
        lines.append(f"apply while run holds the lock: exit {res.returncode}, no write")
        first = standin.request_kasm(CONTRACTOR)
        got = folders_of(first)
        want = orch.resolve(policy, users[CONTRACTOR], rfc3339(time.time()))
        if got != want or got.get("deal-room-acme") != "ro":
            problems.append(f"{CONTRACTOR}'s session before the window closes has {got}, "
                            f"resolve gives {want}")
        if time.time() >= close_at - 1:
            problems.append(f"the session started {time.time() - close_at:.1f} s after the "
                            "window closed: the lead is too short for this machine")
        mark = len(standin.counters()["log"])

        def ended():
            return next((d for d in standin.destroyed if d["kasm_id"] == first["kasm_id"]), None)
        try:
            end = orch.wait_for("the contractor's session ends", ended,
                                close_at + 60 - time.time(), step=0.05)
            delay = end["ended"] - close_at
            lines.append(f"revocation: {CONTRACTOR}'s running session ended {delay:.2f} s "
                         f"after the window closed at {rfc3339(close_at)} "
                         f"(goal {REVOCATION_GOAL:.0f} s)")
            if delay > REVOCATION_GOAL:
                problems.append(f"the session ended {delay:.2f} s after the instant")
            if running(first["kasm_id"]):
                problems.append("destroy_kasm answered but the session's container is still there")
        except TimeoutError as e:
            problems.append(f"{e} (state: {standin.state()['sessions']})")
        problems += memberships_in_order(standin, erin_id, mark)

        second = standin.request_kasm(CONTRACTOR)
        got = folders_of(second)
        want = orch.resolve(policy, users[CONTRACTOR], rfc3339(time.time()))
        if got != want or "deal-room-acme" in got:
            problems.append(f"{CONTRACTOR}'s next session has {got}, resolve gives {want}")
        lines.append(f"after the close: the next session has {sorted(got.items())}")

        time.sleep(max(0, open_at - time.time()))
        try:
            orch.wait_for("Kasm in sync after the window opened", lambda: not orch.out_of_sync(
                standin, policy, orch.EXAMPLE_USERS, rfc3339(open_at)), 10, step=0.1)
            lines.append(f"open: memberships in sync {time.time() - open_at:.2f} s after "
                         f"{rfc3339(open_at)}")
        except TimeoutError as e:
            diff = orch.out_of_sync(standin, policy, orch.EXAMPLE_USERS, rfc3339(open_at))
            problems.append(f"{e}: {diff}")
        if not running(second["kasm_id"]) or second["kasm_id"] not in standin.kasm.sessions:
            problems.append("a gain ended the contractor's running session")
        elif folders_of(second) != got:
            problems.append(f"the running session's mounts changed: {folders_of(second)}")
        third = standin.request_kasm(CONTRACTOR)
        got3 = folders_of(third)
        want = orch.resolve(policy, users[CONTRACTOR], rfc3339(time.time()))
        if got3 != want or got3.get("launch-room") != "ro":
            problems.append(f"the session after the window opened has {got3}, resolve gives {want}")
        lines.append(f"after the open: the running session kept {sorted(got.items())}; "
                     f"the next one has {sorted(got3.items())}")
        problems += orch.sessions_beyond(standin, policy, orch.EXAMPLE_USERS, rfc3339(time.time()))
    finally:
        orch.stop(service)
    if service.returncode not in (0, -15, 143):
        problems.append(f"run exited {service.returncode} when stopped")
    return problems, lines


def seed_host_folders(policy, users):
    """Every host folder any user could mount, owned by the session user (the admin's part)."""
    import re
    with open(policy, encoding="utf-8") as f:
        paths = re.findall(r"^\s*path:\s*(\S+)", f.read(), re.M)
    for p in paths:
        for user in users.values():
            path = p.replace("{username}", user["username"]).replace("{user_id}", user["id"])
            os.makedirs(path, exist_ok=True)
            os.chown(path, 1000, 1000)
