/*
 * Unit tests for the store's write path at volume: a batch's events and
 * latest-state rows go in multi-row statements (a few per batch, not one
 * per event), and that changes nothing a caller sees: a refused row still
 * fails alone, an event without a seq still gets the database's, a late
 * event never replaces a newer track, and deletions keep queue order.  The
 * tracks table carries no index beyond its key (migration 12).
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

#include "store/internal.h"
#include "store_fixture.h"

#define HOUR (3600 * 1000000LL)

static void append(struct fx *fx, const char *uid, uint64_t seq, struct store_acks *acks)
{
    struct kz_event ev;
    char xml[128];
    int n = snprintf(xml, sizeof(xml), "<event uid=\"%s\" seq=\"%llu\"/>", uid,
                     (unsigned long long)seq);

    memset(&ev, 0, sizeof(ev));
    ev.uid = (char *)uid;
    ev.type = (char *)"a-f-G-U-C";
    ev.access = (char *)"SECRET//REL TO USA, JPN";
    ev.seq = seq;
    ev.recv_time = ev.time = ev.start = kz_now_us();
    ev.stale = ev.recv_time + HOUR;
    ev.origin_input = (char *)"cot-us";
    ev.origin_nation = (char *)"USA";
    kz_store_append(fx->st, &ev, xml, (size_t)n, store_on_ack, acks);
}

static void append_uid(struct fx *fx, unsigned u, uint64_t seq, struct store_acks *acks)
{
    char uid[32];

    snprintf(uid, sizeof(uid), "u%u", u);
    append(fx, uid, seq, acks);
}

static int64_t track_seq(struct fx *fx, const char *uid)
{
    char sql[96];

    snprintf(sql, sizeof(sql), "SELECT seq FROM tracks WHERE uid = '%s'", uid);
    return sql_int(fx->path, sql);
}

static int count_inserts(unsigned type, void *ud, void *p, void *x)
{
    const char *sql = sqlite3_sql(p);

    KZ_UNUSED(x);
    /* The points (store/geo.c: one multi-row statement per statement of events, and the
     * R*Tree's own on its shadow tables) do not count. */
    if (type == SQLITE_TRACE_STMT && sql && strncmp(sql, "INSERT", 6) == 0 &&
        !strstr(sql, "events_geo"))
        ++*(size_t *)ud;
    return 0;
}

/* Every INSERT the store's connection runs from now on counts in *n. */
static void trace_inserts(struct fx *fx, size_t *n)
{
    uv_mutex_lock(&fx->st->db_mu);
    sqlite3_trace_v2(fx->st->db.db, SQLITE_TRACE_STMT, count_inserts, n);
    uv_mutex_unlock(&fx->st->db_mu);
}

/* 1000 events from 100 units in one batch: a few dozen INSERTs, not 1100. */
static void test_few_statements_per_batch(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct kz_store_stats stats;
    size_t inserts = 0;

    sqlite_only(fx); /* it counts SQLite's statements */
    open_store(fx, 300, 0, 0);
    trace_inserts(fx, &inserts);
    for (unsigned i = 0; i < 1000; i++)
        append_uid(fx, i % 100, i + 1, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1000, 10000), 1000);
    assert_int_equal(acks.ok, 1000);
    kz_store_stats(fx->st, &stats);
    assert_int_equal(stats.batches, 1);
    assert_true(inserts <= 1100 / 16);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 1000);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 100);
    assert_int_equal(track_seq(fx, "u7"), 908);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events WHERE uid = 'u7'"), 10);
    trace_inserts(fx, NULL);
}

/*
 * A duplicate seq in the middle of a run of events is refused alone: the
 * rows before and after it commit, and an event without a seq among them
 * gets the next one from the database.
 */
