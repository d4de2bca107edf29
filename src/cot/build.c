/*
 * build.c - an event given as typed parts (TAK protocol v1 CotEvent,
 * federation GeoEvent) straight into struct kz_event.
 *
 * It used to be written out as an <event> document and parsed back with
 * kz_cot_decode(); kz_cot_build() gives the same result for a fraction of
 * the work, and so has to follow that document exactly:
 *
 * - every attribute value is what the encoder's escaping reads back as
 *   (kz__cot_attr_readback()), and goes through the decoder's own checks
 *   (kz__cot_event_attrs(), kz__cot_point_attrs()) as the text the encoder
 *   would have written (ISO times, shortest numbers);
 * - the detail content is parsed once with expat, as "<detail>" + content +
 *   "</detail>" like kz_cot_detail_join() did: well-formedness, the
 *   top-level elements that keep a typed one out, element depth, comments
 *   and processing instructions (cut from ev->detail) and the server fields
 *   (contact, __group, link, __chat, remarks, marti/dest: the same rules as
 *   fields.c, shared with decode.c);
 * - each typed element appended after the content is written as the join
 *   writes it and read for the server fields from its values;
 * - the checks run in the order the old path met them: detail well-formed,
 *   the document's size, event attributes, point, depth, "</event", the
 *   canonical size.
 * tests/unit/test_fed_wire_direct.c holds the old path and compares the two.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/internal.h"

/* What kz_cot_encode_xml() writes before "<event". */
#define PROLOGUE "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
/* Bytes of the "<detail>" the content is parsed inside. */
#define OPEN_LEN 8

struct build {
    XML_Parser xp;
    const struct kz_cot_limits *lim;
    const struct kz_cot_parts *p;
    struct kz_event *ev;
    unsigned depth;                   /* of the open element in the event: <detail> is 2 */
    unsigned deepest;                 /* deepest element met (the point: 2) */
    unsigned count[KZ_COT_TYPED_MAX]; /* top-level elements of each kind in the content */
    struct kz__cot_fields f;          /* the server's fields from <detail> (fields.c) */
    struct cut {
        size_t start, end; /* in p->detail */
    } * cuts;
    unsigned n_cuts, cuts_cap;
};

/* ---- attribute values ------------------------------------------------- */

/* Characters the encoder writes as they are or as references (see encode.c add_attr_value()). */
static bool carried(uint32_t c)
{
    return c >= 0x20 ? c != 0xFFFE && c != 0xFFFF : c == 0x9 || c == 0xA || c == 0xD;
}

const char *kz__cot_attr_readback(const char *value, struct kz_sbuf *tmp)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t n = strlen(value), i = 0, run = 0;

    while (i < n && s[i] >= 0x20 && s[i] < 0x80)
        i++;
    if (i == n)
        return value;
    kz_sbuf_reset(tmp);
    while (i < n) {
        uint32_t c = s[i];
        size_t len = 1;
        if (c >= 0x80)
            len = kz_utf8_seq(s + i, n - i, &c);
        if (len && carried(c)) {
            i += len;
            continue;
        }
        kz_sbuf_add(tmp, value + run, i - run);
        kz_sbuf_adds(tmp, "\xEF\xBF\xBD");
        i += len ? len : 1;
        run = i;
    }
    kz_sbuf_add(tmp, value + run, n - run);
    return tmp->buf;
}

/* A start tag at b->depth, from the content or a typed element. */
static void element(struct build *b, const char *name, const char **atts)
{
    if (b->depth > b->deepest)
        b->deepest = b->depth;
    kz__cot_fields_start(&b->f, b->depth, name, atts);
}

static void element_end(struct build *b)
{
    kz__cot_fields_end(&b->f, b->depth);
    b->depth--;
}

/* ---- the detail content, with expat ----------------------------------- */

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct build *b = ud;

    if (++b->depth == 3)
        for (unsigned k = 0; k < b->p->n_kinds; k++)
            if (strcmp(name, b->p->kinds[k].elem) == 0)
                b->count[k]++;
    element(b, name, atts);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    KZ_UNUSED(name);
    element_end(ud);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct build *b = ud;

    if (len > 0)
        kz__cot_fields_text(&b->f, b->depth, s, (size_t)len);
}

/* A comment or processing instruction: left out of ev->detail. */
static void cut_here(struct build *b)
{
    if (b->n_cuts == b->cuts_cap) {
        b->cuts_cap = b->cuts_cap ? b->cuts_cap * 2 : 4;
        b->cuts = kz_xrealloc(b->cuts, b->cuts_cap * sizeof(*b->cuts));
    }
    size_t at = (size_t)XML_GetCurrentByteIndex(b->xp) - OPEN_LEN;
    b->cuts[b->n_cuts++] = (struct cut){at, at + (size_t)XML_GetCurrentByteCount(b->xp)};
}

