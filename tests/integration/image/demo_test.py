#!/usr/bin/env python3
"""The README's `demo/session`, run as a user would (against this build), must report every step
as promised and leave nothing behind: no mount, no temporary file."""
import os
import subprocess
import sys
import tempfile

from vstest.image import BUILD_ROOT, SOURCE_ROOT, finish


def mounts():
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        return f.read().splitlines()


def main():
    if os.geteuid() != 0:
        print("demo_test: needs root")
        return 77
    problems = []
    # The README's two demo commands: alice (moves into the deal room, EROFS from the wiki),
    # and erin after her window closed (the deal room gone, engineering read-only).
    for extra, needles in (([], ("EROFS", "moved", "vault-first-launch", "deal-room-acme")),
                           (["--user", "erin", "--now", "2027-02-01T00:00:00Z"], ("EROFS",))):
        before = mounts()
        with tempfile.TemporaryDirectory(prefix="demo-test.") as tmp:
            env = dict(os.environ, VS_BUILD_DIR=BUILD_ROOT, TMPDIR=tmp)
            res = subprocess.run([os.path.join(SOURCE_ROOT, "demo", "session"), *extra],
                                 cwd=SOURCE_ROOT, env=env, capture_output=True, text=True,
                                 timeout=240)
            left = os.listdir(tmp)
        print(res.stdout, end="")
        print(res.stderr, end="", file=sys.stderr)
        label = " ".join(["demo/session", *extra])
        if res.returncode != 0:
            problems.append(f"{label}: exit {res.returncode}")
        if "RESULT: every step behaved as promised" not in res.stdout:
            problems.append(f"{label}: the summary does not report success")
        for needle in needles:
            if needle not in res.stdout:
                problems.append(f"{label}: the summary never mentions {needle}")
        if "erin" in extra and "deal-room-acme" in res.stdout:
            problems.append(f"{label}: the deal room is still granted after the window")
        if left:
            problems.append(f"{label}: left behind in TMPDIR: {left}")
        new_mounts = [m for m in mounts() if m not in before]
        if new_mounts:
            problems.append(f"{label}: left mounted: {new_mounts}")
    return finish(problems, "demo: demo/session ran twice")


if __name__ == "__main__":
    sys.exit(main())
