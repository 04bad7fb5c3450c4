#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A shared note is never invisible, and the install is proven (issue 20, items 2, 3, 5), in
two users' containers on one host folder (twousers.py) with two shared folders,
engineering and design.  `visible.py poll|crash|swap|leftover [tmpfs|ext4]`:

  poll   bob polls both names while alice moves a 2 KiB note, a 64 MiB file and a 200-note
         folder back and forth between the two shared folders: no poll finds neither name.
         A control mover (unlink, then create) is caught by the same poller, so the poller
         can see a gap.
  crash  alice's move of a note and of a folder dies at every step (kill -9), and nobody
         recovers it: bob sees the note whole under its old or its new name.
  swap   bob replaces alice's staged file, or her staging folder, by a symlink just before
         the install: her rename() does not return 0 for a move that did not happen, her
         note is where it was, and the target name is not bob's link.
  leftover  hidden set-aside sources that no live move holds (an older version's; a crash's)
         are put back where everyone sees them by anyone's vault-fsck, deleting nothing.
"""
import os
import shutil
import subprocess
import sys
import time

import vstest
from vstest import durability as d
from vstest import twousers as tu

MODE = sys.argv[1]
FSTYPE = sys.argv[2] if len(sys.argv) > 2 else "ext4"
check = tu.check

# Both movers count the moves they started and finished in a shared counter file (two
# 64-bit integers).  The poller looks up names[0], names[1], names[0] (lstat): a gap is a
# round in which all three miss.  Of one move, whose new name exists before its old one goes
# (the kernel's rename: at one instant), a miss of the old name comes after it is gone and a
# miss of the new one before it exists, so the three cannot all miss, whichever way the
# move goes.  A round that more than one move overlapped (the poller was descheduled) proves
# nothing either way: it is counted apart, never as a gap or as a good poll.
POLLER = r"""
import mmap, os, struct, sys
a, b, stop, counter = sys.argv[1:5]
with open(counter, "rb") as f:
    m = mmap.mmap(f.fileno(), 16, prot=mmap.PROT_READ)
polls = gaps = overlapped = 0
exists = os.path.lexists
while True:
    for _ in range(1000):
        finished = struct.unpack_from("q", m, 8)[0]
        missed = not exists(a) and not exists(b) and not exists(a)
        if struct.unpack_from("q", m, 0)[0] - finished > 1:
            overlapped += 1
            continue
        polls += 1
        gaps += missed
    if exists(stop):
        break
print(polls, gaps, overlapped, flush=True)
"""

COUNTING = r"""
import mmap, os, struct, sys
a, b, rounds, counter = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(counter, "r+b") as f:
    m = mmap.mmap(f.fileno(), 16)
moves = 0
def counted(move, old, new):
    global moves
    struct.pack_into("q", m, 0, moves + 1)
    move(old, new)
    moves += 1
    struct.pack_into("q", m, 8, moves)
"""

# Moves name back and forth between two folders through rename(), `rounds` times.
MOVER = COUNTING + r"""
for _ in range(rounds):
    counted(os.rename, a, b)
    counted(os.rename, b, a)
print("moved", flush=True)
"""

# The control: a mover that is not atomic (remove the old name, then create the new one).
CONTROL = COUNTING + r"""
def unlink_then_create(old, new):
    with open(old, "rb") as f:
        data = f.read()
    os.unlink(old)
    with open(new, "wb") as f:
        f.write(data)
for _ in range(rounds):
    counted(unlink_then_create, a, b)
    counted(unlink_then_create, b, a)
