/*
 * json.c - a plan as JSON: the stored document (everything, labels as
 * banners, read back under the policy of the day) and the REST view for
 * one caller (items it may not see left out, zones and required approvals
 * from the alliance model).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

/* ISO 8601 UTC; whole seconds (the usual planning times) without a fraction. */
json_t *kz__plan_time_json(int64_t us)
{
    char buf[KZ_TIME_STRLEN];
    size_t n = kz_time_format(us, buf);

    if (us % 1000000 == 0 && n > 5 && strcmp(buf + n - 5, ".000Z") == 0)
        memcpy(buf + n - 5, "Z", 2);
    return json_string(buf);
}

static json_t *strv_json(char *const *v, unsigned n)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *item_json(const struct kz_plan_item *it)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(it->id));
    json_object_set_new(o, "time", kz__plan_time_json(it->time_us));
    if (it->has_pos) {
        json_object_set_new(o, "lat", json_real(it->lat));
        json_object_set_new(o, "lon", json_real(it->lon));
    }
    if (it->place)
        json_object_set_new(o, "place", json_string(it->place));
    json_object_set_new(o, "units", strv_json(it->units, it->n_units));
    json_object_set_new(o, "description", json_string(it->description));
    json_object_set_new(o, "label", json_string(it->banner));
    json_object_set_new(o, "originator", opt_str(kz_nation_code(it->label.originator)));
    return o;
}

static json_t *approval_json(const struct kz_plan_approval *a)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:o, s:o}", "nation", a->nation, "command",
                     a->command, "user", a->user, "revision", (json_int_t)a->revision, "decision",
                     a->approve ? "approve" : "reject", "reason", opt_str(a->reason), "time",
                     kz__plan_time_json(a->time_us));
}

static json_t *flags_json(const struct kz_plan *p)
{
    json_t *o = json_object();

    for (int f = 0; f < KZ_FLAG__COUNT; f++)
        json_object_set_new(o, kz_plan_flag_name(f), json_boolean(p->flags[f]));
    return o;
}

/* The fields the document and the view share. */
static json_t *common_json(const struct kz_plan *p)
{
    json_t *o = json_object();
    json_t *approvals = json_array();

    json_object_set_new(o, "id", json_string(p->id));
    json_object_set_new(o, "revision", json_integer(p->revision));
    json_object_set_new(o, "title", json_string(p->title));
    json_object_set_new(o, "kind", json_string(kz_plan_kind_name(p->kind)));
    json_object_set_new(o, "legal_basis", json_string(p->legal_basis));
    json_object_set_new(o, "stage", json_string(kz_plan_stage_name(p->stage)));
    json_object_set_new(o, "lead", json_string(p->lead));
    json_object_set_new(o, "participants", strv_json(p->participants, p->n_participants));
    json_object_set_new(o, "start", kz__plan_time_json(p->start_us));
    json_object_set_new(o, "end", kz__plan_time_json(p->end_us));
    json_object_set_new(o, "flags", flags_json(p));
    json_object_set_new(o, "own_label", json_string(p->banner));
    json_object_set_new(o, "originator", opt_str(kz_nation_code(p->label.originator)));
    json_object_set_new(o, "consultation", json_string(kz_consult_name(p->consult)));
    json_object_set_new(o, "consultation_authority", opt_str(p->consult_authority));
    json_object_set_new(o, "consultation_reason", opt_str(p->consult_reason));
    for (unsigned i = 0; i < p->n_approvals; i++)
        json_array_append_new(approvals, approval_json(&p->approvals[i]));
    json_object_set_new(o, "approvals", approvals);
    json_object_set_new(o, "revisions", json_deep_copy(p->revisions));
    json_object_set_new(o, "created", kz__plan_time_json(p->created_us));
    json_object_set_new(o, "updated", kz__plan_time_json(p->updated_us));
    json_object_set_new(o, "created_by", json_string(p->created_by));
    return o;
}

json_t *kz_plan_to_doc(const struct kz_plan *p)
{
    json_t *o = common_json(p);
    json_t *items = json_array();

    for (unsigned i = 0; i < p->n_items; i++)
        json_array_append_new(items, item_json(&p->items[i]));
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "version", json_integer(p->version));
    return o;
}

