/*
 * ff_node.c - what each node of F1 must do to one event, and no more:
 * kz-usa parses the CoT text (expat, one parser reset per event, handlers
 * that read every attribute as a decoder would), appends it to a durable
 * log (SQLite: WAL, synchronous=FULL, one transaction per FF_BATCH events,
 * a prepared INSERT into the smallest log table there is) and packs a
 * FederatedEvent (protobuf-c, kizuna's proto/fig.proto); kz-jpn unpacks
 * it, encodes the event's XML (one snprintf, no escaping) and appends that.
 * Not counted, so the floor is lower still: the release rule, labels,
 * routing, indexes, the event loop.  bench/ only.
 */
#define _GNU_SOURCE
#include <expat.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fedfloor.h"
#include "fig.pb-c.h"

#define GRPC_HDR 5
#define XML_MAX 1024

/* ---- parse ------------------------------------------------------------------------ */

/*
 * One salt for every parse, drawn once: as kizuna's decoder does, and because without
 * one expat asks the kernel for random bytes at each parse.
 */
static unsigned long hash_salt;

struct parse_ctx {
    XML_Parser p;
    struct ff_ev *ev;
    const char *text;
    XML_Index detail_at;
    bool bad;
};

static void copy(struct parse_ctx *c, char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap) {
        c->bad = true;
        n = cap - 1;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" to ms since the epoch; -1 when it is not that shape. */
static int64_t iso_ms(const char *s)
{
    if (strlen(s) != 24 || s[4] != '-' || s[10] != 'T' || s[19] != '.' || s[23] != 'Z')
        return -1;
    int64_t days = days_from_civil(digits(s, 4), digits(s + 5, 2), digits(s + 8, 2));
    int64_t sec =
        days * 86400 + digits(s + 11, 2) * 3600 + digits(s + 14, 2) * 60 + digits(s + 17, 2);
    return sec * 1000 + digits(s + 20, 3);
}

static void event_attr(struct parse_ctx *c, const char *k, const char *v)
{
    struct ff_ev *ev = c->ev;
    if (!strcmp(k, "uid"))
        copy(c, ev->uid, sizeof(ev->uid), v);
    else if (!strcmp(k, "type"))
        copy(c, ev->type, sizeof(ev->type), v);
    else if (!strcmp(k, "how"))
        copy(c, ev->how, sizeof(ev->how), v);
    else if (!strcmp(k, "access"))
        copy(c, ev->access, sizeof(ev->access), v);
    else if (!strcmp(k, "time"))
        ev->time_ms = iso_ms(v);
    else if (!strcmp(k, "start"))
        ev->start_ms = iso_ms(v);
    else if (!strcmp(k, "stale"))
        ev->stale_ms = iso_ms(v);
}

static void point_attr(struct parse_ctx *c, const char *k, const char *v)
{
    struct ff_ev *ev = c->ev;
    double *dst = !strcmp(k, "lat")   ? &ev->lat
                  : !strcmp(k, "lon") ? &ev->lon
                  : !strcmp(k, "hae") ? &ev->hae
                  : !strcmp(k, "ce")  ? &ev->ce
                  : !strcmp(k, "le")  ? &ev->le
                                      : NULL;
    char *end;
    if (!dst)
        return;
    *dst = strtod(v, &end);
    c->bad |= end == v || *end;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct parse_ctx *c = ud;
    void (*attr)(struct parse_ctx *, const char *, const char *) = NULL;

    if (!strcmp(name, "event"))
        attr = event_attr;
    else if (!strcmp(name, "point"))
        attr = point_attr;
    else if (!strcmp(name, "detail"))
        c->detail_at = XML_GetCurrentByteIndex(c->p);
    else if (!strcmp(name, "contact"))
        for (int i = 0; atts[i]; i += 2)
            if (!strcmp(atts[i], "callsign"))
                copy(c, c->ev->callsign, sizeof(c->ev->callsign), atts[i + 1]);
    for (int i = 0; attr && atts[i]; i += 2)
        attr(c, atts[i], atts[i + 1]);
}

/* At </detail>: the detail element's text, as kizuna keeps it (and GeoEvent.other carries). */
static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct parse_ctx *c = ud;
    if (strcmp(name, "detail") != 0 || c->detail_at < 0)
        return;
    size_t n = (size_t)(XML_GetCurrentByteIndex(c->p) - c->detail_at) + strlen("</detail>");
    if (n >= sizeof(c->ev->detail)) {
        c->bad = true;
        return;
    }
    memcpy(c->ev->detail, c->text + c->detail_at, n);
    c->ev->detail[n] = '\0';
}

