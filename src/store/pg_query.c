/*
 * pg_query.c - GET /api/v1/events on PostgreSQL: the same answers as
 * query.c gives on SQLite (newest first, older than the page's cursor; or a
 * federation link's outbox, oldest first, newer than its cursor), with the
 * bbox filter on the GiST index of events' positions.  The statement is
 * built per query with only the filters asked for; the values go as
 * parameters.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

#define MAX_PARAMS 16

struct params {
    const char *v[MAX_PARAMS];
    char nums[MAX_PARAMS][KZ__PG_NUM];
    int n;
};

/* Append `head` and $N, N a new parameter (its text in value, or a number). */
static void add(struct kz_sbuf *sql, struct params *p, const char *head, const char *value)
{
    KZ_ASSERT(p->n < MAX_PARAMS);
    p->v[p->n++] = value;
    kz_sbuf_adds(sql, head);
    kz_sbuf_addf(sql, "$%d", p->n);
}

static void add_int(struct kz_sbuf *sql, struct params *p, const char *head, int64_t v)
{
    add(sql, p, head, kz__pg_i64(p->nums[p->n], v));
}

/* A type ending in '*' is a prefix: type >= it (an index range, bytewise in "C") and starts
 * with it. */
static void add_type(struct kz_sbuf *sql, struct params *p, const char *type, char **prefix)
{
    size_t len = strlen(type);

    if (len == 0 || type[len - 1] != '*') {
        add(sql, p, " AND type = ", type);
        return;
    }
    if (len == 1)
        return; /* "*" matches everything */
    *prefix = kz_xstrndup(type, len - 1);
    add(sql, p, " AND type >= ", *prefix);
    kz_sbuf_addf(sql, " AND starts_with(type, $%d)", p->n);
}

/*
 * pos in the box west..east, south..north by the GiST index's test (&&).  Its boxes are
 * float4, so a point a hair outside an edge may pass: the exact comparison is in C (in_box),
 * not in SQL, where it would make the planner expect a few rows and pick a worse plan.
 */
static void add_box(struct kz_sbuf *sql, struct params *p, double west, double south, double east,
                    double north)
{
    const double edges[4] = {west, south, east, north};

    kz_sbuf_adds(sql, "pos::geometry && ST_MakeEnvelope(");
    for (int i = 0; i < 4; i++) {
        KZ_ASSERT(p->n < MAX_PARAMS);
        p->v[p->n] = kz__pg_f64(p->nums[p->n], edges[i]);
        p->n++;
        kz_sbuf_addf(sql, "$%d::float8, ", p->n);
    }
    kz_sbuf_adds(sql, "4326)");
}

/* The exact test, edges included; min_lon > max_lon crosses the antimeridian. */
static bool in_box(const struct kz_store_bbox *b, double lon, double lat)
{
    bool lon_in = b->min_lon <= b->max_lon ? lon >= b->min_lon && lon <= b->max_lon
                                           : lon >= b->min_lon || lon <= b->max_lon;
    return lon_in && lat >= b->min_lat && lat <= b->max_lat;
}

/* min_lon > max_lon crosses the antimeridian: two boxes (store.h). */
static void add_bbox(struct kz_sbuf *sql, struct params *p, const struct kz_store_bbox *b)
{
    kz_sbuf_adds(sql, " AND (");
    if (b->min_lon <= b->max_lon) {
        add_box(sql, p, b->min_lon, b->min_lat, b->max_lon, b->max_lat);
    } else {
        add_box(sql, p, b->min_lon, b->min_lat, 180.0, b->max_lat);
        kz_sbuf_adds(sql, " OR ");
        add_box(sql, p, -180.0, b->min_lat, b->max_lon, b->max_lat);
    }
    kz_sbuf_adds(sql, ")");
}

