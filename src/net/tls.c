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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "net/transport.h"

#define READ_CHUNK 16384
#define TLS_RECORD_MAX 16384    /* largest TLS plaintext record */
#define TLS_RECORD_OVERHEAD 256 /* header, tag, content type and padding, generously */

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

/*
 * The records OpenSSL produced, in the order produced, and the write that
 * sends them: one allocation that grows while records are added and then
 * goes to uv_write as it is.
 */
struct wreq {
    uv_write_t req;
    kz_transport_write_cb cb;
    void *ud;
    size_t len, cap;
    char data[];
};

static void on_wreq_done(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    if (w->cb)
        w->cb(w->ud, status);
    free(w);
}

/*
 * OpenSSL's network side is one BIO (bio_io below) that holds no buffer of
 * its own: reads come from the chunk being fed (borrowed for the length of
 * feed(), which runs OpenSSL until it has consumed all of it) and writes
 * append to `out`, which the next flush hands to uv_write.  A memory BIO kept
 * the capacity of its largest burst (16-64 KiB per connection that ever
 * received fan-out), and cost one more copy each way.
 */
struct tls_conn {
    SSL *ssl;
    const char *in; /* ciphertext not yet read by OpenSSL (inside feed() only) */
    size_t in_len;
    struct wreq *out;                 /* records not yet sent, or NULL */
    struct tls_hs *hs;                /* handshake on the worker pool (kz_transport_tls_offload) */
    void (*failed)(void *ud, int rc); /* non-NULL: offload the handshake */
    char alpn[32];                    /* the protocol agreed, NUL-terminated (kz_transport_alpn) */
};

/* Room for `n` more bytes of records in c->out. */
static void out_reserve(struct tls_conn *c, size_t n)
{
    size_t len = c->out ? c->out->len : 0, cap = c->out ? c->out->cap : 0;

    if (len + n <= cap)
        return;
    cap = cap * 2 > len + n ? cap * 2 : len + n;
    cap = cap < 1024 ? 1024 : cap;
    c->out = kz_xrealloc(c->out, sizeof(*c->out) + cap);
    c->out->len = len;
    c->out->cap = cap;
}

static int bio_io_write(BIO *b, const char *data, size_t n, size_t *written)
{
    struct tls_conn *c = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    out_reserve(c, n);
    memcpy(c->out->data + c->out->len, data, n);
    c->out->len += n;
    *written = n;
    return 1;
}

static int bio_io_read(BIO *b, char *data, size_t n, size_t *readbytes)
{
    struct tls_conn *c = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    if (c->in_len == 0) {
        BIO_set_retry_read(b); /* "wait for more", never EOF */
        *readbytes = 0;
        return 0;
    }
    n = n < c->in_len ? n : c->in_len;
    memcpy(data, c->in, n);
    c->in += n;
    c->in_len -= n;
    *readbytes = n;
    return 1;
}

static long bio_io_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct tls_conn *c = BIO_get_data(b);
    KZ_UNUSED(num);
    KZ_UNUSED(ptr);

    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return (long)c->in_len;
    case BIO_CTRL_WPENDING:
        return c->out ? (long)c->out->len : 0;
    default:
        return 0;
    }
}

static int bio_io_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/*
 * The BIO_METHOD is made once for the process and never freed: OpenSSL
 * keeps a pointer to it in every BIO, and it holds no state.
 */
static BIO_METHOD *bio_io_method;
static pthread_once_t bio_io_once = PTHREAD_ONCE_INIT;

static void bio_io_make(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kizuna io");

    if (!m || !BIO_meth_set_write_ex(m, bio_io_write) || !BIO_meth_set_read_ex(m, bio_io_read) ||
        !BIO_meth_set_ctrl(m, bio_io_ctrl) || !BIO_meth_set_create(m, bio_io_create))
        kz_oom("BIO_meth_new", 0);
    bio_io_method = m;
}

