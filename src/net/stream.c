/*
 * stream.c - CoT stream connections (plain `tcp` and mutual-TLS `tls` inputs).
 *
 * Life cycle: accept -> [TLS handshake, identity from the certificate's CN;
 * 10 s to finish] -> attach to the router (latest-state replay) -> read,
 * frame, decode, submit -> close.  Nothing of the session (router attach,
 * replay, callsign) exists before the peer is authenticated, so a storm of
 * half-open TLS connections costs a socket and an SSL object each.  A connection is never freed
 * inside one of its own callbacks: closing marks it, detaches it in the close callback and frees it
 * there (after libuv cancelled any write in flight).
 *
 * TAK protocol: a `tls` connection is offered version 1 once it is
 * authenticated (negotiate.h); once a request is answered "true" its input
 * is read as streaming frames and its subscription switched to
 * KZ_WIRE_PROTO, so everything queued after the response is protobuf.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cot/cot.h"
#include "net/negotiate.h"
#include "net/net.h"
#include "route/route.h"

#define REJECT_LOG_PER_SEC 10
#define HANDSHAKE_TIMEOUT_MS 10000

struct kz_stream {
    uv_tcp_t tcp;
    uv_timer_t idle;
    struct kz_input *input;
    struct kz_stream_opts *opts;
    struct kz_framer framer;
    struct kz_outq q;
    struct kz_sub sub;
    struct kz_transport tr;
    struct kz_users *users_ref; /* keeps sub.identity alive (TLS) */
    struct kz_takp_reader takp; /* input framing once `proto` */
    int64_t offered_us;         /* when version 1 was offered; 0 = never */
    bool proto;                 /* negotiated: frames in, KZ_WIRE_PROTO out */
    struct kz_stream *prev, *next;
    struct kz_router_hold hold; /* not reading: the store is behind (route/hold.c) */
    int64_t last_rx_us;
    char peer[64];
    bool closing;
};

static void log_reject(struct kz_stream *s, enum kz_reject why, const char *detail)
{
    struct kz_net *net = s->opts->net;
    int64_t sec = kz_mono_us() / 1000000;
    char q[200];

    if (sec != net->reject_window) {
        if (net->reject_suppressed)
            kz_log(KZ_LOG_WARN, "event rejects not logged", "count=%u", net->reject_suppressed);
        net->reject_window = sec;
        net->reject_logged = net->reject_suppressed = 0;
    }
    if (net->reject_logged++ >= REJECT_LOG_PER_SEC) {
        net->reject_suppressed++;
        return;
    }
    kz_log(KZ_LOG_WARN, "event rejected", "input=%s peer=%s reason=%s detail=%s",
           s->input->conf->name, s->peer, kz_reject_name(why),
           kz_log_quote(q, sizeof(q), detail, strlen(detail)));
}

static void on_closed(uv_handle_t *h)
{
    struct kz_stream *s = h->data;
    kz_router_detach(s->opts->router, &s->sub);
    kz_framer_release(&s->framer);
    kz_takp_reader_release(&s->takp);
    s->tr.ops->release(&s->tr);
    kz_tls_identity_put(s->users_ref);
    free(s);
}

static void on_idle_closed(uv_handle_t *h)
{
    struct kz_stream *s = h->data;
    uv_close((uv_handle_t *)&s->tcp, on_closed);
}

static void stream_close(struct kz_stream *s, const char *why)
{
    if (s->closing)
        return;
    s->closing = true;
    kz_log(KZ_LOG_INFO, "connection closed", "input=%s peer=%s reason=\"%s\"", s->input->conf->name,
           s->peer, why);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->opts->net->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    kz_metrics.conns_open--;
    kz_router_unhold(s->opts->router, &s->hold);
    kz_outq_kill(&s->q);
    uv_read_stop((uv_stream_t *)&s->tcp);
    uv_close((uv_handle_t *)&s->idle, on_idle_closed);
}

