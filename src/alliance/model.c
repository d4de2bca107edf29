/* model.c - names, dates, lookups and freeing of the alliance model. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alliance/internal.h"

static const char *const rel_names[KZ_REL__COUNT] = {
    [KZ_REL_COCOM] = "COCOM",
    [KZ_REL_OPCON] = "OPCON",
    [KZ_REL_TACON] = "TACON",
    [KZ_REL_ADCON] = "ADCON",
    [KZ_REL_SUPPORT_GS] = "SUPPORT_GS",
    [KZ_REL_SUPPORT_DS] = "SUPPORT_DS",
    [KZ_REL_SUPPORT_MUTUAL] = "SUPPORT_MUTUAL",
    [KZ_REL_SUPPORT_CLOSE] = "SUPPORT_CLOSE",
    [KZ_REL_COORD_AUTH] = "COORD_AUTH",
    [KZ_REL_DIRLAUTH] = "DIRLAUTH",
    [KZ_REL_COUNTERPART] = "COUNTERPART",
    [KZ_REL_LIAISON] = "LIAISON",
    [KZ_REL_NATIONAL] = "NATIONAL_COMMAND",
};

const char *kz_rel_type_name(enum kz_rel_type t)
{
    return (unsigned)t < KZ_REL__COUNT ? rel_names[t] : "?";
}

int kz_rel_type_parse(const char *s, enum kz_rel_type *out)
{
    for (unsigned i = 0; i < KZ_REL__COUNT; i++)
        if (strcasecmp(s, rel_names[i]) == 0) {
            *out = (enum kz_rel_type)i;
            return KZ_OK;
        }
    return KZ_ERR_PARSE;
}

const char *kz_alliance_mode_name(enum kz_alliance_mode m)
{
    switch (m) {
    case KZ_MODE_PARALLEL:
        return "parallel";
    case KZ_MODE_LEAD_NATION:
        return "lead-nation";
    case KZ_MODE_INTEGRATED:
        return "integrated";
    }
    return "?";
}

bool kz_rel_is_command(enum kz_rel_type t)
{
    return t <= KZ_REL_ADCON || t == KZ_REL_NATIONAL;
}

bool kz_rel_is_support(enum kz_rel_type t)
{
    return t >= KZ_REL_SUPPORT_GS && t <= KZ_REL_SUPPORT_CLOSE;
}

/* ---- dates ---------------------------------------------------------------- */

