/*
 * Unit tests for the store: acks after commit, batching, reload, queries,
 * retention and migrations (refusals, failed commits and kill -9:
 * test_store_faults.c).  Each test gets its own temporary
 * directory and loop; a second sqlite3 connection checks what is on disk.
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
#include <sqlite3.h>

#include "store/internal.h"
#include "store/store.h"
#include "store_fixture.h"
#include "store_events.h"

/* ---- fixture -------------------------------------------------------- */

static int setup(void **state)
{
    kz__store_retention_every_us = 5 * SEC;
    return store_fx_setup(state);
}

static int teardown(void **state)
{
    return store_fx_teardown(state);
}

/* ---- loop helpers --------------------------------------------------- */

static void run_for(struct fx *fx, unsigned ms)
{
    run_until(fx, NULL, 0, ms);
}

/* ---- tests ---------------------------------------------------------- */

static void test_append_acks(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct kz_store_stats stats;
    const size_t n = 1000;
    char uid[32];

    open_store(fx, 20, 0, 0);
    for (size_t i = 0; i < n; i++) {
        snprintf(uid, sizeof(uid), "unit-%zu", i % 50);
        append_now(fx, uid, i + 1, &acks);
    }
    assert_int_equal(run_until(fx, &acks.n, n, 10000), n);
    assert_int_equal(acks.ok, n);
    kz_store_stats(fx->st, &stats);
    assert_int_equal(stats.appended, n);
    assert_int_equal(stats.committed, n);
    assert_int_equal(stats.errors, 0);
    assert_int_equal(stats.lag_us, 0);
    assert_true(stats.db_bytes > 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), n);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 50);
}

struct commit_check {
    const char *path;
    size_t n, found;
};

static void on_ack_check_disk(void *ud, int status)
{
    struct commit_check *c = ud;
    char sql[96];

    assert_int_equal(status, KZ_OK);
    c->n++;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE seq = %zu", c->n);
    c->found += sql_int(c->path, sql) == 1;
}

static void test_ack_after_commit(void **state)
{
    struct fx *fx = *state;
    struct commit_check check = {fx->path, 0, 0};
    struct kz_event ev;
    const char xml[] = "<event/>";

    open_store(fx, 10, 0, 0);
    memset(&ev, 0, sizeof(ev));
    ev.type = (char *)"a-f-G";
    ev.stale = kz_now_us() + HOUR;
    /* Acks arrive in order, so the n-th ack is for seq n. */
    for (uint64_t i = 1; i <= 20; i++) {
        ev.uid = (char *)(i % 2 ? "odd" : "even");
        ev.seq = i;
        ev.recv_time = kz_now_us();
        kz_store_append(fx->st, &ev, xml, strlen(xml), on_ack_check_disk, &check);
        if (i % 7 == 0)
            run_for(fx, 15);
    }
    run_until(fx, &check.n, 20, 5000);
    assert_int_equal(check.n, 20);
    assert_int_equal(check.found, 20);
}

static void test_batching(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct kz_store_stats stats;
    uint64_t before;
    int64_t t0, ms;

    open_store(fx, 50, 0, 0);
    /* Well inside one window: one or two batches, not hundreds. */
    for (uint64_t i = 1; i <= 2000; i++)
        append_now(fx, "burst", i, &acks);
    assert_int_equal(run_until(fx, &acks.n, 2000, 10000), 2000);
    kz_store_stats(fx->st, &stats);
    assert_true(stats.batches >= 1 && stats.batches <= 3);

    /* A lone event waits out the window, then commits promptly. */
    acks = (struct store_acks){0};
    t0 = kz_mono_us();
    append_now(fx, "lone", 2001, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    ms = (acks.last_mono - t0) / 1000;
    assert_true(ms >= 45);
    assert_true(ms <= 50 + 400);

    /* More than a batch holds: full batches, no more. */
    kz_store_stats(fx->st, &stats);
    before = stats.batches;
    acks = (struct store_acks){0};
    for (uint64_t i = 0; i < 10000; i++)
        append_now(fx, "flood", 3000 + i, &acks);
    assert_int_equal(run_until(fx, &acks.n, 10000, 20000), 10000);
    kz_store_stats(fx->st, &stats);
    assert_true(stats.batches - before >= 3 && stats.batches - before <= 8);
    assert_int_equal(stats.committed, 12001);
}

static void test_close_flushes(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};

    /* A window far longer than the test: only close can commit these. */
    open_store(fx, 60000, 0, 0);
    for (uint64_t i = 1; i <= 300; i++)
        append_now(fx, "pending", i, &acks);
    kz_store_close(fx->st);
    fx->st = NULL;
    assert_int_equal(acks.n, 300);
    assert_int_equal(acks.ok, 300);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 300);
}

