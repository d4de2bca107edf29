/*
 * Unit tests for src/fed/grpc.c: a client and a server engine joined back to
 * back in memory (a test transport whose write is delivered to the other
 * side's feed by a pump loop, no sockets), and a raw nghttp2 client for what
 * the engine never sends.  The TLS transports: test_fed_grpc_tls.c.
 */
#include <nghttp2/nghttp2.h>

#include "fed_grpc_fixture.h"

/* ---- two engines joined in memory ---------------------------------------------- */

static int mem_write(struct kz_transport *t, const uv_buf_t *iov, unsigned n,
                     kz_transport_write_cb cb, void *ud)
{
    struct end *e = (struct end *)t;

    assert_false(e->busy); /* the transport contract: one write in flight */
    for (unsigned i = 0; i < n; i++)
        kz_sbuf_add(&e->wire, iov[i].base, iov[i].len);
    e->cb = cb;
    e->cb_ud = ud;
    e->busy = true;
    return 0;
}

static int mem_try_write(struct kz_transport *t, const uv_buf_t *iov, unsigned n)
{
    KZ_UNUSED(t);
    KZ_UNUSED(iov);
    KZ_UNUSED(n);
    return UV_EAGAIN;
}

static const struct kz_transport_ops mem_ops = {"mem", NULL, mem_write, mem_try_write, NULL};

/* Deliver one side's write to the other and complete it. */
static bool step(struct end *e)
{
    if (!e->busy)
        return false;
    struct kz_sbuf w = e->wire;
    e->wire = (struct kz_sbuf)KZ_SBUF_INIT;
    e->busy = false;
    int rc = e->peer->g ? kz_grpc_feed(e->peer->g, w.buf, w.len) : KZ_OK;
    if (rc != KZ_OK)
        e->peer->feed_rc = rc;
    kz_sbuf_release(&w);
    e->cb(e->cb_ud, 0);
    return true;
}

static void run(struct end *a, struct end *b)
{
    while (step(a) | step(b))
        ;
}

struct pair {
    struct end cl, sv;
};

static struct pair *pair_new(size_t client_max, size_t server_max)
{
    struct pair *p = calloc(1, sizeof(*p));

    p->cl.t.ops = p->sv.t.ops = &mem_ops;
    p->cl.t.ready = p->sv.t.ready = true;
    p->cl.peer = &p->sv;
    p->sv.peer = &p->cl;
    p->cl.ordered = p->sv.ordered = true;
    p->sv.stream_on_end = true;
    p->cl.g = kz_grpc_new(true, &p->cl.t, &cbs, &p->cl, client_max);
    p->sv.g = kz_grpc_new(false, &p->sv.t, &cbs, &p->sv, server_max);
    run(&p->cl, &p->sv);
    return p;
}

static void pair_free(struct pair *p)
{
    struct kz_grpc *cg = p->cl.g, *sg = p->sv.g;

    p->cl.g = p->sv.g = NULL;
    kz_grpc_free(cg);
    kz_grpc_free(sg);
    run(&p->cl, &p->sv); /* completes the GOAWAY writes, which frees the engines */
    kz_sbuf_release(&p->cl.wire);
    kz_sbuf_release(&p->sv.wire);
    free(p);
}

/* ---- the engine ------------------------------------------------------------------- */

static void test_unary(void **state)
{
    struct pair *p = pair_new(1 << 20, 1 << 20);
    KZ_UNUSED(state);

    struct kz_grpc_call *c = kz_grpc_call_start(p->cl.g, "/t.T/Unary", NULL, NULL);
    assert_non_null(c);
    kz_grpc_call_set_data(c, &p->cl);
    assert_ptr_equal(kz_grpc_call_data(c), &p->cl);
    assert_int_equal(kz_grpc_send(c, "0", 2), KZ_OK);
    assert_int_equal(kz_grpc_half_close(c), KZ_OK);
    run(&p->cl, &p->sv);
    assert_string_equal(p->sv.path, "/t.T/Unary");
    assert_int_equal(p->sv.messages, 1);
    assert_int_equal(p->cl.messages, 1);
    assert_int_equal(p->cl.bytes, 3); /* "1:2" */
    assert_int_equal(p->cl.ends, 1);
    assert_int_equal(p->cl.end_status, 0);
    assert_string_equal(p->cl.end_msg, "done\n100%"); /* percent-encoded on the wire */
    assert_int_equal(p->cl.feed_rc, KZ_OK);
    assert_int_equal(p->sv.feed_rc, KZ_OK);
    pair_free(p);
}

