/*
 * internal.h - what the store's source files share.  Other folders include
 * store/store.h only.
 *
 * The store grows by tables: each table's file (events.c, tracks.c,
 * readiness.c, audit.c, plans.c, ...) packs its work into jobs and gives them a
 * struct kz__job_ops saying how to write, read, answer and free them.  The
 * generic parts (queue.c, thread.c, batch.c, sqlite.c, store.c) never look
 * inside a job.  A new table is one file with its ops and public calls, plus
 * its CREATE TABLE appended to migrate.c.
 *
 * Threads: the loop thread builds jobs and pushes them under st->mu; the
 * store thread pops them, runs them with st->db_mu held, and hands finished
 * jobs back (thread.c: complete()).  A job belongs to exactly one list at a
 * time, and whoever holds it last frees it with kz__job_free().
 */
#ifndef KZ_STORE_INTERNAL_H
#define KZ_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

/* Retention runs at most this often (tests lower it before kz_store_open). */
extern int64_t kz__store_retention_every_us;
/* The tracks table is brought up to date at least this often (0: every batch). */
extern int64_t kz__store_tracks_every_us;

/*
 * uidtab.c: the store thread's tables of per-uid state.  An entry is the
 * caller's struct with a struct kz__uident first (uid points at the entry's
 * own copy); zero-initialise the table.
 */
struct kz__uident {
    struct kz__uident *hnext;
    const char *uid;
};
struct kz__uidtab {
    struct kz__uident **buckets;
    size_t n_buckets, count;
};
/* The link holding uid's entry, or the NULL link where a new one goes. */
struct kz__uident **kz__uidtab_slot(struct kz__uidtab *t, const char *uid);
/* An entry was just linked at a slot: count it (slots found before are stale after). */
void kz__uidtab_added(struct kz__uidtab *t);
/* fn on every entry; fn may free it. */
void kz__uidtab_each(struct kz__uidtab *t, void (*fn)(struct kz__uident *e, void *ud), void *ud);
/* Every entry to free_fn, then empty (clear) or also freed (release). */
void kz__uidtab_clear(struct kz__uidtab *t, void (*free_fn)(struct kz__uident *e, void *ud));
void kz__uidtab_release(struct kz__uidtab *t, void (*free_fn)(struct kz__uident *e, void *ud));
struct kz__db;
struct kz__heads;
struct kz__latest;
struct kz__job;

/*
 * How one kind of job runs.  Exactly one of write and read is set: a write
 * job joins the batches (one transaction, acknowledged after COMMIT), a
 * read job runs on its own between batches.  Store thread unless noted.
 */
struct kz__job_ops {
    const char *table; /* for log lines: "INSERT INTO <table>" */
    /* Returns SQLITE_DONE, or the failing statement's code: a constraint
     * failure refuses this job alone, anything else fails the batch. */
    int (*write)(struct kz__db *db, struct kz__job *job);
    /* Optional: write consecutive jobs[0..n) of this kind, in fewer
     * statements.  Stops at the first row that fails: *done counts the
     * jobs before it, which stay written, and batch.c writes the rest one
     * by one with write (so a refused row still fails alone). */
    int (*write_many)(struct kz__db *db, struct kz__job **jobs, size_t n, size_t *done);
    /* After every write of a batch and before its COMMIT, each distinct
     * after_writes of the batch's jobs runs once; SQLITE_DONE or an error. */
    int (*after_writes)(struct kz__db *db, struct kz__job *batch);
    /* Sets job->status (and whatever results the job carries). */
    void (*read)(struct kz__db *db, struct kz__job *job);
    /* Loop thread: report the outcome.  NULL: job->ack(job->ud, status). */
    void (*deliver)(struct kz__job *job);
    /* Free what the job owns beyond its own allocation; may be NULL. */
    void (*release)(struct kz__job *job);
    bool counted; /* counts in kz_store_stats appended/committed */
    /*
     * The same on PostgreSQL (pg*.c), where db->pg is set; NULL: this kind
     * of job is not on PostgreSQL (yet) and fails with KZ_ERR_DB.  pg_write
     * returns KZ_OK, KZ_ERR_EXISTS (a constraint refused this job alone: it
     * ran under a savepoint) or anything else, which fails the batch.
     * pg_write_many writes jobs[0..n) of this kind and sets each status
     * (KZ_OK, or KZ_ERR_DB for a row refused alone); it returns KZ_OK or the
     * error that fails the batch.
     */
    int (*pg_write)(struct kz__db *db, struct kz__job *job);
    int (*pg_write_many)(struct kz__db *db, struct kz__job **jobs, size_t n);
    void (*pg_read)(struct kz__db *db, struct kz__job *job);
};

