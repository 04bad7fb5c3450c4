#!/usr/bin/env python3
"""The vaultshim image in a real container engine, its sessions started the way Kasm starts them.

1. A private dockerd (engine.py); the base images built from Debian's packages (bases.py).
2. The README's `docker build` command, run as written plus the test's build arguments (the
   local stand-ins for debian:12 and kasmweb/obsidian) and `--network host` for apt-get.
3. Sessions for users of docker/examples/users.yaml, with the example policy's host paths moved
   under this run's scratch directory: `vault-policy resolve` exactly as the README says, the
   Run Config Override (`--format docker`) or the Volume Mappings (`--format kasm`, turned into
   binds as the Kasm agent does), or the user's access class (`vault-policy classes`, its
   volume_mapping with {username} filled in); containers.run(..., user=1000,
   network_mode="none") through python3-docker, then the exec config's hooks with
   `docker exec --user kasm-user` (first_launch, then go).  What is checked, from the host: the mounts of the Obsidian
   stand-in (a Node process custom_startup.sh started), its environment and mapped shim, its
   moves, and that the vault root swallows nothing.
4. Faults: `docker kill` and `docker stop` in the middle of a 2000-note folder move, then a new
   session's first_launch on the same host folders: nothing lost, no residue.

Exit 77 only where docker.io is not installed (or not root); everything else is a failure.
"""
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("VS_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
BUILD_ROOT = os.environ.get("VS_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build"))

import bases as base_images  # noqa: E402
import engine as eng  # noqa: E402
import kasm  # noqa: E402
import vstest  # noqa: E402

DOCKERFILE = os.path.join(SOURCE_ROOT, "docker", "Dockerfile")
EXEC_CONFIG = os.path.join(SOURCE_ROOT, "docker", "exec_config.json")
README = os.path.join(SOURCE_ROOT, "README.md")
VAULT_POLICY = os.path.join(BUILD_ROOT, "tools", "vault-policy", "vault-policy")
KASM_URL = "obsidian://open?vault=vault"
SEED = "Seeded on the host before the session started.\n"
NOTES = 2000


class Case:
    def __init__(self, user, now, form, manifest, expected):
        self.user, self.now, self.form, self.manifest, self.expected = user, now, form, manifest, expected

    @property
    def label(self):
        source = {"docker": "Run Config Override", "kasm": "Volume Mappings",
                  "class": "access class group's volume_mapping"}[self.form]
        return (f"{self.user} at {self.now} ({source}, "
                f"{'manifest mapped' if self.manifest else 'no manifest: --discover'})")


# Written out by hand from the policy's rules, so they check the policy engine too.
CASES = [
    # legal AND executive: the deal room read-write, its resources derived read-only.
    Case("alice", "2026-12-15T00:00:00Z", "docker", True,
         {"deal-room-acme": "rw", "deal-room-acme-resources": "ro", "personal": "rw", "wiki": "ro"}),
    # contractor inside the engagement window; engineering write-denied to contractors.
    Case("erin", "2026-12-15T00:00:00Z", "docker", True,
         {"deal-room-acme": "ro", "deal-room-acme-resources": "ro", "engineering": "ro",
          "personal": "rw"}),
    # the same contractor at not_after: the window is half-open, so the deal room is gone.
    Case("erin", "2027-01-31T00:00:00Z", "docker", True, {"engineering": "ro", "personal": "rw"}),
    # Kasm-native Volume Mappings, no manifest in the container: first launch discovers.
    Case("bob", "2026-12-15T00:00:00Z", "kasm", False,
         {"engineering": "rw", "personal": "rw", "project-alpha": "rw",
          "project-alpha-resources": "ro", "wiki": "ro"}),
    # The group route: the wiki editor's access class, its volume_mapping with Kasm's tokens
    # filled in for her.
    Case("wendy", "2026-12-15T00:00:00Z", "class", False, {"personal": "rw", "wiki": "rw"}),
]


def log(msg):
    print(msg, flush=True)


def readme_build_command():
    """The README's `docker build` line, split into words."""
    with open(README, encoding="utf-8") as f:
        for line in f:
            if line.strip().startswith("docker build "):
                return shlex.split(line.strip())
    raise eng.EngineError("README.md shows no `docker build` command")


