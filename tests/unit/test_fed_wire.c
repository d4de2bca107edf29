/* Unit tests for the federation wire (src/fed/wire.c): FederatedEvent <-> kz_event, v1 framing. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cot_decode_helpers.h"
#include "fed/wire.h"
#include "proto/fig.pb-c.h"

#define T0 "2020-12-16T19:59:34.913Z"
#define T1 "2020-12-16T20:05:49.913Z"
#define T0_MS 1608148774913LL
#define HEAD                                                                                       \
    "<event version=\"2.0\" uid=\"U-1\" type=\"a-f-G-U-C\" how=\"m-g\" time=\"" T0                 \
    "\" start=\"" T0 "\" stale=\"" T1 "\" access=\"UNCLASSIFIED//REL TO USA, JPN\">"               \
    "<point lat=\"35.6762\" lon=\"139.6503\" hae=\"40.2\" ce=\"9.9\" le=\"9999999.0\"/>"

/* An ATAK self-SA: contact has an endpoint (no GeoEvent field), so it stays in `other`. */
static const char sa_xml[] =
    HEAD "<detail><takv os=\"29\" version=\"4.2.0.4\" device=\"SM-G975U1\" platform=\"ATAK-CIV\"/>"
         "<contact endpoint=\"*:-1:stcp\" callsign=\"JENNY\"/><uid Droid=\"JENNY\"/>"
         "<precisionlocation altsrc=\"GPS\" geopointsrc=\"USER\"/><__group role=\"Team Member\" "
         "name=\"Cyan\"/><status battery=\"78\"/><track course=\"80.24833892285461\" "
         "speed=\"0.0\"/></detail></event>";

/* A TAK-Server style contact (callsign, phone) and an addressed chat. */
static const char chat_xml[] =
    HEAD "<detail><contact callsign=\"ALPHA\" phone=\"+15555\"/><remarks>hi</remarks>"
         "<marti><dest uid=\"ANDROID-2\"/><dest callsign=\"BRAVO\"/><dest mission=\"m1\"/></marti>"
         "</detail></event>";

static const char delete_xml[] =
    "<event version=\"2.0\" uid=\"D-1\" type=\"t-x-d-d\" how=\"h-g-i-g-o\" time=\"" T0
    "\" start=\"" T0 "\" stale=\"" T1 "\"><point lat=\"0\" lon=\"0\" hae=\"0\" ce=\"0\" "
    "le=\"0\"/><detail><link uid=\"ANDROID-9\" relation=\"none\" type=\"a-f-G\"/><__forcedelete/>"
    "</detail></event>";

static void decode_xml(const char *xml, size_t len, struct kz_event *ev)
{
    enum kz_reject why;
    char err[200];

    kz_event_init(ev);
    if (kz_cot_decode(dec, xml, len, ev, &why, err, sizeof(err)) != KZ_OK)
        fail_msg("decode: %s", err);
}

static Com__Atakmap__FederatedEvent *to_msg(const struct kz_event *ev,
                                            const struct kz_fed_meta *meta)
{
    struct kz_sbuf b = KZ_SBUF_INIT;

    kz_fed_encode_event(ev, meta, &b);
    Com__Atakmap__FederatedEvent *m =
        com__atakmap__federated_event__unpack(NULL, b.len, (const uint8_t *)b.buf);
    assert_non_null(m);
    kz_sbuf_release(&b);
    return m;
}

static int from_bytes(const struct kz_sbuf *b, struct kz_event *ev, struct kz_fed_meta *meta,
                      char *err, size_t errlen)
{
    kz_event_init(ev);
    return kz_fed_decode(dec, b->buf, b->len, ev, meta, err, errlen);
}

static int from_msg(Com__Atakmap__FederatedEvent *m, struct kz_event *ev, struct kz_fed_meta *meta)
{
    struct kz_sbuf b = KZ_SBUF_INIT;
    size_t n = com__atakmap__federated_event__get_packed_size(m);
    char err[200] = "";

    kz_sbuf_grow(&b, n + 1);
    com__atakmap__federated_event__pack(m, (uint8_t *)b.buf);
    b.len = n;
    int rc = from_bytes(&b, ev, meta, err, sizeof(err));
    kz_sbuf_release(&b);
    return rc;
}

