/*
 * sse.c - Server-Sent Events: a connection whose request asked for an
 * event stream gets a 200 text/event-stream head, then only what the
 * application pushes (already framed, see kz_http_sse_frame_open()) and a
 * keepalive comment every 15 s.  A client that reads slower than events
 * arrive hits the output-queue limit and is dropped
 * (kz_metrics.slow_consumer_drops).  Who feeds the stream is not known here.
 */
#include "http/internal.h"

static struct kz__http_conn *conn_of(struct kz_http_sse *s)
{
    return (struct kz__http_conn *)s;
}

struct kz_http_sse *kz_http_sse_start(struct kz_http_req *req, void (*on_close)(void *ud), void *ud)
{
    static const char head[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/event-stream\r\n"
                               "Cache-Control: no-cache\r\n"
                               "Connection: keep-alive\r\n"
                               "X-Accel-Buffering: no\r\n"
                               "\r\n";
    struct kz__http_conn *c = req->conn;

    KZ_ASSERT(!req->answered);
    req->answered = true;
    req->status = 200;
    if (c->state == KZ__HTTP_CLOSING || kz__http_push(c, head, sizeof(head) - 1) != KZ_OK) {
        kz__http_request_done(c, req);
        return NULL;
    }
    kz__http_request_done(c, req);
    c->state = KZ__HTTP_SSE;
    kz_sbuf_release(&c->pending);
    kz__http_arm_timer(c, KZ__HTTP_SSE_KEEPALIVE_MS, KZ__HTTP_SSE_KEEPALIVE_MS);
    c->sse_close = on_close;
    c->sse_ud = ud;
    return (struct kz_http_sse *)c;
}

int kz_http_sse_push(struct kz_http_sse *s, struct kz_rbuf *buf, bool replay)
{
    struct kz__http_conn *c = conn_of(s);
    int rc;

    if (c->state != KZ__HTTP_SSE || c->drop)
        return KZ_ERR_CLOSED;
    rc = replay ? kz_outq_push_replay(&c->outq, buf) : kz_outq_push(&c->outq, buf);
    if (rc == KZ_ERR_TOOBIG) {
        kz_metrics.slow_consumer_drops++;
        kz_log(KZ_LOG_WARN, "slow consumer dropped", "conn=%llu peer=%s queued=%zu",
               (unsigned long long)c->id, c->peer, c->outq.bytes);
        /* Not from inside the producer's fan-out: close on the next timer tick. */
        kz__http_schedule_close(c);
    }
    return rc;
}

void kz_http_sse_frame_open(struct kz_sbuf *out, const char *event, uint64_t id)
{
    kz_sbuf_addf(out, "event: %s\nid: %llu\ndata: ", event, (unsigned long long)id);
}

void kz_http_sse_frame_close(struct kz_sbuf *out)
{
    kz_sbuf_add(out, "\n\n", 2);
}

void kz__http_sse_keepalive(struct kz__http_conn *c)
{
    static const char ka[] = ": keepalive\n\n";
    struct kz_rbuf *b = kz_rbuf_new(ka, sizeof(ka) - 1);

    kz_http_sse_push((struct kz_http_sse *)c, b, false);
    kz_rbuf_unref(b);
}

void kz__http_sse_stop(struct kz__http_conn *c)
{
    void (*fn)(void *ud) = c->sse_close;

    c->sse_close = NULL;
    if (fn)
        fn(c->sse_ud);
}
