/* Unit tests for the CoT decoder's validation rules and its limits on hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cot/cot.h"
#include "cot_decode_helpers.h"

#define T0 "2020-12-16T19:59:34.913Z"
#define T1 "2020-12-16T20:05:49.913Z"
#define TIMES "time=\"" T0 "\" start=\"" T0 "\" stale=\"" T1 "\""

/* ---- one test per rule ---------------------------------------------------- */

static const char *make(char *buf, size_t size, const char *attrs, const char *point)
{
    snprintf(buf, size, "<event %s><point %s/></event>", attrs, point);
    return buf;
}

#define GOOD_ATTRS "version='2.0' uid='u' type='a-f-G' how='m-g' " TIMES
#define GOOD_POINT "lat='1' lon='2' hae='3' ce='4' le='5'"

static void test_reject_missing(void **state)
{
    /* how may be absent (test_missing_how). */
    static const char *names[] = {"version", "uid", "type", "time", "start", "stale"};
    char xml[512], attrs[256], want[64];

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(names); i++) {
        /* Rename one attribute so it is missing. */
        snprintf(attrs, sizeof(attrs), "%s", GOOD_ATTRS);
        char *at = strstr(attrs, names[i]);
        at[0] = 'X';
        snprintf(want, sizeof(want), "missing attribute '%s'", names[i]);
        assert_string_equal(decode_bad(make(xml, sizeof(xml), attrs, GOOD_POINT), KZ_REJ_MISSING),
                            want);
    }
    assert_string_equal(decode_bad(make(xml, sizeof(xml),
                                        "version='2.0' uid='' type='a' "
                                        "how='h' " TIMES,
                                        GOOD_POINT),
                                   KZ_REJ_MISSING),
                        "empty attribute 'uid'");
    assert_string_equal(decode_bad("<event " GOOD_ATTRS "><detail/></event>", KZ_REJ_MISSING),
                        "missing <point>");
    assert_string_equal(decode_bad("<event " GOOD_ATTRS "/>", KZ_REJ_MISSING), "missing <point>");
    assert_string_equal(decode_bad(make(xml, sizeof(xml), GOOD_ATTRS, "lon='2'"), KZ_REJ_MISSING),
                        "missing attribute 'lat' on <point>");
}

static void test_reject_time(void **state)
{
    static const char *bad[] = {"2020-12-16T19:59:34", "2020-12-16T19:59:34+09:00", "yesterday",
                                "2020-02-30T00:00:00Z", "2020-12-16 19:59:34Z"};
    char xml[512], attrs[256];

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        snprintf(attrs, sizeof(attrs),
                 "version='2' uid='u' type='a' how='h' time='" T0 "' "
                 "start='%s' stale='" T1 "'",
                 bad[i]);
        const char *err = decode_bad(make(xml, sizeof(xml), attrs, GOOD_POINT), KZ_REJ_TIME);
        assert_non_null(strstr(err, "start '"));
        assert_non_null(strstr(err, bad[i]));
    }
    /* Forms seen on the wire are accepted. */
    struct kz_event ev;
    decode_ok(make(xml, sizeof(xml),
                   "version='2' uid='u' type='a' how='h' "
                   "time='2020-12-16T19:59:34Z' start='2020-12-16T19:59:34.913456Z' "
                   "stale='2020-12-16T19:59:35.1+00:00'",
                   GOOD_POINT),
              &ev);
    assert_true(ev.start == 1608148774913456 && ev.stale == 1608148775100000);
    kz_event_clear(&ev);
}

static void test_reject_stale(void **state)
{
    char xml[512];
    struct kz_event ev;

    (void)state;
    const char *err = decode_bad(make(xml, sizeof(xml),
                                      "version='2' uid='u' type='a' how='h' "
                                      "time='" T0 "' start='" T1 "' stale='" T0 "'",
                                      GOOD_POINT),
                                 KZ_REJ_STALE);
    assert_string_equal(err, "stale " T0 " before start " T1);
    /* stale == start is allowed. */
    decode_ok(make(xml, sizeof(xml),
                   "version='2' uid='u' type='a' how='h' time='" T0 "' "
                   "start='" T0 "' stale='" T0 "'",
                   GOOD_POINT),
              &ev);
    kz_event_clear(&ev);
}

