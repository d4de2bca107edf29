/* Unit tests for the release rule, roll-up (aggregation), ceilings and policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "label/label.h"

static struct kz_label_policy us, jpn;

static int setup(void **state)
{
    static const char *const names[][2] = {
        /* An example national policy: its own names on the same ordered scale. */
        {"公開", "KOUKAI"},
        {"取扱注意", "TORIATSUKAI CHUI"},
        {"秘", "HI"},
        {"極秘", "GOKUHI"},
    };
    static const char *const fvey[] = {"USA", "AUS", "CAN", "GBR", "NZL"};
    (void)state;
    kz_label_policy_init_default(&us);
    kz_label_policy_init(&jpn, 1, "JPN");
    for (int lv = KZ_LEVEL_UNCLASSIFIED; lv < KZ_LEVEL__COUNT; lv++)
        for (int i = 0; i < 2; i++)
            assert_int_equal(
                kz_label_policy_add_level_name(&jpn, (enum kz_level)lv, names[lv - 1][i], NULL, 0),
                KZ_OK);
    assert_int_equal(kz_label_policy_add_tetragraph(&jpn, "NATO", NULL, 0, NULL, 0), KZ_OK);
    assert_int_equal(kz_label_policy_add_tetragraph(&jpn, "FVEY", fvey, 5, NULL, 0), KZ_OK);
    return 0;
}

static struct kz_label label_p(const struct kz_label_policy *p, const char *s, const char *orig)
{
    struct kz_label l;
    char err[256];

    if (kz_label_parse(p, s, strlen(s), &l, err, sizeof(err)) != KZ_OK)
        fail_msg("'%s': %s", s, err);
    l.originator = orig != NULL ? kz_nation_index(orig, strlen(orig)) : KZ_NATION_NONE;
    return l;
}

static struct kz_label label(const char *s, const char *orig)
{
    return label_p(&us, s, orig);
}

static struct kz_release_subject subject(const char *nation, const char *clearance)
{
    struct kz_identity id = {.nation = (char *)nation, .clearance = (char *)clearance};
    struct kz_release_subject s;

    assert_int_equal(kz_release_subject_from(&id, &us, &s), KZ_OK);
    return s;
}

static void expect(const char *lab, const char *orig, const char *nation, const char *clr,
                   enum kz_deny want)
{
    struct kz_label l = label(lab, orig);
    struct kz_release_subject s = subject(nation, clr);
    enum kz_deny why = KZ_DENY__COUNT;
    bool ok = kz_may_release(&l, &s, &why);

    if (ok != (want == KZ_DENY_NONE) || why != want)
        fail_msg("'%s' from %s to %s/%s: %s (%s), want %s", lab, orig ? orig : "-", nation, clr,
                 ok ? "released" : "denied", kz_deny_name(why), kz_deny_name(want));
}

