/*
 * mission.c - the subject PREFIX.mission: Data Sync missions on a PostgreSQL
 * the cluster shares (docs/cluster.md, "One PostgreSQL for the cluster").
 *
 * The database is the missions' source of truth.  An instance that committed
 * a mission change (and its outbox row, in the same transaction) publishes a
 * MissionNotice after COMMIT; every other instance hands it to the server,
 * which reads the mission back and notifies its own subscribers.  A notice
 * carries no mission data: one lost (an island) is made up for by the outbox,
 * one heard twice reads the same state twice.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "proto/cluster.pb-c.h"

#define GUID_MAX 128

int kz_cluster_mission_publish(struct kz_cluster *c, const char *origin, const char *guid,
                               uint64_t change_id, int64_t stamp)
{
    Kizuna__Cluster__MissionNotice m = KIZUNA__CLUSTER__MISSION_NOTICE__INIT;
    size_t n;
    int rc;

    if (!c || !c->conn || !guid)
        return KZ_ERR_AGAIN;
    m.origin = (char *)(uintptr_t)(origin ? origin : c->node_id);
    m.guid = (char *)(uintptr_t)guid;
    m.change_id = change_id;
    m.stamp = stamp;
    n = kizuna__cluster__mission_notice__get_packed_size(&m);
    kz_sbuf_reset(&c->msg);
    kz_sbuf_grow(&c->msg, n + 1);
    kizuna__cluster__mission_notice__pack(&m, (uint8_t *)c->msg.buf);
    c->msg.len = n;
    if ((rc = kz_cluster_publish(c->conn, KZ_CLUSTER_MISSION, c->msg.buf, n)) == KZ_OK)
        c->missions.published++;
    return rc == KZ_OK ? KZ_OK : KZ_ERR_AGAIN;
}

void kz__cluster_mission(struct kz_cluster *c, const uint8_t *data, size_t len)
{
    Kizuna__Cluster__MissionNotice *m = kizuna__cluster__mission_notice__unpack(NULL, len, data);

    if (!m || !m->guid || !m->guid[0] || strlen(m->guid) > GUID_MAX || !m->origin) {
        c->missions.refused++;
        kz_log(KZ_LOG_WARN, "cluster: malformed mission notice", "bytes=%zu", len);
    } else if (strcmp(m->origin, c->node_id) != 0) {
        c->missions.received++;
        if (c->o.mission_notice)
            c->o.mission_notice(c->o.ud, m->guid, m->change_id, m->origin);
    }
    if (m)
        kizuna__cluster__mission_notice__free_unpacked(m, NULL);
}

void kz_cluster_mission_stats(const struct kz_cluster *c, struct kz_cluster_mission_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (c)
        *out = c->missions;
}
