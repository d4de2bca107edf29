/*
 * api_alliance.c - GET /api/v1/alliance/{show,chain,can-task,counterpart,
 * forums,path}: the alliance queries as JSON, answered from the model the
 * server loaded (kz_alliance_current()).  Entries carrying a label the
 * caller may not see are left out (the input's release subject); the
 * answer's "hidden" says how many were.
 *
 * Parameters: at=YYYY-MM-DD (path: an ISO time, Z or +hh:mm), unit=, from=,
 * to=, via=, routes=1..50, compare=1 (path: hub-and-spokes vs lattice), hub=.
 */
#include <stdlib.h>
#include <string.h>

#include "alliance/alliance.h"
#include "http/api_alliance.h"

struct q {
    const struct kz_alliance *a;
    struct kz_alliance_view view;
    int32_t day;
    int64_t t0;
};

/* at=: a date, or a time with Z or an offset; default now. */
static int parse_at(const char *s, int64_t *t0)
{
    int32_t day;
    unsigned h = 0, m = 0, oh = 0, om = 0;
    char sign = '+';
    int n = 0;

    if (!s) {
        *t0 = kz_now_us() / 1000000;
        return KZ_OK;
    }
    if (kz_day_parse(s, &day) != KZ_OK)
        return KZ_ERR_PARSE;
    if (s[10] == 'T') {
        if (sscanf(s + 10, "T%2u:%2u%n", &h, &m, &n) != 2 || h > 23 || m > 59)
            return KZ_ERR_PARSE;
        s += 10 + n;
        if (*s == ':' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9')
            s += 3; /* seconds are ignored */
        if (*s == '+' || *s == '-') {
            sign = *s;
            if (sscanf(s + 1, "%2u:%2u%n", &oh, &om, &n) != 2 || oh > 14 || om > 59 || s[1 + n])
                return KZ_ERR_PARSE;
        } else if (strcmp(s, "Z") != 0) {
            return KZ_ERR_PARSE;
        }
    }
    *t0 = (int64_t)day * 86400 + h * 3600 + m * 60 -
          (sign == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    return KZ_OK;
}

static bool begin(struct kz__http_conn *c, struct q *q)
{
    q->a = kz_alliance_current();
    if (!q->a) {
        kz__http_error(c, 503, "no alliance model configured");
        return false;
    }
    if (parse_at(kz__http_param(&c->hp.req.target, "at"), &q->t0) != KZ_OK) {
        kz__http_error(c, 400, "bad 'at': want YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss](Z|+hh:mm)");
        return false;
    }
    q->day = kz_day_of_us(q->t0 * 1000000);
    /* Without an identity the zero subject sees nothing that carries a label. */
    q->view.who = &kz__http_viewer(c)->subject;
    q->view.hidden = 0;
    return true;
}

static const char *need(struct kz__http_conn *c, const char *name)
{
    const char *v = kz__http_param(&c->hp.req.target, name);
    if (!v || !*v)
        kz__http_error(c, 400, "missing parameter '%s'", name);
    return v && *v ? v : NULL;
}

/* Evaluated after the query: `o` is filled by the call in the argument list. */
static void reply(struct kz__http_conn *c, struct q *q, int rc, json_t **op)
{
    json_t *o = *op;

    if (rc == KZ_ERR_NOTFOUND) {
        kz__http_error(c, 404, "unknown command id");
        return;
    }
    if (rc != KZ_OK) {
        kz__http_error(c, 400, "%s", kz_strerror(rc));
        return;
    }
    json_object_set_new(o, "hidden", json_integer(q->view.hidden));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
    json_decref(o);
    kz__http_respond(c, 200, "application/json", NULL, s, strlen(s));
    free(s);
}

void kz__api_alliance_show(struct kz__http_conn *c)
{
    struct q q;
    json_t *o;

    if (!begin(c, &q))
        return;
    o = kz_alliance_show(q.a, q.day, &q.view);
    reply(c, &q, KZ_OK, &o);
}

void kz__api_alliance_forums(struct kz__http_conn *c)
{
    struct q q;
    json_t *o;

    if (!begin(c, &q))
        return;
    o = kz_alliance_forums(q.a, q.day, &q.view);
    reply(c, &q, KZ_OK, &o);
}

void kz__api_alliance_chain(struct kz__http_conn *c)
{
    struct q q;
    const char *unit;
    json_t *o = NULL;

    if (begin(c, &q) && (unit = need(c, "unit")) != NULL)
        reply(c, &q, kz_alliance_chain(q.a, unit, q.day, &q.view, &o), &o);
}

void kz__api_alliance_counterpart(struct kz__http_conn *c)
{
    struct q q;
    const char *unit;
    json_t *o = NULL;

    if (begin(c, &q) && (unit = need(c, "unit")) != NULL)
        reply(c, &q, kz_alliance_counterpart(q.a, unit, q.day, &q.view, &o), &o);
}

void kz__api_alliance_can_task(struct kz__http_conn *c)
{
    struct q q;
    const char *from, *to;
    json_t *o = NULL;

    if (begin(c, &q) && (from = need(c, "from")) != NULL && (to = need(c, "to")) != NULL)
        reply(c, &q, kz_alliance_can_task(q.a, from, to, q.day, &q.view, &o), &o);
}

/* The latency analysis names commands only: refused when any is hidden from the caller. */
static bool path_visible(struct q *q, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct kz_command *cmd = ids[i] ? kz_alliance_command(q->a, ids[i]) : NULL;
        if (cmd && cmd->label && !kz_may_release(&cmd->lab, q->view.who, NULL))
            return false;
    }
    for (unsigned i = 0; i < q->a->n_commands; i++)
        if (q->a->commands[i].label &&
            !kz_may_release(&q->a->commands[i].lab, q->view.who, NULL))
            q->view.hidden++;
    return q->view.hidden == 0;
}

void kz__api_alliance_path(struct kz__http_conn *c)
{
    const char *cmp = kz__http_param(&c->hp.req.target, "compare");
    const char *rs = kz__http_param(&c->hp.req.target, "routes");
    const char *via = kz__http_param(&c->hp.req.target, "via");
    const char *hub = kz__http_param(&c->hp.req.target, "hub");
    unsigned long routes = rs ? strtoul(rs, NULL, 10) : 3;
    const char *from, *to;
    json_t *o = NULL;
    struct q q;

    if (!begin(c, &q))
        return;
    if (routes < 1 || routes > 50) {
        kz__http_error(c, 400, "routes must be 1..50");
        return;
    }
    if (cmp && strcmp(cmp, "1") == 0) {
        const char *ids[] = {hub};
        if (!path_visible(&q, ids, 1)) {
            kz__http_error(c, 403, "the model holds commands not releasable to you");
            return;
        }
        reply(c, &q, kz_alliance_compare_topology(q.a, hub, q.t0, &o), &o);
        return;
    }
    if ((from = need(c, "from")) == NULL || (to = need(c, "to")) == NULL)
        return;
    const char *ids[] = {from, to, via};
    if (!path_visible(&q, ids, 3)) {
        kz__http_error(c, 403, "the model holds commands not releasable to you");
        return;
    }
    reply(c, &q, kz_alliance_paths(q.a, from, to, via, q.t0, (unsigned)routes, &o), &o);
}