static void test_rule(void **state)
{
    (void)state;
    /* The four events, from USA, to the three inputs' identities. */
    expect("SECRET//REL TO USA, JPN", "USA", "USA", "SECRET", KZ_DENY_NONE);
    expect("SECRET//REL TO USA, JPN", "USA", "JPN", "SECRET", KZ_DENY_NONE);
    expect("SECRET//REL TO USA, JPN", "USA", "PHL", "UNCLASSIFIED", KZ_DENY_CLEARANCE);
    expect("UNCLASSIFIED", "USA", "PHL", "UNCLASSIFIED", KZ_DENY_NONE);
    expect("UNCLASSIFIED", "USA", "JPN", "SECRET", KZ_DENY_NONE);
    expect("SECRET//NOFORN", "USA", "USA", "SECRET", KZ_DENY_NONE);
    expect("SECRET//NOFORN", "USA", "JPN", "SECRET", KZ_DENY_NOFORN);
    expect("SECRET//NOFORN", "USA", "GBR", "TOP SECRET", KZ_DENY_NOFORN);
    expect("SECRET//NOFORN", "USA", "PHL", "UNCLASSIFIED", KZ_DENY_CLEARANCE);
    expect("CONFIDENTIAL//REL TO USA, PHL", "USA", "PHL", "UNCLASSIFIED", KZ_DENY_CLEARANCE);
    expect("CONFIDENTIAL//REL TO USA, PHL", "USA", "PHL", "CONFIDENTIAL", KZ_DENY_NONE);
    expect("CONFIDENTIAL//REL TO USA, PHL", "USA", "JPN", "SECRET", KZ_DENY_NATION);
    /* Clearance is checked against the level, even for the originator. */
    expect("TOP SECRET//NOFORN", "USA", "USA", "SECRET", KZ_DENY_CLEARANCE);
    expect("TOP SECRET//REL TO USA, JPN", "USA", "JPN", "SECRET", KZ_DENY_CLEARANCE);
    /* Tetragraphs expand for the decision. */
    expect("SECRET//REL TO USA, FVEY", "USA", "NZL", "SECRET", KZ_DENY_NONE);
    expect("SECRET//REL TO USA, FVEY", "USA", "GBR", "TS", KZ_DENY_NONE);
    expect("SECRET//REL TO USA, FVEY", "USA", "AUS", "C", KZ_DENY_CLEARANCE);
    expect("SECRET//REL TO USA, FVEY", "USA", "JPN", "SECRET", KZ_DENY_NATION);
    /* A tetragraph without expansion reaches no nation. */
    expect("SECRET//REL TO NATO", "USA", "FRA", "SECRET", KZ_DENY_NATION);
    expect("SECRET//REL TO NATO", "USA", "USA", "SECRET", KZ_DENY_NONE);
    /* The originator may always see its own data; REL TO need not list it. */
    expect("SECRET//REL TO JPN", "USA", "USA", "SECRET", KZ_DENY_NONE);
    expect("SECRET//REL TO JPN", "USA", "KOR", "SECRET", KZ_DENY_NATION);
    /* Classified without REL TO: originator only. */
    expect("SECRET", "JPN", "JPN", "SECRET", KZ_DENY_NONE);
    expect("SECRET", "JPN", "USA", "TOP SECRET", KZ_DENY_NATION);
    expect("SECRET", NULL, "USA", "TOP SECRET", KZ_DENY_NATION);
    /* Unclassified with a caveat is not public either. */
    expect("U//FOUO", "USA", "USA", "U", KZ_DENY_NONE);
    expect("U//FOUO", "USA", "JPN", "SECRET", KZ_DENY_NATION);
    expect("U//ORCON", "USA", "JPN", "SECRET", KZ_DENY_NATION);
    expect("U//REL TO USA, JPN", "USA", "PHL", "SECRET", KZ_DENY_NATION);
    /* Without a known originator, REL TO alone decides. */
    expect("SECRET//REL TO USA, JPN", NULL, "USA", "SECRET", KZ_DENY_NONE);
    expect("SECRET//REL TO USA, JPN", NULL, "PHL", "SECRET", KZ_DENY_NATION);
    expect("SECRET//NOFORN", NULL, "USA", "SECRET", KZ_DENY_NOFORN);
    expect("SECRET//REL TO USA, JPN/RELIDO/ORCON", "JPN", "USA", "SECRET", KZ_DENY_NONE);
}

