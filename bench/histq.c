/*
 * histq.c - workload H, the history query (issue 15, "Measure"): how long
 * GET /api/v1/events?bbox=&since= takes on a log of ten million events.
 *
 *   histq build --backend sqlite|postgres --db FILE|DSN [--events N --units U --days D]
 *       fills the store kizuna created (empty, schema current) and prints how
 *       long that took;
 *   histq query --backend sqlite|postgres --db FILE|DSN --port WEB [--reps R]
 *       with kizuna serving that store, times each case through its HTTP
 *       API (one GET per request, limit=100, a fresh box position each
 *       time) and the same cases through the backend's reference (no
 *       spatial index: the log newest first, each point tested), and prints
 *       p50/p99 per case, one JSON line each on stdout.
 *
 * The events: `units` uids, each near a home of its own spread uniformly
 * over a 20 by 20 degree theatre, received evenly over `days` days ending
 * now.  The cases: a small box (0.1 degree, about 10 km: most hold no
 * home, so the whole span is searched), a medium one (1 degree) and the
 * whole theatre, each with a recent since (the last hour) and an old one
 * (the start of the log); and, for the cost of HTTP and JSON alone, the
 * same without a box.  The reference runs in this process on the store
 * (no HTTP, no JSON).  bench/ only.
 */
#define _GNU_SOURCE
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen_util.h"
#include "histq.h"
#include "probe.h"

const char gen_prog[] = "histq";

#define ANSWER_CAP (4 << 20)
#define LIMIT 100

static const struct hq_backend *const backends[] = {&hq_sqlite, &hq_pg};

/* ---- the generated log ---------------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* A uniform double in [0, 1) from a key. */
static double unit_rand(uint64_t key)
{
    return (double)(mix(key) >> 11) / 9007199254740992.0;
}

void hq_event(const struct hq_opts *o, uint64_t seq, int64_t end_us, struct hq_event *e)
{
    int64_t span = (int64_t)o->days * 86400000000LL;

    e->seq = seq;
    e->unit = (unsigned)(seq % (uint64_t)o->units);
    e->recv_us = end_us - span + (int64_t)((double)span * (double)seq / (double)o->events);
    /* Home, then within 0.05 degree of it. */
    e->lon = HQ_LON0 + 0.05 + (HQ_SIDE - 0.1) * unit_rand(2 * e->unit) +
             0.1 * (unit_rand(seq * 3 + 1) - 0.5);
    e->lat = HQ_LAT0 + 0.05 + (HQ_SIDE - 0.1) * unit_rand(2 * e->unit + 1) +
             0.1 * (unit_rand(seq * 3 + 2) - 0.5);
}

size_t hq_xml(const struct hq_event *e, char *buf, size_t cap)
{
    static struct gen_sec_cache sc;
    char t[32], stale[32];
    int n;

    gen_iso_ms(&sc, e->recv_us / 1000, t);
    gen_iso_ms(&sc, e->recv_us / 1000 + 3600000, stale);
    n = snprintf(buf, cap,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<event version=\"2.0\" "
                 "uid=\"hq-%u\" type=\"a-f-G-U-C\" how=\"m-g\" time=\"%s\" start=\"%s\" "
                 "stale=\"%s\" access=\"UNCLASSIFIED\"><point lat=\"%.7f\" lon=\"%.7f\" "
                 "hae=\"10\" ce=\"5\" le=\"9999999.0\"/><detail><contact callsign=\"HQ%u\"/>"
                 "</detail></event>",
                 e->unit, t, t, stale, e->lat, e->lon, e->unit);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---- the reference's test: an event's point from its XML ----------------------------- */

struct point_ctx {
    double lat, lon;
    bool found;
};

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct point_ctx *p = ud;

    if (strcmp(name, "point") != 0)
        return;
    for (size_t i = 0; atts[i]; i += 2) {
        if (strcmp(atts[i], "lat") == 0)
            p->lat = strtod(atts[i + 1], NULL);
        else if (strcmp(atts[i], "lon") == 0)
            p->lon = strtod(atts[i + 1], NULL);
    }
    p->found = true;
}

