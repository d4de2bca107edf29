/*
 * lg_tls.c - mutual TLS for the load generator (W4): an OpenSSL 3 client
 * on the same non-blocking sockets and epoll loop as plain CoT, plus the
 * handshake storm that leaves N idle TLS connections open.
 *
 * Every client presents the one certificate given with --cert/--key (its CN
 * must be in the server's users table) and verifies the server against --ca
 * for 127.0.0.1.  Writes go through a socket BIO (one send(2) per record, as
 * plain CoT sends one per event).  Reads go read(2) -> memory BIO -> SSL_read
 * until OpenSSL wants more: one syscall for many records, and no read-ahead
 * buffer, whose OpenSSL 3.0 implementation memmoves the unread rest of its
 * buffer for every record (28 % of the generator at 200 x 10 in a profile).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "loadgen.h"

#define NET_READ (64 * 1024) /* ciphertext per read(2) */

static SSL_CTX *ctx;
static char cipher[64] = "-";
static uint64_t hs_failed;
static char hs_error[256];
static char netbuf[NET_READ];

static void ssl_die(const char *what)
{
    char buf[256] = "no OpenSSL error";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    fprintf(stderr, "loadgen: %s: %s\n", what, buf);
    exit(2);
}

void tls_setup(void)
{
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
        ssl_die("SSL_CTX_new");
    if (SSL_CTX_use_certificate_chain_file(ctx, o.tls_cert) != 1)
        ssl_die(o.tls_cert);
    if (SSL_CTX_use_PrivateKey_file(ctx, o.tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        ssl_die(o.tls_key);
    if (SSL_CTX_load_verify_locations(ctx, o.tls_ca, NULL) != 1)
        ssl_die(o.tls_ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* Every connection is a full handshake, as for a fleet of devices. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* Partial writes: client_write() appends to wb, which may move. */
    long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
    if (o.idle > 0)
        mode |= SSL_MODE_RELEASE_BUFFERS; /* 10 000 idle clients: keep the generator small */
    SSL_CTX_set_mode(ctx, mode);
}

/* After the TCP connect: start the handshake on c->fd. */
void tls_start(struct client *c)
{
    SSL *s = SSL_new(ctx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new_socket(c->fd, BIO_NOCLOSE);
    if (!s || !rb || !wb)
        ssl_die("SSL_new");
    BIO_set_mem_eof_return(rb, -1); /* empty means "wait", not EOF */
    SSL_set_bio(s, rb, wb);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), "127.0.0.1");
    SSL_set_connect_state(s);
    c->ssl = s;
    tls_handshake(c);
}

static void note_failure(struct client *c, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    long vr = SSL_get_verify_result(c->ssl);
    if (!hs_failed++) {
        char buf[200] = "closed by the server";
        if (vr != X509_V_OK)
            snprintf(buf, sizeof(buf), "%s", X509_verify_cert_error_string(vr));
        else if (e)
            ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(hs_error, sizeof(hs_error), "%s: %s", what, buf);
        fprintf(stderr, "loadgen: client %d: %s\n", c->id, hs_error);
    }
    ERR_clear_error();
}

/* Ciphertext from the socket into the read BIO: 1, 0 at EOF, -1 (errno) if none. */
static int feed(struct client *c)
{
    ssize_t k = read(c->fd, netbuf, sizeof(netbuf));
    if (k <= 0)
        return (int)k;
    if (BIO_write(SSL_get_rbio(c->ssl), netbuf, (int)k) != (int)k)
        ssl_die("BIO_write");
    return 1;
}

/* One step of the handshake; on success the client counts as connected. */
void tls_handshake(struct client *c)
{
    int f = feed(c);
    if (f == 0 || (f < 0 && errno != EAGAIN && errno != EINTR)) {
        note_failure(c, "TLS handshake");
        client_close(c);
        return;
    }
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        if (cipher[0] == '-')
            snprintf(cipher, sizeof(cipher), "%s %s", SSL_get_version(c->ssl),
                     SSL_get_cipher_name(c->ssl));
        mark_connected(c);
        return;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        ep_set(c, EPOLLIN);
        break;
    case SSL_ERROR_WANT_WRITE:
        ep_set(c, EPOLLOUT);
        break;
    default:
        note_failure(c, "TLS handshake");
        client_close(c);
    }
}

/* send(2)-like: bytes written, or -1 with errno EAGAIN or ECONNRESET. */
ssize_t tls_send(struct client *c, const void *p, size_t n)
{
    int r = SSL_write(c->ssl, p, (int)(n > 1 << 30 ? 1 << 30 : n));
    if (r > 0)
        return r;
    int e = SSL_get_error(c->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        errno = ECONNRESET;
        return -1;
    }
    errno = EAGAIN;
    return -1;
}

/*
 * read(2)-like: decrypts what the read BIO holds plus at most one read(2)
 * into p[0..cap).  Sets c->tls_more when it stopped for lack of room, so the
 * caller calls again: epoll does not see what is already in the BIO.
 */
ssize_t tls_recv(struct client *c, void *p, size_t cap)
{
    size_t got = 0;
    bool fed = false;
    c->tls_more = false;
    for (;;) {
        if (got && cap - got < 16384 + 512) {
            c->tls_more = true;
            return (ssize_t)got;
        }
        int r = SSL_read(c->ssl, (char *)p + got, (int)(cap - got));
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ && !fed) {
            int f = feed(c);
            if (f > 0) {
                fed = true;
                continue;
            }
            if (f == 0)
                return (ssize_t)got; /* EOF: the next call returns 0 */
            return got ? (ssize_t)got : -1;
        }
        if (got)
            return (ssize_t)got;
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0;
        ERR_clear_error();
        errno = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? EAGAIN : ECONNRESET;
        return -1;
    }
}