static void test_fail_closed(void **state)
{
    struct kz_label l = label("UNCLASSIFIED", "USA"), zero;
    struct kz_release_subject s = subject("USA", "TOP SECRET"), bad;
    struct kz_identity id = {.nation = "USA", .clearance = "SECRETT"};
    enum kz_deny why;
    (void)state;

    memset(&zero, 0, sizeof(zero));
    assert_false(kz_may_release(&zero, &s, &why));
    assert_int_equal(why, KZ_DENY_BAD_LABEL);
    assert_false(kz_may_release(NULL, &s, &why));
    assert_int_equal(why, KZ_DENY_BAD_LABEL);
    zero.level = KZ_LEVEL__COUNT;
    assert_false(kz_may_release(&zero, &s, NULL));
    /* Unknown clearance: not even public information leaves. */
    assert_int_equal(kz_release_subject_from(&id, &us, &bad), KZ_ERR_INVAL);
    assert_false(kz_may_release(&l, &bad, &why));
    assert_int_equal(why, KZ_DENY_UNKNOWN_CLEARANCE);
    id.clearance = NULL;
    assert_int_equal(kz_release_subject_from(&id, &us, &bad), KZ_ERR_INVAL);
    assert_false(kz_may_release(&l, &bad, &why));
    assert_int_equal(why, KZ_DENY_UNKNOWN_CLEARANCE);
    id.clearance = "SECRET";
    id.nation = "XXX";
    assert_int_equal(kz_release_subject_from(&id, &us, &bad), KZ_ERR_INVAL);
    assert_false(kz_may_release(&l, &bad, &why));
    assert_int_equal(why, KZ_DENY_UNKNOWN_NATION);
    id.nation = NULL;
    assert_int_equal(kz_release_subject_from(&id, &us, &bad), KZ_ERR_INVAL);
    assert_false(kz_may_release(&l, &bad, &why));
    assert_int_equal(why, KZ_DENY_UNKNOWN_NATION);
    assert_int_equal(kz_release_subject_from(NULL, &us, &bad), KZ_ERR_INVAL);
    memset(&bad, 0, sizeof(bad));
    assert_false(kz_may_release(&l, &bad, &why));
    assert_false(kz_may_release(&l, NULL, &why));
    assert_int_equal(why, KZ_DENY_UNKNOWN_CLEARANCE);
    /* A failed parse is invalid, hence released to nobody. */
    assert_int_equal(kz_label_parse(&us, "SECRET//REL TO USA, XYZ", 23, &l, NULL, 0), KZ_ERR_PARSE);
    assert_false(kz_may_release(&l, &s, &why));
    assert_int_equal(why, KZ_DENY_BAD_LABEL);
    /* Identity strings are trimmed and case-insensitive. */
    id.nation = " usa ";
    id.clearance = " top  secret";
    assert_int_equal(kz_release_subject_from(&id, &us, &bad), KZ_OK);
    assert_int_equal(bad.clearance, KZ_LEVEL_TOP_SECRET);
    assert_int_equal(bad.nation, kz_nation_index("USA", 3));
}

static void test_deny_names(void **state)
{
    (void)state;
    assert_string_equal(kz_deny_name(KZ_DENY_NONE), "none");
    assert_string_equal(kz_deny_name(KZ_DENY_CLEARANCE), "clearance");
    assert_string_equal(kz_deny_name(KZ_DENY_NATION), "nation");
    assert_string_equal(kz_deny_name(KZ_DENY_NOFORN), "noforn");
    assert_string_equal(kz_deny_name(KZ_DENY_UNKNOWN_CLEARANCE), "unknown_clearance");
    assert_string_equal(kz_deny_name(KZ_DENY_UNKNOWN_NATION), "unknown_nation");
    assert_string_equal(kz_deny_name(KZ_DENY_BAD_LABEL), "bad_label");
    assert_string_equal(kz_deny_name(KZ_DENY__COUNT), "unknown");
}

/* Roll b (from orig_b) into a (from orig_a); compare the banner and originator. */
static void agg(const char *a, const char *orig_a, const char *b, const char *orig_b,
                const char *want, const char *want_orig)
{
    struct kz_label acc = label(a, orig_a), part = label(b, orig_b);
    struct kz_sbuf sb = KZ_SBUF_INIT;

    assert_int_equal(kz_label_aggregate(&us, &acc, &part), KZ_OK);
    assert_int_equal(kz_label_format(&us, &acc, &sb), KZ_OK);
    if (strcmp(sb.buf, want) != 0)
        fail_msg("%s + %s -> %s, want %s", a, b, sb.buf, want);
    assert_int_equal(acc.originator, want_orig ? kz_nation_index(want_orig, 3) : KZ_NATION_NONE);
    kz_sbuf_release(&sb);
}

