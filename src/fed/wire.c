/*
 * wire.c - FederatedEvent <-> struct kz_event, as TAK Server's
 * ProtoBufHelper maps them.
 *
 * Sending: the GeoEvent carries the event's times (ms), point, uid, type,
 * how (coordSource) and access; the <detail> children TAK has typed fields
 * for move out of it -- contact (screenName, phone), __group, status
 * (battery), precisionlocation (ploc, palt), track (speed, course) and
 * <marti><dest/></marti> (ptpUids, ptpCallsigns, missionNames) -- when they
 * fit the fields exactly (kz_cot_detail_split()); the rest travels as the
 * whole "<detail>...</detail>" element in `other`.  A t-x-d-d goes as
 * contact{DELETE, uid = link uid, callsign = link type}, as TAK sends it.
 *
 * Receiving: the event is built by kz_cot_build() from other's content and
 * the typed fields other lacks, without writing it as XML: it is validated
 * exactly as the same CoT event from any other input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed/wire.h"
#include "proto/fig.pb-c.h"

/* 9999-12-31T23:59:59.999Z: the last instant an ISO 8601 year can name. */
#define MAX_TIME_MS 253402300799999LL

enum geo_kind { G_CONTACT, G_GROUP, G_PRECISION, G_STATUS, G_TRACK, G_MARTI, G__COUNT };

/* GeoEvent's typed fields, by the <detail> child each comes from. */
static const struct kz_cot_typed geo_kinds[G__COUNT] = {
    [G_CONTACT] = {"contact", NULL, {"callsign", "phone"}, 2, 2u, KZ_TYPED_TEXT, true},
    [G_GROUP] = {"__group", NULL, {"name", "role"}, 2, 0, KZ_TYPED_TEXT, true},
    [G_PRECISION] =
        {"precisionlocation", NULL, {"geopointsrc", "altsrc"}, 2, 0, KZ_TYPED_TEXT, true},
    [G_STATUS] = {"status", NULL, {"battery"}, 1, 0, KZ_TYPED_UINT31, true},
    [G_TRACK] = {"track", NULL, {"speed", "course"}, 2, 0, KZ_TYPED_REAL, true},
    [G_MARTI] = {"marti", "dest", {"uid", "callsign", "mission"}, 3, 0, KZ_TYPED_TEXT, false},
};

/* The link of a t-x-d-d, when it is the plain kind ATAK sends. */
static const struct kz_cot_typed link_kind = {
    "link", NULL, {"uid", "type", "relation"}, 3, 6u, KZ_TYPED_TEXT, false};

static char *str(const char *s)
{
    return (char *)(s ? s : "");
}

/* Write the reason for a refusal to err; returns -rc (decoders return kinds > 0). */
__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int rc,
                                                      const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -rc;
}

static int64_t to_ms(int64_t us)
{
    return us > 0 ? us / 1000 : 0;
}

/* ---- kz_event -> GeoEvent ------------------------------------------------- */

/* Storage the GeoEvent points into while it is packed. */
struct geo_out {
    struct kz_cot_split sp;
    struct kz_sbuf other;
    char **lists[3]; /* ptpUids, ptpCallsigns, missionNames */
    size_t n_lists[3];
};

static void fill_dests(struct geo_out *o, Com__Atakmap__GeoEvent *g)
{
    const struct kz_cot_typed_val *v = &o->sp.v[G_MARTI];

    for (unsigned j = 0; j < 3; j++)
        o->lists[j] = kz_xcalloc(v->n_items + 1, sizeof(char *));
    for (unsigned i = 0; i < v->n_items; i++) {
        unsigned j = v->which[i] % 3;
        o->lists[j][o->n_lists[j]++] = v->items[i];
    }
    g->n_ptpuids = o->n_lists[0], g->ptpuids = o->lists[0];
    g->n_ptpcallsigns = o->n_lists[1], g->ptpcallsigns = o->lists[1];
    g->n_missionnames = o->n_lists[2], g->missionnames = o->lists[2];
}

