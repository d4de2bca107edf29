/* tcp.c - the plain TCP transport: bytes pass through unchanged. */
#include <stdlib.h>
#include <string.h>

#include "net/transport.h"

/* ---- TCP ---------------------------------------------------------------- */

static int tcp_feed(struct kz_transport *t, const char *in, size_t n,
                    const struct kz_transport_cbs *cbs, void *ud)
{
    KZ_UNUSED(t);
    cbs->data(ud, in, n);
    return KZ_OK;
}

static void on_tcpw_done(uv_write_t *req, int status)
{
    struct kz_transport *t = req->data;
    t->tcpw.busy = false;
    if (t->tcpw.cb)
        t->tcpw.cb(t->tcpw.ud, status);
}

static int tcp_write(struct kz_transport *t, const uv_buf_t *iov, unsigned n,
                     kz_transport_write_cb cb, void *ud)
{
    KZ_ASSERT(!t->tcpw.busy); /* the transport contract: one write in flight */
    t->tcpw.req.data = t;
    t->tcpw.cb = cb;
    t->tcpw.ud = ud;
    int rc = uv_write(&t->tcpw.req, t->stream, iov, n, on_tcpw_done);
    t->tcpw.busy = rc == 0;
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
