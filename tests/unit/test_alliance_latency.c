/*
 * Unit tests for time zones (TZif + POSIX footer: DST in both hemispheres,
 * past the table's end, the date line) and the latency arithmetic (duty
 * windows across a weekend and a DST change, the date line, the shipped
 * JJOC 09:00 JST example).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alliance/alliance.h"

static int64_t utc(const char *s)
{
    int64_t us;
    assert_int_equal(kz_time_parse(s, strlen(s), &us), KZ_OK);
    return us / 1000000;
}

static void expect_off(const char *tz, const char *t, int32_t want)
{
    int32_t off = 12345;
    assert_int_equal(kz_tz_offset(tz, utc(t), &off), KZ_OK);
    if (off != want)
        fail_msg("%s at %s: %d, want %d", tz, t, off, want);
}

static void test_offsets(void **state)
{
    int32_t off;
    (void)state;
    expect_off("Asia/Tokyo", "2025-06-10T00:00:00Z", 9 * 3600);
    expect_off("Pacific/Honolulu", "2025-06-10T00:00:00Z", -10 * 3600);
    expect_off("Asia/Manila", "2025-06-10T00:00:00Z", 8 * 3600);
    /* New York: DST starts 2025-03-09 02:00 EST = 07:00Z. */
    expect_off("America/New_York", "2025-03-09T06:59:59Z", -18000);
    expect_off("America/New_York", "2025-03-09T07:00:00Z", -14400);
    /* Southern hemisphere: Sydney leaves DST 2025-04-06 03:00 AEDT = 16:00Z. */
    expect_off("Australia/Sydney", "2025-04-05T15:59:59Z", 39600);
    expect_off("Australia/Sydney", "2025-04-05T16:00:00Z", 36000);
    /* Past the last transition in the file: the POSIX rule decides. */
    expect_off("America/New_York", "2045-07-01T00:00:00Z", -14400);
    expect_off("America/New_York", "2045-01-01T00:00:00Z", -18000);
    expect_off("America/New_York", "2100-03-14T06:59:59Z", -18000);
    expect_off("America/New_York", "2100-03-14T07:00:00Z", -14400);
    expect_off("Australia/Sydney", "2050-01-15T00:00:00Z", 39600);
    expect_off("Australia/Sydney", "2050-07-15T00:00:00Z", 36000);
    expect_off("Europe/London", "2060-06-01T00:00:00Z", 3600);
    /* The date line: Samoa skipped 2011-12-30; the two sides of it. */
    expect_off("Pacific/Apia", "2011-12-29T10:00:00Z", -36000);
    expect_off("Pacific/Apia", "2011-12-30T10:00:00Z", 50400);
    expect_off("Pacific/Kiritimati", "2025-01-01T00:00:00Z", 50400);
    expect_off("Pacific/Pago_Pago", "2025-01-01T00:00:00Z", -39600);
    expect_off("UTC", "2025-01-01T00:00:00Z", 0);
    assert_int_equal(kz_tz_offset("Asia/Atlantis", 0, &off), KZ_ERR_NOTFOUND);
    assert_int_equal(kz_tz_offset("../../etc/passwd", 0, &off), KZ_ERR_PARSE);
    assert_int_equal(kz_tz_offset("", 0, &off), KZ_ERR_PARSE);
}

static struct kz_alliance *load(const char *rel)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = NULL;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", getenv("KZ_TEST_DATA") ? getenv("KZ_TEST_DATA") : "tests",
             rel);
    if (kz_alliance_load(path, NULL, &a, &d) != KZ_OK)
        fail_msg("%s: %s", path, d.text.buf);
    kz_alliance_diag_release(&d);
    return a;
}

static json_t *route0(json_t *o)
{
    return json_array_get(json_object_get(o, "routes"), 0);
}

static json_int_t resp(json_t *o)
{
    return json_integer_value(json_object_get(route0(o), "response_s"));
}

static const char *hop(json_t *o, size_t i, const char *key)
{
    json_t *h = json_array_get(json_object_get(route0(o), "hops"), i);
    return json_string_value(json_object_get(h, key));
}

static void test_weekend_and_dst(void **state)
{
    struct kz_alliance *a = load("unit/data/alliance/latency.yaml");
    json_t *o;
    (void)state;
    /* Arrives in New York Fri 16:30 EST: 30 min that day, 30 min after the
     * weekend, on which the clocks moved forward. */
    assert_int_equal(kz_alliance_paths(a, "KIR", "NYC", NULL, utc("2025-03-07T21:15:00Z"), 1, &o),
                     KZ_OK);
    assert_string_equal(hop(o, 0, "arrive_local"), "Fri 2025-03-07 16:30 -05:00");
    assert_string_equal(hop(o, 0, "done_local"), "Mon 2025-03-10 09:30 -04:00");
    json_decref(o);
    kz_alliance_free(a);
}

