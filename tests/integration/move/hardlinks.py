#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hard links kept across separate renames (issue 24, item 1), differentially.

GNU coreutils' part-hardlink shapes, each moved by one `/usr/bin/mv` process that renames
its arguments one call at a time:
  pair        mv f g DIR        f and g are links of one inode
  tree        mv a b DIR        a/1 and b/1 are links of one inode
  pair-stays  mv f g DIR        and a third link h stays behind in the source folder
  tree-stays  mv a b DIR        and a third link keep stays behind
each in three worlds, on fresh copies of the same source folder (fstype: --fs):
  kernel  one mount: the kernel's own rename(2), no shim;
  shim    across two bind mounts of one directory (EXDEV) with libvaultshim.so preloaded;
  mv      plain /usr/bin/mv onto another filesystem (a second tmpfs), no shim: it copies
          and keeps links by device and inode across its arguments.
A snapshot is every name with its type, mode, size, content and mtime, and which names
share an inode (with the link count).  The shim must give exactly what plain mv gives, and
exactly what the kernel gives wherever the kernel's result can exist across filesystems:
in every shape but the last two, everything; in pair-stays and tree-stays, everything but
the link between the name left behind and the moved ones, which no copy can keep (there,
the moved names must still be one inode, apart from the one left behind).

Then, through the shim only, within one process (python's os.rename, as Obsidian would):
the second name is copied, never linked, when the first one's copy was modified, renamed
or deleted since, or the source was written to; and two processes (mv f DIR; mv g DIR)
split the pair, as plain mv does.  --no-file-handles: all of it as in a Docker container,
where name_to_handle_at is refused.  Exits 1 on a mismatch, 77 when not root.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys

import vstest

MTIME_NS = 1_609_459_200_123_456_789
MV = "/usr/bin/mv"

SHAPES = {
    "pair": dict(files={"f": "g"}, move=["f", "g"], stays=None),
    "tree": dict(files={"a/1": "b/1"}, move=["a", "b"], stays=None),
    "pair-stays": dict(files={"f": "g"}, move=["f", "g"], stays="h"),
    "tree-stays": dict(files={"a/1": "b/1"}, move=["a", "b"], stays="keep"),
}


def build(src, shape):
    """The source folder of a shape: one inode under two names (three with `stays`), and a
    plain note beside it."""
    os.makedirs(src)
    for first, second in shape["files"].items():
        for name in (first, second):
            os.makedirs(os.path.join(src, os.path.dirname(name)), exist_ok=True)
        path = os.path.join(src, first)
        with open(path, "w") as f:
            f.write("linked note\n")
        os.chmod(path, 0o640)
        os.utime(path, ns=(MTIME_NS, MTIME_NS))
        os.link(path, os.path.join(src, second))
        if shape["stays"]:
            os.link(path, os.path.join(src, shape["stays"]))
    with open(os.path.join(src, "plain.md"), "w") as f:
        f.write("not linked\n")
    os.utime(os.path.join(src, "plain.md"), ns=(MTIME_NS, MTIME_NS))
    for top in {n.split("/")[0] for n in shape["files"].values()} | \
            {n.split("/")[0] for n in shape["files"]}:
        top_path = os.path.join(src, top)
        if os.path.isdir(top_path):
            os.utime(top_path, ns=(MTIME_NS, MTIME_NS))


def snapshot(sides):
    """{side: root}: (entries, groups).  entries: name -> (type, mode, size, sha256, mtime);
    groups: sorted tuples of the names of one inode, with its link count."""
    entries, by_inode = {}, {}
    for side, root in sides.items():
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                path = os.path.join(dirpath, name)
                rel = f"{side}/{os.path.relpath(path, root)}"
                st = os.lstat(path)
                if os.path.isdir(path) and not os.path.islink(path):
                    entries[rel] = ("d", oct(st.st_mode & 0o7777))
                    continue
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()[:16]
                entries[rel] = ("f", oct(st.st_mode & 0o7777), st.st_size, digest,
                                st.st_mtime_ns)
                by_inode.setdefault((st.st_dev, st.st_ino), (st.st_nlink, []))[1].append(rel)
    groups = sorted((tuple(sorted(names)), nlink) for nlink, names in by_inode.values())
    return entries, groups


def without(groups, name):
    """The groups with `name` left out (and the link count it added), for what cannot be
    linked across filesystems."""
    out = []
    for names, nlink in groups:
        if name in names:
            names = tuple(n for n in names if n != name)
            nlink -= 1
        if names:
            out.append((names, nlink))
    return sorted(out)


def run_mv(cwd, args, env):
    r = subprocess.run([MV] + args, cwd=cwd, env=env, text=True, capture_output=True)
    return r.returncode, r.stderr.strip()


class World:
    def __init__(self, scratch, other, preload_first=None):
        self.scratch, self.other = scratch, other
        self.base = os.path.join(scratch.fs, "vault")
        os.makedirs(self.base)
        self.a = scratch.bind(self.base, os.path.join(scratch.dir, "A"))
        self.b = scratch.bind(self.base, os.path.join(scratch.dir, "B"))
        self.state = os.path.join(scratch.dir, "state")
        os.makedirs(self.state, mode=0o700)
        self.log = os.path.join(scratch.dir, "moves.jsonl")
        self.clean_env = {k: v for k, v in os.environ.items()
                          if k != "LD_PRELOAD" and not k.startswith("VAULTSHIM_")}
        preload = vstest.shim_library()
        if preload_first:
            if not os.path.exists(preload_first):
                sys.exit(f"FAIL: {preload_first} does not exist")
            preload = f"{vstest.reachable_copy(os.path.abspath(preload_first))} {preload}"
        self.shim_env = dict(self.clean_env, LD_PRELOAD=preload,
                             VAULTSHIM_ROOTS=f"{self.a}:{self.b}", VAULTSHIM_LOG=self.log,
                             VAULTSHIM_JOURNAL=os.path.join(self.state, "journal"))
        self.n = 0

    def fresh(self, shape):
        """A fresh source folder and target DIR on the shared filesystem: their names."""
        self.n += 1
        name = f"t{self.n}"
        build(os.path.join(self.base, name, "src"), shape)
        os.makedirs(os.path.join(self.base, name, "DIR"))
        return name

    def kernel(self, shape):
        t = self.fresh(shape)
        rc, err = run_mv(os.path.join(self.a, t, "src"),
                         shape["move"] + [os.path.join(self.a, t, "DIR")], self.clean_env)
        return rc, err, snapshot({"src": os.path.join(self.base, t, "src"),
                                  "DIR": os.path.join(self.base, t, "DIR")})

    def shim(self, shape):
        t = self.fresh(shape)
        rc, err = run_mv(os.path.join(self.a, t, "src"),
                         shape["move"] + [os.path.join(self.b, t, "DIR")], self.shim_env)
        return rc, err, snapshot({"src": os.path.join(self.base, t, "src"),
                                  "DIR": os.path.join(self.base, t, "DIR")})

    def plain_mv(self, shape):
        t = self.fresh(shape)
        target = os.path.join(self.other.fs, t, "DIR")
        os.makedirs(target)
        rc, err = run_mv(os.path.join(self.base, t, "src"), shape["move"] + [target],
                         self.clean_env)
        return rc, err, snapshot({"src": os.path.join(self.base, t, "src"), "DIR": target})

    def log_methods(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line)["method"] for line in f if line.strip()]