/*
 * The head of every job.  A table embeds it first in its own struct (so
 * free(job) frees the whole allocation) and usually packs its strings after
 * it: one malloc on the loop thread, one free later.
 */
struct kz__job {
    struct kz__job *next;
    const struct kz__job_ops *ops;
    int status;        /* written by the store thread */
    int64_t queued_us; /* kz_mono_us() when queued */
    size_t batch_pos;  /* store thread: position in its batch */
    bool notify;       /* someone waits for deliver() */
    uv_sem_t *wait;    /* kz__store_run_sync: posted instead of deliver() */
    kz_store_ack_cb ack;
    void *ud;
};

/* One event (events.c) or one track deletion (tracks.c, uid only). */
struct kz__rec {
    uint64_t seq; /* 0: let the database pick one */
    int64_t time, start, stale, recv_time;
    const char *uid, *type, *label, *origin_input, *origin_user, *origin_nation, *origin_groups;
    const char *xml;
    size_t xml_len;
    const char *fed_provenance; /* NULL: not federated */
    int64_t fed_hops, fed_max_hops;
    uint64_t fed_seq;
    /* The event's point (geo.c): has_point false for none (TAK's 0,0 with an unknown height,
     * or out of range); then lon and lat are 0.  hae is KZ_POINT_UNKNOWN when unknown. */
    bool has_point;
    double lon, lat, hae;
};

struct kz__rec_job {
    struct kz__job job;
    struct kz__rec rec; /* strings point into data[] */
    char data[];
};

/*
 * heads.c: each uid's newest seq (uid_heads), cached on the store thread.
 * SQLite codes: SQLITE_DONE or the failing statement's.
 */
/* *seq: the uid's newest committed seq, 0 when it has none. */
int kz__heads_get(struct kz__db *db, const char *uid, uint64_t *seq);
/* A row of `uid` with `seq` is being written: *prev is the uid's previous
 * head (its uid_prev), `seq` the new one. */
int kz__heads_link(struct kz__db *db, const char *uid, uint64_t seq, uint64_t *prev);
/* The last statement wrote all but its last n linked rows: unlink those. */
void kz__heads_undo(struct kz__db *db, size_t n);
/* Before COMMIT: the batch's new heads to uid_heads. */
int kz__heads_write(struct kz__db *db);
/* After COMMIT / after a rolled-back batch (and at close). */
void kz__heads_committed(struct kz__db *db);
void kz__heads_forget(struct kz__db *db);
/* events.c, tracks.c: tracks.c picks these jobs out of a batch. */
extern const struct kz__job_ops kz__event_append_ops;
extern const struct kz__job_ops kz__track_delete_ops;
/* tracks.c: apply a batch's events and deletions to the tracks table (or
 * to `latest`, flushed to it when due). */
int kz__tracks_after_writes(struct kz__db *db, struct kz__job *batch);
/* tracks.c: rebuild `latest` from the log after tracks_seq and write the
 * table up to date, in its own transaction (at open, and at close); KZ_OK or
 * KZ_ERR_DB. */
int kz__tracks_sync(struct kz__db *db);
/* tracks.c: a batch failed and was rolled back: `latest` may hold its events. */
void kz__tracks_rolled_back(struct kz__db *db);
/* latest.c: each uid's newest event not yet in the tracks table. */
void kz__latest_put(struct kz__db *db, const struct kz__rec *r); /* copies r */
/* Bytes held, and *count uids. */
size_t kz__latest_bytes(const struct kz__db *db, size_t *count);
/* Every rec held, in no order; valid until the next call here. */
const struct kz__rec **kz__latest_list(struct kz__db *db, size_t *n);
void kz__latest_clear(struct kz__db *db);
void kz__latest_free(struct kz__db *db);

struct kz__jobq {
    struct kz__job *head, **tail;
    size_t n;
};

#define KZ__DB_MAX_STMTS 96

/* pg.h: a PostgreSQL connection and its state. */
struct kz__pg;

/*
 * The connection and its cached statements; used under st->db_mu.  Either
 * SQLite (db) or PostgreSQL (pg, and db NULL): the generic parts hand a
 * PostgreSQL batch, read or retention run to pg*.c.
 */
