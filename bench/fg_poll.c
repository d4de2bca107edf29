/*
 * fg_poll.c - what fedgen reads from the nodes over HTTP, and the poller
 * thread that reads it while the generator runs.
 *
 * A node busy with CoT answers /metrics in 100-700 ms on this machine; a
 * generator that waited for those answers in its loop would stop pushing and
 * reading for that long and measure itself.  So during a measurement one
 * thread reads kz-usa's /metrics and GET /api/v1/federation and kz-jpn's
 * /metrics back to back (at most every 50 ms), keeps the latest answers, and
 * decides the hold; the loop only looks at them.  The loop thread may call
 * fg_remote_read() itself only while the poller is stopped.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fedgen.h"
#include "probe.h"

#define POLL_NS 50000000LL

static _Thread_local char buf[1 << 18]; /* one answer; per thread, so both may read */

static pthread_t poller;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct fg_remote latest; /* under mu */
static atomic_bool stop, held, running;
static atomic_ulong holds;

/* A loaded node may miss probe_get's one-second timeout once: two more tries. */
static bool get(int port, const char *path)
{
    for (int i = 0; i < 3; i++)
        if (probe_get(port, path, buf, sizeof(buf)))
            return true;
    return false;
}

static double peer_metric(const char *family, const char *peer)
{
    char name[160];
    snprintf(name, sizeof(name), "%s{peer=\"%s\"}", family, peer);
    return probe_metric(buf, name);
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : -1;
}

static void link_row(json_t *p, struct fg_link *l)
{
    const char *state = json_string_value(json_object_get(p, "state"));
    const char *since = json_string_value(json_object_get(p, "since"));

    snprintf(l->state, sizeof(l->state), "%s", state ? state : "?");
    snprintf(l->since, sizeof(l->since), "%s", since ? since : "");
    l->sent = num(p, "sent");
    l->received = num(p, "received");
    l->denied = num(p, "denied");
    l->duplicates = num(p, "duplicates");
    l->ok = true;
}

bool fg_link_read(struct fg_link *l)
{
    const char *body;
    json_t *root, *p;
    size_t i;

    memset(l, 0, sizeof(*l));
    l->sent = l->received = l->denied = l->duplicates = -1;
    if (!get(fo.src_web, "/api/v1/federation") || !(body = probe_body(buf)) ||
        !(root = json_loads(body, 0, NULL)))
        return false;
    json_array_foreach(json_object_get(root, "peers"), i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        if (name && strcmp(name, fo.src_peer) == 0)
            link_row(p, l);
    }
    json_decref(root);
    return l->ok;
}

void fg_remote_read(struct fg_remote *r, bool with_link)
{
    r->src_in = r->src_committed = r->src_refused = r->src_lag = -1;
    r->dst_recv = r->dst_dups = r->dst_lag = -1;
    if (get(fo.src_web, "/metrics")) {
        r->src_in = probe_metric(buf, "kizuna_events_in_total");
        r->src_committed = probe_metric(buf, "kizuna_store_committed_total");
        r->src_refused = probe_metric(buf, "kizuna_rejects_total{reason=\"overload\"}");
        r->src_lag = probe_metric(buf, "kizuna_store_lag_seconds");
    }
    r->t = gen_now_ns(); /* kizuna counts when it answers: this is when kz-usa's figures held */
    if (fo.dst_web && get(fo.dst_web, "/metrics")) {
        r->dst_recv = peer_metric("kizuna_fed_received_total", fo.dst_peer);
        r->dst_dups = peer_metric("kizuna_fed_duplicates_total", fo.dst_peer);
        r->dst_lag = probe_metric(buf, "kizuna_store_lag_seconds");
    }
    if (!with_link || !fg_link_read(&r->link))
        r->link.ok = false;
}

/*
 * kizuna stops reading a CoT input while its store is behind, and a link with
 * more than half of limits.out_queue_bytes waiting for the peer falls behind
 * and sends from the events log, which costs more per event than live: the
 * generator holds before either, with hysteresis (resume at half), so that F1
 * measures the live path.  What waits for the peer is what kz-usa sent
 * and kz-jpn has not received since the link came up (what a dropped
 * connection lost never arrives): the "queued" of GET /api/v1/federation
 * leaves out the HTTP/2 layer's queue of a v2 link.
 */
static bool behind(const struct fg_remote *r, bool was)
{
    static char since[40];
    static double gap0; /* sent - received when this connection came up: lost, not in flight */
    double pending = r->src_in - r->src_committed;

    if (fo.max_pending > 0 && r->src_in >= 0 && r->src_committed >= 0 &&
        pending > (was ? fo.max_pending / 2 : fo.max_pending))
        return true;
    if (fo.max_inflight <= 0 || !r->link.ok || r->dst_recv < 0 || strcmp(r->link.state, "up"))
        return false;
    if (strcmp(since, r->link.since) != 0) {
        snprintf(since, sizeof(since), "%s", r->link.since);
        gap0 = r->link.sent - r->dst_recv;
    }
    return r->link.sent - r->dst_recv - gap0 > (was ? fo.max_inflight / 2 : fo.max_inflight);
}

static void *poll_main(void *arg)
{
    bool with_link = arg != NULL;
    struct fg_remote r;

    while (!atomic_load(&stop)) {
        int64_t next = gen_now_ns() + POLL_NS;
        fg_remote_read(&r, with_link);
        bool was = atomic_load(&held), now = behind(&r, was);
        atomic_store(&held, now);
        if (now && !was)
            atomic_fetch_add(&holds, 1);
        pthread_mutex_lock(&mu);
        latest = r;
        pthread_mutex_unlock(&mu);
        int64_t wait = next - gen_now_ns();
        if (wait > 0)
            nanosleep(&(struct timespec){0, (long)wait}, NULL);
    }
    return NULL;
}

void fg_poll_start(bool with_link)
{
    struct fg_remote first;

    fg_remote_read(&first, with_link); /* fg_poll_latest() has an answer from the start */
    latest = first;
    atomic_store(&stop, false);
    if (pthread_create(&poller, NULL, poll_main, with_link ? &poller : NULL) != 0)
        gen_die("pthread_create");
    atomic_store(&running, true);
}

void fg_poll_stop(void)
{
    if (!atomic_load(&running))
        return;
    atomic_store(&stop, true);
    pthread_join(poller, NULL);
    atomic_store(&running, false);
    atomic_store(&held, false);
}

void fg_poll_latest(struct fg_remote *r)
{
    pthread_mutex_lock(&mu);
    *r = latest;
    pthread_mutex_unlock(&mu);
}

bool fg_poll_held(void)
{
    return atomic_load(&held);
}

unsigned long fg_poll_holds(void)
{
    return atomic_load(&holds);
}
