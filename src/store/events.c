/*
 * events.c - the events table: the log of every accepted event, written in
 * the store thread's batches and read by kz_store_query (query.c builds the
 * SQL).  Each row keeps who sent it (input, user) and that sender's nation
 * and OUT groups when it sent: a later user of the same name inherits
 * nothing.  The latest state per uid is derived from the same jobs (tracks.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define QUERY_MAX_LIMIT 10000

#define EV_COLS 20
#define EV_INSERT                                                                                  \
    "INSERT OR FAIL INTO events(seq, uid, type, time, start, stale, recv_time, label,"             \
    " origin_input, origin_user, xml, origin_nation, origin_groups, fed_provenance, fed_hops,"     \
    " fed_max_hops, fed_seq, uid_prev, lon_e7, lat_e7) VALUES "
#define EV_ROW "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"

/*
 * A run of events goes in as few statements as its size's binary digits.
 * OR FAIL: a refused row stops its statement but keeps the rows before it
 * (sqlite3_changes() counts them), so SQLite needs no statement journal to
 * undo them (a multi-row ABORT would write one, to a temporary file).
 */
static const char *const sql_insert[KZ__ROWS_N] = KZ__ROWS_SQL(EV_INSERT, EV_ROW, "");

static const struct kz__rec *rec_of(const struct kz__job *job)
{
    return &((const struct kz__rec_job *)job)->rec;
}

/* The federation columns (row parameters b+14..b+17): NULL for an event
 * that came in any other way. */
static void bind_fed(sqlite3_stmt *s, int b, const struct kz__rec *r)
{
    if (!r->fed_provenance) {
        for (int i = 14; i <= 17; i++)
            sqlite3_bind_null(s, b + i);
        return;
    }
    kz__bind_text(s, b + 14, r->fed_provenance);
    sqlite3_bind_int64(s, b + 15, r->fed_hops);
    sqlite3_bind_int64(s, b + 16, r->fed_max_hops);
    if (r->fed_seq)
        sqlite3_bind_int64(s, b + 17, (sqlite3_int64)r->fed_seq);
    else
        sqlite3_bind_null(s, b + 17);
}

/* The row whose first parameter is b + 1; `prev` is its uid's previous row (heads.c). */
static void bind_row(sqlite3_stmt *s, int b, const struct kz__rec *r, uint64_t prev)
{
    if (r->seq)
        sqlite3_bind_int64(s, b + 1, (sqlite3_int64)r->seq);
    else
        sqlite3_bind_null(s, b + 1);
    kz__bind_text(s, b + 2, r->uid);
    kz__bind_text(s, b + 3, r->type);
    sqlite3_bind_int64(s, b + 4, r->time);
    sqlite3_bind_int64(s, b + 5, r->start);
    sqlite3_bind_int64(s, b + 6, r->stale);
    sqlite3_bind_int64(s, b + 7, r->recv_time);
    kz__bind_text(s, b + 8, r->label);
    kz__bind_text(s, b + 9, r->origin_input);
    kz__bind_text(s, b + 10, r->origin_user);
    sqlite3_bind_text64(s, b + 11, r->xml, r->xml_len, SQLITE_STATIC, SQLITE_UTF8);
    kz__bind_text(s, b + 12, r->origin_nation);
    kz__bind_text(s, b + 13, r->origin_groups);
    bind_fed(s, b, r);
    if (prev)
        sqlite3_bind_int64(s, b + 18, (sqlite3_int64)prev);
    else
        sqlite3_bind_null(s, b + 18);
    kz__geo_bind(s, b + 19, r);
}

/* Sets r->seq when it was 0 (the database picks it, so the uid's head moves after). */
static int write_event(struct kz__db *db, struct kz__job *job)
{
    struct kz__rec *r = &((struct kz__rec_job *)job)->rec;
    sqlite3_stmt *s = kz__db_stmt(db, sql_insert[0]);
    uint64_t prev = 0;
    int rc;
    bool linked = r->seq != 0;

    if (!s)
        return SQLITE_ERROR;
    rc = linked ? kz__heads_link(db, r->uid, r->seq, &prev) : kz__heads_get(db, r->uid, &prev);
    if (rc != SQLITE_DONE)
        return rc;
    bind_row(s, 0, r, prev);
    rc = kz__db_step(s);
    if (rc == SQLITE_DONE && !linked) {
        r->seq = (uint64_t)sqlite3_last_insert_rowid(db->db);
        rc = kz__heads_link(db, r->uid, r->seq, &prev); /* cached by kz__heads_get */
        linked = false;                                 /* the row is in: keep the link */
    }
    kz__heads_undo(db, linked && rc != SQLITE_DONE ? 1 : 0); /* clears the undo log */
    return rc;
}

/* jobs[0..n) in one statement, n a power of two up to KZ__ROWS_MAX; *written of them went in. */
static int write_rows(struct kz__db *db, struct kz__job **jobs, size_t n, size_t *written)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_insert[kz__rows_index(n)]);
    size_t i;
    uint64_t prev;
    int rc = SQLITE_DONE;

    *written = 0;
    if (!s)
        return SQLITE_ERROR;
    for (i = 0; i < n && rc == SQLITE_DONE; i++) {
        const struct kz__rec *r = rec_of(jobs[i]);
        if ((rc = kz__heads_link(db, r->uid, r->seq, &prev)) == SQLITE_DONE)
            bind_row(s, (int)i * EV_COLS, r, prev);
    }
    if (rc != SQLITE_DONE) {
        kz__heads_undo(db, i - 1);
        return rc;
    }
    rc = kz__db_step(s);
    *written = rc == SQLITE_DONE ? n : (size_t)sqlite3_changes64(db->db);
    kz__heads_undo(db, n - *written);
    return rc;
}

