/*
 * fedfloor.h - shared parts of fedfloor, the per-event CPU floor of one F1
 * crossing (bench/ only, never built by make test).
 *
 * fedfloor.c: the generator, the TCP hop, the run and its report;
 * ff_node.c: what each node does to an event (expat parse, SQLite append,
 * protobuf-c pack and unpack, XML encode); ff_link.c: the link between them
 * (nghttp2 client and server sessions over an in-memory TLS 1.3 pair).
 * Single-threaded but for the TCP hop's reader.  All costs are totals in
 * microseconds over every event a step saw; the report divides.
 */
#ifndef KZ_BENCH_FEDFLOOR_H
#define KZ_BENCH_FEDFLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FF_BATCH 1024 /* events per store transaction, as kizuna commits them */

/* Events or messages laid end to end: item i is buf[off[i]..off[i + 1]). */
struct ff_seq {
    uint8_t *buf;
    size_t len, cap;
    size_t *off; /* n + 1 entries once n items are in */
    size_t n, max;
};

void ff_seq_init(struct ff_seq *s, size_t bytes, size_t items);
void ff_seq_release(struct ff_seq *s);

/* One event as a decoder holds it.  detail is "<detail>...</detail>", NUL-terminated. */
struct ff_ev {
    char uid[48], type[32], how[16], access[48], callsign[32];
    int64_t time_ms, start_ms, stale_ms;
    double lat, lon, hae, ce, le;
    char detail[512];
};

/* µs of CPU (the whole process) and of the wall clock. */
struct ff_cost {
    double cpu, wall;
};

/* CLOCK_PROCESS_CPUTIME_ID in µs. */
double ff_cpu_us(void);
/* CLOCK_MONOTONIC in µs. */
double ff_wall_us(void);
/* Adds the time since *start to *c and moves *start to now. */
void ff_lap(struct ff_cost *c, struct ff_cost *start);
struct ff_cost ff_now(void);

/* ---- ff_node.c ---- */

/* Both nodes' costs, in µs over all events. */
struct ff_node_costs {
    struct ff_cost parse, append_usa, pack; /* kz-usa */
    struct ff_cost unpack, xml, append_jpn; /* kz-jpn */
    size_t packed_bytes;                    /* gRPC-framed, all messages */
    size_t xml_bytes;                       /* kz-jpn's encoded events */
    size_t xml_differ;                      /* of them, how many differ from fedgen's */
};

/*
 * kz-usa: parse each event of ev, append it to a log in dir (usa.db), pack a
 * FederatedEvent for it into tx (5-byte gRPC prefix + message), by batches
 * of FF_BATCH.  False (with a message on stderr) on a failure.
 */
bool ff_node_usa(const struct ff_seq *ev, const char *dir, struct ff_seq *tx,
                 struct ff_node_costs *c);
/*
 * kz-jpn: unpack each message of rx, encode its XML, append it to dir/jpn.db; the
 * XML is compared (untimed) with the event of ev it came from.
 */
bool ff_node_jpn(const struct ff_seq *rx, const struct ff_seq *ev, const char *dir,
                 struct ff_node_costs *c);

/* ---- ff_link.c ---- */

struct ff_link_costs {
    struct ff_cost h2_send, seal; /* kz-usa */
    struct ff_cost open, h2_recv; /* kz-jpn */
    size_t h2_bytes, tls_bytes;   /* client to server: HTTP/2 and TLS record bytes */
    char cipher[64];
};

/*
 * tx's gRPC-framed messages as the DATA of one ServerEventStream call from
 * an nghttp2 client to an nghttp2 server, through TLS 1.3 in memory; the
 * server's messages (without their prefix) go to rx.  False on a failure.
 */
bool ff_link_run(const struct ff_seq *tx, struct ff_seq *rx, struct ff_link_costs *c);

#endif
