/*
 * typed_roundtrip_ref.h - the decoders TAK protocol v1 and federation had
 * before kz_cot_build(): the message written back as an <event> document
 * (kz_cot_detail_join(), kz_cot_encode_xml()) and parsed by kz_cot_decode().
 * Kept here, and only here, as the reference the direct path must equal
 * (tests/unit/test_fed_wire_direct.c).  Include after cot/cot.h, fed/wire.h
 * and the generated protobuf headers.
 */
#ifndef KZ_TEST_TYPED_ROUNDTRIP_REF_H
#define KZ_TEST_TYPED_ROUNDTRIP_REF_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "fed/wire.h"
#include "proto/fig.pb-c.h"
#include "proto/takmessage.pb-c.h"

/* ---- TAK protocol v1 (src/cot/proto.c before) ------------------------- */

enum ref_kind { RK_CONTACT, RK_GROUP, RK_PRECISION, RK_STATUS, RK_TAKV, RK_TRACK, RK__COUNT };

__attribute__((unused)) static const struct kz_cot_typed ref_kinds[RK__COUNT] = {
    [RK_CONTACT] = {"contact", NULL, {"endpoint", "callsign"}, 2, 1u, KZ_TYPED_TEXT, false},
    [RK_GROUP] = {"__group", NULL, {"name", "role"}, 2, 0, KZ_TYPED_TEXT, false},
    [RK_PRECISION] =
        {"precisionlocation", NULL, {"geopointsrc", "altsrc"}, 2, 0, KZ_TYPED_TEXT, false},
    [RK_STATUS] = {"status", NULL, {"battery"}, 1, 0, KZ_TYPED_UINT31, false},
    [RK_TAKV] = {"takv", NULL, {"device", "platform", "os", "version"}, 4, 0, KZ_TYPED_TEXT, false},
    [RK_TRACK] = {"track", NULL, {"speed", "course"}, 2, 0, KZ_TYPED_REAL, false},
};

#define REF_MAX_TIME_MS 253402300799999ULL

static inline void ref_typed_vals(const Takproto__Detail *d, struct kz_cot_typed_val *v)
{
    if (d->contact)
        v[RK_CONTACT] = (struct kz_cot_typed_val){
            .present = true, .s = {d->contact->endpoint, d->contact->callsign}};
    if (d->group)
        v[RK_GROUP] =
            (struct kz_cot_typed_val){.present = true, .s = {d->group->name, d->group->role}};
    if (d->precisionlocation)
        v[RK_PRECISION] = (struct kz_cot_typed_val){
            .present = true,
            .s = {d->precisionlocation->geopointsrc, d->precisionlocation->altsrc}};
    if (d->status)
        v[RK_STATUS] = (struct kz_cot_typed_val){
            .present = true,
            .num = {d->status->battery > INT32_MAX ? INT32_MAX : d->status->battery}};
    if (d->takv)
        v[RK_TAKV] = (struct kz_cot_typed_val){
            .present = true,
            .s = {d->takv->device, d->takv->platform, d->takv->os, d->takv->version}};
    if (d->track)
        v[RK_TRACK] =
            (struct kz_cot_typed_val){.present = true, .num = {d->track->speed, d->track->course}};
}

static inline int ref_rebuild_event(const Takproto__CotEvent *c, struct kz_sbuf *xml,
                                    enum kz_reject *why, char *err, size_t errlen)
{
    struct kz_event ev;
    struct kz_sbuf detail = KZ_SBUF_INIT;

