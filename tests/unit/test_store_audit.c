/*
 * test_store_audit.c - the keyed, anchored audit chain: every edit, removal
 * (first, middle, last N), recomputed chain, older copy of the database,
 * rolled-back or missing head and missing key is detected; legacy chains
 * stay verifiable and continue keyed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "pg_fixture.h"
#include "store/store.h"

/* With KZ_TEST_STORE=postgres (unit/test_store_audit_pg) path is a PostgreSQL DSN. */
static char dir[64], path[256];
static uv_loop_t loop;
static struct kz_store *st;
static struct pg_fx server;

static bool on_pg(void)
{
    return strncmp(path, "host=", 5) == 0;
}

static void stop_server(void)
{
    pg_fx_stop(&server);
}

/* Where the store goes: DIR/kizuna.db, or a fresh database of this binary's PostgreSQL. */
static void store_at(void)
{
    const char *b = getenv("KZ_TEST_STORE");

    snprintf(path, sizeof(path), "%s/kizuna.db", dir);
    if (!b || strcmp(b, "postgres") != 0)
        return;
    if (!server.pid) {
        assert_int_equal(pg_fx_start(&server), 0);
        atexit(stop_server);
    }
    assert_int_equal(pg_fx_new_db(&server, path, sizeof(path)), 0);
}

static struct kz_store_opts store_opts(unsigned max_delay_ms)
{
    struct kz_store_opts o = {.path = path, .max_delay_ms = max_delay_ms};

    if (on_pg())
        o.path = NULL, o.dsn = path, o.node_id = "test-node";
    return o;
}

static void open_store(void)
{
    struct kz_store_opts o = store_opts(5);
    assert_int_equal(kz_store_open(&loop, &o, &st), KZ_OK);
    if (on_pg()) /* audit.key and audit.head where SQLite's file would be */
        kz_store_set_audit_dir(st, dir);
}

static void close_store(void)
{
    kz_store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
}

static int setup(void **state)
{
    (void)state;
    kz_log_min = KZ_LOG_ERROR + 1; /* tampering makes the store log errors */
    snprintf(dir, sizeof(dir), "/tmp/kz-audit-XXXXXX");
    assert_non_null(mkdtemp(dir));
    store_at();
    uv_loop_init(&loop);
    open_store();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    uv_loop_close(&loop);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void tamper(const char *sql)
{
    sqlite3 *db;

    if (on_pg()) {
        assert_int_equal(pg_fx_exec_dsn(path, sql), 0);
        return;
    }
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Run "VERB DIR/A [DIR/B]" in a shell. */
static void shell(const char *verb, const char *a, const char *b)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s %s/%s %s%s%s", verb, dir, a, b ? dir : "", b ? "/" : "",
             b ? b : "");
    assert_int_equal(system(cmd), 0);
}

static void append(int n)
{
    char detail[32];
    for (int i = 0; i < n; i++) {
        snprintf(detail, sizeof(detail), "policy=P%d", i);
        assert_int_equal(kz_store_audit(st, "admin", "config", "labels", detail), KZ_OK);
    }
}

static void append_three(void)
{
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "policy=US"), KZ_OK);
    assert_int_equal(kz_store_audit(st, "admin", "config", "input:us", "nation=USA"), KZ_OK);
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "policy=JPN"), KZ_OK);
}

/* Verify on a freshly opened store; the check's problem, NULL when intact. */
static const char *verify(struct kz_store_audit_check *c)
{
    int rc;
    open_store();
    rc = kz_store_audit_verify(st, c);
    close_store();
    assert_int_equal(rc, c->problem ? KZ_ERR_INVAL : KZ_OK);
    return c->problem;
}

static void assert_broken_at(int64_t id)
{
    struct kz_store_audit_check c;
    assert_non_null(verify(&c));
    assert_int_equal(c.bad_id, id);
}

static void assert_broken_end(const char *what)
{
    struct kz_store_audit_check c;
    const char *problem = verify(&c);
    assert_non_null(problem);
    assert_int_equal(c.bad_id, 0);
    assert_non_null(strstr(problem, what));
}

