/*
 * internal.h - private to src/http/: the per-request arena, the request
 * target and query-string codec, the llhttp wrapper with its limits, the
 * connection, response helpers and the route handlers.  Loop thread only.
 *
 * Ownership: a request's strings (path, query parameters, headers) live in
 * the request's arena and are valid until kz__http_parser_next() or
 * kz__http_parser_release().  The body is a kz_sbuf owned by the request.
 */
#ifndef KZ_HTTP_INTERNAL_H
#define KZ_HTTP_INTERNAL_H

#include <llhttp.h>

#include "http/http.h"

/* Fixed limits (the configurable ones are in struct kz_http_opts). */
#define KZ__HTTP_MAX_HEADER_BYTES 16384 /* request line + header names/values */
#define KZ__HTTP_MAX_PARAMS 64          /* query-string parameters */
#define KZ__HTTP_SSE_KEEPALIVE_MS 15000
#define KZ__HTTP_LINGER_MS 2000 /* read-and-discard after an error reply */
#define KZ__HTTP_LINGER_BYTES (1u << 20)

/* ---- arena: many small allocations, one release ------------------------ */

struct kz__arena_chunk;

struct kz__arena {
    struct kz__arena_chunk *head;
};

/* Never NULL (aborts on OOM).  Memory is 16-byte aligned and not zeroed. */
void *kz__arena_alloc(struct kz__arena *a, size_t n);
/* Copy s[0..n) and NUL-terminate. */
char *kz__arena_strndup(struct kz__arena *a, const char *s, size_t n);
/* Free every chunk; the arena is empty and reusable afterwards. */
void kz__arena_release(struct kz__arena *a);

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
 * NUL-terminate.  With `plus_is_space`, '+' decodes to ' ' (query strings).
 * Returns KZ_OK, or KZ_ERR_PARSE for a truncated or non-hex escape or an
 * encoded NUL (decoded strings are C strings).
 */
int kz__http_percent_decode(char *dst, const char *src, size_t len, bool plus_is_space,
                            size_t *out_len);

/*
 * Split an origin-form ("/p?q") or absolute-form ("http://h/p?q") request
 * target.  Strings are allocated in `a`.  Returns KZ_OK, KZ_ERR_PARSE (bad
 * form or encoding) or KZ_ERR_TOOBIG (more than KZ__HTTP_MAX_PARAMS).
 */
int kz__http_parse_target(struct kz__arena *a, const char *url, size_t len,
                          struct kz__http_target *out);

/* The first parameter called `name`, or NULL. */
const char *kz__http_param(const struct kz__http_target *t, const char *name);

/*
 * Parse the GET /api/v1/events parameters (uid, type, since, until, limit)
 * into `q` (strings point into t).  Unknown parameters are ignored.
 * Returns KZ_OK or KZ_ERR_INVAL with a message for the client in errbuf.
 */
int kz__http_events_query(const struct kz__http_target *t, struct kz_store_query *q, char *errbuf,
                          size_t errlen);

/* ---- the request parser (llhttp + limits, no I/O) ----------------------- */

struct kz__http_header {
    const char *name; /* as sent, NUL-terminated */
    const char *value;
};

struct kz__http_req {
    struct kz__arena arena;
    uint8_t method; /* llhttp_method_t */
    struct kz__http_target target;
    struct kz__http_header *headers;
    unsigned n_headers;
    struct kz_sbuf body;
    bool keep_alive;
    bool expect_continue; /* "Expect: 100-continue" */
    int64_t start_us;     /* monotonic, first byte of the request */
};

struct kz__http_limits {
    size_t max_header_bytes;
    unsigned max_headers;
    size_t max_body;
};

struct kz__http_parser {
    llhttp_t p;
    struct kz__http_limits lim;
    struct kz__http_req req;
    struct kz_sbuf url, field, value; /* spans being accumulated */
    size_t header_bytes;
    bool in_message; /* a request has started */
    bool headers_done;
    bool ready;               /* a complete request is in `req` */
    int error_status;         /* 400, 413, 431 after KZ_ERR_PARSE */
    const char *error_reason; /* static text for the client */
    /* Called when a request's headers ask for "100 Continue" (may be NULL). */
    void (*on_continue)(void *ud);
    void *ud;
};

void kz__http_parser_init(struct kz__http_parser *hp, const struct kz__http_limits *lim);
void kz__http_parser_release(struct kz__http_parser *hp);

