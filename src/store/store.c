/*
 * store.c - the loop-thread side of the store: open and close, queueing
 * work, and delivering completions through the async handle.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define DEFAULT_DELAY_MS 50
#define QUERY_MAX_LIMIT 10000

static void deliver(struct kz__job *job)
{
    if (job->kind == KZ__JOB_QUERY) {
        const struct kz__query *q = &job->u.query;
        job->done(job->ud, job->status, job->status == KZ_OK ? q->rows : NULL,
                  job->status == KZ_OK ? q->n_rows : 0);
    } else if (job->ack) {
        job->ack(job->ud, job->status);
    }
    kz__job_free(job);
}

/* Loop thread: run every finished job's callback.  Returns how many. */
static size_t deliver_done(struct kz_store *st)
{
    struct kz__job *list, *next;
    size_t n = 0;

    uv_mutex_lock(&st->mu);
    list = kz__jobq_take(&st->done, SIZE_MAX);
    uv_mutex_unlock(&st->mu);
    for (; list; list = next, n++) {
        next = list->next;
        deliver(list);
    }
    return n;
}

static void on_async(uv_async_t *h)
{
    deliver_done(h->data);
}

/*
 * Callbacks always run from the loop, never from inside the call that
 * queued them, so a caller may hold locks or half-built state around it.
 */
static void finish_early(struct kz_store *st, struct kz__job *job, int status)
{
    job->status = status;
    uv_mutex_lock(&st->mu);
    kz__jobq_push(&st->done, job);
    uv_mutex_unlock(&st->mu);
    uv_async_send(&st->async);
}

static void submit(struct kz_store *st, struct kz__jobq *q, struct kz__job *job)
{
    bool wake;

    uv_mutex_lock(&st->mu);
    if (st->stopping) {
        /* Only reachable from a callback run by kz_store_close itself. */
        job->status = KZ_ERR_CLOSED;
        kz__jobq_push(&st->done, job);
        uv_mutex_unlock(&st->mu);
        return;
    }
    kz__jobq_push(q, job);
    if (job->kind == KZ__JOB_APPEND)
        st->stats.appended++;
    /*
     * The store thread sleeps until the oldest write is max_delay old, so
     * it needs waking only when that clock starts or the batch is full.
     */
    wake = q != &st->writes || q->n == 1 || q->n >= KZ_STORE_MAX_BATCH;
    if (wake)
        uv_cond_signal(&st->cond);
    uv_mutex_unlock(&st->mu);
}

bool kz_store_busy(struct kz_store *st)
{
    uv_mutex_lock(&st->mu);
    bool busy = st->writes.n >= KZ_STORE_MAX_PENDING;
    uv_mutex_unlock(&st->mu);
    return busy;
}

void kz_store_append(struct kz_store *st, const struct kz_event *ev, const char *xml,
                     size_t xml_len, kz_store_ack_cb cb, void *ud)
{
    struct kz__job *job = kz__job_append(ev, xml, xml_len);

    job->ack = cb;
    job->ud = ud;
    if (!ev->uid || !ev->type || !xml) {
        finish_early(st, job, KZ_ERR_INVAL);
        return;
    }
    submit(st, &st->writes, job);
}

void kz_store_readiness_append(struct kz_store *st, const struct kz_store_readiness *r,
                               kz_store_ack_cb cb, void *ud)
{
    struct kz__job *job = kz__job_readiness(r);

    job->ack = cb;
    job->ud = ud;
    if (!r->unit || !r->label || !r->originator) {
        finish_early(st, job, KZ_ERR_INVAL);
        return;
    }
    submit(st, &st->writes, job);
}

int kz_store_readiness_load(struct kz_store *st, kz_store_readiness_fn fn, void *ud)
{
    int err;

    uv_mutex_lock(&st->db_mu);
    err = kz__db_load_readiness(&st->db, fn, ud);
    uv_mutex_unlock(&st->db_mu);
    return err;
}

void kz_store_delete_track(struct kz_store *st, const char *uid)
{
    if (uid)
        submit(st, &st->writes, kz__job_delete(uid));
}

