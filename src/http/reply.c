/*
 * reply.c - a whole HTTP/1.x response parsed by llhttp, for the command-line
 * clients (kizuna readiness, kizuna plan): the status and the body, framed
 * by Content-Length, chunked encoding or the end of the connection.  An
 * answer cut short of its framing is an error, never a short body.
 */
#include <stdio.h>
#include <string.h>

#include "http/internal.h"

struct reply_parse {
    llhttp_t p;
    struct kz_http_reply *out;
    size_t max_body;
    bool complete;
    const char *refused; /* why a callback stopped the parser */
};

static int on_headers_complete(llhttp_t *p)
{
    struct reply_parse *rp = p->data;
    int status = (int)llhttp_get_status_code(p);

    if (status < 100 || status > 999) {
        rp->refused = "not an HTTP status";
        return HPE_USER;
    }
    rp->out->status = status;
    return HPE_OK;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct reply_parse *rp = p->data;

    if (rp->out->body.len + len > rp->max_body) {
        rp->refused = "answer body too large";
        return HPE_USER;
    }
    kz_sbuf_add(&rp->out->body, at, len);
    return HPE_OK;
}

static int on_message_complete(llhttp_t *p)
{
    struct reply_parse *rp = p->data;

    rp->complete = true;
    return HPE_PAUSED; /* one answer per connection: what follows is not read */
}

int kz_http_reply_parse(const char *buf, size_t len, size_t max_body, struct kz_http_reply *out,
                        char *err, size_t errlen)
{
    llhttp_settings_t settings;
    struct reply_parse rp = {.out = out, .max_body = max_body};
    llhttp_errno_t e;

    memset(out, 0, sizeof(*out));
    llhttp_settings_init(&settings);
    settings.on_headers_complete = on_headers_complete;
    settings.on_body = on_body;
    settings.on_message_complete = on_message_complete;
    llhttp_init(&rp.p, HTTP_RESPONSE, &settings);
    rp.p.data = &rp;
    e = llhttp_execute(&rp.p, buf, len);
    if (e == HPE_OK && !rp.complete)
        e = llhttp_finish(&rp.p); /* a body that ends with the connection */
    if ((e == HPE_OK || e == HPE_PAUSED) && rp.complete)
        return KZ_OK;
    if (rp.refused)
        snprintf(err, errlen, "%s", rp.refused);
    else if (e == HPE_OK || e == HPE_PAUSED || e == HPE_INVALID_EOF_STATE)
        snprintf(err, errlen, "the answer is cut short");
    else
        snprintf(err, errlen, "%s", llhttp_get_error_reason(&rp.p));
    kz_sbuf_release(&out->body);
    out->status = 0;
    return KZ_ERR_PARSE;
}

void kz_http_reply_release(struct kz_http_reply *r)
{
    kz_sbuf_release(&r->body);
}
