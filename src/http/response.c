/*
 * response.c - building responses: status lines, headers and framing
 * (Content-Length, or what a streamed body uses).  No I/O (server.c queues what is built here).
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
    {304, "Not Modified"},
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

void kz__http_format_head(struct kz_sbuf *out, int status, const char *ctype, const char *extra,
                          bool keep_alive, const char *framing)
{
    kz_sbuf_addf(out, "HTTP/1.1 %d %s\r\n", status, kz__http_reason(status));
    if (ctype)
        kz_sbuf_addf(out, "Content-Type: %s\r\n", ctype);
    if (extra)
        kz_sbuf_adds(out, extra);
    kz_sbuf_addf(out, "%sConnection: %s\r\n\r\n", framing, keep_alive ? "keep-alive" : "close");
}

void kz__http_format(struct kz_sbuf *out, int status, const char *ctype, const char *extra,
                     bool keep_alive, const void *body, size_t len)
{
    char framing[48];

    /* 204 and 304 have no content, and a 304's length would be the 200's (RFC 9110 8.6). */
    if (status == 204 || status == 304)
        framing[0] = '\0';
    else
        snprintf(framing, sizeof(framing), "Content-Length: %zu\r\n", len);
    kz__http_format_head(out, status, ctype, extra, keep_alive, framing);
    if (len)
        kz_sbuf_add(out, body, len);
}
