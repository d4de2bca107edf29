/*
 * internal.h - struct kz_cluster, shared by fanout.c (events) and ctl.c (presence and
 * revocation) only.  Loop thread only.
 */
#ifndef KZ_CLUSTER_INTERNAL_H
#define KZ_CLUSTER_INTERNAL_H

#include <nats/nats.h>

#include "cluster/cluster.h"

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
    int64_t too_large_log_s; /* a refusal is logged once a second at most */
    bool twin_logged;        /* another instance with this node.id was reported */
    char **revoked;          /* ctl.c: the serials named so far, sorted (owned) */
    size_t n_revoked;
};

/*
 * conn.c: the NATS connection, for the latest-state KV and leases (JetStream contexts made
 * from it are destroyed before kz_cluster_stop closes it); NULL after the stop.  Loop thread.
 */
natsConnection *kz__cluster_conn_nats(struct kz_cluster_conn *c);

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
/* ctl.c: free what it holds. */
void kz__cluster_ctl_release(struct kz_cluster *c);

/*
 * fanout.c: NATS (re)joined: resync what this instance missed while it was an island.  The
 * latest-state KV (latest.c) fills this; today only counts and logs.
 */
void kz__cluster_resync(struct kz_cluster *c);

#endif
