# table.awk - results.jsonl (one loadgen JSON line per run) to Markdown tables.
#
# Runs that share a label ("workload/peer/variant") and a shape (clients,
# rate, groups, slow clients) are repetitions: each column shows the median.
# The last section checks the targets of the benchmark issue against the
# kizuna rows; F1's line also gives the floor fedfloor measured (mode
# "floor").  Plain POSIX awk (mawk works).  -v QUEUE=bytes: W6 queue limit.

function parse(line,    s, n, i, kv, parts) {
    delete F
    sub(/,"rss_trace_mb":\[[^]]*\]/, "", line)
    sub(/,"ingest_trace":\[[^]]*\]/, "", line)
    sub(/,"delivered_trace":\[[^]]*\]/, "", line)
    s = line
    gsub(/^\{|\}$/, "", s)
    n = split(s, parts, /,"/)
    for (i = 1; i <= n; i++) {
        kv = parts[i]
        gsub(/"/, "", kv)
        F[substr(kv, 1, index(kv, ":") - 1)] = substr(kv, index(kv, ":") + 1)
    }
}

# Median of the values stored in V[lab, key, 1..CNT[lab]].
function med(lab, key,    n, i, j, a, t) {
    n = CNT[lab]
    for (i = 1; i <= n; i++)
        a[i] = V[lab, key, i] + 0
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
            t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
        }
    return a[int((n + 1) / 2)]
}

function has(lab, key) {
    return ((lab, key, 1) in V)
}

function fmt_rate(x) {
    if (x >= 999500) return sprintf("%.2f M", x / 1e6)
    if (x >= 1e3) return sprintf("%.1f k", x / 1e3)
    return sprintf("%.0f", x)
}

# Milliseconds for a table cell; a value that reads in seconds says so.
function ms(x) {
    if (x < 0) return "-"
    if (x >= 1000) return sprintf("%.2f s", x / 1000)
    if (x >= 100) return sprintf("%.0f", x)
    if (x >= 10) return sprintf("%.1f", x)
    return sprintf("%.2f", x)
}

# The same with its unit, for prose.
function msu(x,    t) {
    t = ms(x)
    return t ~ / s$/ ? t : t " ms"
}

function row(cells, n,    i, s) {
    s = "|"
    for (i = 1; i <= n; i++)
        s = s " " cells[i] " |"
    print s
}

function header(names,    n, i, c, s) {
    n = split(names, c, ";")
    row(c, n)
    s = "|"
    for (i = 1; i <= n; i++)
        s = s "---|"
    print s
}

{
    parse($0)
    lab = F["label"] "@" F["n"] F["clients"] "x" F["rate"] "g" F["groups"] "s" F["slow"]
    if (!(lab in CNT)) {
        ORDER[++NL] = lab
        KIND[lab] = F["mode"] == "storm" || F["mode"] == "idle" ? F["mode"] : "fanout"
        if (F["mode"] == "fed" || F["mode"] == "fed-catchup" || F["mode"] == "floor")
            KIND[lab] = F["mode"]
        if (F["kind"] == "cluster")
            KIND[lab] = "cluster"
    }
    c = ++CNT[lab]
    for (k in F)
        V[lab, k, c] = F[k]
}

function fanout_note(lab, variant,    note) {
    note = variant
    if (med(lab, "tls")) note = note ", " V[lab, "cipher", 1]
    if (med(lab, "tls_failed") > 0) note = note ", " med(lab, "tls_failed") " handshakes failed"
    if (med(lab, "gen_bound")) note = note ", GENERATOR-BOUND"
    if (med(lab, "cross_group") > 0) note = note ", CROSS-GROUP " med(lab, "cross_group")
    if (med(lab, "closed") > 0) note = note ", " med(lab, "closed") " clients closed"
    if (med(lab, "srv_slow_drops") > 0)
        note = note ", " med(lab, "srv_slow_drops") " slow consumers dropped"
    if (med(lab, "store_lag_max_s") >= 0)
        note = note sprintf(", store lag ≤ %.2f s", med(lab, "store_lag_max_s"))
    if (has(lab, "disk_bytes_per_event"))
        note = note sprintf(", %.0f B/event on disk", med(lab, "disk_bytes_per_event"))
    return note
}

