/*
 * transport.h - what a connection reads and writes through: plain TCP or
 * TLS over memory BIOs.  Protocol code (CoT streams, HTTP) calls these ops
 * and never OpenSSL.  Loop thread only.
 *
 * Reading: the connection reads the socket itself and hands every chunk to
 * ops->feed(), which calls cbs->ready() once when the peer is authenticated
 * (at once for TCP; after the handshake for TLS) and cbs->data() with each
 * piece of plaintext.  Handshake bytes the transport must send are written
 * from inside feed(); nothing ever blocks.
 *
 * Writing: ops->write() takes plaintext buffers (valid until `cb`) and calls
 * cb(ud, status) once they are on the wire or failed.  ops->try_write()
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
};

void kz_transport_tcp_init(struct kz_transport *t, uv_stream_t *stream);

/* ---- TLS --------------------------------------------------------------- */

/* Which server context: client certificate required (tls, https) or not (enroll). */
enum kz_tls_mode { KZ_TLS_MUTUAL, KZ_TLS_SERVER_ONLY };

/*
 * Load the CA, server certificate, key and CRL and start reloading the CRL
 * (and the users table at `db_path`) every 2 s without blocking the loop.
 * Relative paths are taken from `data_dir`.  KZ_ERR_CONFIG with a log line
 * when a file is missing or does not load.
 */
int kz_tls_start(uv_loop_t *loop, const struct kz_config_tls *conf, const char *data_dir,
                 const char *db_path);
void kz_tls_stop(void);

/* A server-side TLS transport on `stream`.  Release with t->ops->release(). */
void kz_transport_tls_init(struct kz_transport *t, uv_stream_t *stream, enum kz_tls_mode mode);

/* After ready: the verified client certificate's CN, or NULL. */
const char *kz_transport_peer_cn(const struct kz_transport *t);

/*
 * Identity for a certificate CN from the current users snapshot, or NULL.
 * The snapshot reference is stored in *ref (release with kz_tls_identity_put)
 * so the identity stays valid across reloads.
 */
struct kz_users;
const struct kz_identity *kz_tls_identity_get(const char *cn, struct kz_users **ref);
void kz_tls_identity_put(struct kz_users *ref);
/* The current users snapshot (borrowed; valid until the next loop pass). */
struct kz_users *kz_tls_users(void);

/* PKI directory the server uses (for enrollment). */
const char *kz_tls_pki_dir(void);
const char *kz_tls_db_path(void);

#endif
