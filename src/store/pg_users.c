/*
 * pg_users.c - the users and certs tables on PostgreSQL: the SQL users.c
 * runs on SQLite, on the users connection (a PostgreSQL connection of its
 * own, opened from the store locator "postgres:DSN").  Synchronous on the
 * caller's thread; errors go to `err` (users.c's contract) and to the log.
 */
#include <stdio.h>
#include <stdlib.h>

#include "store/pg.h"

#define USER_COLS                                                                                  \
    "\"user\", nation, clearance, groups_in, groups_out, roles, command, password_hash"

/* Run a write; *changed rows.  KZ_OK or KZ_ERR_DB with `err`. */
static int run(struct kz__db *db, const char *what, const char *sql, int n, const char *const *v,
               unsigned *changed, char *err, size_t errlen)
{
    PGresult *r = kz__pg_query(db->pg, sql, n, v);
    int rc = KZ_OK;

    if (kz__pg_ok(r)) {
        if (changed)
            *changed = (unsigned)strtoul(PQcmdTuples(r), NULL, 10);
    } else {
        snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(r));
        kz__pg_fail(db->pg, what, r);
        rc = KZ_ERR_DB;
    }
    PQclear(r);
    return rc;
}

int kz__pg_user_put(struct kz__db *db, const struct kz_store_user *u, char *err, size_t errlen)
{
    static const char sql[] =
        "INSERT INTO users (" USER_COLS ", created, updated)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
        " ON CONFLICT(\"user\") DO UPDATE SET nation = $2, clearance = $3, groups_in = $4,"
        " groups_out = $5, roles = $6, command = $7,"
        " password_hash = coalesce($8, users.password_hash), updated = $9";
    char now[KZ__PG_NUM];
    const char *v[9] = {u->user,
                        u->nation,
                        u->clearance,
                        u->groups_in ? u->groups_in : "",
                        u->groups_out ? u->groups_out : "",
                        u->roles ? u->roles : "",
                        u->command,
                        u->password_hash,
                        kz__pg_i64(now, kz_now_us())};

    return run(db, "insert user", sql, 9, v, NULL, err, errlen);
}

/* fn for each row; *n rows. */
static int each_user(struct kz__db *db, const char *sql, const char *user, kz_store_user_fn fn,
                     void *ud, size_t *n, char *err, size_t errlen)
{
    PGresult *r = user ? kz__pg_query(db->pg, sql, 1, &user) : PQexec(db->pg->conn, sql);

    *n = 0;
    if (!kz__pg_ok(r)) {
        snprintf(err, errlen, "select users: %s", PQresultErrorMessage(r));
        PQclear(r);
        return KZ_ERR_DB;
    }
    for (int i = 0; i < PQntuples(r); i++, (*n)++) {
        struct kz_store_user u = {kz__pg_text(r, i, 0), kz__pg_text(r, i, 1), kz__pg_text(r, i, 2),
                                  kz__pg_text(r, i, 3), kz__pg_text(r, i, 4), kz__pg_text(r, i, 5),
                                  kz__pg_text(r, i, 6), kz__pg_text(r, i, 7)};
        fn(ud, &u);
    }
    PQclear(r);
    return KZ_OK;
}

int kz__pg_user_get(struct kz__db *db, const char *user, kz_store_user_fn fn, void *ud, char *err,
                    size_t errlen)
{
    size_t n;
    int rc = each_user(db, "SELECT " USER_COLS " FROM users WHERE \"user\" = $1", user, fn, ud, &n,
                       err, errlen);

    if (rc == KZ_OK && n == 0) {
        snprintf(err, errlen, "no user '%s'", user);
        return KZ_ERR_NOTFOUND;
    }
    return rc;
}

int kz__pg_users_each(struct kz__db *db, kz_store_user_fn fn, void *ud, char *err, size_t errlen)
{
    size_t n;

    /* By name in strcmp order, as on SQLite. */
    return each_user(db, "SELECT " USER_COLS " FROM users ORDER BY \"user\" COLLATE \"C\"", NULL,
                     fn, ud, &n, err, errlen);
}

static int one_changed(unsigned changed, const char *user, char *err, size_t errlen)
{
    if (changed > 0)
        return KZ_OK;
    snprintf(err, errlen, "no user '%s'", user);
    return KZ_ERR_NOTFOUND;
}

int kz__pg_user_del(struct kz__db *db, const char *user, char *err, size_t errlen)
{
    unsigned changed = 0;
    int rc = run(db, "delete user", "DELETE FROM users WHERE \"user\" = $1", 1, &user, &changed,
                 err, errlen);

    return rc == KZ_OK ? one_changed(changed, user, err, errlen) : rc;
}

int kz__pg_user_set_password(struct kz__db *db, const char *user, const char *hash, char *err,
                             size_t errlen)
{
    char now[KZ__PG_NUM];
    const char *v[3] = {user, hash, kz__pg_i64(now, kz_now_us())};
    unsigned changed = 0;
    int rc = run(db, "update password",
                 "UPDATE users SET password_hash = $2, updated = $3 WHERE \"user\" = $1", 3, v,
                 &changed, err, errlen);

    return rc == KZ_OK ? one_changed(changed, user, err, errlen) : rc;
}

int kz__pg_cert_add(struct kz__db *db, const char *user, const char *serial, int64_t not_after_us,
                    char *err, size_t errlen)
{
    char now[KZ__PG_NUM], na[KZ__PG_NUM];
    const char *v[4] = {serial, user, kz__pg_i64(now, kz_now_us()), kz__pg_i64(na, not_after_us)};

    return run(db, "insert cert",
               "INSERT INTO certs (serial, \"user\", issued, not_after) VALUES ($1, $2, $3, $4)", 4,
               v, NULL, err, errlen);
}

int kz__pg_certs_revoke(struct kz__db *db, const char *user, unsigned *n, char *err, size_t errlen)
{
    char now[KZ__PG_NUM];
    const char *v[2] = {user, kz__pg_i64(now, kz_now_us())};
    int rc =
        run(db, "revoke", "UPDATE certs SET revoked = $2 WHERE \"user\" = $1 AND revoked IS NULL",
            2, v, n, err, errlen);

    if (rc == KZ_OK && *n == 0) {
        snprintf(err, errlen, "user '%s' has no unrevoked certificate", user);
        return KZ_ERR_NOTFOUND;
    }
    return rc;
}

int kz__pg_certs_each_revoked(struct kz__db *db, kz_store_revoked_fn fn, void *ud, char *err,
                              size_t errlen)
{
    PGresult *r =
        PQexec(db->pg->conn, "SELECT serial, revoked FROM certs WHERE revoked IS NOT NULL");

    if (!kz__pg_ok(r)) {
        snprintf(err, errlen, "select revoked: %s", PQresultErrorMessage(r));
        PQclear(r);
        return KZ_ERR_DB;
    }
    for (int i = 0; i < PQntuples(r); i++)
        fn(ud, PQgetvalue(r, i, 0), kz__pg_int(r, i, 1));
    PQclear(r);
    return KZ_OK;
}
