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

/*
 * A row the schema refuses (a duplicate seq, a CHECK) fails alone and
 * leaves derived state alone; anything else (disk full, I/O error, a
 * trigger's ROLLBACK) fails the whole batch, which is rolled back.
 */
int kz__db_write(struct kz__db *db, struct kz__job *batch)
{
    struct kz__job *j;
    size_t n = 0, refused = 0;
    int rc, err;

    for (j = batch; j; j = j->next)
        j->batch_pos = n++;
    if ((rc = kz__db_step(db->begin)) != SQLITE_DONE) {
        err = kz__db_fail(db, "BEGIN", rc);
        goto fail;
    }
    for (j = batch; j; j = j->next) {
        rc = j->ops->write(db, j);
        j->status = rc == SQLITE_DONE ? KZ_OK : KZ_ERR_DB;
        if (rc == SQLITE_DONE)
            continue;
        if ((rc & 0xff) != SQLITE_CONSTRAINT || sqlite3_get_autocommit(db->db)) {
            err = fail_insert(db, j, "", rc);
            goto fail;
        }
        if (refused++ == 0)
            fail_insert(db, j, " (row refused)", rc);
    }
    if ((rc = run_after_writes(db, batch)) != SQLITE_DONE) {
        err = kz__db_fail(db, "after writes", rc);
        goto fail;
    }
    if ((rc = kz__db_step(db->commit)) != SQLITE_DONE) {
        err = kz__db_fail(db, "COMMIT", rc);
        goto fail;
    }
    return refused ? KZ_ERR_DB : KZ_OK;
fail:
    /* Some errors roll back by themselves; ROLLBACK outside a transaction fails. */
    if (!sqlite3_get_autocommit(db->db))
        kz__db_step(db->rollback);
    for (j = batch; j; j = j->next)
        j->status = err;
    return err;
}
