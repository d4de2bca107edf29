/* Unit tests for TAK protocol v1: struct kz_event <-> TakMessage (src/cot/proto.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cot/cot.h"
#include "proto/takmessage.pb-c.h"

#define T0 "2020-12-16T19:59:34.913Z"
#define T1 "2020-12-16T20:05:49.913Z"
#define T0_MS 1608148774913ULL
#define HEAD                                                                                       \
    "<event version=\"2.0\" uid=\"U-1\" type=\"a-f-G-U-C\" how=\"m-g\" time=\"" T0                 \
    "\" start=\"" T0 "\" stale=\"" T1 "\"><point lat=\"35.6762\" lon=\"139.6503\" "                \
    "hae=\"40.2\" ce=\"9.9\" le=\"9999999.0\"/>"

/* An ATAK self-SA: contact has an extra attribute, so it stays XML. */
static const char sa_xml[] =
    HEAD "<detail><takv os=\"29\" version=\"4.2.0.4 (e7c0aaea).1608052012-CIV\" "
         "device=\"SAMSUNG SM-G975U1\" platform=\"ATAK-CIV\"/><contact endpoint=\"*:-1:stcp\" "
         "phone=\"+15555555555\" callsign=\"JENNY\"/><uid Droid=\"JENNY\"/><precisionlocation "
         "altsrc=\"GPS\" geopointsrc=\"GPS\"/><__group role=\"Team Member\" name=\"Cyan\"/><status "
         "battery=\"78\"/><track course=\"80.24833892285461\" speed=\"0.0\"/></detail></event>";

static struct kz_cot_decoder *dec;

static int setup(void **state)
{
    KZ_UNUSED(state);
    dec = kz_cot_decoder_new(NULL);
    return 0;
}

static int teardown(void **state)
{
    KZ_UNUSED(state);
    kz_cot_decoder_free(dec);
    return 0;
}

static void decode_xml(const char *xml, struct kz_event *ev)
{
    enum kz_reject why;
    char err[200];

    kz_event_init(ev);
    int rc = kz_cot_decode(dec, xml, strlen(xml), ev, &why, err, sizeof(err));
    if (rc != KZ_OK)
        fail_msg("decode: %s", err);
}

/* Encode without a header and unpack with protobuf-c. */
static Takproto__TakMessage *to_msg(const struct kz_event *ev)
{
    struct kz_sbuf b = KZ_SBUF_INIT;

    kz_cot_encode_proto(ev, false, &b);
    Takproto__TakMessage *m = takproto__tak_message__unpack(NULL, b.len, (const uint8_t *)b.buf);
    assert_non_null(m);
    kz_sbuf_release(&b);
    return m;
}

static int from_msg(Takproto__TakMessage *m, struct kz_event *ev, enum kz_reject *why)
{
    size_t n = takproto__tak_message__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    takproto__tak_message__pack(m, buf);
    kz_event_init(ev);
    int rc = kz_cot_decode_proto(dec, buf, n, ev, why, NULL, 0);
    free(buf);
    return rc;
}

static void round_trip(const struct kz_event *in, struct kz_event *out)
{
    struct kz_sbuf b = KZ_SBUF_INIT;
    enum kz_reject why = KZ_REJ__COUNT;
    char err[200] = "";

    kz_cot_encode_proto(in, false, &b);
    kz_event_init(out);
    int rc = kz_cot_decode_proto(dec, b.buf, b.len, out, &why, err, sizeof(err));
    if (rc != KZ_OK)
        fail_msg("decode_proto: %s (%s)", err, kz_reject_name(why));
    kz_sbuf_release(&b);
}

static void assert_has(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("'%s' not in '%s'", needle, hay ? hay : "(null)");
}

