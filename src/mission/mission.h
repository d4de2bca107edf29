/*
 * mission.h - TAK Data Sync missions (docs/missions.md): named, labelled
 * collections of CoT uids and files that clients subscribe to, with roles,
 * tokens, a change log and log entries, shaped as TAK Server shapes them.
 *
 * The model (model.c, role.c) is pure state on the loop thread: the Marti
 * routes (marti/missions*.c) change it, commit it through the store and
 * only then answer and notify.  Every item has its own label; every view
 * (json.c, notify.c) is filtered by the release rule for its reader.
 *
 * Ownership: the book owns its missions and each mission owns all its
 * strings; pointers returned by lookups are valid until the next change of
 * that mission.  JSON results are new references the caller owns.
 */
#ifndef KZ_MISSION_H
#define KZ_MISSION_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "label/label.h"

#define KZ_MISSION_NAME_MAX 256
#define KZ_MISSION_GUID_LEN 36
#define KZ_MISSION_MAX 1000          /* missions per server */
#define KZ_MISSION_MAX_ITEMS 10000   /* uids plus hashes per mission */
#define KZ_MISSION_MAX_SUBS 10000    /* subscriptions per mission */
#define KZ_MISSION_MAX_CHANGES 10000 /* changes kept in memory per mission */
#define KZ_MISSION_MAX_LOGS 10000    /* log entries per mission */
#define KZ_MISSION_TEXT_MAX 4096     /* a description, a log entry's content */
#define KZ_MISSION_HASH_LEN 64       /* a file: its SHA-256, lowercase hex */

/* ---- roles and permissions (TAK Server's, reference B.2) ------------------ */

enum kz_mission_role {
    KZ_MROLE_NONE = 0,
    KZ_MROLE_READONLY_SUBSCRIBER,
    KZ_MROLE_SUBSCRIBER,
    KZ_MROLE_OWNER,
};

enum kz_mission_perm {
    KZ_MPERM_READ = 1u << 0,
    KZ_MPERM_WRITE = 1u << 1,
    KZ_MPERM_DELETE = 1u << 2,
    KZ_MPERM_SET_ROLE = 1u << 3,
    KZ_MPERM_SET_PASSWORD = 1u << 4,
    KZ_MPERM_UPDATE_GROUPS = 1u << 5,
    KZ_MPERM_MANAGE_FEEDS = 1u << 6,
    KZ_MPERM_MANAGE_LAYERS = 1u << 7,
};
#define KZ_MPERM_COUNT 8

/* "MISSION_OWNER", ...; NULL for KZ_MROLE_NONE. */
const char *kz_mission_role_name(enum kz_mission_role r);
/* KZ_OK or KZ_ERR_PARSE (unknown name; *out untouched). */
int kz_mission_role_parse(const char *name, enum kz_mission_role *out);
/* The permission bits of a role (0 for none). */
unsigned kz_mission_role_perms(enum kz_mission_role r);
/* "MISSION_READ", ... for bit index i < KZ_MPERM_COUNT. */
const char *kz_mission_perm_name(unsigned i);
/* {"type": role, "permissions": [...]}, or JSON null for none. */
json_t *kz_mission_role_json(enum kz_mission_role r);

/* ---- the model ------------------------------------------------------------ */

enum kz_mission_change_type {
    KZ_MCHANGE_CREATE_MISSION,
    KZ_MCHANGE_DELETE_MISSION,
    KZ_MCHANGE_ADD_CONTENT,
    KZ_MCHANGE_REMOVE_CONTENT,
};
const char *kz_mission_change_name(enum kz_mission_change_type t);

/* A uid or a file hash in a mission, with its own label. */
struct kz_mission_item {
    char *data; /* the uid, or the file's SHA-256 hex */
    bool is_hash;
    int64_t timestamp;
    char *creator_uid;
    char **keywords;
    unsigned n_keywords;
    char *banner; /* canonical label */
    struct kz_label label;
};

