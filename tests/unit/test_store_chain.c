/*
 * Unit tests for a uid's history as a chain through the log (store/heads.c,
 * migration 13): every row names its uid's previous row and uid_heads each
 * uid's newest, across batches, restarts, refused rows and rolled-back
 * batches; a query for one uid walks the chain with the other filters; the
 * migration links a log written before it; retention drops the heads of
 * uids with no rows left.
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
#include "store_events.h"

#define T0 (1700000000 * SEC)

/* Rows whose uid_prev is not the previous row of the same uid. */
#define BROKEN_LINKS                                                                               \
    "SELECT count(*) FROM (SELECT uid_prev, lag(seq) OVER (PARTITION BY uid ORDER BY seq) AS p"    \
    " FROM events) WHERE uid_prev IS NOT p"
/* uids whose head is not their newest row. */
#define BAD_HEADS                                                                                  \
    "SELECT (SELECT count(*) FROM (SELECT uid, max(seq) AS m FROM events GROUP BY uid) e"          \
    " LEFT JOIN uid_heads h USING (uid) WHERE h.seq IS NOT e.m)"                                   \
    " + (SELECT count(*) FROM uid_heads WHERE uid NOT IN (SELECT uid FROM events))"

/* seq (0: the database picks) from uid, received at T0 + seq s, with `type`. */
static void log_one(struct fx *fx, const char *uid, const char *type, uint64_t seq,
                    struct store_acks *acks)
{
    int64_t recv = T0 + (int64_t)seq * SEC;

    append(fx, uid, type, seq, recv, recv + HOUR, acks);
}

static void append_all(struct fx *fx, const char *const *uids, size_t n_uids, uint64_t from,
                       uint64_t to)
{
    struct store_acks acks = {0};

    for (uint64_t s = from; s <= to; s++)
        log_one(fx, uids[s % n_uids], s % 2 ? "a-f-G" : "a-h-A", s, &acks);
    assert_int_equal(run_until(fx, &acks.n, to - from + 1, 5000), to - from + 1);
    assert_int_equal(acks.ok, to - from + 1);
}

struct result {
    size_t calls, n;
    int status;
    uint64_t seq[64];
};

static void on_rows(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct result *r = ud;

    r->calls++;
    r->status = status;
    r->n = n;
    for (size_t i = 0; i < n && i < KZ_ARRAY_LEN(r->seq); i++)
        r->seq[i] = rows[i].seq;
}

static struct result run_query(struct fx *fx, const struct kz_store_query *q)
{
    struct result r = {0};

    kz_store_query(fx->st, q, on_rows, &r);
    run_until(fx, &r.calls, 1, 5000);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, KZ_OK);
    return r;
}

static void assert_seqs(const struct result *r, const uint64_t *want, size_t n)
{
    assert_int_equal(r->n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(r->seq[i], want[i]);
}

/* Three uids over many batches and a restart: each history is whole, the links all right. */
static void test_history_across_batches_and_restart(void **state)
{
    static const char *const uids[] = {"a", "b", "c"};
    struct fx *fx = *state;

    open_store(fx, 1, 0, 0);
    for (uint64_t s = 1; s <= 30; s += 5)
        append_all(fx, uids, 3, s, s + 4);
    close_store(fx);
    open_store(fx, 1, 0, 0);
    append_all(fx, uids, 3, 31, 36);

    struct result r = run_query(fx, &(struct kz_store_query){.uid = "b", .limit = 100});
    assert_int_equal(r.n, 12);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.seq[i], 34 - 3 * i);
    assert_int_equal(sql_int(fx->path, BROKEN_LINKS), 0);
    assert_int_equal(sql_int(fx->path, BAD_HEADS), 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM uid_heads"), 3);
}

/* Paging, the type filter, since/until and the forward read, on a walk. */
static void test_walk_filters(void **state)
{
    static const char *const uids[] = {"a", "b"};
    struct fx *fx = *state;
    struct result r;

    open_store(fx, 1, 0, 0);
    append_all(fx, uids, 2, 1, 20); /* a: even seqs (a-h-A), b: odd seqs (a-f-G) */

    r = run_query(fx, &(struct kz_store_query){.uid = "a", .limit = 3});
    assert_seqs(&r, (uint64_t[]){20, 18, 16}, 3);
    r = run_query(fx, &(struct kz_store_query){.uid = "a", .limit = 3, .before_seq = 16});
    assert_seqs(&r, (uint64_t[]){14, 12, 10}, 3);
    r = run_query(fx, &(struct kz_store_query){.uid = "b", .type = "a-f-*", .limit = 2});
    assert_seqs(&r, (uint64_t[]){19, 17}, 2);
    r = run_query(fx, &(struct kz_store_query){.uid = "b", .type = "a-h-A", .limit = 10});
    assert_int_equal(r.n, 0);
    r = run_query(
        fx, &(struct kz_store_query){
                .uid = "a", .since_us = T0 + 6 * SEC, .until_us = T0 + 12 * SEC, .limit = 10});
    assert_seqs(&r, (uint64_t[]){10, 8, 6}, 3);
    r = run_query(
        fx, &(struct kz_store_query){.uid = "a", .forward = true, .after_seq = 13, .limit = 2});
    assert_seqs(&r, (uint64_t[]){14, 16}, 2);
    r = run_query(fx, &(struct kz_store_query){.uid = "nobody", .limit = 10});
    assert_int_equal(r.n, 0);
}

/* A refused row (a duplicate seq) and an event the database numbers keep the chain whole. */
static void test_refused_and_numbered_rows(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0}, bad = {0};

    open_store(fx, 20, 0, 0);
    log_one(fx, "a", "a-f-G", 1, &acks);
    log_one(fx, "a", "a-f-G", 2, &acks);
    assert_int_equal(run_until(fx, &acks.n, 2, 5000), 2);
    acks = (struct store_acks){0};
    log_one(fx, "a", "a-f-G", 3, &acks);
    log_one(fx, "a", "a-f-G", 2, &bad); /* refused: seq 2 exists */
    log_one(fx, "a", "a-f-G", 4, &acks);
    log_one(fx, "a", "a-f-G", 0, &acks); /* the database picks 5 */
    log_one(fx, "a", "a-f-G", 6, &acks);
    assert_int_equal(run_until(fx, &acks.n, 4, 5000), 4);
    run_until(fx, &bad.n, 1, 5000);
    assert_int_equal(acks.ok, 4);
    assert_int_equal(bad.ok, 0);

    struct result r = run_query(fx, &(struct kz_store_query){.uid = "a", .limit = 10});
    assert_seqs(&r, (uint64_t[]){6, 5, 4, 3, 2, 1}, 6);
    assert_int_equal(sql_int(fx->path, BROKEN_LINKS), 0);
    assert_int_equal(sql_int(fx->path, BAD_HEADS), 0);
}

