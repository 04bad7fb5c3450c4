#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The target is a 1 MiB tmpfs inside the vault: moving a bigger file or tree there fails
with ENOSPC, the source is untouched, an existing target survives intact, and nothing is
left behind (no staging copy, no journal record)."""
import os
import sys

from vstest import durability as d

d.enter_namespace()
fails = d.Failures()

CASES = [
    ("file to a free name", "a/big.bin", "small/big.bin", False),
    ("file over an existing target", "a/big.bin", "small/keep.bin", True),
    ("tree", "a/tree", "small/tree", False),
]

for what, src_rel, dst_rel, existing in CASES:
    with d.Vault(("a",)) as vault:
        small = vault.mount_tmpfs("small", "1m")
        if src_rel.endswith("tree"):
            d.write_tree(vault.path(src_rel), 12, size=128 * 1024)
        else:
            with open(vault.path(src_rel), "wb") as f:
                f.write(os.urandom(2 * 1024 * 1024))
        if existing:
            with open(vault.path(dst_rel), "wb") as f:
                f.write(b"must survive\n" * 1000)
        before_src = d.snapshot(vault.path(src_rel))
        before_small = d.snapshot(small)

        status, err = d.rename(vault, src_rel, dst_rel)
        fails.check(status == 1 and err == "ENOSPC", f"{what}: got exit {status} {err!r}, want ENOSPC")
        fails.check(d.snapshot(vault.path(src_rel)) == before_src, f"{what}: source changed")
        after_small = {k: v for k, v in d.snapshot(small).items()
                       if not k.startswith(".vaultshim")}
        fails.check(after_small == before_small, f"{what}: target side changed: {after_small}")
        left = d.residue(vault.root)
        fails.check(not left, f"{what}: residue {left}")
        rc, report = d.fsck(vault.root)
        fails.check(rc == 0, f"{what}: vault-fsck exit {rc}: {report}")

fails.finish("ENOSPC leaves source and target intact")
