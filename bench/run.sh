#!/usr/bin/env bash
# run.sh BUILD_DIR - the kizuna benchmark suite (make bench), side by side with
# nats-server and mosquitto on the same workloads.
#
# Environment:
#   BENCH_QUICK=1     W1 and W4 only at 200×10 and 1000×1 (plus the ATAK variant)
#   BENCH_REPS=N      repetitions per run; the table shows medians (default 1)
#   BENCH_WORKLOADS   which of "1 2 3 4 5 6 F H C" to run (default all)
#   BENCH_IDLE=N      W4: idle TLS connections to hold (default 10000)
#   BENCH_PEERS       which of "ref kizuna nats mosquitto" to run (default all); ref is
#                     bench/fanout_ref.c, a framing-only server: the ceiling of the moment
#   BENCH_WARMUP, BENCH_WINDOW, BENCH_DRAIN   seconds (default 3, 10, 3)
#   BENCH_PIN=0       do not pin server and generator to different cores
#   BENCH_DOC=FILE    where the table goes (default docs/performance.md)
#   BENCH_TMPDIR=DIR  where the work directory is made (default /tmp)
#   MOSQ_NODELAY=0    leave Nagle on in mosquitto (default: TCP_NODELAY like kizuna)
#   BENCH_F_TRACKS    F1: uids per label class (default 5000)
#   BENCH_F2_EVENTS, BENCH_F2_TRACKS, BENCH_F2_DEADLINE   F2: events (100000) over how
#                     many uids (1000), seconds after link up before "incomplete" (20)
#
# Workload F (issue 12, bench/fedgen.c): two nodes, kz-usa and kz-jpn, each with its
# own CA from `kizuna ca init`, one federation v2 link (kz-usa dials), the peer
# identity JPN/SECRET/Cyan.  Events carry `access`: 90 % "SECRET//REL TO USA, JPN",
# 10 % "SECRET//NOFORN", which kz-usa's `denied` (GET /api/v1/federation) must count
# exactly.  F1: one connection pushes 256 KiB batches into kz-usa's TCP input as fast
# as it takes them; a subscriber on kz-jpn's TCP input counts arrivals (medians of
# 1 s samples); next to it kz-usa alone with no link (the ingest ceiling) and the
# local W1 200×10 row (run by F when W1 is not in BENCH_WORKLOADS).  F2: with
# nothing listening where kz-usa dials, 100 000 releasable events into kz-usa
# (stored), then kz-jpn starts and, once its subscriber is connected, fedgen relays
# that port to kz-jpn's; time from link up until the subscriber holds
# all of them, or "incomplete N/100000" at the deadline.  F runs unpinned with 64 MiB
# output queues, and the generator holds while kz-usa's store or the link is behind
# (kizuna gives senders no backpressure); docs/performance.md has the details.
# Before F1, on the quiet machine, bench/fedfloor.c times alone, in one process, each
# step one crossing event needs (format, loopback TCP, expat, SQLite, protobuf-c, TLS,
# nghttp2, XML encode): F1's CPU floor per crossing event and its 2-core ceiling.
#   BENCH_H_EVENTS, BENCH_H_REPS, BENCH_H_BACKEND   H: events stored (10000000), requests
#                     per case (200), the store kizuna runs on: sqlite, postgres or both
#                     (default both)
#
# Workload H (issue 15, bench/histq.c): the history query.  kizuna creates an empty
# store, histq fills it with BENCH_H_EVENTS events from 5 000 uids over a 20x20 degree
# theatre and 3 days (timed), then, with kizuna serving it, times GET
# /api/v1/events?bbox=&since=&limit=100 through the HTTP API for a small, a medium and
# a theatre-wide box, each since the last hour and since the start (p50/p99), and the
# same cases through a reference without a spatial index (the log newest first, each
# point read from its XML).  It needs ~6 GB of disk in the bench's temporary directory.
# On PostgreSQL (PostgreSQL 15 + PostGIS, /usr/lib/postgresql/15/bin) run.sh starts its
# own server for H: initdb into $WORK/pg (as the postgres user when run as root, with
# setpriv), a free 127.0.0.1 port, PostgreSQL's default settings (fsync on), stopped by
# its pid at the end and on any exit of run.sh; histq fills it with COPY (~8 GB more).
# Statements slower than 25 ms (half the target) are logged, with their parameters, in
# $WORK/pg/postgres.log, which stays with the results.
#
# Workload C (issue 15, bench/cluster.sh): W1 at 1000×1 and 200×10 through two kizuna
# instances joined by one nats-server, clients split between them, next to one instance;
# CPU per delivery sums both instances and nats-server (bench/cluster.awk: the table,
# the ≤ 1.5× target, and what the cost means for a 50 000-device theatre).
#
# Every server listens on 127.0.0.1 only, runs under timeout(1) and is
# stopped by its pid.  Results: one JSON line per run in $WORK/results.jsonl.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
KIZUNA=$BUILD/kizuna
QUICK=${BENCH_QUICK:-0}
REPS=${BENCH_REPS:-1}
WORKLOADS=${BENCH_WORKLOADS:-1 2 3 4 5 6 F H C}
IDLE_N=${BENCH_IDLE:-10000}
PEERS=${BENCH_PEERS:-ref kizuna nats mosquitto}
WARM=${BENCH_WARMUP:-3}
WIN=${BENCH_WINDOW:-10}
DRAIN=${BENCH_DRAIN:-3}
DOC=${BENCH_DOC:-$ROOT/docs/performance.md}
W6_QUEUE=1048576
WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/kizuna-bench.XXXXXX")
RESULTS=$WORK/results.jsonl
LG=$WORK/loadgen
REF=$WORK/fanout_ref
FG=$WORK/fedgen
FF=$WORK/fedfloor
HQ=$WORK/histq
H_EVENTS=${BENCH_H_EVENTS:-10000000}
H_REPS=${BENCH_H_REPS:-200}
H_BACKEND=${BENCH_H_BACKEND:-both}
PG_BIN=/usr/lib/postgresql/15/bin
F2_EVENTS=${BENCH_F2_EVENTS:-100000}
F2_TRACKS=${BENCH_F2_TRACKS:-1000}
F2_DEADLINE=${BENCH_F2_DEADLINE:-20}
SRV_TIMEOUT=300
CMDLINE="bench/run.sh ${1:-build}"
for v in BENCH_QUICK BENCH_REPS BENCH_WORKLOADS BENCH_PEERS BENCH_PIN BENCH_IDLE; do
    if [ -n "${!v:-}" ]; then CMDLINE="$v=\"${!v}\" $CMDLINE"; fi
