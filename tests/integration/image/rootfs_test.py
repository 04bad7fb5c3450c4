#!/usr/bin/env python3
"""rootfs.compose() builds the container's root from binds as the session simulator needs it:
untouched host directories are one read-only bind each, a directory is rebuilt only where
something is added inside it, two layers merge with the upper one winning, symlinks stay
symlinks, and added mounts come after the directory that holds them."""
import os
import tempfile

from vstest.image import finish
import rootfs


def tree(root, entries):
    for path, content in entries.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if content is None:
            os.makedirs(full, exist_ok=True)
        elif content.startswith("->"):
            os.symlink(content[2:], full)
        else:
            with open(full, "w", encoding="utf-8") as f:
                f.write(content)


def ops(args):
    """bwrap arguments grouped as (option, operands...)."""
    arity = {"--ro-bind": 2, "--bind": 2, "--symlink": 2, "--dir": 1, "--tmpfs": 1}
    out, i = [], 0
    while i < len(args):
        n = arity[args[i]]
        out.append(tuple(args[i:i + 1 + n]))
        i += 1 + n
    return out


def main():
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        host, stage = os.path.join(tmp, "host"), os.path.join(tmp, "stage")
        tree(host, {"etc/passwd": "root", "etc/hosts": "h", "usr/bin/node": "n",
                    "usr/local/bin/tool": "host tool", "usr/local/bin/same": "host",
                    "bin": "->usr/bin", "home": None})
        tree(stage, {"bin/vault-policy": "v", "bin/same": "stage"})
        args = []
        rootfs.compose("/", [host], {"/vault": ["--tmpfs", "/vault"],
                                     "/vault/wiki": ["--ro-bind", "/src/wiki", "/vault/wiki"],
                                     "/etc/vault/manifest.yaml": ["--ro-bind", "/m", "/etc/vault/manifest.yaml"]},
                       {"/usr/local": stage}, args)
        got = ops(args)
        expect_in = [
            ("--symlink", "usr/bin", "/bin"),
            ("--ro-bind", os.path.join(host, "home"), "/home"),
            ("--dir", "/etc"),
            ("--ro-bind", os.path.join(host, "etc/passwd"), "/etc/passwd"),
            ("--dir", "/etc/vault"),
            ("--ro-bind", "/m", "/etc/vault/manifest.yaml"),
            ("--ro-bind", os.path.join(host, "usr/bin"), "/usr/bin"),
            ("--ro-bind", os.path.join(host, "usr/local/bin/tool"), "/usr/local/bin/tool"),
            ("--ro-bind", os.path.join(stage, "bin/same"), "/usr/local/bin/same"),
            ("--ro-bind", os.path.join(stage, "bin/vault-policy"), "/usr/local/bin/vault-policy"),
            ("--tmpfs", "/vault"),
            ("--ro-bind", "/src/wiki", "/vault/wiki"),
        ]
        for op in expect_in:
            if op not in got:
                problems.append(f"missing {op}")
        for op in got:
            if op[0] == "--ro-bind" and op[-1] == "/usr/local/bin/same" and op[1] != os.path.join(stage, "bin/same"):
                problems.append(f"the lower layer won for /usr/local/bin/same: {op}")
            if op[0] == "--dir" and op[1] in ("/home", "/usr/bin"):
                problems.append(f"{op[1]} was rebuilt although nothing is added inside it")
        if got.index(("--tmpfs", "/vault")) > got.index(("--ro-bind", "/src/wiki", "/vault/wiki")):
            problems.append("/vault/wiki is mounted before /vault")
    return finish(problems, f"rootfs: {len(expect_in)} expected operations")


if __name__ == "__main__":
    raise SystemExit(main())
