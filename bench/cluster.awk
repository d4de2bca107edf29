# cluster.awk - workload C's table (bench/cluster.sh), run after table.awk on the
# same results: awk -f table.awk -f cluster.awk.  Uses table.awk's functions.

function cluster_row(lab,    p, c, one) {
    split(V[lab, "label", 1], p, "/")
    c[1] = p[1]
    c[2] = p[3]
    c[3] = med(lab, "n") "×" med(lab, "rate")
    c[4] = fmt_rate(med(lab, "delivered_per_s"))
    c[5] = med(lab, "ratio") == 1 ? "1.0" : sprintf("%.4f", med(lab, "ratio"))
    c[6] = ms(med(lab, "p50_ms"))
    c[7] = ms(med(lab, "p99_ms"))
    c[8] = sprintf("%.0f", med(lab, "srv_cpu_pct"))
    c[9] = sprintf("%.2f", med(lab, "srv_cpu_us_per_delivery"))
    one = find("C/kizuna/1 instance", med(lab, "n"), med(lab, "rate"))
    c[10] = one == "" || med(one, "srv_cpu_us_per_delivery") <= 0 ? "-" : \
        sprintf("%.2f×", med(lab, "srv_cpu_us_per_delivery") / med(one, "srv_cpu_us_per_delivery"))
    row(c, 10)
}

# Target: CPU per delivery through the cluster ≤ 1.5 × one instance, and what that cost
# means for a 50 000-device theatre at 1 Hz: deliveries alone, a lower bound (every
# instance also receives every event of the cluster; docs/performance.md, C).
function cluster_target(n, rate, shape,    one, two, r, us, per_core, need, g) {
    one = find("C/kizuna/1 instance", n, rate)
    two = find("C/kizuna/2 instances + NATS", n, rate)
    if (one == "" || two == "")
        return
    r = med(two, "srv_cpu_us_per_delivery") / med(one, "srv_cpu_us_per_delivery")
    printf("- C %s: CPU per delivery %.2f µs through two instances and NATS vs %.2f µs on one " \
           "instance: %.2f× (≤ 1.5×): %s.\n", shape, med(two, "srv_cpu_us_per_delivery"),
           med(one, "srv_cpu_us_per_delivery"), r, verdict(r <= 1.5))
    us = med(two, "srv_cpu_us_per_delivery")
    per_core = 0.7e6 / us # deliveries per second per core at 70 % busy
    for (g = 10; g <= 1000; g *= 10) {
        need = int(50000 * g / per_core) + 1
        printf("  - 50 000 devices at 1 Hz, each receiving the %d devices of its groups: " \
               "%s deliveries/s, at least %d instance(s) at 70 %% of a core for the " \
               "deliveries alone.\n", g, fmt_rate(50000 * g), need)
    }
}

END {
    hdr = 0
    for (i = 1; i <= NL; i++) {
        if (KIND[ORDER[i]] != "cluster")
            continue
        if (!hdr++) {
            print ""
            header("workload;variant;N×R;delivered/s;ratio;p50 ms;p99 ms;" \
                   "CPU % (every server process);CPU µs per delivery;vs one instance")
        }
        cluster_row(ORDER[i])
    }
    if (hdr) {
        print ""
        print "### Targets (issue 15)"
        print ""
        cluster_target(1000, 1, "1000 × 1 Hz")
        cluster_target(200, 10, "200 × 10 Hz")
    }
}
