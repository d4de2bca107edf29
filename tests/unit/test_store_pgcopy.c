/*
 * test_store_pgcopy.c - `kizuna store copy` (kz_store_copy): a SQLite store
 * with rows in every table, copied into a real PostgreSQL 15 with PostGIS
 * (pg_fixture.h), compared table by table (counts and sampled rows), copied
 * again without a change, and opened as a PostgreSQL store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "store_fixture.h"
#include "store_events.h"

static const char *const tables[] = {
    "events", "tracks", "users",    "certs",           "audit",    "readiness",
    "plans",  "files",  "missions", "mission_changes", "fed_sent", "fed_cursor",
};

struct pgcopy {
    struct fx *fx;
    char dsn[256];
};

static int setup(void **state)
{
    struct pgcopy *c = calloc(1, sizeof(*c));
    void *fx;

    if (!c || store_fx_setup(&fx) != 0)
        return -1;
    c->fx = fx;
    if (store_pg_db(c->dsn, sizeof(c->dsn)) != 0)
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct pgcopy *c = *state;
    void *fx = c->fx;

    free(c);
    return store_fx_teardown(&fx);
}

/* A real CoT event (the copy reads its point back from the XML). */
static void append_point(struct fx *fx, const char *uid, uint64_t seq, double lat, double lon,
                         struct store_acks *acks)
{
    struct kz_event ev;
    struct kz_sbuf xml = KZ_SBUF_INIT;

    kz_event_init(&ev);
    ev.uid = (char *)uid;
    ev.type = (char *)"a-f-G-U-C";
    ev.time = ev.start = ev.recv_time = kz_now_us();
    ev.stale = ev.time + HOUR;
    ev.lat = lat;
    ev.lon = lon;
    ev.hae = 10.0;
    ev.seq = seq;
    ev.access = (char *)"UNCLASSIFIED";
    ev.origin_input = (char *)"cot-us";
    ev.origin_nation = (char *)"USA";
    kz_cot_encode_xml(&ev, &xml);
    kz_store_append(fx->st, &ev, xml.buf, xml.len, store_on_ack, acks);
    kz_sbuf_release(&xml);
}

static void fill_events(struct fx *fx, struct store_acks *acks, size_t *want)
{
    for (uint64_t seq = 1; seq <= 300; seq++) {
        char uid[16];
        snprintf(uid, sizeof(uid), "u%llu", (unsigned long long)(seq % 10));
        append_point(fx, uid, seq, 30.0 + (double)seq / 100.0, 130.0 + (double)(seq % 10), acks);
    }
    kz_store_delete_track(fx->st, "u3");
    *want += 300;
}

/* A file of 2.5 MiB (three parts in PostgreSQL) under DATA/files, as uploads leave them;
 * its hash in `hash`. */
#define BIG_BYTES (5u << 19)
static char big_hash[65];

static void write_big(struct fx *fx)
{
    unsigned char *b = malloc(BIG_BYTES), md[crypto_hash_sha256_BYTES];
    char path[512];
    int fd;

    assert_non_null(b);
    for (size_t i = 0; i < BIG_BYTES; i++)
        b[i] = (unsigned char)(i * 7 + i / 4096);
    crypto_hash_sha256(md, b, BIG_BYTES);
    sodium_bin2hex(big_hash, sizeof(big_hash), md, sizeof(md));
    snprintf(path, sizeof(path), "%s/files", fx->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/files/%.2s", fx->dir, big_hash);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/files/%.2s/%s", fx->dir, big_hash, big_hash);
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, BIG_BYTES), BIG_BYTES);
    close(fd);
    free(b);
}

static void fill_files(struct fx *fx, struct store_acks *acks, size_t *want)
{
    struct kz_store_file f = {.uid = "f2",
                              .hash = big_hash,
                              .name = "big.bin",
                              .mime = "application/octet-stream",
                              .size = BIG_BYTES,
                              .time_us = 6,
                              .label = "UNCLASSIFIED",
                              .originator = "USA"};

    write_big(fx);
    kz_store_file_put(fx->st, &f, store_on_ack, acks);
    f.uid = "f3"; /* the same bytes uploaded again */
    kz_store_file_put(fx->st, &f, store_on_ack, acks);
    /* A row whose bytes are not on disk: its row is copied, no bytes. */
    f.uid = "f4";
    f.hash = "0000000000000000000000000000000000000000000000000000000000000000";
    kz_store_file_put(fx->st, &f, store_on_ack, acks);
    *want += 3;
}

