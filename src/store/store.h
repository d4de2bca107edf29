/*
 * store.h - durable event log and latest-state table, readiness reports,
 * the audit log, plans, users and certificates: the only owner of SQL.
 *
 * The store owns one database connection on its own thread.  The loop
 * thread hands it work through a locked queue; the store thread commits in
 * batches (a batch closes when it is max_delay_ms old or holds
 * KZ_STORE_MAX_BATCH records) and reports completion back to the loop with
 * uv_async.  Every callback below runs on the loop thread unless noted.
 *
 * An event is *acknowledged* when its batch has committed: its ack callback
 * then reports KZ_OK.  A kill -9 after the callback never loses it.
 *
 * Which connection does what:
 *   - the store thread's connection writes every row of events, tracks,
 *     readiness, audit, plans and files (in its batches) and answers kz_store_query;
 *   - the startup loads (kz_store_load, kz_store_readiness_load,
 *     kz_store_plans_load, kz_store_files_load) and the audit reads borrow that connection under
 *     its lock, on the caller's thread;
 *   - users and certs are read and written through a connection of their
 *     own (struct kz_store_users), opened the same way, by the CLI and the
 *     server's worker threads; the store thread never touches those tables;
 *   - on PostgreSQL, a connection of its own LISTENs for writes to users (kz_store_users_watch).
 *
 * Schema (numbered migrations, PRAGMA user_version):
 *   events(seq INTEGER PRIMARY KEY, uid, type, time, start, stale,
 *          recv_time, label, origin_input, origin_user, xml, origin_nation,
 *          origin_groups)
 *   tracks(uid PRIMARY KEY, seq, type, stale, label, origin_input,
 *          origin_user, xml, origin_nation, origin_groups)
 *   readiness(id PRIMARY KEY, unit, time, recv_time, p, s, r, t, overall,
 *          override_reason, remarks, label, originator, reporter, groups_out)
 *   audit(id PRIMARY KEY, time, actor, action, object, detail, prev_hash, hash)
 *          (hash: "hmac-sha256:HEX" keyed, or the legacy SHA-256 HEX)
 *   missions(guid PRIMARY KEY, name, doc), mission_changes(id PRIMARY KEY, guid,
 *          doc): Data Sync missions, one document each, and their change logs
 *   plans(id, revision, time, doc, PRIMARY KEY (id, revision)): every revision
 *          of every plan, doc the plan layer's JSON; written with its audit record
 *   files(uid PRIMARY KEY, hash, name, mime, size, time, submitter,
 *          creator_uid, keywords, label, originator, groups_out, tool): one row per
 *          uploaded file; its bytes are DATA/files/<hash[0..2]>/<hash> (on PostgreSQL also
 *          in file_content(hash, part, data): pg_files.c)
 *   users(user PRIMARY KEY, nation, clearance, groups_in, groups_out, roles,
 *          command, password_hash, created, updated)
 *   certs(serial PRIMARY KEY, user, issued, not_after, revoked)
 *   events also keep, for an event that came over a federation link, fed_provenance,
 *          fed_hops, fed_max_hops and fed_seq (the sending node's sequence); and
 *          every event uid_prev, the seq of its uid's previous row (store/heads.c)
 *   uid_heads(uid PRIMARY KEY, seq): each uid's newest row
 *   store_marks(name PRIMARY KEY, value): tracks_seq, the newest event the
 *          tracks table holds; it follows the log lazily (store/tracks.c)
 *   fed_sent(peer, sent, seq): what crossed each link, and when
 *   fed_cursor(peer PRIMARY KEY, seq): the last event of the log each link was sent
 *   events also keep their point, lon_e7 and lat_e7 (1e-7 degrees; NULL for an
 *          event without a position: lat 0, lon 0, hae unknown)
 *   events_geo: an R*Tree of the points (store/geo.c), one entry per cell of a
 *          batch: the box of its points, its seqs (times 1e-4), and its members
 *          (seq, lon_e7, lat_e7 each) in a blob; its id is its newest member's seq
 */
#ifndef KZ_STORE_H
#define KZ_STORE_H

#include <uv.h>

#include "core/core.h"
#include "cot/cot.h"

#define KZ_STORE_MAX_BATCH 4096
/* Queued, uncommitted writes beyond which kz_store_busy() says so. */
#define KZ_STORE_MAX_PENDING 131072

struct kz_store;

