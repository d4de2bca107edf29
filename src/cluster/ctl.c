/*
 * ctl.c - the control subject PREFIX.ctl: presence and revocation (identity changes: ident.c).
 *
 * Presence: when a device's first own position report is accepted on a connection, its
 * instance claims the uid; every other instance closes its sessions of the same sender bound to
 * that uid (the newest connection wins: a device that moved is not left half on the old
 * instance).  Another identity's claim closes nothing: a uid is bound, never claimed.
 * Revocation: certificates newly revoked on one instance (its CRL reloaded) are named to all,
 * and each closes the sessions they authenticated, wherever the device is.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "proto/cluster.pb-c.h"

#define SERIALS_PER_MESSAGE 1024 /* about 40 KiB: well under any max_payload */

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

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool known(const struct kz_cluster *c, const char *serial)
{
    return c->n_revoked &&
           bsearch(&serial, c->revoked, c->n_revoked, sizeof(*c->revoked), by_string) != NULL;
}

static void publish_serials(struct kz_cluster *c, char **v, size_t n)
{
    Kizuna__Cluster__Control m = KIZUNA__CLUSTER__CONTROL__INIT;
    Kizuna__Cluster__Revoked rv = KIZUNA__CLUSTER__REVOKED__INIT;

    rv.n_serials = n;
    rv.serials = v;
    m.revoked = &rv;
    publish_control(c, &m);
}

void kz_cluster_crl(struct kz_cluster *c, char *const *serials, size_t n, bool publish)
{
    char **all = kz_xcalloc(n + 1, sizeof(*all)), **fresh = kz_xcalloc(n + 1, sizeof(*fresh));
    size_t n_fresh = 0;

    if (!c)
        goto out;
    for (size_t i = 0; i < n; i++) {
        all[i] = kz_xstrdup(serials[i]);
        if (!known(c, all[i]))
            fresh[n_fresh++] = all[i];
    }
    if (publish && n_fresh && !kz_cluster_joined(c->conn))
        kz_log(KZ_LOG_WARN, "cluster: revocation not sent to the other instances (an island)",
               "serials=%zu", n_fresh);
    else if (publish)
        for (size_t i = 0; i < n_fresh; i += SERIALS_PER_MESSAGE)
            publish_serials(c, fresh + i,
                            n_fresh - i < SERIALS_PER_MESSAGE ? n_fresh - i : SERIALS_PER_MESSAGE);
    qsort(all, n, sizeof(*all), by_string);
    kz__cluster_ctl_release(c);
    c->revoked = all;
    c->n_revoked = n;
    all = NULL;
out:
    free(all);
    free(fresh);
}

void kz__cluster_ctl_release(struct kz_cluster *c)
{
    for (size_t i = 0; i < c->n_revoked; i++)
        free(c->revoked[i]);
    free(c->revoked);
    c->revoked = NULL;
    c->n_revoked = 0;
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
        if (m->users)
            kz__cluster_on_users(c, m->origin, m->users);
    }
    if (m)
        kizuna__cluster__control__free_unpacked(m, NULL);
}
