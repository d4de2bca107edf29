/*
 * plan.h - joint plans and exercises: one shared, labelled workspace per
 * plan, where each nation approves through its own chain and nothing goes
 * live that the prior consultation has not cleared (docs/plans.md).
 *
 * A plan moves through the stages of the Joint Exercise Life Cycle one step
 * at a time.  Every edit (a field, an item) makes a new revision, keeps the
 * diff and clears the approvals: an approval counts only for the revision it
 * names.  `execution` needs every required approval of the current revision
 * and, when a consultation rule of the alliance model applies, a
 * consultation recorded as `agreed`.
 *
 * Changes are pure: kz_plan_apply() takes the current plan (or none) and an
 * operation, checks every rule against the alliance model and the actor, and
 * returns the next plan or a refusal.  The caller stores the result (with
 * its audit record) and only then swaps it in.
 *
 * Ownership: a struct kz_plan owns all its strings; kz_plan_free() frees
 * them.  JSON results are new references the caller owns.
 */
#ifndef KZ_PLAN_H
#define KZ_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "alliance/alliance.h"
#include "core/core.h"
#include "label/label.h"
#include "route/route.h"
#include "store/store.h"

#define KZ_ROLE_PLANNER "planner"
#define KZ_ROLE_APPROVER "approver"

#define KZ_PLAN_MAX_ITEMS 1000
#define KZ_PLAN_MAX_PARTICIPANTS 32
#define KZ_PLAN_MAX_REVISIONS 1000 /* diffs kept; the oldest go first */
#define KZ_PLAN_TEXT_MAX 4096      /* bytes of a title, description, reason, ... */
#define KZ_PLAN_ID_MAX 16          /* "p-" and 8 hex digits, NUL */

enum kz_plan_kind { KZ_PLAN_EXERCISE, KZ_PLAN_OPERATION, KZ_PLAN_HADR, KZ_PLAN_KIND__COUNT };

enum kz_plan_stage {
    KZ_STAGE_CONCEPT,
    KZ_STAGE_INITIAL_PLANNING,
    KZ_STAGE_MAIN_PLANNING,
    KZ_STAGE_FINAL_PLANNING,
    KZ_STAGE_EXECUTION,
    KZ_STAGE_ASSESSMENT,
    KZ_STAGE_CLOSED,
    KZ_STAGE__COUNT
};

enum kz_consult_state {
    KZ_CONSULT_NOT_REQUIRED,
    KZ_CONSULT_REQUIRED,
    KZ_CONSULT_REQUESTED,
    KZ_CONSULT_AGREED,
    KZ_CONSULT_DECLINED,
    KZ_CONSULT__COUNT
};

/* The flags the consultation rules read. */
enum kz_plan_flag {
    KZ_FLAG_MAJOR_DEPLOYMENT_CHANGE,
    KZ_FLAG_MAJOR_EQUIPMENT_CHANGE,
    KZ_FLAG_COMBAT_FROM_JAPAN,
    KZ_FLAG__COUNT
};

struct kz_plan_item {
    int64_t id; /* 1, 2, ... in the plan */
    int64_t time_us;
    bool has_pos;
    double lat, lon;
    char *place; /* may be NULL */
    char **units;
    unsigned n_units;
    char *description;
    char *banner; /* canonical label */
    struct kz_label label;
};

struct kz_plan_approval {
    char *nation, *command, *user;
    int64_t revision;
    bool approve; /* false: rejected */
    char *reason; /* may be NULL for an approval */
    int64_t time_us;
};

struct kz_plan {
    char *id;
    int64_t revision; /* edits: 1 at creation */
    int64_t version;  /* every committed change (the store's key with id) */
    char *title;
    enum kz_plan_kind kind;
    char *legal_basis;
    enum kz_plan_stage stage;
    char *lead;
    char **participants;
    unsigned n_participants;
    int64_t start_us, end_us;
    bool flags[KZ_FLAG__COUNT];
    char *banner; /* the plan's own label, canonical */
    struct kz_label label;
    enum kz_consult_state consult;
    char *consult_authority; /* command id while a rule applies */
    char *consult_reason;
    struct kz_plan_item *items;
    unsigned n_items;
    struct kz_plan_approval *approvals; /* current revision only */
    unsigned n_approvals;
    json_t *revisions; /* [{"revision","time","user","changes"}], oldest first */
    int64_t created_us, updated_us;
    char *created_by;
};

void kz_plan_free(struct kz_plan *p); /* NULL is fine */

const char *kz_plan_kind_name(enum kz_plan_kind k);
const char *kz_plan_stage_name(enum kz_plan_stage s);
const char *kz_consult_name(enum kz_consult_state s);
const char *kz_plan_flag_name(enum kz_plan_flag f);
int kz_plan_stage_parse(const char *s, enum kz_plan_stage *out);

/* ---- changes (rules.c) ----------------------------------------------------- */

enum kz_plan_op_type {
    KZ_PLAN_OP_CREATE,
    KZ_PLAN_OP_EDIT,
    KZ_PLAN_OP_ITEM,
    KZ_PLAN_OP_APPROVE, /* approve or reject, by the body's decision */
    KZ_PLAN_OP_CONSULT,
    KZ_PLAN_OP_STAGE,
};

