/*
 * Unit tests for the configured marking policy: kz_label_policy_from_config()
 * from a real `labels:` section (read by the configuration loader), its
 * tetragraph narrowing, custom level names, refusal of bad entries, and the
 * policy id that keeps labels of different policies apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "label/label.h"

/* The policy of a configuration whose labels: section is `labels`; KZ_OK or the error. */
static int policy_of(const char *labels, struct kz_label_policy *p, char *err, size_t errlen)
{
    char yaml[2048];
    struct kz_config *cfg;
    int rc;

    snprintf(yaml, sizeof(yaml), "labels:\n%s", labels);
    if (kz_config_load_mem("t.yaml", yaml, strlen(yaml), &cfg, err, errlen) != KZ_OK)
        fail_msg("configuration did not load: %s", err);
    rc = kz_label_policy_from_config(cfg->labels, p, err, errlen);
    kz_config_free(cfg);
    return rc;
}

static bool released(const struct kz_label_policy *p, const char *banner, const char *nation)
{
    struct kz_identity id = {.nation = (char *)nation, .clearance = "TOP SECRET"};
    struct kz_release_subject who;
    struct kz_label l;
    char err[256];

    if (kz_label_parse(p, banner, strlen(banner), &l, err, sizeof(err)) != KZ_OK)
        fail_msg("'%s' did not parse: %s", banner, err);
    l.originator = kz_nation_index("USA", 3);
    assert_int_equal(kz_release_subject_from(&id, p, &who), KZ_OK);
    return kz_may_release(&l, &who, NULL);
}

static void canon(const struct kz_label_policy *p, const char *in, const char *want)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_label l;
    char err[256];

    if (kz_label_parse(p, in, strlen(in), &l, err, sizeof(err)) != KZ_OK)
        fail_msg("'%s' did not parse: %s", in, err);
    assert_int_equal(kz_label_format(p, &l, &sb), KZ_OK);
    assert_string_equal(sb.buf, want);
    kz_sbuf_release(&sb);
}

/* Without a labels: section the configured policy reads like the built-in one. */
static void test_defaults(void **state)
{
    struct kz_label_policy p;
    char err[256];
    (void)state;

    assert_int_equal(policy_of("  policy: US\n", &p, err, sizeof(err)), KZ_OK);
    assert_string_equal(p.name, "US");
    assert_true(released(&p, "SECRET//REL TO USA, FVEY", "AUS"));
    assert_false(released(&p, "SECRET//REL TO USA, FVEY", "JPN"));
    canon(&p, "s//rel to nato, usa", "SECRET//REL TO USA, NATO");
}

/* Narrowing FVEY in the configuration narrows every release through it. */
static void test_tetragraph_narrowing(void **state)
{
    struct kz_label_policy p;
    char err[256];
    (void)state;

    assert_int_equal(policy_of("  tetragraphs: {FVEY: [USA, GBR], QUAD: [USA, JPN, AUS, IND]}\n",
                               &p, err, sizeof(err)),
                     KZ_OK);
    assert_true(released(&p, "SECRET//REL TO USA, FVEY", "GBR"));
    assert_false(released(&p, "SECRET//REL TO USA, FVEY", "AUS"));
    assert_false(released(&p, "SECRET//REL TO USA, FVEY", "NZL"));
    assert_true(released(&p, "SECRET//REL TO USA, QUAD", "IND"));
    /* Configured tetragraphs replace the built-in set: NATO is no longer known. */
    struct kz_label l;
    assert_int_not_equal(kz_label_parse(&p, "SECRET//REL TO USA, NATO", 24, &l, err, sizeof(err)),
                         KZ_OK);
}

/* Configured level names are canonical; the US names stay aliases. */
static void test_level_names(void **state)
{
    struct kz_label_policy p;
    char err[256];
    (void)state;

    assert_int_equal(policy_of("  policy: JP\n"
                               "  level_names: {SECRET: [HIMITSU, H], TOP SECRET: [KIMITSU]}\n",
                               &p, err, sizeof(err)),
                     KZ_OK);
    assert_string_equal(p.name, "JP");
    canon(&p, "himitsu//rel to usa, jpn", "HIMITSU//REL TO USA, JPN");
    canon(&p, "H", "HIMITSU");
    canon(&p, "SECRET", "HIMITSU");
    canon(&p, "TS", "KIMITSU");
    canon(&p, "UNCLASSIFIED", "UNCLASSIFIED");
}