done

say() { printf '%s\n' "$*" >&2; }

[ -x "$KIZUNA" ] || { say "run.sh: no kizuna binary in $BUILD"; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
    say "run.sh: ulimit -n is $(ulimit -n); W3 needs ~10 000 descriptors"
fi

# ---- peers -------------------------------------------------------------------

have_peer() { command -v "$1" >/dev/null 2>&1; }

install_peers() {
    have_peer nats-server && have_peer mosquitto && return 0
    local cmd="apt-get install -y --no-install-recommends nats-server mosquitto"
    if [ "$(id -u)" = 0 ]; then
        say "run.sh: installing peers: $cmd"
        DEBIAN_FRONTEND=noninteractive $cmd >"$WORK/apt.log" 2>&1 ||
            { apt-get update >>"$WORK/apt.log" 2>&1 &&
              DEBIAN_FRONTEND=noninteractive $cmd >>"$WORK/apt.log" 2>&1; } ||
            say "run.sh: apt-get failed, see $WORK/apt.log"
    else
        say "run.sh: peers missing; as root run: $cmd  (skipping peers)"
    fi
}

peer_enabled() {
    case " $PEERS " in *" $1 "*) ;; *) return 1 ;; esac
    case $1 in
    kizuna | ref) return 0 ;;
    nats) have_peer nats-server ;;
    mosquitto) have_peer mosquitto ;;
    esac
}

# ---- processes -----------------------------------------------------------------

SRV_PIN=() GEN_PIN=()
if [ "${BENCH_PIN:-1}" != 0 ] && [ "$(nproc)" -ge 2 ] && have_peer taskset; then
    SRV_PIN=(taskset -c 1) GEN_PIN=(taskset -c 0)
fi

port_busy() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 12000))
        if ! port_busy "$p"; then echo "$p"; return; fi
    done
}

wait_port() {
    for _ in $(seq 100); do
        if port_busy "$1"; then return 0; fi
        sleep 0.1
    done
    return 1
}

# start_server LOG CMD... : sets TPID (timeout) and SPID (the server itself).
start_server() {
    local log=$1
    shift
    "${SRV_PIN[@]}" timeout -k 5 "$SRV_TIMEOUT" "$@" >"$log" 2>&1 &
    TPID=$!
    SPID=
    for _ in $(seq 50); do
        SPID=$(pgrep -P "$TPID" | head -1 || true)
        if [ -n "$SPID" ]; then return 0; fi
        sleep 0.1
    done
    say "run.sh: server did not start: $*"
    cat "$log" >&2
    return 1
}

# stop_server NAME : TERM by pid, KILL after 10 s; notes a server that died early.
stop_server() {
    if ! kill -0 "$SPID" 2>/dev/null; then
        say "run.sh: $1 (pid $SPID) died during the run; log: $SRV_LOG"
        tail -5 "$SRV_LOG" >&2 || true
        echo "$1 died during ${LABEL:-?}; see $SRV_LOG" >>"$WORK/problems.txt"
    fi
    kill -TERM "$SPID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$TPID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SPID" 2>/dev/null || true
    wait "$TPID" 2>/dev/null || true
}

# ---- kizuna ----------------------------------------------------------------------

# As many connections as the descriptor limit allows (the server keeps a reserve of
# about 200 for HTTP, the store and its inputs), at most 20 000.
kz_max_conns() {
    local n
    n=$(ulimit -n)
    [ "$n" = unlimited ] && n=20256
    n=$((n - 256))
    [ "$n" -gt 20000 ] && n=20000
    echo "$n"
}

