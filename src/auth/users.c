/*
 * users.c - the users and certs tables (SQLite, own connection) and
 * Argon2id password hashes (libsodium).
 *
 * The store's thread owns the event tables; this connection only touches
 * users/certs, so a busy timeout is enough to share the WAL database.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/auth.h"
#include "store/store.h"

#define BUSY_TIMEOUT_MS 5000

struct kz_userdb {
    sqlite3 *db;
};

static int db_fail(struct kz_userdb *db, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db->db));
    return KZ_ERR_DB;
}

int kz_userdb_open(const char *path, struct kz_userdb **out, char *err, size_t errlen)
{
    struct kz_userdb *db = kz_xcalloc(1, sizeof(*db));

    if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 db->db ? sqlite3_errmsg(db->db) : "out of memory");
        kz_userdb_close(db);
        return KZ_ERR_IO;
    }
    sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS);
    *out = db;
    return KZ_OK;
}

int kz_userdb_open_data(const char *data_dir, struct kz_userdb **out, char *err, size_t errlen)
{
    char path[4096];
    uv_loop_t loop;
    struct kz_store *st = NULL;
    int rc;

    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", data_dir, strerror(errno));
        return KZ_ERR_IO;
    }
    snprintf(path, sizeof(path), "%s/kizuna.db", data_dir);
    uv_loop_init(&loop);
    struct kz_store_opts so = {.path = path, .max_delay_ms = 50};
    /* The store's open/migrate chatter is noise for a CLI command. */
    enum kz_log_level saved = kz_log_min;
    kz_log_min = saved > KZ_LOG_WARN ? saved : KZ_LOG_WARN;
    rc = kz_store_open(&loop, &so, &st);
    if (rc == KZ_OK)
        kz_store_close(st);
    kz_log_min = saved;
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    if (rc != KZ_OK) {
        snprintf(err, errlen, "cannot open the database %s", path);
        return rc;
    }
    return kz_userdb_open(path, out, err, errlen);
}

void kz_userdb_close(struct kz_userdb *db)
{
    if (!db)
        return;
    sqlite3_close(db->db);
    free(db);
}

/* ---- string lists ------------------------------------------------------ */

static char *strv_join(char *const *v, unsigned n)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    kz_sbuf_adds(&sb, "");
    for (unsigned i = 0; i < n; i++)
        kz_sbuf_addf(&sb, "%s%s", i ? "," : "", v[i]);
    return kz_sbuf_detach(&sb, NULL);
}

void kz_user_clear(struct kz_user *u)
{
    struct kz_identity *id = &u->id;
    free(id->user);
    free(id->nation);
    free(id->clearance);
    free(id->command);
    kz_strv_free(id->groups_in, id->groups_in_count);
    kz_strv_free(id->groups_out, id->groups_out_count);
    kz_strv_free(id->roles, id->roles_count);
    free(u->password_hash);
    memset(u, 0, sizeof(*u));
}

/* ---- passwords --------------------------------------------------------- */

