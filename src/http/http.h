/*
 * http.h - the HTTP/1.1 engine (libuv + llhttp): connections, request
 * parsing, a route table, responses and Server-Sent Events framing.  It
 * knows no resource: the application hands it route rows and a caller
 * hook, and handlers answer through the functions below.  Loop thread only.
 *
 * Routes kizuna serves (rows in src/api/ and src/marti/; "api" = http and
 * https inputs, "any" = also enroll inputs).  Each row names the role it
 * needs (docs/api.md): the GETs on api inputs need viewer, the two POSTs on
 * api inputs operator; /healthz, /readyz, the Marti version calls and enrollment none:
 *   GET  /healthz                          any    200 "ok"
 *   GET  /readyz                           any    200 or 503 {"ready","reason"}
 *   GET  /, /web/{file}                    api    the browser COP's static files (no role)
 *   GET  /metrics                          api    Prometheus text
 *   GET  /api/v1/tracks                    api    GeoJSON FeatureCollection of current state
 *   GET  /api/v1/events?uid=&type=&since=&until=&limit=&cursor=   api   JSON from the log
 *   POST /api/v1/events                    api    CoT XML body; 201 only after commit
 *   GET  /api/v1/stream                    api    Server-Sent Events, one per CoT event
 *   GET  /api/v1/alliance/show?at=         api    the alliance model (docs/alliance.md)
 *   GET  /api/v1/alliance/chain?unit=      api    chain of command
 *   GET  /api/v1/alliance/can-task?from=&to=        api
 *   GET  /api/v1/alliance/counterpart?unit=         api
 *   GET  /api/v1/alliance/forums           api
 *   GET  /api/v1/alliance/path?from=&to=&via=&routes=&compare=&hub=   api
 *   POST /api/v1/readiness                 api    a readiness report; 201 after commit
 *   GET  /api/v1/readiness?unit=&history=  api    latest per unit, or a unit's history
 *   GET  /api/v1/readiness/rollup?command= api    counts under a command
 *   GET  /Marti/api/version, /Marti/api/version/config   any
 *   GET  /Marti/api/clientEndPoints, /Marti/api/groups/all  api
 *   GET  /Marti/api/tls/config             enroll certificateConfig XML
 *   POST /Marti/api/tls/signClient/v2?clientUid=&version=  enroll  CSR -> certificate
 *   POST /Marti/sync/upload, /Marti/sync/missionupload     api    a file, streamed to disk
 *   GET  /Marti/sync/content?hash=, /Marti/sync/missionquery?hash=   api
 * The caller is the input's configured identity (http), the identity the
 * application resolves for the client certificate's CN (https), or nobody
 * (enroll: TLS without a client certificate; Basic auth per request).
 *
 * The engine answers by itself: 404 (no row for the path on this input),
 * 405 with Allow (a row for the path, not for the method), 403 (the row
 * needs a role the caller lacks), 408 request not complete within
 * timeout_ms, 413 body over max_body (a stream row's sink sets its own
 * bound), 431 over 16 KiB of request line and
 * headers or over max_headers fields, 400 malformed, 503 over
 * max_connections.  Errors are JSON {"error": "..."}.  After 408/413/431/
 * 400-malformed and 5xx the connection is closed (half-close, then input
 * is discarded for up to 2 s so the client reads the answer).
 *
 * Connections: keep-alive and pipelining, answered strictly in order, one
 * request at a time (a held request stops parsing; later bytes wait); an
 * idle connection is closed after timeout_ms.  An event stream sends
 * ": keepalive" every 15 s and is dropped when its queue exceeds
 * out_queue_bytes (kz_metrics.slow_consumer_drops).
 *
 * Output is bounded per connection by out_queue_bytes, for every answer
 * (security review F12).  A body whose size grows with the data (tracks,
 * the event log) is produced piecewise (kz_http_respond_body): at most
 * 64 KiB of it waits in the queue, the next piece is made when the queue
 * has drained, and a client that reads nothing for timeout_ms is dropped
 * (kz_metrics.slow_consumer_drops) and the producer freed.  Such a body
 * goes out with Content-Length when it fits in one piece, chunked
 * (HTTP/1.1) or close-delimited (HTTP/1.0) otherwise.  A whole body handed
 * to kz_http_respond() that exceeds the queue goes out the same way.
 */