def image_env():
    import dockerfile
    df = dockerfile.parse(DOCKERFILE)
    return dockerfile.stage_env(df.final)


# The image this run built, kept under the hash of everything that went into it, so that a
# later test of the same run (tests/kasm's sessions) can start from it instead of building it
# again; older ones are removed.
IMAGE_CACHE = "vaultshim-test-project"


def build_context_digest(words, bases):
    """The hash of the build: the command, the base images, and every file of the context
    (.dockerignore lists it: "*" then the "!" entries), by path, mode and content."""
    with open(os.path.join(SOURCE_ROOT, ".dockerignore"), encoding="utf-8") as f:
        lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    if lines[:1] != ["*"] or not all(ln.startswith("!") for ln in lines[1:]):
        return None                   # a context this cannot enumerate: never reused
    parts = [*words, bases.build_base, bases.kasm]
    for entry in sorted(ln[1:].rstrip("/") for ln in lines[1:]):
        top = os.path.join(SOURCE_ROOT, entry)
        paths = [top] if os.path.isfile(top) else sorted(
            os.path.join(d, n) for d, _, names in os.walk(top) for n in names)
        for path in paths:
            parts += [os.path.relpath(path, SOURCE_ROOT), os.stat(path).st_mode,
                      base_images.file_bytes(path)]
    return base_images.digest(*parts)


def cached_images(engine):
    """The images earlier tests of this run kept for reuse (a test's first cleanup keeps
    them)."""
    return set(engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}",
                             IMAGE_CACHE).stdout.split())


def build_image(engine, bases, reuse=False):
    """The README's docker build; with reuse, the image an earlier test of this run built from
    exactly the same context, if there is one."""
    words = readme_build_command()
    tag = words[words.index("-t") + 1]
    digest = build_context_digest(words, bases)
    cached = f"{IMAGE_CACHE}:{digest}" if digest else None
    if reuse and cached and bases.have(cached):
        engine.docker("tag", cached, tag)
        engine.keep.add(cached)
        return tag
    extra = ["--network", "host", "--build-arg", f"BUILD_BASE={bases.build_base}",
             "--build-arg", f"KASM_BASE={bases.kasm}"]
    res = subprocess.run(engine.cli(words[1], *extra, *words[2:]), cwd=SOURCE_ROOT,
                         capture_output=True, text=True, env=dict(os.environ, DOCKER_BUILDKIT="0"))
    if res.returncode != 0:
        raise eng.EngineError(f"docker build failed:\n{res.stdout[-6000:]}{res.stderr[-3000:]}")
    for ref in cached_images(engine):
        engine.docker("rmi", ref, check=False)
    if cached:
        engine.docker("tag", tag, cached)
        engine.keep.add(cached)
    return tag


# --- the host: the example policy with its host paths under the scratch directory ------------

