/*
 * tls.c - TLS on the loop through memory BIOs, the TCP transport, and the
 * reloadable server state (SSL_CTX with CA + CRL, users snapshot).
 *
 * Reload (nginx-style): every 2 s a worker thread reads the users table and,
 * when crl.pem changed, builds new SSL_CTXs; the loop swaps them in.  A
 * failed reload keeps the old state.  Connections hold their own SSL, which
 * references the SSL_CTX it was made from, so swapping never disturbs them.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/auth.h"
#include "net/transport.h"

#define RELOAD_MS 2000
#define READ_CHUNK 16384
#define TLS_RECORD_MAX 16384 /* largest TLS plaintext record */
#define WBIO_KEEP_MAX 65536  /* larger write BIOs are replaced once drained */

/* ---- TCP ---------------------------------------------------------------- */

struct wreq {
    uv_write_t req;
    kz_transport_write_cb cb;
    void *ud;
    size_t len;
    char data[];
};

static void on_wreq_done(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    if (w->cb)
        w->cb(w->ud, status);
    free(w);
}

static int tcp_feed(struct kz_transport *t, const char *in, size_t n,
                    const struct kz_transport_cbs *cbs, void *ud)
{
    KZ_UNUSED(t);
    KZ_UNUSED(cbs);
    cbs->data(ud, in, n);
    return KZ_OK;
}

static int tcp_write(struct kz_transport *t, const uv_buf_t *iov, unsigned n,
                     kz_transport_write_cb cb, void *ud)
{
    struct wreq *w = kz_xcalloc(1, sizeof(*w));
    w->cb = cb;
    w->ud = ud;
    int rc = uv_write(&w->req, t->stream, iov, n, on_wreq_done);
    if (rc < 0)
        free(w);
    return rc;
}

static int tcp_try_write(struct kz_transport *t, const uv_buf_t *iov, unsigned n)
{
    return uv_try_write(t->stream, iov, n);
}

static void tcp_release(struct kz_transport *t)
{
    KZ_UNUSED(t);
}

static const struct kz_transport_ops tcp_ops = {"tcp", tcp_feed, tcp_write, tcp_try_write,
                                                tcp_release};

void kz_transport_tcp_init(struct kz_transport *t, uv_stream_t *stream)
{
    memset(t, 0, sizeof(*t));
    t->ops = &tcp_ops;
    t->stream = stream;
    t->ready = true; /* plain inputs are who their config says */
}

/* ---- server state ------------------------------------------------------- */

struct tls_state {
    SSL_CTX *mutual, *server_only;
    struct kz_users *users;
    char ca[1024], cert[1024], key[1024], crl[1024], pki_dir[1024], db_path[1024];
    struct timespec crl_mtime;
    uv_timer_t timer;
    uv_work_t work;
    bool working, started, stopping;
    /* Worker results, taken on the loop in after_reload(). */
    SSL_CTX *new_mutual, *new_server_only;
    struct kz_users *new_users;
    char err[512];
};

static struct tls_state st;

static void resolve(char *out, size_t len, const char *data_dir, const char *path)
{
    if (path[0] == '/')
        snprintf(out, len, "%s", path);
    else
        snprintf(out, len, "%s/%s", data_dir, path);
}

static int ssl_err(const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown";
    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    snprintf(st.err, sizeof(st.err), "%s: %s", what, buf);
    return KZ_ERR_CONFIG;
}

