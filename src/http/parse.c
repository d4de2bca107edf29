/*
 * parse.c - llhttp driven into struct kz_http_req, with every limit a peer
 * could push against: header bytes and count (431), body size (413), request
 * target and framing errors (400).  No I/O: the connection feeds bytes in.
 *
 * The parser pauses at the end of each request (on_message_complete returns
 * HPE_PAUSED) so pipelined requests are answered one at a time, in order.
 * A request whose body is streamed (stream_body() says so at its headers)
 * pauses three more ways: at its headers, when on_data() asks for a pause,
 * and at its end; the connection goes on with kz__http_parser_go_on().
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"

static struct kz__http_parser *parser_of(llhttp_t *p)
{
    return p->data;
}

static int refuse(struct kz__http_parser *hp, int status, const char *reason)
{
    hp->error_status = status;
    hp->error_reason = reason;
    llhttp_set_error_reason(&hp->p, reason);
    return HPE_USER;
}

static int add_span(struct kz__http_parser *hp, struct kz_sbuf *sb, const char *at, size_t len)
{
    hp->header_bytes += len;
    if (hp->header_bytes > hp->lim.max_header_bytes)
        return refuse(hp, 431, "request header fields too large");
    kz_sbuf_add(sb, at, len);
    return HPE_OK;
}

static int on_message_begin(llhttp_t *p)
{
    struct kz__http_parser *hp = parser_of(p);

    hp->in_message = true;
    hp->req->start_us = kz_mono_us();
    return HPE_OK;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct kz__http_parser *hp = parser_of(p);
    return add_span(hp, &hp->url, at, len);
}

static int on_url_complete(llhttp_t *p)
{
    struct kz__http_parser *hp = parser_of(p);
    int rc = kz__http_parse_target(&hp->req->arena, hp->url.buf ? hp->url.buf : "", hp->url.len,
                                   &hp->req->target);

    hp->req->method = p->method;
    if (rc == KZ_ERR_TOOBIG)
        return refuse(hp, 400, "too many query parameters");
    if (rc != KZ_OK)
        return refuse(hp, 400, "bad request target");
    return HPE_OK;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct kz__http_parser *hp = parser_of(p);
    return add_span(hp, &hp->field, at, len);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct kz__http_parser *hp = parser_of(p);
    return add_span(hp, &hp->value, at, len);
}

static int on_header_value_complete(llhttp_t *p)
{
    struct kz__http_parser *hp = parser_of(p);
    struct kz_http_req *req = hp->req;

    if (req->n_headers == hp->lim.max_headers)
        return refuse(hp, 431, "too many header fields");
    if (!req->headers)
        req->headers = kz_arena_alloc(&req->arena, hp->lim.max_headers * sizeof(*req->headers));
    /* Trailing optional whitespace is not part of the value (RFC 9110 5.5). */
    while (hp->value.len &&
           (hp->value.buf[hp->value.len - 1] == ' ' || hp->value.buf[hp->value.len - 1] == '\t'))
        hp->value.len--;
    struct kz__http_header *h = &req->headers[req->n_headers++];
    h->name = kz_arena_strndup(&req->arena, hp->field.buf ? hp->field.buf : "", hp->field.len);
    h->value = kz_arena_strndup(&req->arena, hp->value.buf ? hp->value.buf : "", hp->value.len);
    kz_sbuf_reset(&hp->field);
    kz_sbuf_reset(&hp->value);
    return HPE_OK;
}

