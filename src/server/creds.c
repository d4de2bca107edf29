/*
 * creds.c - the server's TLS credentials: the two SSL_CTXs (client
 * certificate required, or not for enrollment) with the CA and CRL, and the
 * users snapshot that maps a certificate's CN to an identity.
 *
 * Reload (nginx-style): every tls.reload_ms (2 s) a worker thread reads the
 * users table and, when crl.pem changed, builds new SSL_CTXs; the loop swaps
 * them into srv->tls.  On a PostgreSQL store a write to the users table, by
 * whatever wrote it, also asks for a reload as it commits (LISTEN/NOTIFY,
 * kz_store_users_watch): the timer is then the fallback.  A failed reload
 * keeps the old state.  Connections hold their own SSL (which references the
 * SSL_CTX it was made from) and a reference to the users snapshot they were
 * authenticated against, so swapping never frees anything in use.
 *
 * When the users or the CRL changed, every open connection authenticated by
 * a client certificate is revisited (security review F7): a revoked
 * certificate or a deleted user is disconnected, a changed user re-resolved
 * (net/stream.c kz_stream_revisit, http/server.c kz_http_revisit).  So a
 * change reaches open connections within one reload period, or at once on
 * PostgreSQL.
 *
 * In a cluster (docs/cluster.md) the users a reload of its own (periodic or notified by
 * PostgreSQL) found deleted or changed are named to the other instances; a notice from another
 * instance asks for a reload at once (kz__creds_reload_now), which names nothing itself.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/auth.h"
#include "server/server.h"

struct kz_creds {
    struct kz_server *srv;
    struct kz_tls_creds *live; /* the server's (srv->tls): what connections use */
    char ca[1024], cert[1024], key[1024], crl[1024], db_path[4096];
    struct timespec crl_mtime;
    uv_timer_t timer;
    uv_work_t work;
    struct kz_store_users_watch *watch; /* PostgreSQL: writes to users as they commit */
    bool working, stopping;
    bool by_notice;    /* the reload under way was asked for by another instance's notice */
    bool again;        /* a change was signalled during a reload: one more after it */
    bool again_notice; /* ... signalled by other instances' notices only */
    unsigned closed;   /* sessions the last revisit closed */
    /* Users the last swap found deleted or changed (owned names), for the cluster. */
    char **deleted, **changed;
    size_t n_deleted, n_changed;
    /* Worker results, taken on the loop in after_reload(). */
    SSL_CTX *new_mutual, *new_server_only;
    struct kz_users *new_users;
    bool crl_swapped; /* the last swap brought a new CRL */
    char err[512];
};

static void resolve(char *out, size_t len, const char *data_dir, const char *path)
{
    if (path[0] == '/')
        snprintf(out, len, "%s", path);
    else
        snprintf(out, len, "%s/%s", data_dir, path);
}

static void ssl_err(struct kz_creds *c, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown";
    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    snprintf(c->err, sizeof(c->err), "%s: %s", what, buf);
}

/* Runs on a worker thread: only reads files and builds new objects. */
static SSL_CTX *build_ctx(struct kz_creds *c, bool mutual)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_err(c, "server certificate/key");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (!mutual)
        return ctx;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    if (SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1 ||
        X509_STORE_load_file(store, c->crl) != 1) {
        ssl_err(c, "CA or CRL");
        SSL_CTX_free(ctx);
        return NULL;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    return ctx;
}

static bool crl_changed(struct kz_creds *c)
{
    struct stat sb;
    if (stat(c->crl, &sb) != 0)
        return false;
    if (sb.st_mtim.tv_sec == c->crl_mtime.tv_sec && sb.st_mtim.tv_nsec == c->crl_mtime.tv_nsec)
        return false;
    c->crl_mtime = sb.st_mtim;
    return true;
}

static void do_reload(uv_work_t *w)
{
    struct kz_creds *c = w->data;

    c->err[0] = '\0';
    if (kz_users_load(c->db_path, &c->new_users, c->err, sizeof(c->err)) != KZ_OK)
        c->new_users = NULL;
    if (!crl_changed(c))
        return;
    c->new_mutual = build_ctx(c, true);
    c->new_server_only = c->new_mutual ? build_ctx(c, false) : NULL;
    if (!c->new_server_only) {
        SSL_CTX_free(c->new_mutual);
        c->new_mutual = NULL;
        c->crl_mtime.tv_sec = 0; /* try again next time */
    }
}

