/*
 * fg_run.c - the three modes of fedgen and what they print.
 *
 * rate (F1): the link is up first; then warm-up, a window sampled every
 * second (kz-usa's accepted events from its /metrics, arrivals at the
 * subscriber), a drain, and the release check: kz-usa's `denied` for the
 * peer (GET /api/v1/federation) must equal the NOFORN events sent.  Without
 * --sub, kz-usa alone: the ingest ceiling.
 * backlog (F2, kz-jpn down): push --events, wait until kz-usa accepted and
 * committed them.  catchup (F2, kz-jpn back): time from link up to the last
 * distinct event at the subscriber; past the deadline, "incomplete".
 * While the generator pushes, the nodes' figures come from the poller
 * (fg_poll.c), never from a request the loop waits for.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedgen.h"
#include "probe.h"

#define MAX_SECS 600
#define SEC 1000000000LL

/* One instant: the nodes' answers, /proc, and the generator's own counts. */
struct snap {
    int64_t t;
    struct fg_remote rm;
    double src_cpu, dst_cpu, gen_cpu, busy, softirq, steal;
    uint64_t sub, pushed;
};

static void take_local(struct snap *s)
{
    s->t = gen_now_ns();
    s->src_cpu = fo.src_pid ? probe_cpu_s(fo.src_pid) : -1;
    s->dst_cpu = fo.dst_pid ? probe_cpu_s(fo.dst_pid) : -1;
    s->gen_cpu = probe_self_cpu_s();
    probe_machine(&s->busy, &s->softirq, &s->steal);
    s->sub = fs.events;
    s->pushed = fp.written;
}

/* While the poller runs: its latest answers. */
static void take(struct snap *s)
{
    take_local(s);
    fg_poll_latest(&s->rm);
}

/* Before and after: ask the nodes now (the poller is stopped). */
static void take_now(struct snap *s)
{
    take_local(s);
    fg_remote_read(&s->rm, fo.sub_port > 0);
}

static bool link_up(void)
{
    struct fg_link l;
    return fg_link_read(&l) && strcmp(l.state, "up") == 0;
}

/* Poll kz-usa's link state every 10 ms (reading the subscriber meanwhile); ns of "up". */
static int64_t wait_link(double seconds)
{
    int64_t deadline = gen_now_ns() + (int64_t)(seconds * 1e9);
    while (!link_up()) {
        if (gen_now_ns() > deadline) {
            fprintf(stderr, "fedgen: the link to %s is not up after %.0f s\n", fo.src_peer,
                    seconds);
            exit(2);
        }
        fg_loop(gen_now_ns() + 10000000, NULL);
    }
    return gen_now_ns();
}

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? v[(n - 1) / 2] : -1;
}

static double diff(double a, double b)
{
    return a < 0 || b < 0 ? -1 : b - a;
}

static double pct(double a, double b, int64_t ns)
{
    return a < 0 || b < 0 || ns <= 0 ? -1 : 100.0 * (b - a) / ((double)ns / 1e9);
}

static double per_event_us(double cpu0, double cpu1, double events)
{
    return cpu0 < 0 || cpu1 < 0 || events <= 0 ? -1 : (cpu1 - cpu0) * 1e6 / events;
}

static double loadavg(void)
{
    double la = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &la) != 1)
            la = -1;
        fclose(f);
    }
    return la;
}

/* ---- F1 ---------------------------------------------------------------------------- */

struct window {
    struct snap base, begin, end, last;
    double ingest[MAX_SECS], delivered[MAX_SECS], lag_src, lag_dst;
    int n_ingest, n_delivered; /* a second without a new answer from kz-usa is left out */
    char since[40];            /* kz-usa's link "since" when the window began */
    double trace_in[MAX_SECS], trace_del[MAX_SECS]; /* the same, unsorted (-1: none) */
    int n_trace;
};

/* One second of the window: kz-usa's rate between its answers, arrivals by the clock. */
static void add_second(struct window *w, const struct snap *prev, const struct snap *cur)
{
    double in = -1, secs = (double)(cur->t - prev->t) / 1e9;

    if (cur->rm.t > prev->rm.t && prev->rm.src_in >= 0 && cur->rm.src_in >= 0)
        in = (cur->rm.src_in - prev->rm.src_in) / ((double)(cur->rm.t - prev->rm.t) / 1e9);
    if (in >= 0)
        w->ingest[w->n_ingest++] = in;
    w->delivered[w->n_delivered++] = (double)(cur->sub - prev->sub) / secs;
    w->trace_in[w->n_trace] = in;
    w->trace_del[w->n_trace++] = w->delivered[w->n_delivered - 1];
    w->lag_src = cur->rm.src_lag > w->lag_src ? cur->rm.src_lag : w->lag_src;
    w->lag_dst = cur->rm.dst_lag > w->lag_dst ? cur->rm.dst_lag : w->lag_dst;
}

