#!/usr/bin/env python3
"""Lint docker/Dockerfile and docker/exec_config.json without a Docker engine.

hadolint is not packaged in Debian 12, so this checks what matters for this image:
- every instruction parses (known names, continuations, valid JSON exec form, pinned bases);
- every COPY source exists in the build context and .dockerignore lets it in, COPY --from
  names an earlier stage, and the build stage copies every directory the top meson.build
  needs;
- every program a RUN line calls is there: in the Debian 12 build stage, from an Essential or
  required package or one that stage installs (looked up with dpkg on this Debian 12
  machine); in the final stage, a tool of the Kasm base image or one the build installs;
- the build stage installs the -dev package of every dependency meson looks for;
- the session environment (LD_PRELOAD, UV_USE_IO_URING, VAULTSHIM_ROOTS, VAULTSHIM_PERSONAL and
  VAULTSHIM_JOURNAL below it, USER 1000);
- exec_config.json has Kasm's shape and its hooks run only programs the image has.
"""
import functools
import json
import os
import re
import shlex
import subprocess
import sys

from vstest.image import BUILD_ROOT, SOURCE_ROOT, finish
import dockerfile

# Programs the Kasm Ubuntu base image has (coreutils, apt, libc-bin, bash, its startup
# scripts) and shell builtins used by the hooks.
KASM_BASE_TOOLS = {
    "apt-get", "bash", "sh", "rm", "mkdir", "chown", "chmod", "ln", "cp", "mv", "install",
    "ldconfig", "sed", "test", "[", "true", "echo", "/usr/bin/desktop_ready",
    "/dockerstartup/custom_startup.sh",
}
EXEC_CONFIG_HOOKS = ("first_launch", "go", "assign")
EXEC_CONFIG_OPTIONAL = {"user": str, "privileged": bool, "environment": dict}

errors = []


def error(msg):
    if msg not in errors:
        errors.append(msg)


@functools.lru_cache(maxsize=None)
def installed_programs():
    """Names of the programs `meson install` puts in bindir, from the build's introspection."""
    if not BUILD_ROOT:
        return set()
    out = subprocess.run(["meson", "introspect", "--installed", BUILD_ROOT],
                         capture_output=True, text=True, check=True).stdout
    return frozenset(os.path.basename(dest) for dest in json.loads(out).values()
                     if re.search(r"/s?bin/[^/]+$", dest))


@functools.lru_cache(maxsize=None)
def debian_package_of(path):
    res = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
    if res.returncode != 0:
        # Merged /usr: dpkg still lists many programs under /bin and /sbin.
        for alias in (os.path.realpath(path), re.sub(r"^/usr/(s?bin)/", r"/\1/", path)):
            pkg = debian_package_of(alias) if alias != path else None
            if pkg:
                return pkg
        return None
    return res.stdout.split(":")[0].strip()


@functools.lru_cache(maxsize=None)
def debian_base_package(pkg):
    fields = subprocess.run(["dpkg-query", "-W", "-f=${Essential} ${Priority}", pkg],
                            capture_output=True, text=True).stdout.split()
    return "yes" in fields or "required" in fields or pkg == "apt"


def check_bases(df):
    for stage in df.stages:
        if df.stage(stage.base) and df.stage(stage.base).index < stage.index:
            continue
        if "@sha256:" in stage.base:
            continue
        image, _, tag = stage.base.rpartition(":")
        if not image or "/" in tag or tag in ("", "latest"):
            error(f"{df.path}:{stage.line}: base image {stage.base!r} is not pinned to a tag")


def check_copies(df):
    for stage in df.stages:
        for ins in stage.instructions:
            if ins.name not in ("COPY", "ADD"):
                continue
            words = ins.exec_form or shlex.split(ins.args)
            if len(words) < 2:
                error(f"{df.path}:{ins.line}: {ins.name} needs a source and a destination")
                continue
            sources = words[:-1]
            ref = ins.flags.get("from")
            if ref is not None:
                origin = df.stage(ref)
                if origin is None or origin.index >= stage.index:
                    error(f"{df.path}:{ins.line}: COPY --from={ref} names no earlier stage")
                    continue
                check_copy_from_build(df, origin, ins, sources)
                continue
            sent = context_allowlist()
            for src in sources:
                if not os.path.exists(os.path.join(SOURCE_ROOT, src)):
                    error(f"{df.path}:{ins.line}: COPY source {src} does not exist in the repository")
                elif sent is not None and src.strip("/").split("/")[0] not in sent:
                    error(f"{df.path}:{ins.line}: COPY source {src} is left out of the build "
                          f"context by .dockerignore")


