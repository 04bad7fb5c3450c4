#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A reason for every move not emulated (issue 24, item 3): whenever the shim passes the
kernel's EXDEV through although both paths are under the roots, the caller gets EXDEV,
nothing changes, and VAULTSHIM_LOG gets exactly one line for the call with
"result":"not-emulated" and the reason (vaultshim(7), VAULTSHIM_LOG).  One case per reason.
A path outside the roots is not the vault's business: no line at all."""
import json
import os
import socket

import vstest
from vstest import durability as d

d.enter_namespace()
fails = d.Failures()
CALL = vstest.helper("vs-rename-call")


def bind_socket(path):
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()


def note(vault, rel, text="a note\n"):
    os.makedirs(os.path.dirname(vault.path(rel)), exist_ok=True)
    with open(vault.path(rel), "w") as f:
        f.write(text)


def deep_tree(vault, rel, levels):
    path = vault.path(rel)
    for _ in range(levels):
        path = os.path.join(path, "d")
    os.makedirs(path)
    with open(os.path.join(path, "n.md"), "w") as f:
        f.write("deep\n")


def journal_in(vault, folder):
    return vault.path(f"{folder}/.vaultshim-private")


# (what, set up the vault -> extra call arguments and environment, old, new, reason)
CASES = [
    ("a mount point as the source",
     lambda v: v.mount_tmpfs("a/mnt", "1m") and ([], {}), "a/mnt", "b/mnt", "mount-point"),
    ("a mount point inside a tree",
     lambda v: (note(v, "a/t/n.md"), v.mount_tmpfs("a/t/mnt", "1m")) and ([], {}),
     "a/t", "b/t", "mount-point"),
    ("a socket", lambda v: bind_socket(v.path("a/sock")) or ([], {}), "a/sock", "b/sock",
     "special-file"),
    ("a socket inside a tree",
     lambda v: (note(v, "a/s/n.md"), bind_socket(v.path("a/s/sock"))) and ([], {}),
     "a/s", "b/s", "special-file"),
    ("a tree deeper than the descriptor budget",
     lambda v: deep_tree(v, "a/deep", 120) or (["--nofile", "64"], {}), "a/deep", "b/deep",
     "too-deep"),
    ("RENAME_EXCHANGE", lambda v: (note(v, "a/x.md"), note(v, "b/y.md")) and
     ([], {"flags": "exchange"}), "a/x.md", "b/y.md", "flags"),
    ("no journal configured",
     lambda v: note(v, "a/n.md") or ([], {"VAULTSHIM_JOURNAL": "", "XDG_STATE_HOME": "",
                                          "HOME": ""}),
     "a/n.md", "b/n.md", "no-journal"),
    ("a journal writable by others",
     lambda v: (note(v, "a/n.md"), os.makedirs(os.path.join(v.dir, "open"), mode=0o777),
                os.chmod(os.path.join(v.dir, "open"), 0o777)) and
     ([], {"VAULTSHIM_JOURNAL": os.path.join(v.dir, "open")}),
     "a/n.md", "b/n.md", "journal-unusable"),
    ("a journal in the vault with no VAULTSHIM_PERSONAL",
     lambda v: note(v, "a/n.md") or ([], {"VAULTSHIM_JOURNAL": journal_in(v, "personal")}),
     "a/n.md", "b/n.md", "journal-personal-unknown"),
    ("a journal in a vault folder other than the personal one",
     lambda v: note(v, "a/n.md") or ([], {"VAULTSHIM_JOURNAL": journal_in(v, "b"),
                                          "VAULTSHIM_PERSONAL": v.path("personal")}),
     "a/n.md", "b/n.md", "journal-outside-personal"),
    ("a journal on a folder mounted inside the personal one",
     lambda v: (note(v, "a/n.md"), v.mount_tmpfs("personal/team", "1m")) and
     ([], {"VAULTSHIM_JOURNAL": journal_in(v, "personal/team"),
           "VAULTSHIM_PERSONAL": v.path("personal")}),
     "a/n.md", "b/n.md", "journal-on-other-mount"),
]


def log_lines(log):
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [json.loads(line) for line in f]


def call(vault, old, new, args, env, log):
    flags = env.pop("flags", "0")
    argv = [CALL] + args + ["renameat2", vault.path(old), vault.path(new), flags]
    r = d.sh(*argv, check=False, env=d.shim_env(vault, VAULTSHIM_LOG=log, **env))
    return r.stdout.strip()


for what, setup, old, new, reason in CASES:
    with d.Vault(("a", "b", "personal")) as vault:
        log = os.path.join(vault.dir, "moves.jsonl")
        args, env = setup(vault)
        before = d.snapshot(vault.root)
        out = call(vault, old, new, args, dict(env), log)
        fails.check(out.startswith("ret=-1 errno=EXDEV"), f"{what}: {out}")
        fails.check(d.snapshot(vault.root) == before, f"{what}: the vault changed")
        lines = log_lines(log)
        want = {"result": "not-emulated", "errno": 18, "reason": reason,
                "src": vault.path(old), "dst": vault.path(new)}
        got = [{k: line.get(k) for k in want} for line in lines]
        fails.check(got == [want], f"{what}: log {lines}, want one line like {want}")
        print(f"{what}: {out}; logged {[line.get('reason') for line in lines]}", flush=True)

# Outside the roots: the kernel's answer, and not a word in the vault's log.
with d.Vault(("a", "b")) as vault:
    log = os.path.join(vault.dir, "moves.jsonl")
    note(vault, "a/n.md")
    env = d.shim_env(vault, VAULTSHIM_LOG=log, VAULTSHIM_ROOTS=os.path.join(vault.dir, "none"))
    out = d.sh(CALL, "rename", vault.path("a/n.md"), vault.path("b/n.md"), check=False,
               env=env).stdout.strip()
    fails.check(out.startswith("ret=-1 errno=EXDEV"), f"outside the roots: {out}")
    fails.check(not log_lines(log), f"outside the roots: logged {log_lines(log)}")

fails.finish("every move not emulated under the roots is logged with its reason")
