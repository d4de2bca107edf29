/*
 * rules.c - what may change a plan, and how: the stage order, who approves
 * for each nation, the prior-consultation gate, and the revision that every
 * edit makes (docs/plans.md: stages, approvals, prior consultation).
 */
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

static int32_t today(const struct kz_plan_ctx *ctx)
{
    return kz_day_of_us(ctx->now_us);
}

unsigned kz_plan_required(const struct kz_plan *p, const struct kz_alliance *a, int32_t day,
                          const struct kz_approver *out[KZ_PLAN_MAX_PARTICIPANTS])
{
    uint16_t nations[KZ_PLAN_MAX_PARTICIPANTS];
    unsigned n = kz_plan_nations(p, a, nations), k = 0;

    for (unsigned i = 0; i < n; i++) {
        const struct kz_approver *ap =
            kz_alliance_approver(a, kz_nation_code(nations[i]), kz_plan_kind_name(p->kind), day);
        if (ap)
            out[k++] = ap;
    }
    return k;
}

/* The actor's command is `target` or above it in target's own nation's chain. */
static bool acts_for(const struct kz_plan_ctx *ctx, const char *target)
{
    const char *cmd = ctx->actor->command;
    return cmd && kz_alliance_in_chain(ctx->alliance, cmd, target, today(ctx));
}

static int need_participant(const struct kz_plan *p, const struct kz_plan_ctx *ctx,
                            struct kz_plan_refusal *why)
{
    for (unsigned i = 0; i < p->n_participants; i++)
        if (acts_for(ctx, p->participants[i]))
            return KZ_OK;
    return kz__plan_refuse(why, 403, NULL,
                           "%s's command '%s' is not a participating command of plan %s, nor "
                           "above one",
                           ctx->actor->user, ctx->actor->command ? ctx->actor->command : "(none)",
                           p->id);
}

/* The consultation a plan needs after a change; a new revision needs it afresh. */
static void consult_recompute(struct kz_plan *p, const struct kz_plan_ctx *ctx)
{
    const char *set[KZ_FLAG__COUNT];
    unsigned n = 0;
    const struct kz_consultation *rule;

    for (int f = 0; f < KZ_FLAG__COUNT; f++)
        if (p->flags[f])
            set[n++] = kz_plan_flag_name(f);
    rule = kz_alliance_consultation_for(ctx->alliance, set, n, p->legal_basis);
    if (!rule) {
        p->consult = KZ_CONSULT_NOT_REQUIRED;
        kz__plan_set(&p->consult_authority, NULL);
        kz__plan_set(&p->consult_reason, NULL);
        return;
    }
    p->consult = KZ_CONSULT_REQUIRED;
    kz__plan_set(&p->consult_authority, rule->authority);
    kz__plan_set(&p->consult_reason, NULL);
}

/* A new revision: approvals cleared, the diff (borrowed) kept, the consultation needed again. */
static void new_revision(struct kz_plan *p, const struct kz_plan_ctx *ctx, json_t *changes)
{
    json_t *r;

    p->revision++;
    p->updated_us = ctx->now_us;
    kz__plan_clear_approvals(p);
    consult_recompute(p, ctx);
    r = json_pack("{s:I, s:o, s:s, s:O}", "revision", (json_int_t)p->revision, "time",
                  kz__plan_time_json(ctx->now_us), "user", ctx->actor->user, "changes", changes);
    json_array_append_new(p->revisions, r);
    while (json_array_size(p->revisions) > KZ_PLAN_MAX_REVISIONS)
        json_array_remove(p->revisions, 0);
}

static int not_frozen(const struct kz_plan *p, struct kz_plan_refusal *why)
{
    if (p->stage >= KZ_STAGE_EXECUTION)
        return kz__plan_refuse(why, 409, "stage_order", "plan %s is in %s: it is no longer edited",
                               p->id, kz_plan_stage_name(p->stage));
    return KZ_OK;
}

/* ---- operations ---------------------------------------------------------------- */

static int op_create(struct kz_plan *p, const json_t *body, const struct kz_plan_ctx *ctx,
                     json_t *changes, struct kz_plan_refusal *why)
{
    p->id = kz_xstrdup(ctx->id);
    p->revision = 0;
    p->stage = KZ_STAGE_CONCEPT;
    p->created_us = ctx->now_us;
    p->created_by = kz_xstrdup(ctx->actor->user);
    p->revisions = json_array();
    if (kz__plan_fields(p, body, true, ctx, NULL, why) != KZ_OK || need_participant(p, ctx, why))
        return KZ_ERR_DENIED;
    new_revision(p, ctx, changes);
    return KZ_OK;
}