def describe(groups):
    return "; ".join(f"{' = '.join(names)} (nlink {nlink})" for names, nlink in groups
                     if len(names) > 1 or nlink > 1) or "no links"


# Through the shim in one process: the first name moved, then something done to the copy or
# the source, then the second name moved.  What the second name must then be.
ONE_PROCESS = """
import os, sys
src, dst, action = sys.argv[1], sys.argv[2], sys.argv[3]
os.rename(os.path.join(src, "f"), os.path.join(dst, "f"))
if action == "copy-modified":
    with open(os.path.join(dst, "f"), "a") as f:
        f.write("edited at the target\\n")
elif action == "copy-renamed":
    os.rename(os.path.join(dst, "f"), os.path.join(dst, "f2"))
elif action == "copy-deleted":
    os.unlink(os.path.join(dst, "f"))
elif action == "source-modified":
    with open(os.path.join(src, "g"), "a") as f:
        f.write("edited at the source\\n")
os.rename(os.path.join(src, "g"), os.path.join(dst, "g"))
"""


# Someone else in the shared folder swaps the link staged for g (VAULTSHIM_FAULT pauses the
# second move right after its record says the staging object is complete).
SWAPPER = """
import os, sys, time
dst = sys.argv[1]
mine = os.path.join(dst, "someone-else")
with open(mine, "w") as f:
    f.write("someone else's\\n")
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    # the second move's staging name: only once the first move has installed f
    names = [n for n in os.listdir(dst) if n.startswith(".vaultshim-tmp-")]
    if names and os.path.exists(os.path.join(dst, "f")):
        os.rename(mine, os.path.join(dst, names[0]))
        print(names[0])
        sys.exit(0)
    time.sleep(0.005)
sys.exit(1)
"""


