/*
 * server.c - the life cycle of a node: start (store, restore, credentials,
 * inputs), run, stop in order (inputs, connections, credentials), release
 * (flush the store, close the loop, free).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/auth.h"
#include "server/server.h"

void kz_server_init(struct kz_server *srv, struct kz_config *cfg, const char *config_path,
                    const char *data_dir, const char *ports_file)
{
    memset(srv, 0, sizeof(*srv));
    srv->cfg = cfg;
    srv->config_path = config_path;
    srv->data_dir = data_dir;
    srv->ports_file = ports_file;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return KZ_OK;
    kz_log(KZ_LOG_ERROR, "cannot create data directory", "path=%s error=\"%s\"", path,
           strerror(errno));
    return KZ_ERR_IO;
}

/* store.backend postgres: store.dsn set, and every table on PostgreSQL. */
static int check_postgres(struct kz_server *srv, bool opened)
{
    const char *missing;

    if (!opened && !srv->cfg->store->dsn[0]) {
        kz_log(KZ_LOG_ERROR, "store.backend postgres needs store.dsn", "config=%s",
               srv->config_path ? srv->config_path : "(built-in)");
        return KZ_ERR_CONFIG;
    }
    if (opened && (missing = kz_store_unported(srv->store)) != NULL) {
        kz_log(KZ_LOG_ERROR, "store: the postgres backend lacks tables this server needs",
               "missing=\"%s\" hint=\"use store.backend sqlite\"", missing);
        return KZ_ERR_CONFIG;
    }
    return KZ_OK;
}

static int open_store(struct kz_server *srv)
{
    const struct kz_config_store *sc = srv->cfg->store;
    bool pg = strcmp(sc->backend, "postgres") == 0;
    struct kz_store_opts so = {
        .path = srv->db_path,
        .max_delay_ms = sc->max_delay_ms,
        .retention_us = (int64_t)sc->retention_days * 86400 * 1000000,
        .retention_bytes = (int64_t)sc->retention_bytes,
        .node_id = srv->cfg->node->id,
    };
    int rc;

    if (pg && (rc = check_postgres(srv, false)) != KZ_OK)
        return rc;
    /* db_path: the store's locator, "postgres:DSN" for PostgreSQL (the users connection too). */
    if (kz_store_locator(sc->backend, sc->dsn, srv->data_dir, sc->path, srv->db_path,
                         sizeof(srv->db_path)) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "store path too long", "data=%s path=%s", srv->data_dir,
               pg ? "(store.dsn)" : sc->path);
        return KZ_ERR_CONFIG;
    }
    if (make_dir(srv->data_dir) != KZ_OK)
        return KZ_ERR_IO;
    if ((rc = kz_store_open(&srv->loop, &so, &srv->store)) != KZ_OK)
        return rc;
    if (pg && (rc = check_postgres(srv, true)) != KZ_OK)
        return rc;
    kz_store_set_audit_dir(srv->store, srv->data_dir); /* even when store.path is elsewhere */
    kz_store_set_max_pending(srv->store, sc->max_pending_writes);
    return KZ_OK;
}

/* Certificate identities, for events stored or queried by sender name. */
static const struct kz_identity *user_identity(void *ud, const char *user)
{
    struct kz_server *srv = ud;
    const struct kz_user *u = kz_users_find(srv->tls.users, user);
    return u ? &u->id : NULL;
}

static bool has_tls_input(const struct kz_server *srv)
{
    for (unsigned i = 0; i < srv->n_inputs; i++) {
        enum kz_input_protocol p = srv->cfg->inputs[i].protocol;
        if (p == KZ_PROTO_TLS || p == KZ_PROTO_HTTPS || p == KZ_PROTO_ENROLL)
            return true;
    }
    return false;
}

static void new_router(struct kz_server *srv)
{
    srv->router = kz_router_new(
        &srv->loop, &(struct kz_router_opts){
                        .policy = &srv->policy,
                        .groups = &srv->groups,
                        .store = srv->store,
                        .inputs = srv->inputs,
                        .n_inputs = srv->n_inputs,
                        .node_id = srv->cfg->node->id,
                        .max_tracks = srv->cfg->limits->max_tracks,
                        .max_tracks_per_identity = srv->cfg->limits->max_tracks_per_identity,
                        .max_stale_s = srv->cfg->limits->max_stale_s,
                        .user_identity = user_identity,
                        .user_ud = srv,
                    });
}