/*
 * Parse data[0..len).  Returns KZ_OK with *used = bytes consumed: when
 * hp->ready a whole request is in hp->req and the rest of the data belongs
 * to the next request (call kz__http_parser_next() first).  Returns
 * KZ_ERR_PARSE when the request is refused: hp->error_status and
 * hp->error_reason say how to answer; the connection must then be closed.
 */
int kz__http_parser_feed(struct kz__http_parser *hp, const char *data, size_t len, size_t *used);

/* Drop the finished request and get ready for the next one. */
void kz__http_parser_next(struct kz__http_parser *hp);

/* A header's value (case-insensitive name), or NULL. */
const char *kz__http_header(const struct kz__http_req *req, const char *name);

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

/* Append s as a JSON string literal (quotes, escapes; bad UTF-8 -> U+FFFD). */
void kz__json_str(struct kz_sbuf *out, const char *s, size_t len);

/* Append the Prometheus exposition for the counters (router/store may be NULL). */
void kz__http_metrics(struct kz_sbuf *out, struct kz_router *r, struct kz_store *st);

/* ---- connections ---------------------------------------------------------- */

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
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    struct kz_outq outq;
    struct kz__http_parser hp;
    const struct kz_http_opts *opts;
    struct kz_http_opts lim; /* opts with defaults filled in */
    struct kz_input *input;
    enum kz__http_state state;
    unsigned refs;    /* 1 while handles are open + 1 per pending callback */
    unsigned handles; /* uv handles not yet closed */
    bool reading;
    bool in_feed;
    bool counted;               /* included in kz_metrics.http_conns_open */
    bool deadline;              /* the timer is a request deadline */
    bool eof;                   /* the peer has half-closed */
    bool wait_drain;            /* BUSY until the output queue drains */
    bool drop;                  /* slow SSE consumer: close from the timer */
    size_t discarded;           /* bytes read while draining/lingering */
    struct kz_sbuf pending;     /* bytes received while busy, not yet parsed */
    struct kz_sub sub;          /* SSE subscriber (attached when sub.attached) */
    struct kz_cot_decoder *dec; /* created on the first POST */
    struct {                    /* the POST waiting for its ack */
        char *uid;
        uint64_t seq;
        bool in_submit;
        bool acked;
        bool ping;
    } post;
    int status;        /* of the response to the current request */
    const char *error; /* its error message, while it is being sent */
    uint64_t id;
    char peer[64];
    struct kz__http_conn *prev, *next;
};

/*
 * Queue a complete response for the current request and finish it (keep-alive
 * or close).  The connection may already be closing: then nothing happens.
 */
void kz__http_respond(struct kz__http_conn *c, int status, const char *ctype, const char *extra,
                      const void *body, size_t len);
/* {"error": msg} with the given status (and extra header lines, may be NULL). */
void kz__http_error_extra(struct kz__http_conn *c, int status, const char *extra, const char *msg);
void kz__http_error(struct kz__http_conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The response to the current request is queued: go on with the next
 * pipelined request (keep_alive) or drain and close.
 */
void kz__http_finish(struct kz__http_conn *c, bool keep_alive);
/* Log the current request and reset the parser for the next one. */
void kz__http_request_done(struct kz__http_conn *c);
/* (Re)start the connection's one timer; its meaning follows c->state. */
void kz__http_arm_timer(struct kz__http_conn *c, uint64_t ms, uint64_t repeat);
/* Close from the timer callback (from inside a router delivery). */
void kz__http_schedule_close(struct kz__http_conn *c);
/* The current request waits for a callback: stop parsing and take a reference. */
void kz__http_hold(struct kz__http_conn *c);
/* Drop the reference from kz__http_hold(); may free c. */
void kz__http_unref(struct kz__http_conn *c);
/* Begin closing (idempotent; never frees inside the caller's callback). */
void kz__http_close(struct kz__http_conn *c, const char *why);
/* Push raw bytes; on overflow close the connection.  Returns KZ_OK or the error. */
int kz__http_push(struct kz__http_conn *c, const void *data, size_t len);

/* Route the request in c->hp.req (api.c). */
void kz__http_dispatch(struct kz__http_conn *c);

/* Turn the connection into an event stream (sse.c). */
void kz__http_sse_start(struct kz__http_conn *c);
void kz__http_sse_keepalive(struct kz__http_conn *c);
void kz__http_sse_stop(struct kz__http_conn *c);

#endif
