/*
 * cluster_missions.c - Data Sync missions in a cluster on one PostgreSQL
 * (docs/cluster.md, "One PostgreSQL for the cluster"): the database is the
 * missions' source of truth and its outbox tells the other instances.
 *
 *   - a committed change wrote its outbox row in its transaction; after the
 *     COMMIT its notice goes on PREFIX.mission and the row is deleted;
 *   - a notice from another instance: the mission is read back from the
 *     database and the Marti layer takes it over and notifies this
 *     instance's subscribers (marti/mission_reload.c);
 *   - on every join of NATS (at start, and after an island): the outbox rows
 *     this instance left (killed between COMMIT and publish, or an island
 *     then) and any instance's older than OUTBOX_ORPHAN_US (an instance that
 *     has not come back) are published, then deleted.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

/* An outbox row this old was left by an instance that did not publish it: any may. */
#define OUTBOX_ORPHAN_US (30LL * 1000000)

bool kz__server_cluster_missions(const struct kz_server *srv)
{
    const char *backend = srv->cfg->store->backend;

    return srv->cfg->cluster && backend && strcmp(backend, "postgres") == 0;
}

void kz__server_mission_changed(void *ud, const char *guid, uint64_t change_id, int64_t stamp)
{
    struct kz_server *srv = ud;

    if (srv->cluster && srv->store &&
        kz_cluster_mission_publish(srv->cluster, NULL, guid, change_id, stamp) == KZ_OK)
        kz_store_mission_outbox_done(srv->store, srv->cfg->node->id, stamp);
}

struct reading {
    struct kz_server *srv;
    char guid[];
};

static void on_read(void *ud, int status, const char *doc, const char *const *changes, size_t n)
{
    struct reading *r = ud;

    if (status == KZ_OK)
        kz_marti_mission_reload(&r->srv->marti, r->guid, doc, changes, n);
    else
        kz_log(KZ_LOG_WARN, "missions: cannot read another instance's change", "guid=%s err=%s",
               r->guid, kz_strerror(status));
    free(r);
}

static void on_notice(void *ud, const char *guid, uint64_t change_id, const char *origin)
{
    struct kz_server *srv = ud;
    size_t len = strlen(guid);
    struct reading *r = kz_xmalloc(sizeof(*r) + len + 1);

    kz_log(KZ_LOG_DEBUG, "missions: changed on another instance", "guid=%s change=%llu origin=%s",
           guid, (unsigned long long)change_id, origin);
    r->srv = srv;
    memcpy(r->guid, guid, len + 1);
    kz_store_mission_read(srv->store, guid, on_read, r);
}

static void on_pending(void *ud, int status, const struct kz_store_outbox_row *rows, size_t n)
{
    struct kz_server *srv = ud;
    size_t sent = 0;

    if (status != KZ_OK || !srv->cluster)
        return;
    for (size_t i = 0; i < n; i++)
        if (kz_cluster_mission_publish(srv->cluster, rows[i].origin, rows[i].guid,
                                       rows[i].change_id, rows[i].stamp) == KZ_OK) {
            kz_store_mission_outbox_done(srv->store, rows[i].origin, rows[i].stamp);
            sent++;
        }
    if (n)
        kz_log(KZ_LOG_INFO, "missions: outbox rows published after a join", "rows=%zu sent=%zu", n,
               sent);
}

static void on_joined(void *ud)
{
    struct kz_server *srv = ud;

    if (srv->store)
        kz_store_mission_outbox(srv->store, srv->cfg->node->id, kz_now_us() - OUTBOX_ORPHAN_US,
                                on_pending, srv);
}

void kz__server_cluster_missions_opts(struct kz_server *srv, struct kz_cluster_opts *o)
{
    if (!kz__server_cluster_missions(srv))
        return;
    o->mission_notice = on_notice;
    o->joined = on_joined;
}
