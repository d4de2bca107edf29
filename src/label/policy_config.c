/*
 * policy_config.c - build the marking policy from the `labels:` section.
 * Configured level names come first (the first is the canonical one);
 * the US names stay accepted as aliases so every policy reads US banners.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "label/internal.h"

static enum kz_level level_named(const char *s)
{
    for (int lv = KZ_LEVEL_UNCLASSIFIED; lv < KZ_LEVEL__COUNT; lv++)
        if (strcmp(s, kz_level_name((enum kz_level)lv)) == 0)
            return (enum kz_level)lv;
    return KZ_LEVEL_INVALID;
}

static int add_levels(struct kz_label_policy *p, const struct kz_config_labels *c, char *err,
                      size_t errlen)
{
    for (unsigned i = 0; i < c->level_names_count; i++) {
        const struct kz_config_label_row *row = &c->level_names[i];
        enum kz_level lv = level_named(row->key);
        if (lv == KZ_LEVEL_INVALID) {
            snprintf(err, errlen,
                     "labels.level_names: '%s' is not UNCLASSIFIED, CONFIDENTIAL, "
                     "SECRET or TOP SECRET",
                     row->key);
            return KZ_ERR_CONFIG;
        }
        for (unsigned j = 0; j < row->values_count; j++)
            if (kz_label_policy_add_level_name(p, lv, row->values[j], err, errlen))
                return KZ_ERR_CONFIG;
    }
    kz__policy_add_us_names(p);
    return KZ_OK;
}

static int add_tetragraphs(struct kz_label_policy *p, const struct kz_config_labels *c, char *err,
                           size_t errlen)
{
    if (!c->tetragraphs) {
        kz__policy_add_default_tetragraphs(p);
        return KZ_OK;
    }
    for (unsigned i = 0; i < c->tetragraphs_count; i++) {
        const struct kz_config_label_row *row = &c->tetragraphs[i];
        if (kz_label_policy_add_tetragraph(p, row->key, (const char *const *)row->values,
                                           row->values_count, err, errlen))
            return KZ_ERR_CONFIG;
    }
    return KZ_OK;
}

/*
 * A new policy id, never 0 (the default policy's).  Process-wide by nature:
 * ids distinguish every policy built in the process; atomic because the CLI
 * and tests may build policies from several threads.
 */
static uint16_t next_id(void)
{
    static atomic_uint counter;
    unsigned id;

    do
        id = atomic_fetch_add(&counter, 1u) + 1u;
    while ((uint16_t)id == 0);
    return (uint16_t)id;
}

int kz_label_policy_from_config(const struct kz_config_labels *c, struct kz_label_policy *p,
                                char *err, size_t errlen)
{
    char why[200] = "";

    kz_label_policy_init(p, next_id(), c->policy);
    p->home = kz_nation_index("USA", 3); /* until the server sets node.nation */
    if (add_levels(p, c, why, sizeof(why)) || add_tetragraphs(p, c, why, sizeof(why))) {
        snprintf(err, errlen, "labels: %s", why);
        return KZ_ERR_CONFIG;
    }
    return KZ_OK;
}
