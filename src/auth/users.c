/*
 * users.c - the users model over the store's users and certs tables
 * (store/users.c holds the SQL): identities with their group and role
 * lists, and Argon2id password hashes (libsodium).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "store/store.h"

struct kz_userdb {
    struct kz_store_users *st;
};

static int open_db(const char *path, bool create, struct kz_userdb **out, char *err, size_t errlen)
{
    struct kz_userdb *db = kz_xcalloc(1, sizeof(*db));
    int rc = kz_store_users_open(path, create, &db->st, err, errlen);

    *out = NULL;
    if (rc != KZ_OK) {
        free(db);
        return rc;
    }
    *out = db;
    return KZ_OK;
}

int kz_userdb_open(const char *path, struct kz_userdb **out, char *err, size_t errlen)
{
    return open_db(path, false, out, err, errlen);
}

int kz_userdb_create(const char *path, struct kz_userdb **out, char *err, size_t errlen)
{
    return open_db(path, true, out, err, errlen);
}

void kz_userdb_close(struct kz_userdb *db)
{
    if (!db)
        return;
    kz_store_users_close(db->st);
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

static void row_user(const struct kz_store_user *r, struct kz_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id.user = kz_xstrdup(r->user);
    u->id.nation = kz_xstrdup(r->nation);
    u->id.clearance = kz_xstrdup(r->clearance);
    u->id.groups_in = kz_strv_split(r->groups_in, &u->id.groups_in_count);
    u->id.groups_out = kz_strv_split(r->groups_out, &u->id.groups_out_count);
    u->id.roles = kz_strv_split(r->roles, &u->id.roles_count);
    u->id.command = r->command ? kz_xstrdup(r->command) : NULL;
    u->password_hash = r->password_hash ? kz_xstrdup(r->password_hash) : NULL;
}

int kz_userdb_put(struct kz_userdb *db, const struct kz_identity *id, const char *password,
                  char *err, size_t errlen)
{
    char hash[crypto_pwhash_STRBYTES];
    struct kz_store_user r = {
        .user = id->user,
        .nation = id->nation,
        .clearance = id->clearance,
        .groups_in = strv_join(id->groups_in, id->groups_in_count),
        .groups_out = strv_join(id->groups_out, id->groups_out_count),
        .roles = strv_join(id->roles, id->roles_count),
        .command = id->command,
        .password_hash = password ? hash : NULL,
    };
    int rc;

    if (password && kz_password_hash(password, hash, sizeof(hash)) != KZ_OK) {
        snprintf(err, errlen, "cannot hash the password");
        rc = KZ_ERR_NOMEM;
    } else {
        rc = kz_store_user_put(db->st, &r, err, errlen);
    }
    free((char *)r.groups_in);
    free((char *)r.groups_out);
    free((char *)r.roles);
    return rc;
}

static void copy_row(void *ud, const struct kz_store_user *r)
{
    row_user(r, ud);
}

int kz_userdb_get(struct kz_userdb *db, const char *user, struct kz_user *out, char *err,
                  size_t errlen)
{
    return kz_store_user_get(db->st, user, copy_row, out, err, errlen);
}

int kz_userdb_del(struct kz_userdb *db, const char *user, char *err, size_t errlen)
{
    return kz_store_user_del(db->st, user, err, errlen);
}

int kz_userdb_set_password(struct kz_userdb *db, const char *user, const char *password, char *err,
                           size_t errlen)
{
    char hash[crypto_pwhash_STRBYTES];

    if (kz_password_hash(password, hash, sizeof(hash)) != KZ_OK) {
        snprintf(err, errlen, "cannot hash the password");
        return KZ_ERR_NOMEM;
    }
    return kz_store_user_set_password(db->st, user, hash, err, errlen);
}

struct each_ctx {
    void (*fn)(void *ud, const struct kz_user *u);
    void *ud;
};

static void each_row(void *ud, const struct kz_store_user *r)
{
    struct each_ctx *c = ud;
    struct kz_user u;

    row_user(r, &u);
    c->fn(c->ud, &u);
    kz_user_clear(&u);
}

int kz_userdb_each(struct kz_userdb *db, void (*fn)(void *ud, const struct kz_user *u), void *ud,
                   char *err, size_t errlen)
{
    struct each_ctx c = {fn, ud};
    return kz_store_users_each(db->st, each_row, &c, err, errlen);
}

/*
 * Process-wide: the hash an unknown user's password is checked against, so
 * that an unknown name costs the same Argon2id work as a known one.  Made
 * once (pthread_once: enrollment workers race for it), read-only after.
 */
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
    return kz_store_cert_add(db->st, user, serial, not_after_us, err, errlen);
}

int kz_userdb_revoke_user(struct kz_userdb *db, const char *user, unsigned *n, char *err,
                          size_t errlen)
{
    return kz_store_certs_revoke(db->st, user, n, err, errlen);
}

int kz_userdb_each_revoked(struct kz_userdb *db,
                           void (*fn)(void *ud, const char *serial, int64_t revoked_us), void *ud,
                           char *err, size_t errlen)
{
    return kz_store_certs_each_revoked(db->st, fn, ud, err, errlen);
}
