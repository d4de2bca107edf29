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
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedgen.h"
#include "probe.h"

#define MAX_SECS 600
#define SEC 1000000000LL

/* What one instant looks like from outside. */
struct snap {
    int64_t t;
    double src_in, src_refused, src_lag, dst_lag, dst_recv, dst_dups;
    double src_cpu, dst_cpu, gen_cpu, busy, softirq, steal;
    uint64_t sub, pushed;
};

/* A peer's row of GET /api/v1/federation. */
struct link {
    char state[16], since[40];
    double sent, received, denied, duplicates;
};

static char mbuf[1 << 18];

static void series(char *out, size_t cap, const char *family, const char *peer)
{
    snprintf(out, cap, "%s{peer=\"%s\"}", family, peer);
}

/* A loaded node may miss probe_get's one-second timeout once: two more tries. */
static bool scrape(int port)
{
    for (int i = 0; i < 3; i++)
        if (probe_get(port, "/metrics", mbuf, sizeof(mbuf)))
            return true;
    return false;
}

static void take_src(struct snap *s)
{
    s->src_in = s->src_refused = s->src_lag = -1;
    if (!scrape(fo.src_web))
        return;
    s->src_in = probe_metric(mbuf, "kizuna_events_in_total");
    s->src_refused = probe_metric(mbuf, "kizuna_rejects_total{reason=\"overload\"}");
    s->src_lag = probe_metric(mbuf, "kizuna_store_lag_seconds");
}

static void take_dst(struct snap *s)
{
    char name[128];
    s->dst_recv = s->dst_dups = s->dst_lag = -1;
    if (!fo.dst_web || !scrape(fo.dst_web))
        return;
    series(name, sizeof(name), "kizuna_fed_received_total", fo.dst_peer);
    s->dst_recv = probe_metric(mbuf, name);
    series(name, sizeof(name), "kizuna_fed_duplicates_total", fo.dst_peer);
    s->dst_dups = probe_metric(mbuf, name);
    s->dst_lag = probe_metric(mbuf, "kizuna_store_lag_seconds");
}

static void take(struct snap *s)
{
    s->t = fg_now_ns();
    s->src_cpu = fo.src_pid ? probe_cpu_s(fo.src_pid) : -1;
    s->dst_cpu = fo.dst_pid ? probe_cpu_s(fo.dst_pid) : -1;
    s->gen_cpu = probe_self_cpu_s();
    probe_machine(&s->busy, &s->softirq, &s->steal);
    take_src(s);
    take_dst(s);
    s->sub = fs.events;
    s->pushed = fp.written;
}

static bool link_status(struct link *l);

/*
 * kizuna takes what its socket delivers and refuses events once its store has
 * 131072 pending (closing the connection after a run of refusals), and drops
 * the link when more than limits.out_queue_bytes wait for the peer: there is
 * no TCP backpressure to push against, so the generator holds instead.  What
 * waits for the peer is sent by kz-usa and not yet received by kz-jpn: the
 * "queued" of GET /api/v1/federation leaves out the HTTP/2 layer's queue.
 */
static bool behind(void)
{
    struct link l;
    if (fo.max_pending > 0 && scrape(fo.src_web)) {
        double pending = probe_metric(mbuf, "kizuna_events_in_total") -
                         probe_metric(mbuf, "kizuna_store_committed_total");
        if (pending > (fp.held ? fo.max_pending / 2 : fo.max_pending))
            return true;
    }
    if (fs.fd < 0 || fo.max_inflight <= 0 || !link_status(&l))
        return false;
    struct snap d;
    take_dst(&d);
    if (d.dst_recv < 0)
        return false;
    return l.sent - d.dst_recv > (fp.held ? fo.max_inflight / 2 : fo.max_inflight);
}

bool fg_flow_open(int64_t now)
{
    static int64_t next;
    if ((fo.max_pending <= 0 && fo.max_inflight <= 0) || now < next)
        return !fp.held;
    next = now + 50000000;
    bool was = fp.held;
    fp.held = behind();
    fp.holds += fp.held && !was;
    return !fp.held;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : -1;
}

