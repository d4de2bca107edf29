/*
 * loadgen.h - shared state of the benchmark load generator (bench/ only).
 *
 * loadgen.c runs the loop and the CoT framing, lg_proto.c speaks MQTT and
 * NATS, lg_tls.c wraps CoT in mutual TLS, lg_report.c samples the server
 * and prints the results; the clock, gen_die() and the cutting of a CoT
 * stream are gen_util.c's, shared with fedgen.  All of it is one
 * single-threaded program; nothing here is thread-safe.
 */
#ifndef KZ_BENCH_LOADGEN_H
#define KZ_BENCH_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gen_util.h"

#define MAX_PORTS 64
#define HIST_N (40 * 256)

enum mode { M_COT, M_MQTT, M_NATS };
enum role { R_NORMAL, R_SLOW, R_PRELOAD, R_PROBE, R_STORM };

struct opts {
    enum mode mode;
    int ports[MAX_PORTS], n_ports;
    int n, pad, groups, pid, slow, metrics_port, tracks;
    /* -P: every server process whose CPU counts (pid is the first: RSS, storms). */
    int pids[MAX_PORTS], n_pids;
    bool split; /* --split: clients spread over the ports, not groups */
    double rate, warm, dur, drain, conn_rate, storm;
    bool atak, tls;
    const char *label;
    const char *tls_cert, *tls_key, *tls_ca;
    double idle;  /* W4 idle: seconds to hold the connections */
    int inflight; /* W4 idle: handshakes in progress at once */
    int procs;    /* W4 idle: processes that share the storm */
};

struct client {
    int idx, id, group, fd;
    enum role role;
    bool tcp_up, connected, ready, in_ep;
    bool tls_more; /* OpenSSL holds more decrypted input than fitted */
    void *ssl;     /* SSL * with --tls, else NULL */
    uint32_t ev_mask, seq;
    char *wb; /* pending output, wb[woff..wlen) */
    size_t wlen, woff, wcap;
    char *carry; /* partial frame kept between reads */
    size_t clen, ccap;
    uint64_t got; /* storm and probe: events received */
    int64_t t_start, t_conn, t_first, t_done;
};

/* Log-bucketed latency histogram, values in ns. */
struct hist {
    uint64_t b[HIST_N];
    uint64_t count, max;
};

struct stats {
    uint64_t sent_win, expected, recv_win, recv_of_win;
    uint64_t cross, bad, self, replayed, closed, rx_events, rx_bytes, n_connected;
    int64_t send_lag_max;
    bool window_closed;
    struct hist lat;
};

extern struct opts o;
extern struct stats st;
extern struct client *cl;
extern int n_all, ep;

void hist_add(struct hist *h, int64_t v);
double hist_ms(const struct hist *h, double q);
void client_write(struct client *c, const void *p, size_t n);
void on_event(struct client *c, const char *p, size_t n, int64_t now);
size_t build_event(const struct client *c, const char *uid_prefix, int64_t t, char *out,
                   size_t cap);
void loop_until(bool (*stop)(int64_t now), int from, int to, double rate);
void ep_set(struct client *c, uint32_t events);
void client_connect(struct client *c);
void client_close(struct client *c);
void mark_connected(struct client *c);

/* lg_proto.c: handshake, publish and framing for MQTT and NATS (CoT needs none). */
void proto_hello(struct client *c);
void proto_publish(struct client *c, const char *ev, size_t n);
size_t proto_frame(struct client *c, const char *p, size_t n, int64_t now);

/* lg_report.c: server sampling, results, the connection storm. */
void sample_tick(int64_t now);
void window_mark(int64_t now, int end);
void report_fanout(void);
void run_storm(void);

struct idle_sample {
    int64_t wall;
    double srv_cpu_s, gen_cpu_s, rss_kb, hwm_kb, conns; /* conns: kizuna_connections */
};
void idle_take(struct idle_sample *s);

/* lg_tls.c: mutual TLS on the same sockets (W4) and the idle-connection storm. */
void tls_setup(void);
void tls_start(struct client *c);
void tls_handshake(struct client *c);
ssize_t tls_send(struct client *c, const void *p, size_t n);
ssize_t tls_recv(struct client *c, void *p, size_t cap);
void tls_free(struct client *c);
const char *tls_cipher(void);
uint64_t tls_failed(void);
void run_tls_idle(void);

#endif
