/*
 * proto.c - TAK protocol v1: struct kz_event <-> TakMessage (protobuf).
 *
 * Sending: a <detail> child becomes a typed message (Contact, Group,
 * PrecisionLocation, Status, Takv, Track) only when it appears once, carries
 * exactly the attributes the message holds, has no content, and each number
 * fits the message's type; everything else stays, byte for byte, in
 * xmlDetail.  So the receiver rebuilds every element, attribute and value;
 * the typed elements move to the end of <detail> (as in TAK's own codec)
 * and their numbers are written in the shortest form ("0.0" becomes "0").
 *
 * Receiving: the TakMessage is turned back into an <event> document and run
 * through kz_cot_decode(), so a protobuf event is parsed and validated by
 * exactly the code that handles XML.  Where an element appears both in
 * xmlDetail and as a typed message, the xmlDetail copy wins.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "cot/internal.h"
#include "proto/takmessage.pb-c.h"

/* 9999-12-31T23:59:59.999Z: the last instant an ISO 8601 year can name. */
#define MAX_TIME_MS 253402300799999ULL

enum kind { K_CONTACT, K_GROUP, K_PRECISION, K_STATUS, K_TAKV, K_TRACK, K__COUNT };

/* Attributes of each typed element, in the order the message holds them. */
struct kind_def {
    const char *elem;
    const char *atts[4];
    unsigned n_atts;
    unsigned optional; /* bit i: atts[i] may be absent (then never empty) */
    bool numeric;      /* values are numbers that must read back as written */
};

static const struct kind_def kinds[K__COUNT] = {
    [K_CONTACT] = {"contact", {"endpoint", "callsign"}, 2, 1u, false},
    [K_GROUP] = {"__group", {"name", "role"}, 2, 0, false},
    [K_PRECISION] = {"precisionlocation", {"geopointsrc", "altsrc"}, 2, 0, false},
    [K_STATUS] = {"status", {"battery"}, 1, 0, true},
    [K_TAKV] = {"takv", {"device", "platform", "os", "version"}, 4, 0, false},
    [K_TRACK] = {"track", {"speed", "course"}, 2, 0, true},
};

/* What the scan learned about one kind of typed element. */
struct found {
    unsigned count;    /* top-level occurrences */
    bool movable;      /* the first one may become the typed message */
    size_t start, end; /* the first one's bytes in the scanned document */
    size_t tag_end;    /* end of its start tag */
    char *val[4];      /* its attribute values, by kind_def order */
};

struct scan {
    XML_Parser xp;
    unsigned depth;
    int open; /* kind of the open top-level child if it is a first one */
    struct found f[K__COUNT];
};

/* ---- scanning the children of <detail> -------------------------------- */

static int kind_of(const char *name)
{
    for (int k = 0; k < K__COUNT; k++)
        if (strcmp(name, kinds[k].elem) == 0)
            return k;
    return -1;
}

/*
 * A number the typed message holds without loss.  Its spelling may change
 * ("0.0" arrives as "0"), its value does not; anything else stays XML.
 */
static bool exact_number(enum kind k, const char *v)
{
    char *end;

    if (!*v || *v == ' ' || *v == '+')
        return false;
    errno = 0;
    if (k == K_STATUS) {
        unsigned long long n = strtoull(v, &end, 10);
        return !*end && !errno && *v != '-' && n <= INT32_MAX;
    }
    double d = strtod(v, &end);
    return !*end && !errno && isfinite(d);
}

/* Every attribute is one the message holds, every required one is there. */
static bool take_atts(struct found *f, enum kind k, const char **atts)
{
    const struct kind_def *d = &kinds[k];
    unsigned seen = 0;

    for (size_t i = 0; atts[i]; i += 2) {
        unsigned j = 0;
        while (j < d->n_atts && strcmp(atts[i], d->atts[j]) != 0)
            j++;
        if (j == d->n_atts)
            return false;
        if ((d->optional >> j & 1u) && !*atts[i + 1])
            return false; /* "" and absent look the same in proto3 */
        if (d->numeric && !exact_number(k, atts[i + 1]))
            return false;
        seen |= 1u << j;
        f->val[j] = kz_xstrdup(atts[i + 1]);
    }
    return (seen | d->optional) == (1u << d->n_atts) - 1;
}

static void XMLCALL scan_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct scan *s = ud;

    if (++s->depth != 2) {
        if (s->depth > 2 && s->open >= 0)
            s->f[s->open].movable = false;
        return;
    }
    int k = kind_of(name);
    s->open = -1;
    if (k < 0 || ++s->f[k].count > 1)
        return;
    struct found *f = &s->f[k];
    XML_Index at = XML_GetCurrentByteIndex(s->xp);
    f->start = (size_t)at;
    f->tag_end = (size_t)(at + XML_GetCurrentByteCount(s->xp));
    f->movable = take_atts(f, (enum kind)k, atts);
    s->open = k;
}

