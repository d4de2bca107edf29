/*
 * plan.h - what the files of `kizuna plan` share: plan.c parses options and
 * talks to /api/v1/plans; plan_show.c prints the answers for people.
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

#include "core/core.h"

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

/* Header, approvals, consultation and the items as a timeline; `local`: local times. */
void kz__plan_print(FILE *out, const json_t *plan, bool local);

/* One line per plan of {"plans":[...]}, or "no plans". */
void kz__plan_print_list(FILE *out, const json_t *answer);

/* "ID: revision N, stage S, consultation C, approvals k/n", after `verb` when not NULL. */
void kz__plan_print_summary(FILE *out, const json_t *plan, const char *verb);

/* The records of {"records":[...],"verified":...} and "verified: yes|no"; returns verified. */
bool kz__plan_print_audit(FILE *out, const json_t *answer);

#endif
