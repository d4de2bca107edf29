#!/bin/sh
# format.sh - every C source of the tree is formatted with the checked-in
# .clang-format.  Checks the tracked .c/.h files under src/, tests/ and bench/
# (outside a git checkout: every such file), never generated code (it lives
# in the build directory) nor fuzz corpora.  Fails naming each file; fix with
#   clang-format -i FILE
# Usage: format.sh SOURCE_DIR [CLANG_FORMAT]
set -eu
top=${1:?usage: format.sh SOURCE_DIR [CLANG_FORMAT]}
cf=${2:-${CLANG_FORMAT:-clang-format}}
cd "$top"

if ! command -v "$cf" >/dev/null 2>&1; then
    echo "format: $cf not found; install clang-format (Debian: apt-get install clang-format)"
    exit 1
fi
[ -f .clang-format ] || { echo "format: no .clang-format in $top"; exit 1; }

list=$(mktemp)
trap 'rm -f "$list"' EXIT INT TERM
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -- 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]'
else
    find src tests bench -type f -name '*.[ch]' 2>/dev/null
fi | grep -v -e '^tests/fuzz/corpus/' -e '\.pb-c\.[ch]$' | LC_ALL=C sort > "$list"

[ -s "$list" ] || { echo "format: no C files found under $top"; exit 1; }
bad=0
total=0
while IFS= read -r f; do
    [ -f "$f" ] || continue # deleted in the work tree, not yet in the index
    total=$((total + 1))
    if ! "$cf" --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "format: $f is not formatted (clang-format -i $f)"
        bad=$((bad + 1))
    fi
done < "$list"
if [ "$bad" -ne 0 ]; then
    echo "format: $bad of $total files need clang-format"
    exit 1
fi
echo "format: $total files formatted"
