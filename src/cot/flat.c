/*
 * flat.c - the common shape of <detail> content, recognised without expat.
 *
 * Most details are a few elements with plain attributes and perhaps a line
 * of text: <contact callsign="A"/><__group name="Cyan" role="HQ"/>
 * <remarks>hi</remarks>.  Setting up expat for a hundred bytes costs more
 * than the rest of an event's encoding, and every event's detail is scanned
 * once more on the way out (kz_cot_detail_split()).  This file recognises a
 * strict subset of XML content and reports what expat's handlers would be
 * told about it, with the same byte offsets; anything outside the subset is
 * "not flat" and the caller parses with expat as before.
 *
 * The subset: elements nested at most FLAT_DEPTH deep, names
 * [A-Za-z_][A-Za-z0-9_.-]*, at most FLAT_ATTS distinct attributes quoted
 * with ' or ", values of printable ASCII without '<' and '&' (so nothing is
 * normalised or replaced), text of printable ASCII, tab and newline without
 * '<', '&' and ']' (so no reference, no CDATA and no "]]>"), every end tag
 * matching.  No comments, instructions, CDATA, references, carriage returns
 * or non-ASCII bytes.  Everything it accepts is well-formed XML content that
 * expat reads the same: tests/unit/test_cot_flat.c and
 * tests/fuzz/fuzz_cot_flat.c compare the two.  Bounded: one pass to decide,
 * one to report, no allocation, a tag over FLAT_TAG bytes is "not flat".
 */
#include <string.h>

#include "cot/internal.h"

#define FLAT_DEPTH 8
#define FLAT_ATTS 16
#define FLAT_TAG 1024

struct walker {
    const char *p;
    size_t n, i, base;
    const struct kz__cot_flat_cb *cb; /* NULL: only decide */
    void *ud;
    struct {
        size_t at, len; /* the open element's name in p */
    } open[FLAT_DEPTH];
    unsigned depth;
};

