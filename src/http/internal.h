/*
 * internal.h - private to src/http/: the request target and query-string
 * codec, the llhttp wrapper with its limits, the request object, the
 * connection and the route matcher.  Loop thread only.
 *
 * Ownership: a request is a heap object with its own arena; its strings
 * (path, parameters, headers) and whatever handlers allocate with
 * kz_http_alloc() live in that arena.  The parser fills one request at a
 * time and hands it over with kz__http_parser_take(); the connection then
 * holds one reference (dropped when the request is answered) and each
 * kz_http_hold() one more.
 */
#ifndef KZ_HTTP_INTERNAL_H
#define KZ_HTTP_INTERNAL_H

#include <llhttp.h>

#include "http/http.h"

/* Fixed limits (the configurable ones are in struct kz_http_opts). */
#define KZ__HTTP_MAX_HEADER_BYTES 16384 /* request line + header names/values */
#define KZ__HTTP_MAX_PARAMS 64          /* query-string parameters */
#define KZ__HTTP_MAX_PATH_PARAMS 8      /* {name} segments in a route */
#define KZ__HTTP_SSE_KEEPALIVE_MS 15000
#define KZ__HTTP_LINGER_MS 2000 /* read-and-discard after an error reply */
#define KZ__HTTP_LINGER_BYTES (1u << 20)
#define KZ__HTTP_HANDSHAKE_MS 10000 /* a TLS handshake must be done by then */
#define KZ__HTTP_CHUNK 65536        /* a streamed body: at most this much produced ahead */

/* ---- request target: path and query string ----------------------------- */

struct kz__http_param {
    const char *name;  /* percent-decoded, NUL-terminated */
    const char *value; /* percent-decoded, "" when there is no '=' */
};

struct kz__http_target {
    const char *path; /* percent-decoded, starts with '/' */
    struct kz__http_param *params;
    unsigned n_params;
};

/*
 * Percent-decode src[0..len) into dst (which must hold len + 1 bytes) and
 * NUL-terminate, also on error (dst is then the prefix decoded so far).
 * With `plus_is_space`, '+' decodes to ' ' (query strings).  Returns KZ_OK,
 * or KZ_ERR_PARSE for a truncated or non-hex escape or an encoded NUL
 * (decoded strings are C strings).
 */
int kz__http_percent_decode(char *dst, const char *src, size_t len, bool plus_is_space,
                            size_t *out_len);

/*
 * Split an origin-form ("/p?q") or absolute-form ("http://h/p?q") request
 * target.  Strings are allocated in `a`.  Returns KZ_OK, KZ_ERR_PARSE (bad
 * form or encoding; out->path is then NULL) or KZ_ERR_TOOBIG (more than
 * KZ__HTTP_MAX_PARAMS).
 */
int kz__http_parse_target(struct kz_arena *a, const char *url, size_t len,
                          struct kz__http_target *out);

/* The first parameter called `name`, or NULL. */
const char *kz__http_param(const struct kz__http_target *t, const char *name);

/* ---- the request object ---------------------------------------------------- */

struct kz__http_header {
    const char *name; /* as sent, NUL-terminated */
    const char *value;
};

struct kz__http_conn;

struct kz_http_req {
    struct kz_arena arena;
    uint8_t method; /* llhttp_method_t */
    struct kz__http_target target;
    struct kz__http_header *headers;
    unsigned n_headers;
    struct kz_sbuf body;
    bool keep_alive;
    bool http10;          /* HTTP/1.0: no chunked transfer coding */
    bool expect_continue; /* "Expect: 100-continue" */
    bool streamed;        /* its body goes to a sink (kz_http_sink_start) */
    bool body_ended;      /* ... and all of it has arrived */
    int64_t start_us;     /* monotonic, first byte of the request */
    /* Set by the engine once the request is dispatched. */
    struct kz__http_conn *conn;
    struct kz__http_param path_params[KZ__HTTP_MAX_PATH_PARAMS];
    unsigned n_path_params;
    unsigned refs;     /* the connection's (until answered) + one per hold */
    bool answered;     /* kz_http_respond() or SSE start happened */
    int status;        /* of the response */
    const char *error; /* its error message, while it is being sent */
};

/* A header's value (case-insensitive name), or NULL. */
const char *kz__http_req_header(const struct kz_http_req *req, const char *name);
/* Free the request and its arena. */
void kz__http_req_free(struct kz_http_req *req);

/* ---- the request parser (llhttp + limits, no I/O) ----------------------- */

struct kz__http_limits {
    size_t max_header_bytes;
    unsigned max_headers;
    size_t max_body;
};

