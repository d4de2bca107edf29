/*
 * ff_link.c - the federation v2 link of F1 in one process: kz-usa is an
 * nghttp2 client whose one ServerEventStream call carries the gRPC-framed
 * FederatedEvents as DATA (its data provider copies whatever fits a frame,
 * so a frame holds many messages and a message may span two, as kizuna's
 * src/fed/grpc.c does), collected like kizuna's pump() in writes of up to
 * 256 KiB; kz-jpn is an nghttp2 server that cuts the DATA back into
 * messages.  Between them a TLS 1.3 connection (OpenSSL, a P-256
 * certificate made here, each side checking the other's) over a BIO pair:
 * 16 KiB records, no sockets (the TCP hop is fedfloor.c's).
 *
 * Costs by node: kz-usa's TLS seals the DATA and opens the window updates,
 * kz-jpn's opens the DATA and seals the window updates; each node's nghttp2
 * cost is its session's calls and callbacks.  bench/ only.
 */
#define _GNU_SOURCE
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedfloor.h"

#define GRPC_HDR 5
#define WINDOW (1 << 20)         /* stream and connection windows, as kizuna's */
#define WRITE_BATCH (256u << 10) /* bytes collected for one transport write */
#define RECORD (16u << 10)       /* plaintext per SSL_write: one full record */
#define BUF_CAP (4u << 20)       /* a write batch or what one pass opens, with room */
#define MAX_MESSAGE (4u << 20)

struct tls_pair {
    SSL_CTX *sctx, *cctx;
    SSL *c, *s;
    BIO *cb; /* the client's end of the pair: its bytes written are the TLS stream */
};

struct h2_pair {
    nghttp2_session *c, *s;
    const struct ff_seq *tx;
    size_t tx_off;
    struct ff_seq *rx;
    uint8_t hdr[GRPC_HDR];
    size_t hdr_n, need;
    bool ended, bad;
};

/* ---- TLS ----------------------------------------------------------------------------- */

static bool tls_fail(const char *what)
{
    fprintf(stderr, "fedfloor: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    return false;
}

/* A self-signed P-256 certificate valid for an hour. */
static bool make_cert(EVP_PKEY **key, X509 **crt)
{
    *key = EVP_EC_gen("P-256");
    *crt = X509_new();
    if (!*key || !*crt)
        return false;
    X509_NAME *name = X509_get_subject_name(*crt);
    return X509_set_version(*crt, 2) && ASN1_INTEGER_set(X509_get_serialNumber(*crt), 1) &&
           X509_gmtime_adj(X509_getm_notBefore(*crt), -60) &&
           X509_gmtime_adj(X509_getm_notAfter(*crt), 3600) && X509_set_pubkey(*crt, *key) &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"fedfloor",
                                      -1, -1, 0) &&
           X509_set_issuer_name(*crt, name) && X509_sign(*crt, *key, EVP_sha256()) > 0;
}

/* TLS 1.3 only, presenting crt and trusting only it: mutual TLS between two nodes. */
static SSL_CTX *ctx_new(bool server, EVP_PKEY *key, X509 *crt)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

    if (!ctx)
        return NULL;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        SSL_CTX_use_certificate(ctx, crt) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), crt) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

static void tls_close(struct tls_pair *t)
{
    SSL_free(t->c);
    SSL_free(t->s);
    SSL_CTX_free(t->cctx);
    SSL_CTX_free(t->sctx);
}

static bool tls_open(struct tls_pair *t)
{
    EVP_PKEY *key = NULL;
    X509 *crt = NULL;
    BIO *sb = NULL;
    bool ok = make_cert(&key, &crt) && (t->sctx = ctx_new(true, key, crt)) != NULL &&
              (t->cctx = ctx_new(false, key, crt)) != NULL &&
              BIO_new_bio_pair(&t->cb, BUF_CAP, &sb, BUF_CAP) == 1 &&
              (t->c = SSL_new(t->cctx)) != NULL && (t->s = SSL_new(t->sctx)) != NULL;

    EVP_PKEY_free(key);
    X509_free(crt);
    if (!ok)
        return tls_fail("the TLS set-up");
    SSL_set_bio(t->c, t->cb, t->cb);
    SSL_set_bio(t->s, sb, sb);
    SSL_set_connect_state(t->c);
    SSL_set_accept_state(t->s);
    for (int i = 0; i < 16 && !(SSL_is_init_finished(t->c) && SSL_is_init_finished(t->s)); i++) {
        SSL_do_handshake(t->c);
        SSL_do_handshake(t->s);
    }
    if (!SSL_is_init_finished(t->c) || !SSL_is_init_finished(t->s))
        return tls_fail("the TLS handshake");
    return true;
}

