/* tracks.c - latest state per uid: chained hash table + update-order list. */
#include <stdlib.h>
#include <string.h>

#include "route/tracks.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ULL;
    }
    return h;
}

void kz__tracks_init(struct kz_tracks *t)
{
    memset(t, 0, sizeof(*t));
    t->n_buckets = 1024;
    t->buckets = kz_xcalloc(t->n_buckets, sizeof(*t->buckets));
}

static struct kz_owner **owner_slot(struct kz_owner *const *owners, const char *key)
{
    struct kz_owner **p = (struct kz_owner **)&owners[hash(key) & (KZ_OWNER_BUCKETS - 1)];
    while (*p && strcmp((*p)->key, key) != 0)
        p = &(*p)->next;
    return p;
}

static struct kz_owner *owner_ref(struct kz_tracks *t, const char *key)
{
    struct kz_owner **p = owner_slot(t->owners, key);
    if (!*p) {
        *p = kz_xcalloc(1, sizeof(**p));
        (*p)->key = kz_xstrdup(key);
    }
    (*p)->count++;
    return *p;
}

static void owner_unref(struct kz_tracks *t, struct kz_owner *o)
{
    if (!o || --o->count)
        return;
    struct kz_owner **p = owner_slot(t->owners, o->key);
    *p = o->next;
    free(o->key);
    free(o);
}

size_t kz__tracks_owned(const struct kz_tracks *t, const char *owner)
{
    struct kz_owner *o = *owner_slot(t->owners, owner);
    return o ? o->count : 0;
}

static void track_free(struct kz_tracks *t, struct kz_track *tr)
{
    owner_unref(t, tr->owner);
    kz_event_clear(&tr->ev);
    for (int i = 0; i < KZ_WIRE__COUNT; i++)
        kz_rbuf_unref(tr->wire[i]);
    free(tr);
}

void kz__tracks_release(struct kz_tracks *t)
{
    struct kz_track *tr = t->head;
    while (tr) {
        struct kz_track *next = tr->next;
        track_free(t, tr);
        tr = next;
    }
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

static struct kz_track **slot_of(struct kz_tracks *t, const char *uid)
{
    struct kz_track **p = &t->buckets[hash(uid) & (t->n_buckets - 1)];
    while (*p && strcmp((*p)->ev.uid, uid) != 0)
        p = &(*p)->hnext;
    return p;
}

struct kz_track *kz__tracks_get(struct kz_tracks *t, const char *uid)
{
    return *slot_of(t, uid);
}

static void grow(struct kz_tracks *t)
{
    size_t n = t->n_buckets * 2;
    struct kz_track **b = kz_xcalloc(n, sizeof(*b));
    for (struct kz_track *tr = t->head; tr; tr = tr->next) {
        struct kz_track **s = &b[hash(tr->ev.uid) & (n - 1)];
        tr->hnext = *s;
        *s = tr;
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
}

static void list_unlink(struct kz_tracks *t, struct kz_track *tr)
{
    if (tr->prev)
        tr->prev->next = tr->next;
    else
        t->head = tr->next;
    if (tr->next)
        tr->next->prev = tr->prev;
    else
        t->tail = tr->prev;
    tr->prev = tr->next = NULL;
}

static void list_append(struct kz_tracks *t, struct kz_track *tr)
{
    tr->prev = t->tail;
    tr->next = NULL;
    if (t->tail)
        t->tail->next = tr;
    else
        t->head = tr;
    t->tail = tr;
}

struct kz_track *kz__tracks_put(struct kz_tracks *t, struct kz_event *ev,
                                const struct kz_label *label, const struct kz_groupset *out,
                                const char *owner)
{
    struct kz_track **slot = slot_of(t, ev->uid);
    struct kz_track *tr = *slot;
    struct kz_owner *o = owner_ref(t, owner);

    if (tr) {
        kz_event_clear(&tr->ev);
        for (int i = 0; i < KZ_WIRE__COUNT; i++) {
            kz_rbuf_unref(tr->wire[i]);
            tr->wire[i] = NULL;
        }
        list_unlink(t, tr);
    } else {
        tr = kz_xcalloc(1, sizeof(*tr));
        kz_event_init(&tr->ev);
        *slot = tr;
        t->count++;
    }
    if (tr->owner != o)
        tr->bound = false; /* a claim is its holder's only */
    owner_unref(t, tr->owner);
    tr->owner = o;
    tr->ev = *ev;
    kz_event_init(ev);
    tr->quiet = false;
    tr->label = *label;
    tr->out = *out;
    list_append(t, tr);
    if (t->count > t->n_buckets)
        grow(t);
    return tr;
}

static void remove_track(struct kz_tracks *t, struct kz_track **slot)
{
    struct kz_track *tr = *slot;
    *slot = tr->hnext;
    list_unlink(t, tr);
    t->count--;
    track_free(t, tr);
}

bool kz__tracks_del(struct kz_tracks *t, const char *uid)
{
    struct kz_track **slot = slot_of(t, uid);
    if (!*slot)
        return false;
    remove_track(t, slot);
    return true;
}

size_t kz__tracks_expire(struct kz_tracks *t, int64_t now_us)
{
    size_t n = 0;
    struct kz_track *tr = t->head;
    while (tr) {
        struct kz_track *next = tr->next;
        if (tr->ev.stale < now_us) {
            remove_track(t, slot_of(t, tr->ev.uid));
            n++;
        }
        tr = next;
    }
    return n;
}
