/*
 * pg_query.c - GET /api/v1/events on PostgreSQL: the same answers as
 * query.c gives on SQLite (newest first, older than the page's cursor; or a
 * federation link's outbox, oldest first, newer than its cursor); with a
 * bbox, from the GiST index of events' (lon, lat, seq), one stretch of seqs
 * at a time.  The statement is built per query with only the filters asked
 * for; the values go as parameters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

#define MAX_PARAMS 24

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

/* ---- a box: the (lon, lat, seq) index, one stretch of seqs at a time --------------------- */

/*
 * A box's newest rows come from the GiST index of each event's (lon, lat, seq x 1e-6)
 * (KZ__PG_EVENTS_XYS, migration 3), asked for one stretch of seqs at a time, newest first,
 * as SQLite asks events_geo (store/geo.c): the first stretch as long as the rows wanted, the
 * next ones longer (next_len), up to STRETCH_MAX, until the limit is met or the seqs the
 * query may answer from are done.  A box that holds most events is done after the first
 * stretch; one that holds few costs a tree search per stretch, each fetching only the rows
 * in the box and the stretch.  Ordering the box's rows by seq over the whole log instead
 * costs either the log newest first, filtered (a small box), or every row of the box,
 * sorted (a large one).
 */
#define STRETCH_MAX 4000000
/* The index keeps float4 boxes: a query box is widened past their rounding (relative
 * 2^-23), and the exact tests (the point, the stretch's seqs) are made in C. */
#define XY_SLACK 1e-4 /* degrees */
/* Receive times are the origins' clocks: the seqs since/until allow are looked up this much
 * wider, and each row's recv_time is tested exactly. */
#define SKEW_US (60 * 1000000LL)

struct stretch {
    uint64_t bottom, top; /* seqs, inclusive */
    uint64_t found;       /* out: its rows in the box (whatever their receive time) */
};

static void add_num(struct kz_sbuf *sql, struct params *p, double v, const char *tail)
{
    KZ_ASSERT(p->n < MAX_PARAMS);
    p->v[p->n] = kz__pg_f64(p->nums[p->n], v);
    p->n++;
    kz_sbuf_addf(sql, "$%d::float8%s", p->n, tail);
}

/* The index's key in the box west..east, south..north over the stretch's seqs. */
static void add_box(struct kz_sbuf *sql, struct params *p, double west, double south, double east,
                    double north, const struct stretch *s)
{
    double z0 = (double)s->bottom * 1e-6, z1 = (double)s->top * 1e-6;
    double dz = z1 * 1e-6 + 1e-5;

    kz_sbuf_adds(sql, KZ__PG_EVENTS_XYS " &&& ST_3DMakeBox(ST_MakePoint(");
    add_num(sql, p, west - XY_SLACK, ", ");
    add_num(sql, p, south - XY_SLACK, ", ");
    add_num(sql, p, z0 - dz, "), ST_MakePoint(");
    add_num(sql, p, east + XY_SLACK, ", ");
    add_num(sql, p, north + XY_SLACK, ", ");
    add_num(sql, p, z1 + dz, "))");
}

/* Degrees in units of 1e-7, the resolution SQLite's store keeps a point at (geo.c). */
static long long e7(double deg)
{
    return llround(deg * 1e7);
}

/*
 * The exact test, edges included, at 1e-7 degrees as on SQLite, so a point on an edge is in
 * on both backends; min_lon > max_lon crosses the antimeridian.
 */
static bool in_box(const struct kz_store_bbox *b, double lon_deg, double lat_deg)
{
    long long lon = e7(lon_deg), lat = e7(lat_deg);
    long long w = e7(b->min_lon), e = e7(b->max_lon), s = e7(b->min_lat), n = e7(b->max_lat);
    bool lon_in = w <= e ? lon >= w && lon <= e : lon >= w || lon <= e;

    return lon_in && lat >= s && lat <= n;
}

