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
    /*
     * The example JPN policy (domain review item 2; docs/labels.md cites the
     * sources): 機密 = TOP SECRET, 極秘 = SECRET, 秘 = CONFIDENTIAL, and
     * 特定秘密 paired with SECRET.  取扱注意 is no level: it is UNCLASSIFIED
     * plus a handling caveat.
     */
    static const char *const names[][3] = {
        {"公開", "KOUKAI", NULL},
        {"秘", "HI", NULL},
        {"極秘", "GOKUHI", "特定秘密"},
        {"機密", "KIMITSU", NULL},
    };
    static const char *const fvey[] = {"USA", "AUS", "CAN", "GBR", "NZL"};
    (void)state;
    kz_label_policy_init_default(&us);
    kz_label_policy_init(&jpn, 1, "JPN");
    for (int lv = KZ_LEVEL_UNCLASSIFIED; lv < KZ_LEVEL__COUNT; lv++)
        for (int i = 0; i < 3 && names[lv - 1][i] != NULL; i++)
            assert_int_equal(
                kz_label_policy_add_level_name(&jpn, (enum kz_level)lv, names[lv - 1][i], NULL, 0),
                KZ_OK);
    assert_int_equal(kz_label_policy_add_tetragraph(&jpn, "NATO", NULL, 0, NULL, 0), KZ_OK);
    assert_int_equal(kz_label_policy_add_tetragraph(&jpn, "FVEY", fvey, 5, NULL, 0), KZ_OK);
    kz_label_policy_set_home(&jpn, kz_nation_index("JPN", 3));
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
    expect("SECRET//REL TO USA, NATO", "USA", "FRA", "SECRET", KZ_DENY_NATION);
    expect("SECRET//REL TO USA, NATO", "USA", "USA", "SECRET", KZ_DENY_NONE);
    /* The originator may always see its own data; REL TO need not list it. */
    expect("SECRET//REL TO USA, JPN", "PHL", "PHL", "SECRET", KZ_DENY_NONE);
    expect("SECRET//REL TO USA, JPN", "PHL", "KOR", "SECRET", KZ_DENY_NATION);
    /* Classified without REL TO: originator only. */
    expect("SECRET", "JPN", "JPN", "SECRET", KZ_DENY_NONE);
    expect("SECRET", "JPN", "USA", "TOP SECRET", KZ_DENY_NATION);
    expect("SECRET", NULL, "USA", "TOP SECRET", KZ_DENY_NATION);
    /* Unclassified with a caveat is not public either. */
    expect("U//FOUO", "USA", "USA", "U", KZ_DENY_NONE);
    expect("U//FOUO", "USA", "JPN", "SECRET", KZ_DENY_NATION);
    expect("CUI", "USA", "USA", "U", KZ_DENY_NONE);
    expect("CUI", "USA", "JPN", "SECRET", KZ_DENY_NATION);
    expect("CUI//REL TO USA, JPN", "USA", "JPN", "U", KZ_DENY_NONE);
    expect("CUI//REL TO USA, JPN", "USA", "PHL", "U", KZ_DENY_NATION);
    expect("U//REL TO USA, JPN", "USA", "PHL", "SECRET", KZ_DENY_NATION);
    /* Without a known originator, REL TO alone decides. */
    expect("SECRET//REL TO USA, JPN", NULL, "USA", "SECRET", KZ_DENY_NONE);
    expect("SECRET//REL TO USA, JPN", NULL, "PHL", "SECRET", KZ_DENY_NATION);
    expect("SECRET//NOFORN", NULL, "USA", "SECRET", KZ_DENY_NOFORN);
    expect("SECRET//REL TO USA, JPN/RELIDO/ORCON", "JPN", "USA", "SECRET", KZ_DENY_NONE);
}