# kz_config GROUPS QUEUE_BYTES MAX_DELAY_MS > yaml; KZ_TLS=1: one mutual-TLS input
kz_config() {
    local groups=$1 queue=$2 delay=$3 i
    cat <<EOF
node: {id: bench, nation: USA}
store: {${KZ_STORE:-backend: sqlite, path: kizuna.db}, max_delay_ms: $delay}
limits: {max_event_bytes: 65536, out_queue_bytes: $queue, max_connections: $(kz_max_conns)}
log: {level: warn}
EOF
    if [ "$KZ_TLS" = 1 ]; then
        echo "tls: {ca: pki/ca.pem, cert: pki/server.pem, key: pki/server.key, crl: pki/crl.pem}"
        echo "inputs:"
        echo "  - {name: cot, protocol: tls, listen: \"127.0.0.1:0\", default_label: UNCLASSIFIED}"
        groups=0
    else
        echo "inputs:"
    fi
    for ((i = 0; i < groups; i++)); do
        local name=cot g=Cyan
        if [ "$groups" -gt 1 ]; then name=cot$i g=G$i; fi
        echo "  - {name: $name, protocol: tcp, listen: \"127.0.0.1:0\", identity: {user: b$i," \
             "nation: USA, clearance: SECRET, groups_in: [$g], groups_out: [$g]}," \
             "default_label: UNCLASSIFIED}"
    done
    echo "  - {name: web, protocol: http, listen: \"127.0.0.1:0\", identity: {user: w," \
         "nation: USA, clearance: SECRET, groups_in: [Cyan], groups_out: [Cyan]," \
         "roles: [viewer]}," \
         "default_label: UNCLASSIFIED}"
}

KZ_GROUPS=1 KZ_QUEUE=4194304 KZ_DELAY=50 KZ_DATA_ROOT=$WORK KZ_TLS=0
PKI=$WORK/pki-data   # CA, server and client certificates, users table: copied per TLS server

# One CA, server certificate and client certificate (user "bench", in the users
# table of the template data dir) for the whole invocation, made by the kizuna CLI.
pki_setup() {
    TLS_ARGS=(--tls --cert "$PKI/pki/bench.pem" --key "$PKI/pki/bench.key"
              --ca "$PKI/pki/ca.pem")
    [ -f "$PKI/pki/bench.pem" ] && return 0
    "$KIZUNA" ca init --data "$PKI" >"$WORK/pki.log" 2>&1 &&
        "$KIZUNA" cert issue --user bench --nation USA --clearance SECRET --groups Cyan \
            --data "$PKI" >>"$WORK/pki.log" 2>&1 ||
        { say "run.sh: kizuna ca init / cert issue failed:"; cat "$WORK/pki.log" >&2; return 1; }
}

# kz_launch DIR : kizuna on DIR/kizuna.yaml; sets SPID TPID SRV_LOG, and from the
# ports file WEB, PORTS (the cot inputs) and FEDP (the federation port, if any).
kz_launch() {
    local dir=$1 ports
    SRV_LOG=$dir/kizuna.log
    start_server "$SRV_LOG" "$KIZUNA" serve -c "$dir/kizuna.yaml" --data "$dir/data" \
        --ports-file "$dir/ports.json" || return 1
    for _ in $(seq 100); do
        if [ -s "$dir/ports.json" ]; then break; fi
        sleep 0.1
    done
    ports=$(tr -d ' \n' <"$dir/ports.json")
    WEB=$(sed 's/.*"web":\([0-9]*\).*/\1/' <<<"$ports")
    PORTS=$(grep -o '"cot[0-9]*":[0-9]*' <<<"$ports" | sort -V | cut -d: -f2 | paste -sd,)
    FEDP=$( (grep -o '"federation":[0-9]*' <<<"$ports" || true) | cut -d: -f2)
    [ -n "$PORTS" ] && [ -n "$WEB" ] || { say "run.sh: no ports from kizuna"; return 1; }
}

start_kizuna() {
    local dir
    dir=$(mktemp -d "$KZ_DATA_ROOT/kz.XXXXXX")
    KZ_DIR=$dir
    kz_config "$KZ_GROUPS" "$KZ_QUEUE" "$KZ_DELAY" >"$dir/kizuna.yaml"
    if [ "$KZ_TLS" = 1 ]; then cp -a "$PKI" "$dir/data"; fi
    kz_launch "$dir"
}

start_ref() {
    local p
    p=$(free_port)
    SRV_LOG=$WORK/ref-$p.log
    start_server "$SRV_LOG" "$REF" "$p" || return 1
    wait_port "$p"
    PORTS=$p WEB=
}

start_nats() {
    local p
    p=$(free_port)
    SRV_LOG=$WORK/nats-$p.log
    start_server "$SRV_LOG" nats-server -a 127.0.0.1 -p "$p" || return 1
    wait_port "$p"
    PORTS=$p WEB=
}

start_mosquitto() {
    local p conf
    p=$(free_port)
    conf=$WORK/mosquitto-$p.conf
    cat >"$conf" <<EOF
listener $p 127.0.0.1
allow_anonymous true
persistence false
log_dest stderr
log_type error
log_type warning
max_connections -1
set_tcp_nodelay $([ "${MOSQ_NODELAY:-1}" = 1 ] && echo true || echo false)
EOF
    SRV_LOG=$WORK/mosquitto-$p.log
    start_server "$SRV_LOG" mosquitto -c "$conf" || return 1
    wait_port "$p"
    PORTS=$p WEB=
}

