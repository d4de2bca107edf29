/*
 * net.h - listeners, CoT stream connections and the per-connection output
 * queue shared by every protocol.  Loop thread only.
 *
 * Output path: protocol code pushes refcounted buffers onto a kz_outq;
 * the queue marks itself dirty; once per loop pass (a uv_check handle) every
 * dirty queue is written with one writev (uv_write with many bufs).  A queue
 * holds at most `limit` bytes (including bytes in flight).  A push that
 * would exceed the limit first tries to hand the queue to the kernel right
 * away (a burst larger than the limit can arrive within one loop pass);
 * only if the kernel will not take it does the push fail, and the owner
 * disconnects the slow consumer.
 */
#ifndef KZ_NET_H
#define KZ_NET_H

#include <uv.h>

#include "core/core.h"
#include "net/transport.h"

struct kz_input; /* route/route.h: a listener's runtime view of its configuration */
struct kz_router;

/* ---- loop-wide state -------------------------------------------------- */

#define KZ_NET_READ_BUF 65536

struct kz_outq;
struct kz_stream;
struct kz_cot_decoder;

/*
 * Everything the network layer shares across connections of one loop: the
 * flush-once-per-pass machinery, the read buffer and CoT decoder that stream
 * reads use synchronously, the list of stream connections and the reject-log
 * rate limit.  Owned by the server (struct kz_server); loop thread only.
 */
struct kz_net {
    uv_loop_t *loop;
    uv_check_t flush_check;
    uv_idle_t flush_idle; /* keeps poll from blocking while a queue must go out */
    uv_timer_t coalesce;  /* ends the wait of coalescing queues (KZ_OUTQ_COALESCE_MS) */
    bool urgent;          /* a dirty queue that must go out this pass */
    bool coalesce_due;    /* the wait is over: this pass flushes every queue */
    struct kz_outq *dirty_head;
    bool started;
    char read_buf[KZ_NET_READ_BUF]; /* reads are consumed at once */
    bool read_buf_busy;
    struct kz_cot_decoder *decoder;
    size_t decoder_limit;
    struct kz_stream *streams; /* every live CoT stream connection */
    int64_t reject_window;     /* rejects logged per second, at most REJECT_LOG_PER_SEC */
    unsigned reject_logged, reject_suppressed;
};

/* Start the flush-once-per-pass machinery on `loop`. */
void kz_net_init(struct kz_net *net, uv_loop_t *loop);
/* Stop it and free the shared decoder (before uv_loop_close). */
void kz_net_shutdown(struct kz_net *net);

/* ---- output queue ----------------------------------------------------- */

#define KZ_OUTQ_IOV_MAX 512
/*
 * A coalescing queue (TLS: every record costs ~10 k instructions in
 * OpenSSL, whatever its size) waits up to this long, or until it holds a
 * full record's worth, so that events of several loop passes share one
 * record.
 */
#define KZ_OUTQ_COALESCE_MS 5
#define KZ_OUTQ_COALESCE_BYTES 16384

struct kz_outq;

/* Called when the queue's write fails or finishes draining after close. */
typedef void (*kz_outq_error_cb)(struct kz_outq *q, int uv_status);

struct kz_transport;

struct kz_outq {
    struct kz_net *net;      /* whose flush pass writes this queue */
    struct kz_transport *tr; /* where to write (tcp or tls) */
    size_t limit;            /* bytes, queued + in flight */
    size_t bytes;            /* queued + in flight */
    struct kz_rbuf **ring;   /* pending buffers */
    unsigned head, count, cap;
    uint32_t head_off;         /* bytes of ring[head] already written */
    size_t exempt;             /* leading bytes of replay, not held to `limit` */
    struct kz_rbuf **inflight; /* what uv_write holds, allocated per write: idle costs nothing */
    unsigned n_inflight;
    size_t inflight_bytes;
    bool writing;
    bool dirty;
    bool dead;     /* stream closing: drop everything */
    bool coalesce; /* may wait for more (KZ_OUTQ_COALESCE_MS); set by the owner */
    kz_outq_error_cb on_error;
    void (*on_drained)(struct kz_outq *q); /* optional: queue became empty */
    struct kz_outq *next_dirty;
};

void kz_outq_init(struct kz_outq *q, struct kz_net *net, struct kz_transport *tr, size_t limit,
                  kz_outq_error_cb on_error);
/*
 * Queue a buffer (takes a reference).  Returns KZ_OK, or KZ_ERR_TOOBIG when
 * it would exceed the limit (nothing queued), or KZ_ERR_CLOSED when dead.
 */
