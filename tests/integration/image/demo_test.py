#!/usr/bin/env python3
"""The README's `tools/demo`, run as a user would (against this build), must report every step
as promised and leave nothing behind: no mount, no temporary file."""
import os
import subprocess
import sys
import tempfile

from imagetest import BUILD_ROOT, SOURCE_ROOT, finish  # noqa: E402


def mounts():
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        return f.read().splitlines()


def main():
    if os.geteuid() != 0:
        print("demo_test: needs root")
        return 77
    before = mounts()
    with tempfile.TemporaryDirectory(prefix="demo-test.") as tmp:
        env = dict(os.environ, VS_BUILD_DIR=BUILD_ROOT, TMPDIR=tmp)
        res = subprocess.run([os.path.join(SOURCE_ROOT, "tools", "demo")], cwd=SOURCE_ROOT,
                             env=env, capture_output=True, text=True, timeout=240)
        left = os.listdir(tmp)
    print(res.stdout, end="")
    print(res.stderr, end="", file=sys.stderr)
    problems = []
    if res.returncode != 0:
        problems.append(f"tools/demo exit {res.returncode}")
    if "RESULT: every step behaved as promised" not in res.stdout:
        problems.append("the summary does not report success")
    for needle in ("EROFS", "moved", "vault-first-launch"):
        if needle not in res.stdout:
            problems.append(f"the summary never mentions {needle}")
    if left:
        problems.append(f"left behind in TMPDIR: {left}")
    new_mounts = [m for m in mounts() if m not in before]
    if new_mounts:
        problems.append(f"left mounted: {new_mounts}")
    return finish(problems, "demo: tools/demo ran")


if __name__ == "__main__":
    sys.exit(main())
