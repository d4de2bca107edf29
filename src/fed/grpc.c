/*
 * grpc.c - gRPC over HTTP/2: nghttp2 does the protocol; this file frames the
 * messages (1-byte compressed flag, u32 big-endian length), speaks the
 * grpc-status trailers and queues the output for the transport.
 *
 * nghttp2 must not be re-entered for output from its own callbacks, and user
 * callbacks run inside them: `depth` counts the nghttp2 calls in progress and
 * pump() only produces output at depth 0 (the outermost call pumps after).
 */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed/grpc.h"

#define MAX_STREAMS 100
#define WINDOW (1 << 20)            /* stream and connection receive windows */
#define MAX_HEADER_LIST (16u << 10) /* bytes of one header block accepted */
#define WRITE_BATCH (256u << 10)    /* bytes handed to one transport write */
#define OUT_COMPACT (64u << 10)     /* a call's consumed output is dropped past this */
#define PATH_CAP 256
#define MESSAGE_CAP 256
#define META_NAME_CAP 32
#define META_VALUE_CAP 64
#define FRAME_HDR 5

struct kz_grpc_call {
    struct kz_grpc *g;
    struct kz_grpc_call *prev, *next;
    int32_t id;
    void *data;
    char path[PATH_CAP];
    struct kz_sbuf in;  /* received bytes of a message not yet whole */
    struct kz_sbuf out; /* framed messages nghttp2 has not taken yet, from out_off */
    size_t out_off;
    bool out_eof;     /* client: half-closed; server: finished (trailers after out) */
    bool submitted;   /* server: response HEADERS submitted */
    bool deferred;    /* the data provider waits for output */
    bool dead;        /* input is ignored: failed, cancelled, rejected or ended */
    bool done_user;   /* the user expects no more callbacks */
    int status;       /* client: the peer's grpc-status (-1 none); server: the one to send */
    size_t hdr_bytes; /* of the header block being received (RFC 9113 §6.5.2 counting) */
    char message[MESSAGE_CAP];
    char meta_in[META_VALUE_CAP];  /* the kept header's value as received; "" none */
    char meta_name[META_NAME_CAP]; /* server: one header to add to the response; "" none */
    char meta_value[META_VALUE_CAP];
};

struct kz_grpc {
    nghttp2_session *s;
    struct kz_transport *t;
    struct kz_grpc_cbs cbs;
    void *ud;
    size_t max_message;
    bool client;
    char authority[128];
    char keep[META_NAME_CAP]; /* the header whose value each call keeps; "" none */
    struct kz_grpc_call *calls;
    size_t pending;          /* bytes in the calls' out buffers */
    struct kz_sbuf obuf;     /* output nghttp2 produced, waiting for the write */
    struct kz_sbuf inflight; /* the one write in flight */
    bool writing, want_writable, freeing, settling, broken, peer_goaway;
    uint32_t peer_goaway_code;
    int depth;
};

/* ---- calls ---------------------------------------------------------------- */

static struct kz_grpc_call *call_new(struct kz_grpc *g, int32_t id)
{
    struct kz_grpc_call *c = kz_xcalloc(1, sizeof(*c));

    c->g = g;
    c->id = id;
    c->status = -1;
    c->next = g->calls;
    if (g->calls)
        g->calls->prev = c;
    g->calls = c;
    return c;
}

static void call_free(struct kz_grpc_call *c)
{
    struct kz_grpc *g = c->g;

    if (c->prev)
        c->prev->next = c->next;
    else
        g->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->pending -= c->out.len - c->out_off;
    kz_sbuf_release(&c->in);
    kz_sbuf_release(&c->out);
    free(c);
}

/* Tell the user the call is over, once. */
static void report_end(struct kz_grpc_call *c, int status, const char *message)
{
    struct kz_grpc *g = c->g;

    c->dead = true;
    if (c->done_user)
        return;
    c->done_user = true;
    if (g->cbs.on_end)
        g->cbs.on_end(g->ud, c, status, message);
}

/* ---- grpc-message: percent-encoded on the wire ---------------------------------- */

static void pct_encode(const char *s, char *out, size_t cap)
{
    size_t n = 0;

    for (; s && *s && n + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch > 0x7e || ch == '%')
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", ch);
        else
            out[n++] = (char)ch;
    }
    out[n] = '\0';
}

