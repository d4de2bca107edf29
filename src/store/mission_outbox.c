/*
 * mission_outbox.c - Data Sync missions on a PostgreSQL shared by the
 * instances of a cluster (docs/cluster.md, "One PostgreSQL for the
 * cluster"): the database is the missions' source of truth.
 *
 * A committed mission change leaves a row in mission_outbox, written in
 * the transaction of the change itself (kz__pg_outbox_put): (origin,
 * stamp) names it, guid and change_id say what changed.  After COMMIT the
 * instance publishes a notice and deletes the row; rows left behind (an
 * instance killed between the two) are read back by
 * kz_store_mission_outbox and published then.  Another instance, on a
 * notice, reads the mission back with kz_store_mission_read.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

int kz__pg_outbox_put(struct kz__db *db, const struct kz_store_mission *w)
{
    static const char sql[] = "INSERT INTO mission_outbox(origin, stamp, guid, change_id, created)"
                              " VALUES ($1, $2, $3, $4, $5)";
    char stamp[KZ__PG_NUM], change[KZ__PG_NUM], now[KZ__PG_NUM];
    const char *v[5] = {db->pg->node_id, kz__pg_i64(stamp, w->outbox_stamp), w->guid,
                        kz__pg_i64(change, (int64_t)w->outbox_change),
                        kz__pg_i64(now, kz_now_us())};

    if (!db->pg->shared)
        return KZ_OK;
    return kz__pg_run(db->pg, "INSERT INTO mission_outbox", sql, 5, v);
}

/* ---- one mission, read back ---------------------------------------------------------- */

struct read_job {
    struct kz__job job;
    kz_store_mission_read_cb cb;
    const char *guid; /* in data[] */
    char *doc;
    char **changes;
    size_t n;
    char data[];
};

static char *text_of(const PGresult *r, int i, int c)
{
    const char *t = kz__pg_text(r, i, c);
    return t ? kz_xstrdup(t) : NULL;
}

static int read_changes(struct kz__pg *pg, struct read_job *j)
{
    static const char sql[] = "SELECT doc FROM mission_changes WHERE guid = $1 ORDER BY id";
    PGresult *r = kz__pg_query(pg, sql, 1, &j->guid);
    int err = kz__pg_ok(r) ? KZ_OK : kz__pg_fail(pg, "SELECT FROM mission_changes", r);

    if (err == KZ_OK && PQntuples(r) > 0) {
        j->changes = kz_xcalloc((size_t)PQntuples(r), sizeof(*j->changes));
        for (int i = 0; i < PQntuples(r); i++)
            j->changes[j->n++] = text_of(r, i, 0);
    }
    PQclear(r);
    return err;
}

/* One snapshot: the document and its changes agree. */
static void pg_read_mission(struct kz__db *db, struct kz__job *job)
{
    static const char sql[] = "SELECT doc FROM missions WHERE guid = $1";
    struct read_job *j = (struct read_job *)job;
    struct kz__pg *pg = db->pg;
    PGresult *r;
    int err = kz__pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");

    if (err != KZ_OK) {
        job->status = err;
        return;
    }
    r = kz__pg_query(pg, sql, 1, &j->guid);
    err = kz__pg_ok(r) ? KZ_OK : kz__pg_fail(pg, "SELECT FROM missions", r);
    if (err == KZ_OK && PQntuples(r) == 1)
        j->doc = text_of(r, 0, 0);
    PQclear(r);
    if (err == KZ_OK && j->doc)
        err = read_changes(pg, j);
    kz__pg_exec(pg, err == KZ_OK ? "COMMIT" : "ROLLBACK");
    job->status = err;
}

static void lite_read_mission(struct kz__db *db, struct kz__job *job)
{
    (void)db;
    job->status = KZ_ERR_INVAL;
}

static void deliver_read(struct kz__job *job)
{
    struct read_job *j = (struct read_job *)job;
    bool ok = job->status == KZ_OK;

    j->cb(job->ud, job->status, ok ? j->doc : NULL, (const char *const *)j->changes, ok ? j->n : 0);
}

static void release_read(struct kz__job *job)
{
    struct read_job *j = (struct read_job *)job;

    for (size_t i = 0; i < j->n; i++)
        free(j->changes[i]);
    free(j->changes);
    free(j->doc);
}

static const struct kz__job_ops read_ops = {
    .table = "missions",
    .read = lite_read_mission,
    .pg_read = pg_read_mission,
    .deliver = deliver_read,
    .release = release_read,
};

