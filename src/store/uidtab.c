/*
 * uidtab.c - a hash table keyed by uid for the store thread's per-uid state
 * (heads.c, latest.c).  Entries are the callers' own structs, each with a
 * struct kz__uident first; the table only links them.  Chained, FNV-1a,
 * doubled when it holds twice as many entries as buckets.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define FIRST_BUCKETS 1024

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

struct kz__uident **kz__uidtab_slot(struct kz__uidtab *t, const char *uid)
{
    struct kz__uident **slot;

    if (!t->buckets) {
        t->n_buckets = FIRST_BUCKETS;
        t->buckets = kz_xcalloc(t->n_buckets, sizeof(*t->buckets));
    }
    slot = &t->buckets[hash(uid) & (t->n_buckets - 1)];
    while (*slot && strcmp((*slot)->uid, uid) != 0)
        slot = &(*slot)->hnext;
    return slot;
}

void kz__uidtab_added(struct kz__uidtab *t)
{
    size_t n = t->n_buckets * 2;
    struct kz__uident **b;

    if (++t->count <= 2 * t->n_buckets)
        return;
    b = kz_xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (struct kz__uident *e = t->buckets[i], *next; e; e = next) {
            struct kz__uident **to = &b[hash(e->uid) & (n - 1)];
            next = e->hnext;
            e->hnext = *to;
            *to = e;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
}

void kz__uidtab_each(struct kz__uidtab *t, void (*fn)(struct kz__uident *e, void *ud), void *ud)
{
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (struct kz__uident *e = t->buckets[i], *next; e; e = next) {
            next = e->hnext; /* fn may free e */
            fn(e, ud);
        }
    }
}

void kz__uidtab_clear(struct kz__uidtab *t, void (*free_fn)(struct kz__uident *e, void *ud))
{
    kz__uidtab_each(t, free_fn, NULL);
    if (t->buckets)
        memset(t->buckets, 0, t->n_buckets * sizeof(*t->buckets));
    t->count = 0;
}

void kz__uidtab_release(struct kz__uidtab *t, void (*free_fn)(struct kz__uident *e, void *ud))
{
    kz__uidtab_each(t, free_fn, NULL);
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}