struct kz_http_opts kz__server_http_opts(struct kz_server *srv)
{
    const struct kz_config_limits *lim = srv->cfg->limits;

    return (struct kz_http_opts){
        .net = &srv->net,
        .creds = &srv->tls,
        .max_body = lim->http_max_body,
        .max_headers = lim->http_max_headers,
        .timeout_ms = lim->http_timeout_ms,
        .out_queue_bytes = lim->out_queue_bytes,
        .max_connections = lim->max_connections,
        .caller = kz_api_caller_ops(&srv->api),
    };
}

static void set_stream_opts(struct kz_server *srv)
{
    const struct kz_config_limits *lim = srv->cfg->limits;

    srv->stream_opts = (struct kz_stream_opts){
        .net = &srv->net,
        .router = srv->router,
        .creds = &srv->tls,
        .max_event_bytes = lim->max_event_bytes,
        .out_queue_bytes = lim->out_queue_bytes,
        .max_connections = lim->max_connections,
        .idle_timeout_s = lim->idle_timeout_s,
    };
}

/* The HTTP engine with the REST and Marti resources; the server owns all three. */
static void start_http(struct kz_server *srv)
{
    struct kz_http_opts ho;

    kz_api_init(&srv->api, &(struct kz_api_opts){
                               .router = srv->router,
                               .store = srv->store,
                               .policy = &srv->policy,
                               .book = srv->book,
                               .max_event_bytes = srv->cfg->limits->max_event_bytes,
                               .creds = &srv->tls,
                           });
    kz__server_readyz_init(srv);
    srv->api.alliance = srv->alliance;
    srv->api.federation = srv->cfg->federation; /* restart-only: the pointer stays valid */
    kz_marti_init(&srv->marti, &(struct kz_marti_opts){
                                   .router = srv->router,
                                   .node_id = srv->cfg->node->id,
                                   .view = kz_api_view,
                                   .pki_dir = srv->pki_dir,
                                   .db_path = srv->db_path,
                                   .files = srv->files,
                                   .policy = &srv->policy,
                                   .max_file_bytes = srv->cfg->limits->max_file_bytes,
                                   .missions = srv->missions,
                                   .store = srv->store,
                                   .signer = srv->mission_signer,
                                   .mission_files = &srv->mission_files,
                               });
    ho = kz__server_http_opts(srv);
    srv->http = kz_http_new(&ho);
    kz_http_add_routes(srv->http, srv->api.routes, srv->api.n_routes, &srv->api);
    kz_http_add_routes(srv->http, srv->marti.routes, srv->marti.n_routes, &srv->marti);
    kz_http_add_stream_routes(srv->http, srv->marti.stream_routes, srv->marti.n_stream_routes,
                              &srv->marti);
    kz_http_add_routes(srv->http, srv->marti.mission_routes, srv->marti.n_mission_routes,
                       &srv->marti);
}

static void on_sighup(uv_signal_t *h, int signum)
{
    KZ_UNUSED(signum);
    kz_server_reload(h->data);
}

