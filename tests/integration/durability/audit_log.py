#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""VAULTSHIM_LOG: one JSON line per emulated move with time, pid, src, dst, bytes, method
and duration, its split by step, and result; lines from 16 threads and 4 processes logging
at once never interleave, and each thread's steps add up to no more than its own move's
duration; a failed move is logged with its errno; same-mount renames are not logged."""
import json
import os
import subprocess
import sys

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()
FIELDS = {"time", "pid", "src", "dst", "bytes", "method", "duration_ns", "steps", "result",
          "errno"}


def check_steps(rec, want=()):
    """The steps are microseconds inside the move: their sum (each rounded) stays within
    the duration the shim measured around it; want: steps the move must have reached."""
    steps = rec.get("steps")
    if not isinstance(steps, dict) or not all(isinstance(v, int) and v >= 0
                                              for v in steps.values()):
        fails.check(False, f"bad steps in {rec}")
        return
    fails.check(sum(steps.values()) <= rec["duration_ns"] / 1000 + len(steps),
                f"steps add up to more than the move took: {rec}")
    fails.check(set(want) <= set(steps), f"steps {set(want) - set(steps)} missing in {rec}")
METHODS = {"reflink", "copy_file_range", "read_write", "none", "mixed"}

MOVER = r"""
import os, sys, threading
root, tag, threads, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def work(t):
    for i in range(per):
        os.rename(f"{root}/a/{tag}-{t}-{i}.md", f"{root}/b/{tag}-{t}-{i}.md")
ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
"""

with d.Vault(("a", "b")) as vault:
    log = os.path.join(vault.scratch, "audit.log")
    with open(vault.path("a/one.md"), "wb") as f:
        f.write(b"x" * 12345)
    d.write_tree(vault.path("a/tree"), 30, size=1000)
    os.mkdir(vault.path("a/same"))
    with open(vault.path("a/same/n.md"), "w") as f:
        f.write("same mount\n")

    fails.check(d.rename(vault, "a/one.md", "b/one.md", VAULTSHIM_LOG=log)[0] == 0, "file move")
    fails.check(d.rename(vault, "a/tree", "b/tree", VAULTSHIM_LOG=log)[0] == 0, "tree move")
    fails.check(d.rename(vault, "a/same/n.md", "a/n.md", VAULTSHIM_LOG=log)[0] == 0, "same mount")
    status, err = d.rename(vault, "a/missing.md", "b/missing.md", VAULTSHIM_LOG=log)
    fails.check(status == 1 and err == "ENOENT", f"missing source: {status} {err}")
    with open(log, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    fails.check(len(lines) == 3, f"want 3 lines (file, tree, failure), got {len(lines)}: {lines}")
    for rec in lines:
        fails.check(FIELDS <= set(rec), f"missing fields {FIELDS - set(rec)} in {rec}")
        fails.check(rec.get("method") in METHODS, f"bad method in {rec}")
        fails.check(isinstance(rec.get("duration_ns"), int) and rec["duration_ns"] >= 0,
                    f"bad duration in {rec}")
        fails.check(rec.get("pid", 0) > 0, f"bad pid in {rec}")
    if len(lines) == 3:
        fails.check(lines[0]["bytes"] == 12345 and lines[0]["result"] == "ok", f"file: {lines[0]}")
        check_steps(lines[0], ("plan", "record", "copy-data", "fsync-temp", "install", "finish"))
        check_steps(lines[1], ("plan", "record", "stage-entry", "install", "finish"))
        check_steps(lines[2])
        fails.check(lines[0]["src"] == vault.path("a/one.md") and
                    lines[0]["dst"] == vault.path("b/one.md"), f"paths: {lines[0]}")
        fails.check(lines[1]["bytes"] == 30 * 1000, f"tree bytes: {lines[1]}")
        fails.check(lines[2]["result"] == "error" and lines[2]["errno"] == 2,
                    f"failure not logged as ENOENT: {lines[2]}")

    # Concurrent writers: 16 threads in one process and 4 single-threaded processes.
    os.unlink(log)
    jobs = [("p0", 16, 10)] + [(f"p{n}", 1, 40) for n in range(1, 5)]
    for tag, threads, per in jobs:
        for t in range(threads):
            for i in range(per):
                with open(vault.path(f"a/{tag}-{t}-{i}.md"), "wb") as f:
                    f.write(f"{tag} {t} {i}\n".encode() * 300)
    procs = [subprocess.Popen([sys.executable, "-c", MOVER, vault.root, tag, str(threads), str(per)],
                              env=d.shim_env(vault, VAULTSHIM_LOG=log)) for tag, threads, per in jobs]
    for p in procs:
        fails.check(p.wait(timeout=300) == 0, "a concurrent mover failed")
    total = sum(threads * per for _, threads, per in jobs)
    with open(log, encoding="utf-8") as f:
        raw = f.read().splitlines()
    bad = 0
    for line in raw:
        try:
            check_steps(json.loads(line), ("copy-data", "install"))
        except json.JSONDecodeError:
            bad += 1
    fails.check(bad == 0, f"{bad} interleaved or torn lines")
    fails.check(len(raw) == total, f"want {total} lines, got {len(raw)}")

fails.finish("audit log lines are whole and complete")