function fanout_row(lab,    p, c, ratio) {
    split(V[lab, "label", 1], p, "/")
    c[1] = p[1]
    c[2] = p[2]
    c[3] = med(lab, "n") "×" med(lab, "rate")
    if (med(lab, "groups") > 1) c[3] = c[3] " g" med(lab, "groups")
    if (med(lab, "slow") > 0) c[3] = c[3] " +" med(lab, "slow") " slow"
    c[4] = fmt_rate(med(lab, "offered_per_s"))
    c[5] = fmt_rate(med(lab, "delivered_per_s"))
    ratio = med(lab, "ratio")
    c[6] = ratio == 1 ? "1.0" : sprintf("%.4f", ratio)
    c[7] = ms(med(lab, "p50_ms"))
    c[8] = ms(med(lab, "p90_ms"))
    c[9] = ms(med(lab, "p99_ms"))
    c[10] = ms(med(lab, "p999_ms"))
    c[11] = ms(med(lab, "max_ms"))
    c[12] = sprintf("%.0f", med(lab, "srv_cpu_pct"))
    c[13] = sprintf("%.1f", med(lab, "srv_hwm_mb"))
    c[14] = sprintf("%.0f", med(lab, "gen_cpu_pct"))
    c[15] = has(lab, "other_cpu_pct") ? sprintf("%.0f", med(lab, "other_cpu_pct")) : "-"
    c[16] = fanout_note(lab, p[3])
    row(c, 16)
}

function storm_row(lab,    p, c) {
    split(V[lab, "label", 1], p, "/")
    c[1] = p[1]
    c[2] = p[2]
    c[3] = sprintf("%d at %d/s", med(lab, "clients"), med(lab, "conn_rate"))
    c[4] = med(lab, "tracks")
    c[5] = med(lab, "completed") "/" med(lab, "clients")
    c[6] = ms(med(lab, "connect_p99_ms"))
    c[7] = ms(med(lab, "first_event_p50_ms")) " / " ms(med(lab, "first_event_p99_ms"))
    c[8] = ms(med(lab, "replay_p50_ms")) " / " ms(med(lab, "replay_p99_ms")) " / " \
           ms(med(lab, "replay_max_ms"))
    c[9] = sprintf("%.1f", med(lab, "storm_s"))
    c[10] = sprintf("%.1f → %.1f", med(lab, "srv_rss_before_mb"), med(lab, "srv_rss_after_mb"))
    c[11] = sprintf("%.1f", med(lab, "rss_per_conn_kb"))
    c[12] = sprintf("%.0f / %.0f%s", med(lab, "srv_cpu_pct"), med(lab, "gen_cpu_pct"),
                    med(lab, "gen_bound") ? " GENERATOR-BOUND" : "")
    row(c, 12)
}

function idle_row(lab,    p, c) {
    split(V[lab, "label", 1], p, "/")
    c[1] = p[1]
    c[2] = p[2]
    c[3] = p[3]
    c[4] = med(lab, "tls") ? V[lab, "cipher", 1] : "plain TCP"
    c[5] = sprintf("%d/%d", med(lab, "connected"), med(lab, "clients"))
    c[6] = sprintf("%.0f", med(lab, "hs_per_s"))
    c[7] = ms(med(lab, "hs_p50_ms")) " / " ms(med(lab, "hs_p99_ms"))
    c[8] = sprintf("%.0f / %.0f%s", med(lab, "srv_cpu_pct"), med(lab, "gen_cpu_pct"),
                   med(lab, "gen_bound") ? " GENERATOR-BOUND" : "")
    c[9] = sprintf("%.0f", med(lab, "srv_conns"))
    c[10] = sprintf("%.1f → %.1f", med(lab, "srv_rss_before_mb"), med(lab, "srv_rss_after_mb"))
    c[11] = sprintf("%.1f", med(lab, "rss_per_conn_kb"))
    c[12] = med(lab, "closed")
    row(c, 12)
}