    if (c->sendtime > REF_MAX_TIME_MS || c->starttime > REF_MAX_TIME_MS ||
        c->staletime > REF_MAX_TIME_MS) {
        snprintf(err, errlen, "a time is past the year 9999 (send %llu, start %llu, stale %llu ms)",
                 (unsigned long long)c->sendtime, (unsigned long long)c->starttime,
                 (unsigned long long)c->staletime);
        *why = KZ_REJ_TIME;
        return KZ_ERR_PARSE;
    }
    if (c->detail) {
        struct kz_cot_typed_val v[RK__COUNT] = {0};
        const char *xd = c->detail->xmldetail ? c->detail->xmldetail : "";
        ref_typed_vals(c->detail, v);
        if (kz_cot_detail_join(xd, strlen(xd), ref_kinds, RK__COUNT, v, &detail, err, errlen) !=
            KZ_OK) {
            kz_sbuf_release(&detail);
            *why = KZ_REJ_XML;
            return KZ_ERR_PARSE;
        }
    }
    kz_event_init(&ev);
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

static inline int ref_decode_proto(struct kz_cot_decoder *d, const void *buf, size_t len,
                                   struct kz_event *ev, enum kz_reject *reason, char *errbuf,
                                   size_t errlen)
{
    struct kz_sbuf xml = KZ_SBUF_INIT;
    enum kz_reject why = KZ_REJ_PROTO;
    char err[192] = "";
    int rc = KZ_ERR_PARSE;

    kz_event_clear(ev);
    Takproto__TakMessage *m = takproto__tak_message__unpack(NULL, len, buf);
    if (!m) {
        snprintf(err, sizeof(err), "TakMessage of %zu bytes does not decode as protobuf", len);
    } else if (!m->cotevent) {
        rc = KZ_ERR_NOTFOUND;
        snprintf(err, sizeof(err), "TakMessage carries no cotEvent");
    } else if ((rc = ref_rebuild_event(m->cotevent, &xml, &why, err, sizeof(err))) == KZ_OK) {
        rc = kz_cot_decode(d, xml.buf, xml.len, ev, &why, err, sizeof(err));
    }
    if (m)
        takproto__tak_message__free_unpacked(m, NULL);
    kz_sbuf_release(&xml);
    if (rc != KZ_OK) {
        *reason = why;
        snprintf(errbuf, errlen, "%s", err);
    }
    return rc;
}

/* ---- federation GeoEvent (src/fed/wire.c before) ----------------------- */

enum ref_geo { RG_CONTACT, RG_GROUP, RG_PRECISION, RG_STATUS, RG_TRACK, RG_MARTI, RG__COUNT };

__attribute__((unused)) static const struct kz_cot_typed ref_geo_kinds[RG__COUNT] = {
    [RG_CONTACT] = {"contact", NULL, {"callsign", "phone"}, 2, 2u, KZ_TYPED_TEXT, true},
    [RG_GROUP] = {"__group", NULL, {"name", "role"}, 2, 0, KZ_TYPED_TEXT, true},
    [RG_PRECISION] =
        {"precisionlocation", NULL, {"geopointsrc", "altsrc"}, 2, 0, KZ_TYPED_TEXT, true},
    [RG_STATUS] = {"status", NULL, {"battery"}, 1, 0, KZ_TYPED_UINT31, true},
    [RG_TRACK] = {"track", NULL, {"speed", "course"}, 2, 0, KZ_TYPED_REAL, true},
    [RG_MARTI] = {"marti", "dest", {"uid", "callsign", "mission"}, 3, 0, KZ_TYPED_TEXT, false},
};

static inline const char *ref_str(const char *s)
{
    return s ? s : "";
}

static inline int ref_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int ref_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -rc;
}

static inline int ref_other_content(const char *other, const char **p, size_t *n, char *err,
                                    size_t errlen)
{
    size_t len = strlen(other);

    *p = other, *n = len;
    if (strncmp(other, "<detail", 7) != 0)
        return KZ_OK;
    if (strcmp(other, "<detail/>") == 0) {
        *n = 0;
        return KZ_OK;
    }
    if (strncmp(other, "<detail>", 8) != 0 || len < 17 || strcmp(other + len - 9, "</detail>") != 0)
        return ref_fail(err, errlen, KZ_ERR_PARSE,
                        "GeoEvent.other is not a plain <detail> element");
    *p = other + 8, *n = len - 17;
    return KZ_OK;
}

