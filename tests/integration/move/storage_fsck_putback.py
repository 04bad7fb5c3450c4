#!/usr/bin/env python3
"""After a crash, vault-fsck puts a set-aside source back at its name on FUSE storage too.

A note is moved out of a FUSE folder (bindfs; rclone, whose rename has no flags and no hard
links) to tmpfs by the shim, which is killed right after it set the source aside
(VAULTSHIM_FAULT=unlink-source:exit).  A program then appends to the set-aside
source, so recovery must not remove it: vault-fsck puts it back.  There renameat2's
RENAME_NOREPLACE is refused (EINVAL); the note must still be back at its own name with
the program's write, nothing left under a hidden or a "kept" name.
With --recovery next-move, no vault-fsck: the same user's next move (another note, out of
the same folder) recovers the record lazily, which searches for no leftovers, so it must put
the note back itself (on rclone the set-aside note shows another inode number than the
record's: a hash of its name).
Usage: storage_fsck_putback.py --fs bindfs|rclone-writes [--recovery fsck|next-move].
Exits 1 on any deviation, 77 when not root.
"""
import argparse
import ctypes
import errno
import json
import os
import subprocess
import sys

import vstest
from vstest import storage

NOTE = b"# a note\n" * 40
APPENDED = b"a line written while the note was set aside\n"
ASIDE = ".vaultshim-aside-"


def renameat2_noreplace(folder):
    """What the storage answers to renameat2(RENAME_NOREPLACE): 0 or an errno name."""
    libc = ctypes.CDLL(None, use_errno=True)
    a, b = os.path.join(folder, "probe-a"), os.path.join(folder, "probe-b")
    open(a, "wb").close()
    r = libc.renameat2(-100, a.encode(), -100, b.encode(), 1)  # AT_FDCWD, RENAME_NOREPLACE
    err = ctypes.get_errno()
    for name in (a, b):
        if os.path.exists(name):
            os.unlink(name)
    return "0" if r == 0 else errno.errorcode.get(err, str(err))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fs", choices=("bindfs", "rclone-writes"), required=True)
    ap.add_argument("--recovery", choices=("fsck", "next-move"), default="fsck")
    args = ap.parse_args()
    kind = args.fs
    shim = storage.start(f"vault-fsck putting back on {kind}", kind)
    if not shim:
        return 1
    fsck = vstest.build_path("tools", "vault-fsck", "vault-fsck")
    problems = []
    flags = "not probed"
    with vstest.Scratch("tmpfs") as scratch:
        export, vault, local, base_env, env = storage.vault_with_export(scratch, shim)
        with storage.Storage(kind, os.path.join(scratch.dir, "work"), strict=True) as st:
            remote = st.mount(export, os.path.join(vault, "remote"))
            src, dst = os.path.join(remote, "note.md"), os.path.join(local, "note.md")
            with open(src, "wb") as f:
                f.write(NOTE)
            r = subprocess.run([vstest.helper("vs-rename-call"), "rename", src, dst, "0"],
                               env=dict(env, VAULTSHIM_FAULT="unlink-source:exit"),
                               capture_output=True, text=True)
            flags = renameat2_noreplace(remote)
            asides = [n for n in os.listdir(remote) if n.startswith(ASIDE)]
            if r.returncode == 0 or len(asides) != 1:
                print(f"FAIL: the mover was not killed past the set-aside: exit {r.returncode}"
                      f" {r.stdout.strip()} {r.stderr.strip()}, in the folder {asides}")
                return 1
            with open(os.path.join(remote, asides[0]), "ab") as f:
                f.write(APPENDED)
            if args.recovery == "next-move":
                problems += next_move(remote, local, env, src)
            else:
                problems += run_fsck(fsck, vault, base_env, env, remote, src)
    for p in problems:
        print(f"FAIL ({kind}, {args.recovery}): {p}")
    if not problems:
        print(f"ok: on {kind} (renameat2 RENAME_NOREPLACE: {flags}) the set-aside note is "
              f"back at its name after {args.recovery}")
    return 1 if problems else 0


def next_move(remote, local, env, src):
    """The user's next move out of the folder; its lazy recovery puts the note back."""
    problems = []
    other = os.path.join(remote, "other.md")
    with open(other, "wb") as f:
        f.write(NOTE)
    r = subprocess.run([vstest.helper("vs-rename-call"), "rename", other,
                        os.path.join(local, "other.md"), "0"], env=env, capture_output=True,
                       text=True)
    if r.stdout.strip() != "ret=0 errno=0":
        problems.append(f"the next move returned {r.stdout.strip()} {r.stderr.strip()}")
    left = sorted(os.listdir(remote))
    if left != ["note.md"]:
        problems.append(f"after the next move the folder holds {left}, not the note back at "
                        "its name")
    elif open(src, "rb").read() != NOTE + APPENDED:
        problems.append("the note back at its name lacks its bytes or the write")
    return problems


def run_fsck(fsck, vault, base_env, env, remote, src):
    """vault-fsck over the vault: the record's note back at its name, nothing hidden."""
    problems = []
    f = subprocess.run([fsck, "--json", vault], capture_output=True, text=True,
                       env=dict(base_env, VAULTSHIM_JOURNAL=env["VAULTSHIM_JOURNAL"]),
                       timeout=120)
    report = f.stdout.strip()
    # 4: the source changed after its copy, so both are kept for a person to choose;
    # the source at its own name, never hidden (its set-aside name in the detail).
    # rclone: the set-aside note shows another inode number than the record's (a hash of
    # its name); the record's recovery puts it back all the same.
    try:
        doc = json.loads(report)
    except json.JSONDecodeError:
        doc = {}
    hidden = [m for m in doc.get("moves", []) if ASIDE in m.get("detail", "")]
    strays = [e for e in doc.get("leftovers", [])
              if (e.get("action"), e.get("name")) != ("put back as", "note.md")]
    if (f.returncode not in (0, 1, 4) or not doc or doc.get("error_count") or hidden
            or strays):
        problems.append(f"vault-fsck exit {f.returncode}: {report} {f.stderr}")
    left = sorted(os.listdir(remote))
    if left != ["note.md"]:
        problems.append(f"the folder holds {left}, not the note back at its name")
    elif open(src, "rb").read() != NOTE + APPENDED:
        problems.append("the note back at its name lacks its bytes or the write")
    return problems


if __name__ == "__main__":
    sys.exit(main())
