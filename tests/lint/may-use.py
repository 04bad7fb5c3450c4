#!/usr/bin/env python3
"""The may-use rules of ARCHITECTURE.md, checked on the source, the build files and the built
libraries.  (The compiler is the first line: a target sees only the folders whose views its
meson.build names, lib/meson.build; this is the second, and says why.)

0. The floor: every row of the table may use lib/base/ (and lib/fmt/, which it uses).
1. Includes: every `#include "dir/..."` of a file in a folder of the table names that folder
   itself or one of its row's "may use" folders; a private header (`internal.h`,
   `*-internal.h`) is included only from its own folder; no include climbs out with "..".
2. System includes: every `#include <...>` names the installed API (`vaultshim/...`), a
   library of the row (yaml.h: libyaml, jansson.h: jansson, libxml/: libxml2, jwt.h: libjwt,
   curl/: libcurl, inotifytools/: libinotifytools), or a header of libc: the C library's, the
   kernel's UAPI headers (linux/...) or the compiler's own (stddef.h, stdatomic.h); a header
   no package of these ships is a library the row must name.
3. Build files: every dependency, library and view a folder's meson.build names is its own,
   or a folder or library of its row.
4. Symbols: no library that runs inside the application references rename, renameat or
   renameat2 (inside libvaultshim.so those are the exported wrappers), and every symbol
   libvaultshim.so takes from outside comes from the C library.

The table is read from ARCHITECTURE.md itself, so the rules written down are the rules
checked.  Exit 0 when all hold, 1 with one line per violation.
"""
import os
import re
import shutil
import subprocess
import sys

SOURCE_ROOT = os.environ["VS_SOURCE_ROOT"]
BUILD_ROOT = os.environ["VS_BUILD_ROOT"]
WRAPPED = {"rename", "renameat", "renameat2"}
LIBC = "libc"
# Headers of the libraries the table names, by the name (or folder) they are included with.
LIBRARY_HEADERS = {"yaml.h": "libyaml", "jansson.h": "jansson", "jansson_config.h": "jansson",
                   "libxml/": "libxml2", "jwt.h": "libjwt", "curl/": "libcurl",
                   "inotifytools/": "libinotifytools", "cmocka.h": "cmocka", "fuse3/": "fuse3",
                   "fuse.h": "fuse3"}
# The Debian packages that make up libc in the table's sense; any other package's header is a
# library (dev/install-deps installs them).
LIBC_PACKAGES = re.compile(r"^(libc6-dev|linux-libc-dev|libgcc-[0-9]+-dev|libc-dev-bin)(:|$)")
# What a meson.build may name: the external dependencies (meson.build at the top) by library,
# and the project's own by folder (vs_X_dep, vs_X_lib, vs_X_view: lib/X/; the installed API).
MESON_LIBRARIES = {"yaml_dep": "libyaml", "jansson_dep": "jansson", "curl_dep": "libcurl",
                   "jwt_dep": "libjwt", "inotifytools_dep": "libinotifytools",
                   "libxml2_dep": "libxml2", "dl_dep": LIBC, "threads_dep": LIBC,
                   "cmocka_dep": "cmocka", "fuse3_dep": "fuse3"}
MESON_FOLDERS = {"vs_vaultshim_dep": "include/vaultshim/", "vs_vaultshim_view": "include/vaultshim/",
                 "vaultshim_lib": "lib/preload/"}
MESON_NAME = re.compile(r"\b([a-z][a-z0-9_]*_(?:dep|lib|view))\b")
# What an inside-the-app folder's static library is called in the build.
INSIDE_LIBRARIES = {"lib/fmt/": "lib/fmt/libvs_fmt.a", "lib/base/": "lib/base/libvs_base.a",
                    "lib/journal/": "lib/journal/libvs_journal.a",
                    "lib/move/": "lib/move/libvs_move.a"}
PRELOAD_LIBRARY = "lib/preload/libvaultshim.so"


def read_table():
    """{folder: (inside the app, {folders and libraries it may use})} from the may-use table."""
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
            uses = {u.strip().strip("`") for u in may_use.split(",")}
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


def library_of_header(target):
    for prefix, library in LIBRARY_HEADERS.items():
        if target == prefix or (prefix.endswith("/") and target.startswith(prefix)):
            return library
    return None


def system_include_dirs():
    """The compiler's search list for <...>, in order."""
    res = subprocess.run(["cc", "-E", "-x", "c", "-v", "-"], input="", capture_output=True,
                         text=True)
    dirs, inside = [], False
    for line in res.stderr.splitlines():
        if line.startswith("#include <...> search starts here:"):
            inside = True
        elif line.startswith("End of search list."):
            break
        elif inside:
            dirs.append(line.strip())
    return dirs


def packages_of_headers(names):
    """({header: the Debian package that ships it, or None}, {header: its path}) for the headers
    the compiler finds."""
    dirs = system_include_dirs()
    found = {}
    for name in names:
        for d in dirs:
            path = os.path.normpath(os.path.join(d, name))
            if os.path.exists(path):
                found[name] = path
                break
    owners = dict.fromkeys(names)
    if found and shutil.which("dpkg"):
        paths = {p for path in found.values() for p in (path, os.path.realpath(path))}
        res = subprocess.run(["dpkg", "-S", *sorted(paths)], capture_output=True, text=True)
        by_path = {}
        for line in res.stdout.splitlines():
            package, _, path = line.partition(": ")
            by_path[path] = package.split(",")[0].strip()
        for name, path in found.items():
            owners[name] = by_path.get(path) or by_path.get(os.path.realpath(path))
    return owners, found


