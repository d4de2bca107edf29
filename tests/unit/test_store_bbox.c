/*
 * The bbox queries of the events log (store/geo.c, store/query.c): points
 * in and out of a box and on its edges, events without a position, boxes
 * across the antimeridian, since/until and a page cursor with a box, one
 * uid with a box; retention takes the points with the events; migration 15
 * indexes the events stored before it; and a randomised comparison of
 * many queries (boxes of every size, since, until, cursor, limit) with a
 * scan of what was appended, over a log long enough for several stretches
 * of seqs.  The seed is printed; KZ_TEST_SEED repeats a run.
 */
#include <math.h>
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
#define NO_POS 1000.0 /* lat: append the TAK "no position" point */
#define MAX_ROWS 10000
/* Points in events_geo: its entries' members, 12 bytes each (store/geo.c). */
#define GEO_POINTS "SELECT coalesce(sum(length(members)), 0) / 12 FROM events_geo"
/* The same on PostgreSQL (KZ_TEST_STORE=postgres): events with a PostGIS position. */
#define PG_POINTS "SELECT count(*) FROM events WHERE pos IS NOT NULL"

static int64_t geo_points(const struct fx *fx)
{
    return sql_int(fx->path, store_is_pg(fx->path) ? PG_POINTS : GEO_POINTS);
}

/* An event of `uid` at (lat, lon), received at T0 + seq s, with canonical XML. */
static void append_at(struct fx *fx, const char *uid, uint64_t seq, double lat, double lon,
                      struct store_acks *acks)
{
    struct kz_event ev;
    struct kz_sbuf xml = KZ_SBUF_INIT;
    int64_t recv = T0 + (int64_t)seq * SEC;

    kz_event_init(&ev);
    ev.uid = kz_xstrdup(uid);
    ev.type = kz_xstrdup(seq % 5 ? "a-f-G-U-C" : "b-t-f");
    ev.time = ev.start = recv;
    ev.stale = recv + HOUR;
    ev.lat = lat == NO_POS ? 0.0 : lat;
    ev.lon = lat == NO_POS ? 0.0 : lon;
    ev.hae = lat == NO_POS ? KZ_POINT_UNKNOWN : 10.0;
    ev.seq = seq;
    ev.recv_time = recv;
    ev.origin_input = kz_xstrdup("cot");
    ev.origin_user = kz_xstrdup("u");
    kz_cot_encode_xml(&ev, &xml);
    kz_store_append(fx->st, &ev, xml.buf, xml.len, store_on_ack, acks);
    kz_sbuf_release(&xml);
    kz_event_clear(&ev);
}

struct rows {
    int status;
    size_t n;
    uint64_t seq[MAX_ROWS];
    bool done;
};

static void on_rows(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct rows *r = ud;

    r->status = status;
    r->n = n < MAX_ROWS ? n : MAX_ROWS;
    for (size_t i = 0; i < r->n; i++)
        r->seq[i] = rows[i].seq;
    r->done = true;
}

static void query(struct fx *fx, const struct kz_store_query *q, struct rows *out)
{
    size_t zero = 0;

    memset(out, 0, sizeof(*out));
    kz_store_query(fx->st, q, on_rows, out);
    while (!out->done)
        run_until(fx, &zero, 1, 20);
}

static struct kz_store_query box_query(double lon0, double lat0, double lon1, double lat1)
{
    struct kz_store_query q = {.limit = 100, .has_bbox = true};

    q.bbox = (struct kz_store_bbox){lon0, lat0, lon1, lat1};
    return q;
}