/* kz-usa's row for its peer; false without an answer or without the peer. */
static bool link_status(struct link *l)
{
    const char *body;
    json_t *root, *p;
    size_t i;
    bool found = false;

    memset(l, 0, sizeof(*l));
    if (!probe_get(fo.src_web, "/api/v1/federation", mbuf, sizeof(mbuf)) ||
        !(body = probe_body(mbuf)) || !(root = json_loads(body, 0, NULL)))
        return false;
    json_array_foreach(json_object_get(root, "peers"), i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        const char *state = json_string_value(json_object_get(p, "state"));
        if (!name || strcmp(name, fo.src_peer) != 0)
            continue;
        const char *since = json_string_value(json_object_get(p, "since"));
        snprintf(l->state, sizeof(l->state), "%s", state ? state : "?");
        snprintf(l->since, sizeof(l->since), "%s", since ? since : "");
        l->sent = num(p, "sent");
        l->received = num(p, "received");
        l->denied = num(p, "denied");
        l->duplicates = num(p, "duplicates");
        found = true;
    }
    json_decref(root);
    return found;
}

static bool link_up(void)
{
    struct link l;
    return link_status(&l) && strcmp(l.state, "up") == 0;
}

/* Poll kz-usa's link state every 10 ms (reading the subscriber meanwhile); ns of "up". */
static int64_t wait_link(double seconds)
{
    int64_t deadline = fg_now_ns() + (int64_t)(seconds * 1e9);
    while (!link_up()) {
        if (fg_now_ns() > deadline) {
            fprintf(stderr, "fedgen: the link to %s is not up after %.0f s\n", fo.src_peer,
                    seconds);
            exit(2);
        }
        fg_loop(fg_now_ns() + 10000000, NULL);
    }
    return fg_now_ns();
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
    int n_ingest, n_delivered; /* a sample whose scrape failed is left out */
    char since[40];            /* kz-usa's link "since" when the window began */
};

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
        double secs = (double)(cur.t - prev.t) / 1e9;
        if (prev.src_in >= 0 && cur.src_in >= 0)
            w->ingest[w->n_ingest++] = (cur.src_in - prev.src_in) / secs;
        w->delivered[w->n_delivered++] = (double)(cur.sub - prev.sub) / secs;
        w->lag_src = cur.src_lag > w->lag_src ? cur.src_lag : w->lag_src;
        w->lag_dst = cur.dst_lag > w->lag_dst ? cur.dst_lag : w->lag_dst;
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

