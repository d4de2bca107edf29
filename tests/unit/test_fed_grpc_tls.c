/*
 * Unit tests for the TLS transports under the gRPC engine: the client
 * transport against the server transport over a socketpair, each with a CA
 * made by kz_ca_init: ALPN h2, the peer chain, a unary call, and a server
 * whose CA the client does not trust.
 */
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "auth/auth.h"
#include "fed_grpc_fixture.h"

/* ---- TLS client transport against the server transport ----------------------------- */

struct tside {
    struct kz_transport t;
    uv_pipe_t pipe;
    struct kz_grpc *g;
    int ready, rc;
    struct end app;
};

static int t_ready(void *ud)
{
    struct tside *s = ud;
    s->ready++;
    return KZ_OK;
}

static void t_data(void *ud, const char *data, size_t len)
{
    struct tside *s = ud;
    if (s->g && kz_grpc_feed(s->g, data, len) != KZ_OK)
        s->rc = KZ_ERR_PARSE;
}

static const struct kz_transport_cbs tcbs = {t_ready, t_data};

static void t_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    KZ_UNUSED(h);
    b->base = malloc(n);
    b->len = n;
}

static void t_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct tside *s = st->data;
    if (n > 0) {
        int rc = s->t.ops->feed(&s->t, b->base, (size_t)n, &tcbs, s);
        if (rc != KZ_OK)
            s->rc = rc;
    }
    free(b->base);
}

static SSL_CTX *server_ctx(const char *dir);

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    KZ_UNUSED(ssl);
    KZ_UNUSED(arg);
    return SSL_select_next_proto((unsigned char **)out, outlen, (const unsigned char *)"\x02h2", 3,
                                 in, inlen) == OPENSSL_NPN_NEGOTIATED
               ? SSL_TLSEXT_ERR_OK
               : SSL_TLSEXT_ERR_ALERT_FATAL;
}

static SSL_CTX *server_ctx(const char *dir)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char path[256];

    snprintf(path, sizeof(path), "%s/server.pem", dir);
    assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, path), 1);
    snprintf(path, sizeof(path), "%s/server.key", dir);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM), 1);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    return ctx;
}

static SSL_CTX *client_ctx(const char *dir)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char path[256];

    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, path, NULL), 1);
    assert_int_equal(SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x02h2", 3), 0);
    return ctx;
}

static void tside_open(uv_loop_t *loop, struct tside *s, int fd)
{
    assert_int_equal(uv_pipe_init(loop, &s->pipe, 0), 0);
    assert_int_equal(uv_pipe_open(&s->pipe, fd), 0);
    s->pipe.data = s;
    assert_int_equal(uv_read_start((uv_stream_t *)&s->pipe, t_alloc, t_read), 0);
}

static void run_until(uv_loop_t *loop, const int *flag)
{
    for (int i = 0; i < 2000 && !*flag; i++)
        uv_run(loop, UV_RUN_ONCE);
}

/* The chain as the server sent it, issued by the test CA. */
static void check_chain(struct tside *cl, const char *pki)
{
    char path[96];

    STACK_OF(X509) *chain = kz_transport_peer_chain(&cl->t);
    assert_non_null(chain);
    assert_true(sk_X509_num(chain) >= 1);
    snprintf(path, sizeof(path), "%s/ca.pem", pki);
    FILE *f = fopen(path, "r");
    X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_int_equal(X509_verify(sk_X509_value(chain, 0), X509_get0_pubkey(ca)), 1);
    X509_free(ca);
}

/* gRPC over the TLS pair: one unary call. */
static void unary_over(uv_loop_t *loop, struct tside *cl, struct tside *sv)
{
    sv->app.ordered = cl->app.ordered = true;
    sv->app.stream_on_end = true;
    cl->g = cl->app.g = kz_grpc_new(true, &cl->t, &cbs, &cl->app, 1 << 20);
    sv->g = sv->app.g = kz_grpc_new(false, &sv->t, &cbs, &sv->app, 1 << 20);
    struct kz_grpc_call *c = kz_grpc_call_start(cl->g, "/t.T/Unary", NULL, NULL);
    kz_grpc_send(c, "0", 2);
    kz_grpc_half_close(c);
    run_until(loop, &cl->app.ends);
    assert_int_equal(cl->app.end_status, 0);
    assert_int_equal(cl->app.messages, 1);
    assert_int_equal(sv->rc, KZ_OK);
}

