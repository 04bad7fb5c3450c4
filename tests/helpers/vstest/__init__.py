"""The Python test library of vaultshim, on PYTHONPATH through meson's test environment: root
check, private mount namespace, scratch filesystems, bind mounts, locating the build, and tree
snapshots for comparison.  Its modules: vstest.durability (vaults driven through the shim with
injected faults, vault-fsck), vstest.image (the image tests' source and build roots),
vstest.storage (rclone, sshfs and bindfs mounts of a local directory: Kasm's storage).

Every mount is made inside a private mount namespace entered by this process, so nothing can
leak into the host even when the process is killed; the scratch directory is removed on exit.
"""
import atexit
import ctypes
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

CLONE_NEWNS = 0x00020000
SKIP = 77


def require_root(what):
    if os.geteuid() != 0:
        print(f"SKIP: {what} needs root (mount namespaces, bind mounts, other uids)")
        sys.exit(SKIP)


def enter_private_mount_namespace():
    """unshare(CLONE_NEWNS) for this process and its children, with no propagation back."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        print(f"SKIP: unshare(CLONE_NEWNS): {os.strerror(err)}")
        sys.exit(SKIP)
    run(["mount", "--make-rprivate", "/"])


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kwargs)


def build_root():
    root = os.environ.get("VS_BUILD_ROOT")
    if not root:
        sys.exit("VS_BUILD_ROOT is not set (run through meson test)")
    return root


def build_path(*parts):
    return os.path.join(build_root(), *parts)


def _reachable_by_others(path):
    """Whether a process of another uid can open path: every ancestor searchable by others."""
    parent = os.path.dirname(os.path.abspath(path))
    while True:
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return False
        if parent == "/":
            return True
        parent = os.path.dirname(parent)


_public_dir = None


def reachable_copy(path):
    """path itself when another uid can open it, else a world-readable copy of it in one
    directory of this process's own, removed at exit.  Tests run the shim and the tools as
    uid 1000 too, and a checkout may sit below a directory only root can enter (/root, a
    0700 mktemp)."""
    global _public_dir
    if _reachable_by_others(path):
        return path
    if _public_dir is None:
        _public_dir = tempfile.mkdtemp(prefix="vaultshim-public-")
        os.chmod(_public_dir, 0o755)
        owner, public = os.getpid(), _public_dir
        # a forked child that exits must not take the copies from its parent
        atexit.register(lambda: os.getpid() == owner and shutil.rmtree(public, True))
    copy = os.path.join(_public_dir, os.path.basename(path))
    if not os.path.exists(copy):
        shutil.copy(path, copy)
        os.chmod(copy, 0o755)
    return copy


def shim_library():
    """The preload library (see reachable_copy); a missing library is a failure, never a
    skip."""
    path = build_path("lib", "preload", "libvaultshim.so")
    if not os.path.exists(path):
        print(f"FAIL: {path} does not exist (the shim is not built)")
        sys.exit(1)
    return reachable_copy(path)


def helper(name):
    path = build_path("tests", "helpers", name)
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} is missing: build the tests first")
    return path


class Scratch:
    """A temporary directory holding one fresh filesystem (tmpfs or an ext4 loop image),
    mounted noatime so that reading a tree (a snapshot, a copy) leaves its atimes alone.

    Use as a context manager after enter_private_mount_namespace(); SIGTERM/SIGINT/SIGHUP
    unwind through __exit__ so the directory is always removed.
    """

    def __init__(self, fstype="tmpfs", size_mib=256):
        self.fstype = fstype
        self.size_mib = size_mib
        self.mounts = []

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, _raise_exit)
        self.dir = tempfile.mkdtemp(prefix="vs-", dir="/tmp")
        os.chmod(self.dir, 0o755)  # other uids must be able to traverse it
        self.fs = os.path.join(self.dir, "fs")
        os.mkdir(self.fs)
        if self.fstype == "tmpfs":
            options = f"size={self.size_mib}m,mode=0755,noatime"
            self.mount(["-t", "tmpfs", "-o", options, "tmpfs", self.fs])
        elif self.fstype == "ext4":
            image = os.path.join(self.dir, "ext4.img")
            with open(image, "wb") as f:
                f.truncate(self.size_mib << 20)
            run(["mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0", image])
            self.mount(["-o", "loop,noatime", image, self.fs])
            os.chmod(self.fs, 0o755)
            shutil.rmtree(os.path.join(self.fs, "lost+found"), ignore_errors=True)
        else:
            raise ValueError(f"unknown filesystem type {self.fstype}")
        self.base_mounts = len(self.mounts)
        return self

    def __exit__(self, *exc):
        self.unmount_all()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def mount(self, argv):
        """mount(8) with argv; the target (last argument) is remembered for cleanup."""
        run(["mount"] + argv)
        self.mounts.append(argv[-1])
        return argv[-1]

    def bind(self, source, target, readonly=False):
        os.makedirs(target, exist_ok=True)
        self.mount(["--bind", source, target])
        if readonly:
            run(["mount", "-o", "remount,bind,ro", target])
        return target

    def unmount(self, target):
        subprocess.run(["umount", "-l", target])
        if target in self.mounts:
            self.mounts.remove(target)

    def unmount_extra(self):
        """Undo every mount under the scratch directory except the scratch filesystem.

        Read from mountinfo rather than remembered: a rename may have moved a mount."""
        keep = set(self.mounts[:self.base_mounts])
        for target in sorted(mounts_under(self.dir), key=len, reverse=True):
            if target not in keep:
                self.unmount(target)
        del self.mounts[self.base_mounts:]

    def unmount_all(self):
        for target in sorted(mounts_under(self.dir), key=len, reverse=True):
            self.unmount(target)


def mounts_under(directory):
    prefix = directory.rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p.startswith(prefix)]


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def digest(data):
    """sha256 of bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def xattrs_of(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return ()
    return tuple(sorted((n, os.getxattr(path, n, follow_symlinks=False).hex()) for n in names))


KIND = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink",
        stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket", stat.S_IFCHR: "chardev",
        stat.S_IFBLK: "blockdev"}