/* Filled from the configuration by the caller: the store has no defaults. */
struct kz_store_opts {
    const char *path;        /* database file; ":memory:" for tests; NULL with dsn */
    unsigned max_delay_ms;   /* batch window (store.max_delay_ms); 0 = none */
    int64_t retention_us;    /* drop events older than this; 0 = keep */
    int64_t retention_bytes; /* keep the events table under this; 0 = no cap */
    /* PostgreSQL (store.backend postgres): the libpq connection string; NULL: SQLite at path.
     * Its password, if any, never reaches a log line. */
    const char *dsn;
    /* The instance writing (node.id): with each event's seq the idempotency key of its row
     * on PostgreSQL, so a row written twice is stored once; NULL: "". */
    const char *node_id;
    /* PostgreSQL shared by the instances of a cluster (a `cluster:` section): the database
     * numbers the events rows (seq), each instance's own sequence is their origin_seq, and
     * mission changes leave an outbox row (pg_shared.c). */
    bool shared;
};

/*
 * The database file for the configuration's store.path: `store_path` itself
 * when absolute, else data_dir/store_path.  KZ_OK, or KZ_ERR_TOOBIG when it
 * does not fit in `len` bytes.
 */
int kz_store_path(const char *data_dir, const char *store_path, char *buf, size_t len);

/* ---- backup.c: copies of a store file, taken while the server runs -------- */

/* Pages copied so far out of the file's total, after each step of a copy. */
typedef void (*kz_store_progress_fn)(void *ud, int64_t done, int64_t total);

/*
 * Copy the database file `from` into `to` with SQLite's online backup API:
 * one consistent snapshot (every transaction committed before the copy
 * began, none after), taken beside a running server without stopping its
 * writes.  `to` is written as `to`.tmp, then renamed over `to` once whole
 * (a stale `to`-wal/-shm is removed first); the copy is a single file in
 * rollback-journal mode.  `progress` (may be NULL) is called on the
 * caller's thread after every step.  Both backup and restore use it.
 * KZ_OK, or KZ_ERR_NOTFOUND (no `from`), KZ_ERR_IO, KZ_ERR_DB or
 * KZ_ERR_TOOBIG with the reason in err.
 */
int kz_store_backup(const char *from, const char *to, kz_store_progress_fn progress, void *ud,
                    char *err, size_t errlen);

/*
 * Write `head_path`, the audit head anchor (store/audit.c) for the chain in
 * the copy `copy`, tagged with the key at `key_path`: restored beside that
 * copy as DATA/audit.head, the chain verifies to its end.  Nothing is written
 * when there is no key or no audit record.  KZ_OK, or KZ_ERR_IO / KZ_ERR_DB
 * with the reason in err.
 */
int kz_store_backup_anchor(const char *copy, const char *key_path, const char *head_path, char *err,
                           size_t errlen);

/*
 * May `path` be restored by this build?  Opens it read-only and checks
 * PRAGMA integrity_check, that it holds a kizuna schema, and that its
 * schema version (PRAGMA user_version) is not newer than this build's.
 * KZ_OK, or KZ_ERR_NOTFOUND / KZ_ERR_IO / KZ_ERR_DB with the reason in err.
 */
int kz_store_check(const char *path, char *err, size_t errlen);

/*
 * Open (creating and migrating as needed) and start the store thread.
 * Returns KZ_OK or KZ_ERR_DB / KZ_ERR_IO with a log line naming the cause.
 */
int kz_store_open(uv_loop_t *loop, const struct kz_store_opts *opts, struct kz_store **out);

/*
 * A store locator: a SQLite file's path, or KZ_STORE_PG_LOCATOR and a libpq DSN for
 * PostgreSQL (what the server and the CLI pass around as "the store" when
 * store.backend is postgres: kz_store_open's path, kz_store_users_open's path).
 * kz_store_pg_dsn: the DSN of such a locator, or NULL for a file.
 */
#define KZ_STORE_PG_LOCATOR "postgres:"
const char *kz_store_pg_dsn(const char *locator);
/*
 * The locator of the configuration's store: KZ_STORE_PG_LOCATOR and `dsn` when
 * `backend` is "postgres", else kz_store_path(data_dir, path).  KZ_OK, or
 * KZ_ERR_TOOBIG when it does not fit in `len` bytes.
 */
int kz_store_locator(const char *backend, const char *dsn, const char *data_dir, const char *path,
                     char *buf, size_t len);

/*
 * NULL when every table and call of this store works on its backend (always
 * for SQLite); else a static list of the tables not yet on PostgreSQL
 * ("audit, plans, ..."): a server must refuse to start on such a store
 * rather than run half-working.
 */
const char *kz_store_unported(const struct kz_store *st);

/*
 * Flush everything queued, stop the thread, close the database.  Pending
 * ack callbacks are called (KZ_OK if committed, KZ_ERR_CLOSED otherwise)
 * before this returns.  Must be called before the loop is closed.
 */
void kz_store_close(struct kz_store *st);

typedef void (*kz_store_ack_cb)(void *ud, int status);