static void fill_tables(struct fx *fx, struct store_acks *acks, size_t *want)
{
    static const int64_t ids[] = {1, 2};
    static const char *const docs[] = {"{\"c\":1}", "{\"c\":2}"};
    struct kz_store_readiness r = {.unit = "1-1 INF",
                                   .time_us = 1000,
                                   .recv_us = 2000,
                                   .p = 1,
                                   .s = 2,
                                   .r = 3,
                                   .t = 6,
                                   .overall = 2,
                                   .label = "UNCLASSIFIED",
                                   .originator = "USA",
                                   .groups = "Cyan"};
    struct kz_store_file f = {.uid = "f1",
                              .hash = "ab",
                              .name = "a.txt",
                              .mime = "text/plain",
                              .size = 3,
                              .time_us = 5,
                              .label = "UNCLASSIFIED",
                              .originator = "USA"};
    struct kz_store_mission m = {"g1", "alpha", "{\"v\":1}", ids, docs, 2, 0, 0};
    struct kz_store_sent sent[] = {{10, 1}, {11, 2}, {12, 3}};

    for (int i = 0; i < 3; i++, r.time_us++)
        kz_store_readiness_append(fx->st, &r, store_on_ack, acks);
    kz_store_file_put(fx->st, &f, store_on_ack, acks);
    kz_store_mission_write(fx->st, &m, store_on_ack, acks);
    kz_store_fed_sent(fx->st, "peer-jp", sent, 3, 3, store_on_ack, acks);
    *want += 6;
}

static void fill_sync(struct fx *fx)
{
    struct kz_store_plan p = {"plan-1", 1, 7, "{\"plan\":1}"};
    struct kz_store_audit_rec a = {"planner", "plan.create", "plan-1", "rev 1"};
    struct kz_store_user u = {.user = "alice",
                              .nation = "USA",
                              .clearance = "SECRET",
                              .groups_in = "Cyan",
                              .groups_out = "Cyan",
                              .roles = "viewer",
                              .password_hash = "$argon2id$x"};
    struct kz_store_users *users;
    char err[256];

    kz_store_set_audit_dir(fx->st, fx->dir);
    assert_int_equal(kz_store_audit(fx->st, "admin", "user.add", "alice", "{}"), KZ_OK);
    assert_int_equal(kz_store_plan_save(fx->st, &p, &a), KZ_OK);
    assert_int_equal(kz_store_users_open(fx->path, false, &users, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_store_user_put(users, &u, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_store_cert_add(users, "alice", "0A1B", 99, err, sizeof(err)), KZ_OK);
    kz_store_users_close(users);
}

static void fill(struct fx *fx)
{
    struct store_acks acks = {0};
    size_t want = 0;

    open_store(fx, 5, 0, 0);
    fill_events(fx, &acks, &want);
    fill_tables(fx, &acks, &want);
    fill_files(fx, &acks, &want);
    assert_int_equal(run_until(fx, &acks.n, want, 10000), want);
    assert_int_equal(acks.ok, want);
    fill_sync(fx);
    /* One more event after the last tracks flush: the copy brings tracks up to the log. */
    append_point(fx, "late", 301, 35.0, 139.0, &acks);
    assert_int_equal(run_until(fx, &acks.n, want + 1, 5000), want + 1);
    kz_store_close(fx->st);
    fx->st = NULL;
    uv_run(&fx->loop, UV_RUN_DEFAULT);
}

struct progress {
    unsigned calls;
    int64_t events_done, events_total;
};

static void on_progress(void *ud, const char *table, int64_t done, int64_t total)
{
    struct progress *p = ud;

    p->calls++;
    assert_true(done <= total);
    if (strcmp(table, "events") == 0)
        p->events_done = done, p->events_total = total;
}

static void same_counts(const struct pgcopy *c)
{
    char sql[96];

    for (size_t i = 0; i < KZ_ARRAY_LEN(tables); i++) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
        int64_t n = sql_int(c->fx->path, sql);
        assert_true(n > 0); /* every table holds something to copy */
        if (pg_fx_int(c->dsn, sql) != n)
            fail_msg("table %s: %lld rows in SQLite, %lld in PostgreSQL", tables[i], (long long)n,
                     (long long)pg_fx_int(c->dsn, sql));
    }
}

/* Sampled rows: the same values on both sides. */
static void same_rows(const struct pgcopy *c)
{
    static const char *const sums[] = {
        "SELECT sum(length(xml)) FROM events",
        "SELECT sum(seq) FROM tracks",
        "SELECT sum(length(hash) + id) FROM audit",
        "SELECT sum(p * 1000 + s * 100 + r * 10 + t) FROM readiness",
        "SELECT sum(length(doc) + revision) FROM plans",
        "SELECT count(*) FROM events WHERE seq = 150 AND uid = 'u0' AND origin_nation = 'USA'",
        "SELECT count(*) FROM tracks WHERE uid = 'u3'",
        "SELECT count(*) FROM tracks WHERE uid = 'late' AND seq = 301",
        "SELECT count(*) FROM users WHERE password_hash = '$argon2id$x' AND roles = 'viewer'",
        "SELECT count(*) FROM certs WHERE serial = '0A1B' AND not_after = 99",
        "SELECT count(*) FROM mission_changes WHERE guid = 'g1' AND doc = '{\"c\":2}'",
        "SELECT seq FROM fed_cursor WHERE peer = 'peer-jp'",
    };

    for (size_t i = 0; i < KZ_ARRAY_LEN(sums); i++) {
        int64_t want = sql_int(c->fx->path, sums[i]), got = pg_fx_int(c->dsn, sums[i]);
        if (want != got)
            fail_msg("%s: %lld in SQLite, %lld in PostgreSQL", sums[i], (long long)want,
                     (long long)got);
    }
    /* The points came from the XML. */
    assert_int_equal(pg_fx_int(c->dsn, "SELECT count(*) FROM events WHERE pos IS NULL"), 0);
    assert_int_equal(pg_fx_int(c->dsn, "SELECT round(ST_Y(pos::geometry) * 100)::int FROM events"
                                       " WHERE seq = 150"),
                     3150);
    assert_int_equal(pg_fx_int(c->dsn, "SELECT count(*) FROM events WHERE origin_node = 'node-a'"
                                       " AND origin_seq = seq"),
                     301);
}

static void test_copy_every_table(void **state)
{
    struct pgcopy *c = *state;
    struct progress p = {0};
    char err[256];

    fill(c->fx);
    assert_int_equal(
        kz_store_copy(c->fx->path, c->dsn, "node-a", on_progress, &p, err, sizeof(err)), KZ_OK);
    assert_true(p.calls >= KZ_ARRAY_LEN(tables));
    assert_int_equal(p.events_done, 301);
    assert_int_equal(p.events_total, 301);
    same_counts(c);
    same_rows(c);
    /* The bytes of each file on disk, once, in parts, identical. */
    assert_int_equal(pg_fx_int(c->dsn, "SELECT count(DISTINCT hash) FROM file_content"), 1);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT encode(sha256(string_agg(data, ''::bytea ORDER BY part)), 'hex') = '%s'"
             " AND count(*) = 3 FROM file_content WHERE hash = '%s'",
             big_hash, big_hash);
    assert_int_equal(pg_fx_int(c->dsn, sql), 1);

    /* Again: nothing changes. */
    pg_fx_exec_dsn(c->dsn, "UPDATE events SET label = 'MARK' WHERE seq = 7");
    assert_int_equal(kz_store_copy(c->fx->path, c->dsn, "node-a", NULL, NULL, err, sizeof(err)),
                     KZ_OK);
    same_counts(c);
    assert_int_equal(pg_fx_int(c->dsn, "SELECT count(*) FROM events WHERE label = 'MARK'"), 1);
}

