/*
 * Unit tests for what the plans module asks the alliance model
 * (approval.c): the approving command per nation, kind and day, the first
 * prior-consultation rule a plan triggers and its exceptions, and whether a
 * command is in a unit's own national chain; on the shipped model, so the
 * data (review item 12, 4.5, 4.6) is checked too.
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

static int setup(void **state)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = NULL;
    char path[4096];

    snprintf(path, sizeof(path), "%s/../config/alliance/us-japan.yaml",
             getenv("KZ_TEST_DATA") ? getenv("KZ_TEST_DATA") : "tests");
    if (kz_alliance_load(path, NULL, &a, &d) != KZ_OK) {
        fprintf(stderr, "%s", d.text.buf);
        kz_alliance_diag_release(&d);
        return -1;
    }
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    kz_alliance_free(*state);
    return 0;
}

static int32_t day(const char *s)
{
    int32_t d;
    assert_int_equal(kz_day_parse(s, &d), KZ_OK);
    return d;
}

static const char *approver(const struct kz_alliance *a, const char *nation, const char *kind,
                            const char *d)
{
    const struct kz_approver *p = kz_alliance_approver(a, nation, kind, day(d));
    return p ? p->command : NULL;
}

static void test_approvers(void **state)
{
    const struct kz_alliance *a = *state;

    /* Exercises: the operational commands; the JJOC from its launch. */
    assert_string_equal(approver(a, "USA", "exercise", "2026-01-01"), "USFJ");
    assert_string_equal(approver(a, "JPN", "exercise", "2026-01-01"), "JJOC");
    assert_string_equal(approver(a, "JPN", "exercise", "2025-03-23"), "JSO");
    assert_string_equal(approver(a, "JPN", "exercise", "2025-03-24"), "JJOC");
    /* Operations: the national authorities, not JJOC or INDOPACOM (review #12). */
    assert_string_equal(approver(a, "USA", "operation", "2026-01-01"), "USA-SECDEF");
    assert_string_equal(approver(a, "JPN", "operation", "2026-01-01"), "JPN-CABINET");
    /* HADR as in Operation Tomodachi (review 4.6). */
    assert_string_equal(approver(a, "USA", "hadr", "2011-03-12"), "INDOPACOM");
    assert_string_equal(approver(a, "JPN", "hadr", "2011-03-12"), "JPN-MOD");
    /* Unknown nation or kind: nobody. */
    assert_null(approver(a, "KOR", "exercise", "2026-01-01"));
    assert_null(approver(a, "USA", "wargame", "2026-01-01"));
    assert_null(kz_alliance_approver(a, NULL, "exercise", 0));
}

static const char *consult(const struct kz_alliance *a, const char *const *flags, unsigned n,
                           const char *basis)
{
    const struct kz_consultation *c = kz_alliance_consultation_for(a, flags, n, basis);
    return c ? c->authority : NULL;
}

static void test_consultation(void **state)
{
    const struct kz_alliance *a = *state;
    static const char *const combat[] = {"combat_from_japan"};
    static const char *const deploy[] = {"major_deployment_change"};
    static const char *const both[] = {"combat_from_japan", "major_equipment_change"};
    static const char *const other[] = {"nothing_of_note"};

    assert_int_equal(a->n_consultations, 1);
    assert_string_equal(a->consultations[0].name, "Prior consultation (1960 exchange of notes)");
    /* Combat from bases in Japan other than under Article V needs the Cabinet. */
    assert_string_equal(consult(a, combat, 1, "article_vi"), "JPN-CABINET");
    assert_string_equal(consult(a, combat, 1, "other"), "JPN-CABINET");
    assert_string_equal(consult(a, combat, 1, NULL), "JPN-CABINET");
    assert_null(consult(a, combat, 1, "article_v"));
    /* Deployment and equipment changes have no exception. */
    assert_string_equal(consult(a, deploy, 1, "article_v"), "JPN-CABINET");
    assert_string_equal(consult(a, both, 2, "article_v"), "JPN-CABINET");
    assert_null(consult(a, other, 1, "article_vi"));
    assert_null(consult(a, NULL, 0, "article_vi"));
}

