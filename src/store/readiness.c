/*
 * readiness.c - the readiness table: one row per report, written in the
 * store thread's batches and read back once at startup.  Rows are
 * never updated; the history per unit is the rows in id (commit) order.
 */
#include "store/internal.h"

static const char sql_insert[] =
    "INSERT INTO readiness(unit, time, recv_time, p, s, r, t, overall, override_reason,"
    " remarks, label, originator, reporter, groups_out, reason_code)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

struct readiness_job {
    struct kz__job job;
    struct kz_store_readiness rd; /* strings point into data[] */
    char data[];
};

static int write_report(struct kz__db *db, struct kz__job *job)
{
    const struct kz_store_readiness *r = &((struct readiness_job *)job)->rd;
    sqlite3_stmt *s = kz__db_stmt(db, sql_insert);

    if (!s)
        return SQLITE_ERROR;
    kz__bind_text(s, 1, r->unit);
    sqlite3_bind_int64(s, 2, r->time_us);
    sqlite3_bind_int64(s, 3, r->recv_us);
    sqlite3_bind_int(s, 4, r->p);
    sqlite3_bind_int(s, 5, r->s);
    sqlite3_bind_int(s, 6, r->r);
    sqlite3_bind_int(s, 7, r->t);
    sqlite3_bind_int(s, 8, r->overall);
    kz__bind_text(s, 9, r->override_reason);
    kz__bind_text(s, 10, r->remarks);
    kz__bind_text(s, 11, r->label);
    kz__bind_text(s, 12, r->originator);
    kz__bind_text(s, 13, r->reporter);
    kz__bind_text(s, 14, r->groups);
    kz__bind_text(s, 15, r->reason_code);
    return kz__db_step(s);
}

static int pg_write_report(struct kz__db *db, struct kz__job *job)
{
    return kz__pg_readiness_write(db, &((struct readiness_job *)job)->rd);
}

static const struct kz__job_ops append_ops = {
    .table = "readiness",
    .write = write_report,
    .pg_write = pg_write_report,
};

static struct kz__job *report_job(const struct kz_store_readiness *r)
{
    size_t extra = kz__str_size(r->unit) + kz__str_size(r->override_reason) +
                   kz__str_size(r->remarks) + kz__str_size(r->label) + kz__str_size(r->originator) +
                   kz__str_size(r->reporter) + kz__str_size(r->groups) +
                   kz__str_size(r->reason_code);
    struct readiness_job *j = kz__job_new(&append_ops, sizeof(*j), extra);
    struct kz_store_readiness *c = &j->rd;
    char *p = j->data;

    *c = *r;
    c->unit = kz__pack_str(&p, r->unit);
    c->override_reason = kz__pack_str(&p, r->override_reason);
    c->remarks = kz__pack_str(&p, r->remarks);
    c->label = kz__pack_str(&p, r->label);
    c->originator = kz__pack_str(&p, r->originator);
    c->reporter = kz__pack_str(&p, r->reporter);
    c->groups = kz__pack_str(&p, r->groups);
    c->reason_code = kz__pack_str(&p, r->reason_code);
    return &j->job;
}

void kz_store_readiness_append(struct kz_store *st, const struct kz_store_readiness *r,
                               kz_store_ack_cb cb, void *ud)
{
    struct kz__job *job = report_job(r);

    job->ack = cb;
    job->ud = ud;
    job->notify = cb != NULL;
    if (!r->unit || !r->label || !r->originator) {
        kz__store_finish_early(st, job, KZ_ERR_INVAL);
        return;
    }
    kz__store_submit(st, job);
}

/* ---- startup ------------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static uint8_t col_level(sqlite3_stmt *s, int i)
{
    return (uint8_t)sqlite3_column_int(s, i);
}

static int load(struct kz__db *db, kz_store_readiness_fn fn, void *ud)
{
    static const char sql[] = "SELECT unit, time, recv_time, p, s, r, t, overall,"
                              " override_reason, remarks, label, originator, reporter,"
                              " groups_out, reason_code FROM readiness ORDER BY id";
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
            .groups = col_text(s, 13),
            .reason_code = col_text(s, 14),
        };
        fn(ud, &r);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, "SELECT FROM readiness", rc);
}

int kz_store_readiness_load(struct kz_store *st, kz_store_readiness_fn fn, void *ud)
{
    int err;

    uv_mutex_lock(&st->db_mu);
    err = st->db.pg ? kz__pg_readiness_load(&st->db, fn, ud) : load(&st->db, fn, ud);
    uv_mutex_unlock(&st->db_mu);
    return err;
}
