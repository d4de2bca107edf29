/*
 * label.h - classification and releasability labels, and the release rule.
 *
 * A label is a structured value; banner strings such as
 * "SECRET//REL TO USA, JPN" are only its textual form (docs/labels.md).
 * kz_label_parse() and kz_label_format() convert between the two under a
 * struct kz_label_policy (level names, tetragraphs).  kz_may_release() is the
 * one function every exit of the server calls before data leaves.
 *
 * Ownership: every struct here is a plain value with no pointers; copy it
 * freely.  A policy is built once (at configuration load), then only read, so
 * it may be shared by threads.  Labels and subjects are policy-independent for
 * the release decision (levels are one ordered scale, nations are ISO 3166
 * indexes); only the tetragraph bits and the level names need the policy that
 * parsed the label (struct kz_label.policy).
 *
 * Fail closed: a zero-filled struct kz_label has level KZ_LEVEL_INVALID and a
 * zero-filled struct kz_release_subject has no clearance; kz_may_release()
 * refuses both.
 */
#ifndef KZ_LABEL_H
#define KZ_LABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Longest banner accepted; every label kz_label_format() writes fits. */
#define KZ_LABEL_MAX_LEN 2048

/* Nations: ISO 3166-1 alpha-3 codes, indexes 1..KZ_NATION_COUNT. */
#define KZ_NATION_NONE 0
#define KZ_NATION_WORDS 4     /* bitmap words covering indexes 0..255 */
#define KZ_LABEL_MAX_TETRA 64 /* tetragraphs per policy */
#define KZ_LABEL_MAX_NAMES 8  /* names (canonical + aliases) per level */
#define KZ_LABEL_NAME_MAX 40  /* bytes of a level name, NUL included */

enum kz_level {
    KZ_LEVEL_INVALID = 0, /* zero-filled labels and subjects */
    KZ_LEVEL_UNCLASSIFIED,
    KZ_LEVEL_CONFIDENTIAL,
    KZ_LEVEL_SECRET,
    KZ_LEVEL_TOP_SECRET,
    KZ_LEVEL__COUNT
};

/* Dissemination controls other than REL TO (bits of kz_label.caveats). */
enum kz_caveat {
    KZ_CAVEAT_FOUO = 1u << 0,
    KZ_CAVEAT_ORCON = 1u << 1,
    KZ_CAVEAT_NOFORN = 1u << 2,
    KZ_CAVEAT_RELIDO = 1u << 3,
    /* Controlled Unclassified Information: written as the banner "CUI" in
     * place of the UNCLASSIFIED level name (DoDI 5200.48); FOUO is legacy. */
    KZ_CAVEAT_CUI = 1u << 4,
};

/*
 * Whose information a label marks (kz_label.mark), beside the originator the
 * receiving input sets.  NONE: the originator's own.  FGI: the originator's,
 * holding foreign government information of the nations in `origins`
 * ("SECRET//FGI JPN//..."); they are provenance, not owners.  FOREIGN:
 * wholly the one nation in `origins` ("//JPN SECRET//..."), whoever sent it.
 * JOINT: co-owned by every nation in `origins` ("//JOINT SECRET JPN USA").
 */
enum kz_origin_mark {
    KZ_MARK_NONE = 0,
    KZ_MARK_FGI,
    KZ_MARK_FOREIGN,
    KZ_MARK_JOINT,
};

#define KZ_LABEL_F_REL 0x01u /* kz_label.flags: a REL TO list is present */

struct kz_label {
    uint16_t policy;               /* kz_label_policy.id that parsed it */
    uint8_t level;                 /* enum kz_level */
    uint8_t flags;                 /* KZ_LABEL_F_* */
    uint16_t caveats;              /* enum kz_caveat bits */
    uint16_t originator;           /* nation index; KZ_NATION_NONE = unknown */
    uint8_t mark;                  /* enum kz_origin_mark */
    uint64_t tetra;                /* tetragraphs written (policy-local bits) */
    uint64_t rel[KZ_NATION_WORDS]; /* trigraphs written */
    /* rel plus the expansion of every tetragraph: what the rule tests. */
    uint64_t release[KZ_NATION_WORDS];
    /* The FGI, FOREIGN or JOINT nations (see enum kz_origin_mark). */
    uint64_t origins[KZ_NATION_WORDS];
};

