/*
 * sqlite.c - the SQLite connection: open and tune it, cache the tables'
 * statements, measure it.  The write path is in batch.c, the SQL of each
 * table in that table's file.
 *
 * A connection is used by one thread at a time: the store's under st->db_mu
 * (store thread, or the caller of kz_store_load & co), a users connection
 * (users.c) by its opener.  So it is opened without SQLite's own mutex.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

/* Long enough to ride out another process (kizuna cert issue, backups). */
#define BUSY_TIMEOUT_MS 5000

/*
 * A statement journal (what undoes a failing multi-row statement: the
 * tracks upserts, tracks.c) stays in memory up to this size, not in a
 * temporary file (SQLite's default spills past 64 KiB).
 */
#define STMT_JOURNAL_SPILL (4 << 20)

/* SQLite's configuration is per process, set once before its first use. */
static uv_once_t configured = UV_ONCE_INIT;

/*
 * No memory statistics: nothing reads them, and keeping them takes a
 * global mutex around every allocation.  Fails harmlessly (SQLITE_MISUSE)
 * when something outside the store initialised SQLite first.
 */
static void configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_JOURNAL_SPILL);
}

void kz__sqlite_configure(void)
{
    uv_once(&configured, configure);
}

int kz__db_fail(struct kz__db *db, const char *what, int rc)
{
    char msg[512];
    const char *m = db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc);

    kz_log(KZ_LOG_ERROR, "store: sqlite failed", "call=%s rc=%d err=%s", what, rc,
           kz_log_quote(msg, sizeof(msg), m, strlen(m)));
    return KZ_ERR_DB;
}

/* Errors that mean "the file or the disk", not "the database". */
static bool is_io_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_FULL:
        return true;
    default:
        return false;
    }
}

int kz__db_step(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc;
}

size_t kz__rows_index(size_t n)
{
    size_t i = 0;

    while (((size_t)1 << i) < n)
        i++;
    KZ_ASSERT(i < KZ__ROWS_N);
    return i;
}

int kz__db_rows(struct kz__db *db, const char *const sql[KZ__ROWS_N], int cols, const void *rows,
                size_t n, kz__bind_row_fn bind)
{
    size_t c = KZ__ROWS_MAX, first = 0;
    sqlite3_stmt *s;
    int rc;

    for (; first < n; first += c) {
        while (c > n - first)
            c /= 2;
        if (!(s = kz__db_stmt(db, sql[kz__rows_index(c)])))
            return SQLITE_ERROR;
        for (size_t i = 0; i < c; i++)
            bind(s, (int)i * cols, rows, first + i);
        if ((rc = kz__db_step(s)) != SQLITE_DONE)
            return rc;
    }
    return SQLITE_DONE;
}

static int exec(struct kz__db *db, const char *sql)
{
    int rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? KZ_OK : kz__db_fail(db, sql, rc);
}

static int pragma_int(struct kz__db *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? KZ_OK : kz__db_fail(db, sql, rc);
}

/*
 * WAL lets readers (kz_store_load, queries, backups) run beside the writer
 * and makes a commit one sequential append.  synchronous=FULL fsyncs the WAL
 * at every commit: with NORMAL a commit survives kill -9 (it is in the page
 * cache) but not a power cut, and we acknowledge an event only once it
 * would survive both.  Batching is what keeps that fsync affordable.
 */
static int tune(struct kz__db *db)
{
    sqlite3_stmt *s = NULL;
    const char *mode = NULL;
    int rc, err = KZ_ERR_DB;

    sqlite3_extended_result_codes(db->db, 1);
    sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS);
    rc = sqlite3_prepare_v2(db->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(s, 0);
    if (!mode) {
        err = kz__db_fail(db, "PRAGMA journal_mode=WAL", rc);
        goto out;
    }
    /* An in-memory database (tests) has no WAL; anything else must. */
    if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
        kz_log(KZ_LOG_ERROR, "store: cannot enable WAL", "journal_mode=%s", mode);
        goto out;
    }
    if (exec(db, "PRAGMA synchronous=FULL") != KZ_OK)
        goto out;
    /* The uid and type indexes take random inserts; keep their pages hot. */
    if (exec(db, "PRAGMA cache_size=-16384") != KZ_OK)
        goto out;
    /*
     * Checkpoint every 10 000 pages (~40 MiB of WAL), not SQLite's 1 000:
     * the latest-state pages a batch rewrites are copied into the database
     * once per checkpoint, so fewer checkpoints copy a third fewer pages and
     * fsync less.  A commit is durable in the WAL either way.
     */
    if (exec(db, "PRAGMA wal_autocheckpoint=10000") != KZ_OK)
        goto out;
    /* Truncate the WAL to 64 MiB after a checkpoint so a burst does not pin disk. */
    if (exec(db, "PRAGMA journal_size_limit=67108864") != KZ_OK)
        goto out;
    err = pragma_int(db, "PRAGMA page_size", &db->page_size);