static int op_edit(struct kz_plan *p, const json_t *body, const struct kz_plan_ctx *ctx,
                   json_t *changes, struct kz_plan_refusal *why)
{
    if (need_participant(p, ctx, why) || not_frozen(p, why) ||
        kz__plan_fields(p, body, false, ctx, changes, why) != KZ_OK)
        return KZ_ERR_DENIED;
    if (json_object_size(changes) == 0)
        return kz__plan_refuse(why, 400, NULL, "the edit changes nothing");
    /* The editor must stay a participant (or above one). */
    if (need_participant(p, ctx, why))
        return KZ_ERR_DENIED;
    new_revision(p, ctx, changes);
    return KZ_OK;
}

static int op_item(struct kz_plan *p, const json_t *body, const struct kz_plan_ctx *ctx,
                   json_t *changes, struct kz_plan_refusal *why)
{
    if (need_participant(p, ctx, why) || not_frozen(p, why) ||
        kz__plan_item_add(p, body, ctx, changes, why) != KZ_OK)
        return KZ_ERR_DENIED;
    new_revision(p, ctx, changes);
    return KZ_OK;
}

/* The approver entry of the actor's nation for this plan, or a refusal. */
static const struct kz_approver *
approver_for(const struct kz_plan *p, const struct kz_plan_ctx *ctx, struct kz_plan_refusal *why)
{
    const struct kz_approver *req[KZ_PLAN_MAX_PARTICIPANTS];
    unsigned n = kz_plan_required(p, ctx->alliance, today(ctx), req);
    const char *nation = ctx->actor->nation;

    for (unsigned i = 0; i < n; i++) {
        if (strcmp(req[i]->nation, nation) != 0)
            continue;
        if (acts_for(ctx, req[i]->command))
            return req[i];
        kz__plan_refuse(why, 403, NULL, "%s's command '%s' is not %s or above it", ctx->actor->user,
                        ctx->actor->command ? ctx->actor->command : "(none)", req[i]->command);
        return NULL;
    }
    kz__plan_refuse(why, 403, NULL, "plan %s needs no approval from %s", p->id, nation);
    return NULL;
}

static void add_approval(struct kz_plan *p, const struct kz_approver *ap, bool approve,
                         const char *reason, const struct kz_plan_ctx *ctx)
{
    unsigned i = 0;

    while (i < p->n_approvals && strcmp(p->approvals[i].nation, ap->nation) != 0)
        i++;
    if (i == p->n_approvals)
        p->approvals = kz_xrealloc(p->approvals, (++p->n_approvals) * sizeof(*p->approvals));
    else
        kz__plan_approval_clear(&p->approvals[i]);
    p->approvals[i] = (struct kz_plan_approval){
        .nation = kz_xstrdup(ap->nation),
        .command = kz_xstrdup(ap->command),
        .user = kz_xstrdup(ctx->actor->user),
        .revision = p->revision,
        .approve = approve,
        .reason = kz_xstrdup(reason),
        .time_us = ctx->now_us,
    };
}

static int op_approve(struct kz_plan *p, const json_t *body, const struct kz_plan_ctx *ctx,
                      const char **action, struct kz_plan_refusal *why)
{
    const json_t *rev = json_object_get(body, "revision");
    const char *decision = json_string_value(json_object_get(body, "decision"));
    const char *reason = json_string_value(json_object_get(body, "reason"));
    const struct kz_approver *ap;
    bool approve = decision && strcmp(decision, "approve") == 0;

    if (!json_is_integer(rev) || !decision || (!approve && strcmp(decision, "reject") != 0))
        return kz__plan_refuse(why, 400, NULL,
                               "the body needs \"revision\" (an integer) and \"decision\": "
                               "\"approve\" or \"reject\"");
    if (reason && json_string_length(json_object_get(body, "reason")) > KZ_PLAN_TEXT_MAX)
        return kz__plan_refuse(why, 400, NULL, "'reason' is too long");
    if (!approve && (!reason || !*reason))
        return kz__plan_refuse(why, 400, NULL, "a rejection needs a reason");
    if (p->stage == KZ_STAGE_CLOSED)
        return kz__plan_refuse(why, 409, "stage_order", "plan %s is closed", p->id);
    if (!(ap = approver_for(p, ctx, why)))
        return KZ_ERR_DENIED;
    if (json_integer_value(rev) != p->revision)
        return kz__plan_refuse(why, 409, "stale_revision",
                               "revision %lld is not the current revision %lld of plan %s",
                               (long long)json_integer_value(rev), (long long)p->revision, p->id);
    add_approval(p, ap, approve, reason, ctx);
    *action = approve ? "plan.approve" : "plan.reject";
    return KZ_OK;
}

