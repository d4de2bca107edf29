/*
 * release.c - the release rule.  Called per recipient per event by the
 * router, so it only compares small integers and tests one bit.
 */
#include <string.h>

#include "label/internal.h"

static const char *const deny_names[KZ_DENY__COUNT] = {
    [KZ_DENY_NONE] = "none",
    [KZ_DENY_CLEARANCE] = "clearance",
    [KZ_DENY_NATION] = "nation",
    [KZ_DENY_NOFORN] = "noforn",
    [KZ_DENY_UNKNOWN_CLEARANCE] = "unknown_clearance",
    [KZ_DENY_UNKNOWN_NATION] = "unknown_nation",
    [KZ_DENY_BAD_LABEL] = "bad_label",
};

const char *kz_deny_name(enum kz_deny why)
{
    if ((unsigned)why >= KZ_DENY__COUNT)
        return "unknown";
    return deny_names[why];
}

/* Identity strings come from configuration or certificates: trim blanks. */
static size_t trimmed(const char *s, const char **start)
{
    const char *e;

    while (kz__is_blank(*s))
        s++;
    e = s + strlen(s);
    while (e > s && kz__is_blank(e[-1]))
        e--;
    *start = s;
    return (size_t)(e - s);
}

int kz_release_subject_from(const struct kz_identity *id, const struct kz_label_policy *p,
                            struct kz_release_subject *out)
{
    const char *s;
    size_t len;

    memset(out, 0, sizeof(*out));
    if (id == NULL || p == NULL)
        return KZ_ERR_INVAL;
    if (id->clearance != NULL) {
        len = trimmed(id->clearance, &s);
        out->clearance = (uint8_t)kz__level_lookup(p, s, len);
    }
    if (id->nation != NULL) {
        len = trimmed(id->nation, &s);
        out->nation = kz_nation_index(s, len);
    }
    if (out->clearance == KZ_LEVEL_INVALID || out->nation == KZ_NATION_NONE)
        return KZ_ERR_INVAL;
    return KZ_OK;
}

static bool deny(enum kz_deny *why, enum kz_deny reason)
{
    if (why != NULL)
        *why = reason;
    return reason == KZ_DENY_NONE;
}

/* Inputs that never occur once labels and subjects are parsed. */
static bool refuse_invalid(const struct kz_label *label, const struct kz_release_subject *who,
                           enum kz_deny *why)
{
    if (!kz__label_valid(label))
        return deny(why, KZ_DENY_BAD_LABEL);
    if (who == NULL || who->clearance == KZ_LEVEL_INVALID || who->clearance >= KZ_LEVEL__COUNT)
        return deny(why, KZ_DENY_UNKNOWN_CLEARANCE);
    return deny(why, KZ_DENY_UNKNOWN_NATION);
}

/*
 * The terms are combined with & and | rather than && and || on purpose: the
 * outcome varies from one recipient to the next, and mispredicted branches
 * were most of the cost.
 */
bool kz_may_release(const struct kz_label *label, const struct kz_release_subject *who,
                    enum kz_deny *why)
{
    unsigned n, cleared, own, free_to_go, listed, ok;

    if (!kz__label_valid(label) || who == NULL ||
        (unsigned)who->clearance - 1u >= KZ_LEVEL__COUNT - 1u ||
        (unsigned)who->nation - 1u >= KZ__NATIONS)
        return refuse_invalid(label, who, why);
    n = who->nation;
    cleared = who->clearance >= label->level;
    /* Owners: the originator, or the FOREIGN nation / JOINT co-owners (FGI is not owner). */
    own = ((n == label->originator) & (label->mark <= KZ_MARK_FGI)) |
          ((unsigned)kz__bit(label->origins, n) & (label->mark >= KZ_MARK_FOREIGN));
    free_to_go = (label->caveats & KZ_CAVEAT_NOFORN) == 0;
    /* Without REL TO only public information (UNCLASSIFIED, no caveat) goes abroad. */
    listed = (label->flags & KZ_LABEL_F_REL)
                 ? (unsigned)kz__bit(label->release, n)
                 : (unsigned)(label->level == KZ_LEVEL_UNCLASSIFIED && label->caveats == 0 &&
                              label->mark == KZ_MARK_NONE);
    ok = cleared & (own | (free_to_go & listed));
    if (why != NULL) {
        unsigned reason = !cleared      ? KZ_DENY_CLEARANCE
                          : !free_to_go ? KZ_DENY_NOFORN
                                        : KZ_DENY_NATION;
        *why = (enum kz_deny)(reason * (ok ^ 1u));
    }
    return ok != 0;
}
