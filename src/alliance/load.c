/*
 * load.c - the alliance YAML file into struct kz_alliance.
 *
 * libyaml's document API keeps the line of every node, so each problem can
 * be reported as file:line.  The shape is table-driven: one row per key with
 * its type and offset, as for the server configuration.  Loading never stops
 * at the first problem: a staff officer fixing the file wants the whole list.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "alliance/internal.h"

struct ld {
    yaml_document_t doc;
    const char *file;
    struct kz_alliance_diag *d;
    const struct kz_label_policy *policy;
};

enum ftype { F_STR, F_FROM, F_TO, F_UINT, F_DOUBLE, F_DUTY, F_STRV, F_REL, F_PHASES };

struct field {
    const char *name;
    enum ftype type;
    size_t off;
    size_t count_off; /* F_STRV, F_PHASES */
    bool required;
};

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static yaml_node_t *node(struct ld *ld, yaml_node_item_t i)
{
    return yaml_document_get_node(&ld->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool want_scalar(struct ld *ld, const yaml_node_t *n, const char *key, const char **out)
{
    *out = scalar(n);
    if (!*out)
        kz__diag(ld->d, ld->file, line_of(n), "'%s' must be a scalar", key);
    return *out != NULL;
}

static void set_strv(struct ld *ld, const yaml_node_t *n, const char *key, char ***v,
                     unsigned *count)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        kz__diag(ld->d, ld->file, line_of(n), "'%s' must be a list", key);
        return;
    }
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    *v = kz_xcalloc(len ? len : 1, sizeof(char *));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        const char *s;
        if (want_scalar(ld, node(ld, *it), key, &s))
            (*v)[(*count)++] = kz_xstrdup(s);
    }
}

static void set_uint(struct ld *ld, const yaml_node_t *n, const char *key, const char *s,
                     unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *s == '-' || *s == '\0' || *end || v > 100000)
        kz__diag(ld->d, ld->file, line_of(n), "'%s' must be a whole number 0..100000", key);
    else
        *out = (unsigned)v;
}

static void set_double(struct ld *ld, const yaml_node_t *n, const char *key, const char *s,
                       double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end)
        kz__diag(ld->d, ld->file, line_of(n), "'%s' must be a number", key);
    else
        *out = v;
}

static void load_phases(struct ld *ld, const yaml_node_t *n, void *obj, const struct field *f);

static void set_field(struct ld *ld, const yaml_node_t *n, void *obj, const struct field *f)
{
    char *p = (char *)obj + f->off;
    const char *s = NULL;

    if (f->type == F_STRV) {
        set_strv(ld, n, f->name, (char ***)(void *)p,
                 (unsigned *)(void *)((char *)obj + f->count_off));
        return;
    }
    if (f->type == F_PHASES) {
        load_phases(ld, n, obj, f);
        return;
    }
    if (!want_scalar(ld, n, f->name, &s))
        return;
    switch (f->type) {
    case F_STR:
        *(char **)(void *)p = kz_xstrdup(s);
        break;
    case F_FROM:
    case F_TO:
        if (kz_day_parse(s, (int32_t *)(void *)p) != KZ_OK)
            kz__diag(ld->d, ld->file, line_of(n), "'%s': bad date '%s' (want YYYY-MM-DD)", f->name,
                     s);
        break;
    case F_UINT:
        set_uint(ld, n, f->name, s, (unsigned *)(void *)p);
        break;
    case F_DOUBLE:
        set_double(ld, n, f->name, s, (double *)(void *)p);
        break;
    case F_DUTY:
        if (kz__duty_parse(s, (struct kz_duty *)(void *)p) != KZ_OK)
            kz__diag(ld->d, ld->file, line_of(n),
                     "'duty': bad duty hours '%s' (want \"HH:MM-HH:MM Mon-Fri\" or \"24/7\")", s);
        break;
    case F_REL:
        if (kz_rel_type_parse(s, (enum kz_rel_type *)(void *)p) != KZ_OK)
            kz__diag(ld->d, ld->file, line_of(n), "unknown relationship type '%s'", s);
        break;
    default:
        break;
    }
}

/*
 * Fill `obj` from mapping `n` by `fields`.  Unknown and repeated keys and
 * missing required ones are reported.
 */
