/* TEMPORARY until the alliance and label branches merge. */
#include <string.h>
#include "plan/internal.h"
const struct kz_approver *kz_alliance_approver(const struct kz_alliance *a, const char *nation,
                                               const char *kind, int32_t day)
{
    (void)day;
    for (unsigned i = 0; i < a->n_approvers; i++) {
        if (strcmp(a->approvers[i].nation, nation) != 0)
            continue;
        for (unsigned k = 0; k < a->approvers[i].n_kinds; k++)
            if (strcmp(a->approvers[i].kinds[k], kind) == 0)
                return &a->approvers[i];
    }
    return NULL;
}
const struct kz_consultation *kz_alliance_consultation_for(const struct kz_alliance *a,
                                                           const char *const *flags, unsigned n,
                                                           const char *legal_basis)
{
    (void)a;
    (void)flags;
    (void)n;
    (void)legal_basis;
    return NULL;
}
bool kz_alliance_in_chain(const struct kz_alliance *a, const char *cmd, const char *target,
                          int32_t day)
{
    return kz_alliance_is_under(a, target, cmd, day);
}
int kz_label_set_joint(struct kz_label *l, const uint16_t *nations, unsigned n)
{
    (void)l;
    (void)nations;
    (void)n;
    return KZ_OK;
}
