/*
 * cluster.h - instances of one kizuna cluster share live CoT and control
 * messages over core NATS (docs/cluster.md).
 *
 *   conn.c     the NATS connection (libnats): connect and reconnect forever,
 *              publish, and the hand-off of received messages from libnats'
 *              threads to the loop (a bounded, locked queue and a uv_async)
 *   codec.c    the messages of proto/cluster.proto to and from events
 *   dedupe.c   (origin, epoch, seq) seen recently: a bounded window
 *   fanout.c   the router's side: publish every accepted event once, apply
 *              what other instances accepted to this instance's own
 *              connections, presence and revocation (ctl.c)
 *
 * Everything here runs on the loop thread except conn.c's libnats
 * callbacks, which only lock, copy and wake the loop.
 */
#ifndef KZ_CLUSTER_H
#define KZ_CLUSTER_H

#include <uv.h>

#include "route/route.h"

/* ---- the connection (conn.c) ------------------------------------------------------------ */

struct kz_cluster_conn;

enum kz_cluster_subject { KZ_CLUSTER_COT, KZ_CLUSTER_CTL };

struct kz_cluster_conn_opts {
    uv_loop_t *loop;
    const char *url;     /* nats://HOST:PORT */
    const char *prefix;  /* subjects PREFIX.cot and PREFIX.ctl */
    const char *node_id; /* the connection's name at the NATS server */
    size_t max_queue;    /* received messages waiting for the loop; beyond: dropped */
    /* On the loop: one received message (data valid during the call). */
    void (*on_message)(void *ud, enum kz_cluster_subject subj, const uint8_t *data, size_t len);
    /* On the loop: connected, first time or again (joined true), or lost (false). */
    void (*on_state)(void *ud, bool joined);
    void *ud;
};

/* Counters of the connection; read on the loop. */
struct kz_cluster_conn_stats {
    bool joined;
    uint64_t dropped;    /* received but a queue was full (ours, or libnats' own) */
    uint64_t partitions; /* times it lost the NATS server */
};

/*
 * Start connecting.  An unreachable server is no error: the instance is an island until it
 * connects, and it keeps trying forever with backoff.  KZ_OK, or KZ_ERR_CONFIG (a bad url,
 * logged).
 */
int kz_cluster_conn_new(const struct kz_cluster_conn_opts *o, struct kz_cluster_conn **out);
/*
 * Publish one message.  KZ_OK; KZ_ERR_TOOBIG over the server's max_payload; KZ_ERR_AGAIN while
 * not connected (nothing is buffered for later: live data is at most once).
 */
int kz_cluster_publish(struct kz_cluster_conn *c, enum kz_cluster_subject subj, const void *data,
                       size_t len);
bool kz_cluster_joined(const struct kz_cluster_conn *c);
void kz_cluster_conn_stats(const struct kz_cluster_conn *c, struct kz_cluster_conn_stats *out);
/* Close the connection; no callback runs afterwards.  NULL is fine. */
void kz_cluster_conn_free(struct kz_cluster_conn *c);

/* ---- messages (codec.c) ------------------------------------------------------------------ */

/* An event with what the receiving instances need besides its XML. */
struct kz_cluster_event {
    const char *origin;
    uint64_t epoch, seq;
    const struct kz_event *ev; /* canonical, stamped (origin_*, fed_*, recv_time) */
    bool federated;
    const char *scope; /* the sender's identity scope (struct kz_tap) */
    bool bound;
};

/* Encode `ce` (its XML in xml/len) into out (appended). */
void kz_cluster_event_encode(const struct kz_cluster_event *ce, const char *xml, size_t len,
                             struct kz_sbuf *out);

/* A decoded Event: the event (owned: kz_event_clear), origin and sequence. */
struct kz_cluster_received {
    char origin[128];
    char scope[128];
    uint64_t epoch, seq;
    bool federated, bound;
    struct kz_event ev;
};

/*
 * Decode an Event and its XML (with dec, under its limits).  The event keeps the origin's
 * stamp: origin_input/user/nation/groups, recv_time, fed_provenance and hops.  KZ_OK, or
 * KZ_ERR_PARSE with a message in err (ev cleared).
 */
