/*
 * lg_report.c - what the load generator measures besides latency: server
 * CPU and memory from /proc, kizuna's own /metrics, and the connection
 * storm.  Prints one JSON line and one human line per run.  The /proc and
 * HTTP readings themselves are probe.c.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen.h"
#include "probe.h"

#define TRACE_MAX 512

struct sample {
    int64_t wall;
    double srv_cpu_s, gen_cpu_s;
    double busy_s, softirq_s, steal_s; /* whole machine, /proc/stat */
    double events_in, deliveries, committed, slow_drops;
};

static struct sample s_begin, s_end;
static long rss_trace[TRACE_MAX];
static int n_trace;
static int64_t next_sample;
static long rss_max_kb;
static double lag_max_s = -1;
static bool in_window;

/* ---- kizuna /metrics ---------------------------------------------------- */

static char mtext[1 << 16];

/* GET /metrics into mtext; false when there is no answer within a second. */
static bool scrape(void)
{
    return o.metrics_port && probe_get(o.metrics_port, "/metrics", mtext, sizeof(mtext));
}

/* The value of a metric in the last scrape, or -1. */
static double metric(const char *name)
{
    return probe_metric(mtext, name);
}

/* CPU seconds of every server process given with -P, or -1 without one. */
static double servers_cpu_s(void)
{
    double sum = 0;

    if (!o.n_pids)
        return -1;
    for (int i = 0; i < o.n_pids; i++)
        sum += probe_cpu_s(o.pids[i]);
    return sum;
}

static void take(struct sample *s, int64_t now)
{
    s->wall = now;
    s->srv_cpu_s = servers_cpu_s();
    s->gen_cpu_s = probe_self_cpu_s();
    probe_machine(&s->busy_s, &s->softirq_s, &s->steal_s);
    s->events_in = s->deliveries = s->committed = s->slow_drops = -1;
    if (scrape()) {
        s->events_in = metric("kizuna_events_in_total");
        s->deliveries = metric("kizuna_deliveries_total");
        s->committed = metric("kizuna_store_committed_total");
        s->slow_drops = metric("kizuna_slow_consumer_drops_total");
    }
}

void window_mark(int64_t now, int end)
{
    take(end ? &s_end : &s_begin, now);
    in_window = !end;
}

/* Once a second: server RSS (whole run, for the trace) and store lag. */
void sample_tick(int64_t now)
{
    if (now < next_sample)
        return;
    next_sample = now + 1000000000LL;
    if (o.pid) {
        long rss = probe_kb(o.pid, "VmRSS");
        if (n_trace < TRACE_MAX)
            rss_trace[n_trace++] = rss;
        if (in_window && rss > rss_max_kb)
            rss_max_kb = rss;
    }
    if ((in_window || st.window_closed) && scrape()) {
        double lag = metric("kizuna_store_lag_seconds");
        if (lag > lag_max_s)
            lag_max_s = lag;
    }
}

/* ---- results ----------------------------------------------------------- */

static double pct(double a, double b, double secs)
{
    return a < 0 || b < 0 || secs <= 0 ? -1 : 100.0 * (b - a) / secs;
}

static double diff(double a, double b)
{
    return a < 0 || b < 0 ? -1 : b - a;
}

static void print_trace(void)
{
    char la[64] = "";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(la, sizeof(la), f))
            la[strcspn(la, " ")] = '\0';
        fclose(f);
    }
    printf(",\"loadavg_1m\":%s", *la ? la : "-1");
    printf(",\"rss_trace_mb\":[");
    for (int i = 0; i < n_trace; i++)
        printf("%s%.1f", i ? "," : "", (double)rss_trace[i] / 1024.0);
    printf("]");
}

