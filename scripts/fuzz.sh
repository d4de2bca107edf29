#!/bin/sh
# Run every libFuzzer target for SECONDS each, starting from the seed corpus
# in tests/fuzz/corpus/<target>/.  New inputs go to a scratch directory so
# the repository is not modified; crashes are written to tests/fuzz/artifacts/.
# The targets that ran and passed are listed, one a line, in
# BUILD_DIR/fuzz-ran.txt (scripts/check-counts.sh fuzz compares it with
# tests/fuzz/fuzz_*.c).  Naming targets runs only those; by default every
# target of tests/fuzz/fuzz_*.c runs.
set -eu
usage="usage: fuzz.sh BUILD_DIR SECONDS [fuzz_TARGET ...]"
build=${1:?$usage}
secs=${2:?$usage}
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
artifacts="$top/tests/fuzz/artifacts"
ran="$build/fuzz-ran.txt"
mkdir -p "$artifacts"
: > "$ran"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM

# The targets are the sources' (tests/fuzz/fuzz_*.c), not whatever binaries a
# build directory holds: a stale binary is not run, a missing one fails.
if [ $# -eq 0 ]; then
    for src in "$top"/tests/fuzz/fuzz_*.c; do
        name=$(basename "$src" .c)
        set -- "$@" "$name"
    done
fi
for t in "$@"; do
    shift
    set -- "$@" "$build/tests/fuzz/$t"
done

found=0
for bin in "$@"; do
    [ -f "$bin" ] && [ -x "$bin" ] || { echo "fuzz: no target $bin (not built?)"; exit 1; }
    name=$(basename "$bin")
    seeds="$top/tests/fuzz/corpus/${name#fuzz_}"
    [ -d "$seeds" ] || { echo "fuzz: $name has no seed corpus $seeds"; exit 1; }
    mkdir -p "$scratch/$name"
    echo "fuzz: $name for ${secs}s (seeds: $seeds)"
    "$bin" -max_total_time="$secs" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/$name-" -print_final_stats=1 \
        "$scratch/$name" "$seeds" 2>"$scratch/$name.log" || {
        tail -n 60 "$scratch/$name.log"
        echo "fuzz: $name FAILED (artifacts in $artifacts)"
        exit 1
    }
    grep -E "stat::number_of_executed_units|Done" "$scratch/$name.log" | tail -n 2
    echo "$name" >> "$ran"
    found=$((found + 1))
done
[ "$found" -gt 0 ] || { echo "fuzz: no targets in $build/tests/fuzz"; exit 1; }
echo "fuzz: $found targets passed: $(tr '\n' ' ' < "$ran")"
