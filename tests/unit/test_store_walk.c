/*
 * A randomised differential test of a uid's history (store/heads.c,
 * store/query.c): a few thousand appends over a dozen uids, seqs growing as
 * a node's do but with gaps, refused duplicates, rolled-back batches and
 * restarts in between;
 * then every uid's chain must be whole, and each of many random queries for
 * one uid (type, since, until, page cursor, forward reads, limits) must
 * answer exactly what a scan of the events table answers.  The seed is
 * printed; KZ_TEST_SEED repeats a run.
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
#define N_UIDS 12
#define N_OPS 3000
#define N_QUERIES 400
#define MAX_ROWS 4096

static const char *const types[] = {"a-f-G", "a-h-A", "b-t-f"};
static uint64_t rng;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned below(unsigned n)
{
    return (unsigned)(next_rand() % n);
}

/* seq from uid, received at T0 + seq s (so receive time grows with seq, as in a node). */
static void log_one(struct fx *fx, const char *uid, uint64_t seq, struct store_acks *acks)
{
    int64_t recv = T0 + (int64_t)seq * SEC;

    append(fx, uid, types[seq % KZ_ARRAY_LEN(types)], seq, recv, recv + HOUR, acks);
}

/* A batch with a row the database rolls the whole batch back for. */
static void failing_batch(struct fx *fx, uint64_t *seq)
{
    struct store_acks bad = {0};
    char uid[8];

    if (store_is_pg(fx->path))
        sql_exec(fx->path, "CREATE OR REPLACE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql"
                           " AS $$ BEGIN IF NEW.uid = 'boom' THEN RAISE EXCEPTION 'injected';"
                           " END IF; RETURN NEW; END $$;"
                           "CREATE TRIGGER boom BEFORE INSERT ON events FOR EACH ROW"
                           " EXECUTE FUNCTION boom()");
    else
        sql_exec(fx->path, "CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.uid = 'boom'"
                           " BEGIN SELECT RAISE(ROLLBACK, 'injected'); END");
    snprintf(uid, sizeof(uid), "u%u", below(N_UIDS));
    log_one(fx, uid, ++*seq, &bad);
    log_one(fx, "boom", ++*seq, &bad);
    assert_int_equal(run_until(fx, &bad.n, 2, 5000), 2);
    assert_int_equal(bad.ok, 0);
    sql_exec(fx->path, store_is_pg(fx->path) ? "DROP TRIGGER boom ON events" : "DROP TRIGGER boom");
}

static void workload(struct fx *fx)
{
    struct store_acks acks = {0};
    uint64_t seq = 0;
    size_t sent = 0;

    open_store(fx, 5, 0, 0);
    for (unsigned op = 0; op < N_OPS; op++) {
        unsigned r = below(100);
        char uid[8];
        snprintf(uid, sizeof(uid), "u%u", below(N_UIDS));
        if (r < 85) {
            seq += 1 + (below(4) == 0); /* gaps now and then */
            log_one(fx, uid, seq, &acks), sent++;
        } else if (r < 92 && seq > 0) {
            struct store_acks dup = {0};
            log_one(fx, uid, seq, &dup); /* refused, unless a rolled-back batch had it */
            assert_int_equal(run_until(fx, &dup.n, 1, 5000), 1);
        } else if (r < 97) {
            assert_int_equal(run_until(fx, &acks.n, sent, 5000), sent);
        } else if (r < 99) {
            assert_int_equal(run_until(fx, &acks.n, sent, 5000), sent);
            failing_batch(fx, &seq);
        } else {
            assert_int_equal(run_until(fx, &acks.n, sent, 5000), sent);
            close_store(fx);
            open_store(fx, 5, 0, 0);
        }
    }
    assert_int_equal(run_until(fx, &acks.n, sent, 10000), sent);
    assert_int_equal(acks.ok, sent);
}

struct rows {
    size_t calls, n;
    uint64_t seq[MAX_ROWS];
};

static void on_rows(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct rows *r = ud;

    assert_int_equal(status, KZ_OK);
    assert_true(n <= MAX_ROWS);
    r->calls++;
    r->n = n;
    for (size_t i = 0; i < n; i++)
        r->seq[i] = rows[i].seq;
}

