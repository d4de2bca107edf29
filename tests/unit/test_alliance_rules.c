/*
 * Unit tests for the validator rules of the domain review: national chains
 * of any depth under a national apex (#1), national command, TACON from a
 * COCOM holder (#14), DIRLAUTH and coordinating-authority grantors (#15), no
 * ADCON held by a joint HQ (#16), COCOM by nation policy (#17), and the
 * entries the plans module reads (approvers, consultation, agreements,
 * commanders, organic elements, forum links).  Each rule has an accepted
 * and a refused case on one small model.
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

/* %s: extra keys of the AUS nation, extra relationships, extra top-level sections. */
static const char base[] =
    "name: rules\n"
    "mode: parallel\n"
    "nations:\n"
    "  - {code: USA, name: United States, tz: Pacific/Honolulu, apex: SECDEF}\n"
    "  - {code: JPN, name: Japan, tz: Asia/Tokyo, apex: PM}\n"
    "  - {code: AUS, name: Australia, tz: Australia/Sydney%s}\n"
    "commands:\n"
    "  - {id: SECDEF, name: s, nation: USA, service: government, kind: department,\n"
    "     tz: America/New_York}\n"
    "  - {id: CCMD, name: c, nation: USA, service: joint, kind: ccmd, tz: Pacific/Honolulu}\n"
    "  - {id: COMP, name: c, nation: USA, service: navy, kind: component, tz: Pacific/Honolulu}\n"
    "  - {id: FLT, name: f, nation: USA, service: navy, kind: fleet, tz: Asia/Tokyo}\n"
    "  - {id: JTF, name: j, nation: USA, service: joint, kind: jfhq, tz: Asia/Tokyo}\n"
    "  - {id: CELL, name: c, nation: USA, service: joint, kind: cell, tz: Asia/Tokyo,\n"
    "     part_of: JTF}\n"
    "  - {id: PM, name: p, nation: JPN, service: government, kind: cabinet, tz: Asia/Tokyo}\n"
    "  - {id: MIN, name: m, nation: JPN, service: government, kind: ministry, tz: Asia/Tokyo}\n"
    "  - {id: JOC, name: j, nation: JPN, service: joint, kind: joint, tz: Asia/Tokyo,\n"
    "     valid_from: 2025-03-24}\n"
    "  - {id: GCC, name: g, nation: JPN, service: gsdf, kind: ground, tz: Asia/Tokyo}\n"
    "  - {id: ARMY, name: a, nation: JPN, service: gsdf, kind: army, tz: Asia/Tokyo}\n"
    "  - {id: JLONE, name: l, nation: JPN, service: gsdf, kind: army, tz: Asia/Tokyo}\n"
    "  - {id: JUNIT, name: u, nation: JPN, service: gsdf, kind: unit, tz: Asia/Tokyo}\n"
    "  - {id: AHQ, name: a, nation: AUS, service: joint, kind: ccmd, tz: Australia/Sydney}\n"
    "  - {id: AUNIT, name: a, nation: AUS, service: army, kind: unit, tz: Australia/Sydney}\n"
    "relationships:\n"
    "  - {type: NATIONAL_COMMAND, from: SECDEF, to: CCMD}\n"
    "  - {type: COCOM, from: CCMD, to: COMP}\n"
    "  - {type: COCOM, from: CCMD, to: FLT}\n"
    "  - {type: COCOM, from: CCMD, to: JTF}\n"
    "  - {type: ADCON, from: COMP, to: FLT}\n"
    "  - {type: NATIONAL_COMMAND, from: PM, to: MIN}\n"
    "  - {type: NATIONAL_COMMAND, from: MIN, to: JOC, valid_from: 2025-03-24}\n"
    "  - {type: OPCON, from: MIN, to: GCC, valid_to: 2025-03-24}\n"
    "  - {type: OPCON, from: JOC, to: GCC, valid_from: 2025-03-24}\n"
    "  - {type: OPCON, from: GCC, to: ARMY}\n"
    "%s"
    "%s";

static struct kz_alliance *load(const char *nation, const char *rels, const char *tail,
                                struct kz_alliance_diag *d)
{
    char text[8192];
    struct kz_alliance *a = NULL;

