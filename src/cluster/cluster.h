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

enum kz_cluster_subject { KZ_CLUSTER_COT, KZ_CLUSTER_CTL, KZ_CLUSTER_MISSION };

struct kz_cluster_conn_opts {
    uv_loop_t *loop;
    const char *url;     /* nats://HOST:PORT */
    const char *prefix;  /* subjects PREFIX.cot, PREFIX.ctl and PREFIX.mission */
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
    /* Rounds of writes to the latest-state bucket (kvstate.c); 0: every event at once. */
    unsigned latest_interval_ms;
    /* Presence: `user` of `nation` holds `uid` on another instance now: close this instance's
     * sessions of that sender bound to it; returns how many, *others those of another sender
     * (left open). */
    unsigned (*close_bound)(void *ud, const char *uid, const char *user, const char *nation,
                            unsigned *others);
    /* Revocation: certificates revoked on some instance (serials, upper-case hex): close the
     * sessions authenticated by them; returns how many. */
    unsigned (*revoked)(void *ud, char *const *serials, size_t n);
    /* Identity changes (ident.c): users deleted or changed on another instance's users table;
     * returns the sessions closed at once (a shared table is re-read instead: 0). */
    unsigned (*users_changed)(void *ud, char *const *deleted, size_t nd, char *const *changed,
                              size_t nc);
    /* Missions on a shared PostgreSQL (mission.c): another instance committed a change of
     * mission `guid`; NULL: notices are ignored. */
    void (*mission_notice)(void *ud, const char *guid, uint64_t change_id, const char *origin);
    /* Joined NATS, the first time or again (after the resync); NULL: nothing. */
    void (*joined)(void *ud);
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
    /* Identity changes (ident.c): Users messages sent and received, sessions closed by them. */
    uint64_t ident_published, ident_received, ident_closes;
    /* The latest-state KV (kvstate.c, latest.h). */
    uint64_t latest_entries;   /* in the mirror, tombstones included */
    uint64_t latest_written;   /* this instance's events written to the bucket */
    uint64_t latest_dropped;   /* not written: the writer's queue was full while NATS was away */
    uint64_t latest_snapshots; /* snapshots loaded: the first, then one per rejoin */
    uint64_t latest_applied;   /* entries that became this router's latest state */
    uint64_t latest_forgotten; /* tracks removed: their uid's tombstone, or its entry vanished */
    uint64_t latest_refused;   /* entries or records that did not decode or apply */
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
/*
 * Users this instance's users reload found deleted or changed (ident.c): named to every other
 * instance in Users messages on PREFIX.ctl (nothing while an island: logged).  NULL c is fine.
 */
void kz_cluster_users(struct kz_cluster *c, char *const *deleted, size_t nd, char *const *changed,
                      size_t nc);
/* Sessions a users re-read that a notice asked for closed (counted as identity closes). */
void kz_cluster_ident_closed(struct kz_cluster *c, unsigned n);
/*
 * The Control messages naming those users, each packed into `emit`'s buffer (valid during the
 * call): at most KZ_CLUSTER_USERS_PER_MESSAGE names and about KZ_CLUSTER_USERS_BYTES bytes of
 * names each (one longer name goes alone).  Loop thread or tests.
 */
#define KZ_CLUSTER_USERS_PER_MESSAGE 256
#define KZ_CLUSTER_USERS_BYTES 16384
typedef void (*kz_cluster_emit_fn)(void *ud, const uint8_t *buf, size_t len);
void kz_cluster_users_encode(const char *origin, uint64_t epoch, char *const *deleted, size_t nd,
                             char *const *changed, size_t nc, kz_cluster_emit_fn emit, void *ud);
/*
 * A mission change committed to the shared PostgreSQL (its outbox row: origin, stamp), told to
 * every other instance on PREFIX.mission (mission.c).  `origin` NULL: this instance.  KZ_OK, or
 * KZ_ERR_AGAIN while an island (the row stays; publish it after the next join).
 */
int kz_cluster_mission_publish(struct kz_cluster *c, const char *origin, const char *guid,
                               uint64_t change_id, int64_t stamp);
/* Counters of those notices; read on the loop. */
struct kz_cluster_mission_stats {
    uint64_t published, received, refused;
};
void kz_cluster_mission_stats(const struct kz_cluster *c, struct kz_cluster_mission_stats *out);

/*
 * A lease (lease.h) named PREFIX/`what` in the cluster's bucket PREFIX_leases (the cluster's
 * subject prefix, a '.' of it as '_': clusters sharing a NATS server do not share leases), held as
 * this instance's node.id on the cluster's connection, with a ttl in µs (0: 10 s).  cb on the loop
 * thread when it is acquired or lost.  KZ_OK with *out; KZ_ERR_AGAIN without a NATS connection
 * object, KZ_ERR_INVAL for a bad name.  Stop it with kz_cluster_lease_stop() before
 * kz_cluster_stop() (`release`: hand it over at once).
 */
struct kz_lease;
int kz_cluster_lease(struct kz_cluster *c, const char *what, int64_t ttl_us,
                     void (*cb)(void *arg, const char *name, bool held), void *arg,
                     struct kz_lease **out);
void kz_cluster_lease_stop(struct kz_lease *l, bool release);
/*
 * Who holds the leases PREFIX/what[i] (i < n; a NULL what[i] is skipped), read on a thread of its
 * own every third of `ttl_us` (at least every 250 ms): for an instance that does not hold them.
 * Stop it before kz_cluster_stop() (joins the thread: bounded by one NATS request).
 */
struct kz_lease_peek;
int kz_cluster_lease_peek_start(struct kz_cluster *c, const char *const *what, unsigned n,
                                int64_t ttl_us, struct kz_lease_peek **out);
/* The holder last read of lease i into buf ("": none, or not read yet).  Any thread. */
void kz_cluster_lease_peek(struct kz_lease_peek *p, unsigned i, char *buf, size_t len);
void kz_cluster_lease_peek_stop(struct kz_lease_peek *p);
/* Leave: close the connection and clear the router's tap (the router still runs).  NULL ok. */
void kz_cluster_stop(struct kz_cluster *c);
/* After the router was freed.  NULL is fine. */
void kz_cluster_free(struct kz_cluster *c);

#endif
