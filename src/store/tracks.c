/*
 * tracks.c - the tracks table: the latest event per uid, derived from the
 * log's event jobs (events.c) and deletions, and read back at startup.
 *
 * Every event goes to the log, but the tracks table only needs each uid's
 * net result, and only a restart reads it.  A batch's events go to `latest`
 * (latest.c), which keeps each uid's newest; `latest` is written to the table
 * when it is due (kz__store_tracks_every_us, or when it holds LATEST_MAX uids
 * or LATEST_MAX_BYTES), together with store_marks' tracks_seq: the table then
 * holds every event up to that seq.  A deletion writes `latest` first and
 * then deletes the row, so the log after tracks_seq never holds an event
 * from before a deletion: rebuilding `latest` from there (at open, or after
 * a failed batch) gives the same tracks, and nothing deleted comes back.
 * An older event arriving late never replaces a newer one, in `latest` or in
 * the table.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define LATEST_MAX 16384
#define LATEST_MAX_BYTES (16u << 20)

int64_t kz__store_tracks_every_us = 1000 * 1000;

#define TR_COLS 10
#define TR_INSERT                                                                                  \
    "INSERT INTO tracks(uid, seq, type, stale, label, origin_input, origin_user, xml,"             \
    " origin_nation, origin_groups) VALUES "
#define TR_UPSERT                                                                                  \
    " ON CONFLICT(uid) DO UPDATE SET seq = excluded.seq, type = excluded.type,"                    \
    " stale = excluded.stale, label = excluded.label,"                                             \
    " origin_input = excluded.origin_input, origin_user = excluded.origin_user,"                   \
    " xml = excluded.xml, origin_nation = excluded.origin_nation,"                                 \
    " origin_groups = excluded.origin_groups WHERE excluded.seq > tracks.seq"
#define TR_ROW "(?,?,?,?,?,?,?,?,?,?)"

/* Distinct uids (at most one row each per statement). */
static const char *const sql_upsert[KZ__ROWS_N] = KZ__ROWS_SQL(TR_INSERT, TR_ROW, TR_UPSERT);
static const char sql_delete[] = "DELETE FROM tracks WHERE uid = ?1";

static const struct kz__rec *rec_of(const struct kz__job *job)
{
    return &((const struct kz__rec_job *)job)->rec;
}

static void bind_row(sqlite3_stmt *s, int b, const void *rows, size_t i)
{
    const struct kz__rec *r = ((const struct kz__rec *const *)rows)[i];

    kz__bind_text(s, b + 1, r->uid);
    sqlite3_bind_int64(s, b + 2, (sqlite3_int64)r->seq);
    kz__bind_text(s, b + 3, r->type);
    sqlite3_bind_int64(s, b + 4, r->stale);
    kz__bind_text(s, b + 5, r->label);
    kz__bind_text(s, b + 6, r->origin_input);
    kz__bind_text(s, b + 7, r->origin_user);
    sqlite3_bind_text64(s, b + 8, r->xml, r->xml_len, SQLITE_STATIC, SQLITE_UTF8);
    kz__bind_text(s, b + 9, r->origin_nation);
    kz__bind_text(s, b + 10, r->origin_groups);
}

static int delete_uid(struct kz__db *db, const char *uid)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_delete);

    if (!s)
        return SQLITE_ERROR;
    kz__bind_text(s, 1, uid);
    return kz__db_step(s);
}

static const char sql_mark[] = "UPDATE store_marks SET value = ?1 WHERE name = 'tracks_seq'";

/* `latest` to the table, and the mark that says so; in the caller's transaction. */
static int flush(struct kz__db *db)
{
    size_t n;
    const struct kz__rec **recs = kz__latest_list(db, &n);
    sqlite3_stmt *s;
    int rc;

    db->tracks_flushed_us = kz_mono_us();
    if (n == 0 && db->latest_seq == db->tracks_seq)
        return SQLITE_DONE;
    if ((rc = kz__db_rows(db, sql_upsert, TR_COLS, recs, n, bind_row)) != SQLITE_DONE)
        return rc;
    if (!(s = kz__db_stmt(db, sql_mark)))
        return SQLITE_ERROR;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)db->latest_seq);
    if ((rc = kz__db_step(s)) != SQLITE_DONE)
        return rc;
    kz__latest_clear(db);
    db->tracks_seq = db->latest_seq;
    return SQLITE_DONE;
}

static bool flush_due(struct kz__db *db)
{
    size_t count, bytes = kz__latest_bytes(db, &count);

    return count >= LATEST_MAX || bytes >= LATEST_MAX_BYTES ||
           kz_mono_us() - db->tracks_flushed_us >= kz__store_tracks_every_us;
}

static void put(struct kz__db *db, const struct kz__rec *r)
{
    kz__latest_put(db, r);
    if (r->seq > db->latest_seq)
        db->latest_seq = r->seq;
}

static int rebuild(struct kz__db *db);

/* In queue order: events to `latest`; a deletion flushes it, then deletes the row. */
int kz__tracks_after_writes(struct kz__db *db, struct kz__job *batch)
{
    int rc;

    if (db->latest_lost && (rc = rebuild(db)) != SQLITE_DONE)
        return rc;
    for (struct kz__job *j = batch; j; j = j->next) {
        if (j->status != KZ_OK)
            continue;
        if (j->ops == &kz__event_append_ops) {
            put(db, rec_of(j));
        } else if (j->ops == &kz__track_delete_ops) {
            if ((rc = flush(db)) != SQLITE_DONE ||
                (rc = delete_uid(db, rec_of(j)->uid)) != SQLITE_DONE)
                return rc;
        }
    }
    return flush_due(db) ? flush(db) : SQLITE_DONE;
}