/* Everything federation carries reads back the same; the wire form is a fixpoint. */
static void assert_same(const struct kz_event *a, const struct kz_event *b)
{
    assert_str_eq(a->uid, b->uid);
    assert_str_eq(a->type, b->type);
    assert_str_eq(a->how, b->how);
    assert_str_eq(a->access, b->access);
    assert_int_equal(a->time / 1000, b->time / 1000);
    assert_int_equal(a->start / 1000, b->start / 1000);
    assert_int_equal(a->stale / 1000, b->stale / 1000);
    assert_true(a->lat == b->lat && a->lon == b->lon && a->hae == b->hae);
    assert_true(a->ce == b->ce && a->le == b->le);
    assert_true((a->detail == NULL) == (b->detail == NULL));
    assert_same_parsed(a, b);
    struct kz_sbuf x = KZ_SBUF_INIT, y = KZ_SBUF_INIT;
    kz_fed_encode_event(a, NULL, &x);
    kz_fed_encode_event(b, NULL, &y);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.buf, y.buf, x.len);
    kz_sbuf_release(&x);
    kz_sbuf_release(&y);
}

static void round_trip(const struct kz_event *in, struct kz_event *out)
{
    struct kz_sbuf b = KZ_SBUF_INIT;
    struct kz_fed_meta meta;
    char err[200] = "";

    kz_fed_encode_event(in, NULL, &b);
    int rc = from_bytes(&b, out, &meta, err, sizeof(err));
    if (rc != KZ_FED_EVENT)
        fail_msg("kz_fed_decode: %d %s", rc, err);
    kz_fed_meta_clear(&meta);
    kz_sbuf_release(&b);
}

static void test_sa_typed_fields(void **state)
{
    struct kz_event ev, back;

    KZ_UNUSED(state);
    decode_xml(sa_xml, sizeof(sa_xml) - 1, &ev);
    Com__Atakmap__FederatedEvent *m = to_msg(&ev, NULL);
    Com__Atakmap__GeoEvent *g = m->event;
    assert_non_null(g);
    assert_null(m->contact);
    assert_string_equal(g->uid, "U-1");
    assert_string_equal(g->type, "a-f-G-U-C");
    assert_string_equal(g->coordsource, "m-g");
    assert_string_equal(g->access, "UNCLASSIFIED//REL TO USA, JPN");
    assert_int_equal(g->sendtime, T0_MS);
    assert_int_equal(g->staletime, T0_MS + 375000);
    assert_true(g->lat == 35.6762 && g->lon == 139.6503 && g->le == 9999999.0);
    assert_string_equal(g->groupname, "Cyan");
    assert_string_equal(g->grouprole, "Team Member");
    assert_string_equal(g->ploc, "USER");
    assert_string_equal(g->palt, "GPS");
    assert_int_equal(g->battery, 78);
    assert_true(g->speed == 0 && g->course == 80.24833892285461);
    assert_string_equal(g->screenname, ""); /* endpoint= has no GeoEvent field */
    assert_string_equal(g->other, "<detail><takv os=\"29\" version=\"4.2.0.4\" "
                                  "device=\"SM-G975U1\" platform=\"ATAK-CIV\"/><contact "
                                  "endpoint=\"*:-1:stcp\" callsign=\"JENNY\"/><uid "
                                  "Droid=\"JENNY\"/></detail>");
    com__atakmap__federated_event__free_unpacked(m, NULL);
    round_trip(&ev, &back);
    assert_same(&ev, &back);
    assert_non_null(strstr(back.detail, "<track speed=\"0\" course=\"80.24833892285461\"/>"));
    kz_event_clear(&ev);
    kz_event_clear(&back);
}

