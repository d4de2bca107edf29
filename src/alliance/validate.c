/*
 * validate.c - the rules a loaded alliance file must satisfy
 * (docs/alliance.md, "Validation"): known ids, no cycles, the authority
 * nesting COCOM > OPCON > TACON, ADCON in the service chain, support under
 * a common superior, one holder at a time, national chains in parallel
 * mode and under each nation's apex, grantors of DIRLAUTH and coordinating
 * authority.  Date-dependent rules are checked on every day at which any
 * window in the file opens or closes, which covers every distinct state.
 * The entries that are not relations are checked in validate_entries.c.
 */
#include <stdlib.h>
#include <string.h>

#include "alliance/internal.h"

struct vctx {
    const struct kz_alliance *a;
    struct kz_alliance_diag *d;
    unsigned start;
    int32_t *days;
    unsigned n_days;
};

#define V_ERR(v, line, ...) kz__diag((v)->d, (v)->a->file, (line), __VA_ARGS__)

const struct kz_relation *kz__superior(const struct kz_alliance *a, const char *id, int32_t day)
{
    const struct kz_relation *r = kz_alliance_holder(a, id, KZ_REL_OPCON, day);
    if (!r)
        r = kz_alliance_holder(a, id, KZ_REL_COCOM, day);
    return r ? r : kz_alliance_holder(a, id, KZ_REL_NATIONAL, day);
}

bool kz__is_above(const struct kz_alliance *a, const char *anc, const char *id, int32_t day)
{
    for (unsigned steps = 0; id && steps <= a->n_commands; steps++) {
        if (strcmp(anc, id) == 0)
            return true;
        const struct kz_relation *r = kz__superior(a, id, day);
        id = r ? r->from : NULL;
    }
    return false;
}

/*
 * Is `anc` reachable from `id` going up any COCOM, OPCON or national command
 * edge valid on `day`, other than `skip`?  Any path counts, so one bad edge
 * elsewhere in the file does not make every edge below it look wrong too.
 */
static bool reach_up(const struct kz_alliance *a, const char *anc, const char *id, int32_t day,
                     const struct kz_relation *skip)
{
    const char **q = kz_xcalloc(a->n_relations + 2, sizeof(char *));
    unsigned head = 0, tail = 0;
    bool found = false;

    q[tail++] = id;
    while (head < tail && !found) {
        const char *cur = q[head++];
        found = strcmp(cur, anc) == 0;
        for (unsigned i = 0; i < a->n_relations && !found && tail <= a->n_relations; i++) {
            const struct kz_relation *r = &a->relations[i];
            if (r != skip &&
                (r->type == KZ_REL_COCOM || r->type == KZ_REL_OPCON ||
                 r->type == KZ_REL_NATIONAL) &&
                strcmp(r->to, cur) == 0 && kz_day_in(r->valid_from, r->valid_to, day))
                q[tail++] = r->from;
        }
    }
    free(q);
    return found;
}

