/*
 * Unit tests for readiness reports: parsing (levels, overall = worst,
 * override with a reason, default label), history order, the group and
 * release rules and hidden units on every read, roll-up counts and the
 * stale flag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "readiness/readiness.h"

static struct kz_label_policy pol;

static int setup(void **state)
{
    (void)state;
    kz_label_policy_init_default(&pol);
    return 0;
}

static int parse(const char *json, const char *nation, struct kz_readiness *r, char *err)
{
    return kz_readiness_parse(json, strlen(json), &pol, nation, r, err, 300);
}

static struct kz_release_subject subject(const char *nation, const char *clearance)
{
    struct kz_identity id = {.nation = (char *)nation, .clearance = (char *)clearance};
    struct kz_release_subject s;
    assert_int_equal(kz_release_subject_from(&id, &pol, &s), KZ_OK);
    return s;
}

static void test_parse(void **state)
{
    struct kz_readiness r;
    char err[300];
    (void)state;
    assert_int_equal(parse("{\"unit\":\"C7F\",\"p\":1,\"s\":2,\"r\":3,\"t\":1}", "USA", &r, err),
                     KZ_OK);
    assert_int_equal(r.overall, 3);
    /* Item 6: readiness is national, and the default says so: NOFORN, not a bare level. */
    assert_string_equal(r.banner, "SECRET//NOFORN");
    kz_readiness_clear(&r);
    assert_int_equal(parse("{\"unit\":\"C7F\",\"p\":1,\"s\":2,\"r\":7,\"t\":1}", "USA", &r, err),
                     KZ_ERR_INVAL);
    assert_non_null(strstr(err, "'r' must be an integer 1..6 (6: not measured)"));
    assert_int_equal(
        parse("{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":1,\"t\":1,\"overall\":6}", "USA", &r, err),
        KZ_ERR_INVAL);
    assert_non_null(strstr(err, "'overall' must be an integer 1..5"));
    assert_int_equal(
        parse("{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":1,\"t\":1,\"overall\":2}", "USA", &r, err),
        KZ_ERR_INVAL);
    assert_non_null(strstr(err, "override_reason"));
    assert_int_equal(
        parse("{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":1,\"t\":1,\"overall\":2,"
              "\"reason_code\":\"MISSION\",\"override_reason\":\"deployment pending\"}",
              "USA", &r, err),
        KZ_OK);
    assert_int_equal(r.overall, 2);
    assert_string_equal(r.reason_code, "MISSION");
    kz_readiness_clear(&r);
}

/* Item 23: level 6 (not measured), no subjective C-5, reason codes on overrides. */
static void test_parse_item23(void **state)
{
    struct kz_readiness r;
    char err[300];
    json_t *j;
    (void)state;

    /* 6 is "not measured": accepted, and left out of the worst. */
    assert_int_equal(parse("{\"unit\":\"C7F\",\"p\":1,\"s\":2,\"r\":6,\"t\":1}", "USA", &r, err),
                     KZ_OK);
    assert_int_equal(r.r, 6);
    assert_int_equal(r.overall, 2);
    j = kz_readiness_json(&r, 0, 1);
    assert_int_equal(json_integer_value(json_object_get(j, "r")), 6);
    json_decref(j);
    kz_readiness_clear(&r);
    assert_int_equal(parse("{\"unit\":\"C7F\",\"p\":6,\"s\":6,\"r\":6,\"t\":6}", "USA", &r, err),
                     KZ_ERR_INVAL);
    assert_non_null(strstr(err, "no area measured"));
    /* A commander may not override to C-5: it is a Service-directed resource action. */
    assert_int_equal(parse("{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":4,\"t\":1,\"overall\":5,"
                           "\"reason_code\":\"OTHER\",\"override_reason\":\"feels bad\"}",
                           "USA", &r, err),
                     KZ_ERR_INVAL);
    assert_non_null(strstr(err, "overall C5 is refused as an override"));
    /* ...unless the worst area is 5 already (then it is no override). */
    assert_int_equal(
        parse("{\"unit\":\"C7F\",\"p\":5,\"s\":1,\"r\":1,\"t\":1,\"overall\":5}", "USA", &r, err),
        KZ_OK);
    assert_int_equal(r.overall, 5);
    kz_readiness_clear(&r);
    /* Overrides away from the worst need a known reason code and a reason. */
    assert_int_equal(parse("{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":3,\"t\":1,\"overall\":2,"
                           "\"override_reason\":\"spares arriving\"}",
                           "USA", &r, err),
                     KZ_ERR_INVAL);
    assert_non_null(strstr(err, "give reason_code and override_reason"));
    assert_int_equal(parse("{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":3,\"t\":1,\"overall\":2,"
                           "\"reason_code\":\"X\",\"override_reason\":\"spares arriving\"}",
                           "USA", &r, err),
                     KZ_ERR_INVAL);
    assert_non_null(strstr(err, "reason_code 'X' is not one of P, S, R, T, MISSION, OTHER"));
    assert_int_equal(parse("{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":3,\"t\":1,\"overall\":2,"
                           "\"reason_code\":\"R\",\"override_reason\":\"spares arriving\"}",
                           "USA", &r, err),
                     KZ_OK);
    j = kz_readiness_json(&r, 0, 1);
    assert_string_equal(json_string_value(json_object_get(j, "reason_code")), "R");
    assert_string_equal(json_string_value(json_object_get(j, "override_reason")),
                        "spares arriving");
    json_decref(j);
    kz_readiness_clear(&r);
}

