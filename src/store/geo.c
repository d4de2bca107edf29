/*
 * geo.c - each event's point: exact in events(lon_e7, lat_e7), in 1e-7
 * degrees, and in events_geo, an R*Tree that finds the events of a bbox
 * query (query.c).  The tree is written before each batch's COMMIT
 * (kz__events_after_writes) and emptied with the log (a trigger on events,
 * migration 15).
 *
 * One entry per cell: SQLite's R*Tree costs 10 to 14 µs a row to insert,
 * more than the rest of an event's append, so a batch's events are grouped
 * by GEO_CELL_DEG cell and each group is one entry: the box of its points,
 * its seqs, and its members (seq, lon_e7, lat_e7 each) in an auxiliary
 * blob.  A busy store, with batches of thousands, writes a few hundred
 * entries a batch; a quiet one about an entry an event, which costs it
 * nothing it would notice.  An entry's id is its newest member's seq, so
 * deleting that event (retention deletes the oldest first) deletes the
 * entry; a member deleted before is skipped when its row is read.
 *
 * The tree keeps 32-bit floats, rounded outward, and a query widens its
 * box by GEO_SLACK: the tree answers a superset, the members settle it
 * exactly.  The third dimension is the seq (times GEO_SEQ_SCALE): a query
 * asks the box of one stretch of the log at a time, newest first, so the
 * answer needs no sort of every event in the box, and a box that holds
 * most events stops after the first stretch.  The dimension must grow with
 * the seq (an entry spans its batch's seqs): with a constant one, every
 * node of a stretch would have zero volume and the tree's choose-leaf
 * heuristic would degenerate into a scan.  The scale weighs a seq against
 * a degree in the tree's splits.
 *
 * bench/hq_sqlite.c writes this layout itself to build its 10-million-event
 * store: a change here is a change there.
 */
#include <math.h>
#include <stdlib.h>

#include "store/internal.h"

#define GEO_E7 1e7
#define GEO_SEQ_SCALE 1e-4
#define GEO_SLACK 1e-6 /* degrees: more than a float32 rounding of e7 / 1e7 can hide */
#define GEO_CELL_DEG 1.0
#define GEO_GROUP_MAX 256 /* members per entry */
#define GEO_MEMBER_BYTES 12
/* The first stretch holds four times the rows wanted, within these bounds, in seqs;
 * stretches grow fourfold up to GEO_MAX_STRETCH. */
#define GEO_MIN_STRETCH 256
#define GEO_FIRST_STRETCH_MAX 4096
#define GEO_MAX_STRETCH (1 << 22)

#define GEO_COLS 8
#define GEO_INSERT                                                                                 \
    "INSERT OR REPLACE INTO events_geo(seq, lon0, lon1, lat0, lat1, s0, s1, members) VALUES "
#define GEO_ROW "(?,?,?,?,?,?,?,?)"

static const char *const sql_insert[KZ__ROWS_N] = KZ__ROWS_SQL(GEO_INSERT, GEO_ROW, "");
static const char sql_in_box[] = "SELECT seq, members FROM events_geo WHERE lon1 >= ?1"
                                 " AND lon0 <= ?2 AND lat1 >= ?3 AND lat0 <= ?4 AND s1 >= ?5"
                                 " AND s0 <= ?6";
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

/* A point of the tree: its cell, seq and point in 1e-7 degrees. */
struct member {
    int64_t cell;
    uint64_t seq;
    int32_t lon, lat;
};

/* One entry: members [first, first + n) of the sorted array, and its blob. */
struct entry {
    const struct member *m;
    size_t n;
    unsigned char *blob;
};

static int64_t cell_of(double lon, double lat)
{
    int64_t x = (int64_t)floor((lon + 180.0) / GEO_CELL_DEG);
    int64_t y = (int64_t)floor((lat + 90.0) / GEO_CELL_DEG);

    return y * 1000 + x;
}