#ifndef KZ_HTTP_H
#define KZ_HTTP_H

#include "core/core.h"
#include "net/net.h"

struct kz_http;     /* the engine: its connections, routes and options */
struct kz_http_req; /* one request, from its parse to its answer */
struct kz_http_sse; /* a connection turned into an event stream */

/* ---- routes -------------------------------------------------------------- */

/* Which inputs serve a route: their protocol decides transport and caller. */
enum kz_http_on {
    KZ_HTTP_ON_PLAIN = 1,  /* http: the input's configured identity */
    KZ_HTTP_ON_HTTPS = 2,  /* https: the client certificate's identity */
    KZ_HTTP_ON_ENROLL = 4, /* enroll: no caller identity */
    KZ_HTTP_ON_API = KZ_HTTP_ON_PLAIN | KZ_HTTP_ON_HTTPS,
    KZ_HTTP_ON_ANY = KZ_HTTP_ON_API | KZ_HTTP_ON_ENROLL,
};

/*
 * A handler answers at once (kz_http_respond / kz_http_error /
 * kz_http_sse_start), or takes kz_http_hold() and answers later.  `app` is
 * the pointer given with the rows to kz_http_add_routes().
 */
typedef void (*kz_http_handler)(struct kz_http_req *req, void *app);

struct kz_http_route {
    const char *method; /* "GET", "POST", ... */
    /* "/a/b", or with parameters: "/api/v1/alliance/commands/{id}" ({name}
     * matches one non-empty segment; read it with kz_http_path_param()). */
    const char *path;
    kz_http_handler fn;
    const char *role; /* the caller's identity must hold this role; NULL = none */
    unsigned on;      /* enum kz_http_on bits */
};

/* ---- the engine ---------------------------------------------------------- */

/*
 * Who is calling.  open() runs once per connection: at accept on http
 * inputs (cert_cn NULL), after the TLS handshake on https inputs (cert_cn =
 * the verified certificate's CN); never on enroll inputs.  It returns
 * KZ_OK with *identity (may be NULL: the caller sees nothing labelled) and
 * *caller (opaque to the engine, see kz_http_caller()), or an error with a
 * reason in why (the connection is refused and closed).  close() releases
 * what open() returned, when the connection is freed.
 */
struct kz_http_caller_ops {
    int (*open)(void *ud, const struct kz_input *input, const char *cert_cn,
                const struct kz_identity **identity, void **caller, char *why, size_t whylen);
    void (*close)(void *ud, void *caller);
    void *ud;
};

struct kz_http_opts {
    struct kz_net *net;         /* the loop's flush pass and read state */
    struct kz_tls_creds *creds; /* https and enroll inputs; NULL without them */
    /* Limits, from the configuration (limits.http_*, out_queue_bytes, max_connections). */
    size_t max_body;          /* request body bytes */
    unsigned max_headers;     /* header lines per request */
    unsigned timeout_ms;      /* idle / slow-request timeout */
    size_t out_queue_bytes;   /* per connection */
    unsigned max_connections; /* open HTTP connections */
    struct kz_http_caller_ops caller;
};

/* A new engine (opts copied).  Never NULL. */
struct kz_http *kz_http_new(const struct kz_http_opts *opts);
/* Reload: take the limits of opts; open connections see them from now on. */
void kz_http_set_limits(struct kz_http *h, const struct kz_http_opts *opts);
/*
 * Append route rows (matched in the order added).  `rows` must outlive the
 * engine; `app` is passed to their handlers.
 */