static void XMLCALL scan_end(void *ud, const XML_Char *name)
{
    struct scan *s = ud;

    KZ_UNUSED(name);
    if (s->depth-- != 2 || s->open < 0)
        return;
    struct found *f = &s->f[s->open];
    int n = XML_GetCurrentByteCount(s->xp);
    /* expat reports no bytes for the end of an empty-element tag. */
    f->end = n ? (size_t)(XML_GetCurrentByteIndex(s->xp) + n) : f->tag_end;
    s->open = -1;
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

static void scan_release(struct scan *s)
{
    for (int k = 0; k < K__COUNT; k++)
        for (int i = 0; i < 4; i++)
            free(s->f[k].val[i]);
}

/*
 * Scan doc[0..len), a whole "<detail>...</detail>" document.  KZ_OK, or
 * KZ_ERR_PARSE with the reason in errbuf (the scan is released either way
 * by scan_release()).
 */
static int scan_detail(struct scan *s, const char *doc, size_t len, char *errbuf, size_t errlen)
{
    int rc = KZ_OK;

    memset(s, 0, sizeof(*s));
    s->open = -1;
    s->xp = kz__cot_xml_parser();
    XML_SetUserData(s->xp, s);
    XML_SetElementHandler(s->xp, scan_start, scan_end);
    XML_SetCharacterDataHandler(s->xp, scan_text);
    XML_SetCommentHandler(s->xp, scan_comment);
    XML_SetProcessingInstructionHandler(s->xp, scan_pi);
    XML_SetStartCdataSectionHandler(s->xp, scan_cdata);
    if (len > INT32_MAX || XML_Parse(s->xp, doc, (int)len, XML_TRUE) != XML_STATUS_OK) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "xmlDetail is not well-formed XML: %s",
                     XML_ErrorString(XML_GetErrorCode(s->xp)));
        rc = KZ_ERR_PARSE;
    }
    XML_ParserFree(s->xp);
    s->xp = NULL;
    return rc;
}

/* ---- kz_event -> TakMessage ------------------------------------------- */

static char *str(const char *s)
{
    return (char *)(s ? s : "");
}

static uint64_t to_ms(int64_t us)
{
    return us > 0 ? (uint64_t)(us / 1000) : 0;
}

/* The typed messages, filled from the scan; pointers into `s`. */
struct typed {
    Takproto__Contact contact;
    Takproto__Group group;
    Takproto__PrecisionLocation precision;
    Takproto__Status status;
    Takproto__Takv takv;
    Takproto__Track track;
};

static bool moves(const struct scan *s, enum kind k)
{
    return s->f[k].count == 1 && s->f[k].movable;
}

static void fill_typed(struct scan *s, struct typed *t, Takproto__Detail *d)
{
    char **v;

    takproto__contact__init(&t->contact);
    takproto__group__init(&t->group);
    takproto__precision_location__init(&t->precision);
    takproto__status__init(&t->status);
    takproto__takv__init(&t->takv);
    takproto__track__init(&t->track);
    if (moves(s, K_CONTACT)) {
        v = s->f[K_CONTACT].val;
        t->contact.endpoint = str(v[0]);
        t->contact.callsign = str(v[1]);
        d->contact = &t->contact;
    }
    if (moves(s, K_GROUP)) {
        v = s->f[K_GROUP].val;
        t->group.name = v[0], t->group.role = v[1];
        d->group = &t->group;
    }
    if (moves(s, K_PRECISION)) {
        v = s->f[K_PRECISION].val;
        t->precision.geopointsrc = v[0], t->precision.altsrc = v[1];
        d->precisionlocation = &t->precision;
    }
    if (moves(s, K_STATUS)) {
        t->status.battery = (uint32_t)strtoul(s->f[K_STATUS].val[0], NULL, 10);
        d->status = &t->status;
    }
    if (moves(s, K_TAKV)) {
        v = s->f[K_TAKV].val;
        t->takv.device = v[0], t->takv.platform = v[1], t->takv.os = v[2], t->takv.version = v[3];
        d->takv = &t->takv;
    }
    if (moves(s, K_TRACK)) {
        v = s->f[K_TRACK].val;
        t->track.speed = strtod(v[0], NULL), t->track.course = strtod(v[1], NULL);
        d->track = &t->track;
    }
}

/*
 * The detail text without the moved elements, into `rest`.  `doc` is the
 * scanned "<detail>" + detail + "</detail>", so offsets are shifted by 8.
 */
