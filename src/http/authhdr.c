/*
 * authhdr.c - pure helpers for request headers: HTTP Basic credentials
 * and Accept negotiation (JSON or XML).
 * Everything here is untrusted input; nothing allocates except the sbuf.
 */
#include <string.h>
#include <strings.h>

#include "http/internal.h"

static bool has_control(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

int kz_http_basic_auth(const char *value, char user[KZ_HTTP_MAX_USER + 1],
                       char pass[KZ_HTTP_MAX_PASSWORD + 1])
{
    unsigned char raw[KZ_HTTP_MAX_USER + 1 + KZ_HTTP_MAX_PASSWORD];
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
    int rc = kz_base64_decode(value, len, raw, sizeof(raw), &n);
    if (rc != KZ_OK)
        return rc;
    const unsigned char *colon = memchr(raw, ':', n);
    if (!colon || colon == raw || has_control(raw, n))
        return KZ_ERR_PARSE;
    size_t ulen = (size_t)(colon - raw), plen = n - ulen - 1;
    if (ulen > KZ_HTTP_MAX_USER || plen > KZ_HTTP_MAX_PASSWORD)
        return KZ_ERR_TOOBIG;
    memcpy(user, raw, ulen);
    user[ulen] = '\0';
    memcpy(pass, colon + 1, plen);
    pass[plen] = '\0';
    return KZ_OK;
}

/* One media range "type/sub;params": its format, or NONE; q=0 refuses it. */
static enum kz_http_fmt range_fmt(const char *s, size_t n)
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
                return KZ_HTTP_FMT_NONE;
        }
    }
#define IS(lit) (tlen == sizeof(lit) - 1 && strncasecmp(s, lit, tlen) == 0)
    if (IS("*/*") || IS("application/*") || IS("application/json"))
        return KZ_HTTP_FMT_JSON;
    if (IS("application/xml") || IS("text/xml"))
        return KZ_HTTP_FMT_XML;
#undef IS
    return KZ_HTTP_FMT_NONE;
}

enum kz_http_fmt kz_http_accept_fmt(const char *accept)
{
    const char *p = accept;

    if (!accept || strspn(accept, " \t") == strlen(accept))
        return KZ_HTTP_FMT_JSON;
    while (*p) {
        size_t n = strcspn(p, ",");
        enum kz_http_fmt f = range_fmt(p, n);
        if (f != KZ_HTTP_FMT_NONE)
            return f;
        p += n;
        if (*p == ',')
            p++;
    }
    return KZ_HTTP_FMT_NONE;
}
