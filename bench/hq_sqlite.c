/*
 * hq_sqlite.c - workload H's SQLite backend: fill a store kizuna has just
 * created (schema current, no events) with prepared INSERTs in one
 * transaction, as kizuna's store would have written them: the events rows
 * (each linked to its uid's previous one, its point in 1e-7 degrees), their
 * points in events_geo (store/geo.c's layout: per 4 096 events, one entry
 * per 1-degree cell of at most 256 members, its box in degrees, its seqs
 * times 1e-4, the members as little-endian (newest seq - seq, lon_e7,
 * lat_e7)), uid_heads, the tracks
 * table and its mark.  The reference reads the log newest first and tests
 * each event's point from its XML (expat).  bench/ only.
 */
#define _GNU_SOURCE
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_util.h"
#include "histq.h"

#define XML_CAP 1024

static const char sql_event[] =
    "INSERT INTO events(seq, uid, type, time, start, stale, recv_time, label, origin_input,"
    " origin_user, xml, origin_nation, origin_groups, uid_prev, lon_e7, lat_e7)"
    " VALUES (?1, ?2, 'a-f-G-U-C', ?3, ?3, ?4, ?3, 'UNCLASSIFIED', 'cot', 'b0', ?5, 'USA',"
    " 'Cyan', ?6, ?7, ?8)";
static const char sql_geo[] = "INSERT INTO events_geo VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
/* store/geo.c's GEO_SEQ_SCALE, GEO_CELL_DEG, GEO_GROUP_MAX; a store batch's size. */
#define SEQ_SCALE 1e-4
#define CELL_DEG 1.0
#define GROUP_MAX 256
#define CHUNK 4096

struct member {
    long long cell;
    uint64_t seq;
    int32_t lon, lat;
};

static struct member chunk[CHUNK];
static size_t chunk_n;
static const char sql_head[] = "INSERT INTO uid_heads(uid, seq) VALUES (?1, ?2)";
static const char sql_track[] =
    "INSERT INTO tracks(uid, seq, type, stale, label, origin_input, origin_user, xml,"
    " origin_nation, origin_groups) SELECT uid, seq, type, stale, label, origin_input,"
    " origin_user, xml, origin_nation, origin_groups FROM events WHERE seq = ?1";

static void check(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "histq: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;

    check(db, sqlite3_prepare_v2(db, sql, -1, &s, NULL), sql);
    return s;
}

