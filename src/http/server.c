/*
 * server.c - the engine object and the HTTP connection life cycle:
 * accept, read, feed the parser, dispatch one request at a time,
 * keep-alive, timeouts, draining and close, and answering requests.
 *
 * States (enum kz__http_state) and what moves between them:
 *   READING   --request ready-->  dispatch: respond (stay), hold (BUSY), SSE
 *   BUSY      --async answer-->   READING (pending bytes parsed first)
 *   any       --last response-->  DRAINING --queue empty--> LINGER --EOF/timer--> CLOSING
 * Requests are answered strictly in order: while one waits (BUSY) the socket
 * is not read and bytes already received wait in c->pending.
 *
 * Memory: a connection is freed only when both uv handles have closed and no
 * held request (router ack, store query) still has a reference, so a client
 * that disconnects early never leaves a dangling pointer behind.  Each
 * request is its own object: an answer that resumes parsing never touches
 * the state of the request it answered (security review F1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/internal.h"

static void feed(struct kz__http_conn *c, const char *data, size_t len);
static void on_timer(uv_timer_t *t);

/* ---- options ------------------------------------------------------------ */

/* ---- reading and timers --------------------------------------------------- */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct kz__http_conn *c = handle->data;

    KZ_UNUSED(suggested);
    *buf = uv_buf_init(c->h->read_slab, sizeof(c->h->read_slab));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void update_reading(struct kz__http_conn *c)
{
    bool want = !c->eof && c->state != KZ__HTTP_BUSY && c->state != KZ__HTTP_CLOSING;

    if (want && !c->reading) {
        int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        if (rc != 0) {
            kz__http_close(c, uv_strerror(rc));
            return;
        }
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
    c->reading = want;
}

void kz__http_arm_timer(struct kz__http_conn *c, uint64_t ms, uint64_t repeat)
{
    uv_timer_start(&c->timer, on_timer, ms, repeat);
}

void kz__http_schedule_close(struct kz__http_conn *c)
{
    c->drop = true;
    kz__http_arm_timer(c, 0, 0);
}

/* ---- closing -------------------------------------------------------------- */

static void conn_free(struct kz__http_conn *c)
{
    KZ_ASSERT(kz_outq_idle(&c->outq));
    /* Unanswered (the connection closed first): only c still refers to it. */
    kz__http_req_free(c->cur);
    kz__http_parser_release(&c->hp);
    kz__http_transport_release(c);
    kz_sbuf_release(&c->pending);
    free(c);
}

void kz__http_unref(struct kz__http_conn *c)
{
    KZ_ASSERT(c->refs > 0);
    if (--c->refs == 0)
        conn_free(c);
}

void kz_http_hold(struct kz_http_req *req)
{
    struct kz__http_conn *c = req->conn;

    req->refs++;
    c->refs++;
    if (req->streamed && !req->body_ended)
        return; /* its body is still coming: input goes on */
    if (!req->answered && c->state != KZ__HTTP_CLOSING) {
        c->state = KZ__HTTP_BUSY;
        uv_timer_stop(&c->timer);
    }
}

static void req_unref(struct kz_http_req *req)
{
    KZ_ASSERT(req->refs > 0);
    if (--req->refs == 0)
        kz__http_req_free(req);
}

void kz_http_release(struct kz_http_req *req)
{
    struct kz__http_conn *c = req->conn;

    req_unref(req);
    kz__http_unref(c);
}

bool kz_http_gone(const struct kz_http_req *req)
{
    return req->conn->state == KZ__HTTP_CLOSING;
}

static void on_close(uv_handle_t *h)
{
    struct kz__http_conn *c = h->data;

    if (--c->handles == 0)
        kz__http_unref(c);
}

static void unlink_conn(struct kz__http_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (c->h->conns == c)
        c->h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

void kz__http_close(struct kz__http_conn *c, const char *why)
{
    if (c->state == KZ__HTTP_CLOSING)
        return;
    kz_log(KZ_LOG_DEBUG, "http connection closed", "conn=%llu peer=%s why=\"%s\"",
           (unsigned long long)c->id, c->peer, why);
    kz__http_sse_stop(c);
    c->state = KZ__HTTP_CLOSING;
    kz__http_sink_stop(c);
    kz__http_body_stop(c);
    unlink_conn(c);
    if (c->counted)
        kz_metrics.http_conns_open--;
    c->counted = false;
    kz_outq_kill(&c->outq);
    if (c->reading)
        uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    uv_close((uv_handle_t *)&c->timer, on_close);
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

void kz_http_close_all(struct kz_http *h)
{
    while (h->conns)
        kz__http_close(h->conns, "shutdown");
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct kz__http_conn *c = req->handle->data;

    if (status < 0)
        kz__http_close(c, uv_strerror(status));
}

/* Everything is written: half-close and discard input briefly, so the peer
 * reads our last response instead of a reset caused by its unread bytes. */
static void start_linger(struct kz__http_conn *c)
{
    if (c->eof) {
        kz__http_close(c, "done");
        return;
    }
    c->state = KZ__HTTP_LINGER;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        kz__http_close(c, "shutdown failed");
        return;
    }
    kz__http_arm_timer(c, KZ__HTTP_LINGER_MS, 0);
    update_reading(c);
}

static void start_draining(struct kz__http_conn *c)
{
    c->state = KZ__HTTP_DRAINING;
    kz_sbuf_release(&c->pending);
    if (c->outq.bytes == 0 && kz_outq_idle(&c->outq)) {
        start_linger(c);
        return;
    }
    kz__http_arm_timer(c, c->h->opts.timeout_ms, 0);
    update_reading(c);
}

/* ---- output --------------------------------------------------------------- */

int kz__http_push(struct kz__http_conn *c, const void *data, size_t len)
{
    int rc = kz_outq_push_copy(&c->outq, data, len);
    if (rc != KZ_OK)
        kz__http_close(c, "output queue full");
    return rc;
}

static void on_outq_error(struct kz_outq *q, int status)
{
    struct kz__http_conn *c = q->tr->stream->data;
    kz__http_close(c, status < 0 ? uv_strerror(status) : "write finished");
}

static void resume(struct kz__http_conn *c)
{
    struct kz_sbuf buf = c->pending;

    c->pending = (struct kz_sbuf)KZ_SBUF_INIT;
    feed(c, buf.buf, buf.len);
    kz_sbuf_release(&buf);
    if (c->eof && c->state == KZ__HTTP_READING)
        start_draining(c);
}

void kz__http_resume_input(struct kz__http_conn *c)
{
    c->state = KZ__HTTP_READING;
    kz__http_arm_timer(c, c->h->opts.timeout_ms, 0);
    if (c->eof && c->hp.in_message && c->pending.len == 0) {
        kz__http_close(c, "eof in request");
        return;
    }
    resume(c);
}

static void on_drained(struct kz_outq *q)
{
    struct kz__http_conn *c = q->tr->stream->data;

    if (c->state == KZ__HTTP_DRAINING) {
        start_linger(c);
    } else if (c->state == KZ__HTTP_BUSY && c->body) {
        kz__http_body_pump(c);
    } else if (c->state == KZ__HTTP_BUSY && c->wait_drain) {
        c->wait_drain = false;
        c->state = KZ__HTTP_READING;
        kz__http_arm_timer(c, c->h->opts.timeout_ms, 0);
        resume(c);
    }
}

static void log_request(struct kz__http_conn *c, const struct kz_http_req *req)
{
    const char *path = req->target.path ? req->target.path : "-";
    const char *method = req->target.path ? kz_http_method(req) : "-";
    enum kz_log_level lvl = req->status >= 400 && req->status != 404 ? KZ_LOG_WARN : KZ_LOG_DEBUG;
    char qpath[256], qerr[256] = "";

    if (lvl < kz_log_min)
        return;
    if (req->error)
        kz_log_quote(qerr, sizeof(qerr), req->error, strlen(req->error));
    kz_log(lvl, "http request", "conn=%llu peer=%s method=%s path=%s status=%d ms=%.3f%s%s",
           (unsigned long long)c->id, c->peer, method,
           kz_log_quote(qpath, sizeof(qpath), path, strlen(path)), req->status,
           req->start_us ? (double)(kz_mono_us() - req->start_us) / 1000.0 : 0.0,
           req->error ? " error=" : "", qerr);
}

void kz__http_request_done(struct kz__http_conn *c, struct kz_http_req *req)
{
    if (c->state != KZ__HTTP_CLOSING)
        log_request(c, req);
    c->deadline = false;
    if (c->cur == req)
        c->cur = NULL;
    req_unref(req);
}

/* The parser's request becomes the connection's current one (refs = 1). */
struct kz_http_req *kz__http_begin_request(struct kz__http_conn *c)
{
    struct kz_http_req *req = kz__http_parser_take(&c->hp);

    req->conn = c;
    req->refs = 1;
    c->cur = req;
    return req;
}

/* The response is queued: go on with the next pipelined request or drain and close. */
void kz__http_finish(struct kz__http_conn *c, bool keep_alive)
{
    if (c->state == KZ__HTTP_CLOSING)
        return;
    if (!keep_alive) {
        start_draining(c);
        return;
    }
    c->state = KZ__HTTP_READING;
    if (c->outq.bytes > c->h->opts.out_queue_bytes / 2) {
        /* The client pipelines faster than it reads: wait for the queue. */
        c->state = KZ__HTTP_BUSY;
        c->wait_drain = true;
        kz__http_arm_timer(c, c->h->opts.timeout_ms, 0);
        return;
    }
    kz__http_arm_timer(c, c->h->opts.timeout_ms, 0);
    if (!c->in_feed)
        resume(c);
}

static int queue_response(struct kz__http_conn *c, struct kz_sbuf *sb)
{
    struct kz_rbuf *b = kz_rbuf_from_sbuf(sb);
    int rc = kz_outq_push(&c->outq, b);

    kz_rbuf_unref(b);
    return rc;
}

void kz_http_respond(struct kz_http_req *req, int status, const char *ctype, const char *extra,
                     const void *body, size_t len)
{
    struct kz__http_conn *c = req->conn;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    bool keep = req->keep_alive && status < 500 && status != 413 && status != 431;

    KZ_ASSERT(!req->answered);
    if (req->streamed && !req->body_ended) {
        keep = false; /* the rest of its body is never read */
        kz__http_sink_answered(c, req);
    }
    if (kz__http_respond_big(req, status, ctype, extra, body, len))
        return; /* streamed in chunks: the queue bound holds (F12) */
    req->answered = true;
    req->status = status;
    if (c->state != KZ__HTTP_CLOSING) {
        kz__http_format(&sb, status, ctype, extra, keep, body, len);
        if (queue_response(c, &sb) != KZ_OK)
            kz__http_close(c, "output queue full");
        kz_sbuf_release(&sb);
    }
    kz__http_request_done(c, req); /* may free req */
    kz__http_finish(c, keep);
}

void kz_http_error_extra(struct kz_http_req *req, int status, const char *extra, const char *msg)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;

    kz_sbuf_adds(&sb, "{\"error\":");
    kz_json_escape(&sb, msg, strlen(msg));
    kz_sbuf_adds(&sb, "}\n");
    req->error = msg; /* for the request log line, during this call only */
    kz_http_respond(req, status, "application/json", extra, sb.buf, sb.len);
    kz_sbuf_release(&sb);
}

void kz_http_error(struct kz_http_req *req, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kz_http_error_extra(req, status, NULL, msg);
}

/* ---- input ---------------------------------------------------------------- */

/* The engine answers by itself (a refused request, 408, 503): no keep-alive. */
static void refuse(struct kz__http_conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct kz__http_conn *c, int status, const char *fmt, ...)
{
    struct kz_http_req *req = kz__http_begin_request(c);
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kz_metrics.http_requests++;
    req->keep_alive = false;
    kz_http_error_extra(req, status, NULL, msg);
}

static void feed(struct kz__http_conn *c, const char *data, size_t len)
{
    c->in_feed = true;
    /* A streamed request's body may be empty: llhttp ends it without input. */
    while ((len > 0 || c->hp.streaming) && c->state == KZ__HTTP_READING) {
        size_t used = 0;
        int rc = kz__http_parser_feed(&c->hp, data, len, &used);
        data += used;
        len -= used;
        if (rc != KZ_OK) {
            if (c->sink_req)
                kz__http_close(c, c->hp.error_reason); /* malformed mid-body */
            else
                refuse(c, c->hp.error_status, "%s", c->hp.error_reason);
            break;
        }
        if (kz__http_sink_step(c))
            continue;
        if (!c->hp.ready)
            break;
        kz_metrics.http_requests++;
        kz__http_dispatch(c, kz__http_begin_request(c));
    }
    c->in_feed = false;
    if (c->state == KZ__HTTP_BUSY && len > 0)
        kz_sbuf_add(&c->pending, data, len);
    if (c->state == KZ__HTTP_READING && c->hp.in_message && !c->deadline) {
        /* A request has begun: it must be complete within timeout_ms. */
        c->deadline = true;
        kz__http_arm_timer(c, c->h->opts.timeout_ms, 0);
    }
    update_reading(c);
}

static void on_eof(struct kz__http_conn *c)
{
    c->eof = true;
    update_reading(c);
    switch (c->state) {
    case KZ__HTTP_READING:
        if (c->hp.in_message)
            kz__http_close(c, "eof in request");
        else
            start_draining(c);
        break;
    case KZ__HTTP_BUSY:
    case KZ__HTTP_DRAINING:
        break; /* finish the answer, then close */
    default:
        kz__http_close(c, "eof");
        break;
    }
}

/* Plaintext from the transport. */
static void on_plain(void *ud, const char *data, size_t n)
{
    struct kz__http_conn *c = ud;

    switch (c->state) {
    case KZ__HTTP_READING:
        feed(c, data, n);
        break;
    case KZ__HTTP_BUSY:
        kz_sbuf_add(&c->pending, data, n);
        break;
    case KZ__HTTP_CLOSING:
        break;
    default: /* SSE, draining, lingering: input is ignored but bounded */
        c->discarded += n;
        if (c->discarded > KZ__HTTP_LINGER_BYTES)
            kz__http_close(c, "too much input after the last response");
        break;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct kz__http_conn *c = s->data;

    if (n == 0 || c->state == KZ__HTTP_CLOSING)
        return;
    if (n == UV_EOF) {
        on_eof(c);
        return;
    }
    if (n < 0) {
        kz__http_close(c, uv_strerror((int)n));
        return;
    }
    int rc = kz__http_transport_feed(c, buf->base, (size_t)n, on_plain);
    if (rc != KZ_OK)
        kz__http_refused(c, rc);
}

void kz__http_refused(struct kz__http_conn *c, int rc)
{
    if (c->state == KZ__HTTP_CLOSING)
        return;
    if (rc != KZ_ERR_CLOSED) {
        kz_metrics.garbage_closes++;
        kz_log(KZ_LOG_WARN, "tls: connection refused", "input=%s peer=%s reason=\"%s\"",
               c->conf->name, c->peer, c->tr.why[0] ? c->tr.why : kz_strerror(rc));
    }
    kz__http_close(c, c->tr.why[0] ? c->tr.why : kz_strerror(rc));
}

static void on_timer(uv_timer_t *t)
{
    struct kz__http_conn *c = t->data;

    if (c->drop) {
        kz__http_close(c, "slow consumer");
        return;
    }
    switch (c->state) {
    case KZ__HTTP_READING:
        if (!c->tr.ready) {
            kz_metrics.garbage_closes++;
            kz_log(KZ_LOG_WARN, "tls: handshake not finished in time", "input=%s peer=%s",
                   c->conf->name, c->peer);
            kz__http_close(c, "handshake timeout");
            break;
        }
        if (!c->deadline) {
            kz__http_close(c, "idle timeout");
            break;
        }
        if (c->sink_req) {
            kz__http_close(c, "request body stalled"); /* the sink is aborted */
            break;
        }
        refuse(c, 408, "request not complete within %u ms", c->h->opts.timeout_ms);
        break;
    case KZ__HTTP_SSE:
        kz__http_sse_keepalive(c);
        break;
    case KZ__HTTP_CLOSING:
        break;
    case KZ__HTTP_BUSY:
        if (kz__http_body_stalled(c)) {
            /* A streamed body the client stopped reading (F12). */
            kz_metrics.slow_consumer_drops++;
            kz_log(KZ_LOG_WARN, "http slow consumer dropped", "conn=%llu peer=%s queued=%zu",
                   (unsigned long long)c->id, c->peer, c->outq.bytes);
            kz__http_close(c, "slow consumer");
            break;
        }
        kz__http_close(c, "timeout");
        break;
    default:
        kz__http_close(c, "timeout");
        break;
    }
}

static void on_continue(void *ud)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct kz__http_conn *c = ud;
    kz__http_push(c, cont, sizeof(cont) - 1);
}

/* ---- accept --------------------------------------------------------------- */

static struct kz__http_conn *conn_new(struct kz_http *h, struct kz_input *input,
                                      const struct kz_input_conf *conf)
{
    struct kz__http_conn *c = kz_xcalloc(1, sizeof(*c));
    struct kz__http_limits lim;

    c->h = h;
    c->input = input;
    c->conf = conf;
    c->refs = 1;
    c->id = ++h->last_conn_id;
    lim.max_header_bytes = KZ__HTTP_MAX_HEADER_BYTES;
    lim.max_headers = h->opts.max_headers;
    lim.max_body = h->opts.max_body;
    kz__http_parser_init(&c->hp, &lim);
    c->hp.on_continue = on_continue;
    c->hp.stream_body = kz__http_sink_wants;
    c->hp.on_data = kz__http_sink_data;
    c->hp.ud = c;
    c->tcp.data = c;
    c->timer.data = c;
    return c;
}

static void link_conn(struct kz__http_conn *c)
{
    struct kz_http *h = c->h;

    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
}

void kz_http_accept(void *ud, struct kz_input *input, const struct kz_input_conf *conf,
                    uv_loop_t *loop, uv_os_sock_t fd, const struct sockaddr *peer)
{
    struct kz__http_conn *c = conn_new(ud, input, conf);
    unsigned max = c->h->opts.max_connections;
    int rc;

    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->timer);
    c->handles = 2;
    link_conn(c);
    kz_outq_init(&c->outq, c->h->opts.net, &c->tr, c->h->opts.out_queue_bytes, on_outq_error);
    c->outq.on_drained = on_drained;
    rc = uv_tcp_open(&c->tcp, fd);
    if (rc != 0) {
        close(fd);
        kz_log(KZ_LOG_WARN, "accept() failed", "input=%s err=\"%s\"", conf->name, uv_strerror(rc));
        kz__http_close(c, "accept failed");
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    kz_sockaddr_name(peer, c->peer, sizeof(c->peer));
    if (kz__http_transport_init(c) != KZ_OK) {
        kz__http_close(c, c->tr.why);
        return;
    }
    if (kz_metrics.http_conns_open >= max) {
        kz_metrics.conn_limit_refusals++;
        kz_log(KZ_LOG_WARN, "http connection refused", "input=%s peer=%s max_connections=%u",
               conf->name, c->peer, max);
        refuse(c, 503, "too many connections");
        return;
    }
    c->counted = true;
    kz_metrics.http_conns_open++;
    kz_log(KZ_LOG_DEBUG, "http connection", "conn=%llu input=%s peer=%s", (unsigned long long)c->id,
           conf->name, c->peer);
    kz__http_arm_timer(c, c->tr.ready ? c->h->opts.timeout_ms : KZ__HTTP_HANDSHAKE_MS, 0);
    update_reading(c);
}

/* ---- the engine ------------------------------------------------------------- */

struct kz_http *kz_http_new(const struct kz_http_opts *opts)
{
    struct kz_http *h = kz_xcalloc(1, sizeof(*h));

    h->opts = *opts;
    return h;
}

void kz_http_set_limits(struct kz_http *h, const struct kz_http_opts *opts)
{
    h->opts.max_body = opts->max_body;
    h->opts.max_headers = opts->max_headers;
    h->opts.timeout_ms = opts->timeout_ms;
    h->opts.out_queue_bytes = opts->out_queue_bytes;
    h->opts.max_connections = opts->max_connections;
}

void kz_http_free(struct kz_http *h)
{
    if (!h)
        return;
    KZ_ASSERT(!h->conns);
    free(h->tables);
    free(h);
}

/* ---- the caller, for handlers ------------------------------------------------ */

const struct kz_identity *kz_http_identity(const struct kz_http_req *req)
{
    return req->conn->identity;
}

void *kz_http_caller(const struct kz_http_req *req)
{
    return req->conn->caller;
}

const struct kz_input *kz_http_input(const struct kz_http_req *req)
{
    return req->conn->input;
}

const char *kz_http_peer(const struct kz_http_req *req)
{
    return req->conn->peer;
}

uv_loop_t *kz_http_loop(const struct kz_http_req *req)
{
    return req->conn->tcp.loop;
}

/* ---- credentials reloaded ------------------------------------------------------ */

/*
 * Ask the caller hook for the connection's caller afresh.  Only an idle
 * connection is re-opened in place (no handler holds the old caller); one
 * with a request under way or an event stream is closed, so that nothing
 * is answered under the old identity.
 */
static void reopen_caller(struct kz__http_conn *c)
{
    const struct kz_http_caller_ops *ops = &c->h->opts.caller;
    const struct kz_identity *id = NULL;
    char cnbuf[KZ_TLS_CN_MAX], why[160] = "";
    const char *cn = kz_transport_peer_cn(&c->tr, cnbuf);
    void *caller = NULL, *old = c->caller;

    if (c->state != KZ__HTTP_READING || c->refs != 1 || c->cur) {
        kz__http_close(c, "identity changed during a request or event stream");
        return;
    }
    if (!cn || ops->open(ops->ud, c->input, cn, &id, &caller, why, sizeof(why)) != KZ_OK || !id) {
        if (caller && ops->close)
            ops->close(ops->ud, caller);
        kz_metrics.credential_closes++;
        kz__http_close(c, why[0] ? why : "user deleted");
        return;
    }
    c->identity = id;
    c->caller = caller;
    if (ops->close)
        ops->close(ops->ud, old);
    kz_log(KZ_LOG_INFO, "https: identity changed", "input=%s conn=%llu peer=%s user=%s nation=%s",
           c->conf->name, (unsigned long long)c->id, c->peer, id->user, id->nation);
}

void kz_http_revisit(struct kz_http *h, kz_revisit_fn fn, void *ud)
{
    struct kz__http_conn *c, *next;
    char why[160];

    for (c = h->conns; c; c = next) {
        next = c->next; /* closing unlinks c */
        /* Authenticated by a certificate, or still in the TLS handshake (id NULL). */
        const struct kz_identity *id = c->caller_open ? c->identity : NULL;
        if (c->kind != KZ_HTTP_ON_HTTPS || c->state == KZ__HTTP_CLOSING || (c->tr.ready && !id))
            continue;
        why[0] = '\0';
        switch (fn(ud, &c->tr, id, why, sizeof(why))) {
        case KZ_REVISIT_CLOSE:
            kz_metrics.credential_closes += id ? 1 : 0;
            kz_log(KZ_LOG_INFO, "https: connection closed",
                   "input=%s conn=%llu peer=%s reason=\"%s\"", c->conf->name,
                   (unsigned long long)c->id, c->peer, why);
            kz__http_close(c, why[0] ? why : "credentials withdrawn");
            break;
        case KZ_REVISIT_CHANGED:
            if (id)
                reopen_caller(c);
            break;
        default:
            break;
        }
    }
}