/*
 * Queue one accepted event for the log and the tracks table.  `ev` must have
 * seq, recv_time and origin set; `xml` is its canonical encoding.  Both are
 * copied; the caller keeps ownership.  `cb` may be NULL.  Never blocks on
 * the database.
 */
void kz_store_append(struct kz_store *st, const struct kz_event *ev, const char *xml,
                     size_t xml_len, kz_store_ack_cb cb, void *ud);

/*
 * True when KZ_STORE_MAX_PENDING writes (or kz_store_set_max_pending()'s
 * number) wait for the disk: the caller should refuse new events rather
 * than let a stalled disk grow memory without bound.  Loop thread; takes the queue lock briefly.
 */
bool kz_store_busy(struct kz_store *st);
/* A PostgreSQL shared by a cluster's instances (kz_store_opts.shared): its events rows are
 * numbered by the database, not by this instance's router. */
bool kz_store_shared(const struct kz_store *st);

/*
 * Flow control for inputs: true when half of kz_store_busy()'s number of
 * writes wait for the disk, so readers should stop taking new events.  A
 * true answer arms a one-shot notice: the callback set with
 * kz_store_on_drain() runs on the loop once a batch leaves a quarter or
 * less queued.  Loop thread; takes the queue lock briefly.
 */
bool kz_store_backlogged(struct kz_store *st);
void kz_store_on_drain(struct kz_store *st, void (*cb)(void *ud), void *ud);

/*
 * Lower (or raise) the number of queued writes at which kz_store_busy()
 * turns true (store.max_pending_writes); 0 restores KZ_STORE_MAX_PENDING.
 * Loop thread.
 */
void kz_store_set_max_pending(struct kz_store *st, unsigned n);

/* Queue removal of a uid from the tracks table (t-x-d-d). */
void kz_store_delete_track(struct kz_store *st, const char *uid);

/*
 * Startup only, before the loop runs: bring the tracks table up to date and
 * call `fn` for every row of it whose stale time is after `now_us`, in seq order.  Also returns the
 * highest seq in the events table in *max_seq so sequence numbers continue.
 */
/*
 * Who sent a stored event, as recorded with it.  nation and groups are NULL
 * on rows stored before they were recorded (schema migration 5).
 */
struct kz_store_origin {
    const char *input;  /* input name */
    const char *user;   /* sender identity's user */
    const char *nation; /* the sender's nation when it sent (ISO code) */
    const char *groups; /* the sender's OUT groups then, comma-separated */
};
typedef void (*kz_store_track_fn)(void *ud, uint64_t seq, const char *xml, size_t xml_len,
                                  const char *label, const struct kz_store_origin *origin);
int kz_store_load(struct kz_store *st, int64_t now_us, kz_store_track_fn fn, void *ud,
                  uint64_t *max_seq);

/*
 * A box in degrees (WGS84), edges included.  min_lon > max_lon is a box
 * that crosses the antimeridian (from min_lon east to 180, and from -180 to
 * max_lon).  Points are compared at 1e-7 degree (about a centimetre).
 */
struct kz_store_bbox {
    double min_lon, min_lat, max_lon, max_lat;
};

/* True when every edge is finite and in range (lat [-90, 90], lon [-180,
 * 180]) and min_lat <= max_lat. */
bool kz_store_bbox_valid(const struct kz_store_bbox *b);

/* A query over the events log (GET /api/v1/events). */
struct kz_store_query {
    const char *uid;  /* NULL = any */
    const char *type; /* NULL = any; a trailing '*' matches a prefix */
    int64_t since_us; /* recv_time >= since; 0 = no bound */
    int64_t until_us; /* recv_time < until; 0 = no bound */
    unsigned limit;   /* 1..10000; rows newest first */
    /* Only rows older than this seq (a page's cursor: where the last one
     * stopped); 0 = from the newest. */
    uint64_t before_seq;
    /* forward: oldest first, only rows newer than after_seq (a federation link's outbox);
     * not with before_seq, unless latest. */
    bool forward;
    uint64_t after_seq;
    /* latest (forward only, PostgreSQL only: KZ_ERR_INVAL on SQLite): only each uid's newest
     * event, the tracks table's, when not stale now; before_seq bounds it (a federation link's
     * latest state at its position on a shared PostgreSQL, fed/outbox.c). */
    bool latest;
    /* Only events whose point lies in bbox (not with forward); an event
     * without a position never does.  Newest first as without it.  SQLite
     * asks events_geo one stretch of seqs at a time (store/geo.c); since/until
     * bound the stretch by the recv_time index, assuming receive times grow
     * with seq (as the one-uid walk does).  PostgreSQL asks its GiST index of
     * (lon, lat, seq) the same way, stretch by stretch (store/pg_query.c). */
    bool has_bbox;
    struct kz_store_bbox bbox;
};