static void XMLCALL on_comment(void *ud, const XML_Char *data)
{
    KZ_UNUSED(data);
    cut_here(ud);
}

static void XMLCALL on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    KZ_UNUSED(target), KZ_UNUSED(data);
    cut_here(ud);
}

/* The content, as "<detail>" + content + "</detail>", with expat. */
static int scan(struct build *b, struct kz__cot_err *e)
{
    struct kz_sbuf doc = KZ_SBUF_INIT;
    int rc = KZ_OK;

    kz_sbuf_grow(&doc, b->p->detail_len + 18);
    kz_sbuf_adds(&doc, "<detail>");
    kz_sbuf_add(&doc, b->p->detail, b->p->detail_len);
    kz_sbuf_adds(&doc, "</detail>");
    XML_ParserReset(b->xp, "UTF-8");
    XML_SetHashSalt(b->xp, kz__cot_hash_salt());
    XML_SetUserData(b->xp, b);
    XML_SetElementHandler(b->xp, on_start, on_end);
    XML_SetCharacterDataHandler(b->xp, on_text);
    XML_SetCommentHandler(b->xp, on_comment);
    XML_SetProcessingInstructionHandler(b->xp, on_pi);
    b->depth = 1;
    if (doc.len > INT32_MAX || XML_Parse(b->xp, doc.buf, (int)doc.len, XML_TRUE) != XML_STATUS_OK)
        rc = kz__cot_fail(e, KZ_REJ_XML, "detail is not well-formed XML: %s",
                          XML_ErrorString(XML_GetErrorCode(b->xp)));
    kz_sbuf_release(&doc);
    return rc;
}

/* ---- typed elements --------------------------------------------------- */

/* The server fields of one typed element, from the attributes the join writes for it. */
static void typed_fields(struct build *b, const struct kz_cot_typed *d,
                         const struct kz_cot_typed_val *v)
{
    struct kz_sbuf tmp[KZ_COT_TYPED_ATTS] = {KZ_SBUF_INIT, KZ_SBUF_INIT, KZ_SBUF_INIT,
                                             KZ_SBUF_INIT};
    char num[KZ_COT_TYPED_ATTS][KZ__COT_NUMLEN];
    const char *atts[2 * KZ_COT_TYPED_ATTS + 1];
    size_t n = 0;
    /* Only these elements' attributes give server fields (fields.c). */
    bool read = !d->child && (strcmp(d->elem, "contact") == 0 || strcmp(d->elem, "__group") == 0 ||
                              strcmp(d->elem, "link") == 0 || strcmp(d->elem, "__chat") == 0);

    for (unsigned i = 0; read && i < d->n_atts && i < KZ_COT_TYPED_ATTS; i++) {
        const char *s = num[i];
        if (d->num != KZ_TYPED_TEXT)
            kz__cot_fmt_num(v->num[i], num[i]);
        else if ((d->optional >> i & 1u) && (!v->s[i] || !*v->s[i]))
            continue;
        else
            s = kz__cot_attr_readback(v->s[i] ? v->s[i] : "", &tmp[i]);
        atts[n++] = d->atts[i], atts[n++] = s;
    }
    atts[n] = NULL;
    b->depth = 3;
    element(b, d->elem, atts);
    for (unsigned i = 0; d->child && i < v->n_items; i++) {
        const char *item[3] = {d->atts[v->which[i] % d->n_atts],
                               kz__cot_attr_readback(v->items[i], &tmp[0]), NULL};
        b->depth = 4;
        element(b, d->child, item);
        element_end(b);
    }
    element_end(b);
    for (unsigned i = 0; i < KZ_COT_TYPED_ATTS; i++)
        kz_sbuf_release(&tmp[i]);
}

/* The detail as the old path wrote it: the content, then the typed elements it lacks. */
static void add_typed(struct build *b, struct kz_sbuf *detail)
{
    const struct kz_cot_parts *p = b->p;

    kz_sbuf_add(detail, p->detail, p->detail_len);
    for (unsigned k = 0; k < p->n_kinds && k < KZ_COT_TYPED_MAX; k++) {
        if (!p->vals[k].present || b->count[k])
            continue;
        kz__cot_typed_xml(detail, &p->kinds[k], &p->vals[k]);
        typed_fields(b, &p->kinds[k], &p->vals[k]);
    }
}

/* ---- the event -------------------------------------------------------- */

