/*
 * pg.h - the PostgreSQL backend, shared by the store's pg*.c files.
 *
 * The same store behind the same interface (store.h): one libpq connection
 * owned by the store thread (and borrowed under st->db_mu by the startup
 * loads, as for SQLite), one transaction per batch, acknowledgement after
 * COMMIT with synchronous_commit on, numbered migrations in schema_version.
 * The generic parts (queue.c, thread.c, batch.c, store.c) hand a batch, a
 * read and a retention run to the functions below when db->pg is set; each
 * table's job ops carry their PostgreSQL functions (pg_write, pg_read).
 *
 * Parameters go as text (libpq's text format); integers are formatted with
 * kz__pg_i64 into buffers the caller keeps until the call returns.
 */
#ifndef KZ_STORE_PG_H
#define KZ_STORE_PG_H

#include <libpq-fe.h>

#include "store/internal.h"

/* The longest decimal int64 or double kz__pg_i64/kz__pg_f64 writes, with its NUL. */
#define KZ__PG_NUM 32

/* The key of events' (lon, lat, seq) index, events_pos_seq (migration 3; pg_query.c): a
 * statement must spell it exactly so for the planner to use the index.  Never change it. */
#define KZ__PG_EVENTS_XYS                                                                          \
    "ST_MakePoint(ST_X(pos::geometry), ST_Y(pos::geometry), seq::float8 * 0.000001::float8)"

struct kz__pg {
    PGconn *conn;
    char *where;   /* "host=... port=... dbname=... user=...": for log lines, no password */
    char *node_id; /* origin_node of the rows written here */
    bool shared;   /* several instances write (pg_shared.c): the database numbers events */
    /* kz__pg_rows_exec: the multi-row statements prepared on this session, a bit per size,
     * by statement id: 0 events, 1 tracks, 2 fed_sent, 3.. the copy's tables. */
    unsigned prepared_rows[16];
    int64_t bytes; /* pg_database_size() at bytes_us */
    int64_t bytes_us;
};

/* "host=h port=p dbname=d user=u": what of a DSN may be logged (allocated). */
char *kz__pg_describe(const char *dsn);

/* The channel the users table's trigger notifies on every write (migration 5 names it). */
#define KZ__PG_USERS_CHANNEL "kizuna_users"

/* The connection is gone: try once to connect again (before a batch). */
void kz__pg_revive(struct kz__pg *pg);

/* Log a failed call (its SQLSTATE and message) and return KZ_ERR_DB; r may be NULL. */
int kz__pg_fail(struct kz__pg *pg, const char *what, const PGresult *r);
/* Did r fail with an integrity constraint (SQLSTATE class 23: unique, check, not null)? */
bool kz__pg_refused(const PGresult *r);
/* Run sql with n text parameters for a write: KZ_OK, KZ_ERR_EXISTS (a constraint refused it)
 * or KZ_ERR_DB; a failure is logged naming `what`. */
int kz__pg_run(struct kz__pg *pg, const char *what, const char *sql, int n,
               const char *const *values);
/* Run sql without parameters; KZ_OK or KZ_ERR_DB (logged). */
int kz__pg_exec(struct kz__pg *pg, const char *sql);
/* sql with n text parameters (NULL: SQL NULL); the result, which the caller PQclear()s.
 * NULL only when libpq could not allocate one. */
PGresult *kz__pg_query(struct kz__pg *pg, const char *sql, int n, const char *const *values);
/* Did r succeed (a command, or rows)? */
bool kz__pg_ok(const PGresult *r);
/* The same as kz__pg_query for a statement prepared under `name`. */
PGresult *kz__pg_prepared(struct kz__pg *pg, const char *name, int n, const char *const *values);

/*
 * A multi-row statement "head row,row,... tail" whose row has parameters
 * $1..$cols, prepared once per size (a power of two up to KZ__PG_ROWS_MAX)
 * under name_<n>; id (< 16) tells statements apart in pg->prepared_rows.
 */
#define KZ__PG_ROWS_MAX 128
struct kz__pg_rows {
    const char *name, *head, *row, *tail;
    int cols;
    unsigned id;
};
/* n rows (a power of two); values holds n * cols parameters.  The result, as kz__pg_query. */
PGresult *kz__pg_rows_exec(struct kz__pg *pg, const struct kz__pg_rows *s, size_t n,
                           const char *const *values);
/* The largest power of two <= n, at most KZ__PG_ROWS_MAX. */
size_t kz__pg_chunk(size_t n);

const char *kz__pg_i64(char buf[KZ__PG_NUM], int64_t v);
const char *kz__pg_f64(char buf[KZ__PG_NUM], double v);
/* Column c of row i as an integer (0 when NULL), or as text (NULL when NULL). */
int64_t kz__pg_int(const PGresult *r, int i, int c);
const char *kz__pg_text(const PGresult *r, int i, int c);

/* pg_migrate.c: bring the schema to the newest version, each step in its own transaction. */
int kz__pg_migrate(struct kz__pg *pg);
int64_t kz__pg_schema_latest(void);

/* pg_tables.c: the files columns a row is read from, and row i of such a result (its
 * strings point into r). */
#define KZ__PG_FILE_COLS                                                                           \
    "uid, hash, name, mime, size, time, submitter, creator_uid, keywords, label, originator,"      \
    " groups_out, tool"
void kz__pg_file_row(const PGresult *r, int i, struct kz_store_file *f);
/* pg_files.c: a file's bytes.  put: from the file at path, unless part 0 of hash is stored
 * (KZ_OK, KZ_ERR_EXISTS when they cannot be read or are not the row's size and hash, or
 * KZ_ERR_DB); get: to path through tmp (KZ_OK, KZ_ERR_NOTFOUND, KZ_ERR_INVAL, KZ_ERR_IO,
 * KZ_ERR_DB). */
int kz__pg_file_content_put(struct kz__pg *pg, const char *hash, uint64_t size, const char *path);
int kz__pg_file_content_get(struct kz__pg *pg, const char *hash, const char *tmp, const char *path);

/* pg_tracks.c: after a batch's writes: its events and deletions to the tracks table, in queue
 * order. */
int kz__pg_tracks_apply(struct kz__db *db, struct kz__job *batch);
/* A shared database: a batch writing events takes the lock that orders their seqs (pg_shared.c). */
int kz__pg_seq_lock(struct kz__db *db, const struct kz__job *batch);

#endif
