/*
 * pg_fedlog.c - what the federation keeps in the store, on PostgreSQL: the
 * SQL fedlog.c runs on SQLite for the same jobs and calls (each link's sent
 * log and cursor, the startup marks, where an outbox starts, what crossed).
 */
#include <stdlib.h>

#include "store/pg.h"

static const struct kz__pg_rows sent_insert = {
    .name = "kz_sent",
    .head = "INSERT INTO fed_sent(peer, sent, seq) VALUES ",
    .row = "($1,$2,$3)",
    .tail = " ON CONFLICT DO NOTHING",
    .cols = 3,
    .id = 2,
};

int kz__pg_fed_sent_write(struct kz__db *db, const char *peer, const struct kz_store_sent *items,
                          size_t n, uint64_t cursor)
{
    static const char sql_cursor[] = "INSERT INTO fed_cursor(peer, seq) VALUES ($1, $2)"
                                     " ON CONFLICT(peer) DO UPDATE"
                                     " SET seq = greatest(fed_cursor.seq, excluded.seq)";
    const char *v[KZ__PG_ROWS_MAX * 3];
    char(*nums)[2][KZ__PG_NUM] = kz_xmalloc(KZ__PG_ROWS_MAX * sizeof(*nums));
    char seq[KZ__PG_NUM];
    int err = KZ_OK;

    for (size_t first = 0, c; first < n && err == KZ_OK; first += c) {
        c = kz__pg_chunk(n - first);
        for (size_t i = 0; i < c; i++) {
            v[3 * i] = peer;
            v[3 * i + 1] = kz__pg_i64(nums[i][0], items[first + i].sent_us);
            v[3 * i + 2] = kz__pg_i64(nums[i][1], (int64_t)items[first + i].seq);
        }
        PGresult *r = kz__pg_rows_exec(db->pg, &sent_insert, c, v);
        if (!kz__pg_ok(r))
            err = kz__pg_fail(db->pg, "INSERT INTO fed_sent", r);
        PQclear(r);
    }
    free(nums);
    if (err != KZ_OK)
        return err;
    const char *cv[2] = {peer, kz__pg_i64(seq, (int64_t)cursor)};
    return kz__pg_run(db->pg, "INSERT INTO fed_cursor", sql_cursor, 2, cv);
}

/* The first column of the first row as an integer; *found false for no row or NULL. */
static int one_int(struct kz__pg *pg, const char *sql, int n, const char *const *v, int64_t *out,
                   bool *found)
{
    PGresult *r = kz__pg_query(pg, sql, n, v);
    int err = kz__pg_ok(r) ? KZ_OK : kz__pg_fail(pg, "SELECT fed", r);

    *found = err == KZ_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0);
    if (*found)
        *out = kz__pg_int(r, 0, 0);
    PQclear(r);
    return err;
}

int kz__pg_fed_marks(struct kz__db *db, const char *peer, const char *input,
                     struct kz_store_fed_marks *m)
{
    int64_t v = 0;
    bool found;
    int err = one_int(db->pg, "SELECT seq FROM fed_cursor WHERE peer = $1", 1, &peer, &v, &found);

    if (err == KZ_OK && found)
        m->cursor = (uint64_t)v, m->has_cursor = true;
    if (err == KZ_OK)
        err = one_int(db->pg,
                      "SELECT fed_seq FROM events WHERE origin_input = $1 AND fed_seq IS NOT NULL"
                      " ORDER BY seq DESC LIMIT 1",
                      1, &input, &v, &found);
    if (err == KZ_OK && found)
        m->received = (uint64_t)v;
    if (err == KZ_OK)
        err = one_int(db->pg, "SELECT max(seq) FROM events", 0, NULL, &v, &found);
    if (err == KZ_OK && found)
        m->last_seq = (uint64_t)v;
    return err;
}