struct kz_label_tetra {
    char code[5]; /* four letters A-Z, NUL */
    bool expands; /* false: known, releases to no nation */
    uint64_t members[KZ_NATION_WORDS];
};

struct kz_label_policy {
    uint16_t id;   /* copied into every label it parses */
    char name[16]; /* "US", "JPN", ...: for logs and docs */
    /* The nation whose marking system this is (USA for the default policy):
     * REL TO on its own information must list it, and a roll-up marks the
     * other nations' information FGI.  KZ_NATION_NONE: neither applies. */
    uint16_t home;
    /* names[level][0] is the canonical name, the rest are accepted aliases. */
    char names[KZ_LEVEL__COUNT][KZ_LABEL_MAX_NAMES][KZ_LABEL_NAME_MAX];
    unsigned tetra_count;
    struct kz_label_tetra tetra[KZ_LABEL_MAX_TETRA];
    uint8_t tetra_sorted[KZ_LABEL_MAX_TETRA]; /* indexes in code order */
    /* Set from a process-wide counter by every change (init, adders, home):
     * a value a policy has had is never seen again (struct kz_label_memo). */
    uint64_t version;
};

/* Who data would leave to, pre-parsed from a struct kz_identity. */
struct kz_release_subject {
    uint16_t nation;   /* nation index; KZ_NATION_NONE = unknown */
    uint8_t clearance; /* enum kz_level; INVALID = unknown */
};

/* Why kz_may_release() said no.  Names appear in /metrics and logs. */
enum kz_deny {
    KZ_DENY_NONE = 0,          /* released */
    KZ_DENY_CLEARANCE,         /* clearance below the label's level */
    KZ_DENY_NATION,            /* nation neither originator nor in REL TO */
    KZ_DENY_NOFORN,            /* NOFORN and nation is not the originator */
    KZ_DENY_UNKNOWN_CLEARANCE, /* subject's clearance did not parse */
    KZ_DENY_UNKNOWN_NATION,    /* subject's nation is not an ISO code */
    KZ_DENY_BAD_LABEL,         /* label invalid (never parsed) */
    KZ_DENY__COUNT
};

/* ---- nations ---------------------------------------------------------- */

/* Number of ISO 3166-1 alpha-3 codes known (indexes 1..this). */
unsigned kz_nation_count(void);

/* Index of an ISO 3166-1 alpha-3 code, any case; KZ_NATION_NONE if unknown. */
uint16_t kz_nation_index(const char *code, size_t len);

/* The upper-case code of an index, static; NULL for NONE or out of range. */
const char *kz_nation_code(uint16_t idx);

/* ---- policies --------------------------------------------------------- */

/*
 * An empty policy: no level names, no tetragraphs.  `name` is truncated to
 * fit.  Build it with the two adders below, then treat it as read-only.
 */
void kz_label_policy_init(struct kz_label_policy *p, uint16_t id, const char *name);

/* Set the policy's home nation (the server's node.nation). */
void kz_label_policy_set_home(struct kz_label_policy *p, uint16_t nation);

/*
 * The default policy, id 0 "US", home USA: UNCLASSIFIED/U, CONFIDENTIAL/C, SECRET/S,
 * TOP SECRET/TS; tetragraphs FVEY = USA, AUS, CAN, GBR, NZL and NATO (known,
 * no expansion).
 */
void kz_label_policy_init_default(struct kz_label_policy *p);

/*
 * Add a name for `level`; the first name added for a level is the one
 * kz_label_format() writes.  Names are matched without regard to ASCII case,
 * a space in a name matches any run of blanks, other bytes (UTF-8) match
 * exactly.  Returns KZ_OK, or KZ_ERR_INVAL (bad level; empty, too long, has
 * '/', ',', a control byte or outer blanks; already names a level) or
 * KZ_ERR_TOOBIG (KZ_LABEL_MAX_NAMES reached), with a message in err.
 */
