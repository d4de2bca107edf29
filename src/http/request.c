/*
 * request.c - request-target and query-string decoding, and the request
 * object's accessors for handlers.  No I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"

/* ---- percent-decoding ----------------------------------------------------- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int kz__http_percent_decode(char *dst, const char *src, size_t len, bool plus_is_space,
                            size_t *out_len)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        char ch = src[i];
        if (ch == '%') {
            int hi = i + 2 < len ? hexval(src[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(src[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                goto bad;
            dst[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (ch == '+' && plus_is_space) {
            dst[o++] = ' ';
        } else if (ch == '\0') {
            goto bad;
        } else {
            dst[o++] = ch;
        }
    }
    dst[o] = '\0';
    if (out_len)
        *out_len = o;
    return KZ_OK;
bad:
    dst[o] = '\0'; /* never leave an unterminated string behind */
    return KZ_ERR_PARSE;
}

/* *out is set only on success: a bad escape leaves no half-decoded string. */
static int decode_into(struct kz_arena *a, const char *s, size_t len, bool plus, const char **out)
{
    char *p = kz_arena_alloc(a, len + 1);
    int rc = kz__http_percent_decode(p, s, len, plus, NULL);
    if (rc == KZ_OK)
        *out = p;
    return rc;
}

/* ---- request target ------------------------------------------------------- */

/* "http://host[:port]/p?q" -> "/p?q"; "http://host" -> "" (path "/"). */
static int strip_absolute(const char **url, size_t *len)
{
    const char *s = *url, *end = s + *len;
    const char *sep = NULL;

    for (const char *p = s; p + 2 < end; p++) {
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            sep = p + 3;
            break;
        }
        if (p[0] == '/' || p[0] == '?')
            break;
    }
    if (!sep)
        return KZ_ERR_PARSE;
    const char *path = sep;
    while (path < end && *path != '/' && *path != '?')
        path++;
    *url = path;
    *len = (size_t)(end - path);
    return KZ_OK;
}

static int parse_query(struct kz_arena *a, const char *q, size_t len, struct kz__http_target *t)
{
    const char *end = q + len;
    unsigned n = 0;

    t->params = kz_arena_alloc(a, KZ__HTTP_MAX_PARAMS * sizeof(*t->params));
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        if (stop > q) {
            if (n == KZ__HTTP_MAX_PARAMS)
                return KZ_ERR_TOOBIG;
            const char *eq = memchr(q, '=', (size_t)(stop - q));
            const char *name_end = eq ? eq : stop;
            const char *val = eq ? eq + 1 : stop;
            struct kz__http_param *p = &t->params[n++];
            if (decode_into(a, q, (size_t)(name_end - q), true, &p->name) != KZ_OK ||
                decode_into(a, val, (size_t)(stop - val), true, &p->value) != KZ_OK)
                return KZ_ERR_PARSE;
        }
        q = stop + (amp ? 1 : 0);
    }
    t->n_params = n;
    return KZ_OK;
}

int kz__http_parse_target(struct kz_arena *a, const char *url, size_t len,
                          struct kz__http_target *out)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return KZ_ERR_PARSE;
    if (url[0] != '/' && strip_absolute(&url, &len) != KZ_OK)
        return KZ_ERR_PARSE;

    const char *hash = memchr(url, '#', len);
    if (hash)
        len = (size_t)(hash - url);
    const char *qm = memchr(url, '?', len);
    size_t plen = qm ? (size_t)(qm - url) : len;
    if (plen == 0) {
        out->path = "/";
    } else if (decode_into(a, url, plen, false, &out->path) != KZ_OK) {
        return KZ_ERR_PARSE;
    }
    if (!qm)
        return KZ_OK;
    return parse_query(a, qm + 1, len - plen - 1, out);
}

const char *kz__http_param(const struct kz__http_target *t, const char *name)
{
    for (unsigned i = 0; i < t->n_params; i++) {
        if (strcmp(t->params[i].name, name) == 0)
            return t->params[i].value;
    }
    return NULL;
}

/* ---- the request object ---------------------------------------------------- */

void kz__http_req_free(struct kz_http_req *req)
{
    if (!req)
        return;
    kz_arena_release(&req->arena);
    kz_sbuf_release(&req->body);
    free(req);
}

const char *kz__http_req_header(const struct kz_http_req *req, const char *name)
{
    for (unsigned i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

const char *kz_http_method(const struct kz_http_req *req)
{
    return llhttp_method_name((llhttp_method_t)req->method);
}

const char *kz_http_path(const struct kz_http_req *req)
{
    return req->target.path;
}

const char *kz_http_param(const struct kz_http_req *req, const char *name)
{
    return kz__http_param(&req->target, name);
}

const char *kz_http_param_nth(const struct kz_http_req *req, const char *name, unsigned n)
{
    for (unsigned i = 0; i < req->target.n_params; i++) {
        if (strcmp(req->target.params[i].name, name) == 0 && n-- == 0)
            return req->target.params[i].value;
    }
    return NULL;
}

const char *kz_http_param_unknown(const struct kz_http_req *req, const char *const *known)
{
    for (unsigned i = 0; i < req->target.n_params; i++) {
        const char *name = req->target.params[i].name;
        const char *const *k = known;
        while (*k && strcmp(*k, name) != 0)
            k++;
        if (!*k)
            return name;
    }
    return NULL;
}

const char *kz_http_path_param(const struct kz_http_req *req, const char *name)
{
    for (unsigned i = 0; i < req->n_path_params; i++) {
        if (strcmp(req->path_params[i].name, name) == 0)
            return req->path_params[i].value;
    }
    return NULL;
}

const char *kz_http_header(const struct kz_http_req *req, const char *name)
{
    return kz__http_req_header(req, name);
}

const char *kz_http_body(const struct kz_http_req *req, size_t *len)
{
    *len = req->body.len;
    return req->body.buf ? req->body.buf : "";
}

void *kz_http_alloc(struct kz_http_req *req, size_t n)
{
    return kz_arena_alloc(&req->arena, n);
}
