/*
 * Unit tests for the HTTP request side without sockets: percent-decoding,
 * request targets and query strings, the events query parameters, the
 * llhttp wrapper's limits (431, 413, 400), pipelining and response building.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/internal.h"

/* ---- percent-decoding ------------------------------------------------------ */

static void decode_ok(const char *in, bool plus, const char *want)
{
    char out[256];
    size_t n = 0;
    assert_int_equal(kz__http_percent_decode(out, in, strlen(in), plus, &n), KZ_OK);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void decode_bad(const char *in)
{
    char out[256];
    assert_int_equal(kz__http_percent_decode(out, in, strlen(in), true, NULL), KZ_ERR_PARSE);
}

static void test_percent_decode(void **state)
{
    (void)state;
    decode_ok("", true, "");
    decode_ok("abc", true, "abc");
    decode_ok("a%20b", true, "a b");
    decode_ok("a+b", true, "a b");
    decode_ok("a+b", false, "a+b");
    decode_ok("%2B", true, "+");
    decode_ok("%2b%2F", false, "+/");
    decode_ok("%e6%97%a5", false, "\xe6\x97\xa5");
    decode_ok("100%25", true, "100%");
    decode_ok("%41%42%43", true, "ABC");
    decode_bad("%");
    decode_bad("%4");
    decode_bad("abc%");
    decode_bad("abc%2");
    decode_bad("%zz");
    decode_bad("%4g");
    decode_bad("%00"); /* an encoded NUL would truncate C strings */
    decode_bad("a%0");
}

/* ---- request target ----------------------------------------------------------- */

static int target(struct kz_arena *a, const char *url, struct kz__http_target *t)
{
    return kz__http_parse_target(a, url, strlen(url), t);
}

static void test_target_path(void **state)
{
    struct kz_arena a = {0};
    struct kz__http_target t;
    (void)state;

    assert_int_equal(target(&a, "/healthz", &t), KZ_OK);
    assert_string_equal(t.path, "/healthz");
    assert_int_equal(t.n_params, 0);

    assert_int_equal(target(&a, "/a%20b/c+d", &t), KZ_OK);
    assert_string_equal(t.path, "/a b/c+d"); /* '+' is literal in paths */

    assert_int_equal(target(&a, "/x#frag", &t), KZ_OK);
    assert_string_equal(t.path, "/x");

    assert_int_equal(target(&a, "http://example.org:8080/api/v1/tracks?limit=5", &t), KZ_OK);
    assert_string_equal(t.path, "/api/v1/tracks");
    assert_string_equal(kz__http_param(&t, "limit"), "5");

    assert_int_equal(target(&a, "http://example.org", &t), KZ_OK);
    assert_string_equal(t.path, "/");

    assert_int_equal(target(&a, "/%", &t), KZ_ERR_PARSE);
    assert_int_equal(target(&a, "/%00", &t), KZ_ERR_PARSE);
    assert_int_equal(target(&a, "*", &t), KZ_ERR_PARSE);
    assert_int_equal(target(&a, "example.org/x", &t), KZ_ERR_PARSE);
    assert_int_equal(kz__http_parse_target(&a, "", 0, &t), KZ_ERR_PARSE);
    kz_arena_release(&a);
}

static void test_query_string(void **state)
{
    struct kz_arena a = {0};
    struct kz__http_target t;
    (void)state;

    assert_int_equal(target(&a, "/e?uid=a%2Bb&type=a-f-G*&x&=v&&y=&z=1=2", &t), KZ_OK);
    assert_string_equal(t.path, "/e");
    assert_string_equal(kz__http_param(&t, "uid"), "a+b");
    assert_string_equal(kz__http_param(&t, "type"), "a-f-G*");
    assert_string_equal(kz__http_param(&t, "x"), "");
    assert_string_equal(kz__http_param(&t, ""), "v");
    assert_string_equal(kz__http_param(&t, "y"), "");
    assert_string_equal(kz__http_param(&t, "z"), "1=2");
    assert_null(kz__http_param(&t, "missing"));
    assert_int_equal(t.n_params, 6);

    /* Duplicates: the first one wins. */
    assert_int_equal(target(&a, "/e?a=1&a=2", &t), KZ_OK);
    assert_string_equal(kz__http_param(&t, "a"), "1");

    /* Empty query, query only. */
    assert_int_equal(target(&a, "/e?", &t), KZ_OK);
    assert_int_equal(t.n_params, 0);
    assert_int_equal(target(&a, "?a=b+c", &t), KZ_ERR_PARSE);

    /* '+' means space in queries, %2B means plus. */
    assert_int_equal(target(&a, "/e?q=a+b%2Bc", &t), KZ_OK);
    assert_string_equal(kz__http_param(&t, "q"), "a b+c");

    assert_int_equal(target(&a, "/e?q=%G1", &t), KZ_ERR_PARSE);
    assert_int_equal(target(&a, "/e?q%=1", &t), KZ_ERR_PARSE);
    assert_int_equal(target(&a, "/e?q=%00", &t), KZ_ERR_PARSE);
    kz_arena_release(&a);
}

static void test_query_bounded(void **state)
{
    struct kz_arena a = {0};
    struct kz__http_target t;
    struct kz_sbuf url = KZ_SBUF_INIT;
    (void)state;

    kz_sbuf_adds(&url, "/e?");
    for (int i = 0; i < KZ__HTTP_MAX_PARAMS; i++)
        kz_sbuf_addf(&url, "p%d=%d&", i, i);
    assert_int_equal(kz__http_parse_target(&a, url.buf, url.len, &t), KZ_OK);
    assert_int_equal(t.n_params, KZ__HTTP_MAX_PARAMS);
    kz_sbuf_adds(&url, "one=more");
    assert_int_equal(kz__http_parse_target(&a, url.buf, url.len, &t), KZ_ERR_TOOBIG);
    kz_sbuf_release(&url);
    kz_arena_release(&a);
}

/* ---- the parser ------------------------------------------------------------------- */

static struct kz__http_parser hp;
static int continues;

static void count_continue(void *ud)
{
    (void)ud;
    continues++;
}

static void parser_setup(size_t max_body, unsigned max_headers)
{
    struct kz__http_limits lim = {KZ__HTTP_MAX_HEADER_BYTES, max_headers, max_body};
    kz__http_parser_init(&hp, &lim);
    hp.on_continue = count_continue;
    continues = 0;
}

/* Feed the whole string, `chunk` bytes at a time; return the status (0 = ready). */
static int feed_str(const char *s, size_t chunk, size_t *consumed)
{
    size_t len = strlen(s), off = 0;

    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk, used = 0;
        int rc = kz__http_parser_feed(&hp, s + off, n, &used);
        off += used;
        if (rc != KZ_OK)
            return hp.error_status;
        if (hp.ready)
            break;
    }
    if (consumed)
        *consumed = off;
    return hp.ready ? 0 : -1;
}