struct loaded {
    size_t n;
    uint64_t seq[8];
    char xml[8][256];
    char label[64], input[32], user[32], nation[8], groups[32];
};

static void on_track(void *ud, uint64_t seq, const char *xml, size_t xml_len, const char *label,
                     const struct kz_store_origin *origin)
{
    const char *origin_input = origin->input, *origin_user = origin->user;

    struct loaded *l = ud;

    assert_true(l->n < 8);
    assert_int_equal(strlen(xml), xml_len);
    l->seq[l->n] = seq;
    snprintf(l->xml[l->n], sizeof(l->xml[0]), "%s", xml);
    snprintf(l->label, sizeof(l->label), "%s", label ? label : "(null)");
    snprintf(l->input, sizeof(l->input), "%s", origin_input ? origin_input : "(null)");
    snprintf(l->user, sizeof(l->user), "%s", origin_user ? origin_user : "(null)");
    snprintf(l->nation, sizeof(l->nation), "%s", origin->nation ? origin->nation : "(null)");
    snprintf(l->groups, sizeof(l->groups), "%s", origin->groups ? origin->groups : "(null)");
    l->n++;
}

static void test_reopen_load(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct loaded l = {0};
    int64_t now = kz_now_us();
    uint64_t max_seq = 0;

    open_store(fx, 10, 0, 0);
    append(fx, "alpha", "a-f-G", 1, now, now + HOUR, &acks);
    append(fx, "bravo", "a-h-G", 2, now, now + HOUR, &acks);
    append(fx, "alpha", "a-f-G", 3, now, now + HOUR, &acks);
    append(fx, "gone", "a-n-G", 4, now - HOUR, now - 60 * SEC, &acks);
    append(fx, "alpha", "a-f-G", 6, now, now + HOUR, &acks);
    /* Late, older reports: one in the same batch as the newer one... */
    append(fx, "charlie", "a-f-G", 8, now, now + HOUR, &acks);
    append(fx, "charlie", "a-f-G", 7, now, now + HOUR, &acks);
    run_until(fx, &acks.n, 7, 5000);
    /* ...and one in a batch of its own. */
    append(fx, "alpha", "a-f-G", 5, now, now + HOUR, &acks);
    assert_int_equal(run_until(fx, &acks.n, 8, 5000), 8);
    assert_int_equal(acks.ok, 8);
    close_store(fx);

    open_store(fx, 10, 0, 0);
    assert_int_equal(kz_store_load(fx->st, now, on_track, &l, &max_seq), KZ_OK);
    assert_int_equal(max_seq, 8);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.seq[0], 2);
    assert_int_equal(l.seq[1], 6);
    assert_int_equal(l.seq[2], 8);
    assert_non_null(strstr(l.xml[0], "uid=\"bravo\""));
    assert_non_null(strstr(l.xml[1], "seq=\"6\""));
    assert_non_null(strstr(l.xml[2], "seq=\"8\""));
    assert_string_equal(l.label, "UNCLASSIFIED//REL TO USA, JPN");
    assert_string_equal(l.input, "cot-us");
    assert_string_equal(l.user, "local-us");
    assert_string_equal(l.nation, "USA"); /* F6: the sender as it was */
    assert_string_equal(l.groups, "Cyan,Red");
}

static void test_delete_track(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct loaded l = {0};
    uint64_t max_seq = 0;

    open_store(fx, 10, 0, 0);
    append_now(fx, "keep", 1, &acks);
    append_now(fx, "drop", 2, &acks);
    append_now(fx, "back", 3, &acks);
    assert_int_equal(run_until(fx, &acks.n, 3, 5000), 3);
    kz_store_delete_track(fx->st, "drop");
    /* In one batch: deleted then reported again, reported then deleted. */
    kz_store_delete_track(fx->st, "back");
    append_now(fx, "back", 4, &acks);
    append_now(fx, "brief", 5, &acks);
    kz_store_delete_track(fx->st, "brief");
    assert_int_equal(run_until(fx, &acks.n, 5, 5000), 5);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks WHERE uid = 'brief'"), 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks WHERE uid = 'drop'"), 0);
    close_store(fx);

    open_store(fx, 10, 0, 0);
    assert_int_equal(kz_store_load(fx->st, kz_now_us(), on_track, &l, &max_seq), KZ_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.seq[0], 1);
    assert_int_equal(l.seq[1], 4);
    assert_int_equal(max_seq, 5);
    /* The log keeps every event; only the latest-state row goes. */
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 5);
}

