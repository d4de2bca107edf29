/*
 * hq_pg.c - workload H's PostgreSQL backend (--db: a libpq DSN): fill a
 * store kizuna has just created (schema current, no events) as kizuna's
 * store would have written it (src/store/pg_events.c, pg_tracks.c): the
 * events rows (origin_node the node's id, origin_seq the seq, pos the
 * point as geography(PointZ, 4326) with the XML's lon, lat and hae, no
 * federation columns) and each uid's newest in tracks.  The rows go in with
 * COPY (text format, the point as hex EWKB); the events indexes that back
 * no constraint are dropped first and made again after, from their own
 * definitions (pg_get_indexdef), so the schema ends as kizuna made it; then
 * VACUUM (ANALYZE), as autovacuum would after such a load.  The reference
 * reads the log newest first through a cursor and tests each event's point
 * from its XML (expat).  bench/ only.
 */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_util.h"
#include "histq.h"

#define XML_CAP 1024
#define COPY_CAP (1 << 20)
#define MAX_INDEXES 32

static const char sql_copy[] =
    "COPY events(seq, uid, type, time, start, stale, recv_time, label, origin_input, origin_user,"
    " xml, origin_nation, origin_groups, origin_node, origin_seq, pos) FROM STDIN";
/* The events indexes kizuna made that back no constraint (those stay during the COPY). */
static const char sql_indexes[] =
    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i"
    " WHERE indrelid = 'events'::regclass"
    " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
    " ORDER BY indexrelid";

static PGconn *connect_db(const char *dsn)
{
    PGconn *c = PQconnectdb(dsn);

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "histq: cannot connect to %s: %s", dsn, PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Run sql; its result when it is `want`, else NULL (logged). */
static PGresult *run(PGconn *c, const char *sql, ExecStatusType want)
{
    PGresult *r = PQexec(c, sql);

    if (PQresultStatus(r) == want)
        return r;
    fprintf(stderr, "histq: %.80s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return NULL;
}

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = run(c, sql, PGRES_COMMAND_OK);

    PQclear(r);
    return r ? 0 : -1;
}

/* ---- the rows, as COPY text -------------------------------------------------------------- */

/* s[0..n) escaped for COPY's text format at out; the end. */
static char *put_text(char *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\\':
            *out++ = '\\';
            *out++ = '\\';
            break;
        case '\n':
            *out++ = '\\';
            *out++ = 'n';
            break;
        case '\r':
            *out++ = '\\';
            *out++ = 'r';
            break;
        case '\t':
            *out++ = '\\';
            *out++ = 't';
            break;
        default:
            *out++ = s[i];
        }
    }
    return out;
}

static char *put_hex_le(char *out, uint64_t v, int bytes)
{
    static const char hex[] = "0123456789ABCDEF";

    for (int i = 0; i < bytes; i++, v >>= 8) {
        *out++ = hex[(v >> 4) & 0xf];
        *out++ = hex[v & 0xf];
    }
    return out;
}

static char *put_double(char *out, double d)
{
    uint64_t v;

    memcpy(&v, &d, sizeof(v));
    return put_hex_le(out, v, 8);
}

/* The point as EWKB, little-endian, SRID 4326, with Z: lon and lat as the XML writes them
 * (7 decimals, read back as kizuna's codec does), hae 10. */
static char *put_point(char *out, const struct hq_event *e)
{
    char t[32];

    out = put_hex_le(out, 1, 1);
    out = put_hex_le(out, 0xA0000001u, 4); /* point | Z | SRID */
    out = put_hex_le(out, 4326, 4);
    snprintf(t, sizeof(t), "%.7f", e->lon);
    out = put_double(out, strtod(t, NULL));
    snprintf(t, sizeof(t), "%.7f", e->lat);
    out = put_double(out, strtod(t, NULL));
    return put_double(out, 10.0);
}

/* One events row at out (room: 3 * XML_CAP); the end. */
static char *put_row(char *out, const struct hq_opts *o, const struct hq_event *e)
{
    char xml[XML_CAP];
    size_t len = hq_xml(e, xml, sizeof(xml));
    long long seq = (long long)e->seq, t = (long long)e->recv_us;

    out += sprintf(out, "%lld\thq-%u\ta-f-G-U-C\t%lld\t%lld\t%lld\t%lld\tUNCLASSIFIED\tcot\tb0\t",
                   seq, e->unit, t, t, t + 3600000000LL, t);
    out = put_text(out, xml, len);
    out += sprintf(out, "\tUSA\tCyan\t%s\t%lld\t", o->node, seq);
    out = put_point(out, e);
    *out++ = '\n';
    return out;
}

static int copy_events(PGconn *c, const struct hq_opts *o, int64_t end_us)
{
    char *buf = malloc(COPY_CAP), *p = buf;
    PGresult *r = run(c, sql_copy, PGRES_COPY_IN);
    struct hq_event e;
    int rc = 0;

    if (!buf || !r) {
        free(buf);
        return -1;
    }
    PQclear(r);
    for (long i = 1; i <= o->events && rc == 0; i++) {
        hq_event(o, (uint64_t)i, end_us, &e);
        p = put_row(p, o, &e);
        if (p - buf > COPY_CAP - 3 * XML_CAP || i == o->events) {
            rc = PQputCopyData(c, buf, (int)(p - buf)) == 1 ? 0 : -1;
            p = buf;
        }
    }
    free(buf);
    if (PQputCopyEnd(c, rc ? "histq stopped" : NULL) != 1)
        rc = -1;
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "histq: COPY events: %s", PQerrorMessage(c));
        rc = -1;
    }
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    return rc;
}

