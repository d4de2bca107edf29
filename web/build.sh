#!/bin/sh
# build.sh - build the browser COP into OUTDIR (CMake's `web` target runs it):
# installs web/node_modules with `npm ci` when it is missing or older than
# package-lock.json, then runs build.mjs (esbuild, the basemap, gzip).
# Node and npm are needed here only, never by the server.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
stamp="$here/node_modules/.package-lock.json"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "web: $tool not found: building the browser COP needs Node.js and npm" \
             "(Debian: apt-get install nodejs npm, or scripts/deps.sh as root);" \
             "configure with -DKZ_WEB=OFF to build the server without it" >&2
        exit 1
    fi
done
if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
    echo "web: npm ci (package-lock.json changed)" >&2
    if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2); then
        echo "web: npm ci failed: the COP's packages (web/package-lock.json) come from the npm registry" >&2
        exit 1
    fi
fi
exec node "$here/build.mjs" "$out"