void report_fanout(void)
{
    static const char *mn[] = {"cot", "mqtt", "nats"};
    double secs = (double)(s_end.wall - s_begin.wall) / 1e9;
    double srv = pct(s_begin.srv_cpu_s, s_end.srv_cpu_s, secs);
    double gen = pct(s_begin.gen_cpu_s, s_end.gen_cpu_s, secs);
    double ratio = st.expected ? (double)st.recv_of_win / (double)st.expected : 0;
    double offered = (double)st.expected / o.dur, deliv = (double)st.recv_win / o.dur;
    double rss = o.pid ? (double)probe_kb(o.pid, "VmRSS") / 1024.0 : -1;
    double hwm = o.pid ? (double)probe_kb(o.pid, "VmHWM") / 1024.0 : -1;
    double q[5] = {0.5, 0.9, 0.99, 0.999, 1};
    if (scrape()) /* after the drain: everything the window sent is committed */
        s_end.committed = metric("kizuna_store_committed_total");
    double ms[5];
    for (int i = 0; i < 5; i++)
        ms[i] = hist_ms(&st.lat, q[i]);

    printf("{\"label\":\"%s\",\"mode\":\"%s\",\"n\":%d,\"rate\":%g,\"groups\":%d,"
           "\"slow\":%d,\"atak\":%d,\"pad\":%d,\"warm_s\":%g,\"window_s\":%g,",
           o.label ? o.label : "", mn[o.mode], o.n, o.rate, o.groups, o.slow, o.atak, o.pad, o.warm,
           o.dur);
    printf("\"sent\":%llu,\"expected\":%llu,\"delivered_of_sent\":%llu,\"offered_per_s\":%.0f,"
           "\"delivered_per_s\":%.0f,\"ratio\":%.6f,",
           (unsigned long long)st.sent_win, (unsigned long long)st.expected,
           (unsigned long long)st.recv_of_win, offered, deliv, ratio);
    printf("\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,",
           ms[0], ms[1], ms[2], ms[3], ms[4]);
    printf("\"cross_group\":%llu,\"bad_frames\":%llu,\"self_echo\":%llu,\"replayed\":%llu,"
           "\"closed\":%llu,"
           "\"bytes_per_delivery\":%.0f,\"send_lag_max_ms\":%.3f,",
           (unsigned long long)st.cross, (unsigned long long)st.bad, (unsigned long long)st.self,
           (unsigned long long)st.replayed, (unsigned long long)st.closed,
           st.rx_events ? (double)st.rx_bytes / (double)st.rx_events : 0,
           (double)st.send_lag_max / 1e6);
    printf("\"srv_cpu_pct\":%.1f,\"srv_rss_mb\":%.1f,\"srv_rss_max_mb\":%.1f,"
           "\"srv_hwm_mb\":%.1f,\"gen_cpu_pct\":%.1f,\"gen_bound\":%d,",
           srv, rss, (double)rss_max_kb / 1024.0, hwm, gen, gen > 90);
    double busy = pct(s_begin.busy_s, s_end.busy_s, secs);
    double other = busy < 0 || srv < 0 ? -1 : busy - srv - gen;
    printf("\"machine_busy_pct\":%.1f,\"softirq_pct\":%.1f,\"steal_pct\":%.1f,"
           "\"other_cpu_pct\":%.1f,",
           busy, pct(s_begin.softirq_s, s_end.softirq_s, secs),
           pct(s_begin.steal_s, s_end.steal_s, secs), other);
    /* Server CPU (every -P process) per event delivered in the window. */
    double cpu_us = s_begin.srv_cpu_s < 0 || !st.recv_win
                        ? -1
                        : (s_end.srv_cpu_s - s_begin.srv_cpu_s) * 1e6 / (double)st.recv_win;
    printf("\"srv_cpu_us_per_delivery\":%.2f,", cpu_us);
    printf("\"tls\":%d,\"cipher\":\"%s\",\"tls_failed\":%llu,", o.tls, o.tls ? tls_cipher() : "-",
           (unsigned long long)(o.tls ? tls_failed() : 0));
    printf("\"srv_events_in\":%.0f,\"srv_deliveries\":%.0f,\"srv_committed\":%.0f,"
           "\"srv_slow_drops\":%.0f,\"store_lag_max_s\":%.3f",
           diff(s_begin.events_in, s_end.events_in), diff(s_begin.deliveries, s_end.deliveries),
           s_end.committed, s_end.slow_drops, lag_max_s);
    print_trace();
    printf("}\n");
    printf("# %s %s %dx%g: offered %.0f/s delivered %.0f/s ratio %.4f | ms p50 %.2f p90 %.2f "
           "p99 %.2f p99.9 %.2f max %.2f | server %.0f%% CPU %.1f MB | gen %.0f%% | "
           "others %.0f%%%s%s\n",
           o.label ? o.label : "-", mn[o.mode], o.n, o.rate, offered, deliv, ratio, ms[0], ms[1],
           ms[2], ms[3], ms[4], srv, rss, gen, other, gen > 90 ? " GENERATOR-BOUND" : "",
           st.cross ? " CROSS-GROUP DELIVERIES" : "");
    fflush(stdout);
}

