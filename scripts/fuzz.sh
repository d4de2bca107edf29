#!/bin/sh
# Run every libFuzzer target for SECONDS each, starting from the seed corpus
# in tests/fuzz/corpus/<target>/.  New inputs go to a scratch directory so
# the repository is not modified; crashes are written to tests/fuzz/artifacts/.
set -eu
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
secs=${2:?usage: fuzz.sh BUILD_DIR SECONDS}
top=$(cd "$(dirname "$0")/.." && pwd)
artifacts="$top/tests/fuzz/artifacts"
mkdir -p "$artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM

found=0
for bin in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    seeds="$top/tests/fuzz/corpus/${name#fuzz_}"
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
    found=$((found + 1))
done
[ "$found" -gt 0 ] || { echo "fuzz: no targets in $build/tests/fuzz"; exit 1; }
echo "fuzz: $found targets passed"