/* Bytes of the document the old path parsed, from "<event" on. */
static int check_doc_size(struct build *b, const struct kz_sbuf *detail, struct kz__cot_err *e)
{
    const struct kz_cot_parts *p = b->p;
    const char *const values[] = {p->uid, p->type, p->how, p->access, p->qos, p->opex};
    struct kz_event t;

    if (kz__cot_xml_size_bound(values, KZ_ARRAY_LEN(values), 3, detail->len) <=
        b->lim->max_event_bytes)
        return KZ_OK;

    kz_event_init(&t);
    /* Borrowed for counting only: never cleared. */
    t.uid = (char *)p->uid, t.type = (char *)p->type, t.how = (char *)p->how;
    t.access = (char *)p->access, t.qos = (char *)p->qos, t.opex = (char *)p->opex;
    t.time = p->time, t.start = p->start, t.stale = p->stale;
    t.lat = p->lat, t.lon = p->lon, t.hae = p->hae, t.ce = p->ce, t.le = p->le;
    if (p->detail)
        t.detail = detail->buf ? detail->buf : (char *)"", t.detail_len = detail->len;
    size_t size = kz__cot_xml_size_reserved(&t, 0) - (sizeof(PROLOGUE) - 1);
    if (size <= b->lim->max_event_bytes)
        return KZ_OK;
    kz__cot_fail(e, KZ_REJ_TOO_BIG, "event of %zu bytes exceeds the limit of %zu", size,
                 b->lim->max_event_bytes);
    return KZ_ERR_TOOBIG;
}

static int depth_fail(struct build *b, struct kz__cot_err *e)
{
    return kz__cot_fail(e, KZ_REJ_DEPTH, "elements nested deeper than %u", b->lim->max_depth);
}

/* An optional attribute, when the encoder writes it. */
static void add_opt(const char **atts, size_t *n, const char *name, const char *v,
                    struct kz_sbuf *tmp)
{
    if (v && *v)
        atts[(*n)++] = name, atts[(*n)++] = kz__cot_attr_readback(v, tmp);
}

static int event_attrs(struct build *b, struct kz__cot_err *e)
{
    const struct kz_cot_parts *p = b->p;
    struct kz_sbuf tmp[6] = {KZ_SBUF_INIT, KZ_SBUF_INIT, KZ_SBUF_INIT,
                             KZ_SBUF_INIT, KZ_SBUF_INIT, KZ_SBUF_INIT};
    char t[3][KZ_TIME_STRLEN];
    const char *atts[21] = {"version", "2.0",
                            "uid",     kz__cot_attr_readback(p->uid ? p->uid : "", &tmp[0]),
                            "type",    kz__cot_attr_readback(p->type ? p->type : "", &tmp[1])};
    size_t n = 6;

    add_opt(atts, &n, "how", p->how, &tmp[2]);
    kz_time_format(p->time, t[0]), kz_time_format(p->start, t[1]), kz_time_format(p->stale, t[2]);
    atts[n++] = "time", atts[n++] = t[0];
    atts[n++] = "start", atts[n++] = t[1];
    atts[n++] = "stale", atts[n++] = t[2];
    add_opt(atts, &n, "access", p->access, &tmp[3]);
    add_opt(atts, &n, "qos", p->qos, &tmp[4]);
    add_opt(atts, &n, "opex", p->opex, &tmp[5]);
    atts[n] = NULL;
    /* Times of the years 1970-9999 read back as themselves: no need to parse what was written. */
    const int64_t times[3] = {p->time, p->start, p->stale};
    bool known = true;
    for (unsigned i = 0; i < 3; i++)
        known = known && times[i] >= 0 && times[i] < KZ__YEAR_10000_US;
    int rc = kz__cot_event_attrs_timed(b->ev, atts, known ? times : NULL, e);
    for (unsigned i = 0; i < KZ_ARRAY_LEN(tmp); i++)
        kz_sbuf_release(&tmp[i]);
    return rc;
}

static bool in_range(unsigned which, double v)
{
    switch (which) {
    case 0:
        return v >= -90.0 && v <= 90.0;
    case 1:
        return v >= -180.0 && v <= 180.0;
    case 3:
    case 4:
        return v >= 0.0;
    default:
        return true;
    }
}

/*
 * kz__cot_point_attrs() of the text kz__cot_fmt_num() writes, without the
 * text: a finite value is written in a form that reads back as itself, a
 * NaN as "nan" (unknown for hae, ce, le; not a number for lat, lon), an
 * infinity as "inf" (not a number).  The messages show that text.
 */