# Bytes the store holds on disk per committed event (db + wal + shm).
disk_fields() {
    local bytes events
    bytes=$(find "$KZ_DIR/data" -type f -name 'kizuna.db*' -printf '%s\n' |
        awk '{s += $1} END {print s + 0}')
    events=$(grep -o '"srv_committed":[0-9-]*' <<<"$1" | cut -d: -f2)
    awk -v b="$bytes" -v e="$events" 'BEGIN {
        printf(",\"disk_bytes\":%d,\"disk_bytes_per_event\":%.1f", b, e > 0 ? b / e : -1) }'
}

# ---- one run ---------------------------------------------------------------------

# run LABEL PEER LOADGEN_ARGS... : start the peer, run the generator, stop the peer.
run() {
    local label=$1 peer=$2 mode=cot out json extra= rep
    shift 2
    peer_enabled "$peer" || return 0
    case $peer in nats) mode=nats ;; mosquitto) mode=mqtt ;; esac
    LABEL=$label
    for ((rep = 1; rep <= REPS; rep++)); do
        if ! "start_$peer"; then
            echo "$peer failed to start for $label" >>"$WORK/problems.txt"
            continue
        fi
        out=$WORK/run.out
        if ! "${GEN_PIN[@]}" "$LG" -m "$mode" -p "$PORTS" -P "$SPID" ${WEB:+--metrics "$WEB"} \
            -w "$WARM" -d "$WIN" --drain "$DRAIN" --label "$label" "$@" \
            >"$out" 2>"$WORK/run.err"; then
            say "run.sh: loadgen failed for $label: $(tail -2 "$WORK/run.err")"
            echo "loadgen failed for $label: $(tail -1 "$WORK/run.err")" >>"$WORK/problems.txt"
        fi
        json=$(grep '^{' "$out" || true)
        if [ -n "$json" ]; then
            if [ "$peer" = kizuna ] && [ "${label%%/*}" = W5 ]; then
                extra=$(disk_fields "$json")
            fi
            echo "${json%\}}$extra}" >>"$RESULTS"
            grep '^# ' "$out" >&2 || true
        fi
        stop_server "$peer"
        if [ "$peer" = kizuna ]; then rm -rf "$KZ_DIR"; fi
    done
}

# ---- workloads --------------------------------------------------------------------

w1() {
    local grid="10x0.1 10x1 10x10 100x0.1 100x1 100x10 200x0.1 200x1 200x10 1000x0.1 1000x1 1000x10"
    [ "$QUICK" = 1 ] && grid="200x10 1000x1"
    for nr in $grid; do
        for peer in ref kizuna nats mosquitto; do
            run "W1/$peer/375B" "$peer" -n "${nr%x*}" -r "${nr#*x}"
        done
    done
    for peer in ref kizuna nats mosquitto; do
        run "W1/$peer/ATAK ~800B" "$peer" -n 200 -r 10 --atak
    done
}

w2() {
    KZ_GROUPS=4
    for peer in kizuna nats mosquitto; do
        run "W2/$peer/4 groups" "$peer" -n 200 -r 10 -g 4
    done
    KZ_GROUPS=1
}

w3() {
    run "W3/kizuna/storm" kizuna -n 5000 --storm 1000 --tracks 2000
}

# W4: W1 over mutual TLS next to the same W1 in plain TCP (same server build,
# same minute), then a handshake storm that leaves BENCH_IDLE TLS connections
# idle (and the same in plain TCP, to split TLS from per-connection state).
w4() {
    local grid="10x0.1 10x1 10x10 100x0.1 100x1 100x10 200x0.1 200x1 200x10 1000x0.1 1000x1 1000x10"
    [ "$QUICK" = 1 ] && grid="200x10 1000x1"
    pki_setup || { echo "W4: no certificates (see $WORK/pki.log)" >>"$WORK/problems.txt"; return; }
    for nr in $grid; do
        run "W4/kizuna/plain" kizuna -n "${nr%x*}" -r "${nr#*x}"
        KZ_TLS=1 run "W4/kizuna/TLS" kizuna -n "${nr%x*}" -r "${nr#*x}" "${TLS_ARGS[@]}"
    done
    KZ_TLS=1 run "W4/kizuna/idle TLS" kizuna -n "$IDLE_N" --idle 10 --inflight 128 \
        "${TLS_ARGS[@]}"
    run "W4/kizuna/idle plain" kizuna -n "$IDLE_N" --idle 10 --inflight 128
}

w5() {
    run "W5/kizuna/disk, 50 ms" kizuna -n 200 -r 10
    KZ_DELAY=5 run "W5/kizuna/disk, 5 ms" kizuna -n 200 -r 10
    KZ_DELAY=500 run "W5/kizuna/disk, 500 ms" kizuna -n 200 -r 10
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        KZ_DATA_ROOT=$(mktemp -d /dev/shm/kizuna-bench.XXXXXX)
        run "W5/kizuna/tmpfs, 50 ms" kizuna -n 200 -r 10
        rm -rf "$KZ_DATA_ROOT"
        KZ_DATA_ROOT=$WORK
    fi
}

