/*
 * missions.c - the Data Sync mission tables: one row per mission (the
 * mission layer's JSON document: its fields, label, contents,
 * subscriptions, invitations and log entries) and its change log, one row
 * per change.  A mission's change commits its document and its new changes
 * together, in the store thread's batches, and is acknowledged after
 * COMMIT; deleting a mission deletes its rows.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

static const char sql_put[] = "INSERT INTO missions(guid, name, doc) VALUES (?1, ?2, ?3)"
                              " ON CONFLICT(guid) DO UPDATE SET name = ?2, doc = ?3";
static const char sql_del[] = "DELETE FROM missions WHERE guid = ?1";
static const char sql_del_changes[] = "DELETE FROM mission_changes WHERE guid = ?1";
static const char sql_change[] = "INSERT INTO mission_changes(id, guid, doc) VALUES (?1, ?2, ?3)";

struct mission_job {
    struct kz__job job;
    struct kz_store_mission w; /* strings point into data[] */
    const char **docs;         /* w.change_docs, in data[] */
    char data[];
};

static int step_text(struct kz__db *db, const char *sql, const char *a, const char *b,
                     const char *c)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql);

    if (!s)
        return SQLITE_ERROR;
    kz__bind_text(s, 1, a);
    if (b)
        kz__bind_text(s, 2, b);
    if (c)
        kz__bind_text(s, 3, c);
    return kz__db_step(s);
}

static int write_changes(struct kz__db *db, const struct kz_store_mission *w)
{
    sqlite3_stmt *s;
    int rc = SQLITE_DONE;

    for (size_t i = 0; i < w->n_changes && rc == SQLITE_DONE; i++) {
        if (!(s = kz__db_stmt(db, sql_change)))
            return SQLITE_ERROR;
        sqlite3_bind_int64(s, 1, w->change_ids[i]);
        kz__bind_text(s, 2, w->guid);
        kz__bind_text(s, 3, w->change_docs[i]);
        rc = kz__db_step(s);
    }
    return rc;
}

static int write_rows(struct kz__db *db, const struct kz_store_mission *w)
{
    int rc;

    if (!w->doc) {
        rc = step_text(db, sql_del, w->guid, NULL, NULL);
        return rc == SQLITE_DONE ? step_text(db, sql_del_changes, w->guid, NULL, NULL) : rc;
    }
    rc = step_text(db, sql_put, w->guid, w->name, w->doc);
    return rc == SQLITE_DONE ? write_changes(db, w) : rc;
}

/* Under a savepoint: a refused row leaves none of the job's rows behind. */
static int write_mission(struct kz__db *db, struct kz__job *job)
{
    const struct kz_store_mission *w = &((struct mission_job *)job)->w;
    int rc = sqlite3_exec(db->db, "SAVEPOINT mission", NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return rc;
    rc = write_rows(db, w);
    if (rc != SQLITE_DONE)
        sqlite3_exec(db->db, "ROLLBACK TO mission", NULL, NULL, NULL);
    sqlite3_exec(db->db, "RELEASE mission", NULL, NULL, NULL);
    return rc;
}

static int pg_write_mission(struct kz__db *db, struct kz__job *job)
{
    const struct kz_store_mission *w = &((struct mission_job *)job)->w;
    int err = kz__pg_mission_write(db, w);

    return err == KZ_OK && w->outbox_stamp ? kz__pg_outbox_put(db, w) : err;
}

static const struct kz__job_ops mission_ops = {
    .table = "missions",
    .write = write_mission,
    .pg_write = pg_write_mission,
};

static struct kz__job *mission_job(const struct kz_store_mission *w)
{
    size_t extra = kz__str_size(w->guid) + kz__str_size(w->name) + kz__str_size(w->doc) +
                   w->n_changes * (sizeof(char *) + sizeof(int64_t)) + sizeof(int64_t);
    for (size_t i = 0; i < w->n_changes; i++)
        extra += kz__str_size(w->change_docs[i]);
    struct mission_job *j = kz__job_new(&mission_ops, sizeof(*j), extra);
    /* Pointer and id arrays first (aligned), then the strings. */
    char *p = j->data + (8 - (uintptr_t)j->data % 8) % 8;
    int64_t *ids = (int64_t *)(void *)p;
    const char **docs = (const char **)(void *)(ids + w->n_changes);

    p = (char *)(docs + w->n_changes);
    j->w = *w;
    j->w.guid = kz__pack_str(&p, w->guid);
    j->w.name = kz__pack_str(&p, w->name);
    j->w.doc = kz__pack_str(&p, w->doc);
    for (size_t i = 0; i < w->n_changes; i++) {
        ids[i] = w->change_ids[i];
        docs[i] = kz__pack_str(&p, w->change_docs[i]);
    }
    j->w.change_ids = ids;
    j->w.change_docs = docs;
    return &j->job;
}

void kz_store_mission_write(struct kz_store *st, const struct kz_store_mission *w,
                            kz_store_ack_cb cb, void *ud)
{
    struct kz__job *job = mission_job(w);

    job->ack = cb;
    job->ud = ud;
    job->notify = cb != NULL;
    if (!w->guid || (w->doc && !w->name)) {
        kz__store_finish_early(st, job, KZ_ERR_INVAL);
        return;
    }
    kz__store_submit(st, job);
}

/* ---- startup ------------------------------------------------------------- */

static int load(struct kz__db *db, const char *sql, kz_store_mission_fn fn, void *ud)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        fn(ud, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, sql, rc);
}

int kz_store_missions_load(struct kz_store *st, kz_store_mission_fn mission,
                           kz_store_mission_fn change, void *ud)
{
    int err;

    uv_mutex_lock(&st->db_mu);
    if (st->db.pg) {
        err = kz__pg_missions_load(&st->db, mission, change, ud);
        uv_mutex_unlock(&st->db_mu);
        return err;
    }
    err = load(&st->db, "SELECT guid, doc FROM missions ORDER BY rowid", mission, ud);
    if (err == KZ_OK)
        err = load(&st->db, "SELECT guid, doc FROM mission_changes ORDER BY id", change, ud);
    uv_mutex_unlock(&st->db_mu);
    return err;
}
