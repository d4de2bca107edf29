/*
 * book.c - every plan of the node in memory, by id (loop thread), rebuilt
 * at startup from the newest stored revision of each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "plan/internal.h"

struct kz_plan_book {
    struct kz_plan **v; /* by creation order */
    unsigned n, cap;
};

struct kz_plan_book *kz_plan_book_new(void)
{
    return kz_xcalloc(1, sizeof(struct kz_plan_book));
}

void kz_plan_book_free(struct kz_plan_book *b)
{
    if (!b)
        return;
    for (unsigned i = 0; i < b->n; i++)
        kz_plan_free(b->v[i]);
    free(b->v);
    free(b);
}

unsigned kz_plan_book_count(const struct kz_plan_book *b)
{
    return b->n;
}

const struct kz_plan *kz_plan_book_at(const struct kz_plan_book *b, unsigned i)
{
    return i < b->n ? b->v[i] : NULL;
}

static int find(const struct kz_plan_book *b, const char *id)
{
    for (unsigned i = 0; id && i < b->n; i++)
        if (strcmp(b->v[i]->id, id) == 0)
            return (int)i;
    return -1;
}

const struct kz_plan *kz_plan_book_get(const struct kz_plan_book *b, const char *id)
{
    int i = find(b, id);
    return i < 0 ? NULL : b->v[i];
}

void kz_plan_book_put(struct kz_plan_book *b, struct kz_plan *p)
{
    int i = find(b, p->id);

    if (i >= 0) {
        kz_plan_free(b->v[i]);
        b->v[i] = p;
        return;
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->v = kz_xrealloc(b->v, b->cap * sizeof(*b->v));
    }
    b->v[b->n++] = p;
}

void kz_plan_book_new_id(const struct kz_plan_book *b, char id[KZ_PLAN_ID_MAX])
{
    uint32_t r;

    do {
        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
            r = (uint32_t)kz_mono_us() ^ (uint32_t)b->n;
        snprintf(id, KZ_PLAN_ID_MAX, "p-%08x", r);
    } while (find(b, id) >= 0);
}

struct load {
    struct kz_plan_book *book;
    const struct kz_label_policy *policy;
    unsigned loaded, skipped;
};

static void on_plan(void *ud, const struct kz_store_plan *row)
{
    struct load *l = ud;
    json_t *doc = json_loads(row->doc, 0, NULL);
    struct kz_plan *p = NULL;

    if (!doc || kz_plan_from_doc(doc, l->policy, &p) != KZ_OK) {
        kz_log(KZ_LOG_WARN, "plans: stored plan left out (it no longer reads back)",
               "id=%s revision=%lld", row->id, (long long)row->revision);
        l->skipped++;
    } else {
        kz_plan_book_put(l->book, p);
        l->loaded++;
    }
    json_decref(doc);
}

int kz_plan_book_load(struct kz_plan_book *b, struct kz_store *st,
                      const struct kz_label_policy *policy, unsigned *loaded, unsigned *skipped)
{
    struct load l = {b, policy, 0, 0};
    int err = kz_store_plans_load(st, on_plan, &l);

    *loaded = l.loaded;
    *skipped = l.skipped;
    return err;
}