struct kz__db {
    struct kz__pg *pg;
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt *page_count, *freelist_count;
    int64_t page_size;
    struct {
        const char *sql; /* compared by address: a table's static string */
        sqlite3_stmt *stmt;
    } cache[KZ__DB_MAX_STMTS];
    size_t n_cache;
    struct kz__job **scratch; /* after_writes hooks: reused between batches */
    size_t scratch_cap;
    struct kz__heads *heads; /* heads.c: NULL until first used */
    /* tracks.c, latest.c: events not yet in the tracks table, all after tracks_seq. */
    struct kz__latest *latest;
    uint64_t tracks_seq;       /* store_marks: the table holds every event up to it */
    uint64_t latest_seq;       /* the newest event put in `latest` */
    int64_t tracks_flushed_us; /* kz_mono_us() of the last flush */
    bool latest_lost;          /* a failed batch: rebuild `latest` from the log */
};

struct kz_store {
    uv_loop_t *loop;
    bool shared;      /* kz_store_opts.shared on PostgreSQL; set at open, read-only after */
    uv_async_t async; /* store thread -> loop: st->done has work */
    uv_thread_t thread;

    uv_mutex_t mu;          /* everything down to `stats` */
    uv_cond_t cond;         /* store thread sleeps here */
    struct kz__jobq writes; /* write jobs, in order */
    unsigned max_pending;   /* kz_store_busy() threshold */
    bool drain_armed;       /* kz_store_backlogged() said so: tell the loop when it drains */
    bool drain_due;         /* ... and now it has: deliver_done() calls drain_cb */
    void (*drain_cb)(void *ud);
    void *drain_ud;
    struct kz__jobq queries;
    struct kz__jobq done;
    bool stopping;
    unsigned urgent;        /* queued writes someone blocks on: commit now */
    int64_t inflight_since; /* queued_us of the oldest record being written, 0 = none */
    struct kz_store_stats stats;

    uv_mutex_t db_mu;
    struct kz__db db;

    /* audit.c: one kz_store_audit at a time (record, then head anchor). */
    uv_mutex_t audit_mu;
    char *audit_dir; /* audit.key and audit.head; NULL: no audit log */

    /* Store thread only. */
    int64_t max_delay_us;
    int64_t retention_us;
    int64_t retention_bytes;
    int64_t retention_last; /* kz_mono_us() of the last run */
    bool retention_more;    /* the last run stopped early */
};

/* queue.c */
void kz__jobq_init(struct kz__jobq *q);
void kz__jobq_push(struct kz__jobq *q, struct kz__job *job);
/* Detach up to `max` jobs from the head, as a NULL-terminated list. */
struct kz__job *kz__jobq_take(struct kz__jobq *q, size_t max);
/*
 * A zeroed job of `size` bytes (the table's struct, head first) plus
 * `extra` bytes for strings; never NULL.
 */
void *kz__job_new(const struct kz__job_ops *ops, size_t size, size_t extra);
void kz__job_free(struct kz__job *job);
/* Bytes kz__pack_str needs for `s` (0 for NULL). */
size_t kz__str_size(const char *s);
/* Copy s[0..len) and a NUL to *p and advance it; NULL stays NULL. */
const char *kz__pack(char **p, const char *s, size_t len);
const char *kz__pack_str(char **p, const char *s);

/* store.c: the loop-thread side. */
/* Queue a write (kz__job_ops.write) or read job; never blocks on the database. */
void kz__store_submit(struct kz_store *st, struct kz__job *job);
/* Answer a job without running it (bad arguments), from the loop, later. */
void kz__store_finish_early(struct kz_store *st, struct kz__job *job, int status);
/*
 * Queue the job, wait until it has run (for a write: committed) and return
 * its status; the caller still owns the job and frees it.  Any thread but
 * the store thread; a write is committed at once, not after max_delay.
 */
int kz__store_run_sync(struct kz_store *st, struct kz__job *job);

/*
 * audit.c: append an audit record as kz_store_audit does.  With `change`
 * set, the store thread first runs change(db, arg) in the same batch
 * transaction, under a savepoint with the record: both commit or neither.
 * `change` returns SQLITE_DONE or the failing statement's code; `arg`
 * must live until this returns (it blocks until the batch has run).
 * Returns what kz_store_audit does, and KZ_ERR_EXISTS when the schema
 * refused the change (a constraint: nothing written, audit.head untouched).
 */