static void pct_decode(const uint8_t *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned v;
        char hex[3] = {0};
        if (s[i] == '%' && i + 2 < len) {
            memcpy(hex, s + i + 1, 2);
            if (sscanf(hex, "%2x", &v) == 1) {
                out[n++] = (char)v;
                i += 2;
                continue;
            }
        }
        out[n++] = (char)s[i];
    }
    out[n] = '\0';
}

/* ---- output ----------------------------------------------------------------- */

size_t kz_grpc_queued(const struct kz_grpc *g)
{
    return g->pending + g->obuf.len + g->inflight.len;
}

static void destroy(struct kz_grpc *g)
{
    while (g->calls)
        call_free(g->calls);
    nghttp2_session_del(g->s);
    kz_sbuf_release(&g->obuf);
    kz_sbuf_release(&g->inflight);
    free(g);
}

static void pump(struct kz_grpc *g);

static void on_written(void *ud, int status)
{
    struct kz_grpc *g = ud;

    g->writing = false;
    kz_sbuf_reset(&g->inflight);
    if (status < 0)
        g->broken = true;
    if (g->freeing) {
        if (!g->settling)
            destroy(g);
        return;
    }
    pump(g);
    if (g->want_writable && kz_grpc_queued(g) < KZ_GRPC_LOW_WATER) {
        g->want_writable = false;
        if (g->cbs.on_writable)
            g->cbs.on_writable(g->ud);
    }
}

/* Move what nghttp2 has to send into obuf and start a write if none is in flight. */
static void pump(struct kz_grpc *g)
{
    if (g->depth || g->writing || g->broken)
        return;
    g->depth++;
    while (g->obuf.len < WRITE_BATCH) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(g->s, &p);
        if (n <= 0) {
            g->broken |= n < 0;
            break;
        }
        kz_sbuf_add(&g->obuf, p, (size_t)n);
    }
    g->depth--;
    if (g->obuf.len == 0 || g->broken)
        return;
    struct kz_sbuf tmp = g->inflight;
    g->inflight = g->obuf;
    g->obuf = tmp;
    g->writing = true;
    uv_buf_t b = uv_buf_init(g->inflight.buf, (unsigned)g->inflight.len);
    if (g->t->ops->write(g->t, &b, 1, on_written, g) < 0) {
        g->writing = false;
        g->broken = true;
        kz_sbuf_reset(&g->inflight);
    }
}

