/* Unit tests for the label parser, formatter, nation table and policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "label/label.h"

static struct kz_label_policy us;

static int setup(void **state)
{
    (void)state;
    kz_label_policy_init_default(&us);
    return 0;
}

/* Parse `in`, format it, compare with `want`; then the canonical form is a fixed point. */
static void canon(const char *in, const char *want)
{
    struct kz_label l, again;
    struct kz_sbuf sb = KZ_SBUF_INIT, sb2 = KZ_SBUF_INIT;
    char err[256];

    if (kz_label_parse(&us, in, strlen(in), &l, err, sizeof(err)) != KZ_OK)
        fail_msg("'%s' did not parse: %s", in, err);
    assert_int_equal(kz_label_format(&us, &l, &sb), KZ_OK);
    if (strcmp(sb.buf, want) != 0)
        fail_msg("'%s' -> '%s', want '%s'", in, sb.buf, want);
    assert_int_equal(kz_label_parse(&us, sb.buf, sb.len, &again, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_label_format(&us, &again, &sb2), KZ_OK);
    assert_string_equal(sb2.buf, want);
    assert_memory_equal(&l, &again, sizeof(l));
    kz_sbuf_release(&sb);
    kz_sbuf_release(&sb2);
}

static void bad(const char *in, int want_rc, const char *want_substr)
{
    struct kz_label l;
    char err[256];
    int rc = kz_label_parse(&us, in, strlen(in), &l, err, sizeof(err));

    if (rc == KZ_OK)
        fail_msg("'%s' parsed but must not", in);
    assert_int_equal(rc, want_rc);
    if (strstr(err, want_substr) == NULL)
        fail_msg("'%s': error '%s' lacks '%s'", in, err, want_substr);
    /* A failed parse leaves an invalid label, which nothing releases. */
    assert_int_equal(l.level, KZ_LEVEL_INVALID);
}

static void test_valid(void **state)
{
    static const char *const cases[][2] = {
        {"UNCLASSIFIED", "UNCLASSIFIED"},
        {"U", "UNCLASSIFIED"},
        {"unclassified", "UNCLASSIFIED"},
        {"  Secret\t", "SECRET"},
        {"C", "CONFIDENTIAL"},
        {"TS", "TOP SECRET"},
        {"top secret", "TOP SECRET"},
        {"TOP \t SECRET", "TOP SECRET"},
        /* REL TO order: USA first, trigraphs alphabetical, tetragraphs last. */
        {"SECRET//REL TO USA, JPN", "SECRET//REL TO USA, JPN"},
        {"SECRET//REL TO JPN, USA", "SECRET//REL TO USA, JPN"},
        {"SECRET//REL TO PHL, JPN, USA", "SECRET//REL TO USA, JPN, PHL"},
        {"SECRET//REL TO AUS, USA, ZWE, ABW", "SECRET//REL TO USA, ABW, AUS, ZWE"},
        {"SECRET//REL TO USA, FVEY", "SECRET//REL TO USA, FVEY"},
        {"SECRET//REL TO FVEY, USA", "SECRET//REL TO USA, FVEY"},
        {"SECRET//REL TO NATO, FVEY, GBR, USA", "SECRET//REL TO USA, GBR, FVEY, NATO"},
        {"S//REL TO USA, FVEY", "SECRET//REL TO USA, FVEY"},
        /* Whitespace and case around every separator. */
        {"secret//rel to usa,jpn", "SECRET//REL TO USA, JPN"},
        {" SECRET // REL TO USA ,JPN , KOR ", "SECRET//REL TO USA, JPN, KOR"},
        {"SECRET//REL  \tTO   usa, gbr", "SECRET//REL TO USA, GBR"},
        {"s//Rel To Jpn,usa", "SECRET//REL TO USA, JPN"},
        /* Caveats, abbreviations and register order. */
        {"CONFIDENTIAL//NOFORN", "CONFIDENTIAL//NOFORN"},
        {"TS//NF", "TOP SECRET//NOFORN"},
        {"S//NF/OC", "SECRET//ORCON/NOFORN"},
        {"SECRET//NOFORN / ORCON", "SECRET//ORCON/NOFORN"},
        {"U//FOUO/REL TO USA, JPN", "UNCLASSIFIED//FOUO/REL TO USA, JPN"},
        {"U//FOUO", "UNCLASSIFIED//FOUO"},
        {"SECRET//RELIDO/REL TO JPN, USA", "SECRET//REL TO USA, JPN/RELIDO"},
        {"SECRET//RELIDO/REL TO USA, GBR/ORCON", "SECRET//ORCON/REL TO USA, GBR/RELIDO"},
        {"SECRET//RELIDO", "SECRET//RELIDO"},
        /* CUI beside legacy FOUO (DoDI 5200.48). */
        {"cui", "CUI"},
        {"CUI//REL TO JPN, USA", "CUI//REL TO USA, JPN"},
        /* FGI, wholly foreign and JOINT (domain review item 5). */
        {"SECRET//FGI JPN//REL TO USA, JPN", "SECRET//FGI JPN//REL TO USA, JPN"},
        {"S // fgi  KOR JPN // NF", "SECRET//FGI JPN KOR//NOFORN"},
        {"//JPN SECRET//REL TO USA, JPN", "//JPN SECRET//REL TO USA, JPN"},
        {"//jpn top secret", "//JPN TOP SECRET"},
        {"//JPN SECRET//REL TO JPN, PHL", "//JPN SECRET//REL TO JPN, PHL"},
        {"//JOINT SECRET USA JPN//REL TO USA, JPN", "//JOINT SECRET JPN USA//REL TO USA, JPN"},
        {"//JOINT TOP SECRET PHL JPN", "//JOINT TOP SECRET JPN PHL"},
        {"//JOINT S JPN PHL//REL TO JPN, PHL", "//JOINT SECRET JPN PHL//REL TO JPN, PHL"},
        {"U//REL TO USA, JPN, KOR", "UNCLASSIFIED//REL TO USA, JPN, KOR"},
    };
    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(cases); i++)
        canon(cases[i][0], cases[i][1]);
}