static void test_aggregate(void **state)
{
    (void)state;
    agg("SECRET//REL TO USA, JPN, PHL", "USA", "C//REL TO USA, JPN, KOR", "USA",
        "SECRET//REL TO USA, JPN", "USA");
    agg("UNCLASSIFIED", "USA", "UNCLASSIFIED", "JPN", "UNCLASSIFIED", "USA");
    agg("UNCLASSIFIED", "JPN", "CONFIDENTIAL//NOFORN", "USA", "CONFIDENTIAL//NOFORN", "USA");
    agg("SECRET//REL TO USA, JPN", "USA", "C//NOFORN", "USA", "SECRET//NOFORN", "USA");
    agg("SECRET//REL TO USA, JPN", "USA", "S//ORCON", "USA", "SECRET//ORCON", "USA");
    agg("SECRET//REL TO USA, JPN", "USA", "CONFIDENTIAL", "USA", "SECRET", "USA");
    agg("U//FOUO", "USA", "U", "USA", "UNCLASSIFIED//FOUO", "USA");
    /* Tetragraphs: kept when every part has them, else spelled out. */
    agg("SECRET//REL TO USA, FVEY", "USA", "SECRET//REL TO USA, FVEY", "USA",
        "SECRET//REL TO USA, FVEY", "USA");
    agg("SECRET//REL TO USA, FVEY", "USA", "SECRET//REL TO USA, GBR, JPN", "USA",
        "SECRET//REL TO USA, GBR", "USA");
    agg("SECRET//REL TO USA, FVEY, NATO", "USA", "C//REL TO USA, NATO, FVEY", "USA",
        "SECRET//REL TO USA, FVEY, NATO", "USA");
    agg("SECRET//REL TO USA, FVEY, NATO", "USA", "C//REL TO USA, CAN, NZL, NATO", "USA",
        "SECRET//REL TO USA, CAN, NZL, NATO", "USA");
    agg("SECRET//REL TO USA, GBR, FVEY", "USA", "UNCLASSIFIED", "JPN", "SECRET//REL TO USA, FVEY",
        "USA");
    /* Release sets shrink to the common nations... */
    agg("U//REL TO USA, JPN", "USA", "U//REL TO USA, PHL", "USA", "UNCLASSIFIED//REL TO USA",
        "USA");
    /* ...counting each part's originator, which may not survive the roll-up. */
    agg("SECRET//REL TO USA, JPN", "USA", "SECRET//REL TO USA, JPN", "JPN",
        "SECRET//REL TO USA, JPN", NULL);
    agg("SECRET//REL TO JPN", "USA", "SECRET//REL TO USA", "JPN", "SECRET//REL TO USA, JPN", NULL);
    agg("U//REL TO JPN", "USA", "U//REL TO GBR", "JPN", "UNCLASSIFIED//REL TO JPN", NULL);
    agg("SECRET", "USA", "SECRET", "JPN", "SECRET", NULL);
    /* Nobody in common: NOFORN without originator releases to nobody. */
    agg("U//REL TO JPN", "KOR", "U//REL TO GBR", "PHL", "UNCLASSIFIED//NOFORN", NULL);
    agg("SECRET//NOFORN", "USA", "SECRET//REL TO USA, JPN", "JPN", "SECRET//NOFORN", NULL);
    /* Highest level wins whatever the order. */
    agg("C//REL TO USA, JPN", "USA", "TS//REL TO USA, JPN", "USA", "TOP SECRET//REL TO USA, JPN",
        "USA");
}

static void test_aggregate_invalid(void **state)
{
    struct kz_label acc = label("SECRET", "USA"), zero, other;
    (void)state;

    memset(&zero, 0, sizeof(zero));
    assert_int_equal(kz_label_aggregate(&us, &acc, &zero), KZ_ERR_INVAL);
    assert_int_equal(acc.level, KZ_LEVEL_INVALID);
    acc = label("SECRET", "USA");
    /* acc must be of the policy given. */
    assert_int_equal(kz_label_aggregate(&jpn, &acc, &acc), KZ_ERR_INVAL);
    /* Another policy's tetragraph bits are spelled out as nations, not kept. */
    acc = label("SECRET//REL TO USA, FVEY", "USA");
    other = label_p(&jpn, "HI//REL TO FVEY, NATO", "USA");
    assert_int_equal(kz_label_aggregate(&us, &acc, &other), KZ_OK);
    {
        struct kz_sbuf sb = KZ_SBUF_INIT;
        assert_int_equal(kz_label_format(&us, &acc, &sb), KZ_OK);
        assert_string_equal(sb.buf, "SECRET//REL TO USA, AUS, CAN, GBR, NZL");
        kz_sbuf_release(&sb);
    }
}

