#!/bin/sh
# docs/config.md must hold exactly the key table the binary prints, and
# --print-config must print YAML that loads back to the same configuration.
set -eu
bin=${1:?usage: config-docs.sh KIZUNA_BIN DOC}
doc=${2:?usage: config-docs.sh KIZUNA_BIN DOC}
want=$(mktemp)
have=$(mktemp)
again=$(mktemp)
trap 'rm -f "$want" "$have" "$again"' EXIT
"$bin" serve --config-docs >"$want"
sed -n '/<!-- BEGIN GENERATED KEYS -->/,/<!-- END GENERATED KEYS -->/p' "$doc" |
    sed '1d;$d' >"$have"
if ! diff -u "$have" "$want"; then
    echo "docs/config.md is out of date: regenerate the table with 'kizuna serve --config-docs'"
    exit 1
fi
echo "docs/config.md matches the key table"
sample="$(dirname "$doc")/../config/kizuna.yaml"
for cfg in "" "$sample"; do
    "$bin" serve ${cfg:+-c "$cfg"} --print-config >"$have"
    "$bin" serve -c "$have" --print-config >"$again"
    if ! diff -u "$have" "$again"; then
        echo "--print-config of ${cfg:-the built-in configuration} does not load back identically"
        exit 1
    fi
done
echo "--print-config loads back identically"
