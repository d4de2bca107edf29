/*
 * readiness.c - POST/GET /api/v1/readiness and GET
 * /api/v1/readiness/rollup.  Reports live in the book the server owns
 * (api->book, loop thread), rebuilt from the store at startup
 * (kz_api_readiness_load); every answer goes through the release rule for
 * the caller.
 *
 *   POST /api/v1/readiness        {"unit","p","s","r","t",...}: 201 with the report,
 *                                 only after it has committed; 400 bad report, a
 *                                 label above the input's ceiling (as for CoT) or
 *                                 an unknown unit; 403 the unit belongs to another
 *                                 nation than the reporter's; 500 the store
 *                                 failed; 503 no store
 *   GET  /api/v1/readiness[?unit=U[&history=1]]   latest per unit, or U's history
 *   GET  /api/v1/readiness/rollup?command=C       counts by C-level under C
 * A report carries its reporter's OUT groups; a caller sees it when its IN
 * groups meet them and the release rule gives it the label (as for CoT).
 * A unit whose alliance command the caller may not see is answered
 * exactly like an unknown one, and reports about it are never served.
 * Stale: older than the alliance file's readiness.stale_after_h
 * (KZ_ALLIANCE_STALE_AFTER_H without a model).
 */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

static int64_t stale_us(const struct kz_api *api)
{
    const struct kz_alliance *a = api->alliance;
    return (int64_t)(a ? a->readiness_stale_h : KZ_ALLIANCE_STALE_AFTER_H) * 3600 * 1000000;
}

/* What a caller may know of the alliance's units. */
struct caller {
    const struct kz_alliance *alliance; /* NULL: no model, every unit is visible */
    const struct kz_release_subject *who;
};

/* False for a command whose own label the caller may not see. */
static bool unit_visible(void *ud, const char *unit)
{
    const struct caller *c = ud;
    const struct kz_command *cmd = c->alliance ? kz_alliance_command(c->alliance, unit) : NULL;

    return !cmd || !cmd->label || kz_may_release(&cmd->lab, c->who, NULL);
}

/* The caller's view of the book; `c` must outlive it. */
static struct kz_readiness_viewer viewer(struct kz_api *api, struct kz_http_req *req,
                                         struct caller *c)
{
    const struct kz_sub *view = kz_api_view(req);
    const struct kz_identity *id = view->identity;

    c->alliance = api->alliance;
    c->who = &view->subject;
    return (struct kz_readiness_viewer){
        .who = &view->subject,
        .in = id ? id->groups_in : NULL,
        .n_in = id ? id->groups_in_count : 0,
        .unit_visible = unit_visible,
        .ud = c,
    };
}

/*
 * With a model loaded, a unit must exist, be visible to the caller and
 * belong to the reporter's nation.  A hidden unit is answered exactly like
 * an unknown one.
 */
static bool unit_ok(struct kz_api *api, struct kz_http_req *req, const char *unit,
                    const char *nation)
{
    const struct kz_alliance *a = api->alliance;
    const struct kz_command *cmd = a ? kz_alliance_command(a, unit) : NULL;
    struct caller c = {a, &kz_api_view(req)->subject};

    if (a && (!cmd || !unit_visible(&c, unit))) {
        kz_http_error(req, 400, "unknown unit '%s'", unit);
        return false;
    }
    if (cmd && strcmp(cmd->nation, nation) != 0) {
        kz_http_error(req, 403, "%s is a %s unit: %s may not report its readiness", unit,
                      cmd->nation, nation);
        return false;
    }
    return true;
}

int kz_api_readiness_load(struct kz_api *api)
{
    unsigned loaded = 0, skipped = 0;
    int err = kz_readiness_book_load(api->book, api->store, api->policy, &loaded, &skipped);

    if (err == KZ_OK)
        kz_log(skipped ? KZ_LOG_WARN : KZ_LOG_INFO, "readiness: reports restored",
               "loaded=%u skipped=%u", loaded, skipped);
    else
        kz_log(KZ_LOG_ERROR, "readiness: cannot restore reports", "err=%s", kz_strerror(err));
    return err;
}

/* A report waiting for its commit, in the request's memory (not the connection's). */
struct pending {
    struct kz_api *api;
    struct kz_http_req *req;
    struct kz_readiness r;
};

/*
 * A committed report goes into the book even when its client has gone: it
 * is acknowledged, and it would be back after a restart anyway.
 */
