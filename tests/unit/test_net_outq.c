/*
 * Unit tests for the output queue's flush passes (net/outq.c), through a
 * transport that records each write the queue makes and takes nothing
 * early (try_write answers UV_EAGAIN, as TLS does).  A plain queue writes
 * once per loop pass; a coalescing one (TLS) lets the passes of
 * KZ_OUTQ_COALESCE_MS share one write, or writes as soon as it holds
 * KZ_OUTQ_COALESCE_BYTES.
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

#include "net/net.h"
#include "net/transport.h"

struct rec {
    struct kz_transport t;
    unsigned writes;
    size_t bytes[16];
    kz_transport_write_cb cb;
    void *ud;
};

static int rec_write(struct kz_transport *t, const uv_buf_t *iov, unsigned n,
                     kz_transport_write_cb cb, void *ud)
{
    struct rec *r = (struct rec *)t;
    size_t sum = 0;

    for (unsigned i = 0; i < n; i++)
        sum += iov[i].len;
    assert_true(r->writes < 16);
    r->bytes[r->writes++] = sum;
    r->cb = cb;
    r->ud = ud;
    return 0;
}

static int rec_try_write(struct kz_transport *t, const uv_buf_t *iov, unsigned n)
{
    KZ_UNUSED(t), KZ_UNUSED(iov), KZ_UNUSED(n);
    return UV_EAGAIN;
}

static const struct kz_transport_ops rec_ops = {"rec", NULL, rec_write, rec_try_write, NULL};

/* The write in flight is on the wire. */
static void complete(struct rec *r)
{
    kz_transport_write_cb cb = r->cb;

    r->cb = NULL;
    if (cb)
        cb(r->ud, 0);
}

static void push(struct kz_outq *q, size_t len)
{
    char *data = malloc(len);
    memset(data, 'x', len);
    struct kz_rbuf *b = kz_rbuf_new(data, len);
    assert_int_equal(kz_outq_push(q, b), KZ_OK);
    kz_rbuf_unref(b);
    free(data);
}

static void never(uv_timer_t *t)
{
    KZ_UNUSED(t);
}

struct fx {
    uv_loop_t loop;
    struct kz_net net;
    struct rec rec;
    struct kz_outq q;
    uv_timer_t alive; /* keeps the loop running, as a server's listeners do */
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    uv_loop_init(&fx->loop);
    kz_net_init(&fx->net, &fx->loop);
    uv_timer_init(&fx->loop, &fx->alive);
    uv_timer_start(&fx->alive, never, 60000, 0);
    fx->rec.t.ops = &rec_ops;
    kz_outq_init(&fx->q, &fx->net, &fx->rec.t, 1 << 20, NULL);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    complete(&fx->rec);
    kz_outq_kill(&fx->q);
    kz_net_shutdown(&fx->net);
    uv_close((uv_handle_t *)&fx->alive, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    free(fx);
    return 0;
}

/* One loop pass that does not wait for I/O. */
static void pass(struct fx *fx)
{
    uv_run(&fx->loop, UV_RUN_NOWAIT);
}

/* Passes until the queue has made `n` writes or 2 s passed; the time it took, in ms. */
static int64_t passes_until(struct fx *fx, unsigned n)
{
    int64_t t0 = kz_mono_us();

    while (fx->rec.writes < n && kz_mono_us() - t0 < 2000000) {
        pass(fx);
        usleep(500);
    }
    return (kz_mono_us() - t0) / 1000;
}

static void test_plain_writes_every_pass(void **state)
{
    struct fx *fx = *state;

    push(&fx->q, 100);
    pass(fx);
    assert_int_equal(fx->rec.writes, 1);
    assert_int_equal(fx->rec.bytes[0], 100);
    complete(&fx->rec);
    push(&fx->q, 50);
    pass(fx);
    assert_int_equal(fx->rec.writes, 2);
    assert_int_equal(fx->rec.bytes[1], 50);
}

static void test_coalescing_passes_share_a_write(void **state)
{
    struct fx *fx = *state;
    int64_t t0 = kz_mono_us();

    fx->q.coalesce = true;
    for (int i = 0; i < 3; i++) {
        push(&fx->q, 100);
        pass(fx);
    }
    /* (A machine too loaded to make three passes within the wait proves nothing here.) */
    if (kz_mono_us() - t0 >= KZ_OUTQ_COALESCE_MS * 1000)
        skip();
    assert_int_equal(fx->rec.writes, 0); /* waiting for more */
    /* The wait ends after at most KZ_OUTQ_COALESCE_MS: one write carries all three. */
    assert_true(passes_until(fx, 1) < 1000);
    assert_int_equal(fx->rec.writes, 1);
    assert_int_equal(fx->rec.bytes[0], 300);
}

static void test_coalescing_full_record_goes_at_once(void **state)
{
    struct fx *fx = *state;

    fx->q.coalesce = true;
    push(&fx->q, 100);
    pass(fx);
    assert_int_equal(fx->rec.writes, 0);
    push(&fx->q, KZ_OUTQ_COALESCE_BYTES);
    pass(fx);
    assert_int_equal(fx->rec.writes, 1);
    assert_int_equal(fx->rec.bytes[0], 100 + KZ_OUTQ_COALESCE_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_writes_every_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalescing_passes_share_a_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalescing_full_record_goes_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
