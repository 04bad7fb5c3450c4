#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vault-fsck on the states a crash leaves (records made by the real journal code through
the journal-state helper, files by this test): fsck(8) exit bits (0 clean, 1 repaired,
4 left for a person, 8 operational error, 16 usage), --dry-run changes nothing, --json,
--version, the private journal found without arguments, live moves left alone, records of
the old shared journal listed and never acted on (--purge-foreign removes them), relative
roots, and escaped output."""
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


def fsck_text(*args, env=None, cwd=None):
    e = dict(os.environ, VAULTSHIM_JOURNAL=d.CURRENT.journal(), **(env or {}))
    return subprocess.run([d.FSCK, *args], text=True, capture_output=True, env=e, cwd=cwd,
                          timeout=60, errors="surrogateescape")


with d.Vault(("a", "b")) as v:
    journal = v.journal()
    rc, report = d.fsck(v.root)
    fails.check(rc == 0 and report["records"] == [] and report["journal"] == journal,
                f"clean vault: {rc} {report}")
    r = fsck_text("--version")
    fails.check(r.returncode == 0 and r.stdout.startswith("vault-fsck "), f"--version: {r}")
    r = fsck_text("--no-such-option")
    fails.check(r.returncode == d.USAGE, f"usage error: {r.returncode}")

    # Crash while copying: a partial staging copy, the source set aside.
    write(v.path("a/n.md"), "hello\n")
    record, staging, aside = state("begin", journal, "file", v.path("a/n.md"), v.path("b/n.md"))
    fails.check(os.path.dirname(record) == journal, f"record outside the private journal: {record}")
    write(staging, "hel")
    state("staged", record)
    os.rename(v.path("a/n.md"), aside)
    rc, report = d.fsck(v.root, dry_run=True)
    fails.check(rc == d.REPAIRED and outcomes(report) == ["rolled-back"], f"dry run: {rc} {report}")
    fails.check(os.path.exists(staging) and os.path.exists(record) and os.path.exists(aside),
                "dry run changed something")
    rc, report = d.fsck(v.root)
    fails.check(rc == d.REPAIRED and outcomes(report) == ["rolled-back"], f"roll back: {rc} {report}")
    fails.check(not os.path.exists(staging) and not os.path.exists(record), "residue left")
    fails.check(text(v.path("a/n.md")) == "hello\n", "source not back at its name")
    fails.check(d.fsck(v.root)[0] == 0, "second run found work")

    # Crash after installing a tree, half of the set-aside source removed.
    d.write_tree(v.path("a/t"), 40, size=512)
    record, staging, aside = state("begin", journal, "tree", v.path("a/t"), v.path("b/t"))
    shutil.copytree(v.path("a/t"), staging, symlinks=True)
    state("staged", record)
    os.rename(v.path("a/t"), aside)
    os.rename(staging, v.path("b/t"))
    for name in sorted(os.listdir(aside))[:2]:
        shutil.rmtree(os.path.join(aside, name))
    before = d.snapshot(v.path("b/t"))
    r = fsck_text(v.root)
    fails.check(r.returncode == d.REPAIRED and "rolled forward" in r.stdout,
                f"tree: {r.returncode} {r.stdout}")
    fails.check(not os.path.exists(aside) and not os.path.exists(v.path("a/t")) and
                d.snapshot(v.path("b/t")) == before, "tree not whole at the target")

    # Installed, then the set-aside source was written: both kept, exit 4, reported again.
    write(v.path("a/e.md"), "v1\n")
    record, staging, aside = state("begin", journal, "file", v.path("a/e.md"), v.path("b/e.md"))
    shutil.copy2(v.path("a/e.md"), staging)
    state("staged", record)
    os.rename(v.path("a/e.md"), aside)
    state("aside", record)
    os.rename(staging, v.path("b/e.md"))
    time.sleep(0.01)
    write(aside, "v2, written through a descriptor opened before the move\n")
    rc, report = d.fsck(v.root)
    fails.check(rc == d.LEFT and outcomes(report) == ["kept"], f"written source: {rc} {report}")
    fails.check(text(v.path("a/e.md")).startswith("v2") and text(v.path("b/e.md")) == "v1\n",
                "written source or its copy lost, or not back at its name")
    rc, report = d.fsck(v.root)
    fails.check(rc == d.LEFT and report["records"][0]["record"] == record + ".kept",
                f"kept record not set aside and reported again: {report}")
    os.unlink(record + ".kept")
    os.unlink(v.path("a/e.md"))

    # A live move is left alone; roots come from VAULTSHIM_ROOTS; a missing root is an
    # operational error.
    write(v.path("a/live.md"), "live\n")
    hold = subprocess.Popen([STATE, "hold", journal, v.path("a/live.md"), v.path("b/live.md"), "30"],
                            stdout=subprocess.PIPE, text=True)
    live_record, live_staging, _ = hold.stdout.readline().split()
    write(live_staging, "being copied")
    r = fsck_text("--json", env={"VAULTSHIM_ROOTS": f"/nonexistent-vs:{v.root}"})
    report = json.loads(r.stdout)
    fails.check(r.returncode == d.OPERATIONAL and outcomes(report) == ["live"] and
                report["error_count"] == 1, f"live move / roots: {r.returncode} {report}")
    fails.check(os.path.exists(live_staging) and os.path.exists(live_record),
                "a live move's record or staging was touched")
    hold.kill()
    hold.wait()
    os.unlink(live_staging)  # its identity was never recorded: not provably the move's
    rc, report = d.fsck(v.root)
    fails.check(rc == d.REPAIRED and outcomes(report) == ["closed"], f"after the kill: {rc} {report}")

    # Records of the old shared journal: listed (escaped), never acted on, even a FIFO.
    os.makedirs(v.path("b/.vaultshim/journal"))
    write(v.path("b/.vaultshim/journal/1.2.3"), "vsj1 1.2.3 tree staged /x /y /z - - - 0\n")
    os.mkfifo(v.path("b/.vaultshim/journal/zz"))
    os.makedirs(v.path("a/sub"))
    write(v.path("a/sub/.vaultshim-journal-9\x1b[2J"), "vsj1 forged\n")
    r = fsck_text(v.root)
    fails.check(r.returncode == d.LEFT and r.stdout.count("old shared journal") == 3,
                f"old records: {r.returncode} {r.stdout!r}")
    fails.check("\x1b" not in r.stdout and "\\x1b[2J" in r.stdout, f"not escaped: {r.stdout!r}")
    fails.check(os.path.exists(v.path("b/.vaultshim/journal/1.2.3")), "an old record was acted on")
    rc, report = d.fsck(v.root, extra=("--purge-foreign",))
    fails.check(rc == d.REPAIRED and len(report["foreign"]) == 3, f"purge: {rc} {report}")
    fails.check(not os.path.exists(v.path("b/.vaultshim")), ".vaultshim left after the purge")

    # A relative root is taken from the working directory, and said so.
    r = fsck_text("vault", cwd=v.dir)
    fails.check(r.returncode == 0 and "relative root vault taken as" in r.stdout,
                f"relative root: {r.returncode} {r.stdout}")

    left = d.residue(v.root)
    fails.check(not left, f"residue {left}")

fails.finish("vault-fsck repairs, reports and keeps as documented")
