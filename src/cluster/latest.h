/*
 * latest.h - the latest state of a kizuna cluster, mirrored in RAM: every
 * instance watches the latest-state bucket (kv.h) and keeps its entries in a
 * table keyed by the encoded uid; the instance an event came in on writes it
 * to the bucket, last-writer-wins on the CoT time.  A new client's replay
 * comes from the mirror (kz_latest_foreach), so it is the same on every
 * instance.
 *
 * Threads.  kz_latest_start() starts two threads of its own:
 *   - the watcher: one watch of the whole bucket (kz_kv_watch_start), which
 *     delivers the snapshot (the last value of every key) and then every
 *     later change, in bucket order and without a gap between the two,
 *     because it is one consumer.  It hands each entry to the loop thread (a
 *     locked queue and a uv_async; the queue holds at most what the bucket
 *     holds, plus the changes the loop has not taken yet).  When the watch
 *     fails, after kz_latest_resync(), and so after every NATS reconnect (the
 *     connection's owner calls kz_latest_resync() from its reconnected
 *     callback), it drops the watch and starts a new one: a fresh snapshot.
 *   - the writer: takes the records kz_latest_write() queued and writes them
 *     with kz_kv_latest_put_hinted() (never on the loop thread), in rounds at
 *     most every write_interval: pending writes of one uid collapse into the
 *     newest, so a uid that reports every second is written once a round (a
 *     tombstone starts a round at once).  It remembers the revision it last
 *     wrote of each uid (up to max_pending uids), so an update is one
 *     conditional write, not a read and a write.  When more than max_pending
 *     uids wait (NATS down), the oldest is dropped and counted.  It also
 *     makes the purges the loop's sweep hands it: every sweep_interval the
 *     loop looks through the mirror for entries due (kz_latest_expired; at
 *     most 4096 a round) and the writer purges each, conditional on the
 *     revision judged (every instance does, which is safe, and none scans the
 *     bucket).
 * Everything else runs on the loop thread: the table, the callback, the
 * replay.
 *
 * Changes.  The callback runs on the loop thread for every change of the
 * mirror:
 *   KZ_LATEST_SET     rec is the uid's new entry, newer than the one it
 *                     replaces (last-writer-wins, kv.h), seen live; a
 *                     tombstone (rec->deleted) says the uid was deleted;
 *   KZ_LATEST_LOADED  the same, found by a snapshot;
 *   KZ_LATEST_GONE    the uid has no entry any more (purged, or absent from
 *                     a fresh snapshot); rec is the last entry the mirror had.
 * After a snapshot (the first, and every resync) the mirror is replaced by
 * it and the differences are reported: entries new or newer as LOADED,
 * entries that vanished as GONE.  A snapshot never takes an entry back to an
 * older one: where the mirror holds a newer record of a uid than the
 * snapshot, it keeps it.  rec and everything it points to live until the callback
 * returns.  The callback must not call kz_latest_stop().
 *
 * Ownership.  kz_latest_write() copies the record.  Records the mirror
 * hands out (find, foreach) live until the loop next runs this module's
 * queue: do not keep them across a return to the loop.
 */
#ifndef KZ_CLUSTER_LATEST_H
#define KZ_CLUSTER_LATEST_H

#include <uv.h>

#include "cluster/kv.h"

#define KZ_LATEST_BUCKET "kz_latest"

enum kz_latest_change { KZ_LATEST_SET, KZ_LATEST_LOADED, KZ_LATEST_GONE };

typedef void (*kz_latest_fn)(void *arg, enum kz_latest_change what,
                             const struct kz_latest_rec *rec);

struct kz_latest_opts {
    const char *bucket;     /* NULL: KZ_LATEST_BUCKET */
    size_t max_pending;     /* uids waiting to be written; 0: 65536 */
    int64_t write_interval; /* µs between rounds of writes; 0: 5 s; <0: none (write at once) */
    int64_t sweep_interval; /* µs between purges; 0: 60 s; <0: never */
    int64_t stale_grace;    /* µs a live entry stays past its stale time; 0: 60 s */
    int64_t tombstone_ttl;  /* µs a tombstone stays past its time and stale; 0: 1 h */
};

struct kz_latest_stats {
    uint64_t written;   /* records kz_kv_latest_put() wrote */
    uint64_t older;     /* records it found older than the entry */
    uint64_t dropped;   /* records dropped: the writer queue was full or they do not encode */
    uint64_t failed;    /* write attempts NATS did not answer (the record waits) */
    uint64_t snapshots; /* snapshots loaded (the first and every resync) */
    uint64_t changes;   /* callbacks */
    uint64_t purged;    /* entries this instance's sweeps removed */
    size_t entries;     /* in the mirror, tombstones included */
    size_t pending;     /* uids waiting to be written */
};

struct kz_latest;

/*
 * Start the mirror and the writer of the bucket over `nc`, reporting to
 * cb(arg, ...) on `loop`'s thread (call from it).  NATS need not be up: the
 * threads retry every second.  The connection is not owned and must outlive
 * kz_latest_stop().  KZ_OK with *out; KZ_ERR_INVAL for a bad bucket name (cb
 * is then never called).
 */
int kz_latest_start(struct kz_latest **out, uv_loop_t *loop, natsConnection *nc,
                    const struct kz_latest_opts *opts, kz_latest_fn cb, void *arg);

/*
 * Stop both threads (bounded by one NATS request), drop what was not
 * written, and close the loop handle; the memory goes on the loop's next
 * turn (run the loop once).  Loop thread, not from the callback.
 */
void kz_latest_stop(struct kz_latest *m);

/* Rebuild the mirror from a fresh snapshot.  Any thread (NATS callbacks too). */
void kz_latest_resync(struct kz_latest *m);

/*
 * Queue r for the bucket (a copy; LWW decides on the bucket side).  Loop
 * thread.  KZ_OK; KZ_ERR_INVAL for a record without a uid.
 */
int kz_latest_write(struct kz_latest *m, const struct kz_latest_rec *r);

/* The mirror's entry of a uid (tombstones too), or NULL.  Loop thread. */
const struct kz_latest_rec *kz_latest_find(struct kz_latest *m, const char *uid, size_t len);

/*
 * Call fn for every live entry (not a tombstone, stale at or after `now`),
 * oldest CoT time first; returns how many.  Loop thread; fn must not change
 * the mirror.
 */
size_t kz_latest_foreach(struct kz_latest *m, int64_t now,
                         void (*fn)(void *arg, const struct kz_latest_rec *rec), void *arg);

/* Whether a snapshot has been loaded since the start or the last resync request. */
bool kz_latest_synced(const struct kz_latest *m);

void kz_latest_stats(struct kz_latest *m, struct kz_latest_stats *st);

#endif