w6() {
    KZ_QUEUE=$W6_QUEUE
    run "W6/kizuna/no-slow" kizuna -n 200 -r 10
    run "W6/kizuna/slow" kizuna -n 200 -r 10 --slow 1
    KZ_QUEUE=4194304
}

# ---- F: federation ----------------------------------------------------------------

FED_PKI=$WORK/fed-pki # pki-usa/, pki-jpn/: one CA per nation, for the whole invocation

# One CA and node certificate (for 127.0.0.1) per nation, made by `kizuna ca init`.
fed_pki() {
    local n
    mkdir -p "$FED_PKI"
    for n in usa jpn; do
        [ -f "$FED_PKI/pki-$n/server.pem" ] && continue
        "$KIZUNA" ca init --dir "$FED_PKI/pki-$n" --data "$FED_PKI/ca-data-$n" \
            --host localhost,127.0.0.1 --org "kz-$n" >>"$WORK/pki.log" 2>&1 ||
            { say "run.sh: kizuna ca init for kz-$n failed:"; cat "$WORK/pki.log" >&2; return 1; }
    done
}

# fed_config NODE NATION PEER PEER_NATION LISTEN CONNECT > yaml: one CoT input and
# one viewer input of NATION; LISTEN: the federation port ("" = no federation at all,
# 0 = any); CONNECT: the peer's federation port to dial ("" = accept only).  The peer
# is SECRET, group Cyan both ways, ceiling SECRET//REL TO both nations.
fed_config() {
    local node=$1 nation=$2 peer=$3 pnation=$4 listen=$5 connect=$6 me=${1#kz-}
    local who="clearance: SECRET, groups_in: [Cyan], groups_out: [Cyan]"
    cat <<EOF
node: {id: $node, nation: $nation}
store: {backend: sqlite, path: kizuna.db, max_delay_ms: $KZ_DELAY}
limits: {max_event_bytes: 65536, out_queue_bytes: $F_QUEUE, max_connections: 1024}
log: {level: warn}
inputs:
  - {name: cot, protocol: tcp, listen: "127.0.0.1:0", default_label: UNCLASSIFIED,
     identity: {user: f-$me, nation: $nation, $who}}
  - {name: web, protocol: http, listen: "127.0.0.1:0", default_label: UNCLASSIFIED,
     identity: {user: w-$me, nation: $nation, $who, roles: [viewer]}}
EOF
    [ -n "$listen" ] || return 0
    local pki=$FED_PKI/pki-$me
    cat <<EOF
tls: {ca: $pki/ca.pem, cert: $pki/server.pem, key: $pki/server.key, crl: $pki/crl.pem}
federation:
  listen: "127.0.0.1:$listen"
  peers:
    - {name: $peer, ca: $FED_PKI/pki-${peer#kz-}/ca.pem, protocol: v2,${connect:+ connect: "127.0.0.1:$connect",}
       identity: {nation: $pnation, $who}, default_label: UNCLASSIFIED,
       ceiling: "SECRET//REL TO $nation, $pnation"}
EOF
}

# fed_node VAR NODE NATION PEER PEER_NATION LISTEN CONNECT : start a node; its pids,
# log, data dir and ports go to VAR_SPID VAR_TPID VAR_LOG VAR_DIR VAR_WEB VAR_COT VAR_FED.
fed_node() {
    local var=$1 dir
    shift
    dir=$(mktemp -d "$KZ_DATA_ROOT/$1.XXXXXX")
    fed_config "$@" >"$dir/kizuna.yaml"
    if ! kz_launch "$dir"; then
        echo "$1 failed to start for $LABEL" >>"$WORK/problems.txt"
        SPID=$SPID TPID=$TPID stop_server "$1"
        rm -rf "$dir"
        return 1
    fi
    printf -v "${var}_SPID" '%s' "$SPID"
    printf -v "${var}_TPID" '%s' "$TPID"
    printf -v "${var}_LOG" '%s' "$SRV_LOG"
    printf -v "${var}_DIR" '%s' "$dir"
    printf -v "${var}_WEB" '%s' "$WEB"
    printf -v "${var}_COT" '%s' "$PORTS"
    printf -v "${var}_FED" '%s' "$FEDP"
}

# fed_stop VAR NAME : stop the node fed_node started as VAR (if it runs) by its pid.
fed_stop() {
    local s=${1}_SPID t=${1}_TPID l=${1}_LOG d=${1}_DIR
    [ -n "${!s:-}" ] || return 0
    SPID=${!s} TPID=${!t} SRV_LOG=${!l} stop_server "$2"
    cp "${!l}" "$WORK/${LABEL//[^A-Za-z0-9]/_}.$2.log" 2>/dev/null || true
    rm -rf "${!d}"
    printf -v "$s" '%s' ''
}

# fed_record OUT [JSON_FIELDS] : the JSON line of a fedgen run (plus fields) to the results.
fed_record() {
    local json
    json=$(grep '^{' "$1" || true)
    if [ -z "$json" ]; then
        say "run.sh: fedgen failed for $LABEL: $(tail -2 "$WORK/run.err")"
        echo "fedgen failed for $LABEL: $(tail -1 "$WORK/run.err")" >>"$WORK/problems.txt"
        return
    fi
    echo "${json%\}}${2:+,$2}}" >>"$RESULTS"
    grep '^# ' "$1" >&2 || true
}

# 64 MiB per link and subscriber.  A live link whose output passes half of it falls
# behind and goes on from the events log, which costs more per event than live
# sending; the generator holds at 60 000 events in flight (~18 MB of FederatedEvents)
# so that F1 measures the live path.  Its hold reacts within ~0.05-0.7 s (as fast as a
# busy node answers HTTP).
F_ARGS=(--tracks "${BENCH_F_TRACKS:-5000}" --noforn 0.1 --max-inflight 60000)
F_QUEUE=67108864

# F1's floor: each step of one crossing event alone, in one process (bench/fedfloor.c).
f1_floor() {
    LABEL="F1/floor/in one process"
    if [ ! -x "$FF" ]; then
        echo "fedfloor was not built (see $WORK/fedfloor-build.log)" >>"$WORK/problems.txt"
        return 0
    fi
    "$FF" --dir "$KZ_DATA_ROOT" --label "$LABEL" >"$WORK/run.out" 2>"$WORK/run.err" || true
    fed_record "$WORK/run.out"
}

# F1, the ceiling: kz-usa alone (no federation) takes the same events.
f1_alone() {
    LABEL="F1/kizuna/kz-usa alone, no link"
    fed_node U kz-usa USA kz-jpn JPN "" "" || return 0
    "$FG" rate --push "$U_COT" --src-web "$U_WEB" --src-pid "$U_SPID" -w "$WARM" -d "$WIN" \
        --drain "$DRAIN" "${F_ARGS[@]}" --label "$LABEL" >"$WORK/run.out" 2>"$WORK/run.err" ||
        true
    fed_record "$WORK/run.out"
    fed_stop U kz-usa
}

# F1: kz-usa dials kz-jpn (v2); events pushed into kz-usa, counted on kz-jpn.
f1_link() {
    LABEL="F1/kizuna/v2 link, release filter"
    fed_node J kz-jpn JPN kz-usa USA 0 "" || return 0
    if fed_node U kz-usa USA kz-jpn JPN 0 "$J_FED"; then
        "$FG" rate --push "$U_COT" --sub "$J_COT" --src-web "$U_WEB" --dst-web "$J_WEB" \
            --src-pid "$U_SPID" --dst-pid "$J_SPID" -w "$WARM" -d "$WIN" --drain "$DRAIN" \
            "${F_ARGS[@]}" --label "$LABEL" >"$WORK/run.out" 2>"$WORK/run.err" || true
        fed_record "$WORK/run.out"
    fi
    fed_stop U kz-usa
    fed_stop J kz-jpn
}

# F2: F2_EVENTS releasable events into kz-usa while kz-jpn is down: kz-usa dials a
# port where nothing listens (fedgen's gate).  Then kz-jpn starts, fedgen connects
# its subscriber and only then opens the gate, relaying to kz-jpn's federation port,
# so no event can cross before it is counted; catch-up from link up.
f2_catchup() {
    local gate back
    LABEL="F2/kizuna/outbox catch-up"
    gate=$(free_port)
    fed_node U kz-usa USA kz-jpn JPN 0 "$gate" || return 0
    "$FG" backlog --push "$U_COT" --src-web "$U_WEB" --events "$F2_EVENTS" \
        --tracks "$F2_TRACKS" --deadline 60 >"$WORK/back.out" 2>"$WORK/run.err" || true
    back=$(grep '^{' "$WORK/back.out" | sed 's/^{//; s/}$//' || true)
    if fed_node J kz-jpn JPN kz-usa USA 0 ""; then
        "$FG" catchup --sub "$J_COT" --src-web "$U_WEB" --dst-web "$J_WEB" \
            --gate "$gate" --to "$J_FED" --events "$F2_EVENTS" --tracks "$F2_TRACKS" \
            --deadline "$F2_DEADLINE" --label "$LABEL" >"$WORK/run.out" 2>"$WORK/run.err" ||
            true
        fed_record "$WORK/run.out" "$back"
    fi
    fed_stop J kz-jpn
    fed_stop U kz-usa
}

wF() {
    local rep pin=("${SRV_PIN[@]}")
    fed_pki || { echo "F: no certificates (see $WORK/pki.log)" >>"$WORK/problems.txt"; return; }
    case " $WORKLOADS " in
    *" 1 "*) ;; # W1 ran in this invocation: its 200×10 row is the local figure
    *) run "W1/kizuna/375B" kizuna -n 200 -r 10 ;;
    esac
    SRV_PIN=() # two nodes and the generator share both CPUs
    f1_floor
    for ((rep = 1; rep <= REPS; rep++)); do
        f1_alone
        f1_link
        f2_catchup
    done
    SRV_PIN=("${pin[@]}")
}

