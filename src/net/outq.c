/*
 * outq.c - per-connection output queues, flushed once per loop pass.
 *
 * Producers only append references to shared buffers; the check handle
 * turns each dirty queue into a single uv_write (one writev) after the loop
 * has processed all input of this pass.  That is what keeps the number of
 * syscalls per delivery far below one under fan-out load.  A coalescing
 * queue (TLS) may also skip passes: it waits until it holds
 * KZ_OUTQ_COALESCE_BYTES or the net's coalesce timer ends the wait
 * (KZ_OUTQ_COALESCE_MS after the first one began), so that one record
 * carries the events of several passes.
 */
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "net/net.h"

static void flush_one(struct kz_outq *q);
static void drained(struct kz_outq *q);

static void on_idle(uv_idle_t *h)
{
    KZ_UNUSED(h);
}

/* The coalescing queues have waited long enough: this pass flushes them. */
static void on_coalesce(uv_timer_t *t)
{
    struct kz_net *net = t->data;

    net->coalesce_due = net->urgent = true;
    if (!uv_is_active((uv_handle_t *)&net->flush_idle))
        uv_idle_start(&net->flush_idle, on_idle);
}

/* May q skip this pass, to share a record with the next ones? */
static bool may_wait(const struct kz_outq *q)
{
    return q->coalesce && !q->net->coalesce_due && !q->dead && q->bytes < KZ_OUTQ_COALESCE_BYTES;
}

static void on_check(uv_check_t *h)
{
    struct kz_net *net = h->data;
    /* Writes may complete synchronously and re-mark queues; take the list. */
    struct kz_outq *q = net->dirty_head, *waiting = NULL;
    net->dirty_head = NULL;
    net->urgent = false;
    while (q) {
        struct kz_outq *next = q->next_dirty;
        if (may_wait(q)) {
            q->next_dirty = waiting;
            waiting = q;
        } else {
            q->next_dirty = NULL;
            q->dirty = false;
            if (!q->dead)
                flush_one(q);
        }
        q = next;
    }
    net->coalesce_due = false;
    for (q = waiting; q; q = waiting) {
        waiting = q->next_dirty;
        q->next_dirty = net->dirty_head;
        net->dirty_head = q;
        if (!uv_is_active((uv_handle_t *)&net->coalesce))
            uv_timer_start(&net->coalesce, on_coalesce, KZ_OUTQ_COALESCE_MS, 0);
    }
    if (!net->urgent)
        uv_idle_stop(&net->flush_idle); /* poll may sleep: the timer wakes the waiting */
}

void kz_net_init(struct kz_net *net, uv_loop_t *loop)
{
    memset(net, 0, sizeof(*net));
    net->loop = loop;
    uv_check_init(loop, &net->flush_check);
    net->flush_check.data = net;
    uv_check_start(&net->flush_check, on_check);
    uv_unref((uv_handle_t *)&net->flush_check);
    uv_idle_init(loop, &net->flush_idle);
    uv_timer_init(loop, &net->coalesce);
    net->coalesce.data = net;
    uv_unref((uv_handle_t *)&net->coalesce);
    net->started = true;
}

void kz_net_shutdown(struct kz_net *net)
{
    if (!net->started)
        return;
    uv_idle_stop(&net->flush_idle);
    uv_check_stop(&net->flush_check);
    uv_close((uv_handle_t *)&net->flush_idle, NULL);
    uv_close((uv_handle_t *)&net->flush_check, NULL);
    uv_timer_stop(&net->coalesce);
    uv_close((uv_handle_t *)&net->coalesce, NULL);
    net->dirty_head = NULL;
    net->started = false;
    kz_cot_decoder_free(net->decoder);
    net->decoder = NULL;
}

static void mark_dirty(struct kz_outq *q)
{
    struct kz_net *net = q->net;

    if (q->writing)
        return; /* a write in flight re-marks the queue when it ends */
    if (!q->dirty) {
        q->dirty = true;
        q->next_dirty = net->dirty_head;
        net->dirty_head = q;
    }
    if (may_wait(q)) {
        if (!uv_is_active((uv_handle_t *)&net->coalesce))
            uv_timer_start(&net->coalesce, on_coalesce, KZ_OUTQ_COALESCE_MS, 0);
        return;
    }
    net->urgent = true;
    if (!uv_is_active((uv_handle_t *)&net->flush_idle))
        uv_idle_start(&net->flush_idle, on_idle);
}

static void unlink_dirty(struct kz_outq *q)
{
    if (!q->dirty)
        return;
    for (struct kz_outq **p = &q->net->dirty_head; *p; p = &(*p)->next_dirty) {
        if (*p == q) {
            *p = q->next_dirty;
            break;
        }
    }
    q->dirty = false;
    q->next_dirty = NULL;
}

void kz_outq_init(struct kz_outq *q, struct kz_net *net, struct kz_transport *tr, size_t limit,
                  kz_outq_error_cb on_error)
{
    memset(q, 0, sizeof(*q));
    q->net = net;
    q->tr = tr;
    q->limit = limit;
    q->on_error = on_error;
}

static void ring_grow(struct kz_outq *q)
{
    unsigned cap = q->cap ? q->cap * 2 : 16;
    struct kz_rbuf **ring = kz_xmalloc(cap * sizeof(*ring));
    for (unsigned i = 0; i < q->count; i++)
        ring[i] = q->ring[(q->head + i) % q->cap];
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
}

