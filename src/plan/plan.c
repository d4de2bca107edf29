/*
 * plan.c - the plan's names and its life cycle in memory.
 */
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

static const char *const kind_names[KZ_PLAN_KIND__COUNT] = {"exercise", "operation", "hadr"};

static const char *const stage_names[KZ_STAGE__COUNT] = {
    "concept",   "initial_planning", "main_planning", "final_planning",
    "execution", "assessment",       "closed",
};

static const char *const consult_names[KZ_CONSULT__COUNT] = {
    "not_required", "required", "requested", "agreed", "declined",
};

static const char *const flag_names[KZ_FLAG__COUNT] = {
    "major_deployment_change",
    "major_equipment_change",
    "combat_from_japan",
};

/* Legal bases (domain.md §3): what a consultation trigger may except. */
static const char *const legal_bases[] = {"article_v", "article_vi", "hadr", "training", "other"};

static int lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

const char *kz_plan_kind_name(enum kz_plan_kind k)
{
    return (unsigned)k < KZ_PLAN_KIND__COUNT ? kind_names[k] : "?";
}

const char *kz_plan_stage_name(enum kz_plan_stage s)
{
    return (unsigned)s < KZ_STAGE__COUNT ? stage_names[s] : "?";
}

const char *kz_consult_name(enum kz_consult_state s)
{
    return (unsigned)s < KZ_CONSULT__COUNT ? consult_names[s] : "?";
}

const char *kz_plan_flag_name(enum kz_plan_flag f)
{
    return (unsigned)f < KZ_FLAG__COUNT ? flag_names[f] : "?";
}

int kz_plan_stage_parse(const char *s, enum kz_plan_stage *out)
{
    int i = lookup(stage_names, KZ_STAGE__COUNT, s);

    if (i < 0)
        return KZ_ERR_PARSE;
    *out = (enum kz_plan_stage)i;
    return KZ_OK;
}

int kz__plan_kind_parse(const char *s, enum kz_plan_kind *out)
{
    int i = lookup(kind_names, KZ_PLAN_KIND__COUNT, s);

    if (i < 0)
        return KZ_ERR_PARSE;
    *out = (enum kz_plan_kind)i;
    return KZ_OK;
}

int kz__plan_consult_parse(const char *s, enum kz_consult_state *out)
{
    int i = lookup(consult_names, KZ_CONSULT__COUNT, s);

    if (i < 0)
        return KZ_ERR_PARSE;
    *out = (enum kz_consult_state)i;
    return KZ_OK;
}

int kz__plan_flag_parse(const char *s)
{
    return lookup(flag_names, KZ_FLAG__COUNT, s);
}

bool kz__plan_legal_basis_ok(const char *s)
{
    return lookup(legal_bases, (int)KZ_ARRAY_LEN(legal_bases), s) >= 0;
}

void kz__plan_item_clear(struct kz_plan_item *it)
{
    free(it->place);
    kz_strv_free(it->units, it->n_units);
    free(it->description);
    free(it->banner);
}

void kz__plan_approval_clear(struct kz_plan_approval *a)
{
    free(a->nation);
    free(a->command);
    free(a->user);
    free(a->reason);
}

void kz__plan_clear_approvals(struct kz_plan *p)
{
    for (unsigned i = 0; i < p->n_approvals; i++)
        kz__plan_approval_clear(&p->approvals[i]);
    free(p->approvals);
    p->approvals = NULL;
    p->n_approvals = 0;
}

void kz_plan_free(struct kz_plan *p)
{
    if (!p)
        return;
    free(p->id);
    free(p->title);
    free(p->legal_basis);
    free(p->lead);
    kz_strv_free(p->participants, p->n_participants);
    free(p->banner);
    free(p->consult_authority);
    free(p->consult_reason);
    for (unsigned i = 0; i < p->n_items; i++)
        kz__plan_item_clear(&p->items[i]);
    free(p->items);
    kz__plan_clear_approvals(p);
    json_decref(p->revisions);
    free(p->created_by);
    free(p);
}

void kz__plan_set(char **field, const char *v)
{
    free(*field);
    *field = kz_xstrdup(v);
}

struct kz_plan *kz__plan_dup(const struct kz_plan *p, const struct kz_label_policy *policy)
{
    json_t *doc = kz_plan_to_doc(p);
    struct kz_plan *copy = NULL;

    /* The document is the plan's one serialised form; reading it back is a deep copy. */
    if (kz_plan_from_doc(doc, policy, &copy) != KZ_OK)
        KZ_BUG("a plan does not read back its own document");
    json_decref(doc);
    return copy;
}