static void print_rate(struct window *w, const struct link *l)
{
    bool link = fs.fd >= 0;
    int64_t ns = w->end.t - w->begin.t;
    double secs = (double)ns / 1e9;
    double in_total = diff(w->base.src_in, w->last.src_in);
    double refused = diff(w->base.src_refused, w->last.src_refused);
    double lost = link ? in_total - l->denied - (double)fs.events : -1;
    double busy = pct(w->begin.busy, w->end.busy, ns);
    double src = pct(w->begin.src_cpu, w->end.src_cpu, ns);
    double dst = pct(w->begin.dst_cpu, w->end.dst_cpu, ns);
    double gen = pct(w->begin.gen_cpu, w->end.gen_cpu, ns);
    double ing_avg = diff(w->begin.src_in, w->end.src_in) / secs;
    double del_avg = link ? (double)(w->end.sub - w->begin.sub) / secs : -1;
    double push = (double)(w->end.pushed - w->begin.pushed) / secs;
    double ing = median(w->ingest, w->n_ingest);
    double del = link ? median(w->delivered, w->n_delivered) : -1;
    int relinked = link && strcmp(w->since, l->since) != 0;
    /* While the link is down nothing is judged, and a relink judges the latest state
     * again: `denied` equals the NOFORN sent only for a link that stayed up. */
    double nf = (double)fp.noforn_written;
    bool ok = !link || (fs.leaked == 0 && (relinked || l->denied == nf));
    /* CPU per event: what a shared machine distorts least (rates fall, costs stay). */
    double src_us = per_event_us(w->begin.src_cpu, w->end.src_cpu, ing_avg * secs);
    double dst_us = per_event_us(w->begin.dst_cpu, w->end.dst_cpu, del_avg * secs);

    printf("{\"label\":\"%s\",\"mode\":\"fed\",\"link\":%d,\"window_s\":%.3f,\"tracks\":%d,"
           "\"noforn_frac\":%g,\"push_per_s\":%.0f,\"ingest_per_s\":%.0f,\"ingest_avg_per_s\":"
           "%.0f,\"delivered_per_s\":%.0f,\"delivered_avg_per_s\":%.0f,",
           fo.label ? fo.label : "", link, secs, fo.tracks, fo.noforn, push, ing, ing_avg, del,
           del_avg);
    printf("\"pushed\":%llu,\"noforn_sent\":%llu,\"src_accepted\":%.0f,\"src_refused\":%.0f,"
           "\"fed_sent\":%.0f,\"denied\":%.0f,\"received\":%llu,\"dst_fed_received\":%.0f,"
           "\"dst_duplicates\":%.0f,\"leaked\":%llu,\"bad_frames\":%llu,\"lost\":%.0f,"
           "\"release_ok\":%d,\"relinked\":%d,\"link_state\":\"%s\",\"push_closed\":%d,"
           "\"sub_closed\":%d,\"holds\":%llu,\"max_pending\":%.0f,\"max_inflight\":%.0f,",
           (unsigned long long)fp.written, (unsigned long long)fp.noforn_written, in_total, refused,
           link ? l->sent : -1, link ? l->denied : -1, (unsigned long long)fs.events,
           diff(w->base.dst_recv, w->last.dst_recv), w->last.dst_dups,
           (unsigned long long)fs.leaked, (unsigned long long)fs.bad, lost, ok, relinked,
           link ? l->state : "-", fp.closed, fs.closed, (unsigned long long)fp.holds,
           fo.max_pending, fo.max_inflight);
    printf("\"src_cpu_pct\":%.1f,\"dst_cpu_pct\":%.1f,\"gen_cpu_pct\":%.1f,\"machine_busy_pct\":"
           "%.1f,\"softirq_pct\":%.1f,\"src_us_per_event\":%.1f,\"dst_us_per_event\":%.1f,"
           "\"src_hwm_mb\":%.1f,\"dst_hwm_mb\":%.1f,\"src_lag_max_s\":"
           "%.3f,\"dst_lag_max_s\":%.3f,\"loadavg_1m\":%.2f}\n",
           src, dst, gen, busy, pct(w->begin.softirq, w->end.softirq, ns), src_us, dst_us,
           fo.src_pid ? (double)probe_kb(fo.src_pid, "VmHWM") / 1024 : -1,
           fo.dst_pid ? (double)probe_kb(fo.dst_pid, "VmHWM") / 1024 : -1, w->lag_src, w->lag_dst,
           loadavg());
    printf("# %s: pushed %.0f/s, kz-usa ingests %.0f/s (median), delivered across the link "
           "%.0f/s (median)%s%s%s | NOFORN sent %llu denied %.0f leaked %llu%s | refused %.0f "
           "lost %.0f | held %llu times for kz-usa's store | CPU kz-usa %.0f%% (%.1f us/event) "
           "kz-jpn %.0f%% (%.1f us/event) gen %.0f%% machine %.0f%%\n",
           fo.label ? fo.label : "-", push, ing, del, relinked ? " LINK WENT DOWN" : "",
           fp.closed ? " PUSH CONNECTION CLOSED" : "", fs.closed ? " SUBSCRIBER CLOSED" : "",
           (unsigned long long)fp.noforn_written, link ? l->denied : -1,
           (unsigned long long)fs.leaked, ok ? "" : " RELEASE CHECK FAILED", refused, lost,
           (unsigned long long)fp.holds, src, src_us, dst, dst_us, gen, busy);
    fflush(stdout);
}

