/*
 * latest.c - the RAM mirror of the latest-state bucket (latest.h): the
 * watcher thread, the hand-over to the loop, and the loop side that applies
 * snapshots and live changes and answers the replay.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/latest_int.h"

/* How long the watcher blocks for the next change (it then looks at its flags). */
#define WATCH_POLL_MS 250
/* How long a thread waits before it tries NATS again. */
#define RETRY_MS 1000

/* ---- watcher thread ----------------------------------------------------- */

static void post(struct kz_latest *m, enum kz__item_kind kind, const char *key,
                 struct kz_latest_rec *rec)
{
    struct kz__item *it = kz_xcalloc(1, sizeof(*it));
    it->kind = kind;
    it->key = kz_xstrdup(key);
    if (rec) {
        it->rec = *rec;
        memset(rec, 0, sizeof(*rec));
    }
    uv_mutex_lock(&m->mu);
    if (m->tail)
        m->tail->next = it;
    else
        m->head = it;
    m->tail = it;
    uv_mutex_unlock(&m->mu);
    uv_async_send(&m->async);
}

static void post_change(struct kz_latest *m, const struct kz_kv_change *c)
{
    struct kz_latest_rec r;
    char want[KZ_KV_KEY_SIZE];

    if (c->op == KZ_KV_OP_SNAPSHOT) {
        post(m, KZ__SNAP_END, "", NULL);
        return;
    }
    if (c->op == KZ_KV_OP_DEL) {
        post(m, KZ__GONE, c->key, NULL);
        return;
    }
    if (kz_latest_rec_decode(&r, c->data, c->len) != KZ_OK ||
        kz_kv_key(want, r.uid, r.uid_len) != KZ_OK || strcmp(want, c->key) != 0) {
        kz_latest_rec_clear(&r);
        kz_log(KZ_LOG_WARN, "cluster: a latest-state entry does not decode; ignored",
               "bucket=%s key=%.64s", m->bucket, c->key);
        return;
    }
    r.revision = c->rev;
    post(m, KZ__PUT, c->key, &r);
}

/* Wait up to ms unless stopping; true when stopping. */
static bool nap(struct kz_latest *m, uint64_t ms)
{
    uv_mutex_lock(&m->mu);
    if (!m->stopping)
        uv_cond_timedwait(&m->cond, &m->mu, ms * 1000000);
    bool stop = m->stopping;
    uv_mutex_unlock(&m->mu);
    return stop;
}

/* Drop the current watch (if any) and start a new one; false on failure. */
static bool rewatch(struct kz_latest *m, struct kz_kv *kv, struct kz_kv_watch *w)
{
    uv_mutex_lock(&m->mu);
    m->resync = false;
    uv_mutex_unlock(&m->mu);
    kz_kv_watch_stop(w);
    if (!kv->kv && kz_kv_open(kv, m->nc, m->bucket, 0) != KZ_OK)
        return false;
    if (kz_kv_watch_start(w, kv, ">") != KZ_OK) {
        kz_kv_close(kv);
        return false;
    }
    post(m, KZ__SNAP_BEGIN, "", NULL);
    return true;
}

/* Whether a new watch is wanted; *stopping says whether the thread is to end. */
static bool wants_resync(struct kz_latest *m, bool *stopping)
{
    uv_mutex_lock(&m->mu);
    bool r = m->resync;
    *stopping = m->stopping;
    uv_mutex_unlock(&m->mu);
    return r;
}

static void watcher_main(void *arg)
{
    struct kz_latest *m = arg;
    struct kz_kv kv = {0};
    struct kz_kv_watch w = {0};
    bool stopping = false, warned = false;

    pthread_setname_np(pthread_self(), "kz-kv-watch"); /* top -H, perf */
    while (!stopping) {
        if ((wants_resync(m, &stopping) || !w.sub) && !stopping && !rewatch(m, &kv, &w)) {
            if (!warned)
                kz_log(KZ_LOG_WARN, "cluster: the latest-state bucket does not answer; retrying",
                       "bucket=%s", m->bucket);
            warned = true;
            stopping = nap(m, RETRY_MS);
            continue;
        }
        warned = false;
        if (stopping)
            break;
        struct kz_kv_change c;
        int rc = kz_kv_watch_next(&w, WATCH_POLL_MS, &c);
        if (rc == KZ_OK) {
            post_change(m, &c);
            kz_kv_change_clear(&c);
        } else if (rc != KZ_ERR_AGAIN) {
            kz_kv_watch_stop(&w); /* a new one, from a fresh snapshot */
            stopping = nap(m, WATCH_POLL_MS);
        }
    }
    kz_kv_watch_stop(&w);
    kz_kv_close(&kv);
}

