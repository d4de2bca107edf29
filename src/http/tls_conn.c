/*
 * tls_conn.c - what an HTTP connection reads and writes through, and who
 * the caller is.
 *
 *   http    TCP; the caller is the input's configured identity.
 *   https   TLS with a client certificate; the caller is the users-table
 *           entry of the verified certificate's CN (refused when unknown),
 *           looked up once the handshake is done.  The snapshot reference
 *           keeps that identity valid for the connection's life.
 *   enroll  TLS without a client certificate; no caller identity at all
 *           (each request carries Basic credentials, see enroll.c).
 *
 * Nothing of the request machinery runs before the transport says the peer
 * is ready: bytes before the end of the handshake are TLS records only.
 */
#include <string.h>

#include "http/internal.h"

static void set_viewer(struct kz__http_conn *c, const struct kz_identity *id)
{
    c->identity = id;
    if (c->opts->router)
        kz_sub_viewer_as(c->opts->router, &c->view, c->input, id);
    else
        memset(&c->view, 0, sizeof(c->view)); /* sees nothing */
}

void kz__http_transport_init(struct kz__http_conn *c)
{
    enum kz_input_protocol proto = c->input->conf->protocol;

    c->kind = proto == KZ_PROTO_HTTPS    ? KZ__HTTP_HTTPS
              : proto == KZ_PROTO_ENROLL ? KZ__HTTP_ENROLL
                                         : KZ__HTTP_PLAIN;
    if (c->kind == KZ__HTTP_PLAIN) {
        kz_transport_tcp_init(&c->tr, (uv_stream_t *)&c->tcp);
        set_viewer(c, c->input->identity);
        return;
    }
    kz_transport_tls_init(&c->tr, (uv_stream_t *)&c->tcp,
                          c->kind == KZ__HTTP_HTTPS ? KZ_TLS_MUTUAL : KZ_TLS_SERVER_ONLY);
    c->outq.tr = &c->tr;
    set_viewer(c, NULL);
}

void kz__http_transport_release(struct kz__http_conn *c)
{
    if (c->tr.ops)
        c->tr.ops->release(&c->tr);
    kz_tls_identity_put(c->users_ref);
    c->users_ref = NULL;
}

static int on_ready(void *ud)
{
    struct kz__http_conn *c = ud;
    const char *cn;
    const struct kz_identity *id;

    if (c->state == KZ__HTTP_CLOSING)
        return KZ_ERR_CLOSED;
    if (c->kind != KZ__HTTP_HTTPS) {
        kz_log(KZ_LOG_DEBUG, "http: tls ready", "conn=%llu peer=%s", (unsigned long long)c->id,
               c->peer);
        return KZ_OK;
    }
    cn = kz_transport_peer_cn(&c->tr);
    id = kz_tls_identity_get(cn, &c->users_ref);
    if (!id) {
        snprintf(c->tr.why, sizeof(c->tr.why), "certificate CN '%s' is not a known user",
                 cn ? cn : "");
        return KZ_ERR_DENIED;
    }
    set_viewer(c, id);
    kz_log(KZ_LOG_INFO, "https: authenticated", "input=%s conn=%llu peer=%s user=%s nation=%s",
           c->input->conf->name, (unsigned long long)c->id, c->peer, id->user, id->nation);
    return KZ_OK;
}

int kz__http_transport_feed(struct kz__http_conn *c, const char *data, size_t len,
                            void (*plain)(void *ud, const char *data, size_t len))
{
    const struct kz_transport_cbs cbs = {on_ready, plain};

    return c->tr.ops->feed(&c->tr, data, len, &cbs, c);
}
