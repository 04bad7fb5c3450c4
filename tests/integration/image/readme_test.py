#!/usr/bin/env python3
"""Every command the README shows in a ```sh block is exercised, and every policy it shows
in a ```yaml block loads.

Safe commands (`vault-policy ...`) are run here from the source root with the built tools on
PATH and must exit 0 and print something.  The others must be run by a named test or CI
script; RULES says where, and this test checks that the place really contains the command.
A README command no rule covers fails the test: add it here or write a test for it.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

from vstest.image import BUILD_ROOT, SOURCE_ROOT, finish
import dockerfile

RUN_HERE = ("vault-policy ",)
# command → (file that must run it exactly so, text that must occur in that file)
RULES = {
    "demo/session --user erin --now 2027-02-01T00:00:00Z":
        ("tests/integration/image/demo_test.py", '["--user", "erin", "--now", "2027-02-01T00:00:00Z"]'),
    "demo/session": ("tests/integration/image/demo_test.py", '"demo", "session"'),
    "tests/run": (".ci/run", "tests/run"),
}


def readme_commands(path):
    commands, in_sh = [], False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            stripped = line.strip()
            if stripped.startswith("```"):
                in_sh = not in_sh and stripped in ("```sh", "```shell", "```bash")
                continue
            if in_sh and stripped and not stripped.startswith("#"):
                command = stripped.split("  #", 1)[0].strip()
                commands.append((number, command))
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


def tool_path():
    dirs = [os.path.join(BUILD_ROOT, "tools", d) for d in
            ("vault-policy", "vault-first-launch", "vault-fsck")]
    return ":".join(dirs + [os.environ.get("PATH", "/usr/bin:/bin")])


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
    problems, ran, found = [], 0, 0
    env = dict(os.environ, PATH=tool_path())
    for number, command in readme_commands(readme):
        where = f"README.md:{number}: {command}"
        if command.startswith(RUN_HERE):
            res = subprocess.run(command, shell=True, cwd=SOURCE_ROOT, env=env,
                                 capture_output=True, text=True, timeout=60)
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
    policy_tool = os.path.join(BUILD_ROOT, "tools", "vault-policy", "vault-policy")
    blocks = readme_policies(readme)
    for number, text in blocks:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(text)
            f.flush()
            res = subprocess.run([policy_tool, "check", f.name], capture_output=True, text=True)
        if res.returncode != 0:
            problems.append(f"README.md:{number}: the policy example does not load:\n{res.stderr}")
    return finish(problems, f"readme: {ran} commands run, {found} checked in their tests, "
                            f"{len(blocks)} policy examples loaded")


if __name__ == "__main__":
    sys.exit(main())
