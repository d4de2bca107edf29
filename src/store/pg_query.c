/*
 * pg_query.c - GET /api/v1/events on PostgreSQL: the same answers as
 * query.c gives on SQLite (newest first, older than the page's cursor; or a
 * federation link's outbox, oldest first, newer than its cursor), with the
 * bbox filter on the GiST index of events' (position, seq).  The statement
 * is built per query with only the filters asked for; the values go as
 * parameters.
 *
 * Newest first within a box (not across the antimeridian) is ordered by
 * `seq <-> origin` (btree_gist's distance; the origin is the page's cursor,
 * or the largest seq there can be): for seq below the origin that is seq
 * descending, and the index walks the box's events in that order and stops
 * at LIMIT.  "ORDER BY seq DESC" would leave the planner two bad plans at
 * millions of events: the log newest first, filtering every row outside the
 * box, or every row in the box, sorted.  The cost of this order: a box that
 * holds most of the log no longer takes the primary key backward (tens of
 * ms at 10 M events, more with a recent since; docs/performance.md, H).
 */
#include <stdint.h>
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

/* "pos::geometry && ST_MakeEnvelope(w, s, e, n, 4326)": the GiST index's operator. */
static void add_envelope(struct kz_sbuf *sql, struct params *p, double w, double s, double e,
                         double n)
{
    const double b[4] = {w, s, e, n};

    kz_sbuf_adds(sql, "pos::geometry && ST_MakeEnvelope(");
    for (int i = 0; i < 4; i++) {
        KZ_ASSERT(p->n < MAX_PARAMS);
        p->v[p->n] = kz__pg_f64(p->nums[p->n], b[i]);
        p->n++;
        kz_sbuf_addf(sql, "$%d::float8, ", p->n);
    }
    kz_sbuf_adds(sql, "4326)");
}

/* Edges included; a box with min_lon > max_lon crosses the antimeridian: two envelopes. */
static void add_bbox(struct kz_sbuf *sql, struct params *p, const struct kz_store_bbox *b)
{
    if (b->min_lon <= b->max_lon) {
        kz_sbuf_adds(sql, " AND ");
        add_envelope(sql, p, b->min_lon, b->min_lat, b->max_lon, b->max_lat);
        return;
    }
    kz_sbuf_adds(sql, " AND (");
    add_envelope(sql, p, b->min_lon, b->min_lat, 180.0, b->max_lat);
    kz_sbuf_adds(sql, " OR ");
    add_envelope(sql, p, -180.0, b->min_lat, b->max_lon, b->max_lat);
    kz_sbuf_adds(sql, ")");
}

static void build(struct kz_sbuf *sql, struct params *p, const struct kz_store_query *q,
                  char **prefix)
{
    kz_sbuf_adds(sql, "SELECT seq, recv_time, label, origin_input, origin_user, xml,"
                      " origin_nation, origin_groups, fed_provenance, fed_hops, fed_max_hops"
                      " FROM events WHERE true");
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
    if (q->forward) {
        add_int(sql, p, " AND seq > ", (int64_t)q->after_seq);
        kz_sbuf_adds(sql, " ORDER BY seq");
    } else if (q->has_bbox && q->bbox.min_lon <= q->bbox.max_lon) {
        add_int(sql, p, " ORDER BY seq <-> ", q->before_seq ? (int64_t)q->before_seq : INT64_MAX);
        kz_sbuf_adds(sql, "::bigint");
    } else {
        kz_sbuf_adds(sql, " ORDER BY seq DESC");
    }
    add_int(sql, p, " LIMIT ", q->limit);
}

static char *dup_or_null(const PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? NULL : kz_xstrdup(PQgetvalue(r, i, c));
}

static void take_rows(struct kz__query *qq, const PGresult *r)
{
    size_t n = (size_t)PQntuples(r);

    qq->rows = kz_xcalloc(n ? n : 1, sizeof(*qq->rows));
    qq->cap_rows = n;
    for (int i = 0; i < (int)n; i++) {
        struct kz_store_row *row = &qq->rows[qq->n_rows++];
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
}

int kz__pg_events_query(struct kz__db *db, struct kz__query *qq)
{
    struct kz_sbuf sql = KZ_SBUF_INIT;
    struct params p = {.n = 0};
    char *prefix = NULL;
    PGresult *r;
    int err = KZ_OK;

    build(&sql, &p, &qq->q, &prefix);
    r = kz__pg_query(db->pg, sql.buf, p.n, p.v);
    if (kz__pg_ok(r))
        take_rows(qq, r);
    else
        err = kz__pg_fail(db->pg, "SELECT FROM events", r);
    PQclear(r);
    free(prefix);
    kz_sbuf_release(&sql);
    return err;
}
