/*
 * proxy_wait.c - an accepted connection of a `proxy_protocol` input waits
 * here, on a poll handle and a timer of its own, until its PROXY header has
 * come (see proxy.h).
 *
 * Reading takes the header and not one byte more: each time the socket is
 * readable its bytes are peeked (MSG_PEEK) after those already taken and
 * parsed together with them.  A complete header is then taken up to its end;
 * an incomplete one is taken whole (every byte of an incomplete header is
 * header), so the socket never stays readable with nothing new and the poll
 * does not spin.  What follows the header (a TLS ClientHello, an HTTP
 * request) stays in the kernel for the input's protocol.
 *
 * The socket goes to the protocol only from the close callback of the poll
 * handle: one descriptor is never watched by two handles at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "net/net.h"
#include "net/proxy.h"
#include "route/route.h"

#define LOG_PER_SEC 10
#define HEAD_SHOWN 48 /* bytes of a refused header quoted in the log */

struct kz_proxy_conn {
    uv_poll_t poll;
    uv_timer_t timer;
    struct kz_proxy_waits *w;
    struct kz_proxy_conn *prev, *next;
    uv_os_sock_t fd; /* -1 once closed or handed on */
    int handles;     /* still to close */
    bool ok;         /* hand fd on once the handles are closed */
    struct sockaddr_storage sock_peer, peer;
    size_t have;
    unsigned char buf[KZ_PROXY_MAX];
};

static void conn_unlink(struct kz_proxy_conn *c)
{
    struct kz_proxy_waits *w = c->w;

    if (c->prev)
        c->prev->next = c->next;
    else
        w->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->count--;
    w->freeing++;
}

static void on_closed(uv_handle_t *h)
{
    struct kz_proxy_conn *c = h->data;
    struct kz_proxy_waits *w = c->w;

    if (--c->handles > 0)
        return;
    if (c->ok && !w->stopping)
        w->done(w->ud, c->fd, (const struct sockaddr *)&c->peer);
    else if (c->fd >= 0)
        close(c->fd);
    free(c);
    if (--w->freeing == 0 && w->count == 0 && w->stopping && w->drained)
        w->drained(w->ud);
}

static void conn_finish(struct kz_proxy_conn *c, bool ok)
{
    conn_unlink(c);
    c->ok = ok;
    uv_close((uv_handle_t *)&c->poll, on_closed);
    uv_close((uv_handle_t *)&c->timer, on_closed);
}

/* Count a refusal; true when it may be logged (at most LOG_PER_SEC a second per input). */
static bool count_refusal(struct kz_proxy_waits *w)
{
    int64_t sec = kz_mono_us() / 1000000;

    kz_metrics.proxy_refusals++;
    if (sec != w->log_second) {
        if (w->quiet)
            kz_log(KZ_LOG_WARN, "proxy: refusals not logged", "input=%s count=%u",
                   w->input->conf->name, w->quiet);
        w->log_second = sec;
        w->logged = w->quiet = 0;
    }
    if (w->logged++ < LOG_PER_SEC)
        return true;
    w->quiet++;
    return false;
}

/* Refuse a waiting connection: count, log (its first bytes quoted), close. */
static void refuse(struct kz_proxy_conn *c, const char *why)
{
    struct kz_proxy_waits *w = c->w;
    char peer[64], head[3 * HEAD_SHOWN];

    if (count_refusal(w)) {
        kz_sockaddr_name((const struct sockaddr *)&c->sock_peer, peer, sizeof(peer));
        kz_log(KZ_LOG_WARN, "proxy: connection refused", "input=%s peer=%s reason=\"%s\" head=%s",
               w->input->conf->name, peer, why,
               kz_log_quote(head, sizeof(head), (const char *)c->buf,
                            c->have < HEAD_SHOWN ? c->have : HEAD_SHOWN));
    }
    conn_finish(c, false);
}

static void header_read(struct kz_proxy_conn *c, const struct kz_proxy_hdr *h)
{
    char peer[64], via[64];

    c->peer = h->local ? c->sock_peer : h->src;
    if (kz_log_min <= KZ_LOG_DEBUG) {
        kz_sockaddr_name((const struct sockaddr *)&c->peer, peer, sizeof(peer));
        kz_sockaddr_name((const struct sockaddr *)&c->sock_peer, via, sizeof(via));
        kz_log(KZ_LOG_DEBUG, "proxy: header read", "input=%s peer=%s via=%s version=%d local=%d",
               c->w->input->conf->name, peer, via, h->version, h->local);
    }
    conn_finish(c, true);
}

