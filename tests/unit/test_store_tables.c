/*
 * Unit tests for the store's job ops: a table the store has never heard of
 * (here "notes", defined in this file only) is written in the store
 * thread's batches, acknowledged after commit, read back on the store
 * thread and hooked after each batch, with no change to the generic code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/internal.h"
#include "store_fixture.h"

/* ---- the notes table, as a new store/notes.c would define it ------------ */

static const char sql_create[] = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY,"
                                 " text TEXT NOT NULL UNIQUE)";
static const char sql_insert[] = "INSERT INTO notes(text) VALUES (?1)";
static const char sql_count[] = "SELECT count(*) FROM notes";

struct note_job {
    struct kz__job job;
    const char *text; /* in data[] */
    int64_t count;    /* read jobs: the answer */
    char data[];
};

static unsigned after_calls; /* batches the hook saw */

static int write_note(struct kz__db *db, struct kz__job *job)
{
    sqlite3_stmt *c = kz__db_stmt(db, sql_create), *s;
    int rc;

    /* A real table gets its CREATE from migrate.c; a test cannot add one. */
    if (!c || (rc = kz__db_step(c)) != SQLITE_DONE)
        return c ? rc : SQLITE_ERROR;
    if (!(s = kz__db_stmt(db, sql_insert)))
        return SQLITE_ERROR;
    kz__bind_text(s, 1, ((struct note_job *)job)->text);
    return kz__db_step(s);
}

static int after_notes(struct kz__db *db, struct kz__job *batch)
{
    KZ_UNUSED(db);
    assert_non_null(batch);
    after_calls++;
    return SQLITE_DONE;
}

static void count_notes(struct kz__db *db, struct kz__job *job)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_count);
    struct note_job *j = (struct note_job *)job;

    job->status = KZ_ERR_DB;
    if (s && sqlite3_step(s) == SQLITE_ROW) {
        j->count = sqlite3_column_int64(s, 0);
        job->status = KZ_OK;
    }
    if (s)
        sqlite3_reset(s);
}

static const struct kz__job_ops note_ops = {
    .table = "notes",
    .write = write_note,
    .after_writes = after_notes,
};

static const struct kz__job_ops count_ops = {
    .table = "notes",
    .read = count_notes,
};

static struct kz__job *note(const char *text, kz_store_ack_cb cb, void *ud)
{
    struct note_job *j = kz__job_new(&note_ops, sizeof(*j), kz__str_size(text));
    char *p = j->data;

    j->text = kz__pack_str(&p, text);
    j->job.ack = cb;
    j->job.ud = ud;
    j->job.notify = cb != NULL;
    return &j->job;
}

static int64_t count(struct kz_store *st)
{
    struct note_job *j = kz__job_new(&count_ops, sizeof(*j), 0);
    int64_t n;

    assert_int_equal(kz__store_run_sync(st, &j->job), KZ_OK);
    n = j->count;
    kz__job_free(&j->job);
    return n;
}

/* ---- tests --------------------------------------------------------------- */

static int setup(void **state)
{
    kz_log_min = KZ_LOG_ERROR;
    after_calls = 0;
    return store_fx_setup(state);
}

static int teardown(void **state)
{
    return store_fx_teardown(state);
}

static void test_new_table_acks_after_commit(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};
    struct kz_store_stats stats;

    open_store(fx, 20, 0, 0);
    kz__store_submit(fx->st, note("one", store_on_ack, &acks));
    kz__store_submit(fx->st, note("two", store_on_ack, &acks));
    kz__store_submit(fx->st, note("three", NULL, NULL));
    assert_int_equal(acks.n, 0);
    assert_int_equal(run_until(fx, &acks.n, 2, 5000), 2);
    assert_int_equal(acks.ok, 2);
    assert_int_equal(count(fx->st), 3);
    assert_true(after_calls >= 1 && after_calls <= 3);
    /* Not an event: the event counters do not move. */
    kz_store_stats(fx->st, &stats);
    assert_int_equal(stats.appended, 0);
    assert_int_equal(stats.committed, 0);
}

/* A refused row fails alone and the batch commits around it. */
static void test_new_table_refused_row(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0}, dup = {0};

    open_store(fx, 20, 0, 0);
    kz__store_submit(fx->st, note("a", store_on_ack, &acks));
    kz__store_submit(fx->st, note("a", store_on_ack, &dup));
    kz__store_submit(fx->st, note("b", store_on_ack, &acks));
    assert_int_equal(run_until(fx, &acks.n, 2, 5000), 2);
    assert_int_equal(run_until(fx, &dup.n, 1, 5000), 1);
    assert_int_equal(acks.ok, 2);
    assert_int_equal(dup.last, KZ_ERR_DB);
    assert_int_equal(count(fx->st), 2);
}

/* A blocking write commits at once, not after the batch window. */
static void test_sync_write_skips_the_window(void **state)
{
    struct fx *fx = *state;
    struct kz__job *job;
    int64_t t0;

    open_store(fx, 60000, 0, 0);
    job = note("now", NULL, NULL);
    t0 = kz_mono_us();
    assert_int_equal(kz__store_run_sync(fx->st, job), KZ_OK);
    kz__job_free(job);
    assert_true(kz_mono_us() - t0 < 10 * 1000 * 1000);
    assert_int_equal(count(fx->st), 1);
}

/* Jobs queued while closing are answered, not lost. */
static void test_close_flushes(void **state)
{
    struct fx *fx = *state;
    struct store_acks acks = {0};

    open_store(fx, 60000, 0, 0);
    kz__store_submit(fx->st, note("x", store_on_ack, &acks));
    kz__store_submit(fx->st, note("y", store_on_ack, &acks));
    close_store(fx);
    assert_int_equal(acks.n, 2);
    assert_int_equal(acks.ok, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_table_acks_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_table_refused_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_write_skips_the_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_flushes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
