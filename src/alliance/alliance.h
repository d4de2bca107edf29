/*
 * alliance.h - the alliance as data: nations, commands, dated command
 * relationships, coordination forums, approvers, and the queries built on
 * them (chain of command, may A task B, counterparts, coordination latency).
 * docs/alliance.md describes the YAML file and the rules.
 *
 * A loaded model is immutable: reload builds a new one, validates it and
 * swaps (the old one keeps serving when the new one has problems).  Every
 * string in it belongs to the model; kz_alliance_free() frees them all.
 * The queries only read the model and allocate nothing shared, so several
 * threads may query one model.
 *
 * Dates are days since 1970-01-01 (UTC).  A validity window is half-open:
 * [valid_from, valid_to), KZ_DAY_MIN / KZ_DAY_MAX when unbounded, so "until
 * 2025-03-30" followed by "from 2025-03-30" never overlaps.
 */
#ifndef KZ_ALLIANCE_H
#define KZ_ALLIANCE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "label/label.h"

#define KZ_DAY_MIN INT32_MIN
#define KZ_DAY_MAX INT32_MAX

enum kz_alliance_mode {
    KZ_MODE_PARALLEL,    /* no command edge crosses nations (US-Japan) */
    KZ_MODE_LEAD_NATION, /* one nation's commander; others lend OPCON/TACON */
    KZ_MODE_INTEGRATED,  /* combined commander and staff (ROK-US CFC) */
};

enum kz_rel_type {
    KZ_REL_COCOM,
    KZ_REL_OPCON,
    KZ_REL_TACON,
    KZ_REL_ADCON,
    KZ_REL_SUPPORT_GS,
    KZ_REL_SUPPORT_DS,
    KZ_REL_SUPPORT_MUTUAL,
    KZ_REL_SUPPORT_CLOSE,
    KZ_REL_COORD_AUTH,
    KZ_REL_DIRLAUTH,
    KZ_REL_COUNTERPART,
    KZ_REL_LIAISON,
    /*
     * National command: the statutory chain from the political apex to the
     * senior operational commander (President/SecDef -> CCDR, 10 USC 162(b);
     * Prime Minister -> Minister of Defense -> Commander JJOC).  A command
     * relation that never crosses nations.
     */
    KZ_REL_NATIONAL,
    KZ_REL__COUNT
};

/* Duty hours in the command's own time zone; days bit 0 = Monday. */
struct kz_duty {
    bool always;    /* staffed around the clock */
    uint16_t start; /* minutes after local midnight */
    uint16_t end;   /* minutes after local midnight, > start */
    uint8_t days;   /* weekday bits */
};

/* A dated description of a command (e.g. "management HQ" then "JFHQ phase 1"). */
struct kz_phase {
    char *name;
    char *note;
    int32_t valid_from, valid_to;
    int line;
};

struct kz_nation {
    char *code; /* ISO 3166 alpha-3 */
    char *name;
    char *tz;   /* IANA zone */
    char *top;  /* command id: the nation's top operational command (hub candidate) */
    char *lead; /* command id: the nation's lead command in theatre */
    char *apex; /* command id: the political/military apex (JPN-CABINET, USA-SECDEF), or NULL */
    int cocom;  /* may its commands hold COCOM: 1, 0, or -1 = only USA's (the default) */
    int line;
};

/* Who commanded, at which rank, when (the rank is data: it changes with the post). */
struct kz_commander {
    char *name;
    char *rank;
    int32_t valid_from, valid_to;
    int line;
};

struct kz_command {
    char *id;
    char *name;
    char *nation;
    char *service; /* joint, navy, army, ...: the ADCON chain */
    char *kind;    /* ccmd, jfhq, component, joint-operational, ... */
    char *echelon;
    char *hq; /* site name */
    double lat, lon;
    char *tz;      /* IANA zone */
    char *aor;     /* area of responsibility, free text, may be NULL */
    char *part_of; /* command id: an organic element of that command (staff cell, ops floor) */
    struct kz_duty duty;
    unsigned handling_min; /* 0: the model default */
    int32_t valid_from, valid_to;
    struct kz_phase *phases;
    unsigned n_phases;
    struct kz_commander *commanders; /* dated, windows do not overlap */
    unsigned n_commanders;
    char *label; /* banner, or NULL = releasable to every caller */
    struct kz_label lab;
    int line;
};