struct kz_store_row {
    uint64_t seq;
    int64_t recv_time;
    char *label;
    char *origin_input;
    char *origin_user;
    char *origin_nation; /* NULL before migration 5 */
    char *origin_groups;
    char *xml;
    size_t xml_len;
    /* Federation (migration 9): the nodes a federated event passed and its hops; NULL, 0. */
    char *fed_provenance;
    int64_t fed_hops, fed_max_hops;
};

/*
 * Run a query on the store thread.  `done` is called on the loop thread
 * with the rows (owned by the store; valid only during the call) or with
 * status != KZ_OK and no rows.  The query strings are copied.
 */
typedef void (*kz_store_query_cb)(void *ud, int status, const struct kz_store_row *rows, size_t n);
void kz_store_query(struct kz_store *st, const struct kz_store_query *q, kz_store_query_cb done,
                    void *ud);
/*
 * A write barrier: `cb` reports KZ_OK once every write queued before it has committed
 * (KZ_ERR_CLOSED when the store closes first), so a query asked from `cb` sees them.
 */
void kz_store_barrier(struct kz_store *st, kz_store_ack_cb cb, void *ud);

/* ---- federation links (fedlog.c) ------------------------------------------ */

/* One event sent on a link: its seq in the events log, and when. */
struct kz_store_sent {
    int64_t sent_us;
    uint64_t seq;
};

/*
 * Queue a link's sent log (n entries, copied) and, when `cursor` is above the stored one, its
 * new cursor: the last event of the log sent in order.  `cb` (may be NULL) reports the commit;
 * being a write, it comes after every write queued before it has committed.
 */
void kz_store_fed_sent(struct kz_store *st, const char *peer, const struct kz_store_sent *items,
                       size_t n, uint64_t cursor, kz_store_ack_cb cb, void *ud);

/* Startup only (synchronous): a link's cursor (has_cursor false: none stored yet), the
 * fed_seq of the last event committed from input `input` (0: none) and the log's newest seq. */
struct kz_store_fed_marks {
    uint64_t cursor;
    bool has_cursor;
    uint64_t received;
    uint64_t last_seq;
};
int kz_store_fed_marks(struct kz_store *st, const char *peer, const char *input,
                       struct kz_store_fed_marks *m);

/*
 * Where a link's outbox starts: after after_seq, but not before events received since_us
 * (0: no bound) and not beyond the newest max_bytes of XML (0: no bound).  The answer:
 * start_seq (send what is newer), how many events the bounds left out, and the log's newest
 * seq (last_seq; on a shared PostgreSQL the newest the database has numbered, so a point
 * beyond it names no row).
 */
struct kz_store_outbox_bound {
    uint64_t after_seq;
    int64_t since_us, max_bytes;
    uint64_t start_seq, skipped, last_seq;
};
typedef void (*kz_store_bound_cb)(void *ud, int status, const struct kz_store_outbox_bound *b);
void kz_store_outbox_bound(struct kz_store *st, const struct kz_store_outbox_bound *b,
                           kz_store_bound_cb done, void *ud);

/* What crossed to a peer, oldest first, after the cursor (after_sent_us, after_seq). */
struct kz_store_sent_query {
    const char *peer;
    int64_t after_sent_us;
    uint64_t after_seq;
    unsigned limit; /* 1..10000 */
};
struct kz_store_sent_row {
    int64_t sent_us, time_us;
    uint64_t seq;
    char *uid, *type, *label, *origin_nation; /* NULL once retention removed the event */
};
typedef void (*kz_store_sent_cb)(void *ud, int status, const struct kz_store_sent_row *rows,
                                 size_t n);
void kz_store_fed_sent_query(struct kz_store *st, const struct kz_store_sent_query *q,
                             kz_store_sent_cb done, void *ud);

/* ---- readiness reports --------------------------------------------------- */

/*
 * One readiness report as stored (readiness/readiness.h has the model).
 * `label` is the canonical banner and `originator` the nation code of the
 * label's originator (a banner does not carry it).  The optional strings
 * may be NULL.
 */
struct kz_store_readiness {
    const char *unit;
    int64_t time_us, recv_us;
    uint8_t p, s, r, t; /* 1..6 (6: not measured) */
    uint8_t overall;    /* 1..5 */
    const char *override_reason, *remarks;
    const char *reason_code; /* of an override; NULL before migration 8 */
    const char *label, *originator;
    const char *reporter;
    /* The reporter's OUT groups, as the readiness layer encodes them; NULL:
     * none recorded (a row from before migration 5). */
    const char *groups;
};

