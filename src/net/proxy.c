/*
 * proxy.c - the PROXY protocol header, versions 1 (text) and 2 (binary),
 * as HAProxy's proxy-protocol.txt defines them; see proxy.h.
 *
 * Strict: v1 is exactly "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" (single
 * spaces, addresses of the named family, ports without leading zeros) or
 * "PROXY UNKNOWN...\r\n"; v2 takes version 2, the LOCAL and PROXY commands
 * and, for PROXY, TCP over IPv4 or IPv6 or an unspecified family; its TLVs
 * must tile the rest of the header exactly and are skipped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"
#include "net/proxy.h"

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                         0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN 6

static int fail(int rc, char *why, size_t whylen, const char *msg)
{
    if (why && whylen)
        snprintf(why, whylen, "%s", msg);
    return rc;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* ---- version 1 ------------------------------------------------------------ */

/* A decimal port: 1..5 digits, no leading zero (but "0"), at most 65535. */
static bool v1_port(const char *s, size_t n, uint16_t *port)
{
    unsigned long v = 0;

    if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* An address of `family` (inet_pton's strict forms) into ss, port 0. */
static bool v1_addr(const char *s, size_t n, int family, struct sockaddr_storage *ss)
{
    char tmp[INET6_ADDRSTRLEN];

    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        return inet_pton(AF_INET, tmp, &a->sin_addr) == 1;
    }
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    a6->sin6_family = AF_INET6;
    return inet_pton(AF_INET6, tmp, &a6->sin6_addr) == 1;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* Split line[0..n) at single spaces into exactly `want` fields. */
static bool v1_fields(const char *line, size_t n, const char *f[], size_t fl[], unsigned want)
{
    unsigned k = 0;
    size_t start = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && line[i] != ' ')
            continue;
        if (i == start || k == want)
            return false; /* an empty field (double space) or one too many */
        f[k] = line + start;
        fl[k++] = i - start;
        start = i + 1;
    }
    return k == want;
}

/* "TCP4 SRC DST SPORT DPORT" (the line after "PROXY ", without CRLF). */
static int v1_tcp(const char *line, size_t n, struct kz_proxy_hdr *h, char *why, size_t whylen)
{
    const char *f[5];
    size_t fl[5];
    uint16_t sport, dport;
    int family;

    if (!v1_fields(line, n, f, fl, 5))
        return fail(KZ_ERR_PARSE, why, whylen,
                    "PROXY v1: not 'TCP4|TCP6 SRC DST SPORT DPORT' with single spaces");
    if (fl[0] == 4 && memcmp(f[0], "TCP4", 4) == 0)
        family = AF_INET;
    else if (fl[0] == 4 && memcmp(f[0], "TCP6", 4) == 0)
        family = AF_INET6;
    else
        return fail(KZ_ERR_PARSE, why, whylen, "PROXY v1: protocol is not TCP4, TCP6 or UNKNOWN");
    if (!v1_addr(f[1], fl[1], family, &h->src) || !v1_addr(f[2], fl[2], family, &h->dst))
        return fail(KZ_ERR_PARSE, why, whylen,
                    "PROXY v1: an address is not one of the family named");
    if (!v1_port(f[3], fl[3], &sport) || !v1_port(f[4], fl[4], &dport))
        return fail(KZ_ERR_PARSE, why, whylen, "PROXY v1: a port is not a number 0..65535");
    set_port(&h->src, sport);
    set_port(&h->dst, dport);
    return KZ_OK;
}

/*
 * Where the line ends (the index of its CR), or -1 while it has not ended;
 * *bad is set for a control byte, a CR not followed by LF or a byte over
 * 0x7e: the line is text.
 */
static long v1_end(const unsigned char *p, size_t n, bool *bad)
{
    *bad = false;
    for (size_t i = V1_SIG_LEN; i < n; i++) {
        if (p[i] == '\r') {
            if (i + 1 == n)
                return -1;
            if (p[i + 1] == '\n')
                return (long)i;
            *bad = true;
            return -1;
        }
        if (p[i] < 0x20 || p[i] > 0x7e) {
            *bad = true;
            return -1;
        }
    }
    return -1;
}

static int parse_v1(const unsigned char *p, size_t n, struct kz_proxy_hdr *h, char *why,
                    size_t whylen)
{
    bool bad;
    long cr = v1_end(p, min_size(n, KZ_PROXY_V1_MAX), &bad);
    const char *line = (const char *)p + V1_SIG_LEN;

    if (bad)
        return fail(KZ_ERR_PARSE, why, whylen, "PROXY v1: a byte that is not text before CRLF");
    if (cr < 0)
        return n >= KZ_PROXY_V1_MAX
                   ? fail(KZ_ERR_TOOBIG, why, whylen, "PROXY v1: no CRLF within 107 bytes")
                   : KZ_ERR_AGAIN;
    size_t len = (size_t)cr - V1_SIG_LEN;
    h->version = 1;
    h->len = (size_t)cr + 2;
    if (len >= 7 && memcmp(line, "UNKNOWN", 7) == 0 && (len == 7 || line[7] == ' ')) {
        h->local = true; /* whatever follows is ignored (the spec) */
        return KZ_OK;
    }
    return v1_tcp(line, len, h, why, whylen);
}