/* ---- loop side ---------------------------------------------------------- */

static void report(struct kz_latest *m, enum kz_latest_change what, const struct kz_latest_rec *r)
{
    m->changes++;
    m->cb(m->arg, what, r);
}

/* Into t: the record of key, if newer than what t holds.  Returns the node when it changed. */
static struct kz__kvnode *merge(struct kz__kvtab *t, const char *key, struct kz_latest_rec *rec)
{
    struct kz__kvnode *n = kz__kvtab_find(t, key);

    if (!n) {
        n = kz__kvnode_new(key, rec);
        kz__kvtab_insert(t, n);
        return n;
    }
    if (kz_latest_cmp(rec, &n->rec) <= 0) {
        if (rec->revision > n->rec.revision && kz_latest_cmp(rec, &n->rec) == 0)
            n->rec.revision = rec->revision;
        kz_latest_rec_clear(rec);
        return NULL;
    }
    kz_latest_rec_clear(&n->rec);
    n->rec = *rec;
    memset(rec, 0, sizeof(*rec));
    return n;
}

/*
 * The snapshot is in: the mirror becomes it, except where the mirror holds
 * a newer record; report the differences.
 */
static void snapshot_done(struct kz_latest *m)
{
    struct kz__kvtab *fresh = m->fresh;
    struct kz__kvtab *cur = &m->mirror;

    m->fresh = NULL;
    for (size_t i = 0; i < cur->nb; i++) {
        for (struct kz__kvnode *n = cur->b[i], *next; n; n = next) {
            next = n->hnext;
            struct kz__kvnode *f = kz__kvtab_find(fresh, n->key);
            if (!f) {
                kz__kvtab_remove(cur, n->key);
                report(m, KZ_LATEST_GONE, &n->rec);
                kz__kvnode_free(n);
            } else if (kz_latest_cmp(&f->rec, &n->rec) <= 0) {
                kz__kvnode_free(kz__kvtab_remove(fresh, f->key)); /* ours is as new */
            }
        }
    }
    /* What is left in fresh is new or newer. */
    for (size_t i = 0; i < fresh->nb; i++) {
        for (struct kz__kvnode *f = fresh->b[i], *next; f; f = next) {
            next = f->hnext;
            struct kz__kvnode *n = merge(cur, f->key, &f->rec);
            if (n)
                report(m, KZ_LATEST_LOADED, &n->rec);
        }
    }
    kz__kvtab_release(fresh);
    free(fresh);
    m->snapshots++;
    kz_log(KZ_LOG_INFO, "cluster: latest state loaded", "bucket=%s entries=%zu snapshot=%llu",
           m->bucket, m->mirror.n, (unsigned long long)m->snapshots);
    __atomic_store_n(&m->synced, true, __ATOMIC_RELAXED);
}

static void apply(struct kz_latest *m, struct kz__item *it)
{
    switch (it->kind) {
    case KZ__SNAP_BEGIN:
        if (m->fresh)
            kz__kvtab_release(m->fresh);
        else
            m->fresh = kz_xcalloc(1, sizeof(*m->fresh));
        return;
    case KZ__SNAP_END:
        if (m->fresh)
            snapshot_done(m);
        return;
    case KZ__PUT:
        if (m->fresh) {
            merge(m->fresh, it->key, &it->rec);
        } else {
            struct kz__kvnode *n = merge(&m->mirror, it->key, &it->rec);
            if (n)
                report(m, KZ_LATEST_SET, &n->rec);
        }
        return;
    case KZ__GONE:
        if (m->fresh) {
            kz__kvnode_free(kz__kvtab_remove(m->fresh, it->key));
        } else {
            struct kz__kvnode *n = kz__kvtab_remove(&m->mirror, it->key);
            if (n)
                report(m, KZ_LATEST_GONE, &n->rec);
            kz__kvnode_free(n);
        }
        return;
    }
}

