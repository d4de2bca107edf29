/*
 * Unit tests for the alliance loader and validator: one bad file per rule
 * (tests/unit/data/alliance/bad-*.yaml, the offending line marked "# BAD"),
 * and the dated queries on the small valid model.
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

static char *data_path(const char *name)
{
    const char *root = getenv("KZ_TEST_DATA");
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/unit/data/alliance/%s", root ? root : "tests", name);
    return p;
}

/* Line of the "# BAD" marker in the file. */
static int bad_line(const char *path)
{
    FILE *f = fopen(path, "r");
    char buf[1024];
    int line = 0;

    assert_non_null(f);
    while (fgets(buf, sizeof(buf), f)) {
        line++;
        if (strstr(buf, "# BAD")) {
            fclose(f);
            return line;
        }
    }
    fclose(f);
    fail_msg("%s has no '# BAD' marker", path);
    return 0;
}

static void expect_bad(const char *name, const char *words)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = (void *)1;
    char *path = data_path(name), want[4200];

    assert_int_not_equal(kz_alliance_load(path, NULL, &a, &d), KZ_OK);
    assert_null(a);
    snprintf(want, sizeof(want), "%s:%d: ", path, bad_line(path));
    if (!d.text.buf || !strstr(d.text.buf, want) || !strstr(d.text.buf, words))
        fail_msg("%s: want '%s' ... '%s' in:\n%s", name, want, words,
                 d.text.buf ? d.text.buf : "(nothing)");
    kz_alliance_diag_release(&d);
    free(path);
}

static void test_bad_files(void **state)
{
    static const char *const cases[][2] = {
        {"bad-unknown-id.yaml", "unknown command id 'NOPE'"},
        {"bad-cycle.yaml", "closes a cycle in the command chain"},
        {"bad-opcon.yaml", "LONE is not CCMD (COCOM holder of COMP) or below it"},
        {"bad-tacon.yaml", "grantor holds neither COCOM, OPCON nor TACON"},
        {"bad-cocom.yaml", "not a combatant command"},
        {"bad-adcon.yaml", "outside the service chain"},
        {"bad-adcon-joint.yaml", "ADCON held by CCMD, a joint headquarters"},
        {"bad-support.yaml", "no common superior"},
        {"bad-overlap.yaml", "overlaps the one by FLT"},
        {"bad-parallel.yaml", "crosses national chains in parallel mode"},
        {"bad-window.yaml", "valid_to must be after valid_from"},
        {"bad-date.yaml", "bad date '2025-02-30'"},
        {"bad-type.yaml", "unknown relationship type 'OPCONTROL'"},
        {"bad-unknown-key.yaml", "unknown key 'valid_until'"},
        {"bad-missing.yaml", "missing 'to'"},
        {"bad-label.yaml", "bad label"},
        {"bad-tz.yaml", "unknown time zone 'Asia/Atlantis'"},
        {"bad-duty.yaml", "bad duty hours"},
        {"bad-duplicate.yaml", "defined twice"},
        {"bad-phase-overlap.yaml", "overlaps phase 'initial'"},
        {"bad-syntax.yaml", "YAML:"},
        {"bad-mode.yaml", "mode must be"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_bad(cases[i][0], cases[i][1]);
}

static void test_missing_file(void **state)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a;
    (void)state;
    assert_int_equal(kz_alliance_load("/nonexistent/x.yaml", NULL, &a, &d), KZ_ERR_IO);
    assert_non_null(strstr(d.text.buf, "/nonexistent/x.yaml: cannot open"));
    kz_alliance_diag_release(&d);
}

static struct kz_alliance *good(void)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = NULL;
    char *path = data_path("good.yaml");
    if (kz_alliance_load(path, NULL, &a, &d) != KZ_OK)
        fail_msg("good.yaml: %s", d.text.buf);
    kz_alliance_diag_release(&d);
    free(path);
    return a;
}

static int32_t day(const char *s)
{
    int32_t d;
    assert_int_equal(kz_day_parse(s, &d), KZ_OK);
    return d;
}

