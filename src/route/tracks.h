/*
 * tracks.h - the latest-state cache: one track per uid, in a hash table for
 * lookup and a list in update order for replay (oldest update first).
 * Loop thread only.
 */
#ifndef KZ_ROUTE_TRACKS_H
#define KZ_ROUTE_TRACKS_H

#include "route/route.h"

#define KZ_OWNER_BUCKETS 256

/* The current tracks of one sending identity (limits.max_tracks_per_identity). */
struct kz_owner {
    char *key; /* kz__owner_key() of the sender */
    size_t count;
    struct kz_owner *next;
};

struct kz_track {
    struct kz_event ev;                   /* owned */
    struct kz_label label;                /* parsed ev.access */
    struct kz_groupset out;               /* sender's OUT groups */
    struct kz_owner *owner;               /* the identity that sent it */
    bool bound;                           /* a connected client's own uid (a claim) */
    bool quiet;                           /* put quietly (the cluster's KV), not yet live */
    struct kz_rbuf *wire[KZ_WIRE__COUNT]; /* cached encodings, lazily made */
    struct kz_track *hnext;               /* hash chain */
    struct kz_track *prev, *next;         /* update order */
};

struct kz_tracks {
    struct kz_track **buckets;
    size_t n_buckets; /* power of two */
    size_t count;
    struct kz_track *head, *tail;              /* oldest ... newest update */
    struct kz_owner *owners[KZ_OWNER_BUCKETS]; /* identities with current tracks */
};

void kz__tracks_init(struct kz_tracks *t);
void kz__tracks_release(struct kz_tracks *t);
struct kz_track *kz__tracks_get(struct kz_tracks *t, const char *uid);
/*
 * Insert or replace the track for ev->uid, sent by the identity `owner` (a
 * kz__owner_key()); takes over *ev (left cleared).  The track moves to the
 * newest end and keeps its claim only when the owner is the same.  Returns
 * the track.
 */
struct kz_track *kz__tracks_put(struct kz_tracks *t, struct kz_event *ev,
                                const struct kz_label *label, const struct kz_groupset *out,
                                const char *owner);
/* Current tracks of an identity (a kz__owner_key()). */
size_t kz__tracks_owned(const struct kz_tracks *t, const char *owner);
/* Remove and free; false when absent. */
bool kz__tracks_del(struct kz_tracks *t, const char *uid);
/* Remove every track whose stale time is before now_us; returns how many. */
size_t kz__tracks_expire(struct kz_tracks *t, int64_t now_us);

#endif