static void test_invalid(void **state)
{
    static const struct {
        const char *in;
        const char *err;
    } cases[] = {
        {"", "empty label"},
        {"   ", "empty label"},
        {"SECRETT", "unknown classification level 'SECRETT'"},
        {"RESTRICTED//REL TO USA, GBR",
         "RESTRICTED is a foreign level with no equivalent in policy US"},
        {"TOPSECRET", "unknown classification level"},
        {"//NOFORN", "expected a country code or JOINT at byte 2"},
        {"//", "missing classification level"},
        /* The marking rules (domain review item 3). */
        {"SECRET//NOFORN/RELIDO", "NOFORN cannot be combined with RELIDO (ISM-ID-00169)"},
        {"SECRET//FOUO", "FOUO is for UNCLASSIFIED information only (ISM-ID-00030)"},
        {"C//FOUO/REL TO USA, JPN", "FOUO is for UNCLASSIFIED"},
        {"UNCLASSIFIED//ORCON", "ORCON needs CONFIDENTIAL or above (ISM-ID-00028)"},
        {"SECRET//REL TO JPN", "REL TO must list USA, the policy's own nation (ISM-ID-00214)"},
        {"SECRET//REL TO JPN, PHL", "REL TO must list USA"},
        {"SECRET//REL TO FVEY", "REL TO must list USA"},
        {"SECRET//REL TO USA", "REL TO needs more than one code (ISM-ID-00319)"},
        {"CUI//FOUO", "FOUO is the legacy form of CUI"},
        {"SECRET//FGI JPN//REL TO USA, JPN/RELIDO",
         "RELIDO cannot mark foreign (FGI or JOINT) information (ISM-ID-00233/00234)"},
        {"//JPN SECRET//RELIDO", "RELIDO cannot mark foreign"},
        {"//JOINT SECRET JPN USA//RELIDO", "RELIDO cannot mark foreign"},
        {"SECRET//FGI USA", "FGI lists USA, the policy's own nation"},
        {"SECRET//FGI", "empty FGI list"},
        {"SECRET//FGI XYZ", "unknown country code 'XYZ' in FGI"},
        {"SECRET//FGI JPN JPN", "duplicate code 'JPN' in FGI"},
        {"//JPN SECRET//FGI KOR", "foreign or JOINT information is not marked FGI"},
        {"//JOINT SECRET JPN", "JOINT needs two or more nations"},
        {"//JOINT SECRET", "JOINT needs two or more nations"},
        {"//XYZ SECRET", "expected a country code or JOINT"},
        {"//USA SECRET", "//USA marks foreign information, but USA is the policy's own nation"},
        {"//JPN", "expected a country code or JOINT"},
        {"//JOINT SECRET JPN USA//REL TO JPN, PHL", "REL TO must list USA"},
        {"//JOINT CUI JPN USA", "CUI is a US marking"},
        {"SECRET//REL TO USA, XYZ", "unknown country or organization code 'XYZ' at byte 20"},
        {"SECRET//REL TO USA, US", "unknown country or organization code 'US'"},
        {"SECRET//REL TO USA, ABCD", "unknown country or organization code 'ABCD'"},
        {"SECRET//REL TO USA, JPN, jpn", "duplicate code 'jpn' in REL TO"},
        {"SECRET//REL TO FVEY, USA, FVEY", "duplicate code 'FVEY'"},
        {"SECRET//NOFORN/REL TO USA", "NOFORN cannot be combined with REL TO"},
        {"SECRET//REL TO USA, JPN/NF", "NOFORN cannot be combined with REL TO"},
        {"SECRET//REL TO", "empty REL TO list"},
        {"SECRET//REL TO   ", "empty REL TO list"},
        {"SECRET//REL TO USA, GBR/REL TO JPN", "REL TO given twice"},
        {"SECRET//REL USA", "expected 'REL TO'"},
        {"SECRET//REL", "expected 'REL TO'"},
        {"SECRET//FOO", "unknown dissemination control 'FOO'"},
        {"SECRET//RELTO USA", "unknown dissemination control 'RELTO USA'"},
        {"SECRET//NOFORN/NF", "duplicate control 'NOFORN'"},
        {"SECRET///NOFORN", "'///' at byte 6"},
        {"SECRET//", "trailing '//' at byte 6"},
        {"SECRET//  ", "trailing '//'"},
        {"SECRET//NOFORN//", "trailing '//' at byte 14"},
        {"SECRET//REL TO USA//NOFORN", "unexpected '//' at byte 18"},
        {"SECRET/NOFORN", "single '/' at byte 6"},
        {"SECRET//NOFORN/", "trailing '/' at byte 14"},
        {"SECRET// /NOFORN", "empty control before '/'"},
        {"SECRET//REL TO USA JPN", "missing comma between 'USA' and 'JPN'"},
        {"SECRET//REL TO USA,, JPN", "empty code in REL TO list at byte 19"},
        {"SECRET//REL TO USA,", "empty code in REL TO list"},
        {"SECRET//REL TO ,USA", "empty code in REL TO list"},
        {"SECRET\n", "control byte 0x0a at byte 6"},
        {"SECRET\x7f", "control byte 0x7f"},
    };
    (void)state;
    for (size_t i = 0; i < KZ_ARRAY_LEN(cases); i++)
        bad(cases[i].in, KZ_ERR_PARSE, cases[i].err);
}

