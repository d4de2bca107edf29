/*
 * request.c - the per-request arena, request-target and query-string
 * decoding, and the GET /api/v1/events parameters.  No I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

/* ---- arena ---------------------------------------------------------------- */

#define ARENA_CHUNK 4096
#define ARENA_ALIGN 16

struct kz__arena_chunk {
    struct kz__arena_chunk *next;
    size_t used, cap;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void *kz__arena_alloc(struct kz__arena *a, size_t n)
{
    struct kz__arena_chunk *c = a->head;

    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = kz_xmalloc(sizeof(*c) + cap);
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *kz__arena_strndup(struct kz__arena *a, const char *s, size_t n)
{
    char *p = kz__arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void kz__arena_release(struct kz__arena *a)
{
    while (a->head) {
        struct kz__arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

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
            if (i + 2 >= len)
                return KZ_ERR_PARSE;
            int hi = hexval(src[i + 1]);
            int lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return KZ_ERR_PARSE;
            dst[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (ch == '+' && plus_is_space) {
            dst[o++] = ' ';
        } else if (ch == '\0') {
            return KZ_ERR_PARSE;
        } else {
            dst[o++] = ch;
        }
    }
    dst[o] = '\0';
    if (out_len)
        *out_len = o;
    return KZ_OK;
}

static int decode_into(struct kz__arena *a, const char *s, size_t len, bool plus, const char **out)
{
    char *p = kz__arena_alloc(a, len + 1);
    int rc = kz__http_percent_decode(p, s, len, plus, NULL);
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

static int parse_query(struct kz__arena *a, const char *q, size_t len, struct kz__http_target *t)
{
    const char *end = q + len;
    unsigned n = 0;

    t->params = kz__arena_alloc(a, KZ__HTTP_MAX_PARAMS * sizeof(*t->params));
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

int kz__http_parse_target(struct kz__arena *a, const char *url, size_t len,
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

/* ---- GET /api/v1/events parameters ---------------------------------------- */

#define EVENTS_LIMIT_DEFAULT 100
#define EVENTS_LIMIT_MAX 10000

static int parse_limit(const char *s, unsigned *out)
{
    unsigned long v = 0;

    if (!*s)
        return KZ_ERR_INVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return KZ_ERR_INVAL;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > EVENTS_LIMIT_MAX)
            return KZ_ERR_INVAL;
    }
    if (v == 0)
        return KZ_ERR_INVAL;
    *out = (unsigned)v;
    return KZ_OK;
}

static int parse_time_param(const struct kz__http_target *t, const char *name, int64_t *out,
                            char *errbuf, size_t errlen)
{
    const char *s = kz__http_param(t, name);

    *out = 0;
    if (!s)
        return KZ_OK;
    if (kz_time_parse(s, strlen(s), out) != KZ_OK || *out <= 0) {
        snprintf(errbuf, errlen, "%s: expected an ISO 8601 UTC time", name);
        return KZ_ERR_INVAL;
    }
    return KZ_OK;
}

static int nonempty_param(const struct kz__http_target *t, const char *name, const char **out,
                          char *errbuf, size_t errlen)
{
    const char *s = kz__http_param(t, name);

    *out = NULL;
    if (!s)
        return KZ_OK;
    if (!*s || strlen(s) > 1024) {
        snprintf(errbuf, errlen, "%s: must be 1 to 1024 bytes", name);
        return KZ_ERR_INVAL;
    }
    *out = s;
    return KZ_OK;
}

int kz__http_events_query(const struct kz__http_target *t, struct kz_store_query *q, char *errbuf,
                          size_t errlen)
{
    const char *limit = kz__http_param(t, "limit");

    memset(q, 0, sizeof(*q));
    q->limit = EVENTS_LIMIT_DEFAULT;
    if (nonempty_param(t, "uid", &q->uid, errbuf, errlen) != KZ_OK ||
        nonempty_param(t, "type", &q->type, errbuf, errlen) != KZ_OK ||
        parse_time_param(t, "since", &q->since_us, errbuf, errlen) != KZ_OK ||
        parse_time_param(t, "until", &q->until_us, errbuf, errlen) != KZ_OK)
        return KZ_ERR_INVAL;
    if (limit && parse_limit(limit, &q->limit) != KZ_OK) {
        snprintf(errbuf, errlen, "limit: expected an integer from 1 to %d", EVENTS_LIMIT_MAX);
        return KZ_ERR_INVAL;
    }
    if (q->since_us && q->until_us && q->since_us > q->until_us) {
        snprintf(errbuf, errlen, "since: must not be after until");
        return KZ_ERR_INVAL;
    }
    return KZ_OK;
}
