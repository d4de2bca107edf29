/*
 * internal.h - private to src/alliance/: diagnostics, calendar helpers,
 * the command graph walks shared by the validator and the queries, and the
 * time-zone reader.
 */
#ifndef KZ_ALLIANCE_INTERNAL_H
#define KZ_ALLIANCE_INTERNAL_H

#include <stdio.h>

#include "alliance/alliance.h"

/* Append "file:line: message" to d. */
void kz__diag(struct kz_alliance_diag *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The command superior of `id` on `day`: the holder of OPCON, else COCOM
 * (the operational chain, where a delegated OPCON holder sits between the
 * unit and its COCOM holder), else national command (above a CCDR or a
 * national joint command).  NULL at the top.
 */
const struct kz_relation *kz__superior(const struct kz_alliance *a, const char *id, int32_t day);

/* True when `anc` is `id` or above it by kz__superior on `day` (bounded). */
bool kz__is_above(const struct kz_alliance *a, const char *anc, const char *id, int32_t day);

/*
 * The rules on entries other than relations (validate_entries.c): organic
 * elements, commanders, forum links, approvers, agreements, consultation.
 * Unknown ids are reported, never followed.  Returns the count added.
 */
unsigned kz__validate_entries(const struct kz_alliance *a, struct kz_alliance_diag *diag);

/* True when the model has a forum `id`. */
bool kz__forum_known(const struct kz_alliance *a, const char *id);

/* True when `s` is one of the `n` strings of `v`. */
bool kz__strv_has(char *const *v, unsigned n, const char *s);

/* Every day at which some window in the model opens (for date-wise checks). */
int32_t *kz__change_days(const struct kz_alliance *a, unsigned *n);

/* Add the label of an entry to a JSON object when it has one. */
void kz__json_label(json_t *o, const char *label);
/* True when the view lets `lab` out. */
bool kz__visible(struct kz_alliance_view *v, const char *label, const struct kz_label *lab);

/* Parse "HH:MM-HH:MM Mon-Fri" / "24/7"; KZ_ERR_PARSE. */
int kz__duty_parse(const char *s, struct kz_duty *out);

#endif
