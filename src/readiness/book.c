/*
 * book.c - readiness reports: parsing, history per unit, latest, roll-up,
 * each answer filtered for its caller (groups, label, hidden units).
 */
#include <stdlib.h>
#include <string.h>

#include "readiness/readiness.h"

struct unit_hist {
    char *unit;
    struct kz_readiness *v; /* time order */
    unsigned n, cap;
};

struct kz_readiness_book {
    struct unit_hist *units;
    unsigned n, cap;
};

void kz_readiness_clear(struct kz_readiness *r)
{
    free(r->unit);
    free(r->override_reason);
    free(r->reason_code);
    free(r->remarks);
    free(r->banner);
    free(r->reporter);
    kz_strv_free(r->groups, r->n_groups);
    memset(r, 0, sizeof(*r));
}

/* ---- parsing ------------------------------------------------------------------ */

/*
 * Why a commander's overall differs from the worst measured area: the area
 * whose measure does not reflect the unit (P, S, R, T), a mission other than
 * the designed one (MISSION), or OTHER (the reason says what).
 */
static bool reason_code_known(const char *code)
{
    static const char *const codes[] = {"P", "S", "R", "T", "MISSION", "OTHER"};

    for (size_t i = 0; i < KZ_ARRAY_LEN(codes); i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

/* An integer 1..max at `key`: 5 for overall, 6 (not measured) for an area. */
static int level(json_t *o, const char *key, int max, uint8_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
        snprintf(err, errlen, "'%s' must be an integer 1..%d%s", key, max,
                 max == KZ_READINESS_NOT_MEASURED ? " (6: not measured)" : "");
        return KZ_ERR_INVAL;
    }
    *out = (uint8_t)json_integer_value(v);
    return KZ_OK;
}

static const char *opt_str(json_t *o, const char *key, size_t max, int *rc, char *err,
                           size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return NULL;
    if (!json_is_string(v) || strlen(json_string_value(v)) > max) {
        snprintf(err, errlen, "'%s' must be a string of at most %zu bytes", key, max);
        *rc = KZ_ERR_INVAL;
        return NULL;
    }
    return json_string_value(v);
}

static int parse_label(const struct kz_label_policy *p, const char *banner, const char *nation,
                       struct kz_readiness *out, char *err, size_t errlen)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char why[200];

    if (kz_label_parse(p, banner, strlen(banner), &out->label, why, sizeof(why)) != KZ_OK) {
        snprintf(err, errlen, "bad label: %s", why);
        return KZ_ERR_INVAL;
    }
    out->label.originator = kz_nation_index(nation, strlen(nation));
    kz_label_format(p, &out->label, &sb);
    out->banner = kz_sbuf_detach(&sb, NULL);
    return KZ_OK;
}

/* The worst measured area; 0 when none was measured. */
static uint8_t worst_measured(const struct kz_readiness *r)
{
    const uint8_t areas[] = {r->p, r->s, r->r, r->t};
    uint8_t worst = 0;

    for (size_t i = 0; i < KZ_ARRAY_LEN(areas); i++)
        if (areas[i] != KZ_READINESS_NOT_MEASURED && areas[i] > worst)
            worst = areas[i];
    return worst;
}

/* A commander's overall: a code and a reason, and never a subjective C-5. */
static int parse_override(json_t *o, struct kz_readiness *out, uint8_t worst, const char *reason,
                          const char *code, char *err, size_t errlen)
{
    if (level(o, "overall", 5, &out->overall, err, errlen))
        return KZ_ERR_INVAL;
    if (out->overall == worst)
        return KZ_OK;
    if (out->overall == 5) {
        snprintf(err, errlen,
                 "overall C5 is refused as an override (worst area C%u): C-5 means a "
                 "Service-directed resource action, reported through an area at 5",
                 worst);
        return KZ_ERR_INVAL;
    }
    if (!reason || !*reason || !code) {
        snprintf(err, errlen,
                 "overall C%u is not the worst area (C%u): give reason_code and override_reason",
                 out->overall, worst);
        return KZ_ERR_INVAL;
    }
    if (!reason_code_known(code)) {
        snprintf(err, errlen, "reason_code '%.16s' is not one of P, S, R, T, MISSION, OTHER", code);
        return KZ_ERR_INVAL;
    }
    out->override_reason = kz_xstrdup(reason);
    out->reason_code = kz_xstrdup(code);
    return KZ_OK;
}

static int parse_areas(json_t *o, struct kz_readiness *out, char *err, size_t errlen)
{
    const int max = KZ_READINESS_NOT_MEASURED;

    if (level(o, "p", max, &out->p, err, errlen) || level(o, "s", max, &out->s, err, errlen) ||
        level(o, "r", max, &out->r, err, errlen) || level(o, "t", max, &out->t, err, errlen))
        return KZ_ERR_INVAL;
    out->overall = worst_measured(out);
    if (out->overall == 0) {
        snprintf(err, errlen, "no area measured: at least one of p, s, r, t must be 1..5");
        return KZ_ERR_INVAL;
    }
    return KZ_OK;
}

