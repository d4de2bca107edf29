/*
 * conn.c - a federation connection: the TCP socket, its TLS transport
 * (dialed with the peer's own client context, or accepted with the node's
 * mutual context), reading into the transport, the peer's identification by
 * the CA of its chain, and closing.  Writes go through the transport with
 * one write in flight (v1 frames and HTTP/2 bytes alike).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed/internal.h"
#include "net/net.h"

static void conn_free(uv_handle_t *h)
{
    struct fed_conn *c = h->data;

    if (c->prev)
        c->prev->next = c->next;
    else
        c->fed->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->transport_live)
        c->t.ops->release(&c->t);
    kz_fed_v1_reader_release(&c->v1r);
    kz_sbuf_release(&c->out);
    kz_sbuf_release(&c->inflight);
    kz__fed_outbox_release(c);
    free(c);
}

static void timer_closed(uv_handle_t *h)
{
    struct fed_conn *c = h->data;

    uv_close((uv_handle_t *)&c->tcp, conn_free);
}

static void redial_cb(uv_timer_t *t);

static void close_later_cb(uv_timer_t *t)
{
    struct fed_conn *c = t->data;

    kz__fed_close(c, "the partner does not keep up, or a write failed");
}

void kz__fed_close_later(struct fed_conn *c)
{
    if (c->closing || c->doomed)
        return;
    c->doomed = true;
    uv_timer_stop(&c->timer);
    uv_timer_start(&c->timer, close_later_cb, 0, 0);
}

static void identified(struct fed_conn *c)
{
    if (c->pending)
        c->fed->pending--;
    c->pending = false;
}

void kz__fed_close(struct fed_conn *c, const char *why)
{
    struct fed_peer *p = c->peer;
    bool live = p && p->conn == c;

    if (c->closing)
        return;
    c->closing = true;
    identified(c);
    if (c->attached)
        kz_router_detach(c->fed->router, &c->sub);
    c->attached = false;
    kz_grpc_free(c->grpc);
    c->grpc = NULL;
    if (live) {
        p->conn = NULL;
        p->state = p->conf->connect && !p->standby ? FED_CONNECTING : FED_DOWN;
        p->since_us = kz_now_us();
        kz_log(KZ_LOG_WARN, "federation: link down", "peer=%s why=\"%s\"", p->conf->name, why);
        kz__fed_audit(p, "federation.down", why);
    } else {
        kz_log(KZ_LOG_INFO, "federation: connection closed", "peer=%s why=\"%s\"",
               p ? p->conf->name : "-", why);
    }
    /* A dialing peer without a live link tries again, later and later. */
    if (c->client && p && !p->conn && !p->standby && !c->fed->stopping)
        uv_timer_start(&p->redial, redial_cb, p->backoff_ms, 0);
    uv_read_stop((uv_stream_t *)&c->tcp);
    kz_router_unhold(c->fed->router, &c->hold);
    if (c->timer_live)
        uv_close((uv_handle_t *)&c->timer, timer_closed);
    else
        uv_close((uv_handle_t *)&c->tcp, conn_free);
}

void kz__fed_close_all(struct kz_fed *f)
{
    for (struct fed_conn *c = f->conns; c; c = c->next)
        kz__fed_close(c, "the node stops");
}

/* ---- writing -------------------------------------------------------------------- */

static void write_next(struct fed_conn *c);

static void wrote(void *ud, int status)
{
    struct fed_conn *c = ud;

    c->writing = false;
    kz_sbuf_reset(&c->inflight);
    if (status != 0) {
        kz__fed_close(c, "write failed");
        return;
    }
    write_next(c);
    if (c->attached && kz__fed_conn_backlog(c) < KZ_GRPC_LOW_WATER)
        kz__fed_outbox_writable(c); /* a v1 link's paused catch-up */
}