static void test_chain_and_last(void **state)
{
    (void)state;
    struct kz_store_audit_check c;
    struct stat sb;
    char *detail, key[128];

    append_three();
    assert_int_equal(kz_store_audit_verify(st, &c), KZ_OK);
    assert_int_equal(c.records, 3);
    assert_int_equal(c.legacy, 0);
    assert_true(c.anchored);
    assert_int_equal(kz_store_audit_last(st, "config", "labels", &detail), KZ_OK);
    assert_string_equal(detail, "policy=JPN");
    free(detail);
    assert_int_equal(kz_store_audit_last(st, "config", "nothing", &detail), KZ_ERR_NOTFOUND);
    assert_null(detail);
    close_store();
    snprintf(key, sizeof(key), "%s/audit.key", dir);
    assert_int_equal(stat(key, &sb), 0);
    assert_int_equal(sb.st_size, 32);
    assert_int_equal(sb.st_mode & 0777, 0600);
    open_store(); /* the chain continues across restarts, under the same key */
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "policy=US"), KZ_OK);
    close_store();
    assert_null(verify(&c));
    assert_int_equal(c.records, 4);
}

/* Editing any field of any record, first to last, is detected at that record. */
static void test_edit_detected(void **state)
{
    (void)state;
    static const char *edits[] = {"detail = 'policy=NONE'", "actor = 'mallory'", "time = time + 1",
                                  "object = 'input:xx'"};
    char sql[160];

    append_three();
    close_store();
    for (int id = 1; id <= 3; id++) {
        for (size_t e = 0; e < sizeof(edits) / sizeof(*edits); e++) {
            tamper("DROP TABLE IF EXISTS saved; CREATE TABLE saved AS SELECT * FROM audit");
            snprintf(sql, sizeof(sql), "UPDATE audit SET %s WHERE id = %d", edits[e], id);
            tamper(sql);
            assert_broken_at(id);
            tamper("DELETE FROM audit; INSERT INTO audit SELECT * FROM saved");
        }
    }
    struct kz_store_audit_check c;
    assert_null(verify(&c));
}

static void legacy_hash(const char *prev, int64_t time, const char *actor, const char *action,
                        const char *object, const char *detail, char out[65])
{
    crypto_hash_sha256_state h;
    unsigned char d[crypto_hash_sha256_BYTES];
    char t[24];
    const char *f[] = {prev, t, actor, action, object, detail};

    snprintf(t, sizeof(t), "%lld", (long long)time);
    crypto_hash_sha256_init(&h);
    for (size_t i = 0; i < 6; i++)
        crypto_hash_sha256_update(&h, (const unsigned char *)f[i], strlen(f[i]) + 1);
    crypto_hash_sha256_final(&h, d);
    sodium_bin2hex(out, 65, d, sizeof(d));
}

/* Write n unkeyed records the way the store did before audit.key (or forge them). */
static void write_legacy(int n, const char *detail)
{
    char prev[65] = "0000000000000000000000000000000000000000000000000000000000000000";
    char hash[65], sql[512];

    for (int id = 1; id <= n; id++) {
        legacy_hash(prev, id, "admin", "config", "labels", detail, hash);
        snprintf(sql, sizeof(sql),
                 "DELETE FROM audit WHERE id = %d; INSERT INTO audit VALUES (%d, %d, 'admin',"
                 " 'config', 'labels', '%s', '%s', '%s')",
                 id, id, id, detail, prev, hash);
        tamper(sql);
        memcpy(prev, hash, sizeof(prev));
    }
}

/* Without the key, recomputing the chain over edited records is detected. */
static void test_recomputed_chain_detected(void **state)
{
    (void)state;
    append_three();
    close_store();
    tamper("DELETE FROM audit");
    write_legacy(3, "policy=NONE");
    assert_broken_end("names differs"); /* a valid legacy chain, but not the anchored end */
    tamper("DELETE FROM audit");
    write_legacy(4, "policy=NONE");
    assert_broken_end("names differs");
}

static void test_removal_detected(void **state)
{
    (void)state;
    append(5);
    close_store();
    tamper("DROP TABLE IF EXISTS saved; CREATE TABLE saved AS SELECT * FROM audit");
    tamper("DELETE FROM audit WHERE id = 1"); /* the first */
    assert_broken_at(2);
    tamper("DELETE FROM audit; INSERT INTO audit SELECT * FROM saved");
    tamper("DELETE FROM audit WHERE id = 3"); /* a middle one */
    assert_broken_at(4);
    for (int n = 1; n <= 5; n++) { /* the last N, up to all of them */
        char sql[96];
        tamper("DELETE FROM audit; INSERT INTO audit SELECT * FROM saved");
        snprintf(sql, sizeof(sql), "DELETE FROM audit WHERE id > %d", 5 - n);
        tamper(sql);
        assert_broken_end("ends before");
    }
}