static int by_cell_then_seq(const void *a, const void *b)
{
    const struct member *x = a, *y = b;

    if (x->cell != y->cell)
        return x->cell < y->cell ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Members as little-endian (newest seq - seq, lon_e7, lat_e7) triples. */
static unsigned char *pack(const struct entry *e)
{
    unsigned char *blob = kz_xmalloc(e->n * GEO_MEMBER_BYTES), *p = blob;
    uint64_t top = e->m[e->n - 1].seq;

    for (size_t i = 0; i < e->n; i++, p += GEO_MEMBER_BYTES) {
        put_u32(p, (uint32_t)(top - e->m[i].seq));
        put_u32(p + 4, (uint32_t)e->m[i].lon);
        put_u32(p + 8, (uint32_t)e->m[i].lat);
    }
    return blob;
}

static void bind_entry(sqlite3_stmt *s, int b, const void *rows, size_t i)
{
    const struct entry *e = &((const struct entry *)rows)[i];
    int32_t lon0 = e->m[0].lon, lon1 = lon0, lat0 = e->m[0].lat, lat1 = lat0;

    for (size_t k = 1; k < e->n; k++) {
        lon0 = e->m[k].lon < lon0 ? e->m[k].lon : lon0;
        lon1 = e->m[k].lon > lon1 ? e->m[k].lon : lon1;
        lat0 = e->m[k].lat < lat0 ? e->m[k].lat : lat0;
        lat1 = e->m[k].lat > lat1 ? e->m[k].lat : lat1;
    }
    sqlite3_bind_int64(s, b + 1, (sqlite3_int64)e->m[e->n - 1].seq);
    sqlite3_bind_double(s, b + 2, lon0 / GEO_E7);
    sqlite3_bind_double(s, b + 3, lon1 / GEO_E7);
    sqlite3_bind_double(s, b + 4, lat0 / GEO_E7);
    sqlite3_bind_double(s, b + 5, lat1 / GEO_E7);
    sqlite3_bind_double(s, b + 6, (double)e->m[0].seq * GEO_SEQ_SCALE);
    sqlite3_bind_double(s, b + 7, (double)e->m[e->n - 1].seq * GEO_SEQ_SCALE);
    sqlite3_bind_blob(s, b + 8, e->blob, (int)(e->n * GEO_MEMBER_BYTES), SQLITE_STATIC);
}

/* Split members m[0..n) (sorted) into entries: one cell, at most GEO_GROUP_MAX each. */
static size_t group(const struct member *m, size_t n, struct entry *out)
{
    size_t k = 0;

    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && j - i < GEO_GROUP_MAX && m[j].cell == m[i].cell)
            j++;
        out[k] = (struct entry){m + i, j - i, NULL};
        out[k].blob = pack(&out[k]);
        k++;
        i = j;
    }
    return k;
}

int kz__geo_write(struct kz__db *db, const struct kz__rec *const *recs, size_t n)
{
    struct member *m = kz_xmalloc((n ? n : 1) * sizeof(*m));
    struct entry *e = kz_xmalloc((n ? n : 1) * sizeof(*e));
    size_t k = 0, n_e;
    int rc;

    for (size_t i = 0; i < n; i++)
        if (recs[i]->has_point)
            m[k++] = (struct member){cell_of(recs[i]->lon, recs[i]->lat), recs[i]->seq,
                                     (int32_t)e7(recs[i]->lon), (int32_t)e7(recs[i]->lat)};
    qsort(m, k, sizeof(*m), by_cell_then_seq);
    n_e = group(m, k, e);
    rc = kz__db_rows(db, sql_insert, GEO_COLS, e, n_e, bind_entry);
    for (size_t i = 0; i < n_e; i++)
        free(e[i].blob);
    free(e);
    free(m);
    return rc;
}

int kz__geo_after_writes(struct kz__db *db, struct kz__job *batch)
{
    const struct kz__rec **recs = NULL;
    size_t n = 0, cap = 0;
    int rc;

    for (struct kz__job *j = batch; j; j = j->next) {
        if (j->ops != &kz__event_append_ops || j->status != KZ_OK)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            recs = kz_xrealloc(recs, cap * sizeof(*recs));
        }
        recs[n++] = &((const struct kz__rec_job *)j)->rec;
    }
    rc = kz__geo_write(db, recs, n);
    free(recs);
    return rc;
}

/* ---- migration 15: the events stored before it ------------------------------------ */

#define BACKFILL_CHUNK 4096

struct backfill {
    struct kz_cot_decoder *dec;
    struct kz_event ev;
    struct kz__rec *recs;
    const struct kz__rec **ptrs;
    size_t n;
};

/* One stored event: its point to the row and to the chunk; SQLITE_DONE or an error. */
static int backfill_row(struct kz__db *db, struct backfill *bf, sqlite3_stmt *sel)
{
    struct kz__rec *r = &bf->recs[bf->n];
    sqlite3_stmt *fill = kz__db_stmt(db, sql_fill);
    enum kz_reject why;
    size_t len = (size_t)sqlite3_column_bytes(sel, 1);
    const char *xml = (const char *)sqlite3_column_text(sel, 1);

    /* A row that no longer decodes has no point to index; the API skips it too. */
    if (!fill)
        return SQLITE_ERROR;
    if (!xml || kz_cot_decode(bf->dec, xml, len, &bf->ev, &why, NULL, 0) != KZ_OK)
        return SQLITE_DONE;
    *r = (struct kz__rec){.seq = (uint64_t)sqlite3_column_int64(sel, 0)};
    kz__geo_point(&bf->ev, r);
    kz_event_clear(&bf->ev);
    if (!r->has_point)
        return SQLITE_DONE;
    kz__geo_bind(fill, 1, r);
    sqlite3_bind_int64(fill, 3, (sqlite3_int64)r->seq);
    bf->ptrs[bf->n++] = r;
    return kz__db_step(fill);
}

