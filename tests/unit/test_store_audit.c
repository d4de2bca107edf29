/* Unit tests for the hash-chained audit log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

static char dir[64], path[96];
static uv_loop_t loop;
static struct kz_store *st;

static void open_store(void)
{
    struct kz_store_opts o = {.path = path, .max_delay_ms = 5};
    assert_int_equal(kz_store_open(&loop, &o, &st), KZ_OK);
}

static void close_store(void)
{
    kz_store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
}

static int setup(void **state)
{
    (void)state;
    kz_log_min = KZ_LOG_ERROR;
    snprintf(dir, sizeof(dir), "/tmp/kz-audit-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/kizuna.db", dir);
    uv_loop_init(&loop);
    open_store();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    uv_loop_close(&loop);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void tamper(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void append_three(void)
{
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "policy=US"), KZ_OK);
    assert_int_equal(kz_store_audit(st, "admin", "config", "input:us", "nation=USA"), KZ_OK);
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "policy=JPN"), KZ_OK);
}

static void test_chain_and_last(void **state)
{
    (void)state;
    uint64_t n;
    int64_t bad;
    char *detail;

    append_three();
    assert_int_equal(kz_store_audit_verify(st, &n, &bad), KZ_OK);
    assert_int_equal(n, 3);
    assert_int_equal(kz_store_audit_last(st, "config", "labels", &detail), KZ_OK);
    assert_string_equal(detail, "policy=JPN");
    free(detail);
    assert_int_equal(kz_store_audit_last(st, "config", "nothing", &detail), KZ_ERR_NOTFOUND);
    assert_null(detail);
    close_store();
    open_store(); /* the chain continues across restarts */
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "policy=US"), KZ_OK);
    assert_int_equal(kz_store_audit_verify(st, &n, &bad), KZ_OK);
    assert_int_equal(n, 4);
    close_store();
}

static void test_edit_detected(void **state)
{
    (void)state;
    uint64_t n;
    int64_t bad;

    append_three();
    close_store();
    tamper("UPDATE audit SET detail = 'policy=NONE' WHERE id = 2");
    open_store();
    assert_int_equal(kz_store_audit_verify(st, &n, &bad), KZ_ERR_INVAL);
    assert_int_equal(bad, 2);
    assert_int_equal(n, 1);
    close_store();
}

static void test_removal_detected(void **state)
{
    (void)state;
    uint64_t n;
    int64_t bad;

    append_three();
    close_store();
    tamper("DELETE FROM audit WHERE id = 1");
    open_store();
    assert_int_equal(kz_store_audit_verify(st, &n, &bad), KZ_ERR_INVAL);
    assert_int_equal(bad, 2);
    close_store();
}

static int64_t count_on_disk(void)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t n = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit", -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void on_ack(void *ud, int status)
{
    assert_int_equal(status, KZ_OK);
    (*(int *)ud)++;
}

/*
 * A record goes through the store thread, in a batch with the events queued
 * before it, and is on disk when the call returns, however long the batch
 * window.
 */
static void test_written_by_the_store_thread(void **state)
{
    struct kz_store_opts o = {.path = path, .max_delay_ms = 60000};
    struct kz_event ev;
    int acked = 0;

    (void)state;
    close_store();
    assert_int_equal(kz_store_open(&loop, &o, &st), KZ_OK);
    kz_event_init(&ev);
    ev.uid = "u";
    ev.type = "a-f-G";
    ev.seq = 1;
    ev.recv_time = ev.time = ev.start = kz_now_us();
    ev.stale = ev.time + 60000000;
    kz_store_append(st, &ev, "<event/>", 8, on_ack, &acked);
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "policy=US"), KZ_OK);
    assert_int_equal(count_on_disk(), 1);
    while (acked == 0) /* the event committed in the same batch */
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(kz_store_audit(st, "admin", NULL, "labels", "x"), KZ_ERR_INVAL);
    close_store();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_and_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_written_by_the_store_thread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