def context_allowlist():
    """The top-level entries .dockerignore lets into the build context (it ignores `*` and
    re-includes names with `!`), or None without a .dockerignore."""
    try:
        with open(os.path.join(SOURCE_ROOT, ".dockerignore"), encoding="utf-8") as f:
            lines = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    except FileNotFoundError:
        return None
    if lines[:1] != ["*"]:
        error(".dockerignore: must start with `*` and re-include what the Dockerfile copies")
        return None
    return {l[1:].strip("/") for l in lines[1:] if l.startswith("!")}


def check_copy_from_build(df, origin, ins, sources):
    """A COPY --from of the build stage must take the tree `meson install --destdir` made."""
    setup = meson_setup_options(origin)
    destdir = None
    for i in origin.instructions:
        m = re.search(r"meson install .*--destdir[= ](\S+)", i.args) if i.name == "RUN" else None
        if m:
            destdir = m.group(1)
    if destdir is None:
        error(f"{df.path}:{ins.line}: stage {origin.name} never runs meson install --destdir")
        return
    tree = destdir.rstrip("/") + setup.get("prefix", "/usr/local")
    for src in sources:
        if src.rstrip("/") != tree:
            error(f"{df.path}:{ins.line}: copies {src} but the build installs into {tree}/")


def meson_setup_options(stage):
    for ins in stage.instructions:
        if ins.name != "RUN" or "meson setup" not in ins.args:
            continue
        words = shlex.split(ins.args.split("meson setup", 1)[1].split("&&")[0])
        opts = {}
        for w in words:
            if w.startswith("--") and "=" in w:
                k, _, v = w[2:].partition("=")
                opts[k] = v
            elif w.startswith("-D"):
                k, _, v = w[2:].partition("=")
                opts[k] = v
        return opts
    return {}


def check_build_stage(df, stage):
    top = open(os.path.join(SOURCE_ROOT, "meson.build"), encoding="utf-8").read()
    copied = set()
    for ins in stage.instructions:
        if ins.name == "COPY" and "from" not in ins.flags:
            copied.update(w.rstrip("/") for w in shlex.split(ins.args)[:-1])
    needed = {"meson.build", "meson_options.txt"}
    needed.update(re.findall(r"^\s*subdir\('([^']+)'\)", top, re.M))
    setup = meson_setup_options(stage)
    if setup.get("tests") == "false":
        needed.discard("tests")
    for path in sorted(needed - copied):
        error(f"{df.path}:{stage.line}: build stage does not COPY {path}, which meson.build needs")

    installs = dockerfile.apt_installs(stage)
    for ins in stage.instructions:
        if ins.name != "RUN":
            continue
        for program in dockerfile.shell_commands(ins.args):
            path = program if program.startswith("/") else shutil_which(program)
            pkg = debian_package_of(path) if path else None
            if pkg is None:
                error(f"{df.path}:{ins.line}: {program}: no Debian 12 package provides it")
            elif pkg not in installs and not debian_base_package(pkg):
                error(f"{df.path}:{ins.line}: {program} comes from {pkg}, which the build stage does not install")

    # The -dev package of every dependency that is built into the image (any meson.build
    # outside tests/).
    build_files = built_meson_files()
    wanted = set(re.findall(r"\bdependency\('([^']+)'", build_files)) - {"threads", "cmocka"}
    for name in sorted(wanted):
        pkg = package_of_pkgconfig(name)
        if pkg is None:
            error(f"meson.build: dependency {name} is not installed on this machine")
        elif pkg not in installs:
            error(f"{df.path}:{stage.line}: build stage must install {pkg} (for dependency {name})")
    for header in re.findall(r"has_headers\s*:\s*\['([^']+)'", build_files):
        pkg = debian_package_of("/usr/include/" + header)
        if pkg and pkg not in installs:
            error(f"{df.path}:{stage.line}: build stage must install {pkg} (for {header})")
    if "scdoc" not in installs and setup.get("docs") != "false":
        error(f"{df.path}:{stage.line}: man pages need scdoc in the build stage")


@functools.lru_cache(maxsize=None)
def built_meson_files():
    texts = []
    for dirpath, dirnames, filenames in os.walk(SOURCE_ROOT):
        rel = os.path.relpath(dirpath, SOURCE_ROOT)
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "build"))
                       and not (rel == "." and d == "tests")]
        if "meson.build" in filenames:
            with open(os.path.join(dirpath, "meson.build"), encoding="utf-8") as f:
                texts.append(f.read())
    return "\n".join(texts)


