#!/usr/bin/env python3
"""vault-orchestrator end to end against the stand-in Kasm, without containers (a session is
the stand-in's record of the mounts Kasm would give it).  One case per meson test:

  example   the example policy and users: plan, apply from an empty Kasm, every user's next
            session has exactly `vault-policy resolve`'s folders; a second apply writes
            nothing; the audit log has one JSON line per write; --users gives the same Kasm
  window    `run` on the real clock: a window that closes (the contractor's session ended
            within 5 s) and one that opens (the running session kept)
  drift     a user in a second vault- group, an edited class volume_mapping, a stale vault-
            group with a member, a non-vault- group mapping under the vault root
  faults    every fault kind at random calls of an apply, and an apply killed at a write:
            the next apply leaves Kasm in sync (and ends the sessions the killed one owed)
  security  the key file's owner and mode, http:// and TLS verification, Kasm unreachable
  org       2 000 generated users: apply from empty, then a year of schedule instants with
            --at, the write calls of each counted against the plan's
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import orch  # noqa: E402
import window  # noqa: E402
from orch import EXAMPLE_POLICY, EXAMPLE_USERS, EXIT, check, describe, log, problems  # noqa: E402
from standin import StandIn  # noqa: E402

AT = "2026-12-15T00:00:00Z"            # inside the contractors' window (examples.EXAMPLE_NOW)
AFTER = "2027-02-01T00:00:00Z"         # after it closed


def in_sync(kasm, policy, users_file, at, what):
    diff = orch.out_of_sync(kasm, policy, users_file, at)
    return check(f"{what}: Kasm matches `vault-policy classes --at {at}`", not diff,
                 "\n".join(diff[:20]))


def counts_match(plan, wrote, what):
    try:
        want = orch.plan_counts(plan)
    except ValueError as e:
        return check(f"{what}: the plan's counts", False, str(e))
    return check(f"{what}: write calls {wrote} as the plan counted", wrote == want,
                 f"plan {want}, written {wrote}")


def sessions_have_resolved_folders(kasm, policy, at, what):
    users = orch.load_users(EXAMPLE_USERS)
    bad = []
    for user in users:
        rec = kasm.request_kasm(user["username"])
        got = orch.session_folders(rec["_volume_mappings"], orch.vault_root(policy))
        want = orch.resolve(policy, user, at)
        if got != want:
            bad.append(f"{user['username']}: session {got}, resolve {want}")
        kasm.kasm.end_session(rec["kasm_id"])
    check(f"{what}: every user's next session has exactly resolve's folders and modes",
          not bad, "\n".join(bad))


def no_secret(kasm, texts, what):
    leaked = [i for i, t in enumerate(texts) if kasm.api_secret in t]
    check(f"{what}: the API key secret is in no output or log", not leaked)


# --- cases ----------------------------------------------------------------------------------

def case_example(tmp):
    with StandIn(os.path.join(tmp, "kasm")) as kasm:
        orch.seed(kasm, EXAMPLE_USERS)
        o = orch.Orchestrator(kasm, os.path.join(tmp, "o"), EXAMPLE_POLICY)
        rc, plan, res = o.plan(at=AT)
        check("plan on an empty Kasm: exit 2 (changes pending), no drift, no write",
              rc == EXIT["pending"] and plan is not None and not plan.get("drift")
              and kasm.counters()["writes"] == 0, describe(res))
        kasm.reset_counters()
        res = o.apply(at=AT)
        check("apply from an empty Kasm: exit 0", res.returncode == 0, describe(res))
        wrote = orch.written(kasm)
        if plan is not None:
            counts_match(plan, wrote, "apply from empty")
        log(f"apply from empty: {sum(wrote.values())} write calls {wrote}")
        in_sync(kasm, EXAMPLE_POLICY, EXAMPLE_USERS, AT, "apply from empty")
        sessions_have_resolved_folders(kasm, EXAMPLE_POLICY, AT, "apply from empty")
        audit = o.audit_lines()
        try:
            parsed = [json.loads(line) for line in audit]
        except ValueError:
            parsed = None
        check("the audit log: one JSON line per write call",
              parsed is not None and len(audit) == kasm.counters()["writes"],
              f"{len(audit)} lines, {kasm.counters()['writes']} writes: {audit[:3]}")
        texts = [res.stdout, res.stderr, "\n".join(audit)]
        kasm.reset_counters()
        res = o.apply(at=AT)
        check("a second apply: exit 0 and no write call",
              res.returncode == 0 and kasm.counters()["writes"] == 0,
              describe(res) + f"\nwrites {orch.written(kasm)}")
        rc, plan, res2 = o.plan(at=AT)
        check("plan after apply: exit 0 (in sync)", rc == 0, describe(res2))
        no_secret(kasm, texts + [res.stdout, res.stderr, res2.stdout, res2.stderr], "example")

    with StandIn(os.path.join(tmp, "kasm-users")) as kasm:
        # Kasm's users have only All Users; their groups come from the users file.
        kasm.seed_users([{"username": u["username"]} for u in orch.load_users(EXAMPLE_USERS)])
        o = orch.Orchestrator(kasm, os.path.join(tmp, "o-users"), EXAMPLE_POLICY, EXAMPLE_USERS)
        res = o.apply(at=AT)
        check("apply --users (groups from the users file): exit 0", res.returncode == 0,
              describe(res))
        in_sync(kasm, EXAMPLE_POLICY, EXAMPLE_USERS, AT, "apply --users")


def case_window(tmp):
    with StandIn(os.path.join(tmp, "kasm")) as kasm:
        found, lines = window.run_window(
            kasm, tmp, lead=12, gap=8,
            folders_of=lambda rec: orch.session_folders(rec["_volume_mappings"]),
            running=lambda kasm_id: kasm_id in kasm.kasm.sessions)
        for line in lines:
            log(line)
        for p in found:
            check(p, False)
        check("the window closes and opens under run", not found)


def drift_case(tmp, name, make, expect_rc, after=None):
    """An in-sync Kasm, then make(kasm, state) drifts it; plan reports, apply repairs (or
    refuses with exit 2); after(kasm) checks what apply must have left alone."""
    with StandIn(os.path.join(tmp, name)) as kasm:
        orch.seed(kasm, EXAMPLE_USERS)
        o = orch.Orchestrator(kasm, os.path.join(tmp, f"o-{name}"), EXAMPLE_POLICY)
        res = o.apply(at=AT)
        if not check(f"{name}: the first apply", res.returncode == 0, describe(res)):
            return
        mention = make(kasm, kasm.state())
        rc, plan, pres = o.plan(at=AT)
        check(f"{name}: plan exit 2 and names {mention}",
              rc == EXIT["pending"] and mention in pres.stdout + pres.stderr, describe(pres))
        res = o.apply(at=AT)
        check(f"{name}: apply exit {expect_rc}", res.returncode == expect_rc, describe(res))
        if expect_rc == EXIT["pending"]:
            check(f"{name}: apply says what an admin must fix ({mention})",
                  mention in res.stdout + res.stderr, describe(res))
        in_sync(kasm, EXAMPLE_POLICY, EXAMPLE_USERS, AT, name)
        beyond = orch.sessions_beyond(kasm, EXAMPLE_POLICY, EXAMPLE_USERS, AT)
        check(f"{name}: no running session keeps more than the policy gives", not beyond,
              "\n".join(beyond))
        if after:
            after(kasm, o)


def group_id(state, name):
    return next(g["group_id"] for g in state["groups"] if g["name"] == name)


def class_of(state, username):
    user = next(u for u in state["users"] if u["username"] == username)
    return next(g for g in user["groups"] if g.startswith("vault-"))


def uid(kasm, username):
    return {"user_id": kasm.kasm.user_by_name(username)["user_id"]}


def case_drift(tmp):
    def second_group(kasm, state):
        # alice, by hand, also in bob's class (engineering rw, project-alpha); a session
        # started meanwhile has those mounts.
        other = class_of(state, "bob")
        kasm.api("add_user_group", target_user=uid(kasm, "alice"),
                 target_group={"group_id": group_id(state, other)})
        kasm.request_kasm("alice")
        return "alice"

    def edited_mapping(kasm, state):
        # bob's class group: the wiki made rw by hand; bob starts a session with it.
        name = class_of(state, "bob")
        g = next(g for g in state["groups"] if g["name"] == name)
        s = next(s for s in g["settings"] if s["name"] == "volume_mapping")
        value = dict(s["parsed"])
        wiki = next(h for h, m in value.items() if m["bind"].endswith("/wiki"))
        value[wiki] = dict(value[wiki], mode="rw")
        kasm.api("update_settings_group", target_group={"group_id": g["group_id"]},
                 target_setting={"group_setting_id": s["group_setting_id"],
                                 "value": json.dumps(value)})
        kasm.request_kasm("bob")
        return name

    def stale_group(kasm, state):
        # a vault- group no class needs, mapping the deal room rw, with carol in it.
        name = "vault-0123456789abcdef"
        g = kasm.api("create_group", target_group={"name": name, "priority": 50,
                                                   "description": "left over"})[1]["group"]
        kasm.api("add_settings_group", target_group={"group_id": g["group_id"]},
                 target_setting={"name": "volume_mapping", "value": json.dumps(
                     {"/shared/deals/acme": {"bind": "/vault/deal-room-acme", "mode": "rw"}})})
        kasm.api("add_user_group", target_user=uid(kasm, "carol"),
                 target_group={"group_id": g["group_id"]})
        kasm.request_kasm("carol")
        return name

    foreign = {"/srv/secret": {"bind": "/vault/secret", "mode": "rw"}}

    def foreign_group(kasm, state):
        # legal, an SSO group, maps something under the vault root: not the orchestrator's.
        kasm.api("add_settings_group", target_group={"group_id": group_id(state, "legal")},
                 target_setting={"name": "volume_mapping", "value": json.dumps(foreign)})
        return "legal"

    def foreign_untouched(kasm, o):
        g = next(g for g in kasm.state()["groups"] if g["name"] == "legal")
        vms = [s for s in g["settings"] if s["name"] == "volume_mapping"]
        check("foreign mapping: legal's volume_mapping is left as the admin set it",
              [s["parsed"] for s in vms] == [foreign])
        kasm.api("remove_settings_group", target_group={"group_id": g["group_id"]},
                 target_setting={"group_setting_id": vms[0]["group_setting_id"]})
        res = o.apply(at=AT)
        check("foreign mapping: once the admin removed it, apply exits 0", res.returncode == 0,
              describe(res))

    drift_case(tmp, "second vault- group", second_group, EXIT["ok"])
    drift_case(tmp, "edited volume_mapping", edited_mapping, EXIT["ok"])
    drift_case(tmp, "stale vault- group", stale_group, EXIT["ok"])
    drift_case(tmp, "foreign mapping under the vault root", foreign_group, EXIT["pending"],
               foreign_untouched)


# Every kind in some apply; drop_after (applied, never answered) in half of them.
FAULT_MIXES = [("503", "drop_after"), ("500", "timeout", "429"), ("drop", "drop_after", "502"),
               ("refuse", "drop_after", "503")]


def case_faults(tmp):
    # Faults at random calls through a whole apply, a mix of kinds per seed; then the next
    # apply.
    for seed, kinds in enumerate(FAULT_MIXES, 1):
        with StandIn(os.path.join(tmp, f"kasm-{seed}"), seed=seed) as kasm:
            orch.seed(kasm, EXAMPLE_USERS)
            # A session per user, so that revocations are part of it: first in the window...
            o = orch.Orchestrator(kasm, os.path.join(tmp, f"o-{seed}"), EXAMPLE_POLICY,
                                  timeout=2)
            res = o.apply(at=AT)
            check(f"faults seed {seed}: the first apply", res.returncode == 0, describe(res))
            for u in orch.load_users(EXAMPLE_USERS):
                kasm.request_kasm(u["username"])
            # ... then after it closed, with faults.
            for n, kind in enumerate(kinds):
                kasm.fault(call="*", kind=kind, rate=0.08, seed=seed * 10 + n, times=0,
                           seconds=3 if kind == "timeout" else 1)
            t = time.monotonic()
            res = o.apply(at=AFTER)
            fired = kasm.counters()["faults"]
            kasm.clear_faults()
            diff = orch.out_of_sync(kasm, EXAMPLE_POLICY, EXAMPLE_USERS, AFTER)
            if res.returncode == 0:
                check(f"faults seed {seed} ({', '.join(kinds)}; {fired} injected): apply "
                      "reported success, and Kasm is in sync", not diff, "\n".join(diff))
            else:
                check(f"faults seed {seed} ({', '.join(kinds)}; {fired} injected): apply exit 3 "
                      "(Kasm errors), not another status", res.returncode == EXIT["kasm"],
                      describe(res))
            log(f"faults seed {seed}: {fired} faults ({', '.join(kinds)}), apply exit "
                f"{res.returncode} in {time.monotonic() - t:.1f} s")
            res = o.apply(at=AFTER)
            check(f"faults seed {seed}: the next apply exits 0", res.returncode == 0, describe(res))
            in_sync(kasm, EXAMPLE_POLICY, EXAMPLE_USERS, AFTER, f"faults seed {seed}")
            beyond = orch.sessions_beyond(kasm, EXAMPLE_POLICY, EXAMPLE_USERS, AFTER)
            check(f"faults seed {seed}: no session keeps the deal room", not beyond,
                  "\n".join(beyond))
            kasm.reset_counters()
            res = o.apply(at=AFTER)
            check(f"faults seed {seed}: then an apply writes nothing",
                  res.returncode == 0 and kasm.counters()["writes"] == 0,
                  describe(res) + f"\n{orch.written(kasm)}")

    # An apply killed (SIGKILL) while a write call hangs, at each write call kind it makes
    # when the window has closed: the next apply finishes the job, the session included.
    for call in ("remove_user_group", "add_user_group", "destroy_kasm"):
        with StandIn(os.path.join(tmp, f"kasm-kill-{call}")) as kasm:
            orch.seed(kasm, EXAMPLE_USERS)
            o = orch.Orchestrator(kasm, os.path.join(tmp, f"o-kill-{call}"), EXAMPLE_POLICY)
            o.apply(at=AT)
            erin = kasm.request_kasm("erin")
            kasm.fault(call=call, kind="timeout", nth=1, seconds=120)
            proc = subprocess.Popen(o.argv("apply", "--at", AFTER), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                orch.wait_for(f"the apply reaches {call}", lambda: kasm.counters()["faults"], 60)
            except TimeoutError as e:
                check(f"killed at {call}: {e}", False)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kasm.clear_faults()
            res = o.apply(at=AFTER)
            check(f"killed at {call}: the next apply exits 0", res.returncode == 0, describe(res))
            in_sync(kasm, EXAMPLE_POLICY, EXAMPLE_USERS, AFTER, f"killed at {call}")
            check(f"killed at {call}: erin's session that had the deal room is ended",
                  erin["kasm_id"] not in kasm.kasm.sessions)


def case_security(tmp):
    with StandIn(os.path.join(tmp, "kasm")) as kasm:
        orch.seed(kasm, EXAMPLE_USERS)
        base = orch.Orchestrator(kasm, os.path.join(tmp, "o"), EXAMPLE_POLICY)

        def with_args(what, replace, want_rc, reach=False):
            argv = base.argv("plan", "--at", AT)
            for flag, value in replace.items():
                argv[argv.index(flag) + 1] = value
            kasm.reset_counters()
            res = subprocess.run(argv, capture_output=True, text=True, timeout=300)
            calls = sum(kasm.counters()["calls"].values())
            check(f"{what}: exit {want_rc}" + ("" if reach else ", no call reached Kasm"),
                  res.returncode == want_rc and (reach or calls == 0),
                  describe(res) + f"\ncalls: {kasm.counters()['calls']}")
            no_secret(kasm, [res.stdout, res.stderr], what)

        def key_copy(name, mode, owner=None):
            path = os.path.join(tmp, name)
            with open(kasm.key_file, encoding="utf-8") as f, open(path, "w") as out:
                out.write(f.read())
            os.chmod(path, mode)
            if owner is not None:
                os.chown(path, owner, owner)
            return path

        with_args("the key file readable by others (0644)", {"--key-file": key_copy("k644", 0o644)},
                  EXIT["bad_input"])
        with_args("the key file group-readable (0640)", {"--key-file": key_copy("k640", 0o640)},
                  EXIT["bad_input"])
        if os.geteuid() == 0:
            with_args("the key file owned by another user",
                      {"--key-file": key_copy("kother", 0o600, owner=65534)}, EXIT["bad_input"])
        with_args("the key file 0400: accepted", {"--key-file": key_copy("k400", 0o400)},
                  EXIT["pending"], reach=True)
        with_args("a key file that does not exist", {"--key-file": os.path.join(tmp, "none")},
                  EXIT["bad_input"])
        with_args("http:// to a host that is not loopback", {"--kasm": "http://192.0.2.1:9"},
                  EXIT["bad_input"])
        other_ca = os.path.join(tmp, "other-ca")
        import standin
        with_args("TLS: a certificate the given CA did not sign",
                  {"--cacert": standin.make_ca(other_ca, "another CA")}, EXIT["kasm"])
        with_args("a wrong key secret: the API's 403",
                  {"--key-file": _bad_secret(kasm, tmp)}, EXIT["kasm"], reach=True)
        sock = __import__("socket").socket()
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
        sock.close()
        with_args("Kasm unreachable (nothing listens)", {"--kasm": f"https://127.0.0.1:{closed}"},
                  EXIT["kasm"])
        res = subprocess.run(base.argv("plan", "--at", "yesterday"), capture_output=True,
                             text=True, timeout=60)
        check("--at that is not RFC 3339: exit 1", res.returncode == EXIT["bad_input"],
              describe(res))
        res = subprocess.run([orch.ORCHESTRATOR, "plan", os.path.join(tmp, "missing.yaml"),
                              *base.common], capture_output=True, text=True, timeout=60)
        check("a policy that does not exist: exit 1, naming it",
              res.returncode == EXIT["bad_input"] and "missing.yaml" in res.stderr, describe(res))


def _bad_secret(kasm, tmp):
    path = os.path.join(tmp, "k-bad")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{kasm.api_key}:{'0' * len(kasm.api_secret)}\n")
    return path


# --- a generated organisation -------------------------------------------------------------

ORG_USERS = 2000
YEAR_FROM, YEAR_TO = "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"


def org_policy(path, rng):
    """The example policy plus a month-end close folder per month for auditors (open ten
    days) and six engagements, each a deal room read-only to its contractors for a window."""
    with open(EXAMPLE_POLICY, encoding="utf-8") as f:
        text = f.read().rstrip("\n") + "\n"
    for month in range(1, 13):
        nxt = f"{2027 + month // 12}-{month % 12 + 1:02d}"
        text += f"""
  - name: close-2027-{month:02d}
    path: /shared/close/2027-{month:02d}
    access:
      - groups: [auditors]
        mode: rw
        not_before: {nxt}-01T00:00:00Z
        not_after: {nxt}-11T00:00:00Z
      - groups: [executive]
        mode: ro
