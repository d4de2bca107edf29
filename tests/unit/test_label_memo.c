/*
 * Unit tests for struct kz_label_memo: every answer, remembered or not, is
 * what kz_label_parse() and kz_label_format() give for the same banner and
 * policy, and a slot never answers for a policy that changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "label/label.h"

static const char *const banners[] = {
    "SECRET//REL TO USA, JPN",
    "SECRET//NOFORN",
    "secret // rel to jpn, usa",
    "UNCLASSIFIED",
    "U//FOUO",
    "TOP SECRET//REL TO USA, FVEY",
    "CONFIDENTIAL//REL TO USA, NATO",
    "//JPN SECRET//REL TO USA, JPN",
    "SECRET//FGI JPN//REL TO USA, JPN",
    "//JOINT SECRET JPN USA//REL TO USA, JPN",
    "SECRET//REL TO JPN",
    "SECRET//REL TO USA, XYZW",
    "BOGUS",
    "",
    "S//NF//RELIDO",
    "TS//ORCON//NOFORN",
};

/* The memo's answer for `s` against parse and format called directly. */
static void same_as_direct(struct kz_label_memo *m, const struct kz_label_policy *p, const char *s,
                           size_t len)
{
    struct kz_label a, b;
    const struct kz_sbuf *canon = (const struct kz_sbuf *)&canon;
    struct kz_sbuf direct = KZ_SBUF_INIT;

    int ra = kz_label_memo_parse(m, p, s, len, &a, &canon);
    int rb = kz_label_parse(p, s, len, &b, NULL, 0);
    assert_int_equal(ra, rb);
    assert_memory_equal(&a, &b, sizeof(a));
    if (rb == KZ_OK) {
        if (kz_label_format(p, &b, &direct) == KZ_OK) {
            assert_non_null(canon);
            assert_int_equal(canon->len, direct.len);
            assert_memory_equal(canon->buf, direct.buf, direct.len);
        } else {
            assert_null(canon);
        }
    }
    kz_sbuf_release(&direct);
}

static void test_same_as_direct(void **state)
{
    struct kz_label_policy us;
    struct kz_label_memo m = {0};

    (void)state;
    kz_label_policy_init_default(&us);
    /* Three rounds: misses, then hits, with slots replaced in between. */
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof(banners) / sizeof(banners[0]); i++) {
            same_as_direct(&m, &us, banners[i], strlen(banners[i]));
            same_as_direct(&m, &us, banners[0], strlen(banners[0]));
        }
    /* A prefix of a remembered banner is another banner. */
    same_as_direct(&m, &us, banners[0], 6);
    kz_label_memo_release(&m);
}

static void test_long_banner(void **state)
{
    struct kz_label_policy us;
    struct kz_label_memo m = {0};
    struct kz_sbuf s = KZ_SBUF_INIT;

    (void)state;
    kz_label_policy_init_default(&us);
    kz_sbuf_adds(&s, "SECRET//REL TO USA");
    while (s.len < KZ_LABEL_MEMO_TEXT + 8)
        kz_sbuf_adds(&s, ", JPN");
    for (int i = 0; i < 3; i++)
        same_as_direct(&m, &us, s.buf, s.len);
    kz_sbuf_release(&s);
    kz_label_memo_release(&m);
}

/* A tetragraph added, a home set, another policy at the same address: no stale answer. */
static void test_policy_changes(void **state)
{
    static const char *const fred[] = {"USA", "JPN"};
    struct kz_label_policy p;
    struct kz_label_memo m = {0};
    const char *s = "SECRET//REL TO USA, FRED";

    (void)state;
    kz_label_policy_init_default(&p);
    same_as_direct(&m, &p, s, strlen(s)); /* FRED unknown: refused */
    assert_int_equal(kz_label_policy_add_tetragraph(&p, "FRED", fred, 2, NULL, 0), KZ_OK);
    same_as_direct(&m, &p, s, strlen(s)); /* now known */
    kz_label_policy_set_home(&p, kz_nation_index("JPN", 3));
    same_as_direct(&m, &p, s, strlen(s));
    kz_label_policy_init_default(&p);
    same_as_direct(&m, &p, s, strlen(s));
    kz_label_policy_init(&p, 7, "EMPTY"); /* no level names: nothing parses */
    same_as_direct(&m, &p, s, strlen(s));
    kz_label_memo_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_direct),
        cmocka_unit_test(test_long_banner),
        cmocka_unit_test(test_policy_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
