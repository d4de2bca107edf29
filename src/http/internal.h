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
#define KZ__HTTP_HANDSHAKE_MS 10000 /* a TLS handshake must be done by then */

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

/* What an input serves: its protocol decides the transport, identity and routes. */
enum kz__http_kind {
    KZ__HTTP_PLAIN = 1,  /* http: identity from the input's configuration */
    KZ__HTTP_HTTPS = 2,  /* https: client certificate, identity from its CN */
    KZ__HTTP_ENROLL = 4, /* enroll: TLS without client certificate, Basic auth per request */
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
    enum kz__http_kind kind;
    /* The caller: the input's identity (http), the certificate's users-table
     * entry (https, kept alive by users_ref) or NULL (enroll, not yet). */
    const struct kz_identity *identity;
    struct kz_users *users_ref;
    struct kz_sub view; /* identity resolved for kz_router_visible(); never attached */
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

/* The caller as seen by the release rule (groups, subject). */
static inline const struct kz_sub *kz__http_viewer(const struct kz__http_conn *c)
{
    return &c->view;
}

/* Route the request in c->hp.req (api.c). */
void kz__http_dispatch(struct kz__http_conn *c);

/*
 * The connection's transport (tls_conn.c): TCP for http, TLS for https and
 * enroll (outq writes through it); the caller's identity for http.  Then
 * kz__http_transport_feed() takes every chunk read from the socket and
 * hands plaintext to `plain`.  Returns what the transport's feed returns;
 * on error c->tr.why says why.
 */
void kz__http_transport_init(struct kz__http_conn *c);
int kz__http_transport_feed(struct kz__http_conn *c, const char *data, size_t len,
                            void (*plain)(void *ud, const char *data, size_t len));
void kz__http_transport_release(struct kz__http_conn *c);

/* Turn the connection into an event stream (sse.c). */
void kz__http_sse_start(struct kz__http_conn *c);
void kz__http_sse_keepalive(struct kz__http_conn *c);
void kz__http_sse_stop(struct kz__http_conn *c);

/* ---- Marti (marti.c) and enrollment (enroll.c) ------------------------------- */

void kz__marti_version(struct kz__http_conn *c);
void kz__marti_version_config(struct kz__http_conn *c);
void kz__marti_client_endpoints(struct kz__http_conn *c);
void kz__marti_groups_all(struct kz__http_conn *c);
void kz__enroll_tls_config(struct kz__http_conn *c);
void kz__enroll_sign(struct kz__http_conn *c);
/* Enrollments waiting for a worker (shutdown: they answer nobody). */
unsigned kz__enroll_pending(void);

/* Append the TAK response envelope's head / tail around `data` (marti.c). */
void kz__marti_envelope_open(struct kz_sbuf *out, const char *type);
void kz__marti_envelope_close(struct kz_sbuf *out, const char *node_id);

/* ---- header helpers (authhdr.c, pure) ------------------------------------- */

#define KZ__HTTP_MAX_USER 128
#define KZ__HTTP_MAX_PASSWORD 256

/*
 * Parse an "Authorization: Basic base64(user:password)" value into user and
 * password (NUL-terminated).  Returns KZ_OK, KZ_ERR_NOTFOUND (NULL or not
 * the Basic scheme), KZ_ERR_PARSE (bad base64, no ':', an empty user, a
 * control character) or KZ_ERR_TOOBIG (user or password over the limits).
 */
int kz__http_basic_auth(const char *value, char user[KZ__HTTP_MAX_USER + 1],
                        char pass[KZ__HTTP_MAX_PASSWORD + 1]);

enum kz__http_fmt { KZ__HTTP_FMT_NONE, KZ__HTTP_FMT_JSON, KZ__HTTP_FMT_XML };

/*
 * The enrollment answer's format from an Accept value: absent, empty,
 * any type (star/star), application/json -> JSON; application/xml or text/xml -> XML
 * (the first acceptable type in the list wins, q=0 entries are skipped);
 * anything else -> NONE (400).
 */
enum kz__http_fmt kz__http_accept_fmt(const char *accept);

/* Standard base64 of data[0..len), appended. */
void kz__base64_append(struct kz_sbuf *out, const unsigned char *data, size_t len);
/*
 * Decode standard base64 (padding required, no whitespace) into out[0..cap).
 * Returns KZ_OK with *n, KZ_ERR_PARSE or KZ_ERR_TOOBIG.
 */
int kz__base64_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *n);

#endif