static void on_write_error(struct kz_outq *q, int status)
{
    struct kz_stream *s = (struct kz_stream *)((char *)q - offsetof(struct kz_stream, q));
    stream_close(s, uv_strerror(status));
}

static int deliver(struct kz_sub *sub, struct kz_rbuf *buf)
{
    struct kz_stream *s = (struct kz_stream *)((char *)sub - offsetof(struct kz_stream, sub));
    if (s->closing)
        return KZ_ERR_CLOSED;
    int rc = sub->replaying ? kz_outq_push_replay(&s->q, buf) : kz_outq_push(&s->q, buf);
    if (rc == KZ_ERR_TOOBIG) {
        kz_metrics.slow_consumer_drops++;
        kz_log(KZ_LOG_WARN, "slow consumer disconnected", "input=%s peer=%s queued=%zu limit=%zu",
               s->input->conf->name, s->peer, s->q.bytes, s->q.limit);
        stream_close(s, "output queue over limit");
    }
    return rc;
}

/* ---- input ------------------------------------------------------------ */

static void negotiate(struct kz_stream *s, struct kz_event *req);

/* Why the router refused an event that decoded. */
static const char *refusal(enum kz_reject why)
{
    switch (why) {
    case KZ_REJ_CEILING:
        return "label above the input's ceiling";
    case KZ_REJ_CONFLICT:
        return "uid of a track this sender may not see";
    case KZ_REJ_OVERLOAD:
        return "the store is behind; event not accepted";
    case KZ_REJ_STATE_FULL:
        return "a new uid, and limits.max_tracks uids are current";
    case KZ_REJ_CLAIMED:
        return "uid or callsign held by another identity";
    case KZ_REJ_BUDGET:
        return "a new uid, and the sender holds limits.max_tracks_per_identity";
    case KZ_REJ_MISSION:
        return "addressed to a mission; missions do not exist here yet";
    case KZ_REJ_CONTROL:
        return "a control message of the server's";
    default:
        return "label does not parse, or none and no default_label on the input";
    }
}

/* Submit one decoded event (taken over); false when it was rejected. */
static bool submit(struct kz_stream *s, struct kz_event *ev)
{
    enum kz_reject why;

    if (kz_cot_type_is(ev, KZ_TAKP_REQUEST))
        negotiate(s, ev);
    /* Control messages are the server's to send: consumed, never routed or stored. */
    if (strncmp(ev->type, "t-x-takp-", 9) == 0 || kz_cot_type_is(ev, "t-x-c-t-r")) {
        kz_event_clear(ev);
        return true;
    }
    if (kz_router_submit(s->opts->router, s->input, &s->sub, ev, NULL, NULL, &why, NULL) != KZ_OK) {
        kz_metrics.rejects[why]++;
        log_reject(s, why, refusal(why));
        kz_event_clear(ev);
        return false;
    }
    return true;
}

/* Decode and submit one XML event; false when it was rejected. */
static bool take_event(struct kz_stream *s, const char *xml, size_t len)
{
    struct kz_event ev;
    enum kz_reject why = KZ_REJ_XML;
    char err[160];

    kz_event_init(&ev);
    if (kz_cot_decode(s->opts->net->decoder, xml, len, &ev, &why, err, sizeof(err)) != KZ_OK) {
        kz_metrics.rejects[why]++;
        log_reject(s, why, err);
        return false;
    }
    return submit(s, &ev);
}

static void on_frame(void *ud, const char *xml, size_t len)
{
    struct kz_stream *s = ud;

    /* Bytes after a request that switched the stream are not XML. */
    if (s->closing || s->proto)
        return;
    /* A broken event may have swallowed the start of a good one: retry
     * from each later "<event" inside the frame. */
    while (!take_event(s, xml, len)) {
        if (kz_framer_note_reject(&s->framer) == KZ_ERR_CLOSED) {
            kz_metrics.garbage_closes++;
            stream_close(s, "too many consecutive rejects");
            return;
        }
        size_t next = len > 1 ? kz_cot_find_event(xml + 1, len - 1) + 1 : len;
        if (next >= len)
            return;
        xml += next;
        len -= next;
    }
    kz_framer_note_ok(&s->framer);
}

