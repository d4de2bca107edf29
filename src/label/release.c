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

bool kz_may_release(const struct kz_label *label, const struct kz_release_subject *who,
                    enum kz_deny *why)
{
    if (!kz__label_valid(label))
        return deny(why, KZ_DENY_BAD_LABEL);
    if (who == NULL || who->clearance == KZ_LEVEL_INVALID || who->clearance >= KZ_LEVEL__COUNT)
        return deny(why, KZ_DENY_UNKNOWN_CLEARANCE);
    if (who->nation == KZ_NATION_NONE || who->nation > KZ__NATIONS)
        return deny(why, KZ_DENY_UNKNOWN_NATION);
    if (who->clearance < label->level)
        return deny(why, KZ_DENY_CLEARANCE);
    if (who->nation == label->originator)
        return deny(why, KZ_DENY_NONE);
    if (label->caveats & KZ_CAVEAT_NOFORN)
        return deny(why, KZ_DENY_NOFORN);
    if (!(label->flags & KZ_LABEL_F_REL)) {
        /* Public information only when nothing at all restricts it. */
        bool public = label->level == KZ_LEVEL_UNCLASSIFIED && label->caveats == 0;
        return deny(why, public ? KZ_DENY_NONE : KZ_DENY_NATION);
    }
    return deny(why, kz__bit(label->release, who->nation) ? KZ_DENY_NONE : KZ_DENY_NATION);
}