/* Hundreds of events the database numbers, in one batch, each linked to the one before;
 * one it refuses among them links nothing. */
static void test_numbered_batch(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};

    struct store_acks bad = {0};

    open_store(fx, 200, 0, 0);
    sql_exec(fx->path, "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.uid = 'bad'"
                       " BEGIN SELECT RAISE(FAIL, 'refused'); END");
    for (int i = 0; i < 600; i++) {
        log_one(fx, i % 2 ? "a" : "b", "a-f-G", 0, &acks);
        if (i % 100 == 50)
            log_one(fx, "bad", "a-f-G", 0, &bad); /* refused alone */
    }
    assert_int_equal(run_until(fx, &acks.n, 600, 10000), 600);
    assert_int_equal(run_until(fx, &bad.n, 6, 5000), 6);
    assert_int_equal(acks.ok, 600);
    assert_int_equal(bad.ok, 0);
    assert_int_equal(sql_int(fx->path, BROKEN_LINKS), 0);
    assert_int_equal(sql_int(fx->path, BAD_HEADS), 0);
    struct result r = run_query(fx, &(struct kz_store_query){.uid = "a", .limit = 3});
    assert_seqs(&r, (uint64_t[]){600, 598, 596}, 3);
}

/* A batch rolled back leaves no head pointing at its rows. */
static void test_rolled_back_batch(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0}, bad = {0};

    open_store(fx, 20, 0, 0);
    log_one(fx, "a", "a-f-G", 1, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    sql_exec(fx->path, "CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.uid = 'boom'"
                       " BEGIN SELECT RAISE(ROLLBACK, 'injected'); END");
    log_one(fx, "a", "a-f-G", 2, &bad);
    log_one(fx, "boom", "a-f-G", 3, &bad);
    assert_int_equal(run_until(fx, &bad.n, 2, 5000), 2);
    assert_int_equal(bad.ok, 0);
    sql_exec(fx->path, "DROP TRIGGER boom");

    acks = (struct store_acks){0};
    log_one(fx, "a", "a-f-G", 4, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    struct result r = run_query(fx, &(struct kz_store_query){.uid = "a", .limit = 10});
    assert_seqs(&r, (uint64_t[]){4, 1}, 2);
    assert_int_equal(sql_int(fx->path, "SELECT uid_prev FROM events WHERE seq = 4"), 1);
    assert_int_equal(sql_int(fx->path, BAD_HEADS), 0);
}

/* A log written before migration 13 is linked by it, and new rows continue the chains. */
static void test_migration_links_old_log(void **state)
{
    static const char *const uids[] = {"a", "b", "c", "d"};
    struct fx *fx = *state;

    open_store(fx, 1, 0, 0);
    append_all(fx, uids, 4, 1, 40);
    close_store(fx);
    sql_exec(fx->path, UNDO_MIGRATION_13 "PRAGMA user_version=12;");
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE name = "
                                       "'events_uid'"),
                     1);

    open_store(fx, 1, 0, 0);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), kz__db_schema_latest());
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE name = "
                                       "'events_uid'"),
                     0);
    assert_int_equal(sql_int(fx->path, BROKEN_LINKS), 0);
    assert_int_equal(sql_int(fx->path, BAD_HEADS), 0);
    append_all(fx, uids, 4, 41, 44);
    struct result r = run_query(fx, &(struct kz_store_query){.uid = "d", .limit = 3});
    assert_seqs(&r, (uint64_t[]){43, 39, 35}, 3);
    assert_int_equal(sql_int(fx->path, BROKEN_LINKS), 0);
}

/* Retention: a uid with no row left leaves uid_heads; one with rows keeps its head. */
static void test_retention_drops_heads(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct kz_store_query q = {.uid = "old", .limit = 10};

    kz__store_retention_every_us = 1000;
    open_store(fx, 1, HOUR, 0);
    log_one(fx, "old", "a-f-G", 1, &acks); /* received in 2023: past the hour */
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    append_now(fx, "new", 2, &acks);
    assert_int_equal(run_until(fx, &acks.n, 2, 5000), 2);
    for (int i = 0; i < 100 && sql_int(fx->path, "SELECT count(*) FROM uid_heads") != 1; i++)
        run_until(fx, NULL, 0, 20);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM uid_heads WHERE uid = 'new'"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM uid_heads"), 1);
    assert_int_equal(run_query(fx, &q).n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history_across_batches_and_restart, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_walk_filters, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_refused_and_numbered_rows, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_numbered_batch, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_batch, store_fx_setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_migration_links_old_log, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_retention_drops_heads, store_fx_setup,
                                        store_fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