void tls_free(struct client *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
}

const char *tls_cipher(void)
{
    return cipher;
}

uint64_t tls_failed(void)
{
    return hs_failed;
}

/* ---- W4: handshake storm, then N idle TLS connections ------------------- */

static int next_conn;
static int64_t idle_until, deadline;

static int in_flight(void)
{
    return next_conn - (int)st.n_connected - (int)st.closed;
}

/* Keeps o.inflight handshakes going until all o.n clients are connected. */
static bool storm_step(int64_t now)
{
    while (next_conn < o.n && in_flight() < o.inflight)
        client_connect(&cl[next_conn++]);
    if (now > deadline) {
        fprintf(stderr, "loadgen: only %llu of %d TLS connections after the deadline\n",
                (unsigned long long)st.n_connected, o.n);
        return true;
    }
    return next_conn == o.n && in_flight() == 0;
}

static bool idle_done(int64_t now)
{
    return now >= idle_until;
}

static void idle_print(const struct idle_sample *a, const struct idle_sample *b,
                       const struct idle_sample *z, struct hist *hs, int64_t t_first,
                       int64_t t_last)
{
    double storm_s = (double)(b->wall - a->wall) / 1e9;
    double hs_span = (double)(t_last - t_first) / 1e9;
    double rate = hs_span > 0 ? (double)(st.n_connected - 1) / hs_span : -1;
    double per_conn = st.n_connected ? (z->rss_kb - a->rss_kb) / (double)st.n_connected : -1;
    double srv = storm_s > 0 ? 100.0 * (b->srv_cpu_s - a->srv_cpu_s) / storm_s : -1;
    double gen = storm_s > 0 ? 100.0 * (b->gen_cpu_s - a->gen_cpu_s) / storm_s : -1;

    printf("{\"label\":\"%s\",\"mode\":\"idle\",\"tls\":%d,\"clients\":%d,\"inflight\":%d,"
           "\"connected\":%llu,\"closed\":%llu,\"hs_failed\":%llu,\"cipher\":\"%s\","
           "\"storm_s\":%.3f,\"hs_per_s\":%.1f,\"hs_p50_ms\":%.3f,\"hs_p99_ms\":%.3f,"
           "\"hs_max_ms\":%.3f,\"srv_cpu_pct\":%.1f,\"gen_cpu_pct\":%.1f,\"gen_bound\":%d,"
           "\"idle_s\":%g,\"srv_conns\":%.0f,\"srv_rss_before_mb\":%.1f,"
           "\"srv_rss_after_mb\":%.1f,\"srv_hwm_mb\":%.1f,\"rss_per_conn_kb\":%.1f}\n",
           o.label ? o.label : "", o.tls, o.n, o.inflight, (unsigned long long)st.n_connected,
           (unsigned long long)st.closed, (unsigned long long)hs_failed, cipher, storm_s, rate,
           hist_ms(hs, 0.5), hist_ms(hs, 0.99), hist_ms(hs, 1), srv, gen, gen > 90, o.idle,
           z->conns, a->rss_kb / 1024, z->rss_kb / 1024, z->hwm_kb / 1024, per_conn);
    printf("# %s: %llu/%d connections (%s) in %.1f s, %.0f handshakes/s (%d in flight; "
           "server %.0f%% CPU, gen %.0f%%%s) | handshake p50 %.1f p99 %.1f ms | after %g s idle: "
           "server holds %.0f, RSS %.1f -> %.1f MB = %.1f KB/connection, %llu closed\n",
           o.label ? o.label : "-", (unsigned long long)st.n_connected, o.n, cipher, storm_s, rate,
           o.inflight, srv, gen, gen > 90 ? " GENERATOR-BOUND" : "", hist_ms(hs, 0.5),
           hist_ms(hs, 0.99), o.idle, z->conns, a->rss_kb / 1024, z->rss_kb / 1024, per_conn,
           (unsigned long long)st.closed);
    fflush(stdout);
}

void run_tls_idle(void)
{
    struct idle_sample a, b, z;
    struct hist *hs = calloc(1, sizeof(*hs));
    int64_t t_first = INT64_MAX, t_last = 0;

    if (o.mode != M_COT || !o.pid || !hs) {
        fprintf(stderr, "loadgen: --idle needs -m cot and -P SERVER_PID\n");
        exit(2);
    }
    n_all = o.n;
    cl = calloc((size_t)n_all, sizeof(*cl));
    if (!cl)
        gen_die("calloc");
    for (int i = 0; i < n_all; i++)
        cl[i] = (struct client){.idx = i, .id = 200000 + i, .fd = -1, .role = R_STORM};
    idle_take(&a);
    deadline = gen_now_ns() + 300 * 1000000000LL;
    loop_until(storm_step, 0, 0, 1);
    idle_take(&b);
    for (int i = 0; i < o.n; i++) {
        struct client *c = &cl[i];
        if (!c->t_conn)
            continue;
        hist_add(hs, c->t_conn - c->t_start);
        t_first = c->t_conn < t_first ? c->t_conn : t_first;
        t_last = c->t_conn > t_last ? c->t_conn : t_last;
    }
    idle_until = gen_now_ns() + (int64_t)(o.idle * 1e9);
    loop_until(idle_done, 0, 0, 1);
    idle_take(&z);
    idle_print(&a, &b, &z, hs, t_first, t_last);
    free(hs);
}
