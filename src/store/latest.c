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
    struct kz__uident e; /* e.uid is rec.uid */
    size_t size;         /* of the whole allocation */
    struct kz__rec rec;
    char data[];
};

struct kz__latest {
    struct kz__uidtab t;
    size_t bytes;
    const struct kz__rec **list; /* kz__latest_list's answer */
    size_t n_list, list_cap;
};

static struct kz__latest *latest_of(struct kz__db *db)
{
    if (!db->latest)
        db->latest = kz_xcalloc(1, sizeof(*db->latest));
    return db->latest;
}

/* Bytes a copy of r takes. */
static size_t size_of(const struct kz__rec *r)
{
    return sizeof(struct latest) + kz__str_size(r->uid) + kz__str_size(r->type) +
           kz__str_size(r->label) + kz__str_size(r->origin_input) + kz__str_size(r->origin_user) +
           kz__str_size(r->origin_nation) + kz__str_size(r->origin_groups) + r->xml_len + 1;
}

/* r into l (at least size_of(r) bytes), strings packed after it. */
static void pack(struct latest *l, const struct kz__rec *r)
{
    char *p = l->data;

    l->rec.seq = r->seq;
    l->rec.stale = r->stale;
    l->rec.uid = l->e.uid = kz__pack_str(&p, r->uid);
    l->rec.type = kz__pack_str(&p, r->type);
    l->rec.label = kz__pack_str(&p, r->label);
    l->rec.origin_input = kz__pack_str(&p, r->origin_input);
    l->rec.origin_user = kz__pack_str(&p, r->origin_user);
    l->rec.origin_nation = kz__pack_str(&p, r->origin_nation);
    l->rec.origin_groups = kz__pack_str(&p, r->origin_groups);
    l->rec.xml = kz__pack(&p, r->xml, r->xml_len);
    l->rec.xml_len = r->xml_len;
}

/*
 * The uid's newest event replaces what it held: in place when it fits (a
 * unit's reports are much the same size), else in a new allocation.
 */
void kz__latest_put(struct kz__db *db, const struct kz__rec *r)
{
    struct kz__latest *ls = latest_of(db);
    struct kz__uident **slot = kz__uidtab_slot(&ls->t, r->uid);
    struct latest *old = (struct latest *)*slot, *l;
    size_t size = size_of(r);

    if (old && old->rec.seq >= r->seq)
        return; /* an older event arriving late */
    if (old && old->size >= size) {
        pack(old, r);
        return;
    }
    l = kz_xmalloc(size);
    l->size = size;
    pack(l, r);
    l->e.hnext = old ? old->e.hnext : NULL;
    *slot = &l->e;
    ls->bytes += size;
    if (old) {
        ls->bytes -= old->size;
        free(old);
    } else {
        kz__uidtab_added(&ls->t);
    }
}

size_t kz__latest_bytes(const struct kz__db *db, size_t *count)
{
    *count = db->latest ? db->latest->t.count : 0;
    return db->latest ? db->latest->bytes : 0;
}

static void list_one(struct kz__uident *e, void *ud)
{
    struct kz__latest *ls = ud;

    ls->list[ls->n_list++] = &((struct latest *)e)->rec;
}

const struct kz__rec **kz__latest_list(struct kz__db *db, size_t *n)
{
    struct kz__latest *ls = latest_of(db);

    if (ls->t.count > ls->list_cap) {
        ls->list_cap = ls->t.count;
        ls->list = kz_xrealloc(ls->list, ls->list_cap * sizeof(*ls->list));
    }
    ls->n_list = 0;
    kz__uidtab_each(&ls->t, list_one, ls);
    *n = ls->n_list;
    return ls->list;
}

static void free_one(struct kz__uident *e, void *ud)
{
    KZ_UNUSED(ud);
    free(e);
}

void kz__latest_clear(struct kz__db *db)
{
    if (!db->latest)
        return;
    kz__uidtab_clear(&db->latest->t, free_one);
    db->latest->bytes = 0;
}

void kz__latest_free(struct kz__db *db)
{
    if (!db->latest)
        return;
    kz__uidtab_release(&db->latest->t, free_one);
    free(db->latest->list);
    KZ_FREE(db->latest);
}
