/*
 * readiness.c - the readiness table: one row per report, written in the
 * store thread's batches (batch.c) and read back once at startup.  Rows are
 * never updated; the history per unit is the rows in id (commit) order.
 */
#include "store/internal.h"

const char kz__sql_ins_readiness[] =
    "INSERT INTO readiness(unit, time, recv_time, p, s, r, t, overall, override_reason,"
    " remarks, label, originator, reporter)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

int kz__db_insert_readiness(struct kz__db *db, const struct kz_store_readiness *r)
{
    sqlite3_stmt *s = db->ins_readiness;

    bind_text(s, 1, r->unit);
    sqlite3_bind_int64(s, 2, r->time_us);
    sqlite3_bind_int64(s, 3, r->recv_us);
    sqlite3_bind_int(s, 4, r->p);
    sqlite3_bind_int(s, 5, r->s);
    sqlite3_bind_int(s, 6, r->r);
    sqlite3_bind_int(s, 7, r->t);
    sqlite3_bind_int(s, 8, r->overall);
    bind_text(s, 9, r->override_reason);
    bind_text(s, 10, r->remarks);
    bind_text(s, 11, r->label);
    bind_text(s, 12, r->originator);
    bind_text(s, 13, r->reporter);
    return kz__db_step(s);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static uint8_t col_level(sqlite3_stmt *s, int i)
{
    return (uint8_t)sqlite3_column_int(s, i);
}

int kz__db_load_readiness(struct kz__db *db, kz_store_readiness_fn fn, void *ud)
{
    static const char sql[] = "SELECT unit, time, recv_time, p, s, r, t, overall,"
                              " override_reason, remarks, label, originator, reporter"
                              " FROM readiness ORDER BY id";
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct kz_store_readiness r = {
            .unit = col_text(s, 0),
            .time_us = sqlite3_column_int64(s, 1),
            .recv_us = sqlite3_column_int64(s, 2),
            .p = col_level(s, 3),
            .s = col_level(s, 4),
            .r = col_level(s, 5),
            .t = col_level(s, 6),
            .overall = col_level(s, 7),
            .override_reason = col_text(s, 8),
            .remarks = col_text(s, 9),
            .label = col_text(s, 10),
            .originator = col_text(s, 11),
            .reporter = col_text(s, 12),
        };
        fn(ud, &r);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, "SELECT FROM readiness", rc);
}
