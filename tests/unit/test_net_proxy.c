/*
 * Unit tests for the PROXY protocol: every branch of the v1 and v2 parser
 * (net/proxy.c), and a real listener with `proxy_protocol: true` on a
 * loopback port (net/proxy_wait.c): the header is taken and not one byte
 * more, in one piece or byte by byte, the peer handed on is the header's,
 * LOCAL keeps the socket's, and garbage, oversized headers and a stopped
 * listener close the connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "net/net.h"
#include "net/proxy.h"
#include "route/route.h"

/* ---- the parser ------------------------------------------------------------- */

static int parse(const void *p, size_t n, struct kz_proxy_hdr *h, char *why)
{
    return kz_proxy_parse(p, n, h, why, 128);
}

static int parse_str(const char *s, struct kz_proxy_hdr *h, char *why)
{
    return parse(s, strlen(s), h, why);
}

static void assert_name(const struct sockaddr_storage *ss, const char *want)
{
    char buf[64];
    kz_sockaddr_name((const struct sockaddr *)ss, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

/* Every proper prefix of a valid header is AGAIN; the whole is OK. */
static void assert_prefixes_wait(const unsigned char *p, size_t len)
{
    struct kz_proxy_hdr h;
    char why[128];

    for (size_t i = 0; i < len; i++)
        assert_int_equal(parse(p, i, &h, why), KZ_ERR_AGAIN);
    assert_int_equal(parse(p, len, &h, why), KZ_OK);
}

static void test_v1_tcp4(void **state)
{
    static const char hdr[] = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 8089\r\n";
    struct kz_proxy_hdr h;
    char why[128], buf[128];

    KZ_UNUSED(state);
    snprintf(buf, sizeof(buf), "%s%s", hdr, "\x16\x03\x01 hello");
    assert_int_equal(parse_str(buf, &h, why), KZ_OK);
    assert_int_equal(h.len, strlen(hdr)); /* what follows is not the header's */
    assert_int_equal(h.version, 1);
    assert_false(h.local);
    assert_name(&h.src, "192.0.2.1:56324");
    assert_name(&h.dst, "198.51.100.7:8089");
    assert_prefixes_wait((const unsigned char *)hdr, strlen(hdr));
}

static void test_v1_tcp6_and_longest(void **state)
{
    /* The longest line there is: 107 bytes with CRLF. */
    static const char longest[] = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                                  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    assert_int_equal(strlen(longest), KZ_PROXY_V1_MAX - 3); /* the spec counts the longest form */
    assert_int_equal(parse_str("PROXY TCP6 2001:db8::1 ::1 0 443\r\n", &h, why), KZ_OK);
    assert_name(&h.src, "2001:db8::1:0");
    assert_name(&h.dst, "::1:443");
    assert_int_equal(parse_str(longest, &h, why), KZ_OK);
    assert_int_equal(h.len, strlen(longest));
    /* The longest address text (45 bytes) still parses. */
    assert_int_equal(
        parse_str("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 ::1 1 2\r\n", &h, why),
        KZ_OK);
    assert_int_equal(h.len, 66);
    assert_name(&h.src, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:1");
}

static void test_v1_unknown(void **state)
{
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    assert_int_equal(parse_str("PROXY UNKNOWN\r\n", &h, why), KZ_OK);
    assert_true(h.local);
    assert_int_equal(h.len, 15);
    assert_int_equal(parse_str("PROXY UNKNOWN ffff:: 1.2.3.4 whatever\r\nGET", &h, why), KZ_OK);
    assert_true(h.local);
    assert_int_equal(h.len, 39);
    assert_int_equal(parse_str("PROXY UNKNOWNX\r\n", &h, why), KZ_ERR_PARSE);
}

static void test_v1_malformed(void **state)
{
    static const char *const bad[] = {
        "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",         /* protocol */
        "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",         /* case */
        "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",        /* double space */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",           /* a field missing */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",       /* one too many */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",        /* trailing space */
        "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",             /* IPv6 under TCP4 */
        "PROXY TCP6 ::1 5.6.7.8 1 2\r\n",             /* IPv4 under TCP6 */
        "PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n",       /* not an address */
        "PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n",        /* leading zero in an octet */
        "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",       /* leading zero in a port */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",     /* port range */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n",    /* six digits */
        "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",        /* sign */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n",        /* CR not before LF */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",           /* LF alone: control byte */
        "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",        /* tab */
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xc3\xa9\r\n", /* not ASCII */
        "PROXY TCP6 1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16 ::1 1 2\r\n", /* address too long */
        "PROXY \r\n",                                                    /* nothing */
    };
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        int rc = parse_str(bad[i], &h, why);
        if (rc != KZ_ERR_PARSE)
            fail_msg("'%s' gave %d", bad[i], rc);
        assert_true(strncmp(why, "PROXY v1: ", 10) == 0);
    }
}

static void test_v1_bounds(void **state)
{
    char line[KZ_PROXY_V1_MAX + 8];
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    memcpy(line, "PROXY UNKNOWN ", 14);
    memset(line + 14, 'x', sizeof(line) - 14);
    assert_int_equal(parse(line, KZ_PROXY_V1_MAX - 1, &h, why), KZ_ERR_AGAIN);
    assert_int_equal(parse(line, KZ_PROXY_V1_MAX, &h, why), KZ_ERR_TOOBIG);
    assert_string_equal(why, "PROXY v1: no CRLF within 107 bytes");
    /* CRLF at 106..107 ends the longest line; one further is too long. */
    memcpy(line + KZ_PROXY_V1_MAX - 2, "\r\n", 2);
    assert_int_equal(parse(line, sizeof(line), &h, why), KZ_OK);
    assert_int_equal(h.len, KZ_PROXY_V1_MAX);
    line[KZ_PROXY_V1_MAX - 2] = 'x';
    memcpy(line + KZ_PROXY_V1_MAX - 1, "\r\n", 2);
    assert_int_equal(parse(line, sizeof(line), &h, why), KZ_ERR_TOOBIG);
}

static void test_not_proxy(void **state)
{
    static const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00};
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    assert_int_equal(parse("", 0, &h, why), KZ_ERR_AGAIN);
    /* A TLS ClientHello or a request is refused at its first byte. */
    assert_int_equal(parse(hello, 1, &h, why), KZ_ERR_PARSE);
    assert_string_equal(why, "no PROXY header: neither 'PROXY ' nor the v2 signature");
    assert_int_equal(parse_str("GET / HTTP/1.1\r\n\r\n", &h, why), KZ_ERR_PARSE);
    assert_int_equal(parse_str("PROXZ", &h, why), KZ_ERR_PARSE);
    assert_int_equal(parse_str("PROX", &h, why), KZ_ERR_AGAIN);
    assert_int_equal(parse_str("\r\n\r\n\r", &h, why), KZ_ERR_PARSE); /* v2 signature breaks */
    assert_string_equal(why, "no PROXY header: bad v2 signature");
    assert_int_equal(kz_proxy_parse("x", 1, &h, NULL, 0), KZ_ERR_PARSE); /* no why wanted */
}

/* ---- version 2 ---------------------------------------------------------------- */

static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A v2 header: signature, ver_cmd, fam, then `len` bytes of body. */
static size_t v2(unsigned char *out, unsigned ver_cmd, unsigned fam, const void *body, size_t len)
{
    memcpy(out, sig, 12);
    out[12] = (unsigned char)ver_cmd;
    out[13] = (unsigned char)fam;
    out[14] = (unsigned char)(len >> 8);
    out[15] = (unsigned char)len;
    if (len)
        memcpy(out + 16, body, len);
    return 16 + len;
}

static const unsigned char inet_body[12] = {192, 0, 2, 1, 127, 0, 0, 1, 0xdc, 0x04, 0x1f, 0x99};

static void test_v2_inet(void **state)
{
    unsigned char buf[64];
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    size_t n = v2(buf, 0x21, 0x11, inet_body, sizeof(inet_body));
    buf[n] = 0x16; /* the ClientHello that follows */
    assert_int_equal(parse(buf, n + 1, &h, why), KZ_OK);
    assert_int_equal(h.len, 28);
    assert_int_equal(h.version, 2);
    assert_false(h.local);
    assert_name(&h.src, "192.0.2.1:56324");
    assert_name(&h.dst, "127.0.0.1:8089");
    assert_prefixes_wait(buf, n);
}

static void test_v2_inet6_and_tlvs(void **state)
{
    unsigned char body[36 + 12], buf[128];
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    memset(body, 0, sizeof(body));
    body[0] = 0x20, body[1] = 0x01, body[2] = 0x0d, body[3] = 0xb8, body[15] = 1; /* 2001:db8::1 */
    body[31] = 1;                                                                 /* ::1 */
    body[32] = 0x01, body[33] = 0xbb, body[34] = 0x20, body[35] = 0xfb;
    /* Two TLVs: ALPN "h2" (0x01) and a NOOP (0x04) of 4 bytes. */
    memcpy(body + 36, "\x01\x00\x02h2\x04\x00\x04\x00\x00\x00\x00", 12);
    size_t n = v2(buf, 0x21, 0x21, body, sizeof(body));
    assert_int_equal(parse(buf, n, &h, why), KZ_OK);
    assert_int_equal(h.len, n);
    assert_name(&h.src, "2001:db8::1:443");
    assert_name(&h.dst, "::1:8443");
    /* A TLV that runs past the end, and a stray byte, do not parse. */
    n = v2(buf, 0x21, 0x21, body, sizeof(body) - 1);
    assert_int_equal(parse(buf, n, &h, why), KZ_ERR_PARSE);
    assert_string_equal(why, "PROXY v2: TLVs do not fill the header");
    n = v2(buf, 0x21, 0x21, body, 38);
    assert_int_equal(parse(buf, n, &h, why), KZ_ERR_PARSE);
}

static void test_v2_local_and_unspec(void **state)
{
    unsigned char buf[64];
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    /* LOCAL (a health check): no address, whatever the family says. */
    size_t n = v2(buf, 0x20, 0x00, NULL, 0);
    assert_int_equal(parse(buf, n, &h, why), KZ_OK);
    assert_true(h.local);
    assert_int_equal(h.len, 16);
    n = v2(buf, 0x20, 0x11, inet_body, sizeof(inet_body));
    assert_int_equal(parse(buf, n, &h, why), KZ_OK);
    assert_true(h.local);
    assert_int_equal(h.src.ss_family, 0);
    /* PROXY with family UNSPEC: addresses ignored too. */
    n = v2(buf, 0x21, 0x00, "abc", 3);
    assert_int_equal(parse(buf, n, &h, why), KZ_OK);
    assert_true(h.local);
    assert_int_equal(h.len, 19);
}

static void test_v2_malformed(void **state)
{
    static const unsigned fams[] = {0x12, 0x22, 0x31, 0x32, 0x10, 0x13, 0x41};
    unsigned char buf[64];
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    size_t n = v2(buf, 0x11, 0x11, inet_body, sizeof(inet_body));
    assert_int_equal(parse(buf, 13, &h, why), KZ_ERR_PARSE); /* told at byte 13 */
    assert_string_equal(why, "PROXY v2: version is not 2");
    n = v2(buf, 0x22, 0x11, inet_body, sizeof(inet_body));
    assert_int_equal(parse(buf, n, &h, why), KZ_ERR_PARSE);
    assert_string_equal(why, "PROXY v2: command is neither LOCAL nor PROXY");
    for (size_t i = 0; i < KZ_ARRAY_LEN(fams); i++) {
        n = v2(buf, 0x21, fams[i], inet_body, sizeof(inet_body));
        assert_int_equal(parse(buf, n, &h, why), KZ_ERR_PARSE);
    }
    n = v2(buf, 0x21, 0x11, inet_body, 11); /* shorter than its addresses */
    assert_int_equal(parse(buf, n, &h, why), KZ_ERR_PARSE);
    assert_string_equal(why, "PROXY v2: length shorter than its addresses");
    n = v2(buf, 0x21, 0x21, inet_body, sizeof(inet_body));
    assert_int_equal(parse(buf, n, &h, why), KZ_ERR_PARSE);
}

static void test_v2_bounds(void **state)
{
    static unsigned char buf[KZ_PROXY_MAX + 16], body[KZ_PROXY_V2_MAX_LEN + 1];
    struct kz_proxy_hdr h;
    char why[128];

    KZ_UNUSED(state);
    /* The longest accepted: addresses and one NOOP TLV filling 1024 bytes. */
    memcpy(body, inet_body, 12);
    body[12] = 0x04;
    body[13] = (KZ_PROXY_V2_MAX_LEN - 15) >> 8;
    body[14] = (KZ_PROXY_V2_MAX_LEN - 15) & 0xff;
    size_t n = v2(buf, 0x21, 0x11, body, KZ_PROXY_V2_MAX_LEN);
    assert_int_equal(n, KZ_PROXY_MAX);
    assert_int_equal(parse(buf, n - 1, &h, why), KZ_ERR_AGAIN);
    assert_int_equal(parse(buf, n, &h, why), KZ_OK);
    /* One more is refused as soon as the length is read. */
    v2(buf, 0x21, 0x11, body, KZ_PROXY_V2_MAX_LEN + 1);
    assert_int_equal(parse(buf, 16, &h, why), KZ_ERR_TOOBIG);
    assert_string_equal(why, "PROXY v2: header longer than 1024 bytes");
}

static void test_sockaddr_name(void **state)
{
    struct sockaddr_storage ss;
    char buf[64];

    KZ_UNUSED(state);
    memset(&ss, 0, sizeof(ss));
    kz_sockaddr_name((struct sockaddr *)&ss, buf, sizeof(buf));
    assert_string_equal(buf, "?:0");
    assert_int_equal(kz_parse_hostport("[::1]:80", &ss), KZ_OK);
    assert_name(&ss, "::1:80");
}

/* ---- a listener with proxy_protocol ------------------------------------------------ */

struct fixture {
    uv_loop_t loop;
    struct kz_input_conf conf;
    struct kz_input input;
    struct kz_listener *l;
    int accepted;
    int fd;        /* the last socket handed on */
    char peer[64]; /* ... and its peer */
    char rest[64]; /* what could be read from it at once */
};

static void on_accept(void *ud, struct kz_input *input, const struct kz_input_conf *conf,
                      uv_loop_t *loop, uv_os_sock_t fd, const struct sockaddr *peer)
{
    struct fixture *f = ud;
    ssize_t n;

    KZ_UNUSED(input), KZ_UNUSED(conf), KZ_UNUSED(loop);
    f->accepted++;
    f->fd = fd;
    kz_sockaddr_name(peer, f->peer, sizeof(f->peer));
    memset(f->rest, 0, sizeof(f->rest));
    n = recv(fd, f->rest, sizeof(f->rest) - 1, 0);
    assert_true(n >= 0 || errno == EAGAIN);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    uv_loop_init(&f->loop);
    f->conf.name = (char *)"lb";
    f->conf.listen = (char *)"127.0.0.1:0";
    f->conf.protocol = KZ_PROTO_TCP;
    f->conf.proxy_protocol = true;
    f->input.conf = &f->conf;
    f->fd = -1;
    assert_int_equal(kz_listener_start(&f->loop, &f->input, on_accept, f, &f->l), KZ_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    kz_listener_stop(f->l);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    if (f->fd >= 0)
        close(f->fd);
    free(f);
    return 0;
}

/* A client connected to the listener (accepted from the backlog once the loop runs). */
static int client(struct fixture *f, unsigned short *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->input.port)};
    socklen_t len = sizeof(sa);
    int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* byte by byte means it */
    assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(c, (struct sockaddr *)&sa, &len), 0);
    if (port)
        *port = ntohs(sa.sin_port);
    return c;
}

