/*
 * fedlease.c - in a cluster, exactly one instance dials each outgoing federation link: the one
 * holding the link's lease (cluster.h, lease.h; docs/cluster.md "Federation in a cluster").
 * The others keep the link configured and idle (`standby`).
 *
 * An island.  A holder cut off from NATS cannot renew; the bucket frees the lease `ttl` after
 * its last renewal (at least 2/3 of the ttl after the cut, renewals being every ttl/3), and an
 * instance still joined may take it then.  So an island stops its links a quarter of the ttl
 * after it noticed the loss of NATS (NATS notices within about 4 s: pings every 2 s), unless
 * the lease module reported the loss first; back in the cluster with the lease still held, it
 * dials again.
 */
#include <stdio.h>
#include <stdlib.h>

#include "server/server.h"

struct lease {
    struct kz_fed_leases *all;
    unsigned peer;
    struct kz_lease *lease;
    bool held;  /* as the lease module last said */
    bool owned; /* as told to the federation */
};

struct kz_fed_leases {
    struct kz_server *srv;
    uv_timer_t tick;
    int64_t ttl;                /* µs */
    int64_t joined_at;          /* mono µs the cluster was last seen joined */
    struct kz_lease_peek *peek; /* who holds each lease, for the status of a standby */
    unsigned n;
    struct lease v[];
};

static const char *peer_name(const struct lease *l)
{
    return kz_fed_outgoing(l->all->srv->fed, l->peer);
}

/* Owned: held, and not an island for longer than a quarter of the ttl. */
static void judge(struct lease *l)
{
    struct kz_fed_leases *a = l->all;
    bool island = kz_mono_us() - a->joined_at >= a->ttl / 4;
    bool own = l->held && !island;

    if (own == l->owned)
        return;
    if (!own && l->held)
        kz_log(KZ_LOG_WARN,
               "federation: an island for a quarter of the lease's ttl: the link stops here "
               "before its lease can pass to another instance",
               "peer=%s ttl_ms=%lld", peer_name(l), (long long)(a->ttl / 1000));
    l->owned = own;
    kz_fed_own(a->srv->fed, l->peer, own);
}

static void on_lease(void *arg, const char *name, bool held)
{
    struct lease *l = arg;

    if (held)
        kz_log(KZ_LOG_INFO, "federation: link lease held; this instance dials the link",
               "peer=%s lease=%s", peer_name(l), name);
    else
        kz_log(KZ_LOG_WARN,
               "federation: link lease lost (not renewed in time: NATS unreachable, or taken); "
               "the link stops here",
               "peer=%s lease=%s", peer_name(l), name);
    l->held = held;
    judge(l);
}

static void on_tick(uv_timer_t *t)
{
    struct kz_fed_leases *a = t->data;

    if (kz_cluster_is_joined(a->srv->cluster))
        a->joined_at = kz_mono_us();
    for (unsigned i = 0; i < a->n; i++) {
        char owner[128];
        if (!a->v[i].lease)
            continue;
        judge(&a->v[i]);
        kz_cluster_lease_peek(a->peek, i, owner, sizeof(owner));
        kz_fed_set_owner(a->srv->fed, i, owner);
    }
}

void kz__server_fed_leases_start(struct kz_server *srv)
{
    unsigned n = kz_fed_peers(srv->fed);
    struct kz_fed_leases *a = kz_xcalloc(1, sizeof(*a) + (n + 1) * sizeof(a->v[0]));

    a->srv = srv;
    a->n = n;
    a->ttl = (int64_t)srv->cfg->cluster->lease_ttl_s * 1000000;
    a->joined_at = kz_mono_us(); /* joining at start counts as joined (the lease says more) */
    srv->fed_leases = a;
    uv_timer_init(&srv->loop, &a->tick);
    a->tick.data = a;
    uv_timer_start(&a->tick, on_tick, 250, 250);
    const char **what = kz_xcalloc(n + 1, sizeof(*what));
    char(*names)[128] = kz_xcalloc(n + 1, sizeof(*names));
    for (unsigned i = 0; i < n; i++) {
        struct lease *l = &a->v[i];
        const char *peer = kz_fed_outgoing(srv->fed, i);
        if (!peer)
            continue;
        l->all = a;
        l->peer = i;
        snprintf(names[i], sizeof(names[i]), "fed-out/%s", peer);
        what[i] = names[i];
        if (kz_cluster_lease(srv->cluster, what[i], a->ttl, on_lease, l, &l->lease) != KZ_OK)
            kz_log(KZ_LOG_ERROR, "federation: cannot contend for the link's lease; standing by",
                   "peer=%s", peer);
    }
    kz_cluster_lease_peek_start(srv->cluster, what, n, a->ttl, &a->peek);
    free(what);
    free(names);
}

static void tick_closed(uv_handle_t *h)
{
    free(h->data);
}

void kz__server_fed_leases_stop(struct kz_server *srv)
{
    struct kz_fed_leases *a = srv->fed_leases;

    if (!a)
        return;
    for (unsigned i = 0; i < a->n; i++)
        kz_cluster_lease_stop(a->v[i].lease, true); /* the next owner at once */
    kz_cluster_lease_peek_stop(a->peek);
    uv_close((uv_handle_t *)&a->tick, tick_closed);
    srv->fed_leases = NULL;
}