/*
 * Queue a report for the readiness table, in the same batches as events:
 * `cb` (may be NULL) reports KZ_OK once it has committed, KZ_ERR_DB when the
 * row was refused or the batch failed, KZ_ERR_INVAL (from the loop, never
 * from inside this call) when unit, label or originator is missing.  The
 * strings are copied.  Never blocks on the database.
 */
void kz_store_readiness_append(struct kz_store *st, const struct kz_store_readiness *r,
                               kz_store_ack_cb cb, void *ud);

/*
 * Startup only, before the loop runs (synchronous, like kz_store_load):
 * call `fn` for every stored report in commit order.  The strings are valid
 * during the call only.  Returns KZ_OK or KZ_ERR_DB.
 */
typedef void (*kz_store_readiness_fn)(void *ud, const struct kz_store_readiness *r);
int kz_store_readiness_load(struct kz_store *st, kz_store_readiness_fn fn, void *ud);

/* ---- audit log ---------------------------------------------------------- */

/*
 * Keep audit.key and audit.head in `dir` (the data directory) rather than
 * the database's own directory (the default; a ":memory:" store has none
 * and no audit log).  Right after kz_store_open, before any audit call.
 */
void kz_store_set_audit_dir(struct kz_store *st, const char *dir);

/*
 * Append an audit record (time now, the strings as given, all required),
 * chained to the previous record by HMAC-SHA-256 under DIR/audit.key
 * (created on first use, 0600), then rewrite DIR/audit.head, the anchor of
 * the chain's end (DIR: see kz_store_set_audit_dir).  The store thread writes
 * the record in its next batch, which a blocked caller makes commit at once
 * (not after max_delay_ms); the call returns once that batch has committed,
 * so KZ_OK means durable, as for an acknowledged event.  Any thread but the
 * store thread, and not inside a kz_store_load/kz_store_readiness_load
 * callback (that holds the lock the store thread needs); it blocks, so not
 * the loop's hot path.  Returns KZ_OK, KZ_ERR_DB, KZ_ERR_INVAL (a NULL
 * string, or a store without an audit directory), KZ_ERR_IO (the key or the
 * head cannot be read or written; the record may be committed) or
 * KZ_ERR_CLOSED (the store is closing).
 */
int kz_store_audit(struct kz_store *st, const char *actor, const char *action, const char *object,
                   const char *detail);

/*
 * The detail of the newest record with this action and object (free() it),
 * or KZ_ERR_NOTFOUND.  The audit reads are synchronous on the caller's
 * thread, on the store's connection under its lock: startup and CLI only.
 */
int kz_store_audit_last(struct kz_store *st, const char *action, const char *object, char **detail);

/* What kz_store_audit_verify found. */
struct kz_store_audit_check {
    uint64_t records;    /* records that verified, oldest first */
    uint64_t legacy;     /* of those, unkeyed ones from before audit.key existed */
    bool anchored;       /* the chain's end matches audit.head */
    int64_t bad_id;      /* the first record that does not verify; 0 = none or the end */
    const char *problem; /* static text saying what is wrong; NULL when intact */
};

/*
 * Walk the chain and compare its end with audit.head.  KZ_OK when intact
 * (every record verifies, keyed ones after any legacy ones, and the end is
 * the anchored one; a chain of legacy records only needs no anchor),
 * KZ_ERR_INVAL with c->problem (and c->bad_id for a record) when a record
 * was edited, inserted or removed, the tail was cut, the database or the
 * anchor was replaced by another copy, or the key is missing; KZ_ERR_DB.  On a PostgreSQL a
 * cluster's instances share (kz_store_opts.shared), each instance's anchor names the last record
 * it wrote, so the chain may go on past it (other instances' records, under the same key).
 */
int kz_store_audit_verify(struct kz_store *st, struct kz_store_audit_check *c);

/* Call fn for every record, oldest first (synchronous, as above). */
typedef void (*kz_store_audit_fn)(void *ud, int64_t id, int64_t time, const char *actor,
                                  const char *action, const char *object, const char *detail);
int kz_store_audit_list(struct kz_store *st, kz_store_audit_fn fn, void *ud);

/*
 * Every audit record whose object is `object`, oldest first (synchronous,
 * as above; the server's worker threads call it).  KZ_OK, KZ_ERR_INVAL
 * (object NULL) or KZ_ERR_DB.
 */
int kz_store_audit_list_object(struct kz_store *st, const char *object, kz_store_audit_fn fn,
                               void *ud);

/* ---- plans ---------------------------------------------------------------- */

/*
 * One revision of a plan as stored: the plan layer's JSON text (the store
 * keeps it as given and never parses it).  Revisions are kept, never
 * updated.  In a callback the strings live during the call only.
 */
