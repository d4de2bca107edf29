/*
 * internal.h - private to src/fed/: the federation, its peers and their
 * connections.  Loop thread only.
 *
 * A connection (conn.c) is a TCP socket with its TLS transport, dialed or
 * accepted.  Once the transport is ready its peer is identified by the CA
 * its chain comes from, and the protocol takes over: v1.c (length-prefixed
 * FederatedEvent) or v2.c (TAK's gRPC calls).  A peer has at most one live
 * connection: a new one replaces the old.
 */
#ifndef KZ_FED_INTERNAL_H
#define KZ_FED_INTERNAL_H

#include "cot/cot.h"
#include "fed/fed.h"
#include "fed/grpc.h"
#include "fed/wire.h"
#include "net/transport.h"
#include "store/store.h"

#define KZ_FED_HEALTH_EVERY_MS 3000    /* a v2 client's HealthCheck period (TAK: <= 3 s) */
#define KZ_FED_HEALTH_TIMEOUT_MS 15000 /* a v2 server closes a link without one this long */
#define KZ_FED_REDIAL_MIN_MS 500
#define KZ_FED_REDIAL_MAX_MS 30000
#define KZ_FED_DEDUPE_SLOTS 65536 /* recent inbound events remembered (power of two) */
#define KZ_FED_HANDSHAKE_MS 10000 /* a connection not identified by then is closed */
#define KZ_FED_MAX_PENDING 64     /* connections not identified yet; more are refused */

enum fed_state { FED_DOWN, FED_CONNECTING, FED_UP };

struct fed_peer;

/* outbox.c: a connection's place in its link's log (see outbox.c). */
struct fed_outbox {
    uint64_t gen;       /* the peer's connection generation this state belongs to */
    uint64_t pos;       /* the last event of the log sent, or judged not for this link */
    bool catching_up;   /* the log is being read; live events are held */
    bool reading;       /* a page is being read from the store */
    bool wait_write;    /* the next page waits for the output to drain */
    bool overflow;      /* held events were dropped: read the log once more */
    bool replayed;      /* the latest state went out */
    bool tailing;       /* a shared log: read to its end; read again on the tail timer */
    uint64_t state_pos; /* a shared log: the last tracks row of the latest state sent */
    uint64_t caught_up; /* events sent from the log on this connection */
    struct {
        uint64_t seq;
        struct kz_rbuf *buf;
    } * held;
    size_t n_held, cap_held;
};

struct fed_conn {
    struct kz_fed *fed;
    struct fed_conn *prev, *next; /* every connection of the federation, live or not */
    struct fed_peer *peer;        /* NULL until identified */
    uv_tcp_t tcp;
    uv_connect_t connect;
    struct kz_transport t;
    bool transport_live; /* t initialised */
    bool client;         /* we dialed */
    bool v1;
    bool closing;
    bool doomed;  /* kz__fed_close_later() was called */
    bool pending; /* not identified yet: counts in kz_fed.pending */
    /* v1: frames in and out (one write in flight; the rest waits in `out`). */
    struct kz_fed_v1_reader v1r;
    struct kz_sbuf out, inflight;
    bool writing;
    /* v2 */
    struct kz_grpc *grpc;
    struct kz_grpc_call *events_out; /* where our events go */
    bool peer_subscribed;            /* server: the peer has a ClientEventStream */
    int64_t last_health_ms;          /* server: the peer's last HealthCheck; client: last answer */
    uv_timer_t timer; /* v2 client: health checks; v2 server: the sweep; a deferred close */
    bool timer_live;
    /* Outbound: the router's subscriber for this link, attached once events can flow. */
    struct kz_sub sub;
    bool attached;
    struct fed_outbox ob;
    struct kz_router_hold hold; /* not reading: the store is behind (route/hold.c) */
    char rbuf[64 * 1024];
};

struct fed_peer {
    struct kz_fed *fed;
    const struct kz_fed_peer_conf *conf;
    unsigned index;
    struct kz_identity id;        /* conf's identity, user = the peer's name */
    struct kz_input_conf in_conf; /* name "fed:<peer>" */
    struct kz_input input;
    struct fed_conn *conn; /* the live one, or NULL */
    enum fed_state state;
    int64_t since_us;
    uint64_t sent, received, duplicates, rejected;
    uint64_t deny[KZ_DENY__COUNT];
    uv_timer_t redial;
    unsigned backoff_ms;
    /* outbox.c: where the link stands in our log, and its sent log waiting for the store. */
    uint64_t cursor, stored_cursor;
    uint64_t log_end; /* a shared log: its newest seq, as last read (for `queued`) */
    uint64_t gen;     /* bumped for every connection that starts sending */
    struct kz_store_sent *log;
    size_t n_log, cap_log;
    /* The last of the peer's sequence numbers we received (kizuna peers): where it resumes. */
    uint64_t recv_seq;
    /* In a cluster (kz_fed_opts.leased): an outgoing link not owned here is not dialled. */
    bool standby;
    char owner[128]; /* standing by: the instance owning it, as last read ("": not known) */
};

