/*
 * query.c - chain of command, may A task B, counterparts, forums and the
 * whole model as a tree, all on a given day and as JSON (the CLI prints the
 * same objects the REST API returns).
 */
#include <stdlib.h>
#include <string.h>

#include "alliance/internal.h"

bool kz__visible(struct kz_alliance_view *v, const char *label, const struct kz_label *lab)
{
    return !v || !v->who || !label || kz_may_release(lab, v->who, NULL);
}

/* A relation leaves only with its own label and those of both ends allowing it. */
static bool rel_visible(const struct kz_alliance *a, struct kz_alliance_view *v,
                        const struct kz_relation *r)
{
    const struct kz_command *f = kz_alliance_command(a, r->from),
                            *t = kz_alliance_command(a, r->to);

    return kz__visible(v, r->label, &r->lab) && (!f || kz__visible(v, f->label, &f->lab)) &&
           (!t || kz__visible(v, t->label, &t->lab));
}

void kz__json_label(json_t *o, const char *label)
{
    if (label)
        json_object_set_new(o, "label", json_string(label));
}

static void set_day(json_t *o, const char *key, int32_t day)
{
    char buf[11];
    kz_day_format(day, buf);
    json_object_set_new(o, key, buf[0] ? json_string(buf) : json_null());
}

static void set_opt(json_t *o, const char *key, const char *s)
{
    if (s)
        json_object_set_new(o, key, json_string(s));
}

static json_t *relation_json(const struct kz_alliance *a, const struct kz_relation *r)
{
    json_t *o = json_object();
    const struct kz_command *f = kz_alliance_command(a, r->from);

    json_object_set_new(o, "type", json_string(kz_rel_type_name(r->type)));
    json_object_set_new(o, "from", json_string(r->from));
    if (f)
        json_object_set_new(o, "from_name", json_string(f->name));
    json_object_set_new(o, "to", json_string(r->to));
    set_opt(o, "granted_by", r->granted_by);
    set_opt(o, "scope", r->scope);
    set_opt(o, "directive", r->directive);
    set_day(o, "valid_from", r->valid_from);
    set_day(o, "valid_to", r->valid_to);
    kz__json_label(o, r->label);
    return o;
}

static json_t *command_json(const struct kz_command *c, int32_t day)
{
    json_t *o = json_object();
    const struct kz_phase *ph = kz_command_phase(c, day);
    const struct kz_commander *cdr = kz_command_commander(c, day);

    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "nation", json_string(c->nation));
    json_object_set_new(o, "service", json_string(c->service));
    json_object_set_new(o, "kind", json_string(c->kind));
    set_opt(o, "echelon", c->echelon);
    set_opt(o, "hq", c->hq);
    json_object_set_new(o, "lat", json_real(c->lat));
    json_object_set_new(o, "lon", json_real(c->lon));
    json_object_set_new(o, "tz", json_string(c->tz));
    set_opt(o, "aor", c->aor);
    set_opt(o, "part_of", c->part_of);
    if (cdr) {
        json_t *k = json_object();
        json_object_set_new(k, "name", json_string(cdr->name));
        json_object_set_new(k, "rank", json_string(cdr->rank));
        json_object_set_new(o, "commander", k);
    }
    if (ph) {
        json_object_set_new(o, "phase", json_string(ph->name));
        set_opt(o, "phase_note", ph->note);
    }
    kz__json_label(o, c->label);
    return o;
}

bool kz_alliance_is_under(const struct kz_alliance *a, const char *unit, const char *command,
                          int32_t day)
{
    return kz__is_above(a, command, unit, day);
}

/* ---- chain ------------------------------------------------------------------- */

static json_t *chain_of(const struct kz_alliance *a, const char *unit, enum kz_rel_type t,
                        int32_t day, struct kz_alliance_view *v)
{
    json_t *arr = json_array();
    const char *cur = unit;

    /* Up the same relation type, then on up the operational chain of the holder. */
    for (unsigned steps = 0; cur && steps <= a->n_commands; steps++) {
        const struct kz_relation *r = steps == 0 || t == KZ_REL_ADCON
                                          ? kz_alliance_holder(a, cur, t, day)
                                          : kz__superior(a, cur, day);
        if (!r || !rel_visible(a, v, r))
            break;
        json_array_append_new(arr, relation_json(a, r));
        cur = r->from;
    }
    return arr;
}

