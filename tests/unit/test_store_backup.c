/*
 * Unit tests for store/backup.c: a backup is a consistent single-file copy
 * (committed rows only, rollback-journal mode, owner-only), it replaces a
 * stale WAL of the file it overwrites, and the restore check refuses
 * garbage, a database without kizuna's schema, a corrupt file and a schema
 * newer than this build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "store/internal.h"
#include "store_fixture.h"

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* A migrated store at fx->path with `n` events. */
static void make_store(struct fx *fx, int n)
{
    struct kz__db db;
    char sql[256];

    assert_int_equal(kz__db_open(&db, fx->path, true), KZ_OK);
    for (int i = 0; i < n; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO events(uid, type, time, start, stale, recv_time, xml)"
                 " VALUES ('u%d', 'a-f-G', 1, 1, 2, 1, '<event/>')",
                 i);
        exec_ok(db.db, sql);
    }
    kz__db_close(&db);
}

static void out_path(struct fx *fx, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", fx->dir, name);
}

struct seen {
    int calls;
    int64_t done, total;
};

static void on_progress(void *ud, int64_t done, int64_t total)
{
    struct seen *s = ud;

    s->calls++;
    s->done = done;
    s->total = total;
}

static void backup_copies_committed_rows_only(void **state)
{
    struct fx *fx = *state;
    struct seen seen = {0};
    char out[128], err[512];
    sqlite3 *writer = NULL;
    struct stat st;

    make_store(fx, 3);
    /* Another connection's open transaction must not leak into the copy. */
    assert_int_equal(sqlite3_open(fx->path, &writer), SQLITE_OK);
    exec_ok(writer, "BEGIN; INSERT INTO events(uid, type, time, start, stale, recv_time, xml)"
                    " VALUES ('late', 't', 1, 1, 2, 1, 'x')");
    out_path(fx, "b.db", out, sizeof(out));
    assert_int_equal(kz_store_backup(fx->path, out, on_progress, &seen, err, sizeof(err)), KZ_OK);
    exec_ok(writer, "COMMIT");
    sqlite3_close(writer);

    assert_int_equal(sql_int(out, "SELECT count(*) FROM events"), 3);
    assert_int_equal(sql_int(out, "PRAGMA user_version"), kz__db_schema_latest());
    assert_true(seen.calls >= 1);
    assert_true(seen.total > 0);
    assert_int_equal(seen.done, seen.total);
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(kz_store_check(out, err, sizeof(err)), KZ_OK);
}

/* A store of more than one step (4096 pages) reports its progress as it goes. */
static void backup_reports_progress(void **state)
{
    struct fx *fx = *state;
    struct seen seen = {0};
    char out[128], err[512];
    struct kz__db db;

    make_store(fx, 0);
    assert_int_equal(kz__db_open(&db, fx->path, false), KZ_OK);
    exec_ok(db.db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 24)"
                   " INSERT INTO events(uid, type, time, start, stale, recv_time, xml)"
                   " SELECT 'big' || i, 't', 1, 1, 2, 1, hex(randomblob(400000)) FROM n");
    kz__db_close(&db);
    out_path(fx, "b.db", out, sizeof(out));
    assert_int_equal(kz_store_backup(fx->path, out, on_progress, &seen, err, sizeof(err)), KZ_OK);
    assert_true(seen.calls >= 2);
    assert_true(seen.total > 4096);
    assert_int_equal(seen.done, seen.total);
    assert_int_equal(sql_int(out, "SELECT count(*) FROM events"), 24);
}

static void backup_is_one_file(void **state)
{
    struct fx *fx = *state;
    char out[128], side[160], err[512];
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;

    make_store(fx, 1);
    out_path(fx, "b.db", out, sizeof(out));
    /* A stale WAL beside the target would be replayed into the new file. */
    snprintf(side, sizeof(side), "%s-wal", out);
    assert_int_equal(kz_write_file(side, "junk", 4, 0600, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_store_backup(fx->path, out, NULL, NULL, err, sizeof(err)), KZ_OK);
    assert_int_not_equal(access(side, F_OK), 0);
    assert_int_equal(sqlite3_open_v2(out, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "delete");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void backup_without_store_fails(void **state)
{
    struct fx *fx = *state;
    char out[128], err[512] = "";

    out_path(fx, "b.db", out, sizeof(out));
    assert_int_equal(kz_store_backup(fx->path, out, NULL, NULL, err, sizeof(err)), KZ_ERR_NOTFOUND);
    assert_non_null(strstr(err, "no store"));
    assert_int_not_equal(access(out, F_OK), 0);
}

static void check_refuses(struct fx *fx, const char *path, const char *why)
{
    char err[512] = "";

    (void)fx;
    assert_int_not_equal(kz_store_check(path, err, sizeof(err)), KZ_OK);
    if (!strstr(err, why))
        fail_msg("expected \"%s\" in \"%s\"", why, err);
}

static void check_refuses_garbage(void **state)
{
    struct fx *fx = *state;
    char path[128], err[512];
    static const char text[] = "this is not a database, just some text long enough\n";

    out_path(fx, "g.db", path, sizeof(path));
    assert_int_equal(kz_write_file(path, text, sizeof(text) - 1, 0600, err, sizeof(err)), KZ_OK);
    check_refuses(fx, path, "not a kizuna store");
    out_path(fx, "missing.db", path, sizeof(path));
    check_refuses(fx, path, "cannot read");
}

static void check_refuses_other_database(void **state)
{
    struct fx *fx = *state;
    char path[128];
    sqlite3 *db = NULL;

    out_path(fx, "other.db", path, sizeof(path));
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "CREATE TABLE t(x)");
    sqlite3_close(db);
    check_refuses(fx, path, "not a kizuna store");
}

static void check_refuses_newer_schema(void **state)
{
    struct fx *fx = *state;
    char out[128], sql[64], err[512];
    sqlite3 *db = NULL;

    make_store(fx, 1);
    out_path(fx, "b.db", out, sizeof(out));
    assert_int_equal(kz_store_backup(fx->path, out, NULL, NULL, err, sizeof(err)), KZ_OK);
    assert_int_equal(sqlite3_open(out, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%lld", (long long)kz__db_schema_latest() + 1);
    exec_ok(db, sql);
    sqlite3_close(db);
    check_refuses(fx, out, "newer than this kizuna's");
}

/* Zero the second half of the file: pages the schema points at are gone. */
static void check_refuses_corrupt_file(void **state)
{
    struct fx *fx = *state;
    char out[128], err[512];
    FILE *f;
    long size;

    make_store(fx, 2000);
    out_path(fx, "b.db", out, sizeof(out));
    assert_int_equal(kz_store_backup(fx->path, out, NULL, NULL, err, sizeof(err)), KZ_OK);
    assert_non_null(f = fopen(out, "r+b"));
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 8 * 4096);
    assert_int_equal(fseek(f, size / 2, SEEK_SET), 0);
    for (long i = size / 2; i < size; i++)
        fputc(0x5a, f);
    fclose(f);
    assert_int_not_equal(kz_store_check(out, err, sizeof(err)), KZ_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(backup_copies_committed_rows_only, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(backup_reports_progress, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(backup_is_one_file, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(backup_without_store_fails, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(check_refuses_garbage, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(check_refuses_other_database, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(check_refuses_newer_schema, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(check_refuses_corrupt_file, store_fx_setup,
                                        store_fx_teardown),
    };
    kz_log_min = KZ_LOG_ERROR;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