function num(x) {
    return x < 0 ? "-" : fmt_rate(x)
}

function fed_row(lab,    p, c) {
    split(V[lab, "label", 1], p, "/")
    c[1] = p[1]
    c[2] = p[2]
    c[3] = p[3]
    c[4] = fmt_rate(med(lab, "push_per_s"))
    c[5] = fmt_rate(med(lab, "ingest_per_s"))
    c[6] = num(med(lab, "delivered_per_s"))
    c[7] = med(lab, "link") ? sprintf("%d / %d / %d%s", med(lab, "noforn_sent"), \
           med(lab, "denied"), med(lab, "leaked"), med(lab, "release_ok") ? "" : " **FAILED**") : "-"
    c[8] = sprintf("%d / %s", med(lab, "src_refused"), med(lab, "lost") < 0 ? "-" : med(lab, "lost"))
    if (med(lab, "relinked")) c[8] = c[8] ", link went down"
    if (med(lab, "push_closed")) c[8] = c[8] ", kz-usa closed the push connection"
    if (med(lab, "sub_closed")) c[8] = c[8] ", kz-jpn closed the subscriber"
    c[9] = sprintf("%.0f / %s / %.0f", med(lab, "src_cpu_pct"), med(lab, "dst_cpu_pct") < 0 ? "-" : \
           sprintf("%.0f", med(lab, "dst_cpu_pct")), med(lab, "gen_cpu_pct"))
    c[10] = sprintf("%.1f / %s", med(lab, "src_us_per_event"), med(lab, "dst_us_per_event") < 0 ? \
            "-" : sprintf("%.1f", med(lab, "dst_us_per_event")))
    c[11] = sprintf("%.0f", med(lab, "machine_busy_pct"))
    c[12] = sprintf("%.1f / %s", med(lab, "src_hwm_mb"), med(lab, "dst_hwm_mb") < 0 ? "-" : \
            sprintf("%.1f", med(lab, "dst_hwm_mb")))
    c[13] = sprintf("%.2f / %s", med(lab, "src_lag_max_s"), med(lab, "dst_lag_max_s") < 0 ? "-" : \
            sprintf("%.2f", med(lab, "dst_lag_max_s")))
    row(c, 13)
}

function catchup_row(lab,    p, c) {
    split(V[lab, "label", 1], p, "/")
    c[1] = p[1]
    c[2] = p[2]
    c[3] = sprintf("%d (%d uids)", med(lab, "events"), med(lab, "tracks"))
    c[4] = sprintf("%d / %d", med(lab, "f2_accepted"), med(lab, "f2_refused"))
    c[5] = sprintf("%.2f / %.2f", med(lab, "f2_push_s"), med(lab, "f2_stored_s"))
    c[6] = sprintf("%.2f", med(lab, "link_wait_s"))
    c[7] = sprintf("%d (%d uids)", med(lab, "received_distinct"), med(lab, "uids"))
    c[8] = med(lab, "complete") ? sprintf("%.2f s", med(lab, "catchup_s")) : \
           sprintf("incomplete after %d s", med(lab, "deadline_s"))
    c[9] = sprintf("%d / %d / %d", med(lab, "fed_sent"), med(lab, "dst_fed_received"), \
           med(lab, "dst_duplicates"))
    c[10] = med(lab, "up_before_sub") ? "link up before the subscriber" : ""
    row(c, 10)
}

function floor_step(lab, step, what, node, key, wall_key, times,    c) {
    c[1] = step
    c[2] = what
    c[3] = node
    c[4] = sprintf("%.2f", med(lab, key))
    c[5] = wall_key == "" ? "-" : sprintf("%.2f", med(lab, wall_key))
    c[6] = "× " times
    row(c, 6)
}