static int parse_fields(json_t *o, const struct kz_label_policy *p, const char *nation,
                        struct kz_readiness *out, char *err, size_t errlen)
{
    int rc = KZ_OK;
    const char *unit = opt_str(o, "unit", 64, &rc, err, errlen);
    const char *time = opt_str(o, "time", 40, &rc, err, errlen);
    const char *remarks = opt_str(o, "remarks", 4096, &rc, err, errlen);
    const char *label = opt_str(o, "label", KZ_LABEL_MAX_LEN, &rc, err, errlen);
    const char *reason = opt_str(o, "override_reason", 1024, &rc, err, errlen);
    const char *code = opt_str(o, "reason_code", 16, &rc, err, errlen);

    if (rc != KZ_OK)
        return rc;
    if (!unit || !*unit) {
        snprintf(err, errlen, "'unit' is required");
        return KZ_ERR_INVAL;
    }
    if (parse_areas(o, out, err, errlen))
        return KZ_ERR_INVAL;
    out->unit = kz_xstrdup(unit);
    out->remarks = kz_xstrdup(remarks);
    out->recv_us = kz_now_us();
    out->time_us = out->recv_us;
    if (time && kz_time_parse(time, strlen(time), &out->time_us) != KZ_OK) {
        snprintf(err, errlen, "'time' must be ISO 8601 UTC");
        return KZ_ERR_INVAL;
    }
    if (json_object_get(o, "overall") &&
        parse_override(o, out, out->overall, reason, code, err, errlen))
        return KZ_ERR_INVAL;
    return parse_label(p, label ? label : KZ_READINESS_DEFAULT_LABEL, nation, out, err, errlen);
}

int kz_readiness_parse(const char *json, size_t len, const struct kz_label_policy *policy,
                       const char *nation, struct kz_readiness *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(o)) {
        snprintf(err, errlen, "body must be a JSON object: %s", o ? "not an object" : jerr.text);
        json_decref(o);
        return KZ_ERR_INVAL;
    }
    if (!nation || kz_nation_index(nation, strlen(nation)) == KZ_NATION_NONE) {
        snprintf(err, errlen, "the reporter has no nation");
        rc = KZ_ERR_INVAL;
    } else {
        rc = parse_fields(o, policy, nation, out, err, errlen);
    }
    json_decref(o);
    if (rc != KZ_OK)
        kz_readiness_clear(out);
    return rc;
}

/* ---- the book ------------------------------------------------------------------- */

struct kz_readiness_book *kz_readiness_book_new(void)
{
    return kz_xcalloc(1, sizeof(struct kz_readiness_book));
}

void kz_readiness_book_free(struct kz_readiness_book *b)
{
    if (!b)
        return;
    for (unsigned i = 0; i < b->n; i++) {
        for (unsigned j = 0; j < b->units[i].n; j++)
            kz_readiness_clear(&b->units[i].v[j]);
        free(b->units[i].v);
        free(b->units[i].unit);
    }
    free(b->units);
    free(b);
}

static struct unit_hist *find(const struct kz_readiness_book *b, const char *unit)
{
    for (unsigned i = 0; i < b->n; i++)
        if (strcmp(b->units[i].unit, unit) == 0)
            return &b->units[i];
    return NULL;
}

void kz_readiness_book_add(struct kz_readiness_book *b, struct kz_readiness *r)
{
    struct unit_hist *h = find(b, r->unit);

    if (!h) {
        if (b->n == b->cap) {
            b->cap = b->cap ? 2 * b->cap : 16;
            b->units = kz_xrealloc(b->units, b->cap * sizeof(*b->units));
        }
        h = &b->units[b->n++];
        *h = (struct unit_hist){kz_xstrdup(r->unit), NULL, 0, 0};
    }
    if (h->n == KZ_READINESS_MAX_HISTORY) {
        kz_readiness_clear(&h->v[0]);
        memmove(h->v, h->v + 1, --h->n * sizeof(*h->v));
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 8;
        h->v = kz_xrealloc(h->v, h->cap * sizeof(*h->v));
    }
    /* Keep time order: a late report of an older assessment goes before newer ones. */
    unsigned at = h->n;
    while (at > 0 && h->v[at - 1].time_us > r->time_us)
        at--;
    memmove(h->v + at + 1, h->v + at, (h->n - at) * sizeof(*h->v));
    h->v[at] = *r;
    h->n++;
    memset(r, 0, sizeof(*r));
}

