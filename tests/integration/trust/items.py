#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regression tests for the ten ways one user of a shared folder could once turn vaultshim's
crash recovery against another (issue 16), in two users' containers on one host folder
(twousers.py).  `items.py N [tmpfs|ext4]` runs item N.  Each checks that the victim's
personal tree is byte-identical afterwards (but for what the victim moved), that every step
finished under a deadline, and, where a move of the attacker was interrupted, that the
attacker's own next session finishes it exactly once."""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import vstest
from vstest import twousers as tu

ITEM = int(sys.argv[1])
FSTYPE = sys.argv[2] if len(sys.argv) > 2 else "tmpfs"
REPAIRED, LEFT = 1, 4
check = tu.check


def fsck_ok(host, user, *args, want=None):
    rc, out, err, secs = host.vault_fsck(user, *args)
    check(rc != "timeout", f"{user}'s vault-fsck {args} did not finish in {tu.DEADLINE}s")
    if want is not None:
        check(rc == want, f"{user}'s vault-fsck {args}: exit {rc}, want {want}\n{out}{err}")
    return rc, out, err


def bob_setup(host):
    """Bob's personal folder: an .obsidian config, templates, drafts, attachments."""
    p = host.personal("bob")
    host.write(f"{p}/.obsidian/app.json", '{"newFileLocation": "folder"}\n')
    host.write(f"{p}/template.md", "# Template\n")
    host.write(f"{p}/Untitled.md", "")
    host.write(f"{p}/X.md", "# X\nthe same bytes as alice's\n")
    host.write(f"{p}/attachments/diagram.png", b"\x89PNG fake")
    host.write(f"{p}/drafts/plan.md", "bob's plan\n")
    host.write(f"{p}/outbox.md", "bob moves this one\n")
    tu.chown_tree(p)


def bob_everything(host, label):
    """Bob's vault-fsck (no arguments, and with the vault) and a move into the shared
    folder (lazy recovery): his personal tree, but for the moved note, stays as it was."""
    before = host.tree(host.personal("bob"))
    fsck_ok(host, "bob")
    fsck_ok(host, "bob", host.vault)
    rc, err, secs = host.rename("bob", "personal/outbox.md", "engineering/outbox.md")
    check(rc == 0, f"{label}: bob's move into engineering: {rc} {err}")
    after = host.tree(host.personal("bob"))
    check(tu.without(after, "outbox.md") == tu.without(before, "outbox.md"),
          f"{label}: bob's personal tree changed: "
          f"{vstest.diff_snapshots(tu.without(before, 'outbox.md'), tu.without(after, 'outbox.md'))}")
    host.rename("bob", "engineering/outbox.md", "personal/outbox.md")


# ---------------------------------------------------------------------------- 1
def item1(host):
    """A forged record (in the old shared journal, beside a target in a subfolder, in the
    new format, through .. and a symlink) is never acted on."""
    bob_setup(host)
    eng = host.shared
    forged = {}
    os.makedirs(f"{eng}/.vaultshim/journal")
    os.makedirs(f"{eng}/sub")
    os.symlink("../personal", f"{eng}/to-personal")
    lines = [
        "vsj1 1.1.1 tree staged /x /y %s - - - 00000000\n" % host.path("personal"),
        "vsj1 1.1.2 tree staged /x /y %s - - - 00000000\n" % host.path("engineering/../personal"),
        "vsj1 1.1.3 tree staged /x /y %s - - - 00000000\n" % host.path("engineering/to-personal"),
    ]
    for i, line in enumerate(lines):
        forged[f"{eng}/.vaultshim/journal/1.1.{i + 1}"] = line
    forged[f"{eng}/sub/.vaultshim-journal-1.1.9"] = lines[0]
    # A record in the new format, naming bob's personal folder as its mount.
    forged[f"{eng}/.vaultshim/journal/2.2.2"] = (
        f"vsj2 2.2.2 tree staged {host.path('personal')} / ext4 0:0 0 2 "
        f"{host.path('personal')} / ext4 0:0 0 2 a b 2:16877:0:0:0:0:0 - 2:16877:0:0:0:0:0 - 00000000\n")
    for path, text in forged.items():
        host.write(path, text)
    bob_everything(host, "forged records")
    for path, text in forged.items():
        with open(path) as f:
            check(f.read() == text, f"forged record {path} was acted on")


