/*
 * pg_events.c - the events and tracks tables on PostgreSQL: the batch's
 * events in multi-row INSERTs, each uid's newest to tracks before COMMIT,
 * and the startup load.
 *
 * A row's idempotency key is (origin_node, origin_seq): this instance's
 * node id and the event's seq.  ON CONFLICT DO NOTHING skips a row that is
 * already stored; RETURNING says which rows went in, and a skipped row is
 * then either the same event written again (its key is stored with its uid:
 * KZ_OK, as the first write was) or another event with a seq already taken
 * (refused alone: KZ_ERR_DB, as on SQLite).  Nothing aborts the transaction, so no savepoints.
 *
 * The tracks table is written in every batch (no lazy `latest` as on SQLite:
 * one multi-row upsert per batch is cheap next to the round trip), the
 * newest event per uid, never replacing a newer one; a deletion is applied
 * in queue order.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

#define EV_COLS 22
/* Points outside these are not stored as positions (the codec never passes one). */

#define POS_SQL(x, y, z)                                                                           \
    "ST_SetSRID(ST_MakePoint(" x "::float8, " y "::float8, " z "::float8), 4326)::geography"

static const struct kz__pg_rows ev_insert = {
    .name = "kz_ev",
    .head = "INSERT INTO events(seq, uid, type, time, start, stale, recv_time, label, origin_input,"
            " origin_user, xml, origin_nation, origin_groups, fed_provenance, fed_hops,"
            " fed_max_hops, fed_seq, origin_node, origin_seq, pos) VALUES ",
    .row = "(coalesce($1::bigint, "
           "nextval('events_seq')),$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$"
           "19," POS_SQL("$20", "$21", "$22") ")",
    .tail = " ON CONFLICT DO NOTHING RETURNING origin_seq, seq",
    .cols = EV_COLS,
    .id = 0,
};

/* The text of one row's parameters; nums holds the numbers' digits. */
struct ev_params {
    char nums[13][KZ__PG_NUM];
};

static const struct kz__rec *rec_of(const struct kz__job *job)
{
    return &((const struct kz__rec_job *)job)->rec;
}

static void bind_row(const char **v, struct ev_params *p, const struct kz__rec *r,
                     const struct kz__pg *pg)
{
    bool fed = r->fed_provenance != NULL, pos = r->has_point;

    v[0] = kz__pg_i64(p->nums[0], (int64_t)r->seq);
    v[1] = r->uid;
    v[2] = r->type;
    v[3] = kz__pg_i64(p->nums[1], r->time);
    v[4] = kz__pg_i64(p->nums[2], r->start);
    v[5] = kz__pg_i64(p->nums[3], r->stale);
    v[6] = kz__pg_i64(p->nums[4], r->recv_time);
    v[7] = r->label;
    v[8] = r->origin_input;
    v[9] = r->origin_user;
    v[10] = r->xml;
    v[11] = r->origin_nation;
    v[12] = r->origin_groups;
    v[13] = r->fed_provenance;
    v[14] = fed ? kz__pg_i64(p->nums[5], r->fed_hops) : NULL;
    v[15] = fed ? kz__pg_i64(p->nums[6], r->fed_max_hops) : NULL;
    v[16] = fed && r->fed_seq ? kz__pg_i64(p->nums[7], (int64_t)r->fed_seq) : NULL;
    v[17] = pg->node_id;
    v[18] = v[0];
    if (pg->shared)
        v[0] = NULL; /* the database numbers the row; r->seq is its origin_seq */
    v[19] = pos ? kz__pg_f64(p->nums[8], r->lon) : NULL;
    v[20] = pos ? kz__pg_f64(p->nums[9], r->lat) : NULL;
    v[21] = pos ? kz__pg_f64(p->nums[10], r->hae) : NULL;
}

/* A row ON CONFLICT skipped: the same event again (KZ_OK), or a seq another one holds. */
static int skipped(struct kz__pg *pg, const struct kz__rec *r, int *status)
{
    static const char sql[] = "SELECT 1 FROM events WHERE origin_node = $1 AND origin_seq = $2"
                              " AND uid = $3";
    char seq[KZ__PG_NUM];
    const char *v[3] = {pg->node_id, kz__pg_i64(seq, (int64_t)r->seq), r->uid};
    PGresult *res = kz__pg_query(pg, sql, 3, v);
    int err = kz__pg_ok(res) ? KZ_OK : kz__pg_fail(pg, "SELECT FROM events", res);

    if (err == KZ_OK && PQntuples(res) == 1) {
        *status = KZ_OK;
    } else if (err == KZ_OK) {
        *status = KZ_ERR_DB;
        kz_log(KZ_LOG_ERROR, "store: postgres refused a row", "table=events seq=%llu uid=%s",
               (unsigned long long)r->seq, r->uid);
    }
    PQclear(res);
    return err;
}

