#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""VAULTSHIM_LOG's "flushes": the fsync, fdatasync and syncfs calls a move made, as the
engine counts them (strace, where installed, must see the same number), and the flush diet
(vaultshim(7), DURABILITY): with the folders and the private journal on one ext4 filesystem
a note or tree move makes no flush at all, as the kernel's rename makes none (a tree of any
size: never a syncfs); VAULTSHIM_DURABLE=return asks for one flush so that the move is
durable when rename() returns; with the target on a second ext4 filesystem, the two that
order one filesystem against the other, and one when the record is with the target; on tmpfs, where nothing proves the order of
commits, every step is flushed as before, but a tree's files are not (nothing in memory
survives a power cut); on ext4 without its journal each of a tree's files is fsynced on its
own."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()
STRACE = shutil.which("strace")
FLUSH_CALLS = "fsync,fdatasync,syncfs,sync"


def move(vault, src, dst, log, journal, **extra):
    """Rename through the shim; (the log line, the flush calls strace saw or None)."""
    # The journal's folder is the personal one (a journal elsewhere in the vault is refused).
    env = d.shim_env(vault, VAULTSHIM_LOG=log, VAULTSHIM_JOURNAL=journal,
                     VAULTSHIM_PERSONAL=os.path.dirname(journal), **extra)
    argv = [sys.executable, "-c", d.RENAME_CHILD, vault.path(src), vault.path(dst)]
    seen = None
    with tempfile.NamedTemporaryFile("r") as report:
        if STRACE:
            argv = [STRACE, "-f", "-c", "-o", report.name, "-e", "trace=" + FLUSH_CALLS] + argv
        r = subprocess.run(argv, env=env, text=True, capture_output=True)
        fails.check(r.returncode == 0, f"{src} -> {dst}: {r.stdout} {r.stderr}")
        if STRACE:
            seen = 0
            for row in report.read().splitlines():
                fields = row.split()
                # "% time seconds usecs/call calls [errors] syscall"
                if fields and fields[-1] in FLUSH_CALLS.split(",") and fields[3].isdigit():
                    seen += int(fields[3])
    with open(log, encoding="utf-8") as f:
        return json.loads(f.read().splitlines()[-1]), seen


def expect(vault, what, src, dst, log, journal, want, **extra):
    rec, seen = move(vault, src, dst, log, journal, **extra)
    got = rec.get("flushes")
    fails.check(rec.get("result") == "ok", f"{what}: {rec}")
    fails.check(isinstance(got, int), f"{what}: no flushes in {rec}")
    if callable(want):
        fails.check(isinstance(got, int) and want(got), f"{what}: {got} flushes")
    else:
        fails.check(got == want, f"{what}: {got} flushes, want {want}")
    if seen is not None:
        fails.check(seen == got, f"{what}: the log says {got} flushes, strace saw {seen}")
    print(f"{what}: {got} flushes" + (f" (strace: {seen})" if seen is not None else ""),
          flush=True)


def note(vault, rel, size=4096):
    os.makedirs(os.path.dirname(vault.path(rel)), exist_ok=True)
    with open(vault.path(rel), "wb") as f:
        f.write(b"n" * size)


