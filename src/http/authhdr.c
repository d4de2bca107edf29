/*
 * authhdr.c - pure helpers for request headers the enrollment and Marti
 * endpoints read: HTTP Basic credentials, Accept negotiation, base64.
 * Everything here is untrusted input; nothing allocates except the sbuf.
 */
#include <string.h>
#include <strings.h>

#include "http/internal.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void kz__base64_append(struct kz_sbuf *out, const unsigned char *data, size_t len)
{
    char quad[4];

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        size_t left = len - i;
        if (left > 1)
            v |= (uint32_t)data[i + 1] << 8;
        if (left > 2)
            v |= data[i + 2];
        quad[0] = b64[(v >> 18) & 63];
        quad[1] = b64[(v >> 12) & 63];
        quad[2] = left > 1 ? b64[(v >> 6) & 63] : '=';
        quad[3] = left > 2 ? b64[v & 63] : '=';
        kz_sbuf_add(out, quad, 4);
    }
}

static int b64_value(char ch)
{
    const char *p = ch ? strchr(b64, ch) : NULL;
    return p ? (int)(p - b64) : -1;
}

int kz__base64_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *n)
{
    size_t o = 0;

    *n = 0;
    if (len % 4 != 0)
        return KZ_ERR_PARSE;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            bool last = i + 4 == len;
            if (in[i + (size_t)k] == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad || (v[k] = b64_value(in[i + (size_t)k])) < 0)
                return KZ_ERR_PARSE;
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t take = 3 - (size_t)pad;
        if (o + take > cap)
            return KZ_ERR_TOOBIG;
        for (size_t k = 0; k < take; k++)
            out[o++] = (unsigned char)(w >> (16 - 8 * k));
    }
    *n = o;
    return KZ_OK;
}

static bool has_control(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

int kz__http_basic_auth(const char *value, char user[KZ__HTTP_MAX_USER + 1],
                        char pass[KZ__HTTP_MAX_PASSWORD + 1])
{
    unsigned char raw[KZ__HTTP_MAX_USER + 1 + KZ__HTTP_MAX_PASSWORD];
    size_t n, len;

    user[0] = pass[0] = '\0';
    if (!value)
        return KZ_ERR_NOTFOUND;
    while (*value == ' ' || *value == '\t')
        value++;
    if (strncasecmp(value, "Basic", 5) != 0 || (value[5] != ' ' && value[5] != '\t'))
        return KZ_ERR_NOTFOUND;
    value += 6;
    while (*value == ' ' || *value == '\t')
        value++;
    len = strlen(value);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    int rc = kz__base64_decode(value, len, raw, sizeof(raw), &n);
    if (rc != KZ_OK)
        return rc;
    const unsigned char *colon = memchr(raw, ':', n);
    if (!colon || colon == raw || has_control(raw, n))
        return KZ_ERR_PARSE;
    size_t ulen = (size_t)(colon - raw), plen = n - ulen - 1;
    if (ulen > KZ__HTTP_MAX_USER || plen > KZ__HTTP_MAX_PASSWORD)
        return KZ_ERR_TOOBIG;
    memcpy(user, raw, ulen);
    user[ulen] = '\0';
    memcpy(pass, colon + 1, plen);
    pass[plen] = '\0';
    return KZ_OK;
}

/* One media range "type/sub;params": its format, or NONE; q=0 refuses it. */
static enum kz__http_fmt range_fmt(const char *s, size_t n)
{
    size_t tlen = 0;

    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (tlen < n && s[tlen] != ';' && s[tlen] != ' ' && s[tlen] != '\t')
        tlen++;
    for (size_t i = tlen; i + 1 < n; i++) {
        if ((s[i] == 'q' || s[i] == 'Q') && s[i + 1] == '=') {
            size_t j = i + 2;
            while (j < n && (s[j] == '0' || s[j] == '.'))
                j++;
            if (j == n || s[j] == ';' || s[j] == ' ')
                return KZ__HTTP_FMT_NONE;
        }
    }
#define IS(lit) (tlen == sizeof(lit) - 1 && strncasecmp(s, lit, tlen) == 0)
    if (IS("*/*") || IS("application/*") || IS("application/json"))
        return KZ__HTTP_FMT_JSON;
    if (IS("application/xml") || IS("text/xml"))
        return KZ__HTTP_FMT_XML;
#undef IS
    return KZ__HTTP_FMT_NONE;
}

enum kz__http_fmt kz__http_accept_fmt(const char *accept)
{
    const char *p = accept;

    if (!accept || strspn(accept, " \t") == strlen(accept))
        return KZ__HTTP_FMT_JSON;
    while (*p) {
        size_t n = strcspn(p, ",");
        enum kz__http_fmt f = range_fmt(p, n);
        if (f != KZ__HTTP_FMT_NONE)
            return f;
        p += n;
        if (*p == ',')
            p++;
    }
    return KZ__HTTP_FMT_NONE;
}
