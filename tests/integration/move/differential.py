#!/usr/bin/env python3
"""Differential test of libvaultshim.so against the kernel's own rename(2).

For every scenario in scenarios.toml (format described at its top) the same call is made
three times on fresh copies of the same trees, inside a private mount namespace:
  kernel  same-mount rename without the shim (the expected behaviour comes from the kernel);
  cross   across two bind mounts of one directory without the shim (EXDEV, nothing changed);
  shim    across the same two bind mounts with the shim preloaded.
The shim run must equal its reference run in return value, errno and resulting trees.
Prints one line per scenario and a summary; exits 1 on any mismatch, 77 when not root.
--kernel-only checks the table against the kernel alone (no shim needed).

--fs rclone-writes|rclone-off|sshfs|bindfs puts one side of the move on that storage (a FUSE
mount of a local directory, tests/helpers/vstest/storage.py) and the other on tmpfs: --side new
moves into the storage, --side old out of it.  The reference is then the kernel's same-mount
rename on the storage; the source side must show exactly what that rename did to the old
name's side, the target side what it did to the new name's side.  What a storage cannot hold
is listed once, in storage-exceptions.toml.
"""
import argparse
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib

import vstest
from vstest import storage

FIXED_MTIME_NS = 1_609_459_200_123_456_789  # 2021-01-01, nanoseconds kept distinct per entry
KNOWN_KEYS = {"name", "src", "dst", "call", "flags", "old", "new", "olddir", "newdir", "cwd",
              "paths", "as", "ro", "mounts", "roots", "env", "reference", "errno", "why",
              "ignore", "flock", "umask", "nofile", "old_bind", "new_bind",
              "known_failing"}
ENTRY_KINDS = ("f", "d", "l", "h", "p", "s", "c", "deep", "wide")
ENTRY_KEYS = set(ENTRY_KINDS) | {"data", "size", "sparse", "hole_to", "mode", "owner", "xattrs",
                                 "acl", "chattr", "to", "rdev", "levels", "files"}


class TableError(Exception):
    pass


def load_table(path):
    with open(path, "rb") as f:
        table = tomllib.load(f)
    scenarios = table.get("scenario", [])
    seen = set()
    for index, sc in enumerate(scenarios):
        where = f"{path}: scenario #{index + 1} ({sc.get('name', '?')})"
        unknown = set(sc) - KNOWN_KEYS
        if unknown:
            raise TableError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("name", "old", "new"):
            if key not in sc:
                raise TableError(f"{where}: missing '{key}'")
        if sc["name"] in seen:
            raise TableError(f"{where}: duplicate name")
        seen.add(sc["name"])
        if sc.get("reference", "kernel") not in ("kernel", "cross", "refused"):
            raise TableError(f"{where}: reference must be kernel, cross or refused")
        if sc.get("reference") in ("cross", "refused") and not sc.get("why"):
            raise TableError(f"{where}: a reference other than the kernel needs a 'why'")
        if sc.get("ignore") and not sc.get("why"):
            raise TableError(f"{where}: ignored attributes need a 'why'")
        if sc.get("reference") == "refused" and "errno" not in sc:
            raise TableError(f"{where}: reference 'refused' needs 'errno'")
        if sc.get("paths", "absolute") not in ("absolute", "relative", "via-symlink"):
            raise TableError(f"{where}: paths must be absolute, relative or via-symlink")
        if sc.get("ro", "old") not in ("old", "new", "both"):
            raise TableError(f"{where}: ro must be old, new or both")
        for entry in sc.get("src", []) + sc.get("dst", []):
            kinds = [k for k in ENTRY_KINDS if k in entry]
            if len(kinds) != 1 or set(entry) - ENTRY_KEYS:
                raise TableError(f"{where}: bad entry {entry}")
    return scenarios


