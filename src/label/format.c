/*
 * format.c - struct kz_label to its canonical banner.  The only place that
 * knows the canonical order; the parser accepts any order.
 */
#include <string.h>

#include "label/internal.h"

static void add_rel_to(const struct kz_label_policy *p, const struct kz_label *l,
                       struct kz_sbuf *out)
{
    uint16_t usa = kz_nation_index("USA", 3);
    const char *sep = "";

    kz_sbuf_adds(out, "REL TO ");
    /* USA first, then the other trigraphs: index order is alphabetical. */
    if (kz__bit(l->rel, usa)) {
        kz_sbuf_adds(out, "USA");
        sep = ", ";
    }
    for (uint16_t n = 1; n <= KZ__NATIONS; n++) {
        if (n == usa || !kz__bit(l->rel, n))
            continue;
        kz_sbuf_adds(out, sep);
        kz_sbuf_add(out, kz_nation_code(n), 3);
        sep = ", ";
    }
    for (unsigned i = 0; i < p->tetra_count; i++) {
        unsigned t = p->tetra_sorted[i];
        if (!((l->tetra >> t) & 1u))
            continue;
        kz_sbuf_adds(out, sep);
        kz_sbuf_add(out, p->tetra[t].code, 4);
        sep = ", ";
    }
}

/* Nations of `set`, blank-separated, alphabetical (index order). */
static void add_nations(const uint64_t *set, struct kz_sbuf *out)
{
    const char *sep = "";

    for (uint16_t n = 1; n <= KZ__NATIONS; n++) {
        if (!kz__bit(set, n))
            continue;
        kz_sbuf_adds(out, sep);
        kz_sbuf_add(out, kz_nation_code(n), 3);
        sep = " ";
    }
}

/* The classification: "[//CCC |//JOINT ]LEVEL[ CCC...][//FGI CCC...]". */
static void add_head(const struct kz_label_policy *p, const struct kz_label *l, struct kz_sbuf *out)
{
    const char *level = (l->caveats & KZ_CAVEAT_CUI) ? "CUI" : p->names[l->level][0];

    if (l->mark == KZ_MARK_FOREIGN) {
        kz_sbuf_adds(out, "//");
        add_nations(l->origins, out);
        kz_sbuf_adds(out, " ");
    } else if (l->mark == KZ_MARK_JOINT) {
        kz_sbuf_adds(out, "//JOINT ");
    }
    kz_sbuf_adds(out, level);
    if (l->mark == KZ_MARK_JOINT) {
        kz_sbuf_adds(out, " ");
        add_nations(l->origins, out);
    } else if (l->mark == KZ_MARK_FGI) {
        kz_sbuf_adds(out, "//FGI ");
        add_nations(l->origins, out);
    }
}

int kz_label_format(const struct kz_label_policy *p, const struct kz_label *l, struct kz_sbuf *out)
{
    const char *sep = "//";

    if (!kz__label_valid(l) || l->policy != p->id || p->names[l->level][0][0] == '\0')
        return KZ_ERR_INVAL;
    if (p->tetra_count < 64 && (l->tetra >> p->tetra_count) != 0)
        return KZ_ERR_INVAL;
    add_head(p, l, out);
    for (size_t i = 0; i <= kz__caveat_count; i++) {
        if (i == KZ__REL_TO_SLOT && (l->flags & KZ_LABEL_F_REL)) {
            kz_sbuf_adds(out, sep);
            add_rel_to(p, l, out);
            sep = "/";
        }
        if (i < kz__caveat_count && (l->caveats & kz__caveats[i].bit)) {
            kz_sbuf_adds(out, sep);
            kz_sbuf_adds(out, kz__caveats[i].name);
            sep = "/";
        }
    }
    return KZ_OK;
}
