#!/usr/bin/env python3
"""No line of the tree's C over 100 columns: the ColumnLimit of .clang-format, read from it.

Every .c and .h file under lib/, include/, tools/ and tests/; a tab counts to the next
multiple of 8 and a character is one column.  Exit 0 when all fit, 1 with one line per
line too long (`clang-format -i --lines=N:N FILE` breaks code as the tree does; comments by
hand, ReflowComments is off).
"""
import os
import re
import sys

SOURCE_ROOT = os.environ["VS_SOURCE_ROOT"]
TREES = ["lib", "include", "tools", "tests"]


def column_limit():
    with open(os.path.join(SOURCE_ROOT, ".clang-format"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*ColumnLimit:\s*(\d+)", line)
            if m:
                return int(m.group(1))
    sys.exit(".clang-format sets no ColumnLimit")


def main():
    limit = column_limit()
    problems = files = 0
    for tree in TREES:
        for dirpath, _, filenames in os.walk(os.path.join(SOURCE_ROOT, tree)):
            for name in sorted(filenames):
                if not name.endswith((".c", ".h")):
                    continue
                files += 1
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, SOURCE_ROOT)
                with open(path, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        width = len(line.rstrip("\n").expandtabs(8))
                        if width > limit:
                            print(f"{rel}:{number}: {width} columns, over {limit}")
                            problems += 1
    print(f"line-length: {files} files, {problems} lines over {limit} columns")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