static void test_reject_point(void **state)
{
    static const struct {
        const char *point, *msg;
    } bad[] = {
        {"lat='91.5' lon='0'", "lat 91.5 out of range"},
        {"lat='-90.0001' lon='0'", "lat -90.0001 out of range"},
        {"lat='0' lon='180.5'", "lon 180.5 out of range"},
        {"lat='abc' lon='0'", "lat 'abc' is not a number"},
        {"lat='NaN' lon='0'", "lat 'NaN' is not a number"},
        {"lat='0' lon='inf'", "lon 'inf' is not a number"},
        {"lat='0' lon='1e999'", "lon '1e999' is not a number"},
        {"lat='0x10' lon='0'", "lat '0x10' is not a number"},
        {"lat='' lon='0'", "lat '' is not a number"},
        {"lat='1 2' lon='0'", "lat '1 2' is not a number"},
        {"lat='0' lon='0' hae='-'", "hae '-' is not a number"},
        {"lat='0' lon='0' ce='-1'", "ce -1 out of range"},
        {"lat='0' lon='0' le='-0.5'", "le -0.5 out of range"},
    };
    char xml[512];

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++)
        assert_string_equal(
            decode_bad(make(xml, sizeof(xml), GOOD_ATTRS, bad[i].point), KZ_REJ_POINT), bad[i].msg);
    assert_string_equal(decode_bad("<event " GOOD_ATTRS "><point lat='1' lon='2'/>"
                                   "<point lat='1' lon='2'/></event>",
                                   KZ_REJ_POINT),
                        "more than one <point>");
}

static void test_reject_type(void **state)
{
    static const char *bad_types[] = {"-a", "a-", "a--f", "a-f-G U", "a;b;c", "a.f", "\xc3\xa9"};
    static const char *good_types[] = {"a",         "a-f-G-U-C", "b-m-p-s-p-i",
                                       "a-f-G;x y", "A_1-2;",    "u-d-c-c"};
    static const char *bad_hows[] = {"hg", "h-", "h--e", "-h", "m g", "h-g-i-g-o-"};
    static const char *good_hows[] = {"h", "m-g", "h-g-i-g-o", "m-R-abc", "_"};
    char xml[512], attrs[256];
    struct kz_event ev;

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad_types); i++) {
        snprintf(attrs, sizeof(attrs), "version='2' uid='u' type='%s' how='h' " TIMES,
                 bad_types[i]);
        assert_non_null(strstr(decode_bad(make(xml, sizeof(xml), attrs, GOOD_POINT), KZ_REJ_TYPE),
                               "is not a CoT type"));
    }
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad_hows); i++) {
        snprintf(attrs, sizeof(attrs), "version='2' uid='u' type='a' how='%s' " TIMES, bad_hows[i]);
        assert_non_null(strstr(decode_bad(make(xml, sizeof(xml), attrs, GOOD_POINT), KZ_REJ_TYPE),
                               "is not a CoT how"));
    }
    for (size_t i = 0; i < KZ_ARRAY_LEN(good_types); i++) {
        snprintf(attrs, sizeof(attrs), "version='2' uid='u' type='%s' how='%s' " TIMES,
                 good_types[i], good_hows[i % KZ_ARRAY_LEN(good_hows)]);
        decode_ok(make(xml, sizeof(xml), attrs, GOOD_POINT), &ev);
        assert_string_equal(ev.type, good_types[i]);
        kz_event_clear(&ev);
    }
}

static void test_reject_xml(void **state)
{
    (void)state;
    assert_string_equal(decode_bad("", KZ_REJ_XML), "no <event> element");
    assert_string_equal(decode_bad("<events " GOOD_ATTRS "/>", KZ_REJ_XML), "no <event> element");
    assert_string_equal(decode_bad("<event", KZ_REJ_XML), "no <event> element");
    assert_non_null(
        strstr(decode_bad("<event " GOOD_ATTRS "><point lat='1' lon='2'></event>", KZ_REJ_XML),
               "not well-formed XML: mismatched tag"));
    decode_bad("<event " GOOD_ATTRS "><point lat='1' lon='2'/></event><event/>", KZ_REJ_XML);
    decode_bad("<event " GOOD_ATTRS "><point lat='1' lon='2'/><detail>&nbsp;</detail></event>",
               KZ_REJ_XML);
    decode_bad("<event " GOOD_ATTRS "><point lat='1' lon='2'/>\xff</event>", KZ_REJ_XML);
    decode_bad("<event " GOOD_ATTRS " uid='again'><point lat='1' lon='2'/></event>", KZ_REJ_XML);
    assert_string_equal(decode_bad("<event " GOOD_ATTRS "><point lat='1' lon='2'/><detail/>"
                                   "<detail/></event>",
                                   KZ_REJ_XML),
                        "more than one <detail>");
}