struct kz_relation {
    enum kz_rel_type type;
    char *from;       /* holder / supporting / one end */
    char *to;         /* subject / supported / other end */
    char *granted_by; /* OPCON/TACON grantor, SUPPORT establisher, DIRLAUTH/COORD_AUTH grantor */
    char *scope;
    char *directive;
    int32_t valid_from, valid_to;
    char *label;
    struct kz_label lab;
    int line;
};

struct kz_forum {
    char *id;
    char *name;
    char *parent; /* forum id, may be NULL */
    char *state;  /* standing | activated | inactive */
    char *site;
    char **members; /* command ids */
    unsigned n_members;
    char **agencies; /* members that are not commands (free text) */
    unsigned n_agencies;
    char **linked; /* forum ids it coordinates with, without being part of them */
    unsigned n_linked;
    unsigned handling_min;
    int32_t valid_from, valid_to;
    char *label;
    struct kz_label lab;
    int line;
};

struct kz_approver {
    char *nation;
    char *command;
    char **kinds; /* plan kinds: exercise, operation, hadr */
    unsigned n_kinds;
    int32_t valid_from, valid_to;
    int line;
};

/* A dated agreement between nations (access agreements, the treaty). */
struct kz_agreement {
    char *id;
    char *name;
    char **parties; /* nation codes, at least two */
    unsigned n_parties;
    int32_t signed_on;            /* KZ_DAY_MIN when not given */
    int32_t valid_from, valid_to; /* in force */
    int line;
};

/* Prior consultation (1960 exchange of notes): a rule of the model's `consultation:` list. */
struct kz_consult_trigger {
    char *flag;    /* major_deployment_change | major_equipment_change | combat_from_japan */
    char **except; /* legal bases that do not trigger it, e.g. article_v */
    unsigned n_except;
    int line;
};
struct kz_consultation {
    char *name;      /* "Prior consultation (1960 exchange of notes)" */
    char *authority; /* command id: who records requested/agreed/declined (JPN-CABINET) */
    struct kz_consult_trigger *triggers;
    unsigned n_triggers;
    int line;
};

struct kz_alliance {
    char *file; /* as given to the loader */
    char *name;
    enum kz_alliance_mode mode;
    unsigned handling_min;      /* per hop, default 120 */
    unsigned relay_min;         /* an intermediate passing an answer back, default 30 */
    unsigned transit_min;       /* between two nodes, default 15 */
    unsigned readiness_stale_h; /* reports older than this are stale (KZ_ALLIANCE_STALE_AFTER_H) */
    struct kz_nation *nations;
    unsigned n_nations;
    struct kz_command *commands;
    unsigned n_commands;
    struct kz_relation *relations;
    unsigned n_relations;
    struct kz_forum *forums;
    unsigned n_forums;
    struct kz_approver *approvers;
    unsigned n_approvers;
    struct kz_agreement *agreements;
    unsigned n_agreements;
    struct kz_consultation *consultations;
    unsigned n_consultations;
};

/* Problems found while loading or validating, one "file:line: message" each. */
struct kz_alliance_diag {
    struct kz_sbuf text; /* lines ending in '\n' */
    unsigned count;
};

#define KZ_ALLIANCE_DIAG_INIT                                                                      \
    {                                                                                              \
        KZ_SBUF_INIT, 0                                                                            \
    }

void kz_alliance_diag_release(struct kz_alliance_diag *d);

/* ---- load and validate ------------------------------------------------- */

