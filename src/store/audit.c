/*
 * audit.c - the append-only audit log.  Each record carries the SHA-256 of
 * the previous record's hash and its own fields, so removing or editing a
 * record breaks the chain that kz_store_audit_verify() walks.
 *
 * kz_store_audit writes through the store thread, in its batches; the
 * reads below borrow the store's connection under its lock on the caller's
 * thread.  All of them block: startup and the CLI, never the loop's hot path.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)
#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

static void field(crypto_hash_sha256_state *h, const char *s)
{
    crypto_hash_sha256_update(h, (const unsigned char *)s, strlen(s) + 1); /* with NUL */
}

static void chain_hash(const char *prev, int64_t time, const char *actor, const char *action,
                       const char *object, const char *detail, char out[HASH_HEX])
{
    crypto_hash_sha256_state h;
    unsigned char digest[crypto_hash_sha256_BYTES];
    char t[24];

    snprintf(t, sizeof(t), "%lld", (long long)time);
    crypto_hash_sha256_init(&h);
    field(&h, prev);
    field(&h, t);
    field(&h, actor);
    field(&h, action);
    field(&h, object);
    field(&h, detail);
    crypto_hash_sha256_final(&h, digest);
    sodium_bin2hex(out, HASH_HEX, digest, sizeof(digest));
}

static const char *text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t ? (const char *)t : "";
}

static const char sql_last[] = "SELECT hash FROM audit ORDER BY id DESC LIMIT 1";
static const char sql_insert[] = "INSERT INTO audit(time, actor, action, object, detail,"
                                 " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

struct audit_job {
    struct kz__job job;
    int64_t time;
    const char *actor, *action, *object, *detail; /* in data[] */
    char data[];
};

static int last_hash(struct kz__db *db, char out[HASH_HEX])
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_last);
    int rc;

    if (!s)
        return SQLITE_ERROR;
    snprintf(out, HASH_HEX, "%s", GENESIS);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        snprintf(out, HASH_HEX, "%s", text(s, 0));
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* In the batch's transaction, so the last hash cannot change under us. */
static int write_record(struct kz__db *db, struct kz__job *job)
{
    const struct audit_job *a = (const struct audit_job *)job;
    char prev[HASH_HEX], hash[HASH_HEX];
    sqlite3_stmt *s;
    int rc = last_hash(db, prev);

    if (rc != SQLITE_DONE)
        return rc;
    if (!(s = kz__db_stmt(db, sql_insert)))
        return SQLITE_ERROR;
    chain_hash(prev, a->time, a->actor, a->action, a->object, a->detail, hash);
    sqlite3_bind_int64(s, 1, a->time);
    kz__bind_text(s, 2, a->actor);
    kz__bind_text(s, 3, a->action);
    kz__bind_text(s, 4, a->object);
    kz__bind_text(s, 5, a->detail);
    kz__bind_text(s, 6, prev);
    kz__bind_text(s, 7, hash);
    return kz__db_step(s);
}

static const struct kz__job_ops append_ops = {
    .table = "audit",
    .write = write_record,
};

int kz_store_audit(struct kz_store *st, const char *actor, const char *action, const char *object,
                   const char *detail)
{
    struct audit_job *a;
    char *p;
    int rc;

    if (!actor || !action || !object || !detail)
        return KZ_ERR_INVAL;
    if (sodium_init() < 0)
        return KZ_ERR_IO;
    a = kz__job_new(&append_ops, sizeof(*a),
                    kz__str_size(actor) + kz__str_size(action) + kz__str_size(object) +
                        kz__str_size(detail));
    p = a->data;
    a->time = kz_now_us();
    a->actor = kz__pack_str(&p, actor);
    a->action = kz__pack_str(&p, action);
    a->object = kz__pack_str(&p, object);
    a->detail = kz__pack_str(&p, detail);
    rc = kz__store_run_sync(st, &a->job);
    kz__job_free(&a->job);
    return rc;
}

int kz_store_audit_last(struct kz_store *st, const char *action, const char *object, char **detail)
{
    sqlite3_stmt *s = NULL;
    int rc;

    *detail = NULL;
    uv_mutex_lock(&st->db_mu);
    rc = sqlite3_prepare_v2(st->db.db,
                            "SELECT detail FROM audit WHERE action = ? AND object = ? "
                            "ORDER BY id DESC LIMIT 1",
                            -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, action, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, object, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *detail = kz_xstrdup(text(s, 0));
    }
    sqlite3_finalize(s);
    uv_mutex_unlock(&st->db_mu);
    return rc == SQLITE_ROW ? KZ_OK : rc == SQLITE_DONE ? KZ_ERR_NOTFOUND : KZ_ERR_DB;
}

int kz_store_audit_verify(struct kz_store *st, uint64_t *records, int64_t *bad_id)
{
    char prev[HASH_HEX] = GENESIS, hash[HASH_HEX];
    sqlite3_stmt *s = NULL;
    int rc;

    *records = 0;
    *bad_id = 0;
    if (sodium_init() < 0)
        return KZ_ERR_IO;
    uv_mutex_lock(&st->db_mu);
    rc = sqlite3_prepare_v2(st->db.db,
                            "SELECT id, time, actor, action, object, detail, prev_hash, hash "
                            "FROM audit ORDER BY id",
                            -1, &s, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        chain_hash(prev, sqlite3_column_int64(s, 1), text(s, 2), text(s, 3), text(s, 4), text(s, 5),
                   hash);
        if (strcmp(prev, text(s, 6)) != 0 || strcmp(hash, text(s, 7)) != 0) {
            *bad_id = sqlite3_column_int64(s, 0);
            break;
        }
        snprintf(prev, sizeof(prev), "%s", hash);
        (*records)++;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    uv_mutex_unlock(&st->db_mu);
    if (*bad_id)
        return KZ_ERR_INVAL;
    return rc == SQLITE_DONE ? KZ_OK : KZ_ERR_DB;
}

int kz_store_audit_list(struct kz_store *st, kz_store_audit_fn fn, void *ud)
{
    sqlite3_stmt *s = NULL;
    int rc;

    uv_mutex_lock(&st->db_mu);
    rc = sqlite3_prepare_v2(st->db.db,
                            "SELECT id, time, actor, action, object, detail FROM audit "
                            "ORDER BY id",
                            -1, &s, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        fn(ud, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), text(s, 2), text(s, 3),
           text(s, 4), text(s, 5));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    uv_mutex_unlock(&st->db_mu);
    return rc == SQLITE_DONE ? KZ_OK : KZ_ERR_DB;
}
