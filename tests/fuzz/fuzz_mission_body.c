/*
 * fuzz_mission_body - fuzz the Data Sync mission request bodies
 * (src/mission/body.c): PUT .../contents {"hashes","uids"}, a LogEntry of
 * POST /Marti/api/missions/logs/entries, and the Mission body of PUT/POST
 * /missions/{name}.  The first byte picks the parser, the rest is the body.
 * Whatever the bytes: a refusal leaves nothing allocated and says why; an
 * accepted contents body holds only bounded uids and 64-digit lowercase
 * hashes; an accepted log entry has its content and at least one mission
 * name; a mission with the body applied still serialises, reads back from
 * its stored document to the same document, and has a JSON view.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "mission/mission.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_mission_body: %s\n", what);
        abort();
    }
}

static void contents(const char *body, size_t len)
{
    char **u, **h, err[160] = "";
    unsigned nu, nh;

    if (kz_mission_contents_parse(body, len, &u, &nu, &h, &nh, err, sizeof(err)) != KZ_OK) {
        check(!u && !h && nu == 0 && nh == 0 && err[0], "a refusal keeps nothing and says why");
        return;
    }
    check(nu + nh <= KZ_MISSION_MAX_ITEMS, "bounded");
    for (unsigned i = 0; i < nu; i++)
        check(u[i][0] && strlen(u[i]) <= KZ_COT_UID_MAX, "a uid is 1..KZ_COT_UID_MAX bytes");
    for (unsigned i = 0; i < nh; i++) {
        check(strlen(h[i]) == KZ_MISSION_HASH_LEN, "a hash is 64 digits");
        for (const char *p = h[i]; *p; p++)
            check(isxdigit((unsigned char)*p) && !isupper((unsigned char)*p), "lowercase hex");
    }
    kz_strv_free(u, nu);
    kz_strv_free(h, nh);
}

static void log_entry(const char *body, size_t len)
{
    struct kz_mission_log l;
    char **names, err[160] = "";
    unsigned n;

    if (kz_mission_log_parse(body, len, &l, &names, &n, err, sizeof(err)) != KZ_OK) {
        check(!names && n == 0 && !l.content && err[0], "a refusal keeps nothing and says why");
        return;
    }
    check(l.content && strlen(l.content) <= KZ_MISSION_TEXT_MAX, "content bounded");
    check(n > 0 && names[0][0], "a mission name");
    kz_mission_log_clear(&l);
    kz_strv_free(names, n);
}

static void mission_body(const char *body, size_t len)
{
    static struct kz_label_policy policy;
    struct kz_mission_book *b = kz_mission_book_new();
    struct kz_label label;
    struct kz_release_subject who = {kz_nation_index("USA", 3), KZ_LEVEL_SECRET};
    char err[160];

    kz_label_policy_init_default(&policy);
    check(kz_mission_label(&policy, "UNCLASSIFIED", "USA", &label) == KZ_OK, "label");
    struct kz_mission *m = kz_mission_book_add(b, "fuzz", "UNCLASSIFIED", &label, 1);
    if (kz_mission_body_apply(m, body, len, err, sizeof(err)) == KZ_OK) {
        char *doc = kz_mission_doc(m), *again;
        struct kz_mission *back;
        check(kz_mission_from_doc(doc, &policy, &back) == KZ_OK, "the document reads back");
        again = kz_mission_doc(back);
        check(strcmp(doc, again) == 0, "the same document");
        struct kz_mission_view v = {.who = &who, .changes = true, .logs = true};
        json_t *j = kz_mission_json(back, &v);
        check(j != NULL, "a view");
        json_decref(j);
        free(doc);
        free(again);
        kz_mission_free(back);
    }
    kz_mission_book_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    switch (data[0] % 3) {
    case 0:
        contents(body, len);
        break;
    case 1:
        log_entry(body, len);
        break;
    default:
        mission_body(body, len);
        break;
    }
    return 0;
}