json_t *kz_readiness_json(const struct kz_readiness *r, int64_t now_us, int64_t stale_us)
{
    char t[KZ_TIME_STRLEN];
    json_t *o = json_object();

    json_object_set_new(o, "unit", json_string(r->unit));
    kz_time_format(r->time_us, t);
    json_object_set_new(o, "time", json_string(t));
    json_object_set_new(o, "p", json_integer(r->p));
    json_object_set_new(o, "s", json_integer(r->s));
    json_object_set_new(o, "r", json_integer(r->r));
    json_object_set_new(o, "t", json_integer(r->t));
    json_object_set_new(o, "overall", json_integer(r->overall));
    if (r->override_reason)
        json_object_set_new(o, "override_reason", json_string(r->override_reason));
    if (r->reason_code)
        json_object_set_new(o, "reason_code", json_string(r->reason_code));
    if (r->remarks)
        json_object_set_new(o, "remarks", json_string(r->remarks));
    json_object_set_new(o, "label", json_string(r->banner));
    if (r->reporter)
        json_object_set_new(o, "reporter", json_string(r->reporter));
    json_object_set_new(o, "stale", json_boolean(now_us - r->time_us > stale_us));
    return o;
}

/* ---- who may see what ------------------------------------------------------- */

static bool unit_visible(const struct kz_readiness_viewer *v, const char *unit)
{
    return !v->unit_visible || v->unit_visible(v->ud, unit);
}

/* The group rule: one of the reporter's OUT groups is one of the caller's IN groups. */
static bool groups_meet(const struct kz_readiness *r, const struct kz_readiness_viewer *v)
{
    for (unsigned i = 0; i < r->n_groups; i++)
        for (unsigned j = 0; j < v->n_in; j++)
            if (strcmp(r->groups[i], v->in[j]) == 0)
                return true;
    return false;
}

static bool visible(const struct kz_readiness *r, const struct kz_readiness_viewer *v)
{
    return groups_meet(r, v) && kz_may_release(&r->label, v->who, NULL);
}

/* The newest report of h that `v` may see, or NULL. */
static const struct kz_readiness *latest_visible(const struct unit_hist *h,
                                                 const struct kz_readiness_viewer *v)
{
    if (!unit_visible(v, h->unit))
        return NULL;
    for (unsigned j = h->n; j-- > 0;)
        if (visible(&h->v[j], v))
            return &h->v[j];
    return NULL;
}

json_t *kz_readiness_latest(const struct kz_readiness_book *b, const char *unit,
                            const struct kz_readiness_viewer *v, int64_t now_us, int64_t stale_us)
{
    json_t *o = json_object(), *arr = json_array();

    for (unsigned i = 0; i < b->n; i++) {
        const struct kz_readiness *r;
        if (unit && strcmp(unit, b->units[i].unit) != 0)
            continue;
        if ((r = latest_visible(&b->units[i], v)) != NULL)
            json_array_append_new(arr, kz_readiness_json(r, now_us, stale_us));
    }
    json_object_set_new(o, "reports", arr);
    return o;
}

json_t *kz_readiness_history(const struct kz_readiness_book *b, const char *unit,
                             const struct kz_readiness_viewer *v, int64_t now_us, int64_t stale_us)
{
    const struct unit_hist *h = unit_visible(v, unit) ? find(b, unit) : NULL;
    json_t *o = json_object(), *arr = json_array();

    for (unsigned j = 0; h && j < h->n; j++)
        if (visible(&h->v[j], v))
            json_array_append_new(arr, kz_readiness_json(&h->v[j], now_us, stale_us));
    json_object_set_new(o, "unit", json_string(unit));
    json_object_set_new(o, "history", arr);
    return o;
}

json_t *kz_readiness_rollup(const struct kz_readiness_book *b,
                            const struct kz_readiness_rollup_opts *opt)
{
    unsigned count[6] = {0}, units = 0, stale = 0, worst = 0;
    json_t *o = json_object(), *by = json_object(), *list = json_array();
    char key[4];
    /* A hidden command is answered like an unknown one: nothing is under it. */
    bool known = unit_visible(opt->who, opt->command);

    for (unsigned i = 0; known && i < b->n; i++) {
        const struct kz_readiness *r = latest_visible(&b->units[i], opt->who);
        if (!r || !opt->under(opt->ud, r->unit, opt->command))
            continue;
        units++;
        count[r->overall]++;
        stale += opt->now_us - r->time_us > opt->stale_us;
        worst = r->overall > worst ? r->overall : worst;
        json_array_append_new(list, json_string(r->unit));
    }
    for (unsigned lv = 1; lv <= 5; lv++) {
        snprintf(key, sizeof(key), "C%u", lv);
        json_object_set_new(by, key, json_integer(count[lv]));
    }
    json_object_set_new(o, "command", json_string(opt->command));
    json_object_set_new(o, "units", json_integer(units));
    json_object_set_new(o, "by_level", by);
    json_object_set_new(o, "stale", json_integer(stale));
    json_object_set_new(o, "worst", worst ? json_integer(worst) : json_null());
    json_object_set_new(o, "unit_ids", list);
    return o;
}