static void test_sa_typed_fields(void **state)
{
    struct kz_event ev;

    KZ_UNUSED(state);
    decode_xml(sa_xml, &ev);
    Takproto__TakMessage *m = to_msg(&ev);
    Takproto__CotEvent *c = m->cotevent;
    assert_string_equal(c->uid, "U-1");
    assert_string_equal(c->type, "a-f-G-U-C");
    assert_int_equal(c->sendtime, T0_MS);
    assert_true(c->lat == 35.6762 && c->le == 9999999.0);
    Takproto__Detail *d = c->detail;
    assert_non_null(d);
    assert_null(d->contact); /* phone= is not a Contact field */
    assert_string_equal(d->group->name, "Cyan");
    assert_string_equal(d->group->role, "Team Member");
    assert_string_equal(d->precisionlocation->altsrc, "GPS");
    assert_int_equal(d->status->battery, 78);
    assert_string_equal(d->takv->device, "SAMSUNG SM-G975U1");
    assert_string_equal(d->takv->os, "29");
    assert_true(d->track->course == 80.24833892285461 && d->track->speed == 0.0);
    assert_string_equal(d->xmldetail, "<contact endpoint=\"*:-1:stcp\" phone=\"+15555555555\" "
                                      "callsign=\"JENNY\"/><uid Droid=\"JENNY\"/>");
    takproto__tak_message__free_unpacked(m, NULL);
    kz_event_clear(&ev);
}

static void test_sa_round_trip(void **state)
{
    struct kz_event ev, back, again;
    struct kz_sbuf a = KZ_SBUF_INIT, b = KZ_SBUF_INIT;

    KZ_UNUSED(state);
    decode_xml(sa_xml, &ev);
    round_trip(&ev, &back);
    assert_string_equal(back.uid, ev.uid);
    assert_string_equal(back.type, ev.type);
    assert_string_equal(back.how, ev.how);
    assert_true(back.time == ev.time && back.start == ev.start && back.stale == ev.stale);
    assert_true(back.lat == ev.lat && back.lon == ev.lon && back.hae == ev.hae);
    assert_true(back.ce == ev.ce && back.le == ev.le);
    assert_string_equal(back.callsign, "JENNY");
    assert_string_equal(back.group_name, "Cyan");
    assert_string_equal(back.group_role, "Team Member");
    assert_has(back.detail, "<contact endpoint=\"*:-1:stcp\" phone=\"+15555555555\" "
                            "callsign=\"JENNY\"/><uid Droid=\"JENNY\"/>");
    assert_has(back.detail, "<__group name=\"Cyan\" role=\"Team Member\"/>");
    assert_has(back.detail, "<precisionlocation geopointsrc=\"GPS\" altsrc=\"GPS\"/>");
    assert_has(back.detail, "<status battery=\"78\"/>");
    assert_has(back.detail, "<takv device=\"SAMSUNG SM-G975U1\" platform=\"ATAK-CIV\" os=\"29\" "
                            "version=\"4.2.0.4 (e7c0aaea).1608052012-CIV\"/>");
    assert_has(back.detail, "<track speed=\"0\" course=\"80.24833892285461\"/>");
    /* A second trip changes nothing: the encoding is a fixed point. */
    round_trip(&back, &again);
    kz_cot_encode_proto(&back, true, &a);
    kz_cot_encode_proto(&again, true, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.buf, b.buf, a.len);
    kz_sbuf_release(&a);
    kz_sbuf_release(&b);
    kz_event_clear(&ev);
    kz_event_clear(&back);
    kz_event_clear(&again);
}

