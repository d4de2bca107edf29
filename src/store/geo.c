/*
 * geo.c - each event's point: exact in events(lon_e7, lat_e7), in 1e-7
 * degrees, and in events_geo, an R*Tree over (longitude, latitude, seq)
 * that finds the candidates of a bbox query (query.c), written with the
 * events (events.c, in multi-row statements as theirs) and emptied with
 * them (a trigger on events, migration 15).
 *
 * The tree keeps 32-bit floats, rounded outward, so what it answers is a
 * superset that the row's exact columns settle.  Its third dimension is
 * the seq (times GEO_SEQ_SCALE): a query asks the box of one stretch of
 * the log at a time, newest first, so the answer needs no sort of every
 * event in the box, and a box that holds most events stops after the first
 * stretch.  The dimension must grow continuously: with a constant one
 * (every point of a stretch alike) the tree's volumes are all zero and its
 * insertion heuristic degenerates into a scan.  The scale weighs a seq
 * against a degree in the tree's splits: at 1e-4, a leaf of a log that
 * fills a theatre of a few hundred square degrees covers a few degrees
 * and some thousands of seqs, so a small box over the whole log and a
 * large box over its last stretch both visit few leaves.
 */
#include <math.h>
#include <stdlib.h>

#include "store/internal.h"

#define GEO_E7 1e7
#define GEO_SEQ_SCALE 1e-4
/* The first stretch holds four times the rows wanted, within these bounds, in seqs;
 * stretches grow fourfold up to GEO_MAX_STRETCH. */
#define GEO_MIN_STRETCH 256
#define GEO_FIRST_STRETCH_MAX 4096
#define GEO_MAX_STRETCH (1 << 22)

#define GEO_COLS 7
#define GEO_INSERT "INSERT OR REPLACE INTO events_geo(seq, lon0, lon1, lat0, lat1, s0, s1) VALUES "
#define GEO_ROW "(?,?,?,?,?,?,?)"

static const char *const sql_insert[KZ__ROWS_N] = KZ__ROWS_SQL(GEO_INSERT, GEO_ROW, "");
static const char sql_in_box[] = "SELECT seq FROM events_geo WHERE lon1 >= ?1 AND lon0 <= ?2"
                                 " AND lat1 >= ?3 AND lat0 <= ?4 AND s1 >= ?5 AND s0 <= ?6";
static const char sql_fill[] = "UPDATE events SET lon_e7 = ?1, lat_e7 = ?2 WHERE seq = ?3";

static int64_t e7(double deg)
{
    return llround(deg * GEO_E7);
}

bool kz_store_bbox_valid(const struct kz_store_bbox *b)
{
    const double v[4] = {b->min_lon, b->min_lat, b->max_lon, b->max_lat};

    for (size_t i = 0; i < 4; i++) {
        double lim = i % 2 ? 90.0 : 180.0;
        if (!isfinite(v[i]) || v[i] < -lim || v[i] > lim)
            return false;
    }
    return b->min_lat <= b->max_lat;
}

void kz__geo_point(const struct kz_event *ev, struct kz__rec *r)
{
    /* TAK's "no position" (chat, pings): 0, 0 with an unknown height. */
    bool none = ev->lat == 0.0 && ev->lon == 0.0 && ev->hae == KZ_POINT_UNKNOWN;

    r->has_point = !none && isfinite(ev->lat) && isfinite(ev->lon) && fabs(ev->lat) <= 90.0 &&
                   fabs(ev->lon) <= 180.0;
    r->lon = r->has_point ? ev->lon : 0.0;
    r->lat = r->has_point ? ev->lat : 0.0;
}

void kz__geo_bind(sqlite3_stmt *s, int i, const struct kz__rec *r)
{
    if (!r->has_point) {
        sqlite3_bind_null(s, i);
        sqlite3_bind_null(s, i + 1);
        return;
    }
    sqlite3_bind_int64(s, i, e7(r->lon));
    sqlite3_bind_int64(s, i + 1, e7(r->lat));
}

/* One events_geo row, whose first parameter is b + 1: seq, the point, the seq scaled. */
static void bind_rec(sqlite3_stmt *s, int b, const void *rows, size_t i)
{
    const struct kz__rec *r = ((const struct kz__rec *const *)rows)[i];
    double t = (double)r->seq * GEO_SEQ_SCALE;

    sqlite3_bind_int64(s, b + 1, (sqlite3_int64)r->seq);
    sqlite3_bind_double(s, b + 2, r->lon);
    sqlite3_bind_double(s, b + 3, r->lon);
    sqlite3_bind_double(s, b + 4, r->lat);
    sqlite3_bind_double(s, b + 5, r->lat);
    sqlite3_bind_double(s, b + 6, t);
    sqlite3_bind_double(s, b + 7, t);
}

int kz__geo_write(struct kz__db *db, const struct kz__rec *const *recs, size_t n)
{
    const struct kz__rec *with[KZ__ROWS_MAX];
    size_t k = 0;
    int rc = SQLITE_DONE;

    for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
        if (recs[i]->has_point)
            with[k++] = recs[i];
        if (k == KZ__ROWS_MAX || (i + 1 == n && k > 0)) {
            rc = kz__db_rows(db, sql_insert, GEO_COLS, with, k, bind_rec);
            k = 0;
        }
    }
    return rc;
}

/* ---- migration 15: the events stored before it ------------------------------------ */

static int backfill_row(struct kz__db *db, struct kz_cot_decoder *dec, sqlite3_stmt *sel,
                        struct kz_event *ev)
{
    struct kz__rec r = {.seq = (uint64_t)sqlite3_column_int64(sel, 0)};
    const struct kz__rec *one = &r;
    sqlite3_stmt *fill = kz__db_stmt(db, sql_fill);
    enum kz_reject why;
    size_t len = (size_t)sqlite3_column_bytes(sel, 1);
    const char *xml = (const char *)sqlite3_column_text(sel, 1);
    int rc;