int kz_password_hash(const char *password, char *out, size_t outlen)
{
    if (outlen < crypto_pwhash_STRBYTES || sodium_init() < 0)
        return KZ_ERR_INVAL;
    if (crypto_pwhash_str_alg(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
        return KZ_ERR_NOMEM;
    return KZ_OK;
}

bool kz_password_verify(const char *hash, const char *password)
{
    if (!hash || !password || sodium_init() < 0)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* ---- rows -------------------------------------------------------------- */

static char *col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? kz_xstrdup((const char *)t) : NULL;
}

static void row_user(sqlite3_stmt *s, struct kz_user *u)
{
    char *gi = col_str(s, 3), *go = col_str(s, 4), *ro = col_str(s, 5);

    memset(u, 0, sizeof(*u));
    u->id.user = col_str(s, 0);
    u->id.nation = col_str(s, 1);
    u->id.clearance = col_str(s, 2);
    u->id.groups_in = kz_strv_split(gi, &u->id.groups_in_count);
    u->id.groups_out = kz_strv_split(go, &u->id.groups_out_count);
    u->id.roles = kz_strv_split(ro, &u->id.roles_count);
    u->id.command = col_str(s, 6);
    u->password_hash = col_str(s, 7);
    free(gi);
    free(go);
    free(ro);
}

#define USER_COLS "user, nation, clearance, groups_in, groups_out, roles, command, password_hash"

static int prepare(struct kz_userdb *db, const char *sql, sqlite3_stmt **s, char *err,
                   size_t errlen)
{
    if (sqlite3_prepare_v2(db->db, sql, -1, s, NULL) != SQLITE_OK)
        return db_fail(db, "prepare", err, errlen);
    return KZ_OK;
}

static int exec_done(struct kz_userdb *db, sqlite3_stmt *s, const char *what, char *err,
                     size_t errlen)
{
    int rc = sqlite3_step(s);
    int out = rc == SQLITE_DONE ? KZ_OK : db_fail(db, what, err, errlen);
    sqlite3_finalize(s);
    return out;
}

int kz_userdb_put(struct kz_userdb *db, const struct kz_identity *id, const char *password,
                  char *err, size_t errlen)
{
    char hash[crypto_pwhash_STRBYTES];
    char *gi = strv_join(id->groups_in, id->groups_in_count);
    char *go = strv_join(id->groups_out, id->groups_out_count);
    char *ro = strv_join(id->roles, id->roles_count);
    sqlite3_stmt *s = NULL;
    int64_t now = kz_now_us();
    int rc;

    if (password && kz_password_hash(password, hash, sizeof(hash)) != KZ_OK) {
        snprintf(err, errlen, "cannot hash the password");
        rc = KZ_ERR_NOMEM;
        goto out;
    }
    rc = prepare(db,
                 "INSERT INTO users (" USER_COLS ", created, updated)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
                 " ON CONFLICT(user) DO UPDATE SET nation = ?2, clearance = ?3, groups_in = ?4,"
                 " groups_out = ?5, roles = ?6, command = ?7,"
                 " password_hash = coalesce(?8, password_hash), updated = ?9",
                 &s, err, errlen);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, id->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, id->nation, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, id->clearance, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, gi, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, go, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, ro, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, id->command, -1, SQLITE_STATIC);
    if (password)
        sqlite3_bind_text(s, 8, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, now);
    rc = exec_done(db, s, "insert user", err, errlen);
out:
    free(gi);
    free(go);
    free(ro);
    return rc;
}

int kz_userdb_get(struct kz_userdb *db, const char *user, struct kz_user *out, char *err,
                  size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(db, "SELECT " USER_COLS " FROM users WHERE user = ?1", &s, err, errlen);

    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        row_user(s, out);
        rc = KZ_OK;
    } else if (step == SQLITE_DONE) {
        snprintf(err, errlen, "no user '%s'", user);
        rc = KZ_ERR_NOTFOUND;
    } else {
        rc = db_fail(db, "select user", err, errlen);
    }
    sqlite3_finalize(s);
    return rc;
}

static int changed_one(struct kz_userdb *db, const char *user, char *err, size_t errlen)
{
    if (sqlite3_changes(db->db) > 0)
        return KZ_OK;
    snprintf(err, errlen, "no user '%s'", user);
    return KZ_ERR_NOTFOUND;
}

int kz_userdb_del(struct kz_userdb *db, const char *user, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(db, "DELETE FROM users WHERE user = ?1", &s, err, errlen);

    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
    if ((rc = exec_done(db, s, "delete user", err, errlen)) != KZ_OK)
        return rc;
    return changed_one(db, user, err, errlen);
}

