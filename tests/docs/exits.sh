#!/bin/sh
# Every place event data leaves the process is a registered exit (checked by
# the release rule) or a documented internal use, and every registered row is
# a real call site.  The code is matched with its comments stripped, so a
# comment neither hides nor satisfies anything.  See tests/docs/exits.txt.
#
# A call site is any of, outside src/cot/ (the codec) and src/label/ (the rule):
#   - an encoder call: kz_cot_encode_xml/json, kz_fed_encode_event, kz_wire_encode, track_wire
#   - a direct release check: kz_may_release (readiness and alliance exits)
#   - hand-built output naming an event fact (uid, callsign, how, access,
#     label, detail, endpoint, lat, lon, hae, team, role): a JSON key "\"uid\""
#     or XML attribute uid=\"...\" in a string literal, a jansson
#     json_object_set*/json_pack with such a key, kz_json_escape of such a
#     field, or a writer helper (add_str(sb, "uid", ...)) given such a key.
set -eu
top=${1:?usage: exits.sh SOURCE_DIR}
cd "$top"
registry=tests/docs/exits.txt
work=$(mktemp -d "${TMPDIR:-/tmp}/kz-exits.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0

# The sources without comments; strings are kept, line numbers too.
find src -name '*.c' | while read -r f; do
    mkdir -p "$work/$(dirname "$f")"
    perl -0777 -pe '
        s{("(?:\\.|[^"\\\n])*"|'\''(?:\\.|[^'\''\\\n])*'\'')|/\*.*?\*/|//[^\n]*}
         { defined $1 ? $1 : do { (my $c = $&) =~ s/[^\n]//g; $c } }gse' "$f" > "$work/$f"
done

facts='uid|callsign|how|access|label|detail|endpoint|lat|lon|hae|team|role'
pattern="kz_cot_encode_(xml|json)\(|kz_fed_encode_event\(|kz_wire_encode\(|track_wire\(|kz_may_release\("
pattern="$pattern|\\\\\"($facts)\\\\\"|[^A-Za-z_]($facts)=\\\\\""
pattern="$pattern|json_object_set(_new)?(_nocheck)?\([^,]+, *\"($facts)\""
pattern="$pattern|json_pack[a-z_]*\(.*\"($facts)\""
pattern="$pattern|kz_json_escape\([^,]+, *[A-Za-z_>.-]*($facts)[,)]"
pattern="$pattern|[a-z_]*(add|put|emit|write)[a-z_]*\([^,]+, *\"($facts)\""

# file:line:function of each call site.
(cd "$work" && grep -rn -E "$pattern" src || true) | grep -v -E '^src/(cot|label)/' |
while IFS=: read -r file line _; do
    fn=$(awk -v stop="$line" 'NR > stop { exit }
        /^[A-Za-z_][A-Za-z0-9_ \t\*]*\(/ && !/;[ \t]*$/ {
            s = $0; sub(/\(.*/, "", s); n = split(s, w, /[ \t\*]+/); f = w[n] }
        END { print f }' "$work/$file")
    echo "$file $line $fn"
done > "$work/sites"

# Each call site is registered.
while read -r file line fn; do
    if ! awk -v f="$file" -v fn="$fn" '!/^#/ && $1 == f && ($2 == fn || $2 == "*") { found = 1 }
            END { exit !found }' "$registry"; then
        echo "unregistered exit: $file:$line in $fn() writes or releases event data" \
             "(add it to $registry with its role)"
        status=1
    fi
done < "$work/sites"

# Each registered row is a call site.
grep -v -E '^#|^[[:space:]]*$' "$registry" | while read -r file fn _; do
    if ! awk -v f="$file" -v fn="$fn" '$1 == f && ($3 == fn || fn == "*") { found = 1 }
            END { exit !found }' "$work/sites"; then
        echo "registered exit $file $fn() is no call site (gone or renamed? update $registry)"
        echo fail > "$work/stale"
    fi
done
[ -e "$work/stale" ] && status=1

# Every exit id in the enum is used by code (not a comment) outside its declaration.
for e in $(sed -n '/^enum kz_exit {/,/^};/p' src/route/route.h | grep -o 'KZ_EXIT_[A-Z_]*' |
           grep -v '__COUNT'); do
    if ! (cd "$work" && grep -rn "$e" src) | grep -v 'src/route/input.c' | grep -q .; then
        echo "exit $e is declared but never checked"
        status=1
    fi
done
[ $status -eq 0 ] && echo "every exit is registered and checked ($(wc -l < "$work/sites") call sites)"
exit $status