static void test_parse_refused(void **state)
{
    struct kz_readiness r;
    char err[300];
    (void)state;

    assert_int_equal(
        parse("{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":1,\"t\":1,\"label\":\"SECRET//REL TO XXX\"}",
              "USA", &r, err),
        KZ_ERR_INVAL);
    assert_int_equal(parse("[1]", "USA", &r, err), KZ_ERR_INVAL);
    assert_int_equal(parse("{\"p\":1}", "USA", &r, err), KZ_ERR_INVAL);
    assert_int_equal(parse("{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":1,\"t\":1}", NULL, &r, err),
                     KZ_ERR_INVAL);
}

static char *cyan[] = {"Cyan"}, *red[] = {"Red"};

/* A report sent into `group` (the reporter's OUT group). */
static void add_to(struct kz_readiness_book *b, const char *json, const char *nation,
                   const char *group)
{
    struct kz_readiness r;
    char err[300];
    if (parse(json, nation, &r, err) != KZ_OK)
        fail_msg("%s: %s", json, err);
    r.groups = kz_xcalloc(2, sizeof(char *));
    r.groups[0] = kz_xstrdup(group);
    r.n_groups = 1;
    kz_readiness_book_add(b, &r);
}

static void add(struct kz_readiness_book *b, const char *json, const char *nation)
{
    add_to(b, json, nation, "Cyan");
}

/* A Cyan caller with this release subject; every unit visible. */
static struct kz_readiness_viewer cyan_viewer(const struct kz_release_subject *who)
{
    return (struct kz_readiness_viewer){.who = who, .in = cyan, .n_in = 1};
}

static bool under(void *ud, const char *unit, const char *command)
{
    (void)ud;
    return strcmp(command, "ALL") == 0 || strcmp(unit, command) == 0;
}

static void test_book(void **state)
{
    struct kz_readiness_book *b = kz_readiness_book_new();
    struct kz_release_subject low_s = subject("USA", "CONFIDENTIAL");
    struct kz_release_subject us_s = subject("USA", "SECRET"), jp_s = subject("JPN", "SECRET");
    struct kz_readiness_viewer us = cyan_viewer(&us_s), jp = cyan_viewer(&jp_s);
    struct kz_readiness_viewer low = cyan_viewer(&low_s);
    int64_t now = kz_now_us(), day = 86400LL * 1000000;
    json_t *o;
    (void)state;
    add(b, "{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":2,\"t\":1,\"time\":\"2025-06-02T00:00:00Z\"}",
        "USA");
    /* A late report of an older state goes into history before the newer one. */
    add(b, "{\"unit\":\"C7F\",\"p\":3,\"s\":1,\"r\":1,\"t\":1,\"time\":\"2025-06-01T00:00:00Z\"}",
        "USA");
    add(b,
        "{\"unit\":\"IIIMEF\",\"p\":1,\"s\":1,\"r\":1,\"t\":4,\"label\":\"SECRET//REL TO USA, "
        "JPN\"}",
        "USA");
    add(b, "{\"unit\":\"JMSDF-SDF\",\"p\":2,\"s\":2,\"r\":2,\"t\":2}", "JPN");

    o = kz_readiness_history(b, "C7F", &us, now, 30 * day);
    json_t *h = json_object_get(o, "history");
    assert_int_equal(json_array_size(h), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "overall")), 3);
    assert_true(json_is_true(json_object_get(json_array_get(h, 1), "stale")));
    json_decref(o);

    /* US sees its own two units, not the Japanese one; Japan the reverse plus REL TO JPN. */
    o = kz_readiness_latest(b, NULL, &us, now, 30 * day);
    assert_int_equal(json_array_size(json_object_get(o, "reports")), 2);
    json_decref(o);
    o = kz_readiness_latest(b, NULL, &jp, now, 30 * day);
    json_t *reps = json_object_get(o, "reports");
    assert_int_equal(json_array_size(reps), 2);
    char *s = json_dumps(o, 0);
    assert_null(strstr(s, "C7F"));
    free(s);
    json_decref(o);
    o = kz_readiness_latest(b, NULL, &low, now, 30 * day);
    assert_int_equal(json_array_size(json_object_get(o, "reports")), 0);
    json_decref(o);

    struct kz_readiness_rollup_opts ro = {"ALL", under, NULL, &us, now, 30 * day};
    o = kz_readiness_rollup(b, &ro);
    assert_int_equal(json_integer_value(json_object_get(o, "units")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "by_level"), "C2")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "by_level"), "C4")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "worst")), 4);
    assert_int_equal(json_integer_value(json_object_get(o, "stale")), 1);
    json_decref(o);
    kz_readiness_book_free(b);
}