static void test_refused_row_in_a_run(void **state)
{
    struct fx *fx = *state;
    struct store_acks pre = {0}, acks = {0};
    struct kz_store_stats stats;

    open_store(fx, 300, 0, 0);
    append(fx, "pre", 20, &pre);
    assert_int_equal(run_until(fx, &pre.n, 1, 5000), 1);
    for (unsigned seq = 1; seq <= 40; seq++)
        append_uid(fx, seq, seq, &acks);
    append(fx, "auto", 0, &acks);
    for (unsigned seq = 42; seq <= 50; seq++)
        append_uid(fx, seq, seq, &acks);
    assert_int_equal(run_until(fx, &acks.n, 50, 5000), 50);
    assert_int_equal(acks.ok, 49);
    kz_store_stats(fx->st, &stats);
    assert_int_equal(stats.batches, 2);
    assert_int_equal(stats.committed, 50);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 50);
    assert_int_equal(sql_int(fx->path, "SELECT uid = 'pre' FROM events WHERE seq = 20"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT seq FROM events WHERE uid = 'auto'"), 41);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events WHERE uid = 'u20'"), 0);
    /* The refused event left the latest state alone. */
    assert_int_equal(track_seq(fx, "u20"), -1);
    assert_int_equal(track_seq(fx, "u19"), 19);
    assert_int_equal(track_seq(fx, "u21"), 21);
    assert_int_equal(track_seq(fx, "auto"), 41);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 50);
}

/*
 * Many uids in one batch: late events do not replace newer rows, a delete
 * wipes what came before it and not what came after.
 */
static void test_tracks_in_one_batch(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};

    open_store(fx, 300, 0, 0);
    for (unsigned u = 0; u < 50; u++)
        append_uid(fx, u, 100 + u, &acks);
    assert_int_equal(run_until(fx, &acks.n, 50, 5000), 50);

    for (unsigned u = 0; u < 50; u++)
        append_uid(fx, u, 1 + u, &acks); /* older than what is stored */
    for (unsigned u = 50; u < 100; u++)
        append_uid(fx, u, 200 + u, &acks);
    kz_store_delete_track(fx->st, "u10");
    append_uid(fx, 10, 400, &acks);
    append_uid(fx, 60, 401, &acks);
    kz_store_delete_track(fx->st, "u60");
    append_uid(fx, 70, 402, &acks);
    assert_int_equal(run_until(fx, &acks.n, 153, 5000), 153);
    assert_int_equal(acks.ok, 153);

    assert_int_equal(track_seq(fx, "u0"), 100);
    assert_int_equal(track_seq(fx, "u49"), 149);
    assert_int_equal(track_seq(fx, "u10"), 400);
    assert_int_equal(track_seq(fx, "u60"), -1);
    assert_int_equal(track_seq(fx, "u70"), 402);
    assert_int_equal(track_seq(fx, "u99"), 299);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 99);
    assert_int_equal(sql_int(fx->path, "SELECT xml = '<event uid=\"u70\" seq=\"402\"/>'"
                                       " FROM tracks WHERE uid = 'u70'"),
                     1);
}

/* Indexes on tracks besides its key; each costs every upsert an entry moved. */
#define TRACKS_INDEXES                                                                             \
    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tracks'"              \
    " AND sql IS NOT NULL"

/* Migration 12 drops tracks(stale), also from a database that had it. */
static void test_tracks_only_keyed(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};

    sqlite_only(fx); /* SQLite's migrations 12 and 13 */
    open_store(fx, 5, 0, 0);
    append_uid(fx, 1, 1, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    assert_int_equal(sql_int(fx->path, TRACKS_INDEXES), 0);
    close_store(fx);

    sql_exec(fx->path, UNDO_MIGRATION_13 "CREATE INDEX tracks_stale ON tracks(stale);"
                                         "PRAGMA user_version=11;");
    open_store(fx, 5, 0, 0);
    assert_int_equal(sql_int(fx->path, TRACKS_INDEXES), 0);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), kz__db_schema_latest());
    assert_int_equal(track_seq(fx, "u1"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_few_statements_per_batch, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_refused_row_in_a_run, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_tracks_in_one_batch, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_tracks_only_keyed, store_fx_setup, store_fx_teardown),
    };

    kz__store_tracks_every_us = 0; /* the tests read the tracks table while the store is open */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