struct kz__http_parser {
    llhttp_t p;
    struct kz__http_limits lim;
    struct kz_http_req *req;          /* the request being parsed (never NULL) */
    struct kz_sbuf url, field, value; /* spans being accumulated */
    size_t header_bytes;
    bool in_message; /* a request has started */
    bool headers_done;
    bool ready;               /* a complete request is in `req` */
    int error_status;         /* 400, 413, 431 after KZ_ERR_PARSE */
    const char *error_reason; /* static text for the client */
    /* Called when a request's headers ask for "100 Continue" (may be NULL). */
    void (*on_continue)(void *ud);
    /*
     * At the end of a request's headers (method, target, headers and
     * keep_alive known): true takes its body as a stream.  The parser then
     * pauses with head_ready; every piece of body goes to on_data(), which
     * answers KZ_OK, or anything else to pause the parser (data_paused);
     * at the body's end it pauses with body_done.  May be NULL.
     */
    bool (*stream_body)(void *ud, struct kz_http_req *req);
    int (*on_data)(void *ud, const char *at, size_t len);
    bool streaming;   /* the current message's body goes to on_data() */
    bool head_ready;  /* paused at a streamed request's headers */
    bool data_paused; /* paused by on_data() */
    bool body_done;   /* paused at the end of a streamed body */
    void *ud;
};

void kz__http_parser_init(struct kz__http_parser *hp, const struct kz__http_limits *lim);
void kz__http_parser_release(struct kz__http_parser *hp);

/*
 * Parse data[0..len).  Returns KZ_OK with *used = bytes consumed: when
 * hp->ready a whole request is in hp->req and the rest of the data belongs
 * to the next request (call kz__http_parser_take() or _next() first).
 * Returns KZ_ERR_PARSE when the request is refused: hp->error_status and
 * hp->error_reason say how to answer; the connection must then be closed.
 */
int kz__http_parser_feed(struct kz__http_parser *hp, const char *data, size_t len, size_t *used);

/* Hand the finished request to the caller (who frees it) and get ready for the next. */
struct kz_http_req *kz__http_parser_take(struct kz__http_parser *hp);
/* Clear head_ready, data_paused or body_done and let llhttp go on. */
void kz__http_parser_go_on(struct kz__http_parser *hp);
/* Drop the finished (or half-parsed) request and get ready for the next one. */
void kz__http_parser_next(struct kz__http_parser *hp);

/* ---- response building (pure) ----------------------------------------- */

/* "Not Found" etc.; "Unknown" for codes we never send. */
const char *kz__http_reason(int status);

/*
 * Append a whole response: status line, Content-Type (when ctype), the
 * `extra` header lines (each ending in CRLF, may be NULL), Content-Length,
 * Connection, a blank line and the body.
 */
void kz__http_format(struct kz_sbuf *out, int status, const char *ctype, const char *extra,
                     bool keep_alive, const void *body, size_t len);
/* The head alone; `framing` is the header line(s) that frame the body ("" for none). */
void kz__http_format_head(struct kz_sbuf *out, int status, const char *ctype, const char *extra,
                          bool keep_alive, const char *framing);

/* ---- the engine and its connections --------------------------------------- */

struct kz__http_table {
    const struct kz_http_route *rows;
    size_t n;
    void *app;
    bool stream; /* the rows take their bodies as streams (kz_http_add_stream_routes) */
};

struct kz_http {
    struct kz_http_opts opts; /* defaults filled in */
    struct kz__http_table *tables;
    size_t n_tables;
    struct kz__http_conn *conns; /* every live connection */
    uint64_t last_conn_id;
    char read_slab[65536]; /* reads are consumed before the next one */
};

enum kz__http_state {
    KZ__HTTP_READING,  /* parsing requests */
    KZ__HTTP_BUSY,     /* waiting for an async answer (ack, query) or for output to drain */
    KZ__HTTP_SSE,      /* an event stream: input is discarded */
    KZ__HTTP_DRAINING, /* last response queued; close once written */
    KZ__HTTP_LINGER,   /* written and shut down; discard input until EOF or timer */
    KZ__HTTP_CLOSING,
};

struct kz__http_conn {
    uv_tcp_t tcp;
    struct kz_transport tr; /* tcp or tls; released with the connection */
    /* What tr calls back: kept here, as a handshake step on the pool outlives a feed. */
    struct kz_transport_cbs tr_cbs;
    enum kz_http_on kind;
    struct kz_http *h;
    /* The caller, from h->opts.caller.open() (NULL before and on enroll). */
    const struct kz_identity *identity;
    void *caller;
    bool caller_open;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    struct kz_outq outq;
    struct kz__http_parser hp;
    struct kz_http_req *cur;          /* dispatched, not yet answered */
    struct kz_input *input;           /* opaque here: handed to the caller hook */
    const struct kz_input_conf *conf; /* its name and protocol */
    enum kz__http_state state;
    unsigned refs;    /* 1 while handles are open + 1 per hold */
    unsigned handles; /* uv handles not yet closed */
    bool reading;
    bool in_feed;
    bool counted;           /* included in kz_metrics.http_conns_open */
    bool deadline;          /* the timer is a request deadline */
    bool eof;               /* the peer has half-closed */
    bool wait_drain;        /* BUSY until the output queue drains */
    bool drop;              /* slow SSE consumer: close from the timer */
    size_t discarded;       /* bytes read while draining/lingering */
    struct kz_sbuf pending; /* bytes received while busy, not yet parsed */
    void (*sse_close)(void *ud);
    void *sse_ud;
    struct kz__http_stream *body; /* a streamed response in progress (body.c), or NULL */
    /* A streamed request body (sink.c): the request whose headers matched a
     * stream row (until it is answered), and its sink while it takes data. */
    struct kz_http_req *sink_req;
    struct kz_http_sink sink;
    bool sink_on;     /* kz_http_sink_start() ran; neither end nor abort yet */
    bool sink_paused; /* data() asked for a pause: BUSY until kz_http_sink_resume() */
    int sink_err;     /* data() refused the body */
    uint64_t id;
    char peer[64];
    struct kz__http_conn *prev, *next;
};

