#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vault-fsck on the states a crash leaves (records made by the real journal code through
the journal-state helper, files by this test): exit status 0/1/2, --dry-run changes
nothing, --json, roots from VAULTSHIM_ROOTS, records beside the target, live moves left
alone, and staging residue that no record names (never installed) removed."""
import json
import os
import shutil
import subprocess
import sys
import time

from vstest import durability as d

STATE = sys.argv[1]
d.enter_namespace(needs_shim=False)
fails = d.Failures()


def state(*args):
    return d.sh(STATE, *args).stdout.split()


def text(p):
    with open(p, encoding="utf-8") as f:
        return f.read()


def write(p, s):
    with open(p, "w", encoding="utf-8") as f:
        f.write(s)


def outcomes(report):
    return [r["outcome"] for r in report.get("records", [])]


with d.Vault(("a", "b")) as v:
    rc, report = d.fsck(v.root)
    fails.check(rc == 0 and report["records"] == [], f"clean vault: {rc} {report}")

    # Crash while copying a file: a partial staging copy, source untouched.
    write(v.path("a/n.md"), "hello\n")
    record, staging = state("begin", v.root, "file", v.path("a/n.md"), v.path("b/n.md"))
    write(staging, "hel")
    rc, report = d.fsck(v.root, dry_run=True)
    fails.check(rc == 1 and outcomes(report) == ["rolled-back"], f"dry run: {rc} {report}")
    fails.check(os.path.exists(staging) and os.path.exists(record), "dry run changed something")
    rc, report = d.fsck(v.root)
    fails.check(rc == 1 and outcomes(report) == ["rolled-back"], f"roll back: {rc} {report}")
    fails.check(not os.path.exists(staging) and not os.path.exists(record), "residue left")
    fails.check(text(v.path("a/n.md")) == "hello\n", "source changed")
    fails.check(d.fsck(v.root)[0] == 0, "second run found work")

    # Crash after installing a tree, half of the source removed.
    d.write_tree(v.path("a/t"), 40, size=512)
    record, staging = state("begin", v.root, "tree", v.path("a/t"), v.path("b/t"))
    shutil.copytree(v.path("a/t"), staging, symlinks=True)
    state("staged", record)
    os.rename(staging, v.path("b/t"))
    for name in sorted(os.listdir(v.path("a/t")))[:2]:
        shutil.rmtree(v.path(f"a/t/{name}"))
    before = d.snapshot(v.path("b/t"))
    r = subprocess.run([d.FSCK, v.root], text=True, capture_output=True)
    fails.check(r.returncode == 1 and "rolled forward" in r.stdout, f"tree: {r.returncode} {r.stdout}")
    fails.check(not os.path.exists(v.path("a/t")) and d.snapshot(v.path("b/t")) == before,
                "tree not whole at the target")

    # Installed, then the source was edited: both kept, exit 2, reported again next time.
    write(v.path("a/e.md"), "v1\n")
    record, staging = state("begin", v.root, "file", v.path("a/e.md"), v.path("b/e.md"))
    shutil.copy2(v.path("a/e.md"), staging)
    state("staged", record)
    os.rename(staging, v.path("b/e.md"))
    write(v.path("a/e.md"), "v2, edited after the copy\n")
    rc, report = d.fsck(v.root)
    fails.check(rc == 2 and outcomes(report) == ["kept"], f"edited source: {rc} {report}")
    fails.check(text(v.path("a/e.md")).startswith("v2") and text(v.path("b/e.md")) == "v1\n",
                "edited source or its copy lost")
    rc, report = d.fsck(v.root)
    fails.check(rc == 2 and report["records"][0]["record"] == record + ".kept",
                f"kept record not set aside and reported again: {report}")
    os.unlink(record + ".kept")

    # A record beside the target (mount root not writable) is found by the walk.
    write(v.path("a/s.md"), "beside\n")
    record, staging = state("begin", v.root, "file", v.path("a/s.md"), v.path("b/s.md"))
    beside = v.path("b/.vaultshim-journal-" + os.path.basename(record))
    os.rename(record, beside)
    write(staging, "bes")
    rc, report = d.fsck(v.root)
    fails.check(rc == 1 and outcomes(report) == ["rolled-back"], f"beside record: {rc} {report}")
    fails.check(not os.path.exists(beside) and not os.path.exists(staging), "beside residue")

    # A live move is left alone; roots come from VAULTSHIM_ROOTS.
    write(v.path("a/live.md"), "live\n")
    hold = subprocess.Popen([STATE, "hold", v.root, v.path("a/live.md"), v.path("b/live.md"), "30"],
                            stdout=subprocess.PIPE, text=True)
    live_record, live_staging = hold.stdout.readline().split()
    write(live_staging, "being copied")
    r = subprocess.run([d.FSCK, "--json"], text=True, capture_output=True,
                       env=dict(os.environ, VAULTSHIM_ROOTS=f"/nonexistent-vs:{v.root}"))
    report = json.loads(r.stdout)
    fails.check(r.returncode == 2 and outcomes(report) == ["live"] and report["error_count"] == 1
                and report["orphans"] == [], f"live move / roots: {r.returncode} {report}")
    fails.check(os.path.exists(live_staging) and os.path.exists(live_record),
                "a live move's record or staging was touched")
    hold.kill()
    hold.wait()
    time.sleep(0.1)
    rc, report = d.fsck(v.root)
    fails.check(rc == 1 and outcomes(report) == ["rolled-back"], f"after the kill: {rc} {report}")

    # Staging residue whose record was lost (a power cut before the record was synced):
    # never installed, so its source is whole; it goes.
    os.makedirs(v.path("b/.vaultshim-stage-lost/sub"))
    write(v.path("b/.vaultshim-stage-lost/sub/x.md"), "partial\n")
    rc, report = d.fsck(v.root, dry_run=True)
    fails.check(rc == 1 and [o["path"] for o in report["orphans"]] ==
                [v.path("b/.vaultshim-stage-lost")], f"orphan dry run: {rc} {report}")
    fails.check(os.path.exists(v.path("b/.vaultshim-stage-lost/sub/x.md")), "dry run removed it")
    rc, report = d.fsck(v.root)
    fails.check(rc == 1 and report["orphans"][0]["removed"] == 3, f"orphan: {rc} {report}")
    fails.check(not os.path.exists(v.path("b/.vaultshim-stage-lost")), "orphan left")

    left = d.residue(v.root)
    fails.check(not left, f"residue {left}")

fails.finish("vault-fsck repairs, reports and keeps as documented")
