/*
 * lg_tls.c - mutual TLS for the load generator (W4): an OpenSSL 3 client
 * on the same non-blocking sockets and epoll loop as plain CoT, plus the
 * handshake storm that leaves N idle TLS connections open.
 *
 * --procs K runs the storm from K processes (see storm_part below).
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
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "loadgen.h"
#include "probe.h"

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

/*
 * --procs K splits the storm over K processes (this one and K-1 forks, each
 * with its own epoll and its share of clients and of --inflight): a full
 * P-256 handshake costs the client about as much CPU as the server, so one
 * generator process cannot show a server faster than itself.  Each process
 * reports in `shared`; the first samples the server and prints.
 */
struct storm_part {
    uint64_t connected, closed, failed;
    int64_t t_first, t_last;
    double cpu_s; /* this process's CPU time over its storm */
    struct hist hs;
};

struct storm_shared {
    _Atomic int stormed; /* processes whose storm is over */
    _Atomic int release; /* the first has sampled: the others may exit */
    struct storm_part part[];
};

static struct storm_shared *shared;
static int conn_from, conn_to, next_conn, part_inflight;
static int64_t idle_until, deadline;

static int in_flight(void)
{
    return next_conn - conn_from - (int)st.n_connected - (int)st.closed;
}

/* Keeps this process's share of handshakes going until its clients are connected. */
static bool storm_step(int64_t now)
{
    while (next_conn < conn_to && in_flight() < part_inflight)
        client_connect(&cl[next_conn++]);
    if (now > deadline) {
        fprintf(stderr, "loadgen: only %llu of %d TLS connections after the deadline\n",
                (unsigned long long)st.n_connected, conn_to - conn_from);
        return true;
    }
    return next_conn == conn_to && in_flight() == 0;
}

static bool idle_done(int64_t now)
{
    return now >= idle_until;
}

static bool all_stormed(int64_t now)
{
    (void)now;
    return shared->stormed == o.procs;
}

static bool released(int64_t now)
{
    (void)now;
    return shared->release != 0;
}

/* This process's storm, into shared->part[k]. */
static void storm_part(int k, double cpu0)
{
    struct storm_part *pt = &shared->part[k];

    conn_from = next_conn = (int)((int64_t)o.n * k / o.procs);
    conn_to = (int)((int64_t)o.n * (k + 1) / o.procs);
    part_inflight = o.inflight / o.procs > 0 ? o.inflight / o.procs : 1;
    deadline = gen_now_ns() + 300 * 1000000000LL;
    loop_until(storm_step, 0, 0, 1);
    pt->cpu_s = probe_self_cpu_s() - cpu0;
    pt->t_first = INT64_MAX;
    for (int i = conn_from; i < conn_to; i++) {
        struct client *c = &cl[i];
        if (!c->t_conn)
            continue;
        hist_add(&pt->hs, c->t_conn - c->t_start);
        pt->t_first = c->t_conn < pt->t_first ? c->t_conn : pt->t_first;
        pt->t_last = c->t_conn > pt->t_last ? c->t_conn : pt->t_last;
    }
    pt->connected = st.n_connected;
    pt->closed = st.closed;
    pt->failed = hs_failed;
    shared->stormed++;
}

/* The K parts as one: sums, the earliest and latest completion, one histogram. */
static void storm_sum(struct storm_part *all)
{
    memset(all, 0, sizeof(*all));
    all->t_first = INT64_MAX;
    for (int k = 0; k < o.procs; k++) {
        const struct storm_part *pt = &shared->part[k];
        all->connected += pt->connected;
        all->closed += pt->closed;
        all->failed += pt->failed;
        all->cpu_s += pt->cpu_s;
        all->t_first = pt->t_first < all->t_first ? pt->t_first : all->t_first;
        all->t_last = pt->t_last > all->t_last ? pt->t_last : all->t_last;
        for (int i = 0; i < HIST_N; i++)
            all->hs.b[i] += pt->hs.b[i];
        all->hs.count += pt->hs.count;
        all->hs.max = pt->hs.max > all->hs.max ? pt->hs.max : all->hs.max;
    }
}

/*
 * CPU time per handshake is the figure a generator-bound or shared machine
 * distorts least: the server's (all threads, over the storm) and the
 * generator's (all its processes).
 */
