/*
 * kv.h - the latest-state bucket of a kizuna cluster: one JetStream KV entry
 * per CoT uid, written last-writer-wins on the CoT time, shared by every
 * instance (see latest.h for the mirror every instance keeps in RAM, and
 * lease.h for the federation link leases, which use the same handle).
 *
 * Keys.  A raw uid is never a key: uids contain '.', '*', '>', spaces and
 * anything else.  kz_kv_key() encodes a uid of up to KZ_KV_UID_HEX_MAX bytes
 * as 'x' and the lowercase hex of its bytes (reversible, kz_kv_key_uid()), a
 * longer one as 's' and the hex SHA-256 of its bytes (not reversible); the
 * uid itself is always inside the value.
 *
 * Values.  struct kz_latest_rec, stored as a kizuna.cluster.LatestValue
 * (proto/cluster_kv.proto).  A delete is a record with deleted set and the
 * delete's time (a tombstone), so that a late older update cannot bring the
 * uid back.
 *
 * Order.  kz_latest_cmp() is a total order on records: CoT time, then
 * start, then a tombstone over a live record, then the XML bytes.  The
 * bucket only ever moves forward in that order: kz_kv_latest_put() reads the
 * entry, compares, and writes with kvStore_Update() on the revision it read,
 * retrying (bounded) when another writer got in between (with a hint of the
 * revision, kz_kv_latest_put_hinted() skips the read).  So whatever the
 * order the writes of several instances arrive in, the entry ends as the
 * greatest of them.
 *
 * Purge (kz_latest_expired; kz_kv_latest_sweep scans a bucket, latest.h's
 * mirror judges from RAM).  A live entry goes once its stale time is more
 * than `stale_grace` past; a tombstone once both its time and its stale time
 * are more than `tombstone_ttl` past.  Each purge is conditional on the
 * revision it judged, so a newer write in between survives.  A purged uid is
 * new again: an update older than the purged tombstone is taken (the
 * tombstone TTL bounds how late an older update may arrive and still be
 * refused).
 *
 * Threads.  Every function here that takes a struct kz_kv does synchronous
 * NATS requests (bounded by the connection's request timeouts): call them
 * from a worker thread, never from the loop thread (latest.h's writer and
 * mirror threads do).  The pure functions (keys, codec, order) are safe
 * anywhere.  A struct kz_kv may be used by several threads at once (libnats
 * handles are thread-safe).
 */
#ifndef KZ_CLUSTER_KV_H
#define KZ_CLUSTER_KV_H

#include <nats/nats.h>

#include "core/core.h"

/* Uids up to this many bytes get a reversible hex key; longer, a SHA-256. */
#define KZ_KV_UID_HEX_MAX 256
/* Bytes of the longest key (with its NUL): 'x' + 2 * KZ_KV_UID_HEX_MAX + 1. */
#define KZ_KV_KEY_SIZE (2 * KZ_KV_UID_HEX_MAX + 2)
/* Bytes of the longest uid kz_kv_key() takes (longer: KZ_ERR_TOOBIG). */
#define KZ_KV_UID_MAX 4096
/* Bytes of the longest value the bucket takes (the bucket's MaxValueSize). */
#define KZ_KV_VALUE_MAX (1024 * 1024)
/* Attempts kz_kv_latest_put() makes before it gives up on a contended key. */
#define KZ_KV_PUT_TRIES 16

/* ---- keys ------------------------------------------------------------ */

/*
 * Encode `uid` (`len` bytes, any bytes) into key[KZ_KV_KEY_SIZE], a valid
 * NATS KV key.  KZ_OK, KZ_ERR_INVAL for an empty uid, KZ_ERR_TOOBIG beyond
 * KZ_KV_UID_MAX bytes.
 */
int kz_kv_key(char key[KZ_KV_KEY_SIZE], const char *uid, size_t len);