/* The window, one snapshot a second; per-second rates for the medians. */
static void sample_window(struct window *w, int64_t w_start)
{
    int64_t w_end = w_start + (int64_t)(fo.dur * 1e9);
    struct snap prev = w->begin, cur;

    w->lag_src = w->lag_dst = -1;
    for (int k = 1; k <= MAX_SECS; k++) {
        int64_t until = w_start + k * SEC < w_end ? w_start + k * SEC : w_end;
        fg_loop(until, NULL);
        take(&cur);
        add_second(w, &prev, &cur);
        prev = cur;
        if (until >= w_end)
            break;
    }
    w->end = cur;
}

/* The drain is over once the pusher is flushed and arrivals stopped for a second. */
static bool drained(int64_t now)
{
    static uint64_t seen;
    static int64_t since;
    uint64_t v = fs.fd >= 0 ? fs.events : fp.written;
    if (!fg_pushed_all() || v != seen || !since) {
        seen = v;
        since = now;
        return false;
    }
    return now - since >= SEC;
}

/* F1's figures, worked out from the snapshots before they are printed. */
struct f1 {
    bool link, ok;
    int relinked;
    double secs, push, ing, ing_avg, del, del_avg, in_total, refused, lost;
    double src, dst, gen, busy, softirq, src_us, dst_us;
};

static void f1_figures(struct window *w, const struct fg_link *l, struct f1 *r)
{
    int64_t ns = w->end.t - w->begin.t, rm_ns = w->end.rm.t - w->begin.rm.t;

    r->link = fs.fd >= 0;
    r->secs = (double)ns / 1e9;
    r->in_total = diff(w->base.rm.src_in, w->last.rm.src_in);
    r->refused = diff(w->base.rm.src_refused, w->last.rm.src_refused);
    r->lost = r->link ? r->in_total - l->denied - (double)fs.events : -1;
    r->busy = pct(w->begin.busy, w->end.busy, ns);
    r->softirq = pct(w->begin.softirq, w->end.softirq, ns);
    r->src = pct(w->begin.src_cpu, w->end.src_cpu, ns);
    r->dst = pct(w->begin.dst_cpu, w->end.dst_cpu, ns);
    r->gen = pct(w->begin.gen_cpu, w->end.gen_cpu, ns);
    r->ing_avg =
        rm_ns > 0 ? diff(w->begin.rm.src_in, w->end.rm.src_in) / ((double)rm_ns / 1e9) : -1;
    r->del_avg = r->link ? (double)(w->end.sub - w->begin.sub) / r->secs : -1;
    r->push = (double)(w->end.pushed - w->begin.pushed) / r->secs;
    r->ing = median(w->ingest, w->n_ingest);
    r->del = r->link ? median(w->delivered, w->n_delivered) : -1;
    r->relinked = r->link && strcmp(w->since, l->since) != 0;
    /* While the link is down nothing is judged, and a relink judges the latest state
     * again: `denied` equals the NOFORN sent only for a link that stayed up. */
    r->ok = !r->link || (fs.leaked == 0 && (r->relinked || l->denied == (double)fp.noforn_written));
    /* CPU per event: what a shared machine distorts least (rates fall, costs stay). */
    r->src_us = per_event_us(w->begin.src_cpu, w->end.src_cpu, r->ing_avg * r->secs);
    r->dst_us = per_event_us(w->begin.dst_cpu, w->end.dst_cpu, r->del_avg * r->secs);
}

/* The 1 s rates in window order (the medians sort their copies). */
static void trace(const char *key, const double *v, int n)
{
    printf(",\"%s\":[", key);
    for (int i = 0; i < n; i++)
        printf("%s%.0f", i ? "," : "", v[i]);
    printf("]");
}

