/*
 * Unit tests for the people's view of a plan: local times in every
 * participant's zone (JST, HST, PHT, AEST and AEDT across Sydney's DST
 * change, an offset without an abbreviation, an unknown zone), and the
 * timeline, approvals and audit as `kizuna plan show|audit` print them,
 * without the control characters of the strings they show.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/plan.h"

static char *local(const char *iso, const char *const *zones, size_t n)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    int64_t us;

    assert_int_equal(kz_time_parse(iso, strlen(iso), &us), KZ_OK);
    kz__plan_local_times(us, zones, n, &sb);
    kz_sbuf_adds(&sb, "");
    return kz_sbuf_detach(&sb, NULL);
}

#define LOCAL_EQ(iso, want, ...)                                                                   \
    do {                                                                                           \
        const char *const z_[] = {__VA_ARGS__};                                                    \
        char *got_ = local(iso, z_, sizeof(z_) / sizeof(z_[0]));                                   \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static void test_alliance_zones(void **state)
{
    (void)state;
    /* Repeated zones once, in participant order. */
    LOCAL_EQ("2026-10-25T00:00:00Z",
             "2026-10-25 09:00 JST (Asia/Tokyo) | 2026-10-24 14:00 HST (Pacific/Honolulu)",
             "Asia/Tokyo", "Asia/Tokyo", "Pacific/Honolulu");
    LOCAL_EQ("2026-10-25T00:00:00Z", "2026-10-25 08:00 PHT (Asia/Manila)", "Asia/Manila");
    LOCAL_EQ("2026-12-31T20:30:00Z", "2027-01-01 05:30 JST (Asia/Tokyo)", "Asia/Tokyo");
}

static void test_sydney_dst(void **state)
{
    (void)state;
    LOCAL_EQ("2026-06-01T00:00:00Z", "2026-06-01 10:00 AEST (Australia/Sydney)",
             "Australia/Sydney");
    LOCAL_EQ("2026-10-25T00:00:00Z", "2026-10-25 11:00 AEDT (Australia/Sydney)",
             "Australia/Sydney");
    /* Daylight time starts on the first Sunday of October at 02:00 AEST. */
    LOCAL_EQ("2026-10-03T15:59:00Z", "2026-10-04 01:59 AEST (Australia/Sydney)",
             "Australia/Sydney");
    LOCAL_EQ("2026-10-03T16:00:00Z", "2026-10-04 03:00 AEDT (Australia/Sydney)",
             "Australia/Sydney");
    /* And ends on the first Sunday of April at 03:00 AEDT. */
    LOCAL_EQ("2027-04-03T16:00:00Z", "2027-04-04 02:00 AEST (Australia/Sydney)",
             "Australia/Sydney");
}

static void test_offsets_and_unknown(void **state)
{
    (void)state;
    LOCAL_EQ("2026-10-25T00:00:00Z", "2026-10-25 05:30 UTC+05:30 (Asia/Kolkata)", "Asia/Kolkata");
    LOCAL_EQ("2026-10-25T00:00:00Z", "2026-10-24 21:00 UTC-03:00 (America/Sao_Paulo)",
             "America/Sao_Paulo");
    LOCAL_EQ(
        "2026-10-25T00:00:00Z",
        "2026-10-25 00:00 UTC (Mars/Olympus: unknown zone) | 2026-10-25 09:00 JST (Asia/Tokyo)",
        "Mars/Olympus", NULL, "Asia/Tokyo");
    LOCAL_EQ("2026-10-25T00:00:00Z", "", NULL);
}

static const char PLAN[] =
    "{\"id\":\"p-1\",\"revision\":3,\"title\":\"Keen Sword 27\",\"kind\":\"exercise\","
    "\"legal_basis\":\"training\",\"stage\":\"main_planning\",\"lead\":\"USFJ\","
    "\"participants\":[\"USFJ\",\"JJOC\",\"INDOPACOM\"],\"zones\":{\"USFJ\":\"Asia/Tokyo\","
    "\"JJOC\":\"Asia/Tokyo\",\"INDOPACOM\":\"Pacific/"
    "Honolulu\"},\"start\":\"2026-10-23T00:00:00Z\","
    "\"end\":\"2026-11-01T00:00:00Z\",\"flags\":{\"major_deployment_change\":false,"
    "\"combat_from_japan\":true},\"own_label\":\"SECRET//REL TO USA, JPN\",\"label\":\"//JOINT "
    "SECRET JPN USA//REL TO USA, JPN\",\"consultation\":\"required\",\"consultation_authority\":"
    "\"JPN-CABINET\",\"consultation_reason\":null,\"required_approvals\":[{\"nation\":\"USA\","
    "\"command\":\"USFJ\"},{\"nation\":\"JPN\",\"command\":\"JJOC\"}],\"approvals\":[{\"nation\":"
    "\"JPN\",\"command\":\"JJOC\",\"user\":\"jjoc-approver\",\"revision\":3,\"decision\":"
    "\"approve\",\"reason\":null,\"time\":\"2026-10-01T00:00:00Z\"}],\"items\":[{\"id\":1,"
    "\"time\":\"2026-10-25T00:00:00Z\",\"lat\":35.75,\"lon\":139.35,\"place\":\"Yokota AB\","
    "\"units\":[\"5AF\",\"JASDF-ADC\"],\"description\":\"Air defense drill\"}]}";

