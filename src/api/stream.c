/*
 * stream.c - GET /api/v1/stream: the connection becomes a router
 * subscriber whose wire format is Server-Sent Events, one per CoT event:
 *
 *   event: cot
 *   id: SEQ
 *   data: <GeoJSON Feature>
 *
 * The router serializes each event once per wire format (KZ_WIRE_SSE, with
 * the encoder registered here) and hands the shared buffer to deliver(),
 * which only queues it on the engine's event stream.  Latest-state replay
 * comes first, then live events; both go through the release rule for the
 * caller (KZ_EXIT_SSE).
 */
#include <stdlib.h>

#include "api/internal.h"

struct stream {
    struct kz_sub sub; /* first: deliver() gets &sub */
    struct kz_api *api;
    struct kz_http_sse *sse;
};

static void sse_encode(void *ud, const struct kz_event *ev, struct kz_sbuf *out)
{
    (void)ud;
    kz_http_sse_frame_open(out, "cot", ev->seq);
    kz_cot_encode_json(ev, out);
    kz_http_sse_frame_close(out);
}

void kz__api_stream_init(struct kz_api *api)
{
    if (api->router)
        kz_router_set_wire(api->router, KZ_WIRE_SSE, sse_encode, NULL);
}

static int deliver(struct kz_sub *sub, struct kz_rbuf *buf)
{
    struct stream *st = (struct stream *)sub;
    return kz_http_sse_push(st->sse, buf, sub->replaying);
}

/* The connection is closing: leave the router and go. */
static void on_close(void *ud)
{
    struct stream *st = ud;

    kz_router_detach(st->api->router, &st->sub);
    free(st);
}

static void get_stream(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct stream *st;

    if (!kz__api_need_router(api, req))
        return;
    st = kz_xcalloc(1, sizeof(*st));
    st->api = api;
    /* The request is gone after kz_http_sse_start(); the caller stays with the connection. */
    st->sub.identity = kz_http_identity(req);
    st->sub.input = kz_http_input(req);
    st->sub.wire = KZ_WIRE_SSE;
    st->sub.deliver = deliver;
    st->sse = kz_http_sse_start(req, on_close, st);
    if (!st->sse) {
        free(st);
        return;
    }
    kz_router_attach(api->router, &st->sub);
}

static const struct kz_http_route rows[] = {
    {"GET", "/api/v1/stream", get_stream, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_stream_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