/* Elements that cannot be typed without loss stay whole in xmlDetail. */
static void test_stays_xml(void **state)
{
    static const char *const kept[] = {
        "<contact callsign=\"A\"/><contact callsign=\"B\"/>", /* twice */
        "<contact callsign=\"A\" endpoint=\"\"/>",            /* empty optional */
        "<contact endpoint=\"*:-1:stcp\"/>",                  /* required missing */
        "<__group name=\"Cyan\" role=\"x\"><sub/></__group>", /* child */
        "<status battery=\"-1\"/>",
        "<status battery=\"4294967296\"/>",
        "<track speed=\"nan\" course=\"1\"/>",
        "<track speed=\"1\" course=\"x\"/>",
        "<takv device=\"d\" platform=\"p\" os=\"o\"/>", /* version missing */
        "<precisionlocation geopointsrc=\"GPS\" altsrc=\"GPS\">text</precisionlocation>",
        "<precisionlocation geopointsrc=\"GPS\" altsrc=\"GPS\"><![CDATA[]]></precisionlocation>",
    };
    struct kz_sbuf xml = KZ_SBUF_INIT;

    KZ_UNUSED(state);
    for (size_t i = 0; i < KZ_ARRAY_LEN(kept); i++) {
        struct kz_event ev, back;
        kz_sbuf_reset(&xml);
        kz_sbuf_addf(&xml, HEAD "<detail>%s</detail></event>", kept[i]);
        decode_xml(xml.buf, &ev);
        Takproto__TakMessage *m = to_msg(&ev);
        Takproto__Detail *d = m->cotevent->detail;
        assert_true(!d->contact && !d->group && !d->status && !d->track && !d->takv &&
                    !d->precisionlocation);
        assert_string_equal(d->xmldetail, kept[i]);
        takproto__tak_message__free_unpacked(m, NULL);
        round_trip(&ev, &back);
        assert_string_equal(back.detail, kept[i]);
        kz_event_clear(&ev);
        kz_event_clear(&back);
    }
    kz_sbuf_release(&xml);
}

/* Typed-only input, as commo or node-cot sends it. */
static void test_typed_to_xml(void **state)
{
    Takproto__TakMessage m = TAKPROTO__TAK_MESSAGE__INIT;
    Takproto__CotEvent c = TAKPROTO__COT_EVENT__INIT;
    Takproto__Detail d = TAKPROTO__DETAIL__INIT;
    Takproto__Contact ct = TAKPROTO__CONTACT__INIT;
    Takproto__Status st = TAKPROTO__STATUS__INIT;
    Takproto__Track tr = TAKPROTO__TRACK__INIT;
    struct kz_event ev;
    enum kz_reject why;

    KZ_UNUSED(state);
    m.cotevent = &c;
    c.uid = "P-1", c.type = "a-h-G", c.how = "h-e";
    c.sendtime = c.starttime = T0_MS, c.staletime = T0_MS + 60000;
    c.lat = -33.5, c.lon = 151.25, c.hae = 9999999, c.ce = 9999999, c.le = 9999999;
    c.detail = &d;
    d.xmldetail = "<remarks>a &amp; b</remarks>";
    ct.callsign = "VIPER";
    d.contact = &ct;
    st.battery = 4294967295u; /* capped at INT_MAX */
    d.status = &st;
    tr.speed = 12.5, tr.course = 270;
    d.track = &tr;
    assert_int_equal(from_msg(&m, &ev, &why), KZ_OK);
    assert_string_equal(ev.uid, "P-1");
    assert_string_equal(ev.callsign, "VIPER");
    assert_null(ev.endpoint);
    assert_string_equal(ev.remarks, "a & b");
    assert_true(ev.hae == KZ_POINT_UNKNOWN && ev.lat == -33.5);
    assert_int_equal(ev.stale - ev.start, 60000000);
    assert_string_equal(ev.detail, "<remarks>a &amp; b</remarks><contact callsign=\"VIPER\"/>"
                                   "<status battery=\"2147483647\"/>"
                                   "<track speed=\"12.5\" course=\"270\"/>");
    kz_event_clear(&ev);
}