/* Runs on a worker thread: only reads files and builds new objects. */
static SSL_CTX *build_ctx(bool mutual)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(ctx, st.cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, st.key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_err("server certificate/key");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (!mutual)
        return ctx;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    if (SSL_CTX_load_verify_locations(ctx, st.ca, NULL) != 1 ||
        X509_STORE_load_file(store, st.crl) != 1) {
        ssl_err("CA or CRL");
        SSL_CTX_free(ctx);
        return NULL;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    return ctx;
}

static bool crl_changed(void)
{
    struct stat sb;
    if (stat(st.crl, &sb) != 0)
        return false;
    if (sb.st_mtim.tv_sec == st.crl_mtime.tv_sec && sb.st_mtim.tv_nsec == st.crl_mtime.tv_nsec)
        return false;
    st.crl_mtime = sb.st_mtim;
    return true;
}

static void do_reload(uv_work_t *w)
{
    KZ_UNUSED(w);
    st.err[0] = '\0';
    if (kz_users_load(st.db_path, &st.new_users, st.err, sizeof(st.err)) != KZ_OK)
        st.new_users = NULL;
    if (!crl_changed())
        return;
    st.new_mutual = build_ctx(true);
    st.new_server_only = st.new_mutual ? build_ctx(false) : NULL;
    if (!st.new_server_only) {
        SSL_CTX_free(st.new_mutual);
        st.new_mutual = NULL;
        st.crl_mtime.tv_sec = 0; /* try again next time */
    }
}

static void swap_in(void)
{
    if (st.new_users) {
        kz_users_unref(st.users);
        st.users = st.new_users;
        st.new_users = NULL;
    }
    if (st.new_mutual) {
        bool first = !st.mutual;
        SSL_CTX_free(st.mutual);
        SSL_CTX_free(st.server_only);
        st.mutual = st.new_mutual;
        st.server_only = st.new_server_only;
        st.new_mutual = st.new_server_only = NULL;
        if (!first)
            kz_log(KZ_LOG_INFO, "tls: CRL reloaded", "crl=%s", st.crl);
    }
}

static void after_reload(uv_work_t *w, int status)
{
    KZ_UNUSED(w);
    KZ_UNUSED(status);
    st.working = false;
    if (st.err[0])
        kz_log(KZ_LOG_WARN, "tls: reload failed; keeping the previous state", "error=\"%s\"",
               st.err);
    swap_in();
    if (st.stopping)
        kz_tls_stop();
}

static void on_timer(uv_timer_t *t)
{
    if (st.working)
        return;
    st.working = true;
    if (uv_queue_work(t->loop, &st.work, do_reload, after_reload) != 0)
        st.working = false;
}

int kz_tls_start(uv_loop_t *loop, const struct kz_config_tls *conf, const char *data_dir,
                 const char *db_path)
{
    if (st.started)
        return KZ_OK;
    resolve(st.ca, sizeof(st.ca), data_dir, conf->ca);
    resolve(st.cert, sizeof(st.cert), data_dir, conf->cert);
    resolve(st.key, sizeof(st.key), data_dir, conf->key);
    resolve(st.crl, sizeof(st.crl), data_dir, conf->crl);
    snprintf(st.db_path, sizeof(st.db_path), "%s", db_path);
    snprintf(st.pki_dir, sizeof(st.pki_dir), "%s", st.ca);
    char *slash = strrchr(st.pki_dir, '/');
    if (slash)
        *slash = '\0';
    /* Startup may block: nothing is being served yet. */
    do_reload(&st.work);
    if (!st.new_mutual) {
        kz_log(KZ_LOG_ERROR, "tls: cannot load the certificates", "error=\"%s\"", st.err);
        kz_users_unref(st.new_users);
        st.new_users = NULL;
        return KZ_ERR_CONFIG;
    }
    swap_in();
    uv_timer_init(loop, &st.timer);
    uv_timer_start(&st.timer, on_timer, RELOAD_MS, RELOAD_MS);
    uv_unref((uv_handle_t *)&st.timer);
    st.started = true;
    kz_log(KZ_LOG_INFO, "tls: ready", "ca=%s cert=%s crl=%s users=%u", st.ca, st.cert, st.crl,
           kz_users_count(st.users));
    return KZ_OK;
}

void kz_tls_stop(void)
{
    if (!st.started)
        return;
    if (st.working) {
        st.stopping = true; /* finish from after_reload() */
        return;
    }
    uv_timer_stop(&st.timer);
    uv_close((uv_handle_t *)&st.timer, NULL);
    SSL_CTX_free(st.mutual);
    SSL_CTX_free(st.server_only);
    kz_users_unref(st.users);
    st.mutual = st.server_only = NULL;
    st.users = NULL;
    st.started = st.stopping = false;
}

const char *kz_tls_pki_dir(void)
{
    return st.pki_dir;
}

const char *kz_tls_db_path(void)
{
    return st.db_path;
}

struct kz_users *kz_tls_users(void)
{
    return st.users;
}

const struct kz_identity *kz_tls_identity_get(const char *cn, struct kz_users **ref)
{
    const struct kz_user *u = cn ? kz_users_find(st.users, cn) : NULL;
    *ref = NULL;
    if (!u)
        return NULL;
    kz_users_ref(st.users);
    *ref = st.users;
    return &u->id;
}

void kz_tls_identity_put(struct kz_users *ref)
{
    kz_users_unref(ref);
}

/* ---- the TLS transport -------------------------------------------------- */

struct tls_conn {
    SSL *ssl;
    BIO *rbio, *wbio; /* network side: bytes in, bytes out */
};

/* Send whatever OpenSSL produced (handshake records, alerts, data). */
static int flush_wbio(struct kz_transport *t, kz_transport_write_cb cb, void *ud)
{
    struct tls_conn *c = t->tls;
    size_t pending = BIO_ctrl_pending(c->wbio);

    if (pending == 0 || uv_is_closing((uv_handle_t *)t->stream)) {
        if (cb)
            cb(ud, pending ? UV_ECANCELED : 0);
        return 0;
    }
    struct wreq *w = kz_xmalloc(sizeof(*w) + pending);
    w->cb = cb;
    w->ud = ud;
    w->len = (size_t)BIO_read(c->wbio, w->data, (int)pending);
    if (w->len > WBIO_KEEP_MAX) {
        /* A memory BIO keeps the size of its largest burst: start afresh. */
        BIO *fresh = BIO_new(BIO_s_mem());
        if (fresh) {
            SSL_set0_wbio(c->ssl, fresh);
            c->wbio = fresh;
        }
    }
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    int rc = uv_write(&w->req, t->stream, &b, 1, on_wreq_done);
    if (rc < 0) {
        free(w);
        if (cb)
            cb(ud, rc);
    }
    return 0;
}

static int fail(struct kz_transport *t, int rc, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    struct tls_conn *c = t->tls;
    long vr = SSL_get_verify_result(c->ssl);
    char buf[128] = "";

    if (vr != X509_V_OK)
        snprintf(buf, sizeof(buf), "%s", X509_verify_cert_error_string(vr));
    else if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    snprintf(t->why, sizeof(t->why), "%s%s%s", what, buf[0] ? ": " : "", buf);
    flush_wbio(t, NULL, NULL); /* the alert tells the peer why */
    return rc;
}

static int handshake(struct kz_transport *t, const struct kz_transport_cbs *cbs, void *ud)
{
    struct tls_conn *c = t->tls;
    int r = SSL_do_handshake(c->ssl);

    flush_wbio(t, NULL, NULL);
    if (r != 1) {
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return KZ_OK;
        bool not_tls = ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_WRONG_VERSION_NUMBER ||
                       ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_HTTP_REQUEST;
        return fail(t, not_tls ? KZ_ERR_PARSE : KZ_ERR_DENIED,
                    not_tls ? "not a TLS ClientHello" : "handshake refused");
    }
    t->ready = true;
    if (cbs->ready && cbs->ready(ud) != KZ_OK) {
        if (!t->why[0])
            snprintf(t->why, sizeof(t->why), "peer not authorised");
        return KZ_ERR_DENIED;
    }
    return KZ_OK;
}

static int tls_feed(struct kz_transport *t, const char *in, size_t n,
                    const struct kz_transport_cbs *cbs, void *ud)
{
    struct tls_conn *c = t->tls;
    char buf[READ_CHUNK];
    int rc;

    if (n && BIO_write(c->rbio, in, (int)n) != (int)n)
        return fail(t, KZ_ERR_PARSE, "BIO_write");
    if (!t->ready && ((rc = handshake(t, cbs, ud)) != KZ_OK || !t->ready))
        return rc;
    for (;;) {
        int r = SSL_read(c->ssl, buf, sizeof(buf));
        if (r > 0) {
            cbs->data(ud, buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        flush_wbio(t, NULL, NULL);
        if (e == SSL_ERROR_WANT_READ)
            return KZ_OK;
        if (e == SSL_ERROR_ZERO_RETURN) {
            snprintf(t->why, sizeof(t->why), "peer sent close_notify");
            return KZ_ERR_CLOSED;
        }
        return fail(t, KZ_ERR_PARSE, "TLS record error");
    }
}

static int tls_write(struct kz_transport *t, const uv_buf_t *iov, unsigned n,
                     kz_transport_write_cb cb, void *ud)
{
    struct tls_conn *c = t->tls;
    /*
     * Events are small; one SSL_write each would make one TLS record each,
     * and the per-record cost dominated fan-out.  Gather them into full
     * records instead.  Loop thread only, so one staging buffer will do.
     */
    static char stage[TLS_RECORD_MAX];
    size_t used = 0;

    for (unsigned i = 0; i < n; i++) {
        const char *p = iov[i].base;
        size_t left = iov[i].len;
        while (left) {
            size_t take = left < sizeof(stage) - used ? left : sizeof(stage) - used;
            memcpy(stage + used, p, take);
            used += take;
            p += take;
            left -= take;
            /* The write BIO grows as needed, so SSL_write takes every byte. */
            if (used == sizeof(stage) && SSL_write(c->ssl, stage, (int)used) <= 0)
                goto fail;
            if (used == sizeof(stage))
                used = 0;
        }
    }
    if (used && SSL_write(c->ssl, stage, (int)used) <= 0)
        goto fail;
    return flush_wbio(t, cb, ud);
fail:
    fail(t, KZ_ERR_IO, "SSL_write");
    return UV_EPROTO;
}

static int tls_try_write(struct kz_transport *t, const uv_buf_t *iov, unsigned n)
{
    KZ_UNUSED(t);
    KZ_UNUSED(iov);
    KZ_UNUSED(n);
    return UV_EAGAIN;
}

static void tls_release(struct kz_transport *t)
{
    struct tls_conn *c = t->tls;
    if (!c)
        return;
    SSL_free(c->ssl); /* frees both BIOs */
    free(c);
    t->tls = NULL;
}

static const struct kz_transport_ops tls_ops = {"tls", tls_feed, tls_write, tls_try_write,
                                                tls_release};

void kz_transport_tls_init(struct kz_transport *t, uv_stream_t *stream, enum kz_tls_mode mode)
{
    struct tls_conn *c = kz_xcalloc(1, sizeof(*c));

    memset(t, 0, sizeof(*t));
    t->ops = &tls_ops;
    t->stream = stream;
    t->tls = c;
    c->ssl = SSL_new(mode == KZ_TLS_MUTUAL ? st.mutual : st.server_only);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio)
        kz_oom("OpenSSL", 0);
    BIO_set_mem_eof_return(c->rbio, -1);
    /* Idle connections should not keep two 16 KiB record buffers each. */
    SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_accept_state(c->ssl);
}

const char *kz_transport_peer_cn(const struct kz_transport *t)
{
    static char cn[256];
    struct tls_conn *c = t->tls;
    X509 *x = c ? SSL_get0_peer_certificate(c->ssl) : NULL;

    if (!x || SSL_get_verify_result(c->ssl) != X509_V_OK)
        return NULL;
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) <= 0)
        return NULL;
    return cn;
}