static bool name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(unsigned char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static bool space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool text_char(unsigned char c)
{
    return (c >= 0x20 && c < 0x7f && c != '<' && c != '&' && c != ']') || c == '\t' || c == '\n';
}

static bool value_char(unsigned char c, char quote)
{
    return c >= 0x20 && c < 0x7f && c != '<' && c != '&' && c != (unsigned char)quote;
}

static size_t name_len(const struct walker *w)
{
    size_t i = w->i;

    if (i < w->n && name_start((unsigned char)w->p[i]))
        for (i++; i < w->n && name_char((unsigned char)w->p[i]);)
            i++;
    return i - w->i;
}

static void skip_space(struct walker *w)
{
    while (w->i < w->n && space((unsigned char)w->p[w->i]))
        w->i++;
}

/* A start tag's name and attributes: where they are in the input. */
struct tag {
    size_t name_at, name_len;
    struct {
        size_t at, len, vat, vlen;
    } att[FLAT_ATTS];
    unsigned n_atts;
};

/* One attribute at w->i: name S? '=' S? quoted value. */
static bool attribute(struct walker *w, struct tag *t)
{
    size_t an = name_len(w), at = w->i;

    if (!an || t->n_atts == FLAT_ATTS)
        return false;
    w->i += an;
    skip_space(w);
    if (w->i >= w->n || w->p[w->i] != '=')
        return false;
    w->i++;
    skip_space(w);
    if (w->i >= w->n || (w->p[w->i] != '"' && w->p[w->i] != '\''))
        return false;
    char quote = w->p[w->i++];
    size_t vat = w->i;
    while (w->i < w->n && value_char((unsigned char)w->p[w->i], quote))
        w->i++;
    if (w->i >= w->n || w->p[w->i] != quote)
        return false;
    size_t vn = w->i++ - vat;
    for (unsigned k = 0; k < t->n_atts; k++)
        if (t->att[k].len == an && memcmp(w->p + t->att[k].at, w->p + at, an) == 0)
            return false; /* a duplicate: expat refuses it */
    t->att[t->n_atts].at = at, t->att[t->n_atts].len = an;
    t->att[t->n_atts].vat = vat, t->att[t->n_atts].vlen = vn;
    t->n_atts++;
    return true;
}

/* Report a start tag, its strings copied NUL-terminated as expat hands them over. */
static bool report_start(struct walker *w, const struct tag *t, size_t at)
{
    char buf[FLAT_TAG], *end = buf;
    const char *atts[2 * FLAT_ATTS + 1];
    size_t need = t->name_len + 1;

    for (unsigned k = 0; k < t->n_atts; k++)
        need += t->att[k].len + t->att[k].vlen + 2;
    if (need > sizeof(buf))
        return false;
    if (!w->cb)
        return true;
    const char *name = end;
    memcpy(end, w->p + t->name_at, t->name_len), end += t->name_len, *end++ = '\0';
    for (unsigned k = 0; k < t->n_atts; k++) {
        atts[2 * k] = end;
        memcpy(end, w->p + t->att[k].at, t->att[k].len), end += t->att[k].len, *end++ = '\0';
        atts[2 * k + 1] = end;
        memcpy(end, w->p + t->att[k].vat, t->att[k].vlen), end += t->att[k].vlen, *end++ = '\0';
    }
    atts[2 * t->n_atts] = NULL;
    w->cb->start(w->ud, name, atts, w->base + at, w->i - at);
    return true;
}

/* A start tag at w->i ("<" and a name). */
static bool start_tag(struct walker *w)
{
    struct tag t;
    size_t at = w->i++;

    t.name_at = w->i, t.name_len = name_len(w), t.n_atts = 0;
    if (!t.name_len)
        return false;
    w->i += t.name_len;
    for (;;) {
        size_t before = w->i;
        skip_space(w);
        if (w->i >= w->n)
            return false;
        if (w->p[w->i] == '/' || w->p[w->i] == '>')
            break;
        if (w->i == before || !attribute(w, &t)) /* attributes follow white space */
            return false;
    }
    bool empty = w->p[w->i] == '/';
    if (empty && (++w->i >= w->n || w->p[w->i] != '>'))
        return false;
    w->i++;
    if (!empty && w->depth == FLAT_DEPTH)
        return false;
    /* Deciding, the tag is only measured; reporting, the same tag then fits. */
    if (!report_start(w, &t, at))
        return false;
    if (empty) {
        if (w->cb)
            w->cb->end(w->ud, w->base + w->i, 0); /* as expat: no bytes of its own */
        return true;
    }
    w->open[w->depth].at = t.name_at, w->open[w->depth].len = t.name_len;
    w->depth++;
    return true;
}

/* An end tag at w->i ("</"), closing the open element. */
static bool end_tag(struct walker *w)
{
    size_t at = w->i;

    if (!w->depth)
        return false;
    w->i += 2;
    size_t nl = name_len(w);
    if (nl != w->open[w->depth - 1].len || memcmp(w->p + w->i, w->p + w->open[w->depth - 1].at, nl))
        return false;
    w->i += nl;
    skip_space(w);
    if (w->i >= w->n || w->p[w->i] != '>')
        return false;
    w->i++;
    w->depth--;
    if (w->cb)
        w->cb->end(w->ud, w->base + at, w->i - at);
    return true;
}

static bool walk(struct walker *w)
{
    while (w->i < w->n) {
        if (w->p[w->i] != '<') {
            size_t at = w->i;
            while (w->i < w->n && text_char((unsigned char)w->p[w->i]))
                w->i++;
            if (w->i == at)
                return false;
            if (w->cb)
                w->cb->text(w->ud, w->p + at, w->i - at);
        } else if (w->i + 1 < w->n && w->p[w->i + 1] == '/') {
            if (!end_tag(w))
                return false;
        } else if (!start_tag(w)) {
            return false;
        }
    }
    return w->depth == 0;
}

bool kz__cot_flat_walk(const char *content, size_t len, size_t base,
                       const struct kz__cot_flat_cb *cb, void *ud)
{
    struct walker decide = {.p = content, .n = len};

    if (!walk(&decide))
        return false;
    struct walker report = {.p = content, .n = len, .base = base, .cb = cb, .ud = ud};
    walk(&report);
    return true;
}
