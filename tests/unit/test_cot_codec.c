/* Unit tests for the CoT decoder and the XML/JSON encoders (validation: test_cot_validate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "cot/cot.h"
#include "cot_decode_helpers.h"

#define T0 "2020-12-16T19:59:34.913Z"
#define T1 "2020-12-16T20:05:49.913Z"
#define TIMES "time=\"" T0 "\" start=\"" T0 "\" stale=\"" T1 "\""

/* An ATAK self-SA as commo writes it (about 700 bytes). */
static const char sa_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<event version=\"2.0\" uid=\"ANDROID-589520ccfcd20f01\" type=\"a-f-G-U-C\" how=\"m-g\" " TIMES
    "><point lat=\"35.6762\" lon=\"139.6503\" hae=\"40.2\" ce=\"9.9\" "
    "le=\"9999999.0\"/><detail><takv os=\"29\" version=\"4.2.0.4 (e7c0aaea).1608052012-CIV\" "
    "device=\"SAMSUNG SM-G975U1\" platform=\"ATAK-CIV\"/><contact endpoint=\"*:-1:stcp\" "
    "phone=\"+15555555555\" callsign=\"JENNY\"/><uid Droid=\"JENNY\"/><precisionlocation "
    "altsrc=\"GPS\" geopointsrc=\"GPS\"/><__group role=\"Team Member\" name=\"Cyan\"/><status "
    "battery=\"78\"/><track course=\"80.24833892285461\" speed=\"0.0\"/></detail></event>";

/* A 1:1 GeoChat through a server, with directed delivery. */
static const char chat_xml[] =
    "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    "<event version='2.0' uid='GeoChat.ANDROID-589520ccfcd20f01.BOB-UID.0a1b2c3d' "
    "type='b-t-f' how='h-g-i-g-o' time='" T0 "' start='" T0 "' stale='2020-12-17T19:59:34.913Z'>"
    "<point lat='35.6762' lon='139.6503' hae='9999999.0' ce='9999999.0' le='9999999.0'/>"
    "<detail><__chat parent='RootContactGroup' groupOwner='false' messageId='0a1b2c3d' "
    "chatroom='BOB' id='BOB-UID' senderCallsign='JENNY'><chatgrp uid0='ANDROID-589520ccfcd20f01' "
    "uid1='BOB-UID' id='BOB-UID'/></__chat><link uid='ANDROID-589520ccfcd20f01' "
    "type='a-f-G-U-C' relation='p-p'/><__serverdestination "
    "destinations='192.168.1.10:4242:tcp:ANDROID-589520ccfcd20f01'/><remarks "
    "source='BAO.F.ATAK.ANDROID-589520ccfcd20f01' to='BOB-UID' time='" T0 "'>Meet at the "
    "&lt;north&gt; gate &amp; bring water</remarks><marti><dest callsign='BOB'/>"
    "<dest mission='ops'/><dest uid='ALICE-UID'/></marti></detail></event>";

static const char delete_xml[] =
    "<event version=\"2.0\" uid=\"delete-1\" type=\"t-x-d-d\" how=\"h-g-i-g-o\" " TIMES ">"
    "<point lat=\"0\" lon=\"0\" hae=\"0\" ce=\"9999999\" le=\"9999999\"/><detail>"
    "<link uid=\"marker-42\" relation=\"none\" type=\"none\"/><__forcedelete/></detail></event>";

/* node-cot: <detail> before <point>, empty optional attributes, six-nines unknown. */
static const char node_xml[] =
    "<event version=\"2.0\" uid=\"node-1\" type=\"a-f-G-E-V-C\" how=\"m-g\" " TIMES
    " qos=\"\" opex=\"\" access=\"\"><detail><contact callsign=\"NODE\" "
    "endpoint=\"*:-1:stcp\"/><_flow-tags_><NodeCoT-12.23.0>" T0 "</NodeCoT-12.23.0>"
    "</_flow-tags_></detail><point lat=\"-33.5\" lon=\"-70.25\" hae=\"0\" ce=\"999999\" "
    "le=\"999999\"/></event>\n";

