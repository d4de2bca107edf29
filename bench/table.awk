# table.awk - results.jsonl (one loadgen JSON line per run) to Markdown tables.
#
# Runs that share a label ("workload/peer/variant") and a shape (clients,
# rate, groups, slow clients) are repetitions: each column shows the median.  The last section checks the targets of
# the benchmark issue against the kizuna rows.  Plain POSIX awk (mawk works).

function parse(line,    s, n, i, kv, k, v, parts) {
    delete F
    sub(/,"rss_trace_mb":\[[^]]*\]/, "", line)
    s = line
    gsub(/^\{|\}$/, "", s)
    n = split(s, parts, /,"/)
    for (i = 1; i <= n; i++) {
        kv = parts[i]
        gsub(/"/, "", kv)
        k = substr(kv, 1, index(kv, ":") - 1)
        v = substr(kv, index(kv, ":") + 1)
        F[k] = v
    }
}

# Median of the values stored in V[lab, key, 1..cnt].
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

function fmt_rate(x) {
    if (x >= 999500) return sprintf("%.2f M", x / 1e6)
    if (x >= 1e3) return sprintf("%.1f k", x / 1e3)
    return sprintf("%.0f", x)
}

function ms(x) {
    if (x < 0) return "-"
    if (x >= 1000) return sprintf("%.2f s", x / 1000)
    if (x >= 100) return sprintf("%.0f", x)
    if (x >= 10) return sprintf("%.1f", x)
    return sprintf("%.2f", x)
}

{
    parse($0)
    lab = F["label"] "@" F["n"] F["clients"] "x" F["rate"] "g" F["groups"] "s" F["slow"]
    if (!(lab in CNT)) {
        ORDER[++NL] = lab
        KIND[lab] = F["mode"] == "storm" ? "storm" : "fanout"
    }
    c = ++CNT[lab]
    for (k in F)
        V[lab, k, c] = F[k]
}

function fanout_row(lab,    p, note, ratio, shape) {
    split(V[lab, "label", 1], p, "/")
    shape = med(lab, "n") "×" med(lab, "rate")
    if (med(lab, "groups") > 1) shape = shape " g" med(lab, "groups")
    if (med(lab, "slow") > 0) shape = shape " +" med(lab, "slow") " slow"
    note = p[3]
    if (med(lab, "gen_bound")) note = note ", GENERATOR-BOUND"
    if (med(lab, "cross_group") > 0) note = note ", CROSS-GROUP " med(lab, "cross_group")
    if (med(lab, "closed") > 0) note = note ", " med(lab, "closed") " clients closed"
    if (med(lab, "srv_slow_drops") > 0) note = note ", " med(lab, "srv_slow_drops") " slow dropped"
    if (med(lab, "store_lag_max_s") >= 0)
        note = note sprintf(", store lag ≤ %.2f s", med(lab, "store_lag_max_s"))
    if ((lab, "disk_bytes_per_event", 1) in V)
        note = note sprintf(", %.0f B/event on disk", med(lab, "disk_bytes_per_event"))
    ratio = med(lab, "ratio")
    printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %.1f | %.0f | %s |\n",
           p[1], p[2], shape, fmt_rate(med(lab, "offered_per_s")),
           fmt_rate(med(lab, "delivered_per_s")), ratio == 1 ? "1.0" : sprintf("%.4f", ratio),
           ms(med(lab, "p50_ms")), ms(med(lab, "p90_ms")), ms(med(lab, "p99_ms")),
           ms(med(lab, "p999_ms")), ms(med(lab, "max_ms")), med(lab, "srv_cpu_pct"),
           med(lab, "srv_hwm_mb"), med(lab, "gen_cpu_pct"), note)
}

