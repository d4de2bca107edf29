/*
 * Unit tests for the plan rules (src/plan/rules.c) on the shipped alliance
 * model: every allowed and forbidden stage transition, the approval rules
 * (wrong nation, wrong command, wrong role, stale revision), the
 * prior-consultation rules and their exceptions, revisions and their diff,
 * the label roll-up and the JOINT marking, and the stored document read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plan/internal.h"

#define NOW_US 1780000000000000LL /* 2026-05-28 */

struct world {
    struct kz_alliance *a;
    struct kz_label_policy policy;
};

static struct world W;

static int setup(void **state)
{
    const char *root = getenv("KZ_TEST_DATA");
    char path[4096];
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;

    (void)state;
    snprintf(path, sizeof(path), "%s/../config/alliance/us-japan.yaml", root ? root : "tests");
    kz_label_policy_init_default(&W.policy);
    if (kz_alliance_load(path, &W.policy, &W.a, &d) != KZ_OK)
        fail_msg("%s", d.text.buf ? d.text.buf : "load failed");
    kz_alliance_diag_release(&d);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kz_alliance_free(W.a);
    return 0;
}

/* An actor: identity and release subject. */
struct actor {
    struct kz_identity id;
    struct kz_release_subject who;
    char *roles[2];
};

static struct actor actor(const char *user, const char *nation, const char *command,
                          const char *role, const char *clearance)
{
    struct actor a = {0};

    a.roles[0] = (char *)role;
    a.id = (struct kz_identity){.user = (char *)user,
                                .nation = (char *)nation,
                                .clearance = (char *)clearance,
                                .roles = a.roles,
                                .roles_count = role ? 1 : 0,
                                .command = (char *)command};
    return a;
}

/* Apply op as `who`; the answer's status (0 for success), *p replaced on success. */
static int run(struct kz_plan **p, enum kz_plan_op_type op, const char *body_json,
               struct actor *who, struct kz_plan_refusal *why)
{
    json_t *body = json_loads(body_json, 0, NULL);
    struct kz_plan *next = NULL;
    const char *action;
    char *detail = NULL;
    struct kz_plan_refusal scratch;
    int rc;

    assert_non_null(body);
    /* The identity's pointers into the actor must be fresh: the actor may have moved. */
    who->id.roles = who->roles;
    kz_release_subject_from(&who->id, &W.policy, &who->who);
    struct kz_plan_ctx ctx = {W.a, &W.policy, &who->id, &who->who, "test", "p-00000001", NOW_US};
    rc = kz_plan_apply(*p, op, body, &ctx, &next, &action, &detail, why ? why : &scratch);
    json_decref(body);
    if (rc != KZ_OK)
        return (why ? why : &scratch)->status;
    assert_non_null(detail);
    free(detail);
    kz_plan_free(*p);
    *p = next;
    return 0;
}

static const char *const KS =
    "{\"title\":\"Keen Sword 27\",\"kind\":\"exercise\",\"legal_basis\":\"training\","
    "\"lead\":\"USFJ\",\"participants\":[\"USFJ\",\"JJOC\"],\"start\":\"2026-10-23T00:00:00Z\","
    "\"end\":\"2026-11-01T00:00:00Z\",\"label\":\"SECRET//REL TO USA, JPN\"}";

static struct kz_plan *keen_sword(struct actor *planner)
{
    struct kz_plan *p = NULL;
    assert_int_equal(run(&p, KZ_PLAN_OP_CREATE, KS, planner, NULL), 0);
    return p;
}

static void to_stage(struct kz_plan **p, struct actor *who, const char *stage, int want,
                     const char *rule)
{
    char body[64];
    struct kz_plan_refusal why = {0};

    snprintf(body, sizeof(body), "{\"to\":\"%s\"}", stage);
    assert_int_equal(run(p, KZ_PLAN_OP_STAGE, body, who, &why), want);
    if (rule)
        assert_string_equal(why.rule, rule);
}