/* p[0..n) in records of RECORD bytes of plaintext. */
static bool seal(SSL *ssl, const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        int k = SSL_write(ssl, p + off, (int)(n - off < RECORD ? n - off : RECORD));
        if (k <= 0)
            return tls_fail("SSL_write");
        off += (size_t)k;
    }
    return true;
}

/* Everything the peer has sealed so far, into out[0..cap); -1 on an error. */
static ssize_t open_all(SSL *ssl, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        if (n == cap)
            return tls_fail("TLS input larger than the buffer"), -1;
        int k = SSL_read(ssl, out + n, (int)(cap - n));
        if (k > 0) {
            n += (size_t)k;
            continue;
        }
        if (SSL_get_error(ssl, k) == SSL_ERROR_WANT_READ)
            return (ssize_t)n;
        return tls_fail("SSL_read"), -1;
    }
}

/* ---- HTTP/2 and gRPC -------------------------------------------------------------------- */

/* kz-usa's data provider: as many framed bytes as the frame takes. */
static ssize_t read_tx(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                       nghttp2_data_source *src, void *ud)
{
    struct h2_pair *h = ud;
    size_t left = h->tx->len - h->tx_off, n = left < len ? left : len;

    (void)s, (void)id, (void)src;
    memcpy(buf, h->tx->buf + h->tx_off, n);
    h->tx_off += n;
    if (h->tx_off == h->tx->len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* kz-jpn: DATA bytes back into messages, each copied whole into rx. */
static int on_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d, size_t len,
                    void *ud)
{
    struct h2_pair *h = ud;
    struct ff_seq *rx = h->rx;

    (void)s, (void)flags, (void)id;
    while (len) {
        size_t k;
        if (h->hdr_n < GRPC_HDR) {
            k = GRPC_HDR - h->hdr_n < len ? GRPC_HDR - h->hdr_n : len;
            memcpy(h->hdr + h->hdr_n, d, k);
            h->hdr_n += k;
            h->need = (size_t)h->hdr[1] << 24 | (size_t)h->hdr[2] << 16 | (size_t)h->hdr[3] << 8 |
                      h->hdr[4];
            if (h->hdr_n == GRPC_HDR && (h->need > MAX_MESSAGE || h->hdr[0] ||
                                         rx->len + h->need > rx->cap || rx->n == rx->max))
                return h->bad = true, NGHTTP2_ERR_CALLBACK_FAILURE;
        } else {
            k = h->need < len ? h->need : len;
            memcpy(rx->buf + rx->len, d, k);
            rx->len += k;
            h->need -= k;
        }
        d += k, len -= k;
        if (h->hdr_n == GRPC_HDR && h->need == 0) {
            rx->off[++rx->n] = rx->len;
            h->hdr_n = 0;
        }
    }
    return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    struct h2_pair *h = ud;
    (void)s;
    if (f->hd.type == NGHTTP2_DATA && (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        h->ended = true;
    return 0;
}

static bool h2_settings(nghttp2_session *s)
{
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW}};
    return nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, 2) == 0 &&
           nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, WINDOW) == 0;
}

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE         \
    }

static bool h2_open(struct h2_pair *h)
{
    nghttp2_session_callbacks *cb;
    nghttp2_nv nv[] = {NV(":method", "POST"),
                       NV(":scheme", "https"),
                       NV(":path", "/com.atakmap.FederatedChannel/ServerEventStream"),
                       NV(":authority", "127.0.0.1"),
                       NV("content-type", "application/grpc"),
                       NV("te", "trailers")};
    nghttp2_data_provider prd = {.read_callback = read_tx};

    if (nghttp2_session_callbacks_new(&cb) != 0)
        return false;
    bool ok = nghttp2_session_client_new(&h->c, cb, h) == 0;
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    ok = ok && nghttp2_session_server_new(&h->s, cb, h) == 0;
    nghttp2_session_callbacks_del(cb);
    return ok && h2_settings(h->c) && h2_settings(h->s) &&
           nghttp2_submit_request(h->c, NULL, nv, sizeof(nv) / sizeof(nv[0]), &prd, NULL) > 0;
}

