/*
 * readiness.h - unit readiness reports (SORTS-style C-levels): personnel,
 * equipment on hand, equipment condition and training, each 1 (best) to 5,
 * or 6 "not measured"; overall (C-1..C-5) is the worst measured area unless
 * the commander overrides it with a reason code and a reason, never to C-5
 * (a Service-directed resource action, not a judgement) unless an area is 5.
 * Each report carries a label; readiness is national, so a report without
 * one is labelled SECRET//NOFORN with the reporter's nation as originator,
 * which the release rule gives to that nation only.
 *
 * The book keeps every report per unit (history) in memory on the loop
 * thread; the store keeps every acknowledged one (persist.c), and the book
 * is rebuilt from it at startup.  Every function that returns reports takes
 * the caller (struct kz_readiness_viewer) and leaves out what it may not
 * see, by the rules CoT events follow: the group rule (the reporter's OUT
 * groups meet the caller's IN groups) and the release rule on the label;
 * and reports about a unit hidden from the caller (an alliance command
 * whose own label it may not see) are never served.  Nothing says how many
 * were left out, so a roll-up does not reveal hidden units either.
 *
 * Ownership: kz_readiness_book_add() takes over the report's strings.
 * JSON results are new references the caller owns.
 */
#ifndef KZ_READINESS_H
#define KZ_READINESS_H

#include <jansson.h>

#include "core/core.h"
#include "label/label.h"
#include "store/store.h"

#define KZ_READINESS_DEFAULT_LABEL "SECRET//NOFORN"
#define KZ_READINESS_NOT_MEASURED 6   /* an area's level when it was not measured */
#define KZ_READINESS_MAX_HISTORY 1000 /* per unit; the oldest go first */

struct kz_readiness {
    char *unit;
    int64_t time_us;       /* when the state was assessed (UTC) */
    int64_t recv_us;       /* when the server took it */
    uint8_t p, s, r, t;    /* 1..5, or 6: not measured */
    uint8_t overall;       /* worst measured area, or the override (1..5) */
    char *override_reason; /* set when overall is not the worst */
    char *reason_code;     /* with override_reason: P, S, R, T, MISSION, OTHER (docs/api.md) */
    char *remarks;
    char *banner; /* canonical label */
    struct kz_label label;
    char *reporter; /* user */
    char **groups;  /* the reporter's OUT groups (who may see it, as for CoT) */
    unsigned n_groups;
};

void kz_readiness_clear(struct kz_readiness *r);

/*
 * Parse a JSON report {"unit", "p", "s", "r", "t", ["overall",
 * "reason_code", "override_reason"], ["time"], ["remarks"], ["label"]} under
 * `policy`;
 * the label's originator is `nation` (the reporter's).  Returns KZ_OK, or
 * KZ_ERR_INVAL with a message for the client in err.
 */
int kz_readiness_parse(const char *json, size_t len, const struct kz_label_policy *policy,
                       const char *nation, struct kz_readiness *out, char *err, size_t errlen);

struct kz_readiness_book;

struct kz_readiness_book *kz_readiness_book_new(void);
void kz_readiness_book_free(struct kz_readiness_book *b);

/* Take over *r (left cleared); keeps history in time order per unit. */
void kz_readiness_book_add(struct kz_readiness_book *b, struct kz_readiness *r);

/* Report as JSON; "stale" when older than stale_us at now_us. */
json_t *kz_readiness_json(const struct kz_readiness *r, int64_t now_us, int64_t stale_us);

/*
 * Who asks.  A report is visible when one of its groups is one of `in` and
 * kz_may_release() gives its label to `who`, and its unit is visible.
 * Borrowed for the call.
 */
struct kz_readiness_viewer {
    const struct kz_release_subject *who;
    char *const *in; /* the caller's IN groups */
    unsigned n_in;
    /* False for a unit the caller may not know of: its reports are left out,
     * and a roll-up under it counts nothing (as for an unknown command).
     * NULL: every unit is visible. */
    bool (*unit_visible)(void *ud, const char *unit);
    void *ud;
};

/* {"reports": [latest visible report per unit]}; unit may be NULL (all). */
json_t *kz_readiness_latest(const struct kz_readiness_book *b, const char *unit,
                            const struct kz_readiness_viewer *v, int64_t now_us, int64_t stale_us);

/* {"unit", "history": [every visible report, oldest first]}. */
json_t *kz_readiness_history(const struct kz_readiness_book *b, const char *unit,
                             const struct kz_readiness_viewer *v, int64_t now_us, int64_t stale_us);

/* What a roll-up covers and for whom.  Borrowed for the call. */
struct kz_readiness_rollup_opts {
    const char *command;
    /* True when `unit` is under `command`; called with `ud`. */
    bool (*under)(void *ud, const char *unit, const char *command);
    void *ud;
    const struct kz_readiness_viewer *who; /* only reports visible to who count */
    int64_t now_us;
    int64_t stale_us; /* reports older than this at now_us count as stale */
};

/*
 * Roll-up under o->command: over the latest visible report of each unit for
 * which o->under() is true, {"command", "units", "by_level": {"C1": n, ...},
 * "stale": n, "worst"}.
 */
json_t *kz_readiness_rollup(const struct kz_readiness_book *b,
                            const struct kz_readiness_rollup_opts *o);

/* ---- persistence (persist.c) ---------------------------------------------- */

/*
 * Queue `r` for the store; `cb` reports KZ_OK once it has committed (see
 * kz_store_readiness_append).  `r` is copied; the caller keeps it, and adds
 * it to the book only on KZ_OK, so the book never shows an unacknowledged
 * report.
 */
void kz_readiness_save(struct kz_store *st, const struct kz_readiness *r, kz_store_ack_cb cb,
                       void *ud);

/*
 * Startup: add every stored report to `b` (history included), the labels
 * parsed again under `policy`.  A stored label the policy no longer parses
 * is left out with a warning (it cannot be released safely).  A report
 * stored before groups were recorded has none, so nobody sees it.  Sets *loaded
 * and *skipped (may be NULL).  Returns KZ_OK or KZ_ERR_DB.
 */
int kz_readiness_book_load(struct kz_readiness_book *b, struct kz_store *st,
                           const struct kz_label_policy *policy, unsigned *loaded,
                           unsigned *skipped);

#endif
