/*
 * test_store_pgshared.c - one PostgreSQL shared by two instances of a cluster
 * (kz_store_opts.shared, store/pg_shared.c, docs/cluster.md "One PostgreSQL
 * for the cluster"): both number their events from 1, and every row is
 * stored once, numbered by the database; a batch written again is stored
 * once; a restarted instance continues after its own origin_seq; a database
 * one instance used alone first keeps its rows; the missions' outbox row
 * commits with its change and goes once published; two instances appending
 * to the audit log at once make one chain; rows become visible in the order
 * of their seq (a reader paging forward by seq while two instances write
 * misses none); the latest-state query (kz_store_query.latest) answers each
 * uid's newest row at or before a seq.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_fixture.h"

struct two {
    struct fx *fx;
    char dsn[256];
    struct kz_store *a, *b;
};

static int setup(void **state)
{
    struct two *t = calloc(1, sizeof(*t));
    void *fx;

    if (!t || store_fx_setup(&fx) != 0 || store_pg_db(t->dsn, sizeof(t->dsn)) != 0)
        return -1;
    t->fx = fx;
    *state = t;
    return 0;
}

static void close_one(struct two *t, struct kz_store **st)
{
    if (*st)
        kz_store_close(*st);
    *st = NULL;
    for (int i = 0; i < 3; i++) /* the other store may still hold the loop */
        uv_run(&t->fx->loop, UV_RUN_NOWAIT);
}

static int teardown(void **state)
{
    struct two *t = *state;
    void *fx = t->fx;

    close_one(t, &t->a);
    close_one(t, &t->b);
    free(t);
    return store_fx_teardown(&fx);
}

static struct kz_store *open_node(struct two *t, const char *node, bool shared)
{
    struct kz_store_opts o = {NULL, 1, 0, 0, t->dsn, node, shared};
    struct kz_store *st = NULL;

    assert_int_equal(kz_store_open(&t->fx->loop, &o, &st), KZ_OK);
    return st;
}

static void append(struct two *t, struct kz_store *st, const char *uid, uint64_t seq,
                   struct store_acks *acks)
{
    struct kz_event ev;
    struct kz_sbuf xml = KZ_SBUF_INIT;

    kz_event_init(&ev);
    ev.uid = (char *)uid;
    ev.type = (char *)"a-f-G-U-C";
    ev.time = ev.start = ev.recv_time = kz_now_us() + (int64_t)seq;
    ev.stale = ev.time + 3600LL * 1000000;
    ev.lat = 35.0;
    ev.lon = 139.0;
    ev.seq = seq;
    ev.access = (char *)"UNCLASSIFIED";
    ev.origin_input = (char *)"tcp";
    kz_cot_encode_xml(&ev, &xml);
    kz_store_append(st, &ev, xml.buf, xml.len, store_on_ack, acks);
    kz_sbuf_release(&xml);
    (void)t;
}

static void count_track(void *ud, uint64_t seq, const char *xml, size_t xml_len, const char *label,
                        const struct kz_store_origin *origin)
{
    (void)seq, (void)xml, (void)xml_len, (void)label, (void)origin;
    (*(size_t *)ud)++;
}

static int64_t count(struct two *t, const char *sql)
{
    return pg_fx_int(t->dsn, sql);
}

/* Two writers, each from seq 1: every event is stored once, numbered by the database. */
static void test_two_writers(void **state)
{
    struct two *t = *state;
    struct store_acks acks = {0};
    char uid[32];

    t->a = open_node(t, "node-a", true);
    t->b = open_node(t, "node-b", true);
    for (uint64_t s = 1; s <= 50; s++) {
        snprintf(uid, sizeof(uid), "a-%llu", (unsigned long long)(s % 5));
        append(t, t->a, uid, s, &acks);
        snprintf(uid, sizeof(uid), "b-%llu", (unsigned long long)(s % 5));
        append(t, t->b, uid, s, &acks);
    }
    assert_int_equal(run_until(t->fx, &acks.n, 100, 10000), 100);
    assert_int_equal(acks.ok, 100);
    assert_int_equal(count(t, "SELECT count(*) FROM events"), 100);
    assert_int_equal(count(t, "SELECT count(DISTINCT seq) FROM events"), 100);
    assert_int_equal(count(t, "SELECT count(*) FROM events WHERE origin_node = 'node-b'"), 50);
    assert_int_equal(count(t, "SELECT count(*) FROM tracks"), 10);
    /* Each track row names its uid's newest events row. */
    assert_int_equal(count(t, "SELECT count(*) FROM tracks t JOIN events e ON e.seq = t.seq"
                              " AND e.uid = t.uid"),
                     10);

    /* A batch written again (a retry) is stored once and acknowledged. */
    acks = (struct store_acks){0};
    for (uint64_t s = 41; s <= 50; s++) {
        snprintf(uid, sizeof(uid), "b-%llu", (unsigned long long)(s % 5));
        append(t, t->b, uid, s, &acks);
    }
    assert_int_equal(run_until(t->fx, &acks.n, 10, 10000), 10);
    assert_int_equal(acks.ok, 10);
    assert_int_equal(count(t, "SELECT count(*) FROM events"), 100);

    /* A restarted instance continues after its own sequence. */
    close_one(t, &t->b);
    t->b = open_node(t, "node-b", true);
    uint64_t max_seq = 0;
    size_t n = 0;
    assert_int_equal(kz_store_load(t->b, kz_now_us(), count_track, &n, &max_seq), KZ_OK);
    assert_true(max_seq >= 50);
    assert_int_equal(n, 10); /* both instances' tracks */
}

