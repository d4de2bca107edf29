/*
 * proto.c - TAK protocol v1: struct kz_event <-> TakMessage (protobuf).
 *
 * Sending: a <detail> child becomes a typed message (Contact, Group,
 * PrecisionLocation, Status, Takv, Track) only when it appears once, carries
 * exactly the attributes the message holds, has no content, and each number
 * fits the message's type; everything else stays, byte for byte, in
 * xmlDetail (kz_cot_detail_split(), shared with federation).  So the receiver rebuilds every
 * element, attribute and value; the typed elements move to the end of <detail> (as in TAK's own
 * codec) and their numbers are written in the shortest form ("0.0" becomes "0").
 *
 * Receiving: kz_cot_build() makes the event from the CotEvent's fields,
 * xmlDetail and the typed messages, giving what the same event sent as XML
 * gives (same checks, same reject reasons) without writing it as XML.
 * Where an element appears both in xmlDetail and as a typed message, the
 * xmlDetail copy wins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/internal.h"
#include "proto/takmessage.pb-c.h"

/* 9999-12-31T23:59:59.999Z: the last instant an ISO 8601 year can name. */
#define MAX_TIME_MS 253402300799999ULL

enum kind { K_CONTACT, K_GROUP, K_PRECISION, K_STATUS, K_TAKV, K_TRACK, K__COUNT };

/* The typed messages, by the element and attributes each holds. */
static const struct kz_cot_typed kinds[K__COUNT] = {
    [K_CONTACT] = {"contact", NULL, {"endpoint", "callsign"}, 2, 1u, KZ_TYPED_TEXT, false},
    [K_GROUP] = {"__group", NULL, {"name", "role"}, 2, 0, KZ_TYPED_TEXT, false},
    [K_PRECISION] =
        {"precisionlocation", NULL, {"geopointsrc", "altsrc"}, 2, 0, KZ_TYPED_TEXT, false},
    [K_STATUS] = {"status", NULL, {"battery"}, 1, 0, KZ_TYPED_UINT31, false},
    [K_TAKV] = {"takv", NULL, {"device", "platform", "os", "version"}, 4, 0, KZ_TYPED_TEXT, false},
    [K_TRACK] = {"track", NULL, {"speed", "course"}, 2, 0, KZ_TYPED_REAL, false},
};

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

static void fill_typed(struct kz_cot_split *sp, struct typed *t, Takproto__Detail *d)
{
    struct kz_cot_typed_val *v = sp->v;

    takproto__contact__init(&t->contact);
    takproto__group__init(&t->group);
    takproto__precision_location__init(&t->precision);
    takproto__status__init(&t->status);
    takproto__takv__init(&t->takv);
    takproto__track__init(&t->track);
    if (v[K_CONTACT].present) {
        t->contact.endpoint = str(v[K_CONTACT].s[0]);
        t->contact.callsign = str(v[K_CONTACT].s[1]);
        d->contact = &t->contact;
    }
    if (v[K_GROUP].present) {
        t->group.name = v[K_GROUP].s[0], t->group.role = v[K_GROUP].s[1];
        d->group = &t->group;
    }
    if (v[K_PRECISION].present) {
        t->precision.geopointsrc = v[K_PRECISION].s[0], t->precision.altsrc = v[K_PRECISION].s[1];
        d->precisionlocation = &t->precision;
    }
    if (v[K_STATUS].present) {
        t->status.battery = (uint32_t)v[K_STATUS].num[0];
        d->status = &t->status;
    }
    if (v[K_TAKV].present) {
        char **tv = v[K_TAKV].s;
        t->takv.device = tv[0], t->takv.platform = tv[1], t->takv.os = tv[2],
        t->takv.version = tv[3];
        d->takv = &t->takv;
    }
    if (v[K_TRACK].present) {
        t->track.speed = v[K_TRACK].num[0], t->track.course = v[K_TRACK].num[1];
        d->track = &t->track;
    }
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
    struct kz_cot_split sp;

    takproto__tak_message__init(&m);
    takproto__cot_event__init(&c);
    takproto__detail__init(&d);
    memset(&sp, 0, sizeof(sp));
    m.cotevent = &c;
    c.type = str(ev->type), c.uid = str(ev->uid), c.how = str(ev->how);
    c.access = str(ev->access), c.qos = str(ev->qos), c.opex = str(ev->opex);
    c.sendtime = to_ms(ev->time), c.starttime = to_ms(ev->start), c.staletime = to_ms(ev->stale);
    c.lat = ev->lat, c.lon = ev->lon, c.hae = ev->hae, c.ce = ev->ce, c.le = ev->le;
    if (ev->detail) {
        /* What does not parse cannot be split: it stays whole in xmlDetail. */
        kz_cot_detail_split(ev->detail, ev->detail_len, kinds, K__COUNT, &sp);
        fill_typed(&sp, &t, &d);
        d.xmldetail = str(sp.rest.buf);
        c.detail = &d;
    }
    pack(&m, framed, out);
    kz_cot_split_release(&sp);
}

