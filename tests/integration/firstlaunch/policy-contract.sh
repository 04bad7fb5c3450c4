#!/bin/bash
# The manifest contract between vault-policy (writer) and vault-first-launch (reader):
# every example user's manifest reads back and re-emits byte for byte.
set -euo pipefail
policy=${VS_BUILD_ROOT:?}/tools/vault-policy/vault-policy
tool=$VS_BUILD_ROOT/tools/vault-first-launch/vault-first-launch
examples=${VS_SOURCE_ROOT:?}/docker/examples
if [ ! -x "$policy" ] || [ ! -f "$examples/users.yaml" ]; then
        echo "SKIP: vault-policy or docker/examples/users.yaml not built/present"
        exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

count=0
failures=0
# users.yaml: "- name: N", "id: \"I\"", "groups: [a, b]" per user.
python3 - "$examples/users.yaml" >"$work/users.txt" <<'PY'
import re, sys
user = {}
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    m = re.match(r'-?\s*(name|id|groups):\s*(.*)$', line)
    if not m:
        continue
    key, value = m.groups()
    if key == "name" and user:
        print(user["name"], user["id"], user["groups"])
        user = {}
    user[key] = value.strip('"[]').replace(" ", "")
if user:
    print(user["name"], user["id"], user["groups"])
PY
while read -r name id groups; do
        count=$((count + 1))
        "$policy" resolve "$examples/vault-permissions.yaml" --user "$name" --uid "$id" \
                --groups "$groups" --now 2026-12-15T00:00:00Z --format manifest >"$work/$name.yaml"
        if "$tool" --manifest "$work/$name.yaml" --print-manifest >"$work/$name.out" 2>&1 &&
                cmp -s "$work/$name.yaml" "$work/$name.out"; then
                echo "ok $count - $name: vault-policy's manifest reads back identically"
        else
                failures=$((failures + 1))
                echo "not ok $count - $name: vault-policy's manifest does not read back"
                diff -u "$work/$name.yaml" "$work/$name.out" | sed 's/^/#   /' || true
        fi
done <"$work/users.txt"
echo "1..$count"
[ "$count" -gt 0 ] && [ "$failures" -eq 0 ]