int kz__geo_backfill(struct kz__db *db)
{
    struct kz_cot_limits lim;
    struct backfill bf = {0};
    sqlite3_stmt *sel = NULL;
    int rc;

    kz_cot_limits_default(&lim);
    lim.max_event_bytes = 1 << 20; /* what was stored was accepted once */
    bf.dec = kz_cot_decoder_new(&lim);
    bf.recs = kz_xcalloc(BACKFILL_CHUNK, sizeof(*bf.recs));
    bf.ptrs = kz_xcalloc(BACKFILL_CHUNK, sizeof(*bf.ptrs));
    kz_event_init(&bf.ev);
    rc = sqlite3_prepare_v2(db->db, "SELECT seq, xml FROM events ORDER BY seq", -1, &sel, NULL);
    while (rc == SQLITE_OK || rc == SQLITE_DONE) {
        if ((rc = sqlite3_step(sel)) != SQLITE_ROW)
            break;
        rc = backfill_row(db, &bf, sel);
        if (rc == SQLITE_DONE && bf.n == BACKFILL_CHUNK) {
            rc = kz__geo_write(db, bf.ptrs, bf.n);
            bf.n = 0;
        }
    }
    if (rc == SQLITE_DONE)
        rc = kz__geo_write(db, bf.ptrs, bf.n);
    sqlite3_finalize(sel);
    kz_event_clear(&bf.ev);
    kz_cot_decoder_free(bf.dec);
    free(bf.recs);
    free(bf.ptrs);
    return rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, "migration 15: events_geo", rc);
}

/* ---- reads ------------------------------------------------------------------------- */

/* A box in 1e-7 degrees; lon0 > lon1 crosses the antimeridian. */
struct e7box {
    int64_t lon0, lon1, lat0, lat1;
};

static struct e7box e7box_of(const struct kz_store_bbox *b)
{
    return (struct e7box){e7(b->min_lon), e7(b->max_lon), e7(b->min_lat), e7(b->max_lat)};
}

static bool e7_in(const struct e7box *b, int64_t lon, int64_t lat)
{
    if (lat < b->lat0 || lat > b->lat1)
        return false;
    return b->lon0 <= b->lon1 ? lon >= b->lon0 && lon <= b->lon1 : lon >= b->lon0 || lon <= b->lon1;
}

bool kz__geo_row_in(sqlite3_stmt *s, int col, const struct kz_store_bbox *b)
{
    struct e7box eb = e7box_of(b);

    if (sqlite3_column_type(s, col) == SQLITE_NULL ||
        sqlite3_column_type(s, col + 1) == SQLITE_NULL)
        return false;
    return e7_in(&eb, sqlite3_column_int64(s, col), sqlite3_column_int64(s, col + 1));
}

struct seqs {
    uint64_t *v;
    size_t n, cap;
};

static void seqs_add(struct seqs *out, uint64_t seq)
{
    if (out->n == out->cap) {
        out->cap = out->cap ? 2 * out->cap : 1024;
        out->v = kz_xrealloc(out->v, out->cap * sizeof(*out->v));
    }
    out->v[out->n++] = seq;
}

/* The members of the entry in s's row that lie in `eb` with from <= seq <= to. */
static void members_in(sqlite3_stmt *s, const struct e7box *eb, uint64_t from, uint64_t to,
                       struct seqs *out)
{
    uint64_t top = (uint64_t)sqlite3_column_int64(s, 0);
    const unsigned char *p = sqlite3_column_blob(s, 1);
    size_t n = (size_t)sqlite3_column_bytes(s, 1) / GEO_MEMBER_BYTES;

    for (size_t i = 0; p && i < n; i++, p += GEO_MEMBER_BYTES) {
        uint64_t seq = top - get_u32(p);
        int32_t lon = (int32_t)get_u32(p + 4), lat = (int32_t)get_u32(p + 8);
        if (seq >= from && seq <= to && e7_in(eb, lon, lat))
            seqs_add(out, seq);
    }
}

/* Append the members in the box among the entries of longitudes [lon0, lon1] that
 * overlap seqs [from, to] to *out. */
static int stretch(struct kz__db *db, const struct kz_store_bbox *b, double lon0, double lon1,
                   uint64_t from, uint64_t to, struct seqs *out)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_in_box);
    struct e7box eb = e7box_of(b);
    int rc;

    if (!s)
        return SQLITE_ERROR;
    sqlite3_bind_double(s, 1, lon0 - GEO_SLACK);
    sqlite3_bind_double(s, 2, lon1 + GEO_SLACK);
    sqlite3_bind_double(s, 3, b->min_lat - GEO_SLACK);
    sqlite3_bind_double(s, 4, b->max_lat + GEO_SLACK);
    sqlite3_bind_double(s, 5, (double)from * GEO_SEQ_SCALE);
    sqlite3_bind_double(s, 6, (double)to * GEO_SEQ_SCALE);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        members_in(s, &eb, from, to, out);
    sqlite3_reset(s);
    return rc;
}

/* The stretch's members in the box, both halves of a box across the antimeridian. */
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
            if (i == 0 || got.v[i] != got.v[i - 1]) /* both halves of a box may hold it */
                more = fn(ud, got.v[i]);
        more = more && from > lo;
        top = from - 1;
        len = len * 4 > GEO_MAX_STRETCH ? GEO_MAX_STRETCH : len * 4;
    }
    free(got.v);
    return rc;
}
