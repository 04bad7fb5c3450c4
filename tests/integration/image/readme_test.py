#!/usr/bin/env python3
"""Every command the README shows in a ```sh block is exercised, and every policy it shows
in a ```yaml block loads.

Safe commands (`vault-policy ...`) are run exactly as printed, with sh, as a newcomer runs
them: in a temporary directory that stands for the checkout (a link to each top-level entry
of the source tree, and `build` linked to this build), with a PATH that holds none of the
tools, after the README's own `export PATH=...` lines that come before them.  Each must exit
0 and print something, and those lines must make every tool a command from `build/bin/`.
The others must be run by a named test or CI script; RULES says where, and this test checks
that the place really contains the command.  A README command no rule covers fails the
test: add it here or write a test for it.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

from vstest.image import BUILD_ROOT, SOURCE_ROOT, finish
import dockerfile

TOOLS = ("vault-policy", "vault-first-launch", "vault-fsck")
RUN_HERE = tuple(t + " " for t in TOOLS)
# A line that prepares the reader's shell for the commands after it.
SETUP = re.compile(r"^export PATH=")
# command → (file that must run it exactly so, text that must occur in that file)
RULES = {
    "demo/session --user erin --now 2027-02-01T00:00:00Z":
        ("tests/integration/image/demo_test.py", '["--user", "erin", "--now", "2027-02-01T00:00:00Z"]'),
    "demo/session": ("tests/integration/image/demo_test.py", '"demo", "session"'),
    "tests/run": (".ci/run", "tests/run"),
}


def readme_commands(path):
    """(line number, the line as printed without its indentation, the command without its
    trailing comment) for every line of the ```sh blocks."""
    commands, in_sh = [], False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            stripped = line.strip()
            if stripped.startswith("```"):
                in_sh = not in_sh and stripped in ("```sh", "```shell", "```bash")
                continue
            if in_sh and stripped and not stripped.startswith("#"):
                command = stripped.split("  #", 1)[0].strip()
                commands.append((number, stripped, command))
    return commands


def readme_policies(path):
    """The ```yaml blocks of the README that are policies (they have `folders:`)."""
    blocks, current = [], None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip() == "```yaml":
                current = (number, [])
            elif line.strip() == "```" and current:
                if any(l.startswith("folders:") for l in current[1]):
                    blocks.append((current[0], "".join(current[1])))
                current = None
            elif current:
                current[1].append(line)
    return blocks


def newcomer_path():
    """This environment's PATH without any directory that already holds one of the tools."""
    dirs = os.environ.get("PATH", "/usr/bin:/bin").split(":")
    return ":".join(d for d in dirs
                    if d and not any(os.path.exists(os.path.join(d, t)) for t in TOOLS))


def checkout(tmp):
    """A directory that looks like the checkout after a build: every top-level entry of the
    source tree linked, except build directories, and `build` linked to this build."""
    for name in os.listdir(SOURCE_ROOT):
        entry = os.path.join(SOURCE_ROOT, name)
        if name == "build" or os.path.isdir(os.path.join(entry, "meson-private")):
            continue
        os.symlink(entry, os.path.join(tmp, name))
    os.symlink(BUILD_ROOT, os.path.join(tmp, "build"))


def run_sh(lines, cwd, env):
    return subprocess.run(["sh", "-c", "\n".join(lines)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def check_setup(setup, tmp, env):
    """The README's setup lines make every tool a command from this build's bin/."""
    if not setup:
        return ["no `export PATH=...` line puts the tools on PATH"]
    problems = []
    for tool in TOOLS:
        res = run_sh(setup + [f"command -v {tool}"], tmp, env)
        found = res.stdout.strip()
        if os.path.dirname(found) != os.path.join(tmp, "build", "bin"):
            problems.append(f"after the README's {setup}, {tool} is "
                            f"{found or 'not a command'}, not build/bin/{tool}")
        elif run_sh(setup + [f"{tool} --version"], tmp, env).returncode != 0:
            problems.append(f"build/bin/{tool} --version fails")
    return problems


def check_docker_build(command):
    """The README's `docker build` must use docker/Dockerfile with the repository root as the
    context, which is what dockerfile_lint.py checks every COPY against."""
    words = shlex.split(command)
    problems = []
    if "-f" not in words or words[words.index("-f") + 1] != "docker/Dockerfile":
        problems.append("docker build must name -f docker/Dockerfile")
    if words[-1] != ".":
        problems.append("docker build must use the repository root (.) as context")
    df = dockerfile.parse(os.path.join(SOURCE_ROOT, "docker", "Dockerfile"))
    problems += df.errors
    lint = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "dockerfile_lint.py")],
                          capture_output=True, text=True, env=os.environ)
    if lint.returncode != 0:
        problems.append("dockerfile_lint.py fails:\n" + lint.stdout)
    return problems


def main():
    readme = os.path.join(SOURCE_ROOT, "README.md")
    problems, ran, found, setup = [], 0, 0, []
    env = dict(os.environ, PATH=newcomer_path())
    tmp_dir = tempfile.TemporaryDirectory(prefix="readme-test.")
    tmp = tmp_dir.name
    checkout(tmp)
    if not os.path.isdir(os.path.join(BUILD_ROOT, "bin")):
        problems.append(f"{BUILD_ROOT}/bin does not exist: the build must link the tools there")
    commands = readme_commands(readme)
    for number, printed, command in commands:
        where = f"README.md:{number}: {command}"
        if SETUP.match(command):
            setup.append(printed)
            continue
        if command.startswith(RUN_HERE):
            res = run_sh(setup + [printed], tmp, env)
            ran += 1
            if res.returncode != 0 or not res.stdout.strip():
                problems.append(f"{where}\n  exit {res.returncode}: {res.stderr.strip()}")
            continue
        if command.startswith("docker build "):
            found += 1
            problems += [f"{where}\n  {p}" for p in check_docker_build(command)]
            continue
        rule = RULES.get(command)
        if rule is None:
            problems.append(f"{where}\n  no test runs this command")
            continue
        path, text = rule
        try:
            with open(os.path.join(SOURCE_ROOT, path), encoding="utf-8") as f:
                if text not in f.read():
                    problems.append(f"{where}\n  {path} does not run it")
        except OSError as e:
            problems.append(f"{where}\n  {path}: {e.strerror}")
        found += 1
    problems += [f"README.md: {p}" for p in check_setup(setup, tmp, env)]
    tmp_dir.cleanup()
    policy_tool = os.path.join(BUILD_ROOT, "tools", "vault-policy", "vault-policy")
    blocks = readme_policies(readme)
    for number, text in blocks:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(text)
            f.flush()
            res = subprocess.run([policy_tool, "check", f.name], capture_output=True, text=True)
        if res.returncode != 0:
            problems.append(f"README.md:{number}: the policy example does not load:\n{res.stderr}")
    return finish(problems, f"readme: {len(setup)} setup lines, {ran} commands run, {found} checked in their tests, "
                            f"{len(blocks)} policy examples loaded")


if __name__ == "__main__":
    sys.exit(main())