static void test_parse_simple(void **state)
{
    (void)state;
    for (size_t chunk = 1; chunk <= 64; chunk *= 2) {
        parser_setup(1024, 64);
        const char *req = "GET /api/v1/events?uid=x%20y HTTP/1.1\r\nHost: a\r\n"
                          "X-Empty:\r\nAccept:  text/plain \r\n\r\n";
        assert_int_equal(feed_str(req, chunk, NULL), 0);
        assert_int_equal(hp.req->method, HTTP_GET);
        assert_string_equal(hp.req->target.path, "/api/v1/events");
        assert_string_equal(kz__http_param(&hp.req->target, "uid"), "x y");
        assert_string_equal(kz__http_req_header(hp.req, "host"), "a");
        assert_string_equal(kz__http_req_header(hp.req, "ACCEPT"), "text/plain");
        assert_non_null(kz__http_req_header(hp.req, "x-empty"));
        assert_string_equal(kz__http_req_header(hp.req, "x-empty"), "");
        assert_null(kz__http_req_header(hp.req, "missing"));
        assert_true(hp.req->keep_alive);
        assert_false(hp.in_message);
        kz__http_parser_release(&hp);
    }
}

static void test_parse_pipelined(void **state)
{
    const char *two = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                      "GET /b?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n"
                      "GET /c HTTP/1.1\r\n\r\n";
    size_t len = strlen(two), off = 0, used;
    (void)state;

    parser_setup(1024, 64);
    assert_int_equal(kz__http_parser_feed(&hp, two, len, &used), KZ_OK);
    assert_true(hp.ready);
    assert_int_equal(hp.req->method, HTTP_POST);
    assert_string_equal(hp.req->target.path, "/a");
    assert_int_equal(hp.req->body.len, 5);
    assert_memory_equal(hp.req->body.buf, "hello", 5);
    off += used;
    assert_true(off < len);

    kz__http_parser_next(&hp);
    assert_int_equal(kz__http_parser_feed(&hp, two + off, len - off, &used), KZ_OK);
    assert_true(hp.ready);
    assert_string_equal(hp.req->target.path, "/b");
    assert_int_equal(hp.req->body.len, 0);
    assert_false(hp.req->keep_alive);
    kz__http_parser_release(&hp);
}

