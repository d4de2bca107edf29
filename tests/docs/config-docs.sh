#!/bin/sh
# docs/config.md must hold exactly the key table the binary prints.
set -eu
bin=${1:?usage: config-docs.sh KIZUNA_BIN DOC}
doc=${2:?usage: config-docs.sh KIZUNA_BIN DOC}
want=$(mktemp)
have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
"$bin" serve --config-docs >"$want"
sed -n '/<!-- BEGIN GENERATED KEYS -->/,/<!-- END GENERATED KEYS -->/p' "$doc" |
    sed '1d;$d' >"$have"
if ! diff -u "$have" "$want"; then
    echo "docs/config.md is out of date: regenerate the table with 'kizuna serve --config-docs'"
    exit 1
fi
echo "docs/config.md matches the key table"
