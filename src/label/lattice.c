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
    return l->level == KZ_LEVEL_UNCLASSIFIED && l->caveats == 0 && !(l->flags & KZ_LABEL_F_REL) &&
           l->mark == KZ_MARK_NONE;
}

bool kz__label_reach(const struct kz_label *l, uint64_t set[W])
{
    if (is_public(l))
        return true;
    kz__label_owners(l, set);
    if ((l->flags & KZ_LABEL_F_REL) && !(l->caveats & KZ_CAVEAT_NOFORN))
        for (int w = 0; w < W; w++)
            set[w] |= l->release[w];
    return false;
}

static bool is_empty(const uint64_t set[W])
{
    for (int w = 0; w < W; w++)
        if (set[w] != 0)
            return false;
    return true;
}

static bool subset(const uint64_t a[W], const uint64_t b[W])
{
    for (int w = 0; w < W; w++)
        if (a[w] & ~b[w])
            return false;
    return true;
}

/* Whose information a part holds: its owners and its FGI nations. */
static void provenance(const struct kz_label *l, uint64_t set[W])
{
    kz__label_owners(l, set);
    if (l->mark == KZ_MARK_FGI)
        for (int w = 0; w < W; w++)
            set[w] |= l->origins[w];
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

/*
 * Caveats of the roll-up of two non-public parts: NOFORN and ORCON if either
 * has them; RELIDO if every classified part has it (every part when none is
 * classified) and no NOFORN; FOUO and CUI only while UNCLASSIFIED, CUI
 * replacing FOUO.
 */
static uint16_t roll_caveats(const struct kz_label *a, const struct kz_label *b, uint8_t level)
{
    uint16_t keep = KZ_CAVEAT_NOFORN | KZ_CAVEAT_ORCON | KZ_CAVEAT_FOUO | KZ_CAVEAT_CUI;
    uint16_t c = (uint16_t)((a->caveats | b->caveats) & keep);
    uint16_t ra = a->caveats & KZ_CAVEAT_RELIDO, rb = b->caveats & KZ_CAVEAT_RELIDO;

    if (a->level > KZ_LEVEL_UNCLASSIFIED && b->level == KZ_LEVEL_UNCLASSIFIED)
        rb = ra;
    if (b->level > KZ_LEVEL_UNCLASSIFIED && a->level == KZ_LEVEL_UNCLASSIFIED)
        ra = rb;
    c |= ra & rb;
    if (level > KZ_LEVEL_UNCLASSIFIED)
        c &= (uint16_t) ~(KZ_CAVEAT_FOUO | KZ_CAVEAT_CUI);
    if (c & KZ_CAVEAT_CUI)
        c &= (uint16_t)~KZ_CAVEAT_FOUO;
    if (c & KZ_CAVEAT_NOFORN)
        c &= (uint16_t)~KZ_CAVEAT_RELIDO;
    return c;
}

/* The JOINT owners shared by every JOINT part, into j; false if none or they differ. */
static bool joint_of(const struct kz_label *const parts[2], unsigned n, uint64_t j[W])
{
    bool found = false;

    for (unsigned i = 0; i < n; i++) {
        if (parts[i]->mark != KZ_MARK_JOINT)
            continue;
        if (found && memcmp(j, parts[i]->origins, W * sizeof(j[0])) != 0)
            return false;
        memcpy(j, parts[i]->origins, W * sizeof(j[0]));
        found = true;
    }
    return found;
}

/* The one nation of a one-nation set, or KZ_NATION_NONE. */
static uint16_t only_nation(const uint64_t set[W])
{
    if (kz__count(set) != 1)
        return KZ_NATION_NONE;
    for (uint16_t n = 1; n <= KZ__NATIONS; n++)
        if (kz__bit(set, n))
            return n;
    return KZ_NATION_NONE;
}

/*
 * Whose the roll-up is, from the non-public parts' provenance `prov` and the
 * common reach `reach` (an owner always receives, so owners stay in reach):
 * a JOINT whose owners cover every part; one nation's (FOREIGN if a part
 * says so); else the home nation's, holding FGI of the others.
 */
static void roll_owners(const struct kz_label_policy *p, struct kz_label *acc,
                        const struct kz_label *const parts[2], unsigned n, const uint64_t prov[W],
                        const uint64_t reach[W])
{
    uint64_t j[W];
    uint16_t one = only_nation(prov);

    acc->mark = KZ_MARK_NONE;
    acc->originator = KZ_NATION_NONE;
    memset(acc->origins, 0, sizeof(acc->origins));
    if (joint_of(parts, n, j) && subset(prov, j) && subset(j, reach)) {
        acc->mark = KZ_MARK_JOINT;
        memcpy(acc->origins, j, sizeof(j));
        return;
    }
    if (one != KZ_NATION_NONE && kz__bit(reach, one)) {
        acc->originator = one;
        for (unsigned i = 0; i < n; i++)
            if (parts[i]->mark == KZ_MARK_FOREIGN && one != p->home)
                acc->mark = KZ_MARK_FOREIGN;
        if (acc->mark == KZ_MARK_FOREIGN)
            kz__bit_set(acc->origins, one);
        return;
    }
    if (p->home != KZ_NATION_NONE && kz__bit(reach, p->home))
        acc->originator = p->home;
    memcpy(acc->origins, prov, sizeof(acc->origins));
    if (p->home != KZ_NATION_NONE)
        kz__bit_clear(acc->origins, p->home);
    acc->mark = is_empty(acc->origins) ? KZ_MARK_NONE : KZ_MARK_FGI;
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
    if (p->home != KZ_NATION_NONE)
        kz__bit_clear(covered, p->home);
    for (int w = 0; w < W; w++) {
        acc->rel[w] = reach[w] & ~covered[w];
        acc->release[w] = reach[w];
    }
    acc->tetra = tetra;
    acc->flags |= KZ_LABEL_F_REL;
}

static void clear_rel(struct kz_label *acc)
{
    acc->flags = 0;
    acc->tetra = 0;
    memset(acc->rel, 0, sizeof(acc->rel));
    memset(acc->release, 0, sizeof(acc->release));
}

/*
 * Encode nation set `reach` (never "every nation") with acc's level, caveats
 * and owners already set.  Beyond the owners it is a REL TO (a JOINT lists
 * its owners too), unless that REL TO would break a marking rule; the owners
 * only are written NOFORN when the level or the look of the label would not
 * already keep them to themselves.
 */
static void set_reach(const struct kz_label_policy *p, struct kz_label *acc,
                      const uint64_t reach[W], uint64_t tetra)
{
    uint64_t rest[W];

    clear_rel(acc);
    if (acc->mark != KZ_MARK_NONE)
        acc->caveats &= (uint16_t) ~(KZ_CAVEAT_RELIDO | KZ_CAVEAT_CUI);
    if (acc->caveats & KZ_CAVEAT_NOFORN)
        return;
    kz__label_owners(acc, rest);
    for (int w = 0; w < W; w++)
        rest[w] = reach[w] & ~rest[w];
    if (!is_empty(rest) || tetra != 0 || acc->mark == KZ_MARK_JOINT) {
        set_rel(p, acc, reach, tetra);
        if (kz__label_check_rules(p, acc, NULL, 0) == KZ_OK)
            return;
        clear_rel(acc);
    }
    if (acc->level > KZ_LEVEL_UNCLASSIFIED || is_public(acc)) {
        acc->caveats |= KZ_CAVEAT_NOFORN;
        acc->caveats &= (uint16_t)~KZ_CAVEAT_RELIDO;
    }
}

int kz_label_aggregate(const struct kz_label_policy *p, struct kz_label *acc,
                       const struct kz_label *part)
{
    uint64_t ra[W], rb[W], prov[W] = {0}, pv[W], tetra;
    struct kz_label a;
    const struct kz_label *parts[2];
    unsigned n = 0;
    bool pa, pb;

    if (!kz__label_valid(acc) || !kz__label_valid(part) || acc->policy != p->id) {
        memset(acc, 0, sizeof(*acc));
        return KZ_ERR_INVAL;
    }
    pa = kz__label_reach(acc, ra);
    pb = kz__label_reach(part, rb);
    if (pa && pb)
        return KZ_OK; /* both public: so is the whole */
    a = *acc;
    if (!pa)
        parts[n++] = &a;
    if (!pb)
        parts[n++] = part;
    for (unsigned i = 0; i < n; i++) {
        provenance(parts[i], pv);
        for (int w = 0; w < W; w++)
            prov[w] |= pv[w];
    }
    tetra = tetra_kept(acc, part);
    for (int w = 0; w < W; w++)
        ra[w] = pa ? rb[w] : pb ? ra[w] : ra[w] & rb[w];
    acc->level = part->level > a.level ? part->level : a.level;
    acc->caveats = n == 2 ? roll_caveats(&a, part, acc->level) : parts[0]->caveats;
    roll_owners(p, acc, parts, n, prov, ra);
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