static void drop_new(struct kz_creds *c)
{
    kz_users_unref(c->new_users);
    SSL_CTX_free(c->new_mutual);
    SSL_CTX_free(c->new_server_only);
    c->new_users = NULL;
    c->new_mutual = c->new_server_only = NULL;
}

static void note_user(void *ud, const char *user, bool deleted)
{
    struct kz_creds *c = ud;
    char ***v = deleted ? &c->deleted : &c->changed;
    size_t *n = deleted ? &c->n_deleted : &c->n_changed;

    *v = kz_xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = kz_xstrdup(user);
}

static void drop_names(struct kz_creds *c)
{
    for (size_t i = 0; i < c->n_deleted; i++)
        free(c->deleted[i]);
    for (size_t i = 0; i < c->n_changed; i++)
        free(c->changed[i]);
    free(c->deleted);
    free(c->changed);
    c->deleted = c->changed = NULL;
    c->n_deleted = c->n_changed = 0;
}

/* True when something connections were authenticated against changed. */
static bool swap_in(struct kz_creds *c)
{
    struct kz_tls_creds *live = c->live;
    bool changed = false;

    c->crl_swapped = false;
    if (c->new_users) {
        changed = !kz_users_same(live->users, c->new_users);
        if (changed && live->users)
            kz_users_diff(live->users, c->new_users, note_user, c);
        kz_users_unref(live->users);
        live->users = c->new_users;
        c->new_users = NULL;
    }
    if (c->new_mutual) {
        bool first = !live->mutual;
        SSL_CTX_free(live->mutual);
        SSL_CTX_free(live->server_only);
        live->mutual = c->new_mutual;
        live->server_only = c->new_server_only;
        c->new_mutual = c->new_server_only = NULL;
        if (!first)
            kz_log(KZ_LOG_INFO, "tls: CRL reloaded", "crl=%s", c->crl);
        c->crl_swapped = changed = true;
    }
    return changed;
}

/* Is `x` on a CRL of the client-certificate context's store? */
static bool revoked(SSL_CTX *ctx, X509 *x)
{
    STACK_OF(X509_OBJECT) *objs = ctx ? X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx)) : NULL;
    X509_REVOKED *rev;

    for (int i = 0; x && i < sk_X509_OBJECT_num(objs); i++) {
        X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
        if (crl && X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) == 0 &&
            X509_CRL_get0_by_cert(crl, &rev, x) == 1)
            return true;
    }
    return false;
}

/* kz_revisit_fn: the connection's certificate and user against the new state. */
static enum kz_revisit revisit(void *ud, const struct kz_transport *tr,
                               const struct kz_identity *id, char *why, size_t whylen)
{
    struct kz_creds *c = ud;
    const struct kz_user *u;

    if (!id) {
        /* Its handshake checks the old CRL: have it come again. */
        snprintf(why, whylen, "CRL reloaded during the TLS handshake");
        return c->crl_swapped ? KZ_REVISIT_CLOSE : KZ_REVISIT_KEEP;
    }
    u = kz_users_find(c->live->users, id->user);
    if (revoked(c->live->mutual, kz_transport_peer_cert(tr))) {
        snprintf(why, whylen, "certificate revoked");
        c->closed++;
        return KZ_REVISIT_CLOSE;
    }
    if (!u) {
        snprintf(why, whylen, "user deleted");
        c->closed++;
        return KZ_REVISIT_CLOSE;
    }
    return kz_identity_same(&u->id, id) ? KZ_REVISIT_KEEP : KZ_REVISIT_CHANGED;
}

static void revisit_all(struct kz_creds *c)
{
    c->closed = 0;
    kz_stream_revisit(&c->srv->net, revisit, c);
    if (c->srv->http)
        kz_http_revisit(c->srv->http, revisit, c);
}

static void free_creds(uv_handle_t *h)
{
    free(h->data);
}

/* The timer is the last handle: its close callback frees the reloader. */
static void finish_stop(struct kz_creds *c)
{
    drop_new(c);
    drop_names(c);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, free_creds);
}

static void start(struct kz_creds *c, bool by_notice);