void fg_run_rate(void)
{
    static struct window w;
    struct link l = {.sent = -1, .received = -1, .denied = -1, .duplicates = -1};

    take(&w.base);
    if (fo.sub_port) {
        fg_sub_open(false);
        wait_link(30);
        struct link up;
        if (link_status(&up))
            memcpy(w.since, up.since, sizeof(w.since));
    }
    int64_t w_start = fg_now_ns() + (int64_t)(fo.warm * 1e9);
    fg_loop(w_start, NULL);
    take(&w.begin);
    sample_window(&w, w_start);
    fp.active = false; /* the batch in flight still goes out: the counts stay exact */
    fg_loop(fg_now_ns() + (int64_t)(fo.drain * 1e9), drained);
    take(&w.last);
    if (fo.sub_port && !link_status(&l))
        fprintf(stderr, "fedgen: no federation status from kz-usa\n");
    print_rate(&w, &l);
}

/* ---- F2 ---------------------------------------------------------------------------- */

static struct snap b_base;

/* kz-usa judged every event written (accepted or refused) and committed what it took. */
static bool stored(int64_t now)
{
    static int64_t next;
    struct snap s;
    if (!fg_pushed_all() || now < next)
        return false;
    next = now + 50000000;
    take_src(&s);
    return diff(b_base.src_in, s.src_in) + diff(b_base.src_refused, s.src_refused) >=
               (double)fp.written &&
           s.src_lag == 0;
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
    take(&b_base);
    int64_t t0 = fg_now_ns(), deadline = t0 + (int64_t)(fo.deadline * 1e9);
    fg_loop(deadline, pushed);
    int64_t t_pushed = fg_now_ns();
    fg_loop(deadline, stored);
    take(&end);
    double acc = diff(b_base.src_in, end.src_in), ref = diff(b_base.src_refused, end.src_refused);
    printf("{\"f2_pushed\":%llu,\"f2_accepted\":%.0f,\"f2_refused\":%.0f,\"f2_push_s\":%.3f,"
           "\"f2_stored_s\":%.3f,\"f2_stored\":%d}\n",
           (unsigned long long)fp.written, acc, ref, (double)(t_pushed - t0) / 1e9,
           (double)(end.t - t0) / 1e9, end.t < deadline);
    fflush(stdout);
}

static bool all_in(int64_t now)
{
    (void)now;
    return fs.distinct >= (uint64_t)fo.events;
}

void fg_run_catchup(void)
{
    struct snap end;
    struct link l = {.sent = -1, .received = -1, .denied = -1, .duplicates = -1};

    fg_sub_open(true);
    int64_t t_open = fg_now_ns();
    bool up_before = link_up(); /* the link won the race with the subscriber */
    int64_t t_up = up_before ? t_open : wait_link(120);
    fg_loop(t_up + (int64_t)(fo.deadline * 1e9), all_in);
    bool complete = all_in(0);
    double catchup = complete ? (double)(fs.t_last_new - t_up) / 1e9 : -1;
    take(&end);
    link_status(&l);
    printf("{\"label\":\"%s\",\"mode\":\"fed-catchup\",\"events\":%ld,\"tracks\":%d,"
           "\"complete\":%d,\"catchup_s\":%.3f,\"deadline_s\":%g,\"received_distinct\":%llu,"
           "\"received\":%llu,\"uids\":%llu,\"link_wait_s\":%.3f,\"up_before_sub\":%d,"
           "\"fed_sent\":%.0f,\"dst_fed_received\":%.0f,\"dst_duplicates\":%.0f,\"leaked\":%llu}\n",
           fo.label ? fo.label : "", fo.events, fo.tracks, complete, catchup, fo.deadline,
           (unsigned long long)fs.distinct, (unsigned long long)fs.events,
           (unsigned long long)fs.uids, (double)(t_up - t_open) / 1e9, up_before, l.sent,
           end.dst_recv, end.dst_dups, (unsigned long long)fs.leaked);
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