/* (Re)start the connection's one timer; its meaning follows c->state. */
void kz__http_arm_timer(struct kz__http_conn *c, uint64_t ms, uint64_t repeat);
/* Close from the timer callback (from inside a router delivery). */
void kz__http_schedule_close(struct kz__http_conn *c);
/* Drop a connection reference; may free c. */
void kz__http_unref(struct kz__http_conn *c);
/* Begin closing (idempotent; never frees inside the caller's callback). */
void kz__http_close(struct kz__http_conn *c, const char *why);
/* Push raw bytes; on overflow close the connection.  Returns KZ_OK or the error. */
int kz__http_push(struct kz__http_conn *c, const void *data, size_t len);
/* The current request is answered: log it, detach it from c and drop c's reference. */
void kz__http_request_done(struct kz__http_conn *c, struct kz_http_req *req);

/* Call the row's handler, or answer 403 when the caller lacks its role (route.c). */
void kz__http_call(struct kz__http_conn *c, struct kz_http_req *req, const struct kz_http_route *rt,
                   void *app);
/* Route the request (route.c): a handler, or 404/405/403 answered here. */
void kz__http_dispatch(struct kz__http_conn *c, struct kz_http_req *req);
/*
 * Match `path` against a route pattern; {name} segments are stored in
 * req->path_params (NULL req: only match).  Returns true on a match.
 */
bool kz__http_route_match(const char *pattern, const char *path, struct kz_http_req *req);

/*
 * The connection's transport (tls_conn.c): TCP for http, TLS for https and
 * enroll (outq writes through it); the caller for http.  Then
 * kz__http_transport_feed() takes every chunk read from the socket and
 * hands plaintext to `plain`.  Returns what the transport's feed returns;
 * on error c->tr.why says why.
 */
int kz__http_transport_init(struct kz__http_conn *c);
int kz__http_transport_feed(struct kz__http_conn *c, const char *data, size_t len,
                            void (*plain)(void *ud, const char *data, size_t len));
/* The transport refused the peer or its bytes (rc, c->tr.why): log and close. */
void kz__http_refused(struct kz__http_conn *c, int rc);
void kz__http_transport_release(struct kz__http_conn *c);

/*
 * Streamed bodies (body.c).  While c->body is set the connection is BUSY:
 * input waits, and _pump() produces the next chunks whenever the output
 * queue has drained.  _stop() ends the stream early (the connection is
 * closing): the producer's close() runs and the request is let go.
 */
void kz__http_body_pump(struct kz__http_conn *c);
void kz__http_body_stop(struct kz__http_conn *c);
/* A streamed body waits for the client (not for its producer) to go on. */
bool kz__http_body_stalled(const struct kz__http_conn *c);
/*
 * kz_http_respond() of a body over one chunk: a copy of it is streamed
 * like a produced body.  False (nothing done) for a smaller body.
 */
bool kz__http_respond_big(struct kz_http_req *req, int status, const char *ctype, const char *extra,
                          const void *body, size_t len);
/* The answer is finished (server.c): next request or drain and close. */
void kz__http_finish(struct kz__http_conn *c, bool keep_alive);
/* The parser's request becomes the connection's current one (server.c). */
struct kz_http_req *kz__http_begin_request(struct kz__http_conn *c);
/* BUSY -> READING: parse what waits in c->pending, then read again (server.c). */
void kz__http_resume_input(struct kz__http_conn *c);

/*
 * Streamed request bodies (sink.c).  _wants() is the parser's stream_body
 * hook and _data() its on_data hook.  _step() runs after each parser feed:
 * it dispatches a streamed request at its headers, pauses, ends or refuses
 * its body; true when it did something (feed again).  _stop() aborts the
 * sink (the connection is closing).  _answered() is called when the
 * request is answered before its body ended: the sink gets no more calls.
 */
bool kz__http_sink_wants(void *ud, struct kz_http_req *req);
int kz__http_sink_data(void *ud, const char *at, size_t len);
bool kz__http_sink_step(struct kz__http_conn *c);
void kz__http_sink_stop(struct kz__http_conn *c);
void kz__http_sink_answered(struct kz__http_conn *c, struct kz_http_req *req);
/*
 * The stream row for the request's method and path on this input (route.c),
 * or NULL; *app is its table's.
 */
const struct kz_http_route *kz__http_stream_route(struct kz__http_conn *c, struct kz_http_req *req,
                                                  void **app);

/* Event streams (sse.c). */
void kz__http_sse_keepalive(struct kz__http_conn *c);
void kz__http_sse_stop(struct kz__http_conn *c);

#endif
