/*
 * backup.c - copy a store file while the server writes it (SQLite's online
 * backup API) and check a copy before it is restored.  Each call opens its
 * own connections and closes them before returning; nothing here touches a
 * running store's connection, so a backup is one more reader of the WAL.
 * A copy gets its own audit head anchor (audit.c), made for the chain it holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"

/* Pages per sqlite3_backup_step(): 16 MiB at the default 4 KiB page. */
#define STEP_PAGES 4096
/* A step that finds a lock waits and tries again, for 5 s in all. */
#define BUSY_SLEEP_MS 20
#define MAX_BUSY 250

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

static int open_db(const char *path, int flags, sqlite3 **db, char *err, size_t errlen)
{
    int rc;

    kz__sqlite_configure();
    rc = sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(*db, 1);
        sqlite3_busy_timeout(*db, 5000);
        return KZ_OK;
    }
    fail(err, errlen, KZ_ERR_IO, "cannot open %s: %s", path,
         *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
    sqlite3_close(*db);
    *db = NULL;
    return KZ_ERR_IO;
}

/*
 * One read transaction around every step: in WAL mode it pins a snapshot,
 * so the server's commits during the copy neither restart the backup nor
 * end up half in it.  The server is never blocked: WAL readers do not
 * stop writers (a checkpoint just cannot pass the snapshot until we end).
 */
static int copy_pages(sqlite3 *src, sqlite3 *dst, kz_store_progress_fn progress, void *ud,
                      char *err, size_t errlen)
{
    sqlite3_backup *b;
    int rc = sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return fail(err, errlen, KZ_ERR_DB, "cannot read the store: %s", sqlite3_errmsg(src));
    b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
        return fail(err, errlen, KZ_ERR_DB, "cannot start the copy: %s", sqlite3_errmsg(dst));
    }
    for (int busy = 0; rc != SQLITE_DONE;) {
        rc = sqlite3_backup_step(b, STEP_PAGES);
        if (((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) && ++busy < MAX_BUSY) {
            sqlite3_sleep(BUSY_SLEEP_MS);
            continue;
        }
        if (rc != SQLITE_OK && rc != SQLITE_DONE)
            break;
        if (progress)
            progress(ud, sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b),
                     sqlite3_backup_pagecount(b));
    }
    sqlite3_backup_finish(b);
    sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_DONE)
        return fail(err, errlen, KZ_ERR_DB, "copy failed: %s", sqlite3_errstr(rc));
    return KZ_OK;
}

/* A rename is durable once its directory is (core/fs.c says why). */
static void sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    int fd;

    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Make `tmp` the file `to`; a stale WAL of an older `to` must never meet it. */
static int put_in_place(const char *tmp, const char *to, char *err, size_t errlen)
{
    const char *suffixes[] = {"-wal", "-shm", "-journal"};
    char side[4096 + 16];

    for (size_t i = 0; i < KZ_ARRAY_LEN(suffixes); i++) {
        snprintf(side, sizeof(side), "%s%s", to, suffixes[i]);
        if (unlink(side) != 0 && errno != ENOENT)
            return fail(err, errlen, KZ_ERR_IO, "cannot remove %s: %s", side, strerror(errno));
    }
    /* The copy holds the users' password hashes: owner only, whatever the umask. */
    if (chmod(tmp, 0600) != 0 || rename(tmp, to) != 0)
        return fail(err, errlen, KZ_ERR_IO, "cannot put %s in place of %s: %s", tmp, to,
                    strerror(errno));
    sync_parent(to);
    return KZ_OK;
}

/*
 * The copy leaves WAL mode for a rollback journal so that it is one
 * self-contained file (a WAL-mode file opens read-only only beside its
 * -shm); the server turns WAL back on when it opens the restored file.
 */
static int copy_into(sqlite3 *src, const char *tmp, kz_store_progress_fn progress, void *ud,
                     char *err, size_t errlen)
{
    sqlite3 *dst = NULL;
    int rc;

    unlink(tmp);
    if ((rc = open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst, err, errlen)))
        return rc;
    rc = copy_pages(src, dst, progress, ud, err, errlen);
    if (rc == KZ_OK &&
        sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
        rc = fail(err, errlen, KZ_ERR_DB, "cannot finish %s: %s", tmp, sqlite3_errmsg(dst));
    if (sqlite3_close(dst) != SQLITE_OK && rc == KZ_OK)
        rc = fail(err, errlen, KZ_ERR_IO, "cannot close %s", tmp);
    return rc;
}