static void fill_typed(struct geo_out *o, Com__Atakmap__GeoEvent *g)
{
    struct kz_cot_typed_val *v = o->sp.v;

    if (v[G_CONTACT].present)
        g->screenname = str(v[G_CONTACT].s[0]), g->phone = str(v[G_CONTACT].s[1]);
    if (v[G_GROUP].present)
        g->groupname = str(v[G_GROUP].s[0]), g->grouprole = str(v[G_GROUP].s[1]);
    if (v[G_PRECISION].present)
        g->ploc = str(v[G_PRECISION].s[0]), g->palt = str(v[G_PRECISION].s[1]);
    if (v[G_STATUS].present)
        g->battery = (uint32_t)v[G_STATUS].num[0];
    if (v[G_TRACK].present)
        g->speed = v[G_TRACK].num[0], g->course = v[G_TRACK].num[1];
    if (v[G_MARTI].present)
        fill_dests(o, g);
}

static void geo_from_event(const struct kz_event *ev, Com__Atakmap__GeoEvent *g, struct geo_out *o)
{
    g->sendtime = to_ms(ev->time), g->starttime = to_ms(ev->start);
    g->staletime = to_ms(ev->stale);
    g->lat = ev->lat, g->lon = ev->lon, g->hae = ev->hae, g->ce = ev->ce, g->le = ev->le;
    g->uid = str(ev->uid), g->type = str(ev->type), g->coordsource = str(ev->how);
    g->access = str(ev->access);
    if (!ev->detail)
        return;
    /* What does not parse cannot be split: it stays whole in `other`. */
    kz_cot_detail_split(ev->detail, ev->detail_len, geo_kinds, G__COUNT, &o->sp);
    fill_typed(o, g);
    kz_sbuf_adds(&o->other, "<detail>");
    kz_sbuf_add(&o->other, o->sp.rest.buf, o->sp.rest.len);
    kz_sbuf_adds(&o->other, "</detail>");
    g->other = o->other.buf;
}

static void geo_out_release(struct geo_out *o)
{
    for (unsigned j = 0; j < 3; j++)
        free(o->lists[j]);
    kz_cot_split_release(&o->sp);
    kz_sbuf_release(&o->other);
}

/* ---- meta ------------------------------------------------------------------- */

/* Storage for the meta fields while the message is packed. */
struct meta_out {
    Com__Atakmap__FederateProvenance prov[KZ_FED_MAX_PROVENANCE];
    Com__Atakmap__FederateProvenance *provp[KZ_FED_MAX_PROVENANCE];
    Com__Atakmap__FederateHops hops;
};

static void meta_put(const struct kz_fed_meta *m, Com__Atakmap__FederatedEvent *fe,
                     struct meta_out *o)
{
    if (!m)
        return;
    unsigned n = m->n_provenance < KZ_FED_MAX_PROVENANCE ? m->n_provenance : KZ_FED_MAX_PROVENANCE;
    for (unsigned i = 0; i < n; i++) {
        com__atakmap__federate_provenance__init(&o->prov[i]);
        o->prov[i].federationserverid = str(m->provenance[i]);
        o->provp[i] = &o->prov[i];
    }
    fe->n_federateprovenance = n, fe->federateprovenance = o->provp;
    if (m->hops_current || m->hops_max) {
        com__atakmap__federate_hops__init(&o->hops);
        o->hops.currenthops = m->hops_current, o->hops.maxhops = m->hops_max;
        fe->federatehops = &o->hops;
    }
    fe->n_federategroups = m->n_groups, fe->federategroups = m->groups;
    fe->nodesequence = m->seq;
}

void kz_fed_meta_clear(struct kz_fed_meta *m)
{
    for (unsigned i = 0; i < m->n_provenance && i < KZ_FED_MAX_PROVENANCE; i++)
        free(m->provenance[i]);
    for (unsigned i = 0; i < m->n_groups; i++)
        free(m->groups[i]);
    free(m->groups);
    memset(m, 0, sizeof(*m));
}

static bool bounded(const char *s)
{
    return strnlen(s, KZ_FED_MAX_STRING + 1) <= KZ_FED_MAX_STRING;
}