struct kz_mission_sub {
    char *client_uid, *username, *token;
    enum kz_mission_role role;
    int64_t create_time;
    bool live; /* false after DELETE .../subscription?disconnectOnly=true */
};

struct kz_mission_invite {
    char *type, *invitee; /* clientUid|callsign|userName|group|team */
    enum kz_mission_role role;
};

struct kz_mission_change {
    uint64_t id; /* ascending within the book */
    enum kz_mission_change_type type;
    int64_t timestamp, server_time;
    char *creator_uid;
    char *content; /* uid or hash; NULL for CREATE/DELETE_MISSION */
    bool is_hash;
    char *banner; /* the item's label (the mission's for CREATE/DELETE) */
    struct kz_label label;
};

struct kz_mission_log {
    char *id, *content, *creator_uid, *entry_uid;
    int64_t dtg, created, servertime;
    char **hashes, **keywords;
    unsigned n_hashes, n_keywords;
    char *banner;
    struct kz_label label;
};

struct kz_mission {
    char *name, *guid, *description, *tool, *chat_room, *creator_uid;
    int64_t create_time, last_edited;
    int64_t expiration; /* -1: none */
    char **groups, **keywords;
    unsigned n_groups, n_keywords;
    char *password_hash; /* Argon2id (kz_password_hash), NULL: none */
    bool invite_only;
    enum kz_mission_role default_role;
    char *banner; /* the mission's label, shown as `classification` */
    struct kz_label label;
    /* The plan this mission publishes (docs/missions.md, "Plans as missions"), or NULL.
     * Only the plan flow writes such a mission: every caller's role is capped at
     * MISSION_READONLY_SUBSCRIBER (kz_mission_role_for, kz_mission_stream_role). */
    char *plan;
    struct kz_mission_item *items;
    unsigned n_items;
    struct kz_mission_sub *subs;
    unsigned n_subs;
    struct kz_mission_invite *invites;
    unsigned n_invites;
    struct kz_mission_change *changes; /* oldest first */
    unsigned n_changes;
    struct kz_mission_log *logs;
    unsigned n_logs;
};

struct kz_mission_book;

struct kz_mission_book *kz_mission_book_new(void);
void kz_mission_book_free(struct kz_mission_book *b);
unsigned kz_mission_book_count(const struct kz_mission_book *b);
struct kz_mission *kz_mission_book_at(struct kz_mission_book *b, unsigned i);
/* By name (case-sensitive, as TAK Server) or by guid; NULL: none. */
struct kz_mission *kz_mission_book_get(struct kz_mission_book *b, const char *name);
struct kz_mission *kz_mission_book_by_guid(struct kz_mission_book *b, const char *guid);
/*
 * Add a new, empty mission named `name` with a fresh guid (UUID v4) and
 * the label `banner`/`label`; the caller fills the rest.  NULL when the
 * name is taken or the book is full.
 */
struct kz_mission *kz_mission_book_add(struct kz_mission_book *b, const char *name,
                                       const char *banner, const struct kz_label *label,
                                       int64_t now_us);
/* Adopt a mission loaded from the store (takes *m over).  KZ_ERR_EXISTS: name taken. */
int kz_mission_book_adopt(struct kz_mission_book *b, struct kz_mission *m);
/* Remove and free the mission. */
void kz_mission_book_remove(struct kz_mission_book *b, struct kz_mission *m);
/* The next change id (ids stay ascending across restarts: see kz_mission_book_adopt). */
uint64_t kz_mission_book_next_change(struct kz_mission_book *b);
/* A change id loaded from the store: later ids stay above it. */
void kz_mission_book_seen_change(struct kz_mission_book *b, uint64_t id);

void kz_mission_free(struct kz_mission *m);

/* The subscription of client_uid, or NULL. */
struct kz_mission_sub *kz_mission_sub_get(struct kz_mission *m, const char *client_uid);
/* Subscribe (or update) client_uid; KZ_ERR_TOOBIG when full. */
int kz_mission_subscribe(struct kz_mission *m, const char *client_uid, const char *username,
                         enum kz_mission_role role, const char *token, int64_t now_us,
                         struct kz_mission_sub **out);
