#!/usr/bin/env python3
"""The demo session behind demo/session: one user of the example organisation logs into the
vaultshim Kasm image (simulated by vault-session), vault-first-launch prepares the vault, and a
Node program acting as Obsidian creates notes and moves them across the bind mounts.
Prints a short readable summary; exit status 0 only if every step did what it should.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import examples  # demo/kasm-sim/, on PYTHONPATH (demo/session sets it)

SIMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kasm-sim")


def pick_folders(folders, personal="personal"):
    """A shared read-write folder to move into, and a read-only one (the wiki if granted)."""
    shared = next((f["name"] for f in folders if f["mode"] == "rw" and f["name"] != personal), None)
    readonly = sorted((f["name"] != "wiki", f["name"]) for f in folders if f["mode"] == "ro")
    return shared, readonly[0][1] if readonly else None


def leftovers(before_mounts, before_tmp):
    """Mounts and temporary directories the session left behind (there should be none)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        mounts = [m for m in f.read().splitlines() if m not in before_mounts]
    tmp = [d for d in os.listdir(tempfile.gettempdir())
           if d.startswith("vault-session.") and d not in before_tmp]
    return mounts + tmp


def indent(text, prefix="    "):
    return "".join(prefix + line + "\n" for line in text.splitlines() if line.strip())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", required=True)
    p.add_argument("--user", default="alice", help="a user of docker/examples/users.yaml")
    p.add_argument("--now", default=examples.EXAMPLE_NOW)
    args = p.parse_args()
    user = examples.user(args.user)
    session = os.path.join(SIMULATOR, "vault-session")
    base = [session, "--build", args.build, "--policy", examples.POLICY, "--user", user["name"],
            "--uid", user["id"], "--groups", ",".join(user["groups"]), "--now", args.now]

    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        before_mounts = set(f.read().splitlines())
    before_tmp = set(os.listdir(tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(prefix="vaultshim-demo.") as tmp:
        # First learn the folders (resolve only, no command), then run the session proper
        # with a shared rw folder and a read-only one to move into.
        probe = os.path.join(tmp, "probe.json")
        res = subprocess.run(base + ["--hooks", "", "--report", probe], capture_output=True, text=True)
        if res.returncode != 0:
            sys.stderr.write(res.stderr)
            return res.returncode
        with open(probe, encoding="utf-8") as f:
            folders = json.load(f)["folders"]
        shared, readonly = pick_folders(folders)
        sim = ["node", "/run/vault-session/tools/obsidian-sim.js"]
        if shared:
            sim += ["--shared", shared]
        if readonly:
            sim += ["--readonly", readonly]
        report_path = os.path.join(tmp, "session.json")
        res = subprocess.run(base + ["--hooks", "first_launch", "--report", report_path, "--"] + sim,
                             capture_output=True, text=True)
        try:
            with open(report_path, encoding="utf-8") as f:
                report = json.load(f)
        except (OSError, ValueError):
            sys.stderr.write(res.stdout + res.stderr)
            return res.returncode or 1
    sim_report = None
    for line in res.stdout.splitlines():
        if line.startswith("{"):
            sim_report = json.loads(line)
    return summarize(user, args.now, report, sim_report, res, leftovers(before_mounts, before_tmp))


def summarize(user, now, report, sim, res, left):
    ok = True
    out = [f"vaultshim demo: one Kasm session for {user['name']} "
           f"(groups {', '.join(user['groups'])}) at {now}", ""]
    out.append("1. vault-policy resolve docker/examples/vault-permissions.yaml decides the mounts:")
    for f in report["folders"]:
        out.append(f"     {f['target']:<34} {f['mode']}  <- host {f['source']}")
    out.append("")
    out.append("2. The container (bwrap): exactly those bind mounts, the image's ENV "
               "(LD_PRELOAD, UV_USE_IO_URING=0), uid 1000.")
    for h in report["hooks"]:
        status = "ok" if h["status"] == 0 else f"FAILED (exit {h['status']})"
        ok &= h["status"] == 0
        out.append(f"3. Kasm exec hook {h['hook']} (vault-first-launch): {status}")
        out.append(indent(h["stdout"] + h["stderr"], "     | ").rstrip("\n"))
    if sim is None:
        out.append("4. Obsidian stand-in produced no report:")
        out.append(indent(res.stdout + res.stderr, "     | ").rstrip("\n"))
        print("\n".join(out))
        return 1
    out.append("4. A Node program acting as Obsidian (fs.promises.rename, as Obsidian moves files):")
    where = sim["notes_folder"]
    out.append(f"     new notes go to /vault/{where} (from .obsidian/app.json)"
               + ("  -- app.json folder missing, fell back to the vault root!" if sim["notes_fallback_to_root"] else ""))
    out.append(f"     created {', '.join(sim['created'])}")
    if "without_shim" in sim:
        out.append(f"     the same move without the shim (a stock image): {sim['without_shim']}")
    for s in sim["steps"]:
        mark = "ok  " if s["pass"] else "FAIL"
        got = "moved" if s["result"] == "ok" else s["result"]
        kept = ("content identical, source gone" if s["result"] == "ok"
                else "nothing lost, the source is untouched")
        out.append(f"     [{mark}] {s['what']}: {os.path.relpath(s['from'], '/vault')} -> "
                   f"{os.path.relpath(s['to'], '/vault')}: {got} ({kept if s['intact'] else 'DATA CHANGED'})")
    ok &= bool(sim["pass"]) and res.returncode == 0
    out.append("")
    out.append("5. On the host afterwards:")
    seeded = {f"{f['source']}/{f['name']}.md" for f in report["folders"]}
    for path, entry in sorted(report["host_after"].items()):
        hidden = any(part.startswith(".") for part in path.split("/"))
        if entry["type"] == "file" and not hidden and path not in seeded:
            out.append(f"     {path}  ({entry['size']} bytes)")
    out.append("")
    if left:
        ok = False
        out.append(f"Left behind: {left}")
    else:
        out.append("Nothing is left mounted (the namespaces are gone) and the temporary files are removed.")
    out.append("RESULT: " + ("every step behaved as promised" if ok else "SOMETHING WENT WRONG (see above)"))
    print("\n".join(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