/* One header each way: the client's request carries it, the server's response answers. */
static void test_headers(void **state)
{
    struct pair *p = pair_new(1 << 20, 1 << 20);
    KZ_UNUSED(state);

    kz_grpc_keep_header(p->cl.g, "kz-resume");
    kz_grpc_keep_header(p->sv.g, "kz-resume");
    struct kz_grpc_call *c = kz_grpc_call_start(p->cl.g, "/t.T/Unary", "kz-resume", "4242");
    kz_grpc_call_set_data(c, &p->cl);
    kz_grpc_send(c, "0", 2);
    kz_grpc_half_close(c);
    run(&p->cl, &p->sv);
    assert_string_equal(p->sv.header, "4242");
    assert_string_equal(p->cl.header, "ack");
    assert_int_equal(p->cl.end_status, 0);
    /* A call without the header: the server sees none and adds none. */
    p->sv.header[0] = p->cl.header[0] = '\0';
    c = kz_grpc_call_start(p->cl.g, "/t.T/Unary", NULL, NULL);
    kz_grpc_call_set_data(c, &p->cl);
    kz_grpc_send(c, "0", 2);
    kz_grpc_half_close(c);
    run(&p->cl, &p->sv);
    assert_string_equal(p->sv.header, "");
    assert_string_equal(p->cl.header, "");
    pair_free(p);
}

static void test_server_stream(void **state)
{
    struct pair *p = pair_new(1 << 20, 1 << 20);
    KZ_UNUSED(state);

    struct kz_grpc_call *c = kz_grpc_call_start(p->cl.g, "/t.T/Stream", NULL, NULL);
    assert_int_equal(kz_grpc_send(c, "0", 2), KZ_OK);
    kz_grpc_half_close(c);
    run(&p->cl, &p->sv);
    assert_int_equal(p->cl.messages, N_STREAM);
    assert_true(p->cl.ordered);
    assert_int_equal(p->cl.end_status, 0);
    assert_int_equal(p->cl.ends, 1);
    /* Back-pressure engaged and held: the queue stayed near the high-water mark. */
    assert_true(p->sv.againsb > 0);
    assert_int_equal(p->sv.writable, p->sv.againsb);
    assert_true(p->sv.max_queued <= KZ_GRPC_HIGH_WATER + 205);
    assert_int_equal(kz_grpc_queued(p->sv.g), 0);
    pair_free(p);
}

static void test_client_stream(void **state)
{
    struct pair *p = pair_new(1 << 20, 1 << 20);
    static char big[100000];
    char msg[16];
    KZ_UNUSED(state);

    struct kz_grpc_call *c = kz_grpc_call_start(p->cl.g, "/t.T/Sum", NULL, NULL);
    for (int i = 0; i < 100; i++) {
        snprintf(msg, sizeof(msg), "%d", i);
        if (i == 50) {
            memcpy(big, "50", 3);
            assert_int_equal(kz_grpc_send(c, big, sizeof(big)), KZ_OK);
        } else {
            assert_int_equal(kz_grpc_send(c, msg, strlen(msg) + 1), KZ_OK);
        }
        if (i % 10 == 0)
            run(&p->cl, &p->sv);
    }
    kz_grpc_half_close(c);
    assert_int_equal(kz_grpc_send(c, "x", 1), KZ_ERR_CLOSED);
    run(&p->cl, &p->sv);
    assert_int_equal(p->sv.messages, 100);
    assert_true(p->sv.ordered);
    assert_int_equal(p->sv.bytes, 100000 + 10 * 2 + 89 * 3);
    assert_int_equal(p->cl.end_status, 0);
    assert_int_equal(p->cl.messages, 1);
    pair_free(p);
}

static void test_bidi(void **state)
{
    struct pair *p = pair_new(1 << 20, 1 << 20);
    char msg[16];
    KZ_UNUSED(state);

    struct kz_grpc_call *c = kz_grpc_call_start(p->cl.g, "/t.T/Echo", NULL, NULL);
    for (int i = 0; i < 20; i++) {
        snprintf(msg, sizeof(msg), "%d", i);
        kz_grpc_send(c, msg, strlen(msg) + 1);
        run(&p->cl, &p->sv);
        assert_int_equal(p->cl.messages, i + 1); /* each echoed before the next is sent */
    }
    kz_grpc_half_close(c);
    run(&p->cl, &p->sv);
    assert_true(p->cl.ordered);
    assert_int_equal(p->cl.ends, 1);
    assert_int_equal(p->cl.end_status, 0);
    pair_free(p);
}