/* Item 5: owners always receive (a JOINT is each co-owner's); FGI nations are not owners. */
static void test_rule_origins(void **state)
{
    (void)state;
    /* Wholly foreign: the foreign nation owns it, whoever relayed it. */
    expect("//JPN SECRET", "USA", "JPN", "SECRET", KZ_DENY_NONE);
    expect("//JPN SECRET", "USA", "USA", "SECRET", KZ_DENY_NATION);
    expect("//JPN SECRET//NOFORN", "USA", "USA", "SECRET", KZ_DENY_NOFORN);
    expect("//JPN SECRET//REL TO USA, JPN", "USA", "USA", "SECRET", KZ_DENY_NONE);
    expect("//JPN SECRET//REL TO USA, JPN", "USA", "PHL", "SECRET", KZ_DENY_NATION);
    /* JOINT: each co-owner, not the relaying input's nation. */
    expect("//JOINT SECRET JPN USA", "PHL", "JPN", "SECRET", KZ_DENY_NONE);
    expect("//JOINT SECRET JPN USA", "PHL", "USA", "SECRET", KZ_DENY_NONE);
    expect("//JOINT SECRET JPN USA", "PHL", "PHL", "SECRET", KZ_DENY_NATION);
    expect("//JOINT SECRET JPN USA//NOFORN", "USA", "JPN", "SECRET", KZ_DENY_NONE);
    expect("//JOINT SECRET JPN USA", "USA", "JPN", "CONFIDENTIAL", KZ_DENY_CLEARANCE);
    /* FGI: the nations named are provenance; REL TO decides for them. */
    expect("SECRET//FGI JPN//NOFORN", "USA", "JPN", "SECRET", KZ_DENY_NOFORN);
    expect("SECRET//FGI JPN//NOFORN", "USA", "USA", "SECRET", KZ_DENY_NONE);
    expect("SECRET//FGI JPN//REL TO USA, JPN", "USA", "JPN", "SECRET", KZ_DENY_NONE);
    /* Fail closed: an unknown originator owns nothing. */
    expect("SECRET//FGI JPN", NULL, "USA", "TOP SECRET", KZ_DENY_NATION);
}

/* The interface the plans module calls. */
static void test_set_joint(void **state)
{
    uint16_t jp_us[] = {kz_nation_index("USA", 3), kz_nation_index("JPN", 3)};
    uint16_t one[] = {kz_nation_index("USA", 3), kz_nation_index("USA", 3)};
    uint16_t none[] = {kz_nation_index("USA", 3), KZ_NATION_NONE};
    struct kz_label l = label("SECRET//REL TO USA, JPN", "USA"), zero;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    (void)state;

    memset(&zero, 0, sizeof(zero));
    assert_false(kz_label_has_originator(&l, jp_us[1]));
    assert_true(kz_label_has_originator(&l, jp_us[0]));
    assert_int_equal(kz_label_set_joint(&l, jp_us, 1), KZ_ERR_INVAL);
    assert_int_equal(kz_label_set_joint(&l, one, 2), KZ_ERR_INVAL);
    assert_int_equal(kz_label_set_joint(&l, none, 2), KZ_ERR_INVAL);
    assert_int_equal(kz_label_set_joint(&zero, jp_us, 2), KZ_ERR_INVAL);
    assert_int_equal(kz_label_set_joint(&l, jp_us, 2), KZ_OK);
    assert_true(kz_label_has_originator(&l, jp_us[1]) && kz_label_has_originator(&l, jp_us[0]));
    assert_false(kz_label_has_originator(&l, kz_nation_index("PHL", 3)));
    assert_int_equal(kz_label_format(&us, &l, &sb), KZ_OK);
    assert_string_equal(sb.buf, "//JOINT SECRET JPN USA//REL TO USA, JPN");
    assert_false(kz_label_has_originator(&zero, jp_us[0]));
    /* FGI nations count as originators (provenance). */
    l = label("SECRET//FGI JPN//NOFORN", "USA");
    assert_true(kz_label_has_originator(&l, jp_us[1]) && kz_label_has_originator(&l, jp_us[0]));
    kz_sbuf_release(&sb);
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
    agg("SECRET//REL TO USA, JPN", "USA", "S//ORCON", "USA", "SECRET//ORCON/NOFORN", "USA");
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
    /* Highest level wins whatever the order. */
    agg("C//REL TO USA, JPN", "USA", "TS//REL TO USA, JPN", "USA", "TOP SECRET//REL TO USA, JPN",
        "USA");
}

