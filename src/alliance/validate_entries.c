/*
 * validate_entries.c - the rules on the model's entries other than command
 * relationships (docs/alliance.md, "Validation"): organic elements
 * (`part_of`), dated commanders, forum links, plan approvers, agreements
 * and the prior-consultation rules.  Every problem is reported as
 * file:line; an unknown id is reported and never followed.
 */
#include <string.h>

#include "alliance/internal.h"

#define E_ERR(a, d, line, ...) kz__diag((d), (a)->file, (line), __VA_ARGS__)

static const char *const plan_kinds[] = {"exercise", "operation", "hadr"};
static const char *const consult_flags[] = {"major_deployment_change", "major_equipment_change",
                                            "combat_from_japan"};
static const char *const legal_bases[] = {"article_v", "article_vi", "hadr", "training", "other"};

bool kz__strv_has(char *const *v, unsigned n, const char *s)
{
    for (unsigned i = 0; s && i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static bool one_of(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return true;
    return false;
}

static bool overlap(int32_t f1, int32_t t1, int32_t f2, int32_t t2)
{
    return f1 < t2 && f2 < t1;
}

/* part_of: a known command of the same nation, never a loop. */
static void check_part_of(const struct kz_alliance *a, struct kz_alliance_diag *d,
                          const struct kz_command *c)
{
    const struct kz_command *p = kz_alliance_command(a, c->part_of);

    if (!p) {
        E_ERR(a, d, c->line, "unknown command id '%s' (part_of)", c->part_of);
        return;
    }
    if (strcmp(p->nation, c->nation) != 0)
        E_ERR(a, d, c->line, "%s (%s) is part_of %s (%s), another nation", c->id, c->nation, p->id,
              p->nation);
    for (unsigned steps = 0; p && steps <= a->n_commands; steps++) {
        if (p == c) {
            E_ERR(a, d, c->line, "part_of of %s loops back to it", c->id);
            return;
        }
        p = p->part_of ? kz_alliance_command(a, p->part_of) : NULL;
    }
}

static void check_commanders(const struct kz_alliance *a, struct kz_alliance_diag *d,
                             const struct kz_command *c)
{
    for (unsigned i = 0; i < c->n_commanders; i++) {
        const struct kz_commander *k = &c->commanders[i];
        if (k->valid_from >= k->valid_to)
            E_ERR(a, d, k->line, "valid_to must be after valid_from");
        for (unsigned j = 0; j < i; j++)
            if (overlap(k->valid_from, k->valid_to, c->commanders[j].valid_from,
                        c->commanders[j].valid_to))
                E_ERR(a, d, k->line, "commander %s of %s overlaps %s (line %d)", k->name, c->id,
                      c->commanders[j].name, c->commanders[j].line);
    }
}

bool kz__forum_known(const struct kz_alliance *a, const char *id)
{
    for (unsigned j = 0; j < a->n_forums; j++)
        if (strcmp(a->forums[j].id, id) == 0)
            return true;
    return false;
}

static void check_commands_forums(const struct kz_alliance *a, struct kz_alliance_diag *d)
{
    for (unsigned i = 0; i < a->n_commands; i++) {
        if (a->commands[i].part_of)
            check_part_of(a, d, &a->commands[i]);
        check_commanders(a, d, &a->commands[i]);
    }
    for (unsigned i = 0; i < a->n_forums; i++) {
        const struct kz_forum *f = &a->forums[i];
        for (unsigned j = 0; j < i; j++)
            if (strcmp(a->forums[j].id, f->id) == 0)
                E_ERR(a, d, f->line, "forum id '%s' defined twice", f->id);
        for (unsigned k = 0; k < f->n_linked; k++)
            if (!kz__forum_known(a, f->linked[k]) || strcmp(f->linked[k], f->id) == 0)
                E_ERR(a, d, f->line, "forum %s: bad linked forum id '%s'", f->id, f->linked[k]);
    }
}

/* Two approvers of one nation for one kind whose windows meet. */
static void check_approver_clash(const struct kz_alliance *a, struct kz_alliance_diag *d,
                                 unsigned i, const char *kind)
{
    const struct kz_approver *p = &a->approvers[i];

    for (unsigned j = 0; j < i; j++) {
        const struct kz_approver *q = &a->approvers[j];
        if (strcmp(q->nation, p->nation) == 0 && kz__strv_has(q->kinds, q->n_kinds, kind) &&
            overlap(p->valid_from, p->valid_to, q->valid_from, q->valid_to)) {
            E_ERR(a, d, p->line, "two approvers of %s plans for %s: %s and %s (line %d)", kind,
                  p->nation, p->command, q->command, q->line);
            return;
        }
    }
}

static void check_approvers(const struct kz_alliance *a, struct kz_alliance_diag *d)
{
    for (unsigned i = 0; i < a->n_approvers; i++) {
        const struct kz_approver *p = &a->approvers[i];
        const struct kz_command *c = kz_alliance_command(a, p->command);
        if (c && strcmp(c->nation, p->nation) != 0)
            E_ERR(a, d, p->line, "approver %s is a command of %s, not of %s", c->id, c->nation,
                  p->nation);
        if (p->valid_from >= p->valid_to)
            E_ERR(a, d, p->line, "valid_to must be after valid_from");
        for (unsigned k = 0; k < p->n_kinds; k++) {
            if (!one_of(plan_kinds, KZ_ARRAY_LEN(plan_kinds), p->kinds[k]))
                E_ERR(a, d, p->line, "unknown plan kind '%s' (exercise, operation or hadr)",
                      p->kinds[k]);
            else
                check_approver_clash(a, d, i, p->kinds[k]);
        }
    }
}

static void check_agreements(const struct kz_alliance *a, struct kz_alliance_diag *d)
{
    for (unsigned i = 0; i < a->n_agreements; i++) {
        const struct kz_agreement *g = &a->agreements[i];
        for (unsigned j = 0; j < i; j++)
            if (strcmp(a->agreements[j].id, g->id) == 0)
                E_ERR(a, d, g->line, "agreement id '%s' defined twice", g->id);
        if (g->n_parties < 2)
            E_ERR(a, d, g->line, "agreement %s needs at least two parties", g->id);
        for (unsigned k = 0; k < g->n_parties; k++)
            if (!kz_alliance_nation(a, g->parties[k]))
                E_ERR(a, d, g->line, "unknown nation '%s' (agreement party)", g->parties[k]);
        if (g->valid_from >= g->valid_to)
            E_ERR(a, d, g->line, "valid_to must be after valid_from");
        if (g->signed_on != KZ_DAY_MIN && g->valid_from != KZ_DAY_MIN &&
            g->signed_on > g->valid_from)
            E_ERR(a, d, g->line, "agreement %s enters into force before it is signed", g->id);
    }
}

static void check_trigger(const struct kz_alliance *a, struct kz_alliance_diag *d,
                          const struct kz_consult_trigger *t)
{
    if (!one_of(consult_flags, KZ_ARRAY_LEN(consult_flags), t->flag))
        E_ERR(a, d, t->line,
              "unknown consultation flag '%s' (major_deployment_change, "
              "major_equipment_change or combat_from_japan)",
              t->flag);
    for (unsigned k = 0; k < t->n_except; k++)
        if (!one_of(legal_bases, KZ_ARRAY_LEN(legal_bases), t->except[k]))
            E_ERR(a, d, t->line,
                  "unknown legal basis '%s' (article_v, article_vi, hadr, training or other)",
                  t->except[k]);
}

static void check_consultation(const struct kz_alliance *a, struct kz_alliance_diag *d)
{
    for (unsigned i = 0; i < a->n_consultations; i++) {
        const struct kz_consultation *c = &a->consultations[i];
        if (!kz_alliance_command(a, c->authority))
            E_ERR(a, d, c->line, "unknown command id '%s' (consultation authority)", c->authority);
        if (c->n_triggers == 0)
            E_ERR(a, d, c->line, "consultation '%s' has no triggers", c->name);
        for (unsigned t = 0; t < c->n_triggers; t++)
            check_trigger(a, d, &c->triggers[t]);
    }
}

unsigned kz__validate_entries(const struct kz_alliance *a, struct kz_alliance_diag *diag)
{
    unsigned before = diag->count;

    check_commands_forums(a, diag);
    check_approvers(a, diag);
    check_agreements(a, diag);
    check_consultation(a, diag);
    return diag->count - before;
}