static void test_stages(void **state)
{
    struct actor us = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "SECRET");
    struct actor usa = actor("us-approver", "USA", "USFJ", KZ_ROLE_APPROVER, "SECRET");
    struct actor jpa = actor("jp-approver", "JPN", "JJOC", KZ_ROLE_APPROVER, "SECRET");
    struct kz_plan *p = keen_sword(&us);
    static const char *const order[] = {"initial_planning", "main_planning", "final_planning"};

    (void)state;
    assert_int_equal(p->stage, KZ_STAGE_CONCEPT);
    /* No skipping, no going back, no standing still. */
    to_stage(&p, &us, "main_planning", 409, "stage_order");
    to_stage(&p, &us, "concept", 409, "stage_order");
    to_stage(&p, &us, "closed", 409, "stage_order");
    to_stage(&p, &us, "nowhere", 400, NULL);
    for (size_t i = 0; i < 3; i++) {
        to_stage(&p, &us, order[i], 0, NULL);
        to_stage(&p, &us, i ? order[i - 1] : "concept", 409, "stage_order");
    }
    to_stage(&p, &us, "execution", 409, "approvals_missing");
    assert_int_equal(
        run(&p, KZ_PLAN_OP_APPROVE, "{\"revision\":1,\"decision\":\"approve\"}", &usa, NULL), 0);
    to_stage(&p, &us, "execution", 409, "approvals_missing");
    assert_int_equal(
        run(&p, KZ_PLAN_OP_APPROVE, "{\"revision\":1,\"decision\":\"approve\"}", &jpa, NULL), 0);
    to_stage(&p, &us, "execution", 0, NULL);
    /* Frozen from execution on. */
    assert_int_equal(run(&p, KZ_PLAN_OP_EDIT, "{\"title\":\"x\"}", &us, NULL), 409);
    to_stage(&p, &us, "assessment", 0, NULL);
    to_stage(&p, &us, "closed", 0, NULL);
    to_stage(&p, &us, "closed", 409, "stage_order");
    assert_int_equal(
        run(&p, KZ_PLAN_OP_APPROVE, "{\"revision\":1,\"decision\":\"approve\"}", &jpa, NULL), 409);
    kz_plan_free(p);
}

static void test_stage_needs_participant_planner(void **state)
{
    struct actor us = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "SECRET");
    struct actor c7f = actor("c7f-planner", "USA", "C7F", KZ_ROLE_PLANNER, "SECRET");
    struct actor secdef = actor("secdef-planner", "USA", "USA-SECDEF", KZ_ROLE_PLANNER, "SECRET");
    struct actor viewer = actor("viewer", "USA", "USFJ", "viewer", "SECRET");
    struct kz_plan *p = keen_sword(&us);

    (void)state;
    to_stage(&p, &c7f, "initial_planning", 403, NULL);    /* C7F is not above USFJ */
    to_stage(&p, &viewer, "initial_planning", 403, NULL); /* no planner role */
    to_stage(&p, &secdef, "initial_planning", 0, NULL);   /* above USFJ in its chain */
    kz_plan_free(p);
}