int kz_alliance_chain(const struct kz_alliance *a, const char *unit, int32_t day,
                      struct kz_alliance_view *v, json_t **out)
{
    static const enum kz_rel_type types[] = {KZ_REL_COCOM, KZ_REL_OPCON, KZ_REL_TACON,
                                             KZ_REL_ADCON};
    const struct kz_command *c = kz_alliance_command(a, unit);

    if (!c || !kz__visible(v, c->label, &c->lab))
        return KZ_ERR_NOTFOUND;
    json_t *o = json_object(), *chains = json_object(), *support = json_array();
    json_object_set_new(o, "unit", command_json(c, day));
    set_day(o, "date", day);
    json_object_set_new(o, "exists", json_boolean(kz_day_in(c->valid_from, c->valid_to, day)));
    for (unsigned i = 0; i < KZ_ARRAY_LEN(types); i++)
        json_object_set_new(chains, kz_rel_type_name(types[i]),
                            chain_of(a, unit, types[i], day, v));
    for (unsigned i = 0; i < a->n_relations; i++) {
        const struct kz_relation *r = &a->relations[i];
        if (kz_rel_is_support(r->type) && strcmp(r->from, unit) == 0 &&
            kz_day_in(r->valid_from, r->valid_to, day) && rel_visible(a, v, r))
            json_array_append_new(support, relation_json(a, r));
    }
    json_object_set_new(chains, "SUPPORTING", support);
    json_object_set_new(o, "chains", chains);
    *out = o;
    return KZ_OK;
}

/* ---- can-task ----------------------------------------------------------------- */

/* Relations that let their holder task: COCOM, OPCON, TACON and national command. */
static bool tasking(enum kz_rel_type t)
{
    return t <= KZ_REL_TACON || t == KZ_REL_NATIONAL;
}

/* Breadth-first search upwards from b over tasking relations; NULL-terminated path. */
static bool task_path(const struct kz_alliance *a, const char *from, const char *b, int32_t day,
                      struct kz_alliance_view *v, json_t *path)
{
    unsigned n = a->n_relations;
    int *prev = kz_xcalloc(n + 1, sizeof(int));
    const char **node = kz_xcalloc(n + 1, sizeof(char *));
    int *via = kz_xcalloc(n + 1, sizeof(int));
    unsigned head = 0, tail = 0;
    int hit = -1;

    node[tail] = b, prev[tail] = -1, via[tail++] = -1;
    while (head < tail && hit < 0) {
        unsigned cur = head++;
        for (unsigned i = 0; i < n && hit < 0 && tail < n; i++) {
            const struct kz_relation *r = &a->relations[i];
            if (!tasking(r->type) || strcmp(r->to, node[cur]) != 0 ||
                !kz_day_in(r->valid_from, r->valid_to, day) || !rel_visible(a, v, r))
                continue;
            node[tail] = r->from, prev[tail] = (int)cur, via[tail] = (int)i;
            if (strcmp(r->from, from) == 0)
                hit = (int)tail;
            tail++;
        }
    }
    for (int k = hit; k >= 0 && via[k] >= 0; k = prev[k])
        json_array_insert_new(path, 0, relation_json(a, &a->relations[via[k]]));
    free(prev);
    free(node);
    free(via);
    return hit >= 0;
}

static const struct kz_relation *direct_support(const struct kz_alliance *a, const char *from,
                                                const char *b, int32_t day)
{
    for (unsigned i = 0; i < a->n_relations; i++) {
        const struct kz_relation *r = &a->relations[i];
        if (r->type == KZ_REL_SUPPORT_DS && strcmp(r->from, b) == 0 && strcmp(r->to, from) == 0 &&
            kz_day_in(r->valid_from, r->valid_to, day))
            return r;
    }
    return NULL;
}

