#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""16 threads and 4 processes move an overlapping set of notes between three mounts at
once, all through the shim.  Afterwards every note exists exactly once, with its content,
and no staging or journal residue is left."""
import os
import subprocess
import sys

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()
NOTES = 24
MOUNTS = ("a", "b", "c")
MOVES_PER_WORKER = 60
ROUNDS = 4

# Each worker (a thread of a process) moves random notes from wherever it guesses they are
# to a random other mount; ENOENT just means another worker got there first.
WORKER = r"""
import errno, os, random, sys, threading
root, threads, moves, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mounts, notes = ("a", "b", "c"), int(sys.argv[5])
unexpected = []
def work(n):
    rnd = random.Random(seed * 100 + n)
    for _ in range(moves):
        i = rnd.randrange(notes)
        src, dst = rnd.sample(mounts, 2)
        try:
            os.rename(f"{root}/{src}/note{i:03d}.md", f"{root}/{dst}/note{i:03d}.md")
        except OSError as e:
            if e.errno != errno.ENOENT:
                unexpected.append(f"{src}->{dst} note{i}: {errno.errorcode.get(e.errno)}")
ts = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(unexpected))
sys.exit(1 if unexpected else 0)
"""


def round_of_moves(vault, seed):
    want = {}
    for i in range(NOTES):
        body = f"note {i}\n".encode() * (5000 + i * 4000)  # 40 KiB to 1 MiB: long copies
        with open(vault.path(f"{MOUNTS[i % 3]}/note{i:03d}.md"), "wb") as f:
            f.write(body)
        want[f"note{i:03d}.md"] = d.digest(body)

    env = d.shim_env(vault)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, vault.root, "16" if n == 0 else "1",
                               str(MOVES_PER_WORKER), str(seed * 10 + n), str(NOTES)],
                              env=env, stdout=subprocess.PIPE, text=True)
             for n in range(5)]  # one process with 16 threads, 4 more single-threaded
    for p in procs:
        out, _ = p.communicate(timeout=300)
        fails.check(p.returncode == 0, f"worker failed: {out.strip()[:500]}")

    seen = {}
    for m in MOUNTS:
        for name in os.listdir(vault.path(m)):
            if name.startswith(".vaultshim"):
                continue
            with open(vault.path(f"{m}/{name}"), "rb") as f:
                seen.setdefault(name, []).append((m, d.digest(f.read())))
    for name, digest in want.items():
        copies = seen.get(name, [])
        fails.check(len(copies) == 1, f"{name}: {len(copies)} copies {[c[0] for c in copies]}")
        fails.check(all(c[1] == digest for c in copies), f"{name}: content changed")
    fails.check(set(seen) == set(want), f"unexpected files {set(seen) - set(want)}")
    left = d.residue(vault.root)
    fails.check(not left, f"residue {left}")


# Races are probabilistic: several rounds with different seeds.
for seed in range(ROUNDS):
    with d.Vault(MOUNTS) as vault:
        round_of_moves(vault, seed)

fails.finish(f"{ROUNDS} rounds of 20 concurrent movers over {NOTES} notes: each exactly once")
