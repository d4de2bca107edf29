/*
 * flat_check.h - flat.c against expat, shared by tests/unit/test_cot_flat.c
 * and tests/fuzz/fuzz_cot_flat.c.  flat_check(content) traps (returns
 * false) when kz__cot_flat_walk() accepts content that expat refuses, or
 * reports other events than expat's handlers get for "<detail>" + content +
 * "</detail>"; and kz_cot_detail_split() must give what the expat-only split
 * gives, for both tables of typed kinds.
 */
#ifndef KZ_TEST_FLAT_CHECK_H
#define KZ_TEST_FLAT_CHECK_H

#include <expat.h>
#include <string.h>

#include "cot/internal.h"

/* The event stream as text: "S name a=v ... @at+len", "E @at+len", "T text" (runs merged). */
struct flat_rec {
    struct kz_sbuf log;
    bool in_text;
    XML_Parser xp;
    size_t base; /* subtracted from offsets: both report offsets in the same document */
};

static void rec_start(struct flat_rec *r, const char *name, const char **atts, size_t at,
                      size_t len)
{
    r->in_text = false;
    kz_sbuf_addf(&r->log, "\nS %s", name);
    for (size_t i = 0; atts[i]; i += 2)
        kz_sbuf_addf(&r->log, " %s=[%s]", atts[i], atts[i + 1]);
    kz_sbuf_addf(&r->log, " @%zu+%zu", at, len);
}

static void rec_end(struct flat_rec *r, size_t at, size_t len)
{
    r->in_text = false;
    if (len)
        kz_sbuf_addf(&r->log, "\nE @%zu+%zu", at, len);
    else
        kz_sbuf_adds(&r->log, "\nE empty");
}

static void rec_text(struct flat_rec *r, const char *s, size_t len)
{
    if (!r->in_text)
        kz_sbuf_adds(&r->log, "\nT ");
    r->in_text = true;
    kz_sbuf_add(&r->log, s, len);
}

static void flat_start_cb(void *ud, const char *name, const char **atts, size_t at, size_t len)
{
    rec_start(ud, name, atts, at, len);
}

static void flat_end_cb(void *ud, size_t at, size_t len)
{
    rec_end(ud, at, len);
}

static void flat_text_cb(void *ud, const char *s, size_t len)
{
    rec_text(ud, s, len);
}

static void XMLCALL x_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct flat_rec *r = ud;

    if (strcmp(name, "detail") == 0 && XML_GetCurrentByteIndex(r->xp) == 0)
        return; /* the wrapper */
    rec_start(r, name, atts, (size_t)XML_GetCurrentByteIndex(r->xp),
              (size_t)XML_GetCurrentByteCount(r->xp));
}

static void XMLCALL x_end(void *ud, const XML_Char *name)
{
    struct flat_rec *r = ud;
    int n = XML_GetCurrentByteCount(r->xp);

    KZ_UNUSED(name);
    if (n == 9 && strcmp(name, "detail") == 0 &&
        XML_GetCurrentByteIndex(r->xp) + 9 == (XML_Index)r->base)
        return; /* the wrapper's end */
    rec_end(r, (size_t)XML_GetCurrentByteIndex(r->xp), (size_t)n);
}

static void XMLCALL x_text(void *ud, const XML_Char *s, int len)
{
    rec_text(ud, s, (size_t)len);
}

/* The split of `content` both ways must be the same. */
static bool flat_same_split(const char *content, size_t len, const struct kz_cot_typed *kinds,
                            unsigned n)
{
    struct kz_cot_split a, b;
    int ra = kz__cot_detail_split_with(content, len, kinds, n, &a, true);
    int rb = kz__cot_detail_split_with(content, len, kinds, n, &b, false);
    bool same = ra == rb && a.rest.len == b.rest.len &&
                (a.rest.len == 0 || memcmp(a.rest.buf, b.rest.buf, a.rest.len) == 0);

    for (unsigned k = 0; same && k < n; k++) {
        const struct kz_cot_typed_val *x = &a.v[k], *y = &b.v[k];
        same = x->present == y->present && x->n_items == y->n_items &&
               memcmp(x->num, y->num, sizeof(x->num)) == 0;
        for (unsigned j = 0; same && j < KZ_COT_TYPED_ATTS; j++)
            same =
                (x->s[j] == NULL) == (y->s[j] == NULL) && (!x->s[j] || !strcmp(x->s[j], y->s[j]));
        for (unsigned j = 0; same && j < x->n_items; j++)
            same = x->which[j] == y->which[j] && strcmp(x->items[j], y->items[j]) == 0;
    }
    kz_cot_split_release(&a);
    kz_cot_split_release(&b);
    return same;
}

static const struct kz_cot_typed flat_kinds_a[] = {
    {"contact", NULL, {"endpoint", "callsign"}, 2, 1u, KZ_TYPED_TEXT, false},
    {"__group", NULL, {"name", "role"}, 2, 0, KZ_TYPED_TEXT, false},
    {"status", NULL, {"battery"}, 1, 0, KZ_TYPED_UINT31, false},
    {"track", NULL, {"speed", "course"}, 2, 0, KZ_TYPED_REAL, false},
};
static const struct kz_cot_typed flat_kinds_b[] = {
    {"contact", NULL, {"callsign", "phone"}, 2, 2u, KZ_TYPED_TEXT, true},
    {"marti", "dest", {"uid", "callsign", "mission"}, 3, 0, KZ_TYPED_TEXT, false},
    {"link", NULL, {"uid", "type", "relation"}, 3, 6u, KZ_TYPED_TEXT, false},
};

static bool flat_check(const char *content, size_t len)
{
    static const struct kz__cot_flat_cb cb = {flat_start_cb, flat_end_cb, flat_text_cb};
    struct flat_rec f = {.log = KZ_SBUF_INIT}, x = {.log = KZ_SBUF_INIT};
    struct kz_sbuf doc = KZ_SBUF_INIT;
    bool ok = true;

    if (kz__cot_flat_walk(content, len, 8, &cb, &f)) {
        kz_sbuf_adds(&doc, "<detail>");
        kz_sbuf_add(&doc, content, len);
        kz_sbuf_adds(&doc, "</detail>");
        x.xp = XML_ParserCreate("UTF-8");
        x.base = doc.len;
        XML_SetUserData(x.xp, &x);
        XML_SetElementHandler(x.xp, x_start, x_end);
        XML_SetCharacterDataHandler(x.xp, x_text);
        ok = XML_Parse(x.xp, doc.buf, (int)doc.len, XML_TRUE) == XML_STATUS_OK &&
             f.log.len == x.log.len && (f.log.len == 0 || !memcmp(f.log.buf, x.log.buf, f.log.len));
        XML_ParserFree(x.xp);
    }
    ok = ok && flat_same_split(content, len, flat_kinds_a, KZ_ARRAY_LEN(flat_kinds_a)) &&
         flat_same_split(content, len, flat_kinds_b, KZ_ARRAY_LEN(flat_kinds_b));
    kz_sbuf_release(&doc);
    kz_sbuf_release(&f.log);
    kz_sbuf_release(&x.log);
    return ok;
}

#endif
