/* lease.c - one lease in a KV bucket with a ttl, held by one instance at a time (lease.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/lease.h"

struct change {
    bool held;
    struct change *next;
};

struct kz_lease {
    natsConnection *nc;
    char bucket[96];
    char name[KZ_LEASE_NAME_MAX + 1];
    char holder[KZ_LEASE_NAME_MAX + 1];
    char key[KZ_KV_KEY_SIZE];
    int64_t ttl; /* µs */
    kz_lease_fn cb;
    void *arg;

    uv_mutex_t mu; /* guards down to `loop side` */
    uv_cond_t cond;
    bool stopping, release;
    struct change *head, *tail;
    uv_thread_t thread;

    /* loop side */
    uv_async_t async;
    bool held;
};

/* The thread's state. */
struct holding {
    struct kz_kv kv;
    struct kz_kv_watch w; /* of the key, while it contends */
    bool held;
    uint64_t rev;     /* the revision held */
    int64_t valid_to; /* mono µs until which the lease counts as held */
};

static void post(struct kz_lease *l, bool held)
{
    struct change *c = kz_xcalloc(1, sizeof(*c));
    c->held = held;
    uv_mutex_lock(&l->mu);
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    uv_mutex_unlock(&l->mu);
    uv_async_send(&l->async);
}

/* Wait up to us unless stopping; true when stopping. */
static bool nap(struct kz_lease *l, int64_t us)
{
    uv_mutex_lock(&l->mu);
    if (!l->stopping && us > 0)
        uv_cond_timedwait(&l->cond, &l->mu, (uint64_t)us * 1000);
    bool stop = l->stopping;
    uv_mutex_unlock(&l->mu);
    return stop;
}

static void watch(struct kz_lease *l, struct holding *h)
{
    if (!h->w.sub)
        kz_kv_watch_start(&h->w, &h->kv, l->key);
}

/* How long a contender waits for a release before it tries again. */
static int64_t retry_us(const struct kz_lease *l)
{
    return l->ttl / 4 < 1000000 ? l->ttl / 4 : 1000000;
}

/* Not held: try to create the key; else wait for a release (or the retry time). */
static void contend(struct kz_lease *l, struct holding *h)
{
    int64_t sent = kz_mono_us();
    uint64_t rev = 0;

    if (kvStore_Create(&rev, h->kv.kv, l->key, l->holder, (int)strlen(l->holder)) == NATS_OK) {
        kz_kv_watch_stop(&h->w); /* its renewals are of no interest */
        h->held = true;
        h->rev = rev;
        h->valid_to = sent + l->ttl * 3 / 4;
        kz_log(KZ_LOG_INFO, "cluster: lease acquired", "lease=%s holder=%s", l->name, l->holder);
        post(l, true);
        return;
    }
    watch(l, h);
    if (!h->w.sub) {
        nap(l, retry_us(l));
        return;
    }
    /* A release (a delete or purge of the key) ends the wait at once. */
    int64_t until = kz_mono_us() + retry_us(l);
    for (int64_t left = retry_us(l); left > 0 && !nap(l, 0); left = until - kz_mono_us()) {
        struct kz_kv_change c;
        int64_t slice = left / 1000 < 250 ? left / 1000 : 250; /* looks at stopping as often */
        int rc = kz_kv_watch_next(&h->w, slice > 0 ? slice : 1, &c);
        if (rc == KZ_ERR_IO)
            kz_kv_watch_stop(&h->w);
        if (rc != KZ_OK && rc != KZ_ERR_AGAIN)
            return;
        bool released = rc == KZ_OK && c.op == KZ_KV_OP_DEL;
        kz_kv_change_clear(&c);
        if (released)
            return;
    }
}

static void lose(struct kz_lease *l, struct holding *h, const char *why)
{
    h->held = false;
    h->rev = 0;
    kz_log(KZ_LOG_WARN, "cluster: lease lost", "lease=%s holder=%s reason=%s", l->name, l->holder,
           why);
    post(l, false);
}

/* Held: renew every ttl/3; give it up when it could not renew in time. */
static void renew(struct kz_lease *l, struct holding *h)
{
    if (nap(l, l->ttl / 3))
        return;
    int64_t sent = kz_mono_us();
    if (sent >= h->valid_to) {
        lose(l, h, "not renewed in time");
        return;
    }
    uint64_t rev = 0;
    natsStatus s =
        kvStore_Update(&rev, h->kv.kv, l->key, l->holder, (int)strlen(l->holder), h->rev);
    if (s == NATS_OK) {
        h->rev = rev;
        h->valid_to = sent + l->ttl * 3 / 4;
        return;
    }
    /* Refused (someone else wrote the key, or it expired) or unanswered: look. */
    kvEntry *e = NULL;
    s = kvStore_Get(&e, h->kv.kv, l->key);
    if (s == NATS_NOT_FOUND || (s == NATS_OK && kvEntry_Revision(e) != h->rev))
        lose(l, h, "taken or expired");
    else if (kz_mono_us() >= h->valid_to)
        lose(l, h, "not renewed in time");
    kvEntry_Destroy(e);
}

