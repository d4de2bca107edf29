/*
 * store_fixture.h - a store in a fresh temporary directory with its own
 * loop, shared by the store unit tests.  Include after <cmocka.h>.
 * Each test gets a struct fx as its cmocka state: store_fx_setup() makes
 * the directory and loop, store_fx_teardown() closes the store if open,
 * checks the loop closes cleanly and removes the directory.
 *
 * Both backends: with KZ_TEST_STORE=postgres (the ctest entries *_pg) the
 * first setup starts a PostgreSQL for the binary (pg_fixture.h; stopped at
 * exit) and each test gets a fresh database, whose locator "postgres:DSN"
 * (store.h) stands in fx->path: the store's calls and sql_int() take it as
 * they take a file.  A test of SQLite's own
 * machinery calls sqlite_only(fx) first.
 */
#ifndef KZ_TEST_STORE_FIXTURE_H
#define KZ_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "pg_fixture.h"
#include "store/store.h"

struct fx {
    char dir[64];
    char path[256]; /* the SQLite file, or with KZ_TEST_STORE=postgres the DSN */
    uv_loop_t loop;
    struct kz_store *st;
};

/* Is this path a PostgreSQL DSN (KZ_TEST_STORE=postgres)? */
static inline bool store_is_pg(const char *path)
{
    return kz_store_pg_dsn(path) != NULL;
}

static inline bool store_want_pg(void)
{
    const char *b = getenv("KZ_TEST_STORE");
    return b && strcmp(b, "postgres") == 0;
}

/* The binary's PostgreSQL: started by the first setup that needs it, stopped at exit. */
static struct pg_fx store_pg_server;

static inline void store_pg_stop(void)
{
    pg_fx_stop(&store_pg_server);
}

static inline int store_pg_db(char *dsn, size_t len)
{
    if (!store_pg_server.pid) {
        if (pg_fx_start(&store_pg_server) != 0)
            return -1;
        atexit(store_pg_stop);
    }
    return pg_fx_new_db(&store_pg_server, dsn, len);
}

static inline int store_fx_setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/kz_store_XXXXXX");
    if (!mkdtemp(fx->dir) || uv_loop_init(&fx->loop) != 0)
        return -1;
    snprintf(fx->path, sizeof(fx->path), "%s/kizuna.db", fx->dir);
    if (store_want_pg()) {
        size_t n = strlen(KZ_STORE_PG_LOCATOR);
        memcpy(fx->path, KZ_STORE_PG_LOCATOR, n + 1);
        if (store_pg_db(fx->path + n, sizeof(fx->path) - n) != 0)
            return -1;
    }
    *state = fx;
    return 0;
}

/* A test of SQLite's own machinery (its file, PRAGMAs, page counts): skipped on PostgreSQL. */
#define sqlite_only(fx)                                                                            \
    do {                                                                                           \
        if (store_is_pg((fx)->path))                                                               \
            skip();                                                                                \
    } while (0)

static inline void close_store(struct fx *fx)
{
    kz_store_close(fx->st);
    fx->st = NULL;
    uv_run(&fx->loop, UV_RUN_DEFAULT);
}

static inline int store_fx_teardown(void **state)
{
    struct fx *fx = *state;
    char cmd[128];

    if (fx->st)
        close_store(fx);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

/* The options for fx's store: its file, or its PostgreSQL database. */
static inline struct kz_store_opts store_opts(const struct fx *fx, unsigned delay_ms,
                                              int64_t ret_us, int64_t ret_bytes)
{
    bool pg = store_is_pg(fx->path);
    struct kz_store_opts o = {fx->path, delay_ms, ret_us, ret_bytes, NULL, pg ? "test-node" : NULL};
    return o;
}

static inline void open_store(struct fx *fx, unsigned delay_ms, int64_t ret_us, int64_t ret_bytes)
{
    struct kz_store_opts o = store_opts(fx, delay_ms, ret_us, ret_bytes);
    assert_int_equal(kz_store_open(&fx->loop, &o, &fx->st), KZ_OK);
    assert_non_null(fx->st);
    if (store_is_pg(fx->path)) /* audit.key and audit.head where SQLite's file would be */
        kz_store_set_audit_dir(fx->st, fx->dir);
}

/* Acknowledgements counted: how many, how many KZ_OK, the last status and when. */
struct store_acks {
    size_t n, ok;
    int last;
    int64_t last_mono;
};

static inline void store_on_ack(void *ud, int status)
{
    struct store_acks *a = ud;

    a->n++;
    a->ok += status == KZ_OK;
    a->last = status;
    a->last_mono = kz_mono_us();
}

static inline void on_deadline(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Run the loop until *count >= want or timeout_ms passes; returns *count. */
static inline size_t run_until(struct fx *fx, const size_t *count, size_t want, unsigned timeout_ms)
{
    uv_timer_t timer;
    bool expired = false;

    uv_timer_init(&fx->loop, &timer);
    timer.data = &expired;
    uv_timer_start(&timer, on_deadline, timeout_ms, 0);
    while ((!count || *count < want) && !expired)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    return count ? *count : 0;
}

/* ---- a second connection, as another process would see the file ----- */

/* The first column of the first row of `sql`, or -1 for no row. */
static inline int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    if (store_is_pg(path))
        return pg_fx_int(kz_store_pg_dsn(path), sql);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static inline void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;

    if (store_is_pg(path)) {
        assert_int_equal(pg_fx_exec_dsn(kz_store_pg_dsn(path), sql), 0);
        return;
    }
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* SQL that undoes migration 15: no points. */
#define UNDO_MIGRATION_15                                                                          \
    "DROP TRIGGER events_geo_delete; DROP TABLE events_geo;"                                       \
    "ALTER TABLE events DROP COLUMN lon_e7; ALTER TABLE events DROP COLUMN lat_e7;"
/* SQL that undoes migration 13: events(uid) indexed again, no chain (and 15). */
#define UNDO_MIGRATION_13                                                                          \
    UNDO_MIGRATION_15 "DROP TABLE uid_heads; ALTER TABLE events DROP COLUMN uid_prev;"             \
                      "CREATE INDEX events_uid ON events(uid);"
/* ... and migrations 9 (the federation columns and tables) and 10 (files) as well, for
 * tests that rebuild an older schema (11 and 12 run again on the tables as they are). */
#define UNDO_MIGRATIONS_9_ON                                                                       \
    "DROP TABLE files; DROP INDEX events_fed_seq; DROP TABLE fed_sent; DROP TABLE fed_cursor;"     \
    "ALTER TABLE events DROP COLUMN fed_provenance; ALTER TABLE events DROP COLUMN fed_hops;"      \
    "ALTER TABLE events DROP COLUMN fed_max_hops; ALTER TABLE events DROP COLUMN "                 \
    "fed_seq;" UNDO_MIGRATION_13

#endif
