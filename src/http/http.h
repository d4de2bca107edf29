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
 *   GET  /Marti/api/version, /version/config, /clientEndPoints, /groups/all
 * The caller's identity is the input's configured identity (http) or the
 * users-table entry of the client certificate's CN (https).  `enroll`
 * inputs (TLS, no client certificate) serve only /healthz, the version
 * endpoints and enrollment with Basic auth:
 *   GET  /Marti/api/tls/config    certificateConfig XML
 *   POST /Marti/api/tls/signClient/v2?clientUid=&version=   CSR -> certificate
 * One accept callback serves the three protocols.
 *
 * Errors are JSON {"error": "..."}: 400 bad request or parameter (a refused
 * CoT body says "<reject reason>: <detail>"), 404, 405 with Allow, 408 request
 * not complete within timeout_ms, 413 body over max_body, 431 over 16 KiB of
 * request line and headers or over max_headers fields, 500 store failure,
 * 503 no store (events query) or over max_connections.  After 408/413/431/
 * 400-malformed and 5xx the connection is closed (half-close, then input is
 * discarded for up to 2 s so the client reads the answer).
 *
 * GET /api/v1/events: since/until ISO 8601 UTC on receive time, type may end
 * in '*' (prefix), limit 1..10000 (default 100; anything else is 400); rows
 * are limited first, then filtered for the caller, newest first.
 *
 * Connections: keep-alive and pipelining, answered in order, one at a time;
 * an idle connection is closed after timeout_ms.  SSE sends ": keepalive"
 * every 15 s; a stream whose queue exceeds out_queue_bytes is dropped
 * (kz_metrics.slow_consumer_drops).  A single response larger than the
 * queue (a big query) is still sent, alone.
 */
#ifndef KZ_HTTP_H
#define KZ_HTTP_H

#include "net/net.h"

struct kz_http_opts {
    struct kz_net *net;
    struct kz_tls_creds *creds; /* https and enroll inputs */
    const char *pki_dir;        /* enrollment: the CA's directory */
    const char *db_path;        /* enrollment: the users table */
    struct kz_router *router;
    struct kz_store *store;   /* may be NULL */
    size_t max_body;          /* bytes, default 1 MiB */
    unsigned max_headers;     /* default 64 */
    unsigned timeout_ms;      /* idle / slow-request timeout, default 30000 */
    size_t out_queue_bytes;   /* per connection, default 4 MiB */
    size_t max_event_bytes;   /* CoT decode limit for POST bodies */
    unsigned max_connections; /* default 1024 */
    const char *node_id;      /* Marti envelopes' nodeId (may be NULL) */
    unsigned enroll_days;     /* validity of enrolled certificates, default 365 */
};

/* Accept callback for `http` inputs; `ud` is a struct kz_http_opts *. */
void kz_http_accept(void *ud, struct kz_input *input, uv_stream_t *server);

/*
 * Startup, before the inputs start: rebuild the readiness book behind
 * /api/v1/readiness from the store (every acknowledged report, history
 * included).  Returns KZ_OK or KZ_ERR_DB.
 */
int kz_http_readiness_load(struct kz_store *st, const struct kz_label_policy *policy);

/*
 * Close every HTTP connection (shutdown).  A connection still waiting for a
 * store ack or query is freed when that callback runs, so close the store
 * (which calls them) afterwards, before the loop is closed.
 */
void kz_http_close_all(void);

#endif
