/*
 * body.c - the fields of a create or edit body and of an item, checked
 * one by one against the alliance model and the actor, with the changes
 * they make recorded for the revision's diff.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

int kz__plan_refuse(struct kz_plan_refusal *why, int status, const char *rule, const char *fmt, ...)
{
    va_list ap;

    why->status = status;
    why->rule = rule;
    va_start(ap, fmt);
    vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
    va_end(ap);
    return KZ_ERR_DENIED;
}

/* A bounded, non-empty string; NULL (and a refusal) otherwise. */
static const char *text(const json_t *v, const char *field, bool may_be_empty,
                        struct kz_plan_refusal *why)
{
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0;

    if (!s || (!may_be_empty && n == 0) || n > KZ_PLAN_TEXT_MAX || strlen(s) != n) {
        kz__plan_refuse(why, 400, NULL, "'%s' must be a string of 1 to %d bytes", field,
                        KZ_PLAN_TEXT_MAX);
        return NULL;
    }
    return s;
}

static int time_of(const json_t *v, const char *field, int64_t *us, struct kz_plan_refusal *why)
{
    const char *s = json_string_value(v);

    if (!s || kz_time_parse(s, strlen(s), us) != KZ_OK)
        return kz__plan_refuse(why, 400, NULL, "'%s' must be an ISO 8601 UTC time", field);
    return KZ_OK;
}

int kz__plan_label(const struct kz_plan_ctx *ctx, const char *banner, struct kz_label *out,
                   char **canonical, struct kz_plan_refusal *why)
{
    const char *nation = ctx->actor->nation;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char err[200];

    if (kz_label_parse(ctx->policy, banner, strlen(banner), out, err, sizeof(err)) != KZ_OK)
        return kz__plan_refuse(why, 400, NULL, "label: %s", err);
    if (out->originator == KZ_NATION_NONE)
        out->originator = kz_nation_index(nation, strlen(nation));
    if (!kz_may_release(out, ctx->who, NULL))
        return kz__plan_refuse(why, 403, NULL, "label '%s' is above what %s may see", banner,
                               ctx->actor->user);
    kz_label_format(ctx->policy, out, &sb);
    *canonical = kz_sbuf_detach(&sb, NULL);
    return KZ_OK;
}

/* ---- plan fields ------------------------------------------------------------ */

typedef int (*field_fn)(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                        struct kz_plan_refusal *why);

static int set_title(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                     struct kz_plan_refusal *why)
{
    const char *s = text(v, "title", false, why);

    (void)ctx;
    if (!s)
        return KZ_ERR_DENIED;
    kz__plan_set(&p->title, s);
    return KZ_OK;
}

static int set_kind(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                    struct kz_plan_refusal *why)
{
    (void)ctx;
    if (kz__plan_kind_parse(json_string_value(v), &p->kind) != KZ_OK)
        return kz__plan_refuse(why, 400, NULL, "'kind' must be exercise, operation or hadr");
    return KZ_OK;
}

static int set_legal_basis(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                           struct kz_plan_refusal *why)
{
    (void)ctx;
    if (!kz__plan_legal_basis_ok(json_string_value(v)))
        return kz__plan_refuse(why, 400, NULL,
                               "'legal_basis' must be article_v, article_vi, hadr, training or "
                               "other");
    kz__plan_set(&p->legal_basis, json_string_value(v));
    return KZ_OK;
}

/* A command the model knows and the actor may see (a hidden one is unknown). */
static bool command_known(const struct kz_plan_ctx *ctx, const char *id)
{
    const struct kz_command *c = id ? kz_alliance_command(ctx->alliance, id) : NULL;
    return c && (!c->label || kz_may_release(&c->lab, ctx->who, NULL));
}

static int set_lead(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                    struct kz_plan_refusal *why)
{
    const char *id = json_string_value(v);

    if (!command_known(ctx, id))
        return kz__plan_refuse(why, 400, NULL, "'lead': unknown command '%s'", id ? id : "");
    kz__plan_set(&p->lead, id);
    return KZ_OK;
}

static int set_participants(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                            struct kz_plan_refusal *why)
{
    size_t n = json_array_size(v), i;
    json_t *e;

    if (!json_is_array(v) || n == 0 || n > KZ_PLAN_MAX_PARTICIPANTS)
        return kz__plan_refuse(why, 400, NULL, "'participants' must list 1 to %d command ids",
                               KZ_PLAN_MAX_PARTICIPANTS);
    json_array_foreach(v, i, e)
    {
        const char *id = json_string_value(e);
        if (!command_known(ctx, id))
            return kz__plan_refuse(why, 400, NULL, "'participants': unknown command '%s'",
                                   id ? id : "");
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(v, j)), id) == 0)
                return kz__plan_refuse(why, 400, NULL, "'participants': '%s' twice", id);
    }
    kz_strv_free(p->participants, p->n_participants);
    p->participants = kz_xcalloc(n + 1, sizeof(char *));
    json_array_foreach(v, i, e) p->participants[i] = kz_xstrdup(json_string_value(e));
    p->n_participants = (unsigned)n;
    return KZ_OK;
}

