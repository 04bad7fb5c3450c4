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
"""
import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib

import vstest

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

    def __init__(self, root, placeholders):
        self.root = root
        self.placeholders = placeholders
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


def build_trees(root, sc, placeholders):
    builder = TreeBuilder(root, placeholders)
    os.makedirs(root)
    builder.build(os.path.join(root, "src"), sc.get("src", []))
    builder.build(os.path.join(root, "dst"), sc.get("dst", []))
    builder.finish()
    return builder


# ------------------------------------------------------------------ running one call
class Runner:
    def __init__(self, scratch, shim):
        self.scratch = scratch
        self.shim = shim
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
        # outside the roots: a directory on the scratch filesystem, and a symlink to the vault
        self.outside = os.path.join(scratch.fs, "outside")
        os.symlink(self.vault, os.path.join(scratch.dir, "vault-link"))
        self.placeholders = dict(vault=self.vault, a=self.a, b=self.b, scratch=scratch.dir,
                                 outside=self.outside)

    def fresh_root(self, label):
        self.counter += 1
        return os.path.join(self.scratch.fs, f"{self.counter:03d}-{label}")

    def views(self, backing, sc, same_mount):
        """(old_root, new_root) for the call; Scratch.unmount_extra() undoes its mounts."""
        ro = sc.get("ro")
        # a mount may show a subdirectory of the tree only (nested binds)
        old_sub, new_sub = sc.get("old_bind", "."), sc.get("new_bind", ".")
        if same_mount:
            root = backing
            if ro:
                root = self.scratch.bind(backing, self.kro, readonly=True)
            return os.path.join(root, old_sub), os.path.join(root, new_sub)
        self.scratch.bind(os.path.join(backing, old_sub), self.a, readonly=ro in ("old", "both"))
        self.scratch.bind(os.path.join(backing, new_sub), self.b, readonly=ro in ("new", "both"))
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
        if "cwd" in sc:
            argv += ["--chdir", f"{old_root}/{sc['cwd']}"]
            old = sc["old"]
        elif "olddir" in sc:
            argv += ["--olddir", f"{old_root}/{sc['olddir']}"]
            old = sc["old"]
        if "newdir" in sc:
            argv += ["--newdir", f"{new_root}/{sc['newdir']}"]
            new = sc["new"]
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

    def journal(self, sc):
        return os.path.join(self.state, sc.get("as", "0:0").split(":")[0], "journal")

    def journal_records(self):
        """Records left in any caller's private journal (a finished move leaves none)."""
        return [os.path.join(d, n) for d, _, names in os.walk(self.state) for n in names]

    def run(self, sc, label, same_mount, with_shim, recent_ns):
        """Build, call, tear down; returns (result line, snapshot before, snapshot after)."""
        backing = self.fresh_root(label)
        shutil.rmtree(self.outside, ignore_errors=True)
        os.mkdir(self.outside, 0o777)
        builder = build_trees(backing, sc, self.placeholders)
        before = vstest.snapshot(backing, recent_ns)
        held = []
        try:
            for rel in sc.get("flock", []):  # another program's lock, as an editor may hold
                held.append(os.open(os.path.join(backing, rel), os.O_RDONLY))
                fcntl.flock(held[-1], fcntl.LOCK_EX)
            old_root, new_root = self.views(backing, sc, same_mount)
            self.scenario_mounts(sc, old_root, new_root)
            proc = subprocess.run(self.argv(sc, old_root, new_root), env=self.env(sc, with_shim),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  timeout=120)
        finally:
            for fd in held:
                os.close(fd)
            self.scratch.unmount_extra()
        if proc.returncode != 0 or proc.stderr:
            detail = proc.stderr.strip() or proc.stdout.strip()
            result = f"helper exit {proc.returncode}: {detail}"
        else:
            result = proc.stdout.strip()
        after = vstest.snapshot(backing, recent_ns)
        builder.clear_flags()
        shutil.rmtree(backing)
        return result, before, after