static void load_map(struct ld *ld, const yaml_node_t *n, const char *what, void *obj,
                     const struct field *fields, size_t nf)
{
    bool seen[32] = {false};

    KZ_ASSERT(nf <= KZ_ARRAY_LEN(seen));
    if (n->type != YAML_MAPPING_NODE) {
        kz__diag(ld->d, ld->file, line_of(n), "%s must be a mapping", what);
        return;
    }
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const yaml_node_t *k = node(ld, pr->key), *v = node(ld, pr->value);
        const char *key = scalar(k);
        size_t i;
        for (i = 0; key && i < nf && strcmp(fields[i].name, key) != 0; i++)
            ;
        if (!key || i == nf) {
            kz__diag(ld->d, ld->file, line_of(k), "unknown key '%s' in %s", key ? key : "?", what);
            continue;
        }
        if (seen[i]) {
            kz__diag(ld->d, ld->file, line_of(k), "key '%s' repeated in %s", key, what);
            continue;
        }
        seen[i] = true;
        set_field(ld, v, obj, &fields[i]);
    }
    for (size_t i = 0; i < nf; i++)
        if (fields[i].required && !seen[i])
            kz__diag(ld->d, ld->file, line_of(n), "%s: missing '%s'", what, fields[i].name);
}

#define FLD(s, name, type, req)                                                                    \
    {                                                                                              \
#name, type, offsetof(struct s, name), 0, req                                              \
    }
#define FLDV(s, name, req)                                                                         \
    {                                                                                              \
#name, F_STRV, offsetof(struct s, name), offsetof(struct s, n_##name), req                 \
    }

static const struct field phase_fields[] = {
    FLD(kz_phase, name, F_STR, true),
    FLD(kz_phase, note, F_STR, false),
    FLD(kz_phase, valid_from, F_FROM, false),
    FLD(kz_phase, valid_to, F_TO, false),
};

static const struct field nation_fields[] = {
    FLD(kz_nation, code, F_STR, true),  FLD(kz_nation, name, F_STR, true),
    FLD(kz_nation, tz, F_STR, true),    FLD(kz_nation, top, F_STR, false),
    FLD(kz_nation, lead, F_STR, false),
};

static const struct field command_fields[] = {
    FLD(kz_command, id, F_STR, true),
    FLD(kz_command, name, F_STR, true),
    FLD(kz_command, nation, F_STR, true),
    FLD(kz_command, service, F_STR, true),
    FLD(kz_command, kind, F_STR, true),
    FLD(kz_command, echelon, F_STR, false),
    FLD(kz_command, hq, F_STR, false),
    FLD(kz_command, lat, F_DOUBLE, false),
    FLD(kz_command, lon, F_DOUBLE, false),
    FLD(kz_command, tz, F_STR, true),
    FLD(kz_command, duty, F_DUTY, false),
    FLD(kz_command, handling_min, F_UINT, false),
    FLD(kz_command, valid_from, F_FROM, false),
    FLD(kz_command, valid_to, F_TO, false),
    {"phases", F_PHASES, offsetof(struct kz_command, phases), offsetof(struct kz_command, n_phases),
     false},
    FLD(kz_command, label, F_STR, false),
};

static const struct field relation_fields[] = {
    FLD(kz_relation, type, F_REL, true),         FLD(kz_relation, from, F_STR, true),
    FLD(kz_relation, to, F_STR, true),           FLD(kz_relation, granted_by, F_STR, false),
    FLD(kz_relation, scope, F_STR, false),       FLD(kz_relation, directive, F_STR, false),
    FLD(kz_relation, valid_from, F_FROM, false), FLD(kz_relation, valid_to, F_TO, false),
    FLD(kz_relation, label, F_STR, false),
};

static const struct field forum_fields[] = {
    FLD(kz_forum, id, F_STR, true),           FLD(kz_forum, name, F_STR, true),
    FLD(kz_forum, parent, F_STR, false),      FLD(kz_forum, state, F_STR, true),
    FLD(kz_forum, site, F_STR, false),        FLDV(kz_forum, members, true),
    FLDV(kz_forum, agencies, false),          FLD(kz_forum, handling_min, F_UINT, false),
    FLD(kz_forum, valid_from, F_FROM, false), FLD(kz_forum, valid_to, F_TO, false),
    FLD(kz_forum, label, F_STR, false),
};