static int meta_get(const Com__Atakmap__FederatedEvent *fe, struct kz_fed_meta *m, char *err,
                    size_t errlen)
{
    if (fe->n_federateprovenance > KZ_FED_MAX_PROVENANCE ||
        fe->n_federategroups > KZ_FED_MAX_GROUPS)
        return fail(err, errlen, KZ_ERR_TOOBIG, "%zu provenance entries, %zu groups",
                    fe->n_federateprovenance, fe->n_federategroups);
    for (size_t i = 0; i < fe->n_federateprovenance; i++) {
        const char *id = fe->federateprovenance[i]->federationserverid;
        if (!bounded(id))
            return fail(err, errlen, KZ_ERR_TOOBIG, "a provenance id is too long");
        m->provenance[m->n_provenance++] = kz_xstrdup(id);
    }
    if (fe->n_federategroups)
        m->groups = kz_xcalloc(fe->n_federategroups, sizeof(char *));
    for (size_t i = 0; i < fe->n_federategroups; i++) {
        if (!bounded(fe->federategroups[i]))
            return fail(err, errlen, KZ_ERR_TOOBIG, "a group name is too long");
        m->groups[m->n_groups++] = kz_xstrdup(fe->federategroups[i]);
    }
    if (fe->federatehops)
        m->hops_current = fe->federatehops->currenthops, m->hops_max = fe->federatehops->maxhops;
    m->seq = fe->nodesequence;
    return KZ_OK;
}

/* ---- encoding --------------------------------------------------------------- */

static void pack(const Com__Atakmap__FederatedEvent *fe, struct kz_sbuf *out)
{
    size_t n = com__atakmap__federated_event__get_packed_size(fe);

    kz_sbuf_grow(out, n + 1);
    com__atakmap__federated_event__pack(fe, (uint8_t *)out->buf + out->len);
    out->len += n;
    out->buf[out->len] = '\0';
}

void kz_fed_encode_contact(enum kz_fed_kind op, const char *uid, const char *callsign,
                           const struct kz_fed_meta *meta, struct kz_sbuf *out)
{
    Com__Atakmap__FederatedEvent fe = COM__ATAKMAP__FEDERATED_EVENT__INIT;
    Com__Atakmap__ContactListEntry c = COM__ATAKMAP__CONTACT_LIST_ENTRY__INIT;
    struct meta_out mo;

    c.operation = op == KZ_FED_CONTACT_DELETE ? COM__ATAKMAP__CONTACT_LIST_ENTRY__CRUD__DELETE
                                              : COM__ATAKMAP__CONTACT_LIST_ENTRY__CRUD__CREATE;
    c.uid = str(uid), c.callsign = str(callsign);
    fe.contact = &c;
    meta_put(meta, &fe, &mo);
    pack(&fe, out);
}

/* The link type of a t-x-d-d ("" when its <link> is not the plain kind). */
static char *link_type(const struct kz_event *ev)
{
    struct kz_cot_split sp;
    char *type = NULL;

    if (ev->detail &&
        kz_cot_detail_split(ev->detail, ev->detail_len, &link_kind, 1, &sp) == KZ_OK &&
        sp.v[0].present)
        type = kz_xstrdup(sp.v[0].s[1]);
    if (ev->detail)
        kz_cot_split_release(&sp);
    return type;
}

void kz_fed_encode_event(const struct kz_event *ev, const struct kz_fed_meta *meta,
                         struct kz_sbuf *out)
{
    Com__Atakmap__FederatedEvent fe = COM__ATAKMAP__FEDERATED_EVENT__INIT;
    Com__Atakmap__GeoEvent g = COM__ATAKMAP__GEO_EVENT__INIT;
    struct geo_out o = {.other = KZ_SBUF_INIT};
    struct meta_out mo;

    if (kz_cot_type_is(ev, "t-x-d-d") && ev->link_uid) {
        char *type = link_type(ev);
        kz_fed_encode_contact(KZ_FED_CONTACT_DELETE, ev->link_uid, type, meta, out);
        free(type);
        return;
    }
    geo_from_event(ev, &g, &o);
    fe.event = &g;
    meta_put(meta, &fe, &mo);
    pack(&fe, out);
    geo_out_release(&o);
}

/* ---- decoding --------------------------------------------------------------- */

static bool time_ok(int64_t ms)
{
    return ms >= 0 && ms <= MAX_TIME_MS;
}

/* The content of `other`: "<detail ...>...</detail>" as TAK sends it (or bare content). */
static int other_content(const char *other, const char **p, size_t *n, char *err, size_t errlen)
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
        return fail(err, errlen, KZ_ERR_PARSE, "GeoEvent.other is not a plain <detail> element");
    *p = other + 8, *n = len - 17;
    return KZ_OK;
}

