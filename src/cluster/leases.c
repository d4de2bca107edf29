/* leases.c - leases on the cluster's own NATS connection (cluster.h, lease.h). */
#include <stdio.h>

#include "cluster/internal.h"
#include "cluster/lease.h"

/* One bucket per cluster, as for the latest state: PREFIX_leases, a '.' of the prefix as '_'. */
void kz__cluster_lease_bucket(const struct kz_cluster *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s_leases", c->prefix);
    for (char *p = buf; *p; p++)
        if (*p == '.')
            *p = '_';
}

int kz_cluster_lease(struct kz_cluster *c, const char *what, int64_t ttl_us,
                     void (*cb)(void *arg, const char *name, bool held), void *arg,
                     struct kz_lease **out)
{
    natsConnection *nc = c ? kz__cluster_conn_nats(c->conn) : NULL;
    char name[KZ_LEASE_NAME_MAX + 1], bucket[96];
    struct kz_lease_opts o = {.bucket = bucket, .ttl = ttl_us};

    *out = NULL;
    if (!nc)
        return KZ_ERR_AGAIN; /* no connection object (NATS refused the options) */
    kz__cluster_lease_bucket(c, bucket, sizeof(bucket));
    /* One cluster's leases apart from another's on the same NATS: its subject prefix. */
    if (snprintf(name, sizeof(name), "%s/%s", c->prefix, what) >= (int)sizeof(name))
        return KZ_ERR_INVAL;
    return kz_lease_start(out, c->o.loop, nc, name, c->node_id, &o, cb, arg);
}

void kz_cluster_lease_stop(struct kz_lease *l, bool release)
{
    kz_lease_stop(l, release);
}
