#!/usr/bin/env python3
"""No two files include each other in a loop (ARCHITECTURE.md, "May-use rules").

Every `#include` of the project's C files (lib/, include/, tools/, tests/) is resolved as the
compiler resolves it: "x.h" beside the including file first; "dir/x.h" in lib/dir/ (the
folder views, lib/meson.build); <vaultshim/x.h> in include/; a name found nowhere else by the
one project header of that name (tests/helpers/vs-test-util.h).  A loop of includes compiles
only thanks to `#pragma once` and leaves the order of declarations to whoever is included
first.  Exit 0 without one, 1 with one line per loop.
"""
import os
import re
import sys

SOURCE_ROOT = os.environ["VS_SOURCE_ROOT"]
TREES = ["lib", "include", "tools", "tests"]
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def project_files():
    files = []
    for tree in TREES:
        for dirpath, _, filenames in os.walk(os.path.join(SOURCE_ROOT, tree)):
            files += [os.path.relpath(os.path.join(dirpath, n), SOURCE_ROOT)
                      for n in filenames if n.endswith((".c", ".h"))]
    return sorted(files)


def include_graph(files):
    known = set(files)
    by_name = {}
    for f in files:
        by_name.setdefault(os.path.basename(f), []).append(f)
    graph = {}
    for f in files:
        edges = graph.setdefault(f, [])
        with open(os.path.join(SOURCE_ROOT, f), encoding="utf-8") as src:
            for line in src:
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                candidates = []
                if kind == '"':
                    candidates.append(os.path.normpath(os.path.join(os.path.dirname(f), target)))
                    candidates.append(os.path.join("lib", target))
                candidates.append(os.path.join("include", target))
                hit = next((c for c in candidates if c in known), None)
                if hit is None and kind == '"' and len(by_name.get(target, [])) == 1:
                    hit = by_name[target][0]
                if hit is not None:
                    edges.append(hit)
    return graph


def loops(graph):
    """The strongly connected components of more than one file (or a file that includes
    itself), by Tarjan's algorithm, iteratively."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = graph.get(node, [])
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in graph.get(node, []):
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def main():
    files = project_files()
    graph = include_graph(files)
    found = loops(graph)
    for component in found:
        print("files that include each other in a loop: " + ", ".join(component))
    edges = sum(len(e) for e in graph.values())
    print(f"include-cycles: {len(files)} files, {edges} includes resolved; {len(found)} loops")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