def host_policy(scratch):
    host = os.path.join(scratch, "host")
    with open(os.path.join(SOURCE_ROOT, "docker", "examples", "vault-permissions.yaml"),
              encoding="utf-8") as f:
        text = f.read()
    text, n = re.subn(r"^(\s*path:\s*)/", lambda m: f"{m.group(1)}{host}/", text, flags=re.M)
    if n == 0:
        raise eng.EngineError("the example policy has no host paths")
    path = os.path.join(scratch, "vault-permissions.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def users():
    import examples
    return {u["name"]: u for u in examples.load_users()}


def resolve(policy, case, fmt):
    user = users()[case.user]
    cmd = [VAULT_POLICY, "resolve", policy, "--user", case.user, "--uid", user["id"],
           "--groups", ",".join(user["groups"]), "--format", fmt, "--now", case.now]
    res = eng.run(cmd, check=False)
    if res.returncode not in (0, 3):
        raise eng.EngineError(f"{' '.join(cmd)}: exit {res.returncode}\n{res.stderr}")
    return res.stdout


def class_volume_mapping(policy, case):
    """The Group Setting volume_mapping of the user's class (`vault-policy classes`), with
    {username} and {user_id} filled in as Kasm does for the session's user."""
    users_file = os.path.join(SOURCE_ROOT, "docker", "examples", "users.yaml")
    res = eng.run([VAULT_POLICY, "classes", policy, "--users", users_file, "--at", case.now],
                  check=False)
    if res.returncode not in (0, 3):
        raise eng.EngineError(f"vault-policy classes: exit {res.returncode}\n{res.stderr}")
    out = json.loads(res.stdout)
    member = next(m for m in out["members"] if m["user"] == case.user)
    group = next(c for c in out["classes"] if c["group"] == member["group"])
    fill = lambda text: text.replace("{username}", case.user).replace("{user_id}", member["id"])
    return {fill(host): dict(m, bind=fill(m["bind"])) for host, m in group["volume_mapping"].items()}


def seed(folders):
    """The administrator's part: host folders owned by uid 1000, each with one note."""
    for f in folders:
        if os.path.isdir(f["source"]):
            continue
        os.makedirs(f["source"])
        note = os.path.join(f["source"], f"{f['name']}.md")
        with open(note, "w", encoding="utf-8") as out:
            out.write(f"# {f['name']}\n\n{SEED}")
        for p in (f["source"], note):
            os.chown(p, kasm.SESSION_USER, kasm.SESSION_USER)


def residue(roots):
    """Hidden vaultshim entries left below the host folders: staging copies, and the private
    journal directory, which is removed whenever it is empty."""
    return [os.path.join(d, n) for r in roots for d, dn, fn in os.walk(r) for n in dn + fn
            if n.startswith(".vaultshim-")]


# --- one session ------------------------------------------------------------------------------

class Session:
    """A session container for one case: its volumes, the container, the Obsidian stand-in."""

    def __init__(self, engine, client, image, policy, scratch, case, name):
        self.engine, self.case = engine, case
        self.folders = json.loads(resolve(policy, case, "json"))["folders"]
        seed(self.folders)
        self.host = {f["name"]: f["source"] for f in self.folders}
        if case.form == "docker":
            override = json.loads(resolve(policy, case, "docker"))
            self.volumes = dict(override.pop("volumes"))
            self.run_config = override
        elif case.form == "kasm":
            self.volumes = kasm.kasm_volume_mappings_to_binds(json.loads(resolve(policy, case, "kasm")))
            self.run_config = {}
        else:
            self.volumes = kasm.kasm_volume_mappings_to_binds(class_volume_mapping(policy, case))
            self.run_config = {}
        if case.manifest:
            manifest = os.path.join(scratch, f"{name}.manifest.yaml")
            with open(manifest, "w", encoding="utf-8") as f:
                f.write(resolve(policy, case, "manifest"))
            os.chmod(manifest, 0o644)
            self.volumes[manifest] = {"bind": image_env()["VAULT_MANIFEST"], "mode": "ro"}
        environment = {"KASM_URL": KASM_URL, "KASM_USER": case.user}
        self.container = kasm.start_session(client, image, self.volumes, environment, name,
                                            **self.run_config)
        self.init = kasm.init_pid(self.container)
        self.obsidian = kasm.obsidian_pid(self.container)

    def hooks(self, exec_config, names=kasm.EXEC_ORDER):
        return [kasm.run_hook(self.engine, self.container, exec_config, h) for h in names]

    def root(self, path):
        return f"/proc/{self.init}/root{path}"


def check_session(s, exec_config, env):
    case, problems, lines = s.case, [], []
    resolved = {f["name"]: f["mode"] for f in s.folders}
    if resolved != case.expected:
        problems.append(f"vault-policy resolved {resolved}, the policy grants {case.expected}")
    before = {name: vstest.contents(path) for name, path in s.host.items()}
    hooks = s.hooks(exec_config)
    for h in hooks:
        if h["status"] != 0:
            problems.append(f"hook {h['hook']} exit {h['status']}:\n{h['stdout']}{h['stderr']}")

    # The mounts, as the kernel shows them to Obsidian, and as Docker made them.
    mounts = kasm.vault_mounts(s.obsidian)
    if mounts != case.expected:
        problems.append(f"the Obsidian stand-in sees the mounts {mounts}, expected {case.expected}")
    s.container.reload()
    made = {m["Source"]: {"bind": m["Destination"], "mode": "rw" if m["RW"] else "ro"}
            for m in s.container.attrs["Mounts"]}
    if made != s.volumes:
        problems.append(f"Docker made the mounts {made}, the session asked for {s.volumes}")
    lines.append("  folders: " + ", ".join(f"{n} {m}" for n, m in sorted(mounts.items())))

    penv = kasm.environ(s.obsidian)
    shim = kasm.maps_shim(s.obsidian)
    for key, want in (("LD_PRELOAD", env["LD_PRELOAD"]), ("UV_USE_IO_URING", "0")):
        if penv.get(key) != want:
            problems.append(f"the Obsidian stand-in has {key}={penv.get(key)!r}, expected {want!r}")
    if not shim:
        problems.append("libvaultshim.so is not mapped in the Obsidian stand-in")
    lines.append(f"  Obsidian stand-in (node, host pid {s.obsidian}): LD_PRELOAD={penv.get('LD_PRELOAD')} "
                 f"UV_USE_IO_URING={penv.get('UV_USE_IO_URING')}, shim "
                 f"{'mapped' if shim else 'NOT mapped'}")

    try:
        with open(s.root("/home/kasm-user/custom_startup.args"), encoding="utf-8") as f:
            calls = f.read().splitlines()
    except OSError as e:
        calls = [f"<{e.strerror}>"]
    if calls != ["", f"--go --url {KASM_URL}"]:
        problems.append(f"custom_startup.sh was called with {calls}")
    lines.append("  hooks: " + ", ".join(f"{h['hook']} exit {h['status']}" for h in hooks)
                 + "; custom_startup.sh calls: "
                 + ", ".join(repr(c) if c else "(start)" for c in calls))

    link = os.readlink(s.root("/vault/.obsidian")) if os.path.islink(s.root("/vault/.obsidian")) else None
    app = os.path.join(s.host["personal"], ".obsidian", "app.json")
    if link != "personal/.obsidian" or not os.path.isfile(s.root("/vault/.obsidian/app.json")) \
            or not os.path.isfile(app):
        problems.append(f"/vault/.obsidian is {link!r}; app.json on the host: {os.path.isfile(app)}")

    # Obsidian's moves: a note and a folder into a shared read-write folder, a note into a
    # read-only one.
    shared = next((n for n, m in sorted(case.expected.items()) if m == "rw" and n != "personal"), None)
    readonly = next((n for n, m in sorted(case.expected.items()) if m == "ro"), None)
    report = kasm.ask(s.obsidian, {"op": "scenario", "shared": shared, "readonly": readonly})
    if not report.get("pass"):
        problems.append(f"the Obsidian stand-in's scenario failed: {json.dumps(report)}")
    inbox = os.path.join(s.host["personal"], os.path.relpath(report.get("notes_folder", "."), "personal"))
    if shared:
        target = s.host[shared]
        note = os.path.join(target, "Meeting 2026-12-15.md")
        tree = vstest.contents(os.path.join(target, "Project Falcon"))
        if not os.path.isfile(note) or os.path.exists(os.path.join(inbox, "Meeting 2026-12-15.md")):
            problems.append(f"the host does not have the moved note at {note} (only)")
        if sorted(tree) != ["Notes.md", "Plan.md", "assets", "assets/diagram.svg"] \
                or os.path.exists(os.path.join(inbox, "Project Falcon")):
            problems.append(f"the moved folder on the host: {sorted(tree)}")
    if readonly:
        if vstest.contents(s.host[readonly]) != before[readonly]:
            problems.append(f"read-only {readonly} changed on the host")
        if not os.path.isfile(os.path.join(inbox, "Ideas.md")):
            problems.append("the note refused by the read-only folder is gone from the Inbox")
    lines.append("  moves: " + "; ".join(
        f"{st['what']} -> {os.path.relpath(os.path.dirname(st['to']), '/vault')}: {st['result']}"
        + (" (nothing lost)" if st["intact"] else " (DATA CHANGED)") for st in report.get("steps", []))
        + ("" if report.get("steps") else "none (no shared folder)")
        + (f"; without the shim: {report['without_shim']}" if report.get("without_shim") else ""))

    problems += check_vault_root(s, lines)
    return problems, lines


def check_vault_root(s, lines):
    """Nothing can be created at, or moved to, the vault root: it would live in the
    container's writable layer and vanish with it."""
    problems, got = [], {}
    for what, argv in (("touch /vault/x.md", ["touch", "/vault/x.md"]),
                       ("mkdir /vault/New", ["mkdir", "/vault/New"])):
        status, out = kasm.exec_as_user(s.engine, s.container, *argv)
        got[what] = "EACCES" if status != 0 and "Permission denied" in out else f"exit {status}: {out}"
    note = os.path.join(s.host["personal"], "personal.md")
    with open(note, "rb") as f:
        text = f.read()
    answer = kasm.ask(s.obsidian, {"op": "rename", "from": "/vault/personal/personal.md",
                                   "to": "/vault/x.md"})
    got["node rename personal/personal.md -> /vault/x.md"] = answer.get("result", answer)
    for what, result in got.items():
        if result != "EACCES":
            problems.append(f"vault root: {what} gave {result}, expected EACCES")
    with open(note, "rb") as f:
        if f.read() != text:
            problems.append("vault root: the personal note changed")
    entries = sorted(os.listdir(s.root("/vault")))
    if entries != sorted([".obsidian", *s.case.expected]):
        problems.append(f"vault root holds {entries}")
    lines.append("  vault root: " + ", ".join(f"{w}: {r}" for w, r in got.items())
                 + f"; /vault holds {', '.join(entries)}")
    return problems


# --- faults -----------------------------------------------------------------------------------

def make_archive(root, name):
    notes = {}
    for i in range(NOTES):
        rel = f"{name}/batch-{i // 200:02d}/note-{i:04d}.md"
        notes[rel] = f"# Note {i}\n\n{'All work and no play. ' * 12}\n"
    for rel, text in notes.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, name)):
        for p in [dirpath] + [os.path.join(dirpath, n) for n in filenames]:
            os.chown(p, kasm.SESSION_USER, kasm.SESSION_USER)
    return vstest.contents(os.path.join(root, name))