static int point_attrs(struct build *b, struct kz__cot_err *e)
{
    static const char *const names[5] = {"lat", "lon", "hae", "ce", "le"};
    const struct kz_cot_parts *p = b->p;
    struct kz_event *ev = b->ev;
    const double in[5] = {p->lat, p->lon, p->hae, p->ce, p->le};
    double *out[5] = {&ev->lat, &ev->lon, &ev->hae, &ev->ce, &ev->le};
    char s[KZ__COT_NUMLEN];

    for (unsigned i = 0; i < 5; i++) {
        double v = in[i];
        if (i >= 2 && (isnan(v) || v == KZ_POINT_UNKNOWN || v == 999999.0)) {
            *out[i] = KZ_POINT_UNKNOWN;
            continue;
        }
        if (!isfinite(v)) {
            kz__cot_fmt_num(v, s);
            return kz__cot_fail(e, KZ_REJ_POINT, "%s '%s' is not a number", names[i], s);
        }
        if (!in_range(i, v)) {
            kz__cot_fmt_num(v, s);
            return kz__cot_fail(e, KZ_REJ_POINT, "%s %s out of range", names[i], s);
        }
        *out[i] = v;
    }
    return KZ_OK;
}

/* ev->detail: the detail without the comments and instructions of the content. */
static void take_detail(struct build *b, struct kz_sbuf *detail)
{
    struct kz_event *ev = b->ev;
    size_t at = 0, n = 0;

    if (!b->n_cuts) {
        ev->detail = kz_sbuf_detach(detail, &ev->detail_len);
        return;
    }
    ev->detail = kz_xmalloc(detail->len + 1);
    for (unsigned i = 0; i <= b->n_cuts; i++) {
        size_t stop = i < b->n_cuts ? b->cuts[i].start : detail->len;
        memcpy(ev->detail + n, detail->buf + at, stop - at);
        n += stop - at;
        at = i < b->n_cuts ? b->cuts[i].end : detail->len;
    }
    ev->detail[n] = '\0';
    ev->detail_len = n;
}

/* The decoder's last check: the canonical form, with room for the server's label in access. */
static int check_canonical_size(struct build *b, struct kz__cot_err *e)
{
    const struct kz_event *ev = b->ev;
    const char *const values[] = {ev->version, ev->uid, ev->type, ev->how,
                                  ev->access,  ev->qos, ev->opex};

    if (kz__cot_xml_size_bound(values, KZ_ARRAY_LEN(values), KZ_COT_ACCESS_MAX, ev->detail_len) <=
        b->lim->max_event_bytes)
        return KZ_OK;
    size_t size = kz__cot_xml_size_reserved(ev, KZ_COT_ACCESS_MAX);
    if (size <= b->lim->max_event_bytes)
        return KZ_OK;
    kz__cot_fail(e, KZ_REJ_TOO_BIG, "canonical form of %zu bytes exceeds the limit of %zu", size,
                 b->lim->max_event_bytes);
    return KZ_ERR_TOOBIG;
}

static int build(struct build *b, struct kz_sbuf *detail, struct kz__cot_err *e)
{
    const struct kz_cot_parts *p = b->p;
    int rc;

    if (p->detail) {
        if ((rc = scan(b, e)) != KZ_OK)
            return rc;
        add_typed(b, detail);
    }
    if ((rc = check_doc_size(b, detail, e)) != KZ_OK)
        return rc;
    if (b->lim->max_depth < 1)
        return depth_fail(b, e);
    if ((rc = event_attrs(b, e)) != KZ_OK)
        return rc;
    if (b->lim->max_depth < 2)
        return depth_fail(b, e);
    if ((rc = point_attrs(b, e)) != KZ_OK)
        return rc;
    if (b->deepest > b->lim->max_depth)
        return depth_fail(b, e);
    if (p->detail && kz__cot_has_end_token(p->detail, p->detail_len))
        return kz__cot_fail(e, KZ_REJ_XML, "\"</event\" inside the event");
    if (p->detail)
        take_detail(b, detail);
    return check_canonical_size(b, e);
}

int kz_cot_build(struct kz_cot_decoder *dec, const struct kz_cot_parts *p, struct kz_event *ev,
                 enum kz_reject *reason, char *errbuf, size_t errlen)
{
    struct build b = {.xp = kz__cot_decoder_parser(dec),
                      .lim = kz__cot_decoder_limits(dec),
                      .p = p,
                      .ev = ev,
                      .deepest = 2,
                      .f = {.text = KZ_SBUF_INIT}};
    struct kz__cot_err e = {.reason = KZ_REJ_XML};
    struct kz_sbuf detail = KZ_SBUF_INIT;

    kz_event_clear(ev);
    kz__cot_fields_reset(&b.f, ev, b.lim->max_dests);
    int rc = build(&b, &detail, &e);
    if (rc != KZ_OK && e.reason == KZ_REJ_TOO_BIG)
        rc = KZ_ERR_TOOBIG; /* an attribute over its cap */
    kz_sbuf_release(&detail);
    kz_sbuf_release(&b.f.text);
    free(b.cuts);
    if (rc == KZ_OK)
        return KZ_OK;
    kz_event_clear(ev);
    if (reason)
        *reason = e.reason;
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", e.msg);
    return rc;
}
