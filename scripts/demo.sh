#!/bin/sh
# make demo: run the server with config/kizuna.yaml and the unit simulator,
# print where to look, and stop both cleanly on Ctrl-C.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/$build/kizuna"
data="$top/data/demo"
ports="$data/ports.json"
mkdir -p "$data"
rm -f "$ports"
cd "$top" # the configuration's alliance path is relative to the source tree

"$bin" serve -c "$top/config/kizuna.yaml" --data "$data" --ports-file "$ports" &
srv=$!
sim=""
cleanup() {
    trap - INT TERM EXIT
    [ -n "$sim" ] && kill "$sim" 2>/dev/null && wait "$sim" 2>/dev/null
    kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
    echo "demo stopped"
}
trap cleanup INT TERM EXIT

i=0
while [ ! -s "$ports" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$srv" 2>/dev/null; then
        echo "the server did not start; see the log above" >&2
        exit 1
    fi
    sleep 0.1
done

"$bin" sim -s 127.0.0.1:8087 -n 24 -r 1 &
sim=$!
# The sample plans, once per data directory.
if "$bin" plan list -s 127.0.0.1:8081 | grep -q '^no plans$'; then
    "$top/scripts/demo-plans.sh" "$build"
fi

cat <<MSG

kizuna demo is running.
  the COP (browser):      http://127.0.0.1:8080/   (JPN viewer: http://127.0.0.1:8082/)
  live tracks (GeoJSON):  http://127.0.0.1:8080/api/v1/tracks
  live stream (SSE):      http://127.0.0.1:8080/api/v1/stream
  metrics:                http://127.0.0.1:8080/metrics
  CoT stream for TAK tools: 127.0.0.1:8087 (US input), 127.0.0.1:8088 (JPN input)
  watch it:  $bin tail -s 127.0.0.1:8088 --json
  joint plans: $bin plan list -s 127.0.0.1:8081   (JJOC staff: -s 127.0.0.1:8082)
               $bin plan show ID --local -s 127.0.0.1:8081
Press Ctrl-C to stop.

MSG
wait "$srv"