/* Item 6: a release set of the originator only is written NOFORN, not a bare level. */
static void test_aggregate_noforn(void **state)
{
    (void)state;
    agg("SECRET//REL TO USA, JPN", "USA", "CONFIDENTIAL", "USA", "SECRET//NOFORN", "USA");
    agg("SECRET", "USA", "SECRET//REL TO USA, JPN", "USA", "SECRET//NOFORN", "USA");
    agg("S//REL TO USA, GBR", "USA", "S//REL TO USA, JPN", "USA", "SECRET//NOFORN", "USA");
    agg("U//REL TO USA, JPN", "USA", "U//REL TO USA, PHL", "USA", "UNCLASSIFIED//NOFORN", "USA");
    /* The home nation keeps the whole when it may see every part. */
    agg("SECRET//NOFORN", "USA", "SECRET//REL TO USA, JPN", "JPN", "SECRET//FGI JPN//NOFORN",
        "USA");
    /* Nobody in common: NOFORN without an owner releases to nobody. */
    agg("SECRET", "USA", "SECRET", "JPN", "SECRET//FGI JPN//NOFORN", NULL);
}

/* Item 4: RELIDO, FOUO and CUI roll up by their own rules; NOFORN wins. */
static void test_aggregate_caveats(void **state)
{
    (void)state;
    agg("S//REL TO USA, JPN/RELIDO", "USA", "S//REL TO USA, JPN", "USA", "SECRET//REL TO USA, JPN",
        "USA");
    agg("S//REL TO USA, JPN/RELIDO", "USA", "C//REL TO USA, JPN/RELIDO", "USA",
        "SECRET//REL TO USA, JPN/RELIDO", "USA");
    /* An unclassified part does not take RELIDO off a classified roll-up. */
    agg("S//REL TO USA, JPN/RELIDO", "USA", "U//REL TO USA, JPN", "USA",
        "SECRET//REL TO USA, JPN/RELIDO", "USA");
    agg("S//RELIDO", "USA", "S//NOFORN", "USA", "SECRET//NOFORN", "USA");
    agg("U//FOUO", "USA", "S//REL TO USA, JPN", "USA", "SECRET//NOFORN", "USA");
    agg("U//FOUO/REL TO USA, JPN", "USA", "S//REL TO USA, JPN", "USA", "SECRET//REL TO USA, JPN",
        "USA");
    agg("CUI//REL TO USA, JPN", "USA", "U//FOUO/REL TO USA, JPN", "USA", "CUI//REL TO USA, JPN",
        "USA");
    agg("CUI//REL TO USA, JPN", "USA", "C//REL TO USA, JPN", "USA", "CONFIDENTIAL//REL TO USA, JPN",
        "USA");
    agg("S//ORCON/REL TO USA, JPN", "USA", "S//NOFORN", "USA", "SECRET//ORCON/NOFORN", "USA");
}

/* Item 5: a roll-up keeps every originator; the home nation's holds the others' as FGI. */
static void test_aggregate_origins(void **state)
{
    (void)state;
    agg("SECRET//REL TO USA, JPN", "USA", "SECRET//REL TO USA, JPN", "JPN",
        "SECRET//FGI JPN//REL TO USA, JPN", "USA");
    agg("SECRET//REL TO USA, JPN", "JPN", "SECRET//REL TO USA, JPN", "USA",
        "SECRET//FGI JPN//REL TO USA, JPN", "USA");
    /* One foreign originator throughout: written as today (wire compatibility)... */
    agg("SECRET//REL TO USA, JPN", "JPN", "C//REL TO USA, JPN, PHL", "JPN",
        "SECRET//REL TO USA, JPN", "JPN");
    /* ...or wholly foreign where a part says so. */
    agg("//JPN SECRET//REL TO USA, JPN", "USA", "//JPN C//REL TO USA, JPN, PHL", "USA",
        "//JPN SECRET//REL TO USA, JPN", "JPN");
    agg("//JPN SECRET//REL TO USA, JPN", "USA", "SECRET//REL TO USA, JPN", "USA",
        "SECRET//FGI JPN//REL TO USA, JPN", "USA");
    agg("SECRET//FGI KOR//REL TO USA, JPN, KOR", "USA", "S//REL TO USA, JPN", "PHL",
        "SECRET//FGI KOR PHL//REL TO USA, JPN", "USA");
    /* FGI parts may not be RELIDO, so neither is their roll-up. */
    agg("S//REL TO USA, JPN/RELIDO", "USA", "S//REL TO USA, JPN/RELIDO", "JPN",
        "SECRET//FGI JPN//REL TO USA, JPN", "USA");
    /* JOINT survives while its owners cover every part... */
    agg("//JOINT SECRET JPN USA//REL TO USA, JPN", NULL, "C//REL TO USA, JPN, PHL", "USA",
        "//JOINT SECRET JPN USA//REL TO USA, JPN", NULL);
    agg("//JOINT SECRET JPN USA", NULL, "//JOINT C USA JPN//REL TO USA, JPN, PHL", NULL,
        "//JOINT SECRET JPN USA//REL TO USA, JPN", NULL);
    /* ...and becomes FGI when a part is not theirs, or not releasable to all of them. */
    agg("//JOINT SECRET JPN USA//REL TO USA, JPN, PHL", NULL, "C//REL TO USA, JPN, PHL", "PHL",
        "SECRET//FGI JPN PHL//REL TO USA, JPN, PHL", "USA");
    agg("//JOINT SECRET JPN USA", NULL, "SECRET//NOFORN", "USA", "SECRET//FGI JPN//NOFORN", "USA");
}

