/*
 * internal.h - shared by the files of src/label/ only: the code tables, bit
 * helpers and name matching.
 */
#ifndef KZ_LABEL_INTERNAL_H
#define KZ_LABEL_INTERNAL_H

#include "label/label.h"

/* Number of rows of the ISO 3166-1 alpha-3 table in codes.c. */
#define KZ__NATIONS 249

/* A dissemination control other than REL TO. */
struct kz__caveat {
    uint16_t bit;       /* enum kz_caveat */
    const char *name;   /* canonical, written by kz_label_format() */
    const char *abbrev; /* portion-mark form also accepted, or NULL */
};

/*
 * In the order of the markings register.  REL TO is written just before the
 * row at index KZ__REL_TO_SLOT.
 */
extern const struct kz__caveat kz__caveats[];
extern const size_t kz__caveat_count;
#define KZ__REL_TO_SLOT 3

static inline bool kz__bit(const uint64_t *set, unsigned i)
{
    return (set[i >> 6] >> (i & 63)) & 1u;
}

static inline void kz__bit_set(uint64_t *set, unsigned i)
{
    set[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline void kz__bit_clear(uint64_t *set, unsigned i)
{
    set[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

static inline bool kz__is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static inline char kz__upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* True if s[0..len) equals `name` up to ASCII case and runs of blanks. */
bool kz__name_eq(const char *name, const char *s, size_t len);

/*
 * The parts of the built-in US policy that a configured policy shares: the
 * US level names (canonical and short; added as aliases, duplicates
 * ignored), and FVEY + NATO, the tetragraphs when none are configured
 * (`p` must have none yet).
 */
/* A new version for a policy that changed (see kz_label_policy.version).  Thread-safe. */
void kz__policy_changed(struct kz_label_policy *p);

void kz__policy_add_us_names(struct kz_label_policy *p);
void kz__policy_add_default_tetragraphs(struct kz_label_policy *p);

/* The level `s` names under p (trimmed input), or KZ_LEVEL_INVALID. */
enum kz_level kz__level_lookup(const struct kz_label_policy *p, const char *s, size_t len);

/* Index of tetragraph `s` in p->tetra, any case, or -1. */
int kz__tetra_lookup(const struct kz_label_policy *p, const char *s, size_t len);

/* Whether a label is valid enough to reason about. */
static inline bool kz__label_valid(const struct kz_label *l)
{
    return l != NULL && l->level > KZ_LEVEL_INVALID && l->level < KZ_LEVEL__COUNT &&
           l->originator <= KZ__NATIONS && l->mark <= KZ_MARK_JOINT;
}

/* Whether the `originator` field owns the label (not FOREIGN or JOINT). */
static inline bool kz__sender_owns(const struct kz_label *l)
{
    return l->mark <= KZ_MARK_FGI;
}

/*
 * The nations that own `l` and may always receive it: the originator, or
 * the FOREIGN nation, or the JOINT co-owners (FGI nations are not owners).
 */
void kz__label_owners(const struct kz_label *l, uint64_t set[KZ_NATION_WORDS]);

/*
 * The marking rules a parsed label must meet (docs/labels.md, "Marking
 * rules"): KZ_OK or KZ_ERR_PARSE with the message in err (may be NULL).
 */
int kz__label_check_rules(const struct kz_label_policy *p, const struct kz_label *l, char *err,
                          size_t errlen);

/* Number of nations in `set`. */
unsigned kz__count(const uint64_t set[KZ_NATION_WORDS]);

/*
 * The nations a label may reach, whatever their clearance: fills `set` and
 * returns false, or returns true for "every nation" (public information).
 */
bool kz__label_reach(const struct kz_label *l, uint64_t set[KZ_NATION_WORDS]);

#endif
