/*
 * load.c - the alliance YAML file into struct kz_alliance.
 *
 * The shape is one row per key for the table-driven YAML loader
 * (core/yaml.h), as for the server configuration; dates, duty hours and
 * relationship types are CUSTOM fields.  Loading never stops at the first
 * problem: a staff officer fixing the file wants the whole list, each as
 * file:line.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alliance/internal.h"
#include "core/yaml.h"

struct ld {
    const char *file;
    struct kz_alliance_diag *d;
    const struct kz_label_policy *policy;
};

/* ---- CUSTOM fields ------------------------------------------------------ */

static void *field(void *obj, const struct kz_yaml_row *r)
{
    return (char *)obj + r->off;
}

static const char *key_of(const struct kz_yaml_row *r)
{
    const char *dot = strrchr(r->path, '.');
    return dot ? dot + 1 : r->path;
}

static void load_day(struct kz_yaml *y, const yaml_node_t *n, void *obj,
                     const struct kz_yaml_row *r)
{
    const char *s = kz_yaml_scalar(n);

    if (!s)
        kz_yaml_report(y, n, "'%s' must be a scalar", key_of(r));
    else if (kz_day_parse(s, field(obj, r)) != KZ_OK)
        kz_yaml_report(y, n, "'%s': bad date '%s' (want YYYY-MM-DD)", key_of(r), s);
}

static void load_duty(struct kz_yaml *y, const yaml_node_t *n, void *obj,
                      const struct kz_yaml_row *r)
{
    const char *s = kz_yaml_scalar(n);

    if (!s)
        kz_yaml_report(y, n, "'%s' must be a scalar", key_of(r));
    else if (kz__duty_parse(s, field(obj, r)) != KZ_OK)
        kz_yaml_report(y, n,
                       "'duty': bad duty hours '%s' (want \"HH:MM-HH:MM Mon-Fri\" or \"24/7\")", s);
}

static void load_rel(struct kz_yaml *y, const yaml_node_t *n, void *obj,
                     const struct kz_yaml_row *r)
{
    const char *s = kz_yaml_scalar(n);

    if (!s)
        kz_yaml_report(y, n, "'%s' must be a scalar", key_of(r));
    else if (kz_rel_type_parse(s, field(obj, r)) != KZ_OK)
        kz_yaml_report(y, n, "unknown relationship type '%s'", s);
}

/* true | false into an int (the field's "unset" value is the init's). */
static void load_bool(struct kz_yaml *y, const yaml_node_t *n, void *obj,
                      const struct kz_yaml_row *r)
{
    const char *s = kz_yaml_scalar(n);

    if (s && strcmp(s, "true") == 0)
        *(int *)field(obj, r) = 1;
    else if (s && strcmp(s, "false") == 0)
        *(int *)field(obj, r) = 0;
    else
        kz_yaml_report(y, n, "'%s' must be true or false", key_of(r));
}

static const struct kz_yaml_ops day_ops = {.load = load_day};
static const struct kz_yaml_ops bool_ops = {.load = load_bool};
static const struct kz_yaml_ops duty_ops = {.load = load_duty};
static const struct kz_yaml_ops rel_ops = {.load = load_rel};

/* ---- new entries ---------------------------------------------------------- */

/* Open windows unless the file says otherwise. */
static void init_window(int32_t *from, int32_t *to)
{
    *from = KZ_DAY_MIN;
    *to = KZ_DAY_MAX;
}

static void init_phase(void *o, int line)
{
    struct kz_phase *p = o;
    init_window(&p->valid_from, &p->valid_to);
    p->line = line;
}

static void init_nation(void *o, int line)
{
    struct kz_nation *n = o;
    n->cocom = -1;
    n->line = line;
}

static void init_commander(void *o, int line)
{
    struct kz_commander *c = o;
    init_window(&c->valid_from, &c->valid_to);
    c->line = line;
}

