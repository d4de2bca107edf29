/*
 * detail.c - TAK typed <detail> children: split the inner XML of <detail>
 * into the elements a protobuf message carries in typed fields and the rest,
 * and join them back.  Shared by the TAK protocol v1 codec (proto.c) and the
 * federation wire (src/fed/wire.c), each with its own table of kinds.
 *
 * An element moves only when it appears once and fits its kind exactly (see
 * struct kz_cot_typed), so the join rebuilds every element, attribute and
 * value; moved elements come back at the end of <detail> and their numbers
 * in the shortest form ("0.0" becomes "0").  The content is scanned by
 * expat.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "cot/internal.h"

/* What the scan learned about one kind of typed element. */
struct found {
    unsigned count;    /* top-level occurrences */
    bool movable;      /* the first one fits the kind */
    size_t start, end; /* the first one's bytes in the scanned document */
    size_t tag_end;    /* end of its start tag */
    unsigned cap;      /* list kinds: room in v.items / v.which */
};

struct scan {
    XML_Parser xp;
    unsigned depth;
    int open; /* kind of the open top-level child if it is a first one */
    const struct kz_cot_typed *kinds;
    unsigned n;
    struct found f[KZ_COT_TYPED_MAX];
    struct kz_cot_typed_val *v; /* values by kind (the caller's) */
};

static int kind_of(const struct scan *s, const char *name)
{
    for (unsigned k = 0; k < s->n; k++)
        if (strcmp(name, s->kinds[k].elem) == 0)
            return (int)k;
    return -1;
}

/*
 * A number the typed field holds without loss.  Its spelling may change
 * ("0.0" arrives as "0"), its value does not; anything else stays XML.
 */
static bool exact_number(enum kz_cot_typed_num num, const char *v, double *out)
{
    char *end;

    if (!*v || *v == ' ' || *v == '+')
        return false;
    errno = 0;
    if (num == KZ_TYPED_UINT31) {
        unsigned long long n = strtoull(v, &end, 10);
        *out = (double)n;
        return !*end && !errno && *v != '-' && n <= INT32_MAX;
    }
    *out = strtod(v, &end);
    return !*end && !errno && isfinite(*out);
}

static int att_index(const struct kz_cot_typed *d, const char *name)
{
    for (unsigned j = 0; j < d->n_atts; j++)
        if (strcmp(name, d->atts[j]) == 0)
            return (int)j;
    return -1;
}

/* Every attribute is one the kind holds, every required one is there. */
static bool take_atts(const struct kz_cot_typed *d, struct kz_cot_typed_val *v, const char **atts)
{
    unsigned seen = 0;

    for (size_t i = 0; atts[i]; i += 2) {
        int j = att_index(d, atts[i]);
        if (j < 0)
            return false;
        if ((d->optional >> j & 1u) && !*atts[i + 1])
            return false; /* "" and absent look the same in proto3 */
        if (d->num != KZ_TYPED_TEXT && !exact_number(d->num, atts[i + 1], &v->num[j]))
            return false;
        seen |= 1u << j;
        v->s[j] = kz_xstrdup(atts[i + 1]);
    }
    return (seen | d->optional) == (1u << d->n_atts) - 1;
}

/* One <child att="value"/> of a list kind, in the order of the kind's atts. */
static bool take_item(struct scan *s, int k, const char *name, const char **atts)
{
    const struct kz_cot_typed *d = &s->kinds[k];
    struct kz_cot_typed_val *v = &s->v[k];
    struct found *f = &s->f[k];

    if (strcmp(name, d->child) != 0 || !atts[0] || atts[2] || !*atts[1])
        return false;
    int j = att_index(d, atts[0]);
    if (j < 0 || (v->n_items && v->which[v->n_items - 1] > (unsigned)j))
        return false;
    if (v->n_items == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 4;
        v->items = kz_xrealloc(v->items, f->cap * sizeof(*v->items));
        v->which = kz_xrealloc(v->which, f->cap * sizeof(*v->which));
    }
    v->items[v->n_items] = kz_xstrdup(atts[1]);
    v->which[v->n_items++] = (unsigned)j;
    return true;
}

/* A start tag at byte `at` of the scanned document, `count` bytes long. */
static void start_at(struct scan *s, const char *name, const char **atts, size_t at, size_t count)
{
    if (++s->depth != 2) {
        if (s->depth > 2 && s->open >= 0 &&
            (s->depth > 3 || !s->kinds[s->open].child || !take_item(s, s->open, name, atts)))
            s->f[s->open].movable = false;
        return;
    }
    int k = kind_of(s, name);
    s->open = -1;
    if (k < 0 || ++s->f[k].count > 1)
        return;
    struct found *f = &s->f[k];
    f->start = at;
    f->tag_end = at + count;
    f->movable = s->kinds[k].child ? !atts[0] : take_atts(&s->kinds[k], &s->v[k], atts);
    s->open = k;
}