/*
 * The uid of a hex key, into a new NUL-terminated heap string (*uid, freed by
 * the caller; *len its bytes).  KZ_OK; KZ_ERR_NOTFOUND for a hashed key (its
 * uid is only in the value); KZ_ERR_PARSE for anything kz_kv_key() does not
 * make.
 */
int kz_kv_key_uid(const char *key, char **uid, size_t *len);

/* ---- records ----------------------------------------------------------- */

/*
 * One entry.  Every pointer is owned by the record (kz_latest_rec_clear frees
 * them); any of them may be NULL but uid.  xml is not NUL-terminated in
 * general (xml_len bytes).
 */
struct kz_latest_rec {
    char *uid;
    size_t uid_len;
    int64_t time, start, stale; /* µs since the epoch, UTC */
    char *xml;
    size_t xml_len;
    char *label;
    char *origin_node, *origin_input, *origin_user, *origin_nation, *origin_groups;
    bool deleted;      /* a tombstone */
    uint64_t revision; /* the bucket revision it was read at; 0 when not read */
    /* The rest of the origin's stamp (cluster.proto's Event has the same). */
    bool federated, bound;
    char *provenance, *scope;
    int64_t hops, max_hops, recv_time;
};

void kz_latest_rec_clear(struct kz_latest_rec *r);
/* A deep copy of src into *dst (dst is overwritten, not cleared). */
void kz_latest_rec_copy(struct kz_latest_rec *dst, const struct kz_latest_rec *src);

/*
 * <0, 0, >0 as a is older than, the same as, or newer than b (see the order
 * above).  Only the uid's bytes do not take part: compare records of one uid.
 */
int kz_latest_cmp(const struct kz_latest_rec *a, const struct kz_latest_rec *b);

/* Whether r is to be purged at `now` (see Purge above). */
bool kz_latest_expired(const struct kz_latest_rec *r, int64_t now, int64_t stale_grace,
                       int64_t tombstone_ttl);

/*
 * Encode r into a new heap buffer (*out, *len; freed by the caller).  KZ_OK,
 * KZ_ERR_INVAL without a uid, KZ_ERR_TOOBIG beyond KZ_KV_VALUE_MAX.
 */
int kz_latest_rec_encode(const struct kz_latest_rec *r, uint8_t **out, size_t *len);
/* Decode a value into *r (overwritten).  KZ_OK or KZ_ERR_PARSE (r is then empty). */
int kz_latest_rec_decode(struct kz_latest_rec *r, const void *data, size_t len);

/* ---- the bucket -------------------------------------------------------- */

struct kz_kv {
    natsConnection *nc; /* not owned */
    jsCtx *js;
    kvStore *kv;
    char bucket[96];
};

/*
 * Bind to the KV bucket `bucket` over `nc`, creating it when absent with
 * history 1, file storage, MaxValueSize KZ_KV_VALUE_MAX and entries that
 * live `ttl_us` (0: for ever; leases use it).  The connection is not owned
 * and must outlive the handle.  KZ_OK; KZ_ERR_INVAL for a bad name;
 * KZ_ERR_AGAIN when NATS or JetStream does not answer (logged).
 */
int kz_kv_open(struct kz_kv *kv, natsConnection *nc, const char *bucket, int64_t ttl_us);
/* Free the handle (the bucket stays). */
void kz_kv_close(struct kz_kv *kv);

/* What kz_kv_latest_put() did. */
enum kz_kv_put {
    KZ_KV_WRITTEN, /* r is now the entry */
    KZ_KV_OLDER,   /* the entry is newer than r, or the same: nothing written */
};

/*
 * Write r for its uid if it is newer than the entry (last-writer-wins, see
 * the top of this file).  *outcome says which; *rev (may be NULL) the
 * revision written.  KZ_OK; KZ_ERR_INVAL/KZ_ERR_TOOBIG for a record that
 * does not encode; KZ_ERR_AGAIN when NATS does not answer or the key stayed
 * contended for KZ_KV_PUT_TRIES attempts.
 */
int kz_kv_latest_put(struct kz_kv *kv, const struct kz_latest_rec *r, enum kz_kv_put *outcome,
                     uint64_t *rev);

