/*
 * cluster.c - the server's part in a cluster (`cluster:` section, docs/cluster.md): it joins
 * before the state is restored, gives /healthz and /metrics the cluster's view, closes the
 * sessions the other instances name (a device that moved, a revoked certificate, a user deleted
 * or changed), and names the certificates a CRL it loaded revokes.
 */
#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

/* A certificate serial as upper-case hex (what both ends compare); NULL on failure. */
static char *serial_hex(const ASN1_INTEGER *serial)
{
    BIGNUM *bn = serial ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    char *out = hex ? kz_xstrdup(hex) : NULL;

    OPENSSL_free(hex);
    BN_free(bn);
    return out;
}

static unsigned close_bound(void *ud, const char *uid, const char *user, const char *nation,
                            unsigned *others)
{
    struct kz_server *srv = ud;

    return kz_stream_close_bound(&srv->net, uid, user, nation,
                                 "the device connected to another instance", others);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct serials {
    char *const *v;
    size_t n;
    unsigned closed;
};

static enum kz_revisit revisit_serials(void *ud, const struct kz_transport *tr,
                                       const struct kz_identity *id, char *why, size_t whylen)
{
    struct serials *s = ud;
    X509 *x = id ? kz_transport_peer_cert(tr) : NULL;
    char *hex = x ? serial_hex(X509_get0_serialNumber(x)) : NULL;
    enum kz_revisit r = KZ_REVISIT_KEEP;

    if (hex && s->n && bsearch(&hex, s->v, s->n, sizeof(*s->v), by_string)) {
        snprintf(why, whylen, "certificate revoked on another instance");
        s->closed++;
        r = KZ_REVISIT_CLOSE;
    }
    free(hex);
    return r;
}

/* Each session is looked up once in the sorted serials: thousands of each are fine. */
static unsigned revoked(void *ud, char *const *serials, size_t n)
{
    struct kz_server *srv = ud;
    char **sorted = kz_xcalloc(n + 1, sizeof(*sorted));
    struct serials s = {sorted, n, 0};

    for (size_t i = 0; i < n; i++)
        sorted[i] = serials[i] ? serials[i] : (char *)(uintptr_t) "";
    qsort(sorted, n, sizeof(*sorted), by_string);
    kz_stream_revisit(&srv->net, revisit_serials, &s);
    if (srv->http)
        kz_http_revisit(srv->http, revisit_serials, &s);
    free(sorted);
    return s.closed;
}

struct names {
    char **v; /* sorted */
    size_t n;
    unsigned closed;
};

static enum kz_revisit revisit_users(void *ud, const struct kz_transport *tr,
                                     const struct kz_identity *id, char *why, size_t whylen)
{
    struct names *s = ud;

    KZ_UNUSED(tr);
    if (!id || !id->user || !bsearch(&id->user, s->v, s->n, sizeof(*s->v), by_string))
        return KZ_REVISIT_KEEP;
    snprintf(why, whylen, "user deleted or changed on another instance");
    s->closed++;
    return KZ_REVISIT_CLOSE;
}

/*
 * Users deleted or changed on another instance.  A shared users table (PostgreSQL) is re-read
 * at once and applied as a local change (creds.c).  An instance's own table cannot tell what
 * the origin's now says: the named users' certificate sessions are closed, and a device that
 * reconnects is authenticated against this instance's own table.
 */
static unsigned users_changed(void *ud, char *const *deleted, size_t nd, char *const *changed,
                              size_t nc)
{
    struct kz_server *srv = ud;
    const char *backend = srv->cfg->store->backend;
    struct names s = {kz_xcalloc(nd + nc + 1, sizeof(char *)), 0, 0};

    if (backend && strcmp(backend, "postgres") == 0) {
        free(s.v);
        kz__creds_reload_now(srv);
        return 0;
    }
    for (size_t i = 0; i < nd; i++)
        s.v[s.n++] = deleted[i] ? deleted[i] : (char *)(uintptr_t) "";
    for (size_t i = 0; i < nc; i++)
        s.v[s.n++] = changed[i] ? changed[i] : (char *)(uintptr_t) "";
    qsort(s.v, s.n, sizeof(*s.v), by_string);
    kz_stream_revisit(&srv->net, revisit_users, &s);
    if (srv->http)
        kz_http_revisit(srv->http, revisit_users, &s);
    free(s.v);
    return s.closed;
}

/* Every serial the CRLs of the client-certificate context revoke. */
static void collect(SSL_CTX *ctx, char ***v, size_t *n)
{
    STACK_OF(X509_OBJECT) *objs = ctx ? X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx)) : NULL;

    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
        STACK_OF(X509_REVOKED) *rev = crl ? X509_CRL_get_REVOKED(crl) : NULL;
        for (int j = 0; j < sk_X509_REVOKED_num(rev); j++) {
            char *hex = serial_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rev, j)));
            if (!hex)
                continue;
            *v = kz_xrealloc(*v, (*n + 1) * sizeof(**v));
            (*v)[(*n)++] = hex;
        }
    }
}

/* The CRL loaded: its serials to the cluster (`publish` false: the one at start). */
static void tell_crl(struct kz_server *srv, bool publish)
{
    char **v = NULL;
    size_t n = 0;

    collect(srv->tls.mutual, &v, &n);
    kz_cluster_crl(srv->cluster, v, n, publish);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int kz__server_cluster_init(struct kz_server *srv)
{
    const struct kz_config_cluster *cc = srv->cfg->cluster;
    const char *backend = srv->cfg->store->backend;

    if (!cc)
        return KZ_OK;
    struct kz_cluster_opts o = {
        .loop = &srv->loop,
        .router = srv->router,
        .groups = &srv->groups,
        .policy = &srv->policy,
        .url = cc->nats,
        .prefix = cc->subject_prefix,
        .node_id = srv->cfg->node->id,
        .max_event_bytes = srv->cfg->limits->max_event_bytes,
        .latest_interval_ms = cc->latest_interval_ms,
        /* A shared PostgreSQL store holds every event once, written by its origin. */
        .store_remote = !backend || strcmp(backend, "postgres") != 0,
        .store = srv->store,
        .close_bound = close_bound,
        .revoked = revoked,
        .users_changed = users_changed,
        .ud = srv,
    };
    kz__server_cluster_missions_opts(srv, &o);
    if (kz_cluster_new(&o, &srv->cluster) != KZ_OK)
        return KZ_ERR_CONFIG;
    srv->api.cluster = srv->cluster;
    tell_crl(srv, false); /* what it revokes at start was named by whoever revoked it */
    return KZ_OK;
}

void kz__server_cluster_crl_changed(struct kz_server *srv)
{
    if (srv->cluster)
        tell_crl(srv, true);
}

void kz__server_cluster_stop(struct kz_server *srv)
{
    kz_cluster_stop(srv->cluster);
    srv->api.cluster = NULL;
}

void kz__server_cluster_release(struct kz_server *srv)
{
    kz_cluster_free(srv->cluster);
    srv->cluster = NULL;
}