static void write_next(struct fed_conn *c)
{
    struct kz_sbuf tmp;
    uv_buf_t b;

    if (c->writing || c->closing || c->out.len == 0)
        return;
    tmp = c->inflight; /* swap: what waited goes out, the empty buffer collects */
    c->inflight = c->out;
    c->out = tmp;
    b = uv_buf_init(c->inflight.buf, (unsigned)c->inflight.len);
    c->writing = true;
    if (c->t.ops->write(&c->t, &b, 1, wrote, c) != KZ_OK) {
        c->writing = false;
        kz__fed_close_later(c); /* may run inside the router's deliver() */
    }
}

void kz__fed_write(struct fed_conn *c, const void *data, size_t len)
{
    if (c->closing)
        return;
    if (len)
        kz_sbuf_add(&c->out, data, len);
    write_next(c);
}

size_t kz__fed_queued(const struct fed_conn *c)
{
    return c->out.len + c->inflight.len;
}

size_t kz__fed_conn_backlog(const struct fed_conn *c)
{
    return c->grpc ? kz_grpc_queued(c->grpc) : kz__fed_queued(c);
}

/* ---- reading, identifying --------------------------------------------------------- */

/* The peer whose CA issued the verified chain; refused (and logged) when none is. */
static int identify(struct fed_conn *c)
{
    struct kz_fed *f = c->fed;
    int i = kz_fed_tls_peer_of(f->tls, kz_transport_peer_chain(&c->t));

    if (i < 0) {
        kz_log(KZ_LOG_WARN, "federation: refused a peer whose CA is not a configured peer's", NULL);
        return KZ_ERR_DENIED;
    }
    if (c->peer && c->peer != &f->peers[i]) {
        kz_log(KZ_LOG_WARN, "federation: the dialed peer answered with another peer's CA",
               "dialed=%s answered=%s", c->peer->conf->name, f->peers[i].conf->name);
        return KZ_ERR_DENIED;
    }
    c->peer = &f->peers[i];
    c->v1 = strcmp(c->peer->conf->protocol ? c->peer->conf->protocol : "v2", "v1") == 0;
    return KZ_OK;
}

static int on_ready(void *ud)
{
    struct fed_conn *c = ud;
    const char *alpn;

    uv_timer_stop(&c->timer); /* the handshake deadline */
    identified(c);
    if (identify(c) != KZ_OK)
        return KZ_ERR_DENIED;
    alpn = kz_transport_alpn(&c->t);
    if (!c->v1 && (!alpn || strcmp(alpn, "h2") != 0)) {
        kz_log(KZ_LOG_WARN, "federation: a v2 peer did not agree on HTTP/2 (ALPN h2)", "peer=%s",
               c->peer->conf->name);
        return KZ_ERR_DENIED;
    }
    kz__fed_link_up(c);
    if (c->v1) {
        kz__fed_v1_start(c);
        return KZ_OK;
    }
    return kz__fed_v2_start(c);
}

static void on_data(void *ud, const char *data, size_t len)
{
    struct fed_conn *c = ud;

    if (c->closing)
        return;
    if (c->v1)
        kz__fed_v1_data(c, data, len);
    else
        kz__fed_v2_data(c, data, len);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct fed_conn *c = h->data;

    (void)suggested;
    *b = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    static const struct kz_transport_cbs cbs = {on_ready, on_data};
    struct fed_conn *c = s->data;

    if (n < 0) {
        kz__fed_close(c, n == UV_EOF ? "closed by the peer" : uv_strerror((int)n));
        return;
    }
    if (n > 0 && c->t.ops->feed(&c->t, b->base, (size_t)n, &cbs, c) != KZ_OK) {
        kz__fed_close(c, c->t.why[0] ? c->t.why : "TLS refused");
        return;
    }
    /* The store is behind: read no more until it catches up (TCP slows the peer). */
    if (!c->closing && !c->hold.held && kz_router_hold(c->fed->router, &c->hold)) {
        kz_metrics.input_holds++;
        uv_read_stop(s);
    }
}

