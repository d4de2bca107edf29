/*
 * Unit tests for the store's failures: a path it cannot open, input it
 * refuses, commits that fail (alone or with their whole batch) and kill -9
 * at an arbitrary point, which never loses an acknowledged event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/store.h"
#include "store_fixture.h"
#include "store_events.h"

static int setup(void **state)
{
    return store_fx_setup(state);
}

static int teardown(void **state)
{
    return store_fx_teardown(state);
}

static void test_unwritable_path(void **state)
{
    struct fx *fx = *state;
    struct kz_store *st = (struct kz_store *)1;
    struct kz_store_opts o = {"/nonexistent-kizuna-dir/sub/kizuna.db", 5, 0, 0, NULL, NULL, false};

    sqlite_only(fx); /* test_store_pgbackend.c: test_pg_unreachable */
    assert_int_equal(kz_store_open(&fx->loop, &o, &st), KZ_ERR_IO);
    assert_null(st);
    /* A directory where the file should be. */
    st = (struct kz_store *)1;
    o.path = fx->dir;
    assert_int_not_equal(kz_store_open(&fx->loop, &o, &st), KZ_OK);
    assert_null(st);
    o.path = NULL;
    assert_int_equal(kz_store_open(&fx->loop, &o, &st), KZ_ERR_INVAL);
}

static void test_commit_failure(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0}, bad = {0}, after = {0};
    struct kz_store_stats stats;

    open_store(fx, 20, 0, 0);
    append_now(fx, "a", 1, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);

    /* A duplicate seq is refused on its own; its batch-mates commit. */
    append_now(fx, "dup", 1, &bad);
    append_now(fx, "b", 2, &acks);
    assert_int_equal(run_until(fx, &acks.n, 2, 5000), 2);
    run_until(fx, &bad.n, 1, 5000);
    assert_int_equal(bad.last, KZ_ERR_DB);
    assert_int_equal(acks.ok, 2);

    /* A failure that aborts the transaction fails every record in it. */
    if (store_is_pg(fx->path))
        sql_exec(fx->path, "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                           " IF NEW.uid = 'boom' THEN RAISE EXCEPTION 'injected'; END IF;"
                           " RETURN NEW; END $$;"
                           "CREATE TRIGGER boom BEFORE INSERT ON events FOR EACH ROW"
                           " EXECUTE FUNCTION boom()");
    else
        sql_exec(fx->path, "CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.uid = 'boom'"
                           " BEGIN SELECT RAISE(ROLLBACK, 'injected'); END");
    bad = (struct store_acks){0};
    append_now(fx, "c", 3, &bad);
    append_now(fx, "boom", 4, &bad);
    append_now(fx, "d", 5, &bad);
    assert_int_equal(run_until(fx, &bad.n, 3, 5000), 3);
    assert_int_equal(bad.ok, 0);
    assert_int_equal(bad.last, KZ_ERR_DB);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events WHERE seq >= 3"), 0);
    kz_store_stats(fx->st, &stats);
    assert_int_equal(stats.errors, 2);
    assert_int_equal(stats.committed, 2);

    /* The store carries on. */
    sql_exec(fx->path, store_is_pg(fx->path) ? "DROP TRIGGER boom ON events" : "DROP TRIGGER boom");
    append_now(fx, "c", 3, &after);
    assert_int_equal(run_until(fx, &after.n, 1, 5000), 1);
    assert_int_equal(after.last, KZ_OK);
}

static void test_bad_input(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct kz_event ev;

    open_store(fx, 5, 0, 0);
    memset(&ev, 0, sizeof(ev));
    ev.type = (char *)"a-f-G"; /* no uid */
    kz_store_append(fx->st, &ev, "<event/>", 8, store_on_ack, &acks);
    assert_int_equal(acks.n, 0);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    assert_int_equal(acks.last, KZ_ERR_INVAL);
    kz_store_delete_track(fx->st, NULL);
}

static void on_ack_report(void *ud, int status)
{
    uint64_t seq = (uint64_t)(uintptr_t)ud;

    if (status == KZ_OK && write(STDOUT_FILENO, &seq, sizeof(seq)) != sizeof(seq))
        _exit(3);
}

/* The child: append forever, reporting each acked seq on stdout (a pipe). */
static _Noreturn void writer_child(const char *path)
{
    struct kz_store_opts o = {path, 5, 0, 0, NULL, store_is_pg(path) ? "test-node" : NULL, false};
    struct kz_store *st;
    struct kz_event ev;
    uv_loop_t loop;
    char xml[128];

    kz_log_min = KZ_LOG_ERROR;
    if (uv_loop_init(&loop) != 0 || kz_store_open(&loop, &o, &st) != KZ_OK)
        _exit(2);
    memset(&ev, 0, sizeof(ev));
    ev.uid = (char *)"k9";
    ev.type = (char *)"a-f-G";
    for (uint64_t seq = 1;; seq++) {
        int n =
            snprintf(xml, sizeof(xml), "<event uid=\"k9\" seq=\"%llu\"/>", (unsigned long long)seq);
        ev.seq = seq;
        ev.recv_time = kz_now_us();
        ev.stale = ev.recv_time + HOUR;
        kz_store_append(st, &ev, xml, (size_t)n, on_ack_report, (void *)(uintptr_t)seq);
        if (seq % 100 == 0)
            uv_run(&loop, UV_RUN_ONCE);
    }
}

/* kill -9 at an arbitrary point never loses an acknowledged event. */
static void test_kill9_keeps_acked(void **state)
{
    struct fx *fx = *state;
    uint64_t seq, acked = 0, max_acked = 0;
    int fds[2], wstatus;
    char sql[96];
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        writer_child(fx->path);
    }
    close(fds[1]);
    while (acked < 3000 && read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) {
        assert_int_equal(seq, max_acked + 1); /* acks come in order */
        max_acked = seq;
        acked++;
    }
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFSIGNALED(wstatus));
    while (read(fds[0], &seq, sizeof(seq)) == sizeof(seq))
        max_acked = seq;
    close(fds[0]);
    assert_true(max_acked >= 3000);

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE seq <= %llu",
             (unsigned long long)max_acked);
    assert_int_equal(sql_int(fx->path, sql), max_acked);
    if (store_is_pg(fx->path)) { /* the tracks table is written in every batch */
        assert_int_equal(sql_int(fx->path, "SELECT seq FROM tracks WHERE uid = 'k9'"),
                         sql_int(fx->path, "SELECT max(seq) FROM events"));
        return;
    }
    /* The tracks table follows the log lazily; opening brings it up to date. */
    open_store(fx, 5, 0, 0);
    assert_true(sql_int(fx->path, "SELECT seq FROM tracks WHERE uid = 'k9'") >= (int64_t)max_acked);
    assert_int_equal(sql_int(fx->path, "SELECT value FROM store_marks WHERE name = 'tracks_seq'"),
                     sql_int(fx->path, "SELECT max(seq) FROM events"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unwritable_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_keeps_acked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