# bench/fedfloor.c: each step of one F1 crossing event alone, and their sum.
function floor_table(lab,    c, ceil) {
    print ""
    header("F1 floor step;what (bench/fedfloor.c, one process, " med(lab, "events") \
           " events, least of " med(lab, "reps") " runs, rest of the machine " \
           sprintf("%.0f", med(lab, "others_cpu_pct")) " % busy meanwhile);node;" \
           "CPU µs per event;wall µs per event;in the floor")
    floor_step(lab, 1, "format the event (fedgen's snprintf)", "generator", "gen_us", "", 1)
    floor_step(lab, 2, "TCP over loopback, 256 KiB writes, both ends", "each hop", "tcp_us",
               "tcp_wall_us", 3)
    floor_step(lab, 3, "expat parse, attributes read", "kz-usa", "parse_us", "", 1)
    floor_step(lab, 4, "SQLite append (WAL, synchronous=FULL, 1024 per transaction)", "kz-usa",
               "append_usa_us", "append_usa_wall_us", 1)
    floor_step(lab, 5, sprintf("protobuf-c pack (FederatedEvent, %.0f B)", med(lab, "packed_bytes")),
               "kz-usa", "pack_us", "", 1)
    floor_step(lab, 6, "TLS 1.3 seal, 16 KiB records (" V[lab, "cipher", 1] ")", "kz-usa",
               "seal_us", "", 1)
    floor_step(lab, 7, "HTTP/2 + gRPC framing, send (nghttp2)", "kz-usa", "h2_send_us", "", 1)
    floor_step(lab, 6, "TLS 1.3 open", "kz-jpn", "open_us", "", 1)
    floor_step(lab, 7, "HTTP/2 + gRPC framing, receive", "kz-jpn", "h2_recv_us", "", 1)
    floor_step(lab, 5, "protobuf-c unpack", "kz-jpn", "unpack_us", "", 1)
    floor_step(lab, 8, "XML encode", "kz-jpn", "xml_us", "", 1)
    floor_step(lab, 4, "SQLite append (WAL, synchronous=FULL, 1024 per transaction)", "kz-jpn",
               "append_jpn_us", "append_jpn_wall_us", 1)
    c[1] = ""
    c[2] = "**floor per crossing event**"
    c[3] = "all"
    c[4] = sprintf("**%.2f**", med(lab, "floor_us"))
    c[5] = ""
    ceil = 2e6 / med(lab, "floor_us")
    c[6] = sprintf("→ at most %s events/s on 2 cores (200 k/s allows 10.00 µs)", fmt_rate(ceil))
    row(c, 6)
}

function floor_clause(fl) {
    return sprintf("floor %.2f µs per crossing event on this machine → at most %s events/s on 2 cores",
                   med(fl, "floor_us"), fmt_rate(2e6 / med(fl, "floor_us")))
}

function find_kind(kind,    i) {
    for (i = 1; i <= NL; i++)
        if (KIND[ORDER[i]] == kind)
            return ORDER[i]
    return ""
}

function fed_targets(    f1, alone, w1, f2, ok, fl) {
    f1 = find_label("F1/kizuna/v2 link, release filter")
    f2 = find_label("F2/kizuna/outbox catch-up")
    fl = find_kind("floor")
    if (f1 == "" && f2 == "" && fl == "")
        return
    print ""
    print "### Targets (issue 12)"
    print ""
    if (f1 != "") {
        alone = find_label("F1/kizuna/kz-usa alone, no link")
        w1 = find("W1/kizuna/375B", 200, 10)
        ok = med(f1, "release_ok")
        printf("- F1 ≥ 200 000 events/s across one v2 link, release filter on: %s/s delivered " \
               "at kz-jpn (median of 1 s), kz-usa ingesting %s/s; kz-usa alone %s/s; " \
               "local W1 200 × 10: %s deliveries/s (%s events/s in); NOFORN sent %d, denied %d, leaked %d: %s%s.\n",
               fmt_rate(med(f1, "delivered_per_s")), fmt_rate(med(f1, "ingest_per_s")),
               alone == "" ? "not run" : fmt_rate(med(alone, "ingest_per_s")),
               w1 == "" ? "not run" : fmt_rate(med(w1, "delivered_per_s")),
               w1 == "" ? "-" : fmt_rate(med(w1, "n") * med(w1, "rate")),
               med(f1, "noforn_sent"), med(f1, "denied"), med(f1, "leaked"),
               ok ? verdict(med(f1, "delivered_per_s") >= 200000) : "**release check FAILED**",
               fl == "" ? "" : "; " floor_clause(fl))
    } else if (fl != "")
        printf("- F1: %s.\n", floor_clause(fl))
    if (f2 != "")
        printf("- F2 %d-event outbox caught up ≤ 5 s after the link returns: %s: %s.\n",
               med(f2, "events"), med(f2, "complete") ? msu(1000 * med(f2, "catchup_s")) : \
               sprintf("incomplete %d/%d after %d s (%d uids)", med(f2, "received_distinct"),
                       med(f2, "events"), med(f2, "deadline_s"), med(f2, "uids")),
               verdict(med(f2, "complete") && med(f2, "catchup_s") <= 5))
}