/*
 * Read and validate `path`, parsing its labels under `policy` (the server's
 * configured marking policy; NULL = the built-in default policy).  The
 * labels in the model carry that policy's id, so they may only be formatted
 * or aggregated under the same policy; `policy` need not outlive the call.
 * Every problem (syntax, unknown key, missing or
 * bad value, every validation rule) is appended to `diag`.  Returns KZ_OK
 * with *out set, or KZ_ERR_IO (cannot read), KZ_ERR_PARSE (YAML or shape)
 * or KZ_ERR_CONFIG (rules) with *out NULL.  Free with kz_alliance_free().
 */
int kz_alliance_load(const char *path, const struct kz_label_policy *policy,
                     struct kz_alliance **out, struct kz_alliance_diag *diag);

/* The same from `len` bytes of YAML; `name` stands for the file in messages. */
int kz_alliance_load_mem(const char *name, const char *text, size_t len,
                         const struct kz_label_policy *policy, struct kz_alliance **out,
                         struct kz_alliance_diag *diag);

/* The default of `readiness.stale_after_h`, also when no model is loaded. */
#define KZ_ALLIANCE_STALE_AFTER_H 744

/* Validation rules only (kz_alliance_load runs them); returns the count added. */
unsigned kz_alliance_validate(const struct kz_alliance *a, struct kz_alliance_diag *diag);

void kz_alliance_free(struct kz_alliance *a); /* NULL is fine */

/* ---- names, dates, lookups --------------------------------------------- */

const char *kz_rel_type_name(enum kz_rel_type t);
int kz_rel_type_parse(const char *s, enum kz_rel_type *out);
const char *kz_alliance_mode_name(enum kz_alliance_mode m);
/* COCOM, OPCON, TACON, ADCON, NATIONAL_COMMAND. */
bool kz_rel_is_command(enum kz_rel_type t);
bool kz_rel_is_support(enum kz_rel_type t);

/* "YYYY-MM-DD" (or an ISO time, whose date is taken) -> day; KZ_ERR_PARSE. */
int kz_day_parse(const char *s, int32_t *out);
/* YYYY-MM-DD into buf (11 bytes); "" for KZ_DAY_MIN/MAX. */
void kz_day_format(int32_t day, char buf[static 11]);
int32_t kz_day_of_us(int64_t us);
static inline bool kz_day_in(int32_t from, int32_t to, int32_t day)
{
    return day >= from && day < to;
}

const struct kz_command *kz_alliance_command(const struct kz_alliance *a, const char *id);
const struct kz_nation *kz_alliance_nation(const struct kz_alliance *a, const char *code);
/* The phase of `c` valid on `day`, or NULL. */
const struct kz_phase *kz_command_phase(const struct kz_command *c, int32_t day);
/* The commander of `c` on `day`, or NULL. */
const struct kz_commander *kz_command_commander(const struct kz_command *c, int32_t day);

/*
 * The relation of `type` whose `to` is `id` on `day` (the one holder), or
 * NULL.  With several (a validation error), the first in file order.
 */
const struct kz_relation *kz_alliance_holder(const struct kz_alliance *a, const char *id,
                                             enum kz_rel_type type, int32_t day);

/*
 * True when `command` is `unit` or above it on `day`: the operational chain
 * (OPCON, else COCOM) and the national command above it.
 */
bool kz_alliance_is_under(const struct kz_alliance *a, const char *unit, const char *command,
                          int32_t day);

/* ---- what plans ask (approval.c); results point into the model ------------ */

/* The approving command of `nation` for plans of `kind` (exercise|operation|hadr) on `day`,
 * or NULL when that nation approves nothing of that kind. At most one per nation and kind
 * (the validator refuses two). */
const struct kz_approver *kz_alliance_approver(const struct kz_alliance *a, const char *nation,
                                               const char *kind, int32_t day);

/* The first consultation rule a plan triggers: one of its set `flags` (names as above) whose
 * trigger does not list `legal_basis` as an exception; NULL when none. */
const struct kz_consultation *kz_alliance_consultation_for(const struct kz_alliance *a,
                                                           const char *const *flags, unsigned n,
                                                           const char *legal_basis);

/* True when `cmd` is `target` or above it in target's OWN nation's chain on `day`: the
 * operational chain (COCOM/OPCON/TACON) plus the national apex chain (JPN-CABINET above JPN-MOD
 * above JJOC; USA-SECDEF above INDOPACOM above USFJ). False across nations. */