static void item_free(struct kz__item *it)
{
    kz_latest_rec_clear(&it->rec);
    free(it->key);
    free(it);
}

static void on_async(uv_async_t *a)
{
    struct kz_latest *m = a->data;

    uv_mutex_lock(&m->mu);
    struct kz__item *it = m->head;
    m->head = m->tail = NULL;
    uv_mutex_unlock(&m->mu);
    while (it) {
        struct kz__item *next = it->next;
        apply(m, it);
        item_free(it);
        it = next;
    }
}

/* Every sweep_interval: the entries due for a purge go to the writer (unless it has some still). */
static void on_sweep(uv_timer_t *t)
{
    struct kz_latest *m = t->data;
    struct kz__purge *list = NULL;
    int64_t now = kz_now_us();
    size_t n = 0;

    uv_mutex_lock(&m->mu);
    bool busy = m->purges != NULL;
    uv_mutex_unlock(&m->mu);
    if (busy)
        return;
    for (size_t i = 0; i < m->mirror.nb && n < KZ__SWEEP_MAX; i++) {
        for (struct kz__kvnode *e = m->mirror.b[i]; e && n < KZ__SWEEP_MAX; e = e->hnext) {
            if (!kz_latest_expired(&e->rec, now, m->o.stale_grace, m->o.tombstone_ttl))
                continue;
            struct kz__purge *p = kz_xcalloc(1, sizeof(*p));
            p->key = kz_xstrdup(e->key);
            p->rev = e->rec.revision;
            p->next = list;
            list = p;
            n++;
        }
    }
    if (!list)
        return;
    uv_mutex_lock(&m->mu);
    m->purges = list;
    uv_cond_broadcast(&m->cond);
    uv_mutex_unlock(&m->mu);
}

/* ---- API ---------------------------------------------------------------- */

static void set_defaults(struct kz_latest_opts *o)
{
    if (!o->max_pending)
        o->max_pending = 65536;
    if (!o->write_interval)
        o->write_interval = 5 * 1000000LL;
    if (!o->sweep_interval)
        o->sweep_interval = 60 * 1000000LL;
    if (!o->stale_grace)
        o->stale_grace = 60 * 1000000LL;
    if (!o->tombstone_ttl)
        o->tombstone_ttl = 3600 * 1000000LL;
}

