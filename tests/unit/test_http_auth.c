/*
 * Unit tests for the engine's header helpers: HTTP Basic credentials and
 * Accept negotiation (JSON, XML or 400).
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

/* ---- Basic credentials ------------------------------------------------------ */

static int basic(const char *value, char *user, char *pass)
{
    return kz_http_basic_auth(value, user, pass);
}

static void test_basic_ok(void **state)
{
    char user[KZ_HTTP_MAX_USER + 1], pass[KZ_HTTP_MAX_PASSWORD + 1];

    (void)state;
    assert_int_equal(basic("Basic YWxwaGEyOmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==", user, pass), KZ_OK);
    assert_string_equal(user, "alpha2");
    assert_string_equal(pass, "correct horse battery");
    /* Scheme is case-insensitive; surrounding blanks are allowed. */
    assert_int_equal(basic("  basic   dTpwOnE=  ", user, pass), KZ_OK);
    assert_string_equal(user, "u");
    assert_string_equal(pass, "p:q"); /* only the first ':' splits */
    assert_int_equal(basic("BASIC dTo=", user, pass), KZ_OK);
    assert_string_equal(pass, ""); /* an empty password is for the check to refuse */
}

static void test_basic_bad(void **state)
{
    char user[KZ_HTTP_MAX_USER + 1], pass[KZ_HTTP_MAX_PASSWORD + 1];
    char big[1024];

    (void)state;
    assert_int_equal(basic(NULL, user, pass), KZ_ERR_NOTFOUND);
    assert_int_equal(basic("", user, pass), KZ_ERR_NOTFOUND);
    assert_int_equal(basic("Bearer abc", user, pass), KZ_ERR_NOTFOUND);
    assert_int_equal(basic("Basicdtpw", user, pass), KZ_ERR_NOTFOUND);
    assert_int_equal(basic("Basic !!!!", user, pass), KZ_ERR_PARSE);
    assert_int_equal(basic("Basic dXNlcg==", user, pass), KZ_ERR_PARSE); /* "user": no ':' */
    assert_int_equal(basic("Basic OnB3", user, pass), KZ_ERR_PARSE);     /* ":pw": no user */
    assert_int_equal(basic("Basic dQp4OnA=", user, pass), KZ_ERR_PARSE); /* "u\nx:p" */
    assert_int_equal(basic("Basic dQB4OnA=", user, pass), KZ_ERR_PARSE); /* "u\0x:p" */
    assert_string_equal(user, "");
    /* Longer than user + ':' + password can be: refused before decoding overflows. */
    memcpy(big, "Basic ", 6);
    memset(big + 6, 'Q', 600);
    big[606] = '\0';
    assert_int_equal(basic(big, user, pass), KZ_ERR_TOOBIG);
}

static void test_basic_user_limit(void **state)
{
    char user[KZ_HTTP_MAX_USER + 1], pass[KZ_HTTP_MAX_PASSWORD + 1];
    char raw[KZ_HTTP_MAX_USER + 8];
    struct kz_sbuf sb = KZ_SBUF_INIT;

    (void)state;
    memset(raw, 'u', KZ_HTTP_MAX_USER + 1);
    memcpy(raw + KZ_HTTP_MAX_USER + 1, ":p", 3);
    kz_sbuf_adds(&sb, "Basic ");
    kz_base64_append(&sb, (const unsigned char *)raw, strlen(raw));
    kz_sbuf_add(&sb, "", 1);
    assert_int_equal(basic(sb.buf, user, pass), KZ_ERR_TOOBIG);
    kz_sbuf_release(&sb);
}

/* ---- Accept ---------------------------------------------------------------- */

static void test_accept(void **state)
{
    (void)state;
    assert_int_equal(kz_http_accept_fmt(NULL), KZ_HTTP_FMT_JSON);
    assert_int_equal(kz_http_accept_fmt(""), KZ_HTTP_FMT_JSON);
    assert_int_equal(kz_http_accept_fmt("  "), KZ_HTTP_FMT_JSON);
    assert_int_equal(kz_http_accept_fmt("*/*"), KZ_HTTP_FMT_JSON);
    assert_int_equal(kz_http_accept_fmt("application/json"), KZ_HTTP_FMT_JSON);
    assert_int_equal(kz_http_accept_fmt("Application/JSON; charset=utf-8"), KZ_HTTP_FMT_JSON);
    assert_int_equal(kz_http_accept_fmt("application/xml"), KZ_HTTP_FMT_XML);
    assert_int_equal(kz_http_accept_fmt("text/xml"), KZ_HTTP_FMT_XML);
    /* The first acceptable entry wins. */
    assert_int_equal(kz_http_accept_fmt("application/xml, application/json"), KZ_HTTP_FMT_XML);
    assert_int_equal(kz_http_accept_fmt("text/html, application/json"), KZ_HTTP_FMT_JSON);
    assert_int_equal(kz_http_accept_fmt("text/html,application/xml;q=0.9,*/*;q=0.8"),
                     KZ_HTTP_FMT_XML);
    /* q=0 means "not this one". */
    assert_int_equal(kz_http_accept_fmt("application/xml;q=0, application/json"), KZ_HTTP_FMT_JSON);
    assert_int_equal(kz_http_accept_fmt("application/json; q=0.0"), KZ_HTTP_FMT_NONE);
    assert_int_equal(kz_http_accept_fmt("text/plain"), KZ_HTTP_FMT_NONE);
    assert_int_equal(kz_http_accept_fmt("application/octet-stream"), KZ_HTTP_FMT_NONE);
    assert_int_equal(kz_http_accept_fmt("application/jsonx"), KZ_HTTP_FMT_NONE);
    assert_int_equal(kz_http_accept_fmt(",,,"), KZ_HTTP_FMT_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_ok),
        cmocka_unit_test(test_basic_bad),
        cmocka_unit_test(test_basic_user_limit),
        cmocka_unit_test(test_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
