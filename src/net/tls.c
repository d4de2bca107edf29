/*
 * tls.c - the TLS transport: OpenSSL on the loop through memory BIOs.
 *
 * The server contexts and the users snapshot are the server's
 * (server/creds.c); a connection's SSL references the context it was made
 * from, so swapping contexts on reload never disturbs it.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "net/transport.h"

#define READ_CHUNK 16384
#define TLS_RECORD_MAX 16384 /* largest TLS plaintext record */
#define WBIO_KEEP_MAX 65536  /* larger write BIOs are replaced once drained */

const struct kz_identity *kz_tls_identity_get(const struct kz_tls_creds *c, const char *cn,
                                              struct kz_users **ref)
{
    const struct kz_user *u = cn ? kz_users_find(c->users, cn) : NULL;
    *ref = NULL;
    if (!u)
        return NULL;
    kz_users_ref(c->users);
    *ref = c->users;
    return &u->id;
}

void kz_tls_identity_put(struct kz_users *ref)
{
    kz_users_unref(ref);
}

/* ---- the TLS transport -------------------------------------------------- */

/* A write of the TLS records OpenSSL produced, with its callback. */
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

struct tls_conn {
    SSL *ssl;
    BIO *rbio, *wbio; /* network side: bytes in, bytes out */
    char alpn[32];    /* the protocol agreed, NUL-terminated (kz_transport_alpn) */
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
     * records instead.
     */
    char stage[TLS_RECORD_MAX];
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

static SSL *tls_setup(struct kz_transport *t, uv_stream_t *stream, SSL_CTX *ctx)
{
    struct tls_conn *c = kz_xcalloc(1, sizeof(*c));

    memset(t, 0, sizeof(*t));
    t->ops = &tls_ops;
    t->stream = stream;
    t->tls = c;
    c->ssl = SSL_new(ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio)
        kz_oom("OpenSSL", 0);
    BIO_set_mem_eof_return(c->rbio, -1);
    /* Idle connections should not keep two 16 KiB record buffers each. */
    SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    return c->ssl;
}

void kz_transport_tls_init(struct kz_transport *t, uv_stream_t *stream, SSL_CTX *ctx)
{
    SSL_set_accept_state(tls_setup(t, stream, ctx));
}

void kz_transport_tls_client_init(struct kz_transport *t, uv_stream_t *stream, SSL_CTX *ctx,
                                  const char *server_name)
{
    SSL *ssl = tls_setup(t, stream, ctx);
    unsigned char ip[16];

    SSL_set_connect_state(ssl);
    SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    /* SNI names hosts only, never addresses (RFC 6066 §3). */
    if (server_name && inet_pton(AF_INET, server_name, ip) != 1 &&
        inet_pton(AF_INET6, server_name, ip) != 1)
        SSL_set_tlsext_host_name(ssl, server_name);
}

const char *kz_transport_peer_cn(const struct kz_transport *t, char cn[KZ_TLS_CN_MAX])
{
    struct tls_conn *c = t->tls;
    X509 *x = c ? SSL_get0_peer_certificate(c->ssl) : NULL;

    if (!x || SSL_get_verify_result(c->ssl) != X509_V_OK)
        return NULL;
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, KZ_TLS_CN_MAX) <= 0)
        return NULL;
    return cn;
}

struct x509_st *kz_transport_peer_cert(const struct kz_transport *t)
{
    struct tls_conn *c = t->tls;

    return c ? SSL_get0_peer_certificate(c->ssl) : NULL;
}

const char *kz_transport_alpn(const struct kz_transport *t)
{
    struct tls_conn *c = t->tls;
    const unsigned char *p;
    unsigned len;

    if (!c || !t->ready)
        return NULL;
    SSL_get0_alpn_selected(c->ssl, &p, &len);
    if (!p || len == 0 || len >= sizeof(c->alpn))
        return NULL;
    memcpy(c->alpn, p, len);
    c->alpn[len] = '\0';
    return c->alpn;
}

struct stack_st_X509 *kz_transport_peer_chain(const struct kz_transport *t)
{
    struct tls_conn *c = t->tls;

    if (!c || !t->ready || SSL_get_verify_result(c->ssl) != X509_V_OK)
        return NULL;
    return SSL_get0_verified_chain(c->ssl);
}