/* An element in both places: the xmlDetail copy wins, the typed one is dropped. */
static void test_xml_detail_wins(void **state)
{
    Takproto__TakMessage m = TAKPROTO__TAK_MESSAGE__INIT;
    Takproto__CotEvent c = TAKPROTO__COT_EVENT__INIT;
    Takproto__Detail d = TAKPROTO__DETAIL__INIT;
    Takproto__Contact ct = TAKPROTO__CONTACT__INIT;
    Takproto__Group g = TAKPROTO__GROUP__INIT;
    struct kz_event ev;
    enum kz_reject why;

    KZ_UNUSED(state);
    m.cotevent = &c;
    c.uid = "P-2", c.type = "a-f-G", c.how = "m-g";
    c.sendtime = c.starttime = T0_MS, c.staletime = T0_MS + 1;
    c.detail = &d;
    d.xmldetail = "<contact callsign=\"FROM-XML\" phone=\"1\"/>";
    ct.callsign = "FROM-TYPED";
    d.contact = &ct;
    g.name = "Red", g.role = "HQ";
    d.group = &g;
    assert_int_equal(from_msg(&m, &ev, &why), KZ_OK);
    assert_string_equal(ev.callsign, "FROM-XML");
    assert_string_equal(ev.group_name, "Red");
    assert_string_equal(ev.detail, "<contact callsign=\"FROM-XML\" phone=\"1\"/>"
                                   "<__group name=\"Red\" role=\"HQ\"/>");
    kz_event_clear(&ev);
}

static void test_no_detail_and_empty_detail(void **state)
{
    struct kz_event ev, back;

    KZ_UNUSED(state);
    decode_xml(HEAD "</event>", &ev);
    round_trip(&ev, &back);
    assert_null(back.detail);
    kz_event_clear(&ev);
    kz_event_clear(&back);
    decode_xml(HEAD "<detail/></event>", &ev);
    round_trip(&ev, &back);
    assert_non_null(back.detail);
    assert_string_equal(back.detail, "");
    kz_event_clear(&ev);
    kz_event_clear(&back);
}

static void test_escaping_and_labels(void **state)
{
    struct kz_event ev, back;

    KZ_UNUSED(state);
    decode_xml("<event version=\"2.0\" uid=\"q&quot;&lt;&amp;\" type=\"a-f-G\" how=\"m-g\" "
               "access=\"UNCLASSIFIED//REL TO USA, JPN\" qos=\"1-r-c\" time=\"" T0 "\" start=\"" T0
               "\" stale=\"" T1 "\"><point lat=\"0\" lon=\"0\" hae=\"0\" "
               "ce=\"0\" le=\"0\"/><detail><contact callsign=\"a&apos;b &amp; &#233;\"/>"
               "</detail></event>",
               &ev);
    round_trip(&ev, &back);
    assert_string_equal(back.uid, "q\"<&");
    assert_string_equal(back.access, "UNCLASSIFIED//REL TO USA, JPN");
    assert_string_equal(back.qos, "1-r-c");
    assert_string_equal(back.callsign, "a'b & \xc3\xa9");
    kz_event_clear(&ev);
    kz_event_clear(&back);
}

static void test_framed_header(void **state)
{
    struct kz_event ev;
    struct kz_sbuf bare = KZ_SBUF_INIT, framed = KZ_SBUF_INIT;

    KZ_UNUSED(state);
    decode_xml(sa_xml, &ev);
    kz_cot_encode_proto(&ev, false, &bare);
    kz_cot_encode_proto(&ev, true, &framed);
    assert_true(bare.len >= 128 && bare.len < 16384);
    assert_int_equal(framed.len, bare.len + 3);
    assert_int_equal((unsigned char)framed.buf[0], 0xbf);
    assert_int_equal((unsigned char)framed.buf[1], (bare.len & 0x7f) | 0x80);
    assert_int_equal((unsigned char)framed.buf[2], bare.len >> 7);
    assert_memory_equal(framed.buf + 3, bare.buf, bare.len);
    kz_sbuf_release(&bare);
    kz_sbuf_release(&framed);
    kz_event_clear(&ev);
}

static void expect_reject(Takproto__TakMessage *m, int want_rc, enum kz_reject want)
{
    struct kz_event ev;
    enum kz_reject why = KZ_REJ__COUNT;

    assert_int_equal(from_msg(m, &ev, &why), want_rc);
    if (want_rc != KZ_ERR_NOTFOUND)
        assert_int_equal(why, want);
    assert_null(ev.uid);
}