static void test_contact_and_dests(void **state)
{
    struct kz_event ev, back;

    KZ_UNUSED(state);
    decode_xml(chat_xml, sizeof(chat_xml) - 1, &ev);
    Com__Atakmap__FederatedEvent *m = to_msg(&ev, NULL);
    Com__Atakmap__GeoEvent *g = m->event;
    assert_string_equal(g->screenname, "ALPHA");
    assert_string_equal(g->phone, "+15555");
    assert_int_equal(g->n_ptpuids, 1);
    assert_string_equal(g->ptpuids[0], "ANDROID-2");
    assert_int_equal(g->n_ptpcallsigns, 1);
    assert_string_equal(g->ptpcallsigns[0], "BRAVO");
    assert_int_equal(g->n_missionnames, 1);
    assert_string_equal(g->missionnames[0], "m1");
    assert_string_equal(g->other, "<detail><remarks>hi</remarks></detail>");
    com__atakmap__federated_event__free_unpacked(m, NULL);
    round_trip(&ev, &back);
    assert_same(&ev, &back);
    assert_string_equal(back.detail, "<remarks>hi</remarks><contact callsign=\"ALPHA\" "
                                     "phone=\"+15555\"/><marti><dest uid=\"ANDROID-2\"/><dest "
                                     "callsign=\"BRAVO\"/><dest mission=\"m1\"/></marti>");
    kz_event_clear(&ev);
    kz_event_clear(&back);
}

/* What the typed fields cannot hold exactly stays in `other`. */
static void test_stays_in_other(void **state)
{
    static const char xml[] =
        HEAD "<detail><marti><dest callsign=\"B\"/><dest uid=\"A\"/></marti><status "
             "battery=\"0\"/><track speed=\"0\" course=\"0\"/><status readiness=\"true\"/>"
             "<__group name=\"\" role=\"\"/></detail></event>";
    struct kz_event ev, back;

    KZ_UNUSED(state);
    decode_xml(xml, sizeof(xml) - 1, &ev);
    Com__Atakmap__FederatedEvent *m = to_msg(&ev, NULL);
    Com__Atakmap__GeoEvent *g = m->event;
    assert_int_equal(g->n_ptpuids + g->n_ptpcallsigns, 0);
    assert_int_equal(g->battery, 0);
    assert_string_equal(g->groupname, "");
    assert_int_equal(strlen(g->other), strlen("<detail></detail>") + ev.detail_len);
    com__atakmap__federated_event__free_unpacked(m, NULL);
    round_trip(&ev, &back);
    assert_same(&ev, &back);
    assert_string_equal(back.detail, ev.detail);
    kz_event_clear(&ev);
    kz_event_clear(&back);
}

static void test_no_detail(void **state)
{
    static const char xml[] = HEAD "</event>";
    static const char empty[] = HEAD "<detail/></event>";
    struct kz_event ev, back;

    KZ_UNUSED(state);
    decode_xml(xml, sizeof(xml) - 1, &ev);
    round_trip(&ev, &back);
    assert_null(back.detail);
    assert_same(&ev, &back);
    kz_event_clear(&ev);
    kz_event_clear(&back);
    decode_xml(empty, sizeof(empty) - 1, &ev);
    round_trip(&ev, &back);
    assert_string_equal(back.detail, "");
    kz_event_clear(&ev);
    kz_event_clear(&back);
}

static void slurp(const char *path, struct kz_sbuf *out)
{
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "rb");

    assert_non_null(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        kz_sbuf_add(out, chunk, n);
    fclose(f);
}

/* Every device capture crosses federation intact (tests/interop/corpus/devices). */
static void test_device_corpus(void **state)
{
    char dir[512], path[1024];
    const char *root = getenv("KZ_TEST_DATA");
    unsigned n = 0;

    KZ_UNUSED(state);
    snprintf(dir, sizeof(dir), "%s/interop/corpus/devices", root ? root : "tests");
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".xml") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct kz_sbuf xml = KZ_SBUF_INIT;
        slurp(path, &xml);
        struct kz_event ev, back;
        decode_xml(xml.buf, xml.len, &ev);
        round_trip(&ev, &back);
        print_message("%s\n", e->d_name);
        assert_same(&ev, &back);
        kz_event_clear(&ev);
        kz_event_clear(&back);
        kz_sbuf_release(&xml);
        n++;
    }
    closedir(d);
    assert_true(n >= 10);
}