/* Remove the subscription; false when there was none. */
bool kz_mission_unsubscribe(struct kz_mission *m, const char *client_uid);

/* The item `data` (a uid or a hash), or NULL. */
struct kz_mission_item *kz_mission_item_get(struct kz_mission *m, const char *data, bool is_hash);
/*
 * Add an item (its timestamp, creator and label as given) and log
 * ADD_CONTENT; an item already there is left as it is and logs nothing
 * (returns KZ_ERR_EXISTS).  KZ_ERR_TOOBIG when the mission is full.
 */
int kz_mission_add_item(struct kz_mission_book *b, struct kz_mission *m, const char *data,
                        bool is_hash, const char *creator_uid, const char *banner,
                        const struct kz_label *label, int64_t now_us);
/* Remove an item and log REMOVE_CONTENT; KZ_ERR_NOTFOUND when absent. */
int kz_mission_remove_item(struct kz_mission_book *b, struct kz_mission *m, const char *data,
                           bool is_hash, const char *creator_uid, int64_t now_us);
/* Log a change of the mission itself (CREATE_MISSION, DELETE_MISSION). */
struct kz_mission_change *kz_mission_log_change(struct kz_mission_book *b, struct kz_mission *m,
                                                enum kz_mission_change_type t,
                                                const char *creator_uid, int64_t now_us);
/* Append a change as loaded (ids kept); the oldest go first beyond the cap. */
void kz_mission_push_change(struct kz_mission *m, const struct kz_mission_change *c);

/*
 * The changes of [start, end) (µs; 0 = unbounded) visible to `who`, oldest
 * first, into *out (malloc'd array of pointers into m; the caller frees the
 * array).  Squashed: per content only its latest change, and none for
 * content added then removed within the window (TAK Server's default).
 */
unsigned kz_mission_changes(const struct kz_mission *m, int64_t start, int64_t end, bool squashed,
                            const struct kz_release_subject *who,
                            const struct kz_mission_change ***out);

/* ---- who may do what (reference B.6) --------------------------------------- */

bool kz_mission_visible(const struct kz_mission *m, const struct kz_release_subject *who);
bool kz_mission_item_visible(const struct kz_label *label, const struct kz_release_subject *who);

struct kz_mission_token_claims;

/*
 * The caller's role on `m` for one request, as TAK Server decides it: the
 * role of a valid token for this mission (t may be NULL); else an admin
 * is MISSION_OWNER; else a password or invite-only mission gives none;
 * else the mission's default role.  A plan's mission (m->plan set) gives
 * at most MISSION_READONLY_SUBSCRIBER to anyone.  (The sender of a CoT with a mission
 * dest has no token: its subscription's role counts, see
 * kz_mission_stream_role.)
 */
enum kz_mission_role kz_mission_role_for(const struct kz_mission *m,
                                         const struct kz_mission_token_claims *t, bool admin);
/* The role of a subscribed stream client (by clientUid), NONE when not subscribed; capped
 * like kz_mission_role_for's for a plan's mission. */
enum kz_mission_role kz_mission_stream_role(const struct kz_mission *m, const char *client_uid);

/* ---- tokens (token.c) ---------------------------------------------------- */

enum kz_mission_token_type {
    KZ_MTOKEN_SUBSCRIPTION,
    KZ_MTOKEN_INVITATION,
    KZ_MTOKEN_ACCESS,
};

struct kz_mission_token_claims {
    char sub[KZ_MISSION_NAME_MAX];      /* clientUid */
    char mission[KZ_MISSION_NAME_MAX];  /* mission name */
    char guid[KZ_MISSION_GUID_LEN + 1]; /* mission guid */
    enum kz_mission_role role;
    enum kz_mission_token_type type;
    int64_t iat; /* seconds */
};

/*
 * The signing key: the server's TLS private key (ES256 for an EC P-256
 * key, RS256 for RSA), or a fresh P-256 key when the server has none
 * (tokens then last until restart).  Opaque; owned by whoever made it.
 */
struct kz_mission_signer;