static inline void ref_geo_vals(const Com__Atakmap__GeoEvent *g, struct kz_cot_typed_val *v,
                                char **items, unsigned *which)
{
    struct kz_cot_typed_val *m = &v[RG_MARTI];

    v[RG_CONTACT] = (struct kz_cot_typed_val){.s = {g->screenname, g->phone}};
    v[RG_GROUP] = (struct kz_cot_typed_val){.s = {g->groupname, g->grouprole}};
    v[RG_PRECISION] = (struct kz_cot_typed_val){.s = {g->ploc, g->palt}};
    v[RG_STATUS] =
        (struct kz_cot_typed_val){.num = {g->battery > INT32_MAX ? INT32_MAX : g->battery}};
    v[RG_TRACK] = (struct kz_cot_typed_val){.num = {g->speed, g->course}};
    for (unsigned k = RG_CONTACT; k <= RG_PRECISION; k++)
        v[k].present = *ref_str(v[k].s[0]) || *ref_str(v[k].s[1]);
    v[RG_STATUS].present = g->battery != 0;
    v[RG_TRACK].present = g->speed != 0 || g->course != 0;
    char **lists[3] = {g->ptpuids, g->ptpcallsigns, g->missionnames};
    size_t counts[3] = {g->n_ptpuids, g->n_ptpcallsigns, g->n_missionnames};
    m->items = items, m->which = which;
    for (unsigned j = 0; j < 3; j++)
        for (size_t i = 0; i < counts[j]; i++)
            items[m->n_items] = lists[j][i], which[m->n_items++] = j;
    m->present = m->n_items > 0;
}

static inline int ref_geo_xml(const Com__Atakmap__GeoEvent *g, struct kz_sbuf *xml, char *err,
                              size_t errlen)
{
    struct kz_cot_typed_val v[RG__COUNT] = {0};
    char *items[KZ_FED_MAX_DESTS];
    unsigned which[KZ_FED_MAX_DESTS];
    struct kz_sbuf detail = KZ_SBUF_INIT;
    struct kz_event ev;
    const char *p;
    size_t n;
    bool has;

    if (g->sendtime < 0 || g->sendtime > (int64_t)REF_MAX_TIME_MS || g->starttime < 0 ||
        g->starttime > (int64_t)REF_MAX_TIME_MS || g->staletime < 0 ||
        g->staletime > (int64_t)REF_MAX_TIME_MS)
        return ref_fail(err, errlen, KZ_ERR_PARSE,
                        "a time is out of range (send %lld, start %lld, stale %lld ms)",
                        (long long)g->sendtime, (long long)g->starttime, (long long)g->staletime);
    if (g->n_ptpuids + g->n_ptpcallsigns + g->n_missionnames > KZ_FED_MAX_DESTS)
        return ref_fail(err, errlen, KZ_ERR_TOOBIG, "more than %d destinations", KZ_FED_MAX_DESTS);
    int rc = ref_other_content(ref_str(g->other), &p, &n, err, errlen);
    if (rc != KZ_OK)
        return rc;
    ref_geo_vals(g, v, items, which);
    has = *ref_str(g->other) != '\0';
    for (unsigned k = 0; k < RG__COUNT; k++)
        has = has || v[k].present;
    if (has &&
        kz_cot_detail_join(p, n, ref_geo_kinds, RG__COUNT, v, &detail, err, errlen) != KZ_OK) {
        kz_sbuf_release(&detail);
        return -KZ_ERR_PARSE;
    }
    kz_event_init(&ev);
    ev.uid = g->uid, ev.type = g->type, ev.how = *g->coordsource ? g->coordsource : NULL;
    ev.access = *g->access ? g->access : NULL;
    ev.time = g->sendtime * 1000, ev.start = g->starttime * 1000;
    ev.stale = g->staletime * 1000;
    ev.lat = g->lat, ev.lon = g->lon, ev.hae = g->hae, ev.ce = g->ce, ev.le = g->le;
    if (has)
        ev.detail = detail.buf ? detail.buf : (char *)"", ev.detail_len = detail.len;
    kz_cot_encode_xml(&ev, xml);
    kz_sbuf_release(&detail);
    return KZ_OK;
}