def journal_name():
    """The name of the image's private journal directory (VAULTSHIM_JOURNAL) in the personal
    folder."""
    return os.path.basename(image_env()["VAULTSHIM_JOURNAL"])


def journal_records(roots):
    """Journal records of interrupted moves below the host folders: the files in the private
    journal directory."""
    found = []
    for r in roots:
        for d, dn, fn in os.walk(r):
            if journal_name() in os.path.relpath(d, r).split(os.sep):
                found += [os.path.join(d, n) for n in fn]
    return found


def staged_notes(target_root):
    count = 0
    for entry in os.listdir(target_root):
        if entry.startswith(".vaultshim-"):
            for _, _, files in os.walk(os.path.join(target_root, entry)):
                count += len(files)
    return count


def fault_case(engine, client, image, policy, scratch, exec_config, fault, n):
    case = CASES[0]
    problems, lines = [], []
    name = f"Archive-{fault}"
    first = Session(engine, client, image, policy, scratch, case, f"vs-fault-{fault}-{n}")
    personal, shared = first.host["personal"], first.host["deal-room-acme"]
    notes = make_archive(personal, name)
    first.hooks(exec_config, ("first_launch",))
    kasm.ask(first.obsidian, {"op": "rename", "from": f"/vault/personal/{name}",
                              "to": f"/vault/deal-room-acme/{name}"}, wait=False)
    deadline, staged = time.monotonic() + 120, 0
    while time.monotonic() < deadline:
        try:
            staged = staged_notes(shared)
        except OSError:
            staged = 0
        if staged > 0 or os.path.isdir(os.path.join(shared, name)):
            break
        time.sleep(0.005)
    engine.docker(fault, first.container.id)
    first.container.reload()
    if first.container.status != "exited":
        problems.append(f"docker {fault}: the container is {first.container.status}")
    # What the fault left, before anything repairs it: a move cut off in the middle has a
    # staging copy, or both sides, or a journal record.
    source_left = len([k for k, _ in vstest.contents(os.path.join(personal, name)).values()
                       if k == "file"])
    target_there = os.path.isdir(os.path.join(shared, name))
    staging = [e for e in os.listdir(shared) if e.startswith(".vaultshim-")]
    records = [p for p in journal_records(first.host.values())]
    cut = f"{source_left} notes left in personal, {len(staging)} staging " \
          f"entr{'y' if len(staging) == 1 else 'ies'}, target {'there' if target_there else 'absent'}, " \
          f"{len(records)} journal record{'' if len(records) == 1 else 's'}"
    if not staging and not records and not (source_left and target_there):
        problems.append(f"docker {fault}: the move was not cut off in the middle ({cut})")

    after = Session(engine, client, image, policy, scratch, case, f"vs-fault-{fault}-{n}-after")
    hook = after.hooks(exec_config, ("first_launch",))[0]
    if hook["status"] != 0:
        problems.append(f"first_launch after docker {fault}: exit {hook['status']}\n{hook['stdout']}{hook['stderr']}")
    status, out = kasm.exec_as_user(engine, after.container, "vault-fsck", "--dry-run", "--json")
    try:
        fsck = json.loads(out)
    except ValueError:
        fsck = {"records": [out], "orphans": []}
    if status != 0 or fsck.get("records") or fsck.get("orphans"):
        problems.append(f"vault-fsck after first_launch: exit {status}, {out}")

    where = {}
    for label, root in (("personal", personal), ("deal-room-acme", shared)):
        tree = vstest.contents(os.path.join(root, name))
        where[label] = tree
    complete = [label for label, files in where.items() if files == notes]
    others = [label for label, files in where.items() if files and files != notes]
    counts = {k: len([e for e in v.values() if e[0] == "file"]) for k, v in where.items()}
    if len(complete) != 1 or others:
        problems.append(f"docker {fault}: notes per side {counts}, expected all {NOTES} on one side")
    left = residue(first.host.values())
    if left:
        problems.append(f"docker {fault}: residue {left[:5]}")
    outcome = {"personal": "rolled back", "deal-room-acme": "rolled forward"}.get(
        complete[0] if complete else None, "LOST DATA")
    lines.append(f"fault: docker {fault} at {staged} of {NOTES} notes staged for "
                 f"personal/{name} -> deal-room-acme, leaving {cut}; "
                 f"then first_launch exit {hook['status']}, {outcome}: "
                 f"{counts}, vault-fsck records "
                 f"{len(fsck.get('records') or [])}, residue {len(left)}")
    return problems, lines