static void assert_same_event(const struct kz_event *a, const struct kz_event *b)
{
    assert_str_eq(a->version, b->version);
    assert_str_eq(a->uid, b->uid);
    assert_str_eq(a->type, b->type);
    assert_str_eq(a->how, b->how);
    assert_str_eq(a->access, b->access);
    assert_str_eq(a->qos, b->qos);
    assert_str_eq(a->opex, b->opex);
    assert_true(a->time == b->time && a->start == b->start && a->stale == b->stale);
    assert_true(a->lat == b->lat && a->lon == b->lon && a->hae == b->hae);
    assert_true(a->ce == b->ce && a->le == b->le);
    assert_int_equal(a->detail_len, b->detail_len);
    if (a->detail || b->detail)
        assert_memory_equal(a->detail, b->detail, a->detail_len);
    assert_same_parsed(a, b);
}

/* decode -> encode -> decode gives the same event, and encoding is then stable. */
static void round_trip(const char *xml)
{
    struct kz_event a, b;
    struct kz_sbuf x1 = KZ_SBUF_INIT, x2 = KZ_SBUF_INIT;

    decode_ok(xml, &a);
    kz_cot_encode_xml(&a, &x1);
    decode_ok(x1.buf, &b);
    assert_same_event(&a, &b);
    kz_cot_encode_xml(&b, &x2);
    assert_string_equal(x1.buf, x2.buf);
    kz_sbuf_release(&x1);
    kz_sbuf_release(&x2);
    kz_event_clear(&a);
    kz_event_clear(&b);
}

/* ---- realistic events ------------------------------------------------- */

static void test_sa(void **state)
{
    struct kz_event ev;

    (void)state;
    decode_ok(sa_xml, &ev);
    assert_string_equal(ev.version, "2.0");
    assert_string_equal(ev.uid, "ANDROID-589520ccfcd20f01");
    assert_string_equal(ev.type, "a-f-G-U-C");
    assert_string_equal(ev.how, "m-g");
    assert_true(ev.time == 1608148774913000 && ev.start == ev.time);
    assert_true(ev.stale == 1608149149913000);
    assert_true(ev.lat == 35.6762 && ev.lon == 139.6503 && ev.hae == 40.2 && ev.ce == 9.9);
    assert_true(ev.le == KZ_POINT_UNKNOWN);
    assert_string_equal(ev.callsign, "JENNY");
    assert_string_equal(ev.endpoint, "*:-1:stcp");
    assert_string_equal(ev.group_name, "Cyan");
    assert_string_equal(ev.group_role, "Team Member");
    assert_null(ev.access);
    assert_null(ev.link_uid);
    assert_null(ev.remarks);
    assert_int_equal(ev.n_dests, 0);
    assert_non_null(strstr(ev.detail, "<track course=\"80.24833892285461\""));
    assert_true(kz_cot_type_is(&ev, "a-f-G-U-C"));
    assert_false(kz_cot_type_is(&ev, "a-f-G"));
    kz_event_clear(&ev);
    round_trip(sa_xml);
}

static void test_chat(void **state)
{
    struct kz_event ev;

    (void)state;
    decode_ok(chat_xml, &ev);
    assert_string_equal(ev.chat_room, "BOB");
    assert_string_equal(ev.chat_sender, "JENNY");
    assert_string_equal(ev.link_uid, "ANDROID-589520ccfcd20f01");
    assert_string_equal(ev.remarks, "Meet at the <north> gate & bring water");
    assert_true(ev.hae == KZ_POINT_UNKNOWN && ev.ce == KZ_POINT_UNKNOWN);
    /* Every destination kind is kept: callsign, mission, uid. */
    assert_int_equal(ev.n_dests, 3);
    assert_string_equal(ev.dests[0].callsign, "BOB");
    assert_null(ev.dests[0].uid);
    assert_null(ev.dests[0].mission);
    assert_null(ev.dests[1].callsign);
    assert_null(ev.dests[1].uid);
    assert_string_equal(ev.dests[1].mission, "ops");
    assert_null(ev.dests[2].callsign);
    assert_string_equal(ev.dests[2].uid, "ALICE-UID");
    kz_event_clear(&ev);
    round_trip(chat_xml);
}

