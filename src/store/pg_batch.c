/*
 * pg_batch.c - the PostgreSQL write path: one transaction per batch, as
 * batch.c for SQLite, and reads between batches.
 *
 * PostgreSQL aborts the whole transaction on any failed statement, where
 * SQLite fails the statement alone.  So a job whose row the schema may
 * refuse (a duplicate key, a CHECK) runs under a savepoint and is refused
 * alone, as on SQLite; events, the bulk of every batch, need none: their
 * multi-row INSERT skips conflicting rows (pg_events.c says which and why).
 */
#include <stdio.h>

#include "store/pg.h"

/* Jobs handed to pg_write_many at once. */
#define RUN_MAX 1024

/* A kind of job without its PostgreSQL functions (a table not on PostgreSQL yet). */
static int unported(struct kz__job *job)
{
    kz_log(KZ_LOG_ERROR, "store: not on postgres", "table=%s", job->ops->table);
    return KZ_ERR_DB;
}

void kz__pg_read(struct kz__db *db, struct kz__job *job)
{
    kz__pg_revive(db->pg);
    if (job->ops->pg_read)
        job->ops->pg_read(db, job);
    else
        job->status = unported(job);
}

/* One job under a savepoint: a refused row fails alone (*refused counts it). */
static int write_one(struct kz__db *db, struct kz__job *job, size_t *refused)
{
    struct kz__pg *pg = db->pg;
    bool guarded = job->ops->pg_write != kz__pg_write_nothing;
    int err;

    if (!job->ops->pg_write) {
        job->status = unported(job);
        (*refused)++;
        return KZ_OK;
    }
    if (guarded && (err = kz__pg_exec(pg, "SAVEPOINT job")) != KZ_OK)
        return err;
    err = job->ops->pg_write(db, job);
    if (err == KZ_OK) {
        job->status = KZ_OK;
        return guarded ? kz__pg_exec(pg, "RELEASE SAVEPOINT job") : KZ_OK;
    }
    if (err != KZ_ERR_EXISTS)
        return err;
    job->status = KZ_ERR_DB;
    (*refused)++;
    return kz__pg_exec(pg, "ROLLBACK TO SAVEPOINT job");
}

/* From *next, a run of consecutive jobs of one kind with pg_write_many; advances *next. */
static size_t take_run(struct kz__job **next, struct kz__job **run)
{
    const struct kz__job_ops *ops = (*next)->ops;
    size_t n = 0;

    do {
        run[n++] = *next;
        *next = (*next)->next;
    } while (*next && (*next)->ops == ops && n < RUN_MAX);
    return n;
}

static int write_all(struct kz__db *db, struct kz__job *batch, size_t *refused)
{
    struct kz__job *next = batch, *run[RUN_MAX];
    int err = KZ_OK;

    while (next && err == KZ_OK) {
        if (!next->ops->pg_write_many) {
            struct kz__job *j = next;
            next = next->next;
            err = write_one(db, j, refused);
            continue;
        }
        size_t n = take_run(&next, run);
        if ((err = run[0]->ops->pg_write_many(db, run, n)) == KZ_OK)
            for (size_t i = 0; i < n; i++)
                *refused += run[i]->status != KZ_OK;
    }
    return err;
}

int kz__pg_write_batch(struct kz__db *db, struct kz__job *batch)
{
    struct kz__pg *pg = db->pg;
    size_t refused = 0;
    int err;

    kz__pg_revive(pg);
    /* A connection the server dropped while idle shows at BEGIN: nothing is written yet,
     * so connect again and retry once. */
    if ((err = kz__pg_exec(pg, "BEGIN")) != KZ_OK && PQstatus(pg->conn) != CONNECTION_OK) {
        kz__pg_revive(pg);
        err = kz__pg_exec(pg, "BEGIN");
    }
    if (err != KZ_OK || (err = kz__pg_seq_lock(db, batch)) != KZ_OK)
        goto fail;
    if ((err = write_all(db, batch, &refused)) != KZ_OK ||
        (err = kz__pg_tracks_apply(db, batch)) != KZ_OK)
        goto fail;
    /* With synchronous_commit on (pg.c), COMMIT returns once the WAL is flushed. */
    if ((err = kz__pg_exec(pg, "COMMIT")) != KZ_OK)
        goto fail;
    return refused ? KZ_ERR_DB : KZ_OK;
fail:
    if (PQstatus(pg->conn) == CONNECTION_OK && PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
        kz__pg_exec(pg, "ROLLBACK");
    for (struct kz__job *j = batch; j; j = j->next)
        j->status = KZ_ERR_DB;
    return KZ_ERR_DB;
}