void kz_http_add_routes(struct kz_http *h, const struct kz_http_route *rows, size_t n, void *app);
/* Accept callback (kz_listener_start) for http, https and enroll inputs; `ud` is the engine. */
void kz_http_accept(void *ud, struct kz_input *input, const struct kz_input_conf *conf,
                    uv_loop_t *loop, uv_os_sock_t fd, const struct sockaddr *peer);
/*
 * Close every connection (shutdown).  A connection whose request is still
 * held (a store ack or query) is freed when that answer comes, so close the
 * store (which calls them) afterwards, then kz_http_free().
 */
void kz_http_close_all(struct kz_http *h);
/*
 * The credentials were reloaded: ask fn about every https connection whose
 * caller came from a client certificate.  CLOSE closes it (counted in
 * kz_metrics.credential_closes).  CHANGED asks caller.open() again for the
 * same certificate and swaps the new caller in (the old one is closed) when
 * the connection is idle between requests; a refusal closes it, and so does
 * a change while a request is under way or the connection is an event
 * stream (nothing is answered under the old identity).
 */
void kz_http_revisit(struct kz_http *h, kz_revisit_fn fn, void *ud);
/* Free the engine; every connection must have been freed already.  NULL is fine. */
void kz_http_free(struct kz_http *h);

/* ---- reading a request (valid until it is answered and released) ------- */

const char *kz_http_method(const struct kz_http_req *req); /* "GET" */
const char *kz_http_path(const struct kz_http_req *req);   /* percent-decoded */
/* The first query parameter called `name` (decoded), or NULL. */
const char *kz_http_param(const struct kz_http_req *req, const char *name);
/* The n-th (from 0) query parameter called `name` (decoded), or NULL: repeated ones. */
const char *kz_http_param_nth(const struct kz_http_req *req, const char *name, unsigned n);
/* The first query parameter whose name is not in `known` (NULL-terminated), or NULL. */
const char *kz_http_param_unknown(const struct kz_http_req *req, const char *const *known);
/* A {name} segment of the matched route, or NULL. */
const char *kz_http_path_param(const struct kz_http_req *req, const char *name);
/* A header's value (case-insensitive name), or NULL. */
const char *kz_http_header(const struct kz_http_req *req, const char *name);
/* The body (not NUL-terminated; "" and 0 when there is none). */
const char *kz_http_body(const struct kz_http_req *req, size_t *len);
/*
 * Memory that lives as long as the request (its arena): per-request state
 * such as what an asynchronous answer needs.  Never NULL, not zeroed.
 */
void *kz_http_alloc(struct kz_http_req *req, size_t n);

/* The caller: identity (NULL on enroll inputs) and the object caller.open() made. */
const struct kz_identity *kz_http_identity(const struct kz_http_req *req);
void *kz_http_caller(const struct kz_http_req *req);
const struct kz_input *kz_http_input(const struct kz_http_req *req);
const char *kz_http_peer(const struct kz_http_req *req); /* "host:port" */
uv_loop_t *kz_http_loop(const struct kz_http_req *req);

/* ---- answering ------------------------------------------------------------ */

/*
 * Queue the whole response: status line, Content-Type (when ctype), the
 * `extra` header lines (each ending in CRLF, may be NULL), Content-Length
 * and the body (copied).  Exactly once per request.  The request is done:
 * unless held, it is freed before this returns.  On a connection already
 * closing nothing is sent.
 */
void kz_http_respond(struct kz_http_req *req, int status, const char *ctype, const char *extra,
                     const void *body, size_t len);
/*
 * A body produced piecewise while it is being sent.  next() appends about
 * `want` more bytes of body to `out` (one item may overshoot; nothing is
 * fine) and answers KZ_HTTP_BODY_MORE (call again), KZ_HTTP_BODY_DONE (that
 * was the last piece) or KZ_HTTP_BODY_WAIT (nothing more now: the producer
 * calls kz_http_body_resume() when it has some, e.g. after a store page).
 * close(ud) runs exactly once: after DONE, or when the connection closes
 * first (then the request is gone: a producer that still waits for a page
 * must have its own kz_http_hold() and check kz_http_gone()).
 */