static void leftover(const struct scan *s, const struct kz_event *ev, struct kz_sbuf *rest)
{
    size_t at = 0;

    for (;;) {
        int next = -1;
        for (int k = 0; k < K__COUNT; k++)
            if (moves(s, (enum kind)k) && s->f[k].start - 8 >= at &&
                (next < 0 || s->f[k].start < s->f[next].start))
                next = k;
        if (next < 0)
            break;
        kz_sbuf_add(rest, ev->detail + at, s->f[next].start - 8 - at);
        at = s->f[next].end - 8;
    }
    kz_sbuf_add(rest, ev->detail + at, ev->detail_len - at);
}

static void pack(Takproto__TakMessage *m, bool framed, struct kz_sbuf *out)
{
    size_t n = takproto__tak_message__get_packed_size(m);
    unsigned char hdr[KZ_TAKP_HEADER_MAX];
    size_t h = framed ? kz_takp_put_header(hdr, n) : 0;

    kz_sbuf_grow(out, h + n + 1);
    kz_sbuf_add(out, hdr, h);
    takproto__tak_message__pack(m, (uint8_t *)out->buf + out->len);
    out->len += n;
    out->buf[out->len] = '\0';
}

void kz_cot_encode_proto(const struct kz_event *ev, bool framed, struct kz_sbuf *out)
{
    Takproto__TakMessage m;
    Takproto__CotEvent c;
    Takproto__Detail d;
    struct typed t;
    struct scan s;
    struct kz_sbuf doc = KZ_SBUF_INIT, rest = KZ_SBUF_INIT;

    takproto__tak_message__init(&m);
    takproto__cot_event__init(&c);
    takproto__detail__init(&d);
    memset(&s, 0, sizeof(s));
    m.cotevent = &c;
    c.type = str(ev->type), c.uid = str(ev->uid), c.how = str(ev->how);
    c.access = str(ev->access), c.qos = str(ev->qos), c.opex = str(ev->opex);
    c.sendtime = to_ms(ev->time), c.starttime = to_ms(ev->start), c.staletime = to_ms(ev->stale);
    c.lat = ev->lat, c.lon = ev->lon, c.hae = ev->hae, c.ce = ev->ce, c.le = ev->le;
    if (ev->detail) {
        kz_sbuf_adds(&doc, "<detail>");
        kz_sbuf_add(&doc, ev->detail, ev->detail_len);
        kz_sbuf_adds(&doc, "</detail>");
        if (scan_detail(&s, doc.buf, doc.len, NULL, 0) == KZ_OK) {
            fill_typed(&s, &t, &d);
            leftover(&s, ev, &rest);
            d.xmldetail = str(rest.buf);
        } else {
            d.xmldetail = ev->detail; /* cannot split what does not parse: keep it whole */
        }
        c.detail = &d;
    }
    pack(&m, framed, out);
    scan_release(&s);
    kz_sbuf_release(&doc);
    kz_sbuf_release(&rest);
}

/* ---- TakMessage -> kz_event ------------------------------------------- */

static void add_elem(struct kz_sbuf *x, enum kind k, char *const *vals)
{
    const struct kind_def *d = &kinds[k];

    kz_sbuf_adds(x, "<");
    kz_sbuf_adds(x, d->elem);
    for (unsigned i = 0; i < d->n_atts; i++)
        if (!((d->optional >> i & 1u) && !*vals[i]))
            kz__cot_add_attr(x, d->atts[i], vals[i]);
    kz_sbuf_adds(x, "/>");
}

static void add_num_elem(struct kz_sbuf *x, enum kind k, const double *v, unsigned n)
{
    char num[2][KZ__COT_NUMLEN];
    char *vals[2] = {num[0], num[1]};

    for (unsigned i = 0; i < n; i++)
        kz__cot_fmt_num(v[i], num[i]);
    add_elem(x, k, vals);
}

/* Typed messages the xmlDetail does not already carry, appended to `x`. */
static void add_typed(struct kz_sbuf *x, const Takproto__Detail *d, const struct scan *s)
{
    if (d->contact && !s->f[K_CONTACT].count)
        add_elem(x, K_CONTACT, (char *[]){d->contact->endpoint, d->contact->callsign});
    if (d->group && !s->f[K_GROUP].count)
        add_elem(x, K_GROUP, (char *[]){d->group->name, d->group->role});
    if (d->precisionlocation && !s->f[K_PRECISION].count)
        add_elem(x, K_PRECISION,
                 (char *[]){d->precisionlocation->geopointsrc, d->precisionlocation->altsrc});
    if (d->status && !s->f[K_STATUS].count) {
        /* TAK caps the battery at INT_MAX. */
        double b = d->status->battery > INT32_MAX ? INT32_MAX : d->status->battery;
        add_num_elem(x, K_STATUS, &b, 1);
    }
    if (d->takv && !s->f[K_TAKV].count)
        add_elem(x, K_TAKV,
                 (char *[]){d->takv->device, d->takv->platform, d->takv->os, d->takv->version});
    if (d->track && !s->f[K_TRACK].count)
        add_num_elem(x, K_TRACK, (double[]){d->track->speed, d->track->course}, 2);
}

