/*
 * fedlease.c - in a cluster, exactly one instance dials each outgoing federation link: the one
 * holding the link's lease (cluster.h, lease.h; docs/cluster.md "Federation in a cluster").
 * The others keep the link configured and idle (`standby`).  A holder cut off from NATS (an
 * island) loses the lease before the bucket can expire it, so its link stops before another
 * instance can take it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "server/server.h"

struct kz_fed_lease {
    struct kz_server *srv;
    unsigned peer;
    struct kz_lease *lease;
};

static void on_lease(void *arg, const char *name, bool held)
{
    struct kz_fed_lease *fl = arg;

    if (held)
        kz_log(KZ_LOG_INFO, "federation: link lease held; this instance dials the link",
               "peer=%s lease=%s", kz_fed_outgoing(fl->srv->fed, fl->peer), name);
    else
        kz_log(KZ_LOG_WARN,
               "federation: link lease lost (not renewed in time: NATS unreachable, or taken); "
               "the link stops here",
               "peer=%s lease=%s", kz_fed_outgoing(fl->srv->fed, fl->peer), name);
    kz_fed_own(fl->srv->fed, fl->peer, held);
}

void kz__server_fed_leases_start(struct kz_server *srv)
{
    unsigned n = kz_fed_peers(srv->fed);
    int64_t ttl = (int64_t)srv->cfg->cluster->lease_ttl_s * 1000000;

    srv->fed_leases = kz_xcalloc(n + 1, sizeof(*srv->fed_leases));
    srv->n_fed_leases = n;
    for (unsigned i = 0; i < n; i++) {
        struct kz_fed_lease *fl = &srv->fed_leases[i];
        const char *peer = kz_fed_outgoing(srv->fed, i);
        char what[128];
        if (!peer)
            continue;
        fl->srv = srv;
        fl->peer = i;
        snprintf(what, sizeof(what), "fed-out/%s", peer);
        if (kz_cluster_lease(srv->cluster, what, ttl, on_lease, fl, &fl->lease) != KZ_OK)
            kz_log(KZ_LOG_ERROR, "federation: cannot contend for the link's lease; standing by",
                   "peer=%s", peer);
    }
}

void kz__server_fed_leases_stop(struct kz_server *srv)
{
    for (unsigned i = 0; i < srv->n_fed_leases; i++)
        kz_cluster_lease_stop(srv->fed_leases[i].lease, true); /* the next owner at once */
    free(srv->fed_leases);
    srv->fed_leases = NULL;
    srv->n_fed_leases = 0;
}
