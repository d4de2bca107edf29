/*
 * response.c - building responses: status lines, headers, Content-Length,
 * and JSON string escaping.  No I/O (server.c queues what is built here).
 */
#include <stdio.h>
#include <string.h>

#include "http/internal.h"

static const struct {
    int status;
    const char *reason;
} reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {400, "Bad Request"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {503, "Service Unavailable"},
};

const char *kz__http_reason(int status)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(reasons); i++) {
        if (reasons[i].status == status)
            return reasons[i].reason;
    }
    return "Unknown";
}

void kz__http_format(struct kz_sbuf *out, int status, const char *ctype, const char *extra,
                     bool keep_alive, const void *body, size_t len)
{
    kz_sbuf_addf(out, "HTTP/1.1 %d %s\r\n", status, kz__http_reason(status));
    if (ctype)
        kz_sbuf_addf(out, "Content-Type: %s\r\n", ctype);
    if (extra)
        kz_sbuf_adds(out, extra);
    kz_sbuf_addf(out, "Content-Length: %zu\r\nConnection: %s\r\n\r\n", len,
                 keep_alive ? "keep-alive" : "close");
    if (len)
        kz_sbuf_add(out, body, len);
}

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    uint32_t cp;

    if (s[0] < 0xc2 || s[0] > 0xf4)
        return 0;
    need = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    if (n < need)
        return 0;
    cp = s[0] & (0x7f >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

void kz__json_str(struct kz_sbuf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    kz_sbuf_add(out, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = u[i];
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            kz_sbuf_add(out, esc, 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            kz_sbuf_addf(out, "\\u%04x", ch);
        } else if (ch < 0x80) {
            kz_sbuf_add(out, &s[i], 1);
        } else {
            size_t n = utf8_len(u + i, len - i);
            if (n == 0) {
                kz_sbuf_adds(out, "\\ufffd");
                continue;
            }
            kz_sbuf_add(out, &s[i], n);
            i += n - 1;
        }
    }
    kz_sbuf_add(out, "\"", 1);
}