function storm_row(lab,    p) {
    split(V[lab, "label", 1], p, "/")
    printf("| %s | %s | %d at %d/s | %d | %d/%d | %s | %s / %s | %s / %s / %s | %.1f | %.1f → %.1f | %.1f | %.0f / %.0f%s |\n",
           p[1], p[2], med(lab, "clients"), med(lab, "conn_rate"), med(lab, "tracks"),
           med(lab, "completed"), med(lab, "clients"), ms(med(lab, "connect_p99_ms")),
           ms(med(lab, "first_event_p50_ms")), ms(med(lab, "first_event_p99_ms")),
           ms(med(lab, "replay_p50_ms")), ms(med(lab, "replay_p99_ms")),
           ms(med(lab, "replay_max_ms")), med(lab, "storm_s"), med(lab, "srv_rss_before_mb"),
           med(lab, "srv_rss_after_mb"), med(lab, "rss_per_conn_kb"), med(lab, "srv_cpu_pct"),
           med(lab, "gen_cpu_pct"), med(lab, "gen_bound") ? " GENERATOR-BOUND" : "")
}

function find(prefix, n, rate,    i) {
    for (i = 1; i <= NL; i++)
        if (index(ORDER[i], prefix) == 1 && med(ORDER[i], "n") == n && \
            med(ORDER[i], "rate") == rate)
            return ORDER[i]
    return ""
}

function verdict(ok) {
    return ok ? "**met**" : "**missed**"
}

function targets(    a, b, base, slow, grow, lim) {
    print ""
    print "### Targets (issue 6)"
    print ""
    a = find("W1/kizuna/375B", 200, 10)
    if (a != "")
        printf("- W1 200 × 10 Hz: ratio 1.0 and p99 ≤ 10 ms — ratio %.4f, p99 %s ms: %s.\n",
               med(a, "ratio"), ms(med(a, "p99_ms")),
               verdict(med(a, "ratio") >= 0.99999 && med(a, "p99_ms") <= 10))
    b = find("W1/kizuna/375B", 1000, 1)
    if (b != "")
        printf("- W1 1000 × 1 Hz: ratio ≥ 0.999 and p99 ≤ 50 ms — ratio %.4f, p99 %s ms: %s.\n",
               med(b, "ratio"), ms(med(b, "p99_ms")),
               verdict(med(b, "ratio") >= 0.999 && med(b, "p99_ms") <= 50))
    print "- 10 000 idle TLS connections in ≤ 100 MB; W4 ≥ 50 % of W1: not measured (W4 needs the TLS input, issue 3)."
    base = find("W6/kizuna/no-slow", 200, 10)
    slow = find("W6/kizuna/slow", 200, 10)
    if (base != "" && slow != "") {
        lim = QUEUE / 1048576
        grow = med(slow, "srv_hwm_mb") - med(base, "srv_hwm_mb")
        printf("- W6: server peak RSS grows by %.1f MB with the slow client (queue limit %.2f MB): %s; others' p99 %s ms vs %s ms without it (≤ +20 %%): %s.\n",
               grow, lim, verdict(grow <= lim + 1), ms(med(slow, "p99_ms")),
               ms(med(base, "p99_ms")), verdict(med(slow, "p99_ms") <= 1.2 * med(base, "p99_ms")))
    }
}

END {
    print "| workload | peer | N×R | offered/s | delivered/s | ratio | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | server CPU % | server RSS MB (peak) | generator CPU % | notes |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= NL; i++)
        if (KIND[ORDER[i]] == "fanout")
            fanout_row(ORDER[i])
    hdr = 0
    for (i = 1; i <= NL; i++) {
        if (KIND[ORDER[i]] != "storm")
            continue
        if (!hdr++) {
            print ""
            print "| workload | peer | clients | tracks | replayed all | connect p99 ms | first event p50 / p99 ms | replay p50 / p99 / max ms | storm s | server RSS MB | RSS per connection KB | server / generator CPU % |"
            print "|---|---|---|---|---|---|---|---|---|---|---|---|"
        }
        storm_row(ORDER[i])
    }
    targets()
}