static void test_malformed(void **state)
{
    static const unsigned char junk[][6] = {
        {0x12, 0x05, 0x0a, 0x01},       /* cotEvent longer than the message */
        {0xff, 0xff, 0xff, 0xff, 0xff}, /* bad tag varint */
        {0x0a, 0x80},                   /* truncated length */
    };
    Takproto__TakMessage m = TAKPROTO__TAK_MESSAGE__INIT;
    Takproto__TakControl ctl = TAKPROTO__TAK_CONTROL__INIT;
    struct kz_event ev;
    enum kz_reject why;
    char err[200];

    KZ_UNUSED(state);
    for (size_t i = 0; i < KZ_ARRAY_LEN(junk); i++) {
        kz_event_init(&ev);
        assert_int_not_equal(
            kz_cot_decode_proto(dec, junk[i], sizeof(junk[i]), &ev, &why, err, sizeof(err)), KZ_OK);
        assert_int_equal(why, KZ_REJ_PROTO);
        assert_has(err, "does not decode");
    }
    m.takcontrol = &ctl; /* control only: nothing to route */
    expect_reject(&m, KZ_ERR_NOTFOUND, KZ_REJ_PROTO);
}

static void test_bad_fields(void **state)
{
    Takproto__TakMessage m = TAKPROTO__TAK_MESSAGE__INIT;
    Takproto__CotEvent c = TAKPROTO__COT_EVENT__INIT;
    Takproto__Detail d = TAKPROTO__DETAIL__INIT;

    KZ_UNUSED(state);
    m.cotevent = &c;
    c.uid = "X", c.type = "a-f-G", c.how = "m-g";
    c.sendtime = c.starttime = c.staletime = T0_MS;
    c.lat = 91;
    expect_reject(&m, KZ_ERR_PARSE, KZ_REJ_POINT);
    c.lat = 0;
    c.staletime = 253402300800000ULL;
    expect_reject(&m, KZ_ERR_PARSE, KZ_REJ_TIME);
    c.staletime = T0_MS - 1;
    expect_reject(&m, KZ_ERR_PARSE, KZ_REJ_STALE);
    c.staletime = T0_MS;
    c.uid = "";
    expect_reject(&m, KZ_ERR_PARSE, KZ_REJ_MISSING);
    c.uid = "X";
    c.type = "not a type!";
    expect_reject(&m, KZ_ERR_PARSE, KZ_REJ_TYPE);
    c.type = "a-f-G";
    c.detail = &d;
    static const char *const bad_detail[] = {
        "</detail><detail>", "<a>",  "</detail><point lat=\"1\" lon=\"1\"/><detail>",
        "<!DOCTYPE x>",      "\xff",
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad_detail); i++) {
        d.xmldetail = (char *)bad_detail[i];
        expect_reject(&m, KZ_ERR_PARSE, KZ_REJ_XML);
    }
}

/* Escaping makes the rebuilt XML longer than the frame: still held to the limit. */
static void test_limits(void **state)
{
    Takproto__TakMessage m = TAKPROTO__TAK_MESSAGE__INIT;
    Takproto__CotEvent c = TAKPROTO__COT_EVENT__INIT;
    Takproto__Detail d = TAKPROTO__DETAIL__INIT;
    Takproto__Contact ct = TAKPROTO__CONTACT__INIT;
    struct kz_cot_limits lim;
    struct kz_cot_decoder *small;
    struct kz_event ev;
    enum kz_reject why;
    char quotes[201];

    KZ_UNUSED(state);
    kz_cot_limits_default(&lim);
    lim.max_event_bytes = 1024;
    small = kz_cot_decoder_new(&lim);
    memset(quotes, '"', 200);
    quotes[200] = '\0';
    m.cotevent = &c;
    c.uid = "L", c.type = "a-f-G", c.how = "m-g";
    c.sendtime = c.starttime = c.staletime = T0_MS;
    c.detail = &d;
    ct.callsign = quotes; /* 200 bytes in protobuf, 1200 as XML */
    d.contact = &ct;
    size_t n = takproto__tak_message__get_packed_size(&m);
    uint8_t *buf = malloc(n);
    takproto__tak_message__pack(&m, buf);
    assert_true(n < 1024);
    kz_event_init(&ev);
    assert_int_equal(kz_cot_decode_proto(small, buf, n, &ev, &why, NULL, 0), KZ_ERR_TOOBIG);
    assert_int_equal(why, KZ_REJ_TOO_BIG);
    assert_int_equal(kz_cot_decode_proto(dec, buf, n, &ev, &why, NULL, 0), KZ_OK);
    assert_string_equal(ev.callsign, quotes);
    kz_event_clear(&ev);
    free(buf);
    kz_cot_decoder_free(small);
}