void kz__tracks_rolled_back(struct kz__db *db)
{
    kz__latest_clear(db);
    db->latest_lost = true;
}

/* ---- rebuilding `latest` from the log ------------------------------------------- */

static const char sql_seen[] = "SELECT value FROM store_marks WHERE name = 'tracks_seq'";
static const char sql_after[] = "SELECT seq, uid, type, stale, label, origin_input, origin_user,"
                                " xml, origin_nation, origin_groups FROM events WHERE seq > ?1"
                                " ORDER BY seq";

static const char *text_at(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

/* `latest` again from the log after tracks_seq (as committed). */
static int rebuild(struct kz__db *db)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_seen);
    int rc;

    kz__latest_clear(db);
    if (!s)
        return SQLITE_ERROR;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        db->tracks_seq = db->latest_seq = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW || !(s = kz__db_stmt(db, sql_after)))
        return rc == SQLITE_ROW ? SQLITE_ERROR : rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)db->tracks_seq);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct kz__rec r = {.seq = (uint64_t)sqlite3_column_int64(s, 0),
                            .uid = text_at(s, 1),
                            .type = text_at(s, 2),
                            .stale = sqlite3_column_int64(s, 3),
                            .label = text_at(s, 4),
                            .origin_input = text_at(s, 5),
                            .origin_user = text_at(s, 6),
                            .xml = text_at(s, 7),
                            .xml_len = (size_t)sqlite3_column_bytes(s, 7),
                            .origin_nation = text_at(s, 8),
                            .origin_groups = text_at(s, 9)};
        put(db, &r);
    }
    sqlite3_reset(s);
    db->latest_lost = rc != SQLITE_DONE;
    return rc;
}

int kz__tracks_sync(struct kz__db *db)
{
    int rc = kz__db_step(db->begin);

    if (rc != SQLITE_DONE)
        return kz__db_fail(db, "BEGIN", rc);
    if ((db->latest_lost || !db->latest) && (rc = rebuild(db)) != SQLITE_DONE)
        goto fail;
    if ((rc = flush(db)) != SQLITE_DONE || (rc = kz__db_step(db->commit)) != SQLITE_DONE)
        goto fail;
    return KZ_OK;
fail:
    kz__db_fail(db, "tracks sync", rc);
    if (!sqlite3_get_autocommit(db->db))
        kz__db_step(db->rollback);
    kz__tracks_rolled_back(db);
    return KZ_ERR_DB;
}

/* The deletion itself happens in kz__tracks_after_writes, in queue order. */
static int write_delete(struct kz__db *db, struct kz__job *job)
{
    KZ_UNUSED(db);
    KZ_UNUSED(job);
    return SQLITE_DONE;
}

const struct kz__job_ops kz__track_delete_ops = {
    .table = "tracks",
    .write = write_delete,
    /* The log's hook (events.c), so a batch of events and deletions runs it once. */
    .after_writes = kz__events_after_writes,
    .pg_write = kz__pg_write_nothing, /* pg_tracks.c deletes, in queue order */
};

void kz_store_delete_track(struct kz_store *st, const char *uid)
{
    struct kz__rec_job *j;
    char *p;

    if (!uid)
        return;
    j = kz__job_new(&kz__track_delete_ops, sizeof(*j), kz__str_size(uid));
    p = j->data;
    j->rec.uid = kz__pack_str(&p, uid);
    kz__store_submit(st, &j->job);
}

/* ---- startup ------------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

/* Tracks count too: retention may have emptied the events table. */
static int max_seq_of(struct kz__db *db, uint64_t *out)
{
    static const char sql[] = "SELECT max(coalesce((SELECT max(seq) FROM events), 0),"
                              " coalesce((SELECT max(seq) FROM tracks), 0))";
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? KZ_OK : kz__db_fail(db, "SELECT max(seq)", rc);
}

static int load(struct kz__db *db, int64_t now_us, kz_store_track_fn fn, void *ud,
                uint64_t *max_seq)
{
    static const char sql[] = "SELECT seq, xml, label, origin_input, origin_user,"
                              " origin_nation, origin_groups"
                              " FROM tracks WHERE stale > ?1 ORDER BY seq";
    sqlite3_stmt *s = NULL;
    uint64_t max = 0;
    int rc, err;

    if ((err = max_seq_of(db, &max)) != KZ_OK)
        return err;
    rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(s, 1, now_us);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct kz_store_origin o = {col_text(s, 3), col_text(s, 4), col_text(s, 5), col_text(s, 6)};
        fn(ud, (uint64_t)sqlite3_column_int64(s, 0), col_text(s, 1),
           (size_t)sqlite3_column_bytes(s, 1), col_text(s, 2), &o);
    }
out:
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return kz__db_fail(db, "SELECT FROM tracks", rc);
    if (max_seq)
        *max_seq = max;
    return KZ_OK;
}

int kz_store_load(struct kz_store *st, int64_t now_us, kz_store_track_fn fn, void *ud,
                  uint64_t *max_seq)
{
    int err;

    uv_mutex_lock(&st->db_mu);
    if (st->db.pg) {
        err = kz__pg_load(&st->db, now_us, fn, ud, max_seq);
        uv_mutex_unlock(&st->db_mu);
        return err;
    }
    err = kz__tracks_sync(&st->db); /* what waits in `latest` too */
    if (err == KZ_OK)
        err = load(&st->db, now_us, fn, ud, max_seq);
    uv_mutex_unlock(&st->db_mu);
    return err;
}