static int set_start(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                     struct kz_plan_refusal *why)
{
    (void)ctx;
    return time_of(v, "start", &p->start_us, why);
}

static int set_end(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                   struct kz_plan_refusal *why)
{
    (void)ctx;
    return time_of(v, "end", &p->end_us, why);
}

static int set_label(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                     struct kz_plan_refusal *why)
{
    const char *s = text(v, "label", false, why);
    char *canonical;

    if (!s || kz__plan_label(ctx, s, &p->label, &canonical, why) != KZ_OK)
        return KZ_ERR_DENIED;
    free(p->banner);
    p->banner = canonical;
    return KZ_OK;
}

static int set_flags(struct kz_plan *p, const json_t *v, const struct kz_plan_ctx *ctx,
                     struct kz_plan_refusal *why)
{
    const char *key;
    json_t *e;

    (void)ctx;
    if (!json_is_object(v))
        return kz__plan_refuse(why, 400, NULL, "'flags' must be an object of booleans");
    json_object_foreach((json_t *)v, key, e)
    {
        int f = kz__plan_flag_parse(key);
        if (f < 0 || !json_is_boolean(e))
            return kz__plan_refuse(why, 400, NULL,
                                   "'flags': '%s' is not major_deployment_change, "
                                   "major_equipment_change or combat_from_japan (a boolean)",
                                   key);
        p->flags[f] = json_is_true(e);
    }
    return KZ_OK;
}

static const struct field {
    const char *name;
    const char *doc; /* its key in the stored document */
    field_fn set;
} fields[] = {
    {"title", "title", set_title},
    {"kind", "kind", set_kind},
    {"legal_basis", "legal_basis", set_legal_basis},
    {"participants", "participants", set_participants},
    {"lead", "lead", set_lead},
    {"start", "start", set_start},
    {"end", "end", set_end},
    {"label", "own_label", set_label},
    {"flags", "flags", set_flags},
};

static const struct field *field_named(const char *name)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(fields); i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* Rules across fields, after every field of the body is in. */
static int check_whole(const struct kz_plan *p, const struct kz_plan_ctx *ctx,
                       struct kz_plan_refusal *why)
{
    uint16_t nations[KZ_PLAN_MAX_PARTICIPANTS];
    unsigned n = kz_plan_nations(p, ctx->alliance, nations);
    bool lead_in = false;

    for (unsigned i = 0; i < p->n_participants; i++)
        lead_in |= strcmp(p->participants[i], p->lead) == 0;
    if (!lead_in)
        return kz__plan_refuse(why, 400, NULL, "lead '%s' is not a participant", p->lead);
    if (p->end_us <= p->start_us)
        return kz__plan_refuse(why, 400, NULL, "'end' must be after 'start'");
    /* A shared workspace: every participating nation may read the plan itself. */
    for (unsigned i = 0; i < n; i++) {
        struct kz_release_subject s = {nations[i], KZ_LEVEL_TOP_SECRET};
        if (!kz_may_release(&p->label, &s, NULL))
            return kz__plan_refuse(why, 400, NULL,
                                   "label '%s' is not releasable to %s, a participating nation",
                                   p->banner, kz_nation_code(nations[i]));
    }
    return KZ_OK;
}

static void record(json_t *changes, const char *name, const json_t *from, const json_t *to)
{
    if (!json_equal(from, to))
        json_object_set_new(changes, name,
                            json_pack("{s:O, s:O}", "from", from ? from : json_null(), "to",
                                      to ? to : json_null()));
}

int kz__plan_fields(struct kz_plan *p, const json_t *body, bool create,
                    const struct kz_plan_ctx *ctx, json_t *changes, struct kz_plan_refusal *why)
{
    json_t *before = create ? NULL : kz_plan_to_doc(p);
    json_t *after = NULL;
    const char *key;
    json_t *v;
    int err = KZ_OK;

    json_object_foreach((json_t *)body, key, v)
    {
        const struct field *f = field_named(key);
        if (!f) {
            err = kz__plan_refuse(why, 400, NULL, "unknown field '%s'", key);
            break;
        }
        if ((err = f->set(p, v, ctx, why)) != KZ_OK)
            break;
    }
    for (size_t i = 0; create && err == KZ_OK && i < KZ_ARRAY_LEN(fields); i++)
        if (!json_object_get(body, fields[i].name) && strcmp(fields[i].name, "flags") != 0)
            err = kz__plan_refuse(why, 400, NULL, "missing field '%s'", fields[i].name);
    if (err == KZ_OK)
        err = check_whole(p, ctx, why);
    if (err == KZ_OK && before) {
        after = kz_plan_to_doc(p);
        for (size_t i = 0; i < KZ_ARRAY_LEN(fields); i++)
            record(changes, fields[i].name, json_object_get(before, fields[i].doc),
                   json_object_get(after, fields[i].doc));
    }
    json_decref(before);
    json_decref(after);
    return err;
}