int kz_cluster_event_decode(struct kz_cot_decoder *dec, const uint8_t *data, size_t len,
                            struct kz_cluster_received *out, char *err, size_t errlen);

/* ---- duplicates (dedupe.c) ---------------------------------------------------------------- */

#define KZ_DEDUPE_ORIGINS 64 /* origins remembered; the least recently heard is forgotten */
#define KZ_DEDUPE_WINDOW 1024

struct kz_dedupe_origin {
    char name[128];
    uint64_t epoch, top;                  /* the highest seq seen of that epoch */
    uint64_t bits[KZ_DEDUPE_WINDOW / 64]; /* seq top-i seen, for i < KZ_DEDUPE_WINDOW */
    uint64_t used;                        /* last use, for eviction */
};

struct kz_dedupe {
    struct kz_dedupe_origin o[KZ_DEDUPE_ORIGINS];
    uint64_t tick;
};

/*
 * Has (origin, epoch, seq) been seen?  Records it when not.  A seq more than the window below
 * the highest seen counts as seen (it cannot be told apart); a new epoch of an origin starts its
 * window afresh.
 */
bool kz_dedupe_seen(struct kz_dedupe *d, const char *origin, uint64_t epoch, uint64_t seq);

/* ---- an instance in its cluster (fanout.c, ctl.c) ---------------------------------------- */

struct kz_cluster;

struct kz_cluster_opts {
    uv_loop_t *loop;
    struct kz_router *router; /* borrowed; outlived by the cluster (its inputs) */
    struct kz_groups *groups;
    const struct kz_label_policy *policy;
    const char *url, *prefix, *node_id;
    size_t max_event_bytes; /* what a received event may be (limits.max_event_bytes) */
    size_t max_queue;       /* received messages waiting for the loop */
    bool store_remote;      /* other instances' events go to this instance's store too */
    struct kz_store *store; /* NULL: none; while it is busy, received events are not stored */
    /* Presence: `user` of `nation` holds `uid` on another instance now: close this instance's
     * sessions of that sender bound to it; returns how many, *others those of another sender
     * (left open). */
    unsigned (*close_bound)(void *ud, const char *uid, const char *user, const char *nation,
                            unsigned *others);
    /* Revocation: certificates revoked on some instance (serials, upper-case hex): close the
     * sessions authenticated by them; returns how many. */
    unsigned (*revoked)(void *ud, char *const *serials, size_t n);
    void *ud;
};

/* Counters for /metrics; read on the loop. */
struct kz_cluster_stats {
    bool joined;
    uint64_t published, received, duplicates, dropped, echoes, refused_too_large;
    uint64_t unsent;     /* accepted while an island: not published */
    uint64_t superseded; /* received, but its uid's latest state was as new (last writer wins) */
    uint64_t refused;    /* received but refused here (bad message, unknown label, state full) */
    uint64_t unstored;   /* applied but not stored: the store was behind */
    uint64_t partitions; /* times NATS was lost */
    uint64_t presence_closes, revocation_closes;
};

/*
 * Join: register the inputs other instances' events are known by (cluster/NODE/INPUT and
 * cluster-fed/NODE/INPUT) with the router, set its tap, connect.  NATS unreachable is no
 * error (an island).  KZ_OK or KZ_ERR_CONFIG (logged).
 */
int kz_cluster_new(const struct kz_cluster_opts *o, struct kz_cluster **out);
bool kz_cluster_is_joined(const struct kz_cluster *c);
void kz_cluster_stats(const struct kz_cluster *c, struct kz_cluster_stats *out);
/*
 * The serials (upper-case hex) a CRL this instance loaded revokes (ctl.c): those it had not
 * named before are told to every instance, in messages under NATS' max_payload.  With `publish`
 * false (the CRL at start) they are only remembered.  The strings are copied.
 */
void kz_cluster_crl(struct kz_cluster *c, char *const *serials, size_t n, bool publish);
/* Leave: close the connection and clear the router's tap (the router still runs).  NULL ok. */
void kz_cluster_stop(struct kz_cluster *c);
/* After the router was freed.  NULL is fine. */
void kz_cluster_free(struct kz_cluster *c);

#endif
