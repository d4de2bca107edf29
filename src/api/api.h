/*
 * api.h - REST v1: the resources kizuna serves over the HTTP engine
 * (src/http/), one file per resource, each exporting its route rows:
 *
 *   api.c        GET /healthz, GET /readyz; assembles the table
 *   metrics.c    GET /metrics
 *   tracks.c     GET /api/v1/tracks
 *   events.c     GET, POST /api/v1/events
 *   stream.c     GET /api/v1/stream (router subscriber, SSE framing)
 *   alliance.c   GET /api/v1/alliance/{show,chain,can-task,counterpart,forums,path}
 *   readiness.c  POST, GET /api/v1/readiness, GET /api/v1/readiness/rollup
 *   federation.c GET /api/v1/federation (peers' link states; also read by /metrics) and
 *                GET /api/v1/federation/{peer}/sent (the sent log)
 *   web.c        GET / and GET /web/{file}: the browser COP's static files (docs/web.md)
 *   caller.c     who is calling (struct kz_http_caller_ops for the engine)
 *
 * Every object that leaves goes through kz_router_visible() (or a release
 * check on its label) for the caller's view.  Loop thread only.
 *
 * Wiring (the composition root):
 *   struct kz_api api;
 *   kz_api_init(&api, &(struct kz_api_opts){...});   router, store, policy, book, ...
 *   api.alliance = <the current model>;                again after every reload
 *   kz_api_readiness_load(&api);                       startup: the book from the store
 *   kz_api_web_load(&api, dir, err, len);              startup: the COP's files (optional)
 *   h = kz_http_new(&(struct kz_http_opts){..., .caller = kz_api_caller_ops(&api)});
 *   kz_http_add_routes(h, api.routes, api.n_routes, &api);
 *   ... kz_listener_start(loop, input, kz_http_accept, h, ...) ...
 *   shutdown: kz_http_close_all(h); close the store; kz_http_free(h); kz_api_release(&api);
 */
#ifndef KZ_API_H
#define KZ_API_H

#include "alliance/alliance.h"
#include "http/http.h"
#include "plan/plan.h"
#include "readiness/readiness.h"
#include "route/route.h"

struct kz_cluster;

struct kz_api_opts {
    struct kz_router *router;             /* NULL: router resources answer 503 */
    struct kz_store *store;               /* NULL: events query and readiness POST 503 */
    const struct kz_label_policy *policy; /* NULL: the built-in default policy */
    struct kz_readiness_book *book;       /* borrowed; NULL: an empty book of its own */
    size_t max_event_bytes; /* CoT decode limit for POST bodies (limits.max_event_bytes) */
    const struct kz_tls_creds *creds; /* https callers' users snapshot; NULL: none */
};

/*
 * The application context every handler gets.  Pointers are borrowed (the
 * composition root owns router, store, policy, book and the alliance
 * model) and must outlive every connection of the engine serving it.
 */
struct kz_api {
    struct kz_router *router;
    struct kz_store *store;
    const struct kz_label_policy *policy;
    struct kz_readiness_book *book;
    /* The alliance model answered from, or NULL.  Replaced on reload by the
     * owner: handlers read it here at request time and never keep it. */
    const struct kz_alliance *alliance;
    size_t max_event_bytes;
    const struct kz_tls_creds *creds;
    /* The server's own input, borrowed: plans on the map are sent from it
     * (NULL: they are not sent). */
    const struct kz_input *own_input;
    /* Federation (api/federation.c), both set by the owner: the configured
     * peers (NULL: none), and the live status provider, which returns a new
     * reference to {"peers":[{"name","state","protocol","since","sent",
     * "received","denied","duplicates","queued"}]} (state up|connecting|down;
     * since: ISO 8601 UTC of the last state change, or null).  Without a
     * provider (or when it returns NULL) every configured peer is "down". */
    const struct kz_config_federation *federation;
    struct json_t *(*fed_status)(void *ud);
    void *fed_status_ud;
    /* Set by the owner (NULL: none): runs after each committed create, edit, item or stage
     * change of a plan, the new version already in `plans` (the plan's mission follows it:
     * server/plan_missions.c). */
    void (*plan_changed)(void *ud, const char *plan_id);
    void *plan_changed_ud;
    /* GET /readyz: set by the owner; returns NULL when the node is ready,
     * else why not (a static string).  NULL provider: always ready. */
    const char *(*not_ready)(void *ud);
    void *not_ready_ud;
    /* The cluster this instance is part of (server/cluster.c), or NULL: /healthz says
     * "joined" or "island", /metrics has its series. */
    struct kz_cluster *cluster;
    /* Owned: */
    struct kz_readiness_book *own_book;
    struct kz_label_policy builtin_policy;
    struct kz_cot_decoder *dec;        /* POST bodies and stored rows; loop thread */
    struct kz_plan_book *plans;        /* every plan (api/plans.c) */
    struct kz__plan_queue *plan_queue; /* plan changes, one at a time */
    struct kz__api_web *web;           /* the COP's files (api/web.c), NULL: none loaded */
    struct kz_http_route *routes;      /* the whole REST v1 table */
    size_t n_routes;
};

/* Fill `api` from opts, register the SSE wire format with the router and build the table. */
void kz_api_init(struct kz_api *api, const struct kz_api_opts *opts);
/* Free what kz_api_init() made (not the borrowed objects). */
void kz_api_release(struct kz_api *api);
/* Reload: POST bodies are decoded under this limit from now on. */
void kz_api_set_max_event_bytes(struct kz_api *api, size_t max_event_bytes);

/*
 * Startup, before the inputs start: rebuild the readiness book from the
 * store (every acknowledged report, history included).  Returns KZ_OK or
 * KZ_ERR_DB.
 */
int kz_api_readiness_load(struct kz_api *api);

/*
 * The caller hook for kz_http_opts.caller: http callers are their input's
 * identity; https callers the users-table entry of their certificate's CN
 * (kz_tls_identity_get; unknown is refused).  The caller object is a
 * struct kz_sub viewer for kz_router_visible() (see kz_api_view()).
 */
/*
 * Startup: rebuild the plans from the store (the newest revision of each).
 * KZ_OK or KZ_ERR_DB (logged).
 */
int kz_api_plans_load(struct kz_api *api);
/* A plan change or audit read is running on the worker pool (the store must stay open). */
bool kz_api_plans_busy(const struct kz_api *api);
/* After the router's restore: every open plan's items on the map again. */
void kz_api_plans_publish(struct kz_api *api);

/*
 * Startup (blocking reads, before the loop runs): read the browser COP's
 * files, the regular files directly in `root` (each with its NAME.gz when
 * the build made one), into memory for GET / and GET /web/{file}; they
 * replace any read before.  KZ_OK; KZ_ERR_NOTFOUND (no such directory),
 * KZ_ERR_IO or KZ_ERR_TOOBIG (over 256 files or a file over 64 MiB), with
 * the reason in err.  Until it succeeds those paths answer 404.
 */
int kz_api_web_load(struct kz_api *api, const char *root, char *err, size_t errlen);

struct kz_http_caller_ops kz_api_caller_ops(struct kz_api *api);

/* The caller's view for the release rule: never NULL (nobody sees nothing labelled). */
const struct kz_sub *kz_api_view(const struct kz_http_req *req);

#endif