    /* A row that no longer decodes has no point to index; the API skips it too. */
    if (!xml || kz_cot_decode(dec, xml, len, ev, &why, NULL, 0) != KZ_OK)
        return SQLITE_DONE;
    kz__geo_point(ev, &r);
    kz_event_clear(ev);
    if (!r.has_point)
        return SQLITE_DONE;
    if (!fill)
        return SQLITE_ERROR;
    kz__geo_bind(fill, 1, &r);
    sqlite3_bind_int64(fill, 3, (sqlite3_int64)r.seq);
    if ((rc = kz__db_step(fill)) != SQLITE_DONE)
        return rc;
    return kz__geo_write(db, &one, 1);
}

int kz__geo_backfill(struct kz__db *db)
{
    struct kz_cot_limits lim;
    struct kz_cot_decoder *dec;
    sqlite3_stmt *sel = NULL;
    struct kz_event ev;
    int rc;

    kz_cot_limits_default(&lim);
    lim.max_event_bytes = 1 << 20; /* what was stored was accepted once */
    dec = kz_cot_decoder_new(&lim);
    kz_event_init(&ev);
    rc = sqlite3_prepare_v2(db->db, "SELECT seq, xml FROM events ORDER BY seq", -1, &sel, NULL);
    while (rc == SQLITE_OK || rc == SQLITE_DONE) {
        if ((rc = sqlite3_step(sel)) != SQLITE_ROW)
            break;
        rc = backfill_row(db, dec, sel, &ev);
    }
    sqlite3_finalize(sel);
    kz_event_clear(&ev);
    kz_cot_decoder_free(dec);
    return rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, "migration 15: events_geo", rc);
}

/* ---- reads ------------------------------------------------------------------------- */

bool kz__geo_row_in(sqlite3_stmt *s, int col, const struct kz_store_bbox *b)
{
    int64_t lon = sqlite3_column_int64(s, col), lat = sqlite3_column_int64(s, col + 1);
    int64_t lon0 = e7(b->min_lon), lon1 = e7(b->max_lon);

    if (sqlite3_column_type(s, col) == SQLITE_NULL ||
        sqlite3_column_type(s, col + 1) == SQLITE_NULL)
        return false;
    if (lat < e7(b->min_lat) || lat > e7(b->max_lat))
        return false;
    return lon0 <= lon1 ? lon >= lon0 && lon <= lon1 : lon >= lon0 || lon <= lon1;
}

struct seqs {
    uint64_t *v;
    size_t n, cap;
};

/* Append the candidates of longitudes [lon0, lon1] in seqs [from, to] to *out. */
static int stretch(struct kz__db *db, const struct kz_store_bbox *b, double lon0, double lon1,
                   uint64_t from, uint64_t to, struct seqs *out)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_in_box);
    int rc;

    if (!s)
        return SQLITE_ERROR;
    sqlite3_bind_double(s, 1, lon0);
    sqlite3_bind_double(s, 2, lon1);
    sqlite3_bind_double(s, 3, b->min_lat);
    sqlite3_bind_double(s, 4, b->max_lat);
    sqlite3_bind_double(s, 5, (double)from * GEO_SEQ_SCALE);
    sqlite3_bind_double(s, 6, (double)to * GEO_SEQ_SCALE);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(s, 0);
        if (seq < from || seq > to)
            continue; /* the tree's floats are rounded outward */
        if (out->n == out->cap) {
            out->cap = out->cap ? 2 * out->cap : 1024;
            out->v = kz_xrealloc(out->v, out->cap * sizeof(*out->v));
        }
        out->v[out->n++] = seq;
    }
    sqlite3_reset(s);
    return rc;
}

/* The stretch's candidates, both halves of a box across the antimeridian. */
static int candidates(struct kz__db *db, const struct kz_store_bbox *b, uint64_t from, uint64_t to,
                      struct seqs *out)
{
    int rc;

    out->n = 0;
    if (b->min_lon <= b->max_lon)
        return stretch(db, b, b->min_lon, b->max_lon, from, to, out);
    if ((rc = stretch(db, b, b->min_lon, 180.0, from, to, out)) != SQLITE_DONE)
        return rc;
    return stretch(db, b, -180.0, b->max_lon, from, to, out);
}

static int newest_first(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? 1 : x > y ? -1 : 0;
}

int kz__geo_each(struct kz__db *db, const struct kz_store_bbox *box, uint64_t lo, uint64_t hi,
                 unsigned want, kz__geo_seq_fn fn, void *ud)
{
    struct seqs got = {0};
    uint64_t top = hi, len = 4 * (uint64_t)want;
    bool more = lo <= hi && hi > 0;
    int rc = SQLITE_DONE;

    len = len < GEO_MIN_STRETCH         ? GEO_MIN_STRETCH
          : len > GEO_FIRST_STRETCH_MAX ? GEO_FIRST_STRETCH_MAX
                                        : len;

    while (more && rc == SQLITE_DONE) {
        uint64_t from = top - lo + 1 > len ? top - len + 1 : lo;
        if ((rc = candidates(db, box, from, top, &got)) != SQLITE_DONE)
            break;
        if (got.n > 1)
            qsort(got.v, got.n, sizeof(*got.v), newest_first);
        for (size_t i = 0; i < got.n && more; i++)
            more = fn(ud, got.v[i]);
        more = more && from > lo;
        top = from - 1;
        len = len * 4 > GEO_MAX_STRETCH ? GEO_MAX_STRETCH : len * 4;
    }
    free(got.v);
    return rc;
}
