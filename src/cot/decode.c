/*
 * decode.c - one <event> document to struct kz_event, with expat.
 *
 * The decoder keeps one parser for its whole life.  XML_ParserReset() drops
 * the handlers and the hash salt, so both are set again before each
 * document; the salt is drawn once per process (kz__cot_hash_salt), so a
 * decode never reads the system random source.  Documents never reach
 * expat's DTD machinery: everything before "<event" is skipped (and refused
 * when it declares a DOCTYPE or an entity), and the DOCTYPE/entity handlers
 * abort the parse as a second line.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <expat.h>

#include "cot/internal.h"

struct kz_cot_decoder {
    XML_Parser xp;
    struct kz_cot_limits lim;

    /* State of the document being decoded. */
    struct kz_event *ev;
    struct kz__cot_err err;
    bool failed;
    unsigned depth;
    bool seen_point, seen_detail, in_detail;
    struct kz__cot_fields f; /* the server's fields from <detail> (fields.c) */
    XML_Index detail_start;  /* first byte of the detail's content */
    const char *doc;         /* the bytes handed to expat */
    XML_Index root_end;      /* where the </event> end tag starts, -1 before it */
    /* Comments and processing instructions in <detail>: left out of ev->detail. */
    struct cut {
        XML_Index start, end;
    } * cuts;
    unsigned n_cuts, cuts_cap;
};

/*
 * Process-wide because it is set once, before any parser can use it, and
 * read-only afterwards; pthread_once makes the first draw thread-safe.
 */
static pthread_once_t salt_once = PTHREAD_ONCE_INIT;
static unsigned long salt;

static void draw_salt(void)
{
    unsigned long s;

    if (getentropy(&s, sizeof(s)) == 0 && s != 0) {
        salt = s;
        return;
    }
    /* No entropy source: any fixed-per-process value still beats expat's default. */
    salt = (unsigned long)time(NULL) ^ (unsigned long)(uintptr_t)&s ^ 0x9e3779b9UL;
}

unsigned long kz__cot_hash_salt(void)
{
    pthread_once(&salt_once, draw_salt);
    return salt;
}

XML_Parser kz__cot_xml_parser(void)
{
    XML_Parser xp = XML_ParserCreate("UTF-8");

    /* expat fails only on allocation. */
    if (!xp)
        kz_oom("XML_ParserCreate", 0);
    XML_SetHashSalt(xp, kz__cot_hash_salt());
    return xp;
}

struct kz_cot_decoder *kz_cot_decoder_new(const struct kz_cot_limits *lim)
{
    struct kz_cot_decoder *dec = kz_xcalloc(1, sizeof(*dec));

    if (lim)
        dec->lim = *lim;
    else
        kz_cot_limits_default(&dec->lim);
    /* expat takes an int length. */
    if (dec->lim.max_event_bytes > INT_MAX)
        dec->lim.max_event_bytes = INT_MAX;
    dec->xp = kz__cot_xml_parser();
    return dec;
}

void kz_cot_decoder_free(struct kz_cot_decoder *dec)
{
    if (!dec)
        return;
    XML_ParserFree(dec->xp);
    kz_sbuf_release(&dec->f.text);
    free(dec->cuts);
    free(dec);
}

XML_Parser kz__cot_decoder_parser(struct kz_cot_decoder *dec)
{
    return dec->xp;
}

const struct kz_cot_limits *kz__cot_decoder_limits(const struct kz_cot_decoder *dec)
{
    return &dec->lim;
}

/* ---- handlers --------------------------------------------------------- */

static void stop(struct kz_cot_decoder *dec)
{
    dec->failed = true;
    XML_StopParser(dec->xp, XML_FALSE);
}

static void event_child(struct kz_cot_decoder *dec, const char *name, const char **atts)
{
    if (strcmp(name, "point") == 0) {
        if (dec->seen_point) {
            kz__cot_fail(&dec->err, KZ_REJ_POINT, "more than one <point>");
            stop(dec);
            return;
        }
        dec->seen_point = true;
        if (kz__cot_point_attrs(dec->ev, atts, &dec->err) != KZ_OK)
            stop(dec);
    } else if (strcmp(name, "detail") == 0) {
        if (dec->seen_detail) {
            kz__cot_fail(&dec->err, KZ_REJ_XML, "more than one <detail>");
            stop(dec);
            return;
        }
        dec->seen_detail = dec->in_detail = true;
        dec->detail_start = XML_GetCurrentByteIndex(dec->xp) + XML_GetCurrentByteCount(dec->xp);
    }
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct kz_cot_decoder *dec = ud;

    /* expat may still deliver an element's end after a stop. */
    if (dec->failed)
        return;
    if (++dec->depth > dec->lim.max_depth) {
        kz__cot_fail(&dec->err, KZ_REJ_DEPTH, "elements nested deeper than %u", dec->lim.max_depth);
        stop(dec);
        return;
    }
    if (dec->depth == 1) {
        if (kz__cot_event_attrs(dec->ev, atts, &dec->err) != KZ_OK)
            stop(dec);
    } else if (dec->depth == 2) {
        event_child(dec, name, atts);
    } else if (dec->in_detail) {
        kz__cot_fields_start(&dec->f, dec->depth, name, atts);
    }
}

