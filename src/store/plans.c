/*
 * plans.c - the plans table: every revision of every plan, as the plan
 * layer's JSON text, each written in the same transaction as its audit
 * record (audit.c runs the INSERT below as the record's change).  Rows are
 * never updated; the newest revision per id is the plan.
 */
#include "store/internal.h"

static const char sql_insert[] = "INSERT INTO plans(id, revision, time, doc)"
                                 " VALUES (?1, ?2, ?3, ?4)";

/* A plan row on PostgreSQL (write_plan below), answering in the SQLite codes audit.c's change
 * speaks. */
static int pg_write_plan(struct kz__db *db, void *arg)
{
    int err = kz__pg_plan_insert(db, arg);
    return err == KZ_OK ? SQLITE_DONE : err == KZ_ERR_EXISTS ? SQLITE_CONSTRAINT : SQLITE_ERROR;
}

/* Store thread, inside the audit job's savepoint; a duplicate is SQLITE_CONSTRAINT_PRIMARYKEY. */
static int write_plan(struct kz__db *db, void *arg)
{
    const struct kz_store_plan *p = arg;
    sqlite3_stmt *s;

    if (db->pg)
        return pg_write_plan(db, arg);
    if (!(s = kz__db_stmt(db, sql_insert)))
        return SQLITE_ERROR;
    kz__bind_text(s, 1, p->id);
    sqlite3_bind_int64(s, 2, p->revision);
    sqlite3_bind_int64(s, 3, p->time_us);
    kz__bind_text(s, 4, p->doc);
    return kz__db_step(s);
}

int kz_store_plan_save(struct kz_store *st, const struct kz_store_plan *p,
                       const struct kz_store_audit_rec *a)
{
    if (!p || !a || !p->id || !p->doc || p->revision < 1)
        return KZ_ERR_INVAL;
    /* The caller blocks until the batch has run, so `p` outlives the job. */
    return kz__audit_append(st, a, write_plan, (void *)p);
}

/* ---- startup ------------------------------------------------------------- */

static int load(struct kz__db *db, kz_store_plan_fn fn, void *ud)
{
    /* SQLite takes the bare columns from the row that holds max(revision). */
    static const char sql[] = "SELECT id, max(revision), time, doc FROM plans"
                              " GROUP BY id ORDER BY id";
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct kz_store_plan p = {
            .id = (const char *)sqlite3_column_text(s, 0),
            .revision = sqlite3_column_int64(s, 1),
            .time_us = sqlite3_column_int64(s, 2),
            .doc = (const char *)sqlite3_column_text(s, 3),
        };
        fn(ud, &p);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, "SELECT FROM plans", rc);
}

int kz_store_plans_load(struct kz_store *st, kz_store_plan_fn fn, void *ud)
{
    int err;

    uv_mutex_lock(&st->db_mu);
    err = st->db.pg ? kz__pg_plans_load(&st->db, fn, ud) : load(&st->db, fn, ud);
    uv_mutex_unlock(&st->db_mu);
    return err;
}
