/*
 * store.c - the loop-thread side of the store: open and close, queueing
 * work, and delivering completions through the async handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

static void deliver(struct kz__job *job)
{
    if (job->ops->deliver)
        job->ops->deliver(job);
    else if (job->ack)
        job->ack(job->ud, job->status);
    kz__job_free(job);
}

/* Loop thread: run every finished job's callback.  Returns how many. */
static size_t deliver_done(struct kz_store *st)
{
    struct kz__job *list, *next;
    size_t n = 0;

    uv_mutex_lock(&st->mu);
    list = kz__jobq_take(&st->done, SIZE_MAX);
    bool drained = st->drain_due;
    st->drain_due = false;
    uv_mutex_unlock(&st->mu);
    for (; list; list = next, n++) {
        next = list->next;
        deliver(list);
    }
    if (drained && st->drain_cb)
        st->drain_cb(st->drain_ud);
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
void kz__store_finish_early(struct kz_store *st, struct kz__job *job, int status)
{
    job->status = status;
    uv_mutex_lock(&st->mu);
    kz__jobq_push(&st->done, job);
    uv_mutex_unlock(&st->mu);
    uv_async_send(&st->async);
}

void kz__store_submit(struct kz_store *st, struct kz__job *job)
{
    struct kz__jobq *q = job->ops->write ? &st->writes : &st->queries;
    bool wake;

    uv_mutex_lock(&st->mu);
    if (st->stopping) {
        /* Only reachable from a callback run by kz_store_close itself. */
        job->status = KZ_ERR_CLOSED;
        if (job->wait)
            uv_sem_post(job->wait);
        else
            kz__jobq_push(&st->done, job);
        uv_mutex_unlock(&st->mu);
        return;
    }
    kz__jobq_push(q, job);
    if (job->ops->counted)
        st->stats.appended++;
    if (job->wait && q == &st->writes)
        st->urgent++;
    /*
     * The store thread sleeps until the oldest write is max_delay old, so
     * it needs waking only when that clock starts or the batch is full.
     */
    wake = q != &st->writes || q->n == 1 || q->n >= KZ_STORE_MAX_BATCH || job->wait;
    if (wake)
        uv_cond_signal(&st->cond);
    uv_mutex_unlock(&st->mu);
}

int kz__store_run_sync(struct kz_store *st, struct kz__job *job)
{
    uv_sem_t done;

    KZ_ASSERT(uv_sem_init(&done, 0) == 0);
    job->wait = &done;
    kz__store_submit(st, job);
    uv_sem_wait(&done);
    uv_sem_destroy(&done);
    job->wait = NULL;
    return job->status;
}

bool kz_store_shared(const struct kz_store *st)
{
    return st && st->shared;
}

bool kz_store_busy(struct kz_store *st)
{
    uv_mutex_lock(&st->mu);
    bool busy = st->writes.n >= st->max_pending;
    uv_mutex_unlock(&st->mu);
    return busy;
}

bool kz_store_backlogged(struct kz_store *st)
{
    uv_mutex_lock(&st->mu);
    bool backlogged = st->writes.n >= st->max_pending / 2;
    st->drain_armed |= backlogged;
    uv_mutex_unlock(&st->mu);
    return backlogged;
}

void kz_store_on_drain(struct kz_store *st, void (*cb)(void *ud), void *ud)
{
    st->drain_cb = cb;
    st->drain_ud = ud;
}

void kz_store_set_max_pending(struct kz_store *st, unsigned n)
{
    uv_mutex_lock(&st->mu);
    st->max_pending = n ? n : KZ_STORE_MAX_PENDING;
    uv_mutex_unlock(&st->mu);
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

int kz_store_path(const char *data_dir, const char *store_path, char *buf, size_t len)
{
    int n = store_path[0] == '/' ? snprintf(buf, len, "%s", store_path)
                                 : snprintf(buf, len, "%s/%s", data_dir, store_path);

    return n >= 0 && (size_t)n < len ? KZ_OK : KZ_ERR_TOOBIG;
}

/*
 * The tables and calls the PostgreSQL backend does not have yet (pg*.c);
 * NULL once it has them all.
 */
static const char *const pg_unported = NULL;

const char *kz_store_pg_dsn(const char *locator)
{
    size_t n = sizeof(KZ_STORE_PG_LOCATOR) - 1;
    return locator && strncmp(locator, KZ_STORE_PG_LOCATOR, n) == 0 ? locator + n : NULL;
}

int kz_store_locator(const char *backend, const char *dsn, const char *data_dir, const char *path,
                     char *buf, size_t len)
{
    int n;

    if (!backend || strcmp(backend, "postgres") != 0)
        return kz_store_path(data_dir, path, buf, len);
    n = snprintf(buf, len, "%s%s", KZ_STORE_PG_LOCATOR, dsn ? dsn : "");
    return n >= 0 && (size_t)n < len ? KZ_OK : KZ_ERR_TOOBIG;
}

const char *kz_store_unported(const struct kz_store *st)
{
    return st->db.pg ? pg_unported : NULL;
}

/* The database, brought up to date: SQLite's tracks table follows its log lazily. */
static int open_db(struct kz__db *db, const struct kz_store_opts *opts)
{
    int err;

    const char *dsn = opts->dsn ? opts->dsn : kz_store_pg_dsn(opts->path);

    if (dsn) {
        if ((err = kz__pg_open(db, dsn, opts->node_id)) == KZ_OK && opts->shared &&
            (err = kz__pg_share(db)) != KZ_OK)
            kz__pg_close(db);
        return err;
    }
    if ((err = kz__db_open(db, opts->path, true)) == KZ_OK && (err = kz__tracks_sync(db)) != KZ_OK)
        kz__db_close(db);
    return err;
}

static void close_db(struct kz__db *db)
{
    if (db->pg) {
        kz__pg_close(db);
        return;
    }
    kz__tracks_sync(db); /* on failure the next open rebuilds them */
    kz__db_close(db);
}

static void destroy(struct kz_store *st)
{
    kz__audit_free(st);
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
        close_db(&st->db);
        kz_log(KZ_LOG_ERROR, "store: uv_thread_create() failed", "err=%s", uv_strerror(rc));
        return KZ_ERR_IO;
    }
    return KZ_OK;
fail:
    kz_log(KZ_LOG_ERROR, "store: uv_async_init() failed", "err=%s", uv_strerror(rc));
    close_db(&st->db);
    destroy(st);
    return KZ_ERR_IO;
}

int kz_store_open(uv_loop_t *loop, const struct kz_store_opts *opts, struct kz_store **out)
{
    struct kz_store *st;
    bool pg;
    int err;

    *out = NULL;
    if (!opts || (!opts->path && !opts->dsn))
        return KZ_ERR_INVAL;
    st = kz_xcalloc(1, sizeof(*st));
    kz__jobq_init(&st->writes);
    kz__jobq_init(&st->queries);
    kz__jobq_init(&st->done);
    st->loop = loop;
    st->max_delay_us = (int64_t)opts->max_delay_ms * 1000;
    st->retention_us = opts->retention_us > 0 ? opts->retention_us : 0;
    st->retention_bytes = opts->retention_bytes > 0 ? opts->retention_bytes : 0;
    st->max_pending = KZ_STORE_MAX_PENDING;
    KZ_ASSERT(uv_mutex_init(&st->mu) == 0);
    KZ_ASSERT(uv_mutex_init(&st->db_mu) == 0);
    KZ_ASSERT(uv_cond_init(&st->cond) == 0);
    pg = opts->dsn || kz_store_pg_dsn(opts->path);
    st->shared = opts->shared && pg;
    kz__audit_init(st, pg ? ":memory:" : opts->path); /* PostgreSQL: set_audit_dir */
    if ((err = open_db(&st->db, opts)) != KZ_OK) {
        destroy(st);
        return err;
    }
    st->stats.db_bytes = kz__db_file_bytes(&st->db);
    if ((err = start(loop, st)) != KZ_OK)
        return err;
    kz_log(KZ_LOG_INFO, "store: open", "backend=%s path=%s max_delay_ms=%lld",
           pg ? "postgres" : "sqlite", pg ? "-" : opts->path, (long long)(st->max_delay_us / 1000));
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
    close_db(&st->db);
    uv_close((uv_handle_t *)&st->async, on_closed);
}