int kz_store_backup(const char *from, const char *to, kz_store_progress_fn progress, void *ud,
                    char *err, size_t errlen)
{
    char tmp[4096];
    sqlite3 *src = NULL;
    int rc;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", to) >= sizeof(tmp))
        return fail(err, errlen, KZ_ERR_TOOBIG, "the path %s is too long", to);
    if (access(from, F_OK) != 0)
        return fail(err, errlen, KZ_ERR_NOTFOUND, "no store at %s: %s", from, strerror(errno));
    /* Read-write without CREATE: a read-only connection could not recover a WAL. */
    if ((rc = open_db(from, SQLITE_OPEN_READWRITE, &src, err, errlen)))
        return rc;
    rc = copy_into(src, tmp, progress, ud, err, errlen);
    sqlite3_close(src);
    if (rc == KZ_OK)
        rc = put_in_place(tmp, to, err, errlen);
    if (rc != KZ_OK)
        unlink(tmp);
    return rc;
}

/* 1 with the key, 0 when there is none, or KZ_ERR_IO with err set. */
static int read_key(const char *path, unsigned char key[KZ__AUDIT_KEY_BYTES], char *err,
                    size_t errlen)
{
    unsigned char buf[KZ__AUDIT_KEY_BYTES + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return fail(err, errlen, KZ_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n != KZ__AUDIT_KEY_BYTES)
        return fail(err, errlen, KZ_ERR_IO, "%s is not an audit key", path);
    memcpy(key, buf, KZ__AUDIT_KEY_BYTES);
    return 1;
}

/* The chain's end in the copy: count, last id and its hash; count 0 when empty. */
static int chain_end(sqlite3 *db, uint64_t *count, int64_t *id, char *mac, size_t len)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT (SELECT count(*) FROM audit), id, hash FROM audit"
                                " ORDER BY id DESC LIMIT 1",
                                -1, &s, NULL);

    *count = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        *count = (uint64_t)sqlite3_column_int64(s, 0);
        *id = sqlite3_column_int64(s, 1);
        snprintf(mac, len, "%s", (const char *)sqlite3_column_text(s, 2));
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KZ_OK : KZ_ERR_DB;
}

int kz_store_backup_anchor(const char *copy, const char *key_path, const char *head_path, char *err,
                           size_t errlen)
{
    unsigned char key[KZ__AUDIT_KEY_BYTES];
    char mac[256], head[KZ__AUDIT_HEAD_MAX];
    sqlite3 *db = NULL;
    uint64_t count = 0;
    int64_t id = 0;
    int rc = read_key(key_path, key, err, errlen);

    if (rc <= 0)
        return rc;
    if ((rc = open_db(copy, SQLITE_OPEN_READONLY, &db, err, errlen)) == KZ_OK &&
        chain_end(db, &count, &id, mac, sizeof(mac)) != KZ_OK)
        rc = fail(err, errlen, KZ_ERR_DB, "cannot read the audit log of %s: %s", copy,
                  sqlite3_errmsg(db));
    sqlite3_close(db);
    if (rc == KZ_OK && count > 0)
        rc = kz_write_file(head_path, head, kz__audit_head_text(key, count, id, mac, head), 0600,
                           err, errlen);
    sodium_memzero(key, sizeof(key));
    return rc;
}

/* The first row of `sql` as text into buf; SQLITE_ROW or the failing code. */
static int first_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return rc;
}

static int check_open(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    char v[256];
    long long version;
    const long long latest = (long long)kz__db_schema_latest();

    if (first_text(db, "PRAGMA integrity_check", v, sizeof(v)) != SQLITE_ROW)
        return fail(err, errlen, KZ_ERR_DB, "%s is not a kizuna store: %s", path,
                    sqlite3_errmsg(db));
    if (strcmp(v, "ok") != 0)
        return fail(err, errlen, KZ_ERR_DB, "%s fails the integrity check: %s", path, v);
    if (first_text(db, "PRAGMA user_version", v, sizeof(v)) != SQLITE_ROW)
        return fail(err, errlen, KZ_ERR_DB, "%s: %s", path, sqlite3_errmsg(db));
    version = strtoll(v, NULL, 10);
    if (version < 1 || first_text(db, "SELECT 1 FROM events LIMIT 0", v, sizeof(v)) != SQLITE_DONE)
        return fail(err, errlen, KZ_ERR_DB, "%s is not a kizuna store (no schema)", path);
    if (version > latest)
        return fail(err, errlen, KZ_ERR_DB,
                    "%s has schema version %lld, newer than this kizuna's %lld: restore it "
                    "with a kizuna at least as new as the one that wrote it",
                    path, version, latest);
    return KZ_OK;
}

int kz_store_check(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc;

    if (access(path, R_OK) != 0)
        return fail(err, errlen, KZ_ERR_NOTFOUND, "cannot read %s: %s", path, strerror(errno));
    if ((rc = open_db(path, SQLITE_OPEN_READONLY, &db, err, errlen)))
        return rc;
    rc = check_open(db, path, err, errlen);
    sqlite3_close(db);
    return rc;
}