int kz_label_policy_add_level_name(struct kz_label_policy *p, enum kz_level level, const char *name,
                                   char *err, size_t errlen);

/*
 * Add tetragraph `code` (four letters, any case, stored upper-case) expanding
 * to the `n` ISO trigraphs in `members`; n == 0 declares a known tetragraph
 * that releases to no nation.  Returns KZ_OK, KZ_ERR_INVAL (bad or unknown
 * member, bad code), KZ_ERR_EXISTS or KZ_ERR_TOOBIG, with a message in err.
 * Labels parsed before the call keep their meaning.
 */
int kz_label_policy_add_tetragraph(struct kz_label_policy *p, const char *code,
                                   const char *const *members, size_t n, char *err, size_t errlen);

/*
 * Build the policy from the configuration's `labels:` section: configured
 * level names first (canonical), the US names as aliases, and the
 * configured tetragraphs (the built-in FVEY and NATO when none are given).
 * Each policy built gets an id of its own (never 0, the default policy's),
 * so kz_label_format() and kz_label_aggregate() refuse a label parsed under
 * another policy, even one built from the same section.  Thread-safe.
 * Returns KZ_OK or KZ_ERR_CONFIG with a message in err.
 */
int kz_label_policy_from_config(const struct kz_config_labels *c, struct kz_label_policy *p,
                                char *err, size_t errlen);

/* ---- parse and format ------------------------------------------------- */

/*
 * Parse banner `s` (`len` bytes, need not be NUL-terminated) under policy
 * `p`: [//CCC |//JOINT ]LEVEL[ CCC...][//FGI CCC...][//CONTROL[/CONTROL...]]
 * where a CONTROL is "REL TO c, c, ..." or one of FOUO, ORCON (OC), NOFORN
 * (NF), RELIDO; LEVEL may be CUI.  The marking rules of docs/labels.md are
 * enforced (NOFORN/RELIDO, FOUO and ORCON levels, REL TO listing the home
 * nation and more than one code, no RELIDO on foreign information).
 * Case-insensitive; blanks around separators are ignored.  `out->originator`
 * is KZ_NATION_NONE: the caller sets it (the sending input's nation).
 * Returns KZ_OK, KZ_ERR_PARSE
 * or KZ_ERR_TOOBIG (over KZ_LABEL_MAX_LEN) with a one-line message in err
 * (which may be NULL); on error *out is zero-filled, hence invalid.
 */
int kz_label_parse(const struct kz_label_policy *p, const char *s, size_t len, struct kz_label *out,
                   char *err, size_t errlen);

/*
 * Append the canonical banner of `l` to `out`: the level's canonical name,
 * then "//" and the controls in register order FOUO/ORCON/NOFORN/REL TO/
 * RELIDO; REL TO lists USA first, other trigraphs alphabetically, then
 * tetragraphs alphabetically, as written (not expanded).  Returns KZ_OK or
 * KZ_ERR_INVAL (invalid label, or `l` was not parsed under `p`).
 */
int kz_label_format(const struct kz_label_policy *p, const struct kz_label *l, struct kz_sbuf *out);

/*
 * The last banners parsed, with their labels and canonical forms: events
 * carry a handful of distinct banners, and parsing and formatting one
 * costs more than the rest of labelling an event.  An entry answers only
 * for the policy version that parsed it (a version is never reused, by
 * another policy or after a change).  Owned by one
 * thread; zero-initialise, kz_label_memo_release() frees.
 */
#define KZ_LABEL_MEMO_SLOTS 4
#define KZ_LABEL_MEMO_TEXT 256 /* longer banners are parsed every time */

struct kz_label_memo {
    struct kz_label_memo_slot {
        uint64_t version;              /* the policy's; 0: empty */
        char text[KZ_LABEL_MEMO_TEXT]; /* the banner as given */
        size_t len;
        int rc; /* kz_label_parse()'s */
        struct kz_label label;
        bool formats;         /* kz_label_format() took the label */
        struct kz_sbuf canon; /* what it wrote */
    } slot[KZ_LABEL_MEMO_SLOTS];
    unsigned next;        /* the slot a new banner replaces */
    struct kz_sbuf spare; /* the canonical form of a banner too long to keep */
};

