/*
 * takframe.c - TAK protocol streaming frame headers (see cot.h).
 * Every length comes from the peer: bounded before anything is allocated.
 */
#include "cot/internal.h"

int kz_takp_header(const unsigned char *p, size_t n, size_t max, size_t *hdr_len,
                   size_t *payload_len)
{
    uint64_t v = 0;

    if (n == 0)
        return KZ_ERR_AGAIN;
    if (p[0] != KZ_TAKP_MAGIC)
        return KZ_ERR_PARSE;
    for (size_t i = 1; i <= KZ_TAKP_VARINT_MAX; i++) {
        if (i >= n)
            return KZ_ERR_AGAIN;
        unsigned shift = 7u * (unsigned)(i - 1);
        uint64_t bits = p[i] & 0x7f;
        /* The tenth byte may carry only the top bit of a 64-bit value. */
        if (shift == 63 && bits > 1)
            return KZ_ERR_PARSE;
        v |= bits << shift;
        if (!(p[i] & 0x80)) {
            if (v > max)
                return KZ_ERR_TOOBIG;
            *hdr_len = i + 1;
            *payload_len = (size_t)v;
            return KZ_OK;
        }
    }
    return KZ_ERR_PARSE;
}

size_t kz_takp_put_header(unsigned char *out, uint64_t len)
{
    size_t n = 0;

    out[n++] = KZ_TAKP_MAGIC;
    do {
        unsigned char b = (unsigned char)(len & 0x7f);
        len >>= 7;
        out[n++] = (unsigned char)(b | (len ? 0x80 : 0));
    } while (len);
    return n;
}
