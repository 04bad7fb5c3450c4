#!/bin/sh
# Build one libFuzzer harness with clang (the main build uses gcc) and run it for
# VS_FUZZ_SECONDS (default 25) over its seed corpus:
#   run-fuzz.sh policy-loader   the policy loader, seeded from tests/data/policy
#   run-fuzz.sh journal-record  the journal record parser, seeded from tests/data/journal
#                               (records written by the real journal code)
# Prints libFuzzer's execution count; any crash, leak or sanitizer report fails the test.
set -eu
target=${1:-policy-loader}
seconds=${VS_FUZZ_SECONDS:-25}
src=$VS_SOURCE_ROOT
out=$VS_BUILD_ROOT/tests/fuzz
clang=$(command -v clang-14 || command -v clang || true)
if [ -z "$clang" ]; then
        echo "clang is missing (tools/install-deps installs clang and libclang-rt-14-dev)"
        exit 77
fi
case $target in
policy-loader)
        # The sources the loader needs; the fuzzer only ever calls into lib/policy.
        sources="$src/lib/policy/*.c $src/lib/manifest/*.c $src/lib/util/*.c"
        libs="-lyaml -ljansson"
        seeds="$src/tests/data/policy/*.yaml"
        dict=$src/tests/fuzz/policy.dict
        ;;
journal-record)
        sources="$src/lib/journal/*.c $src/lib/fmt/*.c"
        libs=""
        seeds="$src/tests/data/journal/*.rec"
        dict=$src/tests/fuzz/journal.dict
        ;;
*)
        echo "unknown fuzz target $target"
        exit 2
        ;;
esac
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# shellcheck disable=SC2086 # the source and library lists are meant to split
if ! "$clang" -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined -I"$src/include" -I"$src/lib" \
        "$src/tests/fuzz/fuzz-$target.c" $sources $libs -o "$out/fuzz-$target" 2>"$work/cc.log"; then
        if grep -q "libclang_rt.fuzzer\|cannot find.*fuzzer" "$work/cc.log"; then
                echo "libFuzzer runtime is missing (install libclang-rt-14-dev)"
                exit 77
        fi
        cat "$work/cc.log"
        exit 1
fi

mkdir -p "$work/corpus"
# shellcheck disable=SC2086
cp $seeds "$work/corpus/"
# libFuzzer reports a crash with exit 77, which meson would count as "skipped": map it.
status=0
"$out/fuzz-$target" -max_total_time="$seconds" -dict="$dict" \
        -artifact_prefix="$out/$target-" -print_final_stats=1 -detect_leaks=1 "$work/corpus" >"$work/fuzz.log" 2>&1 ||
        status=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' "$work/fuzz.log" || true
if [ $status -ne 0 ]; then
        tail -40 "$work/fuzz.log"
        echo "fuzzer failed (exit $status); reproducer in $out/"
        exit 1
fi
echo "no crashes in ${seconds}s"
