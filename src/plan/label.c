/*
 * label.c - a plan's banner: its own label rolled up with its items', and
 * the JOINT marking of a plan whose participants belong to two nations or
 * more (docs/labels.md, "FGI and JOINT").
 */
#include <string.h>

#include "plan/internal.h"

unsigned kz_plan_nations(const struct kz_plan *p, const struct kz_alliance *a,
                         uint16_t out[KZ_PLAN_MAX_PARTICIPANTS])
{
    unsigned n = 0;

    for (unsigned i = 0; a && i < p->n_participants && n < KZ_PLAN_MAX_PARTICIPANTS; i++) {
        const struct kz_command *c = kz_alliance_command(a, p->participants[i]);
        uint16_t idx = c ? kz_nation_index(c->nation, strlen(c->nation)) : KZ_NATION_NONE;
        bool seen = idx == KZ_NATION_NONE;

        for (unsigned j = 0; j < n && !seen; j++)
            seen = out[j] == idx;
        if (!seen)
            out[n++] = idx;
    }
    return n;
}

int kz_plan_rollup(const struct kz_plan *p, const struct kz_alliance *a,
                   const struct kz_label_policy *policy, const struct kz_release_subject *who,
                   struct kz_label *out)
{
    uint16_t nations[KZ_PLAN_MAX_PARTICIPANTS];
    unsigned n = kz_plan_nations(p, a, nations);
    int err = KZ_OK;

    *out = p->label;
    for (unsigned i = 0; i < p->n_items && err == KZ_OK; i++)
        if (!who || kz_may_release(&p->items[i].label, who, NULL))
            err = kz_label_aggregate(policy, out, &p->items[i].label);
    if (err == KZ_OK && n >= 2)
        err = kz_label_set_joint(out, nations, n);
    return err;
}
