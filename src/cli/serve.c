/*
 * serve.c - `kizuna serve`: load the configuration, open the store,
 * restore state, start every input, run the loop until SIGINT/SIGTERM,
 * then stop in order (inputs, connections, store flush).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "auth/auth.h"
#include "cli/cli.h"
#include "http/http.h"
#include "marti/marti.h"
#include "net/net.h"
#include "store/store.h"

struct server {
    uv_loop_t loop;
    struct kz_config *cfg;
    struct kz_label_policy policy;
    struct kz_input *inputs;
    struct kz_listener **listeners;
    struct kz_store *store;
    struct kz_router *router;
    struct kz_stream_opts stream_opts;
    /* HTTP: the engine, and what it serves (start_http / stop_http) */
    struct kz_http *http;
    struct kz_api api;
    struct kz_marti marti;
    struct kz_readiness_book *book;
    uv_signal_t sigint, sigterm, sighup;
    const char *data_dir;
    const char *ports_file;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kizuna serve [-c FILE] [--data DIR] [--ports-file FILE] [--print-config]\n"
            "\n"
            "  -c, --config FILE    configuration (YAML); built-in defaults when absent\n"
            "  -d, --data DIR       data directory for the store (default ./data)\n"
            "  --ports-file FILE    write {\"inputs\": {NAME: PORT}} once every input listens\n"
            "  --print-config       print the effective configuration and exit\n"
            "  --config-docs        print the table of configuration keys (Markdown)\n"
            "  --log-level LEVEL    debug, info, warn or error (overrides log.level)\n");
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return KZ_OK;
    kz_log(KZ_LOG_ERROR, "cannot create data directory", "path=%s error=\"%s\"", path,
           strerror(errno));
    return KZ_ERR_IO;
}

/* Snapshot files: write a temporary file, then rename it into place. */
static int write_ports_file(struct server *srv)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", srv->ports_file);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        kz_log(KZ_LOG_ERROR, "cannot write ports file", "path=%s error=\"%s\"", tmp,
               strerror(errno));
        return KZ_ERR_IO;
    }
    fprintf(f, "{\"inputs\": {");
    for (unsigned i = 0; i < srv->cfg->inputs_count; i++)
        fprintf(f, "%s\"%s\": %d", i ? ", " : "", srv->inputs[i].conf->name, srv->inputs[i].port);
    fprintf(f, "}}\n");
    if (fclose(f) != 0 || rename(tmp, srv->ports_file) != 0) {
        kz_log(KZ_LOG_ERROR, "cannot write ports file", "path=%s error=\"%s\"", srv->ports_file,
               strerror(errno));
        return KZ_ERR_IO;
    }
    return KZ_OK;
}

static int open_store(struct server *srv)
{
    const struct kz_config_store *sc = srv->cfg->store;
    char path[4096];
    struct kz_store_opts so = {
        .path = path,
        .max_delay_ms = sc->max_delay_ms,
        .retention_us = (int64_t)sc->retention_days * 86400 * 1000000,
        .retention_bytes = (int64_t)sc->retention_bytes,
    };

    if (make_dir(srv->data_dir) != KZ_OK)
        return KZ_ERR_IO;
    if (sc->path[0] == '/')
        snprintf(path, sizeof(path), "%s", sc->path);
    else
        snprintf(path, sizeof(path), "%s/%s", srv->data_dir, sc->path);
    return kz_store_open(&srv->loop, &so, &srv->store);
}

static int init_inputs(struct server *srv)
{
    unsigned n = srv->cfg->inputs_count;
    char err[512];

    srv->inputs = kz_xcalloc(n ? n : 1, sizeof(*srv->inputs));
    srv->listeners = kz_xcalloc(n ? n : 1, sizeof(*srv->listeners));
    if (kz_label_policy_from_config(srv->cfg->labels, &srv->policy, err, sizeof(err)))
        goto fail;
    for (unsigned i = 0; i < n; i++)
        if (kz_input_init(&srv->inputs[i], &srv->cfg->inputs[i], &srv->policy, err, sizeof(err)))
            goto fail;
    return KZ_OK;
fail:
    kz_log(KZ_LOG_ERROR, "bad configuration", "error=\"%s\"", err);
    return KZ_ERR_CONFIG;
}