/* An end tag at `at`, `count` bytes long (0: the end of an empty-element tag). */
static void end_at(struct scan *s, size_t at, size_t count)
{
    if (s->depth-- != 2 || s->open < 0)
        return;
    struct found *f = &s->f[s->open];
    f->end = count ? at + count : f->tag_end;
    if (s->kinds[s->open].child && !s->v[s->open].n_items)
        f->movable = false;
    s->open = -1;
}

static void XMLCALL scan_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct scan *s = ud;

    start_at(s, name, atts, (size_t)XML_GetCurrentByteIndex(s->xp),
             (size_t)XML_GetCurrentByteCount(s->xp));
}

static void XMLCALL scan_end(void *ud, const XML_Char *name)
{
    struct scan *s = ud;

    KZ_UNUSED(name);
    /* expat reports no bytes for the end of an empty-element tag. */
    end_at(s, (size_t)XML_GetCurrentByteIndex(s->xp), (size_t)XML_GetCurrentByteCount(s->xp));
}

/* Text, comments, CDATA or instructions inside a typed element keep it XML. */
static void XMLCALL scan_text(void *ud, const XML_Char *t, int len)
{
    struct scan *s = ud;

    KZ_UNUSED(t), KZ_UNUSED(len);
    if (s->depth >= 2 && s->open >= 0)
        s->f[s->open].movable = false;
}

static void XMLCALL scan_comment(void *ud, const XML_Char *t)
{
    scan_text(ud, t, 0);
}

static void XMLCALL scan_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    KZ_UNUSED(data);
    scan_text(ud, target, 0);
}

static void XMLCALL scan_cdata(void *ud)
{
    scan_text(ud, NULL, 0);
}

/*
 * Scan "<detail>" + content + "</detail>" into s (values into v), offsets
 * in that document, with expat.  KZ_OK, or KZ_ERR_PARSE with the reason in err.
 */
static int scan_detail(struct scan *s, const char *content, size_t len, char *err, size_t errlen)
{
    struct kz_sbuf doc = KZ_SBUF_INIT;
    int rc = KZ_OK;

    s->open = -1;
    s->depth = 0;
    kz_sbuf_adds(&doc, "<detail>");
    kz_sbuf_add(&doc, content, len);
    kz_sbuf_adds(&doc, "</detail>");
    s->xp = kz__cot_xml_parser();
    XML_SetUserData(s->xp, s);
    XML_SetElementHandler(s->xp, scan_start, scan_end);
    XML_SetCharacterDataHandler(s->xp, scan_text);
    XML_SetCommentHandler(s->xp, scan_comment);
    XML_SetProcessingInstructionHandler(s->xp, scan_pi);
    XML_SetStartCdataSectionHandler(s->xp, scan_cdata);
    if (doc.len > INT32_MAX || XML_Parse(s->xp, doc.buf, (int)doc.len, XML_TRUE) != XML_STATUS_OK) {
        if (err && errlen)
            snprintf(err, errlen, "detail is not well-formed XML: %s",
                     XML_ErrorString(XML_GetErrorCode(s->xp)));
        rc = KZ_ERR_PARSE;
    }
    XML_ParserFree(s->xp);
    s->xp = NULL;
    kz_sbuf_release(&doc);
    return rc;
}

/* A kind whose proto3 fields would all read as absent cannot move. */
static bool has_value(const struct kz_cot_typed *d, const struct kz_cot_typed_val *v)
{
    if (!d->not_default || d->child)
        return true;
    for (unsigned j = 0; j < d->n_atts; j++)
        if (d->num == KZ_TYPED_TEXT ? v->s[j] && *v->s[j] : v->num[j] != 0)
            return true;
    return false;
}

static void val_release(struct kz_cot_typed_val *v)
{
    /* Most of a split's eight kinds hold nothing: no call to free() for them. */
    for (unsigned j = 0; j < KZ_COT_TYPED_ATTS; j++)
        if (v->s[j])
            free(v->s[j]);
    if (v->items || v->which) {
        for (unsigned i = 0; i < v->n_items; i++)
            free(v->items[i]);
        free(v->items);
        free(v->which);
    }
    memset(v, 0, sizeof(*v));
}

