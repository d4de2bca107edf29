/*
 * persist.c - readiness reports to and from the store.  The store knows
 * rows, not labels: the banner goes down as text with the originator's
 * nation code beside it (a banner does not carry the originator), and both
 * are parsed again on the way back up, under the policy of the day.  The
 * reporter's OUT groups go down as a JSON array of names.
 */
#include <stdlib.h>
#include <string.h>

#include "readiness/readiness.h"

/* ["a","b"] (free() it). */
static char *groups_json(const struct kz_readiness *r)
{
    json_t *a = json_array();
    char *s;

    for (unsigned i = 0; i < r->n_groups; i++)
        json_array_append_new(a, json_string(r->groups[i]));
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s ? s : kz_xstrdup("[]");
}

void kz_readiness_save(struct kz_store *st, const struct kz_readiness *r, kz_store_ack_cb cb,
                       void *ud)
{
    char *groups = groups_json(r);
    struct kz_store_readiness row = {
        .unit = r->unit,
        .time_us = r->time_us,
        .recv_us = r->recv_us,
        .p = r->p,
        .s = r->s,
        .r = r->r,
        .t = r->t,
        .overall = r->overall,
        .override_reason = r->override_reason,
        .reason_code = r->reason_code,
        .remarks = r->remarks,
        .label = r->banner,
        .originator = kz_nation_code(r->label.originator),
        .reporter = r->reporter,
        .groups = groups,
    };

    kz_store_readiness_append(st, &row, cb, ud);
    free(groups);
}

struct load {
    struct kz_readiness_book *book;
    const struct kz_label_policy *policy;
    unsigned loaded, skipped;
};

static char *dup_opt(const char *s)
{
    return s ? kz_xstrdup(s) : NULL;
}

/* Rebuild the label exactly as kz_readiness_parse() did; false when it no longer parses. */
static bool relabel(const struct kz_label_policy *p, const struct kz_store_readiness *row,
                    struct kz_readiness *r)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char why[200];
    uint16_t orig = kz_nation_index(row->originator, strlen(row->originator));

    if (orig == KZ_NATION_NONE ||
        kz_label_parse(p, row->label, strlen(row->label), &r->label, why, sizeof(why)) != KZ_OK) {
        kz_log(KZ_LOG_WARN, "readiness: stored report left out",
               "unit=%s label=\"%s\" originator=%s", row->unit, row->label, row->originator);
        return false;
    }
    r->label.originator = orig;
    kz_label_format(p, &r->label, &sb);
    r->banner = kz_sbuf_detach(&sb, NULL);
    return true;
}

/* The stored groups; none (nobody sees the report) when absent or not a list of names. */
static void groups_of(const char *stored, struct kz_readiness *r)
{
    json_t *a = stored ? json_loads(stored, 0, NULL) : NULL;
    size_t i;
    json_t *v;

    r->groups = kz_xcalloc(json_array_size(a) + 1, sizeof(char *));
    json_array_foreach(a, i, v)
    {
        if (json_is_string(v))
            r->groups[r->n_groups++] = kz_xstrdup(json_string_value(v));
    }
    json_decref(a);
}

static void on_row(void *ud, const struct kz_store_readiness *row)
{
    struct load *l = ud;
    struct kz_readiness r;

    memset(&r, 0, sizeof(r));
    if (!row->unit || !row->label || !row->originator || !relabel(l->policy, row, &r)) {
        l->skipped++;
        return;
    }
    r.unit = kz_xstrdup(row->unit);
    r.time_us = row->time_us;
    r.recv_us = row->recv_us;
    r.p = row->p;
    r.s = row->s;
    r.r = row->r;
    r.t = row->t;
    r.overall = row->overall;
    r.override_reason = dup_opt(row->override_reason);
    r.reason_code = dup_opt(row->reason_code);
    r.remarks = dup_opt(row->remarks);
    r.reporter = dup_opt(row->reporter);
    groups_of(row->groups, &r);
    kz_readiness_book_add(l->book, &r);
    l->loaded++;
}

int kz_readiness_book_load(struct kz_readiness_book *b, struct kz_store *st,
                           const struct kz_label_policy *policy, unsigned *loaded,
                           unsigned *skipped)
{
    struct load l = {b, policy, 0, 0};
    int err = kz_store_readiness_load(st, on_row, &l);

    if (loaded)
        *loaded = l.loaded;
    if (skipped)
        *skipped = l.skipped;
    return err;
}