print("moved", flush=True)
"""


def tree(path):
    """What "whole" means to another user: type, mode, owner, size, content, mtime, xattrs.
    Access times and allocated blocks are left out: reading the note (the poller, the
    copy) may move its atime under relatime, and a copy may allocate a file differently
    without changing a byte of it."""
    if not os.path.lexists(path):
        return None
    return {rel: {k: v for k, v in attrs.items() if k not in ("atime_ns", "blocks")}
            for rel, attrs in vstest.snapshot(path, 0).items()}


def poll_during(host, name, mover, rounds, timeout):
    """bob polls engineering/name and design/name while alice runs mover."""
    stop = os.path.join(host.fs, "shared", "engineering", ".stop-polling")
    if os.path.exists(stop):
        os.unlink(stop)
    counter = os.path.join(host.dir, "moves.counter")
    with open(counter, "wb") as f:
        f.write(bytes(16))
    os.chown(counter, tu.UID, tu.UID)
    os.chmod(counter, 0o644)
    a, b = host.path(f"engineering/{name}"), host.path(f"design/{name}")
    poller = host.start("bob", [sys.executable, "-c", POLLER, a, b,
                                host.path("engineering/.stop-polling"), counter])
    try:
        time.sleep(0.3)
        rc, out, err, secs = host.run("alice", [sys.executable, "-c", mover, a, b, str(rounds),
                                                counter], timeout=timeout)
        check(rc == 0, f"{name}: the mover failed: {rc} {out} {err}")
    finally:
        host.write(stop, "")
    out, err = poller.communicate(timeout=60)
    check(poller.returncode == 0, f"the poller failed: {err}")
    polls, gaps, overlapped = (int(x) for x in out.split())
    os.unlink(stop)
    return polls, gaps, overlapped, secs


def poll(host):
    eng = host.shared
    host.write(f"{eng}/note.md", (b"a 2 KiB note\n" * 200)[:2048])
    with open(f"{eng}/big.bin", "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(64):
            f.write(block)
    d.write_tree(f"{eng}/folder", 200, size=2048, seed="shared")
    tu.chown_tree(eng)
    before = {n: tree(f"{eng}/{n}") for n in ("note.md", "big.bin", "folder")}
    for name, rounds in (("note.md", 300), ("big.bin", 6), ("folder", 15)):
        polls, gaps, overlapped, secs = poll_during(host, name, MOVER, rounds, timeout=600)
        print(f"{name}: {2 * rounds} moves through vaultshim in {secs:.1f}s, "
              f"{polls} polls, {gaps} gaps ({overlapped} rounds overlapped two moves)",
              flush=True)
        check(polls > 0 and gaps == 0, f"{name}: {gaps} polls saw neither name")
        check(tree(f"{eng}/{name}") == before[name], f"{name}: not whole after the moves")
        check(not os.path.lexists(f"{host.shared_folder('design')}/{name}"),
              f"{name}: left behind in design")
    # The control: the same poller catches a mover that is not atomic.
    polls, gaps, overlapped, secs = poll_during(host, "note.md", CONTROL, 3000, timeout=300)
    print(f"control (unlink, then create): 6000 moves in {secs:.1f}s, {polls} polls, "
          f"{gaps} gaps ({overlapped} rounds overlapped two moves)", flush=True)
    check(gaps > 0, "the poller saw no gap of a mover that is not atomic: it proves nothing")
    left = host.ours(eng) + host.ours(host.shared_folder("design"))
    check(not left, f"residue {left}")


def crash(host):
    """Every step of a file move and of a tree move, crashed, never recovered."""
    eng, design = host.shared, host.shared_folder("design")
    runs = 0
    for kind in ("note", "folder"):
        for step in d.move_steps():
            name = f"{kind}-{step}" + (".md" if kind == "note" else "")
            if kind == "note":
                host.write(f"{eng}/{name}", f"{name}: shared\n" * 100)
            else:
                d.write_tree(f"{eng}/{name}", 50, size=1024, seed=name)
                tu.chown_tree(eng)
            want = tree(f"{eng}/{name}")
            rc, err, _ = host.rename("alice", f"engineering/{name}", f"design/{name}",
                                     VAULTSHIM_FAULT=f"{step}:exit")
            runs += 1
            check(rc in (0, 137), f"{name}: the mover exited {rc} {err}")
            # Bob looks (as anyone would: his own container, no recovery of alice's moves).
            rc, out, err, _ = host.run("bob", ["ls", "-A", host.path("engineering"),
                                               host.path("design")])
            check(rc == 0, f"{name}: bob cannot list the folders: {err}")
            seen = [n for n in (f"{eng}/{name}", f"{design}/{name}") if tree(n) == want]
            check(seen, f"{name}: crashed at {step}, bob sees the note under neither name "
                        f"({sorted(os.listdir(eng))} / {sorted(os.listdir(design))})")
    # Alice's next session: her own recovery leaves the note once, nothing hidden.
    rc, out, err, _ = host.vault_fsck("alice", host.vault)
    check(rc in (0, 1), f"alice's vault-fsck: {rc} {out} {err}")
    left = host.ours(eng) + host.ours(design)
    check(not left, f"residue after alice's recovery: {left}")
    print(f"{runs} crashes, each seen whole by bob without any recovery")


# Watches dir for a name with prefix, then swaps it for a symlink to link_to (taking the real
# object away to taken): bob's move while alice's mover sleeps before its install.
SWAPPER = r"""
import os, sys, time
d, prefix, taken, link_to = sys.argv[1:5]
end = time.monotonic() + 30
while time.monotonic() < end:
    names = [n for n in os.listdir(d) if n.startswith(prefix)]
    if names:
        time.sleep(0.2)  # the copy is complete: alice's mover sleeps before its install
        os.rename(os.path.join(d, names[0]), taken)
        os.symlink(link_to, os.path.join(d, names[0]))
        print("swapped", names[0], flush=True)
        sys.exit(0)
    time.sleep(0.001)