bool kz_plan_visible(const struct kz_plan *p, const struct kz_release_subject *who)
{
    return kz_may_release(&p->label, who, NULL);
}

static json_t *zones_json(const struct kz_plan *p, const struct kz_alliance *a)
{
    json_t *o = json_object();

    for (unsigned i = 0; a && i < p->n_participants; i++) {
        const struct kz_command *c = kz_alliance_command(a, p->participants[i]);
        if (c && c->tz)
            json_object_set_new(o, c->id, json_string(c->tz));
    }
    return o;
}

static json_t *required_json(const struct kz_plan *p, const struct kz_alliance *a)
{
    const struct kz_approver *req[KZ_PLAN_MAX_PARTICIPANTS];
    unsigned n = a ? kz_plan_required(p, a, kz_day_of_us(kz_now_us()), req) : 0;
    json_t *arr = json_array();

    for (unsigned i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:s}", "nation", req[i]->nation, "command", req[i]->command));
    return arr;
}

json_t *kz_plan_view(const struct kz_plan *p, const struct kz_alliance *a,
                     const struct kz_label_policy *policy, const struct kz_release_subject *who)
{
    json_t *o = common_json(p);
    json_t *items = json_array();
    struct kz_label roll;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    for (unsigned i = 0; i < p->n_items; i++)
        if (kz_may_release(&p->items[i].label, who, NULL))
            json_array_append_new(items, item_json(&p->items[i]));
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "zones", zones_json(p, a));
    json_object_set_new(o, "required_approvals", required_json(p, a));
    if (kz_plan_rollup(p, a, policy, who, &roll) == KZ_OK &&
        kz_label_format(policy, &roll, &sb) == KZ_OK)
        json_object_set_new(o, "label", json_string(sb.buf));
    else
        json_object_set_new(o, "label", json_string(p->banner));
    kz_sbuf_release(&sb);
    return o;
}

/* ---- reading the document back ------------------------------------------------ */

static const char *str_at(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int time_at(const json_t *o, const char *key, int64_t *us)
{
    const char *s = str_at(o, key);
    return s ? kz_time_parse(s, strlen(s), us) : KZ_ERR_PARSE;
}

static char **strv_at(const json_t *o, const char *key, unsigned *n)
{
    const json_t *a = json_object_get(o, key);
    char **v = kz_xcalloc(json_array_size(a) + 1, sizeof(char *));
    size_t i;
    json_t *e;

    *n = 0;
    json_array_foreach(a, i, e)
    {
        if (json_is_string(e))
            v[(*n)++] = kz_xstrdup(json_string_value(e));
    }
    return v;
}

/* A stored banner, parsed again, with its originator (unless the banner names one). */
static int relabel(const struct kz_label_policy *policy, const char *banner, uint16_t originator,
                   struct kz_label *l, char **canonical)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;

    if (!banner || kz_label_parse(policy, banner, strlen(banner), l, NULL, 0) != KZ_OK)
        return KZ_ERR_PARSE;
    if (l->originator == KZ_NATION_NONE)
        l->originator = originator;
    kz_label_format(policy, l, &sb);
    *canonical = kz_sbuf_detach(&sb, NULL);
    return KZ_OK;
}

static uint16_t nation_at(const json_t *o, uint16_t dflt)
{
    const char *s = str_at(o, "originator");
    uint16_t n = s ? kz_nation_index(s, strlen(s)) : KZ_NATION_NONE;

    return n != KZ_NATION_NONE ? n : dflt;
}

static int item_from(const json_t *o, const struct kz_label_policy *policy, uint16_t originator,
                     struct kz_plan_item *it)
{
    const json_t *lat = json_object_get(o, "lat"), *lon = json_object_get(o, "lon");

    it->id = json_integer_value(json_object_get(o, "id"));
    it->has_pos = json_is_number(lat) && json_is_number(lon);
    it->lat = it->has_pos ? json_number_value(lat) : NAN;
    it->lon = it->has_pos ? json_number_value(lon) : NAN;
    it->place = kz_xstrdup(str_at(o, "place"));
    it->units = strv_at(o, "units", &it->n_units);
    it->description = kz_xstrdup(str_at(o, "description"));
    if (!it->description || time_at(o, "time", &it->time_us) != KZ_OK)
        return KZ_ERR_PARSE;
    return relabel(policy, str_at(o, "label"), nation_at(o, originator), &it->label, &it->banner);
}

