/*
 * pg_tables.c - readiness reports, file metadata and Data Sync missions on
 * PostgreSQL: the SQL that readiness.c, files.c and missions.c run on
 * SQLite (and a file's bytes, which SQLite leaves on disk: pg_files.c), for the same jobs (those
 * files hand their payloads over here when db->pg is set).  Writes run inside the batch's
 * transaction, each job under the savepoint pg_batch.c gives it: a refused row (KZ_ERR_EXISTS)
 * leaves nothing of its job behind.  Loads run in commit order.
 */
#include "store/pg.h"

#define LEVEL(buf, v) kz__pg_i64(buf, (int64_t)(v))

/* ---- readiness ------------------------------------------------------------------ */

int kz__pg_readiness_write(struct kz__db *db, const struct kz_store_readiness *r)
{
    static const char sql[] =
        "INSERT INTO readiness(unit, time, recv_time, p, s, r, t, overall, override_reason,"
        " remarks, label, originator, reporter, groups_out, reason_code)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
    char n[7][KZ__PG_NUM];
    const char *v[15] = {r->unit,
                         kz__pg_i64(n[0], r->time_us),
                         kz__pg_i64(n[1], r->recv_us),
                         LEVEL(n[2], r->p),
                         LEVEL(n[3], r->s),
                         LEVEL(n[4], r->r),
                         LEVEL(n[5], r->t),
                         LEVEL(n[6], r->overall),
                         r->override_reason,
                         r->remarks,
                         r->label,
                         r->originator,
                         r->reporter,
                         r->groups,
                         r->reason_code};

    return kz__pg_run(db->pg, "INSERT INTO readiness", sql, 15, v);
}

static uint8_t level_at(const PGresult *r, int i, int c)
{
    return (uint8_t)kz__pg_int(r, i, c);
}

int kz__pg_readiness_load(struct kz__db *db, kz_store_readiness_fn fn, void *ud)
{
    static const char sql[] = "SELECT unit, time, recv_time, p, s, r, t, overall,"
                              " override_reason, remarks, label, originator, reporter,"
                              " groups_out, reason_code FROM readiness ORDER BY id";
    PGresult *r = PQexec(db->pg->conn, sql);

    if (!kz__pg_ok(r)) {
        kz__pg_fail(db->pg, "SELECT FROM readiness", r);
        PQclear(r);
        return KZ_ERR_DB;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        struct kz_store_readiness rd = {
            .unit = kz__pg_text(r, i, 0),
            .time_us = kz__pg_int(r, i, 1),
            .recv_us = kz__pg_int(r, i, 2),
            .p = level_at(r, i, 3),
            .s = level_at(r, i, 4),
            .r = level_at(r, i, 5),
            .t = level_at(r, i, 6),
            .overall = level_at(r, i, 7),
            .override_reason = kz__pg_text(r, i, 8),
            .remarks = kz__pg_text(r, i, 9),
            .label = kz__pg_text(r, i, 10),
            .originator = kz__pg_text(r, i, 11),
            .reporter = kz__pg_text(r, i, 12),
            .groups = kz__pg_text(r, i, 13),
            .reason_code = kz__pg_text(r, i, 14),
        };
        fn(ud, &rd);
    }
    PQclear(r);
    return KZ_OK;
}

/* ---- files ----------------------------------------------------------------------- */

int kz__pg_file_write(struct kz__db *db, const struct kz_store_file *f)
{
    static const char sql[] =
        "INSERT INTO files(uid, hash, name, mime, size, time, submitter, creator_uid, keywords,"
        " label, originator, groups_out, tool)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    char n[2][KZ__PG_NUM];
    const char *v[13] = {f->uid,
                         f->hash,
                         f->name,
                         f->mime,
                         kz__pg_i64(n[0], (int64_t)f->size),
                         kz__pg_i64(n[1], f->time_us),
                         f->submitter,
                         f->creator_uid,
                         f->keywords,
                         f->label,
                         f->originator,
                         f->groups,
                         f->tool};
    int err = kz__pg_run(db->pg, "INSERT INTO files", sql, 13, v);

    /* The bytes in the row's transaction (pg_files.c): a committed row has them. */
    if (err == KZ_OK && f->bytes_path)
        err = kz__pg_file_content_put(db->pg, f->hash, f->size, f->bytes_path);
    return err;
}