bool kz_alliance_in_chain(const struct kz_alliance *a, const char *cmd, const char *target,
                          int32_t day);

/* ---- queries: every result is a new jansson object the caller owns ------- */

/*
 * Label filter for REST: entries whose label `who` may not see are left
 * out, silently: nothing in an answer says that anything was, nor how many
 * (that alone would reveal them).  NULL = no filtering (CLI on the
 * operator's own file).
 */
struct kz_alliance_view {
    const struct kz_release_subject *who;
};

/*
 * {"unit", "date", "chains": {"COCOM": [...], "OPCON": [...], ...}} where each
 * chain lists the holders upwards, each {"id", "name", "relation", "scope",
 * "directive", "valid_from", "valid_to"}.  KZ_ERR_NOTFOUND for an unknown unit.
 */
int kz_alliance_chain(const struct kz_alliance *a, const char *unit, int32_t day,
                      struct kz_alliance_view *v, json_t **out);

/*
 * May `a_id` task `b_id` on `day`?  Yes when a_id holds COCOM, OPCON, TACON
 * or national command over b_id directly or through a chain of such
 * relations (each link valid that day), or b_id is in direct support of a_id.  {"from", "to",
 * "date", "allowed", "path": [{"from","to","relation",...}], "reason"}.
 */
int kz_alliance_can_task(const struct kz_alliance *a, const char *a_id, const char *b_id,
                         int32_t day, struct kz_alliance_view *v, json_t **out);

/* {"unit", "counterparts": [...], "liaison": [...]} on `day`. */
int kz_alliance_counterpart(const struct kz_alliance *a, const char *unit, int32_t day,
                            struct kz_alliance_view *v, json_t **out);

/* {"forums": [...]} valid on `day`. */
json_t *kz_alliance_forums(const struct kz_alliance *a, int32_t day, struct kz_alliance_view *v);

/*
 * The whole model on `day` as a tree: {"name", "mode", "date", "nations":
 * [{"code", "name", "commands": [tree by the strongest command relation]}],
 * "relations": [...], "forums": [...]}.
 */
json_t *kz_alliance_show(const struct kz_alliance *a, int32_t day, struct kz_alliance_view *v);

/* ---- coordination latency (latency.c) ------------------------------------ */

/* UTC offset in seconds of IANA zone `tz` at `utc_s`; KZ_ERR_NOTFOUND/PARSE. */
int kz_tz_offset(const char *tz, int64_t utc_s, int32_t *off_s);
/* The same from the bytes of one TZif file, not cached (fuzzing); KZ_ERR_PARSE. */
int kz_tz_offset_tzif(const void *buf, size_t len, int64_t utc_s, int32_t *off_s);

/*
 * Routes a request from `from` to `to` can take at `t0_s` (UTC seconds)
 * over command and coordination links (counterpart, liaison, coordinating
 * authority, DIRLAUTH, support, common forum membership), at most
 * `max_routes`, fastest first; with `via` (may be NULL) only routes through it.  Each hop is timed:
 * transit, waiting for the node's next duty window in its own zone, handling; the answer returns
 * the same way with each intermediate relaying it.  JSON:
 * {"from","to","start","routes":[{"via":[...],"response_s","hops":[{"node",
 * "tz","arrive","arrive_local","start_local","done_local","wait_s",...}]}]}.
 */
int kz_alliance_paths(const struct kz_alliance *a, const char *from, const char *to,
                      const char *via, int64_t t0_s, unsigned max_routes, json_t **out);

/*
 * For every pair of nations' lead commands: response time hub-and-spokes
 * (through `hub`, default the first nation's top command) versus lattice
 * (the fastest route that avoids the hub).  JSON {"hub","start","pairs":
 * [...], "hub_mean_s","hub_worst_s","lattice_mean_s","lattice_worst_s"}.
 */
int kz_alliance_compare_topology(const struct kz_alliance *a, const char *hub, int64_t t0_s,
                                 json_t **out);

#endif