static void after_reload(uv_work_t *w, int status)
{
    struct kz_creds *c = w->data;

    KZ_UNUSED(status);
    c->working = false;
    if (c->stopping) {
        finish_stop(c);
        return;
    }
    if (c->err[0])
        kz_log(KZ_LOG_WARN, "tls: reload failed; keeping the previous state", "error=\"%s\"",
               c->err);
    if (swap_in(c)) {
        revisit_all(c);
        if (c->crl_swapped)
            kz__server_cluster_crl_changed(c->srv);
        if (c->by_notice)
            kz_cluster_ident_closed(c->srv->cluster, c->closed);
        else
            kz_cluster_users(c->srv->cluster, c->deleted, c->n_deleted, c->changed, c->n_changed);
    }
    drop_names(c);
    if (c->again) {
        c->again = false;
        start(c, c->again_notice);
    }
}

/* A reload on a worker thread; `by_notice`: asked for by another instance. */
static void start(struct kz_creds *c, bool by_notice)
{
    c->working = true;
    c->by_notice = by_notice;
    if (uv_queue_work(c->timer.loop, &c->work, do_reload, after_reload) != 0)
        c->working = false;
}

/* A change was signalled: a reload now, or one more after the one under way, which may have
 * read the table before the change committed. */
static void signalled(struct kz_creds *c, bool by_notice)
{
    if (!c->working) {
        start(c, by_notice);
        return;
    }
    c->again_notice = c->again ? c->again_notice && by_notice : by_notice;
    c->again = true;
}

static void on_timer(uv_timer_t *t)
{
    struct kz_creds *c = t->data;

    if (!c->working) /* else it just waits for its next turn */
        start(c, false);
}

/* A write to the shared users table committed: a reload of this instance's own, which names
 * what it finds to the other instances like a periodic one. */
static void on_users_written(void *ud)
{
    signalled(ud, false);
}

void kz__creds_reload_now(struct kz_server *srv)
{
    if (srv->creds)
        signalled(srv->creds, true);
}

static struct kz_creds *creds_new(struct kz_server *srv)
{
    const struct kz_config_tls *conf = srv->cfg->tls;
    struct kz_creds *c = kz_xcalloc(1, sizeof(*c));

    c->srv = srv;
    c->live = &srv->tls;
    c->work.data = c;
    resolve(c->ca, sizeof(c->ca), srv->data_dir, conf->ca);
    resolve(c->cert, sizeof(c->cert), srv->data_dir, conf->cert);
    resolve(c->key, sizeof(c->key), srv->data_dir, conf->key);
    resolve(c->crl, sizeof(c->crl), srv->data_dir, conf->crl);
    snprintf(c->db_path, sizeof(c->db_path), "%s", srv->db_path);
    snprintf(srv->pki_dir, sizeof(srv->pki_dir), "%s", c->ca);
    char *slash = strrchr(srv->pki_dir, '/');
    if (slash)
        *slash = '\0';
    return c;
}

int kz__creds_start(struct kz_server *srv)
{
    struct kz_creds *c = creds_new(srv);

    /* Startup may block: nothing is being served yet. */
    do_reload(&c->work);
    if (!c->new_mutual) {
        kz_log(KZ_LOG_ERROR, "tls: cannot load the certificates", "error=\"%s\"", c->err);
        drop_new(c);
        free(c);
        return KZ_ERR_CONFIG;
    }
    swap_in(c);
    drop_names(c);
    uv_timer_init(&srv->loop, &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, on_timer, srv->cfg->tls->reload_ms, srv->cfg->tls->reload_ms);
    uv_unref((uv_handle_t *)&c->timer);
    if (kz_store_pg_dsn(c->db_path))
        kz_store_users_watch(&srv->loop, c->db_path, on_users_written, c, &c->watch);
    srv->creds = c;
    kz_log(KZ_LOG_INFO, "tls: ready", "ca=%s cert=%s crl=%s users=%u", c->ca, c->cert, c->crl,
           kz_users_count(srv->tls.users));
    return KZ_OK;
}

void kz__creds_stop(struct kz_server *srv)
{
    struct kz_creds *c = srv->creds;

    srv->creds = NULL;
    if (c)
        kz_store_users_watch_stop(c->watch); /* first: it calls back into c */
    if (c && c->working)
        c->stopping = true; /* after_reload() finishes */
    else if (c)
        finish_stop(c);
    SSL_CTX_free(srv->tls.mutual);
    SSL_CTX_free(srv->tls.server_only);
    kz_users_unref(srv->tls.users);
    memset(&srv->tls, 0, sizeof(srv->tls));
}