static void test_delete(void **state)
{
    struct kz_event ev;

    (void)state;
    decode_ok(delete_xml, &ev);
    assert_true(kz_cot_type_is(&ev, "t-x-d-d"));
    assert_string_equal(ev.link_uid, "marker-42");
    assert_true(ev.lat == 0.0 && ev.lon == 0.0 && ev.hae == 0.0);
    assert_true(ev.ce == KZ_POINT_UNKNOWN && ev.le == KZ_POINT_UNKNOWN);
    kz_event_clear(&ev);
    round_trip(delete_xml);
}

static void test_node_cot(void **state)
{
    struct kz_event ev;

    (void)state;
    decode_ok(node_xml, &ev);
    assert_null(ev.qos);
    assert_null(ev.opex);
    assert_null(ev.access);
    assert_string_equal(ev.callsign, "NODE");
    assert_true(ev.lat == -33.5 && ev.lon == -70.25 && ev.hae == 0.0);
    assert_true(ev.ce == KZ_POINT_UNKNOWN && ev.le == KZ_POINT_UNKNOWN);
    kz_event_clear(&ev);
    round_trip(node_xml);
}

static void test_canonical_xml(void **state)
{
    static const char in[] =
        "<event version='2.0' uid='x&quot;1' type='a-h-A-M-F;ext' how='h-e' " TIMES
        " access='SECRET//REL TO USA, JPN' qos='1-r-c' opex='e-KEEN SWORD'>"
        "<point lat='1.5' lon='-2' hae='9999999' ce='0.1' le='999999'/></event>";
    static const char want[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<event version=\"2.0\" uid=\"x&quot;1\" "
        "type=\"a-h-A-M-F;ext\" how=\"h-e\" " TIMES " access=\"SECRET//REL TO USA, JPN\" "
        "qos=\"1-r-c\" opex=\"e-KEEN SWORD\"><point lat=\"1.5\" lon=\"-2\" hae=\"9999999.0\" "
        "ce=\"0.1\" le=\"9999999.0\"/></event>";
    struct kz_event ev;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    (void)state;
    decode_ok(in, &ev);
    assert_null(ev.detail);
    kz_cot_encode_xml(&ev, &sb);
    assert_string_equal(sb.buf, want);
    kz_sbuf_release(&sb);

    /* Fields the decoder never saw: defaults and escaping of line breaks. */
    kz_event_clear(&ev);
    ev.uid = strdup("a\tb\nc\rd<&>");
    ev.type = strdup("a-f-G");
    ev.how = strdup("m-g");
    ev.lat = 1.0;
    ev.lon = 2.0;
    kz_cot_encode_xml(&ev, &sb);
    assert_non_null(
        strstr(sb.buf, "<event version=\"2.0\" uid=\"a&#9;b&#10;c&#13;d&lt;&amp;&gt;\""));
    assert_non_null(strstr(sb.buf, "time=\"1970-01-01T00:00:00.000Z\""));
    assert_true(sb.buf[sb.len - 1] == '>');
    round_trip(sb.buf);
    kz_sbuf_release(&sb);
    kz_event_clear(&ev);
}

static void test_numbers(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"0.1", "0.1"},
        {"35.6762", "35.6762"},
        {"-0.3333333333333333", "-0.3333333333333333"},
        {"1e-300", "1e-300"},
        {"  12.50 ", "12.5"},
        {"+7", "7"},
        {"90", "90"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"-180", "-180"},
        {"0.0001", "0.0001"},
        {"0.00001", "1e-05"},
        {"-0", "-0"},
        {"123456789.12345678", "123456789.12345678"},
        {"1e9", "1000000000"},
        {"80.24833892285461", "80.24833892285461"},
        {"4.94065645841246544e-324", "4.94065645841247e-324"},
    };
    char xml[512], want[64];

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(cases); i++) {
        struct kz_event ev;
        struct kz_sbuf sb = KZ_SBUF_INIT;
        snprintf(xml, sizeof(xml),
                 "<event version='2' uid='n' type='a' how='h' " TIMES "><point lat='1' lon='2' "
                 "hae='%s' ce='1' le='1'/></event>",
                 cases[i].in);
        decode_ok(xml, &ev);
        kz_cot_encode_xml(&ev, &sb);
        snprintf(want, sizeof(want), " hae=\"%s\" ", cases[i].out);
        if (!strstr(sb.buf, want))
            fail_msg("%s: want %s in %s", cases[i].in, want, sb.buf);
        kz_sbuf_release(&sb);
        kz_event_clear(&ev);
    }
}