static void on_signal(uv_signal_t *h, int signum)
{
    kz_server_stop(h->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void start_signals(struct kz_server *srv)
{
    uv_signal_init(&srv->loop, &srv->sigint);
    uv_signal_init(&srv->loop, &srv->sigterm);
    uv_signal_init(&srv->loop, &srv->sighup);
    srv->sigint.data = srv->sigterm.data = srv->sighup.data = srv;
    uv_signal_start(&srv->sigint, on_signal, SIGINT);
    uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv->sighup, on_sighup, SIGHUP);
}

/* Bring the node up in dependency order; the caller releases on failure. */
static int start(struct kz_server *srv)
{
    int rc;

    if ((rc = kz__server_limits_apply(srv)) != KZ_OK || (rc = kz__server_inputs_init(srv)) != KZ_OK)
        return rc;
    kz_net_init(&srv->net, &srv->loop);
    start_signals(srv);
    if ((rc = kz__server_alliance_load(srv)) != KZ_OK)
        return rc;
    if ((rc = open_store(srv)) != KZ_OK)
        return rc;
    kz__server_audit_config(srv, "kizuna serve");
    if ((rc = kz_files_open(
             &(struct kz_files_opts){&srv->loop, srv->data_dir, srv->store, &srv->policy},
             &srv->files)) != KZ_OK)
        return rc;
    srv->book = kz_readiness_book_new();
    new_router(srv);
    set_stream_opts(srv);
    /* TLS first: restoring events of certificate users needs their identities. */
    if (has_tls_input(srv) && (rc = kz__creds_start(srv)) != KZ_OK)
        return rc;
    kz__server_missions_init(srv);
    start_http(srv);
    kz__server_plan_missions_init(srv); /* after kz_api_init */
    if ((rc = kz__server_web_init(srv)) != KZ_OK)
        return rc;
    if ((rc = kz__server_own_input_init(srv)) != KZ_OK)
        return rc;
    kz_router_add_input(srv->router, &srv->own_input);
    srv->api.own_input = &srv->own_input;
    if ((rc = kz__server_fed_init(srv)) != KZ_OK || (rc = kz__server_cluster_init(srv)) != KZ_OK)
        return rc;
    if ((rc = kz_api_readiness_load(&srv->api)) != KZ_OK ||
        (rc = kz_api_plans_load(&srv->api)) != KZ_OK ||
        (rc = kz__server_missions_start(srv)) != KZ_OK)
        return rc;
    if ((rc = kz_router_restore(srv->router)) != KZ_OK)
        return rc;
    kz_api_plans_publish(&srv->api);
    kz__server_plan_missions_start(srv);
    return kz__server_inputs_start(srv);
}

int kz_server_start(struct kz_server *srv)
{
    int rc;

    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&srv->loop);
    kz_log(KZ_LOG_INFO, "starting", "version=%s node=%s config=%s data=%s", KZ_VERSION,
           srv->cfg->node->id, srv->config_path ? srv->config_path : "(built-in)", srv->data_dir);
    if ((rc = start(srv)) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "startup failed", "error=\"%s\"", kz_strerror(rc));
        kz_server_stop(srv, "startup failed");
    } else {
        kz__server_notify_ready(srv);
    }
    return rc;
}

void kz_server_run(struct kz_server *srv)
{
    uv_run(&srv->loop, UV_RUN_DEFAULT);
}

static void close_signal(uv_signal_t *s)
{
    if (!uv_is_closing((uv_handle_t *)s) && s->loop) {
        uv_signal_stop(s);
        uv_close((uv_handle_t *)s, NULL);
    }
}

void kz_server_stop(struct kz_server *srv, const char *why)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    kz_log(KZ_LOG_INFO, "shutting down", "reason=%s", why);
    kz__server_notify_stopping(srv);
    close_signal(&srv->sigint);
    close_signal(&srv->sigterm);
    close_signal(&srv->sighup);
    kz__server_inputs_stop(srv);
    kz__server_fed_stop(srv);
    kz__server_cluster_stop(srv);
    kz_stream_close_all(&srv->net);
    if (srv->http)
        kz_http_close_all(srv->http);
    kz__creds_stop(srv);
    /* The store's wake-up handle keeps the loop alive; release drains it. */
    uv_stop(&srv->loop);
}

/* Let pending close callbacks run without blocking. */
static void drain(uv_loop_t *loop)
{
    for (int i = 0; i < 8; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

void kz_server_release(struct kz_server *srv)
{
    if (!srv->stopping)
        kz_server_stop(srv, "release");
    drain(&srv->loop);
    /* Worker jobs and uploads that write to the store finish before it closes. */
    while (kz_fed_pending(srv->fed) || kz_api_plans_busy(&srv->api) ||
           kz__server_plan_missions_busy(srv) || kz_marti_busy(&srv->marti))
        uv_run(&srv->loop, UV_RUN_ONCE);
    if (srv->store)
        kz_store_close(srv->store);
    drain(&srv->loop);
    kz__server_fed_release(srv);
    kz_router_free(srv->router);
    kz__server_cluster_release(srv); /* its inputs outlive the router */
    kz_net_shutdown(&srv->net);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&srv->loop) != 0)
        kz_log(KZ_LOG_WARN, "event loop closed with handles still open", NULL);
    /* Only now: a held HTTP request may have been answered in the runs above. */
    kz_http_free(srv->http);
    kz_api_release(&srv->api);
    kz_marti_release(&srv->marti);
    kz_files_free(srv->files); /* no writer or reader is left: the loop ran dry */
    kz__server_missions_release(srv);
    kz__server_plan_missions_release(srv);
    kz_readiness_book_free(srv->book);
    kz_alliance_free(srv->alliance);
    free(srv->inputs);
    free(srv->listeners);
    kz__server_own_input_release(srv);
    kz_groups_release(&srv->groups);
    kz__server_retired_free(srv);
    kz_config_free(srv->cfg);
}
