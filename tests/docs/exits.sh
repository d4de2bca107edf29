#!/bin/sh
# Every place that encodes event data outside the codec must be a known
# exit (checked by the release rule) or a documented internal use; every
# exit id must be used.  See tests/docs/exits.txt.
set -eu
top=${1:?usage: exits.sh SOURCE_DIR}
cd "$top"
registry=tests/docs/exits.txt
status=0

# file:line of each encoder call outside src/cot/, with its enclosing function.
grep -rn --include='*.c' -E 'kz_cot_encode_(xml|json)\(|kz_wire_encode\(|track_wire\(' src |
    grep -v '^src/cot/' |
while IFS=: read -r file line _; do
    fn=$(awk -v stop="$line" 'NR > stop { exit }
        /^[A-Za-z_][A-Za-z0-9_ \t\*]*\(/ && !/;[ \t]*$/ {
            s = $0; sub(/\(.*/, "", s); n = split(s, w, /[ \t\*]+/); f = w[n] }
        END { print f }' "$file")
    if ! awk -v f="$file" -v fn="$fn" '!/^#/ && $1 == f && ($2 == fn || $2 == "*") { found = 1 }
            END { exit !found }' "$registry"; then
        echo "unregistered event encoding: $file:$line in $fn() (add it to $registry with its role)"
        echo fail > "${TMPDIR:-/tmp}/kz-exits.$$"
    fi
done
if [ -e "${TMPDIR:-/tmp}/kz-exits.$$" ]; then
    rm -f "${TMPDIR:-/tmp}/kz-exits.$$"
    status=1
fi

# Every exit id in the enum is used by some check outside its declaration.
for e in $(sed -n '/^enum kz_exit {/,/^};/p' src/route/route.h | grep -o 'KZ_EXIT_[A-Z_]*' |
           grep -v '__COUNT'); do
    if ! grep -rn --include='*.c' "$e" src | grep -v 'src/route/input.c' | grep -q .; then
        echo "exit $e is declared but never checked"
        status=1
    fi
done
[ $status -eq 0 ] && echo "every exit is registered and checked"
exit $status
