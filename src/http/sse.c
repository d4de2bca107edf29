/*
 * sse.c - GET /api/v1/stream: the connection becomes a router subscriber
 * whose wire format is Server-Sent Events.  The router serializes each
 * event once (KZ_WIRE_SSE) and hands the shared buffer to deliver(), which
 * only queues it.  A client that reads slower than events arrive hits the
 * output-queue limit and is dropped (kz_metrics.slow_consumer_drops).
 */
#include <stddef.h>

#include "http/internal.h"

static struct kz__http_conn *conn_of(struct kz_sub *sub)
{
    return (struct kz__http_conn *)((char *)sub - offsetof(struct kz__http_conn, sub));
}

static int sse_queue(struct kz__http_conn *c, struct kz_rbuf *buf, bool replay)
{
    int rc;

    if (c->state != KZ__HTTP_SSE || c->drop)
        return KZ_ERR_CLOSED;
    rc = replay ? kz_outq_push_replay(&c->outq, buf) : kz_outq_push(&c->outq, buf);
    if (rc == KZ_ERR_TOOBIG) {
        kz_metrics.slow_consumer_drops++;
        kz_log(KZ_LOG_WARN, "slow consumer dropped", "conn=%llu peer=%s queued=%zu",
               (unsigned long long)c->id, c->peer, c->outq.bytes);
        /* Not from inside the router's fan-out: close on the next timer tick. */
        kz__http_schedule_close(c);
    }
    return rc;
}

static int sse_deliver(struct kz_sub *sub, struct kz_rbuf *buf)
{
    return sse_queue(conn_of(sub), buf, sub->replaying);
}

void kz__http_sse_start(struct kz__http_conn *c)
{
    static const char head[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/event-stream\r\n"
                               "Cache-Control: no-cache\r\n"
                               "Connection: keep-alive\r\n"
                               "X-Accel-Buffering: no\r\n"
                               "\r\n";
    c->status = 200;
    if (kz__http_push(c, head, sizeof(head) - 1) != KZ_OK)
        return;
    kz__http_request_done(c);
    c->state = KZ__HTTP_SSE;
    kz_sbuf_release(&c->pending);
    kz__http_arm_timer(c, KZ__HTTP_SSE_KEEPALIVE_MS, KZ__HTTP_SSE_KEEPALIVE_MS);
    c->sub.identity = c->identity;
    c->sub.input = c->input;
    c->sub.wire = KZ_WIRE_SSE;
    c->sub.deliver = sse_deliver;
    kz_router_attach(c->opts->router, &c->sub);
}

void kz__http_sse_keepalive(struct kz__http_conn *c)
{
    static const char ka[] = ": keepalive\n\n";
    struct kz_rbuf *b = kz_rbuf_new(ka, sizeof(ka) - 1);

    sse_queue(c, b, false);
    kz_rbuf_unref(b);
}

void kz__http_sse_stop(struct kz__http_conn *c)
{
    if (c->sub.attached)
        kz_router_detach(c->opts->router, &c->sub);
}
