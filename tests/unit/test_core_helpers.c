/*
 * Unit tests for the generic helpers in core/: the arena (alignment, big
 * allocations, release and reuse) and the base64 codec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

/* ---- arena ------------------------------------------------------------------ */

static void test_arena(void **state)
{
    struct kz_arena a = {0};
    (void)state;

    for (int i = 0; i < 1000; i++) {
        char *p = kz_arena_alloc(&a, (size_t)i);
        assert_true(((uintptr_t)p & 15) == 0);
        memset(p, 'x', (size_t)i);
    }
    char *big = kz_arena_alloc(&a, 100000);
    memset(big, 0, 100000);
    assert_string_equal(kz_arena_strndup(&a, "hello world", 5), "hello");
    kz_arena_release(&a);
    assert_null(a.head);
    kz_arena_release(&a);
}

/* ---- base64 --------------------------------------------------------------- */

static void roundtrip(const char *plain, const char *enc)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    unsigned char out[256];
    size_t n = 0;

    kz_base64_append(&sb, (const unsigned char *)plain, strlen(plain));
    kz_sbuf_add(&sb, "", 1);
    assert_string_equal(sb.buf, enc);
    assert_int_equal(kz_base64_decode(enc, strlen(enc), out, sizeof(out), &n), KZ_OK);
    assert_int_equal(n, strlen(plain));
    assert_memory_equal(out, plain, n);
    kz_sbuf_release(&sb);
}

static void test_base64(void **state)
{
    unsigned char out[8];
    size_t n;

    (void)state;
    roundtrip("", "");
    roundtrip("f", "Zg==");
    roundtrip("fo", "Zm8=");
    roundtrip("foo", "Zm9v");
    roundtrip("foobar", "Zm9vYmFy");
    roundtrip("alpha2:correct horse battery", "YWxwaGEyOmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==");
    assert_int_equal(kz_base64_decode("Zm9", 3, out, sizeof(out), &n), KZ_ERR_PARSE);
    assert_int_equal(kz_base64_decode("Zm=v", 4, out, sizeof(out), &n), KZ_ERR_PARSE);
    assert_int_equal(kz_base64_decode("=m9v", 4, out, sizeof(out), &n), KZ_ERR_PARSE);
    assert_int_equal(kz_base64_decode("Zg==Zg==", 8, out, sizeof(out), &n), KZ_ERR_PARSE);
    assert_int_equal(kz_base64_decode("Zm 9", 4, out, sizeof(out), &n), KZ_ERR_PARSE);
    assert_int_equal(kz_base64_decode("Zm9vYmFyYmF6", 12, out, sizeof(out), &n), KZ_ERR_TOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
