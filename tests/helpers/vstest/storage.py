"""The storage a Kasm session really gets, for tests and benchmarks: FUSE mounts of a local
directory through rclone (Kasm's Storage Providers), sshfs (a multi-server Kasm's shared
network storage) and bindfs.

Everything is private to the calling process: it must already be in its own mount namespace
(vstest.enter_private_mount_namespace()).  sshd gets a throwaway host key and user key made
here, a private sshd_config, listens on 127.0.0.1 only, and is stopped by close(); its
privilege-separation directory /run/sshd lives on a tmpfs mounted over /run in this
namespace, so the host's /run is never touched.

Usage:
    with storage.Storage("sshfs", workdir) as st:
        st.mount(export_dir, mountpoint)     # as many mounts of one kind as needed
"""
import os
import shutil
import socket
import subprocess
import time

import vstest

KINDS = ("rclone-writes", "rclone-off", "sshfs", "bindfs")
PACKAGES = {"rclone-writes": "rclone", "rclone-off": "rclone", "sshfs": "sshfs",
            "bindfs": "bindfs"}
PROGRAMS = {"rclone-writes": ["rclone"], "rclone-off": ["rclone"],
            "sshfs": ["sshfs", "/usr/sbin/sshd", "ssh-keygen"], "bindfs": ["bindfs"]}
# What Kasm's rclone Storage Providers pass (uid/gid of the session user).
RCLONE_FLAGS = ["--allow-other", "--uid", "1000", "--gid", "1000", "--config", "/dev/null",
                "--log-level", "ERROR"]
# strict: no attribute or directory caching in the kernel or the daemon, so that a snapshot
# of a tree shows what the storage holds now (hard links are separate nodes in bindfs and
# sshfs: a cached attribute of one name would hide a change made through another).
STRICT_SSHFS = ["attr_timeout=0", "entry_timeout=0", "negative_timeout=0"]
STRICT_BINDFS = ["attr_timeout=0", "entry_timeout=0"]
STRICT_RCLONE = ["--attr-timeout", "0s"]
# rclone 1.60 with a write cache shows a file that waits for its upload with the time of its
# cache file, which any read sets to "now" until the reader's descriptor is released -- after
# close() returned (vstest.snapshot(reads_show_now=True) waits for that).
READS_SHOW_NOW = ("rclone-writes",)


class StorageError(Exception):
    pass


def start(what, *kinds):
    """The start of a test on storage: root (else it is skipped), the shim, every program
    the kinds need (else a printed failure: dev/install-deps installs them, CI has them),
    then a private mount namespace.  Returns the shim's path, or None when a program is
    missing."""
    vstest.require_root(what)
    shim = vstest.shim_library()
    missing = [p for kind in kinds for p in missing_programs(kind)]
    if missing:
        print(f"FAIL: needs {missing} (dev/install-deps)")
        return None
    vstest.enter_private_mount_namespace()
    return shim


def missing_programs(kind):
    return [p for p in PROGRAMS[kind] if not shutil.which(p)]


def _fuse_mounted(path):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == path:
                fstype = fields[fields.index("-") + 1]
                return fstype.startswith("fuse")
    return False