static void test_approval_rules(void **state)
{
    struct actor us = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "SECRET");
    struct actor usa = actor("us-approver", "USA", "USFJ", KZ_ROLE_APPROVER, "SECRET");
    struct actor jpa = actor("jp-approver", "JPN", "JJOC", KZ_ROLE_APPROVER, "SECRET");
    struct actor c7f = actor("c7f-approver", "USA", "C7F", KZ_ROLE_APPROVER, "SECRET");
    struct actor jp_as_us = actor("odd", "JPN", "USFJ", KZ_ROLE_APPROVER, "SECRET");
    struct actor phl = actor("phl", "PHL", "AFP-GHQ", KZ_ROLE_APPROVER, "SECRET");
    struct actor norole = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "SECRET");
    struct actor cabinet = actor("cabinet", "JPN", "JPN-CABINET", KZ_ROLE_APPROVER, "SECRET");
    struct kz_plan *p = keen_sword(&us);
    struct kz_plan_refusal why;
    const char *ok = "{\"revision\":1,\"decision\":\"approve\"}";

    (void)state;
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &norole, &why), 403); /* wrong role */
    assert_non_null(strstr(why.msg, "approver"));
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &c7f, &why), 403); /* wrong command */
    assert_non_null(strstr(why.msg, "USFJ"));
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &jp_as_us, &why), 403); /* other nation's */
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &phl, &why), 403);      /* not taking part */
    assert_int_equal(
        run(&p, KZ_PLAN_OP_APPROVE, "{\"revision\":2,\"decision\":\"approve\"}", &usa, &why), 409);
    assert_string_equal(why.rule, "stale_revision");
    assert_int_equal(
        run(&p, KZ_PLAN_OP_APPROVE, "{\"revision\":1,\"decision\":\"maybe\"}", &usa, NULL), 400);
    assert_int_equal(
        run(&p, KZ_PLAN_OP_APPROVE, "{\"revision\":1,\"decision\":\"reject\"}", &usa, NULL),
        400); /* a rejection needs a reason */
    /* Above the approving command in its own chain counts: the Cabinet for the JJOC. */
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &cabinet, NULL), 0);
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &usa, NULL), 0);
    assert_int_equal(p->n_approvals, 2);
    /* A second decision of a nation replaces its first. */
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE,
                         "{\"revision\":1,\"decision\":\"reject\",\"reason\":\"no range\"}", &jpa,
                         NULL),
                     0);
    assert_int_equal(p->n_approvals, 2);
    /* Any edit: a new revision, the diff kept, approvals cleared. */
    assert_int_equal(run(&p, KZ_PLAN_OP_EDIT, "{\"title\":\"Keen Sword 27 (FTX)\"}", &us, NULL), 0);
    assert_int_equal(p->revision, 2);
    assert_int_equal(p->n_approvals, 0);
    json_t *last = json_array_get(p->revisions, json_array_size(p->revisions) - 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(last, "changes"), "title"), "from")),
                        "Keen Sword 27");
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &usa, &why), 409);
    assert_string_equal(why.rule, "stale_revision");
    assert_int_equal(run(&p, KZ_PLAN_OP_EDIT, "{\"title\":\"Keen Sword 27 (FTX)\"}", &us, NULL),
                     400); /* changes nothing */
    kz_plan_free(p);
}

static struct kz_plan *operation(struct actor *planner, const char *basis, const char *flag)
{
    char body[800];
    struct kz_plan *p = NULL;

    snprintf(body, sizeof(body),
             "{\"title\":\"Op\",\"kind\":\"operation\",\"legal_basis\":\"%s\","
             "\"lead\":\"USFJ\",\"participants\":[\"USFJ\",\"JJOC\"],"
             "\"start\":\"2026-10-23T00:00:00Z\",\"end\":\"2026-11-01T00:00:00Z\","
             "\"label\":\"SECRET//REL TO USA, JPN\",\"flags\":{\"%s\":true}}",
             basis, flag);
    assert_int_equal(run(&p, KZ_PLAN_OP_CREATE, body, planner, NULL), 0);
    return p;
}