with d.Vault(("a", "b", "personal"), fstype="ext4", size_mib=128) as vault:
    log = os.path.join(vault.scratch, "audit.log")
    journal = vault.path("personal/.vaultshim-journal")

    # one filesystem: the folders and the journal; durable at its next commit, like the
    # kernel's rename, unless VAULTSHIM_DURABLE=return asks for it when rename() returns
    note(vault, "a/one.md")
    expect(vault, "note, one ext4", "a/one.md", "b/one.md", log, journal, 0)
    note(vault, "a/ret.md")
    expect(vault, "note, one ext4, VAULTSHIM_DURABLE=return", "a/ret.md", "b/ret.md", log,
           journal, 1, VAULTSHIM_DURABLE="return")
    note(vault, "a/other.md")
    expect(vault, "note, one ext4, VAULTSHIM_DURABLE=commit", "a/other.md", "b/other.md", log,
           journal, 0, VAULTSHIM_DURABLE="commit")
    note(vault, "a/over.md")
    note(vault, "b/over.md", 100)
    expect(vault, "overwrite, one ext4", "a/over.md", "b/over.md", log, journal, 0)
    note(vault, "a/over2.md")
    note(vault, "b/over2.md", 100)
    expect(vault, "overwrite, one ext4, VAULTSHIM_DURABLE=return", "a/over2.md", "b/over2.md",
           log, journal, 1, VAULTSHIM_DURABLE="return")
    d.write_tree(vault.path("a/tree"), 20, size=1000)
    expect(vault, "tree, one ext4", "a/tree", "b/tree", log, journal, 0)
    d.write_tree(vault.path("a/tree-ret"), 20, size=1000)
    expect(vault, "tree, one ext4, VAULTSHIM_DURABLE=return", "a/tree-ret", "b/tree-ret", log,
           journal, 1, VAULTSHIM_DURABLE="return")
    # a larger tree too: its own files written back, never the whole filesystem synced
    d.write_tree(vault.path("a/wide"), 300, size=100)
    expect(vault, "300-file tree, one ext4", "a/wide", "b/wide", log, journal, 0)

    # the target on a second filesystem, the journal with the source
    image = os.path.join(vault.scratch, "second-ext4.img")
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    d.sh("mkfs.ext4", "-q", "-F", image)
    os.mkdir(os.path.join(vault.scratch, "second"))
    other = vault.mount(["-o", "loop", image, os.path.join(vault.scratch, "second")])
    vault.bind_folder("c", os.path.join(other, "c"))
    note(vault, "a/two.md")
    expect(vault, "note, two ext4", "a/two.md", "c/two.md", log, journal, 2)
    d.write_tree(vault.path("a/tree2"), 20, size=1000)
    expect(vault, "tree, two ext4", "a/tree2", "c/tree2", log, journal, 2)
    # back into the personal folder's filesystem: the record with the target, the install's
    # flush is the one (the record's removal may then reach the disk before the source's:
    # a duplicate at worst, vaultshim(7))
    note(vault, "c/back.md")
    expect(vault, "note, two ext4, the record with the target", "c/back.md", "a/back.md", log,
           journal, 1)
    expect(vault, "tree, two ext4, the record with the target", "c/tree2", "a/tree-back", log,
           journal, 1)
    note(vault, "c/back-ret.md")
    expect(vault, "note, two ext4, the record with the target, VAULTSHIM_DURABLE=return",
           "c/back-ret.md", "a/back-ret.md", log, journal, 1, VAULTSHIM_DURABLE="return")

    # tmpfs proves no order: every step flushed as before (the record and its directory,
    # the directory's parent on the first move, the identity, the copy, target, source)
    vault.mount_tmpfs("t", "16m")
    os.mkdir(vault.path("t/inner"))
    vault.bind_folder("u", vault.path("t/inner"))
    note(vault, "t/mem.md")
    expect(vault, "note, tmpfs", "t/mem.md", "u/mem.md", log, vault.path("t/.vaultshim-journal"),
           lambda n: n in (6, 7))
    # a tree there: only the record's and the directories' flushes, the same for any size
    # (nothing in memory survives a power cut; never a syncfs)
    mem_journal = vault.path("t/.vaultshim-journal")
    d.write_tree(vault.path("t/small"), 20, size=100)
    small = move(vault, "t/small", "u/small", log, mem_journal)[0].get("flushes")
    d.write_tree(vault.path("t/large"), 200, size=100)
    expect(vault, "200-file tree, tmpfs (as many as 20 files: %s)" % small, "t/large",
           "u/large", log, mem_journal, small)

    # ext4 without its journal proves no order: each staged file and folder fsynced on its
    # own (never a syncfs): 20 more files, 20 more flushes
    image = os.path.join(vault.scratch, "nojournal.img")
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    d.sh("mkfs.ext4", "-q", "-F", "-O", "^has_journal", image)
    os.mkdir(os.path.join(vault.scratch, "nojournal"))
    bare = vault.mount(["-o", "loop", image, os.path.join(vault.scratch, "nojournal")])
    os.makedirs(os.path.join(bare, "v", "dst"))
    vault.bind_folder("w", os.path.join(bare, "v"))
    vault.bind_folder("x", os.path.join(bare, "v"))
    bare_journal = vault.path("w/.vaultshim-journal")
    d.write_tree(vault.path("w/t20"), 20, size=100)
    t20 = move(vault, "w/t20", "x/dst/t20", log, bare_journal)[0].get("flushes")
    d.write_tree(vault.path("w/t40"), 40, size=100)
    expect(vault, "40-file tree, ext4 without journal (20 files: %s)" % t20, "w/t40", "x/dst/t40",
           log, bare_journal, (t20 or 0) + 20)

    fails.check(not d.residue(vault.root), f"residue: {d.residue(vault.root)}")

fails.finish("the log's flush count is the engine's, and the diet holds on ext4")
