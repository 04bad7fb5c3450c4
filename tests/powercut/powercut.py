#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Power cut at any instant: a block-level check of a cross-mount move.

A process killed mid-move leaves the page cache behind; a power cut does not.  This test
records what the block device itself receives while one move runs, then rebuilds the disk
as a power cut could have left it, at every flush and with random subsets of the writes
still in flight, and checks each such disk the way a user would find it after a reboot.

  record   each filesystem image is served by vs-blockrec (FUSE) as the backing file of a
           loop device; every write, discard and flush reaches the daemon in device order
           and is logged, with markers where the move starts and ends.  Two filesystems go
           through one daemon: one global order, so a cut is one instant on both devices.
  replay   crash states, from the start marker to the end of the log (the move, a quiet
           time for the kernel's own writeback and journal commits, a sync and the
           unmount): the prefix ending at each flush; N random subsets of the writes in
           flight just before each flush (per device: the writes since that device's last
           flush); the final state.  Each is built on a copy of the image as it was when
           the move started, mounted (ext4 replays its journal, xfs its log), vault-fsck
           runs, and the invariant is checked.
  invariant  every note's bytes are complete at its source or at its target; a target the
           move replaces keeps its old bytes unless the new ones are installed; notes the
           move does not touch are intact; after vault-fsck a second vault-fsck has nothing
           to do, no move is left half-done (some notes moved, some not, or a torn copy)
           and nothing remains that neither the untouched vault nor a completed move holds.
           A note whole at both places is a duplicate: counted and reported, not a loss.

The checker knows only the notes' bytes and the trees a clean run leaves, never the
journal's format: the journal can change without touching this file.

usage: powercut.py [--fs ext4,xfs] [--layout one,two,two-target] [--kind note,overwrite,big,tree,
                   bigtree,noreplace] [--mover shim,mv] [--subsets N] [--max-states N] [--quiet S]
                   [--seed N] [--require-clean] [--expect-loss] [--verbose]
--mover careless: copy, unlink, sync the source directory, never the copy - the instrument
must find the note lost (the durability suite checks that it does).
--mover shim-commits: the shim with VAULTSHIM_FAULT_COMMITS=1 (a build with fault injection):
every filesystem of the move commits at every step of it, as the kernel's own periodic
commit may at any instant, so that a crash state falls between every two steps and not only
at the shim's own flushes (its flush count then includes those commits).
--mover shim-fsync: the shim, then the caller fsyncs the target's directory, as a program
that wants the kernel's rename durable does; every crash state after that fsync returned must
show the move complete (after vault-fsck: every note at its target only, no duplicate).  The
sample is drawn from those states only.
Root only (loop devices, FUSE, mount namespace); exits 77 without root or /dev/fuse.
"""
import argparse
import hashlib
import mmap
import os
import random
import shutil
import stat
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "helpers"))
import vstest  # noqa: E402

HEADER = struct.Struct("=IIIIQQQ")  # struct blockrec_header (blockrec-log.h)
MAGIC = 0x56534252
WRITE, FLUSH, ZERO, MARKER = 1, 2, 3, 4

IMAGE_MIB = 512          # xfs wants 300 MiB at least; the images are sparse
FOLDERS = ("a", "b", "personal")
LAYOUTS = ("one", "two", "two-target")
KINDS = ("note", "overwrite", "big", "tree", "bigtree", "noreplace")
# A tree is made durable file by file whatever its size ("bigtree" was once the syncfs one,
# above 256 files; it stays, the larger shape).
TREE_NOTES, BIG_TREE_NOTES, TREE_FOLDERS = 200, 300, 8


class Failure(Exception):
    pass


def sh(*argv, check=True, env=None):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if check and r.returncode != 0:
        raise Failure(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def digest(data):
    return hashlib.sha256(data).hexdigest()


def file_digest(path):
    """sha256 of a regular file's bytes, None for anything else or nothing."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        h = hashlib.sha256()
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                return h.hexdigest()
            h.update(block)
    except OSError:
        return None  # an unreadable block after a crash is as lost as a missing file
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------
# scenarios: what the vault holds before the move, which move, and what must survive