    snprintf(text, sizeof(text), base, nation, rels, tail);
    kz_alliance_load_mem("m.yaml", text, strlen(text), NULL, &a, d);
    return a;
}

static void accepted_full(const char *nation, const char *rels, const char *tail)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = load(nation, rels, tail, &d);

    if (!a)
        fail_msg("refused:\n%s%s\n%s", rels, tail, d.text.buf);
    kz_alliance_free(a);
    kz_alliance_diag_release(&d);
}

static void refused_full(const char *nation, const char *rels, const char *tail, const char *words)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = load(nation, rels, tail, &d);

    if (a)
        fail_msg("accepted, want '%s':\n%s%s", words, rels, tail);
    if (!d.text.buf || !strstr(d.text.buf, words))
        fail_msg("want '%s' in:\n%s", words, d.text.buf ? d.text.buf : "(nothing)");
    kz_alliance_diag_release(&d);
}

#define accepted(rels) accepted_full("", rels, "")
#define refused(rels, words) refused_full("", rels, "", words)
#define accepted_tail(tail) accepted_full("", "", tail)
#define refused_tail(tail, words) refused_full("", "", tail, words)

static void test_base(void **state)
{
    (void)state;
    accepted(""); /* PM -> MIN -> JOC -> GCC -> ARMY: four levels below the apex (#1) */
}

static void test_apex_chain(void **state)
{
    (void)state;
    accepted("  - {type: OPCON, from: ARMY, to: JUNIT}\n"); /* five levels */
    refused("  - {type: OPCON, from: JLONE, to: JUNIT}\n",
            "JLONE is not PM (national apex of JPN) or below it");
    /* Below the apex in the morning of 2025-03-24 only through the JOC: on 2025-03-23 the
     * JOC is under nobody, so OPCON from it is refused for that day. */
    refused("  - {type: OPCON, from: JOC, to: JUNIT}\n", "on 2025-03-23: JOC is not PM");
    accepted("  - {type: OPCON, from: JOC, to: JUNIT, valid_from: 2025-03-24}\n");
    refused_full("", "  - {type: OPCON, from: AHQ, to: AUNIT}\n", "", "nation AUS names no apex");
    accepted_full(", apex: AHQ", "  - {type: OPCON, from: AHQ, to: AUNIT}\n", "");
    refused_full(", apex: CCMD", "", "", "apex CCMD of AUS is a command of USA");
    refused("  - {type: OPCON, from: MIN, to: PM}\n", "over PM, the national apex of JPN");
}

static void test_national_command(void **state)
{
    (void)state;
    refused("  - {type: NATIONAL_COMMAND, from: JLONE, to: JUNIT}\n",
            "JLONE is not PM (national apex of JPN) or below it");
    refused("  - {type: NATIONAL_COMMAND, from: SECDEF, to: JUNIT}\n",
            "crosses national chains in parallel mode");
    refused("  - {type: NATIONAL_COMMAND, from: PM, to: JOC, valid_from: 2025-03-24}\n",
            "NATIONAL_COMMAND over JOC by PM overlaps the one by MIN");
    accepted("  - {type: NATIONAL_COMMAND, from: MIN, to: JLONE}\n");
}

static void test_tacon_from_cocom(void **state)
{
    (void)state;
    accepted("  - {type: TACON, from: JTF, to: COMP, granted_by: CCMD}\n"); /* #14 */
    accepted("  - {type: TACON, from: JTF, to: COMP}\n"); /* the COCOM holder grants */
    refused("  - {type: TACON, from: JTF, to: COMP, granted_by: FLT}\n",
            "grantor holds neither COCOM, OPCON nor TACON");
}