static void post_ack(void *ud, int status)
{
    struct pending *p = ud;
    struct kz_http_req *req = p->req;
    bool gone = kz_http_gone(req);
    json_t *o = NULL;

    if (status == KZ_OK) {
        kz_log(KZ_LOG_INFO, "readiness: report", "unit=%s overall=%u user=%s", p->r.unit,
               p->r.overall, p->r.reporter ? p->r.reporter : "-");
        if (!gone)
            o = kz_readiness_json(&p->r, kz_now_us(), stale_us(p->api));
        kz_readiness_book_add(p->api->book, &p->r);
    }
    if (!gone) {
        if (o)
            kz__api_respond_json(req, 201, o);
        else
            kz_http_error(req, 500, "store: %s", kz_strerror(status));
    }
    kz_readiness_clear(&p->r);
    kz_http_release(req); /* frees p */
}

/* The input's ceiling bounds a report's label as it bounds a CoT event's (same answer). */
static bool under_ceiling(struct kz_http_req *req, const struct kz_readiness *r)
{
    const struct kz_input *in = kz_http_input(req);

    if (!in || !in->has_ceiling || kz_label_dominated(&r->label, &in->ceiling))
        return true;
    kz_metrics.rejects[KZ_REJ_CEILING]++;
    kz_http_error(req, 400, "%s: refused", kz_reject_name(KZ_REJ_CEILING));
    return false;
}

/* The report goes where the reporter's CoT goes: its OUT groups. */
static void take_groups(struct kz_readiness *r, const struct kz_identity *id)
{
    r->groups = kz_xcalloc(id->groups_out_count + 1, sizeof(char *));
    for (unsigned i = 0; i < id->groups_out_count; i++)
        r->groups[i] = kz_xstrdup(id->groups_out[i]);
    r->n_groups = id->groups_out_count;
}

static void post(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    const struct kz_identity *id = kz_http_identity(req);
    struct pending *p;
    struct kz_readiness r;
    char err[300];
    size_t len;
    const char *body = kz_http_body(req, &len);

    if (!api->store) {
        kz_http_error(req, 503, "no store configured");
        return;
    }
    if (!id || !id->nation) {
        kz_http_error(req, 403, "no identity");
        return;
    }
    if (kz_readiness_parse(len ? body : NULL, len, api->policy, id->nation, &r, err, sizeof(err))) {
        kz_http_error(req, 400, "%s", err);
        return;
    }
    if (!under_ceiling(req, &r) || !unit_ok(api, req, r.unit, id->nation)) {
        kz_readiness_clear(&r);
        return;
    }
    r.reporter = kz_xstrdup(id->user);
    take_groups(&r, id);
    p = kz_http_alloc(req, sizeof(*p));
    p->api = api;
    p->req = req;
    p->r = r;
    /* Answered from post_ack, after the commit (like POST /api/v1/events). */
    kz_http_hold(req);
    kz_readiness_save(api->store, &p->r, post_ack, p);
}

static void get(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    const char *unit = kz_http_param(req, "unit");
    const char *hist = kz_http_param(req, "history");
    struct caller c;
    struct kz_readiness_viewer v = viewer(api, req, &c);

    if (hist && strcmp(hist, "1") == 0) {
        if (!unit) {
            kz_http_error(req, 400, "history needs unit");
            return;
        }
        kz__api_respond_json(req, 200,
                             kz_readiness_history(api->book, unit, &v, kz_now_us(), stale_us(api)));
        return;
    }
    kz__api_respond_json(req, 200,
                         kz_readiness_latest(api->book, unit, &v, kz_now_us(), stale_us(api)));
}

static bool under(void *ud, const char *unit, const char *command)
{
    const struct kz_alliance *a = ud;
    return a ? kz_alliance_is_under(a, unit, command, kz_day_of_us(kz_now_us()))
             : strcmp(unit, command) == 0;
}

static void rollup(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    const char *command = kz_http_param(req, "command");
    struct caller c;
    struct kz_readiness_viewer v = viewer(api, req, &c);

    if (!command || !*command) {
        kz_http_error(req, 400, "missing parameter 'command'");
        return;
    }
    struct kz_readiness_rollup_opts o = {
        .command = command,
        .under = under,
        .ud = (void *)api->alliance,
        .who = &v,
        .now_us = kz_now_us(),
        .stale_us = stale_us(api),
    };
    kz__api_respond_json(req, 200, kz_readiness_rollup(api->book, &o));
}

static const struct kz_http_route rows[] = {
    {"POST", "/api/v1/readiness", post, KZ_ROLE_OPERATOR, KZ_HTTP_ON_API},
    {"GET", "/api/v1/readiness", get, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/readiness/rollup", rollup, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_readiness_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
