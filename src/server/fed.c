/*
 * fed.c - the server's federation: its TLS contexts (the node's certificate,
 * each peer's CA) and links, built when the configuration has a
 * `federation:` section, started once the node's own inputs listen, and
 * their status answered by REST and /metrics.
 */
#include <string.h>

#include "server/server.h"

int kz__server_fed_init(struct kz_server *srv)
{
    char err[512];

    if (!srv->cfg->federation)
        return KZ_OK;
    if (kz_fed_tls_build_in(srv->cfg, srv->data_dir, &srv->fed_tls, err, sizeof(err)) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "federation: bad configuration", "error=\"%s\"", err);
        return KZ_ERR_CONFIG;
    }
    struct kz_fed_opts o = {
        .loop = &srv->loop,
        .router = srv->router,
        .groups = &srv->groups,
        .policy = &srv->policy,
        .cfg = srv->cfg,
        .tls = &srv->fed_tls,
        .store = srv->store,
        .max_event_bytes = srv->cfg->limits->max_event_bytes,
        .out_queue_bytes = srv->cfg->limits->out_queue_bytes,
        /* In a cluster the outgoing links wait for their lease (fedlease.c). */
        .leased = srv->cfg->cluster != NULL,
        .shared_log = srv->cfg->cluster && srv->cfg->store->backend &&
                      strcmp(srv->cfg->store->backend, "postgres") == 0,
    };
    if (kz_fed_new(&o, &srv->fed, err, sizeof(err)) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "federation: bad configuration", "error=\"%s\"", err);
        return KZ_ERR_CONFIG;
    }
    srv->api.fed_status = kz_fed_status;
    srv->api.fed_status_ud = srv->fed;
    return KZ_OK;
}

int kz__server_fed_start(struct kz_server *srv)
{
    int rc = srv->fed ? kz_fed_start(srv->fed) : KZ_OK;

    if (rc == KZ_OK && srv->fed && srv->cluster)
        kz__server_fed_leases_start(srv);
    return rc;
}

void kz__server_fed_stop(struct kz_server *srv)
{
    kz__server_fed_leases_stop(srv);
    kz_fed_stop(srv->fed);
}

void kz__server_fed_release(struct kz_server *srv)
{
    kz_fed_free(srv->fed);
    srv->fed = NULL;
    if (srv->cfg && srv->cfg->federation)
        kz_fed_tls_release(&srv->fed_tls);
}
