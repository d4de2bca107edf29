/*
 * ident.c - identity changes on the control subject PREFIX.ctl.
 *
 * An instance whose periodic users reload found users deleted or changed names them to every
 * other instance (a Users message, at most KZ_CLUSTER_USERS_PER_MESSAGE names each).  On
 * receipt an instance re-reads its users table at once when the table is shared (PostgreSQL),
 * or closes the named users' certificate sessions when its table is its own (the server's
 * callback decides: cluster.h users_changed).
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "proto/cluster.pb-c.h"

static size_t take(char *const *v, size_t n, size_t room, size_t *bytes)
{
    size_t k = 0;

    while (k < n && k < room) {
        size_t len = strlen(v[k]);
        /* One name always fits an empty message; then the byte budget holds. */
        if (*bytes && *bytes + len > KZ_CLUSTER_USERS_BYTES)
            break;
        *bytes += len;
        k++;
    }
    return k;
}

void kz_cluster_users_encode(const char *origin, uint64_t epoch, char *const *deleted, size_t nd,
                             char *const *changed, size_t nc, kz_cluster_emit_fn emit, void *ud)
{
    struct kz_sbuf buf = KZ_SBUF_INIT;

    while (nd || nc) {
        Kizuna__Cluster__Control m = KIZUNA__CLUSTER__CONTROL__INIT;
        Kizuna__Cluster__Users u = KIZUNA__CLUSTER__USERS__INIT;
        size_t bytes = 0, kd, kc, n;

        kd = take(deleted, nd, KZ_CLUSTER_USERS_PER_MESSAGE, &bytes);
        kc = take(changed, nc, KZ_CLUSTER_USERS_PER_MESSAGE - kd, &bytes);
        u.deleted = (char **)(uintptr_t)deleted;
        u.n_deleted = kd;
        u.changed = (char **)(uintptr_t)changed;
        u.n_changed = kc;
        m.origin = (char *)(uintptr_t)origin;
        m.epoch = epoch;
        m.users = &u;
        n = kizuna__cluster__control__get_packed_size(&m);
        kz_sbuf_reset(&buf);
        kz_sbuf_grow(&buf, n + 1);
        kizuna__cluster__control__pack(&m, (uint8_t *)buf.buf);
        emit(ud, (const uint8_t *)buf.buf, n);
        deleted += kd;
        nd -= kd;
        changed += kc;
        nc -= kc;
    }
    kz_sbuf_release(&buf);
}

static void emit_ctl(void *ud, const uint8_t *buf, size_t len)
{
    struct kz_cluster *c = ud;

    if (kz_cluster_publish(c->conn, KZ_CLUSTER_CTL, buf, len) != KZ_OK) {
        kz_log(KZ_LOG_WARN, "cluster: identity change not sent (an island, or too large)",
               "bytes=%zu", len);
        return;
    }
    c->st.ident_published++;
}

void kz_cluster_users(struct kz_cluster *c, char *const *deleted, size_t nd, char *const *changed,
                      size_t nc)
{
    if (!c || (!nd && !nc))
        return;
    if (!kz_cluster_joined(c->conn)) {
        kz_log(KZ_LOG_WARN, "cluster: identity change not sent to the other instances (an island)",
               "deleted=%zu changed=%zu", nd, nc);
        return;
    }
    kz_cluster_users_encode(c->node_id, c->epoch, deleted, nd, changed, nc, emit_ctl, c);
    kz_log(KZ_LOG_INFO, "cluster: users changed here, named to the other instances",
           "deleted=%zu changed=%zu", nd, nc);
}

void kz__cluster_on_users(struct kz_cluster *c, const char *origin, const Kizuna__Cluster__Users *u)
{
    unsigned n;

    c->st.ident_received++;
    if ((!u->n_deleted && !u->n_changed) || !c->o.users_changed)
        return;
    n = c->o.users_changed(c->o.ud, u->deleted, u->n_deleted, u->changed, u->n_changed);
    c->st.ident_closes += n;
    kz_log(KZ_LOG_INFO, "cluster: users changed on another instance",
           "instance=%s deleted=%zu changed=%zu sessions_closed=%u", origin, u->n_deleted,
           u->n_changed, n);
}

void kz_cluster_ident_closed(struct kz_cluster *c, unsigned n)
{
    if (c)
        c->st.ident_closes += n;
}
