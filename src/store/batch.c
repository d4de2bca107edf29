/*
 * batch.c - the write path: one transaction per batch.  Each job writes
 * itself (its table's ops); tables that derive state from several jobs of
 * the batch (tracks.c) do it in their after_writes hook, once per batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

typedef int (*after_fn)(struct kz__db *db, struct kz__job *batch);

/* Each distinct after_writes hook once, in order of first appearance. */
static int run_after_writes(struct kz__db *db, struct kz__job *batch)
{
    after_fn seen[16];
    size_t n = 0, i;
    int rc;

    for (struct kz__job *j = batch; j; j = j->next) {
        after_fn fn = j->ops->after_writes;
        if (!fn)
            continue;
        for (i = 0; i < n && seen[i] != fn; i++)
            ;
        if (i < n)
            continue;
        KZ_ASSERT(n < KZ_ARRAY_LEN(seen));
        seen[n++] = fn;
        if ((rc = fn(db, batch)) != SQLITE_DONE)
            return rc;
    }
    return SQLITE_DONE;
}

static int fail_insert(struct kz__db *db, const struct kz__job *j, const char *how, int rc)
{
    char what[96];

    snprintf(what, sizeof(what), "INSERT INTO %s%s", j->ops->table, how);
    return kz__db_fail(db, what, rc);
}

/* Jobs batch.c hands write_many at once. */
#define RUN_MAX 256

/* A constraint failure that left the transaction open refuses one row. */
static bool refusable(struct kz__db *db, int rc)
{
    return (rc & 0xff) == SQLITE_CONSTRAINT && !sqlite3_get_autocommit(db->db);
}

/* From *next, the run of consecutive jobs write_many may take; advances *next. */
static size_t take_run(struct kz__job **next, struct kz__job **run)
{
    const struct kz__job_ops *ops = (*next)->ops;
    size_t n = 0;

    do {
        run[n++] = *next;
        *next = (*next)->next;
    } while (ops->write_many && *next && (*next)->ops == ops && n < RUN_MAX);
    return n;
}

/*
 * Write run[0..n): together when the table can, else (or for what is left
 * after a refused row) one by one.  SQLITE_DONE, or a batch-failing error
 * with *failed its job.
 */
static int write_run(struct kz__db *db, struct kz__job **run, size_t n, size_t *refused,
                     struct kz__job **failed)
{
    size_t done = 0;
    int rc;

    if (n > 1) {
        rc = run[0]->ops->write_many(db, run, n, &done);
        for (size_t i = 0; i < done; i++)
            run[i]->status = KZ_OK;
        if (rc != SQLITE_DONE && !refusable(db, rc)) {
            *failed = run[done];
            return rc;
        }
    }
    for (size_t i = done; i < n; i++) {
        rc = run[i]->ops->write(db, run[i]);
        run[i]->status = rc == SQLITE_DONE ? KZ_OK : KZ_ERR_DB;
        if (rc == SQLITE_DONE)
            continue;
        if (!refusable(db, rc)) {
            *failed = run[i];
            return rc;
        }
        if ((*refused)++ == 0)
            fail_insert(db, run[i], " (row refused)", rc);
    }
    return SQLITE_DONE;
}

/*
 * A row the schema refuses (a duplicate seq, a CHECK) fails alone and
 * leaves derived state alone; anything else (disk full, I/O error, a
 * trigger's ROLLBACK) fails the whole batch, which is rolled back.
 */
int kz__db_write(struct kz__db *db, struct kz__job *batch)
{
    struct kz__job *j, *next, *failed = NULL, *run[RUN_MAX];
    size_t n = 0, refused = 0;
    int rc, err;

    if (db->pg)
        return kz__pg_write_batch(db, batch);
    for (j = batch; j; j = j->next)
        j->batch_pos = n++;
    if ((rc = kz__db_step(db->begin)) != SQLITE_DONE) {
        err = kz__db_fail(db, "BEGIN", rc);
        goto fail;
    }
    for (next = batch; next;) {
        n = take_run(&next, run);
        if ((rc = write_run(db, run, n, &refused, &failed)) != SQLITE_DONE) {
            err = fail_insert(db, failed, "", rc);
            goto fail;
        }
    }
    if ((rc = run_after_writes(db, batch)) != SQLITE_DONE ||
        (rc = kz__heads_write(db)) != SQLITE_DONE) {
        err = kz__db_fail(db, "after writes", rc);
        goto fail;
    }
    if ((rc = kz__db_step(db->commit)) != SQLITE_DONE) {
        err = kz__db_fail(db, "COMMIT", rc);
        goto fail;
    }
    kz__heads_committed(db);
    return refused ? KZ_ERR_DB : KZ_OK;
fail:
    kz__heads_forget(db); /* they may hold what the rollback undoes */
    kz__tracks_rolled_back(db);
    /* Some errors roll back by themselves; ROLLBACK outside a transaction fails. */
    if (!sqlite3_get_autocommit(db->db))
        kz__db_step(db->rollback);
    for (j = batch; j; j = j->next)
        j->status = err;
    return err;
}