static void idle_print(const struct idle_sample *a, const struct idle_sample *b,
                       const struct idle_sample *z, const struct storm_part *all)
{
    double storm_s = (double)(b->wall - a->wall) / 1e9;
    double hs_span = (double)(all->t_last - all->t_first) / 1e9;
    double n = (double)all->connected;
    double rate = hs_span > 0 ? (n - 1) / hs_span : -1;
    double per_conn = n > 0 ? (z->rss_kb - a->rss_kb) / n : -1;
    double srv = storm_s > 0 ? 100.0 * (b->srv_cpu_s - a->srv_cpu_s) / storm_s : -1;
    double gen = storm_s > 0 ? 100.0 * all->cpu_s / storm_s : -1;
    double srv_us = n > 0 ? 1e6 * (b->srv_cpu_s - a->srv_cpu_s) / n : -1;
    double gen_us = n > 0 ? 1e6 * all->cpu_s / n : -1;
    bool bound = gen > 90.0 * o.procs;

    printf("{\"label\":\"%s\",\"mode\":\"idle\",\"tls\":%d,\"clients\":%d,\"inflight\":%d,"
           "\"procs\":%d,\"connected\":%llu,\"closed\":%llu,\"hs_failed\":%llu,\"cipher\":\"%s\","
           "\"storm_s\":%.3f,\"hs_per_s\":%.1f,\"hs_p50_ms\":%.3f,\"hs_p99_ms\":%.3f,"
           "\"hs_max_ms\":%.3f,\"srv_cpu_pct\":%.1f,\"gen_cpu_pct\":%.1f,\"gen_bound\":%d,"
           "\"srv_cpu_us_per_hs\":%.0f,\"gen_cpu_us_per_hs\":%.0f,"
           "\"idle_s\":%g,\"srv_conns\":%.0f,\"srv_rss_before_mb\":%.1f,"
           "\"srv_rss_after_mb\":%.1f,\"srv_hwm_mb\":%.1f,\"rss_per_conn_kb\":%.1f}\n",
           o.label ? o.label : "", o.tls, o.n, o.inflight, o.procs,
           (unsigned long long)all->connected, (unsigned long long)all->closed,
           (unsigned long long)all->failed, cipher, storm_s, rate, hist_ms(&all->hs, 0.5),
           hist_ms(&all->hs, 0.99), hist_ms(&all->hs, 1), srv, gen, bound, srv_us, gen_us, o.idle,
           z->conns, a->rss_kb / 1024, z->rss_kb / 1024, z->hwm_kb / 1024, per_conn);
    printf("# %s: %llu/%d connections (%s) in %.1f s, %.0f handshakes/s (%d in flight, %d "
           "process%s; server %.0f%% CPU, gen %.0f%%%s) | CPU per handshake: server %.0f us, "
           "gen %.0f us | handshake p50 %.1f p99 %.1f ms | after %g s idle: server holds %.0f, "
           "RSS %.1f -> %.1f MB = %.1f KB/connection, %llu closed\n",
           o.label ? o.label : "-", (unsigned long long)all->connected, o.n, cipher, storm_s, rate,
           o.inflight, o.procs, o.procs > 1 ? "es" : "", srv, gen, bound ? " GENERATOR-BOUND" : "",
           srv_us, gen_us, hist_ms(&all->hs, 0.5), hist_ms(&all->hs, 0.99), o.idle, z->conns,
           a->rss_kb / 1024, z->rss_kb / 1024, per_conn, (unsigned long long)all->closed);
    fflush(stdout);
}

/* Forks o.procs - 1 storm processes; returns this process's part number. */
static int storm_fork(void)
{
    for (int k = 1; k < o.procs; k++) {
        pid_t pid = fork();
        if (pid < 0)
            gen_die("fork");
        if (pid > 0)
            continue;
        close(ep); /* an epoll set is shared across fork: each process needs its own */
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0)
            gen_die("epoll_create1");
        return k;
    }
    return 0;
}

void run_tls_idle(void)
{
    struct idle_sample a, b, z;
    size_t len = sizeof(*shared) + (size_t)o.procs * sizeof(struct storm_part);

    if (o.mode != M_COT || !o.pid || o.procs < 1) {
        fprintf(stderr, "loadgen: --idle needs -m cot and -P SERVER_PID\n");
        exit(2);
    }
    shared = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    n_all = o.n;
    cl = calloc((size_t)n_all, sizeof(*cl));
    if (!cl || shared == MAP_FAILED)
        gen_die("calloc");
    for (int i = 0; i < n_all; i++)
        cl[i] = (struct client){.idx = i, .id = 200000 + i, .fd = -1, .role = R_STORM};
    idle_take(&a);
    int k = storm_fork();
    storm_part(k, k ? probe_self_cpu_s() : a.gen_cpu_s);
    if (k) {
        loop_until(released, 0, 0, 1); /* hold the connections until sampled */
        _exit(0);
    }
    loop_until(all_stormed, 0, 0, 1);
    idle_take(&b);
    idle_until = gen_now_ns() + (int64_t)(o.idle * 1e9);
    loop_until(idle_done, 0, 0, 1);
    idle_take(&z);
    shared->release = 1;
    while (wait(NULL) > 0)
        ;
    struct storm_part *all = malloc(sizeof(*all));
    if (!all)
        gen_die("malloc");
    storm_sum(all);
    idle_print(&a, &b, &z, all);
    free(all);
}
