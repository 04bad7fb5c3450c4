#!/usr/bin/env python3
"""Real, unmodified clients moving notes across two bind mounts of one directory.

Each client case runs twice on fresh trees: without the shim, proving the kernel refuses
(the client reports EXDEV, or — for mv and shutil.move, which copy by themselves — strace
shows their rename failing with EXDEV), and with libvaultshim.so preloaded, where the move
must succeed, leave an identical tree at the destination, nothing at the source, and (for the
self-copying clients) a VAULTSHIM_LOG line proving the shim did it rather than the client.

Usage: clients.py CASE      (one of the names in CASES, or "silence" / "no-vault")
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
import vstest

NODE = ["node", os.path.join(HERE, "node-move.js")]
PY = [sys.executable, os.path.join(HERE, "py-move.py")]
MV = ["mv"]

# proof "errno": without the shim the client itself reports EXDEV and changes nothing.
# proof "log":   without the shim the client copies by itself (strace shows its EXDEV);
#                with the shim the VAULTSHIM_LOG line shows the shim did the move.
CASES = {
    "node-renamesync": dict(
        tree="note", argv=NODE + ["sync", "{a}/src/note.md", "{b}/dst/note.md"],
        moves=[("note.md", "note.md")], proof="errno", without="error EXDEV", out="ok"),
    "node-promises-folder": dict(
        tree="folder", argv=NODE + ["promise", "{a}/src/notes", "{b}/dst/notes"],
        moves=[("notes", "notes")], proof="errno", without="error EXDEV", out="ok"),
    "node-concurrent-16": dict(
        tree="batch", argv=NODE + ["concurrent", "{a}/src/batch", "{b}/dst/batch"],
        moves=[(f"batch/n{i:02d}.md", f"batch/n{i:02d}.md") for i in range(16)],
        proof="errno", without="error EXDEV x16", out="ok x16"),
    "python-os-rename": dict(
        tree="note", argv=PY + ["os.rename", "{a}/src/note.md", "{b}/dst/note.md"],
        moves=[("note.md", "note.md")], proof="errno", without="error EXDEV", out="ok"),
    "python-shutil-move": dict(
        tree="folder", argv=PY + ["shutil.move", "{a}/src/notes", "{b}/dst/notes"],
        moves=[("notes", "notes")], proof="log", without="ok", out="ok"),
    "mv-file": dict(
        tree="note", argv=MV + ["{a}/src/note.md", "{b}/dst/note.md"],
        moves=[("note.md", "note.md")], proof="log", without="", out=""),
    "mv-dir": dict(
        tree="folder", argv=MV + ["{a}/src/notes", "{b}/dst/notes"],
        moves=[("notes", "notes")], proof="log", without="", out=""),
    # Obsidian's trashOption "local": a note goes to <vault>/.trash by fs.promises.rename,
    # from a folder mount to the vault's own directory (a different mount, under the root)
    "node-trash-local": dict(
        tree="note", argv=NODE + ["promise", "{a}/src/note.md", "{vault}/.trash/note.md"],
        moves=[("note.md", "note.md")], dst="{vault}/.trash", proof="errno",
        without="error EXDEV", out="ok"),
    # Obsidian runs as the desktop user (kasm-user, uid 1000), not as root
    "node-as-uid-1000": dict(
        tree="folder", argv=NODE + ["sync", "{a}/src/notes", "{b}/dst/notes"],
        moves=[("notes", "notes")], proof="errno", without="error EXDEV", out="ok",
        user="1000:1000"),
    "outside-roots": dict(
        tree="note", argv=PY + ["os.rename", "{a}/src/note.md", "{b}/dst/note.md"],
        moves=[], proof="errno", without="error EXDEV", out="error EXDEV",
        roots="{scratch}/elsewhere"),
}


def make_tree(kind, src):
    """Notes as Obsidian keeps them: markdown, an attachment, a subfolder, odd names."""
    def note(rel, text, mode=0o644):
        path = os.path.join(src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    if kind == "note":
        note("note.md", "# Meeting\n\n- [ ] follow up\n" * 100)  # about 4 KiB
        os.setxattr(os.path.join(src, "note.md"), "user.obsidian", b"tag")
    elif kind == "folder":
        for i in range(12):
            note(f"notes/day {i:02d}.md", f"# Day {i}\n\nsee [[day {i + 1:02d}]]\n")
        note("notes/attachments/diagram.svg", "<svg/>\n" * 500, 0o600)
        note("notes/.hidden/state.json", "{}\n")
        os.symlink("day 00.md", os.path.join(src, "notes", "today.md"))
    elif kind == "batch":
        for i in range(16):
            note(f"batch/n{i:02d}.md", f"note {i}\n" * 64)
        os.makedirs(os.path.join(src, "..", "dst", "batch"))
    else:
        raise ValueError(kind)


class World:
    """Scratch filesystem S with src/ and dst/, bind-mounted twice: {a} and {b}."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.backing = os.path.join(scratch.fs, "vault-data")
        self.vault = os.path.join(scratch.dir, "vault")
        self.a = os.path.join(self.vault, "a")
        self.b = os.path.join(self.vault, "b")
        self.log = os.path.join(scratch.dir, "moves.jsonl")
        self.trash = os.path.join(self.vault, ".trash")
        self.public = os.path.join(scratch.dir, "public")  # readable by every uid
        os.mkdir(self.public)
        # Each uid's private journal ($XDG_STATE_HOME-like, outside the vault).
        self.state = os.path.join(scratch.dir, "state")
        os.mkdir(self.state)
        os.chmod(self.state, 0o1777)

    def fresh(self, tree, owner=None):
        self.scratch.unmount_extra()
        shutil.rmtree(self.backing, ignore_errors=True)
        shutil.rmtree(self.trash, ignore_errors=True)
        for side in ("src", "dst"):
            os.makedirs(os.path.join(self.backing, side))
        os.makedirs(self.trash)
        if tree:
            make_tree(tree, os.path.join(self.backing, "src"))
        if owner:
            for top in (self.backing, self.trash):
                vstest.run(["chown", "-R", owner, top])
        self.scratch.bind(self.backing, self.a)
        self.scratch.bind(self.backing, self.b)
        if os.path.exists(self.log):
            os.unlink(self.log)

    def fill(self, text):
        return text.format(a=self.a, b=self.b, scratch=self.scratch.dir, vault=self.vault,
                           backing=self.backing)

    def public_copy(self, path):
        """A copy of a file where another uid can read it (the build tree may not be)."""
        copy = os.path.join(self.public, os.path.basename(path))
        if not os.path.exists(copy):
            shutil.copy(path, copy)
            os.chmod(copy, 0o755)
        return copy

    def as_user(self, argv, user, shim):
        """argv run as user through setpriv, every file it needs copied where it can read
        it; returns (argv, shim path)."""
        uid, gid = user.split(":")
        argv = [self.public_copy(a) if a.startswith(HERE) else a for a in argv]
        return (["setpriv", "--reuid", uid, "--regid", gid, "--clear-groups"] + argv,
                self.public_copy(shim))

    def env(self, shim, roots="{vault}", user=None):
        env = {k: v for k, v in os.environ.items()
               if k != "LD_PRELOAD" and not k.startswith("VAULTSHIM_")}
        env["UV_USE_IO_URING"] = "0"
        if shim:
            env.update(LD_PRELOAD=shim, VAULTSHIM_LOG=self.log,
                       VAULTSHIM_ROOTS=roots.format(vault=self.vault, scratch=self.scratch.dir),
                       VAULTSHIM_JOURNAL=os.path.join(self.state, (user or "0").split(":")[0],
                                                      "journal"))
        return env

    def log_lines(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]