void kz__pg_file_row(const PGresult *r, int i, struct kz_store_file *f)
{
    *f = (struct kz_store_file){
        .uid = kz__pg_text(r, i, 0),
        .hash = kz__pg_text(r, i, 1),
        .name = kz__pg_text(r, i, 2),
        .mime = kz__pg_text(r, i, 3),
        .size = (uint64_t)kz__pg_int(r, i, 4),
        .time_us = kz__pg_int(r, i, 5),
        .submitter = kz__pg_text(r, i, 6),
        .creator_uid = kz__pg_text(r, i, 7),
        .keywords = kz__pg_text(r, i, 8),
        .label = kz__pg_text(r, i, 9),
        .originator = kz__pg_text(r, i, 10),
        .groups = kz__pg_text(r, i, 11),
        .tool = kz__pg_text(r, i, 12),
    };
}

int kz__pg_files_load(struct kz__db *db, kz_store_file_fn fn, void *ud)
{
    static const char sql[] = "SELECT " KZ__PG_FILE_COLS " FROM files ORDER BY seq";
    PGresult *r = PQexec(db->pg->conn, sql);

    if (!kz__pg_ok(r)) {
        kz__pg_fail(db->pg, "SELECT FROM files", r);
        PQclear(r);
        return KZ_ERR_DB;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        struct kz_store_file f;
        kz__pg_file_row(r, i, &f);
        fn(ud, &f);
    }
    PQclear(r);
    return KZ_OK;
}

/* ---- missions -------------------------------------------------------------------- */

static int mission_delete(struct kz__pg *pg, const char *guid)
{
    int err =
        kz__pg_run(pg, "DELETE FROM missions", "DELETE FROM missions WHERE guid = $1", 1, &guid);

    if (err == KZ_OK)
        err = kz__pg_run(pg, "DELETE FROM mission_changes",
                         "DELETE FROM mission_changes WHERE guid = $1", 1, &guid);
    return err;
}

int kz__pg_mission_write(struct kz__db *db, const struct kz_store_mission *w)
{
    static const char sql_put[] = "INSERT INTO missions(guid, name, doc) VALUES ($1, $2, $3)"
                                  " ON CONFLICT(guid) DO UPDATE SET name = $2, doc = $3";
    static const char sql_change[] =
        "INSERT INTO mission_changes(id, guid, doc) VALUES ($1, $2, $3)";
    const char *v[3] = {w->guid, w->name, w->doc};
    char id[KZ__PG_NUM];
    int err;

    if (!w->doc)
        return mission_delete(db->pg, w->guid);
    err = kz__pg_run(db->pg, "INSERT INTO missions", sql_put, 3, v);
    for (size_t i = 0; i < w->n_changes && err == KZ_OK; i++) {
        const char *c[3] = {kz__pg_i64(id, w->change_ids[i]), w->guid, w->change_docs[i]};
        err = kz__pg_run(db->pg, "INSERT INTO mission_changes", sql_change, 3, c);
    }
    return err;
}

static int load_pairs(struct kz__pg *pg, const char *sql, kz_store_mission_fn fn, void *ud)
{
    PGresult *r = PQexec(pg->conn, sql);

    if (!kz__pg_ok(r)) {
        kz__pg_fail(pg, sql, r);
        PQclear(r);
        return KZ_ERR_DB;
    }
    for (int i = 0; i < PQntuples(r); i++)
        fn(ud, kz__pg_text(r, i, 0), kz__pg_text(r, i, 1));
    PQclear(r);
    return KZ_OK;
}

int kz__pg_missions_load(struct kz__db *db, kz_store_mission_fn mission, kz_store_mission_fn change,
                         void *ud)
{
    int err = load_pairs(db->pg, "SELECT guid, doc FROM missions ORDER BY seq", mission, ud);

    if (err == KZ_OK)
        err = load_pairs(db->pg, "SELECT guid, doc FROM mission_changes ORDER BY id", change, ud);
    return err;
}