struct result {
    size_t calls;
    int status;
    size_t n;
    uint64_t seq[64];
};

static void on_rows(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct result *r = ud;

    r->calls++;
    r->status = status;
    r->n = n;
    for (size_t i = 0; i < n && i < KZ_ARRAY_LEN(r->seq); i++) {
        r->seq[i] = rows[i].seq;
        assert_int_equal(strlen(rows[i].xml), rows[i].xml_len);
        assert_string_equal(rows[i].origin_input, "cot-us");
        assert_string_equal(rows[i].origin_nation, "USA");
        assert_string_equal(rows[i].origin_groups, "Cyan,Red");
    }
}

static struct result query_before(struct fx *fx, const char *uid, const char *type, int64_t since,
                                  int64_t until, unsigned limit, uint64_t before)
{
    struct kz_store_query q = {.uid = uid,
                               .type = type,
                               .since_us = since,
                               .until_us = until,
                               .limit = limit,
                               .before_seq = before};
    struct result r = {0};

    kz_store_query(fx->st, &q, on_rows, &r);
    assert_int_equal(r.calls, 0); /* never from inside the call */
    run_until(fx, &r.calls, 1, 5000);
    assert_int_equal(r.calls, 1);
    return r;
}

static struct result query(struct fx *fx, const char *uid, const char *type, int64_t since,
                           int64_t until, unsigned limit)
{
    return query_before(fx, uid, type, since, until, limit, 0);
}

static void test_query_filters(void **state)
{
    struct fx *fx = *state;
    static const char *const types[] = {"a-f-G-U-C", "a-h-G", "a-f-A", "b-t-f", "a-f"};
    struct store_acks acks = {0};
    const int64_t t0 = 1700000000 * SEC;
    struct result r;

    open_store(fx, 5, 0, 0);
    /* seq i is received at t0 + i s, from uid u<i%3>, with types[i%5]. */
    for (uint64_t i = 1; i <= 30; i++) {
        char uid[8];
        snprintf(uid, sizeof(uid), "u%llu", (unsigned long long)(i % 3));
        append(fx, uid, types[i % 5], i, t0 + (int64_t)i * SEC, t0 + HOUR, &acks);
    }
    assert_int_equal(run_until(fx, &acks.n, 30, 5000), 30);

    r = query(fx, NULL, NULL, 0, 0, 100);
    assert_int_equal(r.status, KZ_OK);
    assert_int_equal(r.n, 30);
    assert_int_equal(r.seq[0], 30); /* newest first */
    assert_int_equal(r.seq[29], 1);

    r = query(fx, "u1", NULL, 0, 0, 100);
    assert_int_equal(r.n, 10);
    assert_int_equal(r.seq[0], 28);

    r = query(fx, NULL, "a-f", 0, 0, 100); /* exact: i % 5 == 4 */
    assert_int_equal(r.n, 6);
    assert_int_equal(r.seq[0], 29);

    r = query(fx, NULL, "a-f-*", 0, 0, 100); /* a-f-G-U-C and a-f-A */
    assert_int_equal(r.n, 12);
    assert_int_equal(r.seq[0], 30);
    assert_int_equal(r.seq[1], 27);

    r = query(fx, NULL, "a-*", 0, 0, 100);
    assert_int_equal(r.n, 24);
    r = query(fx, NULL, "*", 0, 0, 100);
    assert_int_equal(r.n, 30);

    r = query(fx, NULL, NULL, t0 + 10 * SEC, t0 + 20 * SEC, 100);
    assert_int_equal(r.n, 10);
    assert_int_equal(r.seq[0], 19);
    assert_int_equal(r.seq[9], 10);

    r = query(fx, "u2", "a-f-*", t0 + 5 * SEC, 0, 2);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.seq[0], 20); /* of 5, 17, 20 */
    assert_int_equal(r.seq[1], 17);

    /* A page's cursor: only rows older than it, with the other filters. */
    r = query_before(fx, NULL, NULL, 0, 0, 3, 28);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.seq[0], 27);
    assert_int_equal(r.seq[2], 25);
    r = query_before(fx, "u1", "a-f-*", 0, 0, 100, 22);
    assert_int_equal(r.n, 2); /* u1 and a-f-*: 7, 10, 22, 25 */
    assert_int_equal(r.seq[0], 10);
    assert_int_equal(r.seq[1], 7);
    r = query_before(fx, NULL, NULL, 0, 0, 100, 1);
    assert_int_equal(r.n, 0);

    r = query(fx, "nobody", NULL, 0, 0, 10);
    assert_int_equal(r.status, KZ_OK);
    assert_int_equal(r.n, 0);

    r = query(fx, NULL, NULL, 0, 0, 0);
    assert_int_equal(r.status, KZ_ERR_INVAL);
    r = query(fx, NULL, NULL, 0, 0, 10001);
    assert_int_equal(r.status, KZ_ERR_INVAL);
}

