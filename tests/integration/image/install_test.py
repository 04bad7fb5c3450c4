#!/usr/bin/env python3
"""The Dockerfile's build stage, run here, lays out exactly what the image needs.

The build stage's meson setup / ninja / meson install line is taken from docker/Dockerfile and
run from this source tree, with its /build and /staging in a temporary directory (the apt line
is what dev/install-deps already did on this Debian 12 machine).  Then:
- the path the final stage's LD_PRELOAD names exists in the tree it COPYs;
- $libdir/vaultshim/libvaultshim.so exports exactly rename, renameat, renameat2 and needs
  only libc;
- every tool the build makes is in $bindir; every include/vaultshim/*.h in
  $includedir/vaultshim/; every doc/*.scd as a man page, and the five pages the project
  promises exist;
- vaultshim-move.pc resolves with PKG_CONFIG_PATH and a program using vs_move() compiles and
  links against the installed tree alone;
- no installed binary needs a glibc newer than the Kasm base image's (Ubuntu 22.04: 2.35);
- the runtime libraries the binaries need are exactly the packages the Dockerfile's final
  stage installs (Debian and Ubuntu name them alike).
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

from vstest.image import SOURCE_ROOT, finish
import dockerfile

BASE_GLIBC = (2, 35)            # Ubuntu 22.04, the kasmweb/obsidian 1.17 base
PROMISED_PAGES = ["vaultshim.7", "vault-policy.1", "vault-first-launch.1", "vault-fsck.8",
                  "vault-manifest.5"]
SHIM_EXPORTS = {"rename", "renameat", "renameat2"}
LIBC_FAMILY = re.compile(r"^(libc|libm|libdl|libpthread|librt|ld-linux[-\w]*)\.so")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def build_stage(dest):
    """Run the build stage's meson line into dest/build and dest/staging; its meson options."""
    df = dockerfile.parse(os.path.join(SOURCE_ROOT, "docker", "Dockerfile"))
    line = next(i.args for i in df.stage("build").instructions
                if i.name == "RUN" and "meson setup" in i.args)
    line = re.sub(r"(?<=\s)/build(?=\s|$)", os.path.join(dest, "build"), line)
    line = re.sub(r"(?<=\s)/staging(?=\s|$)", os.path.join(dest, "staging"), line)
    res = run(["sh", "-ec", line + " >/dev/null"], cwd=SOURCE_ROOT)
    if res.returncode != 0:
        raise SystemExit(f"the Dockerfile's build line fails here:\n{line}\n{res.stdout}{res.stderr}")
    res = run(["meson", "introspect", "--buildoptions", os.path.join(dest, "build")], check=True)
    return df, {o["name"]: o["value"] for o in json.loads(res.stdout)}


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def dynamic_symbols(path):
    out = run(["readelf", "--dyn-syms", "--wide", path], check=True).stdout
    defined, versions = set(), set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 8 or not fields[0].rstrip(":").isdigit():
            continue
        name = fields[7]
        for v in re.findall(r"@+GLIBC_(\d+)\.(\d+)", name):
            versions.add((int(v[0]), int(v[1])))
        if fields[6] != "UND" and fields[4] in ("GLOBAL", "WEAK") and fields[3] in ("FUNC", "OBJECT", "IFUNC"):
            defined.add(name.split("@")[0])
    return defined, versions