# ---------------------------------------------------------------------------- 2
def item2(host):
    """Alice's honest crash after the install: bob's same-bytes files stay; alice's own
    next session finishes her move exactly once."""
    bob_setup(host)
    a = host.personal("alice")
    host.write(f"{a}/X.md", "# X\nthe same bytes as alice's\n")
    for rel in ("template.md", "Untitled.md", "attachments/diagram.png", "drafts/plan.md"):
        with open(f"{host.personal('bob')}/{rel}", "rb") as f:
            host.write(f"{a}/proj/{rel}", f.read())
        with open(f"{host.personal('bob')}/{rel}", "rb") as f:
            host.write(f"{host.personal('bob')}/proj/{rel}", f.read())
    tu.chown_tree(a)
    tu.chown_tree(host.personal("bob"))
    rc, err, _ = host.rename("alice", "personal/X.md", "engineering/X.md",
                             VAULTSHIM_FAULT="unlink-source:exit")
    check(rc == 137, f"alice's file move did not crash where asked: {rc} {err}")
    rc, err, _ = host.rename("alice", "personal/proj", "engineering/proj",
                             VAULTSHIM_FAULT="unlink-source:exit@3")
    check(rc == 137, f"alice's tree move did not crash where asked: {rc} {err}")
    bob_everything(host, "alice's honest crash")
    # Alice's next session: her own recovery finishes both moves, once (her second move
    # already finished the first one lazily: the same user's own record).
    rc, out, _ = fsck_ok(host, "alice", want=REPAIRED)
    check(out.count("rolled forward") == 1, f"alice's recovery: {out}")
    check(not os.path.exists(f"{a}/X.md") and not os.path.exists(f"{a}/proj"),
          f"alice's sources were not removed: {os.listdir(a)}")
    check(os.path.exists(f"{host.shared}/X.md") and os.path.exists(f"{host.shared}/proj/template.md"),
          "alice's moved copies are missing")
    fsck_ok(host, "alice", want=0)
    check(not host.ours(host.shared) and not host.ours(a),
          f"residue {host.ours(host.shared) + host.ours(a)}")


# ---------------------------------------------------------------------------- 3
def item3(host):
    """FIFOs named like records or lock files: nothing hangs."""
    bob_setup(host)
    eng = host.shared
    os.makedirs(f"{eng}/.vaultshim/journal")
    os.mkfifo(f"{eng}/.vaultshim/journal/zz")
    os.makedirs(f"{eng}/sub")
    os.mkfifo(f"{eng}/sub/.vaultshim-journal-x")
    host.write(f"{host.personal('bob')}/n.md", "note\n")
    st = os.stat(f"{host.personal('bob')}/n.md")
    os.mkfifo(f"{host.personal('bob')}/.vaultshim-lock-{st.st_dev:x}-{st.st_ino:x}")
    os.chown(f"{host.personal('bob')}/.vaultshim-lock-{st.st_dev:x}-{st.st_ino:x}", tu.UID, tu.UID)
    rc, err, secs = host.rename("bob", "personal/n.md", "engineering/n.md")
    check(rc == 0 and secs < tu.DEADLINE, f"bob's move with FIFOs around: {rc} {err} {secs:.1f}s")
    rc, out, err = fsck_ok(host, "bob", host.vault, want=LEFT)
    check("zz" in out and ".vaultshim-journal-x" in out, f"FIFOs not listed: {out}")