static const struct field approver_fields[] = {
    FLD(kz_approver, nation, F_STR, true),
    FLD(kz_approver, command, F_STR, true),
    FLDV(kz_approver, kinds, false),
};

struct top {
    char *name;
    char *mode;
    int mode_line;
    unsigned handling_min, relay_min, transit_min;
    unsigned stale_after_h;
};

static const struct field readiness_fields[] = {
    FLD(top, stale_after_h, F_UINT, false),
};

static const struct field latency_fields[] = {
    FLD(top, handling_min, F_UINT, false),
    FLD(top, relay_min, F_UINT, false),
    FLD(top, transit_min, F_UINT, false),
};

/* Open windows unless the file says otherwise. */
static void init_window(int32_t *from, int32_t *to)
{
    *from = KZ_DAY_MIN;
    *to = KZ_DAY_MAX;
}

/*
 * Load the list `n` into a new array of `size`-byte entries whose `line`
 * member is at `line_off`.  `init` prepares each entry before its fields.
 */
static void *load_list(struct ld *ld, const yaml_node_t *n, const char *what, size_t size,
                       const struct field *fields, size_t nf, unsigned *count,
                       void (*init)(void *obj, int line))
{
    if (n->type != YAML_SEQUENCE_NODE) {
        kz__diag(ld->d, ld->file, line_of(n), "'%s' must be a list", what);
        return NULL;
    }
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    char *arr = kz_xcalloc(len ? len : 1, size);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *item = node(ld, n->data.sequence.items.start[i]);
        char ctx[64];
        snprintf(ctx, sizeof(ctx), "%s entry", what);
        init(arr + i * size, line_of(item));
        load_map(ld, item, ctx, arr + i * size, fields, nf);
    }
    *count = (unsigned)len;
    return arr;
}

static void init_phase(void *o, int line)
{
    struct kz_phase *p = o;
    init_window(&p->valid_from, &p->valid_to);
    p->line = line;
}

static void init_nation(void *o, int line)
{
    ((struct kz_nation *)o)->line = line;
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
    ((struct kz_approver *)o)->line = line;
}

static void load_phases(struct ld *ld, const yaml_node_t *n, void *obj, const struct field *f)
{
    struct kz_phase **ph = (struct kz_phase **)(void *)((char *)obj + f->off);
    unsigned *cnt = (unsigned *)(void *)((char *)obj + f->count_off);

    *ph = load_list(ld, n, "phases", sizeof(**ph), phase_fields, KZ_ARRAY_LEN(phase_fields), cnt,
                    init_phase);
}

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

static void parse_labels(struct ld *ld, struct kz_alliance *a)
{
    for (unsigned i = 0; i < a->n_commands; i++)
        parse_label(ld, a->commands[i].label, &a->commands[i].lab, a->commands[i].nation,
                    a->commands[i].line);
    for (unsigned i = 0; i < a->n_relations; i++) {
        const struct kz_command *c = kz_alliance_command(a, a->relations[i].from);
        parse_label(ld, a->relations[i].label, &a->relations[i].lab, c ? c->nation : NULL,
                    a->relations[i].line);
    }
    for (unsigned i = 0; i < a->n_forums; i++)
        parse_label(ld, a->forums[i].label, &a->forums[i].lab, NULL, a->forums[i].line);
}