sys.exit(1)
"""


def swap(host):
    a = host.personal("alice")
    eng = host.shared
    host.write(f"{a}/plan.md", "alice's plan\n" * 100)
    d.write_tree(f"{a}/proj", 30, size=1024, seed="alice")
    tu.chown_tree(a)
    for what, name, prefix in (("file", "plan.md", ".vaultshim-tmp-"),
                               ("folder", "proj", ".vaultshim-stage-")):
        before = tree(f"{a}/{name}")
        swapper = host.start("bob", [sys.executable, "-c", SWAPPER, host.path("engineering"),
                                     prefix, host.path(f"engineering/taken-{name}"),
                                     f"../personal/{name}"])
        rc, err, _ = host.rename("alice", f"personal/{name}", f"engineering/{name}",
                                 VAULTSHIM_FAULT="install:sleep=3000")
        out, _ = swapper.communicate(timeout=60)
        check(swapper.returncode == 0, f"{what}: bob found nothing to swap")
        print(f"{what}: bob {out.strip()}; alice's rename: {rc} {err}")
        check(rc != 0, f"{what}: rename() returned 0 for a move that did not happen")
        check(tree(f"{a}/{name}") == before, f"{what}: alice's {name} is not where it was")
        check(not os.path.islink(f"{eng}/{name}"), f"{what}: the target is bob's symlink")
        rc, out, err, _ = host.vault_fsck("alice", host.vault)
        check(rc != "timeout", f"{what}: alice's vault-fsck did not finish")
        check(tree(f"{a}/{name}") == before, f"{what}: alice's recovery changed her {name}")
        # Without bob: the same move installs and is proven.
        rc, err, _ = host.rename("alice", f"personal/{name}", f"engineering/{name}")
        check(rc == 0 and tree(f"{eng}/{name}") == before and not os.path.lexists(f"{a}/{name}"),
              f"{what}: the move without a swap: {rc} {err}")
        host.rename("alice", f"engineering/{name}", f"personal/{name}")


def leftover(host):
    """Hidden set-aside sources that no live move holds (an older version's, named by the id
    alone; this version's, which carry their name; one whose name was taken meanwhile) are
    put back by anyone's vault-fsck, deleting nothing; one that a live move holds is not."""
    eng = host.shared
    aside = ".vaultshim-aside-"
    host.write(f"{eng}/{aside}18eed0aba472ca5a.4242.0.0bf8d1e9ae1536c4", "an old version's note\n")
    host.write(f"{eng}/{aside}18eed0aba472ca5b.4242.1.1bf8d1e9ae1536c4_todo.md", "alice's todo\n")
    host.write(f"{eng}/{aside}18eed0aba472ca5c.4242.2.2bf8d1e9ae1536c4_taken.md", "alice's taken\n")
    host.write(f"{eng}/taken.md", "bob's new taken.md\n")
    os.makedirs(f"{eng}/{aside}18eed0aba472ca5d.4242.3.3bf8d1e9ae1536c4_proj/sub")
    host.write(f"{eng}/{aside}18eed0aba472ca5d.4242.3.3bf8d1e9ae1536c4_proj/sub/n.md", "in a folder\n")
    live = f"{eng}/{aside}18eed0aba472ca5e.4242.4.4bf8d1e9ae1536c4_live.md"
    host.write(live, "a live move's\n")
    tu.chown_tree(eng)
    st = os.stat(live)
    lock = host.path(f"engineering/.vaultshim-lock-{st.st_dev:x}-{st.st_ino:x}")
    host.write(f"{eng}/.vaultshim-lock-{st.st_dev:x}-{st.st_ino:x}", "")
    holder = host.start("alice", ["flock", "-x", lock, "sleep", "60"])
    try:
        time.sleep(1)
        rc, out, err, _ = host.vault_fsck("bob", "--dry-run", host.vault)
        check(rc == 1 and out.count("would put back as") == 4, f"bob's dry run: {rc}\n{out}{err}")
        check(len([n for n in os.listdir(eng) if n.startswith(aside)]) == 5, "the dry run acted")
        rc, out, err, _ = host.vault_fsck("bob", host.vault)
        print(out, end="")
        check(rc == 1, f"bob's vault-fsck: exit {rc}, want 1\n{out}{err}")
    finally:
        host.stop(holder)
    names = sorted(os.listdir(eng))
    want = {"todo.md": "alice's todo\n", "taken.md": "bob's new taken.md\n",
            "vaultshim-kept-18eed0aba472ca5a.4242.0.0bf8d1e9ae1536c4": "an old version's note\n",
            "vaultshim-kept-18eed0aba472ca5c.4242.2.2bf8d1e9ae1536c4_taken.md": "alice's taken\n",
            "proj/sub/n.md": "in a folder\n"}
    for rel, text in want.items():
        try:
            with open(f"{eng}/{rel}") as f:
                check(f.read() == text, f"{rel}: not what was set aside")
        except OSError as e:
            check(False, f"{rel}: not put back ({e}); the folder holds {names}")
    check(os.path.exists(live), f"a live move's set-aside source was touched: {names}")


def main():
    test = {"poll": poll, "crash": crash, "swap": swap, "leftover": leftover}[MODE]
    return tu.run("the two-user visibility tests", MODE, test, FSTYPE, size_mib=512,
                  more_shared=("design",))


if __name__ == "__main__":
    sys.exit(main())