/* A database one instance used alone first: the shared sequence starts after its rows. */
static void test_single_then_shared(void **state)
{
    struct two *t = *state;
    struct store_acks acks = {0};

    t->a = open_node(t, "node-a", false);
    for (uint64_t s = 1; s <= 20; s++)
        append(t, t->a, "solo", s, &acks);
    assert_int_equal(run_until(t->fx, &acks.n, 20, 10000), 20);
    close_one(t, &t->a);
    t->a = open_node(t, "node-a", true);
    t->b = open_node(t, "node-b", true);
    acks = (struct store_acks){0};
    append(t, t->b, "other", 1, &acks);
    append(t, t->a, "solo", 21, &acks);
    assert_int_equal(run_until(t->fx, &acks.n, 2, 10000), 2);
    assert_int_equal(acks.ok, 2);
    assert_int_equal(count(t, "SELECT count(*) FROM events"), 22);
    assert_int_equal(count(t, "SELECT count(DISTINCT seq) FROM events"), 22);
    assert_true(count(t, "SELECT min(seq) FROM events WHERE origin_node = 'node-b'") > 20);
}

struct outbox_seen {
    size_t calls, rows;
    int status;
    int64_t stamp;
    uint64_t change;
    char guid[64], origin[64];
};

static void on_outbox(void *ud, int status, const struct kz_store_outbox_row *rows, size_t n)
{
    struct outbox_seen *s = ud;

    s->calls++;
    s->status = status;
    s->rows = n;
    if (n) {
        s->stamp = rows[0].stamp;
        s->change = rows[0].change_id;
        snprintf(s->guid, sizeof(s->guid), "%s", rows[0].guid);
        snprintf(s->origin, sizeof(s->origin), "%s", rows[0].origin);
    }
}

struct read_seen {
    size_t calls, n;
    int status;
    char doc[64], last[64];
};

static void on_read(void *ud, int status, const char *doc, const char *const *changes, size_t n)
{
    struct read_seen *s = ud;

    s->calls++;
    s->status = status;
    s->n = n;
    snprintf(s->doc, sizeof(s->doc), "%s", doc ? doc : "(none)");
    snprintf(s->last, sizeof(s->last), "%s", n ? changes[n - 1] : "");
}

/* The outbox row commits with the change; another node reads the mission back; done deletes. */
static void test_mission_outbox(void **state)
{
    struct two *t = *state;
    struct store_acks acks = {0};
    int64_t ids[2] = {7, 8};
    const char *docs[2] = {"{\"c\":7}", "{\"c\":8}"};
    struct kz_store_mission w = {"g-1", "alpha", "{\"m\":1}", ids, docs, 2, 1234, 8};
    struct outbox_seen ob = {0};
    struct read_seen rd = {0};

    t->a = open_node(t, "node-a", true);
    t->b = open_node(t, "node-b", true);
    kz_store_mission_write(t->a, &w, store_on_ack, &acks);
    assert_int_equal(run_until(t->fx, &acks.n, 1, 10000), 1);
    assert_int_equal(acks.last, KZ_OK);
    assert_int_equal(count(t, "SELECT count(*) FROM mission_outbox WHERE origin = 'node-a'"
                              " AND stamp = 1234 AND change_id = 8 AND guid = 'g-1'"),
                     1);

    /* node-b sees node-a's row only once it is old; node-a sees its own at once. */
    kz_store_mission_outbox(t->b, "node-b", kz_now_us() - 60000000LL, on_outbox, &ob);
    assert_int_equal(run_until(t->fx, &ob.calls, 1, 10000), 1);
    assert_int_equal(ob.status, KZ_OK);
    assert_int_equal(ob.rows, 0);
    kz_store_mission_outbox(t->a, "node-a", 0, on_outbox, &ob);
    assert_int_equal(run_until(t->fx, &ob.calls, 2, 10000), 2);
    assert_int_equal(ob.rows, 1);
    assert_int_equal(ob.stamp, 1234);
    assert_int_equal(ob.change, 8);
    assert_string_equal(ob.guid, "g-1");
    assert_string_equal(ob.origin, "node-a");

    kz_store_mission_read(t->b, "g-1", on_read, &rd);
    assert_int_equal(run_until(t->fx, &rd.calls, 1, 10000), 1);
    assert_int_equal(rd.status, KZ_OK);
    assert_string_equal(rd.doc, "{\"m\":1}");
    assert_int_equal(rd.n, 2);
    assert_string_equal(rd.last, "{\"c\":8}");
    kz_store_mission_read(t->b, "no-such", on_read, &rd);
    assert_int_equal(run_until(t->fx, &rd.calls, 2, 10000), 2);
    assert_int_equal(rd.status, KZ_OK);
    assert_string_equal(rd.doc, "(none)");

    kz_store_mission_outbox_done(t->a, "node-a", 1234);
    for (int i = 0; i < 500 && count(t, "SELECT count(*) FROM mission_outbox") != 0; i++)
        run_until(t->fx, NULL, 0, 10);
    assert_int_equal(count(t, "SELECT count(*) FROM mission_outbox"), 0);
    kz_store_mission_outbox(t->a, "node-a", 0, on_outbox, &ob);
    assert_int_equal(run_until(t->fx, &ob.calls, 3, 10000), 3);
    assert_int_equal(ob.rows, 0);
}