static void on_frame_reject(void *ud, enum kz_reject why, const char *detail)
{
    struct kz_stream *s = ud;
    if (s->proto)
        return;
    kz_metrics.rejects[why]++;
    log_reject(s, why, detail);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct kz_stream *s = h->data;
    struct kz_net *net = s->opts->net;

    KZ_UNUSED(suggested);
    /* One shared buffer: each read is consumed before the next is made. */
    if (net->read_buf_busy) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    net->read_buf_busy = true;
    *buf = uv_buf_init(net->read_buf, sizeof(net->read_buf));
}

/* ---- TAK protocol ------------------------------------------------------ */

static bool push_control(struct kz_stream *s, struct kz_sbuf *xml)
{
    if (kz_outq_push_copy(&s->q, xml->buf, xml->len) == KZ_OK)
        return true;
    stream_close(s, "output queue over limit");
    return false;
}

/* Offer version 1 (tls inputs, once authenticated). */
static void offer(struct kz_stream *s)
{
    struct kz_sbuf xml = KZ_SBUF_INIT;
    char uid[48];

    snprintf(uid, sizeof(uid), "protouid-%016llx",
             (unsigned long long)kz_now_us() ^ (unsigned long long)(uintptr_t)s);
    kz_takp_offer(uid, &xml);
    if (push_control(s, &xml))
        s->offered_us = kz_mono_us();
    kz_sbuf_release(&xml);
}

/*
 * Answer a request.  The response is the last XML the peer gets: the switch
 * happens before anything else can be queued, and the peer sends nothing
 * but frames after it (the rest of this read is dropped as not XML).
 */
static void negotiate(struct kz_stream *s, struct kz_event *req)
{
    struct kz_sbuf xml = KZ_SBUF_INIT;
    const char *no = NULL;

    if (s->proto)
        return;
    if (!s->offered_us)
        no = "no offer was made on this input";
    else if (kz_mono_us() - s->offered_us > KZ_TAKP_WATCH_US)
        no = "request came more than 60 s after the offer";
    else if (!kz_takp_accepts(req))
        no = "only version 1 is spoken";
    kz_takp_response(req->uid, !no, &xml);
    if (push_control(s, &xml) && !no) {
        s->proto = true;
        s->sub.wire = KZ_WIRE_PROTO;
        kz_takp_reader_init(&s->takp, s->opts->max_event_bytes);
    }
    kz_sbuf_release(&xml);
    kz_log(KZ_LOG_INFO, "takproto: negotiation", "input=%s peer=%s result=%s%s%s",
           s->input->conf->name, s->peer, no ? "refused" : "protobuf", no ? " why=" : "",
           no ? no : "");
}

/* One TakMessage.  Not protobuf closes the stream; an invalid event does not. */
static int on_payload(void *ud, const char *buf, size_t len)
{
    struct kz_stream *s = ud;
    struct kz_event ev;
    enum kz_reject why = KZ_REJ_PROTO;
    char err[160];

    if (s->closing)
        return KZ_ERR_CLOSED;
    kz_event_init(&ev);
    int rc = kz_cot_decode_proto(s->opts->net->decoder, buf, len, &ev, &why, err, sizeof(err));
    if (rc == KZ_ERR_NOTFOUND)
        return KZ_OK; /* TakControl only: nothing to route */
    if (rc == KZ_OK && submit(s, &ev)) {
        kz_framer_note_ok(&s->framer);
        return KZ_OK;
    }
    if (rc != KZ_OK) {
        kz_metrics.rejects[why]++;
        log_reject(s, why, err);
        if (why == KZ_REJ_PROTO)
            return KZ_ERR_PARSE;
    }
    return kz_framer_note_reject(&s->framer);
}

