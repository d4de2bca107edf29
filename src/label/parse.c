/*
 * parse.c - banner string to struct kz_label.
 *
 * Grammar (docs/labels.md): HEAD [ "//FGI" NATION... ] [ "//" CONTROL { "/"
 * CONTROL } ], HEAD being LEVEL, "//" NATION LEVEL (wholly foreign) or
 * "//JOINT" LEVEL NATION NATION..., and a CONTROL "REL TO" CODE { "," CODE }
 * or a caveat name; then the marking rules (rules.c).  Every deviation is an
 * error with a message that names the offending token and its byte offset:
 * a label that does not parse is never approximated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "label/internal.h"

/* Longest token quoted in an error message. */
#define TOK_MAX 32
#define TOK(b, e)                                                                                  \
    (int)((e) - (b) > TOK_MAX ? TOK_MAX : (e) - (b)), (b), ((e) - (b) > TOK_MAX ? "..." : "")

struct parser {
    const struct kz_label_policy *p;
    const char *s; /* start of input, for offsets */
    struct kz_label *out;
    char *err;
    size_t errlen;
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;

    if (ps->err != NULL && ps->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(ps->err, ps->errlen, fmt, ap);
        va_end(ap);
    }
    return KZ_ERR_PARSE;
}

static size_t off(const struct parser *ps, const char *at)
{
    return (size_t)(at - ps->s);
}

static void trim(const char **b, const char **e)
{
    while (*b < *e && kz__is_blank(**b))
        (*b)++;
    while (*e > *b && kz__is_blank((*e)[-1]))
        (*e)--;
}

static const char *find(const char *b, const char *e, const char *needle)
{
    size_t n = strlen(needle);

    for (const char *q = b; q + n <= e; q++)
        if (memcmp(q, needle, n) == 0)
            return q;
    return NULL;
}

static const char *find_blank(const char *b, const char *e)
{
    for (; b < e; b++)
        if (kz__is_blank(*b))
            return b;
    return NULL;
}

static int add_code(struct parser *ps, const char *b, const char *e)
{
    struct kz_label *l = ps->out;
    size_t len = (size_t)(e - b);
    uint16_t nat = kz_nation_index(b, len);
    int t = nat == KZ_NATION_NONE ? kz__tetra_lookup(ps->p, b, len) : -1;

    if (nat == KZ_NATION_NONE && t < 0)
        return fail(ps, "unknown country or organization code '%.*s%s' at byte %zu", TOK(b, e),
                    off(ps, b));
    if (nat != KZ_NATION_NONE ? kz__bit(l->rel, nat) : ((l->tetra >> t) & 1u))
        return fail(ps, "duplicate code '%.*s%s' in REL TO at byte %zu", TOK(b, e), off(ps, b));
    if (nat != KZ_NATION_NONE)
        kz__bit_set(l->rel, nat);
    else
        l->tetra |= (uint64_t)1 << t;
    return KZ_OK;
}

/* The list after "REL TO": codes separated by commas. */
static int parse_codes(struct parser *ps, const char *b, const char *e)
{
    struct kz_label *l = ps->out;

    if (b == e)
        return fail(ps, "empty REL TO list at byte %zu", off(ps, b));
    for (;;) {
        const char *comma = memchr(b, ',', (size_t)(e - b));
        const char *te = comma != NULL ? comma : e, *tb = b, *blank;
        int rc;

        trim(&tb, &te);
        if (tb == te)
            return fail(ps, "empty code in REL TO list at byte %zu", off(ps, tb));
        blank = find_blank(tb, te);
        if (blank != NULL) {
            const char *nb = blank;
            trim(&nb, &te);
            return fail(ps, "missing comma between '%.*s%s' and '%.*s%s' at byte %zu",
                        TOK(tb, blank), TOK(nb, te), off(ps, blank));
        }
        rc = add_code(ps, tb, te);
        if (rc != KZ_OK)
            return rc;
        if (comma == NULL)
            break;
        b = comma + 1;
    }
    memcpy(l->release, l->rel, sizeof(l->release));
    for (unsigned t = 0; t < ps->p->tetra_count; t++)
        if ((l->tetra >> t) & 1u)
            for (int w = 0; w < KZ_NATION_WORDS; w++)
                l->release[w] |= ps->p->tetra[t].members[w];
    l->flags |= KZ_LABEL_F_REL;
    return KZ_OK;
}

/* "REL" then blanks then "TO", then a blank or the end; else not REL TO. */
static bool rel_to(const char *b, const char *e, const char **rest)
{
    const char *q = b + 3;

    if (e - b < 3 || !kz__name_eq("REL", b, 3) || (q < e && !kz__is_blank(*q)))
        return false;
    while (q < e && kz__is_blank(*q))
        q++;
    if (e - q < 2 || !kz__name_eq("TO", q, 2) || (q + 2 < e && !kz__is_blank(q[2])))
        return false;
    *rest = q + 2;
    return true;
}