/* The detail's bytes doc[from..to) without the cuts, into ev->detail. */
static void end_detail(struct kz_cot_decoder *dec)
{
    struct kz_event *ev = dec->ev;
    XML_Index at = dec->detail_start, end = XML_GetCurrentByteIndex(dec->xp);
    /* For <detail/> expat reports the end at the start tag's end: empty. */
    size_t cap = end > at ? (size_t)(end - at) : 0, n = 0;

    ev->detail = kz_xmalloc(cap + 1);
    for (unsigned i = 0; i <= dec->n_cuts && at < end; i++) {
        XML_Index stop = i < dec->n_cuts ? dec->cuts[i].start : end;
        memcpy(ev->detail + n, dec->doc + at, (size_t)(stop - at));
        n += (size_t)(stop - at);
        at = i < dec->n_cuts ? dec->cuts[i].end : end;
    }
    ev->detail[n] = '\0';
    ev->detail_len = n;
    dec->in_detail = false;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct kz_cot_decoder *dec = ud;

    KZ_UNUSED(name);
    if (dec->failed)
        return;
    if (dec->depth == 1)
        dec->root_end = XML_GetCurrentByteIndex(dec->xp);
    if (dec->depth == 2 && dec->in_detail) {
        end_detail(dec);
    } else {
        kz__cot_fields_end(&dec->f, dec->depth);
    }
    dec->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct kz_cot_decoder *dec = ud;

    if (!dec->failed && len > 0)
        kz__cot_fields_text(&dec->f, dec->depth, s, (size_t)len);
}

/* A comment or processing instruction: dropped when inside <detail>. */
static void cut_here(struct kz_cot_decoder *dec)
{
    if (dec->failed || !dec->in_detail)
        return;
    if (dec->n_cuts == dec->cuts_cap) {
        dec->cuts_cap = dec->cuts_cap ? dec->cuts_cap * 2 : 4;
        dec->cuts = kz_xrealloc(dec->cuts, dec->cuts_cap * sizeof(*dec->cuts));
    }
    XML_Index at = XML_GetCurrentByteIndex(dec->xp);
    dec->cuts[dec->n_cuts++] = (struct cut){at, at + XML_GetCurrentByteCount(dec->xp)};
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

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    struct kz_cot_decoder *dec = ud;

    KZ_UNUSED(name), KZ_UNUSED(sysid), KZ_UNUSED(pubid), KZ_UNUSED(has_internal_subset);
    kz__cot_fail(&dec->err, KZ_REJ_ENTITY, "DOCTYPE declarations are refused");
    stop(dec);
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                              int value_len, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    struct kz_cot_decoder *dec = ud;

    KZ_UNUSED(name), KZ_UNUSED(is_param), KZ_UNUSED(value), KZ_UNUSED(value_len);
    KZ_UNUSED(base), KZ_UNUSED(sysid), KZ_UNUSED(pubid), KZ_UNUSED(notation);
    kz__cot_fail(&dec->err, KZ_REJ_ENTITY, "entity declarations are refused");
    stop(dec);
}

/* ---- decode ----------------------------------------------------------- */

static void begin(struct kz_cot_decoder *dec, struct kz_event *ev, const char *doc)
{
    dec->ev = ev;
    dec->doc = doc;
    dec->failed = false;
    dec->depth = 0;
    dec->seen_point = dec->seen_detail = dec->in_detail = false;
    kz__cot_fields_reset(&dec->f, ev, dec->lim.max_dests);
    dec->n_cuts = 0;
    dec->root_end = -1;
    dec->err.reason = KZ_REJ_XML;
    dec->err.msg[0] = '\0';

    XML_ParserReset(dec->xp, "UTF-8");
    XML_SetHashSalt(dec->xp, kz__cot_hash_salt());
    XML_SetUserData(dec->xp, dec);
    XML_SetElementHandler(dec->xp, on_start, on_end);
    XML_SetCharacterDataHandler(dec->xp, on_text);
    XML_SetCommentHandler(dec->xp, on_comment);
    XML_SetProcessingInstructionHandler(dec->xp, on_pi);
    XML_SetStartDoctypeDeclHandler(dec->xp, on_doctype);
    XML_SetEntityDeclHandler(dec->xp, on_entity);
}