static void test_too_big(void **state)
{
    struct pair *p = pair_new(1024, 1024);
    static const char big[2000];
    KZ_UNUSED(state);

    /* Request over the server's max_message: RESOURCE_EXHAUSTED. */
    struct kz_grpc_call *c = kz_grpc_call_start(p->cl.g, "/t.T/Unary", NULL, NULL);
    kz_grpc_send(c, big, sizeof(big));
    run(&p->cl, &p->sv);
    assert_int_equal(p->cl.end_status, KZ_GRPC_RESOURCE_EXHAUSTED);
    assert_int_equal(p->sv.ends, 1);
    assert_int_equal(p->sv.end_status, -1);
    assert_int_equal(p->sv.messages, 0);

    /* Reply over the client's max_message: the client ends the call itself. */
    p->sv.big_reply = true;
    c = kz_grpc_call_start(p->cl.g, "/t.T/Unary", NULL, NULL);
    kz_grpc_half_close(c);
    run(&p->cl, &p->sv);
    assert_int_equal(p->cl.ends, 2);
    assert_int_equal(p->cl.end_status, KZ_GRPC_RESOURCE_EXHAUSTED);
    assert_int_equal(p->cl.messages, 0);
    assert_int_equal(p->cl.feed_rc, KZ_OK);
    assert_int_equal(p->sv.feed_rc, KZ_OK);
    pair_free(p);
}

static void test_unknown_path(void **state)
{
    struct pair *p = pair_new(1 << 20, 1 << 20);
    KZ_UNUSED(state);

    struct kz_grpc_call *c = kz_grpc_call_start(p->cl.g, "/com.example.Nope/Call", NULL, NULL);
    kz_grpc_send(c, "0", 2);
    kz_grpc_half_close(c);
    run(&p->cl, &p->sv);
    assert_int_equal(p->sv.calls, 1);
    assert_int_equal(p->sv.ends, 0); /* a refused call never reaches the user again */
    assert_int_equal(p->cl.end_status, KZ_GRPC_UNIMPLEMENTED);
    assert_int_equal(p->cl.ends, 1);
    pair_free(p);
}

static void test_cancel(void **state)
{
    struct pair *p = pair_new(1 << 20, 1 << 20);
    KZ_UNUSED(state);

    struct kz_grpc_call *c = kz_grpc_call_start(p->cl.g, "/t.T/Unary", NULL, NULL);
    kz_grpc_send(c, "0", 2);
    run(&p->cl, &p->sv);
    assert_int_equal(p->sv.messages, 1);
    kz_grpc_cancel(c);
    run(&p->cl, &p->sv);
    assert_int_equal(p->cl.ends, 1);
    assert_int_equal(p->cl.end_status, -1);
    assert_int_equal(p->sv.ends, 1);
    assert_int_equal(p->sv.end_status, -1);
    /* The connection goes on. */
    c = kz_grpc_call_start(p->cl.g, "/t.T/Unary", NULL, NULL);
    kz_grpc_half_close(c);
    run(&p->cl, &p->sv);
    assert_int_equal(p->cl.ends, 2);
    assert_int_equal(p->cl.end_status, 0);
    pair_free(p);
}

static void test_malformed(void **state)
{
    struct pair *p = pair_new(1 << 20, 1 << 20);
    static const char http1[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char data0[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0}; /* DATA on stream 0 */
    struct end lone = {0};
    KZ_UNUSED(state);

    /* The server wants the client preface. */
    lone.t.ops = &mem_ops;
    lone.g = kz_grpc_new(false, &lone.t, &cbs, &lone, 1024);
    assert_int_equal(kz_grpc_feed(lone.g, http1, sizeof(http1) - 1), KZ_ERR_PARSE);
    assert_int_equal(kz_grpc_feed(lone.g, http1, 1), KZ_ERR_PARSE); /* stays broken */
    /* An established connection: a frame HTTP/2 forbids is a connection error. */
    assert_int_equal(kz_grpc_feed(p->cl.g, data0, sizeof(data0)), KZ_ERR_PARSE);
    /* Freed while its SETTINGS write is in flight: gone once the write completes. */
    kz_grpc_free(lone.g);
    lone.busy = false;
    lone.cb(lone.cb_ud, UV_ECANCELED);
    kz_sbuf_release(&lone.wire);
    pair_free(p);
}

/* ---- a raw HTTP/2 client (nghttp2 itself) for what the engine never sends ------------ */

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE             \
    }

struct raw {
    nghttp2_session *s;
    const uint8_t *body;
    size_t body_len;
    int grpc_status;
    uint32_t close_code;
    bool closed;
};

