/*
 * fuzz_plan_body - fuzz the plan body parsers: the body of POST
 * /api/v1/plans, PATCH /api/v1/plans/{id} and POST .../items
 * (kz_plan_apply), against a small alliance model, as a US planner of USFJ.
 * The input is the body.  Whatever the bytes: a refusal has a status and a
 * message and makes no plan; an accepted plan is at revision 1 in concept,
 * its window is ordered, its label parses and the planner's nation may see
 * it, its stored document reads back to the same document, its view and
 * iCalendar are made; the same body as an edit and as an item of that plan
 * is refused or makes exactly the next revision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/ics.h"
#include "plan/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char model[] =
    "name: fuzz\n"
    "mode: parallel\n"
    "nations:\n"
    "  - {code: USA, name: United States, tz: Asia/Tokyo, top: USFJ, lead: USFJ, apex: "
    "USA-SECDEF}\n"
    "  - {code: JPN, name: Japan, tz: Asia/Tokyo, top: JJOC, lead: JJOC, apex: JPN-CABINET}\n"
    "commands:\n"
    "  - {id: USA-SECDEF, name: SecDef, nation: USA, service: government, kind: authority, tz: "
    "America/New_York}\n"
    "  - {id: USFJ, name: USFJ, nation: USA, service: joint, kind: jfhq, tz: Asia/Tokyo}\n"
    "  - {id: JPN-CABINET, name: Cabinet, nation: JPN, service: government, kind: authority, tz: "
    "Asia/Tokyo}\n"
    "  - {id: JJOC, name: JJOC, nation: JPN, service: joint, kind: joint-operational, tz: "
    "Asia/Tokyo}\n"
    "relationships:\n"
    "  - {type: NATIONAL_COMMAND, from: USA-SECDEF, to: USFJ}\n"
    "  - {type: NATIONAL_COMMAND, from: JPN-CABINET, to: JJOC}\n"
    "approvers:\n"
    "  - {nation: USA, command: USFJ, kinds: [exercise, hadr]}\n"
    "  - {nation: JPN, command: JJOC, kinds: [exercise, hadr]}\n"
    "  - {nation: USA, command: USA-SECDEF, kinds: [operation]}\n"
    "  - {nation: JPN, command: JPN-CABINET, kinds: [operation]}\n"
    "consultation:\n"
    "  - name: Prior consultation\n"
    "    authority: JPN-CABINET\n"
    "    triggers:\n"
    "      - {flag: major_deployment_change}\n"
    "      - {flag: combat_from_japan, except: [article_v]}\n";

struct world {
    struct kz_label_policy policy;
    struct kz_alliance *a;
    struct kz_identity id;
    struct kz_release_subject who;
};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_plan_body: %s\n", what);
        abort();
    }
}

static struct world *world(void)
{
    static struct world w;
    static char *roles[] = {"planner"};
    static bool ready;
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;

    if (ready)
        return &w;
    kz_label_policy_init_default(&w.policy);
    check(kz_alliance_load_mem("fuzz.yaml", model, strlen(model), &w.policy, &w.a, &d) == KZ_OK,
          "the model does not load");
    kz_alliance_diag_release(&d);
    w.id = (struct kz_identity){.user = "planner",
                                .nation = "USA",
                                .clearance = "SECRET",
                                .roles = roles,
                                .roles_count = 1,
                                .command = "USFJ"};
    check(kz_release_subject_from(&w.id, &w.policy, &w.who) == KZ_OK, "no subject");
    ready = true;
    return &w;
}

static int apply(struct world *w, const struct kz_plan *cur, enum kz_plan_op_type op,
                 const json_t *body, struct kz_plan **next)
{
    struct kz_plan_ctx ctx = {w->a, &w->policy, &w->id, &w->who, "fuzz", "p-0000f022", 1};
    struct kz_plan_refusal why = {0};
    const char *action = NULL;
    char *detail = NULL;
    int rc = kz_plan_apply(cur, op, body, &ctx, next, &action, &detail, &why);

    if (rc != KZ_OK) {
        check(why.status >= 400 && why.status < 500 && why.msg[0], "refusal without a status");
        check(!*next && !detail, "a refusal made a plan");
        return rc;
    }
    check(*next && detail && action, "an accepted change without its plan or audit detail");
    free(detail);
    return rc;
}

static void check_plan(struct world *w, const struct kz_plan *p)
{
    json_t *doc = kz_plan_to_doc(p), *again_doc;
    struct kz_plan *again = NULL;
    struct kz_sbuf ics = KZ_SBUF_INIT;

    check(p->end_us > p->start_us, "window not ordered");
    check(kz_may_release(&p->label, &w->who, NULL), "the planner may not see its plan");
    check(kz_plan_from_doc(doc, &w->policy, &again) == KZ_OK, "document does not read back");
    again_doc = kz_plan_to_doc(again);
    check(json_equal(doc, again_doc), "document is not a fixed point");
    json_t *view = kz_plan_view(p, w->a, &w->policy, &w->who);
    check(kz_plan_ics(view, &ics) == KZ_OK && ics.len > 0, "no calendar");
    kz_sbuf_release(&ics);
    json_decref(view);
    json_decref(again_doc);
    json_decref(doc);
    kz_plan_free(again);
}

/* The body again as an edit and as an item: refused, or exactly the next revision. */
static void check_changes(struct world *w, const struct kz_plan *p, const json_t *body)
{
    static const enum kz_plan_op_type ops[] = {KZ_PLAN_OP_EDIT, KZ_PLAN_OP_ITEM};

    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        struct kz_plan *next = NULL;
        if (apply(w, p, ops[i], body, &next) != KZ_OK)
            continue;
        check(next->revision == p->revision + 1 && next->n_approvals == 0, "not the next revision");
        check_plan(w, next);
        kz_plan_free(next);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct world *w = world();
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    struct kz_plan *p = NULL;

    if (!body)
        return 0;
    if (apply(w, NULL, KZ_PLAN_OP_CREATE, body, &p) == KZ_OK) {
        check(p->revision == 1 && p->stage == KZ_STAGE_CONCEPT, "a new plan not at 1, concept");
        check_plan(w, p);
        check_changes(w, p, body);
        kz_plan_free(p);
    }
    json_decref(body);
    return 0;
}
