/* Unit tests for TAK protocol frame headers: varints, limits, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cot/cot.h"

static void test_roundtrip(void **state)
{
    static const uint64_t lens[] = {0, 1, 127, 128, 295, 16383, 16384, 65536, 1u << 30};
    unsigned char buf[16];
    size_t hl, pl;

    (void)state;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = kz_takp_put_header(buf, lens[i]);
        assert_int_equal(kz_takp_header(buf, n, SIZE_MAX, &hl, &pl), KZ_OK);
        assert_int_equal(hl, n);
        assert_int_equal(pl, lens[i]);
        assert_int_equal(kz_takp_header(buf, n - 1, SIZE_MAX, &hl, &pl), KZ_ERR_AGAIN);
    }
    /* The worked example: 295 bytes frame as bf a7 02. */
    assert_int_equal(kz_takp_put_header(buf, 295), 3);
    assert_int_equal(buf[1], 0xa7);
    assert_int_equal(buf[2], 0x02);
}

static void test_bad(void **state)
{
    static const unsigned char nomagic[] = {0x3c, 0x01};
    static const unsigned char long_varint[] = {0xbf, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0x7f};
    static const unsigned char eleven[] = {0xbf, 0x80, 0x80, 0x80, 0x80, 0x80,
                                           0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    unsigned char buf[16];
    size_t hl, pl;

    (void)state;
    assert_int_equal(kz_takp_header(nomagic, 2, 100, &hl, &pl), KZ_ERR_PARSE);
    assert_int_equal(kz_takp_header(long_varint, sizeof(long_varint), SIZE_MAX, &hl, &pl),
                     KZ_ERR_PARSE);
    assert_int_equal(kz_takp_header(eleven, sizeof(eleven), SIZE_MAX, &hl, &pl), KZ_ERR_PARSE);
    size_t n = kz_takp_put_header(buf, 65537);
    assert_int_equal(kz_takp_header(buf, n, 65536, &hl, &pl), KZ_ERR_TOOBIG);
    assert_int_equal(kz_takp_header(buf, 0, 65536, &hl, &pl), KZ_ERR_AGAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