def main():
    if os.geteuid() != 0:
        print("image sessions: needs root (a private dockerd)")
        return 77
    if not os.path.exists(eng.DOCKERD):
        print("image sessions: docker.io is not installed (dev/install-deps installs it); skipped")
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    problems, timings = [], []
    exec_config = kasm.load_exec_config(EXEC_CONFIG)
    env = image_env()
    t0 = time.monotonic()
    with eng.Engine() as engine:
        bases = base_images.Bases(engine, DOCKERFILE, log)
        engine.keep = bases.refs()
        engine.cleanup(engine.keep)        # leftovers of a run that was killed
        cached = all(bases.have(r) for r in bases.refs())
        bases.ensure()
        timings.append(f"base images {time.monotonic() - t0:.0f} s ({'cached' if cached else 'built'})")
        t = time.monotonic()
        image = build_image(engine, bases)
        timings.append(f"docker build {time.monotonic() - t:.0f} s")
        client = engine.client()
        policy = host_policy(engine.scratch)
        t = time.monotonic()
        for n, case in enumerate(CASES):
            s = Session(engine, client, image, policy, engine.scratch, case, f"vs-session-{n}")
            found, lines = check_session(s, exec_config, env)
            s.container.remove(force=True)
            problems += [f"{case.label}: {p}" for p in found]
            log(f"session {case.label}: {'ok' if not found else 'FAILED'}")
            for line in lines:
                log(line)
        timings.append(f"sessions {time.monotonic() - t:.0f} s")
        t = time.monotonic()
        for n, fault in enumerate(("kill", "stop")):
            found, lines = fault_case(engine, client, image, policy, engine.scratch, exec_config,
                                      fault, n)
            problems += found
            for line in lines:
                log(line + (": ok" if not found else ": FAILED"))
        timings.append(f"faults {time.monotonic() - t:.0f} s")
        client.close()
    timings.append(f"total {time.monotonic() - t0:.0f} s")
    for p in problems:
        print(p)
    print(f"image sessions: {len(CASES)} sessions, 2 faults ({', '.join(timings)}), "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except eng.EngineError as e:
        print(f"image sessions: {e}")
        sys.exit(1)
