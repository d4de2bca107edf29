/*
 * http.h - the HTTP/1.1 server (libuv + llhttp) for the REST API, SSE,
 * metrics and health.  Loop thread only.
 *
 * Routes (every response filtered by the caller's identity through
 * kz_router_visible()):
 *   GET  /healthz                 200 "ok"
 *   GET  /metrics                 Prometheus text
 *   GET  /api/v1/tracks           GeoJSON FeatureCollection of current state
 *   GET  /api/v1/events?uid=&type=&since=&until=&limit=   JSON from the log
 *   POST /api/v1/events           CoT XML body; 201 only after commit
 *   GET  /api/v1/stream           Server-Sent Events, one per CoT event
 * The caller's identity is the input's configured identity (plain http);
 * client certificates come with the TLS work.
 */
#ifndef KZ_HTTP_H
#define KZ_HTTP_H

#include "net/net.h"

struct kz_http_opts {
    struct kz_router *router;
    struct kz_store *store;         /* may be NULL */
    size_t max_body;                /* bytes, default 1 MiB */
    unsigned max_headers;           /* default 64 */
    unsigned timeout_ms;            /* idle / slow-request timeout, default 30000 */
    size_t out_queue_bytes;         /* per connection, default 4 MiB */
    size_t max_event_bytes;         /* CoT decode limit for POST bodies */
    unsigned max_connections;       /* default 1024 */
};

/* Accept callback for `http` inputs; `ud` is a struct kz_http_opts *. */
void kz_http_accept(void *ud, struct kz_input *input, uv_stream_t *server);

/* Close every HTTP connection (shutdown). */
void kz_http_close_all(void);

#endif