/* min_lon > max_lon crosses the antimeridian: two boxes (store.h). */
static void add_bbox(struct kz_sbuf *sql, struct params *p, const struct kz_store_bbox *b,
                     const struct stretch *s)
{
    kz_sbuf_adds(sql, " AND pos IS NOT NULL AND (");
    if (b->min_lon <= b->max_lon) {
        add_box(sql, p, b->min_lon, b->min_lat, b->max_lon, b->max_lat, s);
    } else {
        add_box(sql, p, b->min_lon, b->min_lat, 180.0, b->max_lat, s);
        kz_sbuf_adds(sql, " OR ");
        add_box(sql, p, -180.0, b->min_lat, b->max_lon, b->max_lat, s);
    }
    kz_sbuf_adds(sql, ")");
}

/*
 * The statement: without a box, one page (newest first, older than before_seq, or oldest
 * first after after_seq); with one, every row of stretch s in the box, newest first (no
 * LIMIT: rows the float4 index lets in from outside the stretch must not take a place).
 */
static void build(struct kz_sbuf *sql, struct params *p, const struct kz_store_query *q,
                  const struct stretch *s, char **prefix)
{
    kz_sbuf_adds(sql, "SELECT seq, recv_time, label, origin_input, origin_user, xml,"
                      " origin_nation, origin_groups, fed_provenance, fed_hops, fed_max_hops,"
                      " ST_X(pos::geometry), ST_Y(pos::geometry) FROM events WHERE true");
    if (q->uid)
        add(sql, p, " AND uid = ", q->uid);
    if (q->type)
        add_type(sql, p, q->type, prefix);
    if (s) {
        add_bbox(sql, p, &q->bbox, s);
        kz_sbuf_adds(sql, " ORDER BY seq DESC");
        return;
    }
    if (q->since_us)
        add_int(sql, p, " AND recv_time >= ", q->since_us);
    if (q->until_us)
        add_int(sql, p, " AND recv_time < ", q->until_us);
    if (q->before_seq)
        add_int(sql, p, " AND seq < ", (int64_t)q->before_seq);
    if (q->latest) {
        add_int(sql, p, " AND seq IN (SELECT seq FROM tracks WHERE stale > ", kz_now_us());
        kz_sbuf_adds(sql, ")");
    }
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

/* Whether row i of r, from stretch s, is an answer: in the stretch, the time span and
 * the box, by exact tests. */
static bool row_wanted(const struct kz_store_query *q, struct stretch *s, const PGresult *r, int i)
{
    uint64_t seq = (uint64_t)kz__pg_int(r, i, 0);
    int64_t recv_time = kz__pg_int(r, i, 1);

    if (seq < s->bottom || seq > s->top || PQgetisnull(r, i, 11) ||
        !in_box(&q->bbox, strtod(PQgetvalue(r, i, 11), NULL), strtod(PQgetvalue(r, i, 12), NULL)))
        return false;
    s->found++;
    return !(q->since_us && recv_time < q->since_us) && !(q->until_us && recv_time >= q->until_us);
}

/* Row i of r to qq, growing its array. */
static void take_row(struct kz__query *qq, const PGresult *r, int i)
{
    struct kz_store_row *row;

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

/* The statement for q (and stretch s, with a box); its rows to qq, up to q's limit. */
static int run(struct kz__db *db, struct kz__query *qq, struct stretch *s)
{
    struct kz_sbuf sql = KZ_SBUF_INIT;
    struct params p = {.n = 0};
    char *prefix = NULL;
    PGresult *r;
    int err = KZ_OK;

    build(&sql, &p, &qq->q, s, &prefix);
    r = kz__pg_query(db->pg, sql.buf, p.n, p.v);
    if (kz__pg_ok(r)) {
        for (int i = 0, n = PQntuples(r); i < n; i++)
            if ((!s || row_wanted(&qq->q, s, r, i)) && qq->n_rows < qq->q.limit)
                take_row(qq, r, i);
    } else {
        err = kz__pg_fail(db->pg, "SELECT FROM events", r);
    }
    PQclear(r);
    free(prefix);
    kz_sbuf_release(&sql);
    return err;
}

/* *out: the one number `sql` answers (with `arg` as $1 unless 0); 0 for none or NULL. */
static int seq_of(struct kz__db *db, const char *sql, int64_t arg, uint64_t *out)
{
    char num[KZ__PG_NUM];
    const char *v = kz__pg_i64(num, arg);
    PGresult *r = kz__pg_query(db->pg, sql, arg ? 1 : 0, &v);
    int err = KZ_OK;

    *out = 0;
    if (!kz__pg_ok(r))
        err = kz__pg_fail(db->pg, "SELECT seq FROM events", r);
    else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        *out = (uint64_t)kz__pg_int(r, 0, 0);
    PQclear(r);
    return err;
}

/* The seqs [lo, hi] the query may answer from (lo > hi: none): before its cursor, and by the
 * recv_time index, as SQLite (store/query.c), SKEW_US wider. */
static int box_range(struct kz__db *db, const struct kz_store_query *q, uint64_t *lo, uint64_t *hi)
{
    uint64_t v;
    int err;

    *lo = 1;
    if ((err = seq_of(db, "SELECT max(seq) FROM events", 0, hi)) != KZ_OK)
        return err;
    if (q->before_seq && q->before_seq - 1 < *hi)
        *hi = q->before_seq - 1;
    if (q->until_us) {
        err = seq_of(db,
                     "SELECT seq FROM events WHERE recv_time < $1"
                     " ORDER BY recv_time DESC LIMIT 1",
                     q->until_us + SKEW_US, &v);
        if (err != KZ_OK)
            return err;
        *hi = v < *hi ? v : *hi;
    }
    if (q->since_us) {
        err = seq_of(db,
                     "SELECT seq FROM events WHERE recv_time >= $1"
                     " ORDER BY recv_time LIMIT 1",
                     q->since_us - SKEW_US, &v);
        if (err != KZ_OK)
            return err;
        *lo = v ? v : *hi + 1;
    }
    return KZ_OK;
}

/*
 * A stretch's rows are read by a bitmap heap scan, their pages asked of the kernel ahead
 * (effective_io_concurrency): they lie anywhere in the log, and read one by one from a cold
 * cache they were most of a sparse box's cost (a 0.1-degree box's 532 rows over 3 million
 * seqs: 50 ms by the index scan the planner picks, 22 ms so).  In a transaction of its own,
 * so the settings go with it.
 */
static const char walk_begin[] = "BEGIN; SET LOCAL enable_indexscan = off;"
                                 " SET LOCAL effective_io_concurrency = 64";

/*
 * The next stretch's length: four times the last while the box has shown no rows; once it
 * has, as long as its density says holds the rows still wanted, and half again (each row a
 * stretch reads beyond those is a heap page read for nothing), at most four times the last.
 */
static uint64_t next_len(uint64_t len, uint64_t scanned, uint64_t found, uint64_t need)
{
    uint64_t cap = len < STRETCH_MAX / 4 ? 4 * len : STRETCH_MAX;
    double want;

    if (found == 0)
        return cap;
    want = 1.5 * (double)need * (double)scanned / (double)found;
    return want < 1.0 ? 1 : want < (double)cap ? (uint64_t)want : cap;
}

static int box_walk(struct kz__db *db, struct kz__query *qq)
{
    uint64_t lo, hi, len = qq->q.limit, scanned = 0, found = 0;
    struct stretch s;
    int err = box_range(db, &qq->q, &lo, &hi);

    if (err != KZ_OK || lo > hi || (err = kz__pg_exec(db->pg, walk_begin)) != KZ_OK)
        return err;
    for (s.top = hi; err == KZ_OK && qq->n_rows < qq->q.limit; s.top = s.bottom - 1) {
        s.bottom = s.top - lo + 1 > len ? s.top - len + 1 : lo;
        s.found = 0;
        err = run(db, qq, &s);
        if (s.bottom == lo)
            break;
        scanned += s.top - s.bottom + 1;
        found += s.found;
        len = next_len(len, scanned, found, qq->q.limit - qq->n_rows);
    }
    if (PQtransactionStatus(db->pg->conn) != PQTRANS_IDLE)
        kz__pg_exec(db->pg, "ROLLBACK"); /* read only: nothing to keep */
    return err;
}

int kz__pg_events_query(struct kz__db *db, struct kz__query *qq)
{
    int err = qq->q.has_bbox ? box_walk(db, qq) : run(db, qq, NULL);

    if (err != KZ_OK)
        kz__query_rows_free(qq);
    return err;
}