def check_swapped_staging(world, fails):
    t = world.fresh(SHAPES["pair"])
    src, dst = os.path.join(world.a, t, "src"), os.path.join(world.b, t, "DIR")
    env = dict(world.shim_env, VAULTSHIM_FAULT="verify-source:sleep=2000@2")
    swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, dst], env=world.clean_env,
                               stdout=subprocess.PIPE, text=True)
    r = subprocess.run([sys.executable, "-c", ONE_PROCESS, src, dst, "nothing"], env=env,
                       text=True, capture_output=True)
    swapped = swapper.communicate(timeout=30)[0].strip()
    base = os.path.join(world.base, t)
    with open(os.path.join(base, "DIR", "f")) as f:
        first_whole = f.read() == "linked note\n"
    try:
        with open(os.path.join(base, "DIR", swapped)) as f:
            theirs_kept = f.read() == "someone else's\n"
    except OSError:
        theirs_kept = False
    ok = (swapped and "[Errno 16]" in r.stderr and os.path.exists(os.path.join(base, "src", "g"))
          and not os.path.exists(os.path.join(base, "DIR", "g")) and first_whole and theirs_kept)
    print(f"{'OK' if ok else 'MISMATCH':9} staged link swapped by someone else: rename "
          f"{'EBUSY' if '[Errno 16]' in r.stderr else r.returncode}, g left at its source, their "
          f"file {'kept' if theirs_kept else 'gone'}")
    if not ok:
        fails.append(f"staged link swapped: swapped {swapped!r}, rename {r.returncode} "
                     f"{r.stderr.strip()[-200:]}, their file kept {theirs_kept}, DIR/f whole "
                     f"{first_whole}")


