#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Proof before any deletion (issue 20, item 1): alice's move of a private note into the
shared folder dies with its staging file in engineering; a colleague then turns that file
into engineering/plan.md.  Alice's next vault-fsck must never delete her source on an
inode number alone: it removes the source only when the target is provably the move's
staging object (inode and generation) and the record proves the copy complete (its size
and the times it set).  Two users' containers on one host folder (twousers.py).

`proof.py CASE` runs one case:
  rename     bob renames the half-made staging file onto plan.md (after copy-data, and
             after copy-attrs: the same bytes, but no proof that the copy was complete);
  reuse      ext4: bob deletes the staging file and creates files until ext4 hands out
             its inode number again, and saves that one as plan.md (after copy-data, and
             after the copy was complete: only the generation tells them apart);
  complete   the control: the copy was complete, bob renames it onto plan.md, and alice's
             recovery rolls the move forward (the target is her whole note)."""
import os
import sys

from vstest import twousers as tu

CASE = sys.argv[1]
REPAIRED, LEFT = 1, 4
NOTE = "# Plan\n" + "alice's only copy of the plan, line by line\n" * 200
check = tu.check


def staging_files(host):
    return sorted(n for n in os.listdir(host.shared) if n.startswith(".vaultshim-tmp-"))


def crash_alice(host, fault):
    """Alice's move personal/plan.md -> engineering/plan.md, killed at `fault`; the name of
    the staging file it leaves in engineering."""
    host.write(f"{host.personal('alice')}/plan.md", NOTE)
    rc, err, _ = host.rename("alice", "personal/plan.md", "engineering/plan.md",
                             VAULTSHIM_FAULT=f"{fault}:exit")
    check(rc == 137, f"{fault}: alice's move did not die there: {rc} {err}")
    tmp = staging_files(host)
    check(len(tmp) == 1, f"{fault}: want one staging file in engineering, found {tmp}")
    return tmp[0] if tmp else None


def alice_recovers(host, label, want, want_out):
    """Alice's vault-fsck, dry run first: (exit, output).  Her note must be whole somewhere
    afterwards, whatever the outcome."""
    rc, out, err, _ = host.vault_fsck("alice", "--dry-run")
    check(rc == want, f"{label}: alice's vault-fsck --dry-run: exit {rc}, want {want}\n{out}{err}")
    rc, out, err, _ = host.vault_fsck("alice")
    print(f"{label}: alice's vault-fsck: exit {rc}\n{out.rstrip()}", flush=True)
    check(rc == want, f"{label}: alice's vault-fsck: exit {rc}, want {want}\n{out}{err}")
    check(want_out in out, f"{label}: want {want_out!r} in:\n{out}")
    return rc, out


def alice_has_her_note(host, label):
    """Her note, byte for byte, at its old name."""
    p = f"{host.personal('alice')}/plan.md"
    ok = os.path.isfile(p) and open(p).read() == NOTE
    return check(ok, f"{label}: alice's note is not back whole at personal/plan.md "
                     f"(her personal folder: {sorted(os.listdir(host.personal('alice')))})")


def reset(host):
    """Both folders emptied for the next case (alice's journal included)."""
    for folder in (host.shared, host.personal("alice")):
        for d, dirs, files in os.walk(folder, topdown=False):
            for n in files:
                os.unlink(os.path.join(d, n))
            for n in dirs:
                os.rmdir(os.path.join(d, n))


# ---------------------------------------------------------------------------- rename
def case_rename(host):
    """Bob renames alice's half-made staging file onto plan.md: her source is kept."""
    for fault in ("copy-data", "copy-attrs"):
        tmp = crash_alice(host, fault)
        if not tmp:
            return
        # Bob, in his own container: the stray hidden file looks like a lost plan.md.
        rc, out, err, _ = host.run("bob", ["sh", "-c", 'mv "$0"/.vaultshim-tmp-* "$0"/plan.md',
                                          host.path("engineering")])
        check(rc == 0, f"{fault}: bob's mv: {rc} {out}{err}")
        target = f"{host.shared}/plan.md"
        before = open(target, "rb").read()
        alice_recovers(host, fault, LEFT, "not proven installed")
        alice_has_her_note(host, fault)
        check(open(target, "rb").read() == before, f"{fault}: bob's plan.md was changed")
        check(not staging_files(host), f"{fault}: staging left: {staging_files(host)}")
        # Reported on every run, for a person, and nothing more happens to either copy.
        rc, out, err, _ = host.vault_fsck("alice")
        check(rc == LEFT and "KEPT" in out, f"{fault}: the kept record is not reported again: "
                                            f"exit {rc}\n{out}{err}")
        alice_has_her_note(host, f"{fault}, again")
        reset(host)


# ---------------------------------------------------------------------------- reuse
REUSE = (
    "import os, sys\n"
    "d, tmp, want = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
    "os.unlink(os.path.join(d, tmp))\n"
    "spares = []\n"
    "for i in range(20000):\n"
    "    p = os.path.join(d, f'new-{i}.md')\n"
    "    with open(p, 'w') as f:\n"
    "        f.write('bob\\'s new plan\\n')\n"
    "    if os.stat(p).st_ino == want:\n"
    "        os.rename(p, os.path.join(d, 'plan.md'))\n"
    "        break\n"
    "    spares.append(p)\n"
    "else:\n"
    "    print('the inode number never came back'); sys.exit(3)\n"
    "for p in spares:\n"
    "    os.unlink(p)\n"
    "print(f'inode {want} came back after {len(spares) + 1} files')\n"
)


def case_reuse(host):
    """ext4 hands the staging file's freed inode number to bob's new plan.md: alice's
    source is kept, whether or not her copy had completed."""
    for fault in ("copy-data", "install"):
        tmp = crash_alice(host, fault)
        if not tmp:
            return
        ino = os.lstat(f"{host.shared}/{tmp}").st_ino
        rc, out, err, _ = host.run("bob", [sys.executable, "-c", REUSE, host.path("engineering"),
                                           tmp, str(ino)], timeout=120)
        print(f"{fault}: {out.strip()}", flush=True)
        if not check(rc == 0, f"{fault}: bob's saves: {rc} {out}{err}"):
            return
        target = f"{host.shared}/plan.md"
        check(os.lstat(target).st_ino == ino, f"{fault}: plan.md does not have the number")
        alice_recovers(host, fault, LEFT, "not proven installed")
        alice_has_her_note(host, fault)
        check(open(target).read() == "bob's new plan\n", f"{fault}: bob's plan.md was changed")
        reset(host)


# ---------------------------------------------------------------------------- complete
def case_complete(host):
    """The control: a complete copy (the move died at the install) that bob renames onto
    plan.md is alice's whole note: her recovery rolls forward, and only once."""
    tmp = crash_alice(host, "install")
    if not tmp:
        return
    rc, out, err, _ = host.run("bob", ["sh", "-c", 'mv "$0"/.vaultshim-tmp-* "$0"/plan.md',
                                      host.path("engineering")])
    check(rc == 0, f"bob's mv: {rc} {out}{err}")
    alice_recovers(host, "complete", REPAIRED, "rolled forward")
    check(open(f"{host.shared}/plan.md").read() == NOTE, "engineering/plan.md is not her note")
    check(not os.path.exists(f"{host.personal('alice')}/plan.md"), "the source stayed")
    check(not host.ours(host.shared) and not host.ours(host.personal("alice")),
          f"residue: {host.ours(host.shared) + host.ours(host.personal('alice'))}")
    rc, out, err, _ = host.vault_fsck("alice")
    check(rc == 0, f"a second vault-fsck: exit {rc}\n{out}{err}")


def main():
    fstype = "ext4" if CASE == "reuse" else "tmpfs"
    return tu.run("the two-user proof tests", CASE, globals()[f"case_{CASE}"], fstype,
                  size_mib=128)


if __name__ == "__main__":
    sys.exit(main())