struct kz_fed {
    uv_loop_t *loop;
    struct kz_router *router;
    const struct kz_label_policy *policy;
    const struct kz_config *cfg;
    struct kz_fed_tls *tls;
    struct kz_store *store;
    size_t out_queue_bytes;
    struct kz_cot_decoder *dec;
    struct fed_peer *peers;
    unsigned n_peers;
    uv_tcp_t listen_v2, listen_v1;
    bool has_v2, has_v1;
    int port_v2, port_v1;
    uint64_t *seen;         /* dedupe: hashes of recent inbound (uid, time), by slot */
    struct fed_conn *conns; /* all of them, so stopping closes the half-open too */
    unsigned audits;        /* audit records being written on the worker pool */
    unsigned pending;       /* connections whose peer is not identified yet */
    uv_timer_t flush;       /* the links' sent logs go to the store */
    uv_timer_t tail;        /* a shared log: the links caught up read it again */
    bool flush_live;
    bool stopping;
    bool leased, shared_log; /* kz_fed_opts; shared_log: see outbox.c */
};

/* conn.c */
/* Dial peer p (its `connect`); state CONNECTING, a redial is scheduled on failure. */
void kz__fed_dial(struct fed_peer *p);
/* Accept a connection on a listener (v1 or v2). */
void kz__fed_accept(struct kz_fed *f, uv_stream_t *server, bool v1);
/* The same from inside the router's deliver(), which may not detach: on the next loop turn. */
void kz__fed_close_later(struct fed_conn *c);
/* Close a connection (once); its peer goes down and, if it dials, redials later. */
void kz__fed_close(struct fed_conn *c, const char *why);
/* Plaintext out through the transport (v1 framing is the caller's). */
void kz__fed_write(struct fed_conn *c, const void *data, size_t len);
/* Close every connection, identified or not (the node stops). */
void kz__fed_close_all(struct kz_fed *f);
/* Bytes waiting to be written. */
size_t kz__fed_queued(const struct fed_conn *c);

/* fed.c */
/* Record a link change (action "federation.up" / "federation.down") in the audit log. */
void kz__fed_audit(struct fed_peer *p, const char *action, const char *detail);
/* The peer is identified and its protocol ready: it is up (replacing an older link). */
void kz__fed_link_up(struct fed_conn *c);
/* Start sending our events on this connection (attach the router subscriber), from where the
 * peer says it stands (`resume`, a kizuna peer's decimal sequence; NULL: our cursor). */
void kz__fed_attach(struct fed_conn *c, const char *resume);
/* One FederatedEvent from the peer. */
void kz__fed_inbound(struct fed_conn *c, const uint8_t *msg, size_t len);

/* Bytes written to the connection and not yet sent (either protocol). */
size_t kz__fed_conn_backlog(const struct fed_conn *c);

/* outbox.c */
/* A connection starts sending from `resume` (the last event of our log the peer has). */
void kz__fed_outbox_start(struct fed_conn *c, uint64_t resume);
/* After the latest-state replay: read the log from the position, then go live. */
void kz__fed_outbox_catch_up(struct fed_conn *c);
/* An event the router hands the link (its seq; replay: the latest state).  KZ_OK or
 * KZ_ERR_TOOBIG (the link is being dropped). */
int kz__fed_outbox_deliver(struct fed_conn *c, uint64_t seq, bool replay, struct kz_rbuf *buf);
/* The output drained: a paused catch-up goes on. */
void kz__fed_outbox_writable(struct fed_conn *c);
/* The connection closes: drop what it holds. */
void kz__fed_outbox_release(struct fed_conn *c);
/* Queue the peer's sent log and cursor for the store; cb (may be NULL) after they commit. */
void kz__fed_sent_flush(struct fed_peer *p, kz_store_ack_cb cb, void *ud);
void kz__fed_outbox_start_timer(struct kz_fed *f);
void kz__fed_outbox_stop_timer(struct kz_fed *f);

/* v1.c */
void kz__fed_v1_start(struct fed_conn *c);
void kz__fed_v1_data(struct fed_conn *c, const char *data, size_t len);
int kz__fed_v1_deliver(struct fed_conn *c, struct kz_rbuf *buf);

/* v2.c */
int kz__fed_v2_start(struct fed_conn *c);
void kz__fed_v2_data(struct fed_conn *c, const char *data, size_t len);
int kz__fed_v2_deliver(struct fed_conn *c, struct kz_rbuf *buf);

#endif
