/*
 * Unit tests for the tracks table following the log lazily (store/tracks.c,
 * store/latest.c, migration 14): while the store runs, each uid's newest
 * event waits in memory; closing writes it, and a process that dies first
 * loses nothing, because opening rebuilds it from the log after tracks_seq.
 * A deletion writes what waits before deleting, so a deleted track never
 * comes back, and a rolled-back batch leaves nothing behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/internal.h"
#include "store_fixture.h"
#include "store_events.h"

#define MARK "SELECT value FROM store_marks WHERE name = 'tracks_seq'"

static int64_t track_seq(struct fx *fx, const char *uid)
{
    char sql[96];

    snprintf(sql, sizeof(sql), "SELECT seq FROM tracks WHERE uid = '%s'", uid);
    return sql_int(fx->path, sql);
}

struct loaded {
    size_t n;
    char uid[8][8];
    uint64_t seq[8];
};

static void on_track(void *ud, uint64_t seq, const char *xml, size_t len, const char *label,
                     const struct kz_store_origin *o)
{
    struct loaded *l = ud;
    const char *u = strstr(xml, "uid=\"");

    KZ_UNUSED(len);
    KZ_UNUSED(label);
    KZ_UNUSED(o);
    assert_non_null(u);
    assert_true(l->n < 8);
    snprintf(l->uid[l->n], sizeof(l->uid[0]), "%.*s", (int)strcspn(u + 5, "\""), u + 5);
    l->seq[l->n++] = seq;
}

/* Events wait in memory while the store runs; closing writes them; opening loads them. */
static void test_table_follows_on_close(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct loaded l = {0};

    sqlite_only(fx); /* PostgreSQL writes the table in every batch */
    open_store(fx, 1, 0, 0);
    for (uint64_t s = 1; s <= 100; s++)
        append_now(fx, s % 2 ? "odd" : "even", s, &acks);
    assert_int_equal(run_until(fx, &acks.n, 100, 5000), 100);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 100);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 0);
    assert_int_equal(sql_int(fx->path, MARK), 0);
    close_store(fx);
    assert_int_equal(track_seq(fx, "odd"), 99);
    assert_int_equal(track_seq(fx, "even"), 100);
    assert_int_equal(sql_int(fx->path, MARK), 100);

    open_store(fx, 1, 0, 0);
    assert_int_equal(kz_store_load(fx->st, kz_now_us(), on_track, &l, NULL), KZ_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.uid[0], "odd");
    assert_int_equal(l.seq[0], 99);
    assert_string_equal(l.uid[1], "even");
}

static void append_xml(struct fx *fx, uint64_t seq, const char *xml, struct store_acks *acks)
{
    struct kz_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.uid = (char *)"u";
    ev.type = (char *)"a-f-G-U-C";
    ev.seq = seq;
    ev.recv_time = ev.time = ev.start = kz_now_us();
    ev.stale = ev.recv_time + HOUR;
    kz_store_append(fx->st, &ev, xml, strlen(xml), store_on_ack, acks);
}

/* A uid's newest event replaces the one held, shorter or longer. */
static void test_newest_replaces(void **state)
{
    static const char *const xml[] = {
        "<event uid=\"u\"><detail>a long one</detail></event>", "<event uid=\"u\"/>",
        "<event uid=\"u\"><detail>longer than all before</detail></event>",
        "<event uid=\"u\" n=\"4\"/>"};
    struct fx *fx = *state;
    struct store_acks acks = {0};

    open_store(fx, 1, 0, 0);
    for (size_t i = 0; i < KZ_ARRAY_LEN(xml); i++) {
        append_xml(fx, i + 1, xml[i], &acks);
        assert_int_equal(run_until(fx, &acks.n, i + 1, 5000), i + 1); /* one batch each */
    }
    close_store(fx);
    assert_int_equal(track_seq(fx, "u"), 4);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks WHERE xml = "
                                       "'<event uid=\"u\" n=\"4\"/>'"),
                     1);
}