/* `n` queued bytes left the queue: replay drains first (it is queued first). */
static void account(struct kz_outq *q, size_t n)
{
    q->bytes -= n;
    q->exempt -= n < q->exempt ? n : q->exempt;
}

/* Pop fully written buffers after a direct write of `n` bytes. */
static void consume(struct kz_outq *q, size_t n)
{
    account(q, n);
    while (n) {
        struct kz_rbuf *b = q->ring[q->head];
        size_t left = b->len - q->head_off;
        if (n < left) {
            q->head_off += (uint32_t)n;
            return;
        }
        n -= left;
        q->head_off = 0;
        q->head = (q->head + 1) % q->cap;
        q->count--;
        kz_rbuf_unref(b);
    }
}

static unsigned fill_iov(struct kz_outq *q, uv_buf_t *iov)
{
    unsigned n = 0;
    for (; n < q->count && n < KZ_OUTQ_IOV_MAX; n++) {
        struct kz_rbuf *b = q->ring[(q->head + n) % q->cap];
        uint32_t off = n == 0 ? q->head_off : 0;
        iov[n] = uv_buf_init(b->data + off, b->len - off);
    }
    return n;
}

/* Write what the kernel takes now, without waiting (pressure only). */
static void write_now(struct kz_outq *q)
{
    uv_buf_t iov[KZ_OUTQ_IOV_MAX];

    while (!q->writing && q->count) {
        unsigned n = fill_iov(q, iov);
        int rc = q->tr->ops->try_write(q->tr, iov, n);
        if (rc <= 0)
            return;
        consume(q, (size_t)rc);
    }
}

static void enqueue(struct kz_outq *q, struct kz_rbuf *b)
{
    if (q->count == q->cap)
        ring_grow(q);
    q->ring[(q->head + q->count) % q->cap] = kz_rbuf_ref(b);
    q->count++;
    q->bytes += b->len;
    mark_dirty(q);
}

int kz_outq_push(struct kz_outq *q, struct kz_rbuf *b)
{
    if (q->dead)
        return KZ_ERR_CLOSED;
    if (q->bytes - q->exempt + b->len > q->limit)
        write_now(q);
    if (q->bytes - q->exempt + b->len > q->limit)
        return KZ_ERR_TOOBIG;
    enqueue(q, b);
    return KZ_OK;
}

int kz_outq_push_replay(struct kz_outq *q, struct kz_rbuf *b)
{
    if (q->dead)
        return KZ_ERR_CLOSED;
    /* Replay follows at most a response header: counting the exempt bytes
     * as the first to drain is then exact enough. */
    enqueue(q, b);
    q->exempt += b->len;
    return KZ_OK;
}

int kz_outq_push_copy(struct kz_outq *q, const void *data, size_t len)
{
    struct kz_rbuf *b = kz_rbuf_new(data, len);
    int rc = kz_outq_push(q, b);
    kz_rbuf_unref(b);
    return rc;
}

static void release_inflight(struct kz_outq *q)
{
    for (unsigned i = 0; i < q->n_inflight; i++)
        kz_rbuf_unref(q->inflight[i]);
    free(q->inflight);
    q->inflight = NULL;
    account(q, q->inflight_bytes);
    q->inflight_bytes = 0;
    q->n_inflight = 0;
}

/* An idle connection should not keep a ring sized for its largest burst. */
static void drained(struct kz_outq *q)
{
    if (q->cap > 64) {
        free(q->ring);
        q->ring = NULL;
        q->cap = 0;
        q->head = 0;
    }
    if (q->on_drained)
        q->on_drained(q);
}

static void written(struct kz_outq *q, int status)
{
    q->writing = false;
    release_inflight(q);
    if (q->dead)
        return;
    if (status < 0) {
        q->dead = true;
        if (q->on_error)
            q->on_error(q, status);
        return;
    }
    if (q->count)
        mark_dirty(q);
    else
        drained(q);
}

static void on_tr_written(void *ud, int status)
{
    written(ud, status);
}

static void flush_one(struct kz_outq *q)
{
    uv_buf_t iov[KZ_OUTQ_IOV_MAX];
    unsigned n = 0;

    if (q->writing || q->count == 0)
        return;
    /*
     * Most flushes fit in the socket buffer: write directly, and only hand
     * the rest to uv_write, whose completion re-arms the poller each time.
     */
    write_now(q);
    if (q->count == 0) {
        drained(q);
        return;
    }
    n = fill_iov(q, iov);
    q->inflight_bytes = 0;
    q->inflight = kz_xmalloc(n * sizeof(*q->inflight));
    for (unsigned i = 0; i < n; i++) {
        q->inflight[i] = q->ring[q->head];
        q->inflight_bytes += iov[i].len;
        q->head = (q->head + 1) % q->cap;
    }
    q->count -= n;
    q->head_off = 0;
    q->n_inflight = n;
    q->writing = true;
    int rc = q->tr->ops->write(q->tr, iov, n, on_tr_written, q);
    if (rc < 0) {
        q->writing = false;
        release_inflight(q);
        q->dead = true;
        if (q->on_error)
            q->on_error(q, rc);
    }
}

void kz_outq_kill(struct kz_outq *q)
{
    unlink_dirty(q);
    q->dead = true;
    if (q->count)
        consume(q, q->bytes - q->inflight_bytes);
    free(q->ring);
    q->ring = NULL;
    q->cap = 0;
}