static ssize_t raw_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *ud)
{
    struct raw *r = ud;
    size_t n = r->body_len < len ? r->body_len : len;

    KZ_UNUSED(s);
    KZ_UNUSED(id);
    KZ_UNUSED(src);
    memcpy(buf, r->body, n);
    r->body += n;
    r->body_len -= n;
    if (r->body_len == 0)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int raw_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                      const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    struct raw *r = ud;

    KZ_UNUSED(s);
    KZ_UNUSED(f);
    KZ_UNUSED(flags);
    if (nlen == 11 && !memcmp(name, "grpc-status", 11))
        r->grpc_status = vlen == 2 ? (value[0] - '0') * 10 + value[1] - '0' : value[0] - '0';
    return 0;
}

static int raw_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    struct raw *r = ud;

    KZ_UNUSED(s);
    KZ_UNUSED(id);
    r->closed = true;
    r->close_code = code;
    return 0;
}

/* One connection to a new server engine with one request (an extra header `pad` bytes long
 * when pad > 0). */
static void raw_call(struct raw *r, struct end *sv, const void *body, size_t len, size_t pad)
{
    nghttp2_session_callbacks *cb;
    char *big = memset(calloc(1, pad + 1), 'p', pad);
    nghttp2_nv nv[] = {NV(":method", "POST"),
                       NV(":scheme", "https"),
                       NV(":path", "/t.T/Unary"),
                       NV(":authority", "x"),
                       NV("content-type", "application/grpc"),
                       NV("x-pad", big)};
    nghttp2_data_provider prd = {.read_callback = raw_body};

    memset(r, 0, sizeof(*r));
    sv->g = kz_grpc_new(false, &sv->t, &cbs, sv, 1 << 20);
    r->body = body;
    r->body_len = len;
    r->grpc_status = -1;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, raw_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, raw_close);
    nghttp2_session_client_new(&r->s, cb, r);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(r->s, NGHTTP2_FLAG_NONE, NULL, 0);
    assert_true(nghttp2_submit_request(r->s, NULL, nv, pad ? 6 : 5, &prd, r) > 0);
    for (int i = 0; i < 50 && !r->closed; i++) {
        const uint8_t *p;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(r->s, &p)) > 0)
            assert_int_equal(kz_grpc_feed(sv->g, (const char *)p, (size_t)n), KZ_OK);
        if (sv->busy) {
            assert_true(
                nghttp2_session_mem_recv(r->s, (const uint8_t *)sv->wire.buf, sv->wire.len) >= 0);
            kz_sbuf_reset(&sv->wire);
            sv->busy = false;
            sv->cb(sv->cb_ud, 0);
        }
    }
    nghttp2_session_del(r->s);
    free(big);
    kz_grpc_free(sv->g);
    sv->busy = false;
    if (sv->cb)
        sv->cb(sv->cb_ud, UV_ECANCELED);
    kz_sbuf_reset(&sv->wire);
}

static void test_raw_peer(void **state)
{
    static const uint8_t compressed[] = {1, 0, 0, 0, 2, 'x', 0};
    static const uint8_t truncated[] = {0, 0, 0, 0, 9, 'x'};
    struct end sv = {0};
    struct raw r = {0};
    KZ_UNUSED(state);

    sv.t.ops = &mem_ops;
    sv.stream_on_end = true;
    /* A compressed message: the engine does no compression; INTERNAL, the user sees -1. */
    raw_call(&r, &sv, compressed, sizeof(compressed), 0);
    assert_int_equal(r.grpc_status, KZ_GRPC_INTERNAL);
    assert_int_equal(sv.messages, 0);
    assert_int_equal(sv.end_status, -1);
    /* The request stream ends inside a message. */
    raw_call(&r, &sv, truncated, sizeof(truncated), 0);
    assert_int_equal(r.grpc_status, KZ_GRPC_INTERNAL);
    /* A header list over 16 KiB: the stream is reset before the user hears of it. */
    sv.calls = 0;
    raw_call(&r, &sv, truncated, 0, 17000);
    assert_true(r.closed);
    assert_int_equal(r.grpc_status, -1);
    assert_int_not_equal(r.close_code, NGHTTP2_NO_ERROR);
    assert_int_equal(sv.calls, 0);
    kz_sbuf_release(&sv.wire);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary),         cmocka_unit_test(test_headers),
        cmocka_unit_test(test_server_stream), cmocka_unit_test(test_client_stream),
        cmocka_unit_test(test_bidi),          cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_unknown_path),  cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_malformed),     cmocka_unit_test(test_raw_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