/* <detail> content is passed through byte for byte, whatever its form. */
static void test_detail_passthrough(void **state)
{
    static const char inner[] =
        "\r\n  <contact callsign='A &amp; B' endpoint=\"*:-1:stcp\"   />\n"
        "<remarks><![CDATA[raw <b>bold</b> & ]]>&#x263A; caf\xc3\xa9</remarks>"
        "<x:ext xmlns:x='urn:x'><x:y a=\"&lt;&gt;\"/></x:ext><detail/>\t";
    char xml[1024];
    struct kz_event ev;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    (void)state;
    snprintf(xml, sizeof(xml),
             "<event version='2.0' uid='p' type='a-f' how='h-e' " TIMES ">"
             "<point lat='1' lon='2' hae='3' ce='4' le='5'/><detail>%s</detail></event>",
             inner);
    decode_ok(xml, &ev);
    assert_int_equal(ev.detail_len, strlen(inner));
    assert_memory_equal(ev.detail, inner, strlen(inner));
    assert_string_equal(ev.callsign, "A & B");
    assert_string_equal(ev.remarks, "raw <b>bold</b> & \xe2\x98\xba caf\xc3\xa9");
    kz_cot_encode_xml(&ev, &sb);
    assert_non_null(strstr(sb.buf, inner));
    kz_sbuf_release(&sb);
    kz_event_clear(&ev);
    round_trip(xml);
}

/* The first of each detail child wins; elements nested elsewhere are not read. */
static void test_detail_fields_first(void **state)
{
    static const char xml[] =
        "<event version='2.0' uid='f' type='a' how='h' " TIMES "><point lat='1' lon='2'/>"
        "<detail><other><contact callsign='NESTED'/><remarks>nested</remarks></other>"
        "<contact endpoint='e1'/><contact callsign='C1' endpoint='e2'/><contact callsign='C2'/>"
        "<link uid=''/><link uid='L1'/><link uid='L2'/><remarks>first</remarks>"
        "<remarks>second</remarks><__group name='Red'/><__group name='Blue' role='HQ'/>"
        "</detail><contact callsign='OUTSIDE'/></event>";
    struct kz_event ev;

    (void)state;
    decode_ok(xml, &ev);
    assert_string_equal(ev.callsign, "C1");
    assert_string_equal(ev.endpoint, "e1");
    assert_string_equal(ev.link_uid, "L1");
    assert_string_equal(ev.remarks, "first");
    assert_string_equal(ev.group_name, "Red");
    assert_string_equal(ev.group_role, "HQ");
    kz_event_clear(&ev);
}

static void test_empty_detail(void **state)
{
    static const char *forms[] = {"<detail/>", "<detail></detail>", "<detail />"};
    char xml[512];

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(forms); i++) {
        struct kz_event ev;
        struct kz_sbuf sb = KZ_SBUF_INIT;
        snprintf(xml, sizeof(xml),
                 "<event version='2.0' uid='e' type='a' how='h' " TIMES ">%s"
                 "<point lat='1' lon='2'/></event>",
                 forms[i]);
        decode_ok(xml, &ev);
        assert_non_null(ev.detail);
        assert_int_equal(ev.detail_len, 0);
        assert_string_equal(ev.detail, "");
        kz_cot_encode_xml(&ev, &sb);
        assert_non_null(strstr(sb.buf, "/><detail></detail></event>"));
        kz_sbuf_release(&sb);
        kz_event_clear(&ev);
    }
}

