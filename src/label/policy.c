/*
 * policy.c - marking policies: level names and tetragraphs.  A policy is
 * built by the configuration loader and only read afterwards.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "label/internal.h"

static const char *const us_names[KZ_LEVEL__COUNT][2] = {
    [KZ_LEVEL_UNCLASSIFIED] = {"UNCLASSIFIED", "U"},
    [KZ_LEVEL_CONFIDENTIAL] = {"CONFIDENTIAL", "C"},
    [KZ_LEVEL_SECRET] = {"SECRET", "S"},
    [KZ_LEVEL_TOP_SECRET] = {"TOP SECRET", "TS"},
};

const char *kz_level_name(enum kz_level level)
{
    if (level <= KZ_LEVEL_INVALID || level >= KZ_LEVEL__COUNT)
        return "INVALID";
    return us_names[level][0];
}

void kz__policy_changed(struct kz_label_policy *p)
{
    static atomic_uint_fast64_t versions;

    p->version = atomic_fetch_add(&versions, 1) + 1;
}

void kz_label_policy_init(struct kz_label_policy *p, uint16_t id, const char *name)
{
    memset(p, 0, sizeof(*p));
    p->id = id;
    snprintf(p->name, sizeof(p->name), "%s", name != NULL ? name : "");
    kz__policy_changed(p);
}

void kz__policy_add_us_names(struct kz_label_policy *p)
{
    for (int lv = KZ_LEVEL_UNCLASSIFIED; lv < KZ_LEVEL__COUNT; lv++)
        for (int i = 0; i < 2; i++)
            /* A configured alias may already be a US name: not an error. */
            (void)kz_label_policy_add_level_name(p, (enum kz_level)lv, us_names[lv][i], NULL, 0);
}

void kz__policy_add_default_tetragraphs(struct kz_label_policy *p)
{
    static const char *const fvey[] = {"USA", "AUS", "CAN", "GBR", "NZL"};
    int rc = KZ_OK;

    rc |= kz_label_policy_add_tetragraph(p, "FVEY", fvey, KZ_ARRAY_LEN(fvey), NULL, 0);
    rc |= kz_label_policy_add_tetragraph(p, "NATO", NULL, 0, NULL, 0);
    KZ_ASSERT(rc == KZ_OK);
}

void kz_label_policy_set_home(struct kz_label_policy *p, uint16_t nation)
{
    p->home = nation <= KZ__NATIONS ? nation : KZ_NATION_NONE;
    kz__policy_changed(p);
}

void kz_label_policy_init_default(struct kz_label_policy *p)
{
    kz_label_policy_init(p, 0, "US");
    kz_label_policy_set_home(p, kz_nation_index("USA", 3));
    kz__policy_add_us_names(p);
    kz__policy_add_default_tetragraphs(p);
}

bool kz__name_eq(const char *name, const char *s, size_t len)
{
    size_t j = 0;

    for (size_t i = 0; name[i] != '\0'; i++) {
        if (name[i] == ' ') {
            if (j >= len || !kz__is_blank(s[j]))
                return false;
            while (j < len && kz__is_blank(s[j]))
                j++;
            continue;
        }
        if (j >= len || kz__upper(s[j]) != kz__upper(name[i]))
            return false;
        j++;
    }
    return j == len;
}

enum kz_level kz__level_lookup(const struct kz_label_policy *p, const char *s, size_t len)
{
    for (int lv = KZ_LEVEL_UNCLASSIFIED; lv < KZ_LEVEL__COUNT; lv++)
        for (int i = 0; i < KZ_LABEL_MAX_NAMES && p->names[lv][i][0] != '\0'; i++)
            if (kz__name_eq(p->names[lv][i], s, len))
                return (enum kz_level)lv;
    return KZ_LEVEL_INVALID;
}

int kz__tetra_lookup(const struct kz_label_policy *p, const char *s, size_t len)
{
    if (len != 4)
        return -1;
    for (unsigned i = 0; i < p->tetra_count; i++)
        if (kz__name_eq(p->tetra[i].code, s, len))
            return (int)i;
    return -1;
}

