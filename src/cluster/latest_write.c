/*
 * latest_write.c - the writer thread of the latest-state mirror (latest.h):
 * records queued on the loop thread go to the bucket last-writer-wins, one
 * pending record per uid, in rounds at most every write_interval (a uid that
 * reports every second is written once a round; a tombstone starts a round
 * at once); and the purges the loop's sweep
 * of the mirror judged due (one conditional purge each: no scan of the bucket).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/latest_int.h"

/* How long the writer waits before it tries NATS again. */
#define RETRY_MS 1000

static void unlink_q(struct kz_latest *m, struct kz__kvnode *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        m->qhead = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        m->qtail = n->prev;
    n->prev = n->next = NULL;
}

static void append_q(struct kz_latest *m, struct kz__kvnode *n)
{
    n->prev = m->qtail;
    n->next = NULL;
    if (m->qtail)
        m->qtail->next = n;
    else
        m->qhead = n;
    m->qtail = n;
}

/* Under m->mu: queue rec (taken over) unless a newer one of its uid waits. */
static void enqueue(struct kz_latest *m, const char *key, struct kz_latest_rec *rec)
{
    struct kz__kvnode *n = kz__kvtab_find(&m->pending, key);

    if (n) {
        if (kz_latest_cmp(rec, &n->rec) > 0) {
            kz_latest_rec_clear(&n->rec);
            n->rec = *rec;
            memset(rec, 0, sizeof(*rec));
        } else {
            kz_latest_rec_clear(rec);
        }
        return;
    }
    if (m->pending.n >= m->o.max_pending) {
        struct kz__kvnode *old = m->qhead;
        unlink_q(m, old);
        kz__kvnode_free(kz__kvtab_remove(&m->pending, old->key));
        m->st.dropped++;
    }
    n = kz__kvnode_new(key, rec);
    kz__kvtab_insert(&m->pending, n);
    append_q(m, n);
    if (n->rec.deleted)
        m->urgent++; /* a delete is not held back */
}

int kz__latest_queue_write(struct kz_latest *m, const struct kz_latest_rec *r)
{
    char key[KZ_KV_KEY_SIZE];
    struct kz_latest_rec copy;

    if (!r->uid || r->uid_len != strlen(r->uid) || kz_kv_key(key, r->uid, r->uid_len) != KZ_OK)
        return KZ_ERR_INVAL;
    kz_latest_rec_copy(&copy, r);
    copy.revision = 0;
    uv_mutex_lock(&m->mu);
    enqueue(m, key, &copy);
    uv_cond_signal(&m->cond);
    uv_mutex_unlock(&m->mu);
    return KZ_OK;
}

/* A failure logged once, and the recovery after it. */
static void log_state(struct kz_latest *m, bool ok, bool *failing)
{
    if (ok && *failing)
        kz_log(KZ_LOG_INFO, "cluster: latest-state writes resumed", "bucket=%s", m->bucket);
    else if (!ok && !*failing)
        kz_log(KZ_LOG_WARN, "cluster: latest-state writes wait for NATS", "bucket=%s", m->bucket);
    *failing = !ok;
}

/* The writer's hint for key (empty when it knows nothing). */
static struct kz_kv_hint hint_of(struct kz__kvtab *hints, const char *key)
{
    struct kz__kvnode *h = kz__kvtab_find(hints, key);
    struct kz_kv_hint hint = {0};

    if (h)
        hint = (struct kz_kv_hint){.known = true,
                                   .rev = h->rec.revision,
                                   .time = h->rec.time,
                                   .start = h->rec.start,
                                   .deleted = h->rec.deleted};
    return hint;
}

/* Remember (or forget) what a write learnt of key's entry; at most max_pending keys. */
static void hint_keep(struct kz_latest *m, struct kz__kvtab *hints, const char *key,
                      const struct kz_kv_hint *hint)
{
    struct kz__kvnode *h = kz__kvtab_find(hints, key);

    if (!hint->known) {
        kz__kvnode_free(kz__kvtab_remove(hints, key));
        return;
    }
    if (!h) {
        struct kz_latest_rec none = {0};
        if (hints->n >= m->o.max_pending)
            kz__kvtab_release(hints); /* forgetting only costs a read each */
        h = kz__kvnode_new(key, &none);
        kz__kvtab_insert(hints, h);
    }
    h->rec.revision = hint->rev;
    h->rec.time = hint->time;
    h->rec.start = hint->start;
    h->rec.deleted = hint->deleted;
}

/* Write one record; on a NATS failure it goes back to the queue (unless a newer one came). */
static bool write_one(struct kz_latest *m, struct kz_kv *kv, struct kz__kvtab *hints, char *key,
                      struct kz_latest_rec *rec, bool *failing)
{
    enum kz_kv_put outcome = KZ_KV_OLDER;
    struct kz_kv_hint hint = hint_of(hints, key);
    int rc = kz_kv_latest_put_hinted(kv, rec, &hint, &outcome, NULL);