/* The <detail> content for the rebuilt event: xmlDetail, then typed elements. */
static int rebuild_detail(const Takproto__Detail *d, struct kz_sbuf *x, char *err, size_t errlen)
{
    struct kz_sbuf doc = KZ_SBUF_INIT;
    struct scan s;
    const char *xd = d->xmldetail ? d->xmldetail : "";

    kz_sbuf_adds(&doc, "<detail>");
    kz_sbuf_adds(&doc, xd);
    kz_sbuf_adds(&doc, "</detail>");
    int rc = scan_detail(&s, doc.buf, doc.len, err, errlen);
    if (rc == KZ_OK) {
        kz_sbuf_adds(x, xd);
        add_typed(x, d, &s);
    }
    scan_release(&s);
    kz_sbuf_release(&doc);
    return rc;
}

static int check_times(const Takproto__CotEvent *c, char *err, size_t errlen)
{
    if (c->sendtime <= MAX_TIME_MS && c->starttime <= MAX_TIME_MS && c->staletime <= MAX_TIME_MS)
        return KZ_OK;
    if (err && errlen)
        snprintf(err, errlen, "a time is past the year 9999 (send %llu, start %llu, stale %llu ms)",
                 (unsigned long long)c->sendtime, (unsigned long long)c->starttime,
                 (unsigned long long)c->staletime);
    return KZ_ERR_PARSE;
}

/* Rebuild the <event> document a CotEvent stands for, into `xml`. */
static int rebuild_event(const Takproto__CotEvent *c, struct kz_sbuf *xml, enum kz_reject *why,
                         char *err, size_t errlen)
{
    struct kz_event ev;
    struct kz_sbuf detail = KZ_SBUF_INIT;

    if (check_times(c, err, errlen) != KZ_OK) {
        *why = KZ_REJ_TIME;
        return KZ_ERR_PARSE;
    }
    if (c->detail && rebuild_detail(c->detail, &detail, err, errlen) != KZ_OK) {
        kz_sbuf_release(&detail);
        *why = KZ_REJ_XML;
        return KZ_ERR_PARSE;
    }
    kz_event_init(&ev);
    /* Borrowed for the encoder only: never cleared. */
    ev.uid = c->uid, ev.type = c->type, ev.how = c->how;
    ev.access = c->access, ev.qos = c->qos, ev.opex = c->opex;
    ev.time = (int64_t)c->sendtime * 1000;
    ev.start = (int64_t)c->starttime * 1000;
    ev.stale = (int64_t)c->staletime * 1000;
    ev.lat = c->lat, ev.lon = c->lon, ev.hae = c->hae, ev.ce = c->ce, ev.le = c->le;
    if (c->detail) {
        ev.detail = detail.buf ? detail.buf : (char *)"";
        ev.detail_len = detail.len;
    }
    kz_cot_encode_xml(&ev, xml);
    kz_sbuf_release(&detail);
    return KZ_OK;
}

int kz_cot_decode_proto(struct kz_cot_decoder *dec, const void *buf, size_t len,
                        struct kz_event *ev, enum kz_reject *reason, char *errbuf, size_t errlen)
{
    struct kz_sbuf xml = KZ_SBUF_INIT;
    enum kz_reject why = KZ_REJ_PROTO;
    char err[KZ__COT_ERRLEN] = "";
    int rc = KZ_ERR_PARSE;

    kz_event_clear(ev);
    Takproto__TakMessage *m = takproto__tak_message__unpack(NULL, len, buf);
    if (!m) {
        snprintf(err, sizeof(err), "TakMessage of %zu bytes does not decode as protobuf", len);
    } else if (!m->cotevent) {
        rc = KZ_ERR_NOTFOUND;
        snprintf(err, sizeof(err), "TakMessage carries no cotEvent");
    } else if ((rc = rebuild_event(m->cotevent, &xml, &why, err, sizeof(err))) == KZ_OK) {
        rc = kz_cot_decode(dec, xml.buf, xml.len, ev, &why, err, sizeof(err));
    }
    if (m)
        takproto__tak_message__free_unpacked(m, NULL);
    kz_sbuf_release(&xml);
    if (rc != KZ_OK) {
        if (reason)
            *reason = why;
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", err);
    }
    return rc;
}