enum kz_http_body_step { KZ_HTTP_BODY_MORE, KZ_HTTP_BODY_DONE, KZ_HTTP_BODY_WAIT };

struct kz_http_body {
    enum kz_http_body_step (*next)(void *ud, struct kz_sbuf *out, size_t want);
    void (*close)(void *ud);
    void *ud;
};

/*
 * Answer with a produced body (the struct is copied); status, ctype and
 * extra as for kz_http_respond().  Exactly once per request.  On a
 * connection already closing, close(ud) runs at once and nothing is sent.
 */
void kz_http_respond_body(struct kz_http_req *req, int status, const char *ctype, const char *extra,
                          const struct kz_http_body *body);
/*
 * The same for a body whose length is known beforehand (a file): it goes
 * out with "Content-Length: length" whatever its size, keep-alive also for
 * HTTP/1.0.  The producer must produce exactly `length` bytes: more are
 * not sent, and a body that ends short closes the connection.
 */
void kz_http_respond_sized(struct kz_http_req *req, int status, const char *ctype,
                           const char *extra, uint64_t length, const struct kz_http_body *body);
/* A producer that answered WAIT has more: go on sending (nothing when the request is gone). */
void kz_http_body_resume(struct kz_http_req *req);
/*
 * The producer cannot go on (a store error mid-answer): the connection is
 * closed without the last chunk, so the client sees the answer cut short.
 * close(ud) runs before this returns.
 */
void kz_http_body_fail(struct kz_http_req *req);