/* ---- W3: connection storm ----------------------------------------------- */

static int64_t phase_deadline;

static bool preload_flushed(int64_t now)
{
    struct client *p = &cl[o.n];
    if (now > phase_deadline)
        gen_die("preload connection did not drain");
    return p->connected && p->wlen == 0;
}

static bool probe_done(int64_t now)
{
    if (cl[o.n + 1].fd < 0) {
        fprintf(stderr,
                "loadgen: the server closed the probe after %llu of %d tracks "
                "(replay larger than its output queue limit?)\n",
                (unsigned long long)cl[o.n + 1].got, o.tracks);
        exit(2);
    }
    if (now > phase_deadline) {
        fprintf(stderr, "loadgen: probe saw %llu of %d tracks\n",
                (unsigned long long)cl[o.n + 1].got, o.tracks);
        exit(2);
    }
    return cl[o.n + 1].got >= (uint64_t)o.tracks;
}

static bool storm_done(int64_t now)
{
    int done = 0;
    for (int i = 0; i < o.n; i++)
        done += cl[i].got >= (uint64_t)o.tracks || cl[i].fd < 0;
    return done == o.n || now > phase_deadline;
}

static bool settled(int64_t now)
{
    return now > phase_deadline;
}

/* One connection publishes the tracks; the storm clients only read. */
static void preload(void)
{
    struct client *p = &cl[o.n];
    char ev[8192];
    phase_deadline = gen_now_ns() + 30000000000LL;
    loop_until(preload_flushed, o.n, o.n + 1, 1000);
    for (int i = 0; i < o.tracks; i++) {
        struct client t = {.id = i};
        client_write(p, ev, build_event(&t, "kzt-", gen_now_ns(), ev, sizeof(ev)));
    }
    loop_until(preload_flushed, o.n + 1, o.n + 1, 1000);
    phase_deadline = gen_now_ns() + 500000000LL;
    loop_until(settled, o.n + 1, o.n + 1, 1000);
}