static int cmp_day(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

static void add_day(int32_t *days, unsigned *n, int32_t d)
{
    if (d != KZ_DAY_MIN && d != KZ_DAY_MAX)
        days[(*n)++] = d;
}

int32_t *kz__change_days(const struct kz_alliance *a, unsigned *n)
{
    int32_t *days = kz_xcalloc(2 * (a->n_relations + a->n_commands) + 1, sizeof(int32_t));
    unsigned k = 0;

    /* A day before every window: the state "before anything changed". */
    int32_t first = KZ_DAY_MAX;
    for (unsigned i = 0; i < a->n_relations; i++) {
        add_day(days, &k, a->relations[i].valid_from);
        add_day(days, &k, a->relations[i].valid_to);
    }
    for (unsigned i = 0; i < a->n_commands; i++) {
        add_day(days, &k, a->commands[i].valid_from);
        add_day(days, &k, a->commands[i].valid_to);
    }
    for (unsigned i = 0; i < k; i++)
        first = days[i] < first ? days[i] : first;
    days[k++] = first == KZ_DAY_MAX ? 0 : first - 1;
    qsort(days, k, sizeof(*days), cmp_day);
    unsigned u = 0;
    for (unsigned i = 0; i < k; i++)
        if (u == 0 || days[u - 1] != days[i])
            days[u++] = days[i];
    *n = u;
    return days;
}

/* ---- ids ------------------------------------------------------------------ */

static void check_cmd_ref(struct vctx *v, const char *id, const char *what, int line)
{
    if (id && !kz_alliance_command(v->a, id))
        V_ERR(v, line, "unknown command id '%s' (%s)", id, what);
}

static void check_window(struct vctx *v, int32_t from, int32_t to, int line)
{
    if (from >= to)
        V_ERR(v, line, "valid_to must be after valid_from");
}

static void check_nations(struct vctx *v)
{
    const struct kz_alliance *a = v->a;
    int32_t off;

    for (unsigned i = 0; i < a->n_nations; i++) {
        const struct kz_nation *n = &a->nations[i];
        if (kz_nation_index(n->code, strlen(n->code)) == KZ_NATION_NONE)
            V_ERR(v, n->line, "'%s' is not an ISO 3166 alpha-3 nation code", n->code);
        if (kz_alliance_nation(a, n->code) != n)
            V_ERR(v, n->line, "nation '%s' defined twice", n->code);
        if (kz_tz_offset(n->tz, 0, &off) != KZ_OK)
            V_ERR(v, n->line, "unknown time zone '%s'", n->tz);
        check_cmd_ref(v, n->top, "nation top", n->line);
        check_cmd_ref(v, n->lead, "nation lead", n->line);
        check_cmd_ref(v, n->apex, "nation apex", n->line);
        const struct kz_command *apex = n->apex ? kz_alliance_command(a, n->apex) : NULL;
        if (apex && strcmp(apex->nation, n->code) != 0)
            V_ERR(v, n->line, "apex %s of %s is a command of %s", apex->id, n->code, apex->nation);
    }
}

static void check_commands(struct vctx *v)
{
    const struct kz_alliance *a = v->a;
    int32_t off;

    for (unsigned i = 0; i < a->n_commands; i++) {
        const struct kz_command *c = &a->commands[i];
        if (kz_alliance_command(a, c->id) != c)
            V_ERR(v, c->line, "command id '%s' defined twice", c->id);
        if (!kz_alliance_nation(a, c->nation))
            V_ERR(v, c->line, "unknown nation '%s' for command '%s'", c->nation, c->id);
        if (kz_tz_offset(c->tz, 0, &off) != KZ_OK)
            V_ERR(v, c->line, "unknown time zone '%s'", c->tz);
        if (c->lat < -90 || c->lat > 90 || c->lon < -180 || c->lon > 180)
            V_ERR(v, c->line, "position out of range");
        check_window(v, c->valid_from, c->valid_to, c->line);
        for (unsigned p = 0; p < c->n_phases; p++) {
            const struct kz_phase *ph = &c->phases[p];
            check_window(v, ph->valid_from, ph->valid_to, ph->line);
            for (unsigned q = 0; q < p; q++)
                if (ph->valid_from < c->phases[q].valid_to &&
                    c->phases[q].valid_from < ph->valid_to)
                    V_ERR(v, ph->line, "phase '%s' of '%s' overlaps phase '%s'", ph->name, c->id,
                          c->phases[q].name);
        }
    }
}

static void check_refs(struct vctx *v)
{
    const struct kz_alliance *a = v->a;

    for (unsigned i = 0; i < a->n_relations; i++) {
        const struct kz_relation *r = &a->relations[i];
        check_cmd_ref(v, r->from, "from", r->line);
        check_cmd_ref(v, r->to, "to", r->line);
        check_cmd_ref(v, r->granted_by, "granted_by", r->line);
        check_window(v, r->valid_from, r->valid_to, r->line);
        if (strcmp(r->from, r->to) == 0)
            V_ERR(v, r->line, "%s from '%s' to itself", kz_rel_type_name(r->type), r->from);
    }
    for (unsigned i = 0; i < a->n_forums; i++) {
        const struct kz_forum *f = &a->forums[i];
        for (unsigned m = 0; m < f->n_members; m++)
            check_cmd_ref(v, f->members[m], "forum member", f->line);
        if (f->parent && !kz__forum_known(a, f->parent))
            V_ERR(v, f->line, "unknown forum id '%s' (parent)", f->parent);
        if (strcmp(f->state, "standing") && strcmp(f->state, "activated") &&
            strcmp(f->state, "inactive"))
            V_ERR(v, f->line, "forum state must be standing, activated or inactive");
    }
    for (unsigned i = 0; i < a->n_approvers; i++) {
        const struct kz_approver *p = &a->approvers[i];
        if (!kz_alliance_nation(a, p->nation))
            V_ERR(v, p->line, "unknown nation '%s' (approver)", p->nation);
        check_cmd_ref(v, p->command, "approver", p->line);
    }
}

/* ---- rules that need valid ids -------------------------------------------- */

static const struct kz_command *cmd(struct vctx *v, const char *id)
{
    return kz_alliance_command(v->a, id);
}

/* Parallel: no command edge crosses nations; lead-nation: only OPCON/TACON may. */
static void check_national(struct vctx *v, const struct kz_relation *r)
{
    const struct kz_command *f = cmd(v, r->from), *t = cmd(v, r->to);

    if (!kz_rel_is_command(r->type) || strcmp(f->nation, t->nation) == 0)
        return;
    if (v->a->mode == KZ_MODE_PARALLEL)
        V_ERR(v, r->line, "%s from %s (%s) to %s (%s) crosses national chains in parallel mode",
              kz_rel_type_name(r->type), r->from, f->nation, r->to, t->nation);
    else if (r->type == KZ_REL_NATIONAL || (v->a->mode == KZ_MODE_LEAD_NATION &&
                                            (r->type == KZ_REL_COCOM || r->type == KZ_REL_ADCON)))
        V_ERR(v, r->line, "%s never passes to another nation, even in lead-nation mode",
              kz_rel_type_name(r->type));
}

static void check_adcon(struct vctx *v, const struct kz_relation *r)
{
    const struct kz_command *f = cmd(v, r->from), *t = cmd(v, r->to);

    if (r->type != KZ_REL_ADCON)
        return;
    if (strcmp(f->service, "joint") == 0)
        V_ERR(v, r->line,
              "ADCON held by %s, a joint headquarters: ADCON runs in Service channels "
              "(a joint HQ's own elements are part_of it)",
              r->from);
    else if (strcmp(f->service, t->service) != 0 || strcmp(f->nation, t->nation) != 0)
        V_ERR(v, r->line, "ADCON from %s (%s %s) to %s (%s %s) is outside the service chain",
              r->from, f->nation, f->service, r->to, t->nation, t->service);
}

/* One holder of COCOM, OPCON or ADCON over a unit at a time. */
static void check_overlap(struct vctx *v, unsigned i)
{
    const struct kz_relation *r = &v->a->relations[i];

    if (r->type != KZ_REL_COCOM && r->type != KZ_REL_OPCON && r->type != KZ_REL_ADCON &&
        r->type != KZ_REL_NATIONAL)
        return;
    for (unsigned j = 0; j < i; j++) {
        const struct kz_relation *q = &v->a->relations[j];
        if (q->type == r->type && strcmp(q->to, r->to) == 0 && r->valid_from < q->valid_to &&
            q->valid_from < r->valid_to) {
            V_ERR(v, r->line, "%s over %s by %s overlaps the one by %s (line %d)",
                  kz_rel_type_name(r->type), r->to, r->from, q->from, q->line);
            return;
        }
    }
}

#define BIT(t) (1u << (t))

/* Does `g` hold one of the `types` (BIT mask) over `unit` on `day` (other than `self`)? */
static bool holds(struct vctx *v, const char *g, const char *unit, unsigned types, int32_t day,
                  const struct kz_relation *self)
{
    for (unsigned i = 0; i < v->a->n_relations; i++) {
        const struct kz_relation *q = &v->a->relations[i];
        if (q != self && (types & BIT(q->type)) && strcmp(q->from, g) == 0 &&
            strcmp(q->to, unit) == 0 && kz_day_in(q->valid_from, q->valid_to, day))
            return true;
    }
    return false;
}

/*
 * A chain outside COCOM (a national chain of any depth, or the national
 * command above a CCDR): its holder must be the unit's national apex or
 * below it, in the unit's own nation.
 */
static bool under_apex(struct vctx *v, const struct kz_relation *r, int32_t day, char *why,
                       size_t len)
{
    const struct kz_command *u = cmd(v, r->to);
    const struct kz_nation *n = kz_alliance_nation(v->a, u->nation);

    if (!n->apex) {
        snprintf(why, len, "%s has no COCOM holder and nation %s names no apex", r->to, u->nation);
        return false;
    }
    if (strcmp(cmd(v, r->from)->nation, u->nation) == 0 && reach_up(v->a, n->apex, r->from, day, r))
        return true;
    snprintf(why, len, "%s is not %s (national apex of %s) or below it", r->from, n->apex,
             u->nation);
    return false;
}

static bool check_opcon_on(struct vctx *v, const struct kz_relation *r, int32_t day, char *why,
                           size_t len)
{
    const struct kz_relation *co = kz_alliance_holder(v->a, r->to, KZ_REL_COCOM, day);

    if (r->granted_by &&
        !holds(v, r->granted_by, r->to, BIT(KZ_REL_COCOM) | BIT(KZ_REL_OPCON), day, r)) {
        snprintf(why, len, "grantor %s holds neither COCOM nor OPCON over %s", r->granted_by,
                 r->to);
        return false;
    }
    if (co) {
        if (reach_up(v->a, co->from, r->from, day, r))
            return true;
        snprintf(why, len, "%s is not %s (COCOM holder of %s) or below it", r->from, co->from,
                 r->to);
        return false;
    }
    return under_apex(v, r, day, why, len);
}

static bool check_tacon_on(struct vctx *v, const struct kz_relation *r, int32_t day, char *why,
                           size_t len)
{
    const struct kz_relation *op = kz_alliance_holder(v->a, r->to, KZ_REL_OPCON, day);
    const struct kz_relation *co = kz_alliance_holder(v->a, r->to, KZ_REL_COCOM, day);
    const char *g = r->granted_by ? r->granted_by : op ? op->from : co ? co->from : NULL;
    unsigned may = BIT(KZ_REL_COCOM) | BIT(KZ_REL_OPCON) | BIT(KZ_REL_TACON);

    /* OPCON is inherent in COCOM, TACON in OPCON: a COCOM holder may grant it too. */
    if (g && holds(v, g, r->to, may, day, r))
        return true;
    snprintf(why, len, "%s",
             g ? "grantor holds neither COCOM, OPCON nor TACON over the unit"
               : "nobody holds COCOM or OPCON over the unit to grant it");
    return false;
}

/* DIRLAUTH and coordinating authority: granted by a superior of `from`, in its nation. */
static bool check_grantor_on(struct vctx *v, const struct kz_relation *r, int32_t day, char *why,
                             size_t len)
{
    const struct kz_command *g = cmd(v, r->granted_by), *f = cmd(v, r->from);

    if (strcmp(g->nation, f->nation) != 0)
        snprintf(why, len, "grantor %s (%s) is not of %s's nation (%s)", g->id, g->nation, f->id,
                 f->nation);
    else if (strcmp(g->id, f->id) != 0 && reach_up(v->a, g->id, f->id, day, NULL))
        return true;
    else
        snprintf(why, len, "grantor %s is not a superior of %s", g->id, f->id);
    return false;
}

static bool check_support_on(struct vctx *v, const struct kz_relation *r, int32_t day, char *why,
                             size_t len)
{
    const struct kz_alliance *a = v->a;

    if (r->granted_by) {
        if (reach_up(a, r->granted_by, r->from, day, NULL) &&
            reach_up(a, r->granted_by, r->to, day, NULL))
            return true;
        snprintf(why, len, "%s is not a common superior of %s and %s", r->granted_by, r->from,
                 r->to);
        return false;
    }
    for (unsigned i = 0; i < a->n_commands; i++) {
        const char *s = a->commands[i].id;
        if (strcmp(s, r->from) != 0 && strcmp(s, r->to) != 0 &&
            reach_up(a, s, r->from, day, NULL) && reach_up(a, s, r->to, day, NULL))
            return true;
    }
    snprintf(why, len, "%s and %s have no common superior", r->from, r->to);
    return false;
}

/* COCOM: a combatant command of a nation whose policy allows it (USA by default). */
static void check_cocom(struct vctx *v, const struct kz_relation *r)
{
    const struct kz_command *f = cmd(v, r->from);
    const struct kz_nation *n = kz_alliance_nation(v->a, f->nation);
    bool may = n->cocom < 0 ? strcmp(n->code, "USA") == 0 : n->cocom == 1;

    if (strcmp(f->kind, "ccmd") != 0)
        V_ERR(v, r->line, "COCOM held by %s, which is not a combatant command (kind ccmd)",
              r->from);
    else if (!may)
        V_ERR(v, r->line,
              "COCOM held by %s of %s: COCOM is a US statutory authority (10 USC 164); "
              "set 'cocom: true' on the nation to allow it",
              r->from, n->code);
}

/* The apex is the top of its nation: nothing commands it. */
static void check_apex(struct vctx *v, const struct kz_relation *r)
{
    const struct kz_command *t = cmd(v, r->to);
    const struct kz_nation *n = kz_alliance_nation(v->a, t->nation);

    if (n->apex && strcmp(n->apex, r->to) == 0 && r->type != KZ_REL_ADCON &&
        kz_rel_is_command(r->type))
        V_ERR(v, r->line, "%s from %s over %s, the national apex of %s", kz_rel_type_name(r->type),
              r->from, r->to, n->code);
}

/* Check a dated rule on every distinct state inside r's window; report once. */
static void check_dated(struct vctx *v, const struct kz_relation *r)
{
    bool (*fn)(struct vctx *, const struct kz_relation *, int32_t, char *, size_t) = NULL;
    char why[300], day_s[11];

    if (r->type == KZ_REL_COCOM) {
        check_cocom(v, r);
        return;
    }
    if ((r->type == KZ_REL_DIRLAUTH || r->type == KZ_REL_COORD_AUTH) && !r->granted_by) {
        V_ERR(v, r->line, "%s from %s to %s needs granted_by (the commander who grants it)",
              kz_rel_type_name(r->type), r->from, r->to);
        return;
    }
    if (r->type == KZ_REL_OPCON)
        fn = check_opcon_on;
    else if (r->type == KZ_REL_NATIONAL)
        fn = under_apex;
    else if (r->type == KZ_REL_TACON)
        fn = check_tacon_on;
    else if (r->type == KZ_REL_DIRLAUTH || r->type == KZ_REL_COORD_AUTH)
        fn = check_grantor_on;
    else if (kz_rel_is_support(r->type) && r->type != KZ_REL_SUPPORT_MUTUAL)
        fn = check_support_on;
    for (unsigned i = 0; fn && i < v->n_days; i++) {
        int32_t day = v->days[i];
        if (day < r->valid_from && r->valid_from != KZ_DAY_MIN)
            day = r->valid_from;
        if (!kz_day_in(r->valid_from, r->valid_to, day) || fn(v, r, day, why, sizeof(why)))
            continue;
        kz_day_format(day, day_s);
        V_ERR(v, r->line, "%s from %s to %s on %s: %s", kz_rel_type_name(r->type), r->from, r->to,
              day_s, why);
        return;
    }
}

/* Cycles in the operational (COCOM/OPCON/TACON) or the ADCON graph on `day`. */
static bool on_cycle(struct vctx *v, const char *start, bool adcon, int32_t day,
                     const struct kz_relation **edge)
{
    const struct kz_alliance *a = v->a;
    const char *cur = start;

    /* Follow every upward edge breadth-first; reaching start again is a cycle. */
    const char **queue = kz_xcalloc(a->n_relations + 1, sizeof(char *));
    unsigned head = 0, tail = 0;
    bool found = false;
    queue[tail++] = cur;
    while (head < tail && !found) {
        cur = queue[head++];
        for (unsigned i = 0; i < a->n_relations && !found; i++) {
            const struct kz_relation *r = &a->relations[i];
            bool kind = adcon ? r->type == KZ_REL_ADCON
                              : kz_rel_is_command(r->type) && r->type != KZ_REL_ADCON;
            if (!kind || strcmp(r->to, cur) != 0 || !kz_day_in(r->valid_from, r->valid_to, day))
                continue;
            if (strcmp(r->from, start) == 0) {
                *edge = r;
                found = true;
            } else if (tail < a->n_relations) {
                queue[tail++] = r->from;
            }
        }
    }
    free(queue);
    return found;
}

static void check_cycles(struct vctx *v)
{
    const struct kz_alliance *a = v->a;
    bool *reported = kz_xcalloc(a->n_relations + 1, sizeof(bool));
    const struct kz_relation *e;
    char day_s[11];

    for (unsigned d = 0; d < v->n_days; d++)
        for (unsigned c = 0; c < a->n_commands; c++)
            for (int adcon = 0; adcon < 2; adcon++) {
                if (!on_cycle(v, a->commands[c].id, adcon, v->days[d], &e) ||
                    reported[e - a->relations])
                    continue;
                reported[e - a->relations] = true;
                kz_day_format(v->days[d], day_s);
                V_ERR(v, e->line, "%s from %s to %s closes a cycle in the %s chain (on %s)",
                      kz_rel_type_name(e->type), e->from, e->to, adcon ? "ADCON" : "command",
                      day_s);
            }
    free(reported);
}

unsigned kz_alliance_validate(const struct kz_alliance *a, struct kz_alliance_diag *diag)
{
    struct vctx v = {.a = a, .d = diag, .start = diag->count};

    check_nations(&v);
    check_commands(&v);
    check_refs(&v);
    bool ids_ok = diag->count == v.start;
    kz__validate_entries(a, diag);
    if (!ids_ok)
        return diag->count - v.start; /* the graph rules need valid ids */
    v.days = kz__change_days(a, &v.n_days);
    check_cycles(&v);
    for (unsigned i = 0; i < a->n_relations; i++) {
        check_national(&v, &a->relations[i]);
        check_adcon(&v, &a->relations[i]);
        check_overlap(&v, i);
        check_apex(&v, &a->relations[i]);
        check_dated(&v, &a->relations[i]);
    }
    free(v.days);
    return diag->count - v.start;
}
