/*
 * base64.c - standard base64 (RFC 4648 section 4, padded), both ways.
 * The decoder takes untrusted input: no whitespace, padding required.
 */
#include <string.h>

#include "core/core.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void kz_base64_append(struct kz_sbuf *out, const unsigned char *data, size_t len)
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

int kz_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *n)
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
