#!/bin/sh
# layering.sh - the folders under src/ form layers; includes only go down.
#
# Derives the folder include graph from the `#include "x/..."` lines in
# src/**/*.c and *.h (x a folder of src/ or of the order below) and fails on
#   - an edge against the order: a folder may include only folders on a rank
#     to its left (or itself); folders on the same rank may not include each
#     other;
#   - an include from http/ of a domain or upper folder (the engine never
#     includes a domain header), whatever the ranks say;
#   - a folder of src/ that is not in the order;
#   - a cycle (implied by the rank rule, checked on its own with tsort);
#   - a third-party header included outside the folders allowed below, or a
#     folder allowed a library whose CMake target does not link it.
# Prints the edge list per folder either way.  Folders of the order that do not
# exist yet are fine.  Usage: layering.sh SOURCE_DIR
set -eu
top=${1:?usage: layering.sh SOURCE_DIR}
cd "$top"

# The order, left (bottom) to right (top); a line is one rank.  main is src/main.c.
ranks='core
cot
label
store
route auth alliance
readiness plan mission
net
fed cluster
http
api marti
server
cli
main'

# What src/http/ must never include (docs/architecture.md, DESIGN.md §9).
http_denied='route store label auth alliance readiness plan mission api marti server'

# Third-party headers: "header CMAKE-TARGET folder..."; a folder may include
# the header only if it is listed, and CMakeLists.txt must link the target to
# kz_<folder> (PRIVATE, or PUBLIC when its own header exposes the library).
libs='uv.h PkgConfig::UV store route mission net fed cluster cli
jansson.h PkgConfig::JANSSON alliance readiness plan mission fed cli
expat.h PkgConfig::EXPAT cot cli
openssl/ PkgConfig::SSL auth mission net server
sodium.h PkgConfig::SODIUM auth store mission
zip.h PkgConfig::ZIP auth mission
yaml.h PkgConfig::YAML core
sqlite3.h PkgConfig::SQLITE store
libpq-fe.h PkgConfig::PQ store
llhttp.h llhttp http
nghttp2/ PkgConfig::NGHTTP2 fed
systemd/ PkgConfig::SYSTEMD server
nats/ PkgConfig::NATS cluster'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# rank table: "folder rank"
echo "$ranks" | awk '{ for (i = 1; i <= NF; i++) print $i, NR - 1 }' > "$tmp/rank"
# the folders an include may name: those of the order and those that exist
{ cut -d' ' -f1 "$tmp/rank"; find src -mindepth 1 -maxdepth 1 -type d -exec basename {} \;; } |
    sort -u > "$tmp/folders"

# edges: "from to file:line", one per include of another folder
find src -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort |
    xargs grep -Hn -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"/]+/' |
    awk -v folders="$tmp/folders" '
        BEGIN { while ((getline f < folders) > 0) known[f] = 1 }
        {
            split($0, p, ":"); file = p[1]; line = p[2]
            inc = $0; sub(/^[^"]*"/, "", inc); sub(/\/.*/, "", inc)
            n = split(file, parts, "/")
            from = parts[2]
            if (n == 2) sub(/\.[ch]$/, "", from)
            if (!(inc in known) || inc == from) next
            print from, inc, file ":" line
        }' > "$tmp/edges"

status=0
fail() {
    echo "layering: $*"
    status=1
}

# Folders of src/ missing from the order.
for d in $(find src -mindepth 1 -maxdepth 1 -type d -exec basename {} \; | sort); do
    grep -q "^$d " "$tmp/rank" || fail "src/$d/ is not in the layering order (add it to $0)"
done

# Each edge against the order or the http rule, with the file:line that makes it.
awk -v rankf="$tmp/rank" -v denied="$http_denied" '
    BEGIN {
        while ((getline l < rankf) > 0) { split(l, x, " "); rank[x[1]] = x[2] }
        n = split(denied, d, " "); for (i = 1; i <= n; i++) deny[d[i]] = 1
    }
    {
        from = $1; to = $2; at = $3
        if (!(from in rank) || !(to in rank)) next
        if (from == "http" && (to in deny))
            printf "%s: http includes %s/: the HTTP engine includes no domain or upper header\n", at, to
        else if (rank[to] == rank[from])
            printf "%s: %s includes %s/: folders on the same rank may not include each other\n", at, from, to
        else if (rank[to] > rank[from])
            printf "%s: %s includes %s/: %s is above %s in the order\n", at, from, to, to, from
    }' "$tmp/edges" > "$tmp/bad"
if [ -s "$tmp/bad" ]; then
    sed 's/^/layering: /' "$tmp/bad"
    status=1
fi

# Third-party includes: only where allowed, and allowed only where linked.
echo "$libs" | while read -r hdr target allowed; do
    for f in $allowed; do
        grep -Eq "^target_link_libraries\(kz_$f .*$target( |\))" CMakeLists.txt ||
            echo "CMakeLists.txt: kz_$f may include <$hdr> but does not link $target"
    done
    grep -rn --include='*.[ch]' "^#include <$hdr" src | while IFS=: read -r file line _; do
        dir=$(echo "$file" | cut -d/ -f2)
        case " $allowed " in
        *" $dir "*) ;;
        *) echo "$file:$line: $dir includes <$hdr>: only $allowed may (see \$libs in $0)" ;;
        esac
    done
done > "$tmp/libs"
if [ -s "$tmp/libs" ]; then
    sed 's/^/layering: /' "$tmp/libs"
    status=1
fi

# Cycles, whatever the order says.
awk '{ print $1, $2 }' "$tmp/edges" | sort -u > "$tmp/pairs"
if ! tsort "$tmp/pairs" > /dev/null 2> "$tmp/tsort"; then
    loop=$(grep -v 'input contains a loop' "$tmp/tsort" | sed 's/^tsort: //' | tr '\n' ' ')
    fail "a cycle between folders: $loop"
fi

# The graph: per folder, the folders it includes and how many include lines.
echo "layering: folder include graph (folder [edges]: included folder(include lines) ...)"
LC_ALL=C sort -k1,1 -k2,2 "$tmp/edges" > "$tmp/sorted"
for d in $(cut -d' ' -f1 "$tmp/rank"); do
    [ -d "src/$d" ] || { [ "$d" = main ] && [ -f src/main.c ]; } || continue
    awk -v d="$d" '$1 == d { if (!($2 in n)) order[k++] = $2; n[$2]++ }
        END {
            s = ""
            for (i = 0; i < k; i++) s = s sprintf(" %s(%d)", order[i], n[order[i]])
            printf "  %-10s [%d]:%s\n", d, k, s
        }' "$tmp/sorted"
done
edges=$(wc -l < "$tmp/pairs")
if [ "$status" -ne 0 ]; then
    echo "layering: FAILED ($edges folder edges; see above)"
else
    echo "layering: ok ($edges folder edges, no cycle, every edge goes down)"
fi
exit "$status"