/* Who acts, and what the rules are checked against.  Borrowed for the call. */
struct kz_plan_ctx {
    const struct kz_alliance *alliance; /* NULL: every change is refused */
    const struct kz_label_policy *policy;
    const struct kz_identity *actor;
    const struct kz_release_subject *who; /* the actor's, for the labels it writes */
    const char *via;                      /* how the actor came in (audit), may be NULL */
    const char *id;                       /* CREATE: the new plan's id */
    int64_t now_us;
};

/* Why a change was refused: an HTTP status, a rule for 409, a message. */
struct kz_plan_refusal {
    int status;       /* 400, 403, 404, 409 */
    const char *rule; /* 409: approvals_missing, stale_revision, ...; else NULL */
    char msg[400];
};

/*
 * Apply operation `op` with JSON body `body` to `cur` (NULL for CREATE) as
 * ctx->actor.  Returns KZ_OK with *next a new plan (cur is untouched), or
 * KZ_ERR_DENIED with *why filled.  *action receives the audit action
 * ("plan.create", "plan.approve", ...) and *detail (free() it) the audit
 * detail as JSON text.
 */
int kz_plan_apply(const struct kz_plan *cur, enum kz_plan_op_type op, const json_t *body,
                  const struct kz_plan_ctx *ctx, struct kz_plan **next, const char **action,
                  char **detail, struct kz_plan_refusal *why);

/* ---- views (json.c) --------------------------------------------------------- */

/*
 * The plan as the stored document (everything, labels as banners).
 * kz_plan_from_doc() reads it back, the labels parsed again under `policy`;
 * KZ_ERR_PARSE when the document or a label no longer parses.
 */
json_t *kz_plan_to_doc(const struct kz_plan *p);
int kz_plan_from_doc(const json_t *doc, const struct kz_label_policy *policy, struct kz_plan **out);

/* May `who` see the plan at all (its own label)? */
bool kz_plan_visible(const struct kz_plan *p, const struct kz_release_subject *who);

/*
 * The REST answer for `who` (docs/plans.md): items it may not see are left
 * out, "label" rolls up the plan's own label and the visible items, and the
 * alliance model (may be NULL) adds each participant's zone, the required
 * approvals and the consultation authority.
 */
json_t *kz_plan_view(const struct kz_plan *p, const struct kz_alliance *a,
                     const struct kz_label_policy *policy, const struct kz_release_subject *who);

/* ---- labels (label.c) -------------------------------------------------------- */

/*
 * Roll up the plan's own label and those of its items `who` may see (NULL:
 * all) into *out, marked JOINT when the participants belong to two nations
 * or more.  KZ_OK or KZ_ERR_INVAL.
 */
int kz_plan_rollup(const struct kz_plan *p, const struct kz_alliance *a,
                   const struct kz_label_policy *policy, const struct kz_release_subject *who,
                   struct kz_label *out);

/* The nations of the plan's participants (distinct, ISO indexes); returns how many. */
unsigned kz_plan_nations(const struct kz_plan *p, const struct kz_alliance *a,
                         uint16_t out[KZ_PLAN_MAX_PARTICIPANTS]);

/* ---- rules the views share (rules.c) ------------------------------------------- */

/* The approving commands this plan needs on `day`: one per participating nation. */
unsigned kz_plan_required(const struct kz_plan *p, const struct kz_alliance *a, int32_t day,
                          const struct kz_approver *out[KZ_PLAN_MAX_PARTICIPANTS]);

/* ---- on the map (publish.c) ---------------------------------------------------- */

/*
 * Send the plan's items with a place as CoT markers from the server's own
 * input `in` (labelled like each item; the router's rules pick who receives
 * them), or, once the plan is closed, their removals (t-x-d-d).  Sending a
 * plan again updates its markers in place.  NULL r or in: nothing.
 */
void kz_plan_publish(struct kz_router *r, const struct kz_input *in, const struct kz_plan *p);
/* The uid of an item's marker: "kizuna.plan.<plan id>.<item id>" (also its mission uid). */
#define KZ_PLAN_UID_MAX 96
void kz_plan_item_uid(const struct kz_plan *p, const struct kz_plan_item *it, char *buf,
                      size_t len);

/* ---- the book (book.c): every plan of the node, loop thread ----------------- */

struct kz_plan_book;

struct kz_plan_book *kz_plan_book_new(void);
void kz_plan_book_free(struct kz_plan_book *b); /* NULL is fine */
unsigned kz_plan_book_count(const struct kz_plan_book *b);
const struct kz_plan *kz_plan_book_at(const struct kz_plan_book *b, unsigned i);
const struct kz_plan *kz_plan_book_get(const struct kz_plan_book *b, const char *id);
/* Take over p, replacing the plan of the same id (freed). */
void kz_plan_book_put(struct kz_plan_book *b, struct kz_plan *p);
/* A fresh id no plan of the book has. */
void kz_plan_book_new_id(const struct kz_plan_book *b, char id[KZ_PLAN_ID_MAX]);
/*
 * Startup: the newest stored revision of every plan, labels parsed again
 * under `policy`; one that no longer reads back is left out with a warning.
 * KZ_OK or KZ_ERR_DB.  Synchronous (the store's load calls).
 */
int kz_plan_book_load(struct kz_plan_book *b, struct kz_store *st,
                      const struct kz_label_policy *policy, unsigned *loaded, unsigned *skipped);

#endif
