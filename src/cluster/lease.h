/*
 * lease.h - leases in a JetStream KV bucket, so that exactly one instance of
 * a kizuna cluster holds a thing at a time (one outgoing federation link:
 * its owner dials it, the others do not).
 *
 * The bucket (KZ_LEASE_BUCKET by default) is created with entries that live
 * `ttl` (the stream's max_age).  The key is the lease name encoded as in
 * kv.h; the value names the holder (node.id).
 *   - acquire: kvStore_Create() on the key, which fails while anyone holds it;
 *   - renew: every ttl/3, kvStore_Update() on the revision held, which fails
 *     once anyone else wrote the key;
 *   - release: a delete conditional on the revision held (kz_lease_stop);
 *   - expiry: a holder that stops renewing (crashed, cut off from NATS)
 *     loses the key when its last write is ttl old, and a contender's next
 *     kvStore_Create() succeeds.
 * Exactly one holder: an instance counts itself the holder only until 3/4 of
 * the ttl after it sent its last successful write (so before the bucket can
 * expire that write), and reports the loss then if it could not renew.
 * Contenders watch the key, so a release hands the lease over at once; an
 * expiry is noticed within ttl/4 (at most one second).
 *
 * Threads.  Each lease has a thread of its own doing the NATS requests; the
 * callback runs on the loop thread, once per change: held true (acquired)
 * or false (lost), in order, starting from not held.  It must not call
 * kz_lease_stop().  The connection is not owned and must outlive
 * kz_lease_stop().
 */
#ifndef KZ_CLUSTER_LEASE_H
#define KZ_CLUSTER_LEASE_H

#include <uv.h>

#include "cluster/kv.h"

#define KZ_LEASE_BUCKET "kz_leases"
#define KZ_LEASE_NAME_MAX 256

struct kz_lease;

typedef void (*kz_lease_fn)(void *arg, const char *name, bool held);

struct kz_lease_opts {
    const char *bucket; /* NULL: KZ_LEASE_BUCKET */
    int64_t ttl;        /* µs; 0: 10 s; at least 1 s (the bucket keeps the ttl it was made with) */
};

/*
 * Contend for the lease `name` (up to KZ_LEASE_NAME_MAX bytes) as `holder`
 * (up to KZ_LEASE_NAME_MAX bytes; copied), reporting on `loop`'s thread.
 * NATS need not be up.  KZ_OK with *out; KZ_ERR_INVAL for a bad name, holder
 * or bucket, or a ttl under 1 s (cb is then never called).
 */
int kz_lease_start(struct kz_lease **out, uv_loop_t *loop, natsConnection *nc, const char *name,
                   const char *holder, const struct kz_lease_opts *opts, kz_lease_fn cb, void *arg);

/*
 * Stop contending.  With `release`, a held lease is given up at once (a
 * conditional delete; a contender acquires it within its next round trip);
 * without, it is simply no longer renewed and expires after the ttl (what a
 * crash looks like).  No callback after this.  Joins the thread (bounded by
 * one NATS request); the memory goes on the loop's next turn.  Loop thread,
 * not from the callback.
 */
void kz_lease_stop(struct kz_lease *l, bool release);

/* Whether the lease is held, as last reported to the callback.  Loop thread. */
bool kz_lease_held(const struct kz_lease *l);

#endif
