/*
 * Unit tests for src/auth/backoff.c: failed passwords per key back off
 * exponentially from the 5th, capped, bounded in keys (security review F14).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "auth/auth.h"

#define S 1000000LL

static void test_schedule(void **state)
{
    struct kz_backoff *b = kz_backoff_new(16);
    int64_t t = 100 * S;

    KZ_UNUSED(state);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(kz_backoff_fail(b, "u:ops", t), 0);
        assert_int_equal(kz_backoff_wait(b, "u:ops", t), 0);
    }
    assert_int_equal(kz_backoff_fail(b, "u:ops", t), 1 * S);
    assert_int_equal(kz_backoff_wait(b, "u:ops", t), 1 * S);
    assert_int_equal(kz_backoff_wait(b, "u:ops", t + S / 2), S / 2);
    assert_int_equal(kz_backoff_wait(b, "u:ops", t + S), 0);
    assert_int_equal(kz_backoff_wait(b, "u:OPS", t), 0); /* another key */
    assert_int_equal(kz_backoff_fail(b, "u:ops", t), 2 * S);
    assert_int_equal(kz_backoff_fail(b, "u:ops", t), 4 * S);
    for (int i = 0; i < 20; i++)
        kz_backoff_fail(b, "u:ops", t);
    assert_int_equal(kz_backoff_wait(b, "u:ops", t), 60 * S);
    kz_backoff_forget(b, "u:ops");
    assert_int_equal(kz_backoff_wait(b, "u:ops", t), 0);
    assert_int_equal(kz_backoff_fail(b, "u:ops", t), 0);
    kz_backoff_free(b);
}

static void test_quiet_key_starts_afresh(void **state)
{
    struct kz_backoff *b = kz_backoff_new(16);

    KZ_UNUSED(state);
    for (int i = 0; i < 5; i++)
        kz_backoff_fail(b, "p:10.0.0.1", S);
    assert_true(kz_backoff_wait(b, "p:10.0.0.1", S) > 0);
    assert_int_equal(kz_backoff_fail(b, "p:10.0.0.1", 20 * 60 * S), 0);
    kz_backoff_free(b);
}

static void test_bounded(void **state)
{
    struct kz_backoff *b = kz_backoff_new(4);
    char key[32];

    KZ_UNUSED(state);
    for (int i = 0; i < 5; i++)
        kz_backoff_fail(b, "u:target", 10 * S);
    /* Four newer keys: the oldest (the target) makes room. */
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "u:n%d", i);
        kz_backoff_fail(b, key, 11 * S + i);
    }
    assert_int_equal(kz_backoff_wait(b, "u:target", 10 * S), 0);
    assert_int_equal(kz_backoff_fail(b, "u:n0", 12 * S), 0); /* still counting: 2 */
    kz_backoff_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_quiet_key_starts_afresh),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