static void test_parse_http10(void **state)
{
    (void)state;
    parser_setup(1024, 64);
    assert_int_equal(feed_str("GET / HTTP/1.0\r\n\r\n", 100, NULL), 0);
    assert_false(hp.req->keep_alive);
    kz__http_parser_release(&hp);

    parser_setup(1024, 64);
    assert_int_equal(feed_str("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 100, NULL), 0);
    assert_true(hp.req->keep_alive);
    kz__http_parser_release(&hp);
}

static void test_parse_chunked(void **state)
{
    (void)state;
    parser_setup(1024, 64);
    assert_int_equal(feed_str("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                              7, NULL),
                     0);
    assert_int_equal(hp.req->body.len, 11);
    assert_memory_equal(hp.req->body.buf, "hello world", 11);
    kz__http_parser_release(&hp);
}

static void test_parse_upgrade(void **state)
{
    (void)state;
    /* We never upgrade: the request is answered and the connection closed. */
    parser_setup(1024, 64);
    assert_int_equal(feed_str("GET /api/v1/stream HTTP/1.1\r\nConnection: Upgrade\r\n"
                              "Upgrade: websocket\r\n\r\n\x81\x85garbage",
                              1000, NULL),
                     0);
    assert_string_equal(hp.req->target.path, "/api/v1/stream");
    assert_false(hp.req->keep_alive);
    kz__http_parser_release(&hp);

    parser_setup(1024, 64);
    assert_int_equal(feed_str("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 1000, NULL), 400);
    kz__http_parser_release(&hp);
}

static void test_limit_header_bytes(void **state)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    (void)state;

    parser_setup(1024, 1000);
    kz_sbuf_adds(&sb, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 40; i++) {
        kz_sbuf_addf(&sb, "X-H%d: ", i);
        for (int j = 0; j < 500; j++)
            kz_sbuf_add(&sb, "v", 1);
        kz_sbuf_adds(&sb, "\r\n");
    }
    kz_sbuf_adds(&sb, "\r\n");
    assert_int_equal(feed_str(sb.buf, 1000, NULL), 431);
    kz__http_parser_release(&hp);

    /* One enormous request line counts too. */
    parser_setup(1024, 64);
    kz_sbuf_reset(&sb);
    kz_sbuf_adds(&sb, "GET /");
    for (int j = 0; j < KZ__HTTP_MAX_HEADER_BYTES; j++)
        kz_sbuf_add(&sb, "a", 1);
    kz_sbuf_adds(&sb, " HTTP/1.1\r\n\r\n");
    assert_int_equal(feed_str(sb.buf, 4096, NULL), 431);
    kz__http_parser_release(&hp);
    kz_sbuf_release(&sb);
}

static void test_limit_header_count(void **state)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    (void)state;

    parser_setup(1024, 8);
    kz_sbuf_adds(&sb, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 8; i++)
        kz_sbuf_addf(&sb, "X-H%d: v\r\n", i);
    kz_sbuf_adds(&sb, "\r\n");
    assert_int_equal(feed_str(sb.buf, 1000, NULL), 0);
    assert_int_equal(hp.req->n_headers, 8);
    kz__http_parser_release(&hp);

    parser_setup(1024, 8);
    kz_sbuf_reset(&sb);
    kz_sbuf_adds(&sb, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 9; i++)
        kz_sbuf_addf(&sb, "X-H%d: v\r\n", i);
    kz_sbuf_adds(&sb, "\r\n");
    assert_int_equal(feed_str(sb.buf, 1000, NULL), 431);
    kz__http_parser_release(&hp);
    kz_sbuf_release(&sb);
}

static void test_limit_body(void **state)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    (void)state;

    /* Declared too large: refused before any body byte arrives. */
    parser_setup(100, 64);
    assert_int_equal(feed_str("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 1000, NULL), 413);
    kz__http_parser_release(&hp);

    /* Exactly the limit is fine. */
    parser_setup(100, 64);
    kz_sbuf_adds(&sb, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
    for (int i = 0; i < 100; i++)
        kz_sbuf_add(&sb, "b", 1);
    assert_int_equal(feed_str(sb.buf, 13, NULL), 0);
    assert_int_equal(hp.req->body.len, 100);
    kz__http_parser_release(&hp);

    /* Chunked, growing past the limit. */
    parser_setup(100, 64);
    kz_sbuf_reset(&sb);
    kz_sbuf_adds(&sb, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 5; i++) {
        kz_sbuf_adds(&sb, "20\r\n");
        for (int j = 0; j < 32; j++)
            kz_sbuf_add(&sb, "c", 1);
        kz_sbuf_adds(&sb, "\r\n");
    }
    kz_sbuf_adds(&sb, "0\r\n\r\n");
    assert_int_equal(feed_str(sb.buf, 50, NULL), 413);
    kz__http_parser_release(&hp);
    kz_sbuf_release(&sb);
}

static void test_expect_continue(void **state)
{
    (void)state;
    parser_setup(100, 64);
    assert_int_equal(feed_str("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2"
                              "\r\n\r\nok",
                              1000, NULL),
                     0);
    assert_int_equal(continues, 1);
    assert_true(hp.req->expect_continue);
    kz__http_parser_release(&hp);

    /* Too large: 413 without asking for the body. */
    parser_setup(100, 64);
    assert_int_equal(feed_str("POST / HTTP/1.1\r\nExpect: 100-continue\r\n"
                              "Content-Length: 200\r\n\r\n",
                              1000, NULL),
                     413);
    assert_int_equal(continues, 0);
    kz__http_parser_release(&hp);
}

static void test_malformed(void **state)
{
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "GET /%zz HTTP/1.1\r\n\r\n",
        "GET /a?b=%0 HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS ClientHello */
    };
    (void)state;

    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        parser_setup(100, 64);
        assert_int_equal(feed_str(bad[i], 1000, NULL), 400);
        assert_non_null(hp.error_reason);
        kz__http_parser_release(&hp);
    }
}

/* ---- responses --------------------------------------------------------------------- */

static void test_format(void **state)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    (void)state;

    kz__http_format(&sb, 405, "application/json", "Allow: GET, POST\r\n", true, "{}", 2);
    assert_string_equal(sb.buf, "HTTP/1.1 405 Method Not Allowed\r\n"
                                "Content-Type: application/json\r\n"
                                "Allow: GET, POST\r\n"
                                "Content-Length: 2\r\n"
                                "Connection: keep-alive\r\n\r\n{}");
    kz_sbuf_reset(&sb);
    kz__http_format(&sb, 200, NULL, NULL, false, NULL, 0);
    assert_string_equal(sb.buf, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n");
    assert_string_equal(kz__http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(kz__http_reason(599), "Unknown");
    kz_sbuf_release(&sb);
}

static void json_is(const char *in, size_t len, const char *want)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    kz_json_escape(&sb, in, len);
    assert_string_equal(sb.buf, want);
    kz_sbuf_release(&sb);
}

static void test_json_str(void **state)
{
    (void)state;
    json_is("", 0, "\"\"");
    json_is("plain", 5, "\"plain\"");
    json_is("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    json_is("l1\nl2\t\x01", 7, "\"l1\\u000al2\\u0009\\u0001\"");
    json_is("\xe6\x97\xa5\xe6\x9c\xac", 6, "\"\xe6\x97\xa5\xe6\x9c\xac\"");
    json_is("\xf0\x9f\x9a\x81", 4, "\"\xf0\x9f\x9a\x81\"");
    json_is("a\xffz", 3, "\"a\\ufffdz\"");                   /* invalid byte */
    json_is("\xe6\x97", 2, "\"\\ufffd\\ufffd\"");            /* truncated */
    json_is("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");            /* overlong */
    json_is("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    json_is("a\0b", 3, "\"a\\u0000b\"");
}

/* ---- bodies taken as streams ------------------------------------------------ */

struct streamed {
    struct kz_sbuf body;
    unsigned data_calls, heads, ends;
    bool pause_every_other;
    char path[32];
};

static bool stream_up(void *ud, struct kz_http_req *req)
{
    (void)ud;
    return strncmp(req->target.path, "/up", 3) == 0;
}

static int streamed_data(void *ud, const char *at, size_t len)
{
    struct streamed *st = ud;

    kz_sbuf_add(&st->body, at, len);
    st->data_calls++;
    return st->pause_every_other && st->data_calls % 2 ? KZ_ERR_AGAIN : KZ_OK;
}

/*
 * Feed `s` in pieces of `chunk` bytes as a connection would: take a streamed
 * request at its headers, go on after each pause; stop at a whole ordinary
 * request (its path in st->path).
 */
static void feed_streamed(const char *s, size_t chunk, struct streamed *st)
{
    size_t len = strlen(s), off = 0;
    bool again = false;

    while ((off < len || again) && !hp.ready) {
        size_t n = len - off < chunk ? len - off : chunk, used = 0;
        assert_int_equal(kz__http_parser_feed(&hp, s + off, n, &used), KZ_OK);
        off += used;
        again = hp.head_ready || hp.data_paused || hp.body_done;
        if (hp.head_ready) {
            struct kz_http_req *req = kz__http_parser_take(&hp);
            snprintf(st->path, sizeof(st->path), "%s", req->target.path);
            assert_true(req->keep_alive);
            kz__http_req_free(req);
            st->heads++;
        }
        st->ends += hp.body_done;
        kz__http_parser_go_on(&hp);
    }
}

static void test_parse_streamed(void **state)
{
    const char *reqs = "POST /up HTTP/1.1\r\nContent-Length: 40\r\n\r\n"
                       "0123456789012345678901234567890123456789"
                       "POST /up2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n1f\r\n, a body over max_body, chunked\r\n0\r\n\r\n"
                       "POST /up3 HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
                       "GET /after HTTP/1.1\r\n\r\n";
    (void)state;

    for (size_t chunk = 1; chunk <= 256; chunk *= 4) {
        for (int pause = 0; pause < 2; pause++) {
            struct streamed st = {KZ_SBUF_INIT, 0, 0, 0, pause == 1, ""};
            parser_setup(16, 64); /* max_body does not bound a streamed body */
            hp.stream_body = stream_up;
            hp.on_data = streamed_data;
            hp.ud = &st;
            feed_streamed(reqs, chunk, &st);
            assert_int_equal(st.heads, 3);
            assert_int_equal(st.ends, 3);
            assert_true(hp.ready);
            assert_string_equal(hp.req->target.path, "/after");
            assert_int_equal(hp.req->body.len, 0);
            assert_int_equal(st.body.len, 40 + 36);
            assert_memory_equal(st.body.buf,
                                "0123456789012345678901234567890123456789"
                                "hello, a body over max_body, chunked",
                                st.body.len);
            kz_sbuf_release(&st.body);
            kz__http_parser_release(&hp);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_decode),     cmocka_unit_test(test_target_path),
        cmocka_unit_test(test_query_string),       cmocka_unit_test(test_query_bounded),
        cmocka_unit_test(test_parse_simple),       cmocka_unit_test(test_parse_pipelined),
        cmocka_unit_test(test_parse_http10),       cmocka_unit_test(test_parse_chunked),
        cmocka_unit_test(test_parse_upgrade),      cmocka_unit_test(test_limit_header_bytes),
        cmocka_unit_test(test_limit_header_count), cmocka_unit_test(test_limit_body),
        cmocka_unit_test(test_expect_continue),    cmocka_unit_test(test_parse_streamed),
        cmocka_unit_test(test_malformed),          cmocka_unit_test(test_format),
        cmocka_unit_test(test_json_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