static void test_dirlauth_grantor(void **state)
{
    (void)state;
    accepted("  - {type: DIRLAUTH, from: FLT, to: GCC, granted_by: CCMD}\n");
    accepted("  - {type: COORD_AUTH, from: JTF, to: FLT, granted_by: SECDEF}\n");
    refused("  - {type: DIRLAUTH, from: FLT, to: GCC}\n",
            "DIRLAUTH from FLT to GCC needs granted_by");
    refused("  - {type: COORD_AUTH, from: JTF, to: FLT}\n", "needs granted_by");
    refused("  - {type: DIRLAUTH, from: FLT, to: GCC, granted_by: MIN}\n",
            "grantor MIN (JPN) is not of FLT's nation (USA)");
    refused("  - {type: COORD_AUTH, from: JTF, to: FLT, granted_by: COMP}\n",
            "grantor COMP is not a superior of JTF");
    refused("  - {type: DIRLAUTH, from: FLT, to: GCC, granted_by: FLT}\n",
            "grantor FLT is not a superior of FLT");
}

static void test_adcon_joint(void **state)
{
    (void)state;
    accepted(""); /* ADCON COMP -> FLT (navy), and CELL part_of JTF */
    refused("  - {type: ADCON, from: JTF, to: CELL}\n", "ADCON held by JTF, a joint headquarters");
}

static void test_cocom_policy(void **state)
{
    (void)state;
    refused("  - {type: COCOM, from: AHQ, to: AUNIT}\n", "COCOM is a US statutory authority");
    accepted_full(", cocom: true", "  - {type: COCOM, from: AHQ, to: AUNIT}\n", "");
    refused_full(", cocom: maybe", "", "", "'cocom' must be true or false");
}

static void test_part_of(void **state)
{
    (void)state;
    refused_tail("forums:\n  - {id: F, name: f, state: standing, members: [CELL], linked: [G]}\n",
                 "forum F: bad linked forum id 'G'");
    accepted_tail("forums:\n  - {id: F, name: f, state: standing, members: [CELL]}\n"
                  "  - {id: G, name: g, state: standing, members: [JTF], linked: [F]}\n");
}

static void test_forum_duplicate(void **state)
{
    (void)state;
    refused_tail("forums:\n  - {id: F, name: f, state: standing, members: [CELL]}\n"
                 "  - {id: F, name: g, state: standing, members: [JTF]}\n",
                 "forum id 'F' defined twice");
}

static void test_part_of_refused(void **state)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a;
    char text[8192];
    (void)state;
    snprintf(text, sizeof(text), base, "", "", "");
    char *p = strstr(text, "part_of: JTF");
    memcpy(p, "part_of: PM ", 12);
    assert_int_equal(kz_alliance_load_mem("m.yaml", text, strlen(text), NULL, &a, &d),
                     KZ_ERR_CONFIG);
    assert_non_null(strstr(d.text.buf, "CELL (USA) is part_of PM (JPN), another nation"));
    kz_alliance_diag_release(&d);
}

static void test_commanders(void **state)
{
    static const char model[] = "nations: [{code: USA, name: u, tz: Asia/Tokyo}]\n"
                                "commands:\n"
                                "  - id: HQ\n"
                                "    name: h\n"
                                "    nation: USA\n"
                                "    service: joint\n"
                                "    kind: jfhq\n"
                                "    tz: Asia/Tokyo\n"
                                "    commanders:\n"
                                "      - {name: A, rank: Lt Gen, valid_to: 2024-10-08}\n"
                                "      - {name: B, rank: Lt Gen, valid_from: %s}\n";
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = NULL;
    char text[1024];
    int32_t day;
    (void)state;
    snprintf(text, sizeof(text), model, "2024-10-08");
    assert_int_equal(kz_alliance_load_mem("m.yaml", text, strlen(text), NULL, &a, &d), KZ_OK);
    assert_int_equal(kz_day_parse("2024-10-07", &day), KZ_OK);
    assert_string_equal(kz_command_commander(kz_alliance_command(a, "HQ"), day)->name, "A");
    assert_string_equal(kz_command_commander(kz_alliance_command(a, "HQ"), day + 1)->name, "B");
    kz_alliance_free(a);
    snprintf(text, sizeof(text), model, "2024-10-07");
    assert_int_not_equal(kz_alliance_load_mem("m.yaml", text, strlen(text), NULL, &a, &d), KZ_OK);
    assert_non_null(strstr(d.text.buf, "m.yaml:11: commander B of HQ overlaps A (line 10)"));
    kz_alliance_diag_release(&d);
    /* Unknown keys stay refused in the new entries. */
    snprintf(text, sizeof(text), model, "2024-10-08, grade: O-9");
    assert_int_equal(kz_alliance_load_mem("m.yaml", text, strlen(text), NULL, &a, &d),
                     KZ_ERR_PARSE);
    assert_non_null(strstr(d.text.buf, "unknown key 'grade'"));
    kz_alliance_diag_release(&d);
}