static void test_limits(void **state)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_label l;
    char err[128];
    (void)state;

    kz_sbuf_adds(&sb, "SECRET//REL TO USA");
    while (sb.len <= KZ_LABEL_MAX_LEN)
        kz_sbuf_adds(&sb, ",   ");
    bad(sb.buf, KZ_ERR_TOOBIG, "over the limit of 2048");
    /* An embedded NUL is a control byte, not the end of the label. */
    assert_int_equal(kz_label_parse(&us, "SECRET\0//NOFORN", 15, &l, err, sizeof(err)),
                     KZ_ERR_PARSE);
    assert_non_null(strstr(err, "control byte 0x00 at byte 6"));
    /* `len` bounds the input: a label need not be NUL-terminated. */
    assert_int_equal(kz_label_parse(&us, "SECRET//NOFORNxyz", 14, &l, err, sizeof(err)), KZ_OK);
    assert_true((l.caveats & KZ_CAVEAT_NOFORN) != 0);
    /* err may be NULL. */
    assert_int_equal(kz_label_parse(&us, "BOGUS", 5, &l, NULL, 0), KZ_ERR_PARSE);
    /* Long tokens are truncated in messages. */
    kz_sbuf_reset(&sb);
    kz_sbuf_adds(&sb, "SECRET//REL TO ");
    for (int i = 0; i < 100; i++)
        kz_sbuf_adds(&sb, "Q");
    bad(sb.buf, KZ_ERR_PARSE, "QQQ...' at byte 15");
    kz_sbuf_release(&sb);
}

