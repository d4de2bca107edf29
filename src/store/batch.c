/*
 * batch.c - the write path: one transaction per batch.
 *
 * Every event goes to the log, but the tracks table only needs each uid's
 * net result, so a burst of 4096 reports from 500 units upserts 500 rows,
 * not 4096.  Per uid, in queue order: a delete wipes what came before it,
 * and of the reports after the last delete the highest seq wins (the same
 * rule the upsert applies against the row already stored).
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Returns SQLITE_DONE or the statement's error.  Sets r->seq when it was 0. */
static int insert_event(struct kz__db *db, struct kz__rec *r)
{
    sqlite3_stmt *s = db->ins_event;
    int rc;

    if (r->seq)
        sqlite3_bind_int64(s, 1, (sqlite3_int64)r->seq);
    else
        sqlite3_bind_null(s, 1);
    bind_text(s, 2, r->uid);
    bind_text(s, 3, r->type);
    sqlite3_bind_int64(s, 4, r->time);
    sqlite3_bind_int64(s, 5, r->start);
    sqlite3_bind_int64(s, 6, r->stale);
    sqlite3_bind_int64(s, 7, r->recv_time);
    bind_text(s, 8, r->label);
    bind_text(s, 9, r->origin_input);
    bind_text(s, 10, r->origin_user);
    sqlite3_bind_text64(s, 11, r->xml, r->xml_len, SQLITE_STATIC, SQLITE_UTF8);
    rc = kz__db_step(s);
    if (rc == SQLITE_DONE && !r->seq)
        r->seq = (uint64_t)sqlite3_last_insert_rowid(db->db);
    return rc;
}

static int upsert_track(struct kz__db *db, const struct kz__rec *r)
{
    sqlite3_stmt *s = db->up_track;

    bind_text(s, 1, r->uid);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)r->seq);
    bind_text(s, 3, r->type);
    sqlite3_bind_int64(s, 4, r->stale);
    bind_text(s, 5, r->label);
    bind_text(s, 6, r->origin_input);
    bind_text(s, 7, r->origin_user);
    sqlite3_bind_text64(s, 8, r->xml, r->xml_len, SQLITE_STATIC, SQLITE_UTF8);
    return kz__db_step(s);
}

static int delete_track(struct kz__db *db, const char *uid)
{
    bind_text(db->del_track, 1, uid);
    return kz__db_step(db->del_track);
}

/* By uid, then by position in the batch (qsort is not stable). */
static int by_uid_then_order(const void *a, const void *b)
{
    const struct kz__job *const *x = a, *const *y = b;
    int c = strcmp((*x)->u.rec.uid, (*y)->u.rec.uid);

    if (c)
        return c;
    return (*x)->batch_pos < (*y)->batch_pos ? -1 : (*x)->batch_pos > (*y)->batch_pos;
}

/* Apply one uid's jobs[0..n), in queue order.  Returns SQLITE_DONE or an error. */
static int apply_uid(struct kz__db *db, struct kz__job **jobs, size_t n)
{
    const struct kz__rec *best = NULL;
    size_t first = 0;
    int rc;

    for (size_t i = n; i-- > 0;) {
        if (jobs[i]->kind == KZ__JOB_DELETE) {
            if ((rc = delete_track(db, jobs[i]->u.rec.uid)) != SQLITE_DONE)
                return rc;
            first = i + 1;
            break;
        }
    }
    for (size_t i = first; i < n; i++) {
        if (!best || jobs[i]->u.rec.seq > best->seq)
            best = &jobs[i]->u.rec;
    }
    return best ? upsert_track(db, best) : SQLITE_DONE;
}

static int write_tracks(struct kz__db *db, struct kz__job **jobs, size_t n)
{
    size_t i = 0, j;
    int rc;

    qsort(jobs, n, sizeof(*jobs), by_uid_then_order);
    for (; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(jobs[i]->u.rec.uid, jobs[j]->u.rec.uid) == 0; j++)
            ;
        if ((rc = apply_uid(db, jobs + i, j - i)) != SQLITE_DONE)
            return rc;
    }
    return SQLITE_DONE;
}

static void scratch_reserve(struct kz__db *db, size_t n)
{
    if (n > db->scratch_cap) {
        db->scratch_cap = n;
        db->scratch = kz_xrealloc(db->scratch, n * sizeof(*db->scratch));
    }
}

/*
 * A row the schema refuses (a duplicate seq) fails alone and leaves the
 * tracks alone; anything else (disk full, I/O error, a trigger's ROLLBACK)
 * fails the whole batch, which is rolled back.
 */
int kz__db_write(struct kz__db *db, struct kz__job *batch)
{
    struct kz__job *j;
    size_t n = 0, refused = 0;
    int rc, err;

    for (j = batch; j; j = j->next)
        j->batch_pos = n++;
    scratch_reserve(db, n);
    n = 0;
    if ((rc = kz__db_step(db->begin)) != SQLITE_DONE) {
        err = kz__db_fail(db, "BEGIN", rc);
        goto fail;
    }
    for (j = batch; j; j = j->next) {
        bool rd = j->kind == KZ__JOB_READINESS;
        rc = j->kind == KZ__JOB_APPEND ? insert_event(db, &j->u.rec)
             : rd                      ? kz__db_insert_readiness(db, &j->u.rd)
                                       : SQLITE_DONE;
        j->status = rc == SQLITE_DONE ? KZ_OK : KZ_ERR_DB;
        if (rc == SQLITE_DONE) {
            if (!rd) /* readiness rows do not touch the tracks */
                db->scratch[n++] = j;
            continue;
        }
        if ((rc & 0xff) != SQLITE_CONSTRAINT || sqlite3_get_autocommit(db->db)) {
            err = kz__db_fail(db, rd ? "INSERT INTO readiness" : "INSERT INTO events", rc);
            goto fail;
        }
        if (refused++ == 0)
            kz__db_fail(
                db, rd ? "INSERT INTO readiness (row refused)" : "INSERT INTO events (row refused)",
                rc);
    }
    if ((rc = write_tracks(db, db->scratch, n)) != SQLITE_DONE) {
        err = kz__db_fail(db, "tracks", rc);
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