out:
    sqlite3_finalize(s);
    return err;
}

static int prepare(struct kz__db *db, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    return rc == SQLITE_OK ? KZ_OK : kz__db_fail(db, sql, rc);
}

static int prepare_all(struct kz__db *db)
{
    if (prepare(db, "BEGIN IMMEDIATE", &db->begin) != KZ_OK ||
        prepare(db, "COMMIT", &db->commit) != KZ_OK ||
        prepare(db, "ROLLBACK", &db->rollback) != KZ_OK ||
        prepare(db, "PRAGMA page_count", &db->page_count) != KZ_OK ||
        prepare(db, "PRAGMA freelist_count", &db->freelist_count) != KZ_OK)
        return KZ_ERR_DB;
    return KZ_OK;
}

sqlite3_stmt *kz__db_stmt(struct kz__db *db, const char *sql)
{
    sqlite3_stmt *s = NULL;

    for (size_t i = 0; i < db->n_cache; i++)
        if (db->cache[i].sql == sql)
            return db->cache[i].stmt;
    KZ_ASSERT(db->n_cache < KZ__DB_MAX_STMTS);
    if (prepare(db, sql, &s) != KZ_OK)
        return NULL;
    db->cache[db->n_cache].sql = sql;
    db->cache[db->n_cache++].stmt = s;
    return s;
}

void kz__bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

int kz__db_open(struct kz__db *db, const char *path, bool create)
{
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc, err;

    memset(db, 0, sizeof(*db));
    kz__sqlite_configure();
    rc = sqlite3_open_v2(path, &db->db, flags, NULL);
    if (rc != SQLITE_OK) {
        err = kz__db_fail(db, "sqlite3_open_v2()", rc);
        goto fail;
    }
    if ((err = tune(db)) != KZ_OK || (err = kz__db_migrate(db)) != KZ_OK ||
        (err = prepare_all(db)) != KZ_OK) {
        rc = sqlite3_extended_errcode(db->db);
        goto fail;
    }
    return KZ_OK;
fail:
    kz_log(KZ_LOG_ERROR, "store: cannot open database", "path=%s", path);
    kz__db_close(db);
    return is_io_error(rc) ? KZ_ERR_IO : err;
}

void kz__db_close(struct kz__db *db)
{
    sqlite3_stmt **stmts[] = {&db->begin, &db->commit, &db->rollback, &db->page_count,
                              &db->freelist_count};

    KZ_FREE(db->scratch);
    db->scratch_cap = 0;
    kz__heads_forget(db);
    kz__latest_free(db);
    for (size_t i = 0; i < KZ_ARRAY_LEN(stmts); i++) {
        sqlite3_finalize(*stmts[i]);
        *stmts[i] = NULL;
    }
    for (size_t i = 0; i < db->n_cache; i++)
        sqlite3_finalize(db->cache[i].stmt);
    db->n_cache = 0;
    if (db->db && sqlite3_close(db->db) != SQLITE_OK)
        kz__db_fail(db, "sqlite3_close()", sqlite3_errcode(db->db));
    db->db = NULL;
}

static int64_t pragma_step(sqlite3_stmt *s)
{
    int64_t v = -1;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return v;
}

int64_t kz__db_file_bytes(struct kz__db *db)
{
    if (db->pg)
        return kz__pg_db_bytes(db);
    int64_t pages = pragma_step(db->page_count);
    return pages < 0 ? -1 : pages * db->page_size;
}

int64_t kz__db_used_bytes(struct kz__db *db)
{
    int64_t pages = pragma_step(db->page_count);
    int64_t free_pages = pragma_step(db->freelist_count);

    if (pages < 0 || free_pages < 0)
        return -1;
    return (pages - free_pages) * db->page_size;
}

const char *kz_store_sqlite_version(void)
{
    return sqlite3_libversion();
}