/* A TLS server and client joined by a socketpair on their own loop. */
struct tls_fx {
    char dir[32], pki[64], other[64];
    uv_loop_t loop;
    struct tside sv, cl;
    SSL_CTX *sctx, *cctx;
};

static void make_ca(const char *dir)
{
    char err[256];

    assert_int_equal(
        kz_ca_init(dir, KZ_KEY_EC_P256, "localhost,127.0.0.1", NULL, false, err, sizeof(err)),
        KZ_OK);
}

/* The client trusts the server's CA, or another one when `wrong_ca`. */
static void tls_start(struct tls_fx *x, bool wrong_ca)
{
    int fds[2];

    snprintf(x->dir, sizeof(x->dir), "/tmp/kz_fed_grpc_XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->pki, sizeof(x->pki), "%s/pki", x->dir);
    snprintf(x->other, sizeof(x->other), "%s/other", x->dir);
    make_ca(x->pki);
    if (wrong_ca)
        make_ca(x->other);
    x->sctx = server_ctx(x->pki);
    x->cctx = client_ctx(wrong_ca ? x->other : x->pki);
    assert_int_equal(uv_loop_init(&x->loop), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    tside_open(&x->loop, &x->sv, fds[0]);
    tside_open(&x->loop, &x->cl, fds[1]);
    kz_transport_tls_init(&x->sv.t, (uv_stream_t *)&x->sv.pipe, x->sctx);
    kz_transport_tls_client_init(&x->cl.t, (uv_stream_t *)&x->cl.pipe, x->cctx, "localhost");
    /* The client speaks first: the ClientHello. */
    assert_int_equal(x->cl.t.ops->feed(&x->cl.t, NULL, 0, &tcbs, &x->cl), KZ_OK);
}

static void tls_stop(struct tls_fx *x)
{
    char cmd[64];

    kz_grpc_free(x->cl.g);
    kz_grpc_free(x->sv.g);
    uv_close((uv_handle_t *)&x->cl.pipe, NULL);
    uv_close((uv_handle_t *)&x->sv.pipe, NULL);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    x->cl.t.ops->release(&x->cl.t);
    x->sv.t.ops->release(&x->sv.t);
    assert_int_equal(uv_loop_close(&x->loop), 0);
    SSL_CTX_free(x->sctx);
    SSL_CTX_free(x->cctx);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", x->dir);
    assert_int_equal(system(cmd), 0);
}

static void test_tls_client(void **state)
{
    struct tls_fx *x = calloc(1, sizeof(*x));
    KZ_UNUSED(state);

    tls_start(x, false);
    run_until(&x->loop, &x->cl.ready);
    run_until(&x->loop, &x->sv.ready);
    assert_int_equal(x->cl.rc, KZ_OK);
    assert_int_equal(x->sv.rc, KZ_OK);
    assert_string_equal(kz_transport_alpn(&x->cl.t), "h2");
    assert_string_equal(kz_transport_alpn(&x->sv.t), "h2");
    check_chain(&x->cl, x->pki);
    unary_over(&x->loop, &x->cl, &x->sv);
    tls_stop(x);
    free(x);
}

static void test_tls_client_wrong_ca(void **state)
{
    struct tls_fx *x = calloc(1, sizeof(*x));
    KZ_UNUSED(state);

    tls_start(x, true);
    run_until(&x->loop, &x->cl.rc);
    assert_int_equal(x->cl.rc, KZ_ERR_DENIED);
    assert_int_equal(x->cl.ready, 0);
    /* The server sends its CA too (server.pem holds the chain): a CA the client does not trust. */
    assert_string_equal(x->cl.t.why,
                        "handshake refused: self-signed certificate in certificate chain");
    assert_null(kz_transport_alpn(&x->cl.t));
    assert_null(kz_transport_peer_chain(&x->cl.t));
    tls_stop(x);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_client),
        cmocka_unit_test(test_tls_client_wrong_ca),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