static void test_dates(void **state)
{
    char buf[11];
    int32_t d;
    (void)state;
    assert_int_equal(day("1970-01-01"), 0);
    assert_int_equal(day("2024-02-29"), 19782);
    assert_int_equal(kz_day_parse("2023-02-29", &d), KZ_ERR_PARSE);
    assert_int_equal(kz_day_parse("2025-13-01", &d), KZ_ERR_PARSE);
    assert_int_equal(kz_day_parse("2025-1-01", &d), KZ_ERR_PARSE);
    assert_int_equal(day("2025-06-10T09:00:00Z"), day("2025-06-10"));
    kz_day_format(day("2025-03-30"), buf);
    assert_string_equal(buf, "2025-03-30");
    assert_int_equal(kz_day_of_us(-1), -1);
    /* Half-open windows: "until D" and "from D" never overlap. */
    assert_true(kz_day_in(KZ_DAY_MIN, day("2025-03-30"), day("2025-03-29")));
    assert_false(kz_day_in(KZ_DAY_MIN, day("2025-03-30"), day("2025-03-30")));
}

static const char *chain_top(json_t *o, const char *type, size_t i)
{
    json_t *arr = json_object_get(json_object_get(o, "chains"), type);
    return json_string_value(json_object_get(json_array_get(arr, i), "from"));
}

static void test_chain_by_date(void **state)
{
    struct kz_alliance *a = good();
    json_t *o;
    (void)state;
    assert_int_equal(kz_alliance_chain(a, "SHIP", day("2024-06-01"), NULL, &o), KZ_OK);
    assert_string_equal(chain_top(o, "COCOM", 0), "CCMD");
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "chains"), "OPCON")), 0);
    json_decref(o);
    assert_int_equal(kz_alliance_chain(a, "SHIP", day("2025-02-15"), NULL, &o), KZ_OK);
    assert_string_equal(chain_top(o, "OPCON", 0), "FLT");
    assert_string_equal(chain_top(o, "OPCON", 1), "COMP");
    assert_string_equal(chain_top(o, "OPCON", 2), "CCMD");
    assert_string_equal(chain_top(o, "TACON", 0), "COMP");
    json_decref(o);
    assert_int_equal(kz_alliance_chain(a, "SHIP", day("2025-03-01"), NULL, &o), KZ_OK);
    assert_null(chain_top(o, "TACON", 0)); /* valid_to is exclusive */
    json_decref(o);
    assert_int_equal(kz_alliance_chain(a, "NOPE", 0, NULL, &o), KZ_ERR_NOTFOUND);
    /* Phases. */
    assert_string_equal(kz_command_phase(kz_alliance_command(a, "JHQ"), day("2024-03-01"))->name,
                        "initial");
    assert_string_equal(kz_command_phase(kz_alliance_command(a, "JHQ"), day("2024-06-01"))->name,
                        "full");
    kz_alliance_free(a);
}

static bool allowed(struct kz_alliance *a, const char *x, const char *y, const char *d,
                    const char *reason)
{
    json_t *o;
    assert_int_equal(kz_alliance_can_task(a, x, y, day(d), NULL, &o), KZ_OK);
    bool ok = json_is_true(json_object_get(o, "allowed"));
    if (reason && !strstr(json_string_value(json_object_get(o, "reason")), reason))
        fail_msg("%s->%s: reason '%s'", x, y, json_string_value(json_object_get(o, "reason")));
    json_decref(o);
    return ok;
}

static void test_can_task(void **state)
{
    struct kz_alliance *a = good();
    (void)state;
    assert_true(allowed(a, "CCMD", "SHIP", "2024-06-01", NULL));             /* COCOM */
    assert_true(allowed(a, "COMP", "SHIP", "2025-06-01", NULL));             /* OPCON via FLT */
    assert_false(allowed(a, "FLT", "SHIP", "2024-06-01", "holds no COCOM")); /* before OPCON */
    assert_true(allowed(a, "FLT", "SHIP", "2025-01-01", NULL));
    assert_false(allowed(a, "LONE", "SHIP", "2025-06-01", "holds no"));
    assert_false(allowed(a, "JHQ", "SHIP", "2025-06-01", "separate national chains"));
    assert_false(allowed(a, "JHQ", "JFLT", "2023-06-01", "does not exist"));
    assert_true(allowed(a, "JHQ", "JFLT", "2024-06-01", NULL));
    kz_alliance_free(a);
}