static int start_inputs(struct server *srv)
{
    for (unsigned i = 0; i < srv->cfg->inputs_count; i++) {
        struct kz_input *in = &srv->inputs[i];
        enum kz_input_protocol p = in->conf->protocol;
        bool http = p == KZ_PROTO_HTTP || p == KZ_PROTO_HTTPS || p == KZ_PROTO_ENROLL;
        int rc = kz_listener_start(&srv->loop, in, http ? kz_http_accept : kz_stream_accept,
                                   http ? (void *)srv->http : (void *)&srv->stream_opts,
                                   &srv->listeners[i]);
        if (rc)
            return rc;
    }
    return srv->ports_file ? write_ports_file(srv) : KZ_OK;
}

static void add_list(struct kz_sbuf *sb, const char *key, char **v, unsigned n)
{
    kz_sbuf_addf(sb, " %s=", key);
    for (unsigned i = 0; i < n; i++)
        kz_sbuf_addf(sb, "%s%s", i ? "," : "", v[i]);
}

static void describe_labels(const struct kz_config_labels *l, struct kz_sbuf *sb)
{
    kz_sbuf_addf(sb, "policy=%s", l->policy);
    for (unsigned i = 0; i < l->tetragraphs_count; i++)
        add_list(sb, l->tetragraphs[i].key, l->tetragraphs[i].values,
                 l->tetragraphs[i].values_count);
    for (unsigned i = 0; i < l->level_names_count; i++)
        add_list(sb, l->level_names[i].key, l->level_names[i].values,
                 l->level_names[i].values_count);
}

static void describe_input(const struct kz_input_conf *in, struct kz_sbuf *sb)
{
    const struct kz_identity *id = in->identity;

    kz_sbuf_addf(sb, "protocol=%s default_label=\"%s\" ceiling=\"%s\"",
                 kz_input_protocol_name(in->protocol), in->default_label ? in->default_label : "",
                 in->ceiling ? in->ceiling : "");
    if (!id)
        return;
    kz_sbuf_addf(sb, " user=%s nation=%s clearance=\"%s\"", id->user, id->nation, id->clearance);
    add_list(sb, "groups_in", id->groups_in, id->groups_in_count);
    add_list(sb, "groups_out", id->groups_out, id->groups_out_count);
    add_list(sb, "roles", id->roles, id->roles_count);
}

/* Record the object's description in the audit log when it changed. */
static void audit_if_changed(struct kz_store *st, const char *object, const char *detail)
{
    char *last = NULL;

    if (kz_store_audit_last(st, "config", object, &last) == KZ_OK && strcmp(last, detail) == 0) {
        free(last);
        return;
    }
    free(last);
    if (kz_store_audit(st, "kizuna serve", "config", object, detail) == KZ_OK)
        kz_log(KZ_LOG_INFO, "audit: configuration change recorded", "object=%s", object);
    else
        kz_log(KZ_LOG_ERROR, "audit: cannot record configuration change", "object=%s", object);
}

/* Labels and identities decide what leaves: every change is audited. */
static void audit_config(struct server *srv)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char object[96];

    describe_labels(srv->cfg->labels, &sb);
    audit_if_changed(srv->store, "labels", sb.buf);
    for (unsigned i = 0; i < srv->cfg->inputs_count; i++) {
        kz_sbuf_reset(&sb);
        describe_input(&srv->cfg->inputs[i], &sb);
        snprintf(object, sizeof(object), "input:%s", srv->cfg->inputs[i].name);
        audit_if_changed(srv->store, object, sb.buf);
    }
    kz_sbuf_release(&sb);
}

static void set_opts(struct server *srv)
{
    const struct kz_config_limits *lim = srv->cfg->limits;

    srv->stream_opts = (struct kz_stream_opts){
        .router = srv->router,
        .max_event_bytes = lim->max_event_bytes,
        .out_queue_bytes = lim->out_queue_bytes,
        .max_connections = lim->max_connections,
        .idle_timeout_s = lim->idle_timeout_s,
    };
}

/*
 * The HTTP engine and the resources it serves: REST v1 (api/, with the
 * readiness book this server owns) and Marti/enrollment (marti/).
 */