/* sql with two integer parameters; its integer answer (0 for none). */
static int64_t two_ints(struct kz__pg *pg, const char *sql, int64_t a, int64_t b, int *err)
{
    char na[KZ__PG_NUM], nb[KZ__PG_NUM];
    const char *v[2] = {kz__pg_i64(na, a), kz__pg_i64(nb, b)};
    int64_t out = 0;
    bool found;

    if (*err == KZ_OK)
        *err = one_int(pg, sql, 2, v, &out, &found);
    return out;
}

int kz__pg_outbox_bound(struct kz__db *db, struct kz_store_outbox_bound *b)
{
    static const char sql_bytes[] =
        "SELECT seq FROM (SELECT seq, sum(octet_length(xml)) OVER (ORDER BY seq DESC) AS total"
        " FROM events WHERE seq > $1) t WHERE total > $2 ORDER BY seq DESC LIMIT 1";
    static const char sql_age[] = "SELECT max(seq) FROM events WHERE seq > $1 AND recv_time < $2";
    static const char sql_count[] = "SELECT count(*) FROM events WHERE seq > $1 AND seq <= $2";
    /* Retention may have removed the newest rows: a shared database's sequence still counts
     * them (is_called: it has handed a number out). */
    static const char sql_last[] =
        "SELECT greatest((SELECT max(seq) FROM events),"
        " (SELECT CASE WHEN is_called THEN last_value END FROM events_seq))";
    int64_t after = (int64_t)b->after_seq, start = after, v;
    int err = KZ_OK;
    bool found;

    if (b->since_us && (v = two_ints(db->pg, sql_age, after, b->since_us, &err)) > start)
        start = v;
    if (b->max_bytes && (v = two_ints(db->pg, sql_bytes, after, b->max_bytes, &err)) > start)
        start = v;
    b->skipped = start > after ? (uint64_t)two_ints(db->pg, sql_count, after, start, &err) : 0;
    b->start_seq = (uint64_t)start;
    if (err == KZ_OK && (err = one_int(db->pg, sql_last, 0, NULL, &v, &found)) == KZ_OK)
        b->last_seq = found ? (uint64_t)v : 0;
    return err;
}

static char *dup_or_null(const PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? NULL : kz_xstrdup(PQgetvalue(r, i, c));
}

int kz__pg_sent_query(struct kz__db *db, const struct kz_store_sent_query *q,
                      struct kz_store_sent_row **rows, size_t *n)
{
    static const char sql[] =
        "SELECT f.sent, f.seq, e.uid, e.type, e.time, e.label, e.origin_nation"
        " FROM fed_sent f LEFT JOIN events e ON e.seq = f.seq"
        " WHERE f.peer = $1 AND (f.sent > $2 OR (f.sent = $2 AND f.seq > $3))"
        " ORDER BY f.sent, f.seq LIMIT $4";
    char a[KZ__PG_NUM], b[KZ__PG_NUM], c[KZ__PG_NUM];
    const char *v[4] = {q->peer, kz__pg_i64(a, q->after_sent_us),
                        kz__pg_i64(b, (int64_t)q->after_seq), kz__pg_i64(c, q->limit)};
    PGresult *r = kz__pg_query(db->pg, sql, 4, v);

    if (!kz__pg_ok(r)) {
        kz__pg_fail(db->pg, "SELECT FROM fed_sent", r);
        PQclear(r);
        return KZ_ERR_DB;
    }
    *n = (size_t)PQntuples(r);
    *rows = kz_xcalloc(*n ? *n : 1, sizeof(**rows));
    for (int i = 0; i < (int)*n; i++) {
        struct kz_store_sent_row *row = &(*rows)[i];
        row->sent_us = kz__pg_int(r, i, 0);
        row->seq = (uint64_t)kz__pg_int(r, i, 1);
        row->uid = dup_or_null(r, i, 2);
        row->type = dup_or_null(r, i, 3);
        row->time_us = kz__pg_int(r, i, 4);
        row->label = dup_or_null(r, i, 5);
        row->origin_nation = dup_or_null(r, i, 6);
    }
    PQclear(r);
    return KZ_OK;
}