static void build(struct kz_sbuf *sql, struct params *p, const struct kz_store_query *q,
                  char **prefix)
{
    kz_sbuf_adds(sql, "SELECT seq, recv_time, label, origin_input, origin_user, xml,"
                      " origin_nation, origin_groups, fed_provenance, fed_hops, fed_max_hops,"
                      " ST_X(pos::geometry), ST_Y(pos::geometry) FROM events WHERE true");
    if (q->uid)
        add(sql, p, " AND uid = ", q->uid);
    if (q->type)
        add_type(sql, p, q->type, prefix);
    if (q->since_us)
        add_int(sql, p, " AND recv_time >= ", q->since_us);
    if (q->until_us)
        add_int(sql, p, " AND recv_time < ", q->until_us);
    if (q->has_bbox)
        add_bbox(sql, p, &q->bbox);
    if (q->before_seq)
        add_int(sql, p, " AND seq < ", (int64_t)q->before_seq);
    if (q->latest)
        add_int(sql, p, " AND seq IN (SELECT seq FROM tracks WHERE stale > ", kz_now_us());
    if (q->latest)
        kz_sbuf_adds(sql, ")");
    if (q->forward) {
        add_int(sql, p, " AND seq > ", (int64_t)q->after_seq);
        kz_sbuf_adds(sql, " ORDER BY seq");
    } else {
        kz_sbuf_adds(sql, " ORDER BY seq DESC");
    }
    add_int(sql, p, " LIMIT ", q->limit);
}

static char *dup_or_null(const PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? NULL : kz_xstrdup(PQgetvalue(r, i, c));
}

/* Row i of r to qq (growing its array), unless the bbox's exact test refuses it. */
static void take_row(struct kz__query *qq, const PGresult *r, int i)
{
    struct kz_store_row *row;

    if (qq->q.has_bbox &&
        (PQgetisnull(r, i, 11) || !in_box(&qq->q.bbox, strtod(PQgetvalue(r, i, 11), NULL),
                                          strtod(PQgetvalue(r, i, 12), NULL))))
        return;
    if (qq->n_rows == qq->cap_rows) {
        qq->cap_rows = qq->cap_rows ? 2 * qq->cap_rows : 16;
        qq->rows = kz_xrealloc(qq->rows, qq->cap_rows * sizeof(*qq->rows));
    }
    row = &qq->rows[qq->n_rows++];
    row->seq = (uint64_t)kz__pg_int(r, i, 0);
    row->recv_time = kz__pg_int(r, i, 1);
    row->label = dup_or_null(r, i, 2);
    row->origin_input = dup_or_null(r, i, 3);
    row->origin_user = dup_or_null(r, i, 4);
    row->xml_len = (size_t)PQgetlength(r, i, 5);
    row->xml = kz_xstrndup(PQgetvalue(r, i, 5), row->xml_len);
    row->origin_nation = dup_or_null(r, i, 6);
    row->origin_groups = dup_or_null(r, i, 7);
    row->fed_provenance = dup_or_null(r, i, 8);
    row->fed_hops = kz__pg_int(r, i, 9);
    row->fed_max_hops = kz__pg_int(r, i, 10);
}

/*
 * One page of q (its limit the rows still wanted): the rows taken, and in *last the seq of
 * its last row, *full when it was a whole page (so there may be more).
 */
static int page(struct kz__db *db, struct kz__query *qq, const struct kz_store_query *q,
                uint64_t *last, bool *full)
{
    struct kz_sbuf sql = KZ_SBUF_INIT;
    struct params p = {.n = 0};
    char *prefix = NULL;
    PGresult *r;
    int err = KZ_OK, n;

    build(&sql, &p, q, &prefix);
    r = kz__pg_query(db->pg, sql.buf, p.n, p.v);
    if (kz__pg_ok(r)) {
        n = PQntuples(r);
        for (int i = 0; i < n; i++)
            take_row(qq, r, i);
        *full = n > 0 && (unsigned)n == q->limit;
        *last = n > 0 ? (uint64_t)kz__pg_int(r, n - 1, 0) : 0;
    } else {
        err = kz__pg_fail(db->pg, "SELECT FROM events", r);
    }
    PQclear(r);
    free(prefix);
    kz_sbuf_release(&sql);
    return err;
}

/* Pages until the limit is met or the log is: more than one only when a bbox row failed the
 * exact test (a point within float4 rounding of an edge). */
int kz__pg_events_query(struct kz__db *db, struct kz__query *qq)
{
    struct kz_store_query q = qq->q;
    uint64_t last = 0;
    bool full = true;
    int err = KZ_OK;

    while (err == KZ_OK && full && qq->n_rows < qq->q.limit) {
        q.limit = qq->q.limit - (unsigned)qq->n_rows;
        if (last && q.forward)
            q.after_seq = last;
        else if (last)
            q.before_seq = last;
        err = page(db, qq, &q, &last, &full);
    }
    if (err != KZ_OK)
        kz__query_rows_free(qq);
    return err;
}
