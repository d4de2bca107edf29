/*
 * test_cluster_lease.c - leases in a KV bucket (cluster/lease.h) against a
 * real nats-server with JetStream (nats_fixture.h): two contenders, exactly
 * one holds; a holder that stops renewing loses the lease to the other after
 * the ttl; a release hands it over at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cluster/lease.h"
#include "nats_fixture.h"

static struct nats_fx fx;

static int setup(void **state)
{
    (void)state;
    nats_fx_start(&fx);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nats_fx_destroy(&fx);
    nats_CloseAndWait(5000);
    return 0;
}

struct side {
    struct kz_lease *l;
    natsConnection *nc;
    bool held;
    int acquired, lost;
    int64_t acquired_at; /* mono µs */
};

struct pair {
    struct side s[2];
    int both; /* samples where both held */
};

static void on_lease(void *arg, const char *name, bool held)
{
    struct side *s = arg;

    assert_string_equal(name, "fed:partner-1");
    assert_true(held != s->held); /* changes only */
    s->held = held;
    if (held) {
        s->acquired++;
        s->acquired_at = kz_mono_us();
    } else {
        s->lost++;
    }
}

static void start_pair(struct pair *p, uv_loop_t *loop, const char *bucket, int64_t ttl)
{
    struct kz_lease_opts o = {.bucket = bucket, .ttl = ttl};
    const char *holders[2] = {"node-a", "node-b"};
    struct kz_kv kv;

    memset(p, 0, sizeof(*p));
    for (int i = 0; i < 2; i++)
        p->s[i].nc = nats_fx_connect(&fx, 100, NULL, NULL);
    /* The bucket exists before the contenders start (what a running cluster has). */
    assert_int_equal(kz_kv_open(&kv, p->s[0].nc, bucket, ttl), KZ_OK);
    kz_kv_close(&kv);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(kz_lease_start(&p->s[i].l, loop, p->s[i].nc, "fed:partner-1", holders[i],
                                        &o, on_lease, &p->s[i]),
                         KZ_OK);
    }
}

static int one_holds(void *arg)
{
    struct pair *p = arg;
    return p->s[0].held || p->s[1].held;
}

/* Run for ms, counting the samples where both hold. */
static void watch_exclusive(struct pair *p, uv_loop_t *loop, long ms)
{
    for (long t = 0; t < ms; t += 10) {
        uv_run(loop, UV_RUN_NOWAIT);
        if (p->s[0].held && p->s[1].held)
            p->both++;
        nats_fx_sleep_ms(10);
    }
}

static void stop_pair(struct pair *p, uv_loop_t *loop)
{
    for (int i = 0; i < 2; i++) {
        if (p->s[i].l)
            kz_lease_stop(p->s[i].l, true);
        p->s[i].l = NULL;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 2; i++)
        natsConnection_Destroy(p->s[i].nc);
}

static void test_exactly_one(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct pair p;
    struct kz_lease *bad = NULL;

    uv_loop_init(&loop);
    start_pair(&p, &loop, "t_lease_one", 2000000);
    assert_true(nats_fx_run_until(&loop, one_holds, &p, 10000));
    /* Over several renewal periods, one holds, the same one, and never both. */
    watch_exclusive(&p, &loop, 4000);
    assert_int_equal(p.both, 0);
    assert_int_equal(p.s[0].acquired + p.s[1].acquired, 1);
    assert_int_equal(p.s[0].lost + p.s[1].lost, 0);
    assert_true(kz_lease_held(p.s[0].l) != kz_lease_held(p.s[1].l));
    /* Bad arguments are refused without a callback. */
    struct kz_lease_opts o = {.ttl = 500000};
    assert_int_equal(kz_lease_start(&bad, &loop, p.s[0].nc, "x", "h", &o, on_lease, NULL),
                     KZ_ERR_INVAL);
    assert_int_equal(kz_lease_start(&bad, &loop, p.s[0].nc, "", "h", NULL, on_lease, NULL),
                     KZ_ERR_INVAL);
    assert_null(bad);
    stop_pair(&p, &loop);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static int other_holds(void *arg)
{
    struct side *s = arg;
    return s->held;
}

static void test_expiry(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct pair p;
    const int64_t ttl = 2000000;

    uv_loop_init(&loop);
    start_pair(&p, &loop, "t_lease_ttl", ttl);
    assert_true(nats_fx_run_until(&loop, one_holds, &p, 10000));
    int h = p.s[0].held ? 0 : 1, o = 1 - h;
    /* The holder stops renewing (a crash): no release. */
    int64_t stopped = kz_mono_us();
    kz_lease_stop(p.s[h].l, false);
    p.s[h].l = NULL;
    assert_true(nats_fx_run_until(&loop, other_holds, &p.s[o], 10000));
    int64_t took = p.s[o].acquired_at - stopped;
    /* Not before the holder's last write expired (it renewed at most ttl/3 before stopping)... */
    assert_true(took >= ttl * 2 / 3 - 100000);
    /* ...and soon after. */
    assert_true(took <= ttl + 2500000);
    assert_int_equal(p.s[o].acquired, 1);
    watch_exclusive(&p, &loop, 1500);
    assert_true(p.s[o].held);
    stop_pair(&p, &loop);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_release(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct pair p;

    uv_loop_init(&loop);
    start_pair(&p, &loop, "t_lease_rel", 30 * 1000000LL); /* a ttl far above the hand-over */
    assert_true(nats_fx_run_until(&loop, one_holds, &p, 10000));
    nats_fx_run_for(&loop, 1500); /* the other is now waiting on its watch */
    int h = p.s[0].held ? 0 : 1, o = 1 - h;
    int64_t released = kz_mono_us();
    kz_lease_stop(p.s[h].l, true);
    p.s[h].l = NULL;
    assert_true(nats_fx_run_until(&loop, other_holds, &p.s[o], 5000));
    assert_true(p.s[o].acquired_at - released < 1000000); /* at once, not after the ttl */
    stop_pair(&p, &loop);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exactly_one),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_release),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