static char *printed(bool local_times)
{
    json_t *plan = json_loads(PLAN, 0, NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(plan);
    kz__plan_print(f, plan, local_times);
    kz__plan_print_summary(f, plan, "approved");
    fclose(f);
    json_decref(plan);
    return text;
}

static void test_show(void **state)
{
    (void)state;
    char *utc = printed(false), *loc = printed(true);

    assert_non_null(strstr(utc, "Keen Sword 27  [p-1, revision 3]\n"));
    assert_non_null(strstr(utc, "participants  USFJ (Asia/Tokyo), JJOC (Asia/Tokyo), INDOPACOM "
                                "(Pacific/Honolulu)\n"));
    assert_non_null(strstr(utc, "  flags         combat_from_japan\n"));
    assert_non_null(strstr(utc, "approvals (revision 3): 1 of 2\n"));
    assert_non_null(strstr(utc, "  USA  USFJ         pending\n"));
    assert_non_null(strstr(utc, "  JPN  JJOC         approve by jjoc-approver (JJOC) at "));
    assert_non_null(strstr(utc, "consultation: required (authority JPN-CABINET)\n"));
    assert_non_null(strstr(utc, "  #1  2026-10-25T00:00:00Z\n        Air defense drill\n"
                                "        at Yokota AB (35.7500, 139.3500)\n"
                                "        units: 5AF, JASDF-ADC\n"
                                "        label: SECRET//REL TO USA, JPN\n"));
    assert_non_null(strstr(loc, "  #1  2026-10-25 09:00 JST (Asia/Tokyo) | 2026-10-24 14:00 HST "
                                "(Pacific/Honolulu)\n"));
    assert_non_null(strstr(utc, "approved p-1: revision 3, stage main_planning, consultation "
                                "required, approvals 1/2\n"));
    free(utc);
    free(loc);
}

static void test_audit(void **state)
{
    (void)state;
    json_t *a = json_loads(
        "{\"records\":[{\"id\":7,\"time\":\"2026-10-01T00:00:00Z\",\"actor\":\"jjoc-approver\","
        "\"action\":\"plan.approve\",\"object\":\"p-1\",\"detail\":{\"user\":\"jjoc-approver\","
        "\"identity\":\"jp-web\",\"command\":\"JJOC\",\"revision\":3,\"reason\":\"ok\"}}],"
        "\"verified\":false,\"problem\":\"record 7: bad mac\"}",
        0, NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(a);
    assert_false(kz__plan_print_audit(f, a));
    fclose(f);
    assert_string_equal(text, "2026-10-01T00:00:00Z     plan.approve  jjoc-approver (identity "
                              "jp-web, command JJOC) revision 3: ok\n"
                              "verified: no (record 7: bad mac)\n");
    free(text);
    json_decref(a);
}

/* Strings other people wrote reach the terminal without control characters. */
static void test_scrub(void **state)
{
    (void)state;
    json_t *plan = json_loads(PLAN, 0, NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    json_object_set_new(plan, "title",
                        json_string("Keen\x1b]0;owned\x07 Sword\xc2\x9b"
                                    "2J"));
    json_object_set_new(json_array_get(json_object_get(plan, "items"), 0), "description",
                        json_string("line one\nline two\x7f"));
    kz__plan_scrub(plan);
    f = open_memstream(&text, &len);
    kz__plan_print(f, plan, false);
    fclose(f);
    assert_non_null(strstr(text, "Keen ]0;owned  Sword  2J  [p-1, revision 3]\n"));
    assert_non_null(strstr(text, "        line one line two \n"));
    for (size_t i = 0; i < len; i++)
        assert_true(text[i] == '\n' || ((unsigned char)text[i] >= 0x20 && text[i] != 0x7f));
    free(text);
    json_decref(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alliance_zones),
        cmocka_unit_test(test_sydney_dst),
        cmocka_unit_test(test_offsets_and_unknown),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_scrub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