static void spin(struct fixture *f, int passes)
{
    for (int i = 0; i < passes; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        usleep(2000);
    }
}

/* Has the server closed `c`?  (EOF or reset; waits a little.) */
static bool closed_by_server(struct fixture *f, int c)
{
    char b[16];
    for (int i = 0; i < 200; i++) {
        spin(f, 1);
        ssize_t n = recv(c, b, sizeof(b), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
    }
    return false;
}

static void test_listener_v1_whole(void **state)
{
    struct fixture *f = *state;
    static const char msg[] = "PROXY TCP4 203.0.113.9 127.0.0.1 40001 8087\r\n<event/>";
    int c = client(f, NULL);

    assert_int_equal(send(c, msg, sizeof(msg) - 1, 0), (ssize_t)sizeof(msg) - 1);
    for (int i = 0; i < 200 && !f->accepted; i++)
        spin(f, 1);
    assert_int_equal(f->accepted, 1);
    assert_string_equal(f->peer, "203.0.113.9:40001");
    assert_string_equal(f->rest, "<event/>"); /* the header taken, and nothing after it */
    close(c);
}

static void test_listener_v2_bytewise(void **state)
{
    struct fixture *f = *state;
    unsigned char buf[64];
    size_t n = v2(buf, 0x21, 0x11, inet_body, sizeof(inet_body));

    memcpy(buf + n, "\x16\x03", 2);
    int c = client(f, NULL);
    for (size_t i = 0; i < n + 2; i++) {
        assert_int_equal(send(c, buf + i, 1, 0), 1);
        spin(f, 2);
        assert_int_equal(f->accepted, i + 1 >= n ? 1 : 0);
    }
    assert_string_equal(f->peer, "192.0.2.1:56324");
    /* The bytes after the header stay in the socket, whenever they came. */
    size_t got = strlen(f->rest);
    for (int i = 0; i < 200 && got < 2; i++) {
        ssize_t r = recv(f->fd, f->rest + got, 2 - got, 0);
        got += r > 0 ? (size_t)r : 0;
        spin(f, 1);
    }
    assert_memory_equal(f->rest, "\x16\x03", 2);
    close(c);
}

static void test_listener_local_keeps_socket_peer(void **state)
{
    struct fixture *f = *state;
    unsigned char buf[32];
    unsigned short port;
    char want[64];
    int c = client(f, &port);

    assert_int_equal(send(c, buf, v2(buf, 0x20, 0x00, NULL, 0), 0), 16);
    for (int i = 0; i < 200 && !f->accepted; i++)
        spin(f, 1);
    assert_int_equal(f->accepted, 1);
    snprintf(want, sizeof(want), "127.0.0.1:%u", port);
    assert_string_equal(f->peer, want);
    close(c);
}

static void test_listener_refuses(void **state)
{
    struct fixture *f = *state;
    uint64_t before = kz_metrics.proxy_refusals;
    static unsigned char big[KZ_PROXY_V2_HEAD];
    int c1 = client(f, NULL), c2 = client(f, NULL), c3 = client(f, NULL), c4 = client(f, NULL);

    assert_int_equal(send(c1, "\x16\x03\x01\x00\x05hello", 10, 0), 10); /* a bare ClientHello */
    v2(big, 0x21, 0x11, NULL, 0);
    big[14] = 0x10; /* 4096 bytes announced */
    assert_int_equal(send(c2, big, sizeof(big), 0), (ssize_t)sizeof(big));
    assert_int_equal(send(c3, "PROXY TCP4 ", 11, 0), 11);
    shutdown(c3, SHUT_WR); /* closes mid-header */
    shutdown(c4, SHUT_WR); /* closes without a byte: a probe, closed quietly */
    assert_true(closed_by_server(f, c1));
    assert_true(closed_by_server(f, c2));
    assert_true(closed_by_server(f, c3));
    assert_true(closed_by_server(f, c4));
    assert_int_equal(f->accepted, 0);
    assert_int_equal(kz_metrics.proxy_refusals - before, 3);
    close(c1), close(c2), close(c3), close(c4);
}

/*
 * At most KZ_PROXY_PENDING_MAX connections wait: the next is refused at
 * once; stopping the listener closes all that wait.
 */
static void test_listener_bounds_waiting(void **state)
{
    struct fixture *f = *state;
    uint64_t before = kz_metrics.proxy_refusals;
    static int c[KZ_PROXY_PENDING_MAX + 1];
    struct rlimit rl;

    /* Both ends of every connection are ours: raise the soft limit as kizuna serve does. */
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * KZ_PROXY_PENDING_MAX + 64)
        skip();
    for (int i = 0; i <= KZ_PROXY_PENDING_MAX; i++) {
        c[i] = client(f, NULL);
        if (i % 64 == 63)
            spin(f, 1); /* keep the backlog short */
    }
    assert_true(closed_by_server(f, c[KZ_PROXY_PENDING_MAX]));
    assert_int_equal(kz_metrics.proxy_refusals - before, 1);
    kz_listener_stop(f->l);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < KZ_PROXY_PENDING_MAX; i++) {
        char b[4];
        assert_int_equal(recv(c[i], b, sizeof(b), 0), 0);
        close(c[i]);
    }
    close(c[KZ_PROXY_PENDING_MAX]);
    assert_int_equal(f->accepted, 0);
    assert_int_equal(kz_metrics.proxy_refusals - before, 1); /* stopping refuses nobody */
    assert_int_equal(kz_listener_start(&f->loop, &f->input, on_accept, f, &f->l), KZ_OK);
}