void kz_store_mission_read(struct kz_store *st, const char *guid, kz_store_mission_read_cb cb,
                           void *ud)
{
    struct read_job *j = kz__job_new(&read_ops, sizeof(*j), kz__str_size(guid));
    char *p = j->data;

    j->guid = kz__pack_str(&p, guid);
    j->cb = cb;
    j->job.ud = ud;
    j->job.notify = true;
    if (!guid) {
        kz__store_finish_early(st, &j->job, KZ_ERR_INVAL);
        return;
    }
    kz__store_submit(st, &j->job);
}

/* ---- rows not published ------------------------------------------------------------- */

struct pending_job {
    struct kz__job job;
    kz_store_outbox_cb cb;
    const char *origin; /* in data[] */
    int64_t before_us;
    PGresult *rows;
    char data[];
};

static void pg_read_pending(struct kz__db *db, struct kz__job *job)
{
    static const char sql[] = "SELECT origin, guid, stamp, change_id, created FROM mission_outbox"
                              " WHERE origin = $1 OR created < $2 ORDER BY created LIMIT 1000";
    struct pending_job *j = (struct pending_job *)job;
    char before[KZ__PG_NUM];
    const char *v[2] = {j->origin, kz__pg_i64(before, j->before_us)};

    j->rows = kz__pg_query(db->pg, sql, 2, v);
    job->status =
        kz__pg_ok(j->rows) ? KZ_OK : kz__pg_fail(db->pg, "SELECT FROM mission_outbox", j->rows);
}

static void lite_read_pending(struct kz__db *db, struct kz__job *job)
{
    (void)db;
    job->status = KZ_OK;
}

static void deliver_pending(struct kz__job *job)
{
    struct pending_job *j = (struct pending_job *)job;
    int n = job->status == KZ_OK && j->rows ? PQntuples(j->rows) : 0;
    struct kz_store_outbox_row *rows = kz_xcalloc((size_t)n + 1, sizeof(*rows));

    for (int i = 0; i < n; i++)
        rows[i] = (struct kz_store_outbox_row){
            kz__pg_text(j->rows, i, 0),          kz__pg_text(j->rows, i, 1),
            kz__pg_int(j->rows, i, 2),           kz__pg_int(j->rows, i, 4),
            (uint64_t)kz__pg_int(j->rows, i, 3),
        };
    j->cb(job->ud, job->status, rows, (size_t)n);
    free(rows);
}

static void release_pending(struct kz__job *job)
{
    PQclear(((struct pending_job *)job)->rows);
}

static const struct kz__job_ops pending_ops = {
    .table = "mission_outbox",
    .read = lite_read_pending,
    .pg_read = pg_read_pending,
    .deliver = deliver_pending,
    .release = release_pending,
};

void kz_store_mission_outbox(struct kz_store *st, const char *origin, int64_t before_us,
                             kz_store_outbox_cb cb, void *ud)
{
    struct pending_job *j = kz__job_new(&pending_ops, sizeof(*j), kz__str_size(origin));
    char *p = j->data;

    j->origin = kz__pack_str(&p, origin ? origin : "");
    j->before_us = before_us;
    j->cb = cb;
    j->job.ud = ud;
    j->job.notify = true;
    kz__store_submit(st, &j->job);
}

/* ---- published ------------------------------------------------------------------------ */

struct done_job {
    struct kz__job job;
    const char *origin; /* in data[] */
    int64_t stamp;
    char data[];
};

static int pg_write_done(struct kz__db *db, struct kz__job *job)
{
    struct done_job *j = (struct done_job *)job;
    char stamp[KZ__PG_NUM];
    const char *v[2] = {j->origin, kz__pg_i64(stamp, j->stamp)};

    return kz__pg_run(db->pg, "DELETE FROM mission_outbox",
                      "DELETE FROM mission_outbox WHERE origin = $1 AND stamp = $2", 2, v);
}

static int lite_write_done(struct kz__db *db, struct kz__job *job)
{
    (void)db;
    (void)job;
    return SQLITE_DONE;
}

static const struct kz__job_ops done_ops = {
    .table = "mission_outbox",
    .write = lite_write_done,
    .pg_write = pg_write_done,
};

void kz_store_mission_outbox_done(struct kz_store *st, const char *origin, int64_t stamp)
{
    struct done_job *j = kz__job_new(&done_ops, sizeof(*j), kz__str_size(origin));
    char *p = j->data;

    j->origin = kz__pack_str(&p, origin ? origin : "");
    j->stamp = stamp;
    kz__store_submit(st, &j->job);
}
