/*
 * reload.c - SIGHUP, nginx-style: a worker thread reads the configuration
 * file and the alliance model into new objects; back on the loop, what
 * validated is swapped in and what did not is logged (with file:line) while
 * the running state keeps serving.
 *
 * Configuration: a change to a key the configuration table marks as needing
 * a restart (listen addresses, store path, every `federation:` key, ...)
 * refuses the whole new file: every such key is logged and nothing is
 * half-applied.  Otherwise each
 * input is rebuilt from its new entry (default label, ceiling, identity)
 * and copied into the live input, so new events use it at once; limits are
 * re-read into the connection options.
 *
 * A replaced configuration is retired, not freed: open connections keep
 * pointers into it (their input's identity and names) until they close.  A
 * retired configuration is a few kilobytes and reloads are operator actions,
 * so they are freed at shutdown.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

struct kz_config_retired {
    struct kz_config *cfg;
    struct kz_config_retired *next;
};

struct reload {
    uv_work_t work;
    struct kz_server *srv;
    char *config_path;     /* NULL: built-in configuration, not re-read */
    char *alliance_path;   /* the running configuration's model */
    struct kz_config *cfg; /* the new configuration, or NULL */
    char cfg_err[1024];
    struct kz_alliance *a; /* the new model, or NULL */
    struct kz_alliance_diag d;
    int alliance_rc;
    bool alliance_tried;
};

/* ---- the alliance model ------------------------------------------------------- */

static void log_problems(enum kz_log_level lvl, const struct kz_alliance_diag *d)
{
    char q[600];
    const char *p = d->text.buf;

    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        kz_log(lvl, "alliance: problem", "detail=%s", kz_log_quote(q, sizeof(q), p, n));
        p += n + (nl != NULL);
    }
}

int kz__server_alliance_load(struct kz_server *srv)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    const char *path = srv->cfg->alliance;
    struct kz_alliance *a = NULL;
    int rc;

    if (!path)
        return KZ_OK;
    if ((rc = kz_alliance_load(path, &srv->policy, &a, &d)) != KZ_OK) {
        log_problems(KZ_LOG_ERROR, &d);
        kz_log(KZ_LOG_ERROR, "alliance: model refused", "file=%s problems=%u", path, d.count);
    } else {
        kz_log(KZ_LOG_INFO, "alliance: model loaded", "file=%s commands=%u relationships=%u", path,
               a->n_commands, a->n_relations);
        kz_alliance_free(srv->alliance);
        srv->alliance = a;
        srv->api.alliance = a;
    }
    kz_alliance_diag_release(&d);
    return rc == KZ_OK ? KZ_OK : KZ_ERR_CONFIG;
}

static void alliance_done(struct reload *r)
{
    struct kz_server *srv = r->srv;

    if (!r->alliance_tried)
        return;
    if (r->alliance_rc == KZ_OK) {
        kz_alliance_free(srv->alliance);
        srv->alliance = r->a;
        srv->api.alliance = r->a;
        r->a = NULL;
        kz_log(KZ_LOG_INFO, "alliance: model reloaded", "file=%s commands=%u", srv->cfg->alliance,
               srv->alliance->n_commands);
    } else {
        log_problems(KZ_LOG_WARN, &r->d);
        kz_log(KZ_LOG_WARN, "alliance: reload refused, keeping the previous model",
               "file=%s problems=%u", r->alliance_path, r->d.count);
    }
}

/* ---- the configuration -------------------------------------------------------- */

struct diff {
    unsigned restart; /* changed keys that need a restart */
};

static void on_changed(const char *key, bool reloadable, void *ud)
{
    struct diff *d = ud;

    if (reloadable) {
        kz_log(KZ_LOG_INFO, "reload: configuration key changed", "key=%s", key);
        return;
    }
    d->restart++;
    kz_log(KZ_LOG_WARN, "reload: key changed but needs a restart", "key=%s", key);
}

/* Build every input from the new configuration; nothing live changes yet. */
static int build_inputs(struct kz_server *srv, const struct kz_config *cfg, struct kz_input *out)
{
    char err[512];

    for (unsigned i = 0; i < srv->n_inputs; i++) {
        if (kz_input_init(&out[i], &cfg->inputs[i], &srv->groups, &srv->policy, err, sizeof(err)) !=
            KZ_OK) {
            kz_log(KZ_LOG_WARN, "reload: configuration refused, keeping the running one",
                   "error=\"%s\"", err);
            return KZ_ERR_CONFIG;
        }
    }
    return KZ_OK;
}

/* Copy the rebuilt inputs into the live ones; the bound port stays. */
static void swap_inputs(struct kz_server *srv, struct kz_input *fresh)
{
    for (unsigned i = 0; i < srv->n_inputs; i++) {
        fresh[i].port = srv->inputs[i].port;
        srv->inputs[i] = fresh[i];
    }
}

