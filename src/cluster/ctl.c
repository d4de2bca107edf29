/*
 * ctl.c - the control subject PREFIX.ctl: presence and revocation.
 *
 * Presence: when a device's first own position report is accepted on a connection, its
 * instance claims the uid; every other instance closes its sessions of the same sender bound to
 * that uid (the newest connection wins: a device that moved is not left half on the old
 * instance).  Another identity's claim closes nothing: a uid is bound, never claimed.
 * Revocation: certificates revoked on one instance (its CRL reloaded) are named to all, and
 * each closes the sessions they authenticated, wherever the device is.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "proto/cluster.pb-c.h"

#define MAX_SERIALS 65536 /* named in one message at most; a CRL beyond is cut */

static char *str(const char *s)
{
    return (char *)(uintptr_t)(s ? s : "");
}

static void publish_control(struct kz_cluster *c, Kizuna__Cluster__Control *m)
{
    size_t n;

    m->origin = c->node_id;
    m->epoch = c->epoch;
    n = kizuna__cluster__control__get_packed_size(m);
    kz_sbuf_reset(&c->msg);
    kz_sbuf_grow(&c->msg, n + 1);
    kizuna__cluster__control__pack(m, (uint8_t *)c->msg.buf);
    c->msg.len = n;
    if (kz_cluster_publish(c->conn, KZ_CLUSTER_CTL, c->msg.buf, n) != KZ_OK)
        kz_log(KZ_LOG_WARN, "cluster: control message not sent (an island, or too large)",
               "bytes=%zu", n);
}

void kz__cluster_presence(struct kz_cluster *c, const struct kz_event *ev)
{
    Kizuna__Cluster__Control m = KIZUNA__CLUSTER__CONTROL__INIT;
    Kizuna__Cluster__Claim claim = KIZUNA__CLUSTER__CLAIM__INIT;

    if (!kz_cluster_joined(c->conn))
        return;
    claim.uid = str(ev->uid);
    claim.callsign = str(ev->callsign);
    claim.user = str(ev->origin_user);
    claim.nation = str(ev->origin_nation);
    m.claim = &claim;
    publish_control(c, &m);
}

void kz_cluster_publish_revoked(struct kz_cluster *c, char *const *serials, size_t n)
{
    Kizuna__Cluster__Control m = KIZUNA__CLUSTER__CONTROL__INIT;
    Kizuna__Cluster__Revoked rv = KIZUNA__CLUSTER__REVOKED__INIT;

    if (!c || !n)
        return;
    if (!kz_cluster_joined(c->conn)) {
        kz_log(KZ_LOG_WARN, "cluster: revocation not sent to the other instances (an island)",
               "serials=%zu", n);
        return;
    }
    rv.n_serials = n < MAX_SERIALS ? n : MAX_SERIALS;
    rv.serials = (char **)(uintptr_t)serials;
    m.revoked = &rv;
    publish_control(c, &m);
}

static void on_claim(struct kz_cluster *c, const char *origin, const Kizuna__Cluster__Claim *cl)
{
    unsigned n, others = 0;

    if (!cl->uid || !*cl->uid || !cl->user || !cl->nation || !c->o.close_bound)
        return;
    n = c->o.close_bound(c->o.ud, cl->uid, cl->user, cl->nation, &others);
    if (others)
        kz_log(KZ_LOG_WARN, "cluster: another identity reports a uid held here; session kept",
               "uid=%s instance=%s user=%s", cl->uid, origin, cl->user);
    if (!n)
        return;
    c->st.presence_closes += n;
    kz_log(KZ_LOG_INFO, "cluster: device moved to another instance; its session here closed",
           "uid=%s instance=%s sessions=%u", cl->uid, origin, n);
}

static void on_revoked(struct kz_cluster *c, const char *origin, const Kizuna__Cluster__Revoked *rv)
{
    unsigned n;

    if (!rv->n_serials || !c->o.revoked)
        return;
    n = c->o.revoked(c->o.ud, rv->serials, rv->n_serials);
    c->st.revocation_closes += n;
    kz_log(KZ_LOG_INFO, "cluster: certificates revoked on another instance",
           "instance=%s serials=%zu sessions_closed=%u", origin, rv->n_serials, n);
}

void kz__cluster_control(struct kz_cluster *c, const uint8_t *data, size_t len)
{
    Kizuna__Cluster__Control *m = kizuna__cluster__control__unpack(NULL, len, data);

    if (!m || !m->origin || !*m->origin) {
        c->st.refused++;
        kz_log(KZ_LOG_DEBUG, "cluster: control message refused", NULL);
    } else if (strcmp(m->origin, c->node_id) == 0) {
        kz__cluster_own_origin(c, m->epoch);
    } else {
        if (m->claim)
            on_claim(c, m->origin, m->claim);
        if (m->revoked)
            on_revoked(c, m->origin, m->revoked);
    }
    if (m)
        kizuna__cluster__control__free_unpacked(m, NULL);
}
