#!/bin/bash
# Every manifest in tests/data/manifest: valid/ ones load and re-emit to a fixed point;
# invalid/ ones fail with exit 2 and exactly the messages in the .err beside them.
set -uo pipefail
tool=${VS_BUILD_ROOT:?}/tools/vault-first-launch/vault-first-launch
cd "${VS_SOURCE_ROOT:?}/tests/data/manifest" || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count=0
failures=0
report() { # report OK? DESCRIPTION
        count=$((count + 1))
        if [ "$1" = 0 ]; then echo "ok $count - $2"; else failures=$((failures + 1)); echo "not ok $count - $2"; fi
}

for f in valid/*.yaml; do
        "$tool" --manifest "$f" --print-manifest >"$work/once.yaml" 2>"$work/err"
        status=$?
        "$tool" --manifest "$work/once.yaml" --print-manifest >"$work/twice.yaml" 2>>"$work/err"
        cmp -s "$work/once.yaml" "$work/twice.yaml"
        report $((status | $?)) "$f loads and re-emits to a fixed point"
        [ -s "$work/err" ] && sed 's/^/#   /' "$work/err"
done
for f in invalid/*.yaml; do
        "$tool" --manifest "$f" --print-manifest >/dev/null 2>"$work/err"
        status=$?
        if [ "$status" = 2 ] && cmp -s "$work/err" "${f%.yaml}.err"; then
                report 0 "$f is refused: exit 2, the messages in ${f%.yaml}.err"
        else
                report 1 "$f: exit $status, messages differ from ${f%.yaml}.err"
                diff -u "${f%.yaml}.err" "$work/err" | sed 's/^/#   /'
        fi
done
echo "1..$count"
[ "$failures" -eq 0 ]
