/*
 * rules.c - the marking rules of the IC markings register that kizuna
 * enforces on every parsed label, and the originator set (owners, JOINT).
 * Each rule names its ISM-ID so a security officer can check it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "label/internal.h"

#define W KZ_NATION_WORDS

static int refuse(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return KZ_ERR_PARSE;
}

unsigned kz__count(const uint64_t set[W])
{
    unsigned n = 0;

    for (int w = 0; w < W; w++)
        n += (unsigned)__builtin_popcountll(set[w]);
    return n;
}

/* Whether a REL TO of `l` must list p's home nation: on the home's own information. */
static bool rel_needs_home(const struct kz_label_policy *p, const struct kz_label *l)
{
    if (p->home == KZ_NATION_NONE || l->mark == KZ_MARK_FOREIGN)
        return false;
    return l->mark != KZ_MARK_JOINT || kz__bit(l->origins, p->home);
}

static int check_rel(const struct kz_label_policy *p, const struct kz_label *l, char *err,
                     size_t errlen)
{
    unsigned codes = kz__count(l->rel) + (unsigned)__builtin_popcountll(l->tetra);

    if (rel_needs_home(p, l) && !kz__bit(l->rel, p->home))
        return refuse(err, errlen, "REL TO must list %s, the policy's own nation (ISM-ID-00214)",
                      kz_nation_code(p->home));
    if (codes < 2)
        return refuse(err, errlen, "REL TO needs more than one code (ISM-ID-00319)");
    return KZ_OK;
}

static int check_controls(const struct kz_label_policy *p, const struct kz_label *l, char *err,
                          size_t errlen)
{
    unsigned c = l->caveats;

    if ((c & KZ_CAVEAT_NOFORN) && (l->flags & KZ_LABEL_F_REL))
        return refuse(err, errlen, "NOFORN cannot be combined with REL TO");
    if ((c & KZ_CAVEAT_NOFORN) && (c & KZ_CAVEAT_RELIDO))
        return refuse(err, errlen, "NOFORN cannot be combined with RELIDO (ISM-ID-00169)");
    if ((c & KZ_CAVEAT_FOUO) && l->level != KZ_LEVEL_UNCLASSIFIED)
        return refuse(err, errlen, "FOUO is for UNCLASSIFIED information only (ISM-ID-00030)");
    if ((c & KZ_CAVEAT_FOUO) && (c & KZ_CAVEAT_CUI))
        return refuse(err, errlen, "FOUO is the legacy form of CUI: give one of them");
    if ((c & KZ_CAVEAT_ORCON) && l->level == KZ_LEVEL_UNCLASSIFIED)
        return refuse(err, errlen, "ORCON needs CONFIDENTIAL or above (ISM-ID-00028)");
    if ((c & KZ_CAVEAT_RELIDO) && l->mark != KZ_MARK_NONE)
        return refuse(err, errlen,
                      "RELIDO cannot mark foreign (FGI or JOINT) information (ISM-ID-00233/00234)");
    if (l->mark == KZ_MARK_FOREIGN && p->home != KZ_NATION_NONE && kz__bit(l->origins, p->home))
        return refuse(err, errlen,
                      "//%s marks foreign information, but %s is the policy's own nation",
                      kz_nation_code(p->home), kz_nation_code(p->home));
    if ((c & KZ_CAVEAT_CUI) && l->mark != KZ_MARK_NONE)
        return refuse(err, errlen, "CUI is a US marking: not with FGI, JOINT or foreign markings");
    return KZ_OK;
}

int kz__label_check_rules(const struct kz_label_policy *p, const struct kz_label *l, char *err,
                          size_t errlen)
{
    int rc = check_controls(p, l, err, errlen);

    if (rc == KZ_OK && (l->flags & KZ_LABEL_F_REL))
        rc = check_rel(p, l, err, errlen);
    return rc;
}

void kz__label_owners(const struct kz_label *l, uint64_t set[W])
{
    if (kz__sender_owns(l)) {
        memset(set, 0, W * sizeof(set[0]));
        if (l->originator != KZ_NATION_NONE)
            kz__bit_set(set, l->originator);
    } else {
        memcpy(set, l->origins, W * sizeof(set[0]));
    }
}

int kz_label_set_joint(struct kz_label *l, const uint16_t *nations, unsigned n)
{
    uint64_t set[W] = {0};

    if (!kz__label_valid(l) || nations == NULL || n < 2 || (l->caveats & KZ_CAVEAT_CUI))
        return KZ_ERR_INVAL;
    for (unsigned i = 0; i < n; i++) {
        if (nations[i] == KZ_NATION_NONE || nations[i] > KZ__NATIONS)
            return KZ_ERR_INVAL;
        kz__bit_set(set, nations[i]);
    }
    if (kz__count(set) < 2)
        return KZ_ERR_INVAL;
    memcpy(l->origins, set, sizeof(set));
    l->mark = KZ_MARK_JOINT;
    l->caveats &= (uint16_t)~KZ_CAVEAT_RELIDO; /* never on foreign information */
    return KZ_OK;
}

bool kz_label_has_originator(const struct kz_label *l, uint16_t nation)
{
    if (!kz__label_valid(l) || nation == KZ_NATION_NONE || nation > KZ__NATIONS)
        return false;
    if (kz__bit(l->origins, nation))
        return true;
    return kz__sender_owns(l) && l->originator == nation;
}