static int op_consult(struct kz_plan *p, const json_t *body, const struct kz_plan_ctx *ctx,
                      struct kz_plan_refusal *why)
{
    const char *state = json_string_value(json_object_get(body, "state"));
    const char *reason = json_string_value(json_object_get(body, "reason"));
    enum kz_consult_state s;

    if (kz__plan_consult_parse(state, &s) != KZ_OK || s < KZ_CONSULT_REQUESTED)
        return kz__plan_refuse(why, 400, NULL,
                               "\"state\" must be \"requested\", \"agreed\" or \"declined\"");
    if (reason && json_string_length(json_object_get(body, "reason")) > KZ_PLAN_TEXT_MAX)
        return kz__plan_refuse(why, 400, NULL, "'reason' is too long");
    if (s == KZ_CONSULT_DECLINED && (!reason || !*reason))
        return kz__plan_refuse(why, 400, NULL, "a declined consultation needs a reason");
    if (p->consult == KZ_CONSULT_NOT_REQUIRED)
        return kz__plan_refuse(why, 400, NULL, "no prior-consultation rule applies to plan %s",
                               p->id);
    if (!acts_for(ctx, p->consult_authority))
        return kz__plan_refuse(
            why, 403, NULL, "%s's command '%s' is not %s, the consultation authority",
            ctx->actor->user, ctx->actor->command ? ctx->actor->command : "(none)",
            p->consult_authority);
    p->consult = s;
    kz__plan_set(&p->consult_reason, reason);
    return KZ_OK;
}

/* Every required approval of the current revision, as approvals; a refusal names the missing. */
static int approvals_complete(const struct kz_plan *p, const struct kz_plan_ctx *ctx,
                              struct kz_plan_refusal *why)
{
    const struct kz_approver *req[KZ_PLAN_MAX_PARTICIPANTS];
    unsigned n = kz_plan_required(p, ctx->alliance, today(ctx), req);
    struct kz_sbuf missing = KZ_SBUF_INIT;
    int err = KZ_OK;

    for (unsigned i = 0; i < n; i++) {
        bool ok = false;
        for (unsigned j = 0; j < p->n_approvals && !ok; j++)
            ok = strcmp(p->approvals[j].nation, req[i]->nation) == 0 && p->approvals[j].approve &&
                 p->approvals[j].revision == p->revision;
        if (!ok)
            kz_sbuf_addf(&missing, "%s%s (%s)", missing.len ? ", " : "", req[i]->command,
                         req[i]->nation);
    }
    if (missing.len)
        err = kz__plan_refuse(why, 409, "approvals_missing",
                              "revision %lld of plan %s lacks the approval of %s",
                              (long long)p->revision, p->id, missing.buf);
    kz_sbuf_release(&missing);
    return err;
}

static int gate_execution(const struct kz_plan *p, const struct kz_plan_ctx *ctx,
                          struct kz_plan_refusal *why)
{
    if (p->consult == KZ_CONSULT_DECLINED)
        return kz__plan_refuse(why, 409, "consultation_declined",
                               "%s declined the prior consultation: %s", p->consult_authority,
                               p->consult_reason ? p->consult_reason : "(no reason)");
    if (p->consult == KZ_CONSULT_REQUIRED || p->consult == KZ_CONSULT_REQUESTED)
        return kz__plan_refuse(why, 409, "consultation_required",
                               "plan %s needs prior consultation with %s recorded as agreed "
                               "(now: %s)",
                               p->id, p->consult_authority, kz_consult_name(p->consult));
    return approvals_complete(p, ctx, why);
}

static int op_stage(struct kz_plan *p, const json_t *body, const struct kz_plan_ctx *ctx,
                    struct kz_plan_refusal *why)
{
    const char *to = json_string_value(json_object_get(body, "to"));
    enum kz_plan_stage s;

    if (kz_plan_stage_parse(to, &s) != KZ_OK)
        return kz__plan_refuse(why, 400, NULL, "\"to\" must name a stage");
    if (need_participant(p, ctx, why))
        return KZ_ERR_DENIED;
    if (p->stage == KZ_STAGE_CLOSED || s != p->stage + 1)
        return kz__plan_refuse(
            why, 409, "stage_order", "plan %s is in %s: stages go forward one at a time (next: %s)",
            p->id, kz_plan_stage_name(p->stage),
            p->stage == KZ_STAGE_CLOSED ? "none" : kz_plan_stage_name(p->stage + 1));
    if (s == KZ_STAGE_EXECUTION && gate_execution(p, ctx, why) != KZ_OK)
        return KZ_ERR_DENIED;
    p->stage = s;
    p->updated_us = ctx->now_us;
    return KZ_OK;
}

