/*
 * alliance.c - GET /api/v1/alliance/{show,chain,can-task,counterpart,
 * forums,path}: the alliance queries as JSON, answered from the model the
 * server loaded (api->alliance, read at request time: a reload replaces
 * it).  Entries carrying a label the caller may not see are left out (the
 * caller's release subject), silently: an answer never says that, or how
 * many, entries were left out, and a hidden command is answered like an
 * unknown one (404).
 *
 * Parameters: at=YYYY-MM-DD (path: an ISO time, Z or +hh:mm), unit=, from=,
 * to=, via=, routes=1..50, compare=1 (path: hub-and-spokes vs lattice), hub=.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

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

static bool begin(struct kz_http_req *req, struct kz_api *api, struct q *q)
{
    q->a = api->alliance;
    if (!q->a) {
        kz_http_error(req, 503, "no alliance model configured");
        return false;
    }
    if (parse_at(kz_http_param(req, "at"), &q->t0) != KZ_OK) {
        kz_http_error(req, 400, "bad 'at': want YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss](Z|+hh:mm)");
        return false;
    }
    q->day = kz_day_of_us(q->t0 * 1000000);
    /* Without an identity the zero subject sees nothing that carries a label. */
    q->view.who = &kz_api_view(req)->subject;
    return true;
}

static const char *need(struct kz_http_req *req, const char *name)
{
    const char *v = kz_http_param(req, name);
    if (!v || !*v)
        kz_http_error(req, 400, "missing parameter '%s'", name);
    return v && *v ? v : NULL;
}

