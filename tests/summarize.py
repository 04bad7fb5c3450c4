#!/usr/bin/env python3
"""Read meson's testlog.json files and print the one line CI reads: "N passed, N failed".

A skip (exit 77) is neither: it is listed by name so that a skipped test in CI is visible.
"""
import json
import sys

passed = failed = 0
skipped = []
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        print(f"{path}: {e.strerror}", file=sys.stderr)
        failed += 1
        continue
    for t in lines:
        result = t.get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped.append(t.get("name"))
        else:
            failed += 1
            print(f"FAILED: {t.get('name')} ({result}) in {path}")
if skipped:
    print(f"{len(skipped)} skipped: {', '.join(skipped)}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
