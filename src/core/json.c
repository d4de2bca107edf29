/*
 * json.c - the one JSON string escaper and the UTF-8 decoder it shares with
 * the CoT XML writer.
 *
 * Written by hand rather than through jansson: one pass, no allocation per
 * string, and input that is not valid UTF-8 (an event built by other code, a
 * file name from disk) still gives valid JSON, with U+FFFD in its place.
 */
#include <stdio.h>

#include "core/core.h"

size_t kz_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t len;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, c &= 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, c &= 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* Printable ASCII other than '"' and '\\' is copied as it is. */
static bool plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/*
 * Escapes are written in the \u00XX form for every control byte (DEL
 * included), so one rule covers them all and the output is 7-bit safe
 * wherever the input was.  Valid multi-byte sequences are copied: JSON is
 * UTF-8 (RFC 8259 section 8.1).
 */
void kz_json_escape(struct kz_sbuf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;

    kz_sbuf_grow(out, len + 2);
    kz_sbuf_add(out, "\"", 1);
    while (i < len) {
        uint32_t c = p[i];
        size_t n = 1;
        char esc[8];

        if (plain(p[i])) {
            i++;
            continue;
        }
        if (c >= 0x80 && (n = kz_utf8_seq(p + i, len - i, &c)) != 0) {
            i += n;
            continue;
        }
        kz_sbuf_add(out, s + run, i - run);
        if (c >= 0x80)
            kz_sbuf_add(out, "\\ufffd", 6);
        else if (c == '"' || c == '\\')
            kz_sbuf_add(out, (char[]){'\\', (char)c}, 2);
        else
            kz_sbuf_add(out, esc, (size_t)snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)c));
        run = ++i;
    }
    kz_sbuf_add(out, s + run, len - run);
    kz_sbuf_add(out, "\"", 1);
}