static void test_consultation_rules(void **state)
{
    struct actor us = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "SECRET");
    static const struct {
        const char *basis, *flag;
        enum kz_consult_state want;
    } cases[] = {
        {"article_vi", "combat_from_japan", KZ_CONSULT_REQUIRED},
        {"other", "combat_from_japan", KZ_CONSULT_REQUIRED},
        {"article_v", "combat_from_japan", KZ_CONSULT_NOT_REQUIRED}, /* the exception */
        {"article_v", "major_deployment_change", KZ_CONSULT_REQUIRED},
        {"article_v", "major_equipment_change", KZ_CONSULT_REQUIRED},
        {"hadr", "major_deployment_change", KZ_CONSULT_REQUIRED},
    };

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(cases); i++) {
        struct kz_plan *p = operation(&us, cases[i].basis, cases[i].flag);
        if (p->consult != cases[i].want)
            fail_msg("%s + %s: %s", cases[i].basis, cases[i].flag, kz_consult_name(p->consult));
        if (p->consult == KZ_CONSULT_REQUIRED)
            assert_string_equal(p->consult_authority, "JPN-CABINET");
        kz_plan_free(p);
    }
    struct kz_plan *p = keen_sword(&us);
    assert_int_equal(p->consult, KZ_CONSULT_NOT_REQUIRED);
    kz_plan_free(p);
}

static void test_consultation_gate(void **state)
{
    struct actor us = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "SECRET");
    struct actor secdef = actor("secdef", "USA", "USA-SECDEF", KZ_ROLE_APPROVER, "SECRET");
    struct actor cabinet = actor("cabinet", "JPN", "JPN-CABINET", KZ_ROLE_APPROVER, "SECRET");
    struct actor jjoc = actor("jjoc", "JPN", "JJOC", KZ_ROLE_APPROVER, "SECRET");
    struct kz_plan *p = operation(&us, "article_vi", "combat_from_japan");
    const char *ok = "{\"revision\":1,\"decision\":\"approve\"}";
    struct kz_plan_refusal why;

    (void)state;
    /* Operations are approved by the national authorities, not the JJOC. */
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &jjoc, NULL), 403);
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &secdef, NULL), 0);
    assert_int_equal(run(&p, KZ_PLAN_OP_APPROVE, ok, &cabinet, NULL), 0);
    to_stage(&p, &us, "initial_planning", 0, NULL);
    to_stage(&p, &us, "main_planning", 0, NULL);
    to_stage(&p, &us, "final_planning", 0, NULL);
    to_stage(&p, &us, "execution", 409, "consultation_required");
    assert_int_equal(run(&p, KZ_PLAN_OP_CONSULT, "{\"state\":\"agreed\"}", &jjoc, NULL), 403);
    assert_int_equal(run(&p, KZ_PLAN_OP_CONSULT, "{\"state\":\"agreed\"}", &secdef, NULL), 403);
    assert_int_equal(run(&p, KZ_PLAN_OP_CONSULT, "{\"state\":\"not_required\"}", &cabinet, NULL),
                     400);
    assert_int_equal(run(&p, KZ_PLAN_OP_CONSULT, "{\"state\":\"declined\"}", &cabinet, NULL), 400);
    assert_int_equal(run(&p, KZ_PLAN_OP_CONSULT, "{\"state\":\"requested\"}", &cabinet, NULL), 0);
    to_stage(&p, &us, "execution", 409, "consultation_required");
    assert_int_equal(
        run(&p, KZ_PLAN_OP_CONSULT, "{\"state\":\"declined\",\"reason\":\"no\"}", &cabinet, NULL),
        0);
    assert_int_equal(run(&p, KZ_PLAN_OP_STAGE, "{\"to\":\"execution\"}", &us, &why), 409);
    assert_string_equal(why.rule, "consultation_declined");
    assert_non_null(strstr(why.msg, "no"));
    assert_int_equal(run(&p, KZ_PLAN_OP_CONSULT, "{\"state\":\"agreed\"}", &cabinet, NULL), 0);
    to_stage(&p, &us, "execution", 0, NULL);
    kz_plan_free(p);
}