/* The content without the moved elements (offsets in the doc are shifted by 8). */
static void leftover(const struct scan *s, const struct kz_cot_split *sp, const char *detail,
                     size_t len, struct kz_sbuf *rest)
{
    size_t at = 0;

    for (;;) {
        int next = -1;
        for (unsigned k = 0; k < s->n; k++)
            if (sp->v[k].present && s->f[k].start - 8 >= at &&
                (next < 0 || s->f[k].start < s->f[next].start))
                next = (int)k;
        if (next < 0)
            break;
        kz_sbuf_add(rest, detail + at, s->f[next].start - 8 - at);
        at = s->f[next].end - 8;
    }
    kz_sbuf_add(rest, detail + at, len - at);
}

int kz_cot_detail_split(const char *detail, size_t len, const struct kz_cot_typed *kinds,
                        unsigned n, struct kz_cot_split *out)
{
    struct scan s = {.kinds = kinds, .n = n < KZ_COT_TYPED_MAX ? n : KZ_COT_TYPED_MAX};

    memset(out, 0, sizeof(*out));
    s.v = out->v;
    int rc = scan_detail(&s, detail, len, NULL, 0);
    for (unsigned k = 0; k < s.n; k++) {
        out->v[k].present =
            rc == KZ_OK && s.f[k].count == 1 && s.f[k].movable && has_value(&kinds[k], &out->v[k]);
        if (!out->v[k].present)
            val_release(&out->v[k]);
    }
    leftover(&s, out, detail, len, &out->rest);
    return rc;
}

void kz_cot_split_release(struct kz_cot_split *s)
{
    for (unsigned k = 0; k < KZ_COT_TYPED_MAX; k++)
        val_release(&s->v[k]);
    kz_sbuf_release(&s->rest);
}

/* ---- join ---------------------------------------------------------------- */

static void add_plain(struct kz_sbuf *x, const struct kz_cot_typed *d,
                      const struct kz_cot_typed_val *v)
{
    char num[KZ__COT_NUMLEN];

    kz_sbuf_adds(x, "<");
    kz_sbuf_adds(x, d->elem);
    for (unsigned i = 0; i < d->n_atts; i++) {
        if (d->num != KZ_TYPED_TEXT) {
            kz__cot_fmt_num(v->num[i], num);
            kz__cot_add_attr(x, d->atts[i], num);
        } else if (!((d->optional >> i & 1u) && (!v->s[i] || !*v->s[i]))) {
            kz__cot_add_attr(x, d->atts[i], v->s[i] ? v->s[i] : "");
        }
    }
    kz_sbuf_adds(x, "/>");
}

static void add_list(struct kz_sbuf *x, const struct kz_cot_typed *d,
                     const struct kz_cot_typed_val *v)
{
    kz_sbuf_adds(x, "<");
    kz_sbuf_adds(x, d->elem);
    kz_sbuf_adds(x, ">");
    for (unsigned i = 0; i < v->n_items; i++) {
        kz_sbuf_adds(x, "<");
        kz_sbuf_adds(x, d->child);
        kz__cot_add_attr(x, d->atts[v->which[i] % d->n_atts], v->items[i]);
        kz_sbuf_adds(x, "/>");
    }
    kz_sbuf_adds(x, "</");
    kz_sbuf_adds(x, d->elem);
    kz_sbuf_adds(x, ">");
}

int kz_cot_detail_join(const char *rest, size_t len, const struct kz_cot_typed *kinds, unsigned n,
                       const struct kz_cot_typed_val *vals, struct kz_sbuf *out, char *err,
                       size_t errlen)
{
    struct kz_cot_typed_val scratch[KZ_COT_TYPED_MAX] = {0};
    struct scan s = {.kinds = kinds, .n = n < KZ_COT_TYPED_MAX ? n : KZ_COT_TYPED_MAX};

    s.v = scratch;
    int rc = scan_detail(&s, rest, len, err, errlen);
    for (unsigned k = 0; k < KZ_COT_TYPED_MAX; k++)
        val_release(&scratch[k]);
    if (rc != KZ_OK)
        return rc;
    kz_sbuf_add(out, rest, len);
    for (unsigned k = 0; k < s.n; k++) {
        if (!vals[k].present || s.f[k].count)
            continue;
        kz__cot_typed_xml(out, &kinds[k], &vals[k]);
    }
    return KZ_OK;
}

void kz__cot_typed_xml(struct kz_sbuf *out, const struct kz_cot_typed *d,
                       const struct kz_cot_typed_val *v)
{
    if (d->child)
        add_list(out, d, v);
    else
        add_plain(out, d, v);
}