# ---------------------------------------------------------------------------- 4
def item4(host):
    """A lock held by another user gives EBUSY within a few seconds, nothing changed."""
    host.write(f"{host.shared}/note.md", "shared note\n")
    host.write(f"{host.personal('bob')}/new.md", "bob's new version\n")
    st = os.stat(f"{host.shared}/note.md")
    lock = host.path(f"engineering/.vaultshim-lock-{st.st_dev:x}-{st.st_ino:x}")
    holder = host.start("alice", ["flock", "-x", lock, "sleep", "60"])
    try:
        time.sleep(1)
        before = (host.tree(host.shared), host.tree(host.personal("bob")))
        rc, err, secs = host.rename("bob", "engineering/note.md", "personal/note.md")
        check((rc, err) == (1, "EBUSY") and secs < 8,
              f"move of a locked source: {rc} {err} after {secs:.1f}s")
        rc, err, secs = host.rename("bob", "personal/new.md", "engineering/note.md")
        check((rc, err) == (1, "EBUSY") and secs < 8,
              f"move over a locked target: {rc} {err} after {secs:.1f}s")
        after = (host.tree(host.shared), host.tree(host.personal("bob")))
        check(after == before, "a refused move changed something")
        print(f"EBUSY after {secs:.1f}s (bound: 3 s)")
    finally:
        host.stop(holder)
    rc, err, _ = host.rename("bob", "engineering/note.md", "personal/note.md")
    check(rc == 0, f"the move once the lock is free: {rc} {err}")


# ---------------------------------------------------------------------------- 5
def item5(host):
    """No existence oracle: a forged record's fate does not depend on bob's files, and bob's
    records (with his paths) never appear in the shared folder."""
    bob_setup(host)
    os.makedirs(f"{host.shared}/.vaultshim/journal")
    recs = {}
    for n, target in (("1.0.1", "X.md"), ("1.0.2", "no-such-file.md")):
        recs[n] = f"vsj1 {n} file staged {host.path('personal/' + target)} /y /z - - - 00000000\n"
        host.write(f"{host.shared}/.vaultshim/journal/{n}", recs[n])
    bob_everything(host, "oracle probes")
    fates = sorted(os.listdir(f"{host.shared}/.vaultshim/journal"))
    check(fates == ["1.0.1", "1.0.2"], f"the probes' fates differ or changed: {fates}")
    # Bob's interrupted move of a secretly named note: nothing in the shared folder names it.
    host.write(f"{host.personal('bob')}/secret-plans.md", "bob's secret\n")
    rc, err, _ = host.rename("bob", "personal/secret-plans.md", "engineering/later.md",
                             VAULTSHIM_FAULT="copy-data:exit")
    check(rc == 137, f"bob's move did not crash: {rc} {err}")
    leaks = []
    for d, dirs, files in os.walk(host.shared):
        for n in dirs + files:
            p = os.path.join(d, n)
            if "secret" in n:
                leaks.append(p)
            elif os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as f:
                    if b"secret-plans" in f.read():
                        leaks.append(p)
    check(not leaks, f"bob's source path is visible in the shared folder: {leaks}")
    fsck_ok(host, "bob")


# ---------------------------------------------------------------------------- 6
def item6(host):
    """800 levels of directories in the shared folder: bob's recovery neither crashes nor
    runs out of descriptors, and his own interrupted move is recovered."""
    bob_setup(host)
    deep = host.shared
    for level in range(800):
        deep = os.path.join(deep, "d")
        os.mkdir(deep)
    host.write(f"{host.personal('bob')}/n.md", "note\n")
    rc, err, _ = host.rename("bob", "personal/n.md", "engineering/n.md", VAULTSHIM_FAULT="install:exit")
    check(rc == 137, f"bob's move did not crash: {rc} {err}")
    rc, out, err, secs = host.run("bob", ["prlimit", "--nofile=1024:1024", host.fsck, host.vault])
    check(rc == REPAIRED, f"bob's vault-fsck in a deep tree: exit {rc} after {secs:.1f}s\n{out}{err}")
    check(os.path.exists(f"{host.personal('bob')}/n.md"), "bob's note is not back")
    rc, err, _ = host.rename("bob", "personal/n.md", "engineering/n.md")
    check(rc == 0, f"bob's move next to a deep tree: {rc} {err}")


