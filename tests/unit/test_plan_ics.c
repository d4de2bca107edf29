/*
 * Unit tests for the iCalendar export of a plan: the calendar's shape, UIDs
 * and UTC times, TEXT escaping, folding at 75 octets around multi-byte
 * UTF-8, CRLF line ends, an item without a place, and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plan/ics.h"

static const char PLAN[] =
    "{\"id\":\"p-3f2a9c01\",\"revision\":3,\"title\":\"Keen Sword 27\",\"kind\":\"exercise\","
    "\"legal_basis\":\"training\",\"stage\":\"main_planning\",\"lead\":\"USFJ\","
    "\"participants\":[\"USFJ\",\"JJOC\"],\"start\":\"2026-10-23T00:00:00Z\","
    "\"end\":\"2026-11-01T00:00:00Z\",\"own_label\":\"SECRET//REL TO USA, JPN\","
    "\"label\":\"//JOINT SECRET JPN USA//REL TO USA, JPN\",\"updated\":\"2026-09-01T12:34:56Z\","
    "\"items\":[{\"id\":1,\"time\":\"2026-10-25T00:00:00Z\",\"lat\":35.75,\"lon\":139.35,"
    "\"place\":\"Yokota AB\",\"units\":[\"5AF\",\"JASDF-ADC\"],\"description\":\"Air defense "
    "drill\",\"label\":\"SECRET//REL TO USA, JPN\"},{\"id\":2,\"time\":\"2026-10-26T06:30:00Z\","
    "\"units\":[],\"description\":\"Staff talks\"}]}";

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    assert_non_null(j);
    return j;
}

static char *ics_of(json_t *plan)
{
    struct kz_sbuf out = KZ_SBUF_INIT;

    assert_int_equal(kz_plan_ics(plan, &out), KZ_OK);
    json_decref(plan);
    return kz_sbuf_detach(&out, NULL);
}

/* The logical lines: folds ("\r\n" + space) removed. */
static char *unfold(const char *text)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;

    for (const char *p = text; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ')
            p += 2;
        else
            kz_sbuf_add(&sb, p, 1);
    }
    return kz_sbuf_detach(&sb, NULL);
}

/* The n-th (0-based) VEVENT of unfolded text, as its own string. */
static char *event(const char *text, int n)
{
    const char *b = text;
    for (int i = 0; i <= n; i++) {
        b = strstr(b, "BEGIN:VEVENT\r\n");
        assert_non_null(b);
        b += 1;
    }
    const char *e = strstr(b, "END:VEVENT\r\n");
    assert_non_null(e);
    return strndup(b - 1, (size_t)(e - b + 1));
}

static void test_shape(void **state)
{
    (void)state;
    char *ics = ics_of(load(PLAN)), *u = unfold(ics);
    char *win = event(u, 0), *it1 = event(u, 1), *it2 = event(u, 2);

    assert_memory_equal(ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kizuna//plans//EN\r\n",
                        59);
    assert_non_null(strstr(ics, "\r\nEND:VCALENDAR\r\n"));
    assert_string_equal(ics + strlen(ics) - 15, "END:VCALENDAR\r\n");
    assert_non_null(strstr(win, "UID:p-3f2a9c01@kizuna\r\n"));
    assert_non_null(strstr(win, "DTSTAMP:20260901T123456Z\r\n"));
    assert_non_null(strstr(win, "DTSTART:20261023T000000Z\r\nDTEND:20261101T000000Z\r\n"));
    assert_non_null(
        strstr(win, "SUMMARY:(//JOINT SECRET JPN USA//REL TO USA\\, JPN) Keen Sword 27\r\n"));
    assert_non_null(strstr(win, "Kind: exercise\\nLegal basis: training\\nStage: main_planning"));
    assert_non_null(strstr(win, "Label: //JOINT SECRET JPN USA//REL TO USA\\, JPN\r\n"));
    assert_non_null(strstr(it1, "UID:p-3f2a9c01-1@kizuna\r\n"));
    assert_non_null(strstr(it1, "DTSTART:20261025T000000Z\r\nDTEND:20261025T010000Z\r\n"));
    assert_non_null(strstr(it1, "LOCATION:Yokota AB\r\n"));
    assert_non_null(strstr(it1, "GEO:35.750000;139.350000\r\n"));
    assert_non_null(strstr(it1, "SUMMARY:(SECRET//REL TO USA\\, JPN) Air defense drill\r\n"));
    assert_non_null(strstr(it1, "Units: 5AF\\, JASDF-ADC\\nLabel: SECRET//REL TO USA\\, JPN\r\n"));
    assert_non_null(strstr(it2, "UID:p-3f2a9c01-2@kizuna\r\n"));
    free(win), free(it1), free(it2), free(u), free(ics);
}

static void test_crlf_only(void **state)
{
    (void)state;
    char *ics = ics_of(load(PLAN));

    for (const char *p = ics; *p; p++) {
        if (*p == '\n')
            assert_true(p > ics && p[-1] == '\r');
        if (*p == '\r')
            assert_int_equal(p[1], '\n');
    }
    free(ics);
}