def snapshot(root, recent_ns, reads_show_now=False):
    """Map each path under root (relative; root itself is ".") to its comparable attributes.

    mtime/atime at or after recent_ns is reported as "recent": the rename touched it, and two runs
    at different instants cannot agree on the exact value.  Directory sizes are left out
    (ext4 keeps a grown directory's size); file allocation goes into "blocks" for the
    hole comparison, which is done with a tolerance by diff_snapshots.

    reads_show_now: the storage shows a file it has not uploaded yet with the time of the
    last read of it until that reader's descriptor is released, after close() returned
    (rclone, --vfs-cache-mode writes): after reading each file, wait (bounded) until it
    shows its own time again, so that the snapshot leaves nothing for the next program to see.
    """
    entries = {}

    def visit(path, rel):
        st = os.lstat(path)
        kind = KIND.get(stat.S_IFMT(st.st_mode), "other")
        attrs = {"type": kind, "mode": oct(stat.S_IMODE(st.st_mode)),
                 "owner": f"{st.st_uid}:{st.st_gid}",
                 "mtime_ns": "recent" if st.st_mtime_ns >= recent_ns else st.st_mtime_ns,
                 "atime_ns": "recent" if st.st_atime_ns >= recent_ns else st.st_atime_ns,
                 "xattrs": xattrs_of(path)}
        if kind != "dir":
            attrs["nlink"] = st.st_nlink  # hard links within a moved tree must stay links
        if kind == "file":
            attrs["size"] = st.st_size
            attrs["sha256"] = file_digest(path)
            attrs["blocks"] = st.st_blocks
            if reads_show_now:
                _wait_time_back(path, st.st_mtime_ns)
        elif kind == "symlink":
            attrs["target"] = os.readlink(path)
        elif kind in ("chardev", "blockdev"):
            attrs["rdev"] = st.st_rdev
        entries[rel] = attrs
        if kind == "dir":
            for name in sorted(os.listdir(path)):
                visit(os.path.join(path, name), name if rel == "." else f"{rel}/{name}")

    visit(root, ".")
    return entries


def _wait_time_back(path, mtime_ns, timeout=5):
    deadline = time.monotonic() + timeout
    while os.lstat(path).st_mtime_ns != mtime_ns and time.monotonic() < deadline:
        time.sleep(0.001)


def contents(top):
    """{relative path: (kind, detail)}: what a person would call the tree's content, for
    "nothing was lost" checks -- a file's sha256, a link's target; no times or modes (see
    snapshot() for those).  Empty when top does not exist; {".": ...} when it is no directory.
    """
    def describe(path):
        st = os.lstat(path)
        kind = stat.S_IFMT(st.st_mode)
        if kind == stat.S_IFLNK:
            return ("link", os.readlink(path))
        if kind == stat.S_IFDIR:
            return ("dir", "")
        if kind == stat.S_IFREG:
            with open(path, "rb") as f:
                return ("file", digest(f.read()))
        return ("other", oct(st.st_mode))

    if not os.path.lexists(top):
        return {}
    if not os.path.isdir(top) or os.path.islink(top):
        return {".": describe(top)}
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, top)] = describe(path)
    return out


def _blocks_close(a, b):
    """Allocation may differ by filesystem bookkeeping, never by a filled hole."""
    return abs(a - b) <= 16 + max(a, b) // 8


def diff_snapshots(expected, got, limit=12, ignore=()):
    """Human-readable differences, empty when the trees are equal (attributes named in
    ignore are not compared)."""
    lines = []
    for rel in sorted(set(expected) | set(got)):
        if rel not in got:
            lines.append(f"missing  {rel} ({expected[rel]['type']})")
            continue
        if rel not in expected:
            lines.append(f"extra    {rel} ({got[rel]['type']})")
            continue
        e, g = expected[rel], got[rel]
        for key in sorted((set(e) | set(g)) - set(ignore)):
            ev, gv = e.get(key), g.get(key)
            if key == "blocks" and ev is not None and gv is not None and _blocks_close(ev, gv):
                continue
            if ev != gv:
                lines.append(f"differs  {rel}: {key} expected {ev!r}, got {gv!r}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more differences"]
    return lines


def kernel_time_now_ns():
    """A lower bound for timestamps the kernel sets from now on (coarse clock granularity)."""
    return time.time_ns() - 50_000_000
