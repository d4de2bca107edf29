/*
 * plan.h - what the files of `kizuna plan` share: plan.c parses options and
 * runs the subcommands, plan_http.c talks to /api/v1/plans, plan_show.c
 * prints the answers for people.
 * Internal to src/cli/.
 *
 * The printers only read the JSON they are given (the server's answer, as
 * docs/plans.md describes it) and tolerate missing fields.
 */
#ifndef KZ_CLI_PLAN_H
#define KZ_CLI_PLAN_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/client.h"
#include "core/core.h"

/* ---- plan_http.c ----------------------------------------------------------- */

/* What a subcommand talks to: the server, its name for messages, --json. */
struct kz__plan_ctx {
    struct kz_cli_server srv;
    const char *sub;
    bool json;
};

/*
 * One request (`body` NULL or JSON text) and its whole answer in *r (see
 * kz__cli_http).  KZ_OK, or KZ_ERR_IO (or KZ_ERR_CLOSED on a stop signal)
 * after printing why.  Release *r either way.
 */
int kz__plan_http(const struct kz__plan_ctx *c, const char *method, const char *path,
                  const char *body, struct kz_http_reply *r);

/* A non-2xx answer on stderr: "kizuna plan SUB: ERROR (HTTP N, rule R)". */
void kz__plan_refusal(const struct kz__plan_ctx *c, const struct kz_http_reply *r);

/*
 * Send `body` (may be NULL; consumed) and parse the JSON answer into
 * *answer (the caller's reference).  Returns the exit code: 0 with *answer
 * set, else 1 after printing why (*answer NULL).
 */
int kz__plan_call(const struct kz__plan_ctx *c, const char *method, const char *path, json_t *body,
                  json_t **answer);

/* "/api/v1/plans/ID" + suffix with the id percent-encoded; the caller frees it. */
char *kz__plan_path(const char *id, const char *suffix);

/* ---- plan_show.c ----------------------------------------------------------- */

/*
 * Append `utc_us` as local time in each distinct zone of zones[0..n) (IANA
 * names; NULL entries and repeats are skipped), joined with " | ", each as
 * "YYYY-MM-DD HH:MM ABBR (Zone)".  ABBR is the zone's abbreviation for the
 * offset in force (JST, HST, PHT, AEST or AEDT, ...) when known, else the
 * offset ("UTC+09:00").  A zone the system does not know prints the UTC
 * time as "YYYY-MM-DD HH:MM UTC (Zone: unknown zone)".  Pure apart from
 * reading the system's zone files (kz_tz_offset()).
 */
void kz__plan_local_times(int64_t utc_us, const char *const *zones, size_t n, struct kz_sbuf *out);

/*
 * Blank the control characters (C0, DEL, C1) in every string of `j`, in
 * place: text other people wrote must not drive the terminal.  The human
 * printers below expect scrubbed JSON.
 */
void kz__plan_scrub(json_t *j);

/* Header, approvals, consultation and the items as a timeline; `local`: local times. */
void kz__plan_print(FILE *out, const json_t *plan, bool local);

/* One line per plan of {"plans":[...]}, or "no plans". */
void kz__plan_print_list(FILE *out, const json_t *answer);

/* "ID: revision N, stage S, consultation C, approvals k/n", after `verb` when not NULL. */
void kz__plan_print_summary(FILE *out, const json_t *plan, const char *verb);

/* The records of {"records":[...],"verified":...} and "verified: yes|no"; returns verified. */
bool kz__plan_print_audit(FILE *out, const json_t *answer);

#endif
