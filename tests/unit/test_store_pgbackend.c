/*
 * test_store_pgbackend.c - what only the PostgreSQL backend has: its schema
 * and migrations, the idempotency key, positions as PostGIS geography and
 * the bbox query, a lost connection, and the tables not on it yet.  On a
 * real PostgreSQL 15 with PostGIS started for this binary (pg_fixture.h);
 * the store tests shared with SQLite run as the ctest entries *_pg.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/pg.h"
#include "store_fixture.h"
#include "store_events.h"

static int setup(void **state)
{
    setenv("KZ_TEST_STORE", "postgres", 1);
    return store_fx_setup(state);
}

static int teardown(void **state)
{
    return store_fx_teardown(state);
}

/* An event at a point, received now, current for an hour. */
static void append_at(struct fx *fx, const char *uid, uint64_t seq, double lat, double lon,
                      struct store_acks *acks)
{
    struct kz_event ev;
    char xml[160];
    int n = snprintf(xml, sizeof(xml), "<event uid=\"%s\"><point lat=\"%g\" lon=\"%g\"/></event>",
                     uid, lat, lon);

    kz_event_init(&ev);
    ev.uid = (char *)uid;
    ev.type = (char *)"a-f-G-U-C";
    ev.seq = seq;
    ev.recv_time = ev.time = ev.start = kz_now_us();
    ev.stale = ev.recv_time + HOUR;
    ev.lat = lat;
    ev.lon = lon;
    ev.hae = 120.5;
    ev.origin_input = (char *)"cot-us";
    kz_store_append(fx->st, &ev, xml, (size_t)n, store_on_ack, acks);
}

struct rows {
    size_t calls, n;
    int status;
    uint64_t seq[64];
};

static void on_rows(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct rows *r = ud;

    r->calls++;
    r->status = status;
    r->n = n;
    for (size_t i = 0; i < n && i < KZ_ARRAY_LEN(r->seq); i++)
        r->seq[i] = rows[i].seq;
}

static struct rows run_query(struct fx *fx, const struct kz_store_query *q)
{
    struct rows r = {0};

    kz_store_query(fx->st, q, on_rows, &r);
    assert_int_equal(run_until(fx, &r.calls, 1, 5000), 1);
    return r;
}

static void test_pg_migrations(void **state)
{
    struct fx *fx = *state;
    struct kz_store_opts o = store_opts(fx, 5, 0, 0);
    struct kz_store *st = (struct kz_store *)1;
    char sql[96];

    open_store(fx, 5, 0, 0);
    close_store(fx);
    snprintf(sql, sizeof(sql), "SELECT max(version) = %lld FROM schema_version",
             (long long)kz__pg_schema_latest());
    assert_int_equal(sql_int(fx->path, sql), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM pg_tables WHERE tablename IN"
                                       " ('events', 'tracks', 'readiness', 'audit', 'users',"
                                       " 'certs', 'plans', 'missions', 'mission_changes',"
                                       " 'files', 'fed_sent', 'fed_cursor')"),
                     12);
    /* The GiST indexes on the positions. */
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM pg_indexes WHERE indexdef LIKE"
                                       " '%USING gist%' AND tablename IN ('events', 'tracks')"),
                     2);
    open_store(fx, 5, 0, 0); /* no migration reruns */
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM schema_version"),
                     kz__pg_schema_latest());
    /* A schema from a newer build is refused, not reinterpreted. */
    sql_exec(fx->path, "INSERT INTO schema_version VALUES (99, now())");
    assert_int_equal(kz_store_open(&fx->loop, &o, &st), KZ_ERR_DB);
    assert_null(st);
}

/* The same event written twice is stored once, and both writes are acknowledged. */
static void test_pg_idempotent(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0}, other = {0};
    struct kz_store_opts o = store_opts(fx, 5, 0, 0);

    open_store(fx, 5, 0, 0);
    append_at(fx, "twice", 5, 35.0, 139.0, &acks);
    assert_int_equal(run_until(fx, &acks.n, 1, 5000), 1);
    append_at(fx, "twice", 5, 35.0, 139.0, &acks); /* a later batch */
    append_at(fx, "twice", 6, 35.0, 139.0, &acks);
    append_at(fx, "twice", 6, 35.0, 139.0, &acks); /* the same batch */
    assert_int_equal(run_until(fx, &acks.n, 4, 5000), 4);
    assert_int_equal(acks.ok, 4);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 2);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events WHERE origin_node ="
                                       " 'test-node' AND origin_seq = seq"),
                     2);
    close_store(fx);

    /* Another instance's event under a seq this one holds is refused, not merged. */
    o.node_id = "test-node-2";
    assert_int_equal(kz_store_open(&fx->loop, &o, &fx->st), KZ_OK);
    append_at(fx, "twice", 5, 35.0, 139.0, &other);
    assert_int_equal(run_until(fx, &other.n, 1, 5000), 1);
    assert_int_equal(other.last, KZ_ERR_DB);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 2);
}

