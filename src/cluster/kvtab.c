/* kvtab.c - a chained hash table of latest-state records by encoded uid. */
#include <stdlib.h>
#include <string.h>

#include "cluster/latest_int.h"

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return (size_t)h;
}

struct kz__kvnode *kz__kvtab_find(const struct kz__kvtab *t, const char *key)
{
    if (t->nb == 0)
        return NULL;
    for (struct kz__kvnode *n = t->b[hash(key) & (t->nb - 1)]; n; n = n->hnext)
        if (strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

static void grow(struct kz__kvtab *t)
{
    size_t nb = t->nb ? t->nb * 2 : 64;
    struct kz__kvnode **b = kz_xcalloc(nb, sizeof(*b));

    for (size_t i = 0; i < t->nb; i++) {
        struct kz__kvnode *n = t->b[i], *next;
        for (; n; n = next) {
            next = n->hnext;
            size_t j = hash(n->key) & (nb - 1);
            n->hnext = b[j];
            b[j] = n;
        }
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
}

void kz__kvtab_insert(struct kz__kvtab *t, struct kz__kvnode *n)
{
    if (t->n >= t->nb)
        grow(t);
    size_t i = hash(n->key) & (t->nb - 1);
    n->hnext = t->b[i];
    t->b[i] = n;
    t->n++;
}

struct kz__kvnode *kz__kvtab_remove(struct kz__kvtab *t, const char *key)
{
    if (t->nb == 0)
        return NULL;
    for (struct kz__kvnode **p = &t->b[hash(key) & (t->nb - 1)]; *p; p = &(*p)->hnext) {
        struct kz__kvnode *n = *p;
        if (strcmp(n->key, key) == 0) {
            *p = n->hnext;
            n->hnext = NULL;
            t->n--;
            return n;
        }
    }
    return NULL;
}

struct kz__kvnode *kz__kvnode_new(const char *key, struct kz_latest_rec *rec)
{
    struct kz__kvnode *n = kz_xcalloc(1, sizeof(*n));
    n->key = kz_xstrdup(key);
    n->rec = *rec;
    memset(rec, 0, sizeof(*rec));
    return n;
}

void kz__kvnode_free(struct kz__kvnode *n)
{
    if (!n)
        return;
    kz_latest_rec_clear(&n->rec);
    free(n->key);
    free(n);
}

void kz__kvtab_release(struct kz__kvtab *t)
{
    for (size_t i = 0; i < t->nb; i++) {
        struct kz__kvnode *n = t->b[i], *next;
        for (; n; n = next) {
            next = n->hnext;
            kz__kvnode_free(n);
        }
    }
    free(t->b);
    memset(t, 0, sizeof(*t));
}