/* ---- build -------------------------------------------------------------------------------- */

/* The indexes to make again after the COPY: their definitions (dropped now); how many. */
static int drop_indexes(PGconn *c, char **defs)
{
    PGresult *r = run(c, sql_indexes, PGRES_TUPLES_OK);
    char sql[256];
    int n = 0;

    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r) && i < MAX_INDEXES; i++) {
        defs[n++] = strdup(PQgetvalue(r, i, 1));
        snprintf(sql, sizeof(sql), "DROP INDEX %s", PQgetvalue(r, i, 0));
        if (exec_ok(c, sql) != 0)
            n = -1;
    }
    PQclear(r);
    return n;
}

static int empty_store(PGconn *c)
{
    PGresult *r = run(c, "SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) x", PGRES_TUPLES_OK);
    int rc = r && strcmp(PQgetvalue(r, 0, 0), "0") == 0 ? 0 : -1;

    if (r && rc)
        fprintf(stderr, "histq: the store is not empty\n");
    PQclear(r);
    return rc;
}

static double since_s(int64_t t0)
{
    return (double)(gen_now_ns() - t0) / 1e9;
}

static int pg_build(const struct hq_opts *o, int64_t end_us)
{
    PGconn *c = connect_db(o->db);
    char *defs[MAX_INDEXES], sql[512];
    int n = -1, rc = -1;
    int64_t t = gen_now_ns();

    if (!c || empty_store(c) != 0 || exec_ok(c, "SET maintenance_work_mem = '1GB'") != 0 ||
        (n = drop_indexes(c, defs)) < 0 || copy_events(c, o, end_us) != 0)
        goto out;
    fprintf(stderr, "histq: COPY of %ld events: %.1f s\n", o->events, since_s(t));
    for (int i = 0; i < n; i++)
        if (exec_ok(c, defs[i]) != 0)
            goto out;
    fprintf(stderr, "histq: %d indexes made again: %.1f s\n", n, since_s(t));
    /* seq i is unit i % units: the last `units` seqs are each uid's newest. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO tracks(uid, seq, type, stale, label, origin_input, origin_user, xml,"
             " origin_nation, origin_groups, pos) SELECT uid, seq, type, stale, label,"
             " origin_input, origin_user, xml, origin_nation, origin_groups, pos FROM events"
             " WHERE seq > %ld",
             o->events > o->units ? o->events - o->units : 0);
    if (exec_ok(c, sql) == 0 && exec_ok(c, "VACUUM (ANALYZE) events") == 0 &&
        exec_ok(c, "VACUUM (ANALYZE) tracks") == 0)
        rc = 0;
    fprintf(stderr, "histq: tracks, VACUUM (ANALYZE): %.1f s\n", since_s(t));
out:
    for (int i = 0; i < n; i++)
        free(defs[i]);
    PQfinish(c);
    return rc;
}

static int pg_span(const struct hq_opts *o, int64_t *t0, int64_t *t1)
{
    PGconn *c = connect_db(o->db);
    PGresult *r =
        c ? run(c, "SELECT min(recv_time), max(recv_time) FROM events", PGRES_TUPLES_OK) : NULL;

    if (r) {
        *t0 = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        *t1 = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    }
    PQclear(r);
    PQfinish(c);
    return r ? 0 : -1;
}

/* ---- the reference: the log newest first, each point from its XML ---------------------- */

/* Rows of the cursor from the newest on, in FETCHes of growing size; *rows in the case. */
static int scan(PGconn *c, const struct hq_case *c_, double cap_s, unsigned *rows)
{
    int64_t t0 = gen_now_ns();
    char sql[64];
    int got, fetch = 128, capped = 0;
    bool done = false;

    while (!done) {
        snprintf(sql, sizeof(sql), "FETCH %d FROM hq", fetch);
        PGresult *r = run(c, sql, PGRES_TUPLES_OK);
        if (!r)
            return -1;
        got = PQntuples(r);
        for (int i = 0; i < got && !done; i++) {
            if (strtoll(PQgetvalue(r, i, 0), NULL, 10) < c_->since_us)
                done = true; /* receive times grow with seq */
            else if (hq_xml_in_case(PQgetvalue(r, i, 1), PQgetlength(r, i, 1), c_) &&
                     ++*rows == c_->limit)
                done = true;
        }
        PQclear(r);
        if (!done && (got < fetch || since_s(t0) > cap_s)) {
            capped = got == fetch;
            done = true;
        }
        fetch = fetch < 8192 ? fetch * 4 : fetch;
    }
    return capped;
}

static int pg_reference(const struct hq_opts *o, const struct hq_case *hc, double cap_s,
                        unsigned *rows)
{
    static PGconn *c;
    int rc;

    if (!c && !(c = connect_db(o->db)))
        return -1;
    *rows = 0;
    if (exec_ok(c, "BEGIN") != 0 ||
        exec_ok(c, "DECLARE hq NO SCROLL CURSOR FOR SELECT recv_time, xml FROM events"
                   " ORDER BY seq DESC") != 0)
        return -1;
    rc = scan(c, hc, cap_s, rows);
    return exec_ok(c, "COMMIT") == 0 ? rc : -1;
}

const struct hq_backend hq_pg = {"postgres", pg_build, pg_span, pg_reference};