typedef int (*kz__audit_change_fn)(struct kz__db *db, void *arg);
int kz__audit_append(struct kz_store *st, const struct kz_store_audit_rec *r,
                     kz__audit_change_fn change, void *arg);

/* audit.c: the store's audit state, from kz_store_open to destroy. */
void kz__audit_init(struct kz_store *st, const char *db_path);
void kz__audit_free(struct kz_store *st);

/* thread.c */
void kz__store_main(void *arg);

/*
 * sqlite.c: open (creating the file only when `create`), tune and migrate a
 * connection; every connection to the database comes through here.
 * KZ_OK, KZ_ERR_IO (cannot open the file) or KZ_ERR_DB.
 */
int kz__db_open(struct kz__db *db, const char *path, bool create);
/* Configure SQLite for the process, once; before every sqlite3_open_v2. */
void kz__sqlite_configure(void);
void kz__db_close(struct kz__db *db);
/*
 * The connection's prepared statement for `sql`, which must be a string
 * that lives as long as the process (a table's static SQL); prepared on
 * first use, reset after each kz__db_step.  NULL (logged) on error.
 */
sqlite3_stmt *kz__db_stmt(struct kz__db *db, const char *sql);
/*
 * Multi-row statements: KZ__ROWS_SQL(head, row, tail) is the array of 6
 * statements "head row tail", "head row,row tail", ... up to 32 rows, so a
 * run of n rows goes in as few statements as n's binary digits and SQLite
 * opens a table's cursors once per statement, not once per row.
 */
#define KZ__ROWS_2(r) r "," r
#define KZ__ROWS_4(r) KZ__ROWS_2(r) "," KZ__ROWS_2(r)
#define KZ__ROWS_8(r) KZ__ROWS_4(r) "," KZ__ROWS_4(r)
#define KZ__ROWS_16(r) KZ__ROWS_8(r) "," KZ__ROWS_8(r)
#define KZ__ROWS_32(r) KZ__ROWS_16(r) "," KZ__ROWS_16(r)
#define KZ__ROWS_SQL(head, row, tail)                                                              \
    {                                                                                              \
        head row tail, head KZ__ROWS_2(row) tail, head KZ__ROWS_4(row) tail,                       \
            head KZ__ROWS_8(row) tail, head KZ__ROWS_16(row) tail, head KZ__ROWS_32(row) tail      \
    }
#define KZ__ROWS_N 6
#define KZ__ROWS_MAX 32
/* The index in a KZ__ROWS_SQL array of the statement for n rows (a power of two). */
size_t kz__rows_index(size_t n);
/* Bind row i of `rows`, whose first parameter is base + 1. */
typedef void (*kz__bind_row_fn)(sqlite3_stmt *s, int base, const void *rows, size_t i);
/* Rows 0..n) through a KZ__ROWS_SQL array of `cols` parameters a row; an SQLite code. */
int kz__db_rows(struct kz__db *db, const char *const sql[KZ__ROWS_N], int cols, const void *rows,
                size_t n, kz__bind_row_fn bind);
/* sqlite3_step() then sqlite3_reset(); returns the step's code. */
int kz__db_step(sqlite3_stmt *s);
/* Bind a string, or NULL when v is NULL; the string must outlive the step. */
void kz__bind_text(sqlite3_stmt *s, int i, const char *v);
/* Log a failed call with the connection's message; returns KZ_ERR_DB. */
int kz__db_fail(struct kz__db *db, const char *what, int rc);
/* Bytes in pages that hold data (excludes the free list); -1 on error. */
int64_t kz__db_used_bytes(struct kz__db *db);
int64_t kz__db_file_bytes(struct kz__db *db);

/* batch.c: write one batch in one transaction; sets every job's status. */
int kz__db_write(struct kz__db *db, struct kz__job *batch);

/*
 * audit.c: the text of DATA/audit.head for a chain of `count` records
 * ending at record `id` whose hash column is `mac`, tagged with the
 * KZ__AUDIT_KEY_BYTES-byte `key`; its length (backup.c writes one for a copy).
 */
#define KZ__AUDIT_KEY_BYTES 32
#define KZ__AUDIT_HEAD_MAX 512
size_t kz__audit_head_text(const unsigned char *key, uint64_t count, int64_t id, const char *mac,
                           char buf[KZ__AUDIT_HEAD_MAX]);

/* migrate.c */
int kz__db_migrate(struct kz__db *db);
/* The schema version this build migrates to (its number of migrations). */
int64_t kz__db_schema_latest(void);