function find(prefix, n, rate,    i) {
    for (i = 1; i <= NL; i++)
        if (index(V[ORDER[i], "label", 1], prefix) == 1 && med(ORDER[i], "n") == n && \
            med(ORDER[i], "rate") == rate)
            return ORDER[i]
    return ""
}

function verdict(ok) {
    return ok ? "**met**" : "**missed**"
}

function w1_target(lab, what, min_ratio, max_p99) {
    if (lab == "")
        return
    printf("- W1 %s: ratio ≥ %s and p99 ≤ %d ms — ratio %.4f, p99 %s: %s.\n", what,
           min_ratio, max_p99, med(lab, "ratio"), msu(med(lab, "p99_ms")),
           verdict(med(lab, "ratio") >= min_ratio && med(lab, "p99_ms") <= max_p99))
}

function find_label(label,    i) {
    for (i = 1; i <= NL; i++)
        if (V[ORDER[i], "label", 1] == label)
            return ORDER[i]
    return ""
}

function w4_targets(    i, tls, plain, r, any) {
    for (i = 1; i <= NL; i++) {
        tls = ORDER[i]
        if (V[tls, "label", 1] != "W4/kizuna/TLS")
            continue
        plain = find("W4/kizuna/plain", med(tls, "n"), med(tls, "rate"))
        if (plain == "" || med(plain, "delivered_per_s") <= 0)
            continue
        any = 1
        r = med(tls, "delivered_per_s") / med(plain, "delivered_per_s")
        printf("- W4 %d × %s Hz over mutual TLS ≥ 50 %% of plain: delivered/s %s vs %s = " \
               "%.2f, ratio %.4f; p99 %s vs %s = %.2f×; server CPU %.0f %% vs %.0f %%: %s.\n",
               med(tls, "n"), med(tls, "rate"), fmt_rate(med(tls, "delivered_per_s")),
               fmt_rate(med(plain, "delivered_per_s")), r, med(tls, "ratio"),
               msu(med(tls, "p99_ms")), msu(med(plain, "p99_ms")),
               med(plain, "p99_ms") > 0 ? med(tls, "p99_ms") / med(plain, "p99_ms") : -1,
               med(tls, "srv_cpu_pct"), med(plain, "srv_cpu_pct"),
               verdict(r >= 0.5 && med(tls, "ratio") >= 0.999))
    }
    tls = find_label("W4/kizuna/idle TLS")
    if (tls != "") {
        any = 1
        printf("- %d idle TLS connections in ≤ 100 MB RSS: %d held, RSS %.1f MB " \
               "(%.1f KB per connection), handshakes %.0f/s: %s.\n", med(tls, "clients"),
               med(tls, "srv_conns"), med(tls, "srv_rss_after_mb"), med(tls, "rss_per_conn_kb"),
               med(tls, "hs_per_s"), med(tls, "clients") < 10000 ? "**not judged** (< 10 000)" : \
               verdict(med(tls, "srv_rss_after_mb") <= 100 && med(tls, "srv_conns") >= 10000))
    }
    if (!any)
        print "- W4 (TLS ≥ 50 % of plain; 10 000 idle TLS connections ≤ 100 MB): not run."
}