/* One instance's audit appends, on a thread of its own (kz_store_audit blocks until commit). */
struct auditor {
    struct kz_store *st;
    const char *actor;
    int failed;
};

#define AUDIT_EACH 40

static void audit_many(void *arg)
{
    struct auditor *a = arg;
    char detail[32];

    for (int i = 0; i < AUDIT_EACH; i++) {
        snprintf(detail, sizeof(detail), "n=%d", i);
        if (kz_store_audit(a->st, a->actor, "test.append", "audit", detail) != KZ_OK)
            a->failed++;
    }
}

/* Both append at once: every record lands, ids 1..N, each linked to the one before it. */
static void test_audit_two_writers(void **state)
{
    struct two *t = *state;
    struct auditor a, b;
    uv_thread_t ta, tb;

    char da[128], db[128], cmd[512];

    /* Each its own data directory, the same audit.key (docs/cluster.md). */
    snprintf(da, sizeof(da), "%s/a", t->fx->dir);
    snprintf(db, sizeof(db), "%s/b", t->fx->dir);
    assert_int_equal(mkdir(da, 0700), 0);
    assert_int_equal(mkdir(db, 0700), 0);
    t->a = open_node(t, "node-a", true);
    t->b = open_node(t, "node-b", true);
    kz_store_set_audit_dir(t->a, da);
    kz_store_set_audit_dir(t->b, db);
    a = (struct auditor){t->a, "a", 0};
    b = (struct auditor){t->b, "b", 0};
    assert_int_equal(kz_store_audit(t->a, "a", "test.first", "audit", "key"), KZ_OK);
    snprintf(cmd, sizeof(cmd), "cp -p %s/audit.key %s/audit.head %s/", da, da, db);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(uv_thread_create(&ta, audit_many, &a), 0);
    assert_int_equal(uv_thread_create(&tb, audit_many, &b), 0);
    uv_thread_join(&ta);
    uv_thread_join(&tb);
    assert_int_equal(a.failed, 0);
    assert_int_equal(b.failed, 0);
    assert_int_equal(count(t, "SELECT count(*) FROM audit"), 2 * AUDIT_EACH + 1);
    assert_int_equal(count(t, "SELECT max(id) FROM audit"), 2 * AUDIT_EACH + 1);
    assert_int_equal(count(t, "SELECT count(*) FROM audit p JOIN audit n ON n.id = p.id + 1"
                              " WHERE n.prev_hash <> p.hash"),
                     0);
    assert_true(count(t, "SELECT count(DISTINCT actor) FROM audit") == 2);
    /* Each instance's anchor is a record it wrote, inside the one chain. */
    struct kz_store_audit_check ca = {0}, cb = {0};
    assert_int_equal(kz_store_audit_verify(t->a, &ca), KZ_OK);
    assert_int_equal(kz_store_audit_verify(t->b, &cb), KZ_OK);
    assert_int_equal(ca.records, 2 * AUDIT_EACH + 1);
    assert_int_equal(cb.records, 2 * AUDIT_EACH + 1);
}

/* A reader paging the log forward by seq, as a federation link on a shared store does. */
struct reader {
    const char *dsn;
    volatile bool stop;
    uint64_t pos, rows, polls;
    bool failed;
};