static void test_edit_resets_consultation(void **state)
{
    struct actor us = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "SECRET");
    struct actor cabinet = actor("cabinet", "JPN", "JPN-CABINET", KZ_ROLE_APPROVER, "SECRET");
    struct kz_plan *p = operation(&us, "article_vi", "combat_from_japan");

    (void)state;
    assert_int_equal(run(&p, KZ_PLAN_OP_CONSULT, "{\"state\":\"agreed\"}", &cabinet, NULL), 0);
    assert_int_equal(run(&p, KZ_PLAN_OP_EDIT, "{\"title\":\"Op 2\"}", &us, NULL), 0);
    assert_int_equal(p->consult, KZ_CONSULT_REQUIRED);
    /* Article V now: no rule applies. */
    assert_int_equal(run(&p, KZ_PLAN_OP_EDIT, "{\"legal_basis\":\"article_v\"}", &us, NULL), 0);
    assert_int_equal(p->consult, KZ_CONSULT_NOT_REQUIRED);
    kz_plan_free(p);
}

static void test_bad_bodies(void **state)
{
    struct actor us = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "SECRET");
    struct actor low = actor("low", "USA", "USFJ", KZ_ROLE_PLANNER, "CONFIDENTIAL");
    static const char *const bad[] = {
        "{}",
        "{\"title\":\"\"}",
        "{\"title\":\"t\",\"kind\":\"war\",\"legal_basis\":\"training\",\"lead\":\"USFJ\","
        "\"participants\":[\"USFJ\"],\"start\":\"2026-01-01T00:00:00Z\","
        "\"end\":\"2026-01-02T00:00:00Z\",\"label\":\"SECRET\"}",
        "{\"title\":\"t\",\"kind\":\"exercise\",\"legal_basis\":\"training\",\"lead\":\"USFJ\","
        "\"participants\":[\"USFJ\",\"USFJ\"],\"start\":\"2026-01-01T00:00:00Z\","
        "\"end\":\"2026-01-02T00:00:00Z\",\"label\":\"SECRET\"}",
        "{\"title\":\"t\",\"kind\":\"exercise\",\"legal_basis\":\"training\",\"lead\":\"USFJ\","
        "\"participants\":[\"USFJ\"],\"start\":\"2026-01-02T00:00:00Z\","
        "\"end\":\"2026-01-01T00:00:00Z\",\"label\":\"SECRET\"}",
        "{\"title\":\"t\",\"kind\":\"exercise\",\"legal_basis\":\"training\",\"lead\":\"USFJ\","
        "\"participants\":[\"USFJ\"],\"start\":\"2026-01-01T00:00:00Z\","
        "\"end\":\"2026-01-02T00:00:00Z\",\"label\":\"SECRET\",\"flags\":{\"nukes\":true}}",
        "{\"title\":\"t\",\"kind\":\"exercise\",\"legal_basis\":\"training\",\"lead\":\"USFJ\","
        "\"participants\":[\"USFJ\"],\"start\":\"2026-01-01T00:00:00Z\","
        "\"end\":\"2026-01-02T00:00:00Z\",\"label\":\"SECRET\",\"colour\":\"red\"}",
    };
    struct kz_plan *p = NULL;

    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++)
        if (run(&p, KZ_PLAN_OP_CREATE, bad[i], &us, NULL) != 400)
            fail_msg("accepted: %s", bad[i]);
    /* A label the actor may not see itself: 403. */
    assert_int_equal(run(&p, KZ_PLAN_OP_CREATE, KS, &low, NULL), 403);
    assert_null(p);
    p = keen_sword(&us);
    assert_int_equal(run(&p, KZ_PLAN_OP_ITEM, "{\"time\":\"2026-10-24T00:00:00Z\"}", &us, NULL),
                     400); /* no description */
    assert_int_equal(run(&p, KZ_PLAN_OP_ITEM,
                         "{\"time\":\"2026-10-24T00:00:00Z\",\"description\":\"d\",\"lat\":91,"
                         "\"lon\":0}",
                         &us, NULL),
                     400);
    assert_int_equal(run(&p, KZ_PLAN_OP_ITEM,
                         "{\"time\":\"2026-10-24T00:00:00Z\",\"description\":\"d\",\"lat\":35}",
                         &us, NULL),
                     400);
    assert_int_equal(p->revision, 1);
    kz_plan_free(p);
}

