/*
 * policy_config.c - build the marking policy from the `labels:` section.
 * Configured level names come first (the first is the canonical one);
 * the US names stay accepted as aliases so every policy reads US banners.
 */
#include <stdio.h>
#include <string.h>

#include "label/internal.h"

static const char *const us_names[KZ_LEVEL__COUNT][2] = {
    [KZ_LEVEL_UNCLASSIFIED] = {"UNCLASSIFIED", "U"},
    [KZ_LEVEL_CONFIDENTIAL] = {"CONFIDENTIAL", "C"},
    [KZ_LEVEL_SECRET] = {"SECRET", "S"},
    [KZ_LEVEL_TOP_SECRET] = {"TOP SECRET", "TS"},
};

static enum kz_level level_named(const char *s)
{
    for (int lv = KZ_LEVEL_UNCLASSIFIED; lv < KZ_LEVEL__COUNT; lv++)
        if (strcmp(s, us_names[lv][0]) == 0)
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
    for (int lv = KZ_LEVEL_UNCLASSIFIED; lv < KZ_LEVEL__COUNT; lv++)
        for (int i = 0; i < 2; i++)
            /* A configured alias may already be a US name: not an error. */
            kz_label_policy_add_level_name(p, (enum kz_level)lv, us_names[lv][i], NULL, 0);
    return KZ_OK;
}

static int add_tetragraphs(struct kz_label_policy *p, const struct kz_config_labels *c, char *err,
                           size_t errlen)
{
    static const char *const fvey[] = {"USA", "AUS", "CAN", "GBR", "NZL"};

    if (!c->tetragraphs) {
        kz_label_policy_add_tetragraph(p, "FVEY", fvey, KZ_ARRAY_LEN(fvey), NULL, 0);
        kz_label_policy_add_tetragraph(p, "NATO", NULL, 0, NULL, 0);
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

int kz_label_policy_from_config(const struct kz_config_labels *c, struct kz_label_policy *p,
                                char *err, size_t errlen)
{
    char why[200] = "";

    kz_label_policy_init(p, 0, c->policy);
    if (add_levels(p, c, why, sizeof(why)) || add_tetragraphs(p, c, why, sizeof(why))) {
        snprintf(err, errlen, "labels: %s", why);
        return KZ_ERR_CONFIG;
    }
    return KZ_OK;
}