# fedfloor links the libraries kizuna uses and the FederatedEvent code protoc-c makes
# from proto/ (as the CMake build does); without them F1 runs without its floor.
build_fedfloor() {
    mkdir -p "$WORK/proto"
    { protoc-c --c_out="$WORK/proto" -I"$ROOT/proto" "$ROOT/proto/fig.proto" \
        "$ROOT/proto/binarypayload.proto" &&
        cc -O2 -std=gnu17 -Wall -pthread -I"$WORK/proto" -o "$FF" "$HERE/fedfloor.c" \
            "$HERE/ff_node.c" "$HERE/ff_link.c" "$HERE/fg_event.c" "$HERE/probe.c" "$HERE/gen_util.c" \
            "$WORK/proto/fig.pb-c.c" "$WORK/proto/binarypayload.pb-c.c" -lexpat -lsqlite3 \
            -lprotobuf-c -lssl -lcrypto -lnghttp2 -lm; } >"$WORK/fedfloor-build.log" 2>&1 ||
        { say "run.sh: fedfloor did not build, see $WORK/fedfloor-build.log"; rm -f "$FF"; }
}

# ---- H: the history query (bench/histq.c) ---------------------------------------------

# PostgreSQL for H: its own server in $WORK/pg (PG_PID, PG_DSN; default settings, statements
# over 25 ms logged), run by the postgres user
# when we are root (PostgreSQL refuses root); pg_stop ends it by pid (also from the EXIT trap).
PG_PID= PG_DIR= PG_DSN=
pg_start() {
    local as=() port
    PG_DIR=$WORK/pg
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then
        as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
        chmod 711 "$WORK"
        chown postgres: "$PG_DIR"
    fi
    (cd "$PG_DIR" && "${as[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U kizuna -A trust -E UTF8) \
        >"$PG_DIR/initdb.log" 2>&1 || { say "run.sh: initdb failed, see $PG_DIR/initdb.log"; return 1; }
    port=$(free_port)
    (cd "$PG_DIR" && exec "${as[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$port" -k "$PG_DIR" \
        -c listen_addresses=127.0.0.1 -c log_min_duration_statement=25) >"$PG_DIR/postgres.log" 2>&1 &
    PG_PID=$!
    PG_DSN="host=127.0.0.1 port=$port user=kizuna dbname=kz_h connect_timeout=5"
    for _ in $(seq 300); do
        if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
            "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U kizuna -d postgres \
                -c "CREATE DATABASE kz_h" && return 0
            break
        fi
        kill -0 "$PG_PID" 2>/dev/null || break
        sleep 0.1
    done
    say "run.sh: postgres did not start, see $PG_DIR/postgres.log"
    return 1
}

pg_stop() {
    [ -n "$PG_PID" ] || return 0
    kill -INT "$PG_PID" 2>/dev/null || true # fast shutdown
    for _ in $(seq 300); do
        kill -0 "$PG_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$PG_PID" 2>/dev/null || true
    wait "$PG_PID" 2>/dev/null || true
    PG_PID=
    rm -rf "$PG_DIR/data"
}

# wH_one BACKEND: kizuna makes the store (its schema), histq fills it, kizuna serves it.
wH_one() {
    local be=$1 dir db out=$WORK/histq.jsonl KZ_STORE=
    dir=$(mktemp -d "$KZ_DATA_ROOT/kz.XXXXXX")
    db=$dir/data/kizuna.db
    if [ "$be" = postgres ]; then
        pg_start || { echo "H: postgres did not start" >>"$WORK/problems.txt"; return; }
        db=$PG_DSN
        KZ_STORE="backend: postgres, dsn: \"$PG_DSN\""
    fi
    kz_config 1 "$KZ_QUEUE" "$KZ_DELAY" >"$dir/kizuna.yaml"
    LABEL="H ($be)"
    kz_launch "$dir" || { echo "H: kizuna did not start ($be)" >>"$WORK/problems.txt"; return; }
    stop_server kizuna
    rm -f "$dir/ports.json"
    say "run.sh: H: building $H_EVENTS events ($be)"
    "$HQ" build --backend "$be" --db "$db" --events "$H_EVENTS" >>"$out" ||
        { echo "H: histq build failed ($be)" >>"$WORK/problems.txt"; pg_stop; return; }
    kz_launch "$dir" ||
        { echo "H: kizuna did not start on the store ($be)" >>"$WORK/problems.txt"; pg_stop; return; }
    "$HQ" query --backend "$be" --db "$db" --port "$WEB" --reps "$H_REPS" >>"$out" ||
        echo "H: histq query failed ($be; see $SRV_LOG)" >>"$WORK/problems.txt"
    stop_server kizuna
    pg_stop
    rm -rf "$dir"
}

wH() {
    case $H_BACKEND in
    both) wH_one sqlite; wH_one postgres ;;
    sqlite | postgres) wH_one "$H_BACKEND" ;;
    *) echo "H: BENCH_H_BACKEND=$H_BACKEND (sqlite, postgres or both)" >>"$WORK/problems.txt" ;;
    esac
}

