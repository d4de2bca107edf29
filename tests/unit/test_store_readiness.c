/*
 * Unit tests for the readiness table: a report is acknowledged only after
 * its batch commits (checked from a second connection inside the ack),
 * shares batches with events, is read back in commit order after a reopen
 * (with the reporter's groups; none for a row from before they were
 * stored), and a refused row fails alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/internal.h"
#include "store_fixture.h"

#define SEC 1000000LL

static int setup(void **state)
{
    return store_fx_setup(state);
}

static int teardown(void **state)
{
    return store_fx_teardown(state);
}

struct acks {
    const char *path; /* when set, each ack checks that its row is on disk */
    size_t n, ok, on_disk;
    int last_status;
};

static void on_ack(void *ud, int status)
{
    struct acks *a = ud;

    a->n++;
    a->ok += status == KZ_OK;
    a->last_status = status;
    if (a->path && status == KZ_OK)
        a->on_disk += sql_int(a->path, "SELECT count(*) FROM readiness") >= (int64_t)a->ok;
}

static struct kz_store_readiness report(const char *unit, int64_t time_us, uint8_t level)
{
    return (struct kz_store_readiness){
        .unit = unit,
        .time_us = time_us,
        .recv_us = time_us + SEC,
        .p = 1,
        .s = level,
        .r = 2,
        .t = 1,
        .overall = level > 2 ? level : 2,
        .remarks = "hull maintenance",
        .label = "SECRET//REL TO USA, JPN",
        .originator = "USA",
        .reporter = "us-user",
        .groups = "[\"Cyan\"]",
    };
}

static void test_ack_after_commit(void **state)
{
    struct fx *fx = *state;
    struct acks acks = {.path = fx->path};
    struct kz_store_readiness r = report("C7F", 1000 * SEC, 3);
    struct kz_store_stats stats;

    open_store(fx, 200, 0, 0);
    kz_store_readiness_append(fx->st, &r, on_ack, &acks);
    /* Never from inside the call; not before the batch window has passed. */
    assert_int_equal(acks.n, 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM readiness"), 0);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    assert_int_equal(acks.last_status, KZ_OK);
    assert_int_equal(acks.on_disk, 1);
    /* Readiness rows are not events: the event counters stay at zero. */
    kz_store_stats(fx->st, &stats);
    assert_int_equal(stats.appended, 0);
    assert_int_equal(stats.errors, 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 0);
}

/* Reports and events in one batch: both commit, the tracks see only the event. */
static void test_mixed_batch(void **state)
{
    struct fx *fx = *state;
    struct acks acks = {0};
    struct kz_store_readiness r = report("C7F", 1000 * SEC, 1);
    struct kz_event ev;
    const char xml[] = "<event uid=\"e1\"/>";

    open_store(fx, 50, 0, 0);
    memset(&ev, 0, sizeof(ev));
    ev.uid = (char *)"e1";
    ev.type = (char *)"a-f-G";
    ev.seq = 1;
    ev.recv_time = kz_now_us();
    ev.stale = ev.recv_time + 3600 * SEC;
    kz_store_readiness_append(fx->st, &r, on_ack, &acks);
    kz_store_append(fx->st, &ev, xml, sizeof(xml) - 1, on_ack, &acks);
    kz_store_readiness_append(fx->st, &r, on_ack, &acks);
    assert_int_equal(run_until(fx, &acks.n, 3, 5000), 3);
    assert_int_equal(acks.ok, 3);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM readiness"), 2);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 1);
}

struct loaded {
    size_t n;
    char units[8][16];
    int64_t times[8];
    uint8_t overall[8];
    bool fields_ok;
    bool legacy; /* rows without groups are expected */
};

static void on_row(void *ud, const struct kz_store_readiness *r)
{
    struct loaded *l = ud;

    if (l->n >= 8)
        return;
    snprintf(l->units[l->n], sizeof(l->units[0]), "%s", r->unit);
    l->times[l->n] = r->time_us;
    l->overall[l->n] = r->overall;
    l->fields_ok &= r->recv_us == r->time_us + SEC && r->p == 1 && r->r == 2 && r->t == 1 &&
                    strcmp(r->label, "SECRET//REL TO USA, JPN") == 0 &&
                    strcmp(r->originator, "USA") == 0 && strcmp(r->reporter, "us-user") == 0 &&
                    strcmp(r->remarks, "hull maintenance") == 0 && r->override_reason == NULL &&
                    (r->groups ? strcmp(r->groups, "[\"Cyan\"]") == 0 : l->legacy);
    l->n++;
}

/* What was acknowledged comes back after a reopen, in commit order. */
static void test_reload(void **state)
{
    struct fx *fx = *state;
    struct acks acks = {0};
    struct loaded l = {.fields_ok = true};
    const char *units[] = {"C7F", "IIIMEF", "C7F", "C7F"};
    const int64_t times[] = {3000 * SEC, 1000 * SEC, 1000 * SEC, 2000 * SEC};

    open_store(fx, 5, 0, 0);
    for (size_t i = 0; i < KZ_ARRAY_LEN(units); i++) {
        struct kz_store_readiness r = report(units[i], times[i], (uint8_t)(i + 1));
        kz_store_readiness_append(fx->st, &r, on_ack, &acks);
    }
    assert_int_equal(run_until(fx, &acks.n, 4, 5000), 4);
    assert_int_equal(acks.ok, 4);
    close_store(fx);

    open_store(fx, 5, 0, 0);
    assert_int_equal(kz_store_readiness_load(fx->st, on_row, &l), KZ_OK);
    assert_int_equal(l.n, 4);
    assert_true(l.fields_ok);
    for (size_t i = 0; i < KZ_ARRAY_LEN(units); i++) {
        assert_string_equal(l.units[i], units[i]);
        assert_int_equal(l.times[i], times[i]);
        assert_int_equal(l.overall[i], i + 1 > 2 ? i + 1 : 2);
    }
}

/* The migration that added readiness.groups_out (store/migrate.c). */
#define GROUPS_MIGRATION 5

/* A database from before migration 5 (no groups column) opens, and its rows load without groups. */
static void test_old_schema(void **state)
{
    struct fx *fx = *state;
    struct acks acks = {0};
    struct loaded l = {.fields_ok = true, .legacy = true};
    struct kz_store_readiness r = report("C7F", 1000 * SEC, 1);
    int64_t version;
    char sql[1024];

    sqlite_only(fx); /* SQLite's migrations */
    open_store(fx, 5, 0, 0);
    kz_store_readiness_append(fx->st, &r, on_ack, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    close_store(fx);
    version = sql_int(fx->path, "PRAGMA user_version");
    /* Undo this migration and the ones after it (6: the events' and tracks' origins; 7: plans;
     * 8, the readiness rebuild, runs again on the table as it is; 9: federation; 10: files). */
    snprintf(sql, sizeof(sql),
             UNDO_MIGRATIONS_9_ON
             "DROP TABLE plans; DROP INDEX audit_object;"
             "ALTER TABLE readiness DROP COLUMN groups_out;"
             "ALTER TABLE events DROP COLUMN origin_nation;"
             "ALTER TABLE events DROP COLUMN origin_groups;"
             "ALTER TABLE tracks DROP COLUMN origin_nation;"
             "ALTER TABLE tracks DROP COLUMN origin_groups; PRAGMA user_version=%d;",
             GROUPS_MIGRATION - 1);
    sql_exec(fx->path, sql);

    open_store(fx, 5, 0, 0);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), version);
    kz_store_readiness_append(fx->st, &r, on_ack, &acks);
    assert_int_equal(run_until(fx, &acks.n, 2, 5000), 2);
    assert_int_equal(kz_store_readiness_load(fx->st, on_row, &l), KZ_OK);
    assert_int_equal(l.n, 2);
    assert_true(l.fields_ok);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM readiness WHERE groups_out IS NULL"),
                     1);
}