/* ---- items -------------------------------------------------------------------- */

static int item_pos(struct kz_plan_item *it, const json_t *body, struct kz_plan_refusal *why)
{
    const json_t *lat = json_object_get(body, "lat"), *lon = json_object_get(body, "lon");

    it->lat = it->lon = NAN;
    if (!lat && !lon)
        return KZ_OK;
    if (!json_is_number(lat) || !json_is_number(lon) || fabs(json_number_value(lat)) > 90 ||
        fabs(json_number_value(lon)) > 180)
        return kz__plan_refuse(why, 400, NULL,
                               "'lat' and 'lon' must be given together, in "
                               "degrees");
    it->has_pos = true;
    it->lat = json_number_value(lat);
    it->lon = json_number_value(lon);
    return KZ_OK;
}

static int item_units(struct kz_plan_item *it, const json_t *v, struct kz_plan_refusal *why)
{
    size_t i;
    json_t *e;

    if (v && (!json_is_array(v) || json_array_size(v) > KZ_PLAN_MAX_PARTICIPANTS * 8))
        return kz__plan_refuse(why, 400, NULL, "'units' must be a list of names");
    it->units = kz_xcalloc(json_array_size(v) + 1, sizeof(char *));
    json_array_foreach(v, i, e)
    {
        if (!text(e, "units", false, why))
            return KZ_ERR_DENIED;
        it->units[it->n_units++] = kz_xstrdup(json_string_value(e));
    }
    return KZ_OK;
}

static int item_fields(struct kz_plan_item *it, const json_t *body, const struct kz_plan_ctx *ctx,
                       const struct kz_plan *p, struct kz_plan_refusal *why)
{
    static const char *const known[] = {"time",  "lat",         "lon",  "place",
                                        "units", "description", "label"};
    const json_t *label = json_object_get(body, "label");
    const char *key, *s;
    json_t *v;

    json_object_foreach((json_t *)body, key, v)
    {
        size_t i = 0;
        while (i < KZ_ARRAY_LEN(known) && strcmp(known[i], key) != 0)
            i++;
        if (i == KZ_ARRAY_LEN(known))
            return kz__plan_refuse(why, 400, NULL, "unknown field '%s'", key);
    }
    if (time_of(json_object_get(body, "time"), "time", &it->time_us, why) ||
        item_pos(it, body, why) || item_units(it, json_object_get(body, "units"), why))
        return KZ_ERR_DENIED;
    if (!(s = text(json_object_get(body, "description"), "description", false, why)))
        return KZ_ERR_DENIED;
    it->description = kz_xstrdup(s);
    if (json_object_get(body, "place")) {
        if (!(s = text(json_object_get(body, "place"), "place", false, why)))
            return KZ_ERR_DENIED;
        it->place = kz_xstrdup(s);
    }
    s = label ? text(label, "label", false, why) : p->banner;
    return s ? kz__plan_label(ctx, s, &it->label, &it->banner, why) : KZ_ERR_DENIED;
}

int kz__plan_item_add(struct kz_plan *p, const json_t *body, const struct kz_plan_ctx *ctx,
                      json_t *changes, struct kz_plan_refusal *why)
{
    struct kz_plan_item it = {.id = p->n_items ? p->items[p->n_items - 1].id + 1 : 1};
    json_t *doc;

    if (p->n_items >= KZ_PLAN_MAX_ITEMS)
        return kz__plan_refuse(why, 400, NULL, "a plan holds at most %d items", KZ_PLAN_MAX_ITEMS);
    if (!json_is_object(body) || item_fields(&it, body, ctx, p, why) != KZ_OK) {
        if (!json_is_object(body))
            kz__plan_refuse(why, 400, NULL, "the body must be a JSON object");
        kz__plan_item_clear(&it);
        return KZ_ERR_DENIED;
    }
    p->items = kz_xrealloc(p->items, (p->n_items + 1) * sizeof(*p->items));
    p->items[p->n_items++] = it;
    doc = kz_plan_to_doc(p);
    json_object_set_new(changes, "items",
                        json_pack("{s:n, s:O}", "from", "to",
                                  json_array_get(json_object_get(doc, "items"), p->n_items - 1)));
    json_decref(doc);
    return KZ_OK;
}