    hint_keep(m, hints, key, &hint);
    log_state(m, rc != KZ_ERR_AGAIN, failing);
    uv_mutex_lock(&m->mu);
    if (rc == KZ_OK && outcome == KZ_KV_WRITTEN)
        m->st.written++;
    else if (rc == KZ_OK)
        m->st.older++;
    else if (rc == KZ_ERR_AGAIN)
        m->st.failed++;
    else
        m->st.dropped++;
    if (rc == KZ_ERR_AGAIN)
        enqueue(m, key, rec);
    uv_mutex_unlock(&m->mu);
    kz_latest_rec_clear(rec);
    free(key);
    return rc != KZ_ERR_AGAIN;
}

/* The purges the loop's sweep judged due; each is conditional on the revision judged. */
static void purge(struct kz_latest *m, struct kz_kv *kv, struct kz__purge *p)
{
    uint64_t n = 0;

    while (p) {
        struct kz__purge *next = p->next;
        if (kz_kv_remove_at(kv, p->key, p->rev, true) == KZ_OK)
            n++;
        free(p->key);
        free(p);
        p = next;
    }
    if (n)
        kz_log(KZ_LOG_INFO, "cluster: latest state swept", "bucket=%s purged=%llu", m->bucket,
               (unsigned long long)n);
    uv_mutex_lock(&m->mu);
    m->st.purged += n;
    uv_mutex_unlock(&m->mu);
}

/*
 * Under m->mu: wait for a round of writes (due, or sooner for a tombstone) or purges.  False
 * when stopping.
 */
static bool wait_round(struct kz_latest *m, int64_t due)
{
    for (;;) {
        if (m->stopping)
            return false;
        if (m->purges || (m->qhead && (m->urgent || kz_mono_us() >= due)))
            return true;
        int64_t left = m->qhead ? due - kz_mono_us() : 1000000;
        if (left > 0)
            uv_cond_timedwait(&m->cond, &m->mu, (uint64_t)left * 1000);
    }
}

/* Under m->mu: the whole queue, oldest first; what comes now is for the next round. */
static struct kz__kvnode *take_round(struct kz_latest *m)
{
    struct kz__kvnode *head = m->qhead;

    for (struct kz__kvnode *n = head; n; n = n->next)
        kz__kvtab_remove(&m->pending, n->key);
    m->qhead = m->qtail = NULL;
    m->urgent = 0;
    return head;
}

/* Write a round; on a NATS failure what is left goes back to the queue.  False then. */
static bool write_round(struct kz_latest *m, struct kz_kv *kv, struct kz__kvtab *hints,
                        struct kz__kvnode *n, bool *failing)
{
    bool ok = true;

    while (n) {
        struct kz__kvnode *next = n->next;
        if (ok) {
            ok = write_one(m, kv, hints, n->key, &n->rec, failing);
        } else {
            uv_mutex_lock(&m->mu);
            enqueue(m, n->key, &n->rec);
            uv_mutex_unlock(&m->mu);
            kz_latest_rec_clear(&n->rec);
            free(n->key);
        }
        free(n);
        n = next;
    }
    return ok;
}

static bool nap(struct kz_latest *m, uint64_t ms)
{
    uv_mutex_lock(&m->mu);
    if (!m->stopping)
        uv_cond_timedwait(&m->cond, &m->mu, ms * 1000000);
    bool stop = m->stopping;
    uv_mutex_unlock(&m->mu);
    return stop;
}

void kz__latest_writer_main(void *arg)
{
    struct kz_latest *m = arg;
    struct kz_kv kv = {0};
    struct kz__kvtab hints = {0}; /* what this thread last knew of each key it wrote */
    bool failing = false;

    pthread_setname_np(pthread_self(), "kz-kv-write"); /* top -H, perf */
    int64_t due = kz_mono_us();

    for (;;) {
        uv_mutex_lock(&m->mu);
        bool go = wait_round(m, due);
        uv_mutex_unlock(&m->mu);
        if (!go)
            break;
        if (!kv.kv && kz_kv_open(&kv, m->nc, m->bucket, 0) != KZ_OK) {
            log_state(m, false, &failing);
            if (nap(m, RETRY_MS))
                break;
            continue;
        }
        uv_mutex_lock(&m->mu);
        struct kz__purge *p = m->purges;
        m->purges = NULL;
        bool round = m->qhead && (m->urgent || kz_mono_us() >= due);
        struct kz__kvnode *batch = round ? take_round(m) : NULL;
        uv_mutex_unlock(&m->mu);
        purge(m, &kv, p);
        if (round)
            due = kz_mono_us() + (m->o.write_interval > 0 ? m->o.write_interval : 0);
        if (batch && !write_round(m, &kv, &hints, batch, &failing)) {
            kz_kv_close(&kv); /* bound again next time: NATS may have come back without it */
            if (nap(m, RETRY_MS))
                break;
        }
    }
    kz__kvtab_release(&hints);
    kz_kv_close(&kv);
}

void kz__latest_writer_release(struct kz_latest *m)
{
    m->qhead = m->qtail = NULL;
    kz__kvtab_release(&m->pending);
    for (struct kz__purge *p = m->purges, *next; p; p = next) {
        next = p->next;
        free(p->key);
        free(p);
    }
    m->purges = NULL;
}
