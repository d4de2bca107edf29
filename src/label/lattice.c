/*
 * lattice.c - roll-up of labels and the ceiling test.
 *
 * Both reason on the set of nations a label may reach (kz__label_reach):
 * every nation for public information, else the originator plus, without
 * NOFORN, the expanded REL TO.  Aggregation intersects those sets, so the
 * aggregate never reaches a nation some part would not.
 */
#include <string.h>

#include "label/internal.h"

#define W KZ_NATION_WORDS

static bool is_public(const struct kz_label *l)
{
    return l->level == KZ_LEVEL_UNCLASSIFIED && l->caveats == 0 && !(l->flags & KZ_LABEL_F_REL);
}

bool kz__label_reach(const struct kz_label *l, uint64_t set[W])
{
    if (is_public(l))
        return true;
    memset(set, 0, W * sizeof(set[0]));
    if ((l->flags & KZ_LABEL_F_REL) && !(l->caveats & KZ_CAVEAT_NOFORN))
        memcpy(set, l->release, W * sizeof(set[0]));
    if (l->originator != KZ_NATION_NONE)
        kz__bit_set(set, l->originator);
    return false;
}

static bool is_empty(const uint64_t set[W])
{
    for (int w = 0; w < W; w++)
        if (set[w] != 0)
            return false;
    return true;
}

/* Tetragraphs a part lets through: its own list, all for public, else none. */
static uint64_t tetra_pass(const struct kz_label *l)
{
    if (l->flags & KZ_LABEL_F_REL)
        return l->tetra;
    return is_public(l) ? ~(uint64_t)0 : 0;
}

/*
 * Tetragraphs of the roll-up: those written in every part with a REL TO.
 * Bits of another policy mean other tetragraphs, so they are dropped (their
 * nations stay, spelled as trigraphs).
 */
static uint64_t tetra_kept(const struct kz_label *acc, const struct kz_label *part)
{
    if (is_public(part))
        return tetra_pass(acc);
    if (part->policy != acc->policy)
        return 0;
    return tetra_pass(acc) & tetra_pass(part);
}

static uint16_t common_originator(const struct kz_label *a, const struct kz_label *b)
{
    if (a->originator == b->originator || is_public(a))
        return b->originator;
    return is_public(b) ? a->originator : KZ_NATION_NONE;
}

/*
 * Write `reach` into acc as its REL TO in the shortest form: trigraphs a kept
 * tetragraph covers are left out, except USA, which is always listed.
 */
static void set_rel(const struct kz_label_policy *p, struct kz_label *acc, const uint64_t reach[W],
                    uint64_t tetra)
{
    uint64_t covered[W] = {0};
    uint16_t usa = kz_nation_index("USA", 3);

    for (unsigned t = 0; t < p->tetra_count; t++)
        if ((tetra >> t) & 1u)
            for (int w = 0; w < W; w++)
                covered[w] |= p->tetra[t].members[w];
    kz__bit_clear(covered, usa);
    for (int w = 0; w < W; w++) {
        acc->rel[w] = reach[w] & ~covered[w];
        acc->release[w] = reach[w];
    }
    acc->tetra = tetra;
    acc->flags |= KZ_LABEL_F_REL;
}

/*
 * Encode nation set `reach` (never "every nation") with acc's level, caveats
 * and originator already set.  An originator-only set is written without REL
 * TO when the level or a caveat already keeps it from being public.
 */
static void set_reach(const struct kz_label_policy *p, struct kz_label *acc, uint64_t reach[W],
                      uint64_t tetra)
{
    uint64_t rest[W];

    acc->flags = 0;
    acc->tetra = 0;
    memset(acc->rel, 0, sizeof(acc->rel));
    memset(acc->release, 0, sizeof(acc->release));
    if (acc->originator != KZ_NATION_NONE && !kz__bit(reach, acc->originator))
        acc->originator = KZ_NATION_NONE;
    if (acc->caveats & KZ_CAVEAT_NOFORN)
        return;
    memcpy(rest, reach, sizeof(rest));
    if (acc->originator != KZ_NATION_NONE)
        kz__bit_clear(rest, acc->originator);
    if (!is_empty(rest) || tetra != 0)
        set_rel(p, acc, reach, tetra);
    else if (!is_public(acc))
        return;
    else if (acc->originator != KZ_NATION_NONE)
        set_rel(p, acc, reach, 0);
    else
        acc->caveats |= KZ_CAVEAT_NOFORN; /* reaches nobody */
}

int kz_label_aggregate(const struct kz_label_policy *p, struct kz_label *acc,
                       const struct kz_label *part)
{
    uint64_t ra[W], rb[W], tetra;
    bool pa, pb;

    if (!kz__label_valid(acc) || !kz__label_valid(part) || acc->policy != p->id) {
        memset(acc, 0, sizeof(*acc));
        return KZ_ERR_INVAL;
    }
    pa = kz__label_reach(acc, ra);
    pb = kz__label_reach(part, rb);
    if (pa && pb)
        return KZ_OK; /* both public: so is the whole */
    tetra = tetra_kept(acc, part);
    acc->originator = common_originator(acc, part);
    if (part->level > acc->level)
        acc->level = part->level;
    acc->caveats |= part->caveats;
    for (int w = 0; w < W; w++)
        ra[w] = pa ? rb[w] : pb ? ra[w] : ra[w] & rb[w];
    set_reach(p, acc, ra, tetra);
    return KZ_OK;
}

bool kz_label_dominated(const struct kz_label *a, const struct kz_label *ceiling)
{
    uint64_t ra[W], rc[W];

    if (!kz__label_valid(a) || !kz__label_valid(ceiling) || a->level > ceiling->level)
        return false;
    if (kz__label_reach(a, ra))
        return true;
    if (kz__label_reach(ceiling, rc))
        return false;
    for (int w = 0; w < W; w++)
        if (rc[w] & ~ra[w])
            return false;
    return true;
}
