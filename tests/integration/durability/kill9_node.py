#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A real kill -9 of Node in the middle of a large directory move (fs.promises.rename with
the shim preloaded, UV_USE_IO_URING=0), once while the tree is being staged and once while
the source is being removed; then recovery — by vault-fsck the first time, lazily by the
next move the second time — leaves the tree whole on one side with no residue.  A fault
injected pause (sleep) only fixes the moment; the kill itself is a real SIGKILL."""
import os
import shutil
import signal
import subprocess
import sys
import time

from vstest import durability as d

d.enter_namespace()
node = shutil.which("node")
if node is None:
    d.skip("node is missing")
fails = d.Failures()
NOTES = 3000
NODE_MOVE = "require('fs').promises.rename(process.argv[1], process.argv[2])" \
            ".then(() => process.exit(0), e => { console.log(e.code); process.exit(1); })"


def count_entries(top):
    """Entries below top, counted while another process changes the tree."""
    return sum(len(dn) + len(f) for _, dn, f in os.walk(top))


def staging_entries(vault):
    """Entries inside a .vaultshim-stage-* directory beside the target, or -1 if none."""
    for name in os.listdir(vault.path("b")):
        if name.startswith(".vaultshim-stage-"):
            return count_entries(vault.path(f"b/{name}"))
    return -1


for pause_at, recover_by in (("stage-entry@1500", "vault-fsck"),
                             ("unlink-source@1500", "next move")):
    with d.Vault(("a", "b")) as vault:
        d.write_tree(vault.path("a/notes"), NOTES, size=4096)
        before = d.snapshot(vault.path("a/notes"))
        env = d.shim_env(vault, UV_USE_IO_URING="0", VAULTSHIM_FAULT=f"{pause_at}:sleep=30000")
        proc = subprocess.Popen([node, "-e", NODE_MOVE, vault.path("a/notes"),
                                 vault.path("b/notes")], env=env, stdout=subprocess.PIPE)
        # Wait until the move is visibly half way: staging half full, or source half gone.
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if pause_at.startswith("stage") and staging_entries(vault) >= 1400:
                break
            if pause_at.startswith("unlink") and os.path.exists(vault.path("b/notes")) and \
                    count_entries(vault.path("a/notes")) < len(before) - 1000:
                break
            time.sleep(0.05)
        what = f"kill -9 at {pause_at}"
        fails.check(proc.poll() is None, f"{what}: node finished before the kill")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(0.1)

        src_now, dst_now = d.snapshot(vault.path("a/notes")), d.snapshot(vault.path("b/notes"))
        lost = [r for r, v in before.items() if src_now.get(r) != v and dst_now.get(r) != v]
        fails.check(not lost, f"{what}: {len(lost)} notes without a whole copy after the kill")

        if recover_by == "vault-fsck":
            rc, report = d.fsck(vault.root)
            fails.check(rc == 1, f"{what}: vault-fsck exit {rc}: {report}")
        else:
            with open(vault.path("a/another.md"), "w") as f:
                f.write("next\n")
            status, err = d.rename(vault, "a/another.md", "b/another.md")
            fails.check(status == 0, f"{what}: the next move failed: {err}")
        src, dst = d.snapshot(vault.path("a/notes")), d.snapshot(vault.path("b/notes"))
        fails.check((src == before and not dst) or (not src and dst == before),
                    f"{what}: not whole on one side after {recover_by}: "
                    f"{len(src)} at source, {len(dst)} at target of {len(before)}")
        left = d.residue(vault.root)
        fails.check(not left, f"{what}: residue after {recover_by}: {left[:3]}")

fails.finish("kill -9 of node mid-tree, recovered by vault-fsck and lazily")
