# SPDX-License-Identifier: MIT
"""Two users' containers on one host folder, as Kasm runs them: every command of a user runs
in a fresh private mount namespace that binds the shared host folder at <vault>/engineering
and that user's own host folder at <vault>/personal, as uid 1000 (like every Kasm user),
with libvaultshim.so preloaded and the private journal in the personal folder (as the
image sets VAULTSHIM_JOURNAL and VAULTSHIM_PERSONAL).  The same path means different things for alice and bob.

Every command runs under a deadline: a hang is a failure, never a stuck test.
"""
import os
import signal
import subprocess
import sys
import time

import vstest

UID = 1000
USERS = ("alice", "bob")
DEADLINE = 20  # seconds any single step may take
JOURNAL_NAME = ".vaultshim-private"

# Renames argv[1] to argv[2] through libc; prints the errno name on failure.
RENAME = (
    "import errno, os, sys\n"
    "try:\n"
    "    os.rename(sys.argv[1], sys.argv[2])\n"
    "except OSError as e:\n"
    "    print(errno.errorcode.get(e.errno, e.errno)); sys.exit(1)\n"
)

# Enter the user's container: binds (host folder, mount point pairs up to "--"), then drop
# to uid 1000 and run the command.
ENTER = (
    'set -e; while [ "$1" != -- ]; do mount --bind "$1" "$2"; shift 2; done; shift; '
    'exec setpriv --reuid=1000 --regid=1000 --clear-groups -- "$@"'
)


class Host(vstest.Scratch):
    """One host filesystem holding /shared/engineering and /users/<name>/personal; with
    more_shared, further shared folders (/shared/<name> at <vault>/<name>) for both users."""

    def __init__(self, fstype="tmpfs", size_mib=256, more_shared=()):
        super().__init__(fstype, size_mib)
        self.more_shared = tuple(more_shared)

    def __enter__(self):
        super().__enter__()
        self.vault = os.path.join(self.dir, "vault")
        for side in ("engineering", "personal") + self.more_shared:
            os.makedirs(os.path.join(self.vault, side))
        self.make_folders()
        self.shim = vstest.shim_library()
        self.fsck = vstest.reachable_copy(vstest.build_path("tools", "vault-fsck", "vault-fsck"))
        return self

    def make_folders(self):
        extra = [self.shared_folder(n) for n in self.more_shared]
        for path in [self.shared] + extra + [self.personal(u) for u in USERS]:
            os.makedirs(path, exist_ok=True)
            os.chown(path, UID, UID)

    @property
    def shared(self):
        return os.path.join(self.fs, "shared", "engineering")

    def shared_folder(self, name):
        return os.path.join(self.fs, "shared", name)

    def personal(self, user):
        return os.path.join(self.fs, "users", user, "personal")

    def path(self, rel):
        """A path as the users see it (inside their namespaces)."""
        return os.path.join(self.vault, rel)

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if k != "LD_PRELOAD" and not k.startswith("VAULTSHIM_")}
        env.update(LD_PRELOAD=self.shim, VAULTSHIM_ROOTS=self.vault,
                   VAULTSHIM_PERSONAL=self.path("personal"),
                   VAULTSHIM_JOURNAL=self.path(f"personal/{JOURNAL_NAME}"), UV_USE_IO_URING="0")
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def argv(self, user, argv):
        binds = [self.shared, self.path("engineering"), self.personal(user), self.path("personal")]
        for name in self.more_shared:
            binds += [self.shared_folder(name), self.path(name)]
        return (["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", ENTER,
                 "enter"] + binds + ["--"] + list(argv))

    def run(self, user, argv, timeout=DEADLINE, **extra):
        """(exit status, stdout, stderr, seconds) of argv in user's container."""
        start = time.monotonic()
        try:
            r = subprocess.run(self.argv(user, argv), env=self.env(**extra), timeout=timeout,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               errors="surrogateescape", text=True)
        except subprocess.TimeoutExpired as e:
            return "timeout", e.stdout or "", e.stderr or "", time.monotonic() - start
        return r.returncode, r.stdout, r.stderr, time.monotonic() - start

    def start(self, user, argv, **extra):
        """A background process in user's container (stopped by the caller)."""
        return subprocess.Popen(self.argv(user, argv), env=self.env(**extra),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    @staticmethod
    def stop(proc):
        """Kill a background process and everything it started."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def rename(self, user, old, new, timeout=DEADLINE, **extra):
        """(status, errno name or '', seconds) of os.rename(vault/old, vault/new)."""
        rc, out, err, secs = self.run(user, [sys.executable, "-c", RENAME, self.path(old),
                                             self.path(new)], timeout, **extra)
        return rc, out.strip() or err.strip(), secs

    def vault_fsck(self, user, *args, timeout=DEADLINE):
        return self.run(user, [self.fsck] + list(args), timeout)

    def write(self, host_path, data, owner=True):
        os.makedirs(os.path.dirname(host_path), exist_ok=True)
        with open(host_path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        if owner:
            os.chown(host_path, UID, UID)

    def tree(self, host_path):
        """Every entry below host_path, dot-entries included: type, mode, size, content."""
        return vstest.snapshot(host_path, 0)

    def ours(self, host_path):
        """Names of vaultshim's anywhere below host_path (there should be none)."""
        return [os.path.join(d, n) for d, dirs, files in os.walk(host_path)
                for n in dirs + files if n.startswith(".vaultshim")]


def without(tree, *names):
    """A snapshot without the given entries (and what is below them)."""
    return {rel: a for rel, a in tree.items()
            if not any(rel == n or rel.startswith(n + "/") for n in names)}


def chown_tree(path):
    for d, dirs, files in os.walk(path):
        for n in dirs + files:
            os.chown(os.path.join(d, n), UID, UID, follow_symlinks=False)
    os.chown(path, UID, UID)


# What a two-user test's checks found: check() collects, run() reports.
failures = []


def check(ok, message):
    """Record a failure (and print it at once) unless ok; returns ok."""
    if not ok:
        failures.append(message)
        print(f"FAIL: {message}", flush=True)
    return ok


def run(what, label, test, fstype="tmpfs", size_mib=128, more_shared=(), prepare=None):
    """The main() of a two-user test: as root in a private mount namespace, one Host of
    fstype for test(host) (after prepare(host)), timed; exit status 0 when no check()
    failed, else 1.  what names the tests for the skip message, label this case."""
    vstest.require_root(what)
    vstest.enter_private_mount_namespace()
    with Host(fstype, size_mib=size_mib, more_shared=more_shared) as host:
        if prepare:
            prepare(host)
        start = time.monotonic()
        test(host)
        print(f"{label} on {fstype}: {time.monotonic() - start:.1f}s")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    doc = (test.__doc__ or "").strip().splitlines()
    print(f"ok: {label}" + (f": {doc[0]}" if doc else ""))
    return 0
