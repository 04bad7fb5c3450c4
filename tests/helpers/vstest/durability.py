# SPDX-License-Identifier: MIT
"""Shared scaffolding for the durability tests.

Each test runs as root in a private mount namespace (it re-executes itself under
`unshare -m`), builds a vault whose folders are bind mounts of one directory (or of loop
images and tmpfs), drives moves through libvaultshim.so with VAULTSHIM_FAULT, and checks the
result with vault-fsck.  Everything is torn down when the namespace's last process exits;
the scratch directory is removed in a finally block.
"""
import json
import os
import re
import subprocess
import sys

import vstest
from vstest import contents as snapshot, digest  # noqa: F401 (the tests use d.snapshot, d.digest)

SKIP = vstest.SKIP
CRASH_STATUS = 137
PRELOAD = FSCK = None  # set by enter_namespace()
CURRENT = None  # the Vault in use: whose private journals fsck() reads
# vault-fsck's exit bits (fsck(8) style)
REPAIRED, LEFT, OPERATIONAL, USAGE = 1, 4, 8, 16

# A child that renames argv[1] to argv[2] through libc and reports errno by name.
RENAME_CHILD = (
    "import errno, os, sys\n"
    "try:\n"
    "    os.rename(sys.argv[1], sys.argv[2])\n"
    "except OSError as e:\n"
    "    print(errno.errorcode.get(e.errno, e.errno)); sys.exit(1)\n"
)


def move_steps():
    """The move's named steps, in order, as lib/move/steps.h lists them (the fault hook's
    names); exits 1 when none are found, so a crash test never passes by crashing nowhere."""
    path = os.path.join(os.environ.get("VS_SOURCE_ROOT", "."), "lib", "move", "steps.h")
    with open(path, encoding="utf-8") as f:
        steps = re.findall(r'X\(\w+,\s*"([a-z-]+)"\)', f.read())
    if not steps:
        print(f"no steps found in {path}")
        sys.exit(1)
    return steps


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def enter_namespace(needs_shim=True):
    """Root, a private mount namespace for this process, and the built tools."""
    global PRELOAD, FSCK
    vstest.require_root(os.path.basename(sys.argv[0]))
    PRELOAD = vstest.shim_library() if needs_shim else None
    FSCK = vstest.build_path("tools", "vault-fsck", "vault-fsck")
    vstest.enter_private_mount_namespace()


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, text=True, capture_output=True, **kw)


class Vault(vstest.Scratch):
    """A scratch vault: each folder is a bind mount of a directory of one scratch
    filesystem (tmpfs by default, or an ext4 image), as Kasm assembles /vault."""

    def __init__(self, folders=("a", "b"), fstype="tmpfs", size_mib=256):
        super().__init__(fstype, size_mib)
        self.folders = folders

    def __enter__(self):
        global CURRENT
        super().__enter__()
        self.scratch = self.dir
        self.root = os.path.join(self.dir, "vault")
        os.makedirs(self.root)
        for f in self.folders:
            self.bind_folder(f)
        # Each uid's private journal lives outside the vault, as $XDG_STATE_HOME would.
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.state)
        os.chmod(self.state, 0o1777)
        CURRENT = self
        return self

    def journal(self, uid=None):
        return os.path.join(self.state, str(uid or 0), "journal")

    def bind_folder(self, folder, source=None):
        source = source or os.path.join(self.fs, "store", folder)
        os.makedirs(source, exist_ok=True)
        return self.bind(source, self.path(folder))

    def mount_tmpfs(self, folder, size):
        os.makedirs(self.path(folder), exist_ok=True)
        return self.mount(["-t", "tmpfs", "-o", f"size={size}", "tmpfs", self.path(folder)])

    def loop_fs(self, fstype, size, *mkfs_args):
        """Make and mount a loop image beside the vault; returns its mount point."""
        image = os.path.join(self.dir, f"{fstype}.img")
        with open(image, "wb") as f:
            f.truncate(size)
        mkfs = {"xfs": ["mkfs.xfs", "-q", "-f"], "btrfs": ["mkfs.btrfs", "-q", "-f"],
                "ext4": ["mkfs.ext4", "-q", "-F"]}[fstype]
        sh(*mkfs, *mkfs_args, image)
        mnt = os.path.join(self.dir, f"{fstype}-mnt")
        os.makedirs(mnt)
        return self.mount(["-o", "loop", image, mnt])

    def path(self, rel):
        return os.path.join(self.root, rel)


def shim_env(vault, uid=None, **extra):
    env = dict(os.environ, LD_PRELOAD=PRELOAD, VAULTSHIM_ROOTS=vault.root,
               VAULTSHIM_JOURNAL=vault.journal(uid))
    env.pop("VAULTSHIM_FAULT", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def rename(vault, src, dst, fault=None, uid=None, **extra):
    """Rename through the shim in a child (as uid, if given); returns (exit status, errno
    name or '')."""
    if fault:
        extra["VAULTSHIM_FAULT"] = fault
    as_user = [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                                      "--clear-groups"]
    r = subprocess.run(as_user + [sys.executable, "-c", RENAME_CHILD, vault.path(src),
                                  vault.path(dst)],
                       env=shim_env(vault, uid, **extra), text=True, capture_output=True)
    return r.returncode, r.stdout.strip()


def fsck(*roots, dry_run=False, uid=None, extra=()):
    """vault-fsck --json of uid's private journal (as root by default) and roots."""
    cmd = [FSCK, "--json"] + (["--dry-run"] if dry_run else []) + list(extra) + list(roots)
    env = dict(os.environ, VAULTSHIM_JOURNAL=CURRENT.journal(uid))
    as_user = [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                                      "--clear-groups"]
    r = subprocess.run(as_user + cmd, text=True, capture_output=True, env=env, timeout=120)
    try:
        report = json.loads(r.stdout)
    except json.JSONDecodeError:
        report = {"unparsed": r.stdout, "stderr": r.stderr}
    return r.returncode, report


def residue(root):
    """Anything of vaultshim's under root (staging, set-aside sources, .vaultshim lock or
    journal directories: the kernel's rename leaves nothing), and journal records left in the
    private journals."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            if name.startswith(".vaultshim"):
                found.append(os.path.join(dirpath, name))
        dirnames[:] = [d for d in dirnames if not d.startswith(".vaultshim")]
    if CURRENT is not None:
        for dirpath, _, filenames in os.walk(CURRENT.state):
            found += [os.path.join(dirpath, name) for name in filenames]
    return found


def write_tree(top, entries, size=4096, seed=""):
    """A tree of `entries` notes spread over subfolders, each with distinct content."""
    os.makedirs(top, exist_ok=True)
    per_dir = max(1, entries // 10)
    for i in range(entries):
        d = os.path.join(top, f"folder{i // per_dir:03d}")
        os.makedirs(d, exist_ok=True)
        line = f"# note {i} {seed}\n".encode()
        body = (line * (size // len(line) + 1))[:size]
        with open(os.path.join(d, f"note{i:05d}.md"), "wb") as f:
            f.write(body)


class Failures:
    def __init__(self):
        self.messages = []

    def check(self, ok, message):
        if not ok:
            self.messages.append(message)
            print(f"FAIL: {message}", flush=True)
        return ok

    def finish(self, passed_what):
        if self.messages:
            print(f"{len(self.messages)} failure(s)")
            sys.exit(1)
        print(f"ok: {passed_what}")
        sys.exit(0)
