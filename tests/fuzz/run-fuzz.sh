#!/bin/sh
# Build the policy loader fuzzer with clang's libFuzzer (the main build uses gcc) and run it
# for VS_FUZZ_SECONDS (default 25) over a corpus seeded from tests/data/policy.
# Prints libFuzzer's execution count; any crash, leak or sanitizer report fails the test.
set -eu
seconds=${VS_FUZZ_SECONDS:-25}
src=$VS_SOURCE_ROOT
out=$VS_BUILD_ROOT/tests/fuzz
clang=$(command -v clang-14 || command -v clang || true)
if [ -z "$clang" ]; then
        echo "clang is missing (dev/install-deps installs clang and libclang-rt-14-dev)"
        exit 77
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# The sources the loader needs; the fuzzer only ever calls into lib/policy.
if ! "$clang" -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined -I"$src/include" -I"$src/lib" \
        "$src/tests/fuzz/fuzz-policy-loader.c" "$src"/lib/policy/*.c "$src"/lib/manifest/*.c \
        "$src"/lib/shared/*.c -lyaml -ljansson -o "$out/fuzz-policy-loader" 2>"$work/cc.log"; then
        if grep -q "libclang_rt.fuzzer\|cannot find.*fuzzer" "$work/cc.log"; then
                echo "libFuzzer runtime is missing (install libclang-rt-14-dev)"
                exit 77
        fi
        cat "$work/cc.log"
        exit 1
fi

mkdir -p "$work/corpus"
cp "$src"/tests/data/policy/*.yaml "$work/corpus/"
# libFuzzer reports a crash with exit 77, which meson would count as "skipped": map it.
status=0
"$out/fuzz-policy-loader" -max_total_time="$seconds" -dict="$src/tests/fuzz/policy.dict" \
        -artifact_prefix="$out/" -print_final_stats=1 -detect_leaks=1 "$work/corpus" >"$work/fuzz.log" 2>&1 ||
        status=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' "$work/fuzz.log" || true
if [ $status -ne 0 ]; then
        tail -40 "$work/fuzz.log"
        echo "fuzzer failed (exit $status); reproducer in $out/"
        exit 1
fi
echo "no crashes in ${seconds}s"