static void expect_refused(const char *labels, const char *words)
{
    struct kz_label_policy p;
    char err[256] = "";

    assert_int_equal(policy_of(labels, &p, err, sizeof(err)), KZ_ERR_CONFIG);
    if (strncmp(err, "labels: ", 8) != 0 || !strstr(err, words))
        fail_msg("want 'labels: ...%s' for\n%s got '%s'", words, labels, err);
}

static void test_bad_entries(void **state)
{
    (void)state;
    expect_refused("  level_names: {SECRETISH: [X]}\n", "'SECRETISH' is not UNCLASSIFIED");
    expect_refused("  level_names: {SECRET: [\"A/B\"]}\n", "bad level name 'A/B'");
    expect_refused("  level_names: {SECRET: [X], CONFIDENTIAL: [x]}\n", "already in use");
    expect_refused("  tetragraphs: {FIVE: [USA, XXX]}\n", "'XXX' is not an ISO 3166");
    expect_refused("  tetragraphs: {FVE1: [USA]}\n", "bad tetragraph 'FVE1'");
    expect_refused("  tetragraphs: {FVEY: [USA], fvey: [GBR]}\n", "defined twice");
}

/* Each configured policy has an id of its own: a label of one is not formatted by another. */
/* The home nation: USA until the server sets node.nation; it decides the REL TO rule. */
static void test_home(void **state)
{
    struct kz_label_policy p;
    struct kz_label l;
    char err[256];
    (void)state;

    assert_int_equal(policy_of("  policy: JPN\n", &p, err, sizeof(err)), KZ_OK);
    assert_int_equal(p.home, kz_nation_index("USA", 3));
    canon(&p, "SECRET//REL TO USA, GBR", "SECRET//REL TO USA, GBR");
    kz_label_policy_set_home(&p, kz_nation_index("JPN", 3));
    assert_int_equal(kz_label_parse(&p, "SECRET//REL TO USA, GBR", 23, &l, err, sizeof(err)),
                     KZ_ERR_PARSE);
    assert_non_null(strstr(err, "REL TO must list JPN"));
    canon(&p, "SECRET//REL TO JPN, PHL", "SECRET//REL TO JPN, PHL");
    canon(&p, "SECRET//FGI USA//REL TO USA, JPN", "SECRET//FGI USA//REL TO USA, JPN");
    /* Without a home neither rule applies. */
    kz_label_policy_set_home(&p, KZ_NATION_NONE);
    canon(&p, "SECRET//REL TO GBR, PHL", "SECRET//REL TO GBR, PHL");
}

static void test_distinct_ids(void **state)
{
    struct kz_label_policy builtin, a, b;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_label l;
    char err[256];
    (void)state;

    kz_label_policy_init_default(&builtin);
    assert_int_equal(policy_of("  policy: US\n", &a, err, sizeof(err)), KZ_OK);
    assert_int_equal(policy_of("  policy: US\n", &b, err, sizeof(err)), KZ_OK);
    assert_int_not_equal(a.id, builtin.id);
    assert_int_not_equal(a.id, b.id);
    assert_int_not_equal(b.id, 0);
    assert_int_equal(kz_label_parse(&builtin, "SECRET", 6, &l, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_label_format(&a, &l, &sb), KZ_ERR_INVAL);
    assert_int_equal(kz_label_parse(&a, "SECRET", 6, &l, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_label_format(&b, &l, &sb), KZ_ERR_INVAL);
    assert_int_equal(kz_label_format(&builtin, &l, &sb), KZ_ERR_INVAL);
    assert_int_equal(kz_label_format(&a, &l, &sb), KZ_OK);
    assert_string_equal(sb.buf, "SECRET");
    kz_sbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_tetragraph_narrowing),
        cmocka_unit_test(test_level_names),  cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_distinct_ids), cmocka_unit_test(test_home),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