static void lease_main(void *arg)
{
    struct kz_lease *l = arg;
    struct holding h = {0};
    bool warned = false;

    pthread_setname_np(pthread_self(), "kz-lease"); /* top -H, perf */
    while (!nap(l, 0)) {
        if (!h.kv.kv && kz_kv_open(&h.kv, l->nc, l->bucket, l->ttl) != KZ_OK) {
            if (!warned)
                kz_log(KZ_LOG_WARN, "cluster: the lease bucket does not answer; retrying",
                       "lease=%s bucket=%s", l->name, l->bucket);
            warned = true;
            nap(l, 1000000);
            continue;
        }
        warned = false;
        if (h.held)
            renew(l, &h);
        else
            contend(l, &h);
    }
    kz_kv_watch_stop(&h.w);
    uv_mutex_lock(&l->mu);
    bool release = l->release;
    uv_mutex_unlock(&l->mu);
    if (h.held && release && kz_kv_remove_at(&h.kv, l->key, h.rev, false) == KZ_OK)
        kz_log(KZ_LOG_INFO, "cluster: lease released", "lease=%s holder=%s", l->name, l->holder);
    kz_kv_close(&h.kv);
}

/* ---- loop side ---------------------------------------------------------- */

static void on_async(uv_async_t *a)
{
    struct kz_lease *l = a->data;

    uv_mutex_lock(&l->mu);
    struct change *c = l->head;
    l->head = l->tail = NULL;
    bool stopping = l->stopping;
    uv_mutex_unlock(&l->mu);
    while (c) {
        struct change *next = c->next;
        if (!stopping && c->held != l->held) {
            l->held = c->held;
            l->cb(l->arg, l->name, c->held);
        }
        free(c);
        c = next;
    }
}

static bool name_ok(const char *s)
{
    return s && *s && strlen(s) <= KZ_LEASE_NAME_MAX;
}

int kz_lease_start(struct kz_lease **out, uv_loop_t *loop, natsConnection *nc, const char *name,
                   const char *holder, const struct kz_lease_opts *opts, kz_lease_fn cb, void *arg)
{
    const char *bucket = opts && opts->bucket ? opts->bucket : KZ_LEASE_BUCKET;
    int64_t ttl = opts && opts->ttl ? opts->ttl : 10 * 1000000LL;
    size_t bl = strlen(bucket);

    *out = NULL;
    if (!nc || !cb || !name_ok(name) || !name_ok(holder) || ttl < 1000000 || bl == 0 ||
        bl >= sizeof(((struct kz_lease *)0)->bucket) ||
        strspn(bucket, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != bl)
        return KZ_ERR_INVAL;
    struct kz_lease *l = kz_xcalloc(1, sizeof(*l));
    l->nc = nc;
    memcpy(l->bucket, bucket, bl + 1);
    snprintf(l->name, sizeof(l->name), "%s", name);
    snprintf(l->holder, sizeof(l->holder), "%s", holder);
    KZ_ASSERT(kz_kv_key(l->key, name, strlen(name)) == KZ_OK);
    l->ttl = ttl;
    l->cb = cb;
    l->arg = arg;
    KZ_ASSERT(uv_mutex_init(&l->mu) == 0);
    KZ_ASSERT(uv_cond_init(&l->cond) == 0);
    KZ_ASSERT(uv_async_init(loop, &l->async, on_async) == 0);
    l->async.data = l;
    KZ_ASSERT(uv_thread_create(&l->thread, lease_main, l) == 0);
    *out = l;
    return KZ_OK;
}

static void on_closed(uv_handle_t *hd)
{
    struct kz_lease *l = hd->data;

    on_async(&l->async); /* frees what is queued; reports nothing (stopping) */
    uv_cond_destroy(&l->cond);
    uv_mutex_destroy(&l->mu);
    free(l);
}

void kz_lease_stop(struct kz_lease *l, bool release)
{
    if (!l)
        return;
    uv_mutex_lock(&l->mu);
    l->stopping = true;
    l->release = release;
    uv_cond_broadcast(&l->cond);
    uv_mutex_unlock(&l->mu);
    uv_thread_join(&l->thread);
    uv_close((uv_handle_t *)&l->async, on_closed);
}

bool kz_lease_held(const struct kz_lease *l)
{
    return l->held;
}