/* The explanation when no path exists. */
static void why_not(const struct kz_alliance *a, const struct kz_command *x,
                    const struct kz_command *y, int32_t day, json_t *o)
{
    char buf[400];

    if (!kz_day_in(x->valid_from, x->valid_to, day) || !kz_day_in(y->valid_from, y->valid_to, day))
        snprintf(buf, sizeof(buf), "%s does not exist on that date",
                 kz_day_in(x->valid_from, x->valid_to, day) ? y->id : x->id);
    else if (strcmp(x->nation, y->nation) != 0 && a->mode == KZ_MODE_PARALLEL)
        snprintf(buf, sizeof(buf),
                 "%s (%s) and %s (%s) are in separate national chains (parallel mode): "
                 "coordinate through counterparts or the coordination forums, never task",
                 x->id, x->nation, y->id, y->nation);
    else
        snprintf(buf, sizeof(buf),
                 "%s holds no COCOM, OPCON or TACON over %s on that date, directly or "
                 "through subordinates, and %s is not in direct support of it",
                 x->id, y->id, y->id);
    json_object_set_new(o, "reason", json_string(buf));
    for (unsigned i = 0; i < a->n_relations; i++) {
        const struct kz_relation *r = &a->relations[i];
        if (tasking(r->type) && strcmp(r->from, x->id) == 0 && strcmp(r->to, y->id) == 0 &&
            !kz_day_in(r->valid_from, r->valid_to, day)) {
            json_object_set_new(o, "other_dates", relation_json(a, r));
            break;
        }
    }
}

int kz_alliance_can_task(const struct kz_alliance *a, const char *a_id, const char *b_id,
                         int32_t day, struct kz_alliance_view *v, json_t **out)
{
    const struct kz_command *x = kz_alliance_command(a, a_id), *y = kz_alliance_command(a, b_id);
    const struct kz_relation *ds;

    if (!x || !y || !kz__visible(v, x->label, &x->lab) || !kz__visible(v, y->label, &y->lab))
        return KZ_ERR_NOTFOUND;
    json_t *o = json_object(), *path = json_array();
    json_object_set_new(o, "from", json_string(a_id));
    json_object_set_new(o, "to", json_string(b_id));
    set_day(o, "date", day);
    bool ok = kz_day_in(x->valid_from, x->valid_to, day) &&
              kz_day_in(y->valid_from, y->valid_to, day) && task_path(a, a_id, b_id, day, v, path);
    if (!ok && (ds = direct_support(a, a_id, b_id, day)) != NULL && rel_visible(a, v, ds)) {
        json_array_append_new(path, relation_json(a, ds));
        json_object_set_new(o, "basis", json_string("direct support: may answer requests"));
        ok = true;
    }
    json_object_set_new(o, "allowed", json_boolean(ok));
    json_object_set_new(o, "path", path);
    if (!ok)
        why_not(a, x, y, day, o);
    *out = o;
    return KZ_OK;
}

/* ---- counterpart, forums --------------------------------------------------------- */

int kz_alliance_counterpart(const struct kz_alliance *a, const char *unit, int32_t day,
                            struct kz_alliance_view *v, json_t **out)
{
    const struct kz_command *c = kz_alliance_command(a, unit);

    if (!c || !kz__visible(v, c->label, &c->lab))
        return KZ_ERR_NOTFOUND;
    json_t *o = json_object(), *cp = json_array(), *li = json_array();
    json_object_set_new(o, "unit", command_json(c, day));
    set_day(o, "date", day);
    for (unsigned i = 0; i < a->n_relations; i++) {
        const struct kz_relation *r = &a->relations[i];
        if ((r->type != KZ_REL_COUNTERPART && r->type != KZ_REL_LIAISON) ||
            (strcmp(r->from, unit) != 0 && strcmp(r->to, unit) != 0) ||
            !kz_day_in(r->valid_from, r->valid_to, day) || !rel_visible(a, v, r))
            continue;
        const struct kz_command *other =
            kz_alliance_command(a, strcmp(r->from, unit) == 0 ? r->to : r->from);
        json_t *e = command_json(other, day);
        json_object_set_new(e, "relation", relation_json(a, r));
        json_array_append_new(r->type == KZ_REL_COUNTERPART ? cp : li, e);
    }
    json_object_set_new(o, "counterparts", cp);
    json_object_set_new(o, "liaison", li);
    *out = o;
    return KZ_OK;
}

static json_t *strv_json(char **v, unsigned n)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(arr, json_string(v[i]));
    return arr;
}

