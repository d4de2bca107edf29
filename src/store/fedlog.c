/*
 * fedlog.c - what the federation keeps in the store: each link's sent log
 * (fed_sent: which event crossed to which peer, and when), its cursor
 * (fed_cursor: the last event of the log sent in order), where a link's
 * outbox starts within its bounds, and the sequence of the last event
 * committed from each kizuna peer (events.fed_seq), where that peer resumes.
 *
 * A link's outbox is the events table itself, read forward from its cursor
 * (kz_store_query with `forward`): nothing is written twice.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define SENT_MAX_LIMIT 10000

/* ---- the sent log and the cursor (one write job per flush) ---------------------- */

struct sent_job {
    struct kz__job job;
    const char *peer;
    uint64_t cursor;
    size_t n;
    struct kz_store_sent *items;
    char data[];
};

static const char *const sql_sent[KZ__ROWS_N] =
    KZ__ROWS_SQL("INSERT OR IGNORE INTO fed_sent(peer, sent, seq) VALUES ", "(?,?,?)", "");
static const char sql_cursor[] = "INSERT INTO fed_cursor(peer, seq) VALUES (?1, ?2)"
                                 " ON CONFLICT(peer) DO UPDATE SET seq = max(seq, excluded.seq)";

static void bind_sent(sqlite3_stmt *s, int b, const void *rows, size_t i)
{
    const struct sent_job *j = rows;

    kz__bind_text(s, b + 1, j->peer);
    sqlite3_bind_int64(s, b + 2, j->items[i].sent_us);
    sqlite3_bind_int64(s, b + 3, (sqlite3_int64)j->items[i].seq);
}

static int write_sent(struct kz__db *db, struct kz__job *job)
{
    struct sent_job *j = (struct sent_job *)job;
    sqlite3_stmt *s;
    int rc;

    if ((rc = kz__db_rows(db, sql_sent, 3, j, j->n, bind_sent)) != SQLITE_DONE)
        return rc;
    if (!(s = kz__db_stmt(db, sql_cursor)))
        return SQLITE_ERROR;
    kz__bind_text(s, 1, j->peer);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)j->cursor);
    return kz__db_step(s);
}

static int pg_write_sent(struct kz__db *db, struct kz__job *job)
{
    struct sent_job *j = (struct sent_job *)job;
    return kz__pg_fed_sent_write(db, j->peer, j->items, j->n, j->cursor);
}

static const struct kz__job_ops sent_ops = {
    .table = "fed_sent",
    .write = write_sent,
    .pg_write = pg_write_sent,
};

void kz_store_fed_sent(struct kz_store *st, const char *peer, const struct kz_store_sent *items,
                       size_t n, uint64_t cursor, kz_store_ack_cb cb, void *ud)
{
    size_t bytes = n * sizeof(*items);
    struct sent_job *j = kz__job_new(&sent_ops, sizeof(*j), bytes + kz__str_size(peer) + 16);
    char *p = j->data;

    j->items = (struct kz_store_sent *)(void *)p; /* data[] follows 8-byte members: aligned */
    if (n)
        memcpy(j->items, items, bytes);
    p += bytes;
    j->peer = kz__pack_str(&p, peer);
    j->n = n;
    j->cursor = cursor;
    j->job.ack = cb;
    j->job.ud = ud;
    j->job.notify = cb != NULL;
    kz__store_submit(st, &j->job);
}

/* ---- startup marks --------------------------------------------------------------- */

static int one_int(struct kz__db *db, const char *sql, const char *arg, int64_t *out, bool *found)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

    *found = false;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(s)) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
            *out = sqlite3_column_int64(s, 0);
            *found = true;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, "SELECT fed", rc);
}

int kz_store_fed_marks(struct kz_store *st, const char *peer, const char *input,
                       struct kz_store_fed_marks *m)
{
    int64_t v = 0;
    bool found;
    int err;