/* From a PEM private key file; KZ_ERR_IO (unreadable) or KZ_ERR_INVAL (not EC P-256 / RSA). */
int kz_mission_signer_load(const char *key_path, struct kz_mission_signer **out);
/* A fresh ephemeral EC P-256 key; never NULL. */
struct kz_mission_signer *kz_mission_signer_ephemeral(void);
void kz_mission_signer_free(struct kz_mission_signer *s);

/* A signed JWT for the claims (iat set by the caller); a malloc'd string, NULL on failure. */
char *kz_mission_token_sign(const struct kz_mission_signer *s,
                            const struct kz_mission_token_claims *c);
/*
 * Check a JWT's signature (the algorithm must be the signer's) and read
 * its claims.  KZ_OK, KZ_ERR_PARSE (malformed) or KZ_ERR_DENIED (bad
 * signature, wrong algorithm, unknown role or type).
 */
int kz_mission_token_verify(const struct kz_mission_signer *s, const char *jwt,
                            struct kz_mission_token_claims *out);
/* The JWT of "MissionAuthorization: Bearer X", else "Authorization: Bearer X" (NULL: none). */
const char *kz_mission_bearer(const char *mission_authorization, const char *authorization);

/* ---- files: the file store answers through this callback (wired by the server) ---- */

struct kz_mission_file {
    char filename[256], mime_type[128], submitter[128], creator_uid[256], name[256], tool[64];
    int64_t size, submission_time;     /* bytes; µs */
    char banner[KZ_LABEL_MAX_LEN + 1]; /* the file's label */
    struct kz_label label;
};

struct kz_mission_files {
    /* Fill *out for the file `hash`: KZ_OK, or KZ_ERR_NOTFOUND (no such file). */
    int (*file_meta)(void *ud, const char *hash, struct kz_mission_file *out);
    void *ud;
};

/* ---- uids: what the router knows of a mission uid (wired by the Marti routes) ---- */

struct kz_mission_uid_details {
    char type[64], callsign[128];
    double lat, lon;
};

struct kz_mission_uids {
    /*
     * Fill *out from uid's current track, only when that track's label is
     * exactly `label` (the item's, which the reader already passed): true,
     * else false and nothing is shown.
     */
    bool (*details)(void *ud, const char *uid, const struct kz_label *label,
                    struct kz_mission_uid_details *out);
    void *ud;
};

/* ---- JSON views (json.c), filtered for `who` ------------------------------ */

struct kz_mission_view {
    const struct kz_release_subject *who;
    const struct kz_mission_files *files; /* may be NULL: Resources carry the hash only */
    const struct kz_mission_uids *uids;   /* may be NULL: uids without details */
    const char *token;                    /* shown as `token` (create, password), or NULL */
    enum kz_mission_role owner_role;      /* shown as `ownerRole` when set */
    bool changes, logs;                   /* include missionChanges / logs */
    bool hide_contents;                   /* password missions in a list */
    int64_t start, end;                   /* the changes' window, µs (0: unbounded) */
};

/* TAK's Mission object. */
json_t *kz_mission_json(const struct kz_mission *m, const struct kz_mission_view *v);
/* One MissionChange (`m` gives missionName and missionGuid; v->files and v->uids used). */
json_t *kz_mission_change_json(const struct kz_mission *m, const struct kz_mission_change *c,
                               const struct kz_mission_view *v);
/* A MissionSubscription: {token, clientUid, username, createTime, role}. */
json_t *kz_mission_sub_json(const struct kz_mission_sub *s);
/* A LogEntry. */
json_t *kz_mission_log_json(const struct kz_mission *m, const struct kz_mission_log *l);
/* "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'" */
json_t *kz_mission_time_json(int64_t us);

/* ---- request bodies (body.c; the fuzz target's entry points) -------------- */

/*
 * {"hashes":[...], "uids":[...]} (both optional, "paths" ignored): strings
 * only, a hash 64 hex digits (lowercased), a uid 1..KZ_COT_UID_MAX bytes;
 * at most KZ_MISSION_MAX_ITEMS in all.  *uids and *hashes are malloc'd
 * string vectors (kz_strv_free).  KZ_OK or KZ_ERR_PARSE with `err` set.
 */