/* query.c: the events read behind kz_store_query. */
struct kz__query {
    struct kz_store_query q;   /* strings point into the job's data[] */
    struct kz_store_row *rows; /* filled on the store thread */
    size_t n_rows, cap_rows;
};
int kz__db_query(struct kz__db *db, struct kz__query *qq);
void kz__query_rows_free(struct kz__query *q);

/*
 * geo.c: each event's point, exact in events(lon_e7, lat_e7) (1e-7 degrees;
 * NULL: no position), and in events_geo, an R*Tree that finds candidates.
 * SQLite codes (SQLITE_DONE or the failing statement's) unless noted.
 */
/* Set r->has_point and the point from the event (no position: none). */
void kz__geo_point(const struct kz_event *ev, struct kz__rec *r);
/* Bind r's lon_e7 and lat_e7 (or NULLs) to parameters i and i + 1. */
void kz__geo_bind(sqlite3_stmt *s, int i, const struct kz__rec *r);
/* The points of recs[0..n) (those that have one; their seq set) to events_geo, one
 * entry per cell (at most GEO_GROUP_MAX members). */
int kz__geo_write(struct kz__db *db, const struct kz__rec *const *recs, size_t n);
/* Before a batch's COMMIT: its events' points to events_geo, grouped by cell. */
int kz__geo_after_writes(struct kz__db *db, struct kz__job *batch);
/* events.c: the hook of every job that touches the log: the points, then the tracks. */
int kz__events_after_writes(struct kz__db *db, struct kz__job *batch);
/* Migration 15: the points of every event already stored; KZ_OK or KZ_ERR_DB. */
int kz__geo_backfill(struct kz__db *db);
/* Is the point in columns col, col + 1 (lon_e7, lat_e7) of s's row inside box? */
bool kz__geo_row_in(sqlite3_stmt *s, int col, const struct kz_store_bbox *box);
/*
 * fn(ud, seq) for the events with lo <= seq <= hi whose point may be in
 * `box` (a superset: the caller tests the row with kz__geo_row_in), newest
 * first, until fn returns false.  The log is asked a stretch of seqs at a
 * time, the first sized for `want` rows, each next four times the last, so
 * a box that holds many events stops after a few hundred index entries and
 * one that holds few costs a handful of R*Tree searches.
 */
typedef bool (*kz__geo_seq_fn)(void *ud, uint64_t seq);
int kz__geo_each(struct kz__db *db, const struct kz_store_bbox *box, uint64_t lo, uint64_t hi,
                 unsigned want, kz__geo_seq_fn fn, void *ud);

/* retention.c: sets *more when it stopped before reaching its targets. */
void kz__db_retention(struct kz__db *db, int64_t retention_us, int64_t retention_bytes, bool *more);

/*
 * The PostgreSQL backend (pg*.c; pg.h has the rest): where the generic parts
 * hand over when db->pg is set, and the ops the tables' files name.
 */
/* pg.c: connect, set the session up and migrate; KZ_OK or KZ_ERR_DB (logged). */
int kz__pg_open(struct kz__db *db, const char *dsn, const char *node_id);
/* pg_shared.c: the database is shared by a cluster's instances: it numbers the events rows. */
int kz__pg_share(struct kz__db *db);
/* Is this connection to a database the instances of a cluster share? */
bool kz__pg_is_shared(const struct kz__db *db);
/* mission_outbox.c: a mission change's outbox row, in its transaction (w->outbox_stamp set). */
int kz__pg_outbox_put(struct kz__db *db, const struct kz_store_mission *w);
void kz__pg_close(struct kz__db *db);
/* pg.c: bytes the database takes (pg_database_size), measured at most once a second. */
int64_t kz__pg_db_bytes(struct kz__db *db);
/* pg_batch.c: one batch in one transaction (as kz__db_write); a read job (as ops->read). */
int kz__pg_write_batch(struct kz__db *db, struct kz__job *batch);
void kz__pg_read(struct kz__db *db, struct kz__job *job);
/* pg_events.c: pg_write_many, pg_write of events; pg_write of a job that writes nothing. */
int kz__pg_write_events(struct kz__db *db, struct kz__job **jobs, size_t n);
int kz__pg_write_event(struct kz__db *db, struct kz__job *job);
int kz__pg_write_nothing(struct kz__db *db, struct kz__job *job);
/* pg_tracks.c: kz_store_load. */
int kz__pg_load(struct kz__db *db, int64_t now_us, kz_store_track_fn fn, void *ud,
                uint64_t *max_seq);
