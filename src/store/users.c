/*
 * users.c - the users and certs tables: identities for certificate CNs and
 * enrollment logins, and the certificates issued to them (revocation feeds
 * the CRL).
 *
 * These calls are synchronous on a connection of their own, opened through
 * the same path as the store's (same pragmas, same migrations): the CLI and
 * the server's worker threads (users reload, enrollment) use them, the loop
 * thread never.  The store thread never touches these tables, so the WAL
 * and a busy timeout are all the two connections need to share the file.
 * Errors are not logged: the caller gets them in `err`.  A path "postgres:DSN"
 * (KZ_STORE_PG_LOCATOR) opens a PostgreSQL connection instead (pg_users.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

struct kz_store_users {
    struct kz__db db;
};

#define USER_COLS "user, nation, clearance, groups_in, groups_out, roles, command, password_hash"

static const char sql_put[] =
    "INSERT INTO users (" USER_COLS ", created, updated)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
    " ON CONFLICT(user) DO UPDATE SET nation = ?2, clearance = ?3, groups_in = ?4,"
    " groups_out = ?5, roles = ?6, command = ?7,"
    " password_hash = coalesce(?8, password_hash), updated = ?9";
static const char sql_get[] = "SELECT " USER_COLS " FROM users WHERE user = ?1";
static const char sql_all[] = "SELECT " USER_COLS " FROM users ORDER BY user";
static const char sql_del[] = "DELETE FROM users WHERE user = ?1";
static const char sql_passwd[] =
    "UPDATE users SET password_hash = ?2, updated = ?3 WHERE user = ?1";
static const char sql_cert[] =
    "INSERT INTO certs (serial, user, issued, not_after) VALUES (?1, ?2, ?3, ?4)";
static const char sql_revoke[] =
    "UPDATE certs SET revoked = ?2 WHERE user = ?1 AND revoked IS NULL";
static const char sql_revoked[] = "SELECT serial, revoked FROM certs WHERE revoked IS NOT NULL";

int kz_store_users_open(const char *path, bool create, struct kz_store_users **out, char *err,
                        size_t errlen)
{
    struct kz_store_users *u = kz_xcalloc(1, sizeof(*u));
    const char *dsn = kz_store_pg_dsn(path);
    int rc = dsn ? kz__pg_open(&u->db, dsn, NULL) : kz__db_open(&u->db, path, create);

    *out = NULL;
    if (rc != KZ_OK) {
        /* A DSN may hold a password: the log names the server without it. */
        snprintf(err, errlen, "cannot open the database %s", dsn ? "on postgres" : path);
        free(u);
        return rc;
    }
    *out = u;
    return KZ_OK;
}

void kz_store_users_close(struct kz_store_users *u)
{
    if (!u)
        return;
    if (u->db.pg)
        kz__pg_close(&u->db);
    else
        kz__db_close(&u->db);
    free(u);
}

/* The cached statement for `sql`, or NULL with `err` set. */
static sqlite3_stmt *stmt(struct kz_store_users *u, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *s = kz__db_stmt(&u->db, sql);

    if (!s)
        snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(u->db.db));
    return s;
}

/* Step a statement that returns no rows; KZ_OK or KZ_ERR_DB with `err`. */
static int run(struct kz_store_users *u, sqlite3_stmt *s, const char *what, char *err,
               size_t errlen)
{
    if (kz__db_step(s) == SQLITE_DONE)
        return KZ_OK;
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(u->db.db));
    return KZ_ERR_DB;
}

static int changed_one(struct kz_store_users *u, const char *user, char *err, size_t errlen)
{
    if (sqlite3_changes(u->db.db) > 0)
        return KZ_OK;
    snprintf(err, errlen, "no user '%s'", user);
    return KZ_ERR_NOTFOUND;
}