/* kz_store_barrier: reported after every write queued before it has committed, so a query
 * asked then sees them (queries are otherwise answered before a waiting batch). */
struct barrier_check {
    struct store_acks *acks;
    size_t acked_then;
    int status;
    size_t calls;
};

static void on_barrier(void *ud, int status)
{
    struct barrier_check *b = ud;

    b->calls++;
    b->status = status;
    b->acked_then = b->acks->n;
}

static void test_barrier(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct barrier_check b = {.acks = &acks};
    struct kz_store_query q = {.limit = 100, .forward = true, .after_seq = 2};
    struct result r = {0};

    open_store(fx, 200, 0, 0);
    for (uint64_t i = 1; i <= 5; i++)
        append_now(fx, "barrier", i, &acks);
    kz_store_barrier(fx->st, on_barrier, &b);
    assert_int_equal(b.calls, 0); /* never from inside the call */
    assert_int_equal(run_until(fx, &b.calls, 1, 5000), 1);
    assert_int_equal(b.status, KZ_OK);
    assert_int_equal(b.acked_then, 5);
    kz_store_query(fx->st, &q, on_rows, &r);
    run_until(fx, &r.calls, 1, 5000);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.seq[0], 3);
    assert_int_equal(r.seq[2], 5);
}

static void test_retention_age(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct loaded l = {0};
    struct result r;
    int64_t now = kz_now_us();

    kz__store_retention_every_us = 50 * 1000;
    open_store(fx, 5, HOUR, 0);
    /* Old events; "old-live" is still current, "old-dead" went stale long ago. */
    append(fx, "old-live", "a-f-G", 1, now - 3 * HOUR, now + HOUR, &acks);
    append(fx, "old-dead", "a-f-G", 2, now - 3 * HOUR, now - 2 * HOUR, &acks);
    append(fx, "fresh", "a-f-G", 3, now, now + HOUR, &acks);
    append(fx, "fresh-stale", "a-f-G", 4, now, now - 10 * SEC, &acks);
    assert_int_equal(run_until(fx, &acks.n, 4, 5000), 4);
    run_for(fx, 300);

    r = query(fx, NULL, NULL, 0, 0, 100);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.seq[0], 4);
    assert_int_equal(r.seq[1], 3);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks WHERE uid = 'old-dead'"), 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 3);
    close_store(fx);

    /* The current track survives even though its event has aged out. */
    open_store(fx, 5, HOUR, 0);
    assert_int_equal(kz_store_load(fx->st, now, on_track, &l, NULL), KZ_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.seq[0], 1);
    assert_int_equal(l.seq[1], 3);
}