/* pg_query.c: kz__db_query. */
int kz__pg_events_query(struct kz__db *db, struct kz__query *qq);
/* pg_tables.c: readiness.c, files.c and missions.c on PostgreSQL.  Writes return KZ_OK,
 * KZ_ERR_EXISTS (refused alone) or KZ_ERR_DB, as ops->pg_write. */
int kz__pg_readiness_write(struct kz__db *db, const struct kz_store_readiness *r);
int kz__pg_readiness_load(struct kz__db *db, kz_store_readiness_fn fn, void *ud);
int kz__pg_file_write(struct kz__db *db, const struct kz_store_file *f);
int kz__pg_files_load(struct kz__db *db, kz_store_file_fn fn, void *ud);
int kz__pg_mission_write(struct kz__db *db, const struct kz_store_mission *w);
int kz__pg_missions_load(struct kz__db *db, kz_store_mission_fn mission, kz_store_mission_fn change,
                         void *ud);
/* pg_fedlog.c: fedlog.c on PostgreSQL. */
int kz__pg_fed_sent_write(struct kz__db *db, const char *peer, const struct kz_store_sent *items,
                          size_t n, uint64_t cursor);
int kz__pg_fed_marks(struct kz__db *db, const char *peer, const char *input,
                     struct kz_store_fed_marks *m);
int kz__pg_outbox_bound(struct kz__db *db, struct kz_store_outbox_bound *b);
/* *rows (free each row's strings, then it) and *n on KZ_OK. */
int kz__pg_sent_query(struct kz__db *db, const struct kz_store_sent_query *q,
                      struct kz_store_sent_row **rows, size_t *n);
/* One audit record as stored (audit.c, pg_audit.c). */
struct kz__audit_row {
    int64_t id, time;
    const char *actor, *action, *object, *detail, *prev_hash, *hash;
};
/* pg_audit.c: audit.c's and plans.c's rows on PostgreSQL; KZ_OK, KZ_ERR_EXISTS (a write
 * refused) or KZ_ERR_DB.  last: *id untouched when the log is empty; hash_at: "" when none. */
int kz__pg_audit_last(struct kz__db *db, int64_t *id, char *hash, size_t len);
int kz__pg_audit_hash_at(struct kz__db *db, int64_t id, char *hash, size_t len);
int kz__pg_audit_count(struct kz__db *db, int64_t *count);
int kz__pg_audit_insert(struct kz__db *db, const struct kz__audit_row *a);
/* KZ_ERR_NOTFOUND when there is none; else *detail (free it). */
int kz__pg_audit_last_detail(struct kz__db *db, const char *action, const char *object,
                             char **detail);
/* fn for each record (of `object`, or every one when NULL), oldest first, until it says false. */
int kz__pg_audit_each(struct kz__db *db, const char *object,
                      bool (*fn)(void *ud, const struct kz__audit_row *r), void *ud);
int kz__pg_plan_insert(struct kz__db *db, const struct kz_store_plan *p);
int kz__pg_plans_load(struct kz__db *db, kz_store_plan_fn fn, void *ud);
/* pg_users.c: users.c on a PostgreSQL users connection (same contracts, errors in err). */
int kz__pg_user_put(struct kz__db *db, const struct kz_store_user *u, char *err, size_t errlen);
int kz__pg_user_get(struct kz__db *db, const char *user, kz_store_user_fn fn, void *ud, char *err,
                    size_t errlen);
int kz__pg_users_each(struct kz__db *db, kz_store_user_fn fn, void *ud, char *err, size_t errlen);
int kz__pg_user_del(struct kz__db *db, const char *user, char *err, size_t errlen);
int kz__pg_user_set_password(struct kz__db *db, const char *user, const char *hash, char *err,
                             size_t errlen);
int kz__pg_cert_add(struct kz__db *db, const char *user, const char *serial, int64_t not_after_us,
                    char *err, size_t errlen);
int kz__pg_certs_revoke(struct kz__db *db, const char *user, unsigned *n, char *err, size_t errlen);
int kz__pg_certs_each_revoked(struct kz__db *db, kz_store_revoked_fn fn, void *ud, char *err,
                              size_t errlen);
/* pg_retention.c: kz__db_retention. */
void kz__pg_retention(struct kz__db *db, int64_t retention_us, int64_t retention_bytes, bool *more);

#endif