/* The data provider: hand nghttp2 the call's framed messages. */
static ssize_t read_out(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *ud)
{
    struct kz_grpc_call *c = src->ptr;
    struct kz_grpc *g = ud;
    size_t avail = c->out.len - c->out_off;
    size_t n = avail < len ? avail : len;

    if (n) /* an empty buffer has no memory at all */
        memcpy(buf, c->out.buf + c->out_off, n);
    c->out_off += n;
    g->pending -= n;
    if (c->out_off == c->out.len) {
        kz_sbuf_reset(&c->out);
        c->out_off = 0;
    } else if (c->out_off > OUT_COMPACT && c->out_off > c->out.len / 2) {
        memmove(c->out.buf, c->out.buf + c->out_off, c->out.len - c->out_off);
        c->out.len -= c->out_off;
        c->out_off = 0;
    }
    if (n < avail)
        return (ssize_t)n;
    if (!c->out_eof) {
        c->deferred = n == 0;
        return n ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!g->client) {
        char msg[3 * MESSAGE_CAP], code[16];
        snprintf(code, sizeof(code), "%d", c->status);
        pct_encode(c->message, msg, sizeof(msg));
        nghttp2_nv nv[] = {
            {(uint8_t *)"grpc-status", (uint8_t *)code, 11, strlen(code), NGHTTP2_NV_FLAG_NONE},
            {(uint8_t *)"grpc-message", (uint8_t *)msg, 12, strlen(msg), NGHTTP2_NV_FLAG_NONE},
        };
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        if (nghttp2_submit_trailer(s, id, nv, msg[0] ? 2 : 1) != 0)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

static void resume(struct kz_grpc_call *c)
{
    if (c->deferred) {
        c->deferred = false;
        nghttp2_session_resume_data(c->g->s, c->id);
    }
    pump(c->g);
}

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE             \
    }

/* Server role: response HEADERS with a data provider (messages and trailers follow). */
static int submit_response(struct kz_grpc_call *c)
{
    nghttp2_nv nv[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                       NV("x", c->meta_value)};
    nghttp2_data_provider prd = {.source.ptr = c, .read_callback = read_out};

    nv[2].name = (uint8_t *)c->meta_name;
    nv[2].namelen = strlen(c->meta_name);
    c->submitted = true;
    return nghttp2_submit_response(c->g->s, c->id, nv, c->meta_name[0] ? 3 : 2, &prd)
               ? KZ_ERR_CLOSED
               : KZ_OK;
}

/* Server role: end the call with trailers (Trailers-Only when nothing was sent). */
static int finish(struct kz_grpc_call *c, int status, const char *message)
{
    char msg[3 * MESSAGE_CAP], code[16];

    c->status = status;
    snprintf(c->message, sizeof(c->message), "%s", message ? message : "");
    c->out_eof = true;
    if (c->submitted) {
        resume(c);
        return KZ_OK;
    }
    c->submitted = true;
    snprintf(code, sizeof(code), "%d", status);
    pct_encode(c->message, msg, sizeof(msg));
    nghttp2_nv nv[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                       NV("grpc-status", code), NV("grpc-message", msg)};
    int rc = nghttp2_submit_response(c->g->s, c->id, nv, msg[0] ? 4 : 3, NULL);
    pump(c->g);
    return rc ? KZ_ERR_CLOSED : KZ_OK;
}

/* A received message broke the rules: end the call with `status`. */
static void fail_call(struct kz_grpc_call *c, int status, const char *why)
{
    struct kz_grpc *g = c->g;

    if (g->client) {
        report_end(c, status, why);
        nghttp2_submit_rst_stream(g->s, NGHTTP2_FLAG_NONE, c->id, NGHTTP2_CANCEL);
        return;
    }
    report_end(c, -1, why);
    if (!c->out_eof)
        finish(c, status, why);
}

/* ---- input ------------------------------------------------------------------- */

static struct kz_grpc_call *call_of(nghttp2_session *s, int32_t id)
{
    return nghttp2_session_get_stream_user_data(s, id);
}

/* Split the call's input into messages. */
static void deframe(struct kz_grpc_call *c)
{
    struct kz_grpc *g = c->g;
    size_t off = 0;

    while (!c->dead && c->in.len - off >= FRAME_HDR) {
        const uint8_t *p = (const uint8_t *)c->in.buf + off;
        size_t len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
        if (len > g->max_message)
            return fail_call(c, KZ_GRPC_RESOURCE_EXHAUSTED, "message larger than max_message");
        if (p[0] != 0)
            return fail_call(c, KZ_GRPC_INTERNAL, "compressed messages are not supported");
        if (c->in.len - off - FRAME_HDR < len)
            break;
        off += FRAME_HDR + len;
        if (g->cbs.on_message)
            g->cbs.on_message(g->ud, c, p + FRAME_HDR, len);
    }
    memmove(c->in.buf, c->in.buf + off, c->in.len - off);
    c->in.len -= off;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *ud)
{
    struct kz_grpc_call *c = call_of(s, id);

    KZ_UNUSED(flags);
    KZ_UNUSED(ud);
    if (!c || c->dead)
        return 0;
    kz_sbuf_add(&c->in, data, len);
    deframe(c);
    return 0;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    struct kz_grpc *g = ud;

    struct kz_grpc_call *old = call_of(s, f->hd.stream_id);

    if (old)
        old->hdr_bytes = 0;
    if (g->client || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct kz_grpc_call *c = call_new(g, f->hd.stream_id);
    nghttp2_session_set_stream_user_data(s, f->hd.stream_id, c);
    return 0;
}

static bool is(const uint8_t *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* grpc-status: 0..99 in decimal; anything else is the peer's error (INTERNAL). */
static int parse_status(const uint8_t *v, size_t len)
{
    int n = 0;

    if (len == 0 || len > 2)
        return KZ_GRPC_INTERNAL;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return KZ_GRPC_INTERNAL;
        n = n * 10 + (v[i] - '0');
    }
    return n;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    struct kz_grpc_call *c = call_of(s, f->hd.stream_id);
    struct kz_grpc *g = ud;

    KZ_UNUSED(flags);
    if (!c)
        return 0;
    c->hdr_bytes += nlen + vlen + 32;
    if (c->hdr_bytes > MAX_HEADER_LIST)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
    if (!g->client && is(name, nlen, ":path"))
        snprintf(c->path, sizeof(c->path), "%.*s", vlen < PATH_CAP ? (int)vlen : 0, value);
    else if (g->client && is(name, nlen, "grpc-status"))
        c->status = parse_status(value, vlen);
    else if (g->client && is(name, nlen, "grpc-message"))
        pct_decode(value, vlen, c->message, sizeof(c->message));
    else if (g->keep[0] && is(name, nlen, g->keep) && vlen < META_VALUE_CAP)
        snprintf(c->meta_in, sizeof(c->meta_in), "%.*s", (int)vlen, value);
    return 0;
}

/* The peer's END_STREAM on a call. */
static void peer_closed(struct kz_grpc *g, struct kz_grpc_call *c)
{
    if (c->dead)
        return;
    if (c->in.len)
        return fail_call(c, KZ_GRPC_INTERNAL, "stream ended inside a message");
    if (!g->client) {
        if (!c->done_user && g->cbs.on_end)
            g->cbs.on_end(g->ud, c, 0, NULL);
        return;
    }
    report_end(c, c->status >= 0 ? c->status : KZ_GRPC_INTERNAL,
               c->status >= 0 ? c->message : "no grpc-status");
    if (!nghttp2_session_get_stream_local_close(g->s, c->id))
        nghttp2_submit_rst_stream(g->s, NGHTTP2_FLAG_NONE, c->id, NGHTTP2_NO_ERROR);
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    struct kz_grpc *g = ud;
    struct kz_grpc_call *c = f->hd.stream_id ? call_of(s, f->hd.stream_id) : NULL;

    if (f->hd.type == NGHTTP2_GOAWAY) {
        g->peer_goaway = true;
        g->peer_goaway_code = f->goaway.error_code;
    }
    if (!c)
        return 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
        if (!g->cbs.on_call || g->cbs.on_call(g->ud, c, c->path) != KZ_OK) {
            c->dead = c->done_user = true;
            finish(c, KZ_GRPC_UNIMPLEMENTED, "unknown method");
        }
    }
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        peer_closed(g, c);
    return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    struct kz_grpc_call *c = call_of(s, id);

    KZ_UNUSED(ud);
    if (!c)
        return 0;
    report_end(c, -1, code == NGHTTP2_NO_ERROR ? "stream closed" : "stream reset");
    nghttp2_session_set_stream_user_data(s, id, NULL);
    call_free(c);
    return 0;
}

/* ---- the engine ----------------------------------------------------------------- */

static nghttp2_session *session_new(struct kz_grpc *g)
{
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    nghttp2_session *s = NULL;

    if (nghttp2_session_callbacks_new(&cb) || nghttp2_option_new(&opt))
        kz_oom("nghttp2", 0);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_option_set_max_send_header_block_length(opt, MAX_HEADER_LIST);
    int rc = g->client ? nghttp2_session_client_new2(&s, cb, g, opt)
                       : nghttp2_session_server_new2(&s, cb, g, opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    if (rc)
        kz_oom("nghttp2", 0);
    return s;
}

struct kz_grpc *kz_grpc_new(bool client, struct kz_transport *t, const struct kz_grpc_cbs *cbs,
                            void *ud, size_t max_message)
{
    struct kz_grpc *g = kz_xcalloc(1, sizeof(*g));
    nghttp2_settings_entry set[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST},
    };

    g->client = client;
    g->t = t;
    g->cbs = *cbs;
    g->ud = ud;
    g->max_message = max_message;
    snprintf(g->authority, sizeof(g->authority), "localhost");
    g->s = session_new(g);
    if (nghttp2_submit_settings(g->s, NGHTTP2_FLAG_NONE, set, 3) ||
        nghttp2_session_set_local_window_size(g->s, NGHTTP2_FLAG_NONE, 0, WINDOW))
        kz_oom("nghttp2", 0);
    pump(g);
    return g;
}

void kz_grpc_set_authority(struct kz_grpc *g, const char *authority)
{
    snprintf(g->authority, sizeof(g->authority), "%s", authority);
}

/* Free an engine whose user asked for it once no nghttp2 call is on the stack. */
static void settle_free(struct kz_grpc *g)
{
    g->settling = true;
    pump(g);
    g->settling = false;
    if (!g->writing)
        destroy(g);
}

int kz_grpc_feed(struct kz_grpc *g, const char *data, size_t len)
{
    if (g->broken)
        return KZ_ERR_PARSE;
    g->depth++;
    ssize_t n = nghttp2_session_mem_recv(g->s, (const uint8_t *)data, len);
    g->depth--;
    if (g->freeing) {
        settle_free(g);
        return KZ_ERR_CLOSED;
    }
    if (n < 0) {
        g->broken = true;
        return KZ_ERR_PARSE;
    }
    pump(g);
    if (nghttp2_session_want_read(g->s) || nghttp2_session_want_write(g->s))
        return KZ_OK;
    return g->peer_goaway && g->peer_goaway_code == NGHTTP2_NO_ERROR ? KZ_ERR_CLOSED : KZ_ERR_PARSE;
}

struct kz_grpc_call *kz_grpc_call_start(struct kz_grpc *g, const char *path, const char *hname,
                                        const char *hvalue)
{
    if (!g->client || g->freeing || g->broken)
        return NULL;
    struct kz_grpc_call *c = call_new(g, 0);
    nghttp2_nv nv[] = {NV(":method", "POST"),
                       NV(":scheme", "https"),
                       NV(":path", path),
                       NV(":authority", g->authority),
                       NV("content-type", "application/grpc"),
                       NV("te", "trailers"),
                       NV("x", hvalue ? hvalue : "")};
    nghttp2_data_provider prd = {.source.ptr = c, .read_callback = read_out};

    nv[6].name = (uint8_t *)(hname ? hname : "");
    nv[6].namelen = hname ? strlen(hname) : 0;
    c->id = nghttp2_submit_request(g->s, NULL, nv, hname && hvalue ? 7 : 6, &prd, c);
    if (c->id < 0) {
        call_free(c);
        return NULL;
    }
    snprintf(c->path, sizeof(c->path), "%s", path);
    pump(g);
    return c;
}

int kz_grpc_send(struct kz_grpc_call *c, const void *msg, size_t len)
{
    struct kz_grpc *g = c->g;
    uint8_t hdr[FRAME_HDR] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                              (uint8_t)len};

    if (c->dead || c->out_eof || g->broken || g->freeing || len > UINT32_MAX)
        return KZ_ERR_CLOSED;
    if (!g->client && !c->submitted && submit_response(c) != KZ_OK)
        return KZ_ERR_CLOSED;
    kz_sbuf_add(&c->out, hdr, sizeof(hdr));
    kz_sbuf_add(&c->out, msg, len);
    g->pending += sizeof(hdr) + len;
    resume(c);
    if (kz_grpc_queued(g) <= KZ_GRPC_HIGH_WATER)
        return KZ_OK;
    g->want_writable = true;
    return KZ_ERR_AGAIN;
}