/* A label by address, for the ceiling table below. */
#define LBL(s, orig) (&(struct kz_label[1]){label((s), (orig))}[0])

static void test_ceiling(void **state)
{
    struct kz_label secret_usa = label("SECRET", "USA");
    struct kz_label pub = label("UNCLASSIFIED", "PHL");
    struct kz_label shared = label("SECRET//REL TO USA, JPN", "USA");
    struct kz_label zero;
    (void)state;

    memset(&zero, 0, sizeof(zero));
    /* A national input with a level-only ceiling takes any release set. */
    assert_true(kz_label_dominated(&shared, &secret_usa));
    assert_true(kz_label_dominated(LBL("SECRET//NOFORN", "USA"), &secret_usa));
    assert_true(kz_label_dominated(&pub, &secret_usa));
    assert_false(kz_label_dominated(LBL("TS//REL TO USA", "USA"), &secret_usa));
    /* ...but not another nation's originator-only data. */
    assert_false(kz_label_dominated(LBL("SECRET", "JPN"), &secret_usa));
    /* A public ceiling accepts public information only. */
    assert_true(kz_label_dominated(&pub, &pub));
    assert_false(kz_label_dominated(LBL("U//REL TO USA, PHL", "PHL"), &pub));
    assert_false(kz_label_dominated(LBL("C", "PHL"), &pub));
    /* A shared ceiling refuses what its members may not all see. */
    assert_true(kz_label_dominated(LBL("S//REL TO USA, JPN, PHL", "USA"), &shared));
    assert_false(kz_label_dominated(LBL("S//NOFORN", "USA"), &shared));
    assert_false(kz_label_dominated(&zero, &secret_usa));
    assert_false(kz_label_dominated(&pub, &zero));
}

/* The example JPN policy: its own names, the same scale, the same nations. */
static void test_jpn_policy(void **state)
{
    struct kz_label l = label_p(&jpn, " 秘 // rel to jpn, usa", "JPN");
    struct kz_label us_l = label("SECRET//REL TO USA, JPN", "JPN");
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_identity id = {.nation = "JPN", .clearance = "極秘"};
    struct kz_release_subject s, us_s = subject("USA", "SECRET");
    (void)state;

    assert_int_equal(l.level, KZ_LEVEL_SECRET);
    assert_int_equal(l.policy, 1);
    assert_int_equal(kz_label_format(&jpn, &l, &sb), KZ_OK);
    assert_string_equal(sb.buf, "秘//REL TO USA, JPN");
    assert_int_equal(label_p(&jpn, "toriatsukai  chui", NULL).level, KZ_LEVEL_CONFIDENTIAL);
    assert_int_equal(label_p(&jpn, "gokuhi//NF", NULL).level, KZ_LEVEL_TOP_SECRET);
    /* US names are not JPN names. */
    assert_int_equal(kz_label_parse(&jpn, "SECRET", 6, &l, NULL, 0), KZ_ERR_PARSE);
    l = label_p(&jpn, "秘//REL TO JPN, USA", "JPN");
    /* The same decision whichever policy parsed the label or the clearance. */
    assert_int_equal(kz_release_subject_from(&id, &jpn, &s), KZ_OK);
    assert_int_equal(s.clearance, KZ_LEVEL_TOP_SECRET);
    assert_int_equal(kz_release_subject_from(&id, &us, &s), KZ_ERR_INVAL);
    id.clearance = "HI";
    assert_int_equal(kz_release_subject_from(&id, &jpn, &s), KZ_OK);
    assert_true(kz_may_release(&l, &s, NULL));
    assert_true(kz_may_release(&l, &us_s, NULL));
    assert_true(kz_label_dominated(&l, &us_l) && kz_label_dominated(&us_l, &l));
    us_s = subject("PHL", "TOP SECRET");
    assert_false(kz_may_release(&l, &us_s, NULL));
    kz_sbuf_release(&sb);
}