static struct rows bbox_query(struct fx *fx, double w, double s, double e, double n)
{
    struct kz_store_query q = {.limit = 100, .has_bbox = true, .bbox = {w, s, e, n}};

    return run_query(fx, &q);
}

/* Positions as geography(PointZ, 4326); a bbox is a lon/lat rectangle, edges included. */
static void test_pg_bbox(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct rows r;

    open_store(fx, 5, 0, 0);
    append_at(fx, "tokyo", 1, 35.68, 139.69, &acks);
    append_at(fx, "osaka", 2, 34.69, 135.50, &acks);
    append_at(fx, "guam", 3, 13.44, 144.79, &acks);
    append_at(fx, "edge", 4, 30.0, 130.0, &acks);
    append_at(fx, "tokyo", 5, 35.70, 139.70, &acks);
    assert_int_equal(run_until(fx, &acks.n, 5, 5000), 5);
    assert_int_equal(acks.ok, 5);

    assert_int_equal(sql_int(fx->path, "SELECT round(ST_Z(pos::geometry) * 10)::int FROM events"
                                       " WHERE seq = 1"),
                     1205);
    assert_int_equal(sql_int(fx->path, "SELECT GeometryType(pos) = 'POINT' AND ST_SRID(pos) = 4326"
                                       " FROM tracks WHERE uid = 'guam'"),
                     1);
    /* Japan's main islands: Tokyo twice, Osaka, and the corner point. */
    r = bbox_query(fx, 130.0, 30.0, 142.0, 46.0);
    assert_int_equal(r.status, KZ_OK);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.seq[0], 5);
    assert_int_equal(r.seq[3], 1);
    r = bbox_query(fx, 139.0, 35.0, 140.0, 36.0);
    assert_int_equal(r.n, 2);
    r = bbox_query(fx, 0.0, -10.0, 10.0, 0.0);
    assert_int_equal(r.n, 0);
    /* With the other filters: since, uid, paging. */
    struct kz_store_query q = {
        .uid = "tokyo", .limit = 1, .has_bbox = true, .bbox = {100.0, 0.0, 150.0, 50.0}};
    /* Across the antimeridian: from 170 E east to 150 E, all but the gap 150..170 E. */
    r = bbox_query(fx, 170.0, 0.0, 150.0, 50.0);
    assert_int_equal(r.n, 5);
    r = bbox_query(fx, 179.0, 0.0, 135.0, 50.0); /* only the corner point (130 E) west of 135 */
    assert_int_equal(r.n, 1);
    assert_int_equal(r.seq[0], 4);
    r = run_query(fx, &q);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.seq[0], 5);
    q.before_seq = 5;
    r = run_query(fx, &q);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.seq[0], 1);
    /* The planner takes the (lon, lat, seq) index for it, and the point-only one is gone. */
    assert_int_equal(sql_int(fx->path,
                             "SELECT count(*) FROM pg_indexes WHERE indexname = 'events_pos_seq'"
                             " AND indexdef LIKE '%gist%gist_geometry_ops_nd%'"),
                     1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM pg_indexes WHERE indexname ="
                                       " 'events_pos'"),
                     0);
}

/* The server drops the store's idle connection: the next batch connects again and commits. */
static void test_pg_connection_lost(void **state)
{
    struct fx *fx = *state;
    struct store_acks first = {0}, lost = {0}, after = {0};

    open_store(fx, 5, 0, 0);
    append_at(fx, "a", 1, 1.0, 1.0, &first);
    assert_int_equal(run_until(fx, &first.n, 1, 5000), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(pg_terminate_backend(pid))"
                                       " FROM pg_stat_activity WHERE application_name = 'kizuna'"),
                     1);
    append_at(fx, "b", 2, 1.0, 1.0, &lost);
    assert_int_equal(run_until(fx, &lost.n, 1, 10000), 1);
    assert_int_equal(lost.last, KZ_OK);
    append_at(fx, "c", 3, 1.0, 1.0, &after);
    assert_int_equal(run_until(fx, &after.n, 1, 10000), 1);
    assert_int_equal(after.last, KZ_OK);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 3);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM tracks"), 3);
}

static void test_pg_unreachable(void **state)
{
    struct fx *fx = *state;
    struct kz_store_opts o = {.max_delay_ms = 5,
                              .path = "postgres:host=127.0.0.1 port=1 dbname=x user=kizuna"
                                      " password=secret connect_timeout=2"};
    struct kz_store_users *u = (struct kz_store_users *)1;
    char err[256];
    struct kz_store *st = (struct kz_store *)1;

    (void)fx;
    assert_int_equal(kz_store_open(&fx->loop, &o, &st), KZ_ERR_DB);
    assert_null(st);
    /* The users connection too; its message never holds the DSN. */
    assert_int_equal(kz_store_users_open(o.path, false, &u, err, sizeof(err)), KZ_ERR_DB);
    assert_null(u);
    assert_null(strstr(err, "secret"));
}