static void expect_seqs(const struct rows *r, const uint64_t *want, size_t n)
{
    assert_int_equal(r->status, KZ_OK);
    assert_int_equal(r->n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(r->seq[i], want[i]);
}

static void wait_acks(struct fx *fx, struct store_acks *acks, size_t n)
{
    assert_int_equal(run_until(fx, &acks->n, n, 20000), n);
    assert_int_equal(acks->ok, n);
}

/* Edges are in, a hair outside is out, no position is never in. */
static void test_points_and_edges(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct rows r;
    struct kz_store_query q;

    open_store(fx, 0, 0, 0);
    append_at(fx, "in", 1, 35.0, 15.0, &acks);
    append_at(fx, "west-edge", 2, 35.0, 10.0, &acks);
    append_at(fx, "north-edge", 3, 40.0, 20.0, &acks);
    append_at(fx, "east-out", 4, 35.0, 20.000001, &acks);
    append_at(fx, "south-out", 5, 29.99, 15.0, &acks);
    append_at(fx, "chat", 6, NO_POS, 0.0, &acks);
    append_at(fx, "null-island", 7, 0.0, 0.0, &acks); /* hae known: a real point */
    wait_acks(fx, &acks, 7);
    assert_int_equal(geo_points(fx), 6);

    q = box_query(10.0, 30.0, 20.0, 40.0);
    query(fx, &q, &r);
    expect_seqs(&r, (const uint64_t[]){3, 2, 1}, 3);
    q = box_query(-1.0, -1.0, 1.0, 1.0); /* around 0,0: the real point, not the chat */
    query(fx, &q, &r);
    expect_seqs(&r, (const uint64_t[]){7}, 1);
    q = box_query(-180.0, -90.0, 180.0, 90.0);
    query(fx, &q, &r);
    expect_seqs(&r, (const uint64_t[]){7, 5, 4, 3, 2, 1}, 6);

    /* One uid in a box: its chain, filtered by the point. */
    q = box_query(10.0, 30.0, 20.0, 40.0);
    q.uid = "east-out";
    query(fx, &q, &r);
    expect_seqs(&r, NULL, 0);
    q.uid = "in";
    query(fx, &q, &r);
    expect_seqs(&r, (const uint64_t[]){1}, 1);
}

static void test_antimeridian(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct rows r;
    struct kz_store_query q;

    open_store(fx, 0, 0, 0);
    append_at(fx, "east", 1, -17.0, 178.5, &acks);
    append_at(fx, "west", 2, -17.0, -179.5, &acks);
    append_at(fx, "far", 3, -17.0, 0.0, &acks);
    append_at(fx, "dateline", 4, -17.0, 180.0, &acks);
    wait_acks(fx, &acks, 4);
    q = box_query(170.0, -20.0, -170.0, -10.0);
    query(fx, &q, &r);
    expect_seqs(&r, (const uint64_t[]){4, 2, 1}, 3);
}

/* Bad boxes are refused; a box with forward is too. */
static void test_invalid(void **state)
{
    struct fx *fx = *state;
    struct rows r;
    struct kz_store_query q;
    const struct kz_store_bbox bad[] = {
        {0, -91, 1, 1}, {-181, 0, 1, 1}, {0, 10, 1, 5}, {0, 0, INFINITY, 1}};

    open_store(fx, 0, 0, 0);
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        assert_false(kz_store_bbox_valid(&bad[i]));
        q = box_query(0, 0, 1, 1);
        q.bbox = bad[i];
        query(fx, &q, &r);
        assert_int_equal(r.status, KZ_ERR_INVAL);
    }
    q = box_query(0, 0, 1, 1);
    q.forward = true;
    query(fx, &q, &r);
    assert_int_equal(r.status, KZ_ERR_INVAL);
}

/* Retention deletes the points with their events. */
static void test_retention(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    size_t zero = 0;
    int64_t left = -1;

    kz__store_retention_every_us = 50 * 1000;
    open_store(fx, 0, HOUR, 0);
    for (uint64_t s = 1; s <= 50; s++)
        append_at(fx, "old", s, 35.0, 15.0, &acks); /* T0: long past */
    wait_acks(fx, &acks, 50);
    for (int i = 0; i < 200 && left != 0; i++) {
        run_until(fx, &zero, 1, 20);
        left = store_is_pg(fx->path) ? geo_points(fx)
                                     : sql_int(fx->path, "SELECT count(*) FROM events_geo");
    }
    assert_int_equal(geo_points(fx), 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM events"), 0);
    assert_int_equal(left, 0);
}

/* A log from before migration 15 gets its points indexed when it opens. */
static void test_migration_backfills(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct rows r;
    struct kz_store_query q;

    sqlite_only(fx); /* SQLite's migration 15 */
    open_store(fx, 0, 0, 0);
    append_at(fx, "a", 1, 35.0, 15.0, &acks);
    append_at(fx, "b", 2, 50.0, 15.0, &acks);
    append_at(fx, "c", 3, NO_POS, 0.0, &acks);
    append_at(fx, "a", 4, 36.0, 16.0, &acks);
    wait_acks(fx, &acks, 4);
    close_store(fx);
    sql_exec(fx->path, UNDO_MIGRATION_15 "PRAGMA user_version = 14;");
    open_store(fx, 0, 0, 0);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), 15);
    assert_int_equal(geo_points(fx), 3);
    q = box_query(10.0, 30.0, 20.0, 40.0);
    query(fx, &q, &r);
    expect_seqs(&r, (const uint64_t[]){4, 1}, 2);
    sql_exec(fx->path, "DELETE FROM events WHERE seq = 4");
    assert_int_equal(geo_points(fx), 2);
}