def check_fallbacks(world, fails):
    shape = SHAPES["pair"]
    cases = {
        # action: (g linked to the first copy, g's content)
        "nothing": (True, "linked note\n"),
        "copy-modified": (False, "linked note\n"),
        "copy-renamed": (False, "linked note\n"),
        "copy-deleted": (False, "linked note\n"),
        "source-modified": (False, "linked note\nedited at the source\n"),
    }
    for action, (linked, content) in cases.items():
        t = world.fresh(shape)
        src, dst = os.path.join(world.a, t, "src"), os.path.join(world.b, t, "DIR")
        r = subprocess.run([sys.executable, "-c", ONE_PROCESS, src, dst, action],
                           env=world.shim_env, text=True, capture_output=True)
        where = f"one process, {action}"
        if r.returncode != 0:
            fails.append(f"{where}: exit {r.returncode}: {r.stderr.strip()}")
            continue
        g = os.path.join(world.base, t, "DIR", "g")
        with open(g) as f:
            got = f.read()
        first = os.path.join(world.base, t, "DIR", "f2" if action == "copy-renamed" else "f")
        is_linked = os.path.exists(first) and os.path.samefile(first, g)
        gone = [n for n in ("f", "g") if os.path.exists(os.path.join(world.base, t, "src", n))]
        ok = is_linked == linked and got == content and not gone
        print(f"{'OK' if ok else 'MISMATCH':9} {where}: g {'linked' if is_linked else 'copied'}"
              f", content {got!r}, left in src {gone}")
        if not ok:
            fails.append(f"{where}: expected g {'linked' if linked else 'copied'} with "
                         f"{content!r}, got {'linked' if is_linked else 'copied'} with {got!r}"
                         f", left in src {gone}")
    check_swapped_staging(world, fails)
    # Two processes: nothing is remembered from one to the next, as with plain mv.
    t = world.fresh(shape)
    for name in ("f", "g"):
        run_mv(os.path.join(world.a, t, "src"), [name, os.path.join(world.b, t, "DIR")],
               world.shim_env)
    d = os.path.join(world.base, t, "DIR")
    split = not os.path.samefile(os.path.join(d, "f"), os.path.join(d, "g"))
    print(f"{'OK' if split else 'MISMATCH':9} two processes (mv f DIR; mv g DIR): "
          f"{'split' if split else 'linked'}")
    if not split:
        fails.append("two processes: linked although no process saw both names")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fs", default="tmpfs", choices=("tmpfs", "ext4"))
    ap.add_argument("--no-file-handles", metavar="SO",
                    help="preload SO before the shim: name_to_handle_at refused with EPERM, as "
                         "Docker's default seccomp profile refuses it (the proof is then the "
                         "generation from FS_IOC_GETVERSION)")
    args = ap.parse_args()
    vstest.require_root("hardlinks.py")
    vstest.enter_private_mount_namespace()
    fails = []
    with vstest.Scratch(args.fs) as scratch, vstest.Scratch("tmpfs", 32) as other:
        world = World(scratch, other, args.no_file_handles)
        for name, shape in SHAPES.items():
            results = {"kernel": world.kernel(shape), "mv": world.plain_mv(shape)}
            before = len(world.log_methods())
            results["shim"] = world.shim(shape)
            methods = world.log_methods()[before:]
            for who, (rc, err, (_, groups)) in results.items():
                print(f"          {name:10} {who:6} exit {rc}: {describe(groups)}"
                      + (f" [{err}]" if err else ""))
            (k_rc, _, (k_entries, k_groups)) = results["kernel"]
            (m_rc, _, m_snap) = results["mv"]
            (s_rc, _, (s_entries, s_groups)) = results["shim"]
            problems = []
            if not (k_rc == m_rc == s_rc == 0):
                problems.append(f"exit kernel {k_rc}, mv {m_rc}, shim {s_rc}")
            if (s_entries, s_groups) != m_snap:
                problems.append(f"shim differs from plain mv: {describe(s_groups)} vs "
                                f"{describe(m_snap[1])}")
            if s_entries != k_entries:
                diff = sorted(set(s_entries.items()) ^ set(k_entries.items()))
                problems.append(f"shim's names differ from the kernel's: {diff[:6]}")
            stays = shape["stays"] and f"src/{shape['stays']}"
            expected = without(k_groups, stays) if stays else k_groups
            got = without(s_groups, stays) if stays else s_groups
            if got != expected:
                problems.append(f"shim's links differ from the kernel's: {describe(s_groups)}"
                                f" vs {describe(k_groups)}")
            if "hardlink" not in methods:
                problems.append(f"no move was installed as a link (methods {methods})")
            print(f"{'OK' if not problems else 'MISMATCH':9} {name}")
            fails += [f"{name}: {p}" for p in problems]
        # an edit through one moved name shows through the other, as after the kernel's
        t = world.fresh(SHAPES["pair"])
        run_mv(os.path.join(world.a, t, "src"), ["f", "g", os.path.join(world.b, t, "DIR")],
               world.shim_env)
        with open(os.path.join(world.base, t, "DIR", "f"), "a") as f:
            f.write("one edit\n")
        with open(os.path.join(world.base, t, "DIR", "g")) as f:
            shows = f.read().endswith("one edit\n")
        print(f"{'OK' if shows else 'MISMATCH':9} an edit of DIR/f shows in DIR/g")
        if not shows:
            fails.append("an edit of DIR/f does not show in DIR/g")
        check_fallbacks(world, fails)
        shutil.rmtree(world.state, ignore_errors=True)
    if fails:
        print(f"{len(fails)} mismatch(es):")
        for f in fails:
            print(f"  {f}")
        return 1
    print(f"all shapes agree ({args.fs}"
          f"{', without file handles' if args.no_file_handles else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