static void storm_print(double rss0, double cpu0, double gen0, int64_t t_begin, int64_t t_end)
{
    struct hist *h = calloc(3, sizeof(*h));
    int done = 0;
    for (int i = 0; i < o.n; i++) {
        struct client *c = &cl[i];
        if (c->t_conn)
            hist_add(&h[0], c->t_conn - c->t_start);
        if (c->t_first)
            hist_add(&h[1], c->t_first - c->t_start);
        if (c->t_done) {
            hist_add(&h[2], c->t_done - c->t_start);
            done++;
        }
    }
    double secs = (double)(t_end - t_begin) / 1e9;
    double rss1 = (double)probe_kb(o.pid, "VmRSS"), hwm = (double)probe_kb(o.pid, "VmHWM");
    double per_conn = (rss1 - rss0) / o.n;
    double cpu = pct(cpu0, probe_cpu_s(o.pid), secs), gen = pct(gen0, probe_self_cpu_s(), secs);
    printf("{\"label\":\"%s\",\"mode\":\"storm\",\"clients\":%d,\"tracks\":%d,\"conn_rate\":%g,"
           "\"completed\":%d,\"closed\":%llu,\"storm_s\":%.3f,",
           o.label ? o.label : "", o.n, o.tracks, o.storm, done, (unsigned long long)st.closed,
           secs);
    const char *nm[3] = {"connect", "first_event", "replay"};
    for (int k = 0; k < 3; k++)
        printf("\"%s_p50_ms\":%.3f,\"%s_p99_ms\":%.3f,\"%s_max_ms\":%.3f,", nm[k],
               hist_ms(&h[k], 0.5), nm[k], hist_ms(&h[k], 0.99), nm[k], hist_ms(&h[k], 1));
    printf("\"srv_rss_before_mb\":%.1f,\"srv_rss_after_mb\":%.1f,\"srv_hwm_mb\":%.1f,"
           "\"rss_per_conn_kb\":%.1f,\"srv_cpu_pct\":%.1f,\"gen_cpu_pct\":%.1f,"
           "\"gen_bound\":%d,\"replayed_events\":%llu}\n",
           rss0 / 1024, rss1 / 1024, hwm / 1024, per_conn, cpu, gen, gen > 90,
           (unsigned long long)st.rx_events);
    printf("# %s storm %d clients at %g/s, %d tracks: %d/%d replayed in %.1f s | connect p99 "
           "%.2f ms | first event p50 %.1f p99 %.1f ms | replay p50 %.0f p99 %.0f max %.0f ms "
           "| RSS %.1f -> %.1f MB (%.1f KB/conn) | server %.0f%% CPU | gen %.0f%%\n",
           o.label ? o.label : "-", o.n, o.storm, o.tracks, done, o.n, secs, hist_ms(&h[0], 0.99),
           hist_ms(&h[1], 0.5), hist_ms(&h[1], 0.99), hist_ms(&h[2], 0.5), hist_ms(&h[2], 0.99),
           hist_ms(&h[2], 1), rss0 / 1024, rss1 / 1024, per_conn, cpu, gen);
    fflush(stdout);
    free(h);
}

/* W4 idle: server CPU and memory, and how many connections kizuna holds. */
void idle_take(struct idle_sample *s)
{
    s->wall = gen_now_ns();
    s->srv_cpu_s = probe_cpu_s(o.pid);
    s->gen_cpu_s = probe_self_cpu_s();
    s->rss_kb = (double)probe_kb(o.pid, "VmRSS");
    s->hwm_kb = (double)probe_kb(o.pid, "VmHWM");
    s->conns = scrape() ? metric("kizuna_connections{kind=\"cot\"}") : -1;
}

void run_storm(void)
{
    if (o.mode != M_COT || !o.pid) {
        fprintf(stderr, "loadgen: --storm needs -m cot and -P SERVER_PID\n");
        exit(2);
    }
    n_all = o.n + 2;
    cl = calloc((size_t)n_all, sizeof(*cl));
    for (int i = 0; i < n_all; i++)
        cl[i] = (struct client){.idx = i, .id = 100000 + i, .fd = -1, .role = R_STORM};
    cl[o.n].role = R_PRELOAD;
    cl[o.n + 1].role = R_PROBE;
    preload();
    phase_deadline = gen_now_ns() + 60000000000LL;
    loop_until(probe_done, o.n + 1, o.n + 2, 1000);
    double rss0 = (double)probe_kb(o.pid, "VmRSS"), cpu0 = probe_cpu_s(o.pid),
           gen0 = probe_self_cpu_s();
    int64_t t_begin = gen_now_ns();
    phase_deadline = t_begin + (int64_t)(o.n / o.storm * 1e9) + 120000000000LL;
    loop_until(storm_done, 0, o.n, o.storm);
    storm_print(rss0, cpu0, gen0, t_begin, gen_now_ns());
}
