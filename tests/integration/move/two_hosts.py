#!/usr/bin/env python3
"""Two "hosts" on one share: a multi-server Kasm mounts one network folder into sessions on
different machines.  Here each host is a mount namespace of its own with its own sshfs mount
of one export (served by a private sshd on 127.0.0.1) and its own personal folder; with the
shim preloaded, both move notes at once:
  - host A moves its a-notes into the share and host B its b-notes;
  - both move every s-note (already in the share) out to their personal folder: each s-note
    is contended by the two hosts, whose locks (flock, local to each kernel on sshfs) never
    meet;
  - both move the same c-note names into the share with RENAME_NOREPLACE (GNU mv's call):
    one host's note wins each name, the other gets EEXIST and keeps its note.
Afterwards every note must exist exactly once, complete, and nothing of the shim's may be
left in the share or the personal folders.  Exits 1 on any loss or duplicate, 77 when not
root.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import time

import vstest
from vstest import storage

NOTES = 40          # per kind
ROUNDS = 3

# Runs with the shim preloaded: one rename-family call per input line, one result line each.
MOVER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)  # renameat2 resolves to the preloaded wrapper
for line in sys.stdin:
    call, old, new, flags = line.split()
    if call == "rename":
        ret = libc.rename(old.encode(), new.encode())
    else:
        ret = libc.renameat2(-100, old.encode(), -100, new.encode(), int(flags))
    err = ctypes.get_errno() if ret else 0
    print(f"ret={ret} errno={err} {old}", flush=True)
"""

# Runs inside one host's mount namespace (unshare -m): mount the share, move, unmount.
HOST = r"""
import os, subprocess, sys, time
host, share_argv, root, start_at = sys.argv[1], sys.argv[2].split("\x1f"), sys.argv[3], float(sys.argv[4])
shared, personal = os.path.join(root, "shared"), os.path.join(root, "personal")
subprocess.run(["mount", "--make-rprivate", "/"], check=True)
subprocess.run(share_argv + [shared], check=True)
try:
    lines = []
    for i in range(int(os.environ["VS_NOTES"])):
        lines.append(f"rename {personal}/{host}{i:03d}.md {shared}/{host}{i:03d}.md 0")
        lines.append(f"rename {shared}/s{i:03d}.md {personal}/s{i:03d}.md 0")
        lines.append(f"renameat2 {personal}/c{i:03d}.md {shared}/c{i:03d}.md 1")
    # The host's private journal beside its vault, not in it (vaultshim(7): a journal in
    # the vault must be in the personal folder's own mount).
    env = dict(os.environ, LD_PRELOAD=os.environ["VS_SHIM"], VAULTSHIM_ROOTS=root,
               VAULTSHIM_JOURNAL=root + ".journal")
    while time.time() < start_at:
        time.sleep(0.001)
    out = subprocess.run([sys.executable, "-c", os.environ["VS_MOVER"]], env=env, text=True,
                         input="\n".join(lines) + "\n", stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
finally:
    subprocess.run(["umount", shared])
"""


def content(name, host=""):
    return hashlib.sha256(f"{name}{host}".encode()).hexdigest().encode() * 64


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def one_round(scratch, sshd, export, shim):
    """Returns a list of problems."""
    for name in os.listdir(export):
        subprocess.run(["rm", "-rf", os.path.join(export, name)], check=True)
    hosts = {}
    for host in ("a", "b"):
        root = os.path.join(scratch.dir, f"host-{host}")
        subprocess.run(["rm", "-rf", root], check=True)
        os.makedirs(os.path.join(root, "personal"))
        os.makedirs(os.path.join(root, "shared"))
        hosts[host] = root
        for i in range(NOTES):
            write(os.path.join(root, "personal", f"{host}{i:03d}.md"), content(f"{host}{i:03d}"))
            write(os.path.join(root, "personal", f"c{i:03d}.md"), content(f"c{i:03d}", host))
    for i in range(NOTES):
        write(os.path.join(export, f"s{i:03d}.md"), content(f"s{i:03d}"))

    start_at = time.time() + 1.5
    procs = {}
    for host, root in hosts.items():
        share_argv = sshd.sshfs_argv(export, "")[:-1]
        env = dict(os.environ, VS_SHIM=shim, VS_MOVER=MOVER, VS_NOTES=str(NOTES))
        procs[host] = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", sys.executable, "-c",
             HOST, host, "\x1f".join(share_argv), root, str(start_at)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {host: p.communicate(timeout=600) for host, p in procs.items()}

    problems = []
    for host, (out, err) in results.items():
        if procs[host].returncode != 0 or err.strip():
            problems.append(f"host {host}: exit {procs[host].returncode}: {err.strip()[-500:]}")
    outcomes = {host: out.split("\n") for host, (out, _) in results.items()}

    # Where every note is now: the share (read from the export itself) and both personals.
    places = {"share": export, "a": os.path.join(hosts["a"], "personal"),
              "b": os.path.join(hosts["b"], "personal")}
    found = {}
    for place, directory in places.items():
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if name.startswith(".vaultshim") or not name.endswith(".md"):
                problems.append(f"left behind in {place}: {name}")
                continue
            with open(path, "rb") as f:
                found.setdefault(name, []).append((place, f.read()))
    for kind in ("a", "b", "s", "c"):
        for i in range(NOTES):
            name = f"{kind}{i:03d}.md"
            copies = found.get(name, [])
            if kind == "c":
                # one host's note won the name in the share, the other's stayed home
                wants = {content(name[:-3], "a"), content(name[:-3], "b")}
                got = {data for _, data in copies}
                if len(copies) != 2 or got != wants:
                    problems.append(f"{name}: expected both hosts' notes once each, found "
                                    f"{[(p, hashlib.sha256(d).hexdigest()[:8]) for p, d in copies]}")
                continue
            if len(copies) != 1:
                problems.append(f"{name}: {len(copies)} copies ({[p for p, _ in copies]})")
            elif copies[0][1] != content(name[:-3]):
                problems.append(f"{name}: content differs in {copies[0][0]}")
    wins = {host: sum(1 for line in lines if line.startswith("ret=0")) for host, lines in
            outcomes.items()}
    return problems, wins


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    shim = storage.start("the two-host test", "sshfs")
    if not shim:
        return 1
    failures = 0
    with vstest.Scratch("tmpfs") as scratch, \
            storage.Storage("sshfs", os.path.join(scratch.dir, "work")) as st:
        export = os.path.join(scratch.dir, "export")
        os.mkdir(export)
        scratch.mount(["-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs", export])
        for n in range(ROUNDS):
            problems, wins = one_round(scratch, st.sshd, export, shim)
            failures += bool(problems)
            print(f"{'ok' if not problems else 'LOSS/DUP':<9} round {n + 1}: "
                  f"{3 * NOTES} moves per host, successes {wins}", flush=True)
            for line in problems[:20]:
                print(f"    {line}")
    print(f"two hosts on one sshfs share: {ROUNDS} rounds, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