static void test_delete_as_contact(void **state)
{
    struct kz_event ev, back;
    struct kz_fed_meta meta;
    struct kz_sbuf b = KZ_SBUF_INIT;

    KZ_UNUSED(state);
    decode_xml(delete_xml, sizeof(delete_xml) - 1, &ev);
    Com__Atakmap__FederatedEvent *m = to_msg(&ev, NULL);
    assert_null(m->event);
    assert_non_null(m->contact);
    assert_int_equal(m->contact->operation, COM__ATAKMAP__CONTACT_LIST_ENTRY__CRUD__DELETE);
    assert_string_equal(m->contact->uid, "ANDROID-9");
    assert_string_equal(m->contact->callsign, "a-f-G"); /* the link type, as TAK sends it */
    com__atakmap__federated_event__free_unpacked(m, NULL);
    kz_fed_encode_event(&ev, NULL, &b);
    assert_int_equal(from_bytes(&b, &back, &meta, NULL, 0), KZ_FED_CONTACT_DELETE);
    assert_string_equal(back.type, "t-x-d-d");
    assert_string_equal(back.link_uid, "ANDROID-9");
    assert_string_equal(back.uid, "ANDROID-9.delete");
    assert_non_null(strstr(back.detail, "type=\"a-f-G\""));
    assert_non_null(strstr(back.detail, "<__forcedelete/>"));
    kz_event_clear(&ev);
    kz_event_clear(&back);
    kz_sbuf_release(&b);
}

static void test_contact_create(void **state)
{
    struct kz_event ev;
    struct kz_fed_meta meta;
    struct kz_sbuf b = KZ_SBUF_INIT;

    KZ_UNUSED(state);
    kz_fed_encode_contact(KZ_FED_CONTACT_CREATE, "ANDROID-7", "HOTEL", NULL, &b);
    assert_int_equal(from_bytes(&b, &ev, &meta, NULL, 0), KZ_FED_CONTACT_CREATE);
    assert_string_equal(ev.uid, "ANDROID-7");
    assert_string_equal(ev.callsign, "HOTEL");
    assert_null(ev.type);
    kz_event_clear(&ev);
    kz_sbuf_reset(&b);
    kz_fed_encode_contact(KZ_FED_CONTACT_DELETE, "ANDROID-7", "", NULL, &b);
    assert_int_equal(from_bytes(&b, &ev, &meta, NULL, 0), KZ_FED_CONTACT_DELETE);
    assert_string_equal(ev.link_uid, "ANDROID-7");
    kz_event_clear(&ev);
    kz_sbuf_release(&b);
}

static void test_meta_both_ways(void **state)
{
    struct kz_event ev, back;
    struct kz_fed_meta in = {0}, out;
    char *groups[] = {(char *)"Cyan", (char *)"Blue"};

    KZ_UNUSED(state);
    in.provenance[0] = (char *)"kz-usa", in.provenance[1] = (char *)"kz-jpn";
    in.n_provenance = 2;
    in.hops_current = 1, in.hops_max = -1;
    in.groups = groups, in.n_groups = 2;
    in.seq = 1234567890123ull;
    decode_xml(sa_xml, sizeof(sa_xml) - 1, &ev);
    Com__Atakmap__FederatedEvent *m = to_msg(&ev, &in);
    assert_int_equal(m->nodesequence, 1234567890123ull); /* field 1000, kizuna's */
    assert_int_equal(m->n_federateprovenance, 2);
    assert_string_equal(m->federateprovenance[1]->federationserverid, "kz-jpn");
    assert_int_equal(m->federatehops->maxhops, -1);
    assert_int_equal(m->n_federategroups, 2);
    assert_int_equal(from_msg(m, &back, &out), KZ_FED_EVENT);
    assert_int_equal(out.n_provenance, 2);
    assert_string_equal(out.provenance[0], "kz-usa");
    assert_string_equal(out.provenance[1], "kz-jpn");
    assert_int_equal(out.hops_current, 1);
    assert_int_equal(out.hops_max, -1);
    assert_int_equal(out.n_groups, 2);
    assert_string_equal(out.groups[1], "Blue");
    assert_int_equal(out.seq, 1234567890123ull);
    kz_fed_meta_clear(&out);
    kz_event_clear(&back);
    /* absent: zeros */
    com__atakmap__federated_event__free_unpacked(m, NULL);
    m = to_msg(&ev, NULL);
    assert_null(m->federatehops);
    assert_int_equal(from_msg(m, &back, &out), KZ_FED_EVENT);
    assert_int_equal(out.n_provenance + out.n_groups, 0);
    assert_int_equal(out.hops_current + out.hops_max, 0);
    assert_int_equal(out.seq, 0);
    com__atakmap__federated_event__free_unpacked(m, NULL);
    kz_event_clear(&ev);
    kz_event_clear(&back);
}

