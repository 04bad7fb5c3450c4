#!/usr/bin/env python3
"""A whole Kasm session of the image, end to end, for three users of docker/examples.

For each case: vault-session resolves the example policy, builds the container with the bind
mounts, runs the exec config's first_launch, assign and go hooks (assign and go hand on to a
recording custom_startup.sh in place of Kasm's), then session_probe.py reports what the user
really has.  One case maps no manifest (Kasm-native Volume Mappings), so first launch discovers.
The expectations are written out here by hand from the policy's rules, so they check the policy
engine too: exactly these folders, in these modes, writes and moves into read-only folders fail
with EROFS and lose nothing, and the host sees every moved note at its policy path.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from vstest.image import BUILD_ROOT, SOURCE_ROOT, finish
import examples

SESSION = os.path.join(SOURCE_ROOT, "demo", "kasm-sim", "vault-session")
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "session_probe.py")

HOST_PATHS = {
    "deal-room-acme": "/shared/deals/acme",
    "deal-room-acme-resources": "/shared/deals/acme-resources",
    "engineering": "/shared/engineering",
    "project-alpha": "/shared/projects/alpha",
    "project-alpha-resources": "/shared/projects/alpha-resources",
    "wiki": "/shared/wiki",
}
CASES = [
    # legal AND executive: the deal room read-write, its resources derived read-only.
    ("alice", examples.EXAMPLE_NOW,
     {"deal-room-acme": "rw", "deal-room-acme-resources": "ro", "personal": "rw", "wiki": "ro"}),
    # contractor inside the engagement window; engineering write-denied to contractors.
    ("erin", "2026-12-15T00:00:00Z",
     {"deal-room-acme": "ro", "deal-room-acme-resources": "ro", "engineering": "ro",
      "personal": "rw"}),
    # the same contractor at not_after: the window is half-open, so the deal room is gone.
    ("erin", "2027-01-31T00:00:00Z", {"engineering": "ro", "personal": "rw"}),
    # Kasm-native Volume Mappings, no manifest in the container: first launch discovers.
    ("bob", "2026-12-15T00:00:00Z",
     {"engineering": "rw", "personal": "rw", "project-alpha": "rw",
      "project-alpha-resources": "ro", "wiki": "ro"}, "no-manifest"),
]
RECORDER = """#!/bin/sh
# Stands in for Kasm's /dockerstartup/custom_startup.sh: records how the hooks called it.
printf '%s\\n' "$@" >> "$HOME/custom_startup.args"
"""
SEED = "Seeded on the host before the session started.\n"


def check_case(name, now, expected, tmp, *flags):
    user = examples.user(name)
    report_path = os.path.join(tmp, f"{name}-{now}.json")
    cmd = [SESSION, "--build", BUILD_ROOT, "--policy", examples.POLICY, "--user", name,
           "--uid", user["id"], "--groups", ",".join(user["groups"]), "--now", now,
           "--hooks", "first_launch,assign,go", "--report", report_path,
           *(["--no-manifest"] if "no-manifest" in flags else []),
           "--file", f"/dockerstartup/custom_startup.sh={os.path.join(tmp, 'custom_startup.sh')}",
           "--file", f"/run/session_probe.py={PROBE}",
           "--", "python3", "/run/session_probe.py"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode == 77:
        return None
    label = f"{name} at {now}" + "".join(f" ({f})" for f in flags)
    problems = []
    if res.returncode != 0:
        return [f"{label}: session exit {res.returncode}\n{res.stdout}{res.stderr}"]
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    probe = json.loads(res.stdout.strip().splitlines()[-1])

    resolved = {f["name"]: f["mode"] for f in report["folders"]}
    if resolved != expected:
        problems.append(f"{label}: vault-policy resolved {resolved}, the policy grants {expected}")
    if probe["mounts"] != expected:
        problems.append(f"{label}: the container has {probe['mounts']}, expected {expected}")
    for h in report["hooks"]:
        if h["status"] != 0:
            problems.append(f"{label}: hook {h['hook']} exit {h['status']}: {h['stdout']}{h['stderr']}")
    if probe.get("custom_startup") != ["--assign", "--url", "", "--go", "--url", ""]:
        problems.append(f"{label}: assign and go called custom_startup.sh with {probe.get('custom_startup')}")
    if probe.get("rooms") != expected:
        problems.append(f"{label}: the sync rooms are {probe.get('rooms')}, expected {expected}")
    if not probe.get("app_json"):
        problems.append(f"{label}: first launch wrote no .obsidian/app.json")
    if probe["uid"] != 1000 or not probe["ld_preload"]:
        problems.append(f"{label}: session ran as uid {probe['uid']} with LD_PRELOAD={probe['ld_preload']}")

    for folder, mode in expected.items():
        want = "ok" if mode == "rw" else "EROFS"
        if probe["write"].get(folder) != want:
            problems.append(f"{label}: writing a note into {folder} ({mode}) gave {probe['write'].get(folder)}, expected {want}")
        if folder == "personal":
            continue
        if probe["move"].get(folder) != want:
            problems.append(f"{label}: moving a note into {folder} ({mode}) gave {probe['move'].get(folder)}, expected {want}")
        if probe["move"].get(folder + ":source_kept") != (mode == "ro"):
            problems.append(f"{label}: after the move into {folder}, source kept = {probe['move'].get(folder + ':source_kept')}")

    # The host's view: moved notes arrived at the policy's host path; read-only folders
    # hold exactly their seed note, unchanged.
    host = report["host_after"]
    personal = f"/users/{name}/personal"
    for folder, mode in expected.items():
        root = personal if folder == "personal" else HOST_PATHS[folder]
        seed = host.get(f"{root}/{folder}.md")
        if not seed or seed.get("sha256") != hashlib.sha256(f"# {folder}\n\n{SEED}".encode()).hexdigest():
            problems.append(f"{label}: seed note of {folder} changed on the host: {seed}")
        moved = host.get(f"{root}/to-{folder}.md")
        if folder != "personal" and mode == "rw" and not moved:
            problems.append(f"{label}: the note moved into {folder} is not on the host at {root}")
        if mode == "ro":
            extra = [p for p in host if p.startswith(root + "/") and p != f"{root}/{folder}.md"]
            if extra:
                problems.append(f"{label}: read-only {folder} gained {extra} on the host")
            if not host.get(f"{personal}/to-{folder}.md"):
                problems.append(f"{label}: the note refused by {folder} is no longer in personal")
    return problems


def main():
    if os.geteuid() != 0:
        print("session_test: needs root (mount namespaces)")
        return 77
    problems, ran = [], 0
    with tempfile.TemporaryDirectory(prefix="session-test.") as tmp:
        os.chmod(tmp, 0o755)
        recorder = os.path.join(tmp, "custom_startup.sh")
        with open(recorder, "w", encoding="utf-8") as f:
            f.write(RECORDER)
        os.chmod(recorder, 0o755)
        for name, now, expected, *flags in CASES:
            result = check_case(name, now, expected, tmp, *flags)
            if result is None:
                return 77
            ran += 1
            problems += result
            print(f"{name} at {now}{''.join(f' ({f})' for f in flags)}: {'ok' if not result else 'FAILED'}")
    return finish(problems, f"session: {ran} sessions")


if __name__ == "__main__":
    sys.exit(main())
