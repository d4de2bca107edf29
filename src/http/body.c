/*
 * body.c - responses whose body is produced piecewise while it is sent
 * (kz_http_respond_body), so a big answer never sits whole in memory or in
 * the output queue (security review F12).
 *
 * The first piece decides the framing: a body that ends within it goes out
 * with Content-Length like any other answer; a longer one goes out with
 * "Transfer-Encoding: chunked" (HTTP/1.1) or until the connection closes
 * (HTTP/1.0), or with the Content-Length its producer announced
 * (kz_http_respond_sized: a file whose size is known).  After that, a piece of about one chunk is
 * produced whenever the output queue has drained below one chunk (server.c's on_drained), so at
 * most two chunks of the body wait at a time.  Every drain re-arms the connection's timer: a client
 * that reads nothing for timeout_ms is dropped as a slow consumer (server.c's on_timer), and the
 * producer is closed.
 *
 * While a body streams the connection is BUSY (later requests wait) and the
 * request stays the connection's current one until its last piece.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

struct kz__http_stream {
    struct kz_http_body prod;
    struct kz_http_req *req;
    struct kz_sbuf rest; /* produced, not yet queued (a piece may exceed one chunk) */
    size_t rest_off;
    bool chunked;  /* Transfer-Encoding: chunked; else sized or close-delimited */
    bool sized;    /* Content-Length: the producer said how long it is */
    uint64_t left; /* sized: body bytes not yet queued */
    bool keep;     /* keep-alive after the last piece */
    bool waiting;  /* the producer answered WAIT */
    bool done;     /* the producer answered DONE */
    bool pumping;  /* inside kz__http_body_pump() */
};

/* How much body is produced ahead: one chunk, at most half the queue. */
static size_t chunk_size(const struct kz__http_conn *c)
{
    size_t half = c->h->opts.out_queue_bytes / 2;
    return half < KZ__HTTP_CHUNK ? (half ? half : 1) : KZ__HTTP_CHUNK;
}

/* Call next() until about `want` bytes are in out, or it stops. */
static enum kz_http_body_step fill(const struct kz_http_body *p, struct kz_sbuf *out, size_t want)
{
    enum kz_http_body_step st = KZ_HTTP_BODY_MORE;

    while (st == KZ_HTTP_BODY_MORE && out->len < want)
        st = p->next(p->ud, out, want - out->len);
    return st;
}

/* Queue the next slice of what was produced (at most one chunk), framed.
 * KZ_OK, or the connection is closing (s is gone). */
static int push_rest(struct kz__http_conn *c, struct kz__http_stream *s, size_t chunk)
{
    const char *data = s->rest.buf + s->rest_off;
    size_t n = s->rest.len - s->rest_off < chunk ? s->rest.len - s->rest_off : chunk;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    int rc;

    s->rest_off += n;
    if (s->rest_off == s->rest.len)
        s->rest.len = s->rest_off = 0;
    if (s->sized) {
        n = n < s->left ? n : (size_t)s->left; /* never more than announced */
        s->left -= n;
    }
    if (!s->chunked)
        return kz__http_push(c, data, n);
    kz_sbuf_addf(&sb, "%zx\r\n", n);
    kz_sbuf_add(&sb, data, n);
    kz_sbuf_adds(&sb, "\r\n");
    rc = kz__http_push(c, sb.buf, sb.len);
    kz_sbuf_release(&sb);
    return rc;
}

static void stream_free(struct kz__http_stream *s)
{
    s->prod.close(s->prod.ud);
    kz_sbuf_release(&s->rest);
    free(s);
}

/* The last piece is queued: end the framing and let the connection go on. */
static void end_stream(struct kz__http_conn *c, struct kz__http_stream *s)
{
    static const char last[] = "0\r\n\r\n";
    struct kz_http_req *req = s->req;
    bool keep = s->keep;

    if (s->chunked && kz__http_push(c, last, sizeof(last) - 1) != KZ_OK)
        return; /* closing: kz__http_body_stop() has run */
    if (s->sized && s->left > 0) {
        kz__http_close(c, "answer shorter than its Content-Length"); /* the client sees it cut */
        return;
    }
    c->body = NULL;
    stream_free(s);
    kz__http_request_done(c, req); /* may free req */
    kz__http_finish(c, keep);
}

void kz__http_body_pump(struct kz__http_conn *c)
{
    struct kz__http_stream *s = c->body;
    size_t chunk = chunk_size(c);

    if (!s || s->pumping || c->state == KZ__HTTP_CLOSING)
        return;
    kz__http_arm_timer(c, c->h->opts.timeout_ms, 0); /* progress: the client reads */
    s->pumping = true;
    while (c->outq.bytes < chunk) {
        if (s->rest.len == 0) {
            if (s->done) {
                end_stream(c, s);
                return;
            }
            if (s->waiting)
                break;
            enum kz_http_body_step st = fill(&s->prod, &s->rest, chunk);
            s->done = st == KZ_HTTP_BODY_DONE;
            s->waiting = st == KZ_HTTP_BODY_WAIT;
            if (s->rest.len == 0)
                continue;
        }
        if (push_rest(c, s, chunk) != KZ_OK)
            return; /* closing: s is gone */
    }
    s->pumping = false;
}