def check_scenario(runner, sc, kernel_only, recent_ns):
    """Returns (status, detail lines); status is ok, MISMATCH, known-failing or XPASS."""
    problems = []
    kernel, kernel_before, kernel_after = runner.run(sc, "kernel", True, False, recent_ns)
    cross, cross_before, cross_after = runner.run(sc, "cross", False, False, recent_ns)
    summary = f"kernel: {kernel:<26} cross: {cross:<26}"
    if cross_after != cross_before:
        problems += ["the call without the shim changed the tree (not a cross-mount scenario?)"]
        problems += vstest.diff_snapshots(cross_before, cross_after)
    if kernel_before != cross_before:
        problems += ["harness: the two builds of the trees differ"]
        problems += vstest.diff_snapshots(kernel_before, cross_before)
    if kernel_only:
        return ("ok" if not problems else "MISMATCH"), summary, problems

    shim, _, shim_after = runner.run(sc, "shim", False, True, recent_ns)
    summary += f" shim: {shim}"
    reference = sc.get("reference", "kernel")
    if reference == "kernel":
        want, want_tree = kernel, kernel_after
    elif reference == "cross":
        want, want_tree = cross, cross_after
    else:
        want, want_tree = f"ret=-1 errno={sc['errno']}", cross_before
    if shim != want:
        problems.append(f"result: expected '{want}' ({reference}), got '{shim}'")
    records = runner.journal_records()
    if records:
        problems.append(f"journal records left behind: {records}")
        for record in records:
            os.unlink(record)
    # The whole tree, dot-entries included: the kernel's rename leaves nothing of ours.
    problems += vstest.diff_snapshots(want_tree, shim_after, ignore=sc.get("ignore", ()))
    residue = sorted(set(os.listdir(runner.vault)) - {"a", "b"})
    if residue:
        problems.append(f"left behind in the vault directory: {residue}")
    if sc.get("known_failing"):
        return ("known-failing" if problems else "XPASS"), summary, problems
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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fs", choices=("tmpfs", "ext4"), default="tmpfs")
    parser.add_argument("--table", default=os.path.join(here, "scenarios.toml"))
    parser.add_argument("--only", help="regular expression selecting scenario names")
    parser.add_argument("--kernel-only", action="store_true",
                        help="check the table against the kernel alone (no shim)")
    args = parser.parse_args()

    try:
        scenarios = load_table(args.table)
    except (TableError, tomllib.TOMLDecodeError) as e:
        print(f"FAIL: {e}")
        return 1
    if args.only:
        scenarios = [sc for sc in scenarios if re.search(args.only, sc["name"])]
    vstest.require_root("the move differential test")
    shim = None if args.kernel_only else vstest.shim_library()
    vstest.enter_private_mount_namespace()
    recent_ns = vstest.kernel_time_now_ns()

    counts = {"ok": 0, "MISMATCH": 0, "known-failing": 0, "XPASS": 0}
    with vstest.Scratch(args.fs) as scratch:
        runner = Runner(scratch, shim)
        for sc in scenarios:
            status, summary, problems = check_scenario(runner, sc, args.kernel_only, recent_ns)
            counts[status] += 1
            print(f"{status:<13} {sc['name']:<48} {summary}", flush=True)
            for line in problems:
                print(f"    {line}")
            if problems and sc.get("known_failing"):
                print(f"    known failing: {sc['known_failing']}")
        bad_log = [] if args.kernel_only else invalid_log_lines(runner.log_dir)
        for line in bad_log:
            print(f"MISMATCH      VAULTSHIM_LOG line is not one JSON object: {line!r}")
    mode = "kernel only" if args.kernel_only else "shim vs kernel"
    print(f"{args.fs}, {mode}: {len(scenarios)} scenarios, {counts['ok']} ok, "
          f"{counts['MISMATCH']} mismatched, {counts['known-failing']} known-failing, "
          f"{counts['XPASS']} unexpectedly passing")
    return 1 if counts["MISMATCH"] or bad_log else 0


if __name__ == "__main__":
    sys.exit(main())