static void test_prologue_and_reuse(void **state)
{
    struct kz_event ev;
    char xml[2048];

    (void)state;
    /* Junk, a declaration, whitespace and a look-alike element before the event. */
    snprintf(xml, sizeof(xml), "\xef\xbb\xbfgarbage<events>\n<?xml version='1.0'?>\r\n%s  \n",
             delete_xml);
    decode_ok(xml, &ev);
    assert_string_equal(ev.uid, "delete-1");
    kz_event_clear(&ev);
    /* A failure leaves nothing behind for the next document. */
    decode_bad("<event version='2.0' uid='z' type='a' how='h'", KZ_REJ_XML);
    decode_ok(chat_xml, &ev);
    /* Previous contents are cleared, not leaked (the sanitizer build checks). */
    assert_int_equal(kz_cot_decode(dec, sa_xml, strlen(sa_xml), &ev, NULL, NULL, 0), KZ_OK);
    assert_null(ev.remarks);
    assert_int_equal(ev.n_dests, 0);
    kz_event_clear(&ev);
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *to_json(const struct kz_event *ev)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    json_error_t jerr;

    kz_cot_encode_json(ev, &sb);
    json_t *j = json_loadb(sb.buf, sb.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!j)
        fail_msg("invalid JSON (%s): %s", jerr.text, sb.buf);
    kz_sbuf_release(&sb);
    return j;
}

static void test_json_feature(void **state)
{
    struct kz_event ev;

    (void)state;
    decode_ok(sa_xml, &ev);
    ev.seq = 42;
    json_t *j = to_json(&ev);
    json_t *p = json_object_get(j, "properties");
    json_t *c = json_object_get(json_object_get(j, "geometry"), "coordinates");
    assert_string_equal(json_string_value(json_object_get(j, "type")), "Feature");
    assert_string_equal(json_string_value(json_object_get(j, "id")), ev.uid);
    assert_int_equal(json_array_size(c), 3);
    assert_true(json_real_value(json_array_get(c, 0)) == 139.6503);
    assert_true(json_real_value(json_array_get(c, 1)) == 35.6762);
    assert_true(json_real_value(json_array_get(c, 2)) == 40.2);
    assert_string_equal(json_string_value(json_object_get(p, "time")), T0);
    assert_string_equal(json_string_value(json_object_get(p, "stale")), T1);
    assert_string_equal(json_string_value(json_object_get(p, "callsign")), "JENNY");
    assert_string_equal(json_string_value(json_object_get(p, "group")), "Cyan");
    assert_string_equal(json_string_value(json_object_get(p, "role")), "Team Member");
    assert_true(json_number_value(json_object_get(p, "ce")) == 9.9);
    assert_null(json_object_get(p, "le"));     /* unknown */
    assert_null(json_object_get(p, "access")); /* absent */
    assert_null(json_object_get(p, "originator"));
    ev.origin_nation = kz_xstrdup("JPN"); /* set by the server when it accepts an event */
    json_decref(j);
    j = to_json(&ev);
    p = json_object_get(j, "properties");
    assert_string_equal(json_string_value(json_object_get(p, "originator")), "JPN");
    assert_null(json_object_get(p, "remarks"));
    assert_int_equal(json_integer_value(json_object_get(p, "seq")), 42);
    assert_memory_equal(json_string_value(json_object_get(p, "detail")), ev.detail, ev.detail_len);
    json_decref(j);
    kz_event_clear(&ev);

    decode_ok(chat_xml, &ev);
    j = to_json(&ev);
    p = json_object_get(j, "properties");
    c = json_object_get(json_object_get(j, "geometry"), "coordinates");
    assert_int_equal(json_array_size(c), 2); /* hae unknown */
    assert_string_equal(json_string_value(json_object_get(p, "remarks")),
                        "Meet at the <north> gate & bring water");
    assert_null(json_object_get(p, "seq"));
    json_decref(j);
    kz_event_clear(&ev);
}