/* A row RETURNING gave back: the seq it was written with (its origin_seq), and its row's. */
struct written {
    uint64_t origin_seq, seq;
};

static int cmp_written(const void *a, const void *b)
{
    uint64_t x = ((const struct written *)a)->origin_seq;
    uint64_t y = ((const struct written *)b)->origin_seq;
    return x < y ? -1 : x > y;
}

/* jobs[0..n) (n a power of two) in one statement; each status set. */
static int insert_rows(struct kz__pg *pg, struct kz__job **jobs, size_t n)
{
    const char **v = kz_xmalloc(n * EV_COLS * sizeof(*v));
    struct ev_params *p = kz_xmalloc(n * sizeof(*p));
    struct written *in = NULL, *w;
    PGresult *r;
    int err = KZ_OK, rows;

    for (size_t i = 0; i < n; i++)
        bind_row(v + i * EV_COLS, &p[i], rec_of(jobs[i]), pg);
    r = kz__pg_rows_exec(pg, &ev_insert, n, v);
    if (!kz__pg_ok(r)) {
        err = kz__pg_fail(pg, "INSERT INTO events", r);
        goto out;
    }
    rows = PQntuples(r);
    in = kz_xmalloc(((size_t)rows + 1) * sizeof(*in));
    for (int i = 0; i < rows; i++)
        in[i] = (struct written){(uint64_t)kz__pg_int(r, i, 0), (uint64_t)kz__pg_int(r, i, 1)};
    qsort(in, (size_t)rows, sizeof(*in), cmp_written);
    for (size_t i = 0; i < n && err == KZ_OK; i++) {
        struct kz__rec *rec = &((struct kz__rec_job *)jobs[i])->rec;
        struct written key = {rec->seq, 0};
        jobs[i]->status = KZ_OK;
        w = bsearch(&key, in, (size_t)rows, sizeof(*in), cmp_written);
        if (!w)
            err = skipped(pg, rec, &jobs[i]->status);
        else if (pg->shared)
            rec->seq = w->seq; /* the tracks row names the events row */
    }
out:
    PQclear(r);
    free(in);
    free(p);
    free(v);
    return err;
}

/* An event without a seq: the database gives it the next one. */
static int insert_unnumbered(struct kz__pg *pg, struct kz__job *job)
{
    static const char sql[] = "SELECT coalesce(max(seq), 0) + 1 FROM events";
    struct kz__rec *r = &((struct kz__rec_job *)job)->rec;
    PGresult *res = PQexec(pg->conn, pg->shared ? "SELECT nextval('events_seq')" : sql);
    int err;

    if (!kz__pg_ok(res) || PQntuples(res) != 1) {
        err = kz__pg_fail(pg, "SELECT max(seq)", res);
        PQclear(res);
        return err;
    }
    r->seq = (uint64_t)kz__pg_int(res, 0, 0);
    PQclear(res);
    return insert_rows(pg, &job, 1);
}

int kz__pg_write_events(struct kz__db *db, struct kz__job **jobs, size_t n)
{
    size_t i = 0, run, c;
    int err = KZ_OK;

    while (i < n && err == KZ_OK) {
        if (!rec_of(jobs[i])->seq) {
            err = insert_unnumbered(db->pg, jobs[i++]);
            continue;
        }
        for (run = 0; i + run < n && rec_of(jobs[i + run])->seq; run++)
            ;
        c = kz__pg_chunk(run);
        err = insert_rows(db->pg, jobs + i, c);
        i += c;
    }
    return err;
}

int kz__pg_write_event(struct kz__db *db, struct kz__job *job)
{
    int err = kz__pg_write_events(db, &job, 1);
    return err == KZ_OK && job->status != KZ_OK ? KZ_ERR_EXISTS : err;
}

int kz__pg_write_nothing(struct kz__db *db, struct kz__job *job)
{
    (void)db;
    (void)job;
    return KZ_OK;
}