static const char *col(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

/* Strings valid until the statement steps again. */
static void row_user(sqlite3_stmt *s, struct kz_store_user *r)
{
    r->user = col(s, 0);
    r->nation = col(s, 1);
    r->clearance = col(s, 2);
    r->groups_in = col(s, 3);
    r->groups_out = col(s, 4);
    r->roles = col(s, 5);
    r->command = col(s, 6);
    r->password_hash = col(s, 7);
}

int kz_store_user_put(struct kz_store_users *u, const struct kz_store_user *r, char *err,
                      size_t errlen)
{
    sqlite3_stmt *s;

    if (u->db.pg)
        return kz__pg_user_put(&u->db, r, err, errlen);
    if (!(s = stmt(u, sql_put, err, errlen)))
        return KZ_ERR_DB;
    kz__bind_text(s, 1, r->user);
    kz__bind_text(s, 2, r->nation);
    kz__bind_text(s, 3, r->clearance);
    kz__bind_text(s, 4, r->groups_in ? r->groups_in : "");
    kz__bind_text(s, 5, r->groups_out ? r->groups_out : "");
    kz__bind_text(s, 6, r->roles ? r->roles : "");
    kz__bind_text(s, 7, r->command);
    kz__bind_text(s, 8, r->password_hash);
    sqlite3_bind_int64(s, 9, kz_now_us());
    return run(u, s, "insert user", err, errlen);
}

/* Call fn for each row of `s` (bound); the statement is reset afterwards. */
static int each_user(struct kz_store_users *u, sqlite3_stmt *s, kz_store_user_fn fn, void *ud,
                     size_t *n, char *err, size_t errlen)
{
    struct kz_store_user r;
    int rc;

    *n = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        row_user(s, &r);
        fn(ud, &r);
        (*n)++;
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return KZ_OK;
    snprintf(err, errlen, "select users: %s", sqlite3_errmsg(u->db.db));
    return KZ_ERR_DB;
}

int kz_store_user_get(struct kz_store_users *u, const char *user, kz_store_user_fn fn, void *ud,
                      char *err, size_t errlen)
{
    sqlite3_stmt *s;
    size_t n = 0;
    int rc;

    if (u->db.pg)
        return kz__pg_user_get(&u->db, user, fn, ud, err, errlen);
    if (!(s = stmt(u, sql_get, err, errlen)))
        return KZ_ERR_DB;
    kz__bind_text(s, 1, user);
    if ((rc = each_user(u, s, fn, ud, &n, err, errlen)) != KZ_OK)
        return rc;
    if (n == 0) {
        snprintf(err, errlen, "no user '%s'", user);
        return KZ_ERR_NOTFOUND;
    }
    return KZ_OK;
}

int kz_store_users_each(struct kz_store_users *u, kz_store_user_fn fn, void *ud, char *err,
                        size_t errlen)
{
    sqlite3_stmt *s;
    size_t n;

    if (u->db.pg)
        return kz__pg_users_each(&u->db, fn, ud, err, errlen);
    s = stmt(u, sql_all, err, errlen);
    return s ? each_user(u, s, fn, ud, &n, err, errlen) : KZ_ERR_DB;
}

int kz_store_user_del(struct kz_store_users *u, const char *user, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int rc;

    if (u->db.pg)
        return kz__pg_user_del(&u->db, user, err, errlen);
    if (!(s = stmt(u, sql_del, err, errlen)))
        return KZ_ERR_DB;
    kz__bind_text(s, 1, user);
    if ((rc = run(u, s, "delete user", err, errlen)) != KZ_OK)
        return rc;
    return changed_one(u, user, err, errlen);
}

int kz_store_user_set_password(struct kz_store_users *u, const char *user, const char *hash,
                               char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int rc;

    if (u->db.pg)
        return kz__pg_user_set_password(&u->db, user, hash, err, errlen);
    if (!(s = stmt(u, sql_passwd, err, errlen)))
        return KZ_ERR_DB;
    kz__bind_text(s, 1, user);
    kz__bind_text(s, 2, hash);
    sqlite3_bind_int64(s, 3, kz_now_us());
    if ((rc = run(u, s, "update password", err, errlen)) != KZ_OK)
        return rc;
    return changed_one(u, user, err, errlen);
}

/* ---- certificates ------------------------------------------------------ */

int kz_store_cert_add(struct kz_store_users *u, const char *user, const char *serial,
                      int64_t not_after_us, char *err, size_t errlen)
{
    sqlite3_stmt *s;

    if (u->db.pg)
        return kz__pg_cert_add(&u->db, user, serial, not_after_us, err, errlen);
    if (!(s = stmt(u, sql_cert, err, errlen)))
        return KZ_ERR_DB;
    kz__bind_text(s, 1, serial);
    kz__bind_text(s, 2, user);
    sqlite3_bind_int64(s, 3, kz_now_us());
    sqlite3_bind_int64(s, 4, not_after_us);
    return run(u, s, "insert cert", err, errlen);
}

int kz_store_certs_revoke(struct kz_store_users *u, const char *user, unsigned *n, char *err,
                          size_t errlen)
{
    sqlite3_stmt *s;
    int rc;

    *n = 0;
    if (u->db.pg)
        return kz__pg_certs_revoke(&u->db, user, n, err, errlen);
    if (!(s = stmt(u, sql_revoke, err, errlen)))
        return KZ_ERR_DB;
    kz__bind_text(s, 1, user);
    sqlite3_bind_int64(s, 2, kz_now_us());
    if ((rc = run(u, s, "revoke", err, errlen)) != KZ_OK)
        return rc;
    *n = (unsigned)sqlite3_changes(u->db.db);
    if (*n == 0) {
        snprintf(err, errlen, "user '%s' has no unrevoked certificate", user);
        return KZ_ERR_NOTFOUND;
    }
    return KZ_OK;
}

int kz_store_certs_each_revoked(struct kz_store_users *u, kz_store_revoked_fn fn, void *ud,
                                char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int rc;

    if (u->db.pg)
        return kz__pg_certs_each_revoked(&u->db, fn, ud, err, errlen);
    if (!(s = stmt(u, sql_revoked, err, errlen)))
        return KZ_ERR_DB;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ud, col(s, 0), sqlite3_column_int64(s, 1));
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return KZ_OK;
    snprintf(err, errlen, "select revoked: %s", sqlite3_errmsg(u->db.db));
    return KZ_ERR_DB;
}