/* Stopping the listener closes a connection still waiting for its header. */
static void test_listener_stop_with_waiting(void **state)
{
    struct fixture *f = *state;
    int c = client(f, NULL);

    assert_int_equal(send(c, "PROXY TCP4 1.2", 14, 0), 14);
    spin(f, 5);
    assert_int_equal(f->accepted, 0);
    kz_listener_stop(f->l);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    char b[4];
    assert_int_equal(recv(c, b, sizeof(b), 0), 0);
    assert_int_equal(f->accepted, 0);
    close(c);
    assert_int_equal(kz_listener_start(&f->loop, &f->input, on_accept, f, &f->l), KZ_OK);
}

int main(void)
{
    kz_log_min = KZ_LOG_DEBUG; /* the debug line of a header read is formatted too */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_tcp4),
        cmocka_unit_test(test_v1_tcp6_and_longest),
        cmocka_unit_test(test_v1_unknown),
        cmocka_unit_test(test_v1_malformed),
        cmocka_unit_test(test_v1_bounds),
        cmocka_unit_test(test_not_proxy),
        cmocka_unit_test(test_v2_inet),
        cmocka_unit_test(test_v2_inet6_and_tlvs),
        cmocka_unit_test(test_v2_local_and_unspec),
        cmocka_unit_test(test_v2_malformed),
        cmocka_unit_test(test_v2_bounds),
        cmocka_unit_test(test_sockaddr_name),
        cmocka_unit_test_setup_teardown(test_listener_v1_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_v2_bytewise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_local_keeps_socket_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_stop_with_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listener_bounds_waiting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