int kz_outq_push(struct kz_outq *q, struct kz_rbuf *b);
/*
 * Queue latest-state replay (takes a reference).  Replay buffers are shared
 * with the state cache, so a queue only holds pointers to them; they are not
 * held to the limit, which applies to live traffic queued behind them.
 */
int kz_outq_push_replay(struct kz_outq *q, struct kz_rbuf *b);
/* Copy bytes into a new buffer and push it. */
int kz_outq_push_copy(struct kz_outq *q, const void *data, size_t len);
/*
 * Drop all queued buffers.  If a write is in flight its buffers are released
 * in its callback; the owner must not free `q` until kz_outq_idle(q).
 */
void kz_outq_kill(struct kz_outq *q);
static inline bool kz_outq_idle(const struct kz_outq *q)
{
    return !q->writing;
}

/* ---- listeners -------------------------------------------------------- */

/*
 * Called for each accepted connection with its socket (non-blocking,
 * close-on-exec), which the callee owns from then on: it opens it in a
 * uv_tcp_t of `loop` (uv_tcp_open) or closes it.  `peer` (borrowed for the
 * call) is the client's address: the socket's peer, or on a
 * `proxy_protocol` input the one its PROXY header named (net/proxy.h).
 */
typedef void (*kz_accept_cb)(void *ud, struct kz_input *input, const struct kz_input_conf *conf,
                             uv_loop_t *loop, uv_os_sock_t fd, const struct sockaddr *peer);

struct kz_listener;

/*
 * Bind and listen on input->conf->listen ("HOST:PORT", IPv4 or [IPv6]).
 * Sets input->port to the bound port.  Returns KZ_OK or KZ_ERR_IO / KZ_ERR_CONFIG
 * with a log line naming the input and the cause.
 */
int kz_listener_start(uv_loop_t *loop, struct kz_input *input, kz_accept_cb cb, void *ud,
                      struct kz_listener **out);
void kz_listener_stop(struct kz_listener *l);

/* Parse "HOST:PORT" / "[V6]:PORT" into a sockaddr. */
int kz_parse_hostport(const char *s, struct sockaddr_storage *ss);

/* "HOST:PORT" of an AF_INET/AF_INET6 address ("?:0" otherwise) into buf (net/proxy.c). */
void kz_sockaddr_name(const struct sockaddr *sa, char *buf, size_t len);

/* ---- CoT stream connections ------------------------------------------- */

struct kz_stream_opts {
    struct kz_net *net;
    struct kz_router *router;
    struct kz_tls_creds *creds; /* for `tls` inputs; the server swaps its contents on reload */
    size_t max_event_bytes;
    size_t out_queue_bytes;
    unsigned max_connections;
    unsigned idle_timeout_s; /* close after this long with no input; 0 = never */
};

/* An accept callback for `tcp` inputs; `ud` is a struct kz_stream_opts *. */
void kz_stream_accept(void *ud, struct kz_input *input, const struct kz_input_conf *conf,
                      uv_loop_t *loop, uv_os_sock_t fd, const struct sockaddr *peer);

/* Close every stream connection (shutdown). */
void kz_stream_close_all(struct kz_net *net);

/*
 * What becomes of an open connection authenticated by a client certificate
 * as `id` once the credentials were reloaded (server/creds.c decides):
 * KEEP it, re-resolve its identity from the new users snapshot (CHANGED),
 * or CLOSE it (`why` says why: "user deleted", "certificate revoked").
 * `id` is NULL for a connection still in its TLS handshake, which verifies
 * the certificate against the CRL of the context it was accepted with.
 */
enum kz_revisit { KZ_REVISIT_KEEP, KZ_REVISIT_CHANGED, KZ_REVISIT_CLOSE };
typedef enum kz_revisit (*kz_revisit_fn)(void *ud, const struct kz_transport *tr,
                                         const struct kz_identity *id, char *why, size_t whylen);

/*
 * The credentials were reloaded (server/creds.c, after it swapped the users
 * snapshot and the CRL into opts->creds): ask fn about every stream
 * authenticated by a client certificate.  CLOSE closes it (counted in
 * kz_metrics.credential_closes); CHANGED takes its identity afresh from
 * opts->creds and re-resolves its groups and release subject in place, with
 * no replay (the attached subscriber, its callsign and uid stay).
 */
void kz_stream_revisit(struct kz_net *net, kz_revisit_fn fn, void *ud);

/*
 * Close every stream bound to `uid` by its device's own reports whose sender is `user` of
 * `nation` (ISO code; the user as the router stamps it: the identity's user, else the input's
 * name), logging `why`; returns how many.  *others: streams bound to uid by another sender,
 * left open (an identity is bound, never claimed).
 */
unsigned kz_stream_close_bound(struct kz_net *net, const char *uid, const char *user,
                               const char *nation, const char *why, unsigned *others);

#endif