/* {"error": msg} with the given status and extra header lines (may be NULL). */
void kz_http_error_extra(struct kz_http_req *req, int status, const char *extra, const char *msg);
void kz_http_error(struct kz_http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The answer comes later (a store ack, a query, a worker): the connection
 * stops parsing and the request stays valid, answered or not, until the
 * matching kz_http_release().  Call kz_http_respond() from the callback,
 * then kz_http_release(); the callback may check kz_http_gone() first.
 */
void kz_http_hold(struct kz_http_req *req);
/* Drop the hold; may free the request and its connection. */
void kz_http_release(struct kz_http_req *req);
/* The connection is closing: nobody will read an answer. */
bool kz_http_gone(const struct kz_http_req *req);

/* ---- request bodies taken as streams --------------------------------------- */

/*
 * Rows registered with kz_http_add_stream_routes() take their request body
 * as a stream rather than whole (an upload bigger than max_body, kept on
 * disk): the handler runs as soon as the headers are in (kz_http_body() is
 * empty), and must, before it returns, either answer (a refusal: the body
 * is not read and the connection closes after the answer) or call
 * kz_http_sink_start().  max_body does not apply: the sink bounds the body.
 *
 * data() gets each piece as it arrives (valid during the call only) and
 * answers KZ_OK (more), KZ_ERR_AGAIN (taken, but no more until the handler
 * calls kz_http_sink_resume(), later, from another callback: the socket is
 * not read meanwhile, which is the back-pressure) or another code to
 * refuse the body: abort() follows, then the engine answers 413 for
 * KZ_ERR_TOOBIG, 400 for KZ_ERR_PARSE and 500 otherwise, and closes.
 * Exactly one of end() and abort() runs, never from inside
 * kz_http_sink_start():
 *   - end(): the whole body has arrived; answer now, or hold and answer
 *     later (the connection waits, as for any held request);
 *   - abort(err): no whole body will come (KZ_ERR_CLOSED: the connection
 *     closed or timed out; or data()'s refusal).  Clean up only: the
 *     request is answered by the engine or nobody reads it.
 * Answering the request before end() (kz_http_respond and friends) also
 * ends the sink: no callback follows, and the connection closes after the
 * answer.  A client that sends nothing for timeout_ms is dropped (abort).
 */
struct kz_http_sink {
    int (*data)(void *ud, const char *buf, size_t len);
    void (*end)(void *ud);
    void (*abort)(void *ud, int err);
    void *ud;
};

/*
 * Like kz_http_add_routes(), for rows that take their body as a stream.
 * Stream rows are matched first, at the end of the request's headers;
 * a request that matches none goes on to the ordinary rows.
 */
void kz_http_add_stream_routes(struct kz_http *h, const struct kz_http_route *rows, size_t n,
                               void *app);
/*
 * Take the request's body through `sink` (copied); sends "100 Continue"
 * when the client waits for it.  KZ_OK, KZ_ERR_INVAL (not a streamed
 * request, or called twice) or KZ_ERR_CLOSED (the connection is closing):
 * then nothing will be called.
 */
int kz_http_sink_start(struct kz_http_req *req, const struct kz_http_sink *sink);
/* data() answered KZ_ERR_AGAIN: go on reading.  Nothing when not paused or gone. */
void kz_http_sink_resume(struct kz_http_req *req);

/* ---- Server-Sent Events --------------------------------------------------- */

/*
 * Answer 200 text/event-stream and turn the connection into an event
 * stream: the request is done (and freed), input is discarded, a
 * ": keepalive" comment goes out every 15 s.  `on_close(ud)` is called once
 * when the stream ends (the connection closes), never from inside
 * kz_http_sse_push().  Returns the stream, or NULL (the connection is
 * closing; on_close is not called).
 */
struct kz_http_sse *kz_http_sse_start(struct kz_http_req *req, void (*on_close)(void *ud),
                                      void *ud);
/*
 * Queue one framed event (a reference is taken).  `replay` buffers are
 * shared with a cache and not held to out_queue_bytes (kz_outq_push_replay).
 * Returns KZ_OK, KZ_ERR_CLOSED, or KZ_ERR_TOOBIG: the client reads too
 * slowly and is dropped from the next timer tick.
 */
int kz_http_sse_push(struct kz_http_sse *s, struct kz_rbuf *buf, bool replay);
/*
 * Frame one event: _open() appends "event: E\nid: ID\ndata: ", the caller
 * appends the data (one line, no newline), _close() appends the blank line.
 */
void kz_http_sse_frame_open(struct kz_sbuf *out, const char *event, uint64_t id);
void kz_http_sse_frame_close(struct kz_sbuf *out);

/* ---- helpers for headers and bodies (pure) -------------------------------- */

#define KZ_HTTP_MAX_USER 128
#define KZ_HTTP_MAX_PASSWORD 256

/*
 * Parse an "Authorization: Basic base64(user:password)" value into user and
 * password (NUL-terminated).  Returns KZ_OK, KZ_ERR_NOTFOUND (NULL or not
 * the Basic scheme), KZ_ERR_PARSE (bad base64, no ':', an empty user, a
 * control character) or KZ_ERR_TOOBIG (user or password over the limits).
 */
int kz_http_basic_auth(const char *value, char user[KZ_HTTP_MAX_USER + 1],
                       char pass[KZ_HTTP_MAX_PASSWORD + 1]);

enum kz_http_fmt { KZ_HTTP_FMT_NONE, KZ_HTTP_FMT_JSON, KZ_HTTP_FMT_XML };

/*
 * The answer's format from an Accept value: absent, empty, any type
 * (star/star), application/json -> JSON; application/xml or text/xml -> XML
 * (the first acceptable type in the list wins, q=0 entries are skipped);
 * anything else -> NONE.
 */
enum kz_http_fmt kz_http_accept_fmt(const char *accept);

/* ---- the client side: a whole response (reply.c) ------------------------------ */

struct kz_http_reply {
    int status;
    struct kz_sbuf body; /* de-chunked */
};

/*
 * Parse the whole response in `buf` (everything read until the peer closed):
 * KZ_OK with the status and body, or KZ_ERR_PARSE with a reason in err (not
 * HTTP, cut short of its framing, or a body over max_body).  Release with
 * kz_http_reply_release() either way.
 */
int kz_http_reply_parse(const char *buf, size_t len, size_t max_body, struct kz_http_reply *out,
                        char *err, size_t errlen);
void kz_http_reply_release(struct kz_http_reply *r);

#endif
