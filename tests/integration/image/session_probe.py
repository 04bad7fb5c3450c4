#!/usr/bin/env python3
"""Runs inside a simulated session (as uid 1000, shim preloaded) and reports, as JSON, what the
user really got: the mounts under /vault with their mode, and for every folder whether a new
note can be written and whether a note from the personal folder can be moved into it."""
import errno
import json
import os
import sys

VAULT = "/vault"


def vault_mounts():
    mounts = {}
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            target, options = fields[4], fields[5].split(",")
            if target.startswith(VAULT + "/"):
                mounts[target[len(VAULT) + 1:]] = "ro" if "ro" in options else "rw"
    return mounts


def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def main():
    personal = os.path.join(VAULT, sys.argv[1] if len(sys.argv) > 1 else "personal")
    report = {"mounts": vault_mounts(), "entries": sorted(os.listdir(VAULT)),
              "ld_preload": os.environ.get("LD_PRELOAD"), "uid": os.getuid(),
              "write": {}, "move": {}}
    for name in sorted(report["mounts"]):
        folder = os.path.join(VAULT, name)
        def write():
            with open(os.path.join(folder, "probe-write.md"), "x") as f:
                f.write("written in the session\n")
        report["write"][name] = attempt(write)
        if folder == personal:
            continue
        note = os.path.join(personal, f"to-{name}.md")
        with open(note, "w") as f:
            f.write(f"moved into {name}\n")
        report["move"][name] = attempt(lambda: os.rename(note, os.path.join(folder, f"to-{name}.md")))
        report["move"][name + ":source_kept"] = os.path.exists(note)
    startup = os.path.expanduser("~/custom_startup.args")
    if os.path.exists(startup):
        with open(startup, encoding="utf-8") as f:
            report["custom_startup"] = f.read().splitlines()
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    rooms = os.path.join(config, "vaultshim", "rooms.json")
    if os.path.exists(rooms):
        with open(rooms, encoding="utf-8") as f:
            report["rooms"] = {r["name"]: r["mode"] for r in json.load(f)["rooms"]}
    app = os.path.join(VAULT, ".obsidian", "app.json")
    report["app_json"] = json.load(open(app, encoding="utf-8")) if os.path.exists(app) else None
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
