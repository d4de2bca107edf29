/*
 * thread.c - the store thread.  It sleeps until there is something to do,
 * then in this order: answers queries, runs retention when due, and commits
 * a batch once the oldest queued write is max_delay old (or the batch is
 * full, a caller blocks on one of its writes, or the store is closing).
 * Queries come first so a REST reader never waits out a batch window;
 * retention before the batch so a steady stream of full batches cannot
 * starve it.
 */
#include <stdlib.h>

#include "store/internal.h"

#define SLOW_BATCH_US (1000 * 1000)

int64_t kz__store_retention_every_us = 5 * 1000 * 1000;

static bool retention_due(const struct kz_store *st, int64_t now)
{
    if (!st->retention_us && !st->retention_bytes)
        return false;
    return st->retention_more || now - st->retention_last >= kz__store_retention_every_us;
}

static bool batch_due(const struct kz_store *st, int64_t now)
{
    if (!st->writes.head)
        return false;
    return st->stopping || st->urgent || st->writes.n >= KZ_STORE_MAX_BATCH ||
           now >= st->writes.head->queued_us + st->max_delay_us;
}

/*
 * Hand finished jobs to whoever waits: a blocked kz__store_run_sync caller,
 * the loop, or nobody (then they are freed here).  Called without st->mu.
 */
static void complete(struct kz_store *st, struct kz__job *list, bool was_batch, int err)
{
    struct kz__job *next, *unwanted = NULL;
    bool wake = false;

    uv_mutex_lock(&st->mu);
    if (was_batch) {
        st->inflight_since = 0;
        st->stats.batches++;
        st->stats.errors += err != KZ_OK;
        if (st->drain_armed && st->writes.n <= st->max_pending / 4) {
            st->drain_armed = false;
            st->drain_due = wake = true; /* kz_store_backlogged() readers may go on */
        }
    }
    for (; list; list = next) {
        next = list->next; /* a posted job is the waiter's at once */
        if (was_batch && list->ops->counted && list->status == KZ_OK)
            st->stats.committed++;
        if (list->wait) {
            uv_sem_post(list->wait);
        } else if (list->notify) {
            kz__jobq_push(&st->done, list);
            wake = true;
        } else {
            list->next = unwanted;
            unwanted = list;
        }
    }
    uv_mutex_unlock(&st->mu);
    if (wake)
        uv_async_send(&st->async);
    for (; unwanted; unwanted = next) {
        next = unwanted->next;
        kz__job_free(unwanted);
    }
}

static void run_batch(struct kz_store *st, struct kz__job *list)
{
    int64_t bytes, t0 = kz_mono_us(), took;
    size_t n = 0;
    int err;

    uv_mutex_lock(&st->db_mu);
    err = kz__db_write(&st->db, list);
    bytes = kz__db_file_bytes(&st->db);
    uv_mutex_unlock(&st->db_mu);
    took = kz_mono_us() - t0;
    for (struct kz__job *j = list; j; j = j->next)
        n++;
    /* A slow disk shows here first, long before the queue grows. */
    kz_log(took > SLOW_BATCH_US ? KZ_LOG_WARN : KZ_LOG_DEBUG, "store: batch written",
           "records=%zu us=%lld status=%s", n, (long long)took, kz_strerror(err));
    uv_mutex_lock(&st->mu);
    if (bytes >= 0)
        st->stats.db_bytes = bytes;
    uv_mutex_unlock(&st->mu);
    complete(st, list, true, err);
}

static void run_queries(struct kz_store *st, struct kz__job *list)
{
    uv_mutex_lock(&st->db_mu);
    for (struct kz__job *j = list; j; j = j->next) {
        if (st->db.pg)
            kz__pg_read(&st->db, j);
        else
            j->ops->read(&st->db, j);
    }
    uv_mutex_unlock(&st->db_mu);
    complete(st, list, false, KZ_OK);
}

static void run_retention(struct kz_store *st)
{
    bool more = false;

    uv_mutex_lock(&st->db_mu);
    kz__db_retention(&st->db, st->retention_us, st->retention_bytes, &more);
    uv_mutex_unlock(&st->db_mu);
    st->retention_more = more;
    st->retention_last = kz_mono_us();
}

static void sleep_until_due(struct kz_store *st, int64_t now)
{
    int64_t deadline = INT64_MAX;

    if (st->writes.head)
        deadline = st->writes.head->queued_us + st->max_delay_us;
    if ((st->retention_us || st->retention_bytes) &&
        st->retention_last + kz__store_retention_every_us < deadline)
        deadline = st->retention_last + kz__store_retention_every_us;
    if (deadline == INT64_MAX)
        uv_cond_wait(&st->cond, &st->mu);
    else if (deadline > now)
        uv_cond_timedwait(&st->cond, &st->mu, (uint64_t)(deadline - now) * 1000);
}

void kz__store_main(void *arg)
{
    struct kz_store *st = arg;
    struct kz__job *list;

    /* Trim first, so what was loaded and queried after a restart is in bounds. */
    if (retention_due(st, kz_mono_us()))
        run_retention(st);
    uv_mutex_lock(&st->mu);
    for (;;) {
        int64_t now = kz_mono_us();
        if (st->queries.head) {
            list = kz__jobq_take(&st->queries, SIZE_MAX);
            uv_mutex_unlock(&st->mu);
            run_queries(st, list);
        } else if (!st->stopping && retention_due(st, now)) {
            uv_mutex_unlock(&st->mu);
            run_retention(st);
        } else if (batch_due(st, now)) {
            list = kz__jobq_take(&st->writes, KZ_STORE_MAX_BATCH);
            st->inflight_since = list->queued_us;
            for (struct kz__job *j = list; j; j = j->next)
                if (j->wait)
                    st->urgent--;
            uv_mutex_unlock(&st->mu);
            run_batch(st, list);
        } else if (st->stopping) {
            break;
        } else {
            sleep_until_due(st, now);
            continue;
        }
        uv_mutex_lock(&st->mu);
    }
    uv_mutex_unlock(&st->mu);
}
