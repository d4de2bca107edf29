#!/bin/sh
# config-check.sh - the packaged configuration and the unit agree with the
# binary (ctest package/config; the whole package is `make deb-test`):
#   - debian/kizuna.yaml loads (kizuna serve --print-config) and binds loopback only;
#   - the unit's LimitNOFILE= covers what that configuration needs:
#     limits.max_connections + 2 per input + 192 (src/server/limits.c).
# Usage: config-check.sh KIZUNA SOURCE_DIR
set -eu
bin=${1:?usage: config-check.sh KIZUNA SOURCE_DIR}
top=${2:?usage: config-check.sh KIZUNA SOURCE_DIR}
cfg=$top/debian/kizuna.yaml
unit=$top/debian/kizuna.service

out=$("$bin" serve -c "$cfg" --print-config) || { echo "FAIL: $cfg does not load" >&2; exit 1; }
max=$(printf '%s\n' "$out" | sed -n 's/^  max_connections: \([0-9]*\)$/\1/p')
inputs=$(printf '%s\n' "$out" | grep -c '^- name: ')
nofile=$(sed -n 's/^LimitNOFILE=\([0-9]*\)$/\1/p' "$unit")
[ -n "$max" ] && [ -n "$nofile" ] || { echo "FAIL: no max_connections or LimitNOFILE" >&2; exit 1; }
need=$((max + 2 * inputs + 192))
[ "$nofile" -ge "$need" ] ||
    { echo "FAIL: LimitNOFILE=$nofile < $need needed by max_connections=$max" >&2; exit 1; }
bad=$(printf '%s\n' "$out" | sed -n 's/^  listen: //p' | grep -v '^127\.0\.0\.1:' || true)
[ -z "$bad" ] || { echo "FAIL: the packaged configuration binds beyond loopback: $bad" >&2; exit 1; }
echo "ok: $cfg loads; LimitNOFILE=$nofile >= $need; loopback only"
