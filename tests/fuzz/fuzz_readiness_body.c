/*
 * fuzz_readiness_body - fuzz the readiness report parser, the body of
 * POST /api/v1/readiness (kz_readiness_parse, under the default marking
 * policy, for a USA reporter).  The input is the body.  Whatever the bytes:
 * a refusal comes with a message and leaves the report empty; an accepted
 * report has its areas in 1..6 (6: not measured) and overall in 1..5, an
 * overall that is the worst measured area unless a reason code and a reason
 * override it (never to 5), and a canonical label its reporter's nation may see
 * at TOP SECRET; its JSON form (what GET returns) parses back to the same
 * report; and the book lists it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readiness/readiness.h"

#define STALE_US (3600LL * 1000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_readiness_body: %s\n", what);
        abort();
    }
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_accepted(const struct kz_readiness *r)
{
    uint8_t worst = 0;

    check(r->unit && r->unit[0] && strlen(r->unit) <= 64, "unit missing or too long");
    const uint8_t areas[] = {r->p, r->s, r->r, r->t};
    for (size_t i = 0; i < sizeof(areas); i++) {
        check(areas[i] >= 1 && areas[i] <= 6, "area level out of 1..6");
        if (areas[i] != 6 && areas[i] > worst)
            worst = areas[i];
    }
    check(r->overall >= 1 && r->overall <= 5, "overall out of 1..5");
    if (r->override_reason)
        check(r->override_reason[0] && r->reason_code && r->overall != worst && r->overall != 5,
              "override without a reason code, or to C-5");
    else
        check(r->overall == worst, "overall is not the worst area and has no reason");
    check(r->banner && strlen(r->banner) <= KZ_LABEL_MAX_LEN, "no canonical label");
}

/* What GET returns parses back, as a body, to the same report. */
static void check_round_trip(const struct kz_label_policy *p, const struct kz_readiness *r)
{
    json_t *o = kz_readiness_json(r, r->recv_us, STALE_US);
    char *text = json_dumps(o, JSON_COMPACT);
    struct kz_readiness again;
    char err[256];

    check(text != NULL, "report JSON does not serialize");
    check(kz_readiness_parse(text, strlen(text), p, "USA", &again, err, sizeof(err)) == KZ_OK,
          "report JSON does not parse back");
    check(strcmp(again.unit, r->unit) == 0 && again.time_us == r->time_us, "unit/time changed");
    check(again.p == r->p && again.s == r->s && again.r == r->r && again.t == r->t &&
              again.overall == r->overall,
          "levels changed");
    check(same_str(again.override_reason, r->override_reason) &&
              same_str(again.reason_code, r->reason_code) && same_str(again.remarks, r->remarks),
          "reason/remarks changed");
    check(strcmp(again.banner, r->banner) == 0, "canonical label is not a fixed point");
    kz_readiness_clear(&again);
    free(text);
    json_decref(o);
}

/* The book lists the report to its reporter's nation at TOP SECRET, in its group. */
static void check_book(struct kz_readiness *r)
{
    static char *cyan[] = {"Cyan"};
    struct kz_release_subject us = {kz_nation_index("USA", 3), KZ_LEVEL_TOP_SECRET};
    struct kz_readiness_viewer who = {.who = &us, .in = cyan, .n_in = 1};
    struct kz_readiness_book *b = kz_readiness_book_new();
    char *unit = kz_xstrdup(r->unit);
    int64_t now = r->recv_us;

    check(kz_may_release(&r->label, &us, NULL), "the reporter's nation may not see its report");
    r->groups = kz_xcalloc(2, sizeof(char *));
    r->groups[0] = kz_xstrdup("Cyan");
    r->n_groups = 1;
    kz_readiness_book_add(b, r);
    json_t *latest = kz_readiness_latest(b, unit, &who, now, STALE_US);
    json_t *hist = kz_readiness_history(b, unit, &who, now, STALE_US);
    check(json_array_size(json_object_get(latest, "reports")) == 1, "latest does not list it");
    check(json_array_size(json_object_get(hist, "history")) == 1, "history does not list it");
    json_decref(latest);
    json_decref(hist);
    kz_readiness_book_free(b);
    free(unit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct kz_label_policy policy;
    static bool ready;
    struct kz_readiness r;
    char err[256] = "";

    if (!ready) {
        kz_label_policy_init_default(&policy);
        ready = true;
    }
    if (kz_readiness_parse((const char *)data, size, &policy, "USA", &r, err, sizeof(err)) !=
        KZ_OK) {
        check(err[0] != '\0', "refusal without a message");
        check(!r.unit && !r.banner && !r.remarks && !r.override_reason, "refused report not empty");
        return 0;
    }
    check_accepted(&r);
    check_round_trip(&policy, &r);
    check_book(&r);
    kz_readiness_clear(&r);
    return 0;
}