    memset(m, 0, sizeof(*m));
    uv_mutex_lock(&st->db_mu);
    if (st->db.pg) {
        err = kz__pg_fed_marks(&st->db, peer, input, m);
        uv_mutex_unlock(&st->db_mu);
        return err;
    }
    err = one_int(&st->db, "SELECT seq FROM fed_cursor WHERE peer = ?1", peer, &v, &found);
    if (err == KZ_OK && found)
        m->cursor = (uint64_t)v, m->has_cursor = true;
    if (err == KZ_OK)
        err = one_int(&st->db,
                      "SELECT fed_seq FROM events WHERE origin_input = ?1 AND fed_seq IS NOT NULL"
                      " ORDER BY seq DESC LIMIT 1",
                      input, &v, &found);
    if (err == KZ_OK && found)
        m->received = (uint64_t)v;
    if (err == KZ_OK)
        err = one_int(&st->db, "SELECT max(seq) FROM events", NULL, &v, &found);
    if (err == KZ_OK && found)
        m->last_seq = (uint64_t)v;
    uv_mutex_unlock(&st->db_mu);
    return err;
}

/* ---- where an outbox starts ------------------------------------------------------- */

struct bound_job {
    struct kz__job job;
    struct kz_store_outbox_bound b;
    kz_store_bound_cb done;
};

/* The newest event after `after` that does not fit in max_bytes (counted from the newest). */
static const char sql_bytes[] =
    "SELECT seq FROM (SELECT seq, sum(length(xml)) OVER (ORDER BY seq DESC) AS total"
    " FROM events WHERE seq > ?1) WHERE total > ?2 LIMIT 1";
static const char sql_age[] = "SELECT max(seq) FROM events WHERE seq > ?1 AND recv_time < ?2";
static const char sql_count[] = "SELECT count(*) FROM events WHERE seq > ?1 AND seq <= ?2";
/* No parameters: query_int's binds fail (SQLITE_RANGE), harmlessly. */
static const char sql_last[] = "SELECT coalesce(max(seq), 0) FROM events";

static int64_t query_int(struct kz__db *db, const char *sql, int64_t a, int64_t b, int *err)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql);
    int64_t v = 0;
    int rc;

    if (!s) {
        *err = KZ_ERR_DB;
        return 0;
    }
    sqlite3_bind_int64(s, 1, a);
    sqlite3_bind_int64(s, 2, b);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    else if (rc != SQLITE_DONE)
        *err = kz__db_fail(db, "SELECT outbox bound", rc);
    sqlite3_reset(s);
    return v;
}

static void run_bound(struct kz__db *db, struct kz__job *job)
{
    struct kz_store_outbox_bound *b = &((struct bound_job *)job)->b;
    int64_t after = (int64_t)b->after_seq, start = after, v;
    int err = KZ_OK;

    if (b->since_us && (v = query_int(db, sql_age, after, b->since_us, &err)) > start)
        start = v;
    if (b->max_bytes && (v = query_int(db, sql_bytes, after, b->max_bytes, &err)) > start)
        start = v;
    b->skipped = start > after ? (uint64_t)query_int(db, sql_count, after, start, &err) : 0;
    b->start_seq = (uint64_t)start;
    b->last_seq = (uint64_t)query_int(db, sql_last, after, start, &err);
    job->status = err;
}

static void deliver_bound(struct kz__job *job)
{
    struct bound_job *j = (struct bound_job *)job;

    j->done(job->ud, job->status, &j->b);
}

static void pg_run_bound(struct kz__db *db, struct kz__job *job)
{
    job->status = kz__pg_outbox_bound(db, &((struct bound_job *)job)->b);
}

static const struct kz__job_ops bound_ops = {
    .table = "events",
    .read = run_bound,
    .pg_read = pg_run_bound,
    .deliver = deliver_bound,
};

void kz_store_outbox_bound(struct kz_store *st, const struct kz_store_outbox_bound *b,
                           kz_store_bound_cb done, void *ud)
{
    struct bound_job *j = kz__job_new(&bound_ops, sizeof(*j), 0);

    j->b = *b;
    j->done = done;
    j->job.ud = ud;
    j->job.notify = true;
    kz__store_submit(st, &j->job);
}