/* Take `n` bytes (already peeked into buf + have) off the socket. */
static bool take(struct kz_proxy_conn *c, size_t n)
{
    ssize_t got;

    do
        got = recv(c->fd, c->buf + c->have, n, 0);
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)n)
        return false; /* the kernel holds what it showed: never short */
    c->have += n;
    return true;
}

/*
 * The peer hung up before its header was whole.  Without a single byte it
 * is a port probe or a health check that did not speak the protocol: closed
 * quietly, like a stream that connects and leaves.  Mid-header it is a
 * refusal.
 */
static void hung_up(struct kz_proxy_conn *c, const char *why)
{
    if (c->have) {
        refuse(c, why);
        return;
    }
    kz_log(KZ_LOG_DEBUG, "proxy: connection closed before any byte", "input=%s reason=\"%s\"",
           c->w->input->conf->name, why);
    conn_finish(c, false);
}

/* Peek at what follows the bytes taken: their count, or -errno. */
static ssize_t peek(struct kz_proxy_conn *c)
{
    ssize_t n;

    do
        n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/*
 * An error on the socket (status < 0, POLLERR: a reset) still lets the
 * bytes that came before it be read: a balancer's health check writes its
 * LOCAL header and resets at once.  The poll handle is stopped then, so an
 * incomplete header ends there.
 */
static void on_readable(uv_poll_t *p, int status, int events)
{
    struct kz_proxy_conn *c = p->data;
    struct kz_proxy_hdr h;
    char why[128];
    ssize_t n = peek(c);

    KZ_UNUSED(events);
    if (n == -EAGAIN || n == -EWOULDBLOCK) {
        if (status < 0)
            hung_up(c, uv_strerror(status));
        return;
    }
    if (n <= 0) {
        hung_up(c, n == 0 ? "closed before a complete PROXY header" : strerror((int)-n));
        return;
    }
    size_t before = c->have;
    c->have += (size_t)n; /* parse what was peeked with what was taken */
    int rc = kz_proxy_parse(c->buf, c->have, &h, why, sizeof(why));
    c->have = before;
    if (rc == KZ_ERR_AGAIN && take(c, (size_t)n)) {
        if (status < 0)
            hung_up(c, uv_strerror(status));
        return;
    }
    if (rc == KZ_OK && take(c, h.len - before)) {
        header_read(c, &h);
        return;
    }
    if (rc == KZ_OK || rc == KZ_ERR_AGAIN)
        snprintf(why, sizeof(why), "reading the PROXY header failed");
    c->have += (size_t)n; /* for the log */
    refuse(c, why);
}

static void on_timeout(uv_timer_t *t)
{
    refuse(t->data, "no complete PROXY header within 5 s");
}

/* Refuse a connection before it waits at all. */
static void refuse_now(struct kz_proxy_waits *w, uv_os_sock_t fd, const struct sockaddr *peer,
                       const char *why)
{
    char name[64];

    close(fd);
    if (count_refusal(w)) {
        kz_sockaddr_name(peer, name, sizeof(name));
        kz_log(KZ_LOG_WARN, "proxy: connection refused",
               "input=%s peer=%s reason=\"%s\" waiting=%u", w->input->conf->name, name, why,
               w->count);
    }
}

void kz_proxy_wait(struct kz_proxy_waits *w, uv_os_sock_t fd, const struct sockaddr *sock_peer)
{
    struct kz_proxy_conn *c;

    if (w->stopping || w->count >= KZ_PROXY_PENDING_MAX) {
        refuse_now(w, fd, sock_peer, "too many connections wait for their PROXY header");
        return;
    }
    c = kz_xcalloc(1, sizeof(*c));
    if (uv_poll_init_socket(w->loop, &c->poll, fd) != 0) {
        free(c);
        refuse_now(w, fd, sock_peer, "cannot watch the socket");
        return;
    }
    c->w = w;
    c->fd = fd;
    memcpy(&c->sock_peer, sock_peer,
           sock_peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : sizeof(struct sockaddr_in));
    c->next = w->head;
    if (c->next)
        c->next->prev = c;
    w->head = c;
    w->count++;
    c->handles = 2;
    c->poll.data = c->timer.data = c;
    uv_timer_init(w->loop, &c->timer);
    uv_timer_start(&c->timer, on_timeout, KZ_PROXY_HEADER_MS, 0);
    int rc = uv_poll_start(&c->poll, UV_READABLE, on_readable);
    if (rc != 0)
        refuse(c, uv_strerror(rc));
}

void kz_proxy_waits_stop(struct kz_proxy_waits *w)
{
    w->stopping = true;
    while (w->head)
        conn_finish(w->head, false);
    if (w->freeing == 0 && w->drained)
        w->drained(w->ud);
}