static void step(sqlite3 *db, sqlite3_stmt *s, const char *what)
{
    check(db, sqlite3_step(s), what);
    sqlite3_reset(s);
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

/* One entry: members m[0..n) of one cell. */
static void put_entry(sqlite3 *db, sqlite3_stmt *geo, const struct member *m, size_t n)
{
    static unsigned char blob[GROUP_MAX * 12];
    int32_t lon0 = m[0].lon, lon1 = lon0, lat0 = m[0].lat, lat1 = lat0;
    uint64_t top = m[n - 1].seq;

    for (size_t i = 0; i < n; i++) {
        lon0 = m[i].lon < lon0 ? m[i].lon : lon0;
        lon1 = m[i].lon > lon1 ? m[i].lon : lon1;
        lat0 = m[i].lat < lat0 ? m[i].lat : lat0;
        lat1 = m[i].lat > lat1 ? m[i].lat : lat1;
        put_u32(blob + 12 * i, (uint32_t)(top - m[i].seq));
        put_u32(blob + 12 * i + 4, (uint32_t)m[i].lon);
        put_u32(blob + 12 * i + 8, (uint32_t)m[i].lat);
    }
    sqlite3_bind_int64(geo, 1, (sqlite3_int64)top);
    sqlite3_bind_double(geo, 2, lon0 / 1e7);
    sqlite3_bind_double(geo, 3, lon1 / 1e7);
    sqlite3_bind_double(geo, 4, lat0 / 1e7);
    sqlite3_bind_double(geo, 5, lat1 / 1e7);
    sqlite3_bind_double(geo, 6, (double)m[0].seq * SEQ_SCALE);
    sqlite3_bind_double(geo, 7, (double)top * SEQ_SCALE);
    sqlite3_bind_blob(geo, 8, blob, (int)(12 * n), SQLITE_STATIC);
    step(db, geo, "INSERT INTO events_geo");
}

static void flush_chunk(sqlite3 *db, sqlite3_stmt *geo)
{
    qsort(chunk, chunk_n, sizeof(*chunk), by_cell_then_seq);
    for (size_t i = 0; i < chunk_n;) {
        size_t j = i + 1;
        while (j < chunk_n && j - i < GROUP_MAX && chunk[j].cell == chunk[i].cell)
            j++;
        put_entry(db, geo, chunk + i, j - i);
        i = j;
    }
    chunk_n = 0;
}

static void put_event(sqlite3 *db, sqlite3_stmt *ev, sqlite3_stmt *geo, const struct hq_event *e,
                      uint64_t prev, char *uid, char *xml)
{
    size_t len = hq_xml(e, xml, XML_CAP);

    snprintf(uid, 32, "hq-%u", e->unit);
    sqlite3_bind_int64(ev, 1, (sqlite3_int64)e->seq);
    sqlite3_bind_text(ev, 2, uid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ev, 3, e->recv_us);
    sqlite3_bind_int64(ev, 4, e->recv_us + 3600000000LL);
    sqlite3_bind_text(ev, 5, xml, (int)len, SQLITE_STATIC);
    if (prev)
        sqlite3_bind_int64(ev, 6, (sqlite3_int64)prev);
    else
        sqlite3_bind_null(ev, 6);
    sqlite3_bind_int64(ev, 7, llround(e->lon * 1e7));
    sqlite3_bind_int64(ev, 8, llround(e->lat * 1e7));
    step(db, ev, "INSERT INTO events");
    chunk[chunk_n++] =
        (struct member){(long long)floor((e->lat + 90.0) / CELL_DEG) * 1000 +
                            (long long)floor((e->lon + 180.0) / CELL_DEG),
                        e->seq, (int32_t)llround(e->lon * 1e7), (int32_t)llround(e->lat * 1e7)};
    if (chunk_n == CHUNK)
        flush_chunk(db, geo);
}

/* Each unit's newest seq to uid_heads and tracks, and the tracks mark. */
static void put_heads(sqlite3 *db, const uint64_t *last, int units, uint64_t top)
{
    sqlite3_stmt *h = prep(db, sql_head), *t = prep(db, sql_track);
    char uid[32], sql[128];

    for (int u = 0; u < units; u++) {
        if (!last[u])
            continue;
        snprintf(uid, sizeof(uid), "hq-%d", u);
        sqlite3_bind_text(h, 1, uid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(h, 2, (sqlite3_int64)last[u]);
        step(db, h, "INSERT INTO uid_heads");
        sqlite3_bind_int64(t, 1, (sqlite3_int64)last[u]);
        step(db, t, "INSERT INTO tracks");
    }
    sqlite3_finalize(h);
    sqlite3_finalize(t);
    snprintf(sql, sizeof(sql), "UPDATE store_marks SET value = %llu WHERE name = 'tracks_seq'",
             (unsigned long long)top);
    check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static int sq_build(const struct hq_opts *o, int64_t end_us)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ev, *geo;
    uint64_t *last = calloc((size_t)o->units, sizeof(*last));
    char uid[32], xml[XML_CAP];
    struct hq_event e;

    if (!last || sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "histq: cannot open %s\n", o->db);
        return -1;
    }
    check(db,
          sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; BEGIN", NULL, NULL,
                       NULL),
          "BEGIN");
    ev = prep(db, sql_event);
    geo = prep(db, sql_geo);
    for (long i = 1; i <= o->events; i++) {
        hq_event(o, (uint64_t)i, end_us, &e);
        put_event(db, ev, geo, &e, last[e.unit], uid, xml);
        last[e.unit] = e.seq;
    }
    flush_chunk(db, geo);
    sqlite3_finalize(ev);
    sqlite3_finalize(geo);
    put_heads(db, last, o->units, (uint64_t)o->events);
    check(db, sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
          "COMMIT");
    sqlite3_close(db);
    free(last);
    return 0;
}

static int sq_span(const struct hq_opts *o, int64_t *t0, int64_t *t1)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s;

    if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;
    s = prep(db, "SELECT min(recv_time), max(recv_time) FROM events");
    check(db, sqlite3_step(s), "span");
    *t0 = sqlite3_column_int64(s, 0);
    *t1 = sqlite3_column_int64(s, 1);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return 0;
}

/* ---- the reference: the log newest first, each point from its XML ---------------------- */

static int sq_reference(const struct hq_opts *o, const struct hq_case *c, double cap_s,
                        unsigned *rows)
{
    static sqlite3 *db;
    static sqlite3_stmt *s;
    int64_t t0 = gen_now_ns();
    int rc, capped = 0;
    long n = 0;

    if (!db) {
        if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
            return -1;
        s = prep(db, "SELECT recv_time, xml FROM events ORDER BY seq DESC");
    }
    *rows = 0;
    while (*rows < c->limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (sqlite3_column_int64(s, 0) < c->since_us)
            break; /* receive times grow with seq */
        if (hq_xml_in_case((const char *)sqlite3_column_text(s, 1), sqlite3_column_bytes(s, 1), c))
            ++*rows;
        if (++n % 4096 == 0 && (double)(gen_now_ns() - t0) / 1e9 > cap_s) {
            capped = 1;
            break;
        }
    }
    sqlite3_reset(s);
    return capped;
}

const struct hq_backend hq_sqlite = {"sqlite", sq_build, sq_span, sq_reference};