/* Anything other code puts in an event still yields valid JSON. */
static void test_json_odd_strings(void **state)
{
    static const char odd[] = "q\"b\\s/\x01\x1f\n\t\x7f \xff\xfe \xc0\xaf \xed\xa0\x80 "
                              "\xf4\x90\x80\x80 \xe2\x82 ok \xf0\x9f\x98\x80 \xe2\x80\xa8";
    struct kz_event ev;

    (void)state;
    kz_event_init(&ev);
    ev.uid = strdup(odd);
    ev.type = strdup(odd);
    ev.remarks = strdup(odd);
    ev.detail = malloc(sizeof(odd));
    memcpy(ev.detail, odd, sizeof(odd));
    ev.detail_len = sizeof(odd); /* includes the NUL byte */
    ev.lat = 0.0 / 0.0;
    json_t *j = to_json(&ev);
    json_t *p = json_object_get(j, "properties");
    const char *s = json_string_value(json_object_get(p, "remarks"));
    assert_non_null(strstr(s, "q\"b\\s/\x01\x1f\n\t\x7f \xef\xbf\xbd"));
    assert_non_null(strstr(s, " ok \xf0\x9f\x98\x80 \xe2\x80\xa8"));
    assert_null(strstr(s, "\xff"));
    assert_int_equal(json_string_length(json_object_get(p, "detail")),
                     strlen(json_string_value(json_object_get(p, "detail"))) + 1);
    assert_true(json_is_null(
        json_array_get(json_object_get(json_object_get(j, "geometry"), "coordinates"), 1)));
    json_decref(j);

    /* The XML encoder also keeps such strings parseable. */
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_event back;
    free(ev.type);
    ev.type = strdup("a-f");
    ev.how = strdup("h");
    free(ev.detail);
    ev.detail = NULL;
    ev.lat = ev.lon = 0.0;
    kz_cot_encode_xml(&ev, &sb);
    decode_ok(sb.buf, &back);
    assert_non_null(strstr(back.uid, "/\xef\xbf\xbd\xef\xbf\xbd\n\t\x7f \xef\xbf\xbd\xef\xbf\xbd"));
    kz_event_clear(&back);
    kz_sbuf_release(&sb);
    kz_event_clear(&ev);
}

/* ---- stream safety and size (security review F3, F9) ------------------ */

#define HEAD_F3                                                                                    \
    "<event version='2.0' uid='JP-1' type='a-f-G' how='m-g' " TIMES ">"                            \
    "<point lat='1' lon='2'/><detail>"

/* "</event" anywhere inside the event is refused: stream readers split there. */
static void test_end_token_refused(void **state)
{
    static const char *const bad[] = {
        /* The review's injection: a forged event inside CDATA. */
        "<remarks><![CDATA[</event><event version='2.0' uid='US-TRACK' type='a-h-G' "
        "how='m-g' access='TOP SECRET//NOFORN'><point lat='1' lon='2'/>]]></remarks>",
        "<!-- </event> -->",
        "<x><!--</event\n--></x>",
        "<?pi </event>?>",
        "<remarks><![CDATA[</event >]]></remarks>",
        "<remarks><![CDATA[x</event]]></remarks>",
    };
    char xml[1024];
    struct kz_event ev;

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        snprintf(xml, sizeof(xml), HEAD_F3 "%s</detail></event>", bad[i]);
        assert_non_null(strstr(decode_bad(xml, KZ_REJ_XML), "</event"));
    }
    /* Another element's end tag and escaped text are no split token. */
    decode_ok(HEAD_F3 "<remarks><![CDATA[</events>]]>&lt;/event&gt;</remarks></detail></event>",
              &ev);
    struct kz_sbuf sb = KZ_SBUF_INIT;
    kz_cot_encode_xml(&ev, &sb);
    char *first = strstr(sb.buf, "</event");
    assert_true(first == strstr(sb.buf, "</events>") && first);
    assert_string_equal(strstr(first + 1, "</event"), "</event>");
    kz_sbuf_release(&sb);
    kz_event_clear(&ev);
}

/* Comments and processing instructions never reach the verbatim detail. */
static void test_comments_dropped(void **state)
{
    struct kz_event ev;

    (void)state;
    decode_ok(HEAD_F3 "<!-- one --><a/><b x='1'><?pi data?>t<!---->u</b><?end?></detail>"
                      "<!-- after --></event>",
              &ev);
    assert_string_equal(ev.detail, "<a/><b x='1'>tu</b>");
    assert_int_equal(ev.detail_len, strlen(ev.detail));
    kz_event_clear(&ev);
    round_trip(HEAD_F3 "<a><!-- c --></a></detail></event>");
}