static int parse_control(struct parser *ps, const char *b, const char *e)
{
    struct kz_label *l = ps->out;
    const char *rest;

    if (rel_to(b, e, &rest)) {
        if (l->flags & KZ_LABEL_F_REL)
            return fail(ps, "REL TO given twice (byte %zu)", off(ps, b));
        trim(&rest, &e);
        return parse_codes(ps, rest, e);
    }
    if (e - b >= 3 && kz__name_eq("REL", b, 3) && (e - b == 3 || kz__is_blank(b[3])))
        return fail(ps, "expected 'REL TO' at byte %zu", off(ps, b));
    for (size_t i = 0; i < kz__caveat_count; i++) {
        const struct kz__caveat *c = &kz__caveats[i];
        size_t len = (size_t)(e - b);
        if (!kz__name_eq(c->name, b, len) && (c->abbrev == NULL || !kz__name_eq(c->abbrev, b, len)))
            continue;
        if (l->caveats & c->bit)
            return fail(ps, "duplicate control '%s' at byte %zu", c->name, off(ps, b));
        l->caveats |= c->bit;
        return KZ_OK;
    }
    return fail(ps, "unknown dissemination control '%.*s%s' at byte %zu", TOK(b, e), off(ps, b));
}

/* Everything after the "//" that ends the level. */
static int parse_controls(struct parser *ps, const char *b, const char *e)
{
    const char *q = b, *tb = b, *te = e;
    int rc;

    if (b < e && *b == '/')
        return fail(ps, "'///' at byte %zu: expected a control after '//'", off(ps, b - 2));
    trim(&tb, &te);
    if (tb == te)
        return fail(ps, "trailing '//' at byte %zu with no control after it", off(ps, b - 2));
    q = find(b, e, "//");
    if (q != NULL) {
        const char *after = q + 2;
        trim(&after, &e);
        if (after == e)
            return fail(ps, "trailing '//' at byte %zu", off(ps, q));
        return fail(ps, "unexpected '//' at byte %zu: separate controls with '/'", off(ps, q));
    }
    for (;;) {
        const char *slash = memchr(b, '/', (size_t)(e - b));
        tb = b;
        te = slash != NULL ? slash : e;
        trim(&tb, &te);
        if (tb == te)
            return fail(ps,
                        slash != NULL ? "empty control before '/' at byte %zu"
                                      : "trailing '/' at byte %zu",
                        off(ps, slash != NULL ? slash : b - 1));
        rc = parse_control(ps, tb, te);
        if (rc != KZ_OK || slash == NULL)
            return rc;
        b = slash + 1;
    }
}

static int check_bytes(struct parser *ps, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(ps, "control byte 0x%02x at byte %zu", c, i);
    }
    return KZ_OK;
}

/* The level name in [b, e) (trimmed), CUI included. */
static int parse_level(struct parser *ps, const char *b, const char *e)
{
    struct kz_label *l = ps->out;
    const char *slash = memchr(b, '/', (size_t)(e - b));

    if (b == e)
        return fail(ps, "missing classification level before '//'");
    if (slash != NULL)
        return fail(ps, "single '/' at byte %zu: the level is followed by '//'", off(ps, slash));
    if (kz__name_eq("CUI", b, (size_t)(e - b))) {
        l->level = KZ_LEVEL_UNCLASSIFIED;
        l->caveats |= KZ_CAVEAT_CUI;
        return KZ_OK;
    }
    l->level = (uint8_t)kz__level_lookup(ps->p, b, (size_t)(e - b));
    if (l->level != KZ_LEVEL_INVALID)
        return KZ_OK;
    if (kz__name_eq("RESTRICTED", b, (size_t)(e - b)))
        return fail(ps,
                    "RESTRICTED is a foreign level with no equivalent in policy %s: map it in "
                    "labels.level_names (docs/labels.md)",
                    ps->p->name);
    return fail(ps, "unknown classification level '%.*s%s' in policy %s", TOK(b, e), ps->p->name);
}

/* Add nation `b..e` to the origins; `what` names the marking for messages. */
static int add_origin(struct parser *ps, const char *b, const char *e, const char *what)
{
    uint16_t nat = kz_nation_index(b, (size_t)(e - b));

    if (nat == KZ_NATION_NONE)
        return fail(ps, "unknown country code '%.*s%s' in %s at byte %zu", TOK(b, e), what,
                    off(ps, b));
    if (kz__bit(ps->out->origins, nat))
        return fail(ps, "duplicate code '%.*s%s' in %s at byte %zu", TOK(b, e), what, off(ps, b));
    kz__bit_set(ps->out->origins, nat);
    return KZ_OK;
}

/* Blank-separated country codes in [b, e). */
static int parse_origins(struct parser *ps, const char *b, const char *e, const char *what)
{
    while (b < e) {
        const char *te = find_blank(b, e);
        int rc = add_origin(ps, b, te != NULL ? te : e, what);
        if (rc != KZ_OK || te == NULL)
            return rc;
        b = te;
        trim(&b, &e);
    }
    return KZ_OK;
}