static bool num(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

int kz_day_parse(const char *s, int32_t *out)
{
    static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t len = strlen(s);
    unsigned y, m, d;

    if (len < 10 || (len > 10 && s[10] != 'T') || s[4] != '-' || s[7] != '-')
        return KZ_ERR_PARSE;
    if (!num(s, 4, &y) || !num(s + 5, 2, &m) || !num(s + 8, 2, &d))
        return KZ_ERR_PARSE;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return KZ_ERR_PARSE;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return KZ_ERR_PARSE;
    *out = (int32_t)kz_days_from_civil(y, m, d);
    return KZ_OK;
}

void kz_day_format(int32_t day, char buf[static 11])
{
    int64_t y;
    unsigned m, d;

    if (day == KZ_DAY_MIN || day == KZ_DAY_MAX) {
        buf[0] = '\0';
        return;
    }
    kz_civil_from_days(day, &y, &m, &d);
    snprintf(buf, 11, "%04d-%02u-%02u", (int)y, m % 100, d % 100);
}

int32_t kz_day_of_us(int64_t us)
{
    int64_t s = us / 1000000 - (us % 1000000 < 0);
    return (int32_t)(s / 86400 - (s % 86400 < 0));
}

/* ---- lookups -------------------------------------------------------------- */

const struct kz_command *kz_alliance_command(const struct kz_alliance *a, const char *id)
{
    for (unsigned i = 0; id && i < a->n_commands; i++)
        if (strcmp(a->commands[i].id, id) == 0)
            return &a->commands[i];
    return NULL;
}

const struct kz_nation *kz_alliance_nation(const struct kz_alliance *a, const char *code)
{
    for (unsigned i = 0; code && i < a->n_nations; i++)
        if (strcmp(a->nations[i].code, code) == 0)
            return &a->nations[i];
    return NULL;
}

const struct kz_phase *kz_command_phase(const struct kz_command *c, int32_t day)
{
    for (unsigned i = 0; i < c->n_phases; i++)
        if (kz_day_in(c->phases[i].valid_from, c->phases[i].valid_to, day))
            return &c->phases[i];
    return NULL;
}

const struct kz_commander *kz_command_commander(const struct kz_command *c, int32_t day)
{
    for (unsigned i = 0; i < c->n_commanders; i++)
        if (kz_day_in(c->commanders[i].valid_from, c->commanders[i].valid_to, day))
            return &c->commanders[i];
    return NULL;
}

const struct kz_relation *kz_alliance_holder(const struct kz_alliance *a, const char *id,
                                             enum kz_rel_type type, int32_t day)
{
    for (unsigned i = 0; i < a->n_relations; i++) {
        const struct kz_relation *r = &a->relations[i];
        if (r->type == type && strcmp(r->to, id) == 0 && kz_day_in(r->valid_from, r->valid_to, day))
            return r;
    }
    return NULL;
}

/* ---- diagnostics ---------------------------------------------------------- */

void kz__diag(struct kz_alliance_diag *d, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    char msg[512];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kz_sbuf_addf(&d->text, "%s:%d: %s\n", file, line, msg);
    d->count++;
}

void kz_alliance_diag_release(struct kz_alliance_diag *d)
{
    kz_sbuf_release(&d->text);
    d->count = 0;
}

/* ---- freeing -------------------------------------------------------------- */

static void free_strv(char **v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_command(struct kz_command *c)
{
    free(c->id);
    free(c->name);
    free(c->nation);
    free(c->service);
    free(c->kind);
    free(c->echelon);
    free(c->hq);
    free(c->tz);
    free(c->aor);
    free(c->part_of);
    free(c->label);
    for (unsigned i = 0; i < c->n_phases; i++) {
        free(c->phases[i].name);
        free(c->phases[i].note);
    }
    free(c->phases);
    for (unsigned i = 0; i < c->n_commanders; i++) {
        free(c->commanders[i].name);
        free(c->commanders[i].rank);
    }
    free(c->commanders);
}

static void free_forum(struct kz_forum *f)
{
    free(f->id);
    free(f->name);
    free(f->parent);
    free(f->state);
    free(f->site);
    free(f->label);
    free_strv(f->members, f->n_members);
    free_strv(f->agencies, f->n_agencies);
    free_strv(f->linked, f->n_linked);
}

static void free_nation(struct kz_nation *n)
{
    free(n->code);
    free(n->name);
    free(n->tz);
    free(n->top);
    free(n->lead);
    free(n->apex);
}

static void free_relation(struct kz_relation *r)
{
    free(r->from);
    free(r->to);
    free(r->granted_by);
    free(r->scope);
    free(r->directive);
    free(r->label);
}

static void free_plan_rules(struct kz_alliance *a)
{
    for (unsigned i = 0; i < a->n_approvers; i++) {
        free(a->approvers[i].nation);
        free(a->approvers[i].command);
        free_strv(a->approvers[i].kinds, a->approvers[i].n_kinds);
    }
    free(a->approvers);
    for (unsigned i = 0; i < a->n_agreements; i++) {
        free(a->agreements[i].id);
        free(a->agreements[i].name);
        free_strv(a->agreements[i].parties, a->agreements[i].n_parties);
    }
    free(a->agreements);
    for (unsigned i = 0; i < a->n_consultations; i++) {
        struct kz_consultation *c = &a->consultations[i];
        for (unsigned t = 0; t < c->n_triggers; t++) {
            free(c->triggers[t].flag);
            free_strv(c->triggers[t].except, c->triggers[t].n_except);
        }
        free(c->triggers);
        free(c->name);
        free(c->authority);
    }
    free(a->consultations);
}

void kz_alliance_free(struct kz_alliance *a)
{
    if (!a)
        return;
    for (unsigned i = 0; i < a->n_nations; i++)
        free_nation(&a->nations[i]);
    for (unsigned i = 0; i < a->n_commands; i++)
        free_command(&a->commands[i]);
    for (unsigned i = 0; i < a->n_relations; i++)
        free_relation(&a->relations[i]);
    for (unsigned i = 0; i < a->n_forums; i++)
        free_forum(&a->forums[i]);
    free_plan_rules(a);
    free(a->nations);
    free(a->commands);
    free(a->relations);
    free(a->forums);
    free(a->file);
    free(a->name);
    free(a);
}