static void scan_pg(const char *dsn, const char *sql, struct rows *out)
{
    PGconn *c = PQconnectdb(dsn);
    PGresult *r = PQexec(c, sql);

    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    for (out->n = 0; (int)out->n < PQntuples(r); out->n++)
        out->seq[out->n] = strtoull(PQgetvalue(r, (int)out->n, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
}

/* The same query as a scan of the table, from a connection of its own. */
static void scan(const char *path, const struct kz_store_query *q, struct rows *out)
{
    char sql[512];
    int n = snprintf(sql, sizeof(sql), "SELECT seq FROM events WHERE uid = '%s'", q->uid);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;

    bool pg = store_is_pg(path);

    if (q->type && q->type[strlen(q->type) - 1] == '*') /* "a-*": GLOB, or LIKE 'a-%' */
        n += snprintf(sql + n, sizeof(sql) - (size_t)n,
                      pg ? " AND type LIKE '%.*s%%'" : " AND type GLOB '%.*s*'",
                      (int)strlen(q->type) - 1, q->type);
    else if (q->type)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND type = '%s'", q->type);
    if (q->since_us)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND recv_time >= %lld",
                      (long long)q->since_us);
    if (q->until_us)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND recv_time < %lld",
                      (long long)q->until_us);
    if (q->before_seq)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND seq < %llu",
                      (unsigned long long)q->before_seq);
    if (q->forward)
        snprintf(sql + n, sizeof(sql) - (size_t)n, " AND seq > %llu ORDER BY seq LIMIT %u",
                 (unsigned long long)q->after_seq, q->limit);
    else
        snprintf(sql + n, sizeof(sql) - (size_t)n, " ORDER BY seq DESC LIMIT %u", q->limit);
    if (pg) {
        scan_pg(kz_store_pg_dsn(path), sql, out);
        return;
    }
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    for (out->n = 0; sqlite3_step(s) == SQLITE_ROW; out->n++)
        out->seq[out->n] = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* A bound for a query of uid: one of its own seqs half the time (edges matter), else any. */
static uint64_t bound(const char *path, const char *uid, uint64_t max_seq)
{
    char sql[160];
    int64_t n;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE uid = '%s'", uid);
    if (below(2) || (n = sql_int(path, sql)) <= 0)
        return below((unsigned)max_seq + 1);
    snprintf(sql, sizeof(sql),
             "SELECT seq FROM events WHERE uid = '%s' ORDER BY seq LIMIT 1 OFFSET %u", uid,
             below((unsigned)n));
    return (uint64_t)sql_int(path, sql);
}

static void random_query(const char *path, struct kz_store_query *q, char *uid, uint64_t max_seq)
{
    static const char *const type_filters[] = {NULL, "a-f-G", "a-*", "b-t-f", "x-*"};

    snprintf(uid, 8, "u%u", below(N_UIDS));
    memset(q, 0, sizeof(*q));
    q->uid = uid;
    q->type = type_filters[below(KZ_ARRAY_LEN(type_filters))];
    q->limit = 1 + below(below(4) ? 40 : MAX_ROWS);
    if (below(3) == 0)
        q->since_us = T0 + (int64_t)bound(path, uid, max_seq) * SEC;
    if (below(3) == 0)
        q->until_us = T0 + (int64_t)bound(path, uid, max_seq) * SEC;
    if (below(4) == 0) {
        q->forward = true;
        q->after_seq = bound(path, uid, max_seq);
    } else if (below(3) == 0) {
        q->before_seq = 1 + bound(path, uid, max_seq) - below(2);
    }
}

static void test_walk_equals_scan(void **state)
{
    struct fx *fx = *state;
    const char *seed = getenv("KZ_TEST_SEED");
    char uid[8];

    rng = seed ? strtoull(seed, NULL, 10) : (uint64_t)kz_now_us() | 1;
    print_message("seed %llu (KZ_TEST_SEED repeats it)\n", (unsigned long long)rng);
    workload(fx);
    if (!store_is_pg(fx->path)) /* SQLite's chain (migration 13) */
        assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM (SELECT uid_prev, lag(seq) OVER"
                                           " (PARTITION BY uid ORDER BY seq) AS p FROM events)"
                                           " WHERE uid_prev IS NOT p"),
                         0);
    uint64_t max_seq = (uint64_t)sql_int(fx->path, "SELECT max(seq) FROM events");
    for (unsigned i = 0; i < N_QUERIES; i++) {
        static struct rows got, want;
        struct kz_store_query q;
        random_query(fx->path, &q, uid, max_seq);
        got.calls = 0;
        kz_store_query(fx->st, &q, on_rows, &got);
        assert_int_equal(run_until(fx, &got.calls, 1, 5000), 1);
        scan(fx->path, &q, &want);
        assert_int_equal(got.n, want.n);
        for (size_t k = 0; k < want.n; k++)
            assert_int_equal(got.seq[k], want.seq[k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_walk_equals_scan, store_fx_setup, store_fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