static bool parse(XML_Parser p, const char *text, size_t len, struct ff_ev *ev)
{
    struct parse_ctx c = {.p = p, .ev = ev, .text = text, .detail_at = -1};

    XML_ParserReset(p, "UTF-8");
    XML_SetHashSalt(p, hash_salt);
    XML_SetUserData(p, &c);
    XML_SetElementHandler(p, on_start, on_end);
    ev->uid[0] = ev->detail[0] = '\0';
    if (XML_Parse(p, text, (int)len, 1) != XML_STATUS_OK)
        return false;
    return !c.bad && ev->uid[0] && ev->detail[0] && ev->time_ms >= 0;
}

/* ---- the log ---------------------------------------------------------------------- */

struct flog {
    sqlite3 *db;
    sqlite3_stmt *ins;
};

struct flog_row {
    const char *uid, *label, *xml;
    size_t xml_len;
};

static bool db_ok(struct flog *l, int rc, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE)
        return true;
    fprintf(stderr, "fedfloor: %s: %s\n", what, sqlite3_errmsg(l->db));
    return false;
}

static void flog_close(struct flog *l)
{
    sqlite3_finalize(l->ins);
    sqlite3_close(l->db);
}

/* A new log at dir/name (any old one removed first). */
static bool flog_open(struct flog *l, const char *dir, const char *name)
{
    char path[4096];
    const char *sfx[] = {"", "-wal", "-shm"};

    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s%s", dir, name, sfx[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    l->ins = NULL;
    return db_ok(l, sqlite3_open(path, &l->db), path) &&
           db_ok(l,
                 sqlite3_exec(l->db,
                              "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              "CREATE TABLE log(seq INTEGER PRIMARY KEY, uid TEXT,"
                              " recv_time INTEGER, label TEXT, xml TEXT)",
                              NULL, NULL, NULL),
                 "schema") &&
           db_ok(l,
                 sqlite3_prepare_v2(l->db,
                                    "INSERT INTO log(uid, recv_time, label, xml) VALUES(?,?,?,?)",
                                    -1, &l->ins, NULL),
                 "prepare");
}

static int64_t realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* One transaction: n rows, committed (and, synchronous=FULL, synced) before it returns. */
static bool flog_append(struct flog *l, const struct flog_row *r, size_t n)
{
    if (!db_ok(l, sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL), "BEGIN"))
        return false;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(l->ins, 1, r[i].uid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(l->ins, 2, realtime_us());
        sqlite3_bind_text(l->ins, 3, r[i].label, -1, SQLITE_STATIC);
        sqlite3_bind_text(l->ins, 4, r[i].xml, (int)r[i].xml_len, SQLITE_STATIC);
        int rc = sqlite3_step(l->ins);
        sqlite3_reset(l->ins);
        if (!db_ok(l, rc, "INSERT"))
            return false;
    }
    return db_ok(l, sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL), "COMMIT");
}

/* ---- kz-usa ------------------------------------------------------------------------ */

/* FederatedEvent for ev, gRPC-framed, at the end of tx. */
static void pack(const struct ff_ev *ev, uint64_t seq, struct ff_seq *tx)
{
    Com__Atakmap__FederatedEvent fe = COM__ATAKMAP__FEDERATED_EVENT__INIT;
    Com__Atakmap__GeoEvent g = COM__ATAKMAP__GEO_EVENT__INIT;

    g.sendtime = ev->time_ms, g.starttime = ev->start_ms, g.staletime = ev->stale_ms;
    g.lat = ev->lat, g.lon = ev->lon, g.hae = ev->hae, g.ce = ev->ce, g.le = ev->le;
    g.uid = (char *)ev->uid, g.type = (char *)ev->type, g.coordsource = (char *)ev->how;
    g.other = (char *)ev->detail, g.access = (char *)ev->access;
    fe.event = &g;
    fe.nodesequence = seq;
    size_t n = com__atakmap__federated_event__get_packed_size(&fe);
    uint8_t *p = tx->buf + tx->len;
    if (tx->len + GRPC_HDR + n > tx->cap || tx->n == tx->max) {
        fprintf(stderr, "fedfloor: the message buffer is full\n");
        exit(2);
    }
    p[0] = 0;
    p[1] = (uint8_t)(n >> 24), p[2] = (uint8_t)(n >> 16), p[3] = (uint8_t)(n >> 8);
    p[4] = (uint8_t)n;
    com__atakmap__federated_event__pack(&fe, p + GRPC_HDR);
    tx->len += GRPC_HDR + n;
    tx->off[++tx->n] = tx->len;
}