static void init_command(void *o, int line)
{
    struct kz_command *c = o;
    init_window(&c->valid_from, &c->valid_to);
    c->duty = (struct kz_duty){.always = true};
    c->line = line;
}

static void init_relation(void *o, int line)
{
    struct kz_relation *r = o;
    init_window(&r->valid_from, &r->valid_to);
    r->line = line;
}

static void init_forum(void *o, int line)
{
    struct kz_forum *f = o;
    init_window(&f->valid_from, &f->valid_to);
    f->line = line;
}

static void init_approver(void *o, int line)
{
    struct kz_approver *p = o;
    init_window(&p->valid_from, &p->valid_to);
    p->line = line;
}

static void init_agreement(void *o, int line)
{
    struct kz_agreement *g = o;
    init_window(&g->valid_from, &g->valid_to);
    g->signed_on = KZ_DAY_MIN;
    g->line = line;
}

static void init_consultation(void *o, int line)
{
    ((struct kz_consultation *)o)->line = line;
}

static void init_trigger(void *o, int line)
{
    ((struct kz_consult_trigger *)o)->line = line;
}

/* ---- the key table ---------------------------------------------------------- */

#define KZ_XSTR(x) #x
#define KZ_STR(x) KZ_XSTR(x)

#define RQ KZ_YAML_REQUIRED
#define S(p, st, m, fl)                                                                            \
    {                                                                                              \
        .path = p, .type = KZ_YAML_STR, .off = offsetof(st, m), .flags = fl                        \
    }
#define U(p, st, m, dflt)                                                                          \
    {                                                                                              \
        .path = p, .type = KZ_YAML_UINT, .off = offsetof(st, m), .def = dflt, .max = 100000        \
    }
#define D(p, st, m)                                                                                \
    {                                                                                              \
        .path = p, .type = KZ_YAML_DOUBLE, .off = offsetof(st, m)                                  \
    }
#define C(p, st, m, ops_, fl)                                                                      \
    {                                                                                              \
        .path = p, .type = KZ_YAML_CUSTOM, .off = offsetof(st, m), .ops = ops_, .flags = fl        \
    }