/*
 * What a writer last knew of a key's entry (its revision and order fields),
 * kept by the caller between writes of one uid: with it, a record newer than
 * the entry is written with one request (a conditional write on the known
 * revision) instead of two, and an older one with none.  A write that finds
 * the hint out of date reads and retries as without one.
 */
struct kz_kv_hint {
    bool known;
    uint64_t rev;
    int64_t time, start;
    bool deleted;
};

/* kz_kv_latest_put() with a hint (in and out; may be NULL). */
int kz_kv_latest_put_hinted(struct kz_kv *kv, const struct kz_latest_rec *r,
                            struct kz_kv_hint *hint, enum kz_kv_put *outcome, uint64_t *rev);

/*
 * The entry of `uid` into *r (overwritten; r->revision set).  KZ_OK,
 * KZ_ERR_NOTFOUND (no entry, or purged), KZ_ERR_PARSE (an entry that does
 * not decode, or that holds another uid), KZ_ERR_AGAIN (NATS).
 */
int kz_kv_latest_get(struct kz_kv *kv, const char *uid, size_t len, struct kz_latest_rec *r);

/*
 * Purge what has expired at `now` (see the top of this file); *purged (may
 * be NULL) counts the entries removed.  Safe to run on every instance at
 * once.  KZ_OK or KZ_ERR_AGAIN.
 */
int kz_kv_latest_sweep(struct kz_kv *kv, int64_t now, int64_t stale_grace, int64_t tombstone_ttl,
                       size_t *purged);

/*
 * Remove `key` if and only if its last revision is `rev`: a purge (all
 * revisions go) when `purge`, else a delete marker.  KZ_OK, KZ_ERR_EXISTS
 * when the key moved on (or NATS refused), KZ_ERR_INVAL for a bad key.
 */
int kz_kv_remove_at(struct kz_kv *kv, const char *key, uint64_t rev, bool purge);

/* ---- watching --------------------------------------------------------- */

/*
 * A watch of the bucket: the last value of every key (the snapshot), a
 * marker, then every later change, in bucket order and without a gap (one
 * ephemeral push consumer, deliver-last-per-subject, no acks).  kizuna does
 * not use libnats' kvWatcher: its ordered consumer is reset by a libnats
 * thread after a reconnect, and destroying the watcher then races with that
 * reset (a use-after-free in libnats 3.4.1); a watch here is only ever
 * replaced by the thread that owns it.  One thread at a time per watch.
 */
struct kz_kv_watch {
    natsSubscription *sub;
    size_t prefix_len; /* of "$KV.<bucket>." */
    bool snapshot_done, marker_due;
};

enum kz_kv_op {
    KZ_KV_OP_PUT,      /* key's value is data */
    KZ_KV_OP_DEL,      /* key was deleted or purged */
    KZ_KV_OP_SNAPSHOT, /* the snapshot is complete (no key) */
};

/* One change; key and data point into msg and live until kz_kv_change_clear(). */
struct kz_kv_change {
    enum kz_kv_op op;
    const char *key;
    const void *data;
    size_t len;
    uint64_t rev;
    natsMsg *msg;
};

/*
 * Watch the keys `keys` (a key, or ">" for all).  KZ_OK, KZ_ERR_AGAIN when
 * NATS refuses (logged).
 */
int kz_kv_watch_start(struct kz_kv_watch *w, struct kz_kv *kv, const char *keys);
/*
 * The next change into *c, waiting up to timeout_ms.  KZ_OK; KZ_ERR_AGAIN on
 * timeout; KZ_ERR_IO when the subscription failed (start a new watch).
 */
int kz_kv_watch_next(struct kz_kv_watch *w, int64_t timeout_ms, struct kz_kv_change *c);
void kz_kv_change_clear(struct kz_kv_change *c);
/* Unsubscribe (the server drops the consumer) and free; w is empty afterwards. */
void kz_kv_watch_stop(struct kz_kv_watch *w);

#endif