static void test_in_chain(void **state)
{
    const struct kz_alliance *a = *state;

    /* The Minister commands the JJOC from 2025-03-24; the JJOC does not exist before. */
    assert_true(kz_alliance_in_chain(a, "JPN-CABINET", "JJOC", day("2026-01-01")));
    assert_true(kz_alliance_in_chain(a, "JPN-MOD", "JJOC", day("2025-03-24")));
    assert_false(kz_alliance_in_chain(a, "JPN-CABINET", "JJOC", day("2025-01-01")));
    assert_false(kz_alliance_in_chain(a, "JPN-MOD", "JJOC", day("2025-03-23")));
    /* Before it the Minister commanded the forces directly. */
    assert_true(kz_alliance_in_chain(a, "JPN-CABINET", "JMSDF-SDF", day("2025-01-01")));
    assert_true(kz_alliance_in_chain(a, "JJOC", "JMSDF-SDF", day("2026-01-01")));
    assert_false(kz_alliance_in_chain(a, "JJOC", "JMSDF-SDF", day("2025-01-01")));
    /* SecDef above INDOPACOM above USFJ; a command is in its own chain. */
    assert_true(kz_alliance_in_chain(a, "USA-SECDEF", "USFJ", day("2026-01-01")));
    assert_true(kz_alliance_in_chain(a, "INDOPACOM", "USFJ", day("2026-01-01")));
    assert_true(kz_alliance_in_chain(a, "USFJ", "USFJ", day("2026-01-01")));
    assert_true(kz_alliance_in_chain(a, "USA-SECDEF", "C7F", day("2026-01-01")));
    /* TACON counts: USFJ over III MEF in Operation Tomodachi, not after. */
    assert_true(kz_alliance_in_chain(a, "USFJ", "IIIMEF", day("2011-03-20")));
    assert_false(kz_alliance_in_chain(a, "USFJ", "IIIMEF", day("2026-01-01")));
    /* Never across nations; below is not above; coordination is not command. */
    assert_false(kz_alliance_in_chain(a, "JPN-CABINET", "USFJ", day("2026-01-01")));
    assert_false(kz_alliance_in_chain(a, "USA-SECDEF", "JJOC", day("2026-01-01")));
    assert_false(kz_alliance_in_chain(a, "USFJ", "INDOPACOM", day("2026-01-01")));
    assert_false(kz_alliance_in_chain(a, "USFJ", "C7F", day("2026-01-01"))); /* COORD_AUTH */
    assert_false(kz_alliance_in_chain(a, "NOPE", "USFJ", day("2026-01-01")));
}

static void test_shipped_data(void **state)
{
    const struct kz_alliance *a = *state;
    const struct kz_command *usfj = kz_alliance_command(a, "USFJ");

    /* Commanders as dated data (review 3.2). */
    assert_string_equal(kz_command_commander(usfj, day("2024-10-07"))->name,
                        "Lt Gen Ricky N. Rupp (USAF)");
    assert_string_equal(kz_command_commander(usfj, day("2024-10-08"))->rank,
                        "Lieutenant General (O-9)");
    assert_string_equal(kz_command_phase(usfj, day("2011-04-01"))->name,
                        "JTF for US forces (Operation Tomodachi)");
    /* Australia with a DST zone; US Space Forces Japan from 2024-12-04. */
    assert_string_equal(kz_alliance_nation(a, "AUS")->tz, "Australia/Sydney");
    const struct kz_command *sfj = kz_alliance_command(a, "SPACEFOR-J");
    assert_false(kz_day_in(sfj->valid_from, sfj->valid_to, day("2024-12-03")));
    assert_true(kz_day_in(sfj->valid_from, sfj->valid_to, day("2024-12-04")));
    /* The RAAs in force from their dates. */
    for (unsigned i = 0; i < a->n_agreements; i++)
        if (strcmp(a->agreements[i].id, "JPN-PHL-RAA") == 0) {
            assert_int_equal(a->agreements[i].signed_on, day("2024-07-08"));
            assert_int_equal(a->agreements[i].valid_from, day("2025-09-11"));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approvers),
        cmocka_unit_test(test_consultation),
        cmocka_unit_test(test_in_chain),
        cmocka_unit_test(test_shipped_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