static void test_release_filter(void **state)
{
    struct kz_alliance *a = good();
    struct kz_label_policy p;
    struct kz_identity phl = {.nation = "PHL", .clearance = "SECRET"};
    struct kz_identity jpn = {.nation = "JPN", .clearance = "SECRET"};
    struct kz_release_subject s;
    struct kz_alliance_view v = {&s};
    json_t *o;
    (void)state;
    kz_label_policy_init_default(&p);
    assert_int_equal(kz_release_subject_from(&phl, &p, &s), KZ_OK);
    assert_int_equal(kz_alliance_chain(a, "JFLT", day("2025-01-01"), &v, &o), KZ_ERR_NOTFOUND);
    o = kz_alliance_show(a, day("2025-01-01"), &v);
    char *text = json_dumps(o, 0);
    assert_null(strstr(text, "JFLT"));
    assert_null(strstr(text, "hidden")); /* nothing says that anything was left out */
    free(text);
    json_decref(o);
    assert_int_equal(kz_release_subject_from(&jpn, &p, &s), KZ_OK);
    assert_int_equal(kz_alliance_chain(a, "JFLT", day("2025-01-01"), &v, &o), KZ_OK);
    json_decref(o);
    kz_alliance_free(a);
}

static void test_shipped_file(void **state)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = NULL;
    char path[4096];
    json_t *o;
    (void)state;
    snprintf(path, sizeof(path), "%s/../config/alliance/us-japan.yaml",
             getenv("KZ_TEST_DATA") ? getenv("KZ_TEST_DATA") : "tests");
    if (kz_alliance_load(path, NULL, &a, &d) != KZ_OK)
        fail_msg("%s", d.text.buf);
    /* USFJ: management HQ until 2025-03-30, then JFHQ phase 1. */
    const struct kz_command *usfj = kz_alliance_command(a, "USFJ");
    assert_string_equal(kz_command_phase(usfj, day("2025-03-29"))->name, "management HQ");
    assert_string_equal(kz_command_phase(usfj, day("2025-03-30"))->name, "JFHQ phase 1");
    /* The GSDF's operational chain moves from the Minister (orders executed through the
     * Joint Staff, review #10) to the JJOC, under the Minister and the Cabinet (#9). */
    assert_int_equal(kz_alliance_chain(a, "JGSDF-GCC", day("2025-03-23"), NULL, &o), KZ_OK);
    assert_string_equal(chain_top(o, "OPCON", 0), "JPN-MOD");
    assert_string_equal(chain_top(o, "OPCON", 1), "JPN-CABINET");
    json_decref(o);
    assert_int_equal(kz_alliance_chain(a, "JGSDF-GCC", day("2025-03-24"), NULL, &o), KZ_OK);
    assert_string_equal(chain_top(o, "OPCON", 0), "JJOC");
    assert_string_equal(chain_top(o, "OPCON", 1), "JPN-MOD");
    assert_string_equal(chain_top(o, "OPCON", 2), "JPN-CABINET");
    json_decref(o);
    /* No GCC before 2018-03-27 (review #11). */
    assert_int_equal(kz_alliance_chain(a, "JGSDF-GCC", day("2018-03-26"), NULL, &o), KZ_OK);
    assert_false(json_is_true(json_object_get(o, "exists")));
    json_decref(o);
    assert_true(allowed(a, "INDOPACOM", "C7F", "2025-06-01", NULL));
    assert_false(allowed(a, "JJOC", "C7F", "2025-06-01", "separate national chains"));
    assert_false(allowed(a, "USFJ", "C7F", "2025-06-01", "holds no"));
    kz_alliance_free(a);
    kz_alliance_diag_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_files),    cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_dates),        cmocka_unit_test(test_chain_by_date),
        cmocka_unit_test(test_can_task),     cmocka_unit_test(test_release_filter),
        cmocka_unit_test(test_shipped_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
