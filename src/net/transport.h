/*
 * transport.h - what a connection reads and writes through: plain TCP or
 * TLS over memory BIOs.  Protocol code (CoT streams, HTTP) calls these ops
 * and never OpenSSL.  Loop thread only.
 *
 * TLS runs in either role (server: inputs, https; client: federation links).
 *
 * Reading: the connection reads the socket itself and hands every chunk to
 * ops->feed(), which calls cbs->ready() once when the peer is authenticated
 * (at once for TCP; after the handshake for TLS) and cbs->data() with each
 * piece of plaintext.  Handshake bytes the transport must send are written
 * from inside feed(); nothing ever blocks.
 *
 * Writing: ops->write() takes plaintext buffers (valid until `cb`) and calls
 * cb(ud, status) once they are on the wire or failed; at most one write is in
 * flight per transport (its one user, the output queue, waits for `cb`).  ops->try_write()
 * writes what the kernel takes now and returns that count or a UV error
 * (TLS never does partial writes: UV_EAGAIN).
 */
#ifndef KZ_NET_TRANSPORT_H
#define KZ_NET_TRANSPORT_H

#include <uv.h>

#include "core/core.h"

struct kz_transport;

struct kz_transport_cbs {
    /* KZ_OK to go on; anything else refuses the peer (feed returns KZ_ERR_DENIED). */
    int (*ready)(void *ud);
    void (*data)(void *ud, const char *data, size_t len);
};

typedef void (*kz_transport_write_cb)(void *ud, int status);

struct kz_transport_ops {
    const char *name;
    /*
     * KZ_OK; KZ_ERR_DENIED (handshake or authentication refused),
     * KZ_ERR_PARSE (not TLS / protocol error), KZ_ERR_CLOSED (close_notify).
     * On error t->why names the cause for the log.
     */
    int (*feed)(struct kz_transport *t, const char *in, size_t n,
                const struct kz_transport_cbs *cbs, void *ud);
    int (*write)(struct kz_transport *t, const uv_buf_t *iov, unsigned n, kz_transport_write_cb cb,
                 void *ud);
    int (*try_write)(struct kz_transport *t, const uv_buf_t *iov, unsigned n);
    void (*release)(struct kz_transport *t);
};

struct kz_transport {
    const struct kz_transport_ops *ops;
    uv_stream_t *stream;
    void *tls;     /* TLS state (tls.c); NULL for TCP */
    bool ready;    /* authenticated: data may flow */
    char why[160]; /* last failure, for the log */
    /* TCP: the one write in flight needs no allocation. */
    struct {
        uv_write_t req;
        kz_transport_write_cb cb;
        void *ud;
        bool busy;
    } tcpw;
};

void kz_transport_tcp_init(struct kz_transport *t, uv_stream_t *stream);

/* ---- TLS --------------------------------------------------------------- */

struct ssl_ctx_st;
struct kz_users;

/*
 * What TLS inputs need: the two server contexts (client certificate required
 * for tls/https, not for enroll) and the users snapshot that maps a verified
 * certificate's CN to an identity.  Owned and reloaded by the server
 * (server/creds.c), which swaps the pointers on the loop thread; a
 * connection keeps its own SSL (which references its context) and a
 * reference to the snapshot it was authenticated against.
 */
struct kz_tls_creds {
    struct ssl_ctx_st *mutual;
    struct ssl_ctx_st *server_only;
    struct kz_users *users;
};

/* A server-side TLS transport on `stream` from `ctx`.  Release with t->ops->release(). */
void kz_transport_tls_init(struct kz_transport *t, uv_stream_t *stream, struct ssl_ctx_st *ctx);

/*
 * Run this server transport's handshake on libuv's worker pool: each step
 * (SSL_do_handshake over the bytes that arrived) is a uv_queue_work job, so
 * the signing and verifying of a storm of handshakes never holds up the
 * loop.  Call right after kz_transport_tls_init.  feed() then returns KZ_OK
 * during the handshake and the outcome comes later, on the loop: cbs->ready
 * as usual, or `failed(ud, rc)` with rc and t->why as feed() would have
 * returned them.  The transport keeps the cbs and ud of the last feed()
 * until then.  release() may come at any time (it frees once a running step
 * is done), but never from inside `failed` or `ready`.
 */
void kz_transport_tls_offload(struct kz_transport *t, void (*failed)(void *ud, int rc));

/*
 * A client-side TLS transport on a connected `stream` from `ctx`: verifies the
 * server's chain against ctx's store (no host name check: a federation peer is
 * known by its CA), sends SNI for a host name (not for an address) and offers
 * the ALPN protocols set on ctx.  Start the handshake with
 * t->ops->feed(t, NULL, 0, cbs, ud).  Release with t->ops->release().
 */
void kz_transport_tls_client_init(struct kz_transport *t, uv_stream_t *stream,
                                  struct ssl_ctx_st *ctx, const char *server_name);

/* After ready: the ALPN protocol agreed ("h2"), or NULL (none, or TCP). */
const char *kz_transport_alpn(const struct kz_transport *t);

/*
 * After ready: the peer's verified chain (an OpenSSL STACK_OF(X509),
 * borrowed: valid while the transport lives), the peer's own certificate
 * first and the trusted CA last, for the federation CA match; NULL when the
 * chain did not verify.
 */
struct stack_st_X509;
struct stack_st_X509 *kz_transport_peer_chain(const struct kz_transport *t);

/*
 * After ready: the verified client certificate's CN, written into the
 * caller's cn and returned, or NULL when there is none.
 */
#define KZ_TLS_CN_MAX 256
const char *kz_transport_peer_cn(const struct kz_transport *t, char cn[KZ_TLS_CN_MAX]);

/*
 * After ready: the verified client certificate (an OpenSSL X509, borrowed:
 * valid while the transport lives), or NULL (TCP, no certificate).
 */
struct x509_st;
struct x509_st *kz_transport_peer_cert(const struct kz_transport *t);

/*
 * Identity for a certificate CN from the current users snapshot, or NULL.
 * The snapshot reference is stored in *ref (release with kz_tls_identity_put)
 * so the identity stays valid across reloads.
 */
const struct kz_identity *kz_tls_identity_get(const struct kz_tls_creds *c, const char *cn,
                                              struct kz_users **ref);
void kz_tls_identity_put(struct kz_users *ref);

#endif
