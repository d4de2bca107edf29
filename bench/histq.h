/*
 * histq.h - the history query bench (workload H): a store of millions of
 * events over a theatre and a few days, then GET /api/v1/events?bbox=&since=
 * timed through a running kizuna's HTTP API, next to a reference that answers
 * the same question without a spatial index.  bench/ only.
 *
 * A backend (--backend) fills the store and answers the reference; the HTTP
 * side is the same whatever kizuna stores in.  hq_sqlite.c is SQLite's,
 * hq_pg.c PostgreSQL's (--db a libpq DSN).
 */
#ifndef KZ_BENCH_HISTQ_H
#define KZ_BENCH_HISTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hq_opts {
    const char *backend; /* "sqlite", "postgres" */
    const char *db;      /* the backend's store: a file, a DSN */
    const char *node;    /* kizuna's node.id (PostgreSQL rows carry it) */
    long events;         /* how many to build */
    int units;           /* uids they come from */
    int days;            /* the span of their receive times, ending now */
    int port;            /* kizuna's web input (query) */
    int reps;            /* requests per case */
    int ref_reps;        /* reference queries per case */
    double ref_cap_s;    /* a reference query stops after this long */
};

/* One query: a box (degrees; none: every event), a since (µs), a page size. */
struct hq_case {
    bool box;
    double lon0, lat0, lon1, lat1;
    int64_t since_us;
    unsigned limit;
};

/* Event i (1-based: its seq) of the generated log. */
struct hq_event {
    uint64_t seq;
    unsigned unit;
    int64_t recv_us;
    double lat, lon;
};

/* The theatre: 20 by 20 degrees (about 2 000 km a side). */
#define HQ_LON0 125.0
#define HQ_LAT0 25.0
#define HQ_SIDE 20.0

void hq_event(const struct hq_opts *o, uint64_t seq, int64_t end_us, struct hq_event *e);
/* Its CoT XML (as kizuna stores it: it decodes); the length. */
size_t hq_xml(const struct hq_event *e, char *buf, size_t cap);

/* Whether an event's XML has its point in c's box (always, without a box); expat. */
bool hq_xml_in_case(const char *xml, int len, const struct hq_case *c);

struct hq_backend {
    const char *name;
    /* Fill the store (schema made by kizuna, empty) with o->events events ending at end_us. */
    int (*build)(const struct hq_opts *o, int64_t end_us);
    /* The oldest and newest receive time stored. */
    int (*span)(const struct hq_opts *o, int64_t *t0, int64_t *t1);
    /*
     * The case without a spatial index: the newest `limit` events in the box
     * received since since_us, read newest first from the log (stopping at
     * since) and tested one by one.  *rows found; 1 when it ran past cap_s
     * (the time is then a lower bound), 0 when done, -1 on error.
     */
    int (*reference)(const struct hq_opts *o, const struct hq_case *c, double cap_s,
                     unsigned *rows);
};

extern const struct hq_backend hq_sqlite;
extern const struct hq_backend hq_pg;

#endif