/* The largest power of two <= n, at most KZ__ROWS_MAX. */
static size_t chunk_of(size_t n)
{
    size_t c = KZ__ROWS_MAX;

    while (c > n)
        c /= 2;
    return c;
}

/*
 * Events that carry their seq go in multi-row statements; one without (the
 * database picks it) alone, to read back its rowid.  Stops at the first
 * failing row; *done counts the rows written before it.
 */
static int write_events(struct kz__db *db, struct kz__job **jobs, size_t n, size_t *done)
{
    size_t i = 0, run, c, written;
    int rc = SQLITE_DONE;

    while (i < n && rc == SQLITE_DONE) {
        if (!rec_of(jobs[i])->seq) {
            if ((rc = write_event(db, jobs[i])) == SQLITE_DONE)
                i++;
            continue;
        }
        for (run = 0; i + run < n && rec_of(jobs[i + run])->seq; run++)
            ;
        c = chunk_of(run);
        rc = write_rows(db, jobs + i, c, &written);
        i += written;
    }
    *done = i;
    return rc;
}

int kz__events_after_writes(struct kz__db *db, struct kz__job *batch)
{
    int rc = kz__geo_after_writes(db, batch);

    return rc == SQLITE_DONE ? kz__tracks_after_writes(db, batch) : rc;
}

const struct kz__job_ops kz__event_append_ops = {
    .table = "events",
    .write = write_event,
    .write_many = write_events,
    .after_writes = kz__events_after_writes,
    .counted = true,
    .pg_write = kz__pg_write_event,
    .pg_write_many = kz__pg_write_events,
};

static struct kz__job *event_job(const struct kz_event *ev, const char *xml, size_t xml_len)
{
    size_t extra = kz__str_size(ev->uid) + kz__str_size(ev->type) + kz__str_size(ev->access) +
                   kz__str_size(ev->origin_input) + kz__str_size(ev->origin_user) +
                   kz__str_size(ev->origin_nation) + kz__str_size(ev->origin_groups) +
                   kz__str_size(ev->fed_provenance) + xml_len + 1;
    struct kz__rec_job *j = kz__job_new(&kz__event_append_ops, sizeof(*j), extra);
    struct kz__rec *r = &j->rec;
    char *p = j->data;

    r->seq = ev->seq;
    r->time = ev->time;
    r->start = ev->start;
    r->stale = ev->stale;
    r->recv_time = ev->recv_time;
    r->uid = kz__pack_str(&p, ev->uid);
    r->type = kz__pack_str(&p, ev->type);
    r->label = kz__pack_str(&p, ev->access);
    r->origin_input = kz__pack_str(&p, ev->origin_input);
    r->origin_user = kz__pack_str(&p, ev->origin_user);
    r->origin_nation = kz__pack_str(&p, ev->origin_nation);
    r->origin_groups = kz__pack_str(&p, ev->origin_groups);
    r->fed_provenance = kz__pack_str(&p, ev->fed_provenance);
    r->fed_hops = ev->fed_hops;
    r->fed_max_hops = ev->fed_max_hops;
    r->fed_seq = ev->fed_seq;
    r->hae = ev->hae;
    r->xml = kz__pack(&p, xml ? xml : "", xml ? xml_len : 0);
    r->xml_len = xml ? xml_len : 0;
    kz__geo_point(ev, r);
    return &j->job;
}

void kz_store_append(struct kz_store *st, const struct kz_event *ev, const char *xml,
                     size_t xml_len, kz_store_ack_cb cb, void *ud)
{
    struct kz__job *job = event_job(ev, xml, xml_len);

    job->ack = cb;
    job->ud = ud;
    job->notify = cb != NULL;
    if (!ev->uid || !ev->type || !xml) {
        kz__store_finish_early(st, job, KZ_ERR_INVAL);
        return;
    }
    kz__store_submit(st, job);
}

/* ---- queries ------------------------------------------------------------- */

struct query_job {
    struct kz__job job;
    kz_store_query_cb done;
    struct kz__query query;
    char data[];
};

static void run_query(struct kz__db *db, struct kz__job *job)
{
    job->status = kz__db_query(db, &((struct query_job *)job)->query);
}

static void deliver_query(struct kz__job *job)
{
    struct query_job *j = (struct query_job *)job;
    bool ok = job->status == KZ_OK;

    j->done(job->ud, job->status, ok ? j->query.rows : NULL, ok ? j->query.n_rows : 0);
}

static void release_query(struct kz__job *job)
{
    kz__query_rows_free(&((struct query_job *)job)->query);
}

static const struct kz__job_ops query_ops = {
    .table = "events",
    .read = run_query,
    .pg_read = run_query, /* kz__db_query hands it to pg_query.c */
    .deliver = deliver_query,
    .release = release_query,
};

void kz_store_query(struct kz_store *st, const struct kz_store_query *q, kz_store_query_cb done,
                    void *ud)
{
    size_t extra = kz__str_size(q->uid) + kz__str_size(q->type);
    struct query_job *j = kz__job_new(&query_ops, sizeof(*j), extra);
    struct kz_store_query *c = &j->query.q;
    char *p = j->data;

    *c = *q;
    c->uid = kz__pack_str(&p, q->uid);
    c->type = kz__pack_str(&p, q->type);
    j->done = done;
    j->job.ud = ud;
    j->job.notify = true;
    if (q->limit < 1 || q->limit > QUERY_MAX_LIMIT ||
        (q->has_bbox && (q->forward || !kz_store_bbox_valid(&q->bbox))) ||
        (q->latest && (!q->forward || q->has_bbox || q->uid || q->type))) {
        kz__store_finish_early(st, &j->job, KZ_ERR_INVAL);
        return;
    }
    kz__store_submit(st, &j->job);
}
