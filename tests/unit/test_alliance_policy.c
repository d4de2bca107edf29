/*
 * Unit tests for the alliance model under the configured marking policy:
 * its labels parse under the policy the loader is given, so a narrowed
 * tetragraph narrows the model's release and custom names load (S2-1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alliance/alliance.h"
#include "core/config.h"

static const char model[] =
    "name: policy test\n"
    "nations:\n"
    "  - {code: USA, name: United States, tz: Asia/Tokyo}\n"
    "  - {code: AUS, name: Australia, tz: Australia/Sydney}\n"
    "commands:\n"
    "  - {id: HQ, name: headquarters, nation: USA, service: joint, kind: ccmd, tz: Asia/Tokyo}\n"
    "  - {id: CELL, name: five eyes cell, nation: USA, service: joint, kind: jfhq,\n"
    "     tz: Asia/Tokyo, label: \"%s\"}\n"
    "relationships:\n"
    "  - {type: COCOM, from: HQ, to: CELL}\n";

static void configured(const char *labels, struct kz_label_policy *p)
{
    char yaml[1024], err[512];
    struct kz_config *cfg;

    snprintf(yaml, sizeof(yaml), "labels:\n%s", labels);
    if (kz_config_load_mem("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof(err)) != KZ_OK ||
        kz_label_policy_from_config(cfg->labels, p, err, sizeof(err)) != KZ_OK)
        fail_msg("%s", err);
    kz_config_free(cfg);
}

static struct kz_alliance *load(const struct kz_label_policy *p, const char *label,
                                struct kz_alliance_diag *d)
{
    char text[2048];
    struct kz_alliance *a = NULL;

    snprintf(text, sizeof(text), model, label);
    kz_alliance_load_mem("m.yaml", text, strlen(text), p, &a, d);
    return a;
}

/* Does the model shown to `nation` name the CELL command? */
static bool sees_cell(const struct kz_alliance *a, const struct kz_label_policy *p,
                      const char *nation)
{
    struct kz_identity id = {.nation = (char *)nation, .clearance = "TOP SECRET"};
    struct kz_release_subject who;
    struct kz_alliance_view v = {&who};
    json_t *o;
    char *text;
    bool seen;

    assert_int_equal(kz_release_subject_from(&id, p, &who), KZ_OK);
    o = kz_alliance_show(a, kz_day_of_us(kz_now_us()), &v);
    text = json_dumps(o, 0);
    seen = strstr(text, "CELL") != NULL;
    free(text);
    json_decref(o);
    return seen;
}

/* Narrowing FVEY in the configuration hides REL TO FVEY entries from AUS. */
static void test_narrowed_tetragraph(void **state)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_label_policy builtin, narrow;
    struct kz_alliance *a;
    (void)state;

    kz_label_policy_init_default(&builtin);
    a = load(&builtin, "SECRET//REL TO USA, FVEY", &d);
    if (!a)
        fail_msg("%s", d.text.buf);
    assert_true(sees_cell(a, &builtin, "AUS"));
    kz_alliance_free(a);

    configured("  tetragraphs: {FVEY: [USA, GBR]}\n", &narrow);
    a = load(&narrow, "SECRET//REL TO USA, FVEY", &d);
    if (!a)
        fail_msg("%s", d.text.buf);
    assert_int_equal(a->commands[1].lab.policy, narrow.id);
    assert_false(sees_cell(a, &narrow, "AUS"));
    assert_true(sees_cell(a, &narrow, "GBR"));
    assert_true(sees_cell(a, &narrow, "USA"));
    kz_alliance_free(a);
    kz_alliance_diag_release(&d);
}

/* Custom tetragraphs and level names load under their policy, and only under it. */
static void test_custom_names(void **state)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_label_policy p;
    struct kz_alliance *a;
    (void)state;

    configured("  tetragraphs: {ANZU: [AUS, NZL, USA]}\n  level_names: {SECRET: [HIMITSU]}\n", &p);
    a = load(&p, "HIMITSU//REL TO USA, ANZU", &d);
    if (!a)
        fail_msg("%s", d.text.buf);
    assert_true(sees_cell(a, &p, "AUS"));
    assert_false(sees_cell(a, &p, "GBR"));
    kz_alliance_free(a);
    assert_null(load(NULL, "HIMITSU//REL TO USA, ANZU", &d));
    assert_non_null(strstr(d.text.buf, "m.yaml:7: bad label 'HIMITSU//REL TO USA, ANZU'"));
    kz_alliance_diag_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_narrowed_tetragraph),
        cmocka_unit_test(test_custom_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