/* ---- randomised: the store against a scan of what was appended ------------------------- */

#define N_EVENTS 6000
#define N_QUERIES 300

static uint64_t rng;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double uniform(double a, double b)
{
    return a + (b - a) * (double)(next_rand() % 1000001) / 1000000.0;
}

struct pt {
    uint64_t seq;
    double lat, lon;
    bool chat;
};

/* Compared at 1e-7 degree, as documented. */
static long long e7(double deg)
{
    return llround(deg * 1e7);
}

static bool pt_in(const struct pt *p, const struct kz_store_query *q)
{
    const struct kz_store_bbox *b = &q->bbox;
    long long lon = e7(p->lon), lat = e7(p->lat), lon0 = e7(b->min_lon), lon1 = e7(b->max_lon);
    bool lon_in = lon0 <= lon1 ? lon >= lon0 && lon <= lon1 : lon >= lon0 || lon <= lon1;
    int64_t recv = T0 + (int64_t)p->seq * SEC;

    if (p->chat || !lon_in || lat < e7(b->min_lat) || lat > e7(b->max_lat))
        return false;
    if ((q->since_us && recv < q->since_us) || (q->until_us && recv >= q->until_us))
        return false;
    return !q->before_seq || p->seq < q->before_seq;
}

static int64_t n_chat(const struct pt *pts)
{
    int64_t n = 0;

    for (size_t i = 0; i < N_EVENTS; i++)
        n += pts[i].chat;
    return n;
}

static void random_box(struct kz_store_query *q)
{
    double w = (double)(1u << (next_rand() % 9)) * 0.05; /* 0.05 to 12.8 degrees */
    double lon0 = uniform(-10.0, 10.0), lat0 = uniform(30.0, 50.0);

    *q = box_query(lon0, lat0, lon0 + w, lat0 + w > 90.0 ? 90.0 : lat0 + w);
    if (next_rand() % 3 == 0)
        q->since_us = T0 + (int64_t)(next_rand() % N_EVENTS) * SEC;
    if (next_rand() % 4 == 0)
        q->until_us = T0 + (int64_t)(next_rand() % N_EVENTS) * SEC;
    if (next_rand() % 3 == 0)
        q->before_seq = 1 + next_rand() % (N_EVENTS + 10);
    q->limit = 1 + (unsigned)(next_rand() % 300);
}

static void test_random_against_scan(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    static struct pt pts[N_EVENTS];
    static struct rows r;
    const char *env = getenv("KZ_TEST_SEED");
    char uid[16];
    size_t total = 0;

    rng = env ? strtoull(env, NULL, 10) : (uint64_t)kz_now_us();
    rng = rng ? rng : 1;
    printf("KZ_TEST_SEED=%llu\n", (unsigned long long)rng);
    open_store(fx, 5, 0, 0);
    for (size_t i = 0; i < N_EVENTS; i++) {
        pts[i] = (struct pt){.seq = i + 1, .lat = uniform(30.0, 50.0), .lon = uniform(-10, 10)};
        pts[i].chat = next_rand() % 10 == 0;
        snprintf(uid, sizeof(uid), "u%u", (unsigned)(next_rand() % 50));
        append_at(fx, uid, pts[i].seq, pts[i].chat ? NO_POS : pts[i].lat, pts[i].lon, &acks);
    }
    wait_acks(fx, &acks, N_EVENTS);
    /* Every point once, in fewer entries: a batch's points group by cell. */
    assert_int_equal(geo_points(fx), N_EVENTS - n_chat(pts));
    if (!store_is_pg(fx->path)) /* SQLite's R*Tree groups them */
        assert_true(sql_int(fx->path, "SELECT count(*) FROM events_geo") < N_EVENTS / 2);
    for (int k = 0; k < N_QUERIES; k++) {
        struct kz_store_query q;
        size_t want = 0;
        random_box(&q);
        query(fx, &q, &r);
        assert_int_equal(r.status, KZ_OK);
        for (size_t i = N_EVENTS; i-- > 0 && want < q.limit;) {
            if (!pt_in(&pts[i], &q))
                continue;
            assert_true(want < r.n);
            assert_int_equal(r.seq[want], pts[i].seq);
            want++;
        }
        assert_int_equal(r.n, want);
        total += want;
    }
    assert_true(total > N_QUERIES); /* the queries found something */
}

static int setup(void **state)
{
    kz__store_retention_every_us = 5 * SEC;
    return store_fx_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_points_and_edges, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_antimeridian, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_migration_backfills, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_random_against_scan, setup, store_fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
