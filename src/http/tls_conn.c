/*
 * tls_conn.c - what an HTTP connection reads and writes through, and who
 * the caller is.
 *
 *   http    TCP; the caller is resolved at accept, without a certificate.
 *   https   TLS with a client certificate; the caller is resolved from the
 *           verified certificate's CN once the handshake is done (refused
 *           when the application knows no such user).
 *   enroll  TLS without a client certificate; no caller at all (each
 *           request carries Basic credentials).
 *
 * Who a caller is, is the application's business (struct
 * kz_http_caller_ops): the engine keeps the identity and the opaque object
 * it gets back, and gives them back to close() when the connection is freed.
 *
 * Nothing of the request machinery runs before the transport says the peer
 * is ready: bytes before the end of the handshake are TLS records only.
 */
#include <stdio.h>
#include <string.h>

#include "http/internal.h"

static int open_caller(struct kz__http_conn *c, const char *cn)
{
    const struct kz_http_caller_ops *ops = &c->h->opts.caller;
    int rc;

    if (!ops->open)
        return KZ_OK; /* nobody is anybody: the caller sees nothing labelled */
    c->tr.why[0] = '\0';
    rc = ops->open(ops->ud, c->input, cn, &c->identity, &c->caller, c->tr.why, sizeof(c->tr.why));
    if (rc != KZ_OK) {
        c->identity = NULL;
        c->caller = NULL;
        if (!c->tr.why[0])
            snprintf(c->tr.why, sizeof(c->tr.why), "caller refused: %s", kz_strerror(rc));
        return rc;
    }
    c->caller_open = true;
    return KZ_OK;
}

static enum kz_http_on kind_of(enum kz_input_protocol proto)
{
    return proto == KZ_PROTO_HTTPS    ? KZ_HTTP_ON_HTTPS
           : proto == KZ_PROTO_ENROLL ? KZ_HTTP_ON_ENROLL
                                      : KZ_HTTP_ON_PLAIN;
}

static void on_handshake_failed(void *ud, int rc)
{
    kz__http_refused(ud, rc);
}

int kz__http_transport_init(struct kz__http_conn *c)
{
    c->kind = kind_of(c->conf->protocol);
    if (c->kind == KZ_HTTP_ON_PLAIN) {
        kz_transport_tcp_init(&c->tr, (uv_stream_t *)&c->tcp);
        return open_caller(c, NULL);
    }
    kz_transport_tls_init(&c->tr, (uv_stream_t *)&c->tcp,
                          c->kind == KZ_HTTP_ON_HTTPS ? c->h->opts.creds->mutual
                                                      : c->h->opts.creds->server_only);
    kz_transport_tls_offload(&c->tr, on_handshake_failed);
    return KZ_OK;
}

void kz__http_transport_release(struct kz__http_conn *c)
{
    const struct kz_http_caller_ops *ops = &c->h->opts.caller;

    if (c->tr.ops)
        c->tr.ops->release(&c->tr);
    if (c->caller_open && ops->close)
        ops->close(ops->ud, c->caller);
    c->caller_open = false;
    c->caller = NULL;
    c->identity = NULL;
}

static int on_ready(void *ud)
{
    struct kz__http_conn *c = ud;
    char buf[KZ_TLS_CN_MAX];
    const char *cn;

    if (c->state == KZ__HTTP_CLOSING)
        return KZ_ERR_CLOSED;
    if (c->kind != KZ_HTTP_ON_HTTPS) {
        kz_log(KZ_LOG_DEBUG, "http: tls ready", "conn=%llu peer=%s", (unsigned long long)c->id,
               c->peer);
        return KZ_OK;
    }
    cn = kz_transport_peer_cn(&c->tr, buf);
    if (!cn || open_caller(c, cn) != KZ_OK || !c->identity) {
        if (!cn || !c->tr.why[0])
            snprintf(c->tr.why, sizeof(c->tr.why), "certificate CN '%s' is not a known user",
                     cn ? cn : "");
        return KZ_ERR_DENIED;
    }
    kz_log(KZ_LOG_INFO, "https: authenticated", "input=%s conn=%llu peer=%s user=%s nation=%s",
           c->conf->name, (unsigned long long)c->id, c->peer, c->identity->user,
           c->identity->nation);
    return KZ_OK;
}

int kz__http_transport_feed(struct kz__http_conn *c, const char *data, size_t len,
                            void (*plain)(void *ud, const char *data, size_t len))
{
    c->tr_cbs = (struct kz_transport_cbs){on_ready, plain};
    return c->tr.ops->feed(&c->tr, data, len, &c->tr_cbs, c);
}