/* In a child that exits without closing the store (as kill -9 would), after every ack. */
static void child_then_die(struct fx *fx)
{
    struct store_acks acks = {0}, bad = {0};

    kz_log_min = KZ_LOG_ERROR;
    if (uv_loop_init(&fx->loop) != 0)
        _exit(2);
    open_store(fx, 1, 0, 0);
    append_now(fx, "u1", 1, &acks);
    append_now(fx, "u2", 2, &acks);
    append_now(fx, "u3", 3, &acks);
    if (run_until(fx, &acks.n, 3, 5000) != 3)
        _exit(3);
    kz_store_delete_track(fx->st, "u2");
    append_now(fx, "u1", 5, &acks);
    append_now(fx, "u2", 3, &bad); /* refused: seq 3 is u3's */
    if (run_until(fx, &acks.n, 4, 5000) != 4 || run_until(fx, &bad.n, 1, 5000) != 1 || bad.ok)
        _exit(4);
    _exit(acks.ok == 4 ? 0 : 5);
}

/* A deletion writes what waits first; after a crash the table is rebuilt without it. */
static void test_crash_after_delete(void **state)
{
    struct fx *fx = *state;
    int wstatus;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0)
        child_then_die(fx);
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus));
    assert_int_equal(WEXITSTATUS(wstatus), 0);
    if (store_is_pg(fx->path)) { /* every batch wrote the table: all of it is there */
        assert_int_equal(track_seq(fx, "u1"), 5);
        assert_int_equal(track_seq(fx, "u2"), -1);
        assert_int_equal(track_seq(fx, "u3"), 3);
        return;
    }
    /* What the child's deletion wrote, and no more. */
    assert_int_equal(track_seq(fx, "u1"), 1);
    assert_int_equal(track_seq(fx, "u2"), -1);
    assert_int_equal(track_seq(fx, "u3"), 3);
    assert_int_equal(sql_int(fx->path, MARK), 3);

    open_store(fx, 1, 0, 0);
    assert_int_equal(track_seq(fx, "u1"), 5);
    assert_int_equal(track_seq(fx, "u2"), -1);
    assert_int_equal(track_seq(fx, "u3"), 3);
    assert_int_equal(sql_int(fx->path, MARK), 5);
}

/*
 * A batch that fails while writing the table (here at the mark) is rolled
 * back, and what it put in memory goes with it: a later flush writes only
 * committed events.
 */
static void test_rolled_back_flush(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0}, bad = {0};

    sqlite_only(fx); /* the mark and `latest` are SQLite's */
    open_store(fx, 20, 0, 0);
    append_now(fx, "u1", 1, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    sql_exec(fx->path, "CREATE TRIGGER boom BEFORE UPDATE ON store_marks"
                       " BEGIN SELECT RAISE(ROLLBACK, 'injected'); END");
    append_now(fx, "u2", 2, &bad);
    kz_store_delete_track(fx->st, "u9"); /* flushes, in the same batch */
    assert_int_equal(run_until(fx, &bad.n, 1, 5000), 1);
    assert_int_equal(bad.ok, 0);
    sql_exec(fx->path, "DROP TRIGGER boom");
    append_now(fx, "u3", 5, &acks);
    assert_int_equal(run_until(fx, &acks.n, 2, 5000), 2);
    close_store(fx);

    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 2);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 2);
    assert_int_equal(track_seq(fx, "u1"), 1);
    assert_int_equal(track_seq(fx, "u2"), -1);
    assert_int_equal(track_seq(fx, "u3"), 5);
}

/* A database whose mark is gone cannot say what the tracks table holds: it does not open. */
static void test_no_mark_no_open(void **state)
{
    struct fx *fx = *state;
    struct kz_store_opts o = {fx->path, 1, 0, 0, NULL, NULL, false};
    struct kz_store *st = NULL;

    sqlite_only(fx); /* store_marks is SQLite's */
    open_store(fx, 1, 0, 0);
    close_store(fx);
    sql_exec(fx->path, "DROP TABLE store_marks");
    assert_int_equal(kz_store_open(&fx->loop, &o, &st), KZ_ERR_DB);
    assert_null(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table_follows_on_close, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_newest_replaces, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_delete, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_flush, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_mark_no_open, store_fx_setup, store_fx_teardown),
    };

    kz__store_tracks_every_us = 3600 * 1000000LL; /* never while a test runs */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