/* Every ISO code round-trips; the largest REL TO still fits the limit. */
static void test_every_nation(void **state)
{
    struct kz_sbuf in = KZ_SBUF_INIT, out = KZ_SBUF_INIT;
    struct kz_label l;
    char err[128];
    (void)state;

    assert_int_equal(kz_nation_count(), 249);
    assert_int_equal(kz_nation_index("USA", 3), kz_nation_index("usa", 3));
    assert_int_equal(kz_nation_index("XXX", 3), KZ_NATION_NONE);
    assert_int_equal(kz_nation_index("US", 2), KZ_NATION_NONE);
    assert_null(kz_nation_code(KZ_NATION_NONE));
    assert_null(kz_nation_code(250));
    kz_sbuf_adds(&in, "TS//REL TO ");
    for (uint16_t n = 1; n <= kz_nation_count(); n++) {
        const char *c = kz_nation_code(n);
        assert_non_null(c);
        assert_int_equal(kz_nation_index(c, 3), n);
        if (n > 1)
            assert_true(strcmp(kz_nation_code((uint16_t)(n - 1)), c) < 0);
        kz_sbuf_addf(&in, "%s, ", c);
    }
    kz_sbuf_adds(&in, "FVEY, NATO");
    if (kz_label_parse(&us, in.buf, in.len, &l, err, sizeof(err)) != KZ_OK)
        fail_msg("%s", err);
    assert_int_equal(kz_label_format(&us, &l, &out), KZ_OK);
    assert_true(out.len <= KZ_LABEL_MAX_LEN);
    assert_int_equal(strncmp(out.buf, "TOP SECRET//REL TO USA, ABW, AFG, ", 34), 0);
    kz_sbuf_release(&in);
    kz_sbuf_release(&out);
}