static void proto_feed(struct kz_stream *s, const char *data, size_t n)
{
    int rc = kz_takp_reader_feed(&s->takp, data, n, on_payload, s);
    const char *why = s->takp.why[0] ? s->takp.why : "TakMessage does not decode";

    if (rc == KZ_OK || s->closing)
        return;
    kz_metrics.garbage_closes++;
    if (rc == KZ_ERR_CLOSED) {
        stream_close(s, "too many consecutive rejects");
        return;
    }
    if (s->takp.why[0])
        kz_metrics.rejects[rc == KZ_ERR_TOOBIG ? KZ_REJ_TOO_BIG : KZ_REJ_PROTO]++;
    kz_log(KZ_LOG_WARN, "takproto: bad frame, connection closed", "input=%s peer=%s reason=\"%s\"",
           s->input->conf->name, s->peer, why);
    stream_close(s, why);
}

static void on_plain(void *ud, const char *data, size_t n)
{
    struct kz_stream *s = ud;

    if (s->closing)
        return;
    if (s->proto) {
        proto_feed(s, data, n);
        return;
    }
    if (kz_framer_feed(&s->framer, data, n, on_frame, on_frame_reject, s) == KZ_ERR_CLOSED) {
        kz_metrics.garbage_closes++;
        stream_close(s, "too many consecutive rejects");
    }
}

static int on_ready(void *ud);

static const struct kz_transport_cbs transport_cbs = {on_ready, on_plain};

/* The transport refused the peer or its bytes: log why and close. */
static void feed_failed(struct kz_stream *s, int rc)
{
    char why[200];

    if (s->closing)
        return;
    if (rc != KZ_ERR_CLOSED)
        kz_metrics.garbage_closes++;
    snprintf(why, sizeof(why), "%s", s->tr.why[0] ? s->tr.why : kz_strerror(rc));
    if (rc != KZ_ERR_CLOSED)
        kz_log(KZ_LOG_WARN, "tls: connection refused", "input=%s peer=%s reason=\"%s\"",
               s->input->conf->name, s->peer, why);
    stream_close(s, why);
}

static void on_handshake_failed(void *ud, int rc)
{
    feed_failed(ud, rc);
}

static void on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
    struct kz_stream *s = h->data;

    if (buf->base == s->opts->net->read_buf)
        s->opts->net->read_buf_busy = false;
    if (n < 0) {
        stream_close(s, n == UV_EOF ? "peer closed" : uv_strerror((int)n));
        return;
    }
    if (n == 0 || s->closing)
        return;
    s->last_rx_us = kz_mono_us();
    int rc = s->tr.ops->feed(&s->tr, buf->base, (size_t)n, &transport_cbs, s);
    if (rc != KZ_OK) {
        feed_failed(s, rc);
        return;
    }
    /* The store is behind: take no more until it catches up (TCP slows the sender). */
    if (!s->closing && !s->hold.held && kz_router_hold(s->opts->router, &s->hold)) {
        kz_metrics.input_holds++;
        uv_read_stop((uv_stream_t *)&s->tcp);
    }
}

static void on_resume(struct kz_router_hold *h)
{
    struct kz_stream *s = (struct kz_stream *)((char *)h - offsetof(struct kz_stream, hold));

    if (!s->closing) {
        s->last_rx_us = kz_mono_us(); /* held, not idle */
        uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    }
}

/* ---- accept / idle / shutdown ----------------------------------------- */

static void on_handshake_timeout(uv_timer_t *t)
{
    struct kz_stream *s = t->data;
    kz_metrics.garbage_closes++;
    kz_log(KZ_LOG_WARN, "tls: handshake not finished in time", "input=%s peer=%s ms=%d",
           s->input->conf->name, s->peer, HANDSHAKE_TIMEOUT_MS);
    stream_close(s, "handshake timeout");
}

static void on_idle_check(uv_timer_t *t)
{
    struct kz_stream *s = t->data;
    int64_t silent = kz_mono_us() - s->last_rx_us;
    if (!s->hold.held && silent >= (int64_t)s->opts->idle_timeout_s * 1000000)
        stream_close(s, "idle timeout");
}