static int on_headers_complete(llhttp_t *p)
{
    struct kz__http_parser *hp = parser_of(p);
    const char *expect = kz__http_req_header(hp->req, "Expect");

    hp->headers_done = true;
    hp->req->method = p->method;
    hp->req->keep_alive = llhttp_should_keep_alive(p) && !p->upgrade;
    hp->req->http10 = p->http_major == 1 && p->http_minor == 0;
    if (expect && strcasecmp(expect, "100-continue") == 0)
        hp->req->expect_continue = true;
    if (hp->stream_body && hp->stream_body(hp->ud, hp->req)) {
        /* Its own limit applies (the sink's); 100 Continue once a sink takes it. */
        hp->streaming = true;
        hp->head_ready = true;
        return HPE_PAUSED;
    }
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > hp->lim.max_body) {
        refuse(hp, 413, "request body too large");
        return -1;
    }
    if (hp->req->expect_continue && hp->on_continue)
        hp->on_continue(hp->ud);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct kz__http_parser *hp = parser_of(p);

    if (hp->streaming) {
        if (hp->on_data(hp->ud, at, len) == KZ_OK)
            return HPE_OK;
        hp->data_paused = true;
        return HPE_PAUSED;
    }
    if (hp->req->body.len + len > hp->lim.max_body)
        return refuse(hp, 413, "request body too large");
    kz_sbuf_add(&hp->req->body, at, len);
    return HPE_OK;
}

static int on_message_complete(llhttp_t *p)
{
    struct kz__http_parser *hp = parser_of(p);

    if (hp->streaming) {
        /* The streamed request was taken at its headers: hp->req is the next one. */
        hp->streaming = false;
        hp->in_message = false;
        hp->body_done = true;
        return HPE_PAUSED;
    }
    hp->req->method = p->method;
    hp->req->keep_alive = llhttp_should_keep_alive(p) && !p->upgrade;
    hp->req->http10 = p->http_major == 1 && p->http_minor == 0;
    hp->in_message = false;
    hp->ready = true;
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void kz__http_parser_init(struct kz__http_parser *hp, const struct kz__http_limits *lim)
{
    memset(hp, 0, sizeof(*hp));
    hp->lim = *lim;
    if (hp->lim.max_headers == 0)
        hp->lim.max_headers = 1;
    hp->req = kz_xcalloc(1, sizeof(*hp->req));
    llhttp_init(&hp->p, HTTP_REQUEST, &settings);
    hp->p.data = hp;
}

static void reset_spans(struct kz__http_parser *hp)
{
    kz_sbuf_reset(&hp->url);
    kz_sbuf_reset(&hp->field);
    kz_sbuf_reset(&hp->value);
    hp->header_bytes = 0;
    hp->headers_done = false;
    hp->ready = false;
    if (llhttp_get_errno(&hp->p) == HPE_PAUSED)
        llhttp_resume(&hp->p);
}

void kz__http_parser_release(struct kz__http_parser *hp)
{
    kz__http_req_free(hp->req);
    hp->req = NULL;
    kz_sbuf_release(&hp->url);
    kz_sbuf_release(&hp->field);
    kz_sbuf_release(&hp->value);
}

struct kz_http_req *kz__http_parser_take(struct kz__http_parser *hp)
{
    struct kz_http_req *req = hp->req;

    hp->req = kz_xcalloc(1, sizeof(*hp->req));
    reset_spans(hp);
    return req;
}

void kz__http_parser_go_on(struct kz__http_parser *hp)
{
    hp->head_ready = hp->body_done = hp->data_paused = false;
    if (llhttp_get_errno(&hp->p) == HPE_PAUSED)
        llhttp_resume(&hp->p);
}

void kz__http_parser_next(struct kz__http_parser *hp)
{
    kz__http_req_free(kz__http_parser_take(hp));
}

int kz__http_parser_feed(struct kz__http_parser *hp, const char *data, size_t len, size_t *used)
{
    KZ_ASSERT(!hp->ready);
    if (!data)
        data = ""; /* a streamed body may end without input */
    llhttp_errno_t e = llhttp_execute(&hp->p, data, len);
    const char *pos = llhttp_get_error_pos(&hp->p);

    *used = len;
    if (e == HPE_OK)
        return KZ_OK;
    if (pos >= data && pos <= data + len)
        *used = (size_t)(pos - data);
    if (e == HPE_PAUSED && (hp->ready || hp->head_ready || hp->body_done || hp->data_paused))
        return KZ_OK;
    if (!hp->error_status) {
        hp->error_status = 400;
        hp->error_reason = "malformed request";
    }
    return KZ_ERR_PARSE;
}