/* ---- hostile input ---------------------------------------------------- */

static void test_billion_laughs(void **state)
{
    static const char lol[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE event [\n <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        "]>\n<event " GOOD_ATTRS "><point " GOOD_POINT "/><detail><remarks>&lol9;</remarks>"
        "</detail></event>";

    (void)state;
    assert_string_equal(decode_bad(lol, KZ_REJ_ENTITY), "DOCTYPE/entity declarations are refused");
    decode_bad("<!DOCTYPE event SYSTEM \"file:///etc/passwd\"><event " GOOD_ATTRS
               "><point " GOOD_POINT "/></event>",
               KZ_REJ_ENTITY);
    /* Without the declaration the reference is simply undefined. */
    decode_bad("<event " GOOD_ATTRS "><point " GOOD_POINT "/><detail>&lol9;</detail></event>",
               KZ_REJ_XML);
}

static void test_depth(void **state)
{
    struct kz_cot_limits lim;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_event ev;

    (void)state;
    kz_cot_limits_default(&lim);
    /* event > detail > 30 nested = 32 elements: allowed; one more is not. */
    for (int extra = 30; extra <= 31; extra++) {
        kz_sbuf_reset(&sb);
        kz_sbuf_adds(&sb, "<event " GOOD_ATTRS "><point " GOOD_POINT "/><detail>");
        for (int i = 0; i < extra; i++)
            kz_sbuf_adds(&sb, "<a>");
        for (int i = 0; i < extra; i++)
            kz_sbuf_adds(&sb, "</a>");
        kz_sbuf_adds(&sb, "</detail></event>");
        if (extra + 2 <= (int)lim.max_depth) {
            decode_ok(sb.buf, &ev);
            kz_event_clear(&ev);
        } else {
            assert_string_equal(decode_bad(sb.buf, KZ_REJ_DEPTH), "elements nested deeper than 32");
        }
    }
    /* A very deep document stops at the limit instead of growing a stack. */
    kz_sbuf_reset(&sb);
    kz_sbuf_adds(&sb, "<event " GOOD_ATTRS "><point " GOOD_POINT "/><detail>");
    for (int i = 0; i < 20000; i++)
        kz_sbuf_adds(&sb, "<a>");
    decode_bad(sb.buf, KZ_REJ_DEPTH);
    kz_sbuf_release(&sb);
}

static void test_too_big(void **state)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_event ev;
    enum kz_reject why;
    char err[128];
    size_t big = 1 << 20;

    (void)state;
    kz_sbuf_adds(&sb, "<event " GOOD_ATTRS " access='");
    kz_sbuf_grow(&sb, big);
    memset(sb.buf + sb.len, 'A', big);
    sb.len += big;
    kz_sbuf_adds(&sb, "'><point " GOOD_POINT "/></event>");
    kz_event_init(&ev);
    assert_int_equal(kz_cot_decode(dec, sb.buf, sb.len, &ev, &why, err, sizeof(err)),
                     KZ_ERR_TOOBIG);
    assert_int_equal(why, KZ_REJ_TOO_BIG);
    assert_non_null(strstr(err, "exceeds the limit of 65536"));

    /* Within a raised limit the attribute is still over its own cap. */
    struct kz_cot_limits lim;
    kz_cot_limits_default(&lim);
    lim.max_event_bytes = 2 << 20;
    struct kz_cot_decoder *big_dec = kz_cot_decoder_new(&lim);
    assert_int_equal(kz_cot_decode(big_dec, sb.buf, sb.len, &ev, &why, err, sizeof(err)),
                     KZ_ERR_TOOBIG);
    assert_string_equal(err, "attribute 'access' is longer than 512 bytes");
    /* ... and a detail that size is fine. */
    kz_sbuf_reset(&sb);
    kz_sbuf_adds(&sb, "<event " GOOD_ATTRS "><point " GOOD_POINT "/><detail><remarks>");
    kz_sbuf_grow(&sb, big);
    memset(sb.buf + sb.len, 'A', big);
    sb.len += big;
    kz_sbuf_adds(&sb, "</remarks></detail></event>");
    assert_int_equal(kz_cot_decode(big_dec, sb.buf, sb.len, &ev, NULL, NULL, 0), KZ_OK);
    assert_int_equal(strlen(ev.remarks), big);
    kz_event_clear(&ev);
    kz_cot_decoder_free(big_dec);
    kz_sbuf_release(&sb);
}

static void test_max_dests(void **state)
{
    struct kz_cot_limits lim;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_event ev;

    (void)state;
    kz_cot_limits_default(&lim);
    lim.max_dests = 3;
    struct kz_cot_decoder *d = kz_cot_decoder_new(&lim);
    kz_sbuf_adds(&sb, "<event " GOOD_ATTRS "><point " GOOD_POINT "/><detail><marti>");
    for (int i = 0; i < 10; i++)
        kz_sbuf_addf(&sb, "<dest callsign='C%d'/>", i);
    kz_sbuf_adds(&sb, "</marti><dest callsign='outside'/></detail></event>");
    kz_event_init(&ev);
    assert_int_equal(kz_cot_decode(d, sb.buf, sb.len, &ev, NULL, NULL, 0), KZ_OK);
    assert_int_equal(ev.n_dests, 3);
    assert_string_equal(ev.dests[2].callsign, "C2");
    kz_event_clear(&ev);
    kz_cot_decoder_free(d);
    kz_sbuf_release(&sb);
}

/* ---- free attribute caps (security review F9) -------------------------- */

static void test_attr_caps(void **state)
{
    static const struct {
        const char *name;
        size_t cap;
    } caps[] = {
        {"uid", KZ_COT_UID_MAX},   {"version", KZ_COT_VERSION_MAX}, {"qos", KZ_COT_QOS_MAX},
        {"opex", KZ_COT_OPEX_MAX}, {"access", KZ_COT_ACCESS_MAX},
    };
    char val[600], xml[1024], want[80];
    struct kz_event ev;

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(caps); i++) {
        for (size_t n = caps[i].cap; n <= caps[i].cap + 1; n++) {
            memset(val, 'V', n);
            val[n] = '\0';
            /* The attribute given twice is not well-formed: rename the default one. */
            snprintf(xml, sizeof(xml),
                     "<event version='2' uid='u' type='a' how='h' " TIMES
                     " %s='%s'><point " GOOD_POINT "/></event>",
                     caps[i].name, val);
            if (strcmp(caps[i].name, "uid") == 0 || strcmp(caps[i].name, "version") == 0)
                *strstr(xml, strcmp(caps[i].name, "uid") == 0 ? "uid='u'" : "version='2'") = 'X';
            if (n == caps[i].cap) {
                decode_ok(xml, &ev);
                kz_event_clear(&ev);
                continue;
            }
            snprintf(want, sizeof(want), "attribute '%s' is longer than %zu bytes", caps[i].name,
                     caps[i].cap);
            assert_string_equal(decode_bad(xml, KZ_REJ_TOO_BIG), want);
        }
    }
    /* The review's F9 input: version='"…"' of 50 183 bytes. */
    struct kz_sbuf sb = KZ_SBUF_INIT;
    kz_sbuf_adds(&sb, "<event version='");
    for (int i = 0; i < 50000; i++)
        kz_sbuf_adds(&sb, "\"");
    kz_sbuf_adds(&sb, "' uid='u' type='a' how='h' " TIMES "><point " GOOD_POINT "/></event>");
    decode_bad(sb.buf, KZ_REJ_TOO_BIG);
    kz_sbuf_release(&sb);
}