/* kz_cot_xml_size() is the length kz_cot_encode_xml() writes. */
static void test_xml_size(void **state)
{
    const char *const docs[] = {
        sa_xml,
        chat_xml,
        delete_xml,
        node_xml,
        HEAD_F3 "<a v='&quot;\t'/></detail></event>",
        "<event version='2' uid='t' type='a' time='1970-01-01T00:00:00Z' "
        "start='1970-01-01T00:00:00.000001Z' stale='9999-12-31T23:59:59.999999Z'>"
        "<point lat='1' lon='2'/></event>",
    };
    /* Times no decoded event has, as other code may build them. */
    const int64_t odd_times[] = {-1, -1000, -62167219200LL * 1000000, INT64_MIN / 2, INT64_MAX / 2};
    struct kz_event ev;

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(docs); i++) {
        struct kz_sbuf sb = KZ_SBUF_INIT;
        decode_ok(docs[i], &ev);
        kz_cot_encode_xml(&ev, &sb);
        assert_int_equal(kz_cot_xml_size(&ev), sb.len);
        kz_sbuf_release(&sb);
        kz_event_clear(&ev);
    }
    decode_ok(docs[0], &ev);
    for (size_t i = 0; i < KZ_ARRAY_LEN(odd_times); i++) {
        struct kz_sbuf sb = KZ_SBUF_INIT;
        ev.time = ev.start = ev.stale = odd_times[i];
        kz_cot_encode_xml(&ev, &sb);
        assert_int_equal(kz_cot_xml_size(&ev), sb.len);
        kz_sbuf_release(&sb);
    }
    kz_event_clear(&ev);
}

static int decode_with(struct kz_cot_decoder *d, const char *xml, size_t len, char *err)
{
    struct kz_event ev;
    enum kz_reject why = KZ_REJ__COUNT;

    kz_event_init(&ev);
    int rc = kz_cot_decode(d, xml, len, &ev, &why, err, 160);
    kz_event_clear(&ev);
    assert_true(rc == KZ_OK || why == KZ_REJ_TOO_BIG);
    return rc;
}

/*
 * The canonical form fits max_event_bytes, with room for a label of
 * KZ_COT_ACCESS_MAX bytes; escaping that inflates a small input counts.
 */
static void test_canonical_size(void **state)
{
    struct kz_cot_limits lim;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_event ev;
    char err[160];

    (void)state;
    kz_cot_limits_default(&lim);
    lim.max_event_bytes = 4096;
    struct kz_cot_decoder *small = kz_cot_decoder_new(&lim);
    /* 1000 raw quotes in type are 6000 bytes as &quot;. */
    kz_sbuf_adds(&sb, "<event version='2.0' uid='q' type='a-f;");
    for (int i = 0; i < 1000; i++)
        kz_sbuf_adds(&sb, "\"");
    kz_sbuf_adds(&sb, "' how='m-g' " TIMES "><point lat='1' lon='2'/></event>");
    assert_true(sb.len < 4096);
    assert_int_equal(decode_with(small, sb.buf, sb.len, err), KZ_ERR_TOOBIG);
    assert_non_null(strstr(err, "canonical form of"));

    /* Exactly at the limit decodes; one byte more does not. */
    decode_ok(HEAD_F3 "<remarks></remarks></detail></event>", &ev);
    size_t base = kz_cot_xml_size(&ev) + strlen(" access=\"\"") + KZ_COT_ACCESS_MAX;
    kz_event_clear(&ev);
    for (size_t extra = 0; extra < 2; extra++) {
        kz_sbuf_reset(&sb);
        kz_sbuf_adds(&sb, HEAD_F3 "<remarks>");
        for (size_t i = 0; i < 4096 - base + extra; i++)
            kz_sbuf_adds(&sb, "r");
        kz_sbuf_adds(&sb, "</remarks></detail></event>");
        assert_int_equal(decode_with(small, sb.buf, sb.len, err), extra ? KZ_ERR_TOOBIG : KZ_OK);
    }
    kz_sbuf_release(&sb);
    kz_cot_decoder_free(small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sa),
        cmocka_unit_test(test_chat),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_node_cot),
        cmocka_unit_test(test_canonical_xml),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_detail_passthrough),
        cmocka_unit_test(test_detail_fields_first),
        cmocka_unit_test(test_empty_detail),
        cmocka_unit_test(test_prologue_and_reuse),
        cmocka_unit_test(test_json_feature),
        cmocka_unit_test(test_json_odd_strings),
        cmocka_unit_test(test_end_token_refused),
        cmocka_unit_test(test_comments_dropped),
        cmocka_unit_test(test_xml_size),
        cmocka_unit_test(test_canonical_size),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