def _wait_mounted(path, proc, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not _fuse_mounted(path):
        if proc is not None and proc.poll() is not None:
            raise StorageError(f"{what} exited with {proc.returncode}: {_log_tail(proc)}")
        if time.monotonic() > deadline:
            raise StorageError(f"{what}: {path} not mounted after {timeout} s")
        time.sleep(0.05)


def _log_tail(proc):
    path = getattr(proc, "log_path", None)
    if not path or not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        return f.read()[-2000:]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    """A private sshd on 127.0.0.1 that lets root in with one throwaway key (sftp only)."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "sshd")
        self.proc = None
        self.run_mounted = False

    def start(self):
        os.makedirs(self.dir, mode=0o700)
        for key in ("host_key", "user_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vaultshim-test",
                            "-f", os.path.join(self.dir, key)], check=True)
        shutil.copy(os.path.join(self.dir, "user_key.pub"),
                    os.path.join(self.dir, "authorized_keys"))
        if not os.path.isdir("/run/sshd"):
            # Private to this mount namespace: sshd insists on this exact directory.
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs", "/run"],
                           check=True)
            self.run_mounted = True
            os.mkdir("/run/sshd", 0o755)
        for attempt in range(5):
            self.port = _free_port()
            self._write_config()
            log = os.path.join(self.dir, "sshd.log")
            self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", self.config],
                                         stdout=open(log, "w"), stderr=subprocess.STDOUT)
            self.proc.log_path = log
            if self._wait_listening():
                break
            self.stop()
        else:
            raise StorageError(f"sshd did not start: {_log_tail(self.proc)}")
        with open(os.path.join(self.dir, "host_key.pub")) as f:
            host_key = f.read().split()[:2]
        with open(os.path.join(self.dir, "known_hosts"), "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {' '.join(host_key)}\n")
        return self

    def _write_config(self):
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write(f"""# vaultshim test sshd: loopback only, one key, sftp only
ListenAddress 127.0.0.1:{self.port}
HostKey {self.dir}/host_key
AuthorizedKeysFile {self.dir}/authorized_keys
PidFile none
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding no
X11Forwarding no
MaxStartups 50:30:100
Subsystem sftp internal-sftp
ForceCommand internal-sftp
""")

    def _wait_listening(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def sshfs_argv(self, export, mountpoint, strict=False):
        options = [
            f"IdentityFile={self.dir}/user_key", f"UserKnownHostsFile={self.dir}/known_hosts",
            "StrictHostKeyChecking=yes", "BatchMode=yes", "allow_other", "default_permissions",
            # as a session user's share is mounted: everything is uid 1000's (what the
            # server's sftp user creates included)
            "uid=1000", "gid=1000",
        ]
        if strict:
            options += STRICT_SSHFS
        options = ",".join(options)
        return ["sshfs", "-p", str(self.port), "-o", options, f"root@127.0.0.1:{export}",
                mountpoint]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        if self.run_mounted:
            subprocess.run(["umount", "-l", "/run"])
            self.run_mounted = False


class Storage:
    """Mounts of one storage kind; close() (or leaving the with block) undoes them all."""

    def __init__(self, kind, workdir, strict=False):
        if kind not in KINDS:
            raise ValueError(f"unknown storage kind {kind}")
        self.kind = kind
        self.strict = strict
        self.workdir = workdir
        self.mounts = []   # (mountpoint, process or None)
        self.sshd = None

    def __enter__(self):
        missing = missing_programs(self.kind)
        if missing:
            raise StorageError(f"{self.kind} needs {missing} (dev/install-deps installs "
                               f"{PACKAGES[self.kind]})")
        os.makedirs(self.workdir, exist_ok=True)
        if self.kind == "sshfs":
            self.sshd = Sshd(self.workdir).start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def mount(self, export, mountpoint):
        """Mounts export (a local directory) at mountpoint through this storage kind."""
        os.makedirs(mountpoint, exist_ok=True)
        n = len(self.mounts)
        log = os.path.join(self.workdir, f"{self.kind}-{n}.log")
        proc = None
        if self.kind.startswith("rclone"):
            cache = os.path.join(self.workdir, f"rclone-cache-{n}")
            mode = self.kind.split("-", 1)[1]
            argv = ["rclone", "mount", export, mountpoint, "--vfs-cache-mode", mode,
                    "--cache-dir", cache] + RCLONE_FLAGS + (STRICT_RCLONE if self.strict else [])
            proc = subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            proc.log_path = log
        elif self.kind == "sshfs":
            _run_logged(self.sshd.sshfs_argv(export, mountpoint, self.strict), log)
        else:
            options = ["allow_other"] + (STRICT_BINDFS if self.strict else [])
            _run_logged(["bindfs", "-o", ",".join(options), export, mountpoint], log)
        self.mounts.append((mountpoint, proc))
        _wait_mounted(mountpoint, proc, self.kind)
        return mountpoint

    def unmount(self, mountpoint):
        for entry in list(self.mounts):
            if entry[0] == mountpoint:
                self._unmount(entry)
                self.mounts.remove(entry)

    def _unmount(self, entry):
        mountpoint, proc = entry
        # rclone uploads on release: a clean unmount (not lazy) lets it finish.
        if subprocess.run(["umount", mountpoint], stderr=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["umount", "-l", mountpoint], stderr=subprocess.DEVNULL)
        if proc is not None:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait()

    def close(self):
        for entry in reversed(self.mounts):
            self._unmount(entry)
        self.mounts = []
        if self.sshd:
            self.sshd.close()
            self.sshd = None


def _run_logged(argv, log):
    with open(log, "w") as f:
        proc = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        with open(log) as f:
            raise StorageError(f"{argv[0]} exited with {proc.returncode}: {f.read()[-2000:]}")


def vault_with_export(scratch, shim, local="local", export_mib=128):
    """A tmpfs directory of export_mib for a storage to mount, and a vault whose folder local
    is the scratch filesystem (tmpfs): (export, vault, local, environment without the shim,
    the same with the shim preloaded, roots at the vault and its own journal and move log)."""
    export = os.path.join(scratch.dir, "export")
    os.mkdir(export)
    scratch.mount(["-t", "tmpfs", "-o", f"size={export_mib}m,mode=0755", "tmpfs", export])
    vault = os.path.join(scratch.dir, "vault")
    local = scratch.bind(scratch.fs, os.path.join(vault, local))
    base_env = {k: v for k, v in os.environ.items()
                if k != "LD_PRELOAD" and not k.startswith("VAULTSHIM_")}
    shim_env = dict(base_env, LD_PRELOAD=shim, VAULTSHIM_ROOTS=vault,
                    VAULTSHIM_JOURNAL=os.path.join(scratch.dir, "journal"),
                    VAULTSHIM_LOG=os.path.join(scratch.dir, "moves.jsonl"))
    return export, vault, local, base_env, shim_env