#define V(p, st, m, fl)                                                                            \
    {                                                                                              \
        .path = p, .type = KZ_YAML_STRV, .off = offsetof(st, m), .count_off = offsetof(st, n_##m), \
        .flags = fl                                                                                \
    }
#define L(p, st, m, cnt, entry, init_)                                                             \
    {                                                                                              \
        .path = p, .type = KZ_YAML_LIST, .off = offsetof(st, m), .count_off = offsetof(st, cnt),   \
        .size = sizeof(entry), .init = init_                                                       \
    }
#define WINDOW(p, st)                                                                              \
    C(p ".valid_from", st, valid_from, &day_ops, 0), C(p ".valid_to", st, valid_to, &day_ops, 0)

static const char *const modes[] = {"parallel", "lead-nation", "integrated", NULL};

_Static_assert(sizeof(enum kz_alliance_mode) == sizeof(int), "ENUM rows are stored as int");

#define A struct kz_alliance
#define NAT struct kz_nation
#define CMD struct kz_command
#define PH struct kz_phase
#define REL struct kz_relation
#define FOR struct kz_forum
#define APP struct kz_approver
#define CDR struct kz_commander
#define AGR struct kz_agreement
#define CON struct kz_consultation
#define TRG struct kz_consult_trigger

static const struct kz_yaml_row rows[] = {
    {.path = "name", .type = KZ_YAML_STR, .off = offsetof(A, name), .def = "alliance"},
    {.path = "mode",
     .type = KZ_YAML_ENUM,
     .off = offsetof(A, mode),
     .def = "parallel",
     .names = modes},
    {.path = "latency", .type = KZ_YAML_MAP},
    U("latency.handling_min", A, handling_min, "120"),
    U("latency.relay_min", A, relay_min, "30"),
    U("latency.transit_min", A, transit_min, "15"),
    {.path = "readiness", .type = KZ_YAML_MAP},
    U("readiness.stale_after_h", A, readiness_stale_h, KZ_STR(KZ_ALLIANCE_STALE_AFTER_H)),
    L("nations", A, nations, n_nations, NAT, init_nation),
    S("nations.code", NAT, code, RQ),
    S("nations.name", NAT, name, RQ),
    S("nations.tz", NAT, tz, RQ),
    S("nations.top", NAT, top, 0),
    S("nations.lead", NAT, lead, 0),
    S("nations.apex", NAT, apex, 0),
    C("nations.cocom", NAT, cocom, &bool_ops, 0),
    L("commands", A, commands, n_commands, CMD, init_command),
    S("commands.id", CMD, id, RQ),
    S("commands.name", CMD, name, RQ),
    S("commands.nation", CMD, nation, RQ),
    S("commands.service", CMD, service, RQ),
    S("commands.kind", CMD, kind, RQ),
    S("commands.echelon", CMD, echelon, 0),
    S("commands.hq", CMD, hq, 0),
    D("commands.lat", CMD, lat),
    D("commands.lon", CMD, lon),
    S("commands.tz", CMD, tz, RQ),
    S("commands.aor", CMD, aor, 0),
    S("commands.part_of", CMD, part_of, 0),
    C("commands.duty", CMD, duty, &duty_ops, 0),
    U("commands.handling_min", CMD, handling_min, NULL),
    WINDOW("commands", CMD),
    L("commands.phases", CMD, phases, n_phases, PH, init_phase),
    S("commands.phases.name", PH, name, RQ),
    S("commands.phases.note", PH, note, 0),
    WINDOW("commands.phases", PH),
    L("commands.commanders", CMD, commanders, n_commanders, CDR, init_commander),
    S("commands.commanders.name", CDR, name, RQ),
    S("commands.commanders.rank", CDR, rank, RQ),
    WINDOW("commands.commanders", CDR),
    S("commands.label", CMD, label, 0),
    L("relationships", A, relations, n_relations, REL, init_relation),
    C("relationships.type", REL, type, &rel_ops, RQ),
    S("relationships.from", REL, from, RQ),
    S("relationships.to", REL, to, RQ),
    S("relationships.granted_by", REL, granted_by, 0),
    S("relationships.scope", REL, scope, 0),
    S("relationships.directive", REL, directive, 0),
    WINDOW("relationships", REL),
    S("relationships.label", REL, label, 0),
    L("forums", A, forums, n_forums, FOR, init_forum),
    S("forums.id", FOR, id, RQ),
    S("forums.name", FOR, name, RQ),
    S("forums.parent", FOR, parent, 0),
    S("forums.state", FOR, state, RQ),
    S("forums.site", FOR, site, 0),
    V("forums.members", FOR, members, RQ),
    V("forums.agencies", FOR, agencies, 0),
    V("forums.linked", FOR, linked, 0),
    U("forums.handling_min", FOR, handling_min, NULL),
    WINDOW("forums", FOR),
    S("forums.label", FOR, label, 0),
    L("approvers", A, approvers, n_approvers, APP, init_approver),
    S("approvers.nation", APP, nation, RQ),
    S("approvers.command", APP, command, RQ),
    V("approvers.kinds", APP, kinds, RQ),
    WINDOW("approvers", APP),
    L("agreements", A, agreements, n_agreements, AGR, init_agreement),
    S("agreements.id", AGR, id, RQ),
    S("agreements.name", AGR, name, RQ),
    V("agreements.parties", AGR, parties, RQ),
    C("agreements.signed", AGR, signed_on, &day_ops, 0),
    WINDOW("agreements", AGR),
    L("consultation", A, consultations, n_consultations, CON, init_consultation),
    S("consultation.name", CON, name, RQ),
    S("consultation.authority", CON, authority, RQ),
    L("consultation.triggers", CON, triggers, n_triggers, TRG, init_trigger),
    S("consultation.triggers.flag", TRG, flag, RQ),
    V("consultation.triggers.except", TRG, except, 0),
};

static const struct kz_yaml_schema schema = {rows, KZ_ARRAY_LEN(rows)};

/* ---- labels and loading ------------------------------------------------------ */

/* Parse the labels written in the file, so every exit can filter by them. */
static void parse_label(struct ld *ld, const char *banner, struct kz_label *out, const char *nation,
                        int line)
{
    char err[200];

    if (!banner)
        return;
    if (kz_label_parse(ld->policy, banner, strlen(banner), out, err, sizeof(err)) != KZ_OK) {
        kz__diag(ld->d, ld->file, line, "bad label '%s': %s", banner, err);
        return;
    }
    out->originator = nation ? kz_nation_index(nation, strlen(nation)) : KZ_NATION_NONE;
}

/* The nation of command `id`; the model may lack required ids here (they are reported). */
static const char *nation_of(const struct kz_alliance *a, const char *id)
{
    for (unsigned i = 0; id && i < a->n_commands; i++)
        if (a->commands[i].id && strcmp(a->commands[i].id, id) == 0)
            return a->commands[i].nation;
    return NULL;
}

static void parse_labels(struct ld *ld, struct kz_alliance *a)
{
    for (unsigned i = 0; i < a->n_commands; i++)
        parse_label(ld, a->commands[i].label, &a->commands[i].lab, a->commands[i].nation,
                    a->commands[i].line);
    for (unsigned i = 0; i < a->n_relations; i++)
        parse_label(ld, a->relations[i].label, &a->relations[i].lab,
                    nation_of(a, a->relations[i].from), a->relations[i].line);
    for (unsigned i = 0; i < a->n_forums; i++)
        parse_label(ld, a->forums[i].label, &a->forums[i].lab, NULL, a->forums[i].line);
}

static void report(void *ud, int line, int col, const char *msg)
{
    struct ld *ld = ud;

    KZ_UNUSED(col); /* the alliance's messages are file:line, like its validator's */
    kz__diag(ld->d, ld->file, line, "%s", msg);
}

int kz_alliance_load_mem(const char *name, const char *text, size_t len,
                         const struct kz_label_policy *policy, struct kz_alliance **out,
                         struct kz_alliance_diag *diag)
{
    struct kz_label_policy *builtin = NULL;
    struct ld ld = {.file = name, .d = diag, .policy = policy};
    struct kz_yaml_opts o = {.report = report, .ud = &ld};
    struct kz_alliance *a = kz_xcalloc(1, sizeof(*a));
    unsigned before = diag->count;
    int rc;

    *out = NULL;
    if (!policy) {
        builtin = kz_xmalloc(sizeof(*builtin));
        kz_label_policy_init_default(builtin);
        ld.policy = builtin;
    }
    a->file = kz_xstrdup(name);
    rc = kz_yaml_load(&schema, text, len, a, &o);
    if (rc == KZ_ERR_PARSE)
        goto out;
    parse_labels(&ld, a);
    if (diag->count != before) {
        rc = KZ_ERR_PARSE;
        goto out;
    }
    rc = kz_alliance_validate(a, diag) != 0 ? KZ_ERR_CONFIG : KZ_OK;
out:
    free(builtin);
    if (rc != KZ_OK)
        kz_alliance_free(a);
    else
        *out = a;
    return rc;
}

int kz_alliance_load(const char *path, const struct kz_label_policy *policy,
                     struct kz_alliance **out, struct kz_alliance_diag *diag)
{
    char *text;
    size_t len;
    int rc = kz_yaml_read_file(path, &text, &len);

    *out = NULL;
    if (rc != KZ_OK) {
        kz_sbuf_addf(&diag->text, "%s: cannot open: %s\n", path,
                     rc == KZ_ERR_TOOBIG ? "too large" : strerror(errno));
        diag->count++;
        return KZ_ERR_IO;
    }
    rc = kz_alliance_load_mem(path, text, len, policy, out, diag);
    free(text);
    return rc;
}