/* ---- the one entry ------------------------------------------------------------- */

static const char *const actions[] = {
    [KZ_PLAN_OP_CREATE] = "plan.create",   [KZ_PLAN_OP_EDIT] = "plan.edit",
    [KZ_PLAN_OP_ITEM] = "plan.item",       [KZ_PLAN_OP_APPROVE] = "plan.approve",
    [KZ_PLAN_OP_CONSULT] = "plan.consult", [KZ_PLAN_OP_STAGE] = "plan.stage",
};

/* The route table checks roles too; the rules do not rely on it. */
static int need_role(enum kz_plan_op_type op, const struct kz_plan_ctx *ctx,
                     struct kz_plan_refusal *why)
{
    const char *role =
        op == KZ_PLAN_OP_APPROVE || op == KZ_PLAN_OP_CONSULT ? KZ_ROLE_APPROVER : KZ_ROLE_PLANNER;

    for (unsigned i = 0; i < ctx->actor->roles_count; i++)
        if (strcmp(ctx->actor->roles[i], role) == 0)
            return KZ_OK;
    return kz__plan_refuse(why, 403, NULL, "role '%s' required", role);
}

static int dispatch(struct kz_plan *p, enum kz_plan_op_type op, const json_t *body,
                    const struct kz_plan_ctx *ctx, json_t *changes, const char **action,
                    struct kz_plan_refusal *why)
{
    switch (op) {
    case KZ_PLAN_OP_CREATE:
        return op_create(p, body, ctx, changes, why);
    case KZ_PLAN_OP_EDIT:
        return op_edit(p, body, ctx, changes, why);
    case KZ_PLAN_OP_ITEM:
        return op_item(p, body, ctx, changes, why);
    case KZ_PLAN_OP_APPROVE:
        return op_approve(p, body, ctx, action, why);
    case KZ_PLAN_OP_CONSULT:
        return op_consult(p, body, ctx, why);
    case KZ_PLAN_OP_STAGE:
        return op_stage(p, body, ctx, why);
    }
    return kz__plan_refuse(why, 400, NULL, "unknown operation");
}

static char *audit_detail(const struct kz_plan *p, const json_t *body,
                          const struct kz_plan_ctx *ctx, json_t *changes)
{
    const struct kz_identity *id = ctx->actor;
    const char *reason = json_string_value(json_object_get(body, "reason"));
    json_t *d = json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:s, s:s?}", "user", id->user, "identity",
                          ctx->via ? ctx->via : id->user, "nation", id->nation, "command",
                          id->command, "revision", (json_int_t)p->revision, "stage",
                          kz_plan_stage_name(p->stage), "reason", reason);
    char *s;

    if (json_object_size(changes))
        json_object_set(d, "changes", changes);
    json_object_set(d, "request", (json_t *)body);
    s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    return s;
}

int kz_plan_apply(const struct kz_plan *cur, enum kz_plan_op_type op, const json_t *body,
                  const struct kz_plan_ctx *ctx, struct kz_plan **next, const char **action,
                  char **detail, struct kz_plan_refusal *why)
{
    struct kz_plan *p;
    json_t *changes = json_object();
    int err;

    *next = NULL;
    *detail = NULL;
    *action = (unsigned)op < KZ_ARRAY_LEN(actions) ? actions[op] : "plan.?";
    if (!ctx->alliance)
        err = kz__plan_refuse(why, 409, NULL, "plans need an alliance model (alliance.file)");
    else if (!ctx->actor || !ctx->actor->user || !ctx->actor->nation)
        err = kz__plan_refuse(why, 403, NULL, "no identity");
    else if (need_role(op, ctx, why) != KZ_OK)
        err = KZ_ERR_DENIED;
    else if (!json_is_object(body))
        err = kz__plan_refuse(why, 400, NULL, "the body must be a JSON object");
    else if ((op == KZ_PLAN_OP_CREATE) != (cur == NULL))
        err = kz__plan_refuse(why, 400, NULL, "bad operation");
    else
        err = KZ_OK;
    if (err != KZ_OK) {
        json_decref(changes);
        return err;
    }
    p = cur ? kz__plan_dup(cur, ctx->policy) : kz_xcalloc(1, sizeof(*p));
    if ((err = dispatch(p, op, body, ctx, changes, action, why)) != KZ_OK) {
        kz_plan_free(p);
        json_decref(changes);
        return err;
    }
    p->version++;
    *detail = audit_detail(p, body, ctx, changes);
    json_decref(changes);
    *next = p;
    return KZ_OK;
}
