/*
 * leasepeek.c - who holds some leases, for an instance that does not: one thread reads each
 * lease's entry every so often (cluster.h, kz_cluster_lease_peek_start).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "cluster/lease.h"

#define HOLDER_MAX 128

struct peeked {
    char key[KZ_KV_KEY_SIZE];
    char holder[HOLDER_MAX]; /* "" while unknown or free */
};

struct kz_lease_peek {
    natsConnection *nc;
    int64_t every, ttl; /* µs */
    char bucket[96];
    uv_mutex_t mu; /* guards the holders and `stopping` */
    uv_cond_t cond;
    bool stopping;
    uv_thread_t thread;
    unsigned n;
    struct peeked v[];
};

static bool nap(struct kz_lease_peek *p, int64_t us)
{
    uv_mutex_lock(&p->mu);
    if (!p->stopping)
        uv_cond_timedwait(&p->cond, &p->mu, (uint64_t)us * 1000);
    bool stop = p->stopping;
    uv_mutex_unlock(&p->mu);
    return stop;
}

static void set(struct kz_lease_peek *p, unsigned i, const char *v, int len)
{
    uv_mutex_lock(&p->mu);
    snprintf(p->v[i].holder, sizeof(p->v[i].holder), "%.*s", len, v);
    uv_mutex_unlock(&p->mu);
}

/* One round: each entry's value, or "" when there is none.  False when NATS did not answer. */
static bool look(struct kz_lease_peek *p, struct kz_kv *kv)
{
    for (unsigned i = 0; i < p->n; i++) {
        if (!p->v[i].key[0])
            continue; /* nothing asked for */
        kvEntry *e = NULL;
        natsStatus s = kvStore_Get(&e, kv->kv, p->v[i].key);
        if (s == NATS_OK)
            set(p, i, kvEntry_ValueString(e), kvEntry_ValueLen(e));
        else if (s == NATS_NOT_FOUND)
            set(p, i, "", 0);
        kvEntry_Destroy(e);
        if (s != NATS_OK && s != NATS_NOT_FOUND)
            return false;
    }
    return true;
}

static void peek_main(void *arg)
{
    struct kz_lease_peek *p = arg;
    struct kz_kv kv = {0};

    pthread_setname_np(pthread_self(), "kz-lease-peek"); /* top -H, perf */
    while (!nap(p, p->every)) {
        if (!kv.kv && kz_kv_open(&kv, p->nc, p->bucket, p->ttl) != KZ_OK)
            continue;
        if (!look(p, &kv))
            kz_kv_close(&kv); /* bound again next round */
    }
    kz_kv_close(&kv);
}

int kz_cluster_lease_peek_start(struct kz_cluster *c, const char *const *what, unsigned n,
                                int64_t ttl_us, struct kz_lease_peek **out)
{
    natsConnection *nc = c ? kz__cluster_conn_nats(c->conn) : NULL;
    struct kz_lease_peek *p;
    char name[KZ_LEASE_NAME_MAX + 1];

    *out = NULL;
    if (!nc)
        return KZ_ERR_AGAIN;
    p = kz_xcalloc(1, sizeof(*p) + (n + 1) * sizeof(p->v[0]));
    p->nc = nc;
    kz__cluster_lease_bucket(c, p->bucket, sizeof(p->bucket));
    p->ttl = ttl_us;
    p->every = ttl_us / 3 > 250000 ? ttl_us / 3 : 250000;
    p->n = n;
    for (unsigned i = 0; i < n; i++) {
        if (!what[i])
            continue;
        int len = snprintf(name, sizeof(name), "%s/%s", c->prefix, what[i]);
        if (len >= (int)sizeof(name) || kz_kv_key(p->v[i].key, name, (size_t)len) != KZ_OK) {
            free(p);
            return KZ_ERR_INVAL;
        }
    }
    KZ_ASSERT(uv_mutex_init(&p->mu) == 0);
    KZ_ASSERT(uv_cond_init(&p->cond) == 0);
    KZ_ASSERT(uv_thread_create(&p->thread, peek_main, p) == 0);
    *out = p;
    return KZ_OK;
}

void kz_cluster_lease_peek(struct kz_lease_peek *p, unsigned i, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!p || i >= p->n)
        return;
    uv_mutex_lock(&p->mu);
    snprintf(buf, len, "%s", p->v[i].holder);
    uv_mutex_unlock(&p->mu);
}

void kz_cluster_lease_peek_stop(struct kz_lease_peek *p)
{
    if (!p)
        return;
    uv_mutex_lock(&p->mu);
    p->stopping = true;
    uv_cond_broadcast(&p->cond);
    uv_mutex_unlock(&p->mu);
    uv_thread_join(&p->thread);
    uv_cond_destroy(&p->cond);
    uv_mutex_destroy(&p->mu);
    free(p);
}