# histq.jsonl to a Markdown table (appended to the report): every backend's rows, and per
# backend whether the HTTP p99 met the target (≤ 50 ms) in every case.
h_table() {
    local f=$WORK/histq.jsonl
    [ -s "$f" ] || return 0
    echo
    echo "### H: history query (GET /api/v1/events?bbox=&since=&limit=100)"
    echo
    sed -n 's/.*"build":"\([^"]*\)","events":\([0-9]*\).*"seconds":\([0-9.]*\),"events_per_s":\([0-9]*\).*/Store built (\1): \2 events in \3 s (\4 events\/s)./p' "$f"
    echo
    awk -v TARGET=50 '
        function val(k,   r) {
            if (!match($0, "\"" k "\":(\"[^\"]*\"|[0-9.]+)")) return ""
            r = substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3)
            gsub(/"/, "", r)
            return r
        }
        BEGIN {
            print "| backend | case | via | requests | p50 ms | p99 ms | rows (mean) | capped |"
            print "|---|---|---|---:|---:|---:|---:|---:|"
        }
        /"case":/ {
            via = val("via"); be = via; sub(/^(http|reference)-/, "", be); sub(/-scan$/, "", be)
            kind = via ~ /^http/ ? "http" : "reference scan"
            printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", be, val("case"), kind, val("n"),
                val("p50_ms"), val("p99_ms"), val("rows_mean"), val("capped")
            if (kind == "http") {
                if (!(be in worst)) order[++nb] = be
                p = val("p99_ms") + 0
                if (!(be in worst) || p > worst[be]) { worst[be] = p; wcase[be] = val("case") }
                if (p > TARGET) missed[be] = missed[be] (missed[be] ? ", " : "") val("case")
            }
        }
        END {
            print ""
            for (i = 1; i <= nb; i++) {
                be = order[i]
                printf "- Target (HTTP p99 ≤ %d ms in every case), %s: %s; worst p99 %.2f ms (%s)\n",
                    TARGET, be, (be in missed) ? "**missed** (" missed[be] ")" : "**met**", worst[be],
                    wcase[be]
            }
        }' "$f"
}