static bool usa_batch(XML_Parser p, struct flog *l, const struct ff_seq *ev, size_t first, size_t n,
                      struct ff_seq *tx, struct ff_node_costs *c)
{
    static struct ff_ev evs[FF_BATCH];
    struct flog_row rows[FF_BATCH];
    struct ff_cost t = ff_now();

    for (size_t i = 0; i < n; i++) {
        const char *text = (const char *)ev->buf + ev->off[first + i];
        size_t len = ev->off[first + i + 1] - ev->off[first + i];
        if (!parse(p, text, len, &evs[i])) {
            fprintf(stderr, "fedfloor: event %zu does not parse\n", first + i);
            return false;
        }
        rows[i] = (struct flog_row){evs[i].uid, evs[i].access, text, len};
    }
    ff_lap(&c->parse, &t);
    if (!flog_append(l, rows, n))
        return false;
    ff_lap(&c->append_usa, &t);
    for (size_t i = 0; i < n; i++)
        pack(&evs[i], first + i + 1, tx);
    ff_lap(&c->pack, &t);
    return true;
}

bool ff_node_usa(const struct ff_seq *ev, const char *dir, struct ff_seq *tx,
                 struct ff_node_costs *c)
{
    XML_Parser p = XML_ParserCreate("UTF-8");
    struct flog l = {0};
    bool ok = p && getrandom(&hash_salt, sizeof(hash_salt), 0) == sizeof(hash_salt) &&
              flog_open(&l, dir, "usa.db");

    tx->len = tx->n = 0;
    tx->off[0] = 0;
    for (size_t i = 0; ok && i < ev->n; i += FF_BATCH)
        ok = usa_batch(p, &l, ev, i, ev->n - i < FF_BATCH ? ev->n - i : FF_BATCH, tx, c);
    c->packed_bytes = tx->len;
    flog_close(&l);
    if (p)
        XML_ParserFree(p);
    return ok;
}

/* ---- kz-jpn ------------------------------------------------------------------------ */

/* The text goes out with memcpy and hand-made digits: printf's float path costs more. */
struct out {
    char *p;
};

static void put(struct out *o, const char *s, size_t n)
{
    memcpy(o->p, s, n);
    o->p += n;
}

#define PUT(o, lit) put(o, lit, sizeof(lit) - 1)

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* v >= 0 in decimal, at least `width` digits. */
static void put_uint(struct out *o, uint64_t v, int width)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < width);
    while (n)
        *o->p++ = d[--n];
}

/* v with `decimals` digits after the point, as "%.*f" prints it (to the last digit). */
static void put_fixed(struct out *o, double v, int decimals)
{
    static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7};
    uint64_t s = (uint64_t)scale[decimals];
    if (v < 0) {
        *o->p++ = '-';
        v = -v;
    }
    uint64_t x = (uint64_t)(v * (double)s + 0.5);
    put_uint(o, x / s, 1);
    *o->p++ = '.';
    put_uint(o, x % s, decimals);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of ms; the second's text cached, as most events share it. */
static void put_time(struct out *o, int64_t ms)
{
    static int64_t sec = -1;
    static char txt[24];
    if (ms / 1000 != sec) {
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(txt, sizeof(txt), "%Y-%m-%dT%H:%M:%S", &tm);
        sec = ms / 1000;
    }
    put(o, txt, 19);
    *o->p++ = '.';
    put_uint(o, (uint64_t)(ms % 1000), 3);
    *o->p++ = 'Z';
}