static void test_escaping(void **state)
{
    (void)state;
    json_t *plan = load(PLAN);
    json_object_set_new(plan, "title", json_string("a,b;c\\d\r\ne\nf\x01g\th"));
    json_object_del(plan, "label");
    char *ics = ics_of(plan), *u = unfold(ics);

    /* No label: no banner.  The control byte goes, HTAB stays. */
    assert_non_null(strstr(u, "SUMMARY:a\\,b\\;c\\\\d\\ne\\nfg\th\r\n"));
    free(u), free(ics);
}

/* Every physical line at most 75 octets and valid UTF-8 on its own. */
static void check_folds(const char *ics)
{
    for (const char *p = ics; *p;) {
        const char *e = strstr(p, "\r\n");
        assert_non_null(e);
        size_t len = (size_t)(e - p);
        assert_true(len <= 75);
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            size_t n = kz_utf8_seq((const unsigned char *)p + i, len - i, &cp);
            assert_true(n > 0);
            i += n;
        }
        p = e + 2;
    }
}

static void test_folding_utf8(void **state)
{
    (void)state;
    struct kz_sbuf title = KZ_SBUF_INIT;
    for (int i = 0; i < 50; i++)
        kz_sbuf_adds(&title, "\xe7\xb5\x86");                  /* 絆, three octets */
    kz_sbuf_adds(&title, "x\xf0\x9f\x87\xaf\xf0\x9f\x87\xb5"); /* four-octet sequences */
    json_t *plan = load(PLAN);
    json_object_set_new(plan, "title", json_string(title.buf));
    char *ics = ics_of(plan), *u = unfold(ics);
    struct kz_sbuf want = KZ_SBUF_INIT;

    check_folds(ics);
    assert_non_null(strstr(ics, "\r\n \xe7")); /* it did fold */
    kz_sbuf_addf(&want, "SUMMARY:(//JOINT SECRET JPN USA//REL TO USA\\, JPN) %s\r\n", title.buf);
    assert_non_null(strstr(u, want.buf));
    kz_sbuf_release(&want), kz_sbuf_release(&title);
    free(u), free(ics);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    json_t *plan = load(PLAN);
    /* jansson refuses invalid UTF-8 in json_string(); json_stringn_nocheck keeps it. */
    json_object_set_new(plan, "title",
                        json_stringn_nocheck("a\xff"
                                             "b",
                                             3));
    char *ics = ics_of(plan);

    assert_non_null(strstr(ics, "a\xef\xbf\xbd"
                                "b"));
    check_folds(ics);
    free(ics);
}

static void test_item_without_place(void **state)
{
    (void)state;
    char *ics = ics_of(load(PLAN)), *u = unfold(ics), *it2 = event(u, 2);

    assert_null(strstr(it2, "LOCATION"));
    assert_null(strstr(it2, "GEO"));
    assert_non_null(strstr(it2, "DTSTART:20261026T063000Z\r\nDTEND:20261026T073000Z\r\n"));
    /* Without its own label an item carries the plan's own label. */
    assert_non_null(strstr(it2, "SUMMARY:(SECRET//REL TO USA\\, JPN) Staff talks\r\n"));
    assert_non_null(strstr(it2, "DESCRIPTION:Staff talks\\nLabel: SECRET//REL TO USA\\, JPN\r\n"));
    free(it2), free(u), free(ics);
}

static void test_refusals(void **state)
{
    (void)state;
    static const char *const keys[] = {"id", "title", "start", "end"};
    struct kz_sbuf out = KZ_SBUF_INIT;

    kz_sbuf_adds(&out, "kept");
    for (size_t i = 0; i < 4; i++) {
        json_t *plan = load(PLAN);
        json_object_del(plan, keys[i]);
        assert_int_equal(kz_plan_ics(plan, &out), KZ_ERR_INVAL);
        json_decref(plan);
    }
    json_t *plan = load(PLAN);
    json_object_set_new(plan, "start", json_string("23 Oct 2026"));
    assert_int_equal(kz_plan_ics(plan, &out), KZ_ERR_INVAL);
    json_object_set_new(plan, "start", json_string("2026-10-23T00:00:00Z"));
    json_object_del(json_array_get(json_object_get(plan, "items"), 1), "time");
    assert_int_equal(kz_plan_ics(plan, &out), KZ_ERR_INVAL);
    json_decref(plan);
    assert_int_equal(kz_plan_ics(NULL, &out), KZ_ERR_INVAL);
    assert_string_equal(out.buf, "kept");
    kz_sbuf_release(&out);
}

static void test_no_updated_uses_now(void **state)
{
    (void)state;
    json_t *plan = load(PLAN);
    json_object_del(plan, "updated");
    json_object_del(plan, "items");
    char *ics = ics_of(plan);

    assert_non_null(strstr(ics, "DTSTAMP:20"));
    assert_null(strstr(ics, "DTSTAMP:20260901T123456Z"));
    assert_null(strstr(ics, "p-3f2a9c01-1@kizuna"));
    free(ics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),        cmocka_unit_test(test_crlf_only),
        cmocka_unit_test(test_escaping),     cmocka_unit_test(test_folding_utf8),
        cmocka_unit_test(test_invalid_utf8), cmocka_unit_test(test_item_without_place),
        cmocka_unit_test(test_refusals),     cmocka_unit_test(test_no_updated_uses_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
