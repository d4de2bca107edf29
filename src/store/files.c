/*
 * files.c - the files table: the metadata of every file uploaded over
 * Marti (the bytes are on disk, content-addressed, see mission/files.h;
 * PostgreSQL keeps them too, pg_files.c),
 * one row per upload, written in the store thread's batches and read back
 * once at startup.  Rows are never updated: the same bytes uploaded twice
 * are two rows with one hash, each with its own label.
 */
#include "store/internal.h"

static const char sql_insert[] =
    "INSERT INTO files(uid, hash, name, mime, size, time, submitter, creator_uid, keywords,"
    " label, originator, groups_out, tool)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

struct file_job {
    struct kz__job job;
    struct kz_store_file f; /* strings point into data[] */
    char data[];
};

static int write_file(struct kz__db *db, struct kz__job *job)
{
    const struct kz_store_file *f = &((struct file_job *)job)->f;
    sqlite3_stmt *s = kz__db_stmt(db, sql_insert);

    if (!s)
        return SQLITE_ERROR;
    kz__bind_text(s, 1, f->uid);
    kz__bind_text(s, 2, f->hash);
    kz__bind_text(s, 3, f->name);
    kz__bind_text(s, 4, f->mime);
    sqlite3_bind_int64(s, 5, (int64_t)f->size);
    sqlite3_bind_int64(s, 6, f->time_us);
    kz__bind_text(s, 7, f->submitter);
    kz__bind_text(s, 8, f->creator_uid);
    kz__bind_text(s, 9, f->keywords);
    kz__bind_text(s, 10, f->label);
    kz__bind_text(s, 11, f->originator);
    kz__bind_text(s, 12, f->groups);
    kz__bind_text(s, 13, f->tool);
    return kz__db_step(s);
}

static int pg_write_file(struct kz__db *db, struct kz__job *job)
{
    return kz__pg_file_write(db, &((struct file_job *)job)->f);
}

static const struct kz__job_ops put_ops = {
    .table = "files",
    .write = write_file,
    .pg_write = pg_write_file,
};

static struct kz__job *file_job(const struct kz_store_file *f)
{
    size_t extra = kz__str_size(f->uid) + kz__str_size(f->hash) + kz__str_size(f->name) +
                   kz__str_size(f->mime) + kz__str_size(f->submitter) +
                   kz__str_size(f->creator_uid) + kz__str_size(f->keywords) +
                   kz__str_size(f->label) + kz__str_size(f->originator) + kz__str_size(f->groups) +
                   kz__str_size(f->tool) + kz__str_size(f->bytes_path);
    struct file_job *j = kz__job_new(&put_ops, sizeof(*j), extra);
    struct kz_store_file *c = &j->f;
    char *p = j->data;

    *c = *f;
    c->uid = kz__pack_str(&p, f->uid);
    c->hash = kz__pack_str(&p, f->hash);
    c->name = kz__pack_str(&p, f->name);
    c->mime = kz__pack_str(&p, f->mime);
    c->submitter = kz__pack_str(&p, f->submitter);
    c->creator_uid = kz__pack_str(&p, f->creator_uid);
    c->keywords = kz__pack_str(&p, f->keywords);
    c->label = kz__pack_str(&p, f->label);
    c->originator = kz__pack_str(&p, f->originator);
    c->groups = kz__pack_str(&p, f->groups);
    c->tool = kz__pack_str(&p, f->tool);
    c->bytes_path = kz__pack_str(&p, f->bytes_path);
    return &j->job;
}

void kz_store_file_put(struct kz_store *st, const struct kz_store_file *f, kz_store_ack_cb cb,
                       void *ud)
{
    struct kz__job *job = file_job(f);

    job->ack = cb;
    job->ud = ud;
    job->notify = cb != NULL;
    if (!f->uid || !f->hash || !f->name || !f->mime || !f->label || !f->originator) {
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

static int load(struct kz__db *db, kz_store_file_fn fn, void *ud)
{
    static const char sql[] = "SELECT uid, hash, name, mime, size, time, submitter, creator_uid,"
                              " keywords, label, originator, groups_out, tool FROM files"
                              " ORDER BY rowid";
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct kz_store_file f = {
            .uid = col_text(s, 0),
            .hash = col_text(s, 1),
            .name = col_text(s, 2),
            .mime = col_text(s, 3),
            .size = (uint64_t)sqlite3_column_int64(s, 4),
            .time_us = sqlite3_column_int64(s, 5),
            .submitter = col_text(s, 6),
            .creator_uid = col_text(s, 7),
            .keywords = col_text(s, 8),
            .label = col_text(s, 9),
            .originator = col_text(s, 10),
            .groups = col_text(s, 11),
            .tool = col_text(s, 12),
        };
        fn(ud, &f);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, "SELECT FROM files", rc);
}

int kz_store_files_load(struct kz_store *st, kz_store_file_fn fn, void *ud)
{
    int err;

    uv_mutex_lock(&st->db_mu);
    err = st->db.pg ? kz__pg_files_load(&st->db, fn, ud) : load(&st->db, fn, ud);
    uv_mutex_unlock(&st->db_mu);
    return err;
}