function targets(    base, slow, grow, lim) {
    print ""
    print "### Targets (issue 6)"
    print ""
    w1_target(find("W1/kizuna/375B", 200, 10), "200 × 10 Hz", 0.99999, 10)
    w1_target(find("W1/kizuna/375B", 1000, 1), "1000 × 1 Hz", 0.999, 50)
    w4_targets()
    base = find("W6/kizuna/no-slow", 200, 10)
    slow = find("W6/kizuna/slow", 200, 10)
    if (base == "" || slow == "")
        return
    lim = QUEUE / 1048576
    grow = med(slow, "srv_hwm_mb") - med(base, "srv_hwm_mb")
    printf("- W6: peak RSS %+.1f MB with the slow client (queue limit %.2f MB): %s; ",
           grow, lim, verdict(grow <= lim + 1))
    printf("others' p99 %s vs %s without it (≤ +20 %%): %s.\n", msu(med(slow, "p99_ms")),
           msu(med(base, "p99_ms")), verdict(med(slow, "p99_ms") <= 1.2 * med(base, "p99_ms")))
}

END {
    hdr = 0
    for (i = 1; i <= NL; i++) {
        if (KIND[ORDER[i]] != "fanout")
            continue
        if (!hdr++)
            header("workload;peer;N×R;offered/s;delivered/s;ratio;p50 ms;p90 ms;p99 ms;" \
                   "p99.9 ms;max ms;server CPU %;server RSS MB (peak);generator CPU %;" \
                   "rest of machine CPU % (other processes, softirq, steal);notes")
        fanout_row(ORDER[i])
    }
    hdr = 0
    for (i = 1; i <= NL; i++) {
        if (KIND[ORDER[i]] != "storm")
            continue
        if (!hdr++) {
            print ""
            header("workload;peer;clients;tracks;replayed all;" \
                   "TCP connect p99 ms (generator's view);" \
                   "first event p50 / p99 ms;replay p50 / p99 / max ms;storm s;server RSS MB;" \
                   "RSS per connection KB;server / generator CPU %")
        }
        storm_row(ORDER[i])
    }
    hdr = 0
    for (i = 1; i <= NL; i++) {
        if (KIND[ORDER[i]] != "idle")
            continue
        if (!hdr++) {
            print ""
            header("workload;peer;variant;transport;connected;handshakes/s (connects/s);" \
                   "handshake p50 / p99 ms (128 in flight);server / generator CPU % (storm);" \
                   "server holds;server RSS MB (before → after idle);RSS per connection KB;" \
                   "closed")
        }
        idle_row(ORDER[i])
    }
    hdr = 0
    for (i = 1; i <= NL; i++) {
        if (KIND[ORDER[i]] != "fed")
            continue
        if (!hdr++) {
            print ""
            header("workload;peer;variant;pushed/s;kz-usa ingests/s (median of 1 s);" \
                   "delivered at kz-jpn/s (median of 1 s);NOFORN sent / denied / leaked;" \
                   "refused (overload) / lost;CPU % kz-usa / kz-jpn / generator;" \
                   "CPU µs per event kz-usa / kz-jpn;machine busy % (of 200);peak RSS MB kz-usa / kz-jpn;store lag max s")
        }
        fed_row(ORDER[i])
    }
    for (i = 1; i <= NL; i++)
        if (KIND[ORDER[i]] == "floor")
            floor_table(ORDER[i])
    hdr = 0
    for (i = 1; i <= NL; i++) {
        if (KIND[ORDER[i]] != "fed-catchup")
            continue
        if (!hdr++) {
            print ""
            header("workload;peer;events;accepted / refused by kz-usa;push / stored s;" \
                   "link wait s;distinct at kz-jpn;caught up (from link up);" \
                   "sent / received / duplicates on the link;notes")
        }
        catchup_row(ORDER[i])
    }
    targets()
    fed_targets()
}
