/* Unit tests for the JSON string escaper, the UTF-8 decoder and string lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

static void json_is(const char *in, size_t len, const char *want)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    kz_json_escape(&sb, in, len);
    assert_string_equal(sb.buf, want);
    assert_int_equal(sb.len, strlen(want));
    kz_sbuf_release(&sb);
}

static void test_json_plain(void **state)
{
    (void)state;
    json_is("", 0, "\"\"");
    json_is("plain", 5, "\"plain\"");
    json_is("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    json_is("/<>'&", 5, "\"/<>'&\"");
}

static void test_json_control(void **state)
{
    (void)state;
    json_is("l1\nl2\t\x01", 7, "\"l1\\u000al2\\u0009\\u0001\"");
    json_is("a\0b", 3, "\"a\\u0000b\"");
    json_is("\r\x1f\x7f", 3, "\"\\u000d\\u001f\\u007f\"");
}

static void test_json_utf8(void **state)
{
    (void)state;
    json_is("\xe6\x97\xa5\xe6\x9c\xac", 6, "\"\xe6\x97\xa5\xe6\x9c\xac\"");
    json_is("\xf0\x9f\x9a\x81", 4, "\"\xf0\x9f\x9a\x81\"");
    json_is("\xc3\xa9", 2, "\"\xc3\xa9\"");
    /* U+2028/U+2029 are valid in JSON strings and have always been copied. */
    json_is("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\xe2\x80\xa8\xe2\x80\xa9\"");
}

static void test_json_invalid_utf8(void **state)
{
    (void)state;
    json_is("a\xffz", 3, "\"a\\ufffdz\"");                              /* invalid byte */
    json_is("\xe6\x97", 2, "\"\\ufffd\\ufffd\"");                       /* truncated */
    json_is("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");                       /* overlong */
    json_is("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");            /* surrogate */
    json_is("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    json_is("\x80x", 2, "\"\\ufffdx\"");                                /* lone continuation */
    json_is("\xc3\xa9\xc3", 3, "\"\xc3\xa9\\ufffd\"");                  /* truncated at the end */
}

static void test_json_appends(void **state)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;

    (void)state;
    kz_sbuf_adds(&sb, "{\"k\":");
    kz_json_escape(&sb, "v\"", 2);
    kz_sbuf_adds(&sb, "}");
    assert_string_equal(sb.buf, "{\"k\":\"v\\\"\"}");
    kz_sbuf_release(&sb);
}

static void seq_is(const char *s, size_t n, size_t want_len, uint32_t want_cp)
{
    uint32_t cp = 0xDEAD;
    assert_int_equal(kz_utf8_seq((const unsigned char *)s, n, &cp), want_len);
    assert_int_equal(cp, want_len ? want_cp : 0xDEAD);
}

static void test_utf8_seq(void **state)
{
    (void)state;
    seq_is("A", 1, 1, 'A');
    seq_is("\xc3\xa9", 2, 2, 0xE9);
    seq_is("\xe2\x80\xa8", 3, 3, 0x2028);
    seq_is("\xf0\x9f\x9a\x81", 4, 4, 0x1F681);
    seq_is("\xef\xbf\xbf", 3, 3, 0xFFFF);
    seq_is("\xc1\xbf", 2, 0, 0);         /* overlong */
    seq_is("\xe0\x9f\xbf", 3, 0, 0);     /* overlong */
    seq_is("\xf0\x8f\xbf\xbf", 4, 0, 0); /* overlong */
    seq_is("\xed\xbf\xbf", 3, 0, 0);     /* surrogate */
    seq_is("\xf5\x80\x80\x80", 4, 0, 0); /* past U+10FFFF */
    seq_is("\xe2\x80", 2, 0, 0);         /* truncated */
    seq_is("\xe2\x28\xa1", 3, 0, 0);     /* bad continuation */
}

static void test_strv_split(void **state)
{
    unsigned n = 99;
    char **v;

    (void)state;
    v = kz_strv_split("a,,bc,", &n);
    assert_int_equal(n, 2);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[1], "bc");
    kz_strv_free(v, n);
    v = kz_strv_split("", &n);
    assert_null(v);
    assert_int_equal(n, 0);
    kz_strv_free(v, n);
    v = kz_strv_split(NULL, &n);
    assert_null(v);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_plain),   cmocka_unit_test(test_json_control),
        cmocka_unit_test(test_json_utf8),    cmocka_unit_test(test_json_invalid_utf8),
        cmocka_unit_test(test_json_appends), cmocka_unit_test(test_utf8_seq),
        cmocka_unit_test(test_strv_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