/* ---- what real devices send -------------------------------------------- */

/* access="Undefined" (ATAK 5.x, WinTAK, iTAK) and access="" read as no access. */
static void test_access_undefined(void **state)
{
    static const char *const none[] = {"Undefined", "undefined", ""};
    char xml[512];
    struct kz_event ev;

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(none); i++) {
        snprintf(xml, sizeof(xml),
                 "<event " GOOD_ATTRS " access='%s'><point " GOOD_POINT "/></event>", none[i]);
        decode_ok(xml, &ev);
        assert_null(ev.access);
        kz_event_clear(&ev);
    }
    decode_ok("<event " GOOD_ATTRS " access='SECRET'><point " GOOD_POINT "/></event>", &ev);
    assert_string_equal(ev.access, "SECRET");
    kz_event_clear(&ev);
}

/* NaN in hae, ce or le (ATAK file transfers) is unknown; lat and lon stay strict. */
static void test_nan_unknown(void **state)
{
    struct kz_event ev;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    (void)state;
    decode_ok("<event " GOOD_ATTRS "><point lat='1' lon='2' hae='NaN' ce='nan' le=' NAN '/>"
              "</event>",
              &ev);
    assert_true(ev.hae == KZ_POINT_UNKNOWN && ev.ce == KZ_POINT_UNKNOWN &&
                ev.le == KZ_POINT_UNKNOWN);
    kz_cot_encode_xml(&ev, &sb);
    assert_non_null(strstr(sb.buf, "hae=\"9999999.0\" ce=\"9999999.0\" le=\"9999999.0\""));
    kz_sbuf_release(&sb);
    kz_event_clear(&ev);
    assert_string_equal(
        decode_bad("<event " GOOD_ATTRS "><point lat='1' lon='NaN'/></event>", KZ_REJ_POINT),
        "lon 'NaN' is not a number");
    assert_string_equal(decode_bad("<event " GOOD_ATTRS "><point lat='1' lon='2' hae='NaNa'/>"
                                   "</event>",
                                   KZ_REJ_POINT),
                        "hae 'NaNa' is not a number");
}