"""
    for k in range(1, 7):
        start = rng.randrange(1, 300)
        begin = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(1798761600 + start * 86400))
        end = time.strftime("%Y-%m-%dT00:00:00Z",
                            time.gmtime(1798761600 + (start + rng.randrange(20, 60)) * 86400))
        text += f"""
  - name: engagement-{k}
    path: /shared/engagements/{k}
    access:
      - groups: [engagement-{k}]
        mode: ro
        not_before: {begin}
        not_after: {end}
      - groups: [legal]
        mode: rw
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def org_users(path, rng, n):
    weights = [("engineering", .3), ("project-alpha", .1), ("hr", .03), ("auditors", .05),
               ("region-emea", .3), ("legal", .05), ("executive", .03), ("editors", .05),
               ("interns", .03)]
    lines = ["users:"]
    for i in range(n):
        if rng.random() < 0.08:
            groups = ["contractors", f"engagement-{rng.randrange(1, 7)}"]
            groups += ["engineering"] if rng.random() < 0.3 else []
        else:
            groups = ["all-employees"] + [g for g, p in weights if rng.random() < p]
        lines += [f"  - name: user{i:04d}", f'    id: "{10000 + i}"',
                  f"    groups: [{', '.join(groups)}]"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def case_org(tmp):
    rng = random.Random(2000)
    policy = org_policy(os.path.join(tmp, "org.yaml"), rng)
    users_file = org_users(os.path.join(tmp, "org-users.yaml"), rng, ORG_USERS)
    schedule = json.loads(orch.vault_policy("schedule", policy, "--users", users_file, "--from",
                                            YEAR_FROM, "--to", YEAR_TO, "--json"))
    instants = [i["at"] for i in schedule["instants"]]
    n_classes = len(schedule["classes"])
    log(f"org: {ORG_USERS} users, {n_classes} classes over the year, {len(instants)} instants")
    with StandIn(os.path.join(tmp, "kasm")) as kasm:
        orch.seed(kasm, users_file)
        o = orch.Orchestrator(kasm, os.path.join(tmp, "o"), policy, users_file)
        t = time.monotonic()
        rc, plan, res = o.plan(at=YEAR_FROM)
        plan_s = time.monotonic() - t
        check("org: plan from empty exit 2, no drift (every user is in Kasm, no foreign "
              "mapping)", rc == EXIT["pending"] and plan is not None and not plan.get("drift"),
              describe(res) if plan is None else json.dumps(plan.get("drift"))[:1500])
        kasm.reset_counters()
        t = time.monotonic()
        res = o.apply(at=YEAR_FROM)
        apply_s = time.monotonic() - t
        check("org: apply from empty exit 0", res.returncode == 0, describe(res))
        wrote = orch.written(kasm)
        log(f"org: apply from empty: {sum(wrote.values())} write calls {wrote} "
            f"(plan {plan_s:.1f} s, apply {apply_s:.1f} s, "
            f"{sum(kasm.counters()['calls'].values())} calls)")
        if plan is not None:
            counts_match(plan, wrote, "org: apply from empty")
        in_sync(kasm, policy, users_file, YEAR_FROM, "org: apply from empty")
        total, changes = {}, 0
        by_at = {i["at"]: i for i in schedule["instants"]}
        t = time.monotonic()
        for n, at in enumerate(instants):
            rc, plan, res = o.plan(at=at)
            mark = len(kasm.counters()["log"])
            res = o.apply(at=at)
            wrote = orch.written(kasm, since=mark)
            moved = len(by_at[at]["changes"])
            changes += moved
            ok = res.returncode == 0 and plan is not None
            if ok:
                try:
                    ok = orch.plan_counts(plan) == wrote
                except ValueError:
                    ok = False
            memberships = (wrote.get("add_user_group", 0), wrote.get("remove_user_group", 0))
            ok = ok and memberships == (moved, moved) and not wrote.get("destroy_kasm")
            if not check(f"org: {at}: {moved} class changes, write calls as planned {wrote}", ok,
                         describe(res) + f"\nplan: {json.dumps(plan)[:600] if plan else None}"):
                break
            for k, v in wrote.items():
                total[k] = total.get(k, 0) + v
            if n % 8 == 7 or n == len(instants) - 1:
                in_sync(kasm, policy, users_file, at, f"org: at {at}")
        log(f"org: the year replayed: {len(instants)} instants, {changes} class changes, "
            f"{sum(total.values())} write calls {total} ({time.monotonic() - t:.1f} s)")


CASES = {"example": case_example, "window": case_window, "drift": case_drift,
         "faults": case_faults, "security": case_security, "org": case_org}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(f"usage: orchestrator_test.py {'|'.join(CASES)}")
        return 1
    orch.require_orchestrator(f"orchestrator {sys.argv[1]}")
    with tempfile.TemporaryDirectory(prefix=f"orch-{sys.argv[1]}.") as tmp:
        os.chmod(tmp, 0o755)
        CASES[sys.argv[1]](tmp)
    print(f"orchestrator {sys.argv[1]}: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