/* The roll-up under a JPN-home policy: FGI names the nations other than Japan. */
static void test_aggregate_jpn_home(void **state)
{
    struct kz_label acc = label_p(&jpn, "極秘//REL TO USA, JPN", "JPN");
    struct kz_label part = label_p(&jpn, "極秘//REL TO USA, JPN", "USA");
    struct kz_sbuf sb = KZ_SBUF_INIT;
    (void)state;

    assert_int_equal(kz_label_aggregate(&jpn, &acc, &part), KZ_OK);
    assert_int_equal(kz_label_format(&jpn, &acc, &sb), KZ_OK);
    assert_string_equal(sb.buf, "極秘//FGI USA//REL TO USA, JPN");
    assert_int_equal(acc.originator, kz_nation_index("JPN", 3));
    kz_sbuf_release(&sb);
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
    other = label_p(&jpn, "GOKUHI//REL TO JPN, FVEY, NATO", "USA");
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
    assert_false(kz_label_dominated(LBL("TS//NOFORN", "USA"), &secret_usa));
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

/* Item 2: the example JPN policy, 機密/極秘/秘 = TS/S/C, 特定秘密 with SECRET. */
static void test_jpn_policy(void **state)
{
    struct kz_label l = label_p(&jpn, " 極秘 // rel to jpn, usa", "JPN");
    struct kz_label us_l = label("SECRET//REL TO USA, JPN", "JPN");
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_identity id = {.nation = "JPN", .clearance = "秘"};
    struct kz_release_subject s, us_s = subject("USA", "SECRET");
    char err[200];
    (void)state;

    assert_int_equal(l.level, KZ_LEVEL_SECRET);
    assert_int_equal(l.policy, 1);
    assert_int_equal(kz_label_format(&jpn, &l, &sb), KZ_OK);
    assert_string_equal(sb.buf, "極秘//REL TO USA, JPN");
    assert_int_equal(label_p(&jpn, "機密", NULL).level, KZ_LEVEL_TOP_SECRET);
    assert_int_equal(label_p(&jpn, "kimitsu//NF", NULL).level, KZ_LEVEL_TOP_SECRET);
    assert_int_equal(label_p(&jpn, "秘", NULL).level, KZ_LEVEL_CONFIDENTIAL);
    assert_int_equal(label_p(&jpn, "特定秘密//NF", NULL).level, KZ_LEVEL_SECRET);
    /* 取扱注意 is a handling caveat, not a level: UNCLASSIFIED with FOUO. */
    assert_int_equal(kz_label_parse(&jpn, "取扱注意", strlen("取扱注意"), &l, NULL, 0),
                     KZ_ERR_PARSE);
    l = label_p(&jpn, "公開//FOUO", "JPN");
    assert_int_equal(l.level, KZ_LEVEL_UNCLASSIFIED);
    assert_int_equal(l.caveats, KZ_CAVEAT_FOUO);
    /* US names are not JPN names. */
    assert_int_equal(kz_label_parse(&jpn, "SECRET", 6, &l, NULL, 0), KZ_ERR_PARSE);
    /* A holder of a 秘 clearance is cleared to CONFIDENTIAL, not to US SECRET. */
    l = label_p(&jpn, "極秘//REL TO JPN, USA", "JPN");
    assert_int_equal(kz_release_subject_from(&id, &jpn, &s), KZ_OK);
    assert_int_equal(s.clearance, KZ_LEVEL_CONFIDENTIAL);
    assert_false(kz_may_release(&l, &s, NULL));
    assert_false(kz_may_release(&us_l, &s, NULL));
    assert_int_equal(kz_release_subject_from(&id, &us, &s), KZ_ERR_INVAL);
    id.clearance = "極秘";
    assert_int_equal(kz_release_subject_from(&id, &jpn, &s), KZ_OK);
    assert_true(kz_may_release(&l, &s, NULL));
    assert_true(kz_may_release(&l, &us_s, NULL));
    assert_true(kz_label_dominated(&l, &us_l) && kz_label_dominated(&us_l, &l));
    us_s = subject("PHL", "TOP SECRET");
    assert_false(kz_may_release(&l, &us_s, NULL));
    /* JPN home: REL TO lists JPN (the mirror of ISM-ID-00214), not necessarily USA. */
    l = label_p(&jpn, "極秘//REL TO JPN, PHL", "JPN");
    assert_int_equal(kz_label_parse(&jpn, "極秘//REL TO USA, GBR", strlen("極秘//REL TO USA, GBR"),
                                    &l, err, sizeof(err)),
                     KZ_ERR_PARSE);
    assert_non_null(strstr(err, "must list JPN"));
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

static const char *const pool_marks[] = {"SECRET//FGI JPN",        "SECRET//FGI KOR PHL",
                                         "//JPN SECRET",           "//JPN CONFIDENTIAL",
                                         "//JOINT SECRET JPN USA", "//JOINT C JPN PHL"};

static void random_rel(unsigned *seed, struct kz_sbuf *sb, const char *sep)
{
    unsigned mask = rnd(seed, 1u << KZ_ARRAY_LEN(pool_codes)) | 1u | (1u << (1 + rnd(seed, 3)));

    for (size_t i = 0; i < KZ_ARRAY_LEN(pool_codes); i++)
        if (mask & (1u << i)) {
            kz_sbuf_addf(sb, "%s%s", sep, pool_codes[i]);
            sep = ", ";
        }
}

/* A random valid label: levels, NOFORN, REL TO (with USA), FOUO/ORCON/RELIDO, FGI, JOINT. */
static struct kz_label random_label(unsigned *seed)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_label l;
    unsigned kind = rnd(seed, 6), lv = rnd(seed, 4);
    bool marked = kind >= 4;

    kz_sbuf_adds(&sb, marked ? pool_marks[rnd(seed, KZ_ARRAY_LEN(pool_marks))] : pool_levels[lv]);
    if (kind == 1 || (kind == 4 && rnd(seed, 2)))
        kz_sbuf_adds(&sb, "//NOFORN");
    else if (kind == 2 || kind == 5)
        random_rel(seed, &sb, "//REL TO ");
    if (kind == 2 && rnd(seed, 3) == 0)
        kz_sbuf_adds(&sb, "/RELIDO");
    if (kind == 3)
        kz_sbuf_adds(&sb, lv == 0 ? "//FOUO" : rnd(seed, 2) ? "//ORCON" : "//RELIDO");
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
        cmocka_unit_test(test_rule_origins),
        cmocka_unit_test(test_set_joint),
        cmocka_unit_test(test_aggregate),
        cmocka_unit_test(test_aggregate_noforn),
        cmocka_unit_test(test_aggregate_caveats),
        cmocka_unit_test(test_aggregate_origins),
        cmocka_unit_test(test_aggregate_jpn_home),
        cmocka_unit_test(test_aggregate_invalid),
        cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_jpn_policy),
        cmocka_unit_test(test_aggregate_random),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