bool hq_xml_in_case(const char *xml, int len, const struct hq_case *c)
{
    static XML_Parser xp;
    struct point_ctx p = {0};

    if (!c->box)
        return true;
    if (!xp && !(xp = XML_ParserCreate(NULL)))
        return false;
    XML_ParserReset(xp, NULL);
    XML_SetUserData(xp, &p);
    XML_SetStartElementHandler(xp, on_start);
    if (XML_Parse(xp, xml, len, 1) != XML_STATUS_OK || !p.found)
        return false;
    return p.lon >= c->lon0 && p.lon <= c->lon1 && p.lat >= c->lat0 && p.lat <= c->lat1;
}

/* ---- cases ------------------------------------------------------------------------------ */

struct shape {
    const char *name;
    double side; /* degrees */
    bool recent; /* since the last hour, else since the start */
};

static const struct shape shapes[] = {
    {"nobox-recent", 0.0, true},    {"nobox-old", 0.0, false},    {"small-recent", 0.1, true},
    {"small-old", 0.1, false},      {"medium-recent", 1.0, true}, {"medium-old", 1.0, false},
    {"theatre-recent", 20.0, true}, {"theatre-old", 20.0, false},
};

static void make_case(const struct shape *sh, int64_t t0, int64_t t1, uint64_t k, struct hq_case *c)
{
    double room = HQ_SIDE - sh->side;

    c->box = sh->side > 0.0;
    c->lon0 = HQ_LON0 + room * unit_rand(k * 7 + 11);
    c->lat0 = HQ_LAT0 + room * unit_rand(k * 7 + 12);
    c->lon1 = c->lon0 + sh->side;
    c->lat1 = c->lat0 + sh->side;
    c->since_us = sh->recent ? t1 - 3600000000LL : t0;
    c->limit = LIMIT;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of v[0..n), sorted. */
static double quantile(const double *v, int n, double q)
{
    int i = (int)ceil(q * n) - 1;

    return n ? v[i < 0 ? 0 : i >= n ? n - 1 : i] : 0.0;
}

/* Features in an answer, by their opening (the body is GeoJSON). */
static unsigned features(const char *body)
{
    unsigned n = 0;

    for (const char *p = body; (p = strstr(p, "{\"type\":\"Feature\"")); p++)
        n++;
    return n;
}

/* One GET; ms, or -1 when it failed (logged). */
static double http_case(const struct hq_opts *o, const struct hq_case *c, char *buf, unsigned *rows)
{
    static struct gen_sec_cache sc;
    char path[256], since[32];
    int64_t t = gen_now_ns();

    gen_iso_ms(&sc, c->since_us / 1000, since);
    if (c->box)
        snprintf(path, sizeof(path), "/api/v1/events?bbox=%.4f,%.4f,%.4f,%.4f&since=%s&limit=%u",
                 c->lon0, c->lat0, c->lon1, c->lat1, since, c->limit);
    else
        snprintf(path, sizeof(path), "/api/v1/events?since=%s&limit=%u", since, c->limit);
    if (!probe_get(o->port, path, buf, ANSWER_CAP) || strncmp(buf, "HTTP/1.1 200", 12) != 0) {
        fprintf(stderr, "histq: GET %s failed: %.200s\n", path, buf);
        return -1;
    }
    *rows = features(probe_body(buf) ? probe_body(buf) : "");
    return (double)(gen_now_ns() - t) / 1e6;
}

static void report(const char *shape, const char *via, double *ms, int n, double rows, int capped)
{
    qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
    printf("{\"case\":\"%s\",\"via\":\"%s\",\"n\":%d,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
           "\"rows_mean\":%.1f,\"capped\":%d}\n",
           shape, via, n, quantile(ms, n, 0.5), quantile(ms, n, 0.99), n ? rows / n : 0.0, capped);
    fflush(stdout);
}

static int run_shape(const struct hq_opts *o, const struct hq_backend *be, const struct shape *sh,
                     int64_t t0, int64_t t1, char *buf)
{
    double *ms = calloc((size_t)o->reps, sizeof(*ms)), rows_sum = 0;
    struct hq_case c;
    unsigned rows;
    int n = 0, capped = 0, rc;
    char via[64];

    for (int k = 0; k < o->reps; k++) {
        make_case(sh, t0, t1, (uint64_t)k, &c);
        if ((ms[n] = http_case(o, &c, buf, &rows)) < 0)
            return -1;
        rows_sum += rows;
        n++;
    }
    snprintf(via, sizeof(via), "http-%s", be->name);
    report(sh->name, via, ms, n, rows_sum, 0);
    for (n = 0, rows_sum = 0; n < o->ref_reps; n++) {
        int64_t t = gen_now_ns();
        make_case(sh, t0, t1, (uint64_t)n, &c);
        if ((rc = be->reference(o, &c, o->ref_cap_s, &rows)) < 0)
            return -1;
        ms[n] = (double)(gen_now_ns() - t) / 1e6;
        capped += rc;
        rows_sum += rows;
    }
    snprintf(via, sizeof(via), "reference-%s-scan", be->name);
    report(sh->name, via, ms, n, rows_sum, capped);
    free(ms);
    return 0;
}

static int query(const struct hq_opts *o, const struct hq_backend *be)
{
    char *buf = malloc(ANSWER_CAP);
    int64_t t0, t1;
    int rc = 0;

    if (!buf || be->span(o, &t0, &t1) != 0) {
        fprintf(stderr, "histq: cannot read the span of %s\n", o->db);
        return 1;
    }
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]) && rc == 0; i++)
        rc = run_shape(o, be, &shapes[i], t0, t1, buf);
    free(buf);
    return rc ? 1 : 0;
}

