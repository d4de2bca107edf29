/*
 * internal.h - what the store's source files share.  Other folders include
 * store/store.h only.
 *
 * Threads: the loop thread builds jobs and pushes them under st->mu; the
 * store thread pops them, writes them with st->db_mu held, and pushes
 * finished jobs that carry a callback onto st->done for the loop thread.
 * A job belongs to exactly one list at a time, and whoever pops it last
 * frees it with kz__job_free().
 */
#ifndef KZ_STORE_INTERNAL_H
#define KZ_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

/* Retention runs at most this often (tests lower it before kz_store_open). */
extern int64_t kz__store_retention_every_us;

enum kz__job_kind { KZ__JOB_APPEND, KZ__JOB_DELETE, KZ__JOB_QUERY, KZ__JOB_READINESS };

/* One event to log; the strings point into the owning job's data[]. */
struct kz__rec {
    uint64_t seq; /* 0: let the database pick one */
    int64_t time, start, stale, recv_time;
    const char *uid, *type, *label, *origin_input, *origin_user, *xml;
    size_t xml_len;
};

struct kz__query {
    struct kz_store_query q;   /* strings point into the job's data[] */
    struct kz_store_row *rows; /* filled on the store thread */
    size_t n_rows, cap_rows;
};

struct kz__job {
    struct kz__job *next;
    enum kz__job_kind kind;
    int status;        /* written by the store thread */
    int64_t queued_us; /* kz_mono_us() when queued */
    size_t batch_pos;  /* store thread: position in its batch */
    void *ud;
    kz_store_ack_cb ack;    /* APPEND and READINESS, may be NULL */
    kz_store_query_cb done; /* QUERY */
    union {
        struct kz__rec rec; /* APPEND; DELETE uses rec.uid only */
        struct kz__query query;
        struct kz_store_readiness rd; /* READINESS; strings in data[] */
    } u;
    char data[];
};

struct kz__jobq {
    struct kz__job *head, **tail;
    size_t n;
};

/* The connection and its reusable statements; used under st->db_mu. */
struct kz__db {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt *ins_event, *up_track, *del_track;
    sqlite3_stmt *ins_readiness;
    sqlite3_stmt *page_count, *freelist_count;
    int64_t page_size;
    struct kz__job **scratch; /* batch.c: tracks work, reused between batches */
    size_t scratch_cap;
};

struct kz_store {
    uv_loop_t *loop;
    uv_async_t async; /* store thread -> loop: st->done has work */
    uv_thread_t thread;

    uv_mutex_t mu;          /* everything down to `stats` */
    uv_cond_t cond;         /* store thread sleeps here */
    struct kz__jobq writes; /* appends and deletes, in order */
    struct kz__jobq queries;
    struct kz__jobq done;
    bool stopping;
    int64_t inflight_since; /* queued_us of the oldest record being written, 0 = none */
    struct kz_store_stats stats;

    uv_mutex_t db_mu;
    struct kz__db db;

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
void kz__job_free(struct kz__job *job);
/* New jobs holding copies of their arguments (see kz_store_append & co). */
struct kz__job *kz__job_append(const struct kz_event *ev, const char *xml, size_t xml_len);
struct kz__job *kz__job_delete(const char *uid);
struct kz__job *kz__job_query(const struct kz_store_query *q);
struct kz__job *kz__job_readiness(const struct kz_store_readiness *r);

/* thread.c */
void kz__store_main(void *arg);

/* sqlite.c: KZ_OK, KZ_ERR_IO (cannot open the file) or KZ_ERR_DB. */
int kz__db_open(struct kz__db *db, const char *path);
void kz__db_close(struct kz__db *db);
/* sqlite3_step() then sqlite3_reset(); returns the step's code. */
int kz__db_step(sqlite3_stmt *s);

/* batch.c: write one batch in one transaction; sets every job's status. */
int kz__db_write(struct kz__db *db, struct kz__job *batch);
/* Bytes in pages that hold data (excludes the free list); -1 on error. */
int64_t kz__db_used_bytes(struct kz__db *db);
int64_t kz__db_file_bytes(struct kz__db *db);
int kz__db_load(struct kz__db *db, int64_t now_us, kz_store_track_fn fn, void *ud,
                uint64_t *max_seq);
/* Log a failed call with the connection's message; returns KZ_ERR_DB. */
int kz__db_fail(struct kz__db *db, const char *what, int rc);

/* readiness.c: sqlite3_step()'s code for the insert; the load behind kz_store_readiness_load. */
extern const char kz__sql_ins_readiness[];
int kz__db_insert_readiness(struct kz__db *db, const struct kz_store_readiness *r);
int kz__db_load_readiness(struct kz__db *db, kz_store_readiness_fn fn, void *ud);

/* migrate.c */
int kz__db_migrate(struct kz__db *db);

/* query.c: runs on the store thread, fills job->u.query and job->status. */
void kz__db_query(struct kz__db *db, struct kz__job *job);
void kz__query_rows_free(struct kz__query *q);

/* retention.c: sets *more when it stopped before reaching its targets. */
void kz__db_retention(struct kz__db *db, int64_t retention_us, int64_t retention_bytes, bool *more);

#endif