struct kz_store_plan {
    const char *id;
    int64_t revision; /* >= 1 */
    int64_t time_us;
    const char *doc;
};

/* The audit record that goes with a change (all strings required). */
struct kz_store_audit_rec {
    const char *actor, *action, *object, *detail;
};

/*
 * Write a plan revision and its audit record in ONE transaction: both
 * commit or neither (a plan change is never without its audit record, nor
 * an audit record without the change).  The record is chained exactly like
 * kz_store_audit's (HMAC, audit.head rewritten after the commit); the
 * strings are copied.  Synchronous like kz_store_audit: any thread but the
 * store thread and the loop (the server calls it from its worker pool).
 * KZ_OK once durable; KZ_ERR_EXISTS when (id, revision) is already stored
 * (nothing written, the chain and audit.head unchanged); KZ_ERR_INVAL when
 * a string is NULL or revision < 1; otherwise as kz_store_audit.
 */
int kz_store_plan_save(struct kz_store *st, const struct kz_store_plan *p,
                       const struct kz_store_audit_rec *a);

/*
 * Call fn with the newest revision of every plan, by id (strcmp order).
 * Startup: synchronous, on the store's connection under its lock, like the
 * audit reads; not from inside another load's callback.  KZ_OK or KZ_ERR_DB.
 */
typedef void (*kz_store_plan_fn)(void *ud, const struct kz_store_plan *p);
int kz_store_plans_load(struct kz_store *st, kz_store_plan_fn fn, void *ud);

/* ---- files ---------------------------------------------------------------- */

/*
 * The metadata of one uploaded file (the bytes are under the data
 * directory, named by hash: mission/files.h).  `label` is the canonical
 * banner and `originator` the nation code of its originator; `groups` the
 * uploader's OUT groups and `keywords` the keywords, comma-separated.
 * uid, hash, name, mime, label and originator are required; the others
 * may be NULL.  In a callback the strings live during the call only.
 */
struct kz_store_file {
    const char *uid;  /* one per upload (TAK's resource UID) */
    const char *hash; /* SHA-256, 64 lower-case hex digits */
    const char *name, *mime;
    uint64_t size;
    int64_t time_us; /* submission time */
    const char *submitter, *creator_uid, *keywords;
    const char *label, *originator, *groups;
    const char *tool;
    /* kz_store_file_put only: the file that holds the bytes (DATA/files/<h0h1>/<hash>).  A
     * store that keeps file bytes (kz_store_keeps_file_bytes) stores them with the row, in its
     * transaction, once per hash; NULL: the row alone.  Ignored by SQLite. */
    const char *bytes_path;
};

/*
 * Queue a file's row, in the same batches as events: `cb` (may be NULL)
 * reports KZ_OK once it has committed, KZ_ERR_DB when it was refused (a
 * uid already stored) or the batch failed, KZ_ERR_INVAL (from the loop,
 * never inside this call) when a required string is missing.  The strings
 * are copied.  Never blocks on the database.
 */
void kz_store_file_put(struct kz_store *st, const struct kz_store_file *f, kz_store_ack_cb cb,
                       void *ud);

/*
 * Startup only (synchronous, like kz_store_readiness_load): call `fn` for
 * every stored file row in commit order.  Returns KZ_OK or KZ_ERR_DB.
 */
typedef void (*kz_store_file_fn)(void *ud, const struct kz_store_file *f);
int kz_store_files_load(struct kz_store *st, kz_store_file_fn fn, void *ud);

/*
 * Does the store keep the bytes of uploaded files beside their rows?  PostgreSQL does
 * (table file_content, pg_files.c), so that every instance of a cluster, and a node whose
 * store was copied there, can serve a file uploaded elsewhere; SQLite does not: the bytes
 * are only on disk.
 */
bool kz_store_keeps_file_bytes(const struct kz_store *st);

/*
 * A file as the store holds it now, read by the store thread: every row of `hash` (also
 * those other instances committed), and with `path` set, its bytes written to `path`
 * through the temporary `tmp` (created, fsync'd, checked against the hash, renamed; the
 * parent directory of `path` made when missing).  On the loop, `cb` gets KZ_OK with the rows
 * (valid during the call; none is fine), or KZ_ERR_NOTFOUND (bytes asked for, none stored),
 * KZ_ERR_INVAL (the stored bytes do not have the hash: nothing written; on SQLite, always),
 * KZ_ERR_IO (writing the file failed) or KZ_ERR_DB (all logged).  Never blocks on the database.
 */
typedef void (*kz_store_file_fetch_cb)(void *ud, int status, const struct kz_store_file *rows,
                                       size_t n);