/* "JOINT LEVEL CCC CCC...": the codes are the trailing three-letter words. */
static int parse_joint(struct parser *ps, const char *b, const char *e)
{
    const char *le = e, *q;
    int rc;

    for (;;) {
        q = le;
        while (q > b && !kz__is_blank(q[-1]))
            q--;
        if (q == b || kz_nation_index(q, (size_t)(le - q)) == KZ_NATION_NONE)
            break;
        le = q;
        while (le > b && kz__is_blank(le[-1]))
            le--;
    }
    if ((rc = parse_level(ps, b, le)) != KZ_OK)
        return rc;
    trim(&le, &e);
    if ((rc = parse_origins(ps, le, e, "JOINT")) != KZ_OK)
        return rc;
    if (kz__count(ps->out->origins) < 2)
        return fail(ps, "JOINT needs two or more nations after the level");
    ps->out->mark = KZ_MARK_JOINT;
    return KZ_OK;
}

/* After a leading "//": "CCC LEVEL" (wholly foreign) or "JOINT LEVEL CCC...". */
static int parse_owner_head(struct parser *ps, const char *b, const char *e)
{
    const char *te = find_blank(b, e), *rest;
    int rc;

    if (te != NULL && kz__name_eq("JOINT", b, (size_t)(te - b))) {
        trim(&te, &e);
        return parse_joint(ps, te, e);
    }
    if (te == NULL || kz_nation_index(b, (size_t)(te - b)) == KZ_NATION_NONE)
        return fail(ps,
                    "expected a country code or JOINT at byte %zu: a banner opening with '//' "
                    "marks foreign information",
                    off(ps, b));
    if ((rc = add_origin(ps, b, te, "the foreign marking")) != KZ_OK)
        return rc;
    ps->out->mark = KZ_MARK_FOREIGN;
    rest = te;
    trim(&rest, &e);
    return parse_level(ps, rest, e);
}

/* "FGI CCC..." in [b, e) (trimmed); false (untouched) when it is not FGI. */
static bool is_fgi(const char *b, const char *e)
{
    return e - b >= 3 && kz__name_eq("FGI", b, 3) && (e - b == 3 || kz__is_blank(b[3]));
}

static int parse_fgi(struct parser *ps, const char *b, const char *e)
{
    const char *list = b + 3;
    int rc;

    if (ps->out->mark != KZ_MARK_NONE)
        return fail(ps, "FGI at byte %zu: foreign or JOINT information is not marked FGI",
                    off(ps, b));
    trim(&list, &e);
    if (list == e)
        return fail(ps, "empty FGI list at byte %zu", off(ps, b));
    if ((rc = parse_origins(ps, list, e, "FGI")) != KZ_OK)
        return rc;
    if (ps->p->home != KZ_NATION_NONE && kz__bit(ps->out->origins, ps->p->home))
        return fail(ps, "FGI lists %s, the policy's own nation", kz_nation_code(ps->p->home));
    ps->out->mark = KZ_MARK_FGI;
    return KZ_OK;
}

/* The categories after the level: [FGI ...//]controls. */
static int parse_after(struct parser *ps, const char *b, const char *e)
{
    const char *tb = b, *te = e, *sep;
    int rc;

    trim(&tb, &te);
    if (!is_fgi(tb, te))
        return parse_controls(ps, b, e);
    sep = find(tb, te, "//");
    if ((rc = parse_fgi(ps, tb, sep != NULL ? sep : te)) != KZ_OK || sep == NULL)
        return rc;
    return parse_controls(ps, sep + 2, e);
}

static int parse(struct parser *ps, const char *s, size_t len)
{
    const char *b = s, *e = s + len, *sep, *lb, *le;
    int rc = check_bytes(ps, s, len);

    if (rc != KZ_OK)
        return rc;
    trim(&b, &e);
    if (b == e)
        return fail(ps, "empty label");
    lb = b;
    if (e - b >= 2 && b[0] == '/' && b[1] == '/')
        lb = b + 2;
    sep = find(lb, e, "//");
    le = sep != NULL ? sep : e;
    trim(&lb, &le);
    if (lb == le)
        return fail(ps, "missing classification level before '//'");
    rc = lb != b ? parse_owner_head(ps, lb, le) : parse_level(ps, lb, le);
    if (rc == KZ_OK && sep != NULL)
        rc = parse_after(ps, sep + 2, e);
    return rc != KZ_OK ? rc : kz__label_check_rules(ps->p, ps->out, ps->err, ps->errlen);
}

int kz_label_parse(const struct kz_label_policy *p, const char *s, size_t len, struct kz_label *out,
                   char *err, size_t errlen)
{
    struct parser ps = {p, s, out, err, errlen};
    int rc;

    memset(out, 0, sizeof(*out));
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (len > KZ_LABEL_MAX_LEN) {
        fail(&ps, "label is %zu bytes, over the limit of %d", len, KZ_LABEL_MAX_LEN);
        return KZ_ERR_TOOBIG;
    }
    if (s == NULL)
        return fail(&ps, "empty label");
    out->policy = p->id;
    rc = parse(&ps, s, len);
    if (rc != KZ_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}
