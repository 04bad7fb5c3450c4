#!/usr/bin/env python3
"""The stand-in Kasm checked on its own, through HTTPS as a client sees it: the certificate
verifies with the run's CA and only with it, the key pair is checked, every call of
doc/kasm-api.md answers in its documented shape, `volume_mapping` values are validated,
Kasm's launch-time merge (priority order, first host path wins, tokens, Docker's duplicate
mount point), every fault kind, the write counter, and `standin.py serve`/`ctl` from a shell.
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import standin  # noqa: E402
from standin import StandIn  # noqa: E402

problems = []


def check(what, ok, detail=""):
    print(f"{'ok' if ok else 'FAILED'}: {what}" + (f" ({detail})" if detail and not ok else ""))
    if not ok:
        problems.append(what)


def raw(kasm, call, body, timeout=10):
    """A call that may fail at the transport: (status, reply) or ("error", exception)."""
    try:
        return standin.post_json(f"{kasm.url}/api/public/{call}",
                                 dict(body, api_key=kasm.api_key, api_key_secret=kasm.api_secret),
                                 cafile=kasm.cacert, timeout=timeout)
    except (urllib.error.URLError, OSError, ssl.SSLError, ValueError) as e:
        return "error", e


def vm(mapping):
    return json.dumps(mapping)


def tls_and_keys(kasm):
    status, reply = kasm.api("get_groups")
    names = {g["name"]: g for g in reply["groups"]}
    check("TLS with the run's CA; Kasm's system groups are there, is_system",
          status == 200 and names["All Users"]["is_system"]
          and names["Administrators"]["is_system"])
    try:
        standin.post_json(f"{kasm.url}/api/public/get_groups", {}, cafile=None)
        check("the system's CAs do not verify the stand-in's certificate", False)
    except urllib.error.URLError as e:
        check("the system's CAs do not verify the stand-in's certificate",
              isinstance(e.reason, ssl.SSLCertVerificationError), repr(e))
    ctx = ssl.create_default_context(cafile=kasm.cacert)
    with socket.create_connection(("127.0.0.1", kasm.port)) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            check("the certificate names localhost too", t.version() is not None)
    status, reply = standin.post_json(f"{kasm.url}/api/public/get_users",
                                      {"api_key": kasm.api_key, "api_key_secret": "x"},
                                      cafile=kasm.cacert)
    check("a wrong secret: 403 with error_message", status == 403 and "error_message" in reply)
    mode = os.stat(kasm.key_file).st_mode & 0o777
    with open(kasm.key_file, encoding="utf-8") as f:
        line = f.read()
    check("the key file: one line API_KEY:API_KEY_SECRET, mode 0600",
          mode == 0o600 and line == f"{kasm.api_key}:{kasm.api_secret}\n")


def calls(kasm):
    kasm.seed_users([{"username": "alice", "groups": ["legal", "executive"]},
                     {"username": "bob", "groups": ["engineering"]}])
    status, reply = kasm.api("get_users")
    alice = next(u for u in reply["users"] if u["username"] == "alice")
    check("get_users: users with their groups (All Users and SSO's)",
          sorted(g["name"] for g in alice["groups"]) == ["All Users", "executive", "legal"]
          and len(alice["user_id"]) == 32)
    _, reply = kasm.api("create_group", target_group={"name": "vault-a", "priority": 10,
                                                      "description": "class a"})
    group = reply["group"]
    check("create_group: GROUP", set(group) == {"group_id", "name", "priority", "description",
                                                "is_system"} and not group["is_system"])
    _, reply = kasm.api("create_group", target_group={"name": "vault-a", "priority": 10})
    check("create_group: a name that exists is an error", "error_message" in reply)
    gid = {"group_id": group["group_id"]}
    _, reply = kasm.api("update_group", target_group=dict(gid, name="vault-a", priority=11,
                                                          description="class a"))
    check("update_group", reply.get("group", {}).get("priority") == 11)
    system = next(g for g in kasm.api("get_groups")[1]["groups"] if g["name"] == "All Users")
    for call, body in (("update_group", {"target_group": dict(system, priority=1)}),
                       ("delete_group", {"target_group": {"group_id": system["group_id"]}}),
                       ("add_user_group", {"target_user": {"user_id": alice["user_id"]},
                                           "target_group": {"group_id": system["group_id"]}})):
        check(f"{call} on All Users is refused", "error_message" in kasm.api(call, **body)[1])

    good = {"/shared/wiki": {"bind": "/vault/wiki", "mode": "ro", "uid": 1000, "gid": 1000,
                             "required": True, "skip_check": True}}
    for label, value in (("not JSON", "{"), ("not an object", "[]"),
                         ("an entry not an object", vm({"/a": 1})),
                         ("a relative host path", vm({"a": {"bind": "/vault/a"}})),
                         ("a relative bind", vm({"/a": {"bind": "vault/a"}})),
                         ("mode rwx", vm({"/a": {"bind": "/vault/a", "mode": "rwx"}})),
                         ("uid a string", vm({"/a": {"bind": "/vault/a", "uid": "1000"}})),
                         ("the object, not its text", good)):
        _, reply = kasm.api("add_settings_group", target_group=gid,
                            target_setting={"name": "volume_mapping", "value": value})
        check(f"volume_mapping {label}: error_message", "error_message" in reply, reply)
    _, reply = kasm.api("add_settings_group", target_group=gid,
                        target_setting={"name": "volume_mapping", "value": vm(good)})
    setting = reply.get("setting", {})
    check("add_settings_group: SETTING", setting.get("name") == "volume_mapping"
          and setting.get("value_type") == "json"
          and len(setting.get("group_setting_id", "")) == 32)
    _, reply = kasm.api("add_settings_group", target_group=gid,
                        target_setting={"name": "volume_mapping", "value": vm(good)})
    check("add_settings_group: a second volume_mapping is an error", "error_message" in reply)
    sid = {"group_setting_id": setting["group_setting_id"]}
    _, reply = kasm.api("update_settings_group", target_group=gid,
                        target_setting=dict(sid, value=vm({"/x": {"bind": "/vault/x"}})))
    check("update_settings_group",
          reply.get("setting", {}).get("value") == vm({"/x": {"bind": "/vault/x"}}))
    _, reply = kasm.api("update_settings_group", target_group=gid,
                        target_setting=dict(sid, value=vm({"/x": {"bind": "x"}})))
    check("update_settings_group validates too", "error_message" in reply)
    _, reply = kasm.api("get_settings_group", target_group=gid)
    check("get_settings_group",
          [s["group_setting_id"] for s in reply["settings"]] == [sid["group_setting_id"]])
    _, reply = kasm.api("remove_settings_group", target_group=gid, target_setting=sid)
    check("remove_settings_group", reply == {}
          and kasm.api("get_settings_group", target_group=gid)[1]["settings"] == [])

    uid = {"user_id": alice["user_id"]}
    check("add_user_group", kasm.api("add_user_group", target_user=uid, target_group=gid)[1] == {})
    check("add_user_group twice is an error",
          "error_message" in kasm.api("add_user_group", target_user=uid, target_group=gid)[1])
    _, reply = kasm.api("get_users_group", target_group=gid)
    check("get_users_group", reply["users"] == [{"user_id": alice["user_id"], "username": "alice"}])
    check("remove_user_group",
          kasm.api("remove_user_group", target_user=uid, target_group=gid)[1] == {})
    check("remove_user_group of a non-member is an error",
          "error_message" in kasm.api("remove_user_group", target_user=uid, target_group=gid)[1])
    check("delete_group", kasm.api("delete_group", target_group=gid)[1] == {}
          and "error_message" in kasm.api("get_users_group", target_group=gid)[1])
    status, reply = kasm.api("no_such_call")
    check("an unknown call: 404 with error_message", status == 404 and "error_message" in reply)

    kasm_rec = kasm.request_kasm("bob")
    _, reply = kasm.api("get_kasms")
    check("get_kasms: KASM records and current_time",
          [k["kasm_id"] for k in reply["kasms"]] == [kasm_rec["kasm_id"]] and reply["current_time"]
          and reply["kasms"][0]["operational_status"] == "running")
    _, reply = kasm.api("get_user", target_user={"user_id": kasm_rec["user_id"]})
    check("get_user: the user's kasms",
          [k["kasm_id"] for k in reply["user"]["kasms"]] == [kasm_rec["kasm_id"]])
    _, reply = kasm.api("destroy_kasm", kasm_id=kasm_rec["kasm_id"], user_id=alice["user_id"])
    check("destroy_kasm with another user's id is an error", "error_message" in reply)
    _, reply = kasm.api("destroy_kasm", kasm_id=kasm_rec["kasm_id"], user_id=kasm_rec["user_id"])
    check("destroy_kasm", reply == {} and kasm.api("get_kasms")[1]["kasms"] == []
          and [d["kasm_id"] for d in kasm.destroyed] == [kasm_rec["kasm_id"]])


def merge(kasm):
    """Workspace run config volumes, groups by priority, workspace Volume Mappings: first host
    path wins; tokens substituted."""
    kasm.seed_users([{"username": "carol", "groups": []}])
    carol = kasm.kasm.user_by_name("carol")
    kasm.kasm.workspace.update(run_config_volumes={"/ws/rc": {"bind": "/rc", "mode": "rw"}},
                               volume_mappings={"/users/{username}/p": {"bind": "/late",
                                                                        "mode": "rw"},
                                                "/ws/vm": {"bind": "/vm", "mode": "ro"}})
    for name, priority, mapping in (
            ("low", 200, {"/users/{username}/p": {"bind": "/vault/low", "mode": "ro"},
                          "/shared/low": {"bind": "/vault/only-low", "mode": "ro"}}),
            ("high", 5, {"/users/{username}/p": {"bind": "/vault/personal", "mode": "rw"},
                         "/ids/{user_id}/{image_id}": {"bind": "/vault/ids", "mode": "ro"}})):
        g = kasm.api("create_group", target_group={"name": name, "priority": priority})[1]["group"]
        kasm.api("add_settings_group", target_group={"group_id": g["group_id"]},
                 target_setting={"name": "volume_mapping", "value": vm(mapping)})
        kasm.api("add_user_group", target_user={"user_id": carol["user_id"]},
                 target_group={"group_id": g["group_id"]})
    rec = kasm.request_kasm("carol")
    got = {h: (m["bind"], m["mode"]) for h, m in rec["_volume_mappings"].items()}
    image = kasm.kasm.workspace["image_id"]
    want = {"/ws/rc": ("/rc", "rw"), "/users/carol/p": ("/vault/personal", "rw"),
            f"/ids/{carol['user_id']}/{image}": ("/vault/ids", "ro"),
            "/shared/low": ("/vault/only-low", "ro"), "/ws/vm": ("/vm", "ro")}
    check("merge: run config, groups by priority, workspace; first host path wins",
          got == want, got)
    check("merge: KASM_USER with All Users' expose_user_environment_vars",
          rec["_environment"].get("KASM_USER") == "carol")
    kasm.kasm.workspace.update(volume_mappings={"/other": {"bind": "/vault/personal"}})
    try:
        kasm.request_kasm("carol")
        check("two host paths on one container path: the launch is refused", False)
    except standin.KasmError as e:
        check("two host paths on one container path: the launch is refused",
              "Duplicate mount point" in e.message, e.message)
    kasm.kasm.workspace.update(run_config_volumes={}, volume_mappings={})


def faults(kasm):
    body = {"target_group": {"name": "vault-f", "priority": 9}}
    kasm.reset_counters()
    kasm.fault(call="create_group", kind="503", nth=1)
    status, _ = raw(kasm, "create_group", body)
    check("503: answered, not applied", status == 503 and kasm.counters()["writes"] == 0)
    kasm.fault(call="create_group", kind="429", nth=1)
    status, _ = raw(kasm, "create_group", body)
    check("429: answered, not applied", status == 429 and kasm.counters()["writes"] == 0)
    kasm.fault(call="create_group", kind="drop", nth=1)
    status, err = raw(kasm, "create_group", body)
    check("drop: no answer, not applied", status == "error" and kasm.counters()["writes"] == 0, err)
    kasm.fault(call="create_group", kind="timeout", nth=1, seconds=5)
    status, err = raw(kasm, "create_group", body, timeout=1)
    timed_out = isinstance(getattr(err, "reason", err), TimeoutError)
    check("timeout: the client's own timeout fires (no answer), not applied",
          status == "error" and timed_out and kasm.counters()["writes"] == 0, repr(err))
    kasm.fault(call="create_group", kind="drop_after", nth=1)
    status, err = raw(kasm, "create_group", body)
    names = [g["name"] for g in kasm.api("get_groups")[1]["groups"]]
    check("drop_after: no answer, but applied", status == "error" and "vault-f" in names
          and kasm.counters()["writes"] == 1, err)
    kasm.fault(call="*", kind="refuse", nth=1, seconds=2)
    status, err = raw(kasm, "get_groups", {})
    refused = raw(kasm, "get_groups", {})
    time.sleep(2.5)
    back = raw(kasm, "get_groups", {})
    check("refuse: connections refused, then served again on the same port",
          status == "error" and refused[0] == "error"
          and isinstance(refused[1].reason, ConnectionRefusedError) and back[0] == 200,
          f"{err!r} {refused!r} {back[0]!r}")
    kasm.clear_faults()
    kasm.fault(call="get_groups", kind="500", nth=3, times=2)
    got = [raw(kasm, "get_groups", {})[0] for _ in range(5)]
    check("nth=3 times=2: the 3rd and 4th calls fail", got == [200, 200, 500, 500, 200], got)

    def pattern(seed):
        kasm.clear_faults()
        kasm.fault(call="get_groups", kind="502", rate=0.5, seed=seed, times=0)
        return [raw(kasm, "get_groups", {})[0] for _ in range(12)]
    a, b = pattern(7), pattern(7)
    check("rate with a seed: the same calls fail again", a == b and 502 in a and 200 in a, a)
    kasm.clear_faults()
    c = kasm.counters()
    check("counters: calls per name, writes applied, faults",
          c["calls"]["create_group"] == 5 and c["writes"] == 1 and c["faults"] >= 8, c)


def cli(tmp):
    d = os.path.join(tmp, "cli")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "standin.py"), "serve", d],
                            stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        run = lambda *a: subprocess.run([sys.executable, os.path.join(HERE, "standin.py"), "ctl",
                                         d, *a], capture_output=True, text=True)
        r = run("seed_users", json.dumps({"users": [{"username": "dave", "groups": ["x"]}]}))
        state = json.loads(run("state").stdout)
        key, secret = open(info["key_file"]).read().strip().split(":")
        status, reply = standin.post_json(f"{info['url']}/api/public/get_users",
                                          {"api_key": key, "api_key_secret": secret},
                                          cafile=info["cacert"])
        check("standin.py serve DIR / ctl DIR OP JSON",
              r.returncode == 0 and [u["username"] for u in state["users"]] == ["dave"]
              and status == 200 and reply["users"][0]["username"] == "dave")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    with tempfile.TemporaryDirectory(prefix="kasm-standin.") as tmp:
        with StandIn(os.path.join(tmp, "kasm")) as kasm:
            tls_and_keys(kasm)
            calls(kasm)
            merge(kasm)
            faults(kasm)
        cli(tmp)
    print(f"stand-in Kasm: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