static int start_http(struct server *srv)
{
    const struct kz_config_limits *lim = srv->cfg->limits;

    srv->book = kz_readiness_book_new();
    kz_api_init(&srv->api, &(struct kz_api_opts){.router = srv->router,
                                                 .store = srv->store,
                                                 .policy = &srv->policy,
                                                 .book = srv->book,
                                                 .max_event_bytes = lim->max_event_bytes});
    srv->api.alliance = kz_alliance_current(); /* on_sighup keeps it current */
    kz_marti_init(&srv->marti, &(struct kz_marti_opts){.router = srv->router,
                                                       .node_id = srv->cfg->node->id,
                                                       .view = kz_api_view});
    srv->http = kz_http_new(&(struct kz_http_opts){.max_body = lim->http_max_body,
                                                   .max_headers = lim->http_max_headers,
                                                   .timeout_ms = lim->http_timeout_ms,
                                                   .out_queue_bytes = lim->out_queue_bytes,
                                                   .max_connections = lim->max_connections,
                                                   .caller = kz_api_caller_ops(&srv->api)});
    kz_http_add_routes(srv->http, srv->api.routes, srv->api.n_routes, &srv->api);
    kz_http_add_routes(srv->http, srv->marti.routes, srv->marti.n_routes, &srv->marti);
    return kz_api_readiness_load(&srv->api);
}

/* Once the loop has run dry: the store's acks and the enrollment workers
 * answered their held requests, and every connection is freed. */
static void stop_http(struct server *srv)
{
    kz_http_free(srv->http);
    srv->http = NULL;
    kz_api_release(&srv->api);
    kz_readiness_book_free(srv->book);
    srv->book = NULL;
}

static void stop(struct server *srv, const char *why)
{
    kz_log(KZ_LOG_INFO, "shutting down", "reason=%s", why);
    uv_signal_stop(&srv->sigint);
    uv_signal_stop(&srv->sigterm);
    uv_signal_stop(&srv->sighup);
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    uv_close((uv_handle_t *)&srv->sighup, NULL);
    for (unsigned i = 0; i < srv->cfg->inputs_count; i++) {
        kz_listener_stop(srv->listeners[i]);
        srv->listeners[i] = NULL;
    }
    kz_stream_close_all();
    if (srv->http)
        kz_http_close_all(srv->http);
    kz_tls_stop();
    /* The store's wake-up handle keeps the loop alive; teardown() drains it. */
    uv_stop(&srv->loop);
}

static void on_sighup(uv_signal_t *h, int signum)
{
    struct server *srv = h->data;
    KZ_UNUSED(signum);
    kz_cli_alliance_reload(&srv->loop, srv->cfg->alliance, &srv->api.alliance);
}

