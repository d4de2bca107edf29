#!/bin/sh
# check-counts.sh - the test run ran every test the sources define.
#
#   check-counts.sh ctest BUILD_DIR   after a ctest run in BUILD_DIR
#   check-counts.sh fuzz BUILD_DIR    after scripts/fuzz.sh BUILD_DIR ...
#
# The expected entries are derived from the sources, never counted by hand:
#   unit/<name>         tests/unit/test_*.c
#   unit/<name>_pg      the names in tests/CMakeLists.txt's KZ_PG_STORE_TESTS (the
#                       same binaries again on PostgreSQL)
#   integration/<name>  tests/integration/*.test.mjs
#   interop/<name>      tests/interop/*.test.mjs
#   web/<name>          web/test/*.test.mjs (the COP's modules under node)
#   browser/<name>      tests/browser/*.test.mjs (the COP in chromium)
#   the fixed entries   every literal `add_test(NAME family/name` in
#                       tests/**/CMakeLists.txt (docs/*, property/*)
#   fuzz targets        tests/fuzz/fuzz_*.c
# ctest mode compares them with `ctest -N` (registered) and with the results
# of the last run in Testing/Temporary/LastTest.log (each must have passed);
# fuzz mode with the targets fuzz.sh recorded in BUILD_DIR/fuzz-ran.txt.
# Fails naming every entry missing or unexpected.
set -eu
mode=${1:?usage: check-counts.sh ctest|fuzz BUILD_DIR}
build=${2:?usage: check-counts.sh ctest|fuzz BUILD_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
status=0

# names of the files matching $2 in directory $1, up to the first dot
stems() {
    for f in "$top/$1"/$2; do
        [ -e "$f" ] || continue
        b=$(basename "$f")
        echo "${b%%.*}"
    done
}

expected_ctest() {
    stems tests/unit 'test_*.c' | sed 's|^|unit/|'
    sed -n '/^set(KZ_PG_STORE_TESTS/,/)/p' "$top/tests/CMakeLists.txt" | tr ' ()' '\n\n\n' |
        sed -n 's|^\(test_[A-Za-z0-9_]*\)$|unit/\1_pg|p'
    stems tests/integration '*.test.mjs' | sed 's|^|integration/|'
    stems tests/interop '*.test.mjs' | sed 's|^|interop/|'
    stems web/test '*.test.mjs' | sed 's|^|web/|'
    stems tests/browser '*.test.mjs' | sed 's|^|browser/|'
    find "$top/tests" -name CMakeLists.txt -exec cat {} + |
        sed -n 's|^[[:space:]]*add_test([[:space:]]*NAME[[:space:]][[:space:]]*\([^[:space:]$)]*/[^[:space:]$)]*\)\([[:space:])].*\)*$|\1|p'
}

# compare LABEL EXPECTED ACTUAL: report names only on one side
compare() {
    sort -u "$2" > "$tmp/e"
    sort -u "$3" > "$tmp/a"
    ne=$(wc -l < "$tmp/e")
    na=$(wc -l < "$tmp/a")
    comm -23 "$tmp/e" "$tmp/a" | sed "s|^|check-counts: $1: missing |" > "$tmp/miss"
    comm -13 "$tmp/e" "$tmp/a" | sed "s|^|check-counts: $1: not derived from the sources |" > "$tmp/extra"
    cat "$tmp/miss" "$tmp/extra"
    if [ -s "$tmp/miss" ] || [ -s "$tmp/extra" ] || [ "$ne" -eq 0 ]; then
        echo "check-counts: $1: FAILED: expected $ne, got $na"
        status=1
    else
        echo "check-counts: $1: $na of $ne"
    fi
}

case $mode in
ctest)
    expected_ctest > "$tmp/expected"
    # The log first: `ctest -N` starts a new, empty one (put back afterwards).
    log="$build/Testing/Temporary/LastTest.log"
    [ -f "$log" ] || { echo "check-counts: no $log: ctest has not run in $build"; exit 1; }
    # After each test's "Test time =" line and a rule comes "Test Passed." or another outcome.
    awk '/^[0-9]+\/[0-9]+ Test: / { sub(/^[0-9]+\/[0-9]+ Test: /, ""); name = $0 }
         /^Test time =/ { want = 2; next }
         want && --want == 0 { if ($0 == "Test Passed.") print name }' "$log" > "$tmp/passed"
    cp "$log" "$tmp/LastTest.log"
    (cd "$build" && ctest -N) | sed -n 's/^[[:space:]]*Test[[:space:]]*#[0-9]*:[[:space:]]*//p' \
        > "$tmp/registered"
    cp "$tmp/LastTest.log" "$log"
    compare "registered in $build (ctest -N)" "$tmp/expected" "$tmp/registered"
    compare "passed in the last ctest run in $build" "$tmp/expected" "$tmp/passed"
    ;;
fuzz)
    stems tests/fuzz 'fuzz_*.c' > "$tmp/expected"
    ran="$build/fuzz-ran.txt"
    [ -f "$ran" ] || { echo "check-counts: no $ran: scripts/fuzz.sh has not run on $build"; exit 1; }
    compare "fuzz targets run by scripts/fuzz.sh" "$tmp/expected" "$ran"
    ;;
*)
    echo "usage: check-counts.sh ctest|fuzz BUILD_DIR"
    exit 2
    ;;
esac
exit "$status"