/* The typed fields as values for kz_cot_detail_join(); `items` holds the dest lists. */
static void geo_vals(const Com__Atakmap__GeoEvent *g, struct kz_cot_typed_val *v, char **items,
                     unsigned *which)
{
    struct kz_cot_typed_val *m = &v[G_MARTI];

    v[G_CONTACT] = (struct kz_cot_typed_val){.s = {g->screenname, g->phone}};
    v[G_GROUP] = (struct kz_cot_typed_val){.s = {g->groupname, g->grouprole}};
    v[G_PRECISION] = (struct kz_cot_typed_val){.s = {g->ploc, g->palt}};
    v[G_STATUS] =
        (struct kz_cot_typed_val){.num = {g->battery > INT32_MAX ? INT32_MAX : g->battery}};
    v[G_TRACK] = (struct kz_cot_typed_val){.num = {g->speed, g->course}};
    for (unsigned k = G_CONTACT; k <= G_PRECISION; k++)
        v[k].present = *str(v[k].s[0]) || *str(v[k].s[1]);
    v[G_STATUS].present = g->battery != 0;
    v[G_TRACK].present = g->speed != 0 || g->course != 0;
    char **lists[3] = {g->ptpuids, g->ptpcallsigns, g->missionnames};
    size_t counts[3] = {g->n_ptpuids, g->n_ptpcallsigns, g->n_missionnames};
    m->items = items, m->which = which;
    for (unsigned j = 0; j < 3; j++)
        for (size_t i = 0; i < counts[j]; i++)
            items[m->n_items] = lists[j][i], which[m->n_items++] = j;
    m->present = m->n_items > 0;
}

static bool dests_ok(const Com__Atakmap__GeoEvent *g)
{
    return g->n_ptpuids + g->n_ptpcallsigns + g->n_missionnames <= KZ_FED_MAX_DESTS;
}

static int build(struct kz_cot_decoder *dec, const struct kz_cot_parts *p, struct kz_event *ev,
                 char *err, size_t errlen)
{
    enum kz_reject why;
    int rc = kz_cot_build(dec, p, ev, &why, err, errlen);

    return rc == KZ_OK ? KZ_OK : -rc;
}

/* The event a GeoEvent stands for: other's content, then the typed fields other lacks. */
static int decode_geo(struct kz_cot_decoder *dec, const Com__Atakmap__GeoEvent *g,
                      struct kz_event *ev, char *err, size_t errlen)
{
    struct kz_cot_typed_val v[G__COUNT] = {0};
    char *items[KZ_FED_MAX_DESTS];
    unsigned which[KZ_FED_MAX_DESTS];
    struct kz_cot_parts p = {
        .uid = g->uid,
        .type = g->type,
        .how = g->coordsource,
        .access = g->access,
        .lat = g->lat,
        .lon = g->lon,
        .hae = g->hae,
        .ce = g->ce,
        .le = g->le,
        .kinds = geo_kinds,
        .vals = v,
        .n_kinds = G__COUNT,
    };
    const char *content;
    bool has;

    if (!time_ok(g->sendtime) || !time_ok(g->starttime) || !time_ok(g->staletime))
        return fail(err, errlen, KZ_ERR_PARSE,
                    "a time is out of range (send %lld, start %lld, "
                    "stale %lld ms)",
                    (long long)g->sendtime, (long long)g->starttime, (long long)g->staletime);
    if (!dests_ok(g))
        return fail(err, errlen, KZ_ERR_TOOBIG, "more than %d destinations", KZ_FED_MAX_DESTS);
    /* In range now: the products fit. */
    p.time = g->sendtime * 1000, p.start = g->starttime * 1000, p.stale = g->staletime * 1000;
    int rc = other_content(str(g->other), &content, &p.detail_len, err, errlen);
    if (rc != KZ_OK)
        return rc;
    geo_vals(g, v, items, which);
    has = *str(g->other) != '\0';
    for (unsigned k = 0; k < G__COUNT; k++)
        has = has || v[k].present;
    p.detail = has ? content : NULL;
    rc = build(dec, &p, ev, err, errlen);
    return rc == KZ_OK ? KZ_FED_EVENT : rc;
}

/* The t-x-d-d a contact DELETE stands for, as TAK Server rebuilds it. */
static int decode_delete(struct kz_cot_decoder *dec, const Com__Atakmap__ContactListEntry *c,
                         struct kz_event *ev, char *err, size_t errlen)
{
    struct kz_sbuf detail = KZ_SBUF_INIT, uid = KZ_SBUF_INIT;
    int64_t now = kz_now_us();
    struct kz_cot_parts p = {.type = "t-x-d-d",
                             .how = "h-g-i-g-o",
                             .time = now,
                             .start = now,
                             .stale = now + 60 * 1000000LL,
                             .hae = KZ_POINT_UNKNOWN,
                             .ce = KZ_POINT_UNKNOWN,
                             .le = KZ_POINT_UNKNOWN};