def run(argv, env, cwd=None):
    proc = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)
    return (proc.returncode, proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace"))


def snap(path, recent_ns):
    return vstest.snapshot(path, recent_ns) if os.path.lexists(path) else None


def check_moves(world, case, recent_ns, before, failures, label):
    src_side = os.path.join(world.backing, "src")
    dst_side = world.fill(case.get("dst", "{backing}/dst"))
    for old, new in case["moves"]:
        if os.path.lexists(os.path.join(src_side, old)):
            failures.append(f"{label}: source {old} still exists")
        got = snap(os.path.join(dst_side, new), recent_ns)
        if got is None:
            failures.append(f"{label}: destination {new} missing")
            continue
        for line in vstest.diff_snapshots(before[old], got):
            failures.append(f"{label}: {new}: {line}")


def logged_move(world, old, new):
    """Whether a VAULTSHIM_LOG line names this source and destination."""
    for entry in world.log_lines():
        values = json.dumps(entry)
        if old in values and new in values and entry.get("result", "ok") == "ok":
            return True
    return False


def run_case(name, case, world, shim):
    failures = []
    argv = [world.fill(x) for x in case["argv"]]
    src_side = os.path.join(world.backing, "src")
    if "user" in case:
        argv, shim = world.as_user(argv, case["user"], shim)

    # without the shim
    world.fresh(case["tree"], case.get("user"))
    tree_before = vstest.snapshot(world.backing, 0)
    if case["proof"] == "log":
        trace = os.path.join(world.scratch.dir, "strace.out")
        rc, out, err = run(["strace", "-f", "-qq", "-o", trace, "-e",
                            "trace=rename,renameat,renameat2"] + argv, world.env(None))
        with open(trace) as f:
            traced = f.read()
        if "EXDEV" not in traced:
            failures.append(f"without shim: no rename failing with EXDEV in strace:\n{traced}")
    else:
        rc, out, err = run(argv, world.env(None))
        if vstest.snapshot(world.backing, 0) != tree_before:
            failures.append("without shim: the tree changed")
    if out.strip() != case["without"] or rc != 0:
        failures.append(f"without shim: expected output '{case['without']}', got rc={rc} "
                        f"'{out.strip()}' {err.strip()}")
    print(f"  without shim: rc={rc} output='{out.strip()}'")

    # with the shim
    world.fresh(case["tree"], case.get("user"))
    recent_ns = vstest.kernel_time_now_ns()
    before = {old: snap(os.path.join(src_side, old), recent_ns) for old, _ in case["moves"]}
    tree_before = vstest.snapshot(world.backing, 0)
    rc, out, err = run(argv, world.env(shim, case.get("roots", "{vault}"), case.get("user")))
    print(f"  with shim:    rc={rc} output='{out.strip()}'")
    if rc != 0 or out.strip() != case["out"] or err:
        failures.append(f"with shim: expected rc=0 output '{case['out']}' and no stderr, "
                        f"got rc={rc} '{out.strip()}' stderr '{err.strip()}'")
    if case["moves"]:
        check_moves(world, case, recent_ns, before, failures, "with shim")
    elif vstest.snapshot(world.backing, 0) != tree_before:
        failures.append("with shim: the tree changed although the move must pass through")
    if case["proof"] == "log":
        for old, new in case["moves"]:
            if not logged_move(world, f"{world.a}/src/{old}", f"{world.b}/dst/{new}"):
                failures.append(f"with shim: no VAULTSHIM_LOG line for {old} → {new}: "
                                f"{world.log_lines()}")
    return failures


def run_silence(world, shim):
    """The shim writes nothing to stdout/stderr: every program prints byte for byte the same
    with and without it, also when VAULTSHIM_LOG cannot be written."""
    failures = []
    programs = [
        ("mv note", MV + ["{a}/src/note.md", "{b}/dst/note.md"], "{vault}"),
        ("shutil.move", PY + ["shutil.move", "{a}/src/note.md", "{b}/dst/moved.md"], "{vault}"),
        ("missing source", PY + ["os.rename", "{a}/src/missing", "{a}/dst/x"], "{vault}"),
        ("mv missing", MV + ["{a}/src/missing", "{b}/dst/x"], "{vault}"),
        ("same mount", NODE + ["sync", "{a}/src/note.md", "{a}/src/other.md"], "{vault}"),
    ]
    for label, argv, roots in programs:
        argv = [world.fill(x) for x in argv]
        results = []
        for shim_on in (False, True):
            world.fresh("note")
            env = world.env(shim if shim_on else None, roots)
            if shim_on:
                env["VAULTSHIM_LOG"] = "/proc/self/no-such-dir/log"  # unwritable: stay silent
            results.append(run(argv, env))
        same = results[0] == results[1]
        print(f"  {label:<16} {'identical' if same else 'DIFFERENT'} output with and without")
        if not same:
            failures.append(f"{label}: without {results[0]!r}, with {results[1]!r}")
    # an emulated move prints only what the client prints itself
    for label, argv, expected in [
            ("node sync", NODE + ["sync", "{a}/src/note.md", "{b}/dst/note.md"], "ok\n"),
            ("os.rename", PY + ["os.rename", "{a}/src/note.md", "{b}/dst/note.md"], "ok\n")]:
        world.fresh("note")
        got = run([world.fill(x) for x in argv], world.env(shim))
        print(f"  {label:<16} with shim: {got!r}")
        if got != (0, expected, ""):
            failures.append(f"{label}: expected (0, {expected!r}, ''), got {got!r}")
    return failures


def run_no_vault(world, shim):
    """With the shim preloaded but no vault (VAULTSHIM_ROOTS unset: /vault, absent here),
    a script of everyday moves behaves exactly as without it: output, status and tree."""
    failures = []
    if os.path.exists("/vault"):
        print("  note: /vault exists; the scratch paths are outside it all the same")
    script = os.path.join(HERE, "everyday-moves.sh")
    results = []
    for shim_on in (False, True):
        world.fresh("folder")
        env = world.env(None)
        if shim_on:
            env["LD_PRELOAD"] = shim
        rc, out, err = run(["sh", script, world.a, world.b, vstest.helper("vs-rename-call"),
                            HERE], env)
        results.append((rc, out, err, vstest.snapshot(world.backing, 0)))
    if results[0][:3] != results[1][:3]:
        failures.append(f"output differs:\nwithout:\n{results[0][1]}{results[0][2]}\n"
                        f"with:\n{results[1][1]}{results[1][2]}")
    for line in vstest.diff_snapshots(results[0][3], results[1][3]):
        failures.append(f"tree differs: {line}")
    trees = "identical" if results[0][3] == results[1][3] else "DIFFERENT"
    print(f"  {len(results[0][1].splitlines())} output lines, exit {results[0][0]} / "
          f"{results[1][0]}, trees {trees}")
    return failures


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in list(CASES) + ["silence", "no-vault"]:
        sys.exit(f"usage: clients.py {'|'.join(list(CASES) + ['silence', 'no-vault'])}")
    name = sys.argv[1]
    vstest.require_root("the client tests")
    shim = vstest.shim_library()
    vstest.enter_private_mount_namespace()
    with vstest.Scratch() as scratch:
        world = World(scratch)
        print(f"{name}:")
        if name == "silence":
            failures = run_silence(world, shim)
        elif name == "no-vault":
            failures = run_no_vault(world, shim)
        else:
            failures = run_case(name, CASES[name], world, shim)
    for line in failures:
        print(f"FAIL {line}")
    print(f"{name}: {'FAIL' if failures else 'ok'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
