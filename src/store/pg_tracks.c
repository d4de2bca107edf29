/*
 * pg_tracks.c - the tracks table on PostgreSQL: each uid's newest event,
 * written in the batch that brings it (before COMMIT), and read back at
 * startup.  An older event arriving late never replaces a newer one; a
 * deletion (t-x-d-d) applies in queue order: what came before it is
 * written first, then the row goes.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

#define TR_COLS 13

static const struct kz__pg_rows tr_upsert = {
    .name = "kz_tr",
    .head = "INSERT INTO tracks(uid, seq, type, stale, label, origin_input, origin_user, xml,"
            " origin_nation, origin_groups, pos) VALUES ",
    .row = "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,"
           "ST_SetSRID(ST_MakePoint($11::float8, $12::float8, $13::float8), 4326)::geography)",
    .tail = " ON CONFLICT (uid) DO UPDATE SET seq = excluded.seq, type = excluded.type,"
            " stale = excluded.stale, label = excluded.label,"
            " origin_input = excluded.origin_input, origin_user = excluded.origin_user,"
            " xml = excluded.xml, origin_nation = excluded.origin_nation,"
            " origin_groups = excluded.origin_groups, pos = excluded.pos"
            " WHERE excluded.seq > tracks.seq",
    .cols = TR_COLS,
    .id = 1,
};

struct tr_params {
    char nums[5][KZ__PG_NUM];
};

static void bind_row(const char **v, struct tr_params *p, const struct kz__rec *r)
{
    bool pos = r->has_point;

    v[0] = r->uid;
    v[1] = kz__pg_i64(p->nums[0], (int64_t)r->seq);
    v[2] = r->type;
    v[3] = kz__pg_i64(p->nums[1], r->stale);
    v[4] = r->label;
    v[5] = r->origin_input;
    v[6] = r->origin_user;
    v[7] = r->xml;
    v[8] = r->origin_nation;
    v[9] = r->origin_groups;
    v[10] = pos ? kz__pg_f64(p->nums[2], r->lon) : NULL;
    v[11] = pos ? kz__pg_f64(p->nums[3], r->lat) : NULL;
    v[12] = pos ? kz__pg_f64(p->nums[4], r->hae) : NULL;
}

/* By uid, newest first: the first of each uid is the one to write. */
static int by_uid_newest(const void *a, const void *b)
{
    const struct kz__rec *x = *(const struct kz__rec *const *)a;
    const struct kz__rec *y = *(const struct kz__rec *const *)b;
    int c = strcmp(x->uid, y->uid);

    return c ? c : (x->seq < y->seq) - (x->seq > y->seq);
}

/* recs[0..n) of distinct uids, in multi-row statements. */
static int upsert(struct kz__pg *pg, const struct kz__rec **recs, size_t n)
{
    const char **v = kz_xmalloc(KZ__PG_ROWS_MAX * TR_COLS * sizeof(*v));
    struct tr_params *p = kz_xmalloc(KZ__PG_ROWS_MAX * sizeof(*p));
    int err = KZ_OK;

    for (size_t first = 0, c; first < n && err == KZ_OK; first += c) {
        c = kz__pg_chunk(n - first);
        for (size_t i = 0; i < c; i++)
            bind_row(v + i * TR_COLS, &p[i], recs[first + i]);
        PGresult *r = kz__pg_rows_exec(pg, &tr_upsert, c, v);
        if (!kz__pg_ok(r))
            err = kz__pg_fail(pg, "INSERT INTO tracks", r);
        PQclear(r);
    }
    free(p);
    free(v);
    return err;
}

/* recs[0..*n) to the table, each uid's newest only; empties the list. */
static int flush(struct kz__pg *pg, const struct kz__rec **recs, size_t *n)
{
    size_t k = 0;
    int err;

    if (*n == 0)
        return KZ_OK;
    qsort(recs, *n, sizeof(*recs), by_uid_newest);
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || strcmp(recs[k - 1]->uid, recs[i]->uid) != 0)
            recs[k++] = recs[i];
    err = upsert(pg, recs, k);
    *n = 0;
    return err;
}

static int delete_uid(struct kz__pg *pg, const char *uid)
{
    PGresult *r = kz__pg_query(pg, "DELETE FROM tracks WHERE uid = $1", 1, &uid);
    int err = kz__pg_ok(r) ? KZ_OK : kz__pg_fail(pg, "DELETE FROM tracks", r);

    PQclear(r);
    return err;
}

int kz__pg_tracks_apply(struct kz__db *db, struct kz__job *batch)
{
    const struct kz__rec **recs;
    size_t n = 0, cap = 0;
    int err = KZ_OK;

    for (struct kz__job *j = batch; j; j = j->next)
        cap += j->ops == &kz__event_append_ops;
    recs = kz_xmalloc((cap + 1) * sizeof(*recs));
    for (struct kz__job *j = batch; j && err == KZ_OK; j = j->next) {
        const struct kz__rec *r = &((const struct kz__rec_job *)j)->rec;
        if (j->status != KZ_OK)
            continue;
        if (j->ops == &kz__event_append_ops)
            recs[n++] = r;
        else if (j->ops == &kz__track_delete_ops && (err = flush(db->pg, recs, &n)) == KZ_OK)
            err = delete_uid(db->pg, r->uid);
    }
    if (err == KZ_OK)
        err = flush(db->pg, recs, &n);
    free(recs);
    return err;
}

/* ---- startup ------------------------------------------------------------------- */

/* Tracks count too: retention may have emptied the events table. */
static int max_seq_of(struct kz__pg *pg, uint64_t *out)
{
    PGresult *r = PQexec(pg->conn, "SELECT greatest(coalesce((SELECT max(seq) FROM events), 0),"
                                   " coalesce((SELECT max(seq) FROM tracks), 0))");
    int err = kz__pg_ok(r) && PQntuples(r) == 1 ? KZ_OK : kz__pg_fail(pg, "SELECT max(seq)", r);

    if (err == KZ_OK)
        *out = (uint64_t)kz__pg_int(r, 0, 0);
    PQclear(r);
    return err;
}

int kz__pg_load(struct kz__db *db, int64_t now_us, kz_store_track_fn fn, void *ud,
                uint64_t *max_seq)
{
    static const char sql[] = "SELECT seq, xml, label, origin_input, origin_user, origin_nation,"
                              " origin_groups FROM tracks WHERE stale > $1 ORDER BY seq";
    struct kz__pg *pg = db->pg;
    char now[KZ__PG_NUM];
    const char *v[1] = {kz__pg_i64(now, now_us)};
    uint64_t max = 0;
    PGresult *r;
    int err;

    if ((err = max_seq_of(pg, &max)) != KZ_OK)
        return err;
    r = kz__pg_query(pg, sql, 1, v);
    if (!kz__pg_ok(r)) {
        err = kz__pg_fail(pg, "SELECT FROM tracks", r);
        PQclear(r);
        return err;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        struct kz_store_origin o = {kz__pg_text(r, i, 3), kz__pg_text(r, i, 4),
                                    kz__pg_text(r, i, 5), kz__pg_text(r, i, 6)};
        fn(ud, (uint64_t)kz__pg_int(r, i, 0), PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1),
           kz__pg_text(r, i, 2), &o);
    }
    PQclear(r);
    if (max_seq)
        *max_seq = max;
    return KZ_OK;
}