/* Evaluated after the query: `o` is filled by the call in the argument list. */
static void reply(struct kz_http_req *req, int rc, json_t **op)
{
    json_t *o = *op;

    if (rc == KZ_ERR_NOTFOUND) {
        kz_http_error(req, 404, "unknown command id");
        return;
    }
    if (rc != KZ_OK) {
        kz_http_error(req, 400, "%s", kz_strerror(rc));
        return;
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
    json_decref(o);
    kz_http_respond(req, 200, "application/json", NULL, s, strlen(s));
    free(s);
}

static void show(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct q q;
    json_t *o;

    if (!begin(req, api, &q))
        return;
    o = kz_alliance_show(q.a, q.day, &q.view);
    reply(req, KZ_OK, &o);
}

static void forums(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct q q;
    json_t *o;

    if (!begin(req, api, &q))
        return;
    o = kz_alliance_forums(q.a, q.day, &q.view);
    reply(req, KZ_OK, &o);
}

static void chain(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct q q;
    const char *unit;
    json_t *o = NULL;

    if (begin(req, api, &q) && (unit = need(req, "unit")) != NULL)
        reply(req, kz_alliance_chain(q.a, unit, q.day, &q.view, &o), &o);
}

static void counterpart(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct q q;
    const char *unit;
    json_t *o = NULL;

    if (begin(req, api, &q) && (unit = need(req, "unit")) != NULL)
        reply(req, kz_alliance_counterpart(q.a, unit, q.day, &q.view, &o), &o);
}

static void can_task(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct q q;
    const char *from, *to;
    json_t *o = NULL;

    if (begin(req, api, &q) && (from = need(req, "from")) != NULL && (to = need(req, "to")) != NULL)
        reply(req, kz_alliance_can_task(q.a, from, to, q.day, &q.view, &o), &o);
}

/* ---- path: the latency analysis, filtered after the fact ------------------- */

#define ALL_ROUTES 50

static bool cmd_hidden(const struct q *q, const char *id)
{
    const struct kz_command *cmd = id ? kz_alliance_command(q->a, id) : NULL;
    return cmd && cmd->label && !kz_may_release(&cmd->lab, q->view.who, NULL);
}

static bool forum_hidden(const struct q *q, const char *id)
{
    for (unsigned i = 0; i < q->a->n_forums; i++) {
        const struct kz_forum *f = &q->a->forums[i];
        if (strcmp(f->id, id) == 0)
            return f->label && !kz_may_release(&f->lab, q->view.who, NULL);
    }
    return false;
}

/* A route leaves only when every command on it and every forum it uses may. */
static bool route_visible(const struct q *q, json_t *route)
{
    json_t *hop;
    size_t i;

    json_array_foreach(json_object_get(route, "hops"), i, hop)
    {
        const char *node = json_string_value(json_object_get(hop, "node"));
        const char *link = json_string_value(json_object_get(hop, "link"));
        if (cmd_hidden(q, node) || (link && forum_hidden(q, link)))
            return false;
    }
    json_array_foreach(json_object_get(route, "via"), i,
                       hop) if (cmd_hidden(q, json_string_value(hop))) return false;
    return true;
}

/* Keep the first `max` routes the caller may see, fastest first as computed. */
static void filter_routes(const struct q *q, json_t *o, size_t max)
{
    json_t *routes = json_object_get(o, "routes");

    for (size_t i = 0; i < json_array_size(routes);) {
        if (i < max && route_visible(q, json_array_get(routes, i)))
            i++;
        else
            json_array_remove(routes, i);
    }
}

/* Pairs with a command the caller may not see are left out; the totals follow. */
static void filter_pairs(const struct q *q, json_t *o)
{
    static const char *const keys[] = {"hub_mean_s", "hub_worst_s", "lattice_mean_s",
                                       "lattice_worst_s"};
    json_t *pairs = json_object_get(o, "pairs");

    for (size_t i = 0; i < json_array_size(pairs);) {
        json_t *p = json_array_get(pairs, i);
        if (cmd_hidden(q, json_string_value(json_object_get(p, "a"))) ||
            cmd_hidden(q, json_string_value(json_object_get(p, "b"))))
            json_array_remove(pairs, i);
        else
            i++;
    }
    for (unsigned k = 0; k < KZ_ARRAY_LEN(keys); k++) {
        json_int_t sum = 0, worst = 0, v;
        size_t n = json_array_size(pairs);
        for (size_t i = 0; i < n; i++) {
            v = json_integer_value(json_object_get(json_array_get(pairs, i), keys[k]));
            sum += v;
            worst = v > worst ? v : worst;
        }
        json_object_set_new(o, keys[k], json_integer(k % 2 ? worst : n ? sum / (json_int_t)n : 0));
    }
}

static void path(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    const char *cmp = kz_http_param(req, "compare");
    const char *rs = kz_http_param(req, "routes");
    const char *via = kz_http_param(req, "via");
    const char *hub = kz_http_param(req, "hub");
    unsigned long routes = rs ? strtoul(rs, NULL, 10) : 3;
    const char *from, *to;
    json_t *o = NULL;
    struct q q;
    int rc;

    if (!begin(req, api, &q))
        return;
    if (routes < 1 || routes > ALL_ROUTES) {
        kz_http_error(req, 400, "routes must be 1..50");
        return;
    }
    if (cmp && strcmp(cmp, "1") == 0) {
        if (!hub && q.a->n_nations)
            hub = q.a->nations[0].top;
        rc = cmd_hidden(&q, hub) ? KZ_ERR_NOTFOUND
                                 : kz_alliance_compare_topology(q.a, hub, q.t0, &o);
        if (rc == KZ_OK)
            filter_pairs(&q, o);
        reply(req, rc, &o);
        return;
    }
    if ((from = need(req, "from")) == NULL || (to = need(req, "to")) == NULL)
        return;
    /* A hidden end or waypoint is answered like an unknown one. */
    if (cmd_hidden(&q, from) || cmd_hidden(&q, to) || cmd_hidden(&q, via))
        rc = KZ_ERR_NOTFOUND;
    else
        rc = kz_alliance_paths(q.a, from, to, via, q.t0, ALL_ROUTES, &o);
    if (rc == KZ_OK)
        filter_routes(&q, o, routes);
    reply(req, rc, &o);
}

static const struct kz_http_route rows[] = {
    {"GET", "/api/v1/alliance/show", show, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/alliance/chain", chain, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/alliance/can-task", can_task, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/alliance/counterpart", counterpart, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/alliance/forums", forums, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/alliance/path", path, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_alliance_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