/* The event of a FederatedEvent carrying a GeoEvent: its kind or a negated KZ_ERR_*. */
static inline int ref_decode_geo(struct kz_cot_decoder *d, const Com__Atakmap__GeoEvent *g,
                                 struct kz_event *ev, char *err, size_t errlen)
{
    struct kz_sbuf xml = KZ_SBUF_INIT;
    enum kz_reject why;
    int rc = ref_geo_xml(g, &xml, err, errlen);

    if (rc == KZ_OK) {
        rc = kz_cot_decode(d, xml.buf, xml.len, ev, &why, err, errlen);
        rc = rc == KZ_OK ? KZ_OK : -rc;
    }
    kz_sbuf_release(&xml);
    return rc == KZ_OK ? KZ_FED_EVENT : rc;
}

/* ---- comparison without a test framework (the fuzz targets) ------------- */

static inline bool ref_same_str(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (!a || strcmp(a, b) == 0);
}

/* Every field of struct kz_event the decoders set, compared. */
static inline bool ref_same_event(const struct kz_event *a, const struct kz_event *b)
{
    const char *const sa[] = {a->version,   a->uid,         a->type,       a->how,
                              a->access,    a->qos,         a->opex,       a->callsign,
                              a->endpoint,  a->group_name,  a->group_role, a->link_uid,
                              a->chat_room, a->chat_sender, a->remarks};
    const char *const sb[] = {b->version,   b->uid,         b->type,       b->how,
                              b->access,    b->qos,         b->opex,       b->callsign,
                              b->endpoint,  b->group_name,  b->group_role, b->link_uid,
                              b->chat_room, b->chat_sender, b->remarks};
    const double na[] = {a->lat, a->lon, a->hae, a->ce, a->le};
    const double nb[] = {b->lat, b->lon, b->hae, b->ce, b->le};

    for (size_t i = 0; i < sizeof(sa) / sizeof(sa[0]); i++)
        if (!ref_same_str(sa[i], sb[i]))
            return false;
    if (a->time != b->time || a->start != b->start || a->stale != b->stale ||
        memcmp(na, nb, sizeof(na)) != 0 || (a->detail == NULL) != (b->detail == NULL) ||
        a->detail_len != b->detail_len || a->n_dests != b->n_dests)
        return false;
    if (a->detail && memcmp(a->detail, b->detail, a->detail_len) != 0)
        return false;
    for (unsigned i = 0; i < a->n_dests; i++)
        if (!ref_same_str(a->dests[i].callsign, b->dests[i].callsign) ||
            !ref_same_str(a->dests[i].uid, b->dests[i].uid) ||
            !ref_same_str(a->dests[i].mission, b->dests[i].mission))
            return false;
    return true;
}

/* The meta kz_fed_decode() refuses before it reads the event. */
static inline bool ref_meta_ok(const Com__Atakmap__FederatedEvent *fe)
{
    if (fe->n_federateprovenance > KZ_FED_MAX_PROVENANCE ||
        fe->n_federategroups > KZ_FED_MAX_GROUPS)
        return false;
    for (size_t i = 0; i < fe->n_federateprovenance; i++)
        if (strlen(fe->federateprovenance[i]->federationserverid) > KZ_FED_MAX_STRING)
            return false;
    for (size_t i = 0; i < fe->n_federategroups; i++)
        if (strlen(fe->federategroups[i]) > KZ_FED_MAX_STRING)
            return false;
    return true;
}

#endif
