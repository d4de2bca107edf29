/* TEMPORARY until the label branch merges. */
#include "plan/internal.h"
int kz_label_set_joint(struct kz_label *l, const uint16_t *nations, unsigned n)
{
    (void)l;
    (void)nations;
    (void)n;
    return KZ_OK;
}
bool kz_label_has_originator(const struct kz_label *l, uint16_t nation)
{
    return l->originator == nation;
}
