# cluster.sh - workload C for run.sh (sourced; uses its helpers): W1 through a
# cluster of two kizuna instances joined by one nats-server, the clients split
# between them, next to the same W1 on one instance, in the same invocation.
#
# Every server process (both instances and nats-server) is pinned where run.sh
# pins its single server, so the two rows compare CPU per delivery on equal
# terms: on 2 cores this measures what the cluster path costs, not scaling.
# loadgen sums the CPU of every pid given with -P.

# cl_instance NAME NATS_URL : one instance; appends its cot port to CL_PORTS and
# its pids to CL_PIDS / CL_TPIDS (sets WEB from the first).
cl_instance() {
    local name=$1 url=$2 dir
    dir=$(mktemp -d "$KZ_DATA_ROOT/kz.XXXXXX")
    CL_DIRS+=("$dir")
    kz_config "$KZ_GROUPS" "$KZ_QUEUE" "$KZ_DELAY" |
        sed "s/^node: {id: bench,/node: {id: bench-$name,/" >"$dir/kizuna.yaml"
    [ -n "$url" ] && echo "cluster: {nats: \"$url\"}" >>"$dir/kizuna.yaml"
    kz_launch "$dir" || return 1
    CL_PORTS+=("$PORTS") CL_PIDS+=("$SPID") CL_TPIDS+=("$TPID") CL_LOGS+=("$SRV_LOG")
    [ -n "${CL_WEB:-}" ] || CL_WEB=$WEB
}

# cl_start INSTANCES : 1 = one plain instance; 2+ = that many behind one nats-server.
cl_start() {
    local n=$1 i url= p
    CL_PORTS=() CL_PIDS=() CL_TPIDS=() CL_LOGS=() CL_DIRS=() CL_WEB=
    if [ "$n" -gt 1 ]; then
        p=$(free_port)
        start_server "$WORK/cluster-nats-$p.log" nats-server -a 127.0.0.1 -p "$p" || return 1
        CL_PIDS+=("$SPID") CL_TPIDS+=("$TPID") CL_LOGS+=("$WORK/cluster-nats-$p.log")
        wait_port "$p" || return 1
        url=nats://127.0.0.1:$p
    fi
    for ((i = 0; i < n; i++)); do
        cl_instance "$(printf "\\x$(printf %x $((97 + i)))")" "$url" || return 1
    done
    # Every instance must have joined before the window: a client on one must
    # see the others' clients from the first event.
    if [ -n "$url" ]; then
        for ((i = 0; i < 50; i++)); do
            if cl_joined; then return 0; fi
            sleep 0.2
        done
        say "run.sh: cluster instances did not join NATS"
        return 1
    fi
}

# True when every instance's /healthz says it has joined the cluster.
cl_joined() {
    local d port
    for d in "${CL_DIRS[@]}"; do
        port=$(sed 's/.*"web":\([0-9]*\).*/\1/' <<<"$(tr -d ' \n' <"$d/ports.json")")
        curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"cluster":"joined"' ||
            return 1
    done
}

cl_stop() {
    local i
    for i in "${!CL_PIDS[@]}"; do
        SPID=${CL_PIDS[$i]} TPID=${CL_TPIDS[$i]} SRV_LOG=${CL_LOGS[$i]}
        stop_server "cluster member"
    done
    rm -rf "${CL_DIRS[@]}"
}

# cl_run LABEL INSTANCES LOADGEN_ARGS...
cl_run() {
    local label=$1 n=$2 rep json
    shift 2
    LABEL=$label
    for ((rep = 1; rep <= REPS; rep++)); do
        if ! cl_start "$n"; then
            echo "cluster of $n failed to start for $label" >>"$WORK/problems.txt"
            cl_stop
            continue
        fi
        if ! "${GEN_PIN[@]}" "$LG" -m cot -p "$(
            IFS=,
            echo "${CL_PORTS[*]}"
        )" --split -P "$(
            IFS=,
            echo "${CL_PIDS[*]}"
        )" --metrics "$CL_WEB" -w "$WARM" -d "$WIN" --drain "$DRAIN" --label "$label" "$@" \
            >"$WORK/run.out" 2>"$WORK/run.err"; then
            say "run.sh: loadgen failed for $label: $(tail -2 "$WORK/run.err")"
            echo "loadgen failed for $label: $(tail -1 "$WORK/run.err")" >>"$WORK/problems.txt"
        fi
        json=$(grep '^{' "$WORK/run.out" || true)
        if [ -n "$json" ]; then
            echo "${json%\}},\"instances\":$n,\"kind\":\"cluster\"}" >>"$RESULTS"
            grep '^# ' "$WORK/run.out" >&2 || true
        fi
        cl_stop
    done
}

wC() {
    local nr
    for nr in 1000x1 200x10; do
        cl_run "C/kizuna/1 instance" 1 -n "${nr%x*}" -r "${nr#*x}"
        cl_run "C/kizuna/2 instances + NATS" 2 -n "${nr%x*}" -r "${nr#*x}"
    done
}