static void test_approvers(void **state)
{
    (void)state;
    accepted_tail("approvers:\n"
                  "  - {nation: USA, command: JTF, kinds: [exercise]}\n"
                  "  - {nation: USA, command: SECDEF, kinds: [operation, hadr]}\n"
                  "  - {nation: JPN, command: MIN, kinds: [exercise], valid_to: 2025-03-24}\n"
                  "  - {nation: JPN, command: JOC, kinds: [exercise], valid_from: 2025-03-24}\n");
    refused_tail("approvers:\n"
                 "  - {nation: USA, command: JTF, kinds: [exercise]}\n"
                 "  - {nation: USA, command: CCMD, kinds: [exercise], valid_from: 2025-01-01}\n",
                 "two approvers of exercise plans for USA: CCMD and JTF");
    refused_tail("approvers:\n  - {nation: USA, command: JTF, kinds: [wargame]}\n",
                 "unknown plan kind 'wargame'");
    refused_tail("approvers:\n  - {nation: JPN, command: JTF, kinds: [exercise]}\n",
                 "approver JTF is a command of USA, not of JPN");
    refused_tail("approvers:\n  - {nation: USA, command: JTF}\n", "missing 'kinds'");
}

static void test_consultation_rules(void **state)
{
    (void)state;
    accepted_tail("consultation:\n"
                  "  - name: prior\n"
                  "    authority: PM\n"
                  "    triggers:\n"
                  "      - {flag: major_deployment_change}\n"
                  "      - {flag: combat_from_japan, except: [article_v, hadr]}\n");
    refused_tail("consultation:\n  - {name: p, authority: NOPE, triggers: "
                 "[{flag: major_equipment_change}]}\n",
                 "unknown command id 'NOPE' (consultation authority)");
    refused_tail("consultation:\n  - {name: p, authority: PM, triggers: [{flag: war}]}\n",
                 "unknown consultation flag 'war'");
    refused_tail("consultation:\n  - {name: p, authority: PM, triggers: "
                 "[{flag: combat_from_japan, except: [article_ix]}]}\n",
                 "unknown legal basis 'article_ix'");
    refused_tail("consultation:\n  - {name: p, authority: PM, triggers: []}\n",
                 "consultation 'p' has no triggers");
}

static void test_agreements(void **state)
{
    (void)state;
    accepted_tail("agreements:\n  - {id: RAA, name: r, parties: [JPN, AUS], signed: 2022-01-06,"
                  " valid_from: 2023-08-13}\n");
    refused_tail("agreements:\n  - {id: RAA, name: r, parties: [JPN, PHL]}\n",
                 "unknown nation 'PHL' (agreement party)");
    refused_tail("agreements:\n  - {id: RAA, name: r, parties: [JPN]}\n",
                 "agreement RAA needs at least two parties");
    refused_tail("agreements:\n  - {id: RAA, name: r, parties: [JPN, AUS], signed: 2024-01-01,"
                 " valid_from: 2023-08-13}\n",
                 "agreement RAA enters into force before it is signed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base),
        cmocka_unit_test(test_apex_chain),
        cmocka_unit_test(test_national_command),
        cmocka_unit_test(test_tacon_from_cocom),
        cmocka_unit_test(test_dirlauth_grantor),
        cmocka_unit_test(test_adcon_joint),
        cmocka_unit_test(test_cocom_policy),
        cmocka_unit_test(test_part_of),
        cmocka_unit_test(test_part_of_refused),
        cmocka_unit_test(test_forum_duplicate),
        cmocka_unit_test(test_commanders),
        cmocka_unit_test(test_approvers),
        cmocka_unit_test(test_consultation_rules),
        cmocka_unit_test(test_agreements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