/* ---- TakMessage -> kz_event ------------------------------------------- */

/* The typed messages as values for kz_cot_detail_join(). */
static void typed_vals(const Takproto__Detail *d, struct kz_cot_typed_val *v)
{
    if (d->contact)
        v[K_CONTACT] = (struct kz_cot_typed_val){.present = true,
                                                 .s = {d->contact->endpoint, d->contact->callsign}};
    if (d->group)
        v[K_GROUP] =
            (struct kz_cot_typed_val){.present = true, .s = {d->group->name, d->group->role}};
    if (d->precisionlocation)
        v[K_PRECISION] = (struct kz_cot_typed_val){
            .present = true,
            .s = {d->precisionlocation->geopointsrc, d->precisionlocation->altsrc}};
    if (d->status) /* TAK caps the battery at INT_MAX. */
        v[K_STATUS] = (struct kz_cot_typed_val){
            .present = true,
            .num = {d->status->battery > INT32_MAX ? INT32_MAX : d->status->battery}};
    if (d->takv)
        v[K_TAKV] = (struct kz_cot_typed_val){
            .present = true,
            .s = {d->takv->device, d->takv->platform, d->takv->os, d->takv->version}};
    if (d->track)
        v[K_TRACK] =
            (struct kz_cot_typed_val){.present = true, .num = {d->track->speed, d->track->course}};
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

/* The event a CotEvent stands for: xmlDetail, then the typed messages it lacks. */
static int build_event(struct kz_cot_decoder *dec, const Takproto__CotEvent *c, struct kz_event *ev,
                       enum kz_reject *why, char *err, size_t errlen)
{
    struct kz_cot_typed_val v[K__COUNT] = {0};
    struct kz_cot_parts p = {
        .uid = c->uid,
        .type = c->type,
        .how = c->how,
        .access = c->access,
        .qos = c->qos,
        .opex = c->opex,
        .lat = c->lat,
        .lon = c->lon,
        .hae = c->hae,
        .ce = c->ce,
        .le = c->le,
        .kinds = kinds,
        .vals = v,
        .n_kinds = K__COUNT,
    };

    if (check_times(c, err, errlen) != KZ_OK) {
        *why = KZ_REJ_TIME;
        return KZ_ERR_PARSE;
    }
    /* In range now: the products fit. */
    p.time = (int64_t)c->sendtime * 1000, p.start = (int64_t)c->starttime * 1000;
    p.stale = (int64_t)c->staletime * 1000;
    if (c->detail) {
        p.detail = c->detail->xmldetail ? c->detail->xmldetail : "";
        p.detail_len = strlen(p.detail);
        typed_vals(c->detail, v);
    }
    return kz_cot_build(dec, &p, ev, why, err, errlen);
}

int kz_cot_decode_proto(struct kz_cot_decoder *dec, const void *buf, size_t len,
                        struct kz_event *ev, enum kz_reject *reason, char *errbuf, size_t errlen)
{
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
    } else {
        rc = build_event(dec, m->cotevent, ev, &why, err, sizeof(err));
    }
    if (m)
        takproto__tak_message__free_unpacked(m, NULL);
    if (rc != KZ_OK) {
        if (reason)
            *reason = why;
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", err);
    }
    return rc;
}
