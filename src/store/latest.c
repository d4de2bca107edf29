/*
 * latest.c - each uid's newest event since the tracks table was last
 * brought up to date, held by the store thread until tracks.c flushes it.
 *
 * Every event is in the log the moment its batch commits; the tracks table,
 * which only a restart reads, can follow later.  So a burst of 200 000
 * reports from 5 000 units costs 5 000 upserts a second, not one per uid per
 * batch.  What the table lacks is always the log after store_marks'
 * tracks_seq: a restart (or a failed batch, whose puts are undone by
 * forgetting) rebuilds this set from there (tracks.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

struct latest {
    struct latest *hnext;
    size_t size; /* of the whole allocation */
    struct kz__rec rec;
    char data[];
};

struct kz__latest {
    struct latest **buckets;
    size_t n_buckets; /* power of two */
    size_t count, bytes;
    const struct kz__rec **list; /* kz__latest_list's answer */
    size_t list_cap;
};

static struct kz__latest *latest_of(struct kz__db *db)
{
    if (!db->latest) {
        db->latest = kz_xcalloc(1, sizeof(*db->latest));
        db->latest->n_buckets = 1024;
        db->latest->buckets = kz_xcalloc(db->latest->n_buckets, sizeof(struct latest *));
    }
    return db->latest;
}

static void grow(struct kz__latest *ls)
{
    size_t n = ls->n_buckets * 2;
    struct latest **b = kz_xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < ls->n_buckets; i++) {
        for (struct latest *e = ls->buckets[i], *next; e; e = next) {
            size_t k = kz__str_hash(e->rec.uid) & (n - 1);
            next = e->hnext;
            e->hnext = b[k];
            b[k] = e;
        }
    }
    free(ls->buckets);
    ls->buckets = b;
    ls->n_buckets = n;
}

/* Bytes a copy of r takes. */
static size_t size_of(const struct kz__rec *r)
{
    return sizeof(struct latest) + kz__str_size(r->uid) + kz__str_size(r->type) +
           kz__str_size(r->label) + kz__str_size(r->origin_input) + kz__str_size(r->origin_user) +
           kz__str_size(r->origin_nation) + kz__str_size(r->origin_groups) + r->xml_len + 1;
}

/* r into e (at least size_of(r) bytes), strings packed after it. */
static void pack(struct latest *e, const struct kz__rec *r)
{
    char *p = e->data;

    e->rec.seq = r->seq;
    e->rec.stale = r->stale;
    e->rec.uid = kz__pack_str(&p, r->uid);
    e->rec.type = kz__pack_str(&p, r->type);
    e->rec.label = kz__pack_str(&p, r->label);
    e->rec.origin_input = kz__pack_str(&p, r->origin_input);
    e->rec.origin_user = kz__pack_str(&p, r->origin_user);
    e->rec.origin_nation = kz__pack_str(&p, r->origin_nation);
    e->rec.origin_groups = kz__pack_str(&p, r->origin_groups);
    e->rec.xml = kz__pack(&p, r->xml, r->xml_len);
    e->rec.xml_len = r->xml_len;
}

/*
 * The uid's newest event replaces what it held: in place when it fits (a
 * unit's reports are much the same size), else in a new allocation.
 */
void kz__latest_put(struct kz__db *db, const struct kz__rec *r)
{
    struct kz__latest *ls = latest_of(db);
    struct latest **slot = &ls->buckets[kz__str_hash(r->uid) & (ls->n_buckets - 1)], *e;
    size_t size = size_of(r);

    for (; *slot; slot = &(*slot)->hnext) {
        if (strcmp((*slot)->rec.uid, r->uid) == 0)
            break;
    }
    if (*slot && (*slot)->rec.seq >= r->seq)
        return; /* an older event arriving late */
    if ((e = *slot) && e->size >= size) {
        pack(e, r);
        return;
    }
    struct latest *n = kz_xmalloc(size);
    memset(n, 0, sizeof(*n));
    n->size = size;
    pack(n, r);
    n->hnext = e ? e->hnext : NULL;
    if (e) {
        ls->bytes -= e->size;
        free(e);
    } else {
        ls->count++;
    }
    *slot = n;
    ls->bytes += size;
    if (ls->count > 2 * ls->n_buckets)
        grow(ls);
}

size_t kz__latest_bytes(const struct kz__db *db, size_t *count)
{
    *count = db->latest ? db->latest->count : 0;
    return db->latest ? db->latest->bytes : 0;
}

const struct kz__rec **kz__latest_list(struct kz__db *db, size_t *n)
{
    struct kz__latest *ls = latest_of(db);

    if (ls->count > ls->list_cap) {
        ls->list_cap = ls->count;
        ls->list = kz_xrealloc(ls->list, ls->list_cap * sizeof(*ls->list));
    }
    *n = 0;
    for (size_t i = 0; i < ls->n_buckets; i++) {
        for (struct latest *e = ls->buckets[i]; e; e = e->hnext)
            ls->list[(*n)++] = &e->rec;
    }
    return ls->list;
}

void kz__latest_clear(struct kz__db *db)
{
    struct kz__latest *ls = db->latest;

    if (!ls)
        return;
    for (size_t i = 0; i < ls->n_buckets; i++) {
        for (struct latest *e = ls->buckets[i], *next; e; e = next) {
            next = e->hnext;
            free(e);
        }
        ls->buckets[i] = NULL;
    }
    ls->count = ls->bytes = 0;
}

void kz__latest_free(struct kz__db *db)
{
    if (!db->latest)
        return;
    kz__latest_clear(db);
    free(db->latest->buckets);
    free(db->latest->list);
    KZ_FREE(db->latest);
}