/* ---- random roll-ups: sound against the rule, and the least upper bound ---- */

static const char *const pool_levels[] = {"U", "C", "S", "TS"};
static const char *const pool_codes[] = {"USA", "JPN", "PHL", "AUS",  "GBR", "KOR",
                                         "CAN", "NZL", "FRA", "FVEY", "NATO"};
static const char *const pool_orig[] = {NULL, "USA", "JPN", "PHL", "GBR"};

static unsigned rnd(unsigned *seed, unsigned n)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) % n;
}

static struct kz_label random_label(unsigned *seed)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_label l;
    unsigned kind = rnd(seed, 4), mask = rnd(seed, 1u << KZ_ARRAY_LEN(pool_codes));

    kz_sbuf_adds(&sb, pool_levels[rnd(seed, 4)]);
    if (kind == 1)
        kz_sbuf_adds(&sb, "//NOFORN");
    if (kind == 2 && mask != 0) {
        const char *sep = "//REL TO ";
        for (size_t i = 0; i < KZ_ARRAY_LEN(pool_codes); i++)
            if (mask & (1u << i)) {
                kz_sbuf_addf(&sb, "%s%s", sep, pool_codes[i]);
                sep = ", ";
            }
    }
    if (kind == 3)
        kz_sbuf_adds(&sb, rnd(seed, 2) ? "//ORCON" : "//FOUO");
    l = label(sb.buf, pool_orig[rnd(seed, KZ_ARRAY_LEN(pool_orig))]);
    kz_sbuf_release(&sb);
    return l;
}

/* For every subject: may(c) implies may(a)?  Sets *reaches if c reaches anyone. */
static bool implies(const struct kz_label *a, const struct kz_label *c, bool *reaches)
{
    bool ok = true;

    *reaches = false;
    for (uint16_t n = 1; n <= kz_nation_count(); n++)
        for (uint8_t lv = KZ_LEVEL_UNCLASSIFIED; lv < KZ_LEVEL__COUNT; lv++) {
            struct kz_release_subject s = {n, lv};
            bool mc = kz_may_release(c, &s, NULL);
            *reaches |= mc;
            if (mc && !kz_may_release(a, &s, NULL))
                ok = false;
        }
    return ok;
}

static void test_aggregate_random(void **state)
{
    unsigned seed = 20240901;
    (void)state;

    for (int i = 0; i < 1500; i++) {
        struct kz_label a = random_label(&seed), b = random_label(&seed), acc = a, back;
        struct kz_sbuf sb = KZ_SBUF_INIT;
        bool reaches;

        assert_int_equal(kz_label_aggregate(&us, &acc, &b), KZ_OK);
        /* Sound: whoever may see the whole may see each part. */
        assert_true(implies(&a, &acc, &reaches));
        assert_true(implies(&b, &acc, &reaches));
        assert_true(kz_label_dominated(&a, &acc));
        assert_true(kz_label_dominated(&b, &acc));
        /* Dominance is exactly "whoever may see c may see a" (when c reaches anyone). */
        if (implies(&a, &b, &reaches) != kz_label_dominated(&a, &b) && reaches)
            fail_msg("dominated() disagrees with the rule at pair %d", i);
        /* The roll-up is a label like any other: it formats and parses back. */
        assert_int_equal(kz_label_format(&us, &acc, &sb), KZ_OK);
        back = label(sb.buf, NULL);
        back.originator = acc.originator;
        assert_memory_equal(&back, &acc, sizeof(acc));
        kz_sbuf_release(&sb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_fail_closed),
        cmocka_unit_test(test_deny_names),
        cmocka_unit_test(test_aggregate),
        cmocka_unit_test(test_aggregate_invalid),
        cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_jpn_policy),
        cmocka_unit_test(test_aggregate_random),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