static int build(const struct hq_opts *o, const struct hq_backend *be)
{
    int64_t t = gen_now_ns();

    if (be->build(o, gen_wall_ms() * 1000) != 0)
        return 1;
    double s = (double)(gen_now_ns() - t) / 1e9;
    printf("{\"build\":\"%s\",\"events\":%ld,\"units\":%d,\"days\":%d,\"seconds\":%.1f,"
           "\"events_per_s\":%.0f}\n",
           be->name, o->events, o->units, o->days, s, (double)o->events / s);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: histq build|query --backend sqlite|postgres --db PATH|DSN [--events N]"
                    " [--units U] [--days D] [--node ID] [--port WEB] [--reps R] [--ref-reps R]"
                    " [--ref-cap S]\n");
}

int main(int argc, char **argv)
{
    struct hq_opts o = {"sqlite", NULL, "bench", 10000000, 5000, 3, 0, 200, 5, 2.0};
    const struct gen_opt opts[] = {
        {0, "backend", GEN_STR, &o.backend, NULL},   {0, "db", GEN_STR, &o.db, NULL},
        {0, "node", GEN_STR, &o.node, NULL},         {0, "events", GEN_LONG, &o.events, NULL},
        {0, "units", GEN_INT, &o.units, NULL},       {0, "days", GEN_INT, &o.days, NULL},
        {0, "port", GEN_INT, &o.port, NULL},         {0, "reps", GEN_INT, &o.reps, NULL},
        {0, "ref-reps", GEN_INT, &o.ref_reps, NULL}, {0, "ref-cap", GEN_DOUBLE, &o.ref_cap_s, NULL},
        {'h', "help", GEN_HELP, NULL, NULL},
    };
    const struct hq_backend *be = NULL;

    optind = 2;
    if (argc < 2 || !gen_parse_opts(argc, argv, opts, sizeof(opts) / sizeof(opts[0])) || !o.db ||
        o.events < 1 || o.units < 1 || o.days < 1 || o.reps < 1 || o.ref_reps < 1) {
        usage();
        return 2;
    }
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strcmp(backends[i]->name, o.backend) == 0)
            be = backends[i];
    if (!be) {
        fprintf(stderr, "histq: no backend '%s'\n", o.backend);
        return 2;
    }
    if (strcmp(argv[1], "build") == 0)
        return build(&o, be);
    if (strcmp(argv[1], "query") == 0 && o.port > 0)
        return query(&o, be);
    usage();
    return 2;
}