# ---------------------------------------------------------------------------- 7
def item7(host):
    """Identities survive a 'reboot': the image comes back on another loop device (another
    st_dev), and alice's recovery still finishes her interrupted moves."""
    a = host.personal("alice")
    for name, fault, want in (("forward", "unlink-source", "rolled forward"),
                              ("back", "copy-data", "rolled back")):
        host.write(f"{a}/{name}.md", f"{name}: interrupted by a power cut\n")
        rc, err, _ = host.rename("alice", f"personal/{name}.md", f"engineering/{name}.md",
                                 VAULTSHIM_FAULT=f"{fault}:exit")
        check(rc == 137, f"{name}: the move did not crash: {rc} {err}")
        dev_before = os.stat(host.shared).st_dev
        host.reattach()
        check(os.stat(host.shared).st_dev != dev_before, "the filesystem kept its st_dev")
        rc, out, _ = fsck_ok(host, "alice", want=REPAIRED)
        check(want in out, f"{name}: after the reboot: {out}")
        moved = name == "forward"
        check(os.path.exists(f"{a}/{name}.md") != moved and
              os.path.exists(f"{host.shared}/{name}.md") == moved,
              f"{name}: not whole on one side after recovery")
        fsck_ok(host, "alice", want=0)
        check(not host.ours(host.shared) and not host.ours(a),
              f"{name}: residue {host.ours(host.shared) + host.ours(a)}")


# ---------------------------------------------------------------------------- 8
def item8(host):
    """Paths with newlines and escape sequences are printed escaped."""
    bob_setup(host)
    evil = "evil\x1b]0;pwned\x07\nvault-fsck: 0 repaired\x1b[2J.md"
    os.makedirs(f"{host.shared}/.vaultshim/journal")
    host.write(f"{host.shared}/.vaultshim/journal/9\nforged line\x1b[2J", "vsj1 x\n")
    host.write(f"{host.personal('bob')}/{evil}", "a note with a hostile name\n")
    rc, err, _ = host.rename("bob", f"personal/{evil}", f"engineering/{evil}",
                             VAULTSHIM_FAULT="unlink-source:exit")
    check(rc == 137, f"bob's move did not crash: {rc} {err}")
    for args in ((host.vault,), ("--json", host.vault)):
        rc, out, err = fsck_ok(host, "bob", *args)
        text = out + err
        check(not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text), f"raw control bytes in {args}: {text!r}")
        check("forged line" not in "\n".join(line for line in text.splitlines()
                                             if not line.startswith(("/", "{", " ", "}", "vault-fsck:", "["))),
              f"a forged line in the report: {text!r}")
        if args[0] == "--json":
            report = json.loads(out)
            check(len(report["foreign"]) == 1, f"json report: {out}")
        else:
            check(rc == REPAIRED | LEFT and "rolled forward" in out, f"text report: {rc} {out}")


# ---------------------------------------------------------------------------- 9
WRITER = r"""
import os, sys, time
path, period, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
acked, n, end = [], 0, time.monotonic() + seconds
while time.monotonic() < end:
    n += 1
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, b"save %d\n" % n)
    os.close(fd)
    acked.append(n)
    time.sleep(period)
print(" ".join(map(str, acked)))
"""

MOVER = r"""
import errno, os, sys, time
src, dst_dir, moves = sys.argv[1], sys.argv[2], int(sys.argv[3])
done = busy = missing = 0
for k in range(moves):
    try:
        os.rename(src, os.path.join(dst_dir, f"moved-{k:03d}.md"))
        done += 1
    except OSError as e:
        if e.errno == errno.ENOENT:
            missing += 1
        elif e.errno == errno.EBUSY:
            busy += 1
        else:
            print("unexpected", errno.errorcode.get(e.errno)); sys.exit(1)
    time.sleep(0.05)
print(done, busy, missing)
"""


