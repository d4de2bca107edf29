/*
 * Unit tests for the response parser the command-line clients use
 * (src/http/reply.c): each framing, and every way an answer can be bad.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http/http.h"

static int parse(const char *text, size_t max, struct kz_http_reply *r, char *err)
{
    return kz_http_reply_parse(text, strlen(text), max, r, err, 200);
}

static void expect_body(const char *text, int status, const char *body)
{
    struct kz_http_reply r;
    char err[200] = "";

    if (parse(text, 1 << 20, &r, err) != KZ_OK)
        fail_msg("refused (%s): %s", err, text);
    assert_int_equal(r.status, status);
    assert_int_equal(r.body.len, strlen(body));
    assert_memory_equal(r.body.len ? r.body.buf : "", body, strlen(body));
    kz_http_reply_release(&r);
}

static void expect_refused(const char *text, size_t max, const char *why)
{
    struct kz_http_reply r;
    char err[200] = "";

    assert_int_equal(parse(text, max, &r, err), KZ_ERR_PARSE);
    if (!strstr(err, why))
        fail_msg("want '%s', got '%s' for: %s", why, err, text);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.body.len, 0);
    kz_http_reply_release(&r);
}

static void test_framings(void **state)
{
    (void)state;
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello");
    expect_body("HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                "\r\n{}",
                409, "{}");
    expect_body(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        200, "abcde");
    expect_body("HTTP/1.0 200 OK\r\n\r\nto the end", 200, "to the end");
    expect_body("HTTP/1.1 204 No Content\r\n\r\n", 204, "");
    /* What follows the answer (there is none on Connection: close) is not read. */
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE", 200, "ok");
}

static void test_refused(void **state)
{
    (void)state;
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", 1 << 20, "cut short");
    expect_refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 1 << 20,
                   "cut short");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Le", 1 << 20, "cut short");
    expect_refused("", 1 << 20, "cut short");
    expect_refused("SSH-2.0-OpenSSH\r\n", 1 << 20, "");
    /* Found by fuzz_http_reply: llhttp reads a status of 0 here. */
    expect_refused("HTTP/1.0  0O0K2di1 200b\n\r0c\non\n", 1 << 20, "not an HTTP status");
    expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 4, "too large");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framings),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