    kz_sbuf_addf(&uid, "%s.delete", c->uid);
    kz_cot_detail_element(&detail, "link",
                          (const char *const[]){"uid", c->uid, "relation", "none", "type",
                                                *c->callsign ? c->callsign : "none", NULL},
                          NULL);
    kz_cot_detail_element(&detail, "__forcedelete", NULL, NULL);
    p.uid = uid.buf, p.detail = detail.buf, p.detail_len = detail.len;
    int rc = build(dec, &p, ev, err, errlen);
    kz_sbuf_release(&detail);
    kz_sbuf_release(&uid);
    return rc;
}

static int decode_contact(struct kz_cot_decoder *dec, const Com__Atakmap__ContactListEntry *c,
                          struct kz_event *ev, char *err, size_t errlen)
{
    int rc;

    if (!*c->uid || strlen(c->uid) > KZ_COT_UID_MAX - 8 || !bounded(c->callsign))
        return fail(err, errlen, KZ_ERR_PARSE, "contact uid empty or too long");
    switch (c->operation) {
    case COM__ATAKMAP__CONTACT_LIST_ENTRY__CRUD__CREATE:
        ev->uid = kz_xstrdup(c->uid);
        ev->callsign = *c->callsign ? kz_xstrdup(c->callsign) : NULL;
        return KZ_FED_CONTACT_CREATE;
    case COM__ATAKMAP__CONTACT_LIST_ENTRY__CRUD__DELETE:
        rc = decode_delete(dec, c, ev, err, errlen);
        return rc == KZ_OK ? KZ_FED_CONTACT_DELETE : rc;
    default:
        return fail(err, errlen, KZ_ERR_PARSE, "contact operation %d is not CREATE or DELETE",
                    (int)c->operation);
    }
}

int kz_fed_decode(struct kz_cot_decoder *dec, const void *buf, size_t len, struct kz_event *ev,
                  struct kz_fed_meta *meta, char *err, size_t errlen)
{
    Com__Atakmap__FederatedEvent *fe = NULL;
    int rc;

    kz_event_clear(ev);
    memset(meta, 0, sizeof(*meta));
    if (len > KZ_FED_MAX_MESSAGE)
        return fail(err, errlen, KZ_ERR_TOOBIG, "FederatedEvent of %zu bytes (max %u)", len,
                    KZ_FED_MAX_MESSAGE);
    fe = com__atakmap__federated_event__unpack(NULL, len, buf);
    if (!fe)
        rc = fail(err, errlen, KZ_ERR_PARSE, "%zu bytes do not decode as a FederatedEvent", len);
    else if ((rc = meta_get(fe, meta, err, errlen)) != KZ_OK)
        ;
    else if (fe->event)
        rc = decode_geo(dec, fe->event, ev, err, errlen);
    else if (fe->contact)
        rc = decode_contact(dec, fe->contact, ev, err, errlen);
    else
        rc = fail(err, errlen, KZ_ERR_PARSE, "FederatedEvent carries neither event nor contact");
    if (fe)
        com__atakmap__federated_event__free_unpacked(fe, NULL);
    if (rc <= 0) {
        kz_event_clear(ev);
        kz_fed_meta_clear(meta);
    }
    return rc;
}

/* ---- federation v1 framing ------------------------------------------------ */

void kz_fed_v1_frame(const void *msg, size_t len, struct kz_sbuf *out)
{
    uint32_t n = (uint32_t)len;
    unsigned char hdr[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};

    kz_sbuf_add(out, hdr, 4);
    if (len)
        kz_sbuf_add(out, msg, len);
}