/* A session's output, up to a write batch, copied out as kizuna's pump() does; -1 on error. */
static ssize_t h2_out(nghttp2_session *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (n < WRITE_BATCH) {
        const uint8_t *p;
        ssize_t k = nghttp2_session_mem_send(s, &p);
        if (k <= 0)
            return k < 0 ? -1 : (ssize_t)n;
        if (n + (size_t)k > cap)
            return -1;
        memcpy(out + n, p, (size_t)k);
        n += (size_t)k;
    }
    return (ssize_t)n;
}

/* ---- the link --------------------------------------------------------------------------- */

struct bufs {
    uint8_t *out, *in;
};

/* kz-usa's session and TLS send, kz-jpn's open and receive: false on an error. */
static bool forward(struct tls_pair *t, struct h2_pair *h, struct bufs *b, struct ff_link_costs *c,
                    size_t *moved)
{
    struct ff_cost at = ff_now();
    ssize_t n = h2_out(h->c, b->out, BUF_CAP);
    ff_lap(&c->h2_send, &at);
    if (n < 0 || !seal(t->c, b->out, (size_t)n))
        return false;
    ff_lap(&c->seal, &at);
    ssize_t m = open_all(t->s, b->in, BUF_CAP);
    ff_lap(&c->open, &at);
    if (m < 0 || nghttp2_session_mem_recv(h->s, b->in, (size_t)m) != m)
        return false;
    ff_lap(&c->h2_recv, &at);
    *moved += (size_t)n + (size_t)m;
    return true;
}

/* The other way: kz-jpn's window updates and settings acknowledgements. */
static bool backward(struct tls_pair *t, struct h2_pair *h, struct bufs *b, struct ff_link_costs *c,
                     size_t *moved)
{
    struct ff_cost at = ff_now();
    ssize_t n = h2_out(h->s, b->out, BUF_CAP);
    ff_lap(&c->h2_recv, &at);
    if (n < 0 || !seal(t->s, b->out, (size_t)n))
        return false;
    ff_lap(&c->open, &at);
    ssize_t m = open_all(t->c, b->in, BUF_CAP);
    ff_lap(&c->seal, &at);
    if (m < 0 || nghttp2_session_mem_recv(h->c, b->in, (size_t)m) != m)
        return false;
    ff_lap(&c->h2_send, &at);
    *moved += (size_t)n + (size_t)m;
    return true;
}

static bool pump(struct tls_pair *t, struct h2_pair *h, struct ff_link_costs *c)
{
    struct bufs b = {malloc(BUF_CAP), malloc(BUF_CAP)};
    bool ok = b.out && b.in;
    uint64_t tls0 = BIO_number_written(t->cb);

    for (int idle = 0; ok && !h->ended && idle < 3;) {
        size_t moved = 0;
        ok = forward(t, h, &b, c, &moved) && backward(t, h, &b, c, &moved);
        idle = moved ? 0 : idle + 1;
    }
    c->h2_bytes = h->tx_off;
    c->tls_bytes = BIO_number_written(t->cb) - tls0;
    free(b.out);
    free(b.in);
    return ok;
}

bool ff_link_run(const struct ff_seq *tx, struct ff_seq *rx, struct ff_link_costs *c)
{
    struct tls_pair t = {0};
    struct h2_pair h = {.tx = tx, .rx = rx};
    bool ok = tls_open(&t);

    rx->len = rx->n = 0;
    rx->off[0] = 0;
    if (ok)
        snprintf(c->cipher, sizeof(c->cipher), "%s", SSL_get_cipher_name(t.c));
    ok = ok && h2_open(&h) && pump(&t, &h, c);
    if (!ok || !h.ended || rx->n != tx->n)
        fprintf(stderr, "fedfloor: the link carried %zu of %zu messages%s\n", rx->n, tx->n,
                h.bad ? " (bad framing)" : "");
    ok = ok && h.ended && rx->n == tx->n;
    nghttp2_session_del(h.c);
    nghttp2_session_del(h.s);
    tls_close(&t);
    return ok;
}