/* Every table is on PostgreSQL: nothing named, as for SQLite (serve would refuse otherwise). */
static void test_pg_unported(void **state)
{
    struct fx *fx = *state;
    struct kz_store_opts lite = {":memory:", 5, 0, 0, NULL, NULL, false};
    struct kz_store *st = NULL;

    open_store(fx, 5, 0, 0);
    assert_null(kz_store_unported(fx->st));
    assert_int_equal(kz_store_open(&fx->loop, &lite, &st), KZ_OK);
    assert_null(kz_store_unported(st));
    kz_store_close(st);
}

static int write_lite_only(struct kz__db *db, struct kz__job *job)
{
    (void)db, (void)job;
    return SQLITE_DONE;
}

static const struct kz__job_ops lite_only_ops = {.table = "lite_only", .write = write_lite_only};

/* A kind of job with no PostgreSQL functions (a table not ported) is refused alone. */
static void test_pg_job_without_pg_ops(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0}, refused = {0};
    struct kz__job *j;

    open_store(fx, 50, 0, 0);
    append_at(fx, "before", 1, 1.0, 1.0, &acks);
    j = kz__job_new(&lite_only_ops, sizeof(*j), 0);
    j->ack = store_on_ack;
    j->ud = &refused;
    j->notify = true;
    kz__store_submit(fx->st, j);
    append_at(fx, "after", 2, 1.0, 1.0, &acks);
    assert_int_equal(run_until(fx, &acks.n, 2, 5000), 2);
    assert_int_equal(run_until(fx, &refused.n, 1, 5000), 1);
    assert_int_equal(acks.ok, 2);
    assert_int_equal(refused.last, KZ_ERR_DB);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 2);
}

#define CRASH_EVENTS 4000
static int crash_status[CRASH_EVENTS + 1]; /* per seq: 0 no answer yet, else status + 1 */

static void on_crash_ack(void *ud, int status)
{
    *(int *)ud = status + 1;
}

static void append_crash(struct fx *fx, uint64_t seq)
{
    struct kz_event ev;

    kz_event_init(&ev);
    ev.uid = (char *)"c";
    ev.type = (char *)"a-f-G";
    ev.seq = seq;
    ev.recv_time = ev.time = ev.start = kz_now_us();
    ev.stale = ev.time + HOUR;
    ev.lat = ev.lon = 1.0;
    kz_store_append(fx->st, &ev, "<event/>", 8, on_crash_ack, &crash_status[seq]);
}

static size_t answered(size_t from, size_t to, int status)
{
    size_t n = 0;

    for (size_t s = from; s < to; s++)
        n += status ? crash_status[s] == status + 1 : crash_status[s] != 0;
    return n;
}

/* Every seq acknowledged KZ_OK is stored (a stored one may have failed its ack: a lost COMMIT
 * answer).  Returns how many were acknowledged. */
static size_t check_acked_stored(const char *dsn, size_t last)
{
    PGconn *c = PQconnectdb(dsn);
    PGresult *r = PQexec(c, "SELECT seq FROM events");
    bool *in = calloc(last + 1, sizeof(*in));
    size_t ok = 0;

    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    for (int i = 0; i < PQntuples(r); i++) {
        size_t seq = strtoul(PQgetvalue(r, i, 0), NULL, 10);
        if (seq <= last)
            in[seq] = true;
    }
    for (size_t s = 1; s <= last; s++) {
        if (crash_status[s] != KZ_OK + 1)
            continue;
        ok++;
        if (!in[s])
            fail_msg("seq %zu was acknowledged but is not stored", s);
    }
    free(in);
    PQclear(r);
    PQfinish(c);
    return ok;
}

/*
 * PostgreSQL itself crashes (immediate shutdown, recovery from the WAL at the next start)
 * while events are written: nothing acknowledged is lost, what failed during the outage was
 * not acknowledged, and the store reconnects by itself.
 */
static void test_pg_server_crash(void **state)
{
    struct fx *fx = *state;
    size_t seq = 1, before, after_restart;

    memset(crash_status, 0, sizeof(crash_status));
    open_store(fx, 2, 0, 0);
    for (; seq <= 500; seq++)
        append_crash(fx, seq);
    while (answered(1, seq, 0) < seq - 1)
        run_until(fx, NULL, 0, 20);
    assert_int_equal(answered(1, seq, KZ_OK), 500);
    for (size_t end = seq + 200; seq < end; seq++) /* in flight when it crashes */
        append_crash(fx, seq);
    assert_int_equal(pg_fx_crash_restart(&store_pg_server), 0);
    before = seq;
    for (int round = 0; round < 300 && answered(before, seq, KZ_OK) < 200; round++) {
        for (int i = 0; i < 10 && seq < CRASH_EVENTS; i++, seq++)
            append_crash(fx, seq);
        run_until(fx, NULL, 0, 20);
    }
    after_restart = answered(before, seq, KZ_OK);
    close_store(fx);
    assert_true(after_restart >= 200);              /* it reconnected */
    assert_int_equal(answered(1, seq, 0), seq - 1); /* everything got an answer */
    assert_true(check_acked_stored(kz_store_pg_dsn(fx->path), seq - 1) >= 700);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pg_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_bbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_connection_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_unported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_job_without_pg_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_server_crash, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