static void test_policy_building(void **state)
{
    static const char *const pac[] = {"USA", "JPN", "PHL"};
    static const char *const bogus[] = {"USA", "XXX"};
    struct kz_label_policy p;
    char err[256];
    (void)state;

    kz_label_policy_init(&p, 7, "TEST");
    assert_int_equal(
        kz_label_policy_add_level_name(&p, KZ_LEVEL_SECRET, "SECRET", err, sizeof(err)), KZ_OK);
    assert_int_equal(
        kz_label_policy_add_level_name(&p, KZ_LEVEL_TOP_SECRET, "secret", err, sizeof(err)),
        KZ_ERR_INVAL);
    assert_non_null(strstr(err, "already in use"));
    assert_int_equal(kz_label_policy_add_level_name(&p, KZ_LEVEL_SECRET, "A/B", err, sizeof(err)),
                     KZ_ERR_INVAL);
    assert_int_equal(kz_label_policy_add_level_name(&p, KZ_LEVEL_SECRET, " X", err, sizeof(err)),
                     KZ_ERR_INVAL);
    assert_int_equal(kz_label_policy_add_level_name(&p, KZ_LEVEL_SECRET, "", err, sizeof(err)),
                     KZ_ERR_INVAL);
    assert_int_equal(kz_label_policy_add_level_name(&p, KZ_LEVEL_INVALID, "Z", err, sizeof(err)),
                     KZ_ERR_INVAL);
    for (int i = 1; i < KZ_LABEL_MAX_NAMES; i++) {
        char name[8] = {'N', (char)('0' + i), '\0'};
        assert_int_equal(
            kz_label_policy_add_level_name(&p, KZ_LEVEL_SECRET, name, err, sizeof(err)), KZ_OK);
    }
    assert_int_equal(kz_label_policy_add_level_name(&p, KZ_LEVEL_SECRET, "N9", err, sizeof(err)),
                     KZ_ERR_TOOBIG);
    assert_int_equal(kz_label_policy_add_tetragraph(&p, "PACA", pac, 3, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_label_policy_add_tetragraph(&p, "paca", pac, 3, err, sizeof(err)),
                     KZ_ERR_EXISTS);
    assert_int_equal(kz_label_policy_add_tetragraph(&p, "BAD", pac, 3, err, sizeof(err)),
                     KZ_ERR_INVAL);
    assert_int_equal(kz_label_policy_add_tetragraph(&p, "BOGU", bogus, 2, err, sizeof(err)),
                     KZ_ERR_INVAL);
    assert_non_null(strstr(err, "'XXX' is not an ISO 3166 alpha-3 code"));
    /* Tetragraphs are written alphabetically whatever order they were added in. */
    assert_int_equal(kz_label_policy_add_tetragraph(&p, "AAAA", NULL, 0, err, sizeof(err)), KZ_OK);
    {
        struct kz_label l;
        struct kz_sbuf sb = KZ_SBUF_INIT;
        const char *in = "n3//rel to paca, aaaa, kor";
        assert_int_equal(kz_label_parse(&p, in, strlen(in), &l, err, sizeof(err)), KZ_OK);
        assert_int_equal(l.policy, 7);
        assert_int_equal(kz_label_format(&p, &l, &sb), KZ_OK);
        assert_string_equal(sb.buf, "SECRET//REL TO KOR, AAAA, PACA");
        /* Not formatted under another policy: its tetragraph bits mean other codes. */
        kz_sbuf_reset(&sb);
        assert_int_equal(kz_label_format(&us, &l, &sb), KZ_ERR_INVAL);
        /* A level the policy has no name for cannot be written or read. */
        l.level = KZ_LEVEL_CONFIDENTIAL;
        assert_int_equal(kz_label_format(&p, &l, &sb), KZ_ERR_INVAL);
        assert_int_equal(kz_label_parse(&p, "C", 1, &l, err, sizeof(err)), KZ_ERR_PARSE);
        assert_non_null(strstr(err, "in policy TEST"));
        kz_sbuf_release(&sb);
    }
    for (int i = 0; p.tetra_count < KZ_LABEL_MAX_TETRA; i++) {
        char code[5] = {'T', (char)('A' + i / 26), (char)('A' + i % 26), 'Z', '\0'};
        assert_int_equal(kz_label_policy_add_tetragraph(&p, code, NULL, 0, err, sizeof(err)),
                         KZ_OK);
    }
    assert_int_equal(kz_label_policy_add_tetragraph(&p, "ZZZZ", NULL, 0, err, sizeof(err)),
                     KZ_ERR_TOOBIG);
}

static void test_format_invalid(void **state)
{
    struct kz_label zero;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    (void)state;

    memset(&zero, 0, sizeof(zero));
    assert_int_equal(kz_label_format(&us, &zero, &sb), KZ_ERR_INVAL);
    zero.level = KZ_LEVEL__COUNT;
    assert_int_equal(kz_label_format(&us, &zero, &sb), KZ_ERR_INVAL);
    assert_null(sb.buf);
    assert_string_equal(kz_level_name(KZ_LEVEL_TOP_SECRET), "TOP SECRET");
    assert_string_equal(kz_level_name(KZ_LEVEL_INVALID), "INVALID");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),           cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_limits),          cmocka_unit_test(test_every_nation),
        cmocka_unit_test(test_policy_building), cmocka_unit_test(test_format_invalid),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
