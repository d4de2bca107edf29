/*
 * test_net_tls.c - the TLS transport (net/tls.c): a mutual-TLS server
 * transport and a client transport joined by a socketpair on one loop, with
 * a CA and a device certificate from kz_ca_init/kz_cert_issue.  Checks what a
 * connection keeps once traffic stops (no buffer the size of its last burst),
 * that input cut at every byte still makes whole records, and the handshake
 * on the worker pool (kz_transport_tls_offload): accepted, refused, and
 * released while a step runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "auth/auth.h"
#include "net/transport.h"

/*
 * Bytes OpenSSL holds right now, counted through CRYPTO_set_mem_functions
 * (process-wide: OpenSSL has one allocator).  Each block carries its size.
 */
static long ossl_live;

struct blk {
    size_t n;
    max_align_t pad[];
};

static void *cnt_malloc(size_t n, const char *file, int line)
{
    KZ_UNUSED(file);
    KZ_UNUSED(line);
    struct blk *b = malloc(sizeof(*b) + n);
    if (!b)
        return NULL;
    b->n = n;
    ossl_live += (long)n;
    return b + 1;
}

static void cnt_free(void *p, const char *file, int line)
{
    KZ_UNUSED(file);
    KZ_UNUSED(line);
    if (!p)
        return;
    struct blk *b = (struct blk *)p - 1;
    ossl_live -= (long)b->n;
    free(b);
}

static void *cnt_realloc(void *p, size_t n, const char *file, int line)
{
    if (!p)
        return cnt_malloc(n, file, line);
    struct blk *b = (struct blk *)p - 1;
    size_t old = b->n;
    b = realloc(b, sizeof(*b) + n);
    if (!b)
        return NULL;
    b->n = n;
    ossl_live += (long)n - (long)old;
    return b + 1;
}

/* ---- one end of the pair ---------------------------------------------------- */

struct side {
    struct kz_transport t;
    uv_pipe_t pipe;
    int ready, rc, writes_done;
    size_t got;
    bool bytewise;    /* feed the transport one byte at a time */
    bool release_now; /* release the transport right after its first feed */
    int failed_rc;    /* what kz_transport_tls_offload's callback said, 0 = nothing */
    unsigned char expect;
};

static int s_ready(void *ud)
{
    struct side *s = ud;
    s->ready++;
    return KZ_OK;
}

/* Payloads are bytes 0, 1, ..., 255, 0, ...: count them and check the order. */
static void s_data(void *ud, const char *data, size_t len)
{
    struct side *s = ud;
    for (size_t i = 0; i < len; i++, s->expect++)
        if ((unsigned char)data[i] != s->expect)
            s->rc = KZ_ERR_PARSE;
    s->got += len;
}

static const struct kz_transport_cbs cbs = {s_ready, s_data};

static void s_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    KZ_UNUSED(h);
    b->base = malloc(n);
    b->len = n;
}

static void s_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct side *s = st->data;
    size_t step = s->bytewise ? 1 : (size_t)n;

    for (ssize_t off = 0; n > 0 && s->t.tls && off < n; off += (ssize_t)step) {
        int rc = s->t.ops->feed(&s->t, b->base + off, step, &cbs, s);
        if (rc != KZ_OK)
            s->rc = rc;
    }
    if (n > 0 && s->release_now)
        s->t.ops->release(&s->t);
    free(b->base);
}

static void s_failed(void *ud, int rc)
{
    struct side *s = ud;
    s->failed_rc = rc;
}

static void s_written(void *ud, int status)
{
    struct side *s = ud;
    assert_int_equal(status, 0);
    s->writes_done++;
}

static void side_open(uv_loop_t *loop, struct side *s, int fd)
{
    assert_int_equal(uv_pipe_init(loop, &s->pipe, 0), 0);
    assert_int_equal(uv_pipe_open(&s->pipe, fd), 0);
    s->pipe.data = s;
    assert_int_equal(uv_read_start((uv_stream_t *)&s->pipe, s_alloc, s_read), 0);
}

static void run_until(uv_loop_t *loop, const int *flag)
{
    for (int i = 0; i < 5000 && !*flag; i++)
        uv_run(loop, UV_RUN_ONCE);
}

static void run_until_got(uv_loop_t *loop, const struct side *s, size_t n)
{
    for (int i = 0; i < 5000 && s->got < n && s->rc == KZ_OK; i++)
        uv_run(loop, UV_RUN_ONCE);
}