static void f1_json(const struct window *w, const struct fg_link *l, const struct f1 *r)
{
    printf("{\"label\":\"%s\",\"mode\":\"fed\",\"link\":%d,\"window_s\":%.3f,\"tracks\":%d,"
           "\"noforn_frac\":%g,\"push_per_s\":%.0f,\"ingest_per_s\":%.0f,\"ingest_avg_per_s\":"
           "%.0f,\"delivered_per_s\":%.0f,\"delivered_avg_per_s\":%.0f,",
           fo.label ? fo.label : "", r->link, r->secs, fo.tracks, fo.noforn, r->push, r->ing,
           r->ing_avg, r->del, r->del_avg);
    printf("\"pushed\":%llu,\"noforn_sent\":%llu,\"src_accepted\":%.0f,\"src_refused\":%.0f,"
           "\"fed_sent\":%.0f,\"denied\":%.0f,\"received\":%llu,\"dst_fed_received\":%.0f,"
           "\"dst_duplicates\":%.0f,\"leaked\":%llu,\"bad_frames\":%llu,\"lost\":%.0f,",
           (unsigned long long)fp.written, (unsigned long long)fp.noforn_written, r->in_total,
           r->refused, r->link ? l->sent : -1, r->link ? l->denied : -1,
           (unsigned long long)fs.events, diff(w->base.rm.dst_recv, w->last.rm.dst_recv),
           w->last.rm.dst_dups, (unsigned long long)fs.leaked, (unsigned long long)fs.bad, r->lost);
    printf("\"release_ok\":%d,\"relinked\":%d,\"link_state\":\"%s\",\"push_closed\":%d,"
           "\"sub_closed\":%d,\"holds\":%llu,\"max_pending\":%.0f,\"max_inflight\":%.0f,",
           r->ok, r->relinked, r->link ? l->state : "-", fp.closed, fs.closed,
           (unsigned long long)fg_poll_holds(), fo.max_pending, fo.max_inflight);
    printf("\"src_cpu_pct\":%.1f,\"dst_cpu_pct\":%.1f,\"gen_cpu_pct\":%.1f,\"machine_busy_pct\":"
           "%.1f,\"softirq_pct\":%.1f,\"src_us_per_event\":%.1f,\"dst_us_per_event\":%.1f,"
           "\"src_hwm_mb\":%.1f,\"dst_hwm_mb\":%.1f,\"src_lag_max_s\":%.3f,"
           "\"dst_lag_max_s\":%.3f,\"loadavg_1m\":%.2f",
           r->src, r->dst, r->gen, r->busy, r->softirq, r->src_us, r->dst_us,
           fo.src_pid ? (double)probe_kb(fo.src_pid, "VmHWM") / 1024 : -1,
           fo.dst_pid ? (double)probe_kb(fo.dst_pid, "VmHWM") / 1024 : -1, w->lag_src, w->lag_dst,
           loadavg());
    trace("ingest_trace", w->trace_in, w->n_trace);
    trace("delivered_trace", w->trace_del, w->n_trace);
    printf("}\n");
}

static void f1_human(const struct fg_link *l, const struct f1 *r)
{
    printf("# %s: pushed %.0f/s, kz-usa ingests %.0f/s (median), delivered across the link "
           "%.0f/s (median)%s%s%s | NOFORN sent %llu denied %.0f leaked %llu%s | refused %.0f "
           "lost %.0f | held %llu times (kz-usa's store or the link behind) | CPU kz-usa %.0f%% "
           "(%.1f us/event) kz-jpn %.0f%% (%.1f us/event) gen %.0f%% machine %.0f%%\n",
           fo.label ? fo.label : "-", r->push, r->ing, r->del, r->relinked ? " LINK WENT DOWN" : "",
           fp.closed ? " PUSH CONNECTION CLOSED" : "", fs.closed ? " SUBSCRIBER CLOSED" : "",
           (unsigned long long)fp.noforn_written, r->link ? l->denied : -1,
           (unsigned long long)fs.leaked, r->ok ? "" : " RELEASE CHECK FAILED", r->refused, r->lost,
           (unsigned long long)fg_poll_holds(), r->src, r->src_us, r->dst, r->dst_us, r->gen,
           r->busy);
}

static void print_rate(struct window *w)
{
    const struct fg_link *l = &w->last.rm.link;
    struct f1 r;

    if (fo.sub_port && !l->ok)
        fprintf(stderr, "fedgen: no federation status from kz-usa\n");
    f1_figures(w, l, &r);
    f1_json(w, l, &r);
    f1_human(l, &r);
    fflush(stdout);
}