static int seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Level names may not hold what the banner grammar uses as syntax. */
static bool name_ok(const char *name, size_t len)
{
    if (len == 0 || len >= KZ_LABEL_NAME_MAX || name[0] == ' ' || name[len - 1] == ' ')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == ',')
            return false;
        if (c == ' ' && name[i + 1] == ' ')
            return false;
    }
    return true;
}

int kz_label_policy_add_level_name(struct kz_label_policy *p, enum kz_level level, const char *name,
                                   char *err, size_t errlen)
{
    size_t len = name != NULL ? strlen(name) : 0;
    int i = 0;

    if (level <= KZ_LEVEL_INVALID || level >= KZ_LEVEL__COUNT)
        return seterr(err, errlen, KZ_ERR_INVAL, "no such level %d", (int)level);
    if (!name_ok(name, len))
        return seterr(err, errlen, KZ_ERR_INVAL,
                      "bad level name '%.40s': 1-%d bytes, no '/', ',', control bytes, "
                      "outer or double spaces",
                      name != NULL ? name : "", KZ_LABEL_NAME_MAX - 1);
    if (kz__level_lookup(p, name, len) != KZ_LEVEL_INVALID)
        return seterr(err, errlen, KZ_ERR_INVAL, "level name '%s' is already in use", name);
    while (i < KZ_LABEL_MAX_NAMES && p->names[level][i][0] != '\0')
        i++;
    if (i == KZ_LABEL_MAX_NAMES)
        return seterr(err, errlen, KZ_ERR_TOOBIG, "level %s has %d names already",
                      kz_level_name(level), KZ_LABEL_MAX_NAMES);
    memcpy(p->names[level][i], name, len + 1);
    kz__policy_changed(p);
    return KZ_OK;
}

static bool tetra_code_ok(const char *code)
{
    if (code == NULL || strlen(code) != 4)
        return false;
    for (int i = 0; i < 4; i++)
        if (kz__upper(code[i]) < 'A' || kz__upper(code[i]) > 'Z')
            return false;
    return true;
}

/* Keep tetra_sorted in code order: kz_label_format() walks it. */
static void insert_sorted(struct kz_label_policy *p, unsigned idx)
{
    unsigned at = idx;

    while (at > 0 && strcmp(p->tetra[p->tetra_sorted[at - 1]].code, p->tetra[idx].code) > 0) {
        p->tetra_sorted[at] = p->tetra_sorted[at - 1];
        at--;
    }
    p->tetra_sorted[at] = (uint8_t)idx;
}

int kz_label_policy_add_tetragraph(struct kz_label_policy *p, const char *code,
                                   const char *const *members, size_t n, char *err, size_t errlen)
{
    struct kz_label_tetra t;

    memset(&t, 0, sizeof(t));
    if (!tetra_code_ok(code))
        return seterr(err, errlen, KZ_ERR_INVAL, "bad tetragraph '%.16s': four letters A-Z",
                      code != NULL ? code : "");
    if (kz__tetra_lookup(p, code, 4) >= 0)
        return seterr(err, errlen, KZ_ERR_EXISTS, "tetragraph %s defined twice", code);
    if (p->tetra_count == KZ_LABEL_MAX_TETRA)
        return seterr(err, errlen, KZ_ERR_TOOBIG, "more than %d tetragraphs", KZ_LABEL_MAX_TETRA);
    for (int i = 0; i < 4; i++)
        t.code[i] = kz__upper(code[i]);
    for (size_t i = 0; i < n; i++) {
        uint16_t nat =
            members[i] != NULL ? kz_nation_index(members[i], strlen(members[i])) : KZ_NATION_NONE;
        if (nat == KZ_NATION_NONE)
            return seterr(err, errlen, KZ_ERR_INVAL,
                          "tetragraph %s: '%.16s' is not an ISO 3166 alpha-3 code", t.code,
                          members[i] != NULL ? members[i] : "");
        kz__bit_set(t.members, nat);
    }
    t.expands = n > 0;
    p->tetra[p->tetra_count] = t;
    insert_sorted(p, p->tetra_count);
    p->tetra_count++;
    kz__policy_changed(p);
    return KZ_OK;
}