/* A missing or empty how (some iTAK tools) is accepted and left out on output. */
static void test_missing_how(void **state)
{
    static const char *const docs[] = {
        "<event version='2' uid='u' type='a-f-G' " TIMES "><point " GOOD_POINT "/></event>",
        "<event version='2' uid='u' type='a-f-G' how='' " TIMES "><point " GOOD_POINT "/></event>",
    };
    struct kz_event ev, back;

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(docs); i++) {
        struct kz_sbuf sb = KZ_SBUF_INIT;
        decode_ok(docs[i], &ev);
        assert_null(ev.how);
        kz_cot_encode_xml(&ev, &sb);
        assert_null(strstr(sb.buf, "how="));
        decode_ok(sb.buf, &back);
        assert_null(back.how);
        kz_sbuf_reset(&sb);
        kz_cot_encode_json(&ev, &sb);
        assert_null(strstr(sb.buf, "\"how\""));
        kz_sbuf_release(&sb);
        kz_event_clear(&ev);
        kz_event_clear(&back);
    }
}

/* A random decimal: sign, 1-18 digits, a point somewhere (or none), blanks around. */
static void random_decimal(uint64_t *x, char *out, size_t size)
{
    char digits[24];
    unsigned n;

    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    n = 1 + (unsigned)(*x % 18);
    for (unsigned i = 0; i < n; i++) {
        *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
        digits[i] = (char)('0' + *x % 10);
    }
    unsigned point = (unsigned)(*x >> 20) % (n + 2); /* n + 1: none */
    snprintf(out, size, "%s%s%.*s%s%.*s%s", (*x >> 40) % 7 == 0 ? " " : "",
             (*x >> 30) % 3 == 0 ? "-" : "", (int)(point <= n ? point : n), digits,
             point <= n ? "." : "", (int)(point <= n ? n - point : 0), digits + point,
             (*x >> 50) % 5 == 0 ? " " : "");
}

/* Every number the decoder takes reads as strtod reads it, to the bit. */
static void test_numbers_as_strtod(void **state)
{
    uint64_t x = 0x9e3779b97f4a7c15u;
    char num[48], doc[256];
    struct kz_event ev;

    (void)state;
    for (int i = 0; i < 100000; i++) {
        random_decimal(&x, num, sizeof(num));
        snprintf(doc, sizeof(doc),
                 "<event " GOOD_ATTRS "><point lat='1' lon='2' hae='%s'/></event>", num);
        kz_event_init(&ev);
        int rc = kz_cot_decode(dec, doc, strlen(doc), &ev, NULL, NULL, 0);
        char *end;
        double want = strtod(num, &end);
        bool whole = end != num && strspn(end, " ") == strlen(end);
        if (!whole || want == KZ_POINT_UNKNOWN || want == 999999.0) {
            kz_event_clear(&ev);
            continue;
        }
        if (rc != KZ_OK || memcmp(&ev.hae, &want, sizeof(want)) != 0)
            fail_msg("'%s' read as %.17g, strtod %.17g", num, ev.hae, want);
        kz_event_clear(&ev);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_missing),    cmocka_unit_test(test_reject_time),
        cmocka_unit_test(test_reject_stale),      cmocka_unit_test(test_reject_point),
        cmocka_unit_test(test_reject_type),       cmocka_unit_test(test_reject_xml),
        cmocka_unit_test(test_billion_laughs),    cmocka_unit_test(test_depth),
        cmocka_unit_test(test_too_big),           cmocka_unit_test(test_max_dests),
        cmocka_unit_test(test_attr_caps),         cmocka_unit_test(test_access_undefined),
        cmocka_unit_test(test_nan_unknown),       cmocka_unit_test(test_missing_how),
        cmocka_unit_test(test_numbers_as_strtod),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