static int approval_from(const json_t *o, struct kz_plan_approval *a)
{
    a->nation = kz_xstrdup(str_at(o, "nation"));
    a->command = kz_xstrdup(str_at(o, "command"));
    a->user = kz_xstrdup(str_at(o, "user"));
    a->revision = json_integer_value(json_object_get(o, "revision"));
    a->approve = json_is_string(json_object_get(o, "decision")) &&
                 strcmp(str_at(o, "decision"), "approve") == 0;
    a->reason = kz_xstrdup(str_at(o, "reason"));
    if (!a->nation || !a->command || !a->user)
        return KZ_ERR_PARSE;
    return time_at(o, "time", &a->time_us);
}

static int scalars_from(const json_t *doc, struct kz_plan *p)
{
    const json_t *flags = json_object_get(doc, "flags");

    p->id = kz_xstrdup(str_at(doc, "id"));
    p->revision = json_integer_value(json_object_get(doc, "revision"));
    p->version = json_integer_value(json_object_get(doc, "version"));
    p->title = kz_xstrdup(str_at(doc, "title"));
    p->legal_basis = kz_xstrdup(str_at(doc, "legal_basis"));
    p->lead = kz_xstrdup(str_at(doc, "lead"));
    p->participants = strv_at(doc, "participants", &p->n_participants);
    p->consult_authority = kz_xstrdup(str_at(doc, "consultation_authority"));
    p->consult_reason = kz_xstrdup(str_at(doc, "consultation_reason"));
    p->created_by = kz_xstrdup(str_at(doc, "created_by"));
    p->revisions = json_deep_copy(json_object_get(doc, "revisions"));
    for (int f = 0; f < KZ_FLAG__COUNT; f++)
        p->flags[f] = json_is_true(json_object_get(flags, kz_plan_flag_name(f)));
    if (!p->id || !p->title || !p->legal_basis || !p->lead || !p->created_by ||
        !json_is_array(p->revisions) || p->revision < 1 ||
        kz__plan_kind_parse(str_at(doc, "kind"), &p->kind) != KZ_OK ||
        kz_plan_stage_parse(str_at(doc, "stage"), &p->stage) != KZ_OK ||
        kz__plan_consult_parse(str_at(doc, "consultation"), &p->consult) != KZ_OK)
        return KZ_ERR_PARSE;
    if (time_at(doc, "start", &p->start_us) || time_at(doc, "end", &p->end_us) ||
        time_at(doc, "created", &p->created_us) || time_at(doc, "updated", &p->updated_us))
        return KZ_ERR_PARSE;
    return KZ_OK;
}

static int lists_from(const json_t *doc, const struct kz_label_policy *policy, struct kz_plan *p)
{
    const json_t *items = json_object_get(doc, "items");
    const json_t *approvals = json_object_get(doc, "approvals");
    uint16_t orig = p->label.originator;
    size_t i;
    json_t *e;

    p->items = kz_xcalloc(json_array_size(items) + 1, sizeof(*p->items));
    json_array_foreach(items, i, e)
    {
        if (item_from(e, policy, orig, &p->items[p->n_items++]) != KZ_OK)
            return KZ_ERR_PARSE;
    }
    p->approvals = kz_xcalloc(json_array_size(approvals) + 1, sizeof(*p->approvals));
    json_array_foreach(approvals, i, e)
    {
        if (approval_from(e, &p->approvals[p->n_approvals++]) != KZ_OK)
            return KZ_ERR_PARSE;
    }
    return KZ_OK;
}

int kz_plan_from_doc(const json_t *doc, const struct kz_label_policy *policy, struct kz_plan **out)
{
    struct kz_plan *p = kz_xcalloc(1, sizeof(*p));
    uint16_t orig = nation_at(doc, KZ_NATION_NONE);
    int err = scalars_from(doc, p);

    if (err == KZ_OK)
        err = relabel(policy, str_at(doc, "own_label"), orig, &p->label, &p->banner);
    if (err == KZ_OK)
        err = lists_from(doc, policy, p);
    if (err != KZ_OK) {
        kz_plan_free(p);
        *out = NULL;
        return err;
    }
    *out = p;
    return KZ_OK;
}
