/*
 * approval.c - what the plans module asks the alliance model: who approves
 * a plan of a kind for a nation on a day, which prior-consultation rule a
 * plan triggers, and whether a command is in a unit's own national chain
 * (so an approver above the approving command may approve for it).
 */
#include <stdlib.h>
#include <string.h>

#include "alliance/internal.h"

const struct kz_approver *kz_alliance_approver(const struct kz_alliance *a, const char *nation,
                                               const char *kind, int32_t day)
{
    for (unsigned i = 0; nation && kind && i < a->n_approvers; i++) {
        const struct kz_approver *p = &a->approvers[i];
        if (strcmp(p->nation, nation) == 0 && kz_day_in(p->valid_from, p->valid_to, day) &&
            kz__strv_has(p->kinds, p->n_kinds, kind))
            return p;
    }
    return NULL;
}

static bool flag_set(const char *const *flags, unsigned n, const char *flag)
{
    for (unsigned i = 0; i < n; i++)
        if (flags[i] && strcmp(flags[i], flag) == 0)
            return true;
    return false;
}

const struct kz_consultation *kz_alliance_consultation_for(const struct kz_alliance *a,
                                                           const char *const *flags, unsigned n,
                                                           const char *legal_basis)
{
    for (unsigned i = 0; i < a->n_consultations; i++) {
        const struct kz_consultation *c = &a->consultations[i];
        for (unsigned t = 0; t < c->n_triggers; t++) {
            const struct kz_consult_trigger *tr = &c->triggers[t];
            if (flag_set(flags, n, tr->flag) &&
                !kz__strv_has(tr->except, tr->n_except, legal_basis))
                return c;
        }
    }
    return NULL;
}

/* An edge of target's own chain: operational or national command, inside one nation. */
static bool chain_edge(const struct kz_alliance *a, const struct kz_relation *r, const char *nation,
                       int32_t day)
{
    const struct kz_command *f;

    if (r->type != KZ_REL_COCOM && r->type != KZ_REL_OPCON && r->type != KZ_REL_TACON &&
        r->type != KZ_REL_NATIONAL)
        return false;
    f = kz_alliance_command(a, r->from);
    return f && strcmp(f->nation, nation) == 0 && kz_day_in(r->valid_from, r->valid_to, day);
}

bool kz_alliance_in_chain(const struct kz_alliance *a, const char *cmd, const char *target,
                          int32_t day)
{
    const struct kz_command *c = kz_alliance_command(a, cmd), *t = kz_alliance_command(a, target);

    if (!c || !t || strcmp(c->nation, t->nation) != 0)
        return false;
    /* Breadth-first upwards; every node enters the queue once, so it is bounded. */
    const char **q = kz_xcalloc(a->n_commands + 1, sizeof(char *));
    unsigned head = 0, tail = 0;
    bool found = false;
    q[tail++] = t->id;
    while (head < tail && !found) {
        const char *cur = q[head++];
        found = strcmp(cur, c->id) == 0;
        for (unsigned i = 0; i < a->n_relations && !found; i++) {
            const struct kz_relation *r = &a->relations[i];
            bool seen = false;
            if (strcmp(r->to, cur) != 0 || !chain_edge(a, r, t->nation, day))
                continue;
            for (unsigned k = 0; k < tail && !seen; k++)
                seen = strcmp(q[k], r->from) == 0;
            if (!seen && tail < a->n_commands)
                q[tail++] = r->from;
        }
    }
    free(q);
    return found;
}