/* ---- what crossed (GET /api/v1/federation/{peer}/sent) ---------------------------------- */

struct sentq_job {
    struct kz__job job;
    struct kz_store_sent_query q;
    kz_store_sent_cb done;
    struct kz_store_sent_row *rows;
    size_t n, cap;
    char data[];
};

static const char sql_sent_rows[] =
    "SELECT f.sent, f.seq, e.uid, e.type, e.time, e.label, e.origin_nation"
    " FROM fed_sent f LEFT JOIN events e ON e.seq = f.seq"
    " WHERE f.peer = ?1 AND (f.sent > ?2 OR (f.sent = ?2 AND f.seq > ?3))"
    " ORDER BY f.sent, f.seq LIMIT ?4";

static char *text_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? kz_xstrdup((const char *)t) : NULL;
}

static void add_sent_row(struct sentq_job *j, sqlite3_stmt *s)
{
    struct kz_store_sent_row *r;

    if (j->n == j->cap) {
        j->cap = j->cap ? 2 * j->cap : 64;
        j->rows = kz_xrealloc(j->rows, j->cap * sizeof(*j->rows));
    }
    r = &j->rows[j->n++];
    r->sent_us = sqlite3_column_int64(s, 0);
    r->seq = (uint64_t)sqlite3_column_int64(s, 1);
    r->uid = text_dup(s, 2);
    r->type = text_dup(s, 3);
    r->time_us = sqlite3_column_int64(s, 4);
    r->label = text_dup(s, 5);
    r->origin_nation = text_dup(s, 6);
}

static void run_sentq(struct kz__db *db, struct kz__job *job)
{
    struct sentq_job *j = (struct sentq_job *)job;
    sqlite3_stmt *s = kz__db_stmt(db, sql_sent_rows);
    int rc = SQLITE_ERROR;

    if (s) {
        kz__bind_text(s, 1, j->q.peer);
        sqlite3_bind_int64(s, 2, j->q.after_sent_us);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)j->q.after_seq);
        sqlite3_bind_int64(s, 4, j->q.limit);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW)
            add_sent_row(j, s);
        sqlite3_reset(s);
    }
    job->status = rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, "SELECT FROM fed_sent", rc);
}

static void deliver_sentq(struct kz__job *job)
{
    struct sentq_job *j = (struct sentq_job *)job;
    bool ok = job->status == KZ_OK;

    j->done(job->ud, job->status, ok ? j->rows : NULL, ok ? j->n : 0);
}

static void release_sentq(struct kz__job *job)
{
    struct sentq_job *j = (struct sentq_job *)job;

    for (size_t i = 0; i < j->n; i++) {
        free(j->rows[i].uid);
        free(j->rows[i].type);
        free(j->rows[i].label);
        free(j->rows[i].origin_nation);
    }
    free(j->rows);
}

static void pg_run_sentq(struct kz__db *db, struct kz__job *job)
{
    struct sentq_job *j = (struct sentq_job *)job;

    job->status = kz__pg_sent_query(db, &j->q, &j->rows, &j->n);
    j->cap = j->n;
}

static const struct kz__job_ops sentq_ops = {
    .table = "fed_sent",
    .read = run_sentq,
    .pg_read = pg_run_sentq,
    .deliver = deliver_sentq,
    .release = release_sentq,
};

void kz_store_fed_sent_query(struct kz_store *st, const struct kz_store_sent_query *q,
                             kz_store_sent_cb done, void *ud)
{
    struct sentq_job *j = kz__job_new(&sentq_ops, sizeof(*j), kz__str_size(q->peer));
    char *p = j->data;

    j->q = *q;
    j->q.peer = kz__pack_str(&p, q->peer);
    j->done = done;
    j->job.ud = ud;
    j->job.notify = true;
    if (!q->peer || q->limit < 1 || q->limit > SENT_MAX_LIMIT) {
        kz__store_finish_early(st, &j->job, KZ_ERR_INVAL);
        return;
    }
    kz__store_submit(st, &j->job);
}
