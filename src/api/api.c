/*
 * api.c - the REST v1 context and its route table: every resource file's
 * rows, in order, plus GET /healthz (liveness: the loop answers) and GET
 * /readyz (readiness, as the owner's provider says); and the helpers the
 * resources share.
 */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "cluster/cluster.h"

/* Liveness; an instance of a cluster also says whether it is joined or an island. */
static void get_healthz(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;

    if (api->cluster)
        kz__api_respond_json(req, 200,
                             json_pack("{s:s,s:s}", "status", "ok", "cluster",
                                       kz_cluster_is_joined(api->cluster) ? "joined" : "island"));
    else
        kz_http_respond(req, 200, "text/plain; charset=utf-8", NULL, "ok\n", 3);
}

/* 200 {"ready":true}, or 503 {"ready":false,"reason":...} for load balancers. */
static void get_readyz(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    const char *why = api->not_ready ? api->not_ready(api->not_ready_ud) : NULL;

    if (!why)
        kz__api_respond_json(req, 200, json_pack("{s:b}", "ready", 1));
    else
        kz__api_respond_json(req, 503, json_pack("{s:b,s:s}", "ready", 0, "reason", why));
}

static const struct kz_http_route health_rows[] = {
    {"GET", "/healthz", get_healthz, NULL, KZ_HTTP_ON_ANY},
    {"GET", "/readyz", get_readyz, NULL, KZ_HTTP_ON_ANY},
};

static const struct kz_http_route *health_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(health_rows);
    return health_rows;
}

static void add_rows(struct kz_api *api, const struct kz_http_route *(*get)(size_t *n))
{
    size_t n;
    const struct kz_http_route *rows = get(&n);

    api->routes = kz_xrealloc(api->routes, (api->n_routes + n) * sizeof(*api->routes));
    memcpy(api->routes + api->n_routes, rows, n * sizeof(*rows));
    api->n_routes += n;
}

static void build_table(struct kz_api *api)
{
    add_rows(api, health_routes);
    add_rows(api, kz__api_metrics_routes);
    add_rows(api, kz__api_tracks_routes);
    add_rows(api, kz__api_events_routes);
    add_rows(api, kz__api_stream_routes);
    add_rows(api, kz__api_alliance_routes);
    add_rows(api, kz__api_readiness_routes);
    add_rows(api, kz__api_plans_routes);
    add_rows(api, kz__api_federation_routes);
    add_rows(api, kz__api_web_routes);
}

void kz_api_init(struct kz_api *api, const struct kz_api_opts *opts)
{
    memset(api, 0, sizeof(*api));
    api->router = opts->router;
    api->store = opts->store;
    api->max_event_bytes = opts->max_event_bytes;
    api->creds = opts->creds;
    kz_label_policy_init_default(&api->builtin_policy);
    api->policy = opts->policy ? opts->policy : &api->builtin_policy;
    api->book = opts->book;
    if (!api->book)
        api->book = api->own_book = kz_readiness_book_new();
    kz__api_stream_init(api);
    kz__api_plans_init(api);
    build_table(api);
}

void kz_api_release(struct kz_api *api)
{
    if (api->own_book)
        kz_readiness_book_free(api->own_book);
    if (api->dec)
        kz_cot_decoder_free(api->dec);
    kz__api_plans_release(api);
    kz__api_web_release(api);
    free(api->routes);
    memset(api, 0, sizeof(*api));
}

bool kz__api_need_router(struct kz_api *api, struct kz_http_req *req)
{
    if (api->router)
        return true;
    kz_http_error(req, 503, "no router");
    return false;
}

void kz_api_set_max_event_bytes(struct kz_api *api, size_t max_event_bytes)
{
    if (api->max_event_bytes == max_event_bytes)
        return;
    api->max_event_bytes = max_event_bytes;
    kz_cot_decoder_free(api->dec); /* decoding is synchronous: none is in use */
    api->dec = NULL;
}

struct kz_cot_decoder *kz__api_decoder(struct kz_api *api)
{
    if (!api->dec) {
        struct kz_cot_limits lim;
        kz_cot_limits_default(&lim);
        lim.max_event_bytes = api->max_event_bytes;
        api->dec = kz_cot_decoder_new(&lim);
    }
    return api->dec;
}

void kz__api_respond_json(struct kz_http_req *req, int status, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(o);
    kz_http_respond(req, status, "application/json", NULL, s, strlen(s));
    free(s);
}