static void test_rollup_and_joint(void **state)
{
    struct actor us = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "TOP SECRET");
    struct kz_release_subject jp = {kz_nation_index("JPN", 3), KZ_LEVEL_SECRET};
    struct kz_plan *p = keen_sword(&us);
    struct kz_label roll;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    (void)state;
    assert_int_equal(run(&p, KZ_PLAN_OP_ITEM,
                         "{\"time\":\"2026-10-24T00:00:00Z\",\"description\":\"US only\","
                         "\"label\":\"TOP SECRET//NOFORN\"}",
                         &us, NULL),
                     0);
    /* All items: the roll-up is the highest level and releases to no more than each part. */
    assert_int_equal(kz_plan_rollup(p, W.a, &W.policy, NULL, &roll), KZ_OK);
    assert_int_equal(roll.level, KZ_LEVEL_TOP_SECRET);
    assert_false(kz_may_release(&roll, &jp, NULL));
    /* What a Japanese reader sees: its own items only, and a banner for those. */
    assert_int_equal(kz_plan_rollup(p, W.a, &W.policy, &jp, &roll), KZ_OK);
    assert_int_equal(roll.level, KZ_LEVEL_SECRET);
    assert_true(kz_may_release(&roll, &jp, NULL));
    /* Two nations take part: the banner is JOINT. */
    assert_int_equal(kz_label_format(&W.policy, &roll, &sb), KZ_OK);
    assert_non_null(strstr(sb.buf, "JOINT"));
    assert_true(kz_label_has_originator(&roll, kz_nation_index("JPN", 3)));
    assert_true(kz_label_has_originator(&roll, kz_nation_index("USA", 3)));
    kz_sbuf_release(&sb);
    json_t *v = kz_plan_view(p, W.a, &W.policy, &jp);
    assert_int_equal(json_array_size(json_object_get(v, "items")), 0);
    json_decref(v);
    kz_plan_free(p);
}

static void test_document_reads_back(void **state)
{
    struct actor us = actor("us-planner", "USA", "USFJ", KZ_ROLE_PLANNER, "SECRET");
    struct actor usa = actor("us-approver", "USA", "USFJ", KZ_ROLE_APPROVER, "SECRET");
    struct kz_plan *p = keen_sword(&us), *back = NULL;

    (void)state;
    assert_int_equal(run(&p, KZ_PLAN_OP_ITEM,
                         "{\"time\":\"2026-10-24T00:00:00Z\",\"description\":\"d\",\"lat\":35.5,"
                         "\"lon\":139.5,\"place\":\"Yokota\",\"units\":[\"5AF\"]}",
                         &us, NULL),
                     0);
    assert_int_equal(
        run(&p, KZ_PLAN_OP_APPROVE, "{\"revision\":2,\"decision\":\"approve\"}", &usa, NULL), 0);
    json_t *doc = kz_plan_to_doc(p);
    assert_int_equal(kz_plan_from_doc(doc, &W.policy, &back), KZ_OK);
    json_t *again = kz_plan_to_doc(back);
    assert_true(json_equal(doc, again));
    assert_int_equal(back->version, 3);
    json_decref(again);
    /* A document whose label no longer parses is refused, not half read. */
    json_object_set_new(doc, "own_label", json_string("SECRET//NOT A CONTROL"));
    kz_plan_free(back);
    assert_int_not_equal(kz_plan_from_doc(doc, &W.policy, &back), KZ_OK);
    assert_null(back);
    json_decref(doc);
    kz_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages),
        cmocka_unit_test(test_stage_needs_participant_planner),
        cmocka_unit_test(test_approval_rules),
        cmocka_unit_test(test_consultation_rules),
        cmocka_unit_test(test_consultation_gate),
        cmocka_unit_test(test_edit_resets_consultation),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_rollup_and_joint),
        cmocka_unit_test(test_document_reads_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