/* ---- the pair ------------------------------------------------------------------ */

struct pair {
    char dir[32];
    uv_loop_t loop;
    struct side sv, cl;
    SSL_CTX *sctx, *cctx;
};

static SSL_CTX *ctx_with(const SSL_METHOD *m, const char *dir, const char *who, bool mutual)
{
    SSL_CTX *ctx = SSL_CTX_new(m);
    char path[96];

    snprintf(path, sizeof(path), "%s/%s.pem", dir, who);
    if (who[0]) /* "": a client without a certificate */
        assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, path), 1);
    snprintf(path, sizeof(path), "%s/%s.key", dir, who);
    if (who[0])
        assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM), 1);
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, path, NULL), 1);
    if (mutual) {
        /* As server/creds.c makes the inputs' context. */
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return ctx;
}

/* offload: the server's handshake on the worker pool; client_cert: whether the client has one. */
static void pair_start_with(struct pair *p, bool offload, bool client_cert)
{
    char err[256], *serial = NULL;
    int64_t until;
    int fds[2];

    snprintf(p->dir, sizeof(p->dir), "/tmp/kz_net_tls_XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    assert_int_equal(
        kz_ca_init(p->dir, KZ_KEY_EC_P256, "localhost,127.0.0.1", NULL, false, err, sizeof(err)),
        KZ_OK);
    assert_int_equal(kz_cert_issue(p->dir, "dev1", 30, "pw", &serial, &until, err, sizeof(err)),
                     KZ_OK);
    free(serial);
    p->sctx = ctx_with(TLS_server_method(), p->dir, "server", true);
    p->cctx = ctx_with(TLS_client_method(), p->dir, client_cert ? "dev1" : "", false);
    assert_int_equal(uv_loop_init(&p->loop), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    side_open(&p->loop, &p->sv, fds[0]);
    side_open(&p->loop, &p->cl, fds[1]);
    kz_transport_tls_init(&p->sv.t, (uv_stream_t *)&p->sv.pipe, p->sctx);
    kz_transport_tls_client_init(&p->cl.t, (uv_stream_t *)&p->cl.pipe, p->cctx, "localhost");
    if (offload)
        kz_transport_tls_offload(&p->sv.t, s_failed);
}

static void pair_start(struct pair *p)
{
    pair_start_with(p, false, true);
}

static void pair_handshake(struct pair *p)
{
    char cn[KZ_TLS_CN_MAX];

    assert_int_equal(p->cl.t.ops->feed(&p->cl.t, NULL, 0, &cbs, &p->cl), KZ_OK);
    run_until(&p->loop, &p->sv.ready);
    run_until(&p->loop, &p->cl.ready);
    assert_int_equal(p->sv.rc, KZ_OK);
    assert_int_equal(p->cl.rc, KZ_OK);
    assert_string_equal(kz_transport_peer_cn(&p->sv.t, cn), "dev1");
}

static void pair_stop(struct pair *p)
{
    char cmd[64];

    uv_close((uv_handle_t *)&p->cl.pipe, NULL);
    uv_close((uv_handle_t *)&p->sv.pipe, NULL);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    p->cl.t.ops->release(&p->cl.t);
    p->sv.t.ops->release(&p->sv.t);
    assert_int_equal(uv_loop_close(&p->loop), 0);
    SSL_CTX_free(p->sctx);
    SSL_CTX_free(p->cctx);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", p->dir);
    assert_int_equal(system(cmd), 0);
}

/* `n` bytes of the 0..255 pattern from `from` to `to`, in `parts` buffers of one write. */
static void send_pattern(struct pair *p, struct side *from, struct side *to, size_t n,
                         unsigned parts)
{
    char *buf = malloc(n);
    uv_buf_t iov[64];
    size_t want = to->got + n, each = n / parts;
    int done = from->writes_done;

    assert_true(parts <= 64);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(unsigned char)i;
    for (unsigned i = 0; i < parts; i++)
        iov[i] = uv_buf_init(buf + i * each, (unsigned)(i + 1 < parts ? each : n - i * each));
    assert_int_equal(from->t.ops->write(&from->t, iov, parts, s_written, from), 0);
    run_until_got(&p->loop, to, want);
    assert_int_equal(to->got, want);
    assert_int_equal(to->rc, KZ_OK);
    for (int i = 0; i < 100 && from->writes_done == done; i++)
        uv_run(&p->loop, UV_RUN_ONCE);
    assert_int_equal(from->writes_done, done + 1);
    free(buf);
}

/*
 * After a burst, a connection keeps no buffer the burst's size: the memory
 * BIOs it had kept the capacity of their largest burst (a 40 KB fan-out
 * left ~40 KB per connection, on both ends).
 */
static void test_idle_keeps_no_burst_buffer(void **state)
{
    struct pair *p = calloc(1, sizeof(*p));
    KZ_UNUSED(state);

    pair_start(p);
    pair_handshake(p);
    /* One small event each way, as a device's first report and its first fan-out. */
    send_pattern(p, &p->cl, &p->sv, 400, 1);
    p->cl.expect = 0;
    send_pattern(p, &p->sv, &p->cl, 400, 1);
    long before = ossl_live;

    p->cl.expect = 0;
    send_pattern(p, &p->sv, &p->cl, 40000, 40);
    p->sv.expect = 0;
    send_pattern(p, &p->cl, &p->sv, 40000, 1);
    long after = ossl_live;
    print_message("OpenSSL holds %ld bytes more after 2 x 40 KB than before\n", after - before);
    assert_true(after - before < 1024);
    pair_stop(p);
    free(p);
}

/* Records cut at every byte (a slow link) still decrypt, in order, after the handshake too. */
static void test_input_cut_at_every_byte(void **state)
{
    struct pair *p = calloc(1, sizeof(*p));
    KZ_UNUSED(state);

    pair_start(p);
    p->sv.bytewise = true;
    p->cl.bytewise = true;
    pair_handshake(p);
    send_pattern(p, &p->cl, &p->sv, 20000, 3);
    p->cl.expect = 0;
    send_pattern(p, &p->sv, &p->cl, 20000, 7);
    pair_stop(p);
    free(p);
}

/* The handshake on the worker pool, its input cut at every byte, then data both ways. */
static void test_offloaded_handshake(void **state)
{
    struct pair *p = calloc(1, sizeof(*p));
    KZ_UNUSED(state);

    pair_start_with(p, true, true);
    p->sv.bytewise = true;
    pair_handshake(p);
    assert_int_equal(p->sv.failed_rc, 0);
    send_pattern(p, &p->cl, &p->sv, 30000, 2);
    p->cl.expect = 0;
    send_pattern(p, &p->sv, &p->cl, 30000, 5);
    pair_stop(p);
    free(p);
}

/* A client without a certificate: the refusal comes through the callback, with why. */
static void test_offloaded_refusal(void **state)
{
    struct pair *p = calloc(1, sizeof(*p));
    KZ_UNUSED(state);

    pair_start_with(p, true, false);
    assert_int_equal(p->cl.t.ops->feed(&p->cl.t, NULL, 0, &cbs, &p->cl), KZ_OK);
    run_until(&p->loop, &p->sv.failed_rc);
    assert_int_equal(p->sv.failed_rc, KZ_ERR_DENIED);
    assert_int_equal(p->sv.ready, 0);
    assert_non_null(strstr(p->sv.t.why, "handshake refused"));
    pair_stop(p);
    free(p);
}

/* Released while its first step may still run: the step's end frees it, and nothing runs after. */
static void test_offloaded_release_during_step(void **state)
{
    struct pair *p = calloc(1, sizeof(*p));
    KZ_UNUSED(state);

    pair_start_with(p, true, true);
    p->sv.release_now = true;
    assert_int_equal(p->cl.t.ops->feed(&p->cl.t, NULL, 0, &cbs, &p->cl), KZ_OK);
    for (int i = 0; i < 100 && p->sv.t.tls; i++)
        uv_run(&p->loop, UV_RUN_ONCE);
    assert_null(p->sv.t.tls);
    pair_stop(p); /* runs the loop until the step is done */
    assert_int_equal(p->sv.ready, 0);
    assert_int_equal(p->sv.failed_rc, 0);
    free(p);
}

int main(void)
{
    /* Before OpenSSL allocates anything: it has one allocator per process. */
    assert_int_equal(CRYPTO_set_mem_functions(cnt_malloc, cnt_realloc, cnt_free), 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_keeps_no_burst_buffer),
        cmocka_unit_test(test_input_cut_at_every_byte),
        cmocka_unit_test(test_offloaded_handshake),
        cmocka_unit_test(test_offloaded_refusal),
        cmocka_unit_test(test_offloaded_release_during_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