/* ---- version 2 ------------------------------------------------------------ */

static uint16_t be16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* TLVs: type, 16-bit length, value; they must fill p[0..n) exactly. */
static bool v2_tlvs(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (n - i < 3 || n - i - 3 < be16(p + i + 1))
            return false;
        i += 3 + (size_t)be16(p + i + 1);
    }
    return true;
}

static int v2_addresses(const unsigned char *a, size_t len, int fam, struct kz_proxy_hdr *h,
                        char *why, size_t whylen)
{
    size_t need = fam == 0x11 ? 12 : 36;

    if (len < need)
        return fail(KZ_ERR_PARSE, why, whylen, "PROXY v2: length shorter than its addresses");
    if (!v2_tlvs(a + need, len - need))
        return fail(KZ_ERR_PARSE, why, whylen, "PROXY v2: TLVs do not fill the header");
    if (fam == 0x11) {
        struct sockaddr_in *s = (struct sockaddr_in *)&h->src, *d = (struct sockaddr_in *)&h->dst;
        s->sin_family = d->sin_family = AF_INET;
        memcpy(&s->sin_addr, a, 4);
        memcpy(&d->sin_addr, a + 4, 4);
        memcpy(&s->sin_port, a + 8, 2);
        memcpy(&d->sin_port, a + 10, 2);
        return KZ_OK;
    }
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&h->src, *d6 = (struct sockaddr_in6 *)&h->dst;
    s6->sin6_family = d6->sin6_family = AF_INET6;
    memcpy(&s6->sin6_addr, a, 16);
    memcpy(&d6->sin6_addr, a + 16, 16);
    memcpy(&s6->sin6_port, a + 32, 2);
    memcpy(&d6->sin6_port, a + 34, 2);
    return KZ_OK;
}

static int parse_v2(const unsigned char *p, size_t n, struct kz_proxy_hdr *h, char *why,
                    size_t whylen)
{
    if (n > 12 && (p[12] >> 4) != 2)
        return fail(KZ_ERR_PARSE, why, whylen, "PROXY v2: version is not 2");
    if (n > 12 && (p[12] & 0x0f) > 1)
        return fail(KZ_ERR_PARSE, why, whylen, "PROXY v2: command is neither LOCAL nor PROXY");
    if (n < KZ_PROXY_V2_HEAD)
        return KZ_ERR_AGAIN;
    size_t len = be16(p + 14);
    if (len > KZ_PROXY_V2_MAX_LEN)
        return fail(KZ_ERR_TOOBIG, why, whylen, "PROXY v2: header longer than 1024 bytes");
    if (n < KZ_PROXY_V2_HEAD + len)
        return KZ_ERR_AGAIN;
    h->version = 2;
    h->len = KZ_PROXY_V2_HEAD + len;
    int fam = p[13];
    if ((p[12] & 0x0f) == 0 || fam == 0x00) {
        h->local = true; /* LOCAL: the family and addresses are ignored (the spec) */
        return KZ_OK;
    }
    if (fam != 0x11 && fam != 0x21)
        return fail(KZ_ERR_PARSE, why, whylen,
                    "PROXY v2: family is not TCP over IPv4 or IPv6 (UDP, UNIX or unknown)");
    return v2_addresses(p + KZ_PROXY_V2_HEAD, len, fam, h, why, whylen);
}

/* ---- either --------------------------------------------------------------- */

int kz_proxy_parse(const void *buf, size_t n, struct kz_proxy_hdr *h, char *why, size_t whylen)
{
    const unsigned char *p = buf;

    memset(h, 0, sizeof(*h));
    if (why && whylen)
        why[0] = '\0';
    if (n == 0)
        return KZ_ERR_AGAIN;
    if (p[0] == v2_sig[0]) {
        if (memcmp(p, v2_sig, min_size(n, sizeof(v2_sig))) != 0)
            return fail(KZ_ERR_PARSE, why, whylen, "no PROXY header: bad v2 signature");
        return n < sizeof(v2_sig) ? KZ_ERR_AGAIN : parse_v2(p, n, h, why, whylen);
    }
    if (memcmp(p, v1_sig, min_size(n, V1_SIG_LEN)) != 0)
        return fail(KZ_ERR_PARSE, why, whylen,
                    "no PROXY header: neither 'PROXY ' nor the v2 "
                    "signature");
    return n < V1_SIG_LEN ? KZ_ERR_AGAIN : parse_v1(p, n, h, why, whylen);
}

void kz_sockaddr_name(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        uv_ip6_name(a, host, sizeof(host));
        port = ntohs(a->sin6_port);
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        uv_ip4_name(a, host, sizeof(host));
        port = ntohs(a->sin_port);
    }
    snprintf(buf, len, "%s:%d", host, port);
}