void kz_store_query(struct kz_store *st, const struct kz_store_query *q, kz_store_query_cb done,
                    void *ud)
{
    struct kz__job *job = kz__job_query(q);

    job->done = done;
    job->ud = ud;
    if (q->limit < 1 || q->limit > QUERY_MAX_LIMIT) {
        finish_early(st, job, KZ_ERR_INVAL);
        return;
    }
    submit(st, &st->queries, job);
}

void kz_store_stats(struct kz_store *st, struct kz_store_stats *out)
{
    int64_t oldest;

    uv_mutex_lock(&st->mu);
    *out = st->stats;
    oldest = st->inflight_since;
    if (!oldest && st->writes.head)
        oldest = st->writes.head->queued_us;
    uv_mutex_unlock(&st->mu);
    out->lag_us = oldest ? kz_mono_us() - oldest : 0;
}

int kz_store_load(struct kz_store *st, int64_t now_us, kz_store_track_fn fn, void *ud,
                  uint64_t *max_seq)
{
    int err;

    uv_mutex_lock(&st->db_mu);
    err = kz__db_load(&st->db, now_us, fn, ud, max_seq);
    uv_mutex_unlock(&st->db_mu);
    return err;
}

static void destroy(struct kz_store *st)
{
    uv_cond_destroy(&st->cond);
    uv_mutex_destroy(&st->db_mu);
    uv_mutex_destroy(&st->mu);
    free(st);
}

static void on_closed(uv_handle_t *h)
{
    destroy(h->data);
}

static int start(uv_loop_t *loop, struct kz_store *st)
{
    int rc;

    if ((rc = uv_async_init(loop, &st->async, on_async)) != 0)
        goto fail;
    st->async.data = st;
    if ((rc = uv_thread_create(&st->thread, kz__store_main, st)) != 0) {
        uv_close((uv_handle_t *)&st->async, on_closed);
        kz__db_close(&st->db);
        kz_log(KZ_LOG_ERROR, "store: uv_thread_create() failed", "err=%s", uv_strerror(rc));
        return KZ_ERR_IO;
    }
    return KZ_OK;
fail:
    kz_log(KZ_LOG_ERROR, "store: uv_async_init() failed", "err=%s", uv_strerror(rc));
    kz__db_close(&st->db);
    destroy(st);
    return KZ_ERR_IO;
}

int kz_store_open(uv_loop_t *loop, const struct kz_store_opts *opts, struct kz_store **out)
{
    struct kz_store *st;
    int err;

    *out = NULL;
    if (!opts || !opts->path)
        return KZ_ERR_INVAL;
    st = kz_xcalloc(1, sizeof(*st));
    kz__jobq_init(&st->writes);
    kz__jobq_init(&st->queries);
    kz__jobq_init(&st->done);
    st->loop = loop;
    st->max_delay_us = (int64_t)(opts->max_delay_ms ? opts->max_delay_ms : DEFAULT_DELAY_MS) * 1000;
    st->retention_us = opts->retention_us > 0 ? opts->retention_us : 0;
    st->retention_bytes = opts->retention_bytes > 0 ? opts->retention_bytes : 0;
    KZ_ASSERT(uv_mutex_init(&st->mu) == 0);
    KZ_ASSERT(uv_mutex_init(&st->db_mu) == 0);
    KZ_ASSERT(uv_cond_init(&st->cond) == 0);
    if ((err = kz__db_open(&st->db, opts->path)) != KZ_OK) {
        destroy(st);
        return err;
    }
    st->stats.db_bytes = kz__db_file_bytes(&st->db);
    if ((err = start(loop, st)) != KZ_OK)
        return err;
    kz_log(KZ_LOG_INFO, "store: open", "path=%s max_delay_ms=%lld", opts->path,
           (long long)(st->max_delay_us / 1000));
    *out = st;
    return KZ_OK;
}

void kz_store_close(struct kz_store *st)
{
    if (!st)
        return;
    uv_mutex_lock(&st->mu);
    st->stopping = true;
    uv_cond_signal(&st->cond);
    uv_mutex_unlock(&st->mu);
    uv_thread_join(&st->thread);
    /* A callback may queue more; submit() answers that with KZ_ERR_CLOSED. */
    while (deliver_done(st) > 0)
        ;
    kz__db_close(&st->db);
    uv_close((uv_handle_t *)&st->async, on_closed);
}