def item9(host):
    """A colleague saving a shared note by path while it is moved loses nothing, and the
    move does not fail where the kernel's rename succeeds."""
    for period in (0.02, 0.002):
        for d in (host.shared, host.personal("alice")):
            for n in os.listdir(d):
                shutil.rmtree(os.path.join(d, n)) if os.path.isdir(os.path.join(d, n)) \
                    else os.unlink(os.path.join(d, n))
        host.write(f"{host.shared}/shared.md", "save 0\n")
        writer = host.start("bob", [sys.executable, "-c", WRITER, host.path("engineering/shared.md"),
                                    str(period), "4"])
        time.sleep(0.2)
        rc, out, err, secs = host.run("alice", [sys.executable, "-c", MOVER,
                                                host.path("engineering/shared.md"),
                                                host.path("personal"), "30"], timeout=120)
        wout, werr = writer.communicate(timeout=60)
        acked = set(int(x) for x in wout.split())
        check(rc == 0, f"mover: {rc} {out} {err}")
        done, busy, missing = (int(x) for x in out.split()) if rc == 0 else (0, -1, 0)
        seen = set()
        for d in (host.shared, host.personal("alice")):
            for dirpath, _, files in os.walk(d):
                for n in files:
                    with open(os.path.join(dirpath, n), "rb") as f:
                        seen |= {int(m) for m in re.findall(rb"save (\d+)", f.read())}
        lost = sorted(acked - seen)
        print(f"writer every {period * 1000:g} ms: {len(acked)} saves, {done} moves, "
              f"{busy} EBUSY, {missing} ENOENT, {len(lost)} acknowledged saves lost")
        check(not lost, f"acknowledged saves lost: {lost[:10]}")
        check(busy == 0, f"{busy} moves failed with EBUSY (the kernel's rename never does)")
        rc, out, _ = fsck_ok(host, "alice")
        # A source saved again after its copy was installed stays as a reported duplicate
        # (kept) while another record of the same run may be finished (repaired): both bits.
        check(rc in (0, REPAIRED, LEFT, REPAIRED | LEFT), f"alice's fsck: {rc} {out}")


# ---------------------------------------------------------------------------- 10
def item10(host):
    """After every successful or refused move, nothing of vaultshim's in either mount."""
    bob_setup(host)
    p = host.personal("bob")
    host.write(f"{host.shared}/existing.md", "will be replaced\n")
    host.write(f"{host.shared}/full/x.md", "makes the directory non-empty\n")
    host.write(f"{p}/full/y.md", "a directory to move onto a non-empty one\n")
    tu.chown_tree(host.shared)
    tu.chown_tree(p)
    steps = [
        ("personal/template.md", "engineering/template.md", 0),   # a file
        ("personal/drafts", "engineering/drafts", 0),             # a tree
        ("personal/X.md", "engineering/existing.md", 0),          # an overwrite
        ("personal/full", "engineering/full", "ENOTEMPTY"),       # refused
        ("engineering/drafts", "personal/drafts", 0),             # and back
    ]
    for old, new, want in steps:
        rc, err, _ = host.rename("bob", old, new)
        check((rc, err) == ((0, "") if want == 0 else (1, want)), f"{old} -> {new}: {rc} {err}")
        left = host.ours(host.shared) + host.ours(p)
        check(not left, f"after {old} -> {new}: {left}")


def reattach_ext4(host):
    """Unmount the ext4 image and mount it again from another loop device (another st_dev),
    as after a power cut and a reboot."""
    def losetup(*args):
        return subprocess.run(["losetup", *args], text=True, capture_output=True,
                              check=True).stdout.strip()

    def reattach():
        image = os.path.join(host.dir, "ext4.img")
        old = subprocess.run(["findmnt", "-n", "-o", "SOURCE", host.fs], text=True,
                             capture_output=True).stdout.strip()
        vstest.run(["umount", host.fs])
        host.mounts.remove(host.fs)
        dev, spare = losetup("--find", "--show", image), None
        if dev == old:
            spare, dev = dev, losetup("--find", "--show", image)
        host.mount(["-o", "noatime", dev, host.fs])
        losetup("-d", dev)  # autoclear: detached once unmounted
        if spare:
            losetup("-d", spare)
        print(f"image reattached: {old} -> {dev}")
    host.reattach = reattach


def main():
    fstype = "ext4" if ITEM in (7, 9) else FSTYPE  # as measured in the issue: ext4
    return tu.run("the two-user trust tests", f"item {ITEM}", globals()[f"item{ITEM}"],
                  fstype, size_mib=128, prepare=reattach_ext4 if fstype == "ext4" else None)


if __name__ == "__main__":
    sys.exit(main())