static void test_date_line(void **state)
{
    struct kz_alliance *a = load("unit/data/alliance/latency.yaml");
    json_t *o;
    (void)state;
    /* Pago Pago Mon 09:00 (-11) is Kiritimati Tue 10:00 (+14): same working day
     * for the request, answered in 1h30. */
    assert_int_equal(kz_alliance_paths(a, "PAGO", "KIR", NULL, utc("2025-06-09T20:00:00Z"), 1, &o),
                     KZ_OK);
    assert_string_equal(json_string_value(json_object_get(o, "start_local")),
                        "Mon 2025-06-09 09:00 -11:00");
    assert_string_equal(hop(o, 0, "arrive_local"), "Tue 2025-06-10 10:15 +14:00");
    assert_int_equal(resp(o), 5400);
    json_decref(o);
    /* Kiritimati Mon 09:00 is Pago Pago Sunday 08:00: wait for Monday there. */
    assert_int_equal(kz_alliance_paths(a, "KIR", "PAGO", NULL, utc("2025-06-08T19:00:00Z"), 1, &o),
                     KZ_OK);
    assert_string_equal(hop(o, 0, "arrive_local"), "Sun 2025-06-08 08:15 -11:00");
    assert_string_equal(hop(o, 0, "start_local"), "Mon 2025-06-09 09:00 -11:00");
    assert_int_equal(resp(o), 26 * 3600 + 15 * 60);
    json_decref(o);
    kz_alliance_free(a);
}

static void test_small_model(void **state)
{
    struct kz_alliance *a = load("unit/data/alliance/good.yaml");
    json_t *o;
    (void)state;
    /* Tue 09:00 JST: direct counterpart 1h30; through Hawaii 23h. */
    assert_int_equal(kz_alliance_paths(a, "FLT", "JHQ", NULL, utc("2025-06-10T00:00:00Z"), 5, &o),
                     KZ_OK);
    assert_int_equal(resp(o), 5400);
    json_decref(o);
    assert_int_equal(kz_alliance_paths(a, "FLT", "JHQ", "CCMD", utc("2025-06-10T00:00:00Z"), 5, &o),
                     KZ_OK);
    assert_int_equal(resp(o), 23 * 3600);
    assert_string_equal(hop(o, 0, "arrive_local"), "Mon 2025-06-09 14:15 -10:00");
    json_decref(o);
    assert_int_equal(kz_alliance_paths(a, "FLT", "NOPE", NULL, 0, 5, &o), KZ_ERR_NOTFOUND);
    kz_alliance_free(a);
}

static void test_shipped_example(void **state)
{
    struct kz_alliance *a = load("../config/alliance/us-japan.yaml");
    int64_t t0 = utc("2025-06-10T00:00:00Z"); /* Tue 09:00 JST */
    json_t *o;
    (void)state;
    assert_int_equal(kz_alliance_paths(a, "JJOC", "C7F", NULL, t0, 3, &o), KZ_OK);
    json_int_t direct = resp(o);
    json_decref(o);
    assert_int_equal(kz_alliance_paths(a, "JJOC", "C7F", "INDOPACOM", t0, 3, &o), KZ_OK);
    json_int_t hub = resp(o);
    assert_string_equal(hop(o, 0, "node"), "INDOPACOM");
    assert_string_equal(hop(o, 0, "arrive_local"), "Mon 2025-06-09 14:15 -10:00");
    json_decref(o);
    assert_int_equal(direct, 5 * 3600 + 30 * 60);
    assert_int_equal(hub, 23 * 3600 + 30 * 60);
    /* The doctrinal tasking route INDOPACOM -> PACFLT -> C7F (review #13). */
    assert_int_equal(kz_alliance_paths(a, "JJOC", "C7F", "PACFLT", t0, 1, &o), KZ_OK);
    assert_string_equal(hop(o, 1, "node"), "PACFLT");
    assert_string_equal(hop(o, 2, "link"), "OPCON");
    assert_int_equal(resp(o), 26 * 3600 + 15 * 60);
    json_decref(o);
    /* The same request between the 24/7 operations floors: 4 h, on a Saturday too. */
    assert_int_equal(kz_alliance_paths(a, "JJOC-OPS", "C7F-MOC", "INDOPACOM-JOC", t0, 1, &o),
                     KZ_OK);
    assert_int_equal(resp(o), 4 * 3600);
    json_decref(o);
    assert_int_equal(
        kz_alliance_paths(a, "JJOC-OPS", "C7F-MOC", "INDOPACOM-JOC", t0 + 4 * 86400, 1, &o), KZ_OK);
    assert_int_equal(resp(o), 4 * 3600);
    json_decref(o);
    assert_int_equal(kz_alliance_compare_topology(a, NULL, t0, &o), KZ_OK);
    assert_int_equal(json_array_size(json_object_get(o, "pairs")), 6); /* USA JPN PHL AUS */
    assert_true(json_integer_value(json_object_get(o, "hub_mean_s")) >
                json_integer_value(json_object_get(o, "lattice_mean_s")));
    json_decref(o);
    kz_alliance_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets),         cmocka_unit_test(test_weekend_and_dst),
        cmocka_unit_test(test_date_line),       cmocka_unit_test(test_small_model),
        cmocka_unit_test(test_shipped_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