static void load_top_key(struct ld *ld, struct kz_alliance *a, struct top *t, const char *key,
                         const yaml_node_t *v, const yaml_node_t *k)
{
    if (strcmp(key, "name") == 0 || strcmp(key, "mode") == 0) {
        const char *s;
        if (want_scalar(ld, v, key, &s))
            *(key[0] == 'n' ? &t->name : &t->mode) = kz_xstrdup(s);
        if (key[0] == 'm')
            t->mode_line = line_of(v);
    } else if (strcmp(key, "latency") == 0) {
        load_map(ld, v, "latency", t, latency_fields, KZ_ARRAY_LEN(latency_fields));
    } else if (strcmp(key, "readiness") == 0) {
        load_map(ld, v, "readiness", t, readiness_fields, KZ_ARRAY_LEN(readiness_fields));
    } else if (strcmp(key, "nations") == 0) {
        a->nations = load_list(ld, v, "nations", sizeof(struct kz_nation), nation_fields,
                               KZ_ARRAY_LEN(nation_fields), &a->n_nations, init_nation);
    } else if (strcmp(key, "commands") == 0) {
        a->commands = load_list(ld, v, "commands", sizeof(struct kz_command), command_fields,
                                KZ_ARRAY_LEN(command_fields), &a->n_commands, init_command);
    } else if (strcmp(key, "relationships") == 0) {
        a->relations =
            load_list(ld, v, "relationships", sizeof(struct kz_relation), relation_fields,
                      KZ_ARRAY_LEN(relation_fields), &a->n_relations, init_relation);
    } else if (strcmp(key, "forums") == 0) {
        a->forums = load_list(ld, v, "forums", sizeof(struct kz_forum), forum_fields,
                              KZ_ARRAY_LEN(forum_fields), &a->n_forums, init_forum);
    } else if (strcmp(key, "approvers") == 0) {
        a->approvers = load_list(ld, v, "approvers", sizeof(struct kz_approver), approver_fields,
                                 KZ_ARRAY_LEN(approver_fields), &a->n_approvers, init_approver);
    } else {
        kz__diag(ld->d, ld->file, line_of(k), "unknown key '%s'", key);
    }
}

static void load_top(struct ld *ld, struct kz_alliance *a)
{
    yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
    struct top t = {NULL, NULL, 1, 120, 30, 15, 744};

    if (!root || root->type != YAML_MAPPING_NODE) {
        kz__diag(ld->d, ld->file, root ? line_of(root) : 1, "the file must be a mapping");
        return;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = node(ld, p->key);
        const char *key = scalar(k);
        load_top_key(ld, a, &t, key ? key : "?", node(ld, p->value), k);
    }
    a->name = t.name ? t.name : kz_xstrdup("alliance");
    a->handling_min = t.handling_min;
    a->relay_min = t.relay_min;
    a->transit_min = t.transit_min;
    a->readiness_stale_h = t.stale_after_h;
    if (!t.mode || strcmp(t.mode, "parallel") == 0)
        a->mode = KZ_MODE_PARALLEL;
    else if (strcmp(t.mode, "lead-nation") == 0)
        a->mode = KZ_MODE_LEAD_NATION;
    else if (strcmp(t.mode, "integrated") == 0)
        a->mode = KZ_MODE_INTEGRATED;
    else
        kz__diag(ld->d, ld->file, t.mode_line,
                 "mode must be parallel, lead-nation or integrated, not '%s'", t.mode);
    free(t.mode);
}

static int parse_file(struct ld *ld, FILE *f)
{
    yaml_parser_t parser;
    int rc = KZ_OK;

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &ld->doc)) {
        kz__diag(ld->d, ld->file, (int)parser.problem_mark.line + 1, "YAML: %s%s%s",
                 parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                 parser.context ? parser.context : "");
        rc = KZ_ERR_PARSE;
    }
    yaml_parser_delete(&parser);
    return rc;
}

int kz_alliance_load(const char *path, struct kz_alliance **out, struct kz_alliance_diag *diag)
{
    struct kz_label_policy *policy = kz_xmalloc(sizeof(*policy));
    struct ld ld = {.file = path, .d = diag, .policy = policy};
    struct kz_alliance *a = NULL;
    unsigned before = diag->count;
    FILE *f = fopen(path, "rb");
    int rc;

    *out = NULL;
    kz_label_policy_init_default(policy);
    if (!f) {
        kz_sbuf_addf(&diag->text, "%s: cannot open: %s\n", path, strerror(errno));
        diag->count++;
        free(policy);
        return KZ_ERR_IO;
    }
    rc = parse_file(&ld, f);
    fclose(f);
    if (rc != KZ_OK)
        goto out;
    a = kz_xcalloc(1, sizeof(*a));
    a->file = kz_xstrdup(path);
    load_top(&ld, a);
    yaml_document_delete(&ld.doc);
    parse_labels(&ld, a);
    if (diag->count != before) {
        rc = KZ_ERR_PARSE;
        goto out;
    }
    if (kz_alliance_validate(a, diag) != 0)
        rc = KZ_ERR_CONFIG;
out:
    free(policy);
    if (rc != KZ_OK)
        kz_alliance_free(a);
    else
        *out = a;
    return rc;
}
