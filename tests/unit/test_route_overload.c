/*
 * Unit test for the router's overload refusal: over a store whose disk is
 * stalled (the database lock held by the startup loader's callback) and
 * that is therefore busy, a new event is refused with KZ_REJ_OVERLOAD, not
 * stored, delivered nor acknowledged; once the store catches up it is
 * accepted again.  POST /api/v1/events answers that refusal with 503 and
 * Retry-After (src/api/events.c, the branch integration/25-events-refusals
 * reaches through state_full).  kz_store_set_max_pending() lowers the
 * threshold so that the test needs only a few writes.  Long before that,
 * at half the threshold, a reader asking kz_router_hold() is held, and
 * resumed once the store has caught up (route/hold.c); one that closes
 * while held (kz_router_unhold) is never resumed.
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

#include "route/route.h"

#define MAX_PENDING 8

static uv_loop_t loop;
static struct kz_label_policy policy;
static struct kz_groups group_table; /* the intern table a server would own */
static struct kz_input input;
static struct kz_input_conf conf;
static struct kz_identity id;
static char *cyan[] = {"Cyan"};
static struct kz_router *router;
static struct kz_store *st;
static unsigned submitted, acked;
static struct kz_router_hold hold, gone;
static unsigned resumed, resumed_gone;

static void on_resume(struct kz_router_hold *h)
{
    assert_false(h->held);
    resumed++;
}

static void on_resume_gone(struct kz_router_hold *h)
{
    (void)h;
    resumed_gone++;
}

static void on_ack(void *ud, int status)
{
    (void)ud;
    assert_int_equal(status, KZ_OK);
    acked++;
}

/* Submit a position report for `uid`: KZ_OK, or KZ_ERR_DENIED with *why. */
static int submit(const char *uid, enum kz_reject *why)
{
    struct kz_event ev;
    int64_t now = kz_now_us();
    int rc;

    kz_event_init(&ev);
    ev.uid = kz_xstrdup(uid);
    ev.type = kz_xstrdup("a-f-G");
    ev.how = kz_xstrdup("m-g");
    ev.time = ev.start = now;
    ev.stale = now + 60000000;
    rc = kz_router_submit(router, &input, NULL, &ev, on_ack, NULL, why, NULL);
    submitted += rc == KZ_OK;
    kz_event_clear(&ev);
    return rc;
}

static void wait_acks(void)
{
    while (acked < submitted)
        uv_run(&loop, UV_RUN_ONCE);
}

/* Runs with the database lock held: the store thread cannot commit. */
static void stall(void *ud, uint64_t s, const char *xml, size_t len, const char *label,
                  const struct kz_store_origin *origin)
{
    enum kz_reject why = KZ_REJ__COUNT;
    unsigned sent = 0;
    (void)ud, (void)s, (void)xml, (void)len, (void)label, (void)origin;

    assert_false(kz_router_hold(router, &hold)); /* nothing queued yet */
    /* Updates of one uid: only the store can refuse them (no new uid, no budget). */
    while (submit("t1", &why) == KZ_OK)
        assert_true(++sent <= MAX_PENDING + KZ_STORE_MAX_BATCH);
    assert_int_equal(why, KZ_REJ_OVERLOAD);
    assert_true(kz_store_busy(st));
    assert_int_equal(submit("t2", &why), KZ_ERR_DENIED); /* a new uid too */
    assert_int_equal(why, KZ_REJ_OVERLOAD);
    assert_true(kz_router_hold(router, &hold));
    assert_true(kz_router_hold(router, &gone));
    kz_router_unhold(router, &gone); /* its reader closed */
    assert_false(gone.held);
}

static void test_busy_store_refuses_with_overload(void **state)
{
    struct kz_store_opts o = {.path = ":memory:", .max_delay_ms = 5};
    struct kz_router_stats rs;
    enum kz_reject why;
    uint64_t max_seq;
    (void)state;

    kz_log_min = KZ_LOG_ERROR;
    hold.resume = on_resume;
    gone.resume = on_resume_gone;
    uv_loop_init(&loop);
    kz_label_policy_init_default(&policy);
    conf = (struct kz_input_conf){
        .name = "a", .protocol = KZ_PROTO_TCP, .default_label = "UNCLASSIFIED", .identity = &id};
    id = (struct kz_identity){.user = "a",
                              .nation = "USA",
                              .clearance = "SECRET",
                              .groups_in = cyan,
                              .groups_in_count = 1,
                              .groups_out = cyan,
                              .groups_out_count = 1};
    assert_int_equal(kz_input_init(&input, &conf, &group_table, &policy, NULL, 0), KZ_OK);
    assert_int_equal(kz_store_open(&loop, &o, &st), KZ_OK);
    kz_store_set_max_pending(st, MAX_PENDING);
    router = kz_router_new(&loop, &(struct kz_router_opts){.policy = &policy,
                                                           .groups = &group_table,
                                                           .store = st,
                                                           .inputs = &input,
                                                           .n_inputs = 1});
    assert_int_equal(submit("t1", &why), KZ_OK); /* one track, so the loader calls back */
    wait_acks();
    assert_int_equal(kz_store_load(st, 0, stall, NULL, &max_seq), KZ_OK);
    wait_acks(); /* the lock is free again: everything accepted commits */
    assert_false(kz_store_busy(st));
    while (!resumed)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(resumed, 1);
    assert_int_equal(resumed_gone, 0);
    assert_false(kz_router_hold(router, &hold)); /* caught up: go on */
    assert_int_equal(submit("t2", &why), KZ_OK);
    wait_acks();
    kz_router_stats(router, &rs);
    assert_int_equal(rs.tracks, 2);
    kz_router_free(router);
    kz_store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_store_refuses_with_overload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