# ---- report ----------------------------------------------------------------------

machine() {
    local cpu
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
    echo "$(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" \
         "RAM, kernel $(uname -r)"
}

write_doc() {
    local table=$1 begin='<!-- bench:begin -->' end='<!-- bench:end -->' new=$WORK/section.md
    local REV
    REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
    {
        echo "$begin"
        echo "## Latest run"
        echo
        echo "- Command: \`$CMDLINE\`"
        echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); kizuna $REV"
        echo "- Machine: $(machine); load average before the run: $LOADAVG"
        echo "- Peers: $(nats-server --version 2>/dev/null || echo 'nats-server absent');" \
             "$( (mosquitto -h 2>/dev/null || true) | head -1)"
        echo "- Warm-up ${WARM} s, window ${WIN} s, drain ≤ ${DRAIN} s," \
             "${REPS} repetition(s) (medians)," \
             "server pinned: ${SRV_PIN[*]:-no}, generator pinned: ${GEN_PIN[*]:-no}"
        echo
        cat "$table"
        if [ -s "$WORK/problems.txt" ]; then
            echo
            echo "Problems during the run:"
            sed 's/^/- /' "$WORK/problems.txt"
        fi
        echo "$end"
    } >"$new"
    if [ -f "$DOC" ] && grep -q "$begin" "$DOC"; then
        awk -v f="$new" -v b="$begin" -v e="$end" '
            $0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
            $0 == e { skip = 0; next }
            !skip' "$DOC" >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
    else
        { [ -f "$DOC" ] && cat "$DOC" && echo; cat "$new"; } >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
    fi
}

# shellcheck source=bench/cluster.sh
. "$HERE/cluster.sh"

main() {
    trap pg_stop EXIT
    trap 'exit 130' INT TERM
    install_peers
    cc -O2 -std=gnu17 -Wall -o "$LG" "$HERE/loadgen.c" "$HERE/lg_proto.c" "$HERE/lg_report.c" \
        "$HERE/lg_tls.c" "$HERE/probe.c" "$HERE/gen_util.c" -lssl -lcrypto
    cc -O2 -std=gnu17 -Wall -o "$REF" "$HERE/fanout_ref.c"
    cc -O2 -std=gnu17 -Wall -pthread -o "$FG" "$HERE/fedgen.c" "$HERE/fg_run.c" "$HERE/fg_poll.c" \
        "$HERE/fg_relay.c" "$HERE/fg_event.c" "$HERE/probe.c" "$HERE/gen_util.c" -ljansson
    case " $WORKLOADS " in *" F "*) build_fedfloor ;; esac
    case " $WORKLOADS " in *" H "*)
        cc -O2 -std=gnu17 -Wall -I"$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)" \
            -o "$HQ" "$HERE/histq.c" "$HERE/hq_sqlite.c" "$HERE/hq_pg.c" "$HERE/probe.c" \
            "$HERE/gen_util.c" -lsqlite3 -lexpat -lpq -lm ;;
    esac
    LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
    say "run.sh: results in $WORK (load average $LOADAVG;" \
        "numbers are noisy when the machine is shared)"
    : >"$RESULTS"
    for w in $WORKLOADS; do
        "w$w"
    done
    awk -v QUEUE="$W6_QUEUE" -f "$HERE/table.awk" -f "$HERE/cluster.awk" "$RESULTS" \
        >"$WORK/table.md"
    h_table >>"$WORK/table.md"
    cat "$WORK/table.md"
    write_doc "$WORK/table.md"
    say "run.sh: table written to $DOC"
}

main