json_t *kz_alliance_forums(const struct kz_alliance *a, int32_t day, struct kz_alliance_view *v)
{
    json_t *o = json_object(), *arr = json_array();

    set_day(o, "date", day);
    for (unsigned i = 0; i < a->n_forums; i++) {
        const struct kz_forum *f = &a->forums[i];
        if (!kz_day_in(f->valid_from, f->valid_to, day) || !kz__visible(v, f->label, &f->lab))
            continue;
        json_t *e = json_object();
        json_object_set_new(e, "id", json_string(f->id));
        json_object_set_new(e, "name", json_string(f->name));
        set_opt(e, "parent", f->parent);
        json_object_set_new(e, "state", json_string(f->state));
        set_opt(e, "site", f->site);
        json_t *members = json_array();
        for (unsigned m = 0; m < f->n_members; m++) {
            const struct kz_command *c = kz_alliance_command(a, f->members[m]);
            if (c && kz__visible(v, c->label, &c->lab))
                json_array_append_new(members, json_string(c->id));
        }
        json_object_set_new(e, "members", members);
        json_object_set_new(e, "agencies", strv_json(f->agencies, f->n_agencies));
        if (f->n_linked)
            json_object_set_new(e, "linked", strv_json(f->linked, f->n_linked));
        kz__json_label(e, f->label);
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "forums", arr);
    return o;
}

/* Agreements in force on `day`; they are public texts, so no label. */
static json_t *agreements_json(const struct kz_alliance *a, int32_t day)
{
    json_t *arr = json_array();

    for (unsigned i = 0; i < a->n_agreements; i++) {
        const struct kz_agreement *g = &a->agreements[i];
        if (!kz_day_in(g->valid_from, g->valid_to, day))
            continue;
        json_t *e = json_object();
        json_object_set_new(e, "id", json_string(g->id));
        json_object_set_new(e, "name", json_string(g->name));
        json_object_set_new(e, "parties", strv_json(g->parties, g->n_parties));
        set_day(e, "signed", g->signed_on);
        set_day(e, "valid_from", g->valid_from);
        set_day(e, "valid_to", g->valid_to);
        json_array_append_new(arr, e);
    }
    return arr;
}

/* ---- show: each nation's commands as a tree by operational superior ---------------- */

static json_t *subtree(const struct kz_alliance *a, const struct kz_command *c, int32_t day,
                       struct kz_alliance_view *v, unsigned depth)
{
    json_t *o = command_json(c, day), *kids = json_array();

    for (unsigned i = 0; depth < a->n_commands && i < a->n_commands; i++) {
        const struct kz_command *k = &a->commands[i];
        const struct kz_relation *up = kz__superior(a, k->id, day);
        if (!up || strcmp(up->from, c->id) != 0 || !kz_day_in(k->valid_from, k->valid_to, day) ||
            !kz__visible(v, k->label, &k->lab))
            continue;
        json_t *kid = subtree(a, k, day, v, depth + 1);
        json_object_set_new(kid, "relation", json_string(kz_rel_type_name(up->type)));
        json_array_append_new(kids, kid);
    }
    json_object_set_new(o, "subordinates", kids);
    return o;
}

json_t *kz_alliance_show(const struct kz_alliance *a, int32_t day, struct kz_alliance_view *v)
{
    json_t *o = json_object(), *nations = json_array(), *rels = json_array();

    json_object_set_new(o, "name", json_string(a->name));
    json_object_set_new(o, "mode", json_string(kz_alliance_mode_name(a->mode)));
    set_day(o, "date", day);
    for (unsigned n = 0; n < a->n_nations; n++) {
        json_t *e = json_object(), *roots = json_array();
        json_object_set_new(e, "code", json_string(a->nations[n].code));
        json_object_set_new(e, "name", json_string(a->nations[n].name));
        json_object_set_new(e, "tz", json_string(a->nations[n].tz));
        for (unsigned i = 0; i < a->n_commands; i++) {
            const struct kz_command *c = &a->commands[i];
            if (strcmp(c->nation, a->nations[n].code) == 0 && !kz__superior(a, c->id, day) &&
                kz_day_in(c->valid_from, c->valid_to, day) && kz__visible(v, c->label, &c->lab))
                json_array_append_new(roots, subtree(a, c, day, v, 0));
        }
        json_object_set_new(e, "commands", roots);
        json_array_append_new(nations, e);
    }
    for (unsigned i = 0; i < a->n_relations; i++) {
        const struct kz_relation *r = &a->relations[i];
        if (kz_day_in(r->valid_from, r->valid_to, day) && rel_visible(a, v, r))
            json_array_append_new(rels, relation_json(a, r));
    }
    json_object_set_new(o, "nations", nations);
    json_object_set_new(o, "relations", rels);
    json_t *fo = kz_alliance_forums(a, day, v);
    json_object_set(o, "forums", json_object_get(fo, "forums"));
    json_decref(fo);
    json_object_set_new(o, "agreements", agreements_json(a, day));
    return o;
}