class Scenario:
    """One move on a vault of folders a, b (the move's sides) and personal.

    notes: (source, target, digest) for each file the move carries (vault-relative);
    replaced: target -> digest of the bytes the move replaces; bystanders: path -> digest
    of notes the move must not touch."""

    def __init__(self, kind, seed):
        self.kind = kind
        self.rng = random.Random(seed)
        self.files = {}      # vault-relative path -> bytes, written before the move
        self.links = []      # (existing, new name): hard links made before the move
        self.notes = []
        self.replaced = {}
        self.bystanders = {}
        self.source, self.target = "a/note.md", "b/note.md"
        self.flags = None
        getattr(self, "_" + kind)()
        for side in ("a", "b", "personal"):
            path = f"{side}/untouched.md"
            self.files[path] = self.body(3000)
            self.bystanders[path] = digest(self.files[path])

    def body(self, size):
        line = f"# note {self.rng.randrange(1 << 30)}\n".encode()
        return (line * (size // len(line) + 1))[:size]

    def _carry(self, source, target, data):
        self.files[source] = data
        self.notes.append((source, target, digest(data)))

    def _note(self):
        self._carry(self.source, self.target, self.body(4096))

    def _noreplace(self):
        self._note()
        self.flags = "noreplace"

    def _overwrite(self):
        self._note()
        old = self.body(4096)
        self.files[self.target] = old
        self.replaced[self.target] = digest(old)

    def _big(self):
        self.source, self.target = "a/big.bin", "b/big.bin"
        self._carry(self.source, self.target, self.rng.randbytes(1 << 20))

    def _bigtree(self):
        self._tree(BIG_TREE_NOTES)

    def _tree(self, notes=TREE_NOTES):
        self.source, self.target = "a/tree", "b/tree"
        for i in range(notes):
            folder = f"sub{i % TREE_FOLDERS}" + ("/deeper" if i % 3 == 0 else "")
            rel = f"tree/{folder}/note{i:03d}.md"
            self._carry("a/" + rel, "b/" + rel, self.body(1000 + 37 * i))
        pair = self.body(2048)
        self._carry("a/tree/linked.md", "b/tree/linked.md", pair)
        self.links.append(("a/tree/linked.md", "a/tree/sub1/linked-too.md"))
        self.notes.append(("a/tree/sub1/linked-too.md", "b/tree/sub1/linked-too.md", digest(pair)))


class Layout:
    """Where each vault folder lives: disk index and directory on that filesystem."""

    def __init__(self, name):
        self.name = name
        if name not in LAYOUTS:
            raise Failure(f"unknown layout {name} (one of {', '.join(LAYOUTS)})")
        self.disks = 1 if name == "one" else 2
        # personal (where the private journal lives) shares the source's filesystem, or
        # with "two-target" the target's: a move into the personal folder
        self.disk_of = {"a": 0, "personal": 1 if name == "two-target" else 0,
                        "b": 0 if name == "one" else 1}

    def store(self, folder):
        return f"store/{folder}"


# ---------------------------------------------------------------------------------------
# the recorder's log

class Log:
    def __init__(self, path):
        self.file = open(path, "rb")
        size = os.fstat(self.file.fileno()).st_size
        self.data = mmap.mmap(self.file.fileno(), size, prot=mmap.PROT_READ) if size else b""
        self.records = []    # (kind, disk, offset, length, payload position)
        pos = 0
        while pos < size:
            magic, kind, disk, _, _, offset, length = HEADER.unpack_from(self.data, pos)
            if magic != MAGIC:
                raise Failure(f"{path}: bad record at byte {pos}")
            pos += HEADER.size
            self.records.append((kind, disk, offset, length, pos))
            if kind in (WRITE, MARKER):
                pos += length

    def marker(self, text):
        for i, (kind, _, _, length, pos) in enumerate(self.records):
            if kind == MARKER and bytes(self.data[pos:pos + length]).strip() == text.encode():
                return i
        raise Failure(f"no marker {text!r} in the log")

    def flushes(self, begin, end):
        """(device flushes, commits): every flush the loop device issued between the two
        positions, and the same with a FUA write counted once.  The loop device has no FUA,
        so the block layer sends a write with PREFLUSH|FUA (a journal commit block) as
        flush, write, flush; a disk with FUA would see the first flush only.  A flush that
        follows exactly one write after a counted flush is taken for such a completion."""
        flushes = commits = 0
        writes_since = {}       # disk -> writes since its last flush
        completes_fua = {}      # disk -> whether its last flush was counted as one
        for kind, disk, *_ in self.records[begin:end]:
            if kind in (WRITE, ZERO):
                writes_since[disk] = writes_since.get(disk, 0) + 1
            elif kind == FLUSH:
                flushes += 1
                fua = writes_since.get(disk) == 1 and completes_fua.get(disk) is False
                commits += not fua
                completes_fua[disk] = fua
                writes_since[disk] = 0
        return flushes, commits

    def apply(self, fds, indices):
        """Apply the write and zero records at indices (in log order) to the disk fds."""
        for i in sorted(indices):
            kind, disk, offset, length, pos = self.records[i]
            if kind == WRITE:
                os.pwrite(fds[disk], self.data[pos:pos + length], offset)
            elif kind == ZERO:
                zeros = bytes(min(length, 1 << 20))
                done = 0
                while done < length:
                    n = min(len(zeros), length - done)
                    os.pwrite(fds[disk], zeros[:n], offset + done)
                    done += n

    def close(self):
        if isinstance(self.data, mmap.mmap):
            self.data.close()
        self.file.close()


def crash_states(log, begin, subsets, rng):
    """[(label, frozenset of record indices persisted)] for cuts from begin to the end.

    Everything before begin is on disk already (the driver syncs before the start marker).
    At each flush the prefix before it is one state; the writes in flight then — per
    device, those since its own last flush — persist in any subset, of which `subsets` are
    drawn.  The final state is everything."""
    states, seen = [], set()

    def add(label, persisted):
        key = frozenset(persisted)
        if key not in seen:
            seen.add(key)
            states.append((label, key))

    written, in_flight = [], {}
    add("start", ())
    for i in range(begin, len(log.records)):
        kind, disk = log.records[i][0], log.records[i][1]
        if kind in (WRITE, ZERO):
            written.append(i)
            in_flight.setdefault(disk, []).append(i)
        elif kind == FLUSH:
            add(f"flush@{i}", written)
            pending = [w for ws in in_flight.values() for w in ws]
            for n in range(subsets if len(pending) > 1 else 0):
                lost = {w for w in pending if rng.random() < 0.5} or {rng.choice(pending)}
                add(f"flush@{i}-subset{n}", [w for w in written if w not in lost])
            in_flight[disk] = []
    add("final", written)
    return states


# ---------------------------------------------------------------------------------------
# the rig: images, the recorder, loop devices, the vault's bind mounts

class Rig:
    def __init__(self, scratch, fstype, layout, tools):
        self.scratch, self.fstype, self.layout, self.tools = scratch, fstype, layout, tools
        self.work = scratch.fs                 # a private tmpfs
        self.vault = os.path.join(scratch.dir, "vault")
        self.mnt = [os.path.join(scratch.dir, f"fs{i}") for i in range(layout.disks)]
        self.fuse = os.path.join(scratch.dir, "recorder")
        self.loops = []
        self.mounted = []
        self.daemon = None
        for d in self.mnt + [self.fuse] + [self.path(f) for f in FOLDERS]:
            os.makedirs(d, exist_ok=True)

    def path(self, rel):
        return os.path.join(self.vault, rel)

    JOURNAL = ".vaultshim-journal"

    def shim_env(self):
        """The vault, and a private journal in the personal folder (on a recorded disk,
        never in the host's home)."""
        return {"VAULTSHIM_ROOTS": self.vault, "VAULTSHIM_PERSONAL": self.path("personal"),
                "VAULTSHIM_JOURNAL": self.path("personal/" + self.JOURNAL)}

    def journal_dir_entry(self):
        """The journal directory as listing() names it: it may stay, empty, after a repair
        (what is inside it may not)."""
        disk = self.layout.disk_of["personal"]
        return f"{disk}:{self.layout.store('personal')}/{self.JOURNAL}"

    def image(self, name, disk):
        return os.path.join(self.work, f"{name}{disk}.img")

    def mkfs(self, image):
        with open(image, "wb") as f:
            f.truncate(IMAGE_MIB << 20)
        if self.fstype == "ext4":
            # default format; inode tables and journal written now, not by a lazy-init
            # thread in the middle of the recording
            sh("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image)
        else:
            sh("mkfs.xfs", "-q", "-f", "-m", "reflink=1", image)

    def attach(self, files):
        """Loop devices on files (for populating the images before the recording)."""
        self.loops = [sh("losetup", "--find", "--show", f).stdout.strip() for f in files]
        self.mount_all()

    def mount_all(self):
        """The filesystems on the loop devices mounted, the vault's folders bound."""
        for disk, loop in enumerate(self.loops):
            options = ["-o", "nouuid"] if self.fstype == "xfs" else []
            sh("mount", *options, loop, self.mnt[disk])
            self.mounted.append(self.mnt[disk])
        for folder in FOLDERS:
            disk = self.layout.disk_of[folder]
            source = os.path.join(self.mnt[disk], self.layout.store(folder))
            os.makedirs(source, exist_ok=True)
            sh("mount", "--bind", source, self.path(folder))
            self.mounted.append(self.path(folder))

    def syncfs(self):
        for m in self.mnt:
            sh("sync", "-f", m)

    def unmount_all(self):
        """Undo mount_all(), also after a failure half-way; the loop devices stay, with
        nothing of the last filesystem left in their caches."""
        errors = []
        for m in reversed(self.mounted):
            if sh("umount", m, check=False).returncode != 0:
                errors.append(m)
                sh("umount", "-l", m, check=False)
        self.mounted = []
        for loop in self.loops:
            sh("blockdev", "--flushbufs", loop, check=False)
        if errors:
            raise Failure(f"could not unmount {errors}")

    def detach(self):
        try:
            self.unmount_all()
        finally:
            for loop in self.loops:
                sh("losetup", "-d", loop, check=False)
            self.loops = []

    def start_recorder(self, log, images):
        self.daemon = subprocess.Popen([self.tools["blockrec"], log, self.fuse] + images,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(self.fuse, "disk0")):
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"vs-blockrec did not start: {self.daemon.stderr.read()}")
            time.sleep(0.02)

    def mark(self, text):
        with open(os.path.join(self.fuse, "marker"), "wb", buffering=0) as f:
            f.write(text.encode())

    def serve(self, files):
        """From now on the recorder serves these files instead, and logs nothing: every
        crash state is mounted through the loop devices of the recording, so it comes back
        with the same device numbers, as a disk does after a reboot."""
        for disk, f in enumerate(files):
            with open(os.path.join(self.fuse, "control"), "wb", buffering=0) as c:
                c.write(f"replay {disk} {f}".encode())

    def stop_recorder(self):
        if self.daemon is None:
            return
        sh("umount", self.fuse, check=False)
        try:
            self.daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
        status, self.daemon = self.daemon.returncode, None
        if status != 0:
            raise Failure(f"vs-blockrec exited with {status}")

    def cleanup(self):
        try:
            self.detach()
        except Failure:
            pass
        try:
            self.stop_recorder()
        except Failure:
            pass


def sparse_copy(source, target):
    """Copy the data extents only: the images are mostly holes."""
    with open(source, "rb") as s, open(target, "wb") as t:
        size = os.fstat(s.fileno()).st_size
        t.truncate(size)
        pos = 0
        while pos < size:
            try:
                data = os.lseek(s.fileno(), pos, os.SEEK_DATA)
            except OSError:
                break
            hole = os.lseek(s.fileno(), data, os.SEEK_HOLE)
            os.lseek(s.fileno(), data, os.SEEK_SET)
            os.lseek(t.fileno(), data, os.SEEK_SET)
            left = hole - data
            while left > 0:
                n = os.copy_file_range(s.fileno(), t.fileno(), left)
                if n == 0:
                    break
                left -= n
            pos = hole


def listing(rig):
    """Every entry of every filesystem, as 'disk:relative path' -> 'dir' or 'other'."""
    entries = {}
    for disk, top in enumerate(rig.mnt):
        for root, dirs, files in os.walk(top):
            rel_root = os.path.relpath(root, top)
            for name in dirs + files:
                rel = os.path.normpath(os.path.join(rel_root, name))
                kind = "dir" if os.path.isdir(os.path.join(root, name)) and \
                    not os.path.islink(os.path.join(root, name)) else "other"
                entries[f"{disk}:{rel}"] = kind
    return entries


# ---------------------------------------------------------------------------------------
# one scenario: populate, record, replay, check

class Result:
    FIELDS = ("checked", "lost", "lost_before_fsck", "half", "residue", "fsck", "unmountable",
              "duplicates", "undone_after_fsync")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)
        self.flushes = (0, 0)
        self.examples = []

    @property
    def failures(self):
        return self.lost + self.half + self.residue + self.fsck + self.unmountable + \
            self.undone_after_fsync


def populate(rig, scenario):
    images = [rig.image("base", d) for d in range(rig.layout.disks)]
    for image in images:
        rig.mkfs(image)
    rig.attach(images)
    try:
        for rel, data in scenario.files.items():
            os.makedirs(os.path.dirname(rig.path(rel)), exist_ok=True)
            with open(rig.path(rel), "wb") as f:
                f.write(data)
        for existing, new in scenario.links:
            os.link(rig.path(existing), rig.path(new))
        before = listing(rig)
    finally:
        rig.detach()
    return images, before


# A careless mover for the instrument's own check: copy, unlink the source, sync the
# source's directory, and never sync the copy - a commit then holds the unlink and the
# copy's name without its bytes.
CARELESS_MOVE = (
    "import os, shutil, sys\n"
    "src, dst = sys.argv[1:]\n"
    "shutil.copyfile(src, dst)\n"
    "os.unlink(src)\n"
    "fd = os.open(os.path.dirname(src), os.O_RDONLY)\n"
    "os.fsync(fd)\n"
)
# The caller's own fsync of the target's directory once rename() returned.
FSYNC_DIR = (
    "import os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)\n"
    "os.fsync(fd)\n"
)


def move_command(scenario, mover, rig):
    src, dst = rig.path(scenario.source), rig.path(scenario.target)
    if mover == "careless":
        return [sys.executable, "-c", CARELESS_MOVE, src, dst], dict(os.environ)
    if mover == "mv":
        env = {k: v for k, v in os.environ.items()
               if k != "LD_PRELOAD" and not k.startswith("VAULTSHIM_")}
        return ["mv", "-n", src, dst] if scenario.flags == "noreplace" else ["mv", src, dst], env
    env = dict(os.environ, LD_PRELOAD=rig.tools["shim"], **rig.shim_env())
    if mover == "shim-commits":
        env["VAULTSHIM_FAULT_COMMITS"] = "1"
    if scenario.flags:
        return [rig.tools["rename_call"], "renameat2", src, dst, scenario.flags], env
    return [rig.tools["rename_call"], "rename", src, dst], env


def record(rig, scenario, mover, quiet):
    """Populate, then record the move and everything the kernel writes after it up to the
    unmount.  The recorder and its loop devices stay for the replay."""
    bases, before = populate(rig, scenario)
    live = [rig.image("live", d) for d in range(rig.layout.disks)]
    for base, image in zip(bases, live):
        sparse_copy(base, image)
    log = os.path.join(rig.work, "blocks.log")
    rig.start_recorder(log, live)
    rig.attach([os.path.join(rig.fuse, f"disk{d}") for d in range(rig.layout.disks)])
    rig.syncfs()
    rig.mark("start")
    argv, env = move_command(scenario, mover, rig)
    r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rig.mark("end")
    if r.returncode != 0 or (mover.startswith("shim") and not r.stdout.startswith("ret=0")):
        raise Failure(f"the move failed: {argv}: {r.stdout.strip()} {r.stderr.strip()}")
    if mover == "shim-fsync":
        sh(sys.executable, "-c", FSYNC_DIR, os.path.dirname(rig.path(scenario.target)))
        rig.mark("fsynced")
    time.sleep(quiet)      # the kernel's own journal commits and writeback, if any
    rig.syncfs()
    rig.mark("synced")
    rig.unmount_all()
    states = [rig.image("state", d) for d in range(rig.layout.disks)]
    for base, state in zip(bases, states):
        sparse_copy(base, state)
    rig.serve(states)
    for image in live:
        os.unlink(image)
    return bases, before, log


def run_fsck(rig):
    env = dict(os.environ, **rig.shim_env())
    env.pop("LD_PRELOAD", None)
    first = sh(rig.tools["fsck"], rig.vault, check=False, env=env)
    second = sh(rig.tools["fsck"], rig.vault, check=False, env=env)
    # 0: nothing to do, 1: repaired; anything else is an error or something kept for a
    # person - not the clean state a power cut must leave.  The second run must find nothing.
    ok = first.returncode in (0, 1) and second.returncode == 0
    return ok, (first.stdout + first.stderr + second.stdout + second.stderr).strip()


def inspect(rig, scenario):
    """(lost, half, duplicates, detail) for the vault as mounted now."""
    lost, dups, moved, unmoved, torn = [], 0, 0, 0, []
    for source, target, want in scenario.notes:
        at_source = file_digest(rig.path(source)) == want
        got_target = file_digest(rig.path(target))
        at_target = got_target == want
        if target in scenario.replaced:
            if got_target not in (want, scenario.replaced[target]):
                lost.append(f"{target}: neither its old bytes nor the new")
        elif got_target is not None and not at_target:
            torn.append(target)
        if not at_source and not at_target:
            lost.append(f"{source}: at neither place")
        dups += at_source and at_target
        moved += at_target and not at_source
        unmoved += at_source and not at_target
    for path, want in scenario.bystanders.items():
        if file_digest(rig.path(path)) != want:
            lost.append(f"{path}: a note the move does not touch changed")
    half = not lost and (bool(moved and unmoved) or bool(torn))
    detail = "; ".join(lost[:3] + ([f"torn copy {torn[0]}"] if torn else []))
    return bool(lost), half, dups, detail


def complete(rig, scenario):
    """Whether the move is complete: every note at its target only."""
    return all(file_digest(rig.path(target)) == want and file_digest(rig.path(source)) is None
               for source, target, want in scenario.notes)


def build_state(rig, log, starts, persisted):
    """Rewrite the served state images in place: the start images plus the persisted
    records."""
    files = [rig.image("state", d) for d in range(rig.layout.disks)]
    fds = []
    try:
        for start, f in zip(starts, files):
            sparse_copy(start, f)
            fds.append(os.open(f, os.O_RDWR))
        log.apply(fds, persisted)
    finally:
        for fd in fds:
            os.close(fd)


def check_state(rig, log, starts, persisted, scenario, allowed, after_fsync=False):
    """Build one crash state, mount it, fsck it; a dict of what went wrong.  after_fsync: a
    cut after the caller's fsync of the target's directory, where the move must be
    complete."""
    build_state(rig, log, starts, persisted)
    outcome = {}
    try:
        try:
            rig.mount_all()
        except Failure as e:
            return {"unmountable": str(e)}
        lost, _, _, detail = inspect(rig, scenario)
        if lost:
            outcome["lost_before_fsck"] = detail
        ok, fsck_output = run_fsck(rig)
        if not ok:
            outcome["fsck"] = fsck_output[-300:]
        lost, half, dups, detail = inspect(rig, scenario)
        if lost:
            outcome["lost"] = detail
        if half:
            outcome["half"] = detail or "some notes moved, some not"
        if dups:
            outcome["duplicates"] = f"{dups} notes at both places"
        if after_fsync and not complete(rig, scenario):
            outcome["undone_after_fsync"] = detail or "the move is not complete"
        extra = sorted(set(listing(rig)) - allowed)
        if extra:
            outcome["residue"] = ", ".join(extra[:4])
    finally:
        rig.unmount_all()
    return outcome


def run_scenario(scratch, tools, fstype, layout_name, kind, mover, args):
    layout = Layout(layout_name)
    rig = Rig(scratch, fstype, layout, tools)
    scenario = Scenario(kind, args.seed)
    try:
        bases, before, log_path = record(rig, scenario, mover, args.quiet)
    except BaseException:
        rig.cleanup()
        raise
    log = Log(log_path)
    result = Result()
    try:
        begin, end = log.marker("start"), log.marker("end")
        result.flushes = log.flushes(begin, end)
        # the disks as they were when the move started
        starts = [rig.image("start", d) for d in range(layout.disks)]
        fds = []
        for base, start in zip(bases, starts):
            sparse_copy(base, start)
            fds.append(os.open(start, os.O_RDWR))
        log.apply(fds, [i for i in range(begin) if log.records[i][0] in (WRITE, ZERO)])
        for fd in fds:
            os.close(fd)
        rng = random.Random(args.seed)
        states = crash_states(log, begin, args.subsets, rng)
        final = states[-1]
        fsynced = log.marker("fsynced") if mover == "shim-fsync" else None
        # what a completed move leaves is allowed in every state (the journal's own
        # directories, if it keeps them): measured, not assumed from its format
        allowed = set(before) | final_listing(rig, log, starts, final[1]) | \
            {rig.journal_dir_entry()}
        if fsynced is not None:
            states = [s for s in states if cut_of(s[0], begin, len(log.records)) > fsynced]
        if args.max_states and len(states) > args.max_states:
            sample = rng.sample(states[:-1], args.max_states - 1)
            states = sorted(sample, key=lambda s: states.index(s)) + [final]
        for label, persisted in states:
            outcome = check_state(rig, log, starts, persisted, scenario, allowed,
                                  after_fsync=fsynced is not None)
            result.checked += 1
            for key in outcome:
                setattr(result, key, getattr(result, key) + 1)
            failing = {k: v for k, v in outcome.items() if k not in ("duplicates",
                                                                       "lost_before_fsck")}
            if failing and len(result.examples) < 3:
                result.examples.append(f"{label}: {failing}")
            if args.verbose and outcome:
                print(f"    {label}: {outcome}", flush=True)
        for start in starts:
            os.unlink(start)
    finally:
        rig.cleanup()
        log.close()
        os.unlink(log_path)
        for f in bases + [rig.image("state", d) for d in range(layout.disks)]:
            os.unlink(f)
    return result


def cut_of(label, begin, end):
    """The log position of a crash state's cut, from crash_states()'s label."""
    if label == "start":
        return begin
    if label == "final":
        return end
    return int(label.split("@")[1].split("-")[0])


def final_listing(rig, log, starts, persisted):
    """The entries a completed, fsck'd move leaves: every crash state may hold these."""
    build_state(rig, log, starts, persisted)
    try:
        rig.mount_all()
        run_fsck(rig)
        return set(listing(rig))
    finally:
        rig.unmount_all()


MOVER_NAMES = {"shim": "vaultshim", "shim-commits": "vs+commit", "shim-fsync": "vs+fsync ",
               "mv": "GNU mv   ",
               "careless": "careless "}


def report(fstype, layout, kind, mover, r):
    who = MOVER_NAMES[mover]
    print(f"power cut {fstype:<4} {layout}-fs {kind:<9} {who}: {r.checked:>4} states checked, "
          f"{r.lost:>3} lost ({r.lost_before_fsck} before vault-fsck), {r.half} half-done, "
          f"{r.residue} residue, {r.fsck} fsck unfinished, {r.unmountable} unmountable, "
          f"{r.duplicates} duplicates, {r.undone_after_fsync} not complete after the caller's "
          f"fsync, {r.flushes[1]} device flushes per move "
          f"({r.flushes[0]} without FUA)", flush=True)
    for example in r.examples:
        print(f"    e.g. {example}", flush=True)


def tools_from_build():
    tools = {
        "blockrec": vstest.build_path("tests", "powercut", "vs-blockrec"),
        "fsck": vstest.build_path("tools", "vault-fsck", "vault-fsck"),
        "rename_call": vstest.build_path("tests", "helpers", "vs-rename-call"),
        "shim": vstest.shim_library(),
    }
    for name, path in tools.items():
        if not os.path.exists(path):
            print(f"FAIL: {path} is not built")
            sys.exit(1)
    return tools


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fs", default="ext4,xfs")
    p.add_argument("--layout", default=",".join(LAYOUTS))
    p.add_argument("--kind", default=",".join(KINDS))
    p.add_argument("--mover", default="shim,mv")
    p.add_argument("--subsets", type=int, default=4, help="random subsets per flush")
    p.add_argument("--max-states", type=int, default=0, help="sample at most N per scenario")
    p.add_argument("--quiet", type=float, default=6.0,
                   help="seconds between the move's end and the sync (ext4 commits every 5)")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--require-clean", action="store_true",
                   help="exit 1 when a vaultshim scenario fails the invariant")
    p.add_argument("--expect-loss", action="store_true",
                   help="exit 1 unless every scenario loses a note (the instrument's check)")
    p.add_argument("--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    vstest.require_root("powercut")
    if not os.path.exists("/dev/fuse"):
        print("SKIP: no /dev/fuse")
        return vstest.SKIP
    tools = tools_from_build()
    vstest.enter_private_mount_namespace()
    failed = []
    totals = {mover: Result() for mover in MOVER_NAMES}
    unseen = []
    with vstest.Scratch("tmpfs", size_mib=6144) as scratch:
        for fstype in args.fs.split(","):
            if not shutil.which(f"mkfs.{fstype}"):
                print(f"FAIL: mkfs.{fstype} is missing (dev/install-deps)")
                return 1
            for layout in args.layout.split(","):
                for kind in args.kind.split(","):
                    for mover in args.mover.split(","):
                        r = run_scenario(scratch, tools, fstype, layout, kind, mover, args)
                        report(fstype, layout, kind, mover, r)
                        t = totals[mover]
                        for f in Result.FIELDS:
                            setattr(t, f, getattr(t, f) + getattr(r, f))
                        if mover.startswith("shim") and r.failures:
                            failed.append(f"{fstype} {layout}-fs {kind}")
                        if r.lost == 0:
                            unseen.append(f"{fstype} {layout}-fs {kind} {mover}")
    for mover, t in totals.items():
        if t.checked:
            print(f"power cut total {MOVER_NAMES[mover].strip()}: "
                  f"{t.checked} states checked, {t.lost} lost, {t.duplicates} duplicates, "
                  f"{t.failures} failing the invariant", flush=True)
    if failed and args.require_clean:
        print(f"FAIL: the invariant does not hold for: {', '.join(failed)}")
        return 1
    if unseen and args.expect_loss:
        print(f"FAIL: no crash state lost a note in: {', '.join(unseen)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