static void on_track(void *ud, uint64_t seq, const char *xml, size_t len, const char *label,
                     const struct kz_store_origin *o)
{
    (void)seq, (void)xml, (void)len, (void)label, (void)o;
    ++*(size_t *)ud;
}

static void on_report(void *ud, const struct kz_store_readiness *r)
{
    (void)r;
    ++*(size_t *)ud;
}

/* The copy opens as a PostgreSQL store that carries on where the node stopped. */
static void test_copy_opens(void **state)
{
    struct pgcopy *c = *state;
    struct kz_store_opts o = {NULL, 5, 0, 0, c->dsn, "node-a", false};
    size_t tracks = 0, reports = 0;
    uint64_t max_seq = 0;
    char err[256];

    fill(c->fx);
    /* As a running node's file may be: its tracks table behind the log (tracks.c). */
    sql_exec(c->fx->path, "DELETE FROM tracks WHERE uid = 'late';"
                          "UPDATE store_marks SET value = 300 WHERE name = 'tracks_seq'");
    assert_int_equal(kz_store_copy(c->fx->path, c->dsn, "node-a", NULL, NULL, err, sizeof(err)),
                     KZ_OK);
    assert_int_equal(pg_fx_int(c->dsn, "SELECT seq FROM tracks WHERE uid = 'late'"), 301);
    assert_int_equal(kz_store_open(&c->fx->loop, &o, &c->fx->st), KZ_OK);
    assert_int_equal(kz_store_load(c->fx->st, kz_now_us(), on_track, &tracks, &max_seq), KZ_OK);
    assert_int_equal(tracks, 10); /* u0..u9 without u3, and late */
    assert_int_equal(max_seq, 301);
    assert_int_equal(kz_store_readiness_load(c->fx->st, on_report, &reports), KZ_OK);
    assert_int_equal(reports, 3);
}

static void test_copy_refuses(void **state)
{
    struct pgcopy *c = *state;
    char err[256];

    assert_int_equal(
        kz_store_copy("/nonexistent/kizuna.db", c->dsn, "n", NULL, NULL, err, sizeof(err)),
        KZ_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/kizuna.db"));
    open_store(c->fx, 5, 0, 0);
    close_store(c->fx);
    sql_exec(c->fx->path, "PRAGMA user_version=3");
    assert_int_equal(kz_store_copy(c->fx->path, c->dsn, "n", NULL, NULL, err, sizeof(err)),
                     KZ_ERR_DB);
    assert_non_null(strstr(err, "schema version 3"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_every_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_refuses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
