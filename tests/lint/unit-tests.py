#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ARCHITECTURE.md's "Which test covers which module" against the tree: every source file of
lib/ and tools/ has a row (a file may share a row with its folder's others, as
`tools/x/a.c`, `b.c` or `tools/x/*.c`), no row names a file that is gone, and every unit test
a row names exists under tests/unit/."""
import glob
import os
import re
import sys

TITLE = "### Which test covers which module"


def rows(text):
    """(line number, cells) of the section's table rows, header and rule left out."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == TITLE), None)
    if start is None:
        sys.exit(f"ARCHITECTURE.md: no section {TITLE!r}")
    out = []
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.startswith("#"):
            break
        if not line.startswith("|") or line.startswith("| module") or line.startswith("| ---"):
            continue
        out.append((i + 1, [c.strip() for c in line.strip().strip("|").split("|")]))
    return out


def main():
    top = os.environ.get("VS_SOURCE_ROOT") or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(top, "ARCHITECTURE.md")) as f:
        table = rows(f.read())
    problems, named = [], set()
    for line, cells in table:
        if len(cells) != 3:
            problems.append(f"ARCHITECTURE.md:{line}: {len(cells)} cells, want 3")
            continue
        folder = None
        for token in re.findall(r"`([^`]+)`", cells[0]):
            if "/" in token:
                folder = os.path.dirname(token)
            elif folder:
                token = os.path.join(folder, token)
            paths = glob.glob(os.path.join(top, token))
            if not paths:
                problems.append(f"ARCHITECTURE.md:{line}: {token} does not exist")
            named.update(os.path.relpath(p, top) for p in paths)
        for test in re.findall(r"`([^`]+\.c)`", cells[1]):
            if not os.path.exists(os.path.join(top, "tests", "unit", test)):
                problems.append(f"ARCHITECTURE.md:{line}: tests/unit/{test} does not exist")
    sources = {os.path.relpath(p, top) for pattern in ("lib/*/*.c", "tools/*/*.c")
               for p in glob.glob(os.path.join(top, pattern))}
    for source in sorted(sources - named):
        problems.append(f"ARCHITECTURE.md: {source} has no row in {TITLE!r}")
    for problem in problems:
        print(problem)
    print(f"{len(sources)} source files, {len(table)} rows, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