/* Call fn for each whole message in r->buf; keep the incomplete tail. */
static int v1_drain(struct kz_fed_v1_reader *r,
                    void (*fn)(void *ud, const uint8_t *msg, size_t len), void *ud)
{
    const uint8_t *p = (const uint8_t *)r->buf.buf;
    size_t at = 0;

    while (r->buf.len - at >= 4) {
        size_t n =
            (size_t)p[at] << 24 | (size_t)p[at + 1] << 16 | (size_t)p[at + 2] << 8 | p[at + 3];
        if (n > r->max)
            return KZ_ERR_TOOBIG;
        if (r->buf.len - at - 4 < n)
            break;
        fn(ud, p + at + 4, n);
        at += 4 + n;
    }
    if (at) {
        memmove(r->buf.buf, r->buf.buf + at, r->buf.len - at);
        r->buf.len -= at;
        r->buf.buf[r->buf.len] = '\0';
    }
    return KZ_OK;
}

int kz_fed_v1_feed(struct kz_fed_v1_reader *r, const char *data, size_t len,
                   void (*fn)(void *ud, const uint8_t *msg, size_t len), void *ud)
{
    if (!r->max)
        r->max = KZ_FED_MAX_MESSAGE;
    if (len)
        kz_sbuf_add(&r->buf, data, len);
    return v1_drain(r, fn, ud);
}

void kz_fed_v1_reader_release(struct kz_fed_v1_reader *r)
{
    kz_sbuf_release(&r->buf);
}

/* ---- Subscription, health, FederateGroups -------------------------------- */

static void pack_msg(const ProtobufCMessage *m, struct kz_sbuf *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);

    kz_sbuf_grow(out, n + 1);
    protobuf_c_message_pack(m, (uint8_t *)out->buf + out->len);
    out->len += n;
    out->buf[out->len] = '\0';
}

void kz_fed_encode_subscription(const char *name, const char *uid, const char *server_id,
                                int identity_type, const char *filter, struct kz_sbuf *out)
{
    Com__Atakmap__Subscription s = COM__ATAKMAP__SUBSCRIPTION__INIT;
    Com__Atakmap__Identity id = COM__ATAKMAP__IDENTITY__INIT;

    id.name = str(name), id.uid = str(uid), id.serverid = str(server_id);
    id.type = (Com__Atakmap__Identity__ConnectionType)identity_type;
    s.identity = &id;
    s.filter = str(filter);
    pack_msg(&s.base, out);
}

int kz_fed_decode_subscription(const void *buf, size_t len, char *server_id, size_t cap)
{
    if (len > KZ_FED_MAX_MESSAGE)
        return KZ_ERR_TOOBIG;
    Com__Atakmap__Subscription *s = com__atakmap__subscription__unpack(NULL, len, buf);
    if (!s)
        return KZ_ERR_PARSE;
    if (server_id && cap)
        snprintf(server_id, cap, "%s", s->identity ? s->identity->serverid : "");
    com__atakmap__subscription__free_unpacked(s, NULL);
    return KZ_OK;
}

void kz_fed_encode_client_health(int status, struct kz_sbuf *out)
{
    Com__Atakmap__ClientHealth h = COM__ATAKMAP__CLIENT_HEALTH__INIT;

    h.status = (Com__Atakmap__ClientHealth__ServingStatus)status;
    pack_msg(&h.base, out);
}

void kz_fed_encode_server_health(int status, struct kz_sbuf *out)
{
    Com__Atakmap__ServerHealth h = COM__ATAKMAP__SERVER_HEALTH__INIT;

    h.status = (Com__Atakmap__ServerHealth__ServingStatus)status;
    pack_msg(&h.base, out);
}

/* Both health messages are one enum in field 1, so either decoder reads either. */
int kz_fed_decode_health(const void *buf, size_t len, int *status)
{
    if (len > KZ_FED_MAX_MESSAGE)
        return KZ_ERR_PARSE;
    Com__Atakmap__ServerHealth *h = com__atakmap__server_health__unpack(NULL, len, buf);
    if (!h)
        return KZ_ERR_PARSE;
    *status = (int)h->status;
    com__atakmap__server_health__free_unpacked(h, NULL);
    return KZ_OK;
}

void kz_fed_encode_groups(int health_status, char *const *groups, unsigned n, struct kz_sbuf *out)
{
    Com__Atakmap__FederateGroups g = COM__ATAKMAP__FEDERATE_GROUPS__INIT;
    Com__Atakmap__ServerHealth h = COM__ATAKMAP__SERVER_HEALTH__INIT;

    h.status = (Com__Atakmap__ServerHealth__ServingStatus)health_status;
    g.streamupdate = &h;
    g.n_federategroups = n, g.federategroups = (char **)groups;
    pack_msg(&g.base, out);
}