/* Decode must refuse what it cannot bound or validate, with ev and meta cleared. */
static void expect_refused(Com__Atakmap__FederatedEvent *m, int rc)
{
    struct kz_event ev;
    struct kz_fed_meta meta;

    assert_int_equal(from_msg(m, &ev, &meta), rc);
    assert_null(ev.uid);
    assert_null(meta.groups);
    assert_int_equal(meta.n_provenance, 0);
}

static void test_bounds(void **state)
{
    struct kz_event ev;
    struct kz_fed_meta meta;
    char err[200] = "";
    static const char big[KZ_FED_MAX_MESSAGE + 1];

    KZ_UNUSED(state);
    kz_event_init(&ev);
    assert_int_equal(kz_fed_decode(dec, big, sizeof(big), &ev, &meta, err, sizeof(err)),
                     -KZ_ERR_TOOBIG);
    assert_non_null(strstr(err, "bytes"));
    assert_int_equal(kz_fed_decode(dec, "\xff\xff", 2, &ev, &meta, err, sizeof(err)),
                     -KZ_ERR_PARSE);
    assert_int_equal(kz_fed_decode(dec, "", 0, &ev, &meta, err, sizeof(err)), -KZ_ERR_PARSE);
}

/* Repeated fields, times, `other` and the CoT validation, each refused in turn. */
static void test_bounds_fields(void **state)
{
    struct kz_event ev;
    struct kz_fed_meta meta;

    KZ_UNUSED(state);
    struct kz_event src;
    decode_xml(chat_xml, sizeof(chat_xml) - 1, &src);
    Com__Atakmap__FederatedEvent *m = to_msg(&src, NULL);
    /* too many provenance entries */
    Com__Atakmap__FederateProvenance p = COM__ATAKMAP__FEDERATE_PROVENANCE__INIT;
    Com__Atakmap__FederateProvenance *pp[KZ_FED_MAX_PROVENANCE + 1];
    for (unsigned i = 0; i <= KZ_FED_MAX_PROVENANCE; i++)
        pp[i] = &p;
    size_t n0 = m->n_federateprovenance;
    Com__Atakmap__FederateProvenance **p0 = m->federateprovenance;
    m->federateprovenance = pp, m->n_federateprovenance = KZ_FED_MAX_PROVENANCE + 1;
    expect_refused(m, -KZ_ERR_TOOBIG);
    m->federateprovenance = p0, m->n_federateprovenance = n0;
    /* too many destinations */
    char *uids[KZ_FED_MAX_DESTS + 1];
    for (unsigned i = 0; i <= KZ_FED_MAX_DESTS; i++)
        uids[i] = (char *)"x";
    char **u0 = m->event->ptpuids;
    size_t nu0 = m->event->n_ptpuids;
    m->event->ptpuids = uids, m->event->n_ptpuids = KZ_FED_MAX_DESTS + 1;
    expect_refused(m, -KZ_ERR_TOOBIG);
    m->event->ptpuids = u0, m->event->n_ptpuids = nu0;
    /* the CoT decoder's validation applies */
    m->event->lat = 200;
    expect_refused(m, -KZ_ERR_PARSE);
    m->event->lat = 1;
    m->event->sendtime = -5;
    expect_refused(m, -KZ_ERR_PARSE);
    m->event->sendtime = T0_MS;
    char *o0 = m->event->other;
    m->event->other = (char *)"<detail><a></detail>";
    expect_refused(m, -KZ_ERR_PARSE);
    m->event->other = (char *)"<detail x=\"1\"><a/></detail>";
    expect_refused(m, -KZ_ERR_PARSE);
    m->event->other = (char *)"<detail></detail><detail></detail>";
    expect_refused(m, -KZ_ERR_PARSE);
    m->event->other = o0;
    char *t0 = m->event->type;
    m->event->type = (char *)"";
    expect_refused(m, -KZ_ERR_PARSE);
    m->event->type = t0;
    assert_int_equal(from_msg(m, &ev, &meta), KZ_FED_EVENT);
    kz_event_clear(&ev);
    kz_fed_meta_clear(&meta);
    com__atakmap__federated_event__free_unpacked(m, NULL);
    kz_event_clear(&src);
}