def source_files(folder):
    top = os.path.join(SOURCE_ROOT, folder)
    for dirpath, _, filenames in os.walk(top):
        for name in sorted(filenames):
            if name.endswith((".c", ".h")):
                yield os.path.join(dirpath, name)


INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def includes_of(path):
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield number, m.group(1), m.group(2)


def check_includes(rules):
    problems = []
    system = {}  # header -> [(file:line, folder)] of the <...> includes no library map names
    for folder, (_, uses) in sorted(rules.items()):
        allowed = ", ".join(sorted(uses)) or LIBC
        for path in source_files(folder):
            rel = os.path.relpath(path, SOURCE_ROOT)
            for number, kind, target in includes_of(path):
                where = f"{rel}:{number}"
                if ".." in target.split("/"):
                    problems.append(f"{where}: includes {target}, climbing out of its folder")
                    continue
                if kind == "<" and not target.startswith("vaultshim/"):
                    library = library_of_header(target)
                    if library is None:
                        system.setdefault(target, []).append((where, folder))
                    elif library not in uses:
                        problems.append(f"{where}: includes <{target}> of {library}, but {folder} "
                                        f"may use only {allowed}")
                    continue
                used = folder_of_include(target)
                if used is None or used == folder:
                    continue
                if used not in uses:
                    problems.append(f"{where}: includes {target}, but {folder} may use only "
                                    f"{allowed}")
                elif re.search(r"(^|-)internal\.h$", os.path.basename(target)):
                    problems.append(f"{where}: includes {target}, private to {used}")
    owners, found = packages_of_headers(sorted(system))
    for target, sites in sorted(system.items()):
        package = owners[target]
        if target not in found:
            what = "which the compiler does not find"
        elif package is None or LIBC_PACKAGES.match(package):
            continue  # libc (or no package database to ask: the compiler's list decides)
        else:
            what = f"from {package}, a library no row names (add it to LIBRARY_HEADERS)"
        for where, folder in sites:
            problems.append(f"{where}: includes <{target}>, {what}")
    return problems


def check_meson(rules):
    """What each folder's meson.build names: its own, or its row's."""
    problems = []
    lib_folders = {f.split("/")[1] for f in rules if f.startswith("lib/")}
    for folder, (_, uses) in sorted(rules.items()):
        top = os.path.join(SOURCE_ROOT, folder)
        for dirpath, _, filenames in os.walk(top):
            if "meson.build" not in filenames:
                continue
            path = os.path.join(dirpath, "meson.build")
            rel = os.path.relpath(path, SOURCE_ROOT)
            with open(path, encoding="utf-8") as f:
                lines = [line.split("#", 1)[0] for line in f]
            defined = {m.group(1) for line in lines
                       for m in [re.match(r"\s*([a-z][a-z0-9_]*)\s*=[^=]", line)] if m}
            for number, line in enumerate(lines, 1):
                if re.search(r"include_directories\s*\(\s*'[^']*\.\.", line):
                    problems.append(f"{rel}:{number}: include_directories climbs out of {folder}")
                for name in MESON_NAME.findall(line):
                    m = re.fullmatch(r"vs_([a-z0-9]+)_(?:dep|lib|view)", name)
                    if name in MESON_LIBRARIES:
                        used = MESON_LIBRARIES[name]
                    elif name in MESON_FOLDERS:
                        used = MESON_FOLDERS[name]
                    elif m and m.group(1) in lib_folders:
                        used = f"lib/{m.group(1)}/"
                    elif name in defined:
                        continue
                    else:
                        problems.append(f"{rel}:{number}: names {name}, which this lint does not "
                                        "know (MESON_LIBRARIES, MESON_FOLDERS)")
                        continue
                    if used != folder and used != LIBC and used not in uses:
                        problems.append(f"{rel}:{number}: names {name} ({used}), but {folder} may "
                                        f"use only {', '.join(sorted(uses)) or LIBC}")
    return problems


# The floor (ARCHITECTURE.md: "lib/base/ ... so every row of the table may use it"): every
# other row lists it, and lib/fmt/, which it uses.
FLOOR = ("lib/base/", "lib/fmt/")


def check_floor(rules):
    problems = []
    for folder, (_, uses) in sorted(rules.items()):
        if folder in FLOOR:
            continue
        for floor in FLOOR:
            if floor not in uses:
                problems.append(f"ARCHITECTURE.md: the row of {folder} does not list {floor}, "
                                "the floor every folder may use")
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
    problems = (check_floor(rules) + check_includes(rules) + check_meson(rules)
                + check_symbols(rules))
    for p in problems:
        print(p)
    inside = sorted(f for f, (i, _) in rules.items() if i)
    print(f"may-use: {len(rules)} folders, inside the app {', '.join(inside)}; "
          f"{len(problems)} violations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