int kz_grpc_half_close(struct kz_grpc_call *c)
{
    if (!c->g->client || c->out_eof || c->dead)
        return KZ_ERR_CLOSED;
    c->out_eof = true;
    resume(c);
    return KZ_OK;
}

int kz_grpc_finish(struct kz_grpc_call *c, int status, const char *message)
{
    if (c->g->client || c->out_eof || c->g->freeing)
        return KZ_ERR_CLOSED;
    c->done_user = true;
    return finish(c, status, message);
}

void kz_grpc_cancel(struct kz_grpc_call *c)
{
    struct kz_grpc *g = c->g;

    if (c->done_user)
        return;
    c->dead = true;
    nghttp2_submit_rst_stream(g->s, NGHTTP2_FLAG_NONE, c->id, NGHTTP2_CANCEL);
    pump(g);
}

void kz_grpc_notify_writable(struct kz_grpc *g)
{
    g->want_writable = true;
}

void kz_grpc_keep_header(struct kz_grpc *g, const char *name)
{
    snprintf(g->keep, sizeof(g->keep), "%s", name);
}

const char *kz_grpc_call_header(const struct kz_grpc_call *c)
{
    return c->meta_in[0] ? c->meta_in : NULL;
}

void kz_grpc_call_set_header(struct kz_grpc_call *c, const char *name, const char *value)
{
    snprintf(c->meta_name, sizeof(c->meta_name), "%s", name);
    snprintf(c->meta_value, sizeof(c->meta_value), "%s", value);
}

void *kz_grpc_call_data(struct kz_grpc_call *c)
{
    return c->data;
}

void kz_grpc_call_set_data(struct kz_grpc_call *c, void *p)
{
    c->data = p;
}

void kz_grpc_free(struct kz_grpc *g)
{
    if (!g || g->freeing)
        return;
    g->freeing = true;
    for (struct kz_grpc_call *c = g->calls; c; c = c->next)
        report_end(c, -1, "connection closed");
    nghttp2_session_terminate_session(g->s, NGHTTP2_NO_ERROR);
    if (!g->depth)
        settle_free(g);
}