static void refresh_limits(struct kz_server *srv)
{
    const struct kz_config_limits *lim = srv->cfg->limits;

    srv->stream_opts.max_event_bytes = lim->max_event_bytes;
    srv->stream_opts.out_queue_bytes = lim->out_queue_bytes;
    srv->stream_opts.max_connections = lim->max_connections;
    srv->stream_opts.idle_timeout_s = lim->idle_timeout_s;
    struct kz_http_opts ho = kz__server_http_opts(srv);
    kz_http_set_limits(srv->http, &ho);
    kz_api_set_max_event_bytes(&srv->api, lim->max_event_bytes);
    kz_marti_set_max_file_bytes(&srv->marti, lim->max_file_bytes);
    kz_router_set_max_tracks(srv->router, lim->max_tracks);
    kz_router_set_identity_limits(srv->router, lim->max_tracks_per_identity, lim->max_stale_s);
    if (!srv->log_level_fixed)
        kz_log_level_parse(srv->cfg->log->level, &kz_log_min);
}

static void retire(struct kz_server *srv, struct kz_config *old)
{
    struct kz_config_retired *r = kz_xcalloc(1, sizeof(*r));
    r->cfg = old;
    r->next = srv->retired;
    srv->retired = r;
}

/* Takes over cfg: swapped in, or freed. */
static void config_apply(struct kz_server *srv, struct kz_config *cfg)
{
    struct diff d = {0};
    struct kz_input *fresh = NULL;

    kz_config_diff(srv->cfg, cfg, on_changed, &d);
    if (d.restart) {
        kz_log(KZ_LOG_WARN, "reload: configuration not applied; restart to apply it", "keys=%u",
               d.restart);
        goto refuse;
    }
    if (kz__server_limits_check(cfg) != KZ_OK) {
        kz_log(KZ_LOG_WARN, "reload: configuration refused, keeping the running one",
               "error=\"limits.max_connections does not fit the descriptor limit\"");
        goto refuse;
    }
    fresh = kz_xcalloc(srv->n_inputs ? srv->n_inputs : 1, sizeof(*fresh));
    if (build_inputs(srv, cfg, fresh) != KZ_OK)
        goto refuse;
    swap_inputs(srv, fresh);
    retire(srv, srv->cfg);
    srv->cfg = cfg;
    refresh_limits(srv);
    kz__server_audit_config(srv, "kizuna serve (reload)");
    kz_log(KZ_LOG_INFO, "reload: configuration applied", "file=%s", srv->config_path);
    free(fresh);
    return;
refuse:
    free(fresh);
    kz_config_free(cfg);
}

void kz__server_retired_free(struct kz_server *srv)
{
    while (srv->retired) {
        struct kz_config_retired *r = srv->retired;
        srv->retired = r->next;
        kz_config_free(r->cfg);
        free(r);
    }
}

/* ---- the reload job ------------------------------------------------------------ */

/* Threadpool: reading and validating files stays off the loop. */
static void reload_work(uv_work_t *w)
{
    struct reload *r = w->data;
    const char *alliance;

    if (r->config_path &&
        (kz_config_load(r->config_path, &r->cfg, r->cfg_err, sizeof(r->cfg_err)) != KZ_OK ||
         kz__server_identities_check(r->srv->db_path, r->cfg, r->cfg_err, sizeof(r->cfg_err)))) {
        kz_config_free(r->cfg);
        r->cfg = NULL;
    }
    alliance = r->cfg ? r->cfg->alliance : r->alliance_path;
    if (!alliance)
        return;
    if (alliance != r->alliance_path) {
        free(r->alliance_path);
        r->alliance_path = kz_xstrdup(alliance);
    }
    r->alliance_tried = true;
    /* The policy is fixed for the server's life (labels: needs a restart). */
    r->alliance_rc = kz_alliance_load(r->alliance_path, &r->srv->policy, &r->a, &r->d);
}

static void reload_free(struct reload *r)
{
    kz_alliance_free(r->a);
    kz_alliance_diag_release(&r->d);
    free(r->config_path);
    free(r->alliance_path);
    free(r);
}

/* Loop thread: swap what validated; keep serving the rest. */
static void reload_done(uv_work_t *w, int status)
{
    struct reload *r = w->data;
    struct kz_server *srv = r->srv;

    srv->reloading = false;
    if (status != 0 || srv->stopping) {
        kz_config_free(r->cfg);
        reload_free(r);
        if (!srv->stopping)
            kz__server_notify_reloading(srv, true);
        return;
    }
    if (r->config_path && !r->cfg)
        kz_log(KZ_LOG_WARN, "reload: configuration refused, keeping the running one",
               "error=\"%s\"", r->cfg_err);
    else if (r->cfg)
        config_apply(srv, r->cfg);
    r->cfg = NULL;
    alliance_done(r);
    reload_free(r);
    kz__server_notify_reloading(srv, true);
}

void kz_server_reload(struct kz_server *srv)
{
    struct reload *r;

    if (srv->reloading || srv->stopping)
        return;
    kz_log(KZ_LOG_INFO, "reload: SIGHUP received", "config=%s",
           srv->config_path ? srv->config_path : "(built-in)");
    r = kz_xcalloc(1, sizeof(*r));
    r->srv = srv;
    r->work.data = r;
    r->config_path = srv->config_path ? kz_xstrdup(srv->config_path) : NULL;
    r->alliance_path = srv->cfg->alliance ? kz_xstrdup(srv->cfg->alliance) : NULL;
    srv->reloading = true;
    kz__server_notify_reloading(srv, false);
    if (uv_queue_work(&srv->loop, &r->work, reload_work, reload_done) != 0) {
        srv->reloading = false;
        reload_free(r);
        kz__server_notify_reloading(srv, true);
    }
}