static bool read_after(struct reader *rd, PGconn *c)
{
    char sql[96];
    PGresult *r;

    snprintf(sql, sizeof(sql), "SELECT seq FROM events WHERE seq > %llu ORDER BY seq",
             (unsigned long long)rd->pos);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return false;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        rd->pos = strtoull(PQgetvalue(r, i, 0), NULL, 10);
        rd->rows++;
    }
    rd->polls++;
    PQclear(r);
    return true;
}

static void read_forward(void *arg)
{
    struct reader *rd = arg;
    PGconn *c = PQconnectdb(rd->dsn);

    while (!rd->stop && !rd->failed) {
        rd->failed = !read_after(rd, c);
        usleep(200);
    }
    rd->failed = rd->failed || !read_after(rd, c); /* every writer done: the rest */
    PQfinish(c);
}

/*
 * Two instances write small batches at once while a reader pages forward by seq: every row
 * reaches the reader.  A row numbered below one it had read, committing after it, would not
 * (store/pg_shared.c, kz__pg_seq_lock).
 */
static void test_seq_order_is_commit_order(void **state)
{
    struct two *t = *state;
    struct store_acks acks = {0};
    struct reader rd = {.dsn = t->dsn};
    uv_thread_t th;
    char uid[32];
    const uint64_t rounds = 150, per = 8;

    t->a = open_node(t, "node-a", true);
    t->b = open_node(t, "node-b", true);
    assert_int_equal(uv_thread_create(&th, read_forward, &rd), 0);
    for (uint64_t r = 0; r < rounds; r++) {
        for (uint64_t i = 1; i <= per; i++) {
            snprintf(uid, sizeof(uid), "o-%llu", (unsigned long long)i);
            append(t, t->a, uid, r * per + i, &acks);
            append(t, t->b, uid, r * per + i, &acks);
        }
        uv_run(&t->fx->loop, UV_RUN_NOWAIT);
        usleep(500);
    }
    assert_int_equal(run_until(t->fx, &acks.n, 2 * rounds * per, 30000), 2 * rounds * per);
    rd.stop = true;
    uv_thread_join(&th);
    assert_false(rd.failed);
    assert_int_equal(acks.ok, 2 * rounds * per);
    assert_true(rd.polls > 10); /* it read while they wrote */
    assert_int_equal(rd.rows, 2 * rounds * per);
    assert_int_equal(rd.rows, count(t, "SELECT count(*) FROM events"));
}

struct latest {
    size_t n;
    uint64_t seq[16];
    int status;
    bool done;
};

static void on_latest(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct latest *l = ud;

    l->status = status;
    for (size_t i = 0; i < n && l->n < 16; i++)
        l->seq[l->n++] = rows[i].seq;
    l->done = true;
}

/* Each uid's newest row at or before a seq, oldest first; refused with other filters. */
static void test_latest_query(void **state)
{
    struct two *t = *state;
    struct store_acks acks = {0};
    struct latest l = {0};

    t->a = open_node(t, "node-a", true);
    append(t, t->a, "x", 1, &acks);
    append(t, t->a, "y", 2, &acks);
    append(t, t->a, "x", 3, &acks);
    append(t, t->a, "z", 4, &acks);
    assert_int_equal(run_until(t->fx, &acks.n, 4, 10000), 4);
    uint64_t x3 = (uint64_t)count(t, "SELECT seq FROM events WHERE uid = 'x' ORDER BY seq DESC"
                                     " LIMIT 1");
    uint64_t y = (uint64_t)count(t, "SELECT seq FROM events WHERE uid = 'y'");
    uint64_t z = (uint64_t)count(t, "SELECT seq FROM events WHERE uid = 'z'");

    /* At or before x's second row: y and x (its newest), not z. */
    struct kz_store_query q = {.limit = 10, .forward = true, .latest = true, .before_seq = x3 + 1};
    kz_store_query(t->a, &q, on_latest, &l);
    while (!l.done)
        uv_run(&t->fx->loop, UV_RUN_ONCE);
    assert_int_equal(l.status, KZ_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.seq[0], y);
    assert_int_equal(l.seq[1], x3);
    /* Paged by after_seq. */
    l = (struct latest){0};
    q = (struct kz_store_query){.limit = 10, .forward = true, .latest = true, .after_seq = x3};
    kz_store_query(t->a, &q, on_latest, &l);
    while (!l.done)
        uv_run(&t->fx->loop, UV_RUN_ONCE);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.seq[0], z);
    /* Only forward, and with no other filter. */
    l = (struct latest){0};
    q = (struct kz_store_query){.limit = 10, .latest = true};
    kz_store_query(t->a, &q, on_latest, &l);
    while (!l.done)
        uv_run(&t->fx->loop, UV_RUN_ONCE);
    assert_int_equal(l.status, KZ_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_then_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mission_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_two_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_order_is_commit_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latest_query, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