/* ---- v1 framing ---- */

struct got {
    unsigned n;
    struct kz_sbuf all;
};

static void on_msg(void *ud, const uint8_t *msg, size_t len)
{
    struct got *g = ud;

    g->n++;
    kz_sbuf_addf(&g->all, "[%zu:", len);
    kz_sbuf_add(&g->all, msg, len);
    kz_sbuf_adds(&g->all, "]");
}

static void frames(struct kz_sbuf *out)
{
    const char *msgs[] = {"hello", "", "federation"};

    for (unsigned i = 0; i < 3; i++) {
        struct kz_sbuf m = KZ_SBUF_INIT;
        kz_sbuf_adds(&m, msgs[i]);
        kz_fed_v1_frame(m.buf, m.len, out);
        kz_sbuf_release(&m);
    }
}

static void test_v1_framing(void **state)
{
    struct kz_sbuf wire = KZ_SBUF_INIT;
    struct got one = {0, KZ_SBUF_INIT}, all = {0, KZ_SBUF_INIT};
    struct kz_fed_v1_reader r1 = {KZ_SBUF_INIT, 0}, r2 = {KZ_SBUF_INIT, 0};

    KZ_UNUSED(state);
    frames(&wire);
    assert_int_equal(wire.len, 12 + 15);
    assert_memory_equal(wire.buf, "\0\0\0\5hello", 9);
    /* several messages in one feed */
    assert_int_equal(kz_fed_v1_feed(&r1, wire.buf, wire.len, on_msg, &all), KZ_OK);
    assert_int_equal(all.n, 3);
    assert_string_equal(all.all.buf, "[5:hello][0:][10:federation]");
    /* one byte at a time */
    for (size_t i = 0; i < wire.len; i++)
        assert_int_equal(kz_fed_v1_feed(&r2, wire.buf + i, 1, on_msg, &one), KZ_OK);
    assert_int_equal(one.n, 3);
    assert_string_equal(one.all.buf, all.all.buf);
    assert_int_equal(r2.buf.len, 0);
    kz_fed_v1_reader_release(&r1);
    kz_fed_v1_reader_release(&r2);
    kz_sbuf_release(&wire);
    kz_sbuf_release(&one.all);
    kz_sbuf_release(&all.all);
}

static void test_v1_oversize(void **state)
{
    struct kz_fed_v1_reader r = {KZ_SBUF_INIT, 16};
    struct got g = {0, KZ_SBUF_INIT};

    KZ_UNUSED(state);
    assert_int_equal(kz_fed_v1_feed(&r, "\0\0\0\x10", 4, on_msg, &g), KZ_OK);
    kz_fed_v1_reader_release(&r);
    r = (struct kz_fed_v1_reader){KZ_SBUF_INIT, 16};
    assert_int_equal(kz_fed_v1_feed(&r, "\0\0", 2, on_msg, &g), KZ_OK);
    assert_int_equal(kz_fed_v1_feed(&r, "\0\x11", 2, on_msg, &g), KZ_ERR_TOOBIG);
    kz_fed_v1_reader_release(&r);
    /* default bound: KZ_FED_MAX_MESSAGE */
    r = (struct kz_fed_v1_reader){KZ_SBUF_INIT, 0};
    assert_int_equal(kz_fed_v1_feed(&r, "\0\x40\0\x01", 4, on_msg, &g), KZ_ERR_TOOBIG);
    assert_int_equal(g.n, 0);
    kz_fed_v1_reader_release(&r);
}

/* ---- Subscription, health, FederateGroups ---- */