/* Send whatever OpenSSL produced (handshake records, alerts, data). */
static int flush_out(struct kz_transport *t, kz_transport_write_cb cb, void *ud)
{
    struct tls_conn *c = t->tls;
    struct wreq *w = c->out;

    if (!w || w->len == 0 || uv_is_closing((uv_handle_t *)t->stream)) {
        if (cb)
            cb(ud, w && w->len ? UV_ECANCELED : 0);
        return 0;
    }
    c->out = NULL;
    w->cb = cb;
    w->ud = ud;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    int rc = uv_write(&w->req, t->stream, &b, 1, on_wreq_done);
    if (rc < 0) {
        free(w);
        if (cb)
            cb(ud, rc);
    }
    return 0;
}

/* Why OpenSSL refused, into why: the verify result, or the last error. */
static void describe(struct tls_conn *c, const char *what, char *why, size_t whylen)
{
    unsigned long e = ERR_peek_last_error();
    long vr = SSL_get_verify_result(c->ssl);
    char buf[128] = "";

    if (vr != X509_V_OK)
        snprintf(buf, sizeof(buf), "%s", X509_verify_cert_error_string(vr));
    else if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    snprintf(why, whylen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

static int fail(struct kz_transport *t, int rc, const char *what)
{
    describe(t->tls, what, t->why, sizeof(t->why));
    flush_out(t, NULL, NULL); /* the alert tells the peer why */
    return rc;
}

/*
 * One step of the handshake over c->in, on whichever thread holds c (only
 * ever one): KZ_OK (*done once finished) or the refusal, described in why.
 */
static int hs_step(struct tls_conn *c, bool *done, char *why, size_t whylen)
{
    int r = SSL_do_handshake(c->ssl);

    *done = r == 1;
    if (r == 1)
        return KZ_OK;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return KZ_OK;
    int reason = ERR_GET_REASON(ERR_peek_last_error());
    bool not_tls = reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST;
    describe(c, not_tls ? "not a TLS ClientHello" : "handshake refused", why, whylen);
    return not_tls ? KZ_ERR_PARSE : KZ_ERR_DENIED;
}

/* The handshake is over: the owner decides whether the peer may talk. */
static int became_ready(struct kz_transport *t, const struct kz_transport_cbs *cbs, void *ud)
{
    t->ready = true;
    if (cbs->ready && cbs->ready(ud) != KZ_OK) {
        if (!t->why[0])
            snprintf(t->why, sizeof(t->why), "peer not authorised");
        return KZ_ERR_DENIED;
    }
    return KZ_OK;
}

static int handshake(struct kz_transport *t, const struct kz_transport_cbs *cbs, void *ud)
{
    bool done;
    int rc = hs_step(t->tls, &done, t->why, sizeof(t->why));

    flush_out(t, NULL, NULL); /* handshake records, or the alert */
    if (rc != KZ_OK || !done)
        return rc;
    return became_ready(t, cbs, ud);
}

/* Runs OpenSSL over c->in until it has taken every byte (or failed). */
static int feed_records(struct kz_transport *t, const struct kz_transport_cbs *cbs, void *ud)
{
    struct tls_conn *c = t->tls;
    char buf[READ_CHUNK];
    int rc;

    if (!t->ready && ((rc = handshake(t, cbs, ud)) != KZ_OK || !t->ready))
        return rc;
    for (;;) {
        int r = SSL_read(c->ssl, buf, sizeof(buf));
        if (r > 0) {
            cbs->data(ud, buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        flush_out(t, NULL, NULL);
        if (e == SSL_ERROR_WANT_READ)
            return KZ_OK;
        if (e == SSL_ERROR_ZERO_RETURN) {
            snprintf(t->why, sizeof(t->why), "peer sent close_notify");
            return KZ_ERR_CLOSED;
        }
        return fail(t, KZ_ERR_PARSE, "TLS record error");
    }
}

/* ---- the handshake on the worker pool ----------------------------------- */

/*
 * Input waiting for a running step: past HS_INPUT_PAUSE the connection stops
 * reading until the step is done (a client may send data right after its
 * Finished, before the step that reads it has run); HS_INPUT_MAX is only a
 * safety net, as no read comes once reading has stopped.
 */
#define HS_INPUT_PAUSE 65536
#define HS_INPUT_MAX (4 * HS_INPUT_PAUSE)

/*
 * While a connection handshakes with kz_transport_tls_offload, each step
 * (SSL_do_handshake over what arrived) runs on libuv's worker pool, so a
 * storm of handshakes (about 1.2 ms of CPU each, P-256) never stalls the
 * loop's established connections.  Only one of the two threads holds the SSL
 * at a time: the loop queues a step only when none is running and touches
 * neither the SSL nor c->out until hs_done; input that arrives meanwhile
 * waits in `next`.  Freed when the handshake is over.
 */
struct tls_hs {
    uv_work_t work;
    struct kz_transport *t; /* NULL once released while a step runs: hs_done frees all */
    const struct kz_transport_cbs *cbs;
    void *ud;
    char *in;   /* the running step's input (c->in points into it) */
    char *next; /* what arrived during the step */
    size_t next_len;
    bool busy, done;
    uv_alloc_cb paused_alloc; /* reading stopped by hs_feed: how to start it again */
    uv_read_cb paused_read;
    int rc;
    char why[160];
};

static void hs_free(struct tls_hs *hs)
{
    if (!hs)
        return;
    free(hs->in);
    free(hs->next);
    free(hs);
}

static void conn_free(struct tls_conn *c)
{
    SSL_free(c->ssl); /* frees the BIO */
    free(c->out);
    hs_free(c->hs);
    free(c);
}

static void hs_work(uv_work_t *w)
{
    struct tls_hs *hs = (struct tls_hs *)w;
    struct tls_conn *c = hs->work.data;

    hs->rc = hs_step(c, &hs->done, hs->why, sizeof(hs->why));
    ERR_clear_error(); /* the error queue is this worker thread's */
}

static void hs_done(uv_work_t *w, int status);

/* libuv forgets the callbacks on uv_read_stop: keep them to start again. */
static void hs_pause(struct tls_hs *hs)
{
    uv_stream_t *st = hs->t->stream;

    hs->paused_alloc = st->alloc_cb;
    hs->paused_read = st->read_cb;
    uv_read_stop(st);
}

static void hs_resume(struct tls_hs *hs)
{
    if (!hs->paused_read)
        return;
    /* Fails only when the owner is closing the stream: nothing to read then. */
    (void)uv_read_start(hs->t->stream, hs->paused_alloc, hs->paused_read);
    hs->paused_read = NULL;
}

/* Hands what has arrived to the next step on the worker pool. */
static void hs_start(struct tls_conn *c)
{
    struct tls_hs *hs = c->hs;

    free(hs->in);
    hs->in = hs->next;
    c->in = hs->in;
    c->in_len = hs->next_len;
    hs->next = NULL;
    hs->next_len = 0;
    hs->busy = true;
    hs->work.data = c;
    if (uv_queue_work(hs->t->stream->loop, &hs->work, hs_work, hs_done) != 0)
        KZ_BUG("uv_queue_work");
}

/* The handshake is over: what followed the client's Finished is data. */
static int hs_finish(struct kz_transport *t, struct tls_hs *hs)
{
    struct tls_conn *c = t->tls;
    int rc = became_ready(t, hs->cbs, hs->ud);

    if (rc == KZ_OK && c->in_len)
        rc = feed_records(t, hs->cbs, hs->ud);
    c->in = hs->next;
    c->in_len = hs->next_len;
    if (rc == KZ_OK && c->in_len)
        rc = feed_records(t, hs->cbs, hs->ud);
    return rc;
}

static void hs_done(uv_work_t *w, int status)
{
    struct tls_hs *hs = (struct tls_hs *)w;
    struct tls_conn *c = hs->work.data;
    struct kz_transport *t = hs->t;
    int rc = hs->rc;

    KZ_UNUSED(status);
    hs->busy = false;
    if (!t) {
        conn_free(c);
        return;
    }
    flush_out(t, NULL, NULL); /* handshake records, or the alert */
    hs_resume(hs);
    if (rc == KZ_OK && !hs->done) {
        if (hs->next_len)
            hs_start(c);
        return;
    }
    if (rc != KZ_OK)
        snprintf(t->why, sizeof(t->why), "%s", hs->why);
    else
        rc = hs_finish(t, hs);
    c->in = NULL;
    c->in_len = 0;
    c->hs = NULL;
    /* Owners release from a close callback, never inside this one: c lives on. */
    if (rc != KZ_OK)
        c->failed(hs->ud, rc);
    hs_free(hs);
}

static int hs_feed(struct kz_transport *t, const char *in, size_t n,
                   const struct kz_transport_cbs *cbs, void *ud)
{
    struct tls_conn *c = t->tls;
    struct tls_hs *hs = c->hs ? c->hs : (c->hs = kz_xcalloc(1, sizeof(*c->hs)));

    hs->t = t;
    hs->cbs = cbs;
    hs->ud = ud;
    if (hs->next_len + n > HS_INPUT_MAX) {
        snprintf(t->why, sizeof(t->why), "handshake: more than %d bytes waiting", HS_INPUT_MAX);
        return KZ_ERR_PARSE;
    }
    hs->next = kz_xrealloc(hs->next, hs->next_len + n + 1);
    if (n)
        memcpy(hs->next + hs->next_len, in, n);
    hs->next_len += n;
    if (hs->busy && hs->next_len > HS_INPUT_PAUSE && !hs->paused_read)
        hs_pause(hs);
    if (!hs->busy)
        hs_start(c);
    return KZ_OK;
}

static int tls_feed(struct kz_transport *t, const char *in, size_t n,
                    const struct kz_transport_cbs *cbs, void *ud)
{
    struct tls_conn *c = t->tls;

    if (!t->ready && c->failed)
        return hs_feed(t, in, n, cbs, ud);
    /* OpenSSL wants more only once it has read all of it: nothing to keep. */
    c->in = in;
    c->in_len = n;
    int rc = feed_records(t, cbs, ud);
    c->in = NULL;
    c->in_len = 0;
    return rc;
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
    size_t used = 0, total = 0;

    for (unsigned i = 0; i < n; i++)
        total += iov[i].len;
    out_reserve(c, total + (total / TLS_RECORD_MAX + 1) * TLS_RECORD_OVERHEAD);
    for (unsigned i = 0; i < n; i++) {
        const char *p = iov[i].base;
        size_t left = iov[i].len;
        while (left) {
            size_t take = left < sizeof(stage) - used ? left : sizeof(stage) - used;
            memcpy(stage + used, p, take);
            used += take;
            p += take;
            left -= take;
            /* The BIO takes every byte, so SSL_write never returns short. */
            if (used == sizeof(stage) && SSL_write(c->ssl, stage, (int)used) <= 0)
                goto fail;
            if (used == sizeof(stage))
                used = 0;
        }
    }
    if (used && SSL_write(c->ssl, stage, (int)used) <= 0)
        goto fail;
    return flush_out(t, cb, ud);
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
    t->tls = NULL;
    if (c->hs && c->hs->busy) {
        c->hs->t = NULL; /* the worker has c: hs_done frees it */
        return;
    }
    conn_free(c);
}

static const struct kz_transport_ops tls_ops = {"tls", tls_feed, tls_write, tls_try_write,
                                                tls_release};

static SSL *tls_setup(struct kz_transport *t, uv_stream_t *stream, SSL_CTX *ctx)
{
    struct tls_conn *c = kz_xcalloc(1, sizeof(*c));
    BIO *io;

    memset(t, 0, sizeof(*t));
    t->ops = &tls_ops;
    t->stream = stream;
    t->tls = c;
    pthread_once(&bio_io_once, bio_io_make);
    c->ssl = SSL_new(ctx);
    io = BIO_new(bio_io_method);
    if (!c->ssl || !io)
        kz_oom("OpenSSL", 0);
    BIO_set_data(io, c);
    /* Idle connections should not keep two 16 KiB record buffers each. */
    SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
    SSL_set_bio(c->ssl, io, io); /* one reference, taken by the SSL */
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

void kz_transport_tls_offload(struct kz_transport *t, void (*failed)(void *ud, int rc))
{
    struct tls_conn *c = t->tls;

    c->failed = failed;
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
