/*
 * Unit test for store backpressure: when the disk stalls, kz_store_busy()
 * turns true at KZ_STORE_MAX_PENDING queued writes (or the threshold
 * kz_store_set_max_pending() sets), and false again once they are
 * committed.  The stall is made by holding the database lock: the startup
 * loader's callback runs under it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/store.h"
#include "store_fixture.h" /* KZ_TEST_STORE=postgres: store_want_pg(), store_pg_db() */

static uv_loop_t loop;
static struct kz_store *st;
static char dir[64];
static uint64_t seq, acked;

static void on_ack(void *ud, int status)
{
    (void)ud;
    assert_int_equal(status, KZ_OK);
    acked++;
}

static void append_one(void)
{
    static const char xml[] = "<event uid=\"u\"/>";
    struct kz_event ev;
    char uid[32];

    kz_event_init(&ev);
    snprintf(uid, sizeof(uid), "u%llu", (unsigned long long)seq);
    ev.uid = uid;
    ev.type = "a-f-G";
    ev.seq = ++seq;
    ev.recv_time = ev.time = ev.start = kz_now_us();
    ev.stale = ev.time + 60000000;
    ev.origin_input = "in";
    ev.origin_user = "user";
    kz_store_append(st, &ev, xml, sizeof(xml) - 1, on_ack, NULL);
}

static void wait_acks(void)
{
    while (acked < seq)
        uv_run(&loop, UV_RUN_ONCE);
}

#define SMALL_PENDING 64

/* Runs with the database lock held: the store thread cannot commit.  `ud` is the threshold. */
static void stall(void *ud, uint64_t s, const char *xml, size_t len, const char *label,
                  const struct kz_store_origin *origin)
{
    unsigned max_pending = *(const unsigned *)ud;
    (void)s, (void)xml, (void)len, (void)label, (void)origin;
    assert_false(kz_store_busy(st));
    /* The store thread may hold one batch taken off the queue before the lock stopped it. */
    for (unsigned i = 0; i < SMALL_PENDING + KZ_STORE_MAX_BATCH + 1; i++)
        append_one();
    assert_int_equal(kz_store_busy(st), max_pending == SMALL_PENDING);
    for (unsigned i = SMALL_PENDING; i < max_pending; i++)
        append_one();
    assert_true(kz_store_busy(st));
}

/* Stall a store with threshold `max_pending` (0 = the default) until it is busy, then let go. */
static void run_stall(unsigned max_pending)
{
    struct kz_store_opts o = {.max_delay_ms = 5};
    unsigned threshold = max_pending ? max_pending : KZ_STORE_MAX_PENDING;
    char path[256], cmd[96];
    uint64_t max_seq;

    kz_log_min = KZ_LOG_ERROR;
    seq = acked = 0;
    snprintf(dir, sizeof(dir), "/tmp/kz-busy-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/kizuna.db", dir);
    if (store_want_pg()) { /* the locator of a fresh database (store_fixture.h) */
        size_t n = strlen(KZ_STORE_PG_LOCATOR);
        memcpy(path, KZ_STORE_PG_LOCATOR, n + 1);
        assert_int_equal(store_pg_db(path + n, sizeof(path) - n), 0);
    }
    o.path = path;
    uv_loop_init(&loop);
    assert_int_equal(kz_store_open(&loop, &o, &st), KZ_OK);
    kz_store_set_max_pending(st, max_pending);
    append_one(); /* one track, so the loader calls back */
    wait_acks();
    assert_int_equal(kz_store_load(st, 0, stall, &threshold, &max_seq), KZ_OK);
    wait_acks(); /* the lock is free again: everything commits */
    assert_false(kz_store_busy(st));
    kz_store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_busy_when_the_disk_stalls(void **state)
{
    (void)state;
    run_stall(0);
}

/* kz_store_set_max_pending() lowers the threshold (what tests of the refusal use). */
static void test_max_pending_lowers_the_threshold(void **state)
{
    (void)state;
    run_stall(SMALL_PENDING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_when_the_disk_stalls),
        cmocka_unit_test(test_max_pending_lowers_the_threshold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
