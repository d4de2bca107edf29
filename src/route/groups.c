/*
 * groups.c - group names interned to bit indexes so the per-recipient group
 * rule is a few AND instructions on the fan-out path.
 *
 * The intern table (struct kz_groups, one per server) only grows; names are
 * few (teams, nations, missions) and bounded by KZ_MAX_GROUPS.  Loop thread
 * only.
 */
#include <stdlib.h>
#include <string.h>

#include "route/route.h"

void kz_groups_release(struct kz_groups *g)
{
    for (unsigned i = 0; i < g->n; i++)
        free(g->names[i]);
    g->n = 0;
}

static int intern(struct kz_groups *g, const char *name, unsigned *out)
{
    for (unsigned i = 0; i < g->n; i++) {
        if (strcmp(g->names[i], name) == 0) {
            *out = i;
            return KZ_OK;
        }
    }
    if (g->n == KZ_MAX_GROUPS)
        return KZ_ERR_TOOBIG;
    g->names[g->n] = kz_xstrdup(name);
    *out = g->n++;
    return KZ_OK;
}

int kz_groupset_from(struct kz_groups *g, struct kz_groupset *gs, char *const *list, unsigned n)
{
    memset(gs, 0, sizeof(*gs));
    for (unsigned i = 0; i < n; i++) {
        unsigned bit;
        int rc = intern(g, list[i], &bit);
        if (rc) {
            kz_log(KZ_LOG_ERROR, "too many distinct groups", "max=%d group=%s", KZ_MAX_GROUPS,
                   list[i]);
            return rc;
        }
        gs->w[bit / 64] |= UINT64_C(1) << (bit % 64);
    }
    return KZ_OK;
}

bool kz_groupset_meets(const struct kz_groupset *a, const struct kz_groupset *b)
{
    uint64_t any = 0;
    for (size_t i = 0; i < KZ_ARRAY_LEN(a->w); i++)
        any |= a->w[i] & b->w[i];
    return any != 0;
}