# ------------------------------------------------------------------ building trees
class TreeBuilder:
    """Creates the entries of one tree, then applies owners, modes, xattrs, ACLs, fixed
    mtimes (deepest first, so creating children cannot disturb them) and chattr flags."""

    def __init__(self, root, placeholders, symlink_times=True):
        self.root = root
        self.placeholders = placeholders
        self.symlink_times = symlink_times  # False: the storage would set the target's
        self.created = []      # every path whose mtime gets fixed
        self.attrs = []        # (path, entry) for owner/mode/xattrs/acl/chattr

    def build(self, top, entries):
        os.makedirs(top, exist_ok=True)
        self.created.append(top)
        for entry in entries:
            kind = next(k for k in ENTRY_KINDS if k in entry)
            path = os.path.normpath(os.path.join(top, entry[kind]))
            getattr(self, "_make_" + kind)(path, entry)
            self.attrs.append((path, entry))

    def _make_f(self, path, entry):
        with open(path, "wb") as f:
            if "sparse" in entry:
                f.truncate(entry["sparse"])
                f.write(b"B" * 4096)
                f.seek(entry["sparse"] - 4096)
                f.write(b"E" * 4096)
            elif "size" in entry:
                seed = os.path.relpath(path, self.root).encode()  # same bytes in every run
                f.write(hashlib.shake_256(seed).digest(entry["size"]))
            else:
                f.write(entry.get("data", f"note {os.path.basename(path)}\n").encode())
            if "hole_to" in entry:
                f.truncate(entry["hole_to"])
        self.created.append(path)

    def _make_d(self, path, entry):
        os.makedirs(path, exist_ok=True)
        self.created.append(path)

    def _make_l(self, path, entry):
        os.symlink(entry["to"].format(**self.placeholders), path)
        self.created.append(path)

    def _make_h(self, path, entry):
        os.link(os.path.join(self.root, entry["to"]), path)

    def _make_p(self, path, entry):
        os.mkfifo(path)
        self.created.append(path)

    def _make_s(self, path, entry):
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(path)
        self.created.append(path)

    def _make_c(self, path, entry):
        os.mknod(path, 0o666 | 0o020000, os.makedev(*entry["rdev"]))
        self.created.append(path)

    def _make_deep(self, path, entry):
        for level in range(entry["levels"]):
            path = os.path.join(path, f"level{level:02d}")
            os.makedirs(path)
            self.created.append(path)
        self._make_f(os.path.join(path, "bottom.md"), {})

    def _make_wide(self, path, entry):
        self._make_d(path, entry)
        for i in range(entry["files"]):
            self._make_f(os.path.join(path, f"note-{i:04d}.md"), {"data": f"note {i}\n"})

    def finish(self):
        for path, entry in self.attrs:
            if "owner" in entry:
                os.chown(path, entry["owner"], entry["owner"], follow_symlinks=False)
            if "mode" in entry:
                os.chmod(path, entry["mode"])
            for name, value in entry.get("xattrs", {}).items():
                os.setxattr(path, name, value.encode(), follow_symlinks=False)
            if "acl" in entry:
                vstest.run(["setfacl", "-m", entry["acl"], path])
        self.created.append(self.root)
        for i, path in enumerate(sorted(set(self.created), key=lambda p: (-p.count("/"), p))):
            t = FIXED_MTIME_NS + i * 1_000_000_007
            if self.symlink_times or not os.path.islink(path):
                os.utime(path, ns=(t, t), follow_symlinks=False)
        for path, entry in self.attrs:
            if "chattr" in entry:
                vstest.run(["chattr", "+" + entry["chattr"], path])

    def clear_flags(self):
        """chattr flags would make the tree undeletable; drop them wherever the move put
        the flagged entries before cleanup."""
        if any("chattr" in entry for _, entry in self.attrs):
            subprocess.run(["chattr", "-R", "-f", "-i", "-a", self.root],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def build_trees(root, sc, placeholders, symlink_times=True):
    builder = TreeBuilder(root, placeholders, symlink_times)
    os.makedirs(root)
    builder.build(os.path.join(root, "src"), sc.get("src", []))
    builder.build(os.path.join(root, "dst"), sc.get("dst", []))
    builder.finish()
    return builder


# ------------------------------------------------------------------ storage exceptions
ENTRY_FEATURES = {"h": "hardlink", "p": "fifo", "s": "socket", "c": "device", "l": "symlink"}
ATTR_FEATURES = ("xattrs", "acl", "chattr")


def load_exceptions(path, fs):
    """{feature: why} for the storage fs, from the one table of storage-exceptions.toml."""
    with open(path, "rb") as f:
        table = tomllib.load(f)
    out = {}
    for index, row in enumerate(table.get("exception", [])):
        where = f"{path}: exception #{index + 1}"
        if set(row) not in ({"fs", "feature", "effect", "why"}, {"fs", "scenario", "effect", "why"}):
            raise TableError(f"{where}: needs fs, feature (or scenario), effect, why")
        if row["effect"] not in ("not-applicable", "dropped", "emulated"):
            raise TableError(f"{where}: effect must be not-applicable, dropped or emulated")
        if "scenario" in row and row["effect"] != "not-applicable":
            raise TableError(f"{where}: a scenario row can only be not-applicable")
        if fs in row["fs"]:
            out[row.get("feature") or "scenario:" + row["scenario"]] = row
    return out


def scenario_features(sc):
    features = set()
    for entry in sc.get("src", []) + sc.get("dst", []):
        for kind, feature in ENTRY_FEATURES.items():
            if kind in entry:
                features.add(feature)
        features.update(key for key in ATTR_FEATURES if key in entry)
        if "l" in entry and (entry["to"].startswith(("/", "{")) or ".." in entry["to"]):
            features.add("symlink-outward")
        if "h" in entry and entry["to"].split("/")[0] not in (None, "") and \
                entry["to"].split("/")[0] != ("src" if entry in sc.get("src", []) else "dst"):
            features.add("one-tree")  # a hard link between the two sides
    if "as" in sc:
        features.add("as-user")
    features.add("scenario:" + sc["name"])
    return features


def acl_mode(entry):
    """The mode an entry with a POSIX ACL shows: its group bits are the ACL's mask."""
    mode = entry.get("mode", 0o644 if "f" in entry else 0o755)
    bits = {"r": 4, "w": 2, "x": 1}
    mask = 0
    for spec in entry["acl"].split(","):
        parts = spec.split(":")  # d:... entries are the default ACL: no part of the mode
        if parts[0] in ("u", "g") and (parts[0] == "g" or parts[1]):
            mask |= sum(bits.get(c, 0) for c in parts[2])
    return (mode & ~0o070) | (mask << 3)


def strip_features(sc, features):
    """The scenario's trees as a storage holding none of features can have them (an ACL
    dropped leaves its mask in the mode bits, as on the source)."""
    sc = dict(sc)
    for side in ("src", "dst"):
        entries = []
        for entry in sc.get(side, []):
            if "acl" in entry and "acl" in features:
                entry = dict(entry, mode=acl_mode(entry))
            entries.append({k: v for k, v in entry.items() if k not in features})
        sc[side] = entries
    return sc


# ------------------------------------------------------------------ running one call
class Runner:
    def __init__(self, scratch, shim, storage_base=None, storage_side="new", exceptions=None,
                 storage_export=None, reads_show_now=False):
        self.scratch = scratch
        self.shim = shim
        # With a storage: the kernel reference runs on it, the moves between it and tmpfs.
        self.storage_base = storage_base
        self.storage_side = storage_side
        self.exceptions = exceptions or {}
        self.storage_export = storage_export
        self.reads_show_now = reads_show_now
        self.helper = vstest.helper("vs-rename-call")
        self.vault = os.path.join(scratch.dir, "vault")
        self.a = os.path.join(self.vault, "a")
        self.b = os.path.join(self.vault, "b")
        self.kro = os.path.join(scratch.dir, "kernel-ro")
        self.log_dir = os.path.join(scratch.dir, "log")
        os.makedirs(self.log_dir, mode=0o777)
        os.chmod(self.log_dir, 0o777)
        # Each caller's private journal, outside the vault ($XDG_STATE_HOME-like).
        self.state = os.path.join(scratch.dir, "state")
        os.makedirs(self.state)
        os.chmod(self.state, 0o1777)
        self.base_env = {k: v for k, v in os.environ.items()
                         if k != "LD_PRELOAD" and not k.startswith("VAULTSHIM_")}
        self.counter = 0
        self.move_log = []  # the last shim call's VAULTSHIM_LOG lines
        # outside the roots: a directory on the scratch filesystem, and a symlink to the vault
        self.outside = os.path.join(scratch.fs, "outside")
        os.symlink(self.vault, os.path.join(scratch.dir, "vault-link"))
        self.placeholders = dict(vault=self.vault, a=self.a, b=self.b, scratch=scratch.dir,
                                 outside=self.outside)

    def export_path(self, path):
        """Where a path on the storage mount lives in the directory it exports."""
        return os.path.join(self.storage_export, os.path.relpath(path, self.storage_base))

    def fresh_root(self, label, on_storage=False):
        self.counter += 1
        base = self.storage_base if on_storage else self.scratch.fs
        return os.path.join(base, f"{self.counter:03d}-{label}")

    def build(self, backing, sc, on_storage):
        """The scenario's trees, as far as the storage can hold them (the exceptions table)."""
        if not on_storage:
            return build_trees(backing, sc, self.placeholders)
        dropped = {f for f, row in self.exceptions.items() if row["effect"] == "dropped"}
        try:
            return build_trees(backing, strip_features(sc, dropped), self.placeholders,
                               symlink_times="symlink-times" not in dropped)
        except (OSError, subprocess.CalledProcessError) as e:
            detail = getattr(e, "stderr", None) or e
            raise TableError(f"the storage cannot hold this scenario's trees ({detail}); "
                             "list the feature in storage-exceptions.toml") from e

    def views(self, backings, sc, same_mount):
        """(old_root, new_root) for the call; Scratch.unmount_extra() undoes its mounts.
        backings: (old side, new side), one directory twice unless a storage is tested."""
        ro = sc.get("ro")
        # a mount may show a subdirectory of the tree only (nested binds)
        old_sub, new_sub = sc.get("old_bind", "."), sc.get("new_bind", ".")
        if same_mount:
            root = backings[0]
            if ro:
                root = self.scratch.bind(root, self.kro, readonly=True)
            return os.path.join(root, old_sub), os.path.join(root, new_sub)
        self.scratch.bind(os.path.join(backings[0], old_sub), self.a,
                          readonly=ro in ("old", "both"))
        self.scratch.bind(os.path.join(backings[1], new_sub), self.b,
                          readonly=ro in ("new", "both"))
        return self.a, self.b

    def scenario_mounts(self, sc, old_root, new_root):
        for spec in sc.get("mounts", []):
            side, rel = spec.split(":", 1)
            target = os.path.join(old_root if side == "old" else new_root, rel)
            self.scratch.mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs", target])

    def symlink_view(self, name, links):
        """A directory outside the vault holding symlinks name → side root."""
        view = os.path.join(self.scratch.dir, name)
        shutil.rmtree(view, ignore_errors=True)
        os.mkdir(view)
        for link, target in links.items():
            os.symlink(target, os.path.join(view, link))
        return view

    def argv(self, sc, old_root, new_root):
        argv = [self.helper]
        for key, option, fmt in (("as", "--as", "{}"), ("umask", "--umask", "{:o}"),
                                 ("nofile", "--nofile", "{}")):
            if key in sc:
                argv += [option, fmt.format(sc[key])]
        paths = sc.get("paths", "absolute")
        old, new = f"{old_root}/{sc['old']}", f"{new_root}/{sc['new']}"
        if paths == "via-symlink":
            alias = self.symlink_view("alias", {"old": old_root})
            old = f"{alias}/old/{sc['old']}"
        elif paths == "relative":
            # cwd where "a" and "b" lead to the two sides: the vault itself across mounts
            view = self.vault if old_root == self.a else \
                self.symlink_view("kernel-view", {"a": old_root, "b": new_root})
            argv += ["--chdir", view]
            old, new = f"a/{sc['old']}", f"b/{sc['new']}"
        # what the two names reach, for locating the move's effects in the trees
        self.call_paths = (old if paths != "relative" else f"{view}/{old}",
                           new if paths != "relative" else f"{view}/{new}")
        if "cwd" in sc:
            argv += ["--chdir", f"{old_root}/{sc['cwd']}"]
            old = sc["old"]
            self.call_paths = (f"{old_root}/{sc['cwd']}/{old}", self.call_paths[1])
        elif "olddir" in sc:
            argv += ["--olddir", f"{old_root}/{sc['olddir']}"]
            old = sc["old"]
            self.call_paths = (f"{old_root}/{sc['olddir']}/{old}", self.call_paths[1])
        if "newdir" in sc:
            argv += ["--newdir", f"{new_root}/{sc['newdir']}"]
            new = sc["new"]
            self.call_paths = (self.call_paths[0], f"{new_root}/{sc['newdir']}/{new}")
        return argv + [sc.get("call", "rename"), old, new, sc.get("flags", "0")]

    def env(self, sc, with_shim):
        env = dict(self.base_env)
        if with_shim:
            roots = sc.get("roots", "{vault}").format(**self.placeholders)
            env.update({"LD_PRELOAD": self.shim, "VAULTSHIM_ROOTS": roots,
                        "VAULTSHIM_LOG": os.path.join(self.log_dir, "moves.jsonl"),
                        "VAULTSHIM_JOURNAL": self.journal(sc)})
            env.update(sc.get("env", {}))
        return env

    def backings(self, label, same_mount):
        """[(directory, on the storage?)] for the old side then the new side (one entry when
        both sides are one tree)."""
        if self.storage_base is None:
            return [(self.fresh_root(label), False)]
        if same_mount:
            return [(self.fresh_root(label, on_storage=True), True)]
        on_new = self.storage_side == "new"
        return [(self.fresh_root(label + "-old", on_storage=not on_new), not on_new),
                (self.fresh_root(label + "-new", on_storage=on_new), on_new)]

    def located(self, path, backing):
        """The tree-relative name a call path reaches (symlinks in its directory part
        resolved as the kernel resolves them), or None outside the tree."""
        path = path.rstrip("/") or "/"
        parent, name = os.path.split(path)
        rel = os.path.relpath(os.path.join(os.path.realpath(parent), name), backing)
        return None if rel.startswith("..") else rel

    def on_storage(self, path):
        return self.storage_base is not None and \
            os.path.commonpath([path, self.storage_base]) == self.storage_base

    def snapshot(self, backing, recent_ns):
        """rclone (writes) fails reads with EIO in a folder renamed before its files were
        uploaded, until they are (--vfs-write-back; rclone's own rename does the same):
        wait for that, bounded.  Its reads of the storage leave no reader's "now" behind
        for the move or the next snapshot to see (storage.READS_SHOW_NOW)."""
        deadline = time.monotonic() + 30
        reads_show_now = self.reads_show_now and self.on_storage(backing)
        while True:
            try:
                return vstest.snapshot(backing, recent_ns, reads_show_now)
            except OSError as e:
                if e.errno != errno.EIO or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def settled_snapshot(self, backing, on_storage, recent_ns):
        """The tree as built, once every regular file on the storage shows the time the
        builder set (bounded): rclone (writes) shows "now" for a file not yet uploaded that a
        program has open or has just closed (storage.READS_SHOW_NOW), and the reference runs
        must start from the same times."""
        deadline = time.monotonic() + 20
        while True:
            tree = vstest.snapshot(backing, recent_ns, self.reads_show_now and on_storage)
            if not on_storage or time.monotonic() > deadline or not any(
                    a["type"] == "file" and a["mtime_ns"] == "recent" for a in tree.values()):
                return tree
            time.sleep(0.2)

    def reach_one_tree(self, old, new):
        """The two names are one object, or one holds the other: only one tree seen
        through both mounts can show that, never a storage and a tmpfs."""
        rel_old, rel_new = self.moved
        if rel_old and rel_new and (_under(rel_old, rel_new) or _under(rel_new, rel_old)):
            return True
        try:
            a, b = os.lstat(old.rstrip("/")), os.lstat(new.rstrip("/"))
        except OSError:
            return False
        return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)

    def log_path(self):
        return os.path.join(self.log_dir, "moves.jsonl")

    def log_size(self):
        try:
            return os.path.getsize(self.log_path())
        except FileNotFoundError:
            return 0

    def log_since(self, offset):
        """The VAULTSHIM_LOG lines one shim call appended: printed with a mismatch, since
        meson keeps only the end of a test's output."""
        try:
            with open(self.log_path(), "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def journal(self, sc):
        return os.path.join(self.state, sc.get("as", "0:0").split(":")[0], "journal")

    def journal_records(self):
        """Records left in any caller's private journal (a finished move leaves none)."""
        return [os.path.join(d, n) for d, _, names in os.walk(self.state) for n in names]

    def run(self, sc, label, same_mount, with_shim, recent_ns):
        """Build, call, tear down; returns (result line, snapshots before, snapshots after),
        one snapshot per side tree (see backings())."""
        sides = self.backings(label, same_mount)
        if with_shim:
            self.move_log = []
        shutil.rmtree(self.outside, ignore_errors=True)
        os.mkdir(self.outside, 0o777)
        builders = [self.build(backing, sc, on_storage) for backing, on_storage in sides]
        before = [self.settled_snapshot(backing, on_storage, recent_ns)
                  for backing, on_storage in sides]
        dirs = [backing for backing, _ in sides]
        held = []
        self.call_paths = None
        try:
            for rel in sc.get("flock", []):  # another program's lock, as an editor may hold
                for backing in dirs:
                    held.append(os.open(os.path.join(backing, rel), os.O_RDONLY))
                    fcntl.flock(held[-1], fcntl.LOCK_EX)
            old_root, new_root = self.views(dirs * (3 - len(dirs)), sc, same_mount)
            self.scenario_mounts(sc, old_root, new_root)
            argv = self.argv(sc, old_root, new_root)
            if same_mount:
                self.moved = tuple(self.located(p, dirs[0]) for p in self.call_paths)
                self.one_tree = self.reach_one_tree(*self.call_paths)
            log_start = self.log_size()
            proc = subprocess.run(argv, env=self.env(sc, with_shim),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  timeout=120)
            if with_shim:
                self.move_log = self.log_since(log_start)
        finally:
            for fd in held:
                os.close(fd)
            self.scratch.unmount_extra()
        if proc.returncode != 0 or proc.stderr:
            detail = proc.stderr.strip() or proc.stdout.strip()
            result = f"helper exit {proc.returncode}: {detail}"
        else:
            result = proc.stdout.strip()
        after = [self.snapshot(backing, recent_ns) for backing in dirs]
        for builder, (backing, on_storage) in zip(builders, sides):
            builder.clear_flags()
            # the storage's own copy goes underneath it: rclone fails rmdir with EIO while
            # it still uploads a folder's files
            shutil.rmtree(self.export_path(backing) if on_storage else backing)
        return result, before, after


def _under(rel, top):
    return top == "." or rel == top or rel.startswith(top + "/")


def expected_sides(sc, kernel_before, kernel_after, moved, sides_before, storage_index):
    """What the move must leave on (old side, new side) when they are two trees: the
    kernel's same-mount rename applied to each -- the old name's subtree gone from the old
    side, the new name's subtree as the kernel left it on the new side, the two parents'
    times touched -- and every other entry as it was.  Returns (want, harness problems)."""
    want = [dict(tree) for tree in sides_before]
    if kernel_after == kernel_before:
        return want, []
    rel_old, rel_new = moved
    if rel_old is None or rel_new is None:
        return want, ["harness: the kernel changed the tree, but the call's names are outside it"]
    for side, top in ((0, rel_old), (1, rel_new)):
        for rel in [r for r in want[side] if _under(r, top)]:
            del want[side][rel]
    want[1].update({rel: attrs for rel, attrs in kernel_after.items() if _under(rel, rel_new)})
    parents = set()
    for side, top in ((0, rel_old), (1, rel_new)):
        parent = os.path.dirname(top) or "."
        parents.add(parent)
        if parent not in want[side] or parent not in kernel_after:
            continue
        if side != storage_index:
            # tmpfs: removing or adding a name touches its directory (the storage's own
            # rename may not: rclone keeps directory times)
            want[side][parent] = dict(want[side][parent], mtime_ns="recent")
            continue
        for key in ("mtime_ns", "atime_ns"):
            if kernel_after[parent][key] != kernel_before[parent][key]:
                want[side][parent] = dict(want[side][parent], **{key: kernel_after[parent][key]})
    problems = []
    for rel in sorted(set(kernel_before) | set(kernel_after)):
        if kernel_before.get(rel) == kernel_after.get(rel) or rel in parents or \
                _under(rel, rel_old) or _under(rel, rel_new):
            continue
        changed = {k for k in set(kernel_before.get(rel, {})) | set(kernel_after.get(rel, {}))
                   if kernel_before.get(rel, {}).get(k) != kernel_after.get(rel, {}).get(k)}
        if changed == {"nlink"} and rel in want[1]:
            # another name of the replaced target: one link fewer, on the new side
            want[1][rel] = dict(want[1][rel], nlink=kernel_after[rel]["nlink"])
        else:
            problems.append(f"harness: the kernel's rename also changed {rel}")
    return want, problems


def not_applicable(runner, sc):
    """The exceptions-table rows that make the scenario impossible on the storage."""
    return [row for feature, row in runner.exceptions.items()
            if row["effect"] == "not-applicable" and feature in scenario_features(sc)]


# On a storage a wide folder has this many notes at most: every note costs a few round trips
# there (the 1 000-note folder is timed by tests/bench/storage instead).
STORAGE_WIDE_FILES = 100


def scaled_for_storage(sc):
    sc = dict(sc)
    for side in ("src", "dst"):
        sc[side] = [dict(e, files=min(e["files"], STORAGE_WIDE_FILES)) if "wide" in e else e
                    for e in sc.get(side, [])]
    return sc


def check_scenario(runner, sc, kernel_only, recent_ns):
    """Returns (status, detail lines); status is ok, MISMATCH, known-failing, XPASS or n/a."""
    problems = []
    if runner.storage_base is not None:
        sc = scaled_for_storage(sc)
    skip = not_applicable(runner, sc)
    if skip:
        return "n/a", "cannot exist there: " + ", ".join(
            row.get("feature") or "this scenario" for row in skip), []
    kernel, kernel_before, kernel_after = runner.run(sc, "kernel", True, False, recent_ns)
    if runner.storage_base is not None:
        return check_on_storage(runner, sc, kernel_only, recent_ns,
                                (kernel, kernel_before, kernel_after))
    cross, cross_before, cross_after = runner.run(sc, "cross", False, False, recent_ns)
    summary = f"kernel: {kernel:<26} cross: {cross:<26}"
    if cross_after != cross_before:
        problems += ["the call without the shim changed the tree (not a cross-mount scenario?)"]
        problems += vstest.diff_snapshots(cross_before[0], cross_after[0])
    if kernel_before != cross_before:
        problems += ["harness: the two builds of the trees differ"]
        problems += vstest.diff_snapshots(kernel_before[0], cross_before[0])
    if kernel_only:
        return ("ok" if not problems else "MISMATCH"), summary, problems

    shim, _, shim_after = runner.run(sc, "shim", False, True, recent_ns)
    summary += f" shim: {shim}"
    reference = sc.get("reference", "kernel")
    if reference == "kernel":
        want, want_trees = kernel, kernel_after
    elif reference == "cross":
        want, want_trees = cross, cross_after
    else:
        want, want_trees = f"ret=-1 errno={sc['errno']}", cross_before
    return compare(sc, runner, problems, summary, (want, want_trees), (shim, shim_after))


# A rename the storage refuses: sftp's generic failure (EPERM), rclone's EEXIST; and what
# Linux answers for the same refusal.
STORAGE_GENERIC_FAILURES = ("ret=-1 errno=EPERM", "ret=-1 errno=EEXIST")
LINUX_RENAME_FAILURES = ("ret=-1 errno=ENOTEMPTY", "ret=-1 errno=EEXIST")


def check_on_storage(runner, sc, kernel_only, recent_ns, kernel_run):
    """One side on the storage, the other on tmpfs: the kernel's same-mount rename on the
    storage applied to each side (expected_sides()).  No run without the shim: two
    filesystems always give EXDEV."""
    kernel, kernel_before, kernel_after = kernel_run
    if runner.one_tree:
        row = runner.exceptions.get("one-tree")
        if row:
            return "n/a", "one-tree", []
    noreplace = runner.exceptions.get("noreplace")
    if kernel == "ret=-1 errno=EINVAL" and noreplace and "noreplace" in sc.get("flags", ""):
        # The storage refuses the flag; the shim honours it itself (see the table), so
        # the reference is the call without it (the target is missing: EEXIST came first).
        flagless = dict(sc, flags=sc["flags"].replace("noreplace", "0"))
        kernel, kernel_before, kernel_after = runner.run(flagless, "kernel", True, False,
                                                         recent_ns)
    summary = f"kernel: {kernel:<26}"
    if kernel_only:
        return "ok", summary, []
    shim, shim_before, shim_after = runner.run(sc, "shim", False, True, recent_ns)
    summary += f" shim: {shim}"
    problems = []
    storage_index = 1 if runner.storage_side == "new" else 0
    storage_side = shim_before[storage_index]
    if kernel_before[0] != storage_side:
        problems += ["harness: the two builds of the trees on the storage differ"]
        problems += vstest.diff_snapshots(kernel_before[0], storage_side)
    reference = sc.get("reference", "kernel")
    if (runner.exceptions.get("rename-errno") and kernel in STORAGE_GENERIC_FAILURES and
            shim in LINUX_RENAME_FAILURES) or \
            (runner.exceptions.get("name-errno") and
             kernel in ("ret=-1 errno=ENOENT", "ret=-1 errno=EBADMSG") and
             shim == "ret=-1 errno=ENAMETOOLONG"):
        kernel = shim  # the table's rows: the storage's own answer, Linux's errno
    if reference == "kernel":
        want = kernel
        want_trees, harness = expected_sides(sc, kernel_before[0], kernel_after[0],
                                             runner.moved, shim_before, storage_index)
        problems += harness
    elif reference == "cross":
        want, want_trees = "ret=-1 errno=EXDEV", shim_before
    else:
        want, want_trees = f"ret=-1 errno={sc['errno']}", shim_before
    return compare(sc, runner, problems, summary, (want, want_trees), (shim, shim_after))


def without_dir_times(tree):
    """A storage that keeps no directory times (the table's dir-times row)."""
    return {rel: dict(attrs, mtime_ns="not kept", atime_ns="not kept")
            if attrs["type"] == "dir" else attrs for rel, attrs in tree.items()}


def compare(sc, runner, problems, summary, wanted, got):
    """The shim's run against the reference: result line and every side's tree."""
    (want, want_trees), (shim, shim_after) = wanted, got
    reference = sc.get("reference", "kernel")
    if shim != want:
        problems.append(f"result: expected '{want}' ({reference}), got '{shim}'")
    records = runner.journal_records()
    if records:
        problems.append(f"journal records left behind: {records}")
        for record in records:
            os.unlink(record)
    labels = [""] if len(shim_after) == 1 else ["old side: ", "new side: "]
    if runner.exceptions.get("dir-times") and len(shim_after) == 2:
        # both sides: what moves out of the storage carries the times it showed
        want_trees = [without_dir_times(tree) for tree in want_trees]
        shim_after = [without_dir_times(tree) for tree in shim_after]
    ignore = tuple(sc.get("ignore", ())) + (("nlink",) if runner.exceptions.get("nlink") else ())
    # The whole tree, dot-entries included: the kernel's rename leaves nothing of ours.
    for label, want_tree, got_tree in zip(labels, want_trees, shim_after):
        problems += [label + line for line in
                     vstest.diff_snapshots(want_tree, got_tree, ignore=ignore)]
    residue = sorted(set(os.listdir(runner.vault)) - {"a", "b"})
    if residue:
        problems.append(f"left behind in the vault directory: {residue}")
    if sc.get("known_failing"):
        return ("known-failing" if problems else "XPASS"), summary, problems
    if problems:
        problems += [f"move log: {line}" for line in runner.move_log] or ["move log: (none)"]
    return ("ok" if not problems else "MISMATCH"), summary, problems


def invalid_log_lines(log_dir):
    """Every VAULTSHIM_LOG line must be one JSON object, whatever the file names were."""
    path = os.path.join(log_dir, "moves.jsonl")
    if not os.path.exists(path):
        return []
    bad = []
    with open(path, "rb") as f:
        for raw in f:
            try:
                if not isinstance(json.loads(raw), dict):
                    bad.append(raw)
            except ValueError:
                bad.append(raw)
    return bad


def storage_errors(scratch_dir, lines=20):
    """The end of the storage daemon's own log (rclone logs errors only), read before the
    scratch directory goes."""
    work = os.path.join(scratch_dir, "storage-work")
    out = []
    for name in sorted(os.listdir(work)) if os.path.isdir(work) else []:
        if name.endswith(".log"):
            with open(os.path.join(work, name), errors="replace") as f:
                out += [f"{name}: {line.rstrip()}" for line in f.readlines()[-lines:]]
    return out


@contextlib.contextmanager
def storage_for(kind, scratch):
    """The FUSE mount the storage side of every move lives on (None: no storage tested):
    a mount of its own tmpfs export, kept by Scratch.unmount_extra()."""
    if kind not in storage.KINDS:
        yield None
        return
    export = os.path.join(scratch.dir, "export")
    os.mkdir(export)
    scratch.mount(["-t", "tmpfs", "-o", "size=256m,mode=0755,noatime", "tmpfs", export])
    with storage.Storage(kind, os.path.join(scratch.dir, "storage-work"), strict=True) as st:
        mountpoint = st.mount(export, os.path.join(scratch.dir, "storage"))
        scratch.mounts.append(mountpoint)
        scratch.base_mounts = len(scratch.mounts)
        yield mountpoint


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fs", choices=("tmpfs", "ext4") + storage.KINDS, default="tmpfs")
    parser.add_argument("--side", choices=("new", "old"), default="new",
                        help="with a storage --fs: the side of the move on it")
    parser.add_argument("--table", default=os.path.join(here, "scenarios.toml"))
    parser.add_argument("--exceptions", default=os.path.join(here, "storage-exceptions.toml"))
    parser.add_argument("--only", help="regular expression selecting scenario names")
    parser.add_argument("--kernel-only", action="store_true",
                        help="check the table against the kernel alone (no shim)")
    args = parser.parse_args()

    on_storage = args.fs in storage.KINDS
    try:
        scenarios = load_table(args.table)
        exceptions = load_exceptions(args.exceptions, args.fs) if on_storage else {}
    except (TableError, tomllib.TOMLDecodeError) as e:
        print(f"FAIL: {e}")
        return 1
    if args.only:
        scenarios = [sc for sc in scenarios if re.search(args.only, sc["name"])]
    vstest.require_root("the move differential test")
    shim = None if args.kernel_only else vstest.shim_library()
    vstest.enter_private_mount_namespace()
    recent_ns = vstest.kernel_time_now_ns()

    if on_storage and storage.missing_programs(args.fs):
        print(f"FAIL: {args.fs} needs {storage.missing_programs(args.fs)} "
              "(dev/install-deps installs them)")
        return 1

    mismatches = []  # (scenario name, problems)
    counts = {"ok": 0, "MISMATCH": 0, "known-failing": 0, "XPASS": 0, "n/a": 0}
    with vstest.Scratch("tmpfs" if on_storage else args.fs) as scratch, \
            storage_for(args.fs, scratch) as storage_base:
        runner = Runner(scratch, shim, storage_base, args.side, exceptions,
                        os.path.join(scratch.dir, "export"), args.fs in storage.READS_SHOW_NOW)
        for sc in scenarios:
            try:
                status, summary, problems = check_scenario(runner, sc, args.kernel_only,
                                                           recent_ns)
            except (TableError, OSError) as e:
                status, summary, problems = "MISMATCH", "", [str(e)]
                scratch.unmount_extra()
            counts[status] += 1
            print(f"{status:<13} {sc['name']:<48} {summary}", flush=True)
            for line in problems:
                print(f"    {line}")
            if problems and sc.get("known_failing"):
                print(f"    known failing: {sc['known_failing']}")
            if status == "MISMATCH":
                mismatches.append((sc["name"], problems))
        bad_log = [] if args.kernel_only else invalid_log_lines(runner.log_dir)
        storage_log_tail = storage_errors(scratch.dir) if mismatches else []
        for line in bad_log:
            print(f"MISMATCH      VAULTSHIM_LOG line is not one JSON object: {line!r}")
    # Again at the end: meson keeps only the last lines of a long run's output.
    for name, problems in mismatches:
        print(f"mismatched: {name}")
        for line in problems:
            print(f"    {line}")
        if storage_log_tail:
            print("    the storage's log (its errors), last lines:")
            for line in storage_log_tail:
                print(f"    | {line}")
    mode = "kernel only" if args.kernel_only else "shim vs kernel"
    where = f"{args.fs} ({'into' if args.side == 'new' else 'out of'} it from/to tmpfs)" \
        if on_storage else args.fs
    print(f"{where}, {mode}: {len(scenarios)} scenarios, {counts['ok']} ok, "
          f"{counts['MISMATCH']} mismatched, {counts['known-failing']} known-failing, "
          f"{counts['XPASS']} unexpectedly passing, {counts['n/a']} not applicable")
    return 1 if counts["MISMATCH"] or bad_log else 0


if __name__ == "__main__":
    sys.exit(main())