/*
 * kz_label_parse(p, s, len, out, NULL, 0), remembered: returns its code and
 * label, and on KZ_OK sets *canon to what kz_label_format(p, out) appends
 * to an empty buffer, or to NULL when that refuses the label.  *canon lives
 * until the next call.
 */
int kz_label_memo_parse(struct kz_label_memo *m, const struct kz_label_policy *p, const char *s,
                        size_t len, struct kz_label *out, const struct kz_sbuf **canon);
void kz_label_memo_release(struct kz_label_memo *m);

/*
 * Mark `l` JOINT information of the `n` nations (ISO indexes, n >= 2): each
 * becomes an originator, and it formats as "//JOINT <LEVEL> <A> <B>...
 * [//controls]", nations alphabetical.  KZ_ERR_INVAL when n < 2, a nation is
 * NONE, or l is invalid.
 */
int kz_label_set_joint(struct kz_label *l, const uint16_t *nations, unsigned n);

/* True when `nation` is one of l's originators. */
bool kz_label_has_originator(const struct kz_label *l, uint16_t nation);

/* ---- lattice ---------------------------------------------------------- */

/*
 * Roll `part` up into `acc` (an object built from parts): highest level;
 * NOFORN and ORCON if any part has them, RELIDO only if every classified
 * part has it (never beside NOFORN or foreign information), FOUO and CUI
 * only while the level is UNCLASSIFIED; the originators of every part (the
 * ones other than p's home nation marked FGI, a JOINT kept while its owners
 * cover every part); and a release set that is the intersection of the
 * parts' (tetragraphs expanded, originators counted), written NOFORN when it
 * is the owners only.
 * Releasing the result to a subject implies every part may be released to
 * it, and every part is kz_label_dominated() by it.  `p` is acc's policy; the
 * result keeps it.  Tetragraphs survive only if written in every part with a
 * REL TO under the same policy; REL TO is written in its shortest form (a
 * trigraph a kept tetragraph covers is left out, USA never is).  Start with
 * acc = the first part.  Returns KZ_OK or KZ_ERR_INVAL (an invalid label, or
 * acc not of policy p; acc is then zero-filled, hence invalid).
 */
int kz_label_aggregate(const struct kz_label_policy *p, struct kz_label *acc,
                       const struct kz_label *part);

/*
 * True iff `a` is not above `ceiling`: a's level <= the ceiling's and every
 * nation the ceiling releases to, a releases to as well.  Then any subject
 * allowed the ceiling is allowed a.  False for invalid labels.
 */
bool kz_label_dominated(const struct kz_label *a, const struct kz_label *ceiling);

/* ---- the release rule ------------------------------------------------- */

/*
 * Pre-parse an identity's nation and clearance (a level name of `p`).
 * Returns KZ_OK, or KZ_ERR_INVAL when either is missing or unknown: *out is
 * then a subject kz_may_release() refuses everything to.
 */
int kz_release_subject_from(const struct kz_identity *id, const struct kz_label_policy *p,
                            struct kz_release_subject *out);

/*
 * The release rule (docs/labels.md): true iff who.clearance >= level and
 * (who.nation owns the label -- the originator, the FOREIGN nation or a
 * JOINT co-owner -- or no NOFORN and who.nation is in the expanded REL TO).  A label with neither
 * REL TO nor NOFORN is releasable to every nation when it is UNCLASSIFIED without caveats, to the
 * originator only otherwise.  On false, *why (if not NULL) says why; on true it is KZ_DENY_NONE. No
 * allocation, no string compares.
 */
bool kz_may_release(const struct kz_label *label, const struct kz_release_subject *who,
                    enum kz_deny *why);

/* Static metric name of a reason ("clearance", "noforn", ...). */
const char *kz_deny_name(enum kz_deny why);

/* Static canonical US name of a level ("SECRET"), "INVALID" if out of range. */
const char *kz_level_name(enum kz_level level);

#endif
