/*
 * internal.h - private to src/plan/: name tables, field setters and the
 * body parsers the rules share.
 */
#ifndef KZ_PLAN_INTERNAL_H
#define KZ_PLAN_INTERNAL_H

#include "plan/plan.h"

int kz__plan_kind_parse(const char *s, enum kz_plan_kind *out);
int kz__plan_consult_parse(const char *s, enum kz_consult_state *out);
int kz__plan_flag_parse(const char *s); /* enum kz_plan_flag, or -1 */
bool kz__plan_legal_basis_ok(const char *s);

/* Replace *field with a copy of v (NULL allowed). */
void kz__plan_set(char **field, const char *v);
void kz__plan_clear_approvals(struct kz_plan *p);
void kz__plan_item_clear(struct kz_plan_item *it);
void kz__plan_approval_clear(struct kz_plan_approval *a);
/* A deep copy (through the stored document). */
struct kz_plan *kz__plan_dup(const struct kz_plan *p, const struct kz_label_policy *policy);

/* Refuse with a status and a formatted message; returns KZ_ERR_DENIED. */
int kz__plan_refuse(struct kz_plan_refusal *why, int status, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * body.c: apply the fields of a create/edit body to p, recording each
 * change in `changes` ({"field": {"from", "to"}}).  KZ_OK or a refusal
 * (400 for a malformed field, 403 for a label the actor may not write).
 */
int kz__plan_fields(struct kz_plan *p, const json_t *body, bool create,
                    const struct kz_plan_ctx *ctx, json_t *changes, struct kz_plan_refusal *why);

/* body.c: parse an item body into a new item of p (id assigned). */
int kz__plan_item_add(struct kz_plan *p, const json_t *body, const struct kz_plan_ctx *ctx,
                      json_t *changes, struct kz_plan_refusal *why);

/* Parse a banner under the context's policy with the actor's nation as originator. */
int kz__plan_label(const struct kz_plan_ctx *ctx, const char *banner, struct kz_label *out,
                   char **canonical, struct kz_plan_refusal *why);

/* The ISO time of us as a new JSON string. */
json_t *kz__plan_time_json(int64_t us);

#endif
