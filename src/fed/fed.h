/*
 * fed.h - federation: links to partner nodes (kizuna or TAK Server), each
 * an identity checked by the release rule like every other exit
 * (docs/federation.md).
 *
 * A link runs TAK federation v2 (gRPC over mutual TLS, HTTP/2) or v1
 * (length-prefixed FederatedEvent over TLS).  A peer is known by the CA its
 * certificate chains to; an unknown CA is refused.  Outbound, the router
 * offers the link what the peer's identity may receive (group rule, release
 * rule), never what another partner sent (no relay, so a mesh cannot loop).
 * Inbound, events are labelled and bounded like any input's (the peer's
 * default label and ceiling), keep the peer's nation as originator, and a
 * duplicate (same uid and time) is dropped.
 *
 * Everything runs on the loop thread.  The struct kz_fed owns its peers,
 * connections, listeners and timers; the router, configuration and TLS
 * contexts are borrowed and must outlive it.
 */
#ifndef KZ_FED_H
#define KZ_FED_H

#include <jansson.h>
#include <uv.h>

#include "auth/fedtls.h"
#include "route/route.h"

struct kz_fed;

struct kz_fed_opts {
    uv_loop_t *loop;
    struct kz_router *router;
    struct kz_groups *groups;
    const struct kz_label_policy *policy;
    const struct kz_config *cfg; /* federation section, node.id */
    struct kz_fed_tls *tls;      /* the node's contexts and the peers' CAs */
    struct kz_store *store;      /* link up/down to the audit log; may be NULL */
    size_t max_event_bytes;      /* inbound CoT decode limit */
    size_t out_queue_bytes;      /* a link queuing more than this is closed (slow partner) */
    /* In a cluster: an outgoing link is dialled only while this instance owns it (kz_fed_own),
     * and a peer's resume point, maybe a point of another instance's log, is not trusted unless
     * the store is shared (one log for every instance). */
    bool leased;
    /* The store is one PostgreSQL shared by the instances of a cluster: the links send from
     * that log alone, numbered by the database (fed/outbox.c). */
    bool shared_log;
};

/* Build the peers (their inputs are registered with the router). KZ_OK or KZ_ERR_CONFIG. */
int kz_fed_new(const struct kz_fed_opts *o, struct kz_fed **out, char *err, size_t errlen);
/* Listen (federation.listen, listen_v1) and dial every peer with `connect`. */
int kz_fed_start(struct kz_fed *f);
/* Bound ports, for the ports file: v2 and v1 (0 when not listening). */
int kz_fed_port(const struct kz_fed *f, bool v1);
/* Peer i's name when it is an outgoing link (has `connect`), else NULL; i < kz_fed_peers(). */
unsigned kz_fed_peers(const struct kz_fed *f);
const char *kz_fed_outgoing(const struct kz_fed *f, unsigned i);
/*
 * With `leased`: this instance owns outgoing link i (its lease is held) and dials it, from the
 * store's cursor for the link when that is further on; or no longer owns it: its dialled
 * connection closes and it stays down (`standby`) until owned again.  Loop thread.
 */
void kz_fed_own(struct kz_fed *f, unsigned i, bool own);
/* The instance that owns link i, as last read (NULL or "": not known), for the status. */
void kz_fed_set_owner(struct kz_fed *f, unsigned i, const char *owner);
/* Close every link and listener; the handles finish closing in later loop turns. */
void kz_fed_stop(struct kz_fed *f);
/* Audit records still being written (the store must stay open until 0). */
unsigned kz_fed_pending(const struct kz_fed *f);
/* After the loop has run the closes. NULL is fine. */
void kz_fed_free(struct kz_fed *f);

/* {"peers":[{"name","state","protocol","since","sent","received","denied","duplicates",
 * "queued"}]}, and with `leased` for an outgoing link "owner" (this instance's node.id while it
 * owns the link, else the owner last read, or null) and "standby" (true: another instance's link,
 * idle here): the REST answer and the metrics' source (a new reference). */
json_t *kz_fed_status(void *fed);

#endif
