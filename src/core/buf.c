/* buf.c - growable strings and refcounted immutable buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

void kz_sbuf_grow(struct kz_sbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    sb->buf = kz_xrealloc(sb->buf, cap);
    sb->cap = cap;
}

void kz_sbuf_add(struct kz_sbuf *sb, const void *data, size_t len)
{
    kz_sbuf_grow(sb, len);
    memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void kz_sbuf_adds(struct kz_sbuf *sb, const char *s)
{
    kz_sbuf_add(sb, s, strlen(s));
}

void kz_sbuf_addf(struct kz_sbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    kz_sbuf_grow(sb, 64);
    va_start(ap, fmt);
    n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    KZ_ASSERT(n >= 0);
    if ((size_t)n >= sb->cap - sb->len) {
        kz_sbuf_grow(sb, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
    }
    sb->len += (size_t)n;
}

void kz_sbuf_add_xml(struct kz_sbuf *sb, const char *s, size_t len)
{
    size_t run = 0;

    kz_sbuf_grow(sb, len);
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            continue;
        }
        kz_sbuf_add(sb, s + run, i - run);
        kz_sbuf_adds(sb, rep);
        run = i + 1;
    }
    kz_sbuf_add(sb, s + run, len - run);
}

void kz_sbuf_reset(struct kz_sbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

void kz_sbuf_release(struct kz_sbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
}

char *kz_sbuf_detach(struct kz_sbuf *sb, size_t *len)
{
    char *p = sb->buf ? sb->buf : kz_xstrdup("");
    if (len)
        *len = sb->len;
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    return p;
}

struct kz_rbuf *kz_rbuf_new(const void *data, size_t len)
{
    KZ_ASSERT(len <= UINT32_MAX);
    struct kz_rbuf *b = kz_xmalloc(sizeof(*b) + len);
    b->refs = 1;
    b->len = (uint32_t)len;
    if (len)
        memcpy(b->data, data, len);
    return b;
}

struct kz_rbuf *kz_rbuf_from_sbuf(struct kz_sbuf *sb)
{
    struct kz_rbuf *b = kz_rbuf_new(sb->buf, sb->len);
    kz_sbuf_reset(sb);
    return b;
}

void kz_rbuf_unref(struct kz_rbuf *b)
{
    if (b && --b->refs == 0)
        free(b);
}