static bool not_hidden(void *ud, const char *unit)
{
    return strcmp(unit, (const char *)ud) != 0;
}

static size_t n_reports(json_t *o, const char *key)
{
    size_t n = json_array_size(json_object_get(o, key));
    json_decref(o);
    return n;
}

/* F18: the group rule like CoT; F19: reports about a hidden unit are never served. */
static void test_groups_and_hidden_units(void **state)
{
    struct kz_readiness_book *b = kz_readiness_book_new();
    struct kz_release_subject us_s = subject("USA", "SECRET");
    struct kz_readiness_viewer cy = cyan_viewer(&us_s);
    struct kz_readiness_viewer rd = {.who = &us_s, .in = red, .n_in = 1};
    struct kz_readiness_viewer none = {.who = &us_s};
    struct kz_readiness_viewer hide = cy;
    int64_t now = kz_now_us(), day = 86400LL * 1000000;
    json_t *o;
    (void)state;

    add_to(b, "{\"unit\":\"C7F\",\"p\":1,\"s\":1,\"r\":1,\"t\":1}", "USA", "Cyan");
    add_to(b, "{\"unit\":\"JCT\",\"p\":2,\"s\":1,\"r\":1,\"t\":1}", "USA", "Cyan");
    add_to(b, "{\"unit\":\"C7F\",\"p\":3,\"s\":1,\"r\":1,\"t\":1}", "USA", "Red");
    assert_int_equal(n_reports(kz_readiness_latest(b, NULL, &cy, now, day), "reports"), 2);
    assert_int_equal(n_reports(kz_readiness_history(b, "C7F", &cy, now, day), "history"), 1);
    assert_int_equal(n_reports(kz_readiness_history(b, "C7F", &rd, now, day), "history"), 1);
    assert_int_equal(n_reports(kz_readiness_latest(b, NULL, &rd, now, day), "reports"), 1);
    assert_int_equal(n_reports(kz_readiness_latest(b, NULL, &none, now, day), "reports"), 0);

    hide.unit_visible = not_hidden;
    hide.ud = (void *)"JCT";
    o = kz_readiness_latest(b, NULL, &hide, now, day);
    char *s = json_dumps(o, 0);
    assert_null(strstr(s, "JCT"));
    free(s);
    assert_int_equal(n_reports(o, "reports"), 1);
    assert_int_equal(n_reports(kz_readiness_latest(b, "JCT", &hide, now, day), "reports"), 0);
    assert_int_equal(n_reports(kz_readiness_history(b, "JCT", &hide, now, day), "history"), 0);
    struct kz_readiness_rollup_opts ro = {"ALL", under, NULL, &hide, now, day};
    o = kz_readiness_rollup(b, &ro);
    assert_int_equal(json_integer_value(json_object_get(o, "units")), 1);
    json_decref(o);
    /* A roll-up under the hidden unit itself is the roll-up of an unknown one. */
    ro.command = "JCT";
    o = kz_readiness_rollup(b, &ro);
    assert_int_equal(json_integer_value(json_object_get(o, "units")), 0);
    json_decref(o);
    ro.who = &cy;
    o = kz_readiness_rollup(b, &ro);
    assert_int_equal(json_integer_value(json_object_get(o, "units")), 1);
    json_decref(o);
    kz_readiness_book_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_item23),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_book),
        cmocka_unit_test(test_groups_and_hidden_units),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