static void ensure_decoder(struct kz_net *net, size_t max_event)
{
    if (net->decoder && net->decoder_limit == max_event)
        return;
    struct kz_cot_limits lim;
    kz_cot_limits_default(&lim);
    lim.max_event_bytes = max_event;
    kz_cot_decoder_free(net->decoder);
    net->decoder = kz_cot_decoder_new(&lim);
    net->decoder_limit = max_event;
}

static void free_data(uv_handle_t *h)
{
    free(h->data);
}

static void refuse(uv_os_sock_t fd)
{
    close(fd);
    kz_metrics.conn_limit_refusals++;
}

/* The peer is who it says: attach it to the router (replay starts here). */
static void start_session(struct kz_stream *s)
{
    kz_router_attach(s->opts->router, &s->sub);
    uv_timer_stop(&s->idle);
    if (s->opts->idle_timeout_s) {
        uint64_t ms = s->opts->idle_timeout_s * 1000ull;
        uv_timer_start(&s->idle, on_idle_check, ms, ms / 4 ? ms / 4 : 1);
    }
}

/* TLS handshake done: the verified certificate's CN must be a known user. */
static int on_ready(void *ud)
{
    struct kz_stream *s = ud;
    char buf[KZ_TLS_CN_MAX];
    const char *cn = kz_transport_peer_cn(&s->tr, buf);
    const struct kz_identity *id = kz_tls_identity_get(s->opts->creds, cn, &s->users_ref);

    if (s->closing)
        return KZ_ERR_CLOSED;
    if (!s->tr.tls) {
        start_session(s);
        return KZ_OK;
    }
    if (!id) {
        snprintf(s->tr.why, sizeof(s->tr.why), "certificate CN '%s' is not a known user",
                 cn ? cn : "");
        return KZ_ERR_DENIED;
    }
    s->sub.identity = id;
    kz_log(KZ_LOG_INFO, "tls: authenticated", "input=%s peer=%s user=%s nation=%s",
           s->input->conf->name, s->peer, id->user, id->nation);
    offer(s);
    if (!s->closing)
        start_session(s);
    return KZ_OK;
}

void kz_stream_accept(void *ud, struct kz_input *input, const struct kz_input_conf *conf,
                      uv_loop_t *loop, uv_os_sock_t fd, const struct sockaddr *peer)
{
    KZ_UNUSED(conf); /* input->conf, which a reload may replace: read it there */
    struct kz_stream_opts *opts = ud;

    if (kz_metrics.conns_open >= opts->max_connections) {
        kz_log(KZ_LOG_WARN, "connection refused: limit reached", "input=%s max=%u",
               input->conf->name, opts->max_connections);
        refuse(fd);
        return;
    }
    struct kz_stream *s = kz_xcalloc(1, sizeof(*s));
    s->input = input;
    s->opts = opts;
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    if (uv_tcp_open(&s->tcp, fd) != 0) {
        close(fd);
        uv_close((uv_handle_t *)&s->tcp, free_data);
        return;
    }
    uv_tcp_nodelay(&s->tcp, 1);
    uv_timer_init(loop, &s->idle);
    s->idle.data = s;
    kz_sockaddr_name(peer, s->peer, sizeof(s->peer));
    ensure_decoder(opts->net, opts->max_event_bytes);
    kz_framer_init(&s->framer, opts->max_event_bytes);
    kz_outq_init(&s->q, opts->net, &s->tr, opts->out_queue_bytes, on_write_error);
    /* TLS pays per record, not per byte: let a few passes share one (net/outq.c). */
    s->q.coalesce = input->conf->protocol == KZ_PROTO_TLS;
    s->last_rx_us = kz_mono_us();
    s->next = opts->net->streams;
    if (s->next)
        s->next->prev = s;
    opts->net->streams = s;
    kz_metrics.conns_open++;
    kz_metrics.conns_total++;
    kz_log(KZ_LOG_INFO, "connection accepted", "input=%s peer=%s", input->conf->name, s->peer);

    s->sub.identity = input->identity;
    s->sub.input = input;
    s->sub.wire = KZ_WIRE_XML;
    s->sub.deliver = deliver;
    s->hold.resume = on_resume;
    if (input->conf->protocol == KZ_PROTO_TLS) {
        kz_transport_tls_init(&s->tr, (uv_stream_t *)&s->tcp, opts->creds->mutual);
        kz_transport_tls_offload(&s->tr, on_handshake_failed);
        uv_timer_start(&s->idle, on_handshake_timeout, HANDSHAKE_TIMEOUT_MS, 0);
    } else {
        kz_transport_tcp_init(&s->tr, (uv_stream_t *)&s->tcp);
        start_session(s);
    }
    uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
}