static void test_subscription(void **state)
{
    struct kz_sbuf b = KZ_SBUF_INIT;
    char id[64];

    KZ_UNUSED(state);
    kz_fed_encode_subscription("kz-usa", "sess-1", "kz-usa-id", KZ_FED_TAK_CLIENT, "", &b);
    Com__Atakmap__Subscription *s =
        com__atakmap__subscription__unpack(NULL, b.len, (const uint8_t *)b.buf);
    assert_non_null(s);
    assert_string_equal(s->identity->name, "kz-usa");
    assert_string_equal(s->identity->uid, "sess-1");
    assert_int_equal(s->identity->type,
                     COM__ATAKMAP__IDENTITY__CONNECTION_TYPE__FEDERATION_TAK_CLIENT);
    com__atakmap__subscription__free_unpacked(s, NULL);
    assert_int_equal(kz_fed_decode_subscription(b.buf, b.len, id, sizeof(id)), KZ_OK);
    assert_string_equal(id, "kz-usa-id");
    assert_int_equal(kz_fed_decode_subscription("\xff", 1, id, sizeof(id)), KZ_ERR_PARSE);
    kz_sbuf_release(&b);
}

static void test_health(void **state)
{
    struct kz_sbuf b = KZ_SBUF_INIT;
    int status = -1;

    KZ_UNUSED(state);
    kz_fed_encode_client_health(KZ_FED_SERVING, &b);
    assert_int_equal(kz_fed_decode_health(b.buf, b.len, &status), KZ_OK);
    assert_int_equal(status, KZ_FED_SERVING);
    kz_sbuf_reset(&b);
    kz_fed_encode_server_health(KZ_FED_NOT_CONNECTED, &b);
    Com__Atakmap__ServerHealth *h =
        com__atakmap__server_health__unpack(NULL, b.len, (const uint8_t *)b.buf);
    assert_int_equal(h->status, COM__ATAKMAP__SERVER_HEALTH__SERVING_STATUS__NOT_CONNECTED);
    com__atakmap__server_health__free_unpacked(h, NULL);
    assert_int_equal(kz_fed_decode_health(b.buf, b.len, &status), KZ_OK);
    assert_int_equal(status, KZ_FED_NOT_CONNECTED);
    kz_sbuf_reset(&b);
    kz_fed_encode_server_health(KZ_FED_UNKNOWN, &b); /* all defaults: zero bytes */
    assert_int_equal(kz_fed_decode_health(b.buf, b.len, &status), KZ_OK);
    assert_int_equal(status, KZ_FED_UNKNOWN);
    assert_int_equal(kz_fed_decode_health("\x0a", 1, &status), KZ_ERR_PARSE);
    kz_sbuf_release(&b);
}

static void test_groups(void **state)
{
    struct kz_sbuf b = KZ_SBUF_INIT;
    char *groups[] = {(char *)"Cyan", (char *)"Blue"};

    KZ_UNUSED(state);
    kz_fed_encode_groups(KZ_FED_SERVING, groups, 2, &b);
    Com__Atakmap__FederateGroups *g =
        com__atakmap__federate_groups__unpack(NULL, b.len, (const uint8_t *)b.buf);
    assert_non_null(g);
    assert_int_equal(g->streamupdate->status, COM__ATAKMAP__SERVER_HEALTH__SERVING_STATUS__SERVING);
    assert_int_equal(g->n_federategroups, 2);
    assert_string_equal(g->federategroups[0], "Cyan");
    com__atakmap__federate_groups__free_unpacked(g, NULL);
    kz_sbuf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sa_typed_fields), cmocka_unit_test(test_contact_and_dests),
        cmocka_unit_test(test_stays_in_other),  cmocka_unit_test(test_no_detail),
        cmocka_unit_test(test_device_corpus),   cmocka_unit_test(test_delete_as_contact),
        cmocka_unit_test(test_contact_create),  cmocka_unit_test(test_meta_both_ways),
        cmocka_unit_test(test_bounds),          cmocka_unit_test(test_bounds_fields),
        cmocka_unit_test(test_v1_framing),      cmocka_unit_test(test_v1_oversize),
        cmocka_unit_test(test_subscription),    cmocka_unit_test(test_health),
        cmocka_unit_test(test_groups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