void kz_store_file_fetch(struct kz_store *st, const char *hash, const char *tmp, const char *path,
                         kz_store_file_fetch_cb cb, void *ud);

struct kz_store_stats {
    uint64_t appended;  /* records queued */
    uint64_t committed; /* records committed */
    uint64_t batches;
    uint64_t errors;
    int64_t lag_us;   /* age of the oldest uncommitted record, 0 if none */
    int64_t db_bytes; /* page_count * page_size at the last batch */
};

void kz_store_stats(struct kz_store *st, struct kz_store_stats *out);

/* ---- pg_copy.c: a node's SQLite store into PostgreSQL ------------------------- */

/* After each chunk of a table, and at its end: rows copied so far of its total. */
typedef void (*kz_store_copy_progress_fn)(void *ud, const char *table, int64_t done, int64_t total);

/*
 * Copy every table of the SQLite store file `from` (opened read-only, one
 * snapshot; its schema from migration 14 on) into the PostgreSQL database at
 * `dsn` (its schema created or migrated first).  Rows keep their keys and go
 * in with ON CONFLICT DO NOTHING, so a re-run copies only what is missing and
 * changes nothing copied before.  Events get the idempotency key (node_id,
 * seq) and, like tracks, their point from their XML; the tracks table is
 * brought up to the log.  Audit records keep ids and hashes (the chain
 * verifies under the same audit.key).  `progress` may be NULL.  KZ_OK, or
 * KZ_ERR_IO (cannot read `from`) / KZ_ERR_DB with the reason in err.
 */
int kz_store_copy(const char *from, const char *dsn, const char *node_id,
                  kz_store_copy_progress_fn progress, void *ud, char *err, size_t errlen);

/* The SQLite library's version ("3.46.1"), for `kizuna version`. */
const char *kz_store_sqlite_version(void);

/* ---- users and certificates --------------------------------------------- */

/*
 * A connection for the users and certs tables, separate from the store
 * thread's (see the top of this file).  Every call is synchronous on the
 * caller's thread and may wait up to 5 s for a lock held by another
 * connection: the CLI and worker threads, never the loop thread.  One
 * thread at a time per handle.  Errors: KZ_OK or a KZ_ERR_* code with a
 * one-line message in `err`.
 */
struct kz_store_users;

/*
 * One users row.  Lists are comma-separated, as stored ("" or NULL: none;
 * auth/ splits them).  In a callback the strings live during the call only.
 */
struct kz_store_user {
    const char *user, *nation, *clearance;
    const char *groups_in, *groups_out, *roles;
    const char *command;       /* NULL: none */
    const char *password_hash; /* NULL: none (put: keep the stored one) */
};
typedef void (*kz_store_user_fn)(void *ud, const struct kz_store_user *u);

/*
 * Open the database at `path`, migrating it to the current schema.  With
 * `create` a missing file is created (the CLI); without, it is an error (a
 * server's worker: the running store made it).  A path "postgres:DSN" (a
 * store locator, KZ_STORE_PG_LOCATOR) is the PostgreSQL database at DSN
 * instead (`create` moot).  KZ_ERR_IO or KZ_ERR_DB.
 */
int kz_store_users_open(const char *path, bool create, struct kz_store_users **out, char *err,
                        size_t errlen);
void kz_store_users_close(struct kz_store_users *u); /* NULL is fine */

/* Insert a user, or replace every field of an existing one but a NULL hash. */
int kz_store_user_put(struct kz_store_users *u, const struct kz_store_user *r, char *err,
                      size_t errlen);
/* Call fn once with the row; KZ_ERR_NOTFOUND (fn not called) when there is none. */
int kz_store_user_get(struct kz_store_users *u, const char *user, kz_store_user_fn fn, void *ud,
                      char *err, size_t errlen);
/* Call fn for each user, by name (strcmp order). */
int kz_store_users_each(struct kz_store_users *u, kz_store_user_fn fn, void *ud, char *err,
                        size_t errlen);
/* KZ_ERR_NOTFOUND when there is no such user. */
int kz_store_user_del(struct kz_store_users *u, const char *user, char *err, size_t errlen);
int kz_store_user_set_password(struct kz_store_users *u, const char *user, const char *hash,
                               char *err, size_t errlen);

/* Record an issued certificate (serial as upper-case hex); KZ_ERR_DB if known. */
int kz_store_cert_add(struct kz_store_users *u, const char *user, const char *serial,
                      int64_t not_after_us, char *err, size_t errlen);
/*
 * Mark every unrevoked certificate of `user` revoked; *n = how many.
 * KZ_ERR_NOTFOUND when there was none.
 */
int kz_store_certs_revoke(struct kz_store_users *u, const char *user, unsigned *n, char *err,
                          size_t errlen);