void kz_stream_close_all(struct kz_net *net)
{
    while (net->streams)
        stream_close(net->streams, "server shutting down");
}

/* ---- credentials reloaded ----------------------------------------------- */

/*
 * The user changed: take the identity from the new snapshot and re-resolve
 * the subscriber's groups and release subject (what kz_router_attach()
 * computes) in place, so the next delivery is checked against it.
 */
static void reidentify(struct kz_stream *s)
{
    struct kz_users *ref = NULL;
    const struct kz_identity *id = kz_tls_identity_get(s->opts->creds, s->sub.identity->user, &ref);
    struct kz_sub view;

    if (!id) {
        kz_metrics.credential_closes++;
        stream_close(s, "user deleted");
        return;
    }
    kz_sub_viewer_as(s->opts->router, &view, s->input, id);
    s->sub.identity = id;
    s->sub.in = view.in;
    s->sub.out = view.out;
    s->sub.subject = view.subject;
    kz_tls_identity_put(s->users_ref);
    s->users_ref = ref;
    kz_log(KZ_LOG_INFO, "tls: identity changed", "input=%s peer=%s user=%s nation=%s clearance=%s",
           s->input->conf->name, s->peer, id->user, id->nation, id->clearance);
}

/* The sender's name as the router stamps it: the identity's user, else its input's name. */
static const char *sender_user(const struct kz_stream *s)
{
    const struct kz_identity *id = s->sub.identity;

    return id && id->user ? id->user : s->input->conf->name;
}

unsigned kz_stream_close_bound(struct kz_net *net, const char *uid, const char *user,
                               const char *nation, const char *why, unsigned *others)
{
    struct kz_stream *s, *next;
    unsigned n = 0;

    *others = 0;
    for (s = net->streams; s; s = next) {
        next = s->next; /* stream_close() unlinks s */
        if (s->closing || !s->sub.uid || !s->sub.uid_self || strcmp(s->sub.uid, uid) != 0)
            continue;
        const char *code = kz_nation_code(s->sub.subject.nation);
        if (strcmp(sender_user(s), user) != 0 || !code || strcmp(code, nation) != 0) {
            (*others)++;
            continue;
        }
        stream_close(s, why);
        n++;
    }
    return n;
}

void kz_stream_revisit(struct kz_net *net, kz_revisit_fn fn, void *ud)
{
    struct kz_stream *s, *next;
    char why[160];

    for (s = net->streams; s; s = next) {
        next = s->next; /* stream_close() unlinks s */
        /* Authenticated by a certificate, or still in the TLS handshake (id NULL). */
        const struct kz_identity *id = s->users_ref ? s->sub.identity : NULL;
        if (s->closing || !s->tr.tls || (s->tr.ready && !id))
            continue;
        why[0] = '\0';
        switch (fn(ud, &s->tr, id, why, sizeof(why))) {
        case KZ_REVISIT_CLOSE:
            if (id)
                kz_metrics.credential_closes++;
            stream_close(s, why[0] ? why : "credentials withdrawn");
            break;
        case KZ_REVISIT_CHANGED:
            if (id)
                reidentify(s);
            break;
        default:
            break;
        }
    }
}
