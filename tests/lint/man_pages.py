#!/usr/bin/env python3
"""The manual pages say what the code does.  One check per run, named by the argument:

manifest      vault-manifest(5) documents exactly the keys lib/manifest/manifest-read.c
              reads, each as required or optional as the reader has it; every transcript in
              it ("$ command" and its output) prints what is shown when run from the source
              root (the literal block before a transcript is its manifest.yaml); every other
              manifest shown loads.
exec-config   vault-first-launch(1)'s exec-config example is docker/exec_config.json, byte
              for byte as the installed page shows it.
references    the pages, README.md and ARCHITECTURE.md name only repository paths that
              exist and only project man pages that exist; every page that speaks of the
              manifest points at vault-manifest(5).
help-version  every tool answers --help (a usage that lists --help and --version) and
              --version ("NAME VERSION"), exit 0, and its man page shows both in SYNOPSIS
              and OPTIONS.

The installed form of a page is the one read: the build's doc/<page> (scdoc's roff), with
roff's escapes undone.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

from vstest.image import BUILD_ROOT, SOURCE_ROOT, finish

TOOLS = ("vault-policy", "vault-first-launch", "vault-fsck", "vault-orchestrator")
DOC = os.path.join(SOURCE_ROOT, "doc")
DOCS = sorted(glob.glob(os.path.join(DOC, "*.scd"))) + [
    os.path.join(SOURCE_ROOT, "README.md"), os.path.join(SOURCE_ROOT, "ARCHITECTURE.md")]
# A repository path in prose: a top-level folder of the tree, then path characters.
REPO_PATH = re.compile(r"(?<![\w./~$-])((?:include|lib|tools|tests|docker|demo|dev|doc|\.ci)"
                       r"/[A-Za-z0-9_.\-/<>{}*]*)")
# A reference to a manual page: *name*(N) in scdoc, `name(N)` or name(N) in Markdown.
PAGE_REF = re.compile(r"[*`]?\b((?:vaultshim|vault-[a-z-]+))[*`]?\((\d)\)")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def built_page(page):
    """The roff the build made from doc/<page>.scd, or None when the build has no pages."""
    path = os.path.join(BUILD_ROOT, "doc", page)
    return read(path) if os.path.exists(path) else None


def unroff(line):
    return re.sub(r"\\(.)", lambda m: {"e": "\\", "-": "-", "&": ""}.get(m.group(1), m.group(1)),
                  line)


def literal_blocks(roff):
    """The text of every literal block (scdoc's ``` blocks: .nf/.RS 4 ... .fi/.RE)."""
    blocks, current = [], None
    for line in roff.split("\n"):
        if line == ".nf":
            current = []
        elif line == ".fi" and current is not None:
            blocks.append("\n".join(current[1:] if current and current[0] == ".RS 4" else current))
            current = None
        elif current is not None:
            current.append(unroff(line))
    return blocks


def sections(scd):
    """{SECTION: text} of an scdoc page."""
    out, name = {}, None
    for line in scd.split("\n"):
        if line.startswith("# "):
            name = line[2:].strip()
            out[name] = ""
        elif name:
            out[name] += line + "\n"
    return out


def reader_keys():
    """[(table's first key set, {key: required})] from manifest-read.c's yt_key tables."""
    src = read(os.path.join(SOURCE_ROOT, "lib", "manifest", "manifest-read.c"))
    tables = {}
    for fn, body in re.findall(r"static void (read_\w+)\([^)]*\)\s*\{(.*?)\n\}", src, re.S):
        m = re.search(r"struct yt_key keys\[\] = \{(.*?)\};", body, re.S)
        if m:
            tables[fn] = {k: r == "true" for k, r in re.findall(r'\{\s*"(\w+)",\s*(true|false)\s*\}', m.group(1))}
    return tables


def page_terms(text):
    """{term: first line of its description} for the *term* lines of a section part."""
    terms, lines = {}, text.split("\n")
    for i, line in enumerate(lines):
        m = re.fullmatch(r"\*([a-z_]+)\*", line)
        if m and i + 1 < len(lines):
            terms[m.group(1)] = lines[i + 1].strip()
    return terms


def check_manifest():
    problems = []
    scd_path = os.path.join(DOC, "vault-manifest.5.scd")
    if not os.path.exists(scd_path):
        return ["doc/vault-manifest.5.scd does not exist: the manifest format has no man page"], "no page"
    keys = sections(read(scd_path)).get("KEYS", "")
    top, _, folder = keys.partition("Each folder:")
    tables = reader_keys()
    for part, text, table in (("top level", top, tables.get("read_document", {})),
                              ("each folder", folder, tables.get("read_folder", {}))):
        if not table:
            problems.append(f"manifest-read.c: no key table found for the {part}")
        terms = page_terms(text)
        for key, required in table.items():
            if key not in terms:
                problems.append(f"vault-manifest(5) KEYS, {part}: key \"{key}\" is not documented")
            elif terms[key].startswith("Required") != required:
                problems.append(f"vault-manifest(5) KEYS, {part}: \"{key}\" is "
                                f"{'required' if required else 'optional'} in the reader, "
                                f"the page says: {terms[key]}")
        for term in terms:
            if term not in table:
                problems.append(f"vault-manifest(5) KEYS, {part}: \"{term}\" is no key of the reader")
    user_part = top.partition("*user*")[2].partition("\n*")[0]
    for key in tables.get("read_user", {}):
        if f"*{key}*:" not in user_part:
            problems.append(f"vault-manifest(5) KEYS: user key \"{key}\" is not documented under *user*")

    roff = built_page("vault-manifest.5")
    if roff is None:
        return problems + [f"{BUILD_ROOT}/doc/vault-manifest.5 was not built"], "not built"
    blocks = literal_blocks(roff)
    env = dict(os.environ, PATH=os.path.join(BUILD_ROOT, "bin") + ":" + os.environ.get("PATH", ""))
    transcripts = manifests = 0
    for i, block in enumerate(blocks):
        if block.startswith("$ "):
            transcripts += 1
            lines = block.split("\n")
            command = lines.pop(0)[2:]
            while command.endswith("\\"):
                command = command[:-1] + lines.pop(0)
            with tempfile.TemporaryDirectory(prefix="man-manifest.") as tmp:
                os.symlink(os.path.join(SOURCE_ROOT, "docker"), os.path.join(tmp, "docker"))
                if i > 0 and not blocks[i - 1].startswith("$ "):
                    with open(os.path.join(tmp, "manifest.yaml"), "w", encoding="utf-8") as f:
                        f.write(blocks[i - 1] + "\n")
                res = subprocess.run(["sh", "-c", command], cwd=tmp, env=env, capture_output=True,
                                     text=True, timeout=30)
            shown, got = "\n".join(lines), (res.stdout + res.stderr).rstrip("\n")
            if got != shown:
                problems.append(f"vault-manifest(5): `{command}` prints (exit {res.returncode}):\n"
                                f"{got}\n  but the page shows:\n{shown}")
        elif re.match(r"\{?version: ", block) and not (i + 1 < len(blocks) and blocks[i + 1].startswith("$ ")):
            manifests += 1
            with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                f.write(block + "\n")
                f.flush()
                res = subprocess.run([os.path.join(BUILD_ROOT, "bin", "vault-first-launch"),
                                      "--manifest", f.name, "--print-manifest"],
                                     capture_output=True, text=True, timeout=30)
            if res.returncode != 0:
                problems.append(f"vault-manifest(5): a manifest shown does not load:\n{block}\n{res.stderr}")
    if transcripts == 0:
        problems.append("vault-manifest(5) shows no transcript of vault-policy resolve")
    return problems, f"{sum(len(t) for t in tables.values())} reader keys, {transcripts} transcripts, {manifests} manifests"


def check_exec_config():
    roff = built_page("vault-first-launch.1")
    if roff is None:
        return [f"{BUILD_ROOT}/doc/vault-first-launch.1 was not built"], "not built"
    shipped = read(os.path.join(SOURCE_ROOT, "docker", "exec_config.json")).rstrip("\n")
    examples = []
    for block in literal_blocks(roff):
        try:
            doc = json.loads(block)
        except ValueError:
            continue
        if isinstance(doc, dict) and "first_launch" in doc:
            examples.append(block)
    if len(examples) != 1:
        return [f"vault-first-launch(1) shows {len(examples)} exec configs, expected exactly one"], "exec config"
    if examples[0] != shipped:
        return [f"vault-first-launch(1)'s exec config differs from docker/exec_config.json:\n"
                f"{examples[0]}\n  shipped:\n{shipped}"], "exec config"
    return [], "exec config example = docker/exec_config.json"


def check_references():
    problems, paths, refs = [], 0, 0
    pages = {os.path.basename(p)[:-4] for p in glob.glob(os.path.join(DOC, "*.scd"))}
    for doc in DOCS:
        name = os.path.relpath(doc, SOURCE_ROOT)
        text = read(doc)
        for number, line in enumerate(text.split("\n"), 1):
            for m in REPO_PATH.finditer(line):
                path = m.group(1).rstrip(".,;:)").replace("\\", "")
                if any(c in path for c in "<>{}*"):
                    continue
                paths += 1
                if not os.path.exists(os.path.join(SOURCE_ROOT, path)):
                    problems.append(f"{name}:{number}: {path} does not exist")
            for m in PAGE_REF.finditer(line):
                refs += 1
                if f"{m.group(1)}.{m.group(2)}" not in pages:
                    problems.append(f"{name}:{number}: {m.group(1)}({m.group(2)}) has no doc/"
                                    f"{m.group(1)}.{m.group(2)}.scd")
        if (doc.endswith(".scd") and "manifest" in text and
                not doc.endswith("vault-manifest.5.scd") and "*vault-manifest*(5)" not in text):
            problems.append(f"{name} speaks of the manifest but never names *vault-manifest*(5)")
    return problems, f"{paths} repository paths, {refs} page references"


def check_help_version():
    problems = []
    for tool in TOOLS:
        exe = os.path.join(BUILD_ROOT, "bin", tool)
        res = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
        if res.returncode != 0 or not res.stdout.strip():
            problems.append(f"{tool} --help: exit {res.returncode}, {len(res.stdout)} bytes on stdout")
        for option in ("--help", "--version"):
            if option not in res.stdout:
                problems.append(f"{tool} --help does not mention {option}")
        res = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
        if res.returncode != 0 or not re.fullmatch(re.escape(tool) + r" \d+\.\d+\.\d+\n", res.stdout):
            problems.append(f"{tool} --version: exit {res.returncode}, printed {res.stdout!r}")
        scds = glob.glob(os.path.join(DOC, tool + ".*.scd"))
        if len(scds) != 1:
            problems.append(f"{tool}: {len(scds)} man pages in doc/")
            continue
        secs = sections(read(scds[0]))
        for option in ("--help", "--version"):
            if f"*{option}*" not in secs.get("SYNOPSIS", ""):
                problems.append(f"{os.path.basename(scds[0])}: SYNOPSIS does not show {option}")
            if not re.search(r"^\*.*" + re.escape(option) + r"\*", secs.get("OPTIONS", ""), re.M):
                problems.append(f"{os.path.basename(scds[0])}: OPTIONS does not describe {option}")
    return problems, f"{len(TOOLS)} tools"


CHECKS = {"manifest": check_manifest, "exec-config": check_exec_config,
          "references": check_references, "help-version": check_help_version}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        print(f"usage: man_pages.py {'|'.join(CHECKS)}", file=sys.stderr)
        return 2
    if sys.argv[1] in ("manifest", "exec-config") and not os.path.isdir(os.path.join(BUILD_ROOT, "doc")):
        print("this build has no man pages (-Ddocs=false)")
        return 77
    problems, summary = CHECKS[sys.argv[1]]()
    return finish(problems, f"man {sys.argv[1]}: {summary}")


if __name__ == "__main__":
    sys.exit(main())