@functools.lru_cache(maxsize=None)
def package_of_pkgconfig(name):
    pcdir = subprocess.run(["pkg-config", "--variable=pcfiledir", name],
                           capture_output=True, text=True).stdout.strip()
    return debian_package_of(os.path.join(pcdir, name + ".pc")) if pcdir else None


@functools.lru_cache(maxsize=None)
def shutil_which(program):
    import shutil
    return shutil.which(program, path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")


def check_final_stage(df, stage, programs):
    known = KASM_BASE_TOOLS | programs
    for ins in stage.instructions:
        if ins.name == "RUN":
            if "ld.so.preload" in ins.args:
                error(f"{df.path}:{ins.line}: the shim is set through ENV, not /etc/ld.so.preload")
            for program in dockerfile.shell_commands(ins.args):
                if program not in known:
                    error(f"{df.path}:{ins.line}: {program} is neither a base-image tool nor installed by the build")
    env = dockerfile.stage_env(stage)
    preload = env.get("LD_PRELOAD", "")
    if not re.fullmatch(r"/\S+/vaultshim/libvaultshim\.so", preload):
        error(f"{df.path}: final stage must set LD_PRELOAD to $libdir/vaultshim/libvaultshim.so, got {preload!r}")
    build = df.stage("build")
    if build:
        opts = meson_setup_options(build)
        expected = os.path.join(opts.get("prefix", "/usr/local"), opts.get("libdir", "lib"),
                                "vaultshim", "libvaultshim.so")
        if preload != expected:
            error(f"{df.path}: LD_PRELOAD is {preload} but the build installs {expected}")
    for key, value in (("UV_USE_IO_URING", "0"), ("VAULTSHIM_ROOTS", "/vault")):
        if env.get(key) != value:
            error(f"{df.path}: final stage must set {key}={value}")
    personal, journal = env.get("VAULTSHIM_PERSONAL", ""), env.get("VAULTSHIM_JOURNAL", "")
    if not personal.startswith("/vault/") or not journal.startswith(personal + "/"):
        error(f"{df.path}: final stage must set VAULTSHIM_PERSONAL to the personal folder and "
              f"VAULTSHIM_JOURNAL below it (a journal elsewhere in the vault is refused), got "
              f"{personal!r} and {journal!r}")
    if not env.get("VAULT_MANIFEST", "").startswith("/"):
        error(f"{df.path}: final stage must set VAULT_MANIFEST to the default manifest path")
    users = [i for i in stage.instructions if i.name == "USER"]
    if not users or users[-1].args not in ("1000", "1000:0", "kasm-user"):
        error(f"{df.path}: the final stage must end as USER 1000 (kasm-user)")
    if stage.instructions and stage.instructions[-1].name != "USER":
        error(f"{df.path}:{stage.instructions[-1].line}: USER 1000 must be the last instruction")


def check_exec_config(path, programs):
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        error(f"{path}: {e}")
        return
    if not isinstance(config, dict):
        error(f"{path}: top level must be an object")
        return
    for key in config:
        if key not in EXEC_CONFIG_HOOKS:
            error(f"{path}: unknown hook {key!r} (Kasm knows {', '.join(EXEC_CONFIG_HOOKS)})")
    for hook in EXEC_CONFIG_HOOKS:
        entry = config.get(hook)
        if not isinstance(entry, dict):
            error(f"{path}: {hook} must be an object with a cmd")
            continue
        for key, value in entry.items():
            if key == "cmd":
                continue
            want = EXEC_CONFIG_OPTIONAL.get(key)
            if want is None:
                error(f"{path}: {hook}.{key} is not a Kasm exec config key")
            elif not isinstance(value, want):
                error(f"{path}: {hook}.{key} must be a {want.__name__}")
        env = entry.get("environment", {})
        if isinstance(env, dict) and not all(isinstance(v, str) for v in env.values()):
            error(f"{path}: {hook}.environment values must be strings")
        cmd = entry.get("cmd")
        if not isinstance(cmd, str):
            error(f"{path}: {hook}.cmd must be a string")
            continue
        words = shlex.split(cmd)
        if len(words) != 3 or words[:2] != ["bash", "-c"]:
            error(f"{path}: {hook}.cmd must be one `bash -c '...'` (Kasm passes plain argv badly)")
            continue
        script = words[2]
        syntax = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        if syntax.returncode != 0:
            error(f"{path}: {hook}.cmd: bash: {syntax.stderr.strip()}")
        for program in dockerfile.shell_commands(script):
            if program not in KASM_BASE_TOOLS | programs:
                error(f"{path}: {hook}.cmd runs {program}, which the image does not have")
        if hook in ("go", "assign"):
            standard = f'/dockerstartup/custom_startup.sh --{hook} --url "$KASM_URL"'
            if standard not in script:
                error(f"{path}: {hook}.cmd must keep Kasm's `{standard}`")
        if hook in ("first_launch", "go") and "vault-first-launch" not in script:
            error(f"{path}: {hook}.cmd must run vault-first-launch")


def lint(path, exec_config):
    del errors[:]
    df = dockerfile.parse(path)
    errors.extend(df.errors)
    programs = installed_programs()
    if df.stages:
        check_bases(df)
        check_copies(df)
        build = df.stage("build")
        if build is None:
            error(f"{path}: no stage named build")
        else:
            check_build_stage(df, build)
        check_final_stage(df, df.final, programs)
    check_exec_config(exec_config, programs)
    return df


# Each mutation of the real files must be caught: (what, file, old text, new text, expected).
MUTATIONS = [
    ("unknown instruction", "Dockerfile", "WORKDIR /src", "WORKDIRR /src", "unknown instruction"),
    ("bad exec form", "Dockerfile", "USER root\nRUN apt-get update", 'USER root\nRUN ["apt-get", update]\nRUN apt-get update', "not valid JSON"),
    ("missing COPY source", "Dockerfile", "COPY doc/ doc/", "COPY docs/ doc/", "does not exist"),
    ("COPY source ignored", "Dockerfile", "COPY doc/ doc/", "COPY doc/ doc/\nCOPY tests/ tests/", ".dockerignore"),
    ("unpinned base", "Dockerfile", "ARG BUILD_BASE=debian:12", "ARG BUILD_BASE=debian", "not pinned"),
    ("unknown stage", "Dockerfile", "--from=build", "--from=builder", "names no earlier stage"),
    ("dangling continuation", "Dockerfile", "\nUSER 1000\n", "\nUSER 1000 \\\n", "continuation at end"),
    ("ld.so.preload", "Dockerfile", "RUN ldconfig", "RUN echo x > /etc/ld.so.preload && ldconfig", "not /etc/ld.so.preload"),
    ("missing -dev package", "Dockerfile", "libyaml-dev ", "", "must install libyaml-dev"),
    ("unknown program", "Dockerfile", "RUN ldconfig", "RUN curl -O x && ldconfig", "curl is neither"),
    ("io_uring left on", "Dockerfile", "UV_USE_IO_URING=0 \\", "UV_USE_IO_URING=1 \\", "UV_USE_IO_URING=0"),
    ("root session", "Dockerfile", "\nUSER 1000\n", "\nUSER root\n", "USER 1000"),
    ("missing go hook", "exec_config.json", '"go"', '"gone"', "unknown hook"),
    ("lost custom_startup", "exec_config.json", "--assign --url", "--url", "must keep Kasm"),
    ("not bash -c", "exec_config.json", "bash -c 'if", "sh -c 'if", "bash -c"),
    ("bad user type", "exec_config.json", '"user": "kasm-user"', '"user": 1000', "must be a str"),
]


def self_test(tmp):
    failures = []
    originals = {"Dockerfile": os.path.join(SOURCE_ROOT, "docker", "Dockerfile"),
                 "exec_config.json": os.path.join(SOURCE_ROOT, "docker", "exec_config.json")}
    for what, name, old, new, expected in MUTATIONS:
        paths = {}
        for key, src in originals.items():
            text = open(src, encoding="utf-8").read()
            if key == name:
                if old not in text:
                    failures.append(f"mutation {what!r}: {old!r} not found in {name}")
                text = text.replace(old, new, 1)
            paths[key] = os.path.join(tmp, key)
            with open(paths[key], "w", encoding="utf-8") as f:
                f.write(text)
        lint(paths["Dockerfile"], paths["exec_config.json"])
        if not any(expected in e for e in errors):
            failures.append(f"mutation {what!r} was not caught (wanted {expected!r}, got {errors})")
    return failures


def main():
    import tempfile
    df = lint(os.path.join(SOURCE_ROOT, "docker", "Dockerfile"),
              os.path.join(SOURCE_ROOT, "docker", "exec_config.json"))
    problems = list(errors)
    checked = sum(len(s.instructions) + 1 for s in df.stages)
    with tempfile.TemporaryDirectory() as tmp:
        problems += [f"self-test: {f}" for f in self_test(tmp)]
    return finish(problems, f"dockerfile-lint: {checked} instructions, "
                            f"{len(MUTATIONS)} broken variants tried")


if __name__ == "__main__":
    sys.exit(main())
