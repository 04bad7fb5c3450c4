#!/usr/bin/env python3
"""The may-use rules of ARCHITECTURE.md, checked on the source and on the built libraries.

1. Includes: every `#include "dir/..."` (and `<vaultshim/...>`) of a file in a folder of the
   table names that folder itself or one of its row's "may use" folders; a private header
   (`internal.h`, `*-internal.h`) is included only from its own folder.
2. Symbols: no library that runs inside the application references rename, renameat or
   renameat2 (inside libvaultshim.so those are the exported wrappers), and every symbol
   libvaultshim.so takes from outside comes from the C library.

The table is read from ARCHITECTURE.md itself, so the rules written down are the rules
checked.  Exit 0 when all hold, 1 with one line per violation.
"""
import os
import re
import subprocess
import sys

SOURCE_ROOT = os.environ["VS_SOURCE_ROOT"]
BUILD_ROOT = os.environ["VS_BUILD_ROOT"]
WRAPPED = {"rename", "renameat", "renameat2"}
# What an inside-the-app folder's static library is called in the build.
INSIDE_LIBRARIES = {"lib/fmt/": "lib/fmt/libvs_fmt.a", "lib/base/": "lib/base/libvs_base.a",
                    "lib/journal/": "lib/journal/libvs_journal.a",
                    "lib/move/": "lib/move/libvs_move.a"}
PRELOAD_LIBRARY = "lib/preload/libvaultshim.so"


def read_table():
    """{folder: (inside the app, {folders it may use})} from the may-use table."""
    rules = {}
    in_table = False
    with open(os.path.join(SOURCE_ROOT, "ARCHITECTURE.md"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("| folder | runs inside the app | may use |"):
                in_table = True
                continue
            if in_table and not line.startswith("|"):
                break
            if not in_table or line.startswith("| ---"):
                continue
            folder, inside, may_use = [c.strip() for c in line.strip().strip("|").split("|")]
            folder = folder.strip("`")
            uses = {u for u in re.findall(r"`([^`]+/)`", may_use)}
            rules[folder] = (inside == "yes", uses)
    if not rules:
        sys.exit("ARCHITECTURE.md has no may-use table")
    return rules


def folder_of_include(target):
    """The folder an include names: "fmt/fmt.h" -> lib/fmt/, <vaultshim/x.h> ->
    include/vaultshim/."""
    if target.startswith("vaultshim/"):
        return "include/vaultshim/"
    if "/" not in target:
        return None  # beside the including file
    return "lib/" + target.split("/")[0] + "/"


def check_includes(rules):
    problems = []
    include = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
    for folder, (_, uses) in sorted(rules.items()):
        top = os.path.join(SOURCE_ROOT, folder)
        for dirpath, _, filenames in os.walk(top):
            for name in sorted(filenames):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, SOURCE_ROOT)
                with open(path, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        m = include.match(line)
                        if not m or (m.group(1) == "<" and not m.group(2).startswith("vaultshim/")):
                            continue
                        target = m.group(2)
                        used = folder_of_include(target)
                        if used is None or used == folder:
                            continue
                        if used not in uses:
                            problems.append(f"{rel}:{number}: includes {target}, but {folder} may "
                                            f"use only {', '.join(sorted(uses)) or 'libc'}")
                        elif re.search(r"(^|-)internal\.h$", os.path.basename(target)):
                            problems.append(f"{rel}:{number}: includes {target}, private to {used}")
    return problems


def nm(*args):
    return subprocess.run(["nm", *args], check=True, capture_output=True, text=True).stdout


def c_library_symbols():
    libc = subprocess.run(["cc", "-print-file-name=libc.so.6"], capture_output=True,
                          text=True).stdout.strip()
    if not os.path.isabs(libc):
        libc = "/lib/x86_64-linux-gnu/libc.so.6"
    names = set()
    for lib in (libc, os.path.join(os.path.dirname(libc), "ld-linux-x86-64.so.2")):
        if os.path.exists(lib):
            names |= {line.split()[-1].split("@")[0]
                      for line in nm("-D", "--defined-only", lib).splitlines()}
    return names


def check_symbols(rules):
    problems = []
    for folder, (inside, _) in sorted(rules.items()):
        if not inside or folder not in INSIDE_LIBRARIES:
            continue  # lib/preload/ is libvaultshim.so itself, checked below
        archive = os.path.join(BUILD_ROOT, INSIDE_LIBRARIES[folder])
        undefined = {line.split()[-1] for line in nm("-u", archive).splitlines()
                     if line.strip() and not line.endswith(":")}
        for name in sorted(undefined & WRAPPED):
            problems.append(f"{INSIDE_LIBRARIES[folder]}: references {name}, which inside "
                            "libvaultshim.so is the exported wrapper (use the raw system call)")
    shim = os.path.join(BUILD_ROOT, PRELOAD_LIBRARY)
    libc = c_library_symbols()
    for line in nm("-D", "--undefined-only", shim).splitlines():
        fields = line.split()
        kind, name = fields[-2], fields[-1].split("@")[0]
        if kind == "w":
            continue  # weak: resolved if present (e.g. __cxa_finalize, gmon)
        if name in WRAPPED:
            problems.append(f"{PRELOAD_LIBRARY}: calls {name} through the dynamic linker, "
                            "that is its own exported wrapper")
        elif name not in libc:
            problems.append(f"{PRELOAD_LIBRARY}: needs {name}, which the C library does not define")
    return problems


def main():
    rules = read_table()
    problems = check_includes(rules) + check_symbols(rules)
    for p in problems:
        print(p)
    inside = sorted(f for f, (i, _) in rules.items() if i)
    print(f"may-use: {len(rules)} folders, inside the app {', '.join(inside)}; "
          f"{len(problems)} violations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