static void on_signal(uv_signal_t *h, int signum)
{
    stop(h->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static int load_config(const char *path, struct kz_config **cfg)
{
    char err[1024];

    *cfg = path ? (kz_config_load(path, cfg, err, sizeof(err)) ? NULL : *cfg)
                : kz_config_default(err, sizeof(err));
    if (!*cfg) {
        fprintf(stderr, "kizuna: %s\n", err);
        return KZ_ERR_CONFIG;
    }
    return KZ_OK;
}

/* TLS state (certificates, CRL, users) only when a TLS input exists. */
static int start_tls(struct server *srv)
{
    const struct kz_config_store *sc = srv->cfg->store;
    char db[4096];

    for (unsigned i = 0; i < srv->cfg->inputs_count; i++) {
        enum kz_input_protocol p = srv->cfg->inputs[i].protocol;
        if (p != KZ_PROTO_TLS && p != KZ_PROTO_HTTPS && p != KZ_PROTO_ENROLL)
            continue;
        if (sc->path[0] == '/')
            snprintf(db, sizeof(db), "%s", sc->path);
        else
            snprintf(db, sizeof(db), "%s/%s", srv->data_dir, sc->path);
        return kz_tls_start(&srv->loop, srv->cfg->tls, srv->data_dir, db);
    }
    return KZ_OK;
}

/* Certificate identities, for events stored or queried by sender name. */
static const struct kz_identity *user_identity(void *ud, const char *user)
{
    const struct kz_user *u = kz_users_find(kz_tls_users(), user);
    KZ_UNUSED(ud);
    return u ? &u->id : NULL;
}

static int start(struct server *srv)
{
    int rc;

    kz_net_init(&srv->loop);
    uv_signal_init(&srv->loop, &srv->sigint);
    uv_signal_init(&srv->loop, &srv->sigterm);
    srv->sigint.data = srv->sigterm.data = srv;
    uv_signal_start(&srv->sigint, on_signal, SIGINT);
    uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
    uv_signal_init(&srv->loop, &srv->sighup);
    srv->sighup.data = srv;
    uv_signal_start(&srv->sighup, on_sighup, SIGHUP);
    if ((rc = kz_cli_alliance_start(srv->cfg->alliance)) != KZ_OK)
        return rc;
    if ((rc = open_store(srv)) != KZ_OK)
        return rc;
    audit_config(srv);
    srv->router = kz_router_new(&srv->loop, &(struct kz_router_opts){
                                                .policy = &srv->policy,
                                                .store = srv->store,
                                                .inputs = srv->inputs,
                                                .n_inputs = srv->cfg->inputs_count,
                                                .node_id = srv->cfg->node->id,
                                                .max_tracks = srv->cfg->limits->max_tracks,
                                                .user_identity = user_identity,
                                            });
    set_opts(srv);
    if ((rc = start_http(srv)) != KZ_OK)
        return rc;
    /* TLS first: restoring events of certificate users needs their identities. */
    if ((rc = start_tls(srv)) != KZ_OK)
        return rc;
    if ((rc = kz_router_restore(srv->router)) != KZ_OK)
        return rc;
    return start_inputs(srv);
}

/* Let pending close callbacks run without blocking. */
static void drain(uv_loop_t *loop)
{
    for (int i = 0; i < 8; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

static void teardown(struct server *srv)
{
    drain(&srv->loop);
    if (srv->store)
        kz_store_close(srv->store);
    drain(&srv->loop);
    kz_router_free(srv->router);
    kz_net_shutdown();
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    stop_http(srv); /* every connection is freed now, enrollment workers included */
    if (uv_loop_close(&srv->loop) != 0)
        kz_log(KZ_LOG_WARN, "event loop closed with handles still open", NULL);
    free(srv->inputs);
    free(srv->listeners);
    kz_cli_alliance_stop();
    kz_config_free(srv->cfg);
}

static int parse_args(int argc, char **argv, struct server *srv, const char **cfg_path, bool *print,
                      const char **level)
{
    enum { OPT_PORTS = 256, OPT_PRINT, OPT_LEVEL, OPT_DOCS };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"ports-file", required_argument, NULL, OPT_PORTS},
        {"print-config", no_argument, NULL, OPT_PRINT},
        {"log-level", required_argument, NULL, OPT_LEVEL},
        {"config-docs", no_argument, NULL, OPT_DOCS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *cfg_path = optarg;
            break;
        case 'd':
            srv->data_dir = optarg;
            break;
        case OPT_PORTS:
            srv->ports_file = optarg;
            break;
        case OPT_PRINT:
            *print = true;
            break;
        case OPT_LEVEL:
            *level = optarg;
            break;
        case OPT_DOCS:
            kz_config_print_docs(stdout);
            return -1;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "kizuna serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

int kz_cmd_serve(int argc, char **argv)
{
    struct server srv = {.data_dir = "data"};
    const char *cfg_path = NULL, *level = NULL;
    bool print = false;
    int rc = parse_args(argc, argv, &srv, &cfg_path, &print, &level);

    if (rc)
        return rc < 0 ? 0 : rc;
    if (load_config(cfg_path, &srv.cfg) != KZ_OK)
        return 2;
    if (print) {
        kz_config_print(srv.cfg, stdout);
        kz_config_free(srv.cfg);
        return 0;
    }
    if (kz_log_level_parse(level ? level : srv.cfg->log->level, &kz_log_min) != KZ_OK) {
        fprintf(stderr, "kizuna serve: bad log level '%s'\n", level);
        kz_config_free(srv.cfg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&srv.loop);
    kz_log(KZ_LOG_INFO, "starting", "version=%s node=%s config=%s data=%s", KZ_VERSION,
           srv.cfg->node->id, cfg_path ? cfg_path : "(built-in)", srv.data_dir);
    rc = init_inputs(&srv);
    if (rc == KZ_OK) {
        rc = start(&srv);
        if (rc == KZ_OK) {
            uv_run(&srv.loop, UV_RUN_DEFAULT);
        } else {
            kz_log(KZ_LOG_ERROR, "startup failed", "error=\"%s\"", kz_strerror(rc));
            stop(&srv, "startup failed");
        }
    }
    teardown(&srv);
    kz_log(KZ_LOG_INFO, "stopped", NULL);
    return rc == KZ_OK ? 0 : rc == KZ_ERR_CONFIG ? 2 : 1;
}