/* Parse doc[0..len), which starts at "<event". */
static void parse(struct kz_cot_decoder *dec, const char *doc, size_t len)
{
    if (XML_Parse(dec->xp, doc, (int)len, XML_TRUE) == XML_STATUS_OK || dec->failed)
        return;
    dec->failed = true;
    kz__cot_fail(&dec->err, KZ_REJ_XML, "not well-formed XML: %s at line %lu column %lu",
                 XML_ErrorString(XML_GetErrorCode(dec->xp)),
                 (unsigned long)XML_GetCurrentLineNumber(dec->xp),
                 (unsigned long)XML_GetCurrentColumnNumber(dec->xp) + 1);
}

static int check_prologue(struct kz_cot_decoder *dec, const char *xml, size_t len, size_t *off)
{
    *off = kz__cot_find_start(xml, len, NULL);
    if (*off == len)
        return kz__cot_fail(&dec->err, KZ_REJ_XML, "no <event> element");
    if (memmem(xml, *off, "<!DOCTYPE", 9) || memmem(xml, *off, "<!ENTITY", 8))
        return kz__cot_fail(&dec->err, KZ_REJ_ENTITY, "DOCTYPE/entity declarations are refused");
    if (len - *off > dec->lim.max_event_bytes) {
        kz__cot_fail(&dec->err, KZ_REJ_TOO_BIG, "event of %zu bytes exceeds the limit of %zu",
                     len - *off, dec->lim.max_event_bytes);
        return KZ_ERR_TOOBIG;
    }
    return KZ_OK;
}

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == ':' || c >= 0x80;
}

/*
 * "</event" ending a name within doc[0..n): where a stream reader would
 * split.  "</events>" closes another element and is no such token.
 */
bool kz__cot_has_end_token(const char *doc, size_t n)
{
    const char *p = doc, *end = doc + n;

    while ((p = memmem(p, (size_t)(end - p), "</event", 7)) != NULL) {
        if (p + 7 == end || !name_char((unsigned char)p[7]))
            return true;
        p += 7;
    }
    return false;
}

/* The checks that need the whole parsed document; KZ_OK or the failure's code. */
static int check_document(struct kz_cot_decoder *dec, const char *doc, size_t len)
{
    struct kz_event *ev = dec->ev;
    size_t root_end = dec->root_end >= 0 ? (size_t)dec->root_end : len;

    if (!dec->seen_point)
        return kz__cot_fail(&dec->err, KZ_REJ_MISSING, "missing <point>");
    if (kz__cot_has_end_token(doc, root_end))
        return kz__cot_fail(&dec->err, KZ_REJ_XML, "\"</event\" inside the event");
    const char *const values[] = {ev->version, ev->uid, ev->type, ev->how,
                                  ev->access,  ev->qos, ev->opex};
    if (kz__cot_xml_size_bound(values, KZ_ARRAY_LEN(values), KZ_COT_ACCESS_MAX, ev->detail_len) <=
        dec->lim.max_event_bytes)
        return KZ_OK;
    size_t size = kz__cot_xml_size_reserved(ev, KZ_COT_ACCESS_MAX);
    if (size > dec->lim.max_event_bytes) {
        kz__cot_fail(&dec->err, KZ_REJ_TOO_BIG,
                     "canonical form of %zu bytes exceeds the limit of %zu", size,
                     dec->lim.max_event_bytes);
        return KZ_ERR_TOOBIG;
    }
    return KZ_OK;
}

int kz_cot_decode(struct kz_cot_decoder *dec, const char *xml, size_t len, struct kz_event *ev,
                  enum kz_reject *reason, char *errbuf, size_t errlen)
{
    size_t off;
    int rc;

    kz_event_clear(ev);
    dec->err.reason = KZ_REJ_XML;
    rc = check_prologue(dec, xml, len, &off);
    if (rc == KZ_OK) {
        begin(dec, ev, xml + off);
        parse(dec, xml + off, len - off);
        rc = dec->failed ? KZ_ERR_PARSE : check_document(dec, xml + off, len - off);
        if (rc != KZ_OK && dec->err.reason == KZ_REJ_TOO_BIG)
            rc = KZ_ERR_TOOBIG; /* an attribute over its cap */
        dec->ev = NULL;
        dec->doc = NULL;
    }
    if (rc == KZ_OK)
        return KZ_OK;
    kz_event_clear(ev);
    if (reason)
        *reason = dec->err.reason;
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", dec->err.msg);
    return rc;
}
