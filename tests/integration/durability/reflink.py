#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""On an xfs image made with reflink=1 and mounted twice into the vault (two bind mounts of
one filesystem), a 1 GiB file moves by FICLONE: no extra blocks are used (statfs before and
after), the content is the same, and the audit log names the method "reflink"."""
import json
import os
import shutil
import sys

from vstest import durability as d

d.enter_namespace()
if shutil.which("mkfs.xfs") is None:
    d.skip("mkfs.xfs is missing")
fails = d.Failures()
SIZE = 1024 * 1024 * 1024


def used_bytes(path):
    os.sync()
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


with d.Vault(()) as vault:
    try:
        fs = vault.loop_fs("xfs", SIZE + 600 * 1024 * 1024, "-m", "reflink=1")
    except Exception as e:  # no loop devices in this container
        d.skip(f"cannot mount an xfs loop image: {e}")
    vault.bind_folder("a", os.path.join(fs, "a"))
    vault.bind_folder("b", os.path.join(fs, "b"))
    src, dst = vault.path("a/big.bin"), vault.path("b/big.bin")
    block = os.urandom(4 * 1024 * 1024)
    with open(src, "wb") as f:
        for _ in range(SIZE // len(block)):
            f.write(block)
    head = block[:65536]

    log = os.path.join(vault.scratch, "audit.log")
    before = used_bytes(fs)
    status, err = d.rename(vault, "a/big.bin", "b/big.bin", VAULTSHIM_LOG=log)
    after = used_bytes(fs)
    fails.check(status == 0, f"move failed: {err}")
    fails.check(not os.path.exists(src) and os.path.getsize(dst) == SIZE, "not moved")
    with open(dst, "rb") as f:
        fails.check(f.read(65536) == head, "content differs")
        f.seek(SIZE - len(block))
        fails.check(f.read() == block, "tail differs")
    grown = after - before
    print(f"blocks used before {before}, after {after}, grown {grown} bytes")
    fails.check(grown < 16 * 1024 * 1024, f"the move used {grown} extra bytes (not a reflink)")
    with open(log, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    fails.check(len(lines) == 1 and lines[0].get("method") == "reflink",
                f"audit log does not say reflink: {lines}")

fails.finish("1 GiB moved by reflink with no extra blocks")