/* A cut tail stays visible after the server appends again. */
static void test_gap_survives_appends(void **state)
{
    (void)state;
    struct kz_store_audit_check c;

    append(3);
    close_store();
    tamper("DELETE FROM audit WHERE id = 3");
    open_store();
    append(2);
    close_store();
    assert_non_null(verify(&c));
    assert_int_equal(c.bad_id, 4);
    assert_int_equal(c.records, 2);
}

static void test_older_database_detected(void **state)
{
    (void)state;
    append(2);
    close_store();
    if (on_pg()) /* a dump of the table, restored */
        tamper("CREATE TABLE saved AS SELECT * FROM audit");
    else
        shell("cp", "kizuna.db", "kizuna.db.old");
    open_store();
    append(1);
    close_store();
    if (on_pg())
        tamper("DELETE FROM audit; INSERT INTO audit SELECT * FROM saved");
    else
        shell("cp", "kizuna.db.old", "kizuna.db");
    assert_broken_end("ends before");
}

static void test_anchor_tampering_detected(void **state)
{
    (void)state;
    struct kz_store_audit_check c;
    char key[128];

    append(2);
    close_store();
    shell("cp", "audit.head", "head.old");
    open_store();
    append(1);
    close_store();
    shell("cp", "head.old", "audit.head"); /* rolled back */
    assert_broken_end("behind the chain");
    shell("sed -i 's/^count 2/count 3/'", "audit.head", NULL); /* edited */
    assert_broken_end("forged or corrupt");
    shell("rm", "audit.head", NULL);
    assert_broken_end("audit.head is missing");
    shell("mv", "audit.key", "key.old");
    assert_non_null(verify(&c));
    assert_non_null(strstr(c.problem, "audit.key is missing"));
    shell("cp", "head.old", "audit.head");
    open_store(); /* a lost key is not silently replaced while a head exists */
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "x"), KZ_ERR_IO);
    close_store();
    snprintf(key, sizeof(key), "%s/audit.key", dir);
    assert_int_equal(access(key, F_OK), -1);
}

/* A chain written before audit.key existed verifies, and continues keyed. */
static void test_legacy_chain_continues(void **state)
{
    (void)state;
    struct kz_store_audit_check c;

    close_store();
    write_legacy(2, "policy=US");
    assert_null(verify(&c));
    assert_int_equal(c.records, 2);
    assert_int_equal(c.legacy, 2);
    open_store();
    append(2);
    close_store();
    assert_null(verify(&c));
    assert_int_equal(c.records, 4);
    assert_int_equal(c.legacy, 2);
    assert_true(c.anchored);
    tamper("UPDATE audit SET detail = 'policy=NONE' WHERE id = 1");
    assert_broken_at(1);
}

static int64_t count_on_disk(void)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t n = -1;

    if (on_pg())
        return pg_fx_int(path, "SELECT count(*) FROM audit");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit", -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void on_ack(void *ud, int status)
{
    assert_int_equal(status, KZ_OK);
    (*(int *)ud)++;
}

/*
 * A record goes through the store thread, in a batch with the events queued
 * before it, and is on disk when the call returns, however long the batch
 * window.
 */
static void test_written_by_the_store_thread(void **state)
{
    struct kz_store_opts o = store_opts(60000);
    struct kz_event ev;
    int acked = 0;

    (void)state;
    close_store();
    assert_int_equal(kz_store_open(&loop, &o, &st), KZ_OK);
    if (on_pg())
        kz_store_set_audit_dir(st, dir);
    kz_event_init(&ev);
    ev.uid = "u";
    ev.type = "a-f-G";
    ev.seq = 1;
    ev.recv_time = ev.time = ev.start = kz_now_us();
    ev.stale = ev.time + 60000000;
    kz_store_append(st, &ev, "<event/>", 8, on_ack, &acked);
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "policy=US"), KZ_OK);
    assert_int_equal(count_on_disk(), 1);
    while (acked == 0) /* the event committed in the same batch */
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(kz_store_audit(st, "admin", NULL, "labels", "x"), KZ_ERR_INVAL);
    close_store();
}

/* A ":memory:" store has no audit directory, so no audit log. */
static void test_memory_store_has_no_audit(void **state)
{
    struct kz_store_opts o = {.path = ":memory:", .max_delay_ms = 5};

    (void)state;
    if (on_pg())
        skip(); /* SQLite's in-memory store */
    close_store();
    assert_int_equal(kz_store_open(&loop, &o, &st), KZ_OK);
    assert_int_equal(kz_store_audit(st, "admin", "config", "labels", "x"), KZ_ERR_INVAL);
    close_store();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_and_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recomputed_chain_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_survives_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_database_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anchor_tampering_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_chain_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_written_by_the_store_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_store_has_no_audit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