void fg_run_rate(void)
{
    static struct window w;

    take_now(&w.base);
    if (fo.sub_port) {
        struct fg_link up;
        fg_sub_open(false);
        wait_link(30);
        if (fg_link_read(&up))
            memcpy(w.since, up.since, sizeof(w.since));
    }
    fg_poll_start(fo.sub_port > 0);
    int64_t w_start = gen_now_ns() + (int64_t)(fo.warm * 1e9);
    fg_loop(w_start, NULL);
    take(&w.begin);
    sample_window(&w, w_start);
    fp.active = false; /* the batch in flight still goes out: the counts stay exact */
    fg_loop(gen_now_ns() + (int64_t)(fo.drain * 1e9), drained);
    fg_poll_stop();
    take_now(&w.last);
    print_rate(&w);
}

/* ---- F2 ---------------------------------------------------------------------------- */

static struct snap b_base;

/* kz-usa judged every event written (accepted or refused) and committed what it took. */
static bool stored(int64_t now)
{
    struct fg_remote r;
    (void)now;
    if (!fg_pushed_all())
        return false;
    fg_poll_latest(&r);
    return diff(b_base.rm.src_in, r.src_in) + diff(b_base.rm.src_refused, r.src_refused) >=
               (double)fp.written &&
           r.src_lag == 0;
}

static bool pushed(int64_t now)
{
    (void)now;
    return fg_pushed_all();
}

void fg_run_backlog(void)
{
    struct snap end;

    fo.noforn = 0;
    take_now(&b_base);
    fg_poll_start(false);
    int64_t t0 = gen_now_ns(), deadline = t0 + (int64_t)(fo.deadline * 1e9);
    fg_loop(deadline, pushed);
    int64_t t_pushed = gen_now_ns();
    fg_loop(deadline, stored);
    int64_t t_stored = gen_now_ns();
    fg_poll_stop();
    take_now(&end);
    double acc = diff(b_base.rm.src_in, end.rm.src_in);
    double ref = diff(b_base.rm.src_refused, end.rm.src_refused);
    printf("{\"f2_pushed\":%llu,\"f2_accepted\":%.0f,\"f2_refused\":%.0f,\"f2_push_s\":%.3f,"
           "\"f2_stored_s\":%.3f,\"f2_stored\":%d}\n",
           (unsigned long long)fp.written, acc, ref, (double)(t_pushed - t0) / 1e9,
           (double)(t_stored - t0) / 1e9, t_stored < deadline);
    fflush(stdout);
}

static bool all_in(int64_t now)
{
    (void)now;
    return fs.distinct >= (uint64_t)fo.events;
}

static void print_catchup(const struct snap *end, bool complete, double catchup, double wait,
                          bool up_before)
{
    printf("{\"label\":\"%s\",\"mode\":\"fed-catchup\",\"events\":%ld,\"tracks\":%d,"
           "\"complete\":%d,\"catchup_s\":%.3f,\"deadline_s\":%g,\"received_distinct\":%llu,"
           "\"received\":%llu,\"uids\":%llu,\"link_wait_s\":%.3f,\"up_before_sub\":%d,"
           "\"fed_sent\":%.0f,\"dst_fed_received\":%.0f,\"dst_duplicates\":%.0f,\"leaked\":%llu}\n",
           fo.label ? fo.label : "", fo.events, fo.tracks, complete, catchup, fo.deadline,
           (unsigned long long)fs.distinct, (unsigned long long)fs.events,
           (unsigned long long)fs.uids, wait, up_before, end->rm.link.sent, end->rm.dst_recv,
           end->rm.dst_dups, (unsigned long long)fs.leaked);
    if (complete)
        printf("# %s: %ld events at kz-jpn %.3f s after link up (%llu uids)\n",
               fo.label ? fo.label : "-", fo.events, catchup, (unsigned long long)fs.uids);
    else
        printf("# %s: incomplete %llu/%ld distinct events (%llu uids) at kz-jpn %g s after link "
               "up\n",
               fo.label ? fo.label : "-", (unsigned long long)fs.distinct, fo.events,
               (unsigned long long)fs.uids, fo.deadline);
    fflush(stdout);
}

void fg_run_catchup(void)
{
    struct snap end;

    fg_sub_open(true);
    fg_open_gate(); /* kz-jpn is reachable from here on, with the subscriber in place */
    int64_t t_open = gen_now_ns();
    bool up_before = link_up(); /* the link won the race with the subscriber */
    int64_t t_up = up_before ? t_open : wait_link(120);
    fg_loop(t_up + (int64_t)(fo.deadline * 1e9), all_in);
    bool complete = all_in(0);
    take_now(&end);
    print_catchup(&end, complete, complete ? (double)(fs.t_last_new - t_up) / 1e9 : -1,
                  (double)(t_up - t_open) / 1e9, up_before);
}
