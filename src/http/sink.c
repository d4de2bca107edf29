/*
 * sink.c - request bodies taken as streams (kz_http_sink_start): an upload
 * goes to its handler piece by piece as it arrives and is never held whole.
 *
 * At the end of a request's headers the parser asks kz__http_sink_wants();
 * a stream row for the method and path says yes and the parser pauses.
 * The connection then makes the request its current one and calls the
 * row's handler, which starts a sink (or refuses).  Body pieces go to the
 * sink's data() from inside llhttp; a data() that asks for a pause pauses
 * llhttp too, and the connection turns BUSY: the socket is not read and
 * what was already read waits in c->pending until kz_http_sink_resume().
 * The end of the body pauses llhttp once more so end() runs between
 * requests, like any dispatch.
 */
#include "http/internal.h"

bool kz__http_sink_wants(void *ud, struct kz_http_req *req)
{
    void *app = NULL;

    return kz__http_stream_route(ud, req, &app) != NULL;
}

int kz__http_sink_data(void *ud, const char *at, size_t len)
{
    struct kz__http_conn *c = ud;
    int rc;

    if (!c->sink_on)
        return KZ_OK;                                /* answered early: the rest is never used */
    kz__http_arm_timer(c, c->h->opts.timeout_ms, 0); /* progress */
    rc = c->sink.data(c->sink.ud, at, len);
    if (rc == KZ_ERR_AGAIN)
        c->sink_paused = true;
    else if (rc != KZ_OK)
        c->sink_err = rc;
    return rc;
}

/* The headers of a streamed request are in: its handler starts a sink or answers. */
static void begin(struct kz__http_conn *c)
{
    struct kz_http_req *req = kz__http_begin_request(c);
    const struct kz_http_route *rt;
    void *app = NULL;

    kz__http_parser_go_on(&c->hp);
    req->streamed = true;
    c->sink_req = req;
    kz_metrics.http_requests++;
    rt = kz__http_stream_route(c, req, &app);
    KZ_ASSERT(rt);
    kz__http_call(c, req, rt, app);
    if (c->sink_req == req && !c->sink_on)
        kz_http_error(req, 500, "the handler took no body");
}

/* The whole body has arrived. */
static void end(struct kz__http_conn *c)
{
    struct kz_http_req *req = c->sink_req;
    struct kz_http_sink s = c->sink;

    kz__http_parser_go_on(&c->hp);
    if (!req)
        return; /* answered before its body ended (the connection is closing) */
    req->body_ended = true;
    c->sink_req = NULL;
    c->sink_on = false;
    s.end(s.ud);
    if (c->cur == req && c->state == KZ__HTTP_READING) {
        /* Answered later: nothing else is parsed meanwhile (as kz_http_hold). */
        c->state = KZ__HTTP_BUSY;
        uv_timer_stop(&c->timer);
    }
}

/* data() refused the body: the sink is aborted and the request answered here. */
static void refuse(struct kz__http_conn *c)
{
    struct kz_http_req *req = c->sink_req;
    struct kz_http_sink s = c->sink;
    int err = c->sink_err;

    c->sink_err = 0;
    c->sink_on = false;
    s.abort(s.ud, err);
    if (c->sink_req != req || c->state == KZ__HTTP_CLOSING)
        return;
    if (err == KZ_ERR_TOOBIG)
        kz_http_error(req, 413, "request body too large");
    else if (err == KZ_ERR_PARSE)
        kz_http_error(req, 400, "malformed request body");
    else
        kz_http_error(req, 500, "request body: %s", kz_strerror(err));
}

bool kz__http_sink_step(struct kz__http_conn *c)
{
    if (c->hp.head_ready) {
        begin(c);
    } else if (c->hp.body_done) {
        end(c);
    } else if (c->hp.data_paused && c->sink_err) {
        refuse(c);
    } else if (c->hp.data_paused) {
        c->state = KZ__HTTP_BUSY; /* until kz_http_sink_resume() */
    } else {
        return false;
    }
    return true;
}

void kz__http_sink_stop(struct kz__http_conn *c)
{
    bool on = c->sink_on;

    c->sink_req = NULL;
    c->sink_on = c->sink_paused = false;
    if (on)
        c->sink.abort(c->sink.ud, KZ_ERR_CLOSED);
}

void kz__http_sink_answered(struct kz__http_conn *c, struct kz_http_req *req)
{
    if (c->sink_req != req)
        return;
    c->sink_req = NULL;
    c->sink_on = c->sink_paused = false;
}

int kz_http_sink_start(struct kz_http_req *req, const struct kz_http_sink *sink)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct kz__http_conn *c = req->conn;

    if (c->sink_req != req || c->sink_on || req->answered || c->state == KZ__HTTP_CLOSING)
        return KZ_ERR_INVAL;
    if (req->expect_continue && kz__http_push(c, cont, sizeof(cont) - 1) != KZ_OK)
        return KZ_ERR_CLOSED;
    c->sink = *sink;
    c->sink_on = true;
    return KZ_OK;
}

void kz_http_sink_resume(struct kz_http_req *req)
{
    struct kz__http_conn *c = req->conn;

    if (c->sink_req != req || !c->sink_paused || c->state != KZ__HTTP_BUSY)
        return;
    c->sink_paused = false;
    kz__http_parser_go_on(&c->hp);
    kz__http_resume_input(c);
}
