#!/bin/sh
# Fuzz one harness of tests/fuzz with clang's libFuzzer for VS_FUZZ_SECONDS (default 25).
# The main build is usually gcc, so the harness is built by meson in a clang build of its
# own (-Dfuzz=true, ASan and UBSan), kept in $VS_BUILD_ROOT/fuzz-clang between runs; only
# the harness and the libraries it links are compiled.  The corpus is seeded from
# tests/data/policy (policy-loader), tests/data/journal (journal-record: records written
# by the real journal code), tests/data/users and the users files of tests/data/policy
# (users-reader), or tests/data/manifest (manifest-reader), as in tests/fuzz/meson.build.
# Prints libFuzzer's execution count; any crash, leak or sanitizer report fails the test.
set -eu
name=${1:-policy-loader}
seconds=${VS_FUZZ_SECONDS:-25}
src=$VS_SOURCE_ROOT
build=$VS_BUILD_ROOT/fuzz-clang
clang=$(command -v clang-14 || command -v clang || true)
if [ -z "$clang" ]; then
        echo "clang is missing (dev/install-deps installs clang and libclang-rt-14-dev)"
        exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

if [ ! -f "$build/build.ninja" ]; then
        rm -rf "$build"
        if ! CC=$clang meson setup "$build" "$src" -Dfuzz=true -Ddocs=false \
                -Db_sanitize=address,undefined -Db_lundef=false >"$work/setup.log" 2>&1; then
                cat "$work/setup.log"
                exit 1
        fi
fi
if ! ninja -C "$build" "tests/fuzz/fuzz-$name" >"$work/cc.log" 2>&1; then
        if grep -q "libclang_rt.fuzzer\|cannot find.*fuzzer" "$work/cc.log"; then
                echo "libFuzzer runtime is missing (install libclang-rt-14-dev)"
                exit 77
        fi
        cat "$work/cc.log"
        exit 1
fi
fuzzer=$build/tests/fuzz/fuzz-$name

mkdir -p "$work/corpus"
d=$src/tests/data
case $name in
policy-loader) corpus="$d/policy" dict=$src/tests/fuzz/policy.dict ;;
journal-record) corpus="$d/journal" dict=$src/tests/fuzz/journal.dict ;;
users-reader)
        corpus="$d/users $d/policy/users.yaml $d/policy/users-typos.yaml $d/policy/users-duplicate.yaml"
        dict=$src/tests/fuzz/users.dict ;;
manifest-reader) corpus="$d/manifest/valid $d/manifest/invalid" dict=$src/tests/fuzz/manifest.dict ;;
*) echo "unknown fuzz harness $name"; exit 2 ;;
esac
# Seeds of different directories may share a name: number them.
# shellcheck disable=SC2086 # $corpus is a list of paths
find $corpus -maxdepth 1 -type f | sort | while IFS= read -r f; do
        n=$(($(find "$work/corpus" -type f | wc -l) + 1))
        cp "$f" "$work/corpus/$n-${f##*/}"
done
# libFuzzer reports a crash with exit 77, which meson would count as "skipped": map it.
status=0
UBSAN_OPTIONS=halt_on_error=1 "$fuzzer" -max_total_time="$seconds" \
        -dict="$dict" -artifact_prefix="$build/$name-" -print_final_stats=1 \
        -detect_leaks=1 "$work/corpus" >"$work/fuzz.log" 2>&1 || status=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' "$work/fuzz.log" || true
if [ $status -ne 0 ]; then
        tail -40 "$work/fuzz.log"
        echo "fuzzer failed (exit $status); reproducer in $build/"
        exit 1
fi
echo "no crashes in ${seconds}s"