static void read_resume(struct kz_router_hold *h)
{
    struct fed_conn *c = (struct fed_conn *)((char *)h - offsetof(struct fed_conn, hold));

    if (!c->closing)
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

static void handshake_expired(uv_timer_t *t)
{
    kz__fed_close(t->data, "no TLS handshake within 10 s");
}

/* A new connection, counted as not identified until its handshake, which has a deadline. */
static struct fed_conn *conn_new(struct kz_fed *f)
{
    struct fed_conn *c = kz_xcalloc(1, sizeof(*c));

    c->fed = f;
    c->next = f->conns;
    if (f->conns)
        f->conns->prev = c;
    f->conns = c;
    c->v1r.max = KZ_FED_MAX_MESSAGE;
    c->hold.resume = read_resume;
    uv_tcp_init(f->loop, &c->tcp);
    c->tcp.data = c;
    uv_timer_init(f->loop, &c->timer);
    c->timer.data = c;
    c->timer_live = true;
    c->pending = true;
    f->pending++;
    uv_timer_start(&c->timer, handshake_expired, KZ_FED_HANDSHAKE_MS, 0);
    return c;
}

/* ---- accepting ---------------------------------------------------------------- */

void kz__fed_accept(struct kz_fed *f, uv_stream_t *server, bool v1)
{
    struct fed_conn *c = conn_new(f);

    c->v1 = v1;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        kz__fed_close(c, "accept failed");
        return;
    }
    if (f->pending > KZ_FED_MAX_PENDING) {
        kz__fed_close(c, "too many connections still in their handshake");
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    kz_transport_tls_init(&c->t, (uv_stream_t *)&c->tcp, f->tls->server);
    c->transport_live = true;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

/* ---- dialing -------------------------------------------------------------------- */

static void redial_cb(uv_timer_t *t)
{
    struct fed_peer *p = t->data;

    if (!p->fed->stopping && !p->conn && !p->standby)
        kz__fed_dial(p);
}

static void dial_failed(struct fed_peer *p, const char *why)
{
    kz_log(KZ_LOG_INFO, "federation: cannot reach peer, will retry", "peer=%s why=\"%s\" in_ms=%u",
           p->conf->name, why, p->backoff_ms);
}

static void connected(uv_connect_t *req, int status)
{
    struct fed_conn *c = req->data;
    struct fed_peer *p = c->peer;

    if (status != 0 || c->fed->stopping) {
        if (status != 0)
            dial_failed(p, uv_strerror(status));
        kz__fed_close(c, "not connected");
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    kz_transport_tls_client_init(&c->t, (uv_stream_t *)&c->tcp, c->fed->tls->client[p->index],
                                 p->conf->name);
    c->transport_live = true;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    /* The client speaks first: an empty feed makes the transport send its hello. */
    static const struct kz_transport_cbs cbs = {on_ready, on_data};
    if (c->t.ops->feed(&c->t, "", 0, &cbs, c) != KZ_OK)
        kz__fed_close(c, c->t.why[0] ? c->t.why : "TLS refused");
}

void kz__fed_dial(struct fed_peer *p)
{
    struct kz_fed *f = p->fed;
    struct sockaddr_storage ss;
    struct fed_conn *c;

    p->state = FED_CONNECTING;
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : KZ_FED_REDIAL_MIN_MS;
    if (p->backoff_ms > KZ_FED_REDIAL_MAX_MS)
        p->backoff_ms = KZ_FED_REDIAL_MAX_MS;
    if (kz_parse_hostport(p->conf->connect, &ss) != KZ_OK) {
        dial_failed(p, "connect is not an address:port");
        uv_timer_start(&p->redial, redial_cb, KZ_FED_REDIAL_MAX_MS, 0);
        return;
    }
    c = conn_new(f);
    c->peer = p;
    c->client = true;
    c->v1 = p->conf->protocol && strcmp(p->conf->protocol, "v1") == 0;
    c->connect.data = c;
    if (uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&ss, connected) != 0) {
        dial_failed(p, "connect failed");
        kz__fed_close(c, "not connected");
    }
}