void kz__http_body_stop(struct kz__http_conn *c)
{
    struct kz__http_stream *s = c->body;
    struct kz_http_req *req;

    if (!s)
        return;
    c->body = NULL;
    req = s->req;
    stream_free(s);
    kz__http_request_done(c, req); /* may free the request */
}

/* The body did not end within its first piece: send the head, then the body as it drains. */
static void start_stream(struct kz__http_conn *c, struct kz__http_stream *s, int status,
                         const char *ctype, const char *extra)
{
    struct kz_sbuf head = KZ_SBUF_INIT;

    char framing[48] = "";

    if (s->chunked)
        snprintf(framing, sizeof(framing), "Transfer-Encoding: chunked\r\n");
    else if (s->sized)
        snprintf(framing, sizeof(framing), "Content-Length: %llu\r\n", (unsigned long long)s->left);
    kz__http_format_head(&head, status, ctype, extra, s->keep, framing);
    c->body = s;
    c->state = KZ__HTTP_BUSY;
    if (kz__http_push(c, head.buf, head.len) == KZ_OK)
        kz__http_body_pump(c);
    kz_sbuf_release(&head);
}

/* length: the body's size when known (Content-Length), else -1. */
static void respond_body(struct kz_http_req *req, int status, const char *ctype, const char *extra,
                         const struct kz_http_body *body, int64_t length)
{
    struct kz__http_conn *c = req->conn;
    struct kz_sbuf first = KZ_SBUF_INIT;
    struct kz__http_stream *s;
    enum kz_http_body_step st;

    /* close() after the answer: ctype and extra may live in the producer. */
    if (c->state == KZ__HTTP_CLOSING) {
        kz_http_respond(req, status, ctype, extra, NULL, 0); /* sends nothing */
        body->close(body->ud);
        return;
    }
    st = fill(body, &first, chunk_size(c));
    if (st == KZ_HTTP_BODY_DONE && first.len <= chunk_size(c)) {
        kz_http_respond(req, status, ctype, extra, first.buf, first.len);
        body->close(body->ud);
        kz_sbuf_release(&first);
        return;
    }
    KZ_ASSERT(!req->answered);
    req->answered = true;
    req->status = status;
    s = kz_xcalloc(1, sizeof(*s));
    s->prod = *body;
    s->req = req;
    s->rest = first; /* taken over */
    s->sized = length >= 0;
    s->left = s->sized ? (uint64_t)length : 0;
    s->chunked = !s->sized && !req->http10;
    s->keep = req->keep_alive && (s->sized || !req->http10);
    s->waiting = st == KZ_HTTP_BODY_WAIT;
    s->done = st == KZ_HTTP_BODY_DONE;
    start_stream(c, s, status, ctype, extra);
}

void kz_http_respond_body(struct kz_http_req *req, int status, const char *ctype, const char *extra,
                          const struct kz_http_body *body)
{
    respond_body(req, status, ctype, extra, body, -1);
}

void kz_http_respond_sized(struct kz_http_req *req, int status, const char *ctype,
                           const char *extra, uint64_t length, const struct kz_http_body *body)
{
    respond_body(req, status, ctype, extra, body, length > INT64_MAX ? -1 : (int64_t)length);
}

void kz_http_body_resume(struct kz_http_req *req)
{
    struct kz__http_conn *c = req->conn;

    if (!c->body || c->body->req != req || !c->body->waiting)
        return;
    c->body->waiting = false;
    kz__http_body_pump(c);
}

void kz_http_body_fail(struct kz_http_req *req)
{
    struct kz__http_conn *c = req->conn;

    if (c->body && c->body->req == req)
        kz__http_close(c, "answer failed");
}

bool kz__http_body_stalled(const struct kz__http_conn *c)
{
    return c->body && !(c->body->waiting && c->body->rest.len == 0) && c->outq.bytes > 0;
}

/* ---- a body already built whole ------------------------------------------- */

struct whole {
    char *data;
    size_t len, off;
};

static enum kz_http_body_step whole_next(void *ud, struct kz_sbuf *out, size_t want)
{
    struct whole *w = ud;
    size_t n = w->len - w->off < want ? w->len - w->off : want;

    kz_sbuf_add(out, w->data + w->off, n);
    w->off += n;
    return w->off == w->len ? KZ_HTTP_BODY_DONE : KZ_HTTP_BODY_MORE;
}

static void whole_close(void *ud)
{
    struct whole *w = ud;

    free(w->data);
    free(w);
}

bool kz__http_respond_big(struct kz_http_req *req, int status, const char *ctype, const char *extra,
                          const void *body, size_t len)
{
    struct whole *w;

    if (len <= chunk_size(req->conn) || req->conn->state == KZ__HTTP_CLOSING)
        return false;
    w = kz_xmalloc(sizeof(*w));
    w->data = kz_xmalloc(len);
    memcpy(w->data, body, len);
    w->len = len;
    w->off = 0;
    kz_http_respond_body(req, status, ctype, extra,
                         &(struct kz_http_body){whole_next, whole_close, w});
    return true;
}