/* xmlDetail goes through the same decoder: no "</event" may ride in it (F3). */
static void test_xml_detail_injection(void **state)
{
    static const char *const bad[] = {
        "<remarks><![CDATA[</event><event version=\"2.0\" uid=\"US-TRACK\" type=\"a-h-G\" "
        "how=\"m-g\" access=\"TOP SECRET//NOFORN\"><point lat=\"1\" lon=\"2\"/>]]></remarks>",
        "<!-- </event> -->",
        "<?x </event>?>",
    };
    Takproto__TakMessage m = TAKPROTO__TAK_MESSAGE__INIT;
    Takproto__CotEvent c = TAKPROTO__COT_EVENT__INIT;
    Takproto__Detail d = TAKPROTO__DETAIL__INIT;
    struct kz_event ev;
    enum kz_reject why;

    KZ_UNUSED(state);
    m.cotevent = &c;
    c.uid = "JP-1", c.type = "a-f-G", c.how = "m-g";
    c.sendtime = c.starttime = c.staletime = T0_MS;
    c.detail = &d;
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        d.xmldetail = (char *)bad[i];
        expect_reject(&m, KZ_ERR_PARSE, KZ_REJ_XML);
    }
    /* A comment without the token is dropped, the rest kept. */
    d.xmldetail = "<a/><!-- note --><b/>";
    assert_int_equal(from_msg(&m, &ev, &why), KZ_OK);
    assert_string_equal(ev.detail, "<a/><b/>");
    kz_event_clear(&ev);
}

/* Device quirks arrive the same way over protobuf: NaN hae, no how, "Undefined". */
static void test_device_quirks(void **state)
{
    Takproto__TakMessage m = TAKPROTO__TAK_MESSAGE__INIT;
    Takproto__CotEvent c = TAKPROTO__COT_EVENT__INIT;
    struct kz_event ev, back;
    enum kz_reject why;

    KZ_UNUSED(state);
    m.cotevent = &c;
    c.uid = "FT-1", c.type = "b-f-t-r", c.how = "", c.access = "Undefined";
    c.sendtime = c.starttime = c.staletime = T0_MS;
    c.lat = 35, c.lon = 139, c.hae = NAN, c.ce = NAN, c.le = NAN;
    assert_int_equal(from_msg(&m, &ev, &why), KZ_OK);
    assert_null(ev.how);
    assert_null(ev.access);
    assert_true(ev.hae == KZ_POINT_UNKNOWN && ev.ce == KZ_POINT_UNKNOWN &&
                ev.le == KZ_POINT_UNKNOWN);
    round_trip(&ev, &back);
    assert_null(back.how);
    kz_event_clear(&back);
    kz_event_clear(&ev);
    c.lat = NAN;
    expect_reject(&m, KZ_ERR_PARSE, KZ_REJ_POINT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sa_typed_fields),
        cmocka_unit_test(test_sa_round_trip),
        cmocka_unit_test(test_stays_xml),
        cmocka_unit_test(test_typed_to_xml),
        cmocka_unit_test(test_xml_detail_wins),
        cmocka_unit_test(test_no_detail_and_empty_detail),
        cmocka_unit_test(test_escaping_and_labels),
        cmocka_unit_test(test_framed_header),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_xml_detail_injection),
        cmocka_unit_test(test_device_quirks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