/* The event's CoT text: the floor of an encoder (nothing escaped); 0 if it would not fit. */
static size_t xml_encode(const Com__Atakmap__GeoEvent *g, char *buf, size_t cap)
{
    struct out o = {buf};
    size_t need = 320 + strlen(g->uid) + strlen(g->type) + strlen(g->coordsource) +
                  strlen(g->access) + strlen(g->other);

    if (need > cap || g->sendtime < 0 || g->starttime < 0 || g->staletime < 0 ||
        !(fabs(g->lat) <= 90 && fabs(g->lon) <= 180 && fabs(g->hae) < 1e9 && fabs(g->ce) < 1e9 &&
          fabs(g->le) < 1e9))
        return 0;
    PUT(&o, "<event version=\"2.0\" uid=\"");
    put_str(&o, g->uid);
    PUT(&o, "\" type=\"");
    put_str(&o, g->type);
    PUT(&o, "\" how=\"");
    put_str(&o, g->coordsource);
    PUT(&o, "\" time=\"");
    put_time(&o, g->sendtime);
    PUT(&o, "\" start=\"");
    put_time(&o, g->starttime);
    PUT(&o, "\" stale=\"");
    put_time(&o, g->staletime);
    PUT(&o, "\" access=\"");
    put_str(&o, g->access);
    PUT(&o, "\"><point lat=\"");
    put_fixed(&o, g->lat, 6);
    PUT(&o, "\" lon=\"");
    put_fixed(&o, g->lon, 6);
    PUT(&o, "\" hae=\"");
    put_fixed(&o, g->hae, 1);
    PUT(&o, "\" ce=\"");
    put_fixed(&o, g->ce, 1);
    PUT(&o, "\" le=\"");
    put_fixed(&o, g->le, 1);
    PUT(&o, "\"/>");
    put_str(&o, g->other);
    PUT(&o, "</event>");
    return (size_t)(o.p - buf);
}

/* Outside the timing: count the encoded events that differ from the ones fedgen made. */
static void compare(const struct ff_seq *ev, size_t first, size_t n, const struct flog_row *rows,
                    struct ff_node_costs *c)
{
    for (size_t i = 0; i < n; i++) {
        size_t a = ev->off[first + i], len = ev->off[first + i + 1] - a;
        c->xml_differ += len != rows[i].xml_len || memcmp(ev->buf + a, rows[i].xml, len) != 0;
    }
}

static bool jpn_batch(struct flog *l, const struct ff_seq *rx, const struct ff_seq *ev,
                      size_t first, size_t n, struct ff_node_costs *c)
{
    static char xml[FF_BATCH][XML_MAX];
    Com__Atakmap__FederatedEvent *fe[FF_BATCH];
    struct flog_row rows[FF_BATCH];
    struct ff_cost t = ff_now();
    bool ok = true;

    for (size_t i = 0; i < n; i++) {
        size_t a = rx->off[first + i], b = rx->off[first + i + 1];
        fe[i] = com__atakmap__federated_event__unpack(NULL, b - a, rx->buf + a);
        ok &= fe[i] && fe[i]->event;
    }
    ff_lap(&c->unpack, &t);
    for (size_t i = 0; ok && i < n; i++) {
        const Com__Atakmap__GeoEvent *g = fe[i]->event;
        size_t len = xml_encode(g, xml[i], XML_MAX);
        rows[i] = (struct flog_row){g->uid, g->access, xml[i], len};
        c->xml_bytes += len;
        ok = len > 0;
    }
    ff_lap(&c->xml, &t);
    ok = ok && flog_append(l, rows, n);
    ff_lap(&c->append_jpn, &t);
    if (ok)
        compare(ev, first, n, rows, c);
    t = ff_now();
    for (size_t i = 0; i < n; i++)
        if (fe[i])
            com__atakmap__federated_event__free_unpacked(fe[i], NULL);
    ff_lap(&c->unpack, &t);
    if (!ok)
        fprintf(stderr, "fedfloor: kz-jpn failed on the batch from message %zu\n", first);
    return ok;
}

bool ff_node_jpn(const struct ff_seq *rx, const struct ff_seq *ev, const char *dir,
                 struct ff_node_costs *c)
{
    struct flog l = {0};
    bool ok = flog_open(&l, dir, "jpn.db");

    for (size_t i = 0; ok && i < rx->n; i += FF_BATCH)
        ok = jpn_batch(&l, rx, ev, i, rx->n - i < FF_BATCH ? rx->n - i : FF_BATCH, c);
    flog_close(&l);
    return ok;
}
