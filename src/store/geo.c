/*
 * geo.c - events_geo, the R*Tree of the events' points (migration 15):
 * written with the events (events.c, in the same multi-row statements'
 * style), emptied with them (a trigger on events), read by the bbox
 * queries (query.c).
 *
 * The tree is rtree_i32, so a point is kept exactly as stored: longitude
 * and latitude in 1e-7 degrees (±1.8e9 fits an int32), and a third
 * dimension, the event's seq >> GEO_BLOCK_BITS.  With that dimension a
 * query asks the box of one stretch of the log at a time, newest first:
 * the events come back in the order the answer needs without sorting every
 * event in the box, and a box that holds most events stops after the first
 * stretch.  (seq >> 10 fits an int32 up to 2^41 events.)
 */
#include <math.h>
#include <stdlib.h>

#include "store/internal.h"

#define GEO_BLOCK_BITS 10
#define GEO_E7 1e7
/* Stretches grow fourfold up to this many blocks (a million seqs). */
#define GEO_MAX_BLOCKS 1024

#define GEO_COLS 7
#define GEO_INSERT                                                                                 \
    "INSERT OR REPLACE INTO events_geo(seq, lon0, lon1, lat0, lat1, blk0, blk1) VALUES "
#define GEO_ROW "(?,?,?,?,?,?,?)"

static const char *const sql_insert[KZ__ROWS_N] = KZ__ROWS_SQL(GEO_INSERT, GEO_ROW, "");
static const char sql_in_box[] = "SELECT seq FROM events_geo WHERE lon0 >= ?1 AND lon1 <= ?2"
                                 " AND lat0 >= ?3 AND lat1 <= ?4 AND blk0 >= ?5 AND blk1 <= ?6";
static const char sql_point[] = "SELECT lon0, lat0 FROM events_geo WHERE seq = ?1";

static int32_t e7(double deg)
{
    return (int32_t)llround(deg * GEO_E7);
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
    r->lon_e7 = r->has_point ? e7(ev->lon) : 0;
    r->lat_e7 = r->has_point ? e7(ev->lat) : 0;
}

static int64_t block_of(uint64_t seq)
{
    return (int64_t)(seq >> GEO_BLOCK_BITS);
}

/* One events_geo row: seq, the point twice (min = max), its block twice. */
static void bind_geo(sqlite3_stmt *s, int b, uint64_t seq, int32_t lon, int32_t lat)
{
    sqlite3_bind_int64(s, b + 1, (sqlite3_int64)seq);
    sqlite3_bind_int(s, b + 2, lon);
    sqlite3_bind_int(s, b + 3, lon);
    sqlite3_bind_int(s, b + 4, lat);
    sqlite3_bind_int(s, b + 5, lat);
    sqlite3_bind_int64(s, b + 6, block_of(seq));
    sqlite3_bind_int64(s, b + 7, block_of(seq));
}

static void bind_rec(sqlite3_stmt *s, int base, const void *rows, size_t i)
{
    const struct kz__rec *r = ((const struct kz__rec *const *)rows)[i];

    bind_geo(s, base, r->seq, r->lon_e7, r->lat_e7);
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
    enum kz_reject why;
    size_t len = (size_t)sqlite3_column_bytes(sel, 1);
    const char *xml = (const char *)sqlite3_column_text(sel, 1);

    /* A row that no longer decodes has no point to index; the API skips it too. */
    if (!xml || kz_cot_decode(dec, xml, len, ev, &why, NULL, 0) != KZ_OK)
        return SQLITE_DONE;
    kz__geo_point(ev, &r);
    kz_event_clear(ev);
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

/* The box in 1e-7 degrees, as one or two boxes (across the antimeridian: two). */
struct e7box {
    int32_t lon0, lon1, lat0, lat1;
};

static size_t split_box(const struct kz_store_bbox *b, struct e7box out[2])
{
    int32_t lat0 = e7(b->min_lat), lat1 = e7(b->max_lat);

    if (b->min_lon <= b->max_lon) {
        out[0] = (struct e7box){e7(b->min_lon), e7(b->max_lon), lat0, lat1};
        return 1;
    }
    out[0] = (struct e7box){e7(b->min_lon), e7(180.0), lat0, lat1};
    out[1] = (struct e7box){e7(-180.0), e7(b->max_lon), lat0, lat1};
    return 2;
}

int kz__geo_contains(struct kz__db *db, uint64_t seq, const struct kz_store_bbox *box, bool *in)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_point);
    struct e7box eb[2];
    size_t n = split_box(box, eb);
    int rc;

    *in = false;
    if (!s)
        return SQLITE_ERROR;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int32_t lon = sqlite3_column_int(s, 0), lat = sqlite3_column_int(s, 1);
        for (size_t i = 0; i < n; i++)
            *in = *in || (lon >= eb[i].lon0 && lon <= eb[i].lon1 && lat >= eb[i].lat0 &&
                          lat <= eb[i].lat1);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(s);
    return rc;
}

struct seqs {
    uint64_t *v;
    size_t n, cap;
};

/* Append the seqs of box `b` in blocks [from, to] to *out. */
static int stretch(struct kz__db *db, const struct e7box *b, int64_t from, int64_t to,
                   struct seqs *out)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_in_box);
    int rc;

    if (!s)
        return SQLITE_ERROR;
    sqlite3_bind_int(s, 1, b->lon0);
    sqlite3_bind_int(s, 2, b->lon1);
    sqlite3_bind_int(s, 3, b->lat0);
    sqlite3_bind_int(s, 4, b->lat1);
    sqlite3_bind_int64(s, 5, from);
    sqlite3_bind_int64(s, 6, to);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == out->cap) {
            out->cap = out->cap ? 2 * out->cap : 1024;
            out->v = kz_xrealloc(out->v, out->cap * sizeof(*out->v));
        }
        out->v[out->n++] = (uint64_t)sqlite3_column_int64(s, 0);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_DONE : rc;
}

static int newest_first(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? 1 : x > y ? -1 : 0;
}

int kz__geo_each(struct kz__db *db, const struct kz_store_bbox *box, uint64_t lo, uint64_t hi,
                 kz__geo_seq_fn fn, void *ud)
{
    struct e7box eb[2];
    size_t nb = split_box(box, eb);
    struct seqs got = {0};
    int64_t lo_b = block_of(lo), top = block_of(hi), k = 1;
    bool more = lo <= hi;
    int rc = SQLITE_DONE;

    while (more && top >= lo_b && rc == SQLITE_DONE) {
        int64_t from = top - k + 1 < lo_b ? lo_b : top - k + 1;
        got.n = 0;
        for (size_t i = 0; i < nb && rc == SQLITE_DONE; i++)
            rc = stretch(db, &eb[i], from, top, &got);
        qsort(got.v, got.n, sizeof(*got.v), newest_first);
        for (size_t i = 0; i < got.n && more && rc == SQLITE_DONE; i++)
            if (got.v[i] >= lo && got.v[i] <= hi)
                more = fn(ud, got.v[i]);
        top = from - 1;
        k = k * 4 > GEO_MAX_BLOCKS ? GEO_MAX_BLOCKS : k * 4;
    }
    free(got.v);
    return rc;
}