/* Call fn(serial_hex, revoked_at_us) for every revoked certificate. */
typedef void (*kz_store_revoked_fn)(void *ud, const char *serial, int64_t revoked_us);
int kz_store_certs_each_revoked(struct kz_store_users *u, kz_store_revoked_fn fn, void *ud,
                                char *err, size_t errlen);

/*
 * Changes to the users table of a PostgreSQL store as they commit (LISTEN/NOTIFY on a
 * connection of its own, pg_listen.c): fn(ud) on the loop thread after one or more writes to
 * the table by anyone, and once each time the connection is (re)established, as a change may
 * have committed while nothing listened.  The connection is opened on a worker thread and
 * opened again when lost; a notice names no user: re-read the table.  KZ_ERR_INVAL (and *out
 * NULL) when `locator` is not a PostgreSQL store: a SQLite file has no notices.
 */
typedef void (*kz_store_users_watch_fn)(void *ud);
struct kz_store_users_watch;
int kz_store_users_watch(uv_loop_t *loop, const char *locator, kz_store_users_watch_fn fn, void *ud,
                         struct kz_store_users_watch **out);
/* fn is not called again; the watch frees itself once its handles closed (NULL is fine). */
void kz_store_users_watch_stop(struct kz_store_users_watch *w);

/* ---- Data Sync missions (missions.c) ------------------------------------- */

/*
 * One change of a mission as stored: its whole document (the mission
 * layer's JSON) and the changes it logged, or, with doc NULL, its deletion
 * (its row and its changes go).  guid required; name required with doc.
 */
struct kz_store_mission {
    const char *guid, *name, *doc;
    const int64_t *change_ids;      /* the changes' ids (ascending, unique) */
    const char *const *change_docs; /* their documents */
    size_t n_changes;
    /* A shared PostgreSQL (kz_store_opts.shared): with outbox_stamp set, the change also writes
     * its outbox row (this instance's node.id, outbox_stamp, guid, outbox_change) in the same
     * transaction (mission_outbox.c).  Ignored elsewhere. */
    int64_t outbox_stamp;
    uint64_t outbox_change;
};

/*
 * Queue the change in the store thread's batches; `cb` (may be NULL)
 * reports KZ_OK once it has committed (document and changes together, or
 * neither), KZ_ERR_DB when refused or the batch failed, KZ_ERR_INVAL (from
 * the loop, later) when guid or name is missing.  The strings are copied.
 * Never blocks on the database.
 */
void kz_store_mission_write(struct kz_store *st, const struct kz_store_mission *w,
                            kz_store_ack_cb cb, void *ud);

/*
 * Startup only (synchronous, like kz_store_plans_load): call `mission` for
 * every stored mission document, then `change` for every stored change in
 * id order.  The strings are valid during the call only.  KZ_OK or
 * KZ_ERR_DB.
 */
typedef void (*kz_store_mission_fn)(void *ud, const char *guid, const char *doc);
int kz_store_missions_load(struct kz_store *st, kz_store_mission_fn mission,
                           kz_store_mission_fn change, void *ud);

/* ---- the missions' outbox on a shared PostgreSQL (mission_outbox.c) ------------------ */

/*
 * One mission as stored now, read by the store thread: on the loop, `cb` gets KZ_OK with its
 * document (NULL: no such mission, deleted) and its changes' documents in id order, or an
 * error.  The strings are valid during the call only.  PostgreSQL only (KZ_ERR_INVAL on
 * SQLite, whose missions are each instance's own).
 */
typedef void (*kz_store_mission_read_cb)(void *ud, int status, const char *doc,
                                         const char *const *changes, size_t n);
void kz_store_mission_read(struct kz_store *st, const char *guid, kz_store_mission_read_cb cb,
                           void *ud);

/* An outbox row: a committed mission change whose notice was not published yet. */
struct kz_store_outbox_row {
    const char *origin, *guid;
    int64_t stamp, created_us;
    uint64_t change_id;
};
/*
 * The outbox rows written by `origin`, and those of any instance older than `before_us`
 * (µs since the epoch; an instance that was killed and has not come back), oldest first, at
 * most 1000.  On the loop: `cb` with KZ_OK and the rows (valid during the call), or an error.
 * On SQLite: KZ_OK and none.
 */
typedef void (*kz_store_outbox_cb)(void *ud, int status, const struct kz_store_outbox_row *rows,
                                   size_t n);
void kz_store_mission_outbox(struct kz_store *st, const char *origin, int64_t before_us,
                             kz_store_outbox_cb cb, void *ud);
/* The notice of (origin, stamp) is published: its row goes (queued, never blocks). */
void kz_store_mission_outbox_done(struct kz_store *st, const char *origin, int64_t stamp);

#endif