/* A report the schema refuses fails alone; one missing its label never reaches the queue. */
static void test_refused(void **state)
{
    struct fx *fx = *state;
    struct acks bad = {0}, good = {0};
    struct kz_store_readiness r = report("C7F", 1000 * SEC, 1);
    struct kz_store_readiness out_of_range = report("C7F", 1000 * SEC, 1);
    struct kz_store_readiness no_label = report("C7F", 1000 * SEC, 1);

    open_store(fx, 20, 0, 0);
    out_of_range.p = 9;
    no_label.label = NULL;
    kz_store_readiness_append(fx->st, &no_label, on_ack, &bad);
    assert_int_equal(bad.n, 0);
    assert_int_equal(run_until(fx, &bad.n, 1, 5000), 1);
    assert_int_equal(bad.last_status, KZ_ERR_INVAL);

    bad = (struct acks){0};
    kz_store_readiness_append(fx->st, &out_of_range, on_ack, &bad);
    kz_store_readiness_append(fx->st, &r, on_ack, &good);
    assert_int_equal(run_until(fx, &good.n, 1, 5000), 1);
    assert_int_equal(run_until(fx, &bad.n, 1, 5000), 1);
    assert_int_equal(good.last_status, KZ_OK);
    assert_int_equal(bad.last_status, KZ_ERR_DB);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM readiness"), 1);
}

/* Closing flushes what is queued and acks it before kz_store_close returns. */
static void test_close_flushes(void **state)
{
    struct fx *fx = *state;
    struct acks acks = {0};
    struct kz_store_readiness r = report("C7F", 1000 * SEC, 1);

    open_store(fx, 10000, 0, 0);
    kz_store_readiness_append(fx->st, &r, on_ack, &acks);
    kz_store_close(fx->st);
    fx->st = NULL;
    assert_int_equal(acks.n, 1);
    assert_int_equal(acks.last_status, KZ_OK);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM readiness"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ack_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_flushes, setup, teardown),
    };
    kz_log_min = KZ_LOG_ERROR;
    kz__store_tracks_every_us = 0; /* the tests read the tracks table while the store is open */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
