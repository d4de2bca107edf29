/*
 * Fuzz the label parser.  Whatever the input: parsing never crashes, a
 * refusal comes with a message and an invalid label, and an accepted label's
 * canonical form is a fixed point (it parses back to the same label and
 * formats to the same string).  Accepted labels also go through the roll-up
 * and the ceiling test, whose result must be dominated by nothing looser
 * than its parts.  The first byte picks the policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label/label.h"

static struct kz_label_policy policies[2];
static struct kz_label fixed[3];

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_label: %s\n", what);
        abort();
    }
}

static void init(void)
{
    static const char *const pac[] = {"USA", "JPN", "PHL", "AUS", "KOR"};
    static const char *const fixed_src[] = {"SECRET//REL TO USA, JPN", "UNCLASSIFIED",
                                            "CONFIDENTIAL//NOFORN"};
    struct kz_label_policy *p = &policies[1];

    kz_label_policy_init_default(&policies[0]);
    kz_label_policy_init(p, 1, "JPN");
    /* The corrected example JPN policy (docs/labels.md): 機密/極秘/秘 = TS/S/C. */
    check(kz_label_policy_add_level_name(p, KZ_LEVEL_UNCLASSIFIED, "KOUKAI", NULL, 0) == KZ_OK &&
              kz_label_policy_add_level_name(p, KZ_LEVEL_CONFIDENTIAL, "秘", NULL, 0) == KZ_OK &&
              kz_label_policy_add_level_name(p, KZ_LEVEL_SECRET, "極秘", NULL, 0) == KZ_OK &&
              kz_label_policy_add_level_name(p, KZ_LEVEL_SECRET, "特定秘密", NULL, 0) == KZ_OK &&
              kz_label_policy_add_level_name(p, KZ_LEVEL_TOP_SECRET, "機密", NULL, 0) == KZ_OK &&
              kz_label_policy_add_level_name(p, KZ_LEVEL_TOP_SECRET, "KIMITSU", NULL, 0) == KZ_OK &&
              kz_label_policy_add_tetragraph(p, "PACI", pac, 5, NULL, 0) == KZ_OK &&
              kz_label_policy_add_tetragraph(p, "NATO", NULL, 0, NULL, 0) == KZ_OK,
          "policy setup");
    kz_label_policy_set_home(p, kz_nation_index("JPN", 3));
    for (size_t i = 0; i < 3; i++) {
        check(kz_label_parse(&policies[0], fixed_src[i], strlen(fixed_src[i]), &fixed[i], NULL,
                             0) == KZ_OK,
              "fixed label");
        fixed[i].originator = kz_nation_index("USA", 3);
    }
}

static void lattice(const struct kz_label_policy *p, const struct kz_label *l)
{
    for (size_t i = 0; i < 3; i++) {
        struct kz_label acc = *l;
        struct kz_sbuf sb = KZ_SBUF_INIT;
        check(kz_label_aggregate(p, &acc, &fixed[i]) == KZ_OK, "aggregate refused");
        check(kz_label_dominated(l, &acc), "part above its roll-up");
        check(kz_label_dominated(&fixed[i], &acc), "fixed part above its roll-up");
        check(kz_label_format(p, &acc, &sb) == KZ_OK, "roll-up does not format");
        check(sb.len <= KZ_LABEL_MAX_LEN, "roll-up too long");
        kz_sbuf_release(&sb);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    const struct kz_label_policy *p;
    struct kz_label l, again;
    struct kz_sbuf one = KZ_SBUF_INIT, two = KZ_SBUF_INIT;
    char err[256];

    if (!ready) {
        init();
        ready = true;
    }
    if (size == 0)
        return 0;
    p = &policies[data[0] & 1];
    if (kz_label_parse(p, (const char *)data + 1, size - 1, &l, err, sizeof(err)) != KZ_OK) {
        check(err[0] != '\0', "refusal without a message");
        check(l.level == KZ_LEVEL_INVALID, "refused label not invalid");
        return 0;
    }
    check(kz_label_format(p, &l, &one) == KZ_OK, "accepted label does not format");
    check(one.len <= KZ_LABEL_MAX_LEN, "canonical form too long");
    check(kz_label_parse(p, one.buf, one.len, &again, err, sizeof(err)) == KZ_OK,
          "canonical form does not parse");
    check(memcmp(&l, &again, sizeof(l)) == 0, "canonical form parses to another label");
    check(kz_label_format(p, &again, &two) == KZ_OK && strcmp(one.buf, two.buf) == 0,
          "canonical form is not a fixed point");
    l.originator = (uint16_t)(data[0] >> 1);
    lattice(p, &l);
    kz_sbuf_release(&one);
    kz_sbuf_release(&two);
    return 0;
}