int kz_userdb_set_password(struct kz_userdb *db, const char *user, const char *password, char *err,
                           size_t errlen)
{
    char hash[crypto_pwhash_STRBYTES];
    sqlite3_stmt *s = NULL;
    int rc;

    if (kz_password_hash(password, hash, sizeof(hash)) != KZ_OK) {
        snprintf(err, errlen, "cannot hash the password");
        return KZ_ERR_NOMEM;
    }
    if ((rc = prepare(db, "UPDATE users SET password_hash = ?2, updated = ?3 WHERE user = ?1", &s,
                      err, errlen)) != KZ_OK)
        return rc;
    sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, kz_now_us());
    if ((rc = exec_done(db, s, "update password", err, errlen)) != KZ_OK)
        return rc;
    return changed_one(db, user, err, errlen);
}

int kz_userdb_each(struct kz_userdb *db, void (*fn)(void *ud, const struct kz_user *u), void *ud,
                   char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    struct kz_user u;
    int rc = prepare(db, "SELECT " USER_COLS " FROM users ORDER BY user", &s, err, errlen);

    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        row_user(s, &u);
        fn(ud, &u);
        kz_user_clear(&u);
    }
    rc = rc == SQLITE_DONE ? KZ_OK : db_fail(db, "select users", err, errlen);
    sqlite3_finalize(s);
    return rc;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];

static void make_dummy_hash(void)
{
    unsigned char secret[16];
    char text[33];

    randombytes_buf(secret, sizeof(secret));
    sodium_bin2hex(text, sizeof(text), secret, sizeof(secret));
    if (kz_password_hash(text, dummy_hash, sizeof(dummy_hash)) != KZ_OK)
        dummy_hash[0] = '\0';
}

int kz_userdb_check_password(struct kz_userdb *db, const char *user, const char *password)
{
    struct kz_user u = {0};
    char err[128];

    if (kz_userdb_get(db, user, &u, err, sizeof(err)) != KZ_OK || !u.password_hash) {
        /* Spend the same time as a real check, so the answer's timing does
         * not tell which user names exist. */
        pthread_once(&dummy_once, make_dummy_hash);
        kz_password_verify(dummy_hash, password);
        kz_user_clear(&u);
        return KZ_ERR_DENIED;
    }
    bool ok = kz_password_verify(u.password_hash, password);
    kz_user_clear(&u);
    return ok ? KZ_OK : KZ_ERR_DENIED;
}

/* ---- certificates ------------------------------------------------------ */

int kz_userdb_add_cert(struct kz_userdb *db, const char *user, const char *serial,
                       int64_t not_after_us, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(db, "INSERT INTO certs (serial, user, issued, not_after) VALUES (?1,?2,?3,?4)",
                     &s, err, errlen);

    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, kz_now_us());
    sqlite3_bind_int64(s, 4, not_after_us);
    return exec_done(db, s, "insert cert", err, errlen);
}

int kz_userdb_revoke_user(struct kz_userdb *db, const char *user, unsigned *n, char *err,
                          size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(db, "UPDATE certs SET revoked = ?2 WHERE user = ?1 AND revoked IS NULL", &s,
                     err, errlen);

    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, kz_now_us());
    if ((rc = exec_done(db, s, "revoke", err, errlen)) != KZ_OK)
        return rc;
    *n = (unsigned)sqlite3_changes(db->db);
    if (*n == 0) {
        snprintf(err, errlen, "user '%s' has no unrevoked certificate", user);
        return KZ_ERR_NOTFOUND;
    }
    return KZ_OK;
}

int kz_userdb_each_revoked(struct kz_userdb *db,
                           void (*fn)(void *ud, const char *serial, int64_t revoked_us), void *ud,
                           char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc =
        prepare(db, "SELECT serial, revoked FROM certs WHERE revoked IS NOT NULL", &s, err, errlen);

    if (rc)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1));
    rc = rc == SQLITE_DONE ? KZ_OK : db_fail(db, "select revoked", err, errlen);
    sqlite3_finalize(s);
    return rc;
}
