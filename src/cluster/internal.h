/*
 * internal.h - struct kz_cluster, shared by fanout.c (events) and ctl.c (presence and
 * revocation) only.  Loop thread only.
 */
#ifndef KZ_CLUSTER_INTERNAL_H
#define KZ_CLUSTER_INTERNAL_H

#include <nats/nats.h>

#include "cluster/cluster.h"
#include "cluster/latest.h"

struct kz_cluster {
    struct kz_cluster_opts o;
    char *url, *prefix, *node_id; /* owned copies */
    struct kz_cluster_conn *conn;
    struct kz_cot_decoder *dec;
    struct kz_dedupe dedupe;
    uint64_t epoch, seq; /* this incarnation, and the last seq it published */
    struct kz_sbuf msg;  /* reused for encoding */
    /* What other instances' events are known by: their origin input becomes
     * cluster/NODE/INPUT (or cluster-fed/... for what came in over federation). */
    struct kz_input_conf in_conf[2];
    struct kz_input in[2];
    struct kz_cluster_stats st;
    int64_t too_large_log_s;                  /* a refusal is logged once a second at most */
    bool twin_logged;                         /* another instance with this node.id was reported */
    char **revoked;                           /* ctl.c: the serials named so far, sorted (owned) */
    struct kz_cluster_mission_stats missions; /* mission.c */
    size_t n_revoked;
    struct kz_latest *latest; /* kvstate.c: the latest-state bucket's mirror and writer */
    uint64_t latest_joins;    /* joins seen: every one after the first resyncs the mirror */
};

/*
 * conn.c: the NATS connection, for the latest-state KV and leases (JetStream contexts made
 * from it are destroyed before kz_cluster_stop closes it); NULL after the stop.  Loop thread.
 */
natsConnection *kz__cluster_conn_nats(struct kz_cluster_conn *c);
/* leases.c: the cluster's lease bucket, PREFIX_leases ('.' as '_'), into buf. */
void kz__cluster_lease_bucket(const struct kz_cluster *c, char *buf, size_t len);

/*
 * fanout.c: a message whose origin is this node.id.  NATS does not echo this instance's own
 * messages back, so one of another epoch comes from a second instance with the same node.id:
 * logged once as an error.  Counted as an echo either way.
 */
void kz__cluster_own_origin(struct kz_cluster *c, uint64_t epoch);

/* ctl.c: a device's own report bound its connection to its uid for the first time: claim it. */
void kz__cluster_presence(struct kz_cluster *c, const struct kz_event *ev);
/* ctl.c: one message received on PREFIX.ctl. */
void kz__cluster_control(struct kz_cluster *c, const uint8_t *data, size_t len);
/* mission.c: one message received on PREFIX.mission. */
void kz__cluster_mission(struct kz_cluster *c, const uint8_t *data, size_t len);
/* ident.c: a Users message from `origin` (not this instance). */
struct Kizuna__Cluster__Users;
void kz__cluster_on_users(struct kz_cluster *c, const char *origin,
                          const struct Kizuna__Cluster__Users *u);
/* ctl.c: free what it holds. */
void kz__cluster_ctl_release(struct kz_cluster *c);

/* fanout.c: NATS (re)joined: the latest-state mirror resyncs from a fresh snapshot. */
void kz__cluster_resync(struct kz_cluster *c);

/* kvstate.c: start the latest-state mirror and writer on the connection; KZ_OK. */
int kz__cluster_latest_start(struct kz_cluster *c);
/* kvstate.c: an event accepted here (the tap) to the bucket. */
void kz__cluster_latest_tap(struct kz_cluster *c, const struct kz_tap *t);
/* kvstate.c: stop them (before the connection closes).  Not started: nothing. */
void kz__cluster_latest_stop(struct kz_cluster *c);
/* kvstate.c: the mirror's counters into out. */
void kz__cluster_latest_stats(const struct kz_cluster *c, struct kz_cluster_stats *out);

#endif