int kz_latest_start(struct kz_latest **out, uv_loop_t *loop, natsConnection *nc,
                    const struct kz_latest_opts *opts, kz_latest_fn cb, void *arg)
{
    const char *bucket = opts && opts->bucket ? opts->bucket : KZ_LATEST_BUCKET;
    size_t bl = strlen(bucket);

    *out = NULL;
    if (!nc || !cb || bl == 0 || bl >= sizeof(((struct kz_latest *)0)->bucket) ||
        strspn(bucket, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != bl)
        return KZ_ERR_INVAL;
    struct kz_latest *m = kz_xcalloc(1, sizeof(*m));
    m->loop = loop;
    m->nc = nc;
    memcpy(m->bucket, bucket, bl + 1);
    if (opts)
        m->o = *opts;
    set_defaults(&m->o);
    m->o.bucket = m->bucket;
    m->cb = cb;
    m->arg = arg;
    KZ_ASSERT(uv_mutex_init(&m->mu) == 0);
    KZ_ASSERT(uv_cond_init(&m->cond) == 0);
    KZ_ASSERT(uv_async_init(loop, &m->async, on_async) == 0);
    m->async.data = m;
    KZ_ASSERT(uv_timer_init(loop, &m->sweep) == 0);
    m->sweep.data = m;
    m->handles = 2;
    if (m->o.sweep_interval > 0) {
        uint64_t ms = (uint64_t)(m->o.sweep_interval / 1000);
        uv_timer_start(&m->sweep, on_sweep, ms ? ms : 1, ms ? ms : 1);
    }
    KZ_ASSERT(uv_thread_create(&m->watcher, watcher_main, m) == 0);
    KZ_ASSERT(uv_thread_create(&m->writer, kz__latest_writer_main, m) == 0);
    m->threads = true;
    *out = m;
    return KZ_OK;
}

static void on_closed(uv_handle_t *h)
{
    struct kz_latest *m = h->data;

    if (--m->handles > 0)
        return;
    on_async(&m->async); /* nothing more comes: free what is queued */
    if (m->fresh) {
        kz__kvtab_release(m->fresh);
        free(m->fresh);
    }
    kz__kvtab_release(&m->mirror);
    kz__latest_writer_release(m);
    uv_cond_destroy(&m->cond);
    uv_mutex_destroy(&m->mu);
    free(m);
}

static void ignore_change(void *arg, enum kz_latest_change what, const struct kz_latest_rec *r)
{
    KZ_UNUSED(arg);
    KZ_UNUSED(what);
    KZ_UNUSED(r);
}

void kz_latest_stop(struct kz_latest *m)
{
    if (!m)
        return;
    uv_mutex_lock(&m->mu);
    m->stopping = true;
    uv_cond_broadcast(&m->cond);
    uv_mutex_unlock(&m->mu);
    if (m->threads) {
        uv_thread_join(&m->watcher);
        uv_thread_join(&m->writer);
        m->threads = false;
    }
    m->cb = ignore_change;
    uv_close((uv_handle_t *)&m->sweep, on_closed);
    uv_close((uv_handle_t *)&m->async, on_closed);
}

void kz_latest_resync(struct kz_latest *m)
{
    uv_mutex_lock(&m->mu);
    m->resync = true;
    uv_mutex_unlock(&m->mu);
    /* The loop is told so once the snapshot is in; until then kz_latest_synced() is false. */
    __atomic_store_n(&m->synced, false, __ATOMIC_RELAXED);
}

int kz_latest_write(struct kz_latest *m, const struct kz_latest_rec *r)
{
    return kz__latest_queue_write(m, r);
}

const struct kz_latest_rec *kz_latest_find(struct kz_latest *m, const char *uid, size_t len)
{
    char key[KZ_KV_KEY_SIZE];

    if (kz_kv_key(key, uid, len) != KZ_OK)
        return NULL;
    struct kz__kvnode *n = kz__kvtab_find(&m->mirror, key);
    return n && n->rec.uid_len == len && memcmp(n->rec.uid, uid, len) == 0 ? &n->rec : NULL;
}

static int by_time(const void *a, const void *b)
{
    const struct kz_latest_rec *x = *(const struct kz_latest_rec *const *)a;
    const struct kz_latest_rec *y = *(const struct kz_latest_rec *const *)b;
    return x->time < y->time ? -1 : x->time > y->time;
}

size_t kz_latest_foreach(struct kz_latest *m, int64_t now,
                         void (*fn)(void *arg, const struct kz_latest_rec *rec), void *arg)
{
    const struct kz_latest_rec **v = kz_xmalloc((m->mirror.n ? m->mirror.n : 1) * sizeof(*v));
    size_t k = 0;

    for (size_t i = 0; i < m->mirror.nb; i++)
        for (struct kz__kvnode *n = m->mirror.b[i]; n; n = n->hnext)
            if (!n->rec.deleted && n->rec.stale >= now)
                v[k++] = &n->rec;
    qsort(v, k, sizeof(*v), by_time);
    for (size_t i = 0; i < k; i++)
        fn(arg, v[i]);
    free(v);
    return k;
}

bool kz_latest_synced(const struct kz_latest *m)
{
    return __atomic_load_n(&m->synced, __ATOMIC_RELAXED);
}

void kz_latest_stats(struct kz_latest *m, struct kz_latest_stats *st)
{
    uv_mutex_lock(&m->mu);
    *st = m->st;
    st->pending = m->pending.n;
    uv_mutex_unlock(&m->mu);
    st->snapshots = m->snapshots;
    st->changes = m->changes;
    st->entries = m->mirror.n;
}