def needed(path):
    out = run(["readelf", "--dynamic", "--wide", path], check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def package_of_soname(soname, _cache={}):
    """The Debian package that provides soname (None if none does).  Asked once per soname, in
    one dpkg-query for every path it may be known by (each run of dpkg-query reads the whole
    package database: a second or more under load, 22 runs were a sixth of this test)."""
    if soname in _cache:
        return _cache[soname]
    if "ldconfig" not in _cache:
        _cache["ldconfig"] = run(["ldconfig", "-p"]).stdout
    m = re.search(r"^\s*" + re.escape(soname) + r" \(libc6,x86-64\) => (\S+)", _cache["ldconfig"],
                  re.M)
    package = None
    if m:
        candidates = []
        for path in (m.group(1), os.path.realpath(m.group(1))):
            usr_merged = (re.sub(r"^/lib/", "/usr/lib/", path),
                          re.sub(r"^/usr/lib/", "/lib/", path))
            for c in (path,) + usr_merged:
                if c not in candidates:
                    candidates.append(c)
        # -S answers "package: path" for each path it knows, and fails only if it knows none.
        res = run(["dpkg-query", "-S"] + candidates)
        known = [line.split(":")[0] for line in res.stdout.splitlines() if ": " in line]
        package = known[0] if known else None
    _cache[soname] = package
    return package


def final_stage_packages():
    df = dockerfile.parse(os.path.join(SOURCE_ROOT, "docker", "Dockerfile"))
    pkgs = set()
    for ins in df.final.instructions:
        if ins.name == "RUN":
            for m in re.finditer(r"apt-get install ((?:\s*-\S+)*)((?:\s+[a-z0-9][a-z0-9.+-]*)+)", ins.args):
                pkgs.update(m.group(2).split())
    return pkgs


def main():
    problems = []
    with tempfile.TemporaryDirectory(prefix="install-test.") as tmp:
        df, opts = build_stage(tmp)
        dest = os.path.join(tmp, "staging")
        root = lambda opt: os.path.join(dest, opts["prefix"].lstrip("/"), opts[opt])  # noqa: E731
        preload = dockerfile.stage_env(df.final).get("LD_PRELOAD", "")
        if not os.path.isfile(os.path.join(dest, preload.lstrip("/"))):
            problems.append(f"the image's LD_PRELOAD={preload} is not in the tree the build stage installs")
        libdir, bindir = root("libdir"), root("bindir")
        includedir, mandir = root("includedir"), root("mandir")

        shim = os.path.join(libdir, "vaultshim", "libvaultshim.so")
        if not os.path.isfile(shim):
            problems.append(f"{os.path.relpath(shim, dest)} is not installed")
        else:
            exports, _ = dynamic_symbols(shim)
            if exports != SHIM_EXPORTS:
                problems.append(f"libvaultshim.so exports {sorted(exports)}, expected {sorted(SHIM_EXPORTS)}")
            extra = [n for n in needed(shim) if not LIBC_FAMILY.match(n)]
            if extra:
                problems.append(f"libvaultshim.so needs {extra}; it may link libc only")

        targets = json.loads(run(["meson", "introspect", "--targets", os.path.join(tmp, "build")],
                                 check=True).stdout)
        tools = sorted(t["name"] for t in targets if t["type"] == "executable" and t["installed"])
        sbindir = root("sbindir")
        for tool in tools:
            if not any(os.access(os.path.join(d, tool), os.X_OK) for d in (bindir, sbindir)):
                problems.append(f"tool {tool} is not installed in $bindir or $sbindir")

        for header in sorted(glob.glob(os.path.join(SOURCE_ROOT, "include", "vaultshim", "*.h"))):
            if not os.path.isfile(os.path.join(includedir, "vaultshim", os.path.basename(header))):
                problems.append(f"header {os.path.basename(header)} is not installed")

        pages = {os.path.basename(p)[:-4] for p in glob.glob(os.path.join(SOURCE_ROOT, "doc", "*.scd"))}
        for page in sorted(pages | set(PROMISED_PAGES)):
            path = os.path.join(mandir, "man" + page.rsplit(".", 1)[1], page)
            if page not in pages:
                problems.append(f"man page {page}: doc/{page}.scd does not exist")
            elif not os.path.isfile(path) or os.path.getsize(path) < 200:
                problems.append(f"man page {page} is not installed in $mandir")
            elif os.path.exists("/usr/bin/groff"):
                # -k: preconv, as man(1) does for UTF-8 pages.  Layout warnings (an
                # unbreakable long path) are not defects of the page.
                warnings = [w for w in run(["groff", "-k", "-man", "-Tutf8", "-ww", "-z", path]).stderr.splitlines()
                            if "can't break line" not in w]
                if warnings:
                    problems.append(f"man page {page}: groff: {warnings[0]}")

        pc_dir = os.path.join(libdir, "pkgconfig")
        env = dict(os.environ, PKG_CONFIG_PATH=pc_dir, PKG_CONFIG_SYSROOT_DIR=dest)
        pc = run(["pkg-config", "--cflags", "--libs", "vaultshim-move"], env=env)
        if pc.returncode != 0:
            problems.append(f"pkg-config vaultshim-move: {pc.stderr.strip()}")
        else:
            src = os.path.join(tmp, "use-move.c")
            with open(src, "w", encoding="utf-8") as f:
                f.write("#include <fcntl.h>\n#include <vaultshim/move.h>\n"
                        "int main(int argc, char **argv) {\n"
                        "        return argc == 3 ? -vs_move(AT_FDCWD, argv[1], AT_FDCWD, argv[2], 0, 0) : 2;\n"
                        "}\n")
            cc = run(["cc", "-o", os.path.join(tmp, "use-move"), src] + pc.stdout.split())
            if cc.returncode != 0:
                problems.append(f"a program using vs_move() does not build against the install:\n{cc.stderr}")

        seen_packages, newest = set(), (0, 0)
        for dirpath, _, files in os.walk(dest):
            for name in files:
                path = os.path.join(dirpath, name)
                if "/build/" in path or os.path.islink(path) or not is_elf(path) or name.endswith((".a", ".o")) or name == "use-move":
                    continue
                _, versions = dynamic_symbols(path)
                if versions and max(versions) > BASE_GLIBC:
                    problems.append(f"{os.path.relpath(path, dest)} needs GLIBC_{max(versions)[0]}.{max(versions)[1]}, "
                                    f"newer than the base image's {BASE_GLIBC[0]}.{BASE_GLIBC[1]}")
                newest = max([newest] + list(versions))
                for soname in needed(path):
                    if LIBC_FAMILY.match(soname):
                        continue
                    pkg = package_of_soname(soname)
                    if pkg is None:
                        problems.append(f"{name} needs {soname}, which no installed package provides")
                    else:
                        seen_packages.add(pkg.split(":")[0])
        listed = final_stage_packages()
        if seen_packages - listed:
            problems.append(f"docker/Dockerfile's final stage must install {sorted(seen_packages - listed)}")
        if listed - seen_packages:
            problems.append(f"docker/Dockerfile's final stage installs {sorted(listed - seen_packages)}, which nothing needs")

    return finish(problems, f"install: {len(tools)} tools, runtime packages {sorted(seen_packages)}, "
                            f"newest glibc symbol {newest[0]}.{newest[1]}")


if __name__ == "__main__":
    sys.exit(main())