int kz_mission_contents_parse(const char *body, size_t len, char ***uids, unsigned *n_uids,
                              char ***hashes, unsigned *n_hashes, char *err, size_t errlen);
/*
 * A LogEntry body: content (required, <= KZ_MISSION_TEXT_MAX), creatorUid,
 * entryUid, missionNames[] (at least one), dtg, contentHashes[],
 * keywords[].  Fills *out (owned strings; kz_mission_log_clear) and the
 * mission names (kz_strv_free).
 */
int kz_mission_log_parse(const char *body, size_t len, struct kz_mission_log *out, char ***names,
                         unsigned *n_names, char *err, size_t errlen);
void kz_mission_log_clear(struct kz_mission_log *l);
/*
 * An optional Mission JSON body of PUT/POST /missions/{name}: description,
 * chatRoom, tool, keywords[], groups[], inviteOnly, expiration.  Applies
 * the fields present to m.  KZ_OK or KZ_ERR_PARSE.
 */
int kz_mission_body_apply(struct kz_mission *m, const char *body, size_t len, char *err,
                          size_t errlen);

/* ---- notifications (notify.c) --------------------------------------------- */

struct kz_event;

/* What a notification says; strings borrowed for the call. */
struct kz_mission_notice {
    const char *cot_type; /* "t-x-m-c", "t-x-m-n", "t-x-m-d", "t-x-m-i", "t-x-m-r" */
    const char *type;     /* <mission type=...>: "CHANGE", "CREATE", "DELETE", "INVITE", "ROLE" */
    const char *author;   /* authorUid, or NULL */
    const char *token;    /* an invitation's token, or NULL */
    const char *inner;    /* XML inside <mission> (MissionChanges, role), or NULL */
    const char *banner;   /* the notification's label, written as `access` */
};

/*
 * Fill `ev` (initialised here; the caller clears it) with the notification:
 * a random uid, how h-g-i-g-o, time now, stale 20 s later, point 0,0 and
 * <detail><mission .../></detail>, as TAK Server sends it.
 */
void kz_mission_notice(struct kz_event *ev, const struct kz_mission *m,
                       const struct kz_mission_notice *n, int64_t now_us);
/* <MissionChanges><MissionChange>...</MissionChange></MissionChanges> of one change. */
void kz_mission_change_xml(struct kz_sbuf *out, const struct kz_mission *m,
                           const struct kz_mission_change *c, const struct kz_mission_files *files,
                           const struct kz_mission_uids *uids);
/* <role type=...><permissions><permission type=.../>...</permissions></role>; nothing for none. */
void kz_mission_role_xml(struct kz_sbuf *out, enum kz_mission_role r);
/* A random UUID v4, lowercase. */
void kz_mission_uuid(char out[KZ_MISSION_GUID_LEN + 1]);

/* ---- persistence (doc.c): one JSON document per mission ------------------- */

/* The mission's stored document (everything but its changes), compact JSON; malloc'd. */
char *kz_mission_doc(const struct kz_mission *m);
/* A change's stored document; malloc'd. */
char *kz_mission_change_doc(const struct kz_mission_change *c);
/*
 * Rebuild from stored documents; labels are re-parsed under `policy` (an
 * item whose label no longer parses is dropped, a mission whose label no
 * longer parses is refused: KZ_ERR_PARSE).
 */
int kz_mission_from_doc(const char *doc, const struct kz_label_policy *policy,
                        struct kz_mission **out);
int kz_mission_change_from_doc(const char *doc, const struct kz_label_policy *policy,
                               struct kz_mission_change *out);
void kz_mission_change_clear(struct kz_mission_change *c);
/* Parse `banner` under `policy` with its originator the nation of the code `nation`. */
int kz_mission_label(const struct kz_label_policy *policy, const char *banner, const char *nation,
                     struct kz_label *out);

#endif
