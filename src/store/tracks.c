/*
 * tracks.c - the tracks table: the latest event per uid, derived from each
 * batch's event jobs (events.c) and deletions, and read back at startup.
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

/* An older event arriving late must not replace a newer one. */
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
#define TR_ROWS2 TR_ROW "," TR_ROW
#define TR_ROWS4 TR_ROWS2 "," TR_ROWS2
#define TR_ROWS8 TR_ROWS4 "," TR_ROWS4
#define TR_ROWS16 TR_ROWS8 "," TR_ROWS8
#define TR_ROWS32 TR_ROWS16 "," TR_ROWS16

/* One statement per 2^i distinct uids (as events.c does for the log). */
static const char *const sql_upsert[] = {
    TR_INSERT TR_ROW TR_UPSERT,   TR_INSERT TR_ROWS2 TR_UPSERT,  TR_INSERT TR_ROWS4 TR_UPSERT,
    TR_INSERT TR_ROWS8 TR_UPSERT, TR_INSERT TR_ROWS16 TR_UPSERT, TR_INSERT TR_ROWS32 TR_UPSERT,
};
#define TR_MAX_ROWS (1u << (KZ_ARRAY_LEN(sql_upsert) - 1))
static const char sql_delete[] = "DELETE FROM tracks WHERE uid = ?1";

static const struct kz__rec *rec_of(const struct kz__job *job)
{
    return &((const struct kz__rec_job *)job)->rec;
}

static void bind_row(sqlite3_stmt *s, int b, const struct kz__rec *r)
{
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

/* jobs[0..n) (distinct uids) in one statement, n a power of two up to TR_MAX_ROWS. */
static int upsert_rows(struct kz__db *db, struct kz__job **jobs, size_t n)
{
    size_t i = 0;
    sqlite3_stmt *s;

    while ((1u << i) < n)
        i++;
    if (!(s = kz__db_stmt(db, sql_upsert[i])))
        return SQLITE_ERROR;
    for (i = 0; i < n; i++)
        bind_row(s, (int)i * TR_COLS, rec_of(jobs[i]));
    return kz__db_step(s);
}

/* jobs[0..n), distinct uids, in as few statements as n's binary digits. */
static int upsert_all(struct kz__db *db, struct kz__job **jobs, size_t n)
{
    size_t c = TR_MAX_ROWS;
    int rc;

    while (n > 0) {
        while (c > n)
            c /= 2;
        if ((rc = upsert_rows(db, jobs, c)) != SQLITE_DONE)
            return rc;
        jobs += c;
        n -= c;
    }
    return SQLITE_DONE;
}

static int delete_uid(struct kz__db *db, const char *uid)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_delete);

    if (!s)
        return SQLITE_ERROR;
    kz__bind_text(s, 1, uid);
    return kz__db_step(s);
}

/* By uid, then by position in the batch (qsort is not stable). */
static int by_uid_then_order(const void *a, const void *b)
{
    const struct kz__job *const *x = a, *const *y = b;
    int c = strcmp(rec_of(*x)->uid, rec_of(*y)->uid);

    if (c)
        return c;
    return (*x)->batch_pos < (*y)->batch_pos ? -1 : (*x)->batch_pos > (*y)->batch_pos;
}

/*
 * Apply one uid's jobs[0..n), in queue order: its deletion now; its newest
 * event after the last deletion goes to *best (NULL: none), written last
 * because *best may be jobs[0].
 */
static int apply_uid(struct kz__db *db, struct kz__job **jobs, size_t n, struct kz__job **best)
{
    struct kz__job *newest = NULL;
    size_t first = 0;
    int rc;

    for (size_t i = n; i-- > 0;) {
        if (jobs[i]->ops == &kz__track_delete_ops) {
            if ((rc = delete_uid(db, rec_of(jobs[i])->uid)) != SQLITE_DONE)
                return rc;
            first = i + 1;
            break;
        }
    }
    for (size_t i = first; i < n; i++) {
        if (!newest || rec_of(jobs[i])->seq > rec_of(newest)->seq)
            newest = jobs[i];
    }
    *best = newest;
    return SQLITE_DONE;
}

/* The batch's events that were written, and its deletions, in db->scratch. */
static size_t collect(struct kz__db *db, struct kz__job *batch)
{
    size_t n = 0;

    for (struct kz__job *j = batch; j; j = j->next)
        n++;
    if (n > db->scratch_cap) {
        db->scratch_cap = n;
        db->scratch = kz_xrealloc(db->scratch, n * sizeof(*db->scratch));
    }
    n = 0;
    for (struct kz__job *j = batch; j; j = j->next) {
        bool ours = j->ops == &kz__event_append_ops || j->ops == &kz__track_delete_ops;
        if (ours && j->status == KZ_OK)
            db->scratch[n++] = j;
    }
    return n;
}

/*
 * Deletions first, then each uid's newest event: a uid's deletion and its
 * upsert are in queue order, and different uids do not interact.  The
 * newest events go to the front of db->scratch, over groups already read.
 */
int kz__tracks_after_writes(struct kz__db *db, struct kz__job *batch)
{
    size_t n = collect(db, batch), i = 0, j, n_best = 0;
    struct kz__job **jobs = db->scratch; /* collect() may have moved it */
    int rc;

    qsort(jobs, n, sizeof(*jobs), by_uid_then_order);
    for (; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(rec_of(jobs[i])->uid, rec_of(jobs[j])->uid) == 0; j++)
            ;
        if ((rc = apply_uid(db, jobs + i, j - i, &jobs[n_best])) != SQLITE_DONE)
            return rc;
        n_best += jobs[n_best] != NULL;
    }
    return upsert_all(db, jobs, n_best);
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
    .after_writes = kz__tracks_after_writes,
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
    err = load(&st->db, now_us, fn, ud, max_seq);
    uv_mutex_unlock(&st->db_mu);
    return err;
}
