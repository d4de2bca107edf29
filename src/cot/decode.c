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

enum child { C_NONE, C_REMARKS, C_MARTI };

struct kz_cot_decoder {
    XML_Parser xp;
    struct kz_cot_limits lim;

    /* State of the document being decoded. */
    struct kz_event *ev;
    struct kz__cot_err err;
    bool failed;
    unsigned depth;
    bool seen_point, seen_detail, seen_remarks, in_detail;
    enum child child;       /* the open <detail> child we read text or <dest> from */
    XML_Index detail_start; /* first byte of the detail's content */
    const char *doc;        /* the bytes handed to expat */
    unsigned dests_cap;
    struct kz_sbuf text; /* remarks text being collected */
    XML_Index root_end;  /* where the </event> end tag starts, -1 before it */
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
    kz_sbuf_release(&dec->text);
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

static void set_once(char **dst, const char *v)
{
    if (!*dst && v && *v)
        *dst = kz_xstrdup(v);
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    return NULL;
}

static char *nonempty(const char *s)
{
    return s && *s ? kz_xstrdup(s) : NULL;
}

static void add_dest(struct kz_cot_decoder *dec, const char **atts)
{
    struct kz_event *ev = dec->ev;
    const char *cs = attr(atts, "callsign"), *uid = attr(atts, "uid");
    const char *mission = attr(atts, "mission");

    if ((!cs || !*cs) && (!uid || !*uid) && (!mission || !*mission))
        return; /* group destinations are not ours to route */
    if (ev->n_dests >= dec->lim.max_dests)
        return;
    if (ev->n_dests == dec->dests_cap) {
        dec->dests_cap = dec->dests_cap ? dec->dests_cap * 2 : 4;
        ev->dests = kz_xrealloc(ev->dests, dec->dests_cap * sizeof(*ev->dests));
    }
    ev->dests[ev->n_dests].callsign = nonempty(cs);
    ev->dests[ev->n_dests].uid = nonempty(uid);
    ev->dests[ev->n_dests].mission = nonempty(mission);
    ev->n_dests++;
}

static void detail_child(struct kz_cot_decoder *dec, const char *name, const char **atts)
{
    struct kz_event *ev = dec->ev;

    if (strcmp(name, "contact") == 0) {
        set_once(&ev->callsign, attr(atts, "callsign"));
        set_once(&ev->endpoint, attr(atts, "endpoint"));
    } else if (strcmp(name, "__group") == 0) {
        set_once(&ev->group_name, attr(atts, "name"));
        set_once(&ev->group_role, attr(atts, "role"));
    } else if (strcmp(name, "link") == 0) {
        set_once(&ev->link_uid, attr(atts, "uid"));
    } else if (strcmp(name, "__chat") == 0) {
        set_once(&ev->chat_room, attr(atts, "chatroom"));
        set_once(&ev->chat_sender, attr(atts, "senderCallsign"));
    } else if (strcmp(name, "remarks") == 0 && !dec->seen_remarks) {
        dec->seen_remarks = true;
        dec->child = C_REMARKS;
    } else if (strcmp(name, "marti") == 0) {
        dec->child = C_MARTI;
    }
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
    } else if (dec->depth == 3 && dec->in_detail) {
        detail_child(dec, name, atts);
    } else if (dec->depth == 4 && dec->child == C_MARTI && strcmp(name, "dest") == 0) {
        add_dest(dec, atts);
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
    } else if (dec->depth == 3 && dec->child != C_NONE) {
        if (dec->child == C_REMARKS && dec->text.len)
            dec->ev->remarks = kz_xstrndup(dec->text.buf, dec->text.len);
        dec->child = C_NONE;
    }
    dec->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct kz_cot_decoder *dec = ud;

    if (!dec->failed && dec->depth == 3 && dec->child == C_REMARKS && len > 0)
        kz_sbuf_add(&dec->text, s, (size_t)len);
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
    dec->seen_point = dec->seen_detail = dec->seen_remarks = dec->in_detail = false;
    dec->child = C_NONE;
    dec->dests_cap = 0;
    dec->n_cuts = 0;
    dec->root_end = -1;
    dec->err.reason = KZ_REJ_XML;
    dec->err.msg[0] = '\0';
    kz_sbuf_reset(&dec->text);

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