static void test_retention_bytes(void **state)
{
    struct fx *fx = *state;
    const int64_t cap = 256 * 1024;
    struct store_acks acks = {0};
    struct kz_event ev;
    char *xml = malloc(1024);
    int64_t used, now = kz_now_us();

    kz__store_retention_every_us = 50 * 1000;
    open_store(fx, 5, 0, cap);
    memset(xml, 'x', 1024);
    memset(&ev, 0, sizeof(ev));
    ev.type = (char *)"a-f-G";
    ev.stale = now + HOUR;
    for (uint64_t i = 1; i <= 2000; i++) {
        char uid[16];
        snprintf(uid, sizeof(uid), "u%llu", (unsigned long long)(i % 20));
        ev.uid = uid;
        ev.seq = i;
        ev.recv_time = now;
        kz_store_append(fx->st, &ev, xml, 1024, store_on_ack, &acks);
    }
    free(xml);
    assert_int_equal(run_until(fx, &acks.n, 2000, 10000), 2000);
    run_for(fx, 500);

    if (store_is_pg(fx->path)) /* the events' data, as pg_retention.c measures it */
        used = sql_int(fx->path, "SELECT ((max(seq) - min(seq) + 1) * (SELECT"
                                 " avg(pg_column_size(e.*)) FROM events e))::bigint FROM events");
    else
        used = sql_int(fx->path, "SELECT (page_count - freelist_count) * page_size"
                                 " FROM pragma_page_count(), pragma_freelist_count(),"
                                 " pragma_page_size()");
    assert_true(used > 0 && used <= cap);
    /* The newest survive, the oldest went, and so did the rest in between. */
    assert_int_equal(sql_int(fx->path, "SELECT max(seq) FROM events"), 2000);
    assert_true(sql_int(fx->path, "SELECT min(seq) FROM events") > 1000);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 20);
}

static void test_migrations(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct kz_store *st = NULL;
    struct kz_store_opts o = {fx->path, 5, 0, 0, NULL, NULL, false};

    sqlite_only(fx); /* test_store_pg.c: test_pg_migrations */
    open_store(fx, 5, 0, 0);
    append_now(fx, "x", 1, &acks);
    run_until(fx, &acks.n, 1, 5000);
    /*
     * The store's own connection commits with synchronous=FULL (2) in WAL
     * mode: an ack means the WAL was fsynced.  kill -9 cannot tell NORMAL
     * from FULL (both survive it), so only this assertion holds the promise.
     */
    uv_mutex_lock(&fx->st->db_mu);
    sqlite3_stmt *pragma = NULL;
    assert_int_equal(sqlite3_prepare_v2(fx->st->db.db, "PRAGMA synchronous", -1, &pragma, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(pragma), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(pragma, 0), 2);
    sqlite3_finalize(pragma);
    assert_int_equal(sqlite3_prepare_v2(fx->st->db.db, "PRAGMA journal_mode", -1, &pragma, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(pragma), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(pragma, 0), "wal");
    sqlite3_finalize(pragma);
    uv_mutex_unlock(&fx->st->db_mu);
    close_store(fx);
    /* Every migration ran (other subsystems append their own). */
    int64_t version = sql_int(fx->path, "PRAGMA user_version");
    assert_true(version >= 2);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE name='users'"), 1);

    open_store(fx, 5, 0, 0); /* no migration reruns */
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), version);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);

    /* A schema from a newer build is refused, not reinterpreted. */
    sql_exec(fx->path, "PRAGMA user_version=99");
    assert_int_equal(kz_store_open(&fx->loop, &o, &st), KZ_ERR_DB);
    assert_null(st);
}

static void test_memory_db(void **state)
{
    struct fx *fx = *state;
    struct kz_store_opts o = {":memory:", 5, 0, 0, NULL, NULL, false};
    struct store_acks acks = {0};
    struct result r;

    sqlite_only(fx);
    assert_int_equal(kz_store_open(&fx->loop, &o, &fx->st), KZ_OK);
    append_now(fx, "m", 7, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    r = query(fx, "m", NULL, 0, 0, 10);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.seq[0], 7);
}

/* Sustained append rate through the whole path: queue, batch, fsync, ack. */
static void test_throughput(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    const size_t n = 50000;
    char uid[16];
    int64_t t0, us;

    open_store(fx, 50, 0, 0);
    t0 = kz_mono_us();
    for (size_t i = 0; i < n; i++) {
        snprintf(uid, sizeof(uid), "t%zu", i % 500);
        append_now(fx, uid, i + 1, &acks);
        if (i % 1000 == 999)
            uv_run(&fx->loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(run_until(fx, &acks.n, n, 60000), n);
    us = kz_mono_us() - t0;
    print_message("store: %zu appends acked in %lld ms: %.0f rows/s\n", n, (long long)us / 1000,
                  (double)n * 1e6 / (double)us);
    assert_int_equal(acks.ok, n);
    assert_true((double)n * 1e6 / (double)us >= 2000.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_track, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_barrier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throughput, setup, teardown),
    };
    kz__store_tracks_every_us = 0; /* the tests read the tracks table while the store is open */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
