/*
 * outbox.c - store and forward: what a link sends, in order, and what it
 * missed while it was down.
 *
 * A link's outbox is the events log itself, read forward from the link's
 * position: the last event of the log this peer was sent or judged not to
 * be for it.  Where a connection starts is the peer's own word when it is a
 * kizuna node (the last of our events it committed, from the v2 headers),
 * else our cursor for it (fed_cursor, moved with every send).  When a link
 * comes up:
 *
 *   1. the link attaches to the router, and live events that arrive from
 *      now on are held (bounded; past the bound they are dropped and read
 *      from the log instead);
 *   2. a write barrier (the sent log's flush) makes sure every event routed
 *      before has committed;
 *   3. the outbox bounds (federation.outbox: max_age_s, max_bytes) move the
 *      position forward past what is too old or too much;
 *   4. the latest state the peer may see goes out, of every track whose
 *      latest event is at or before the position (the router's replay,
 *      without sequence numbers: it is no part of the log); the tracks
 *      changed since come with the log, in order;
 *   5. the log is read forward from the position in pages, each event
 *      checked by the release rule for the peer as it goes out;
 *   6. the held live events not already sent from the log follow, and the
 *      link is live: each event is sent as it is routed.
 *
 * A live link whose output backs up (half of limits.out_queue_bytes) falls
 * behind the same way: it stops sending live and goes on from the log once
 * the output drains, so a slow partner is neither dropped nor buffered
 * without bound.
 *
 * So the peer receives every event once, in the order of this node's log,
 * the replayed state (older than all of them) first.
 *
 * Every event sent is recorded in the sent log with the time it left (the
 * replay too, without moving the cursor).  A kill -9 loses nothing
 * committed: the log and the cursor are in the store, and a receiving
 * kizuna node says where it stands.
 *
 * A shared log (kz_fed_opts.shared_log: one PostgreSQL for the instances of
 * a cluster).  Its rows are numbered by the database, in the order they
 * commit (store/pg_shared.c), while the router numbers this instance's
 * events alone; and every instance's events are in it.  So a link sends
 * from the log only, never live, and its position, cursor and sent log are
 * the database's numbers: whichever instance owns the link next goes on
 * from the same point, and a kizuna peer's point names the same row on
 * every instance.  The link is not attached to the router (fed.c); step 4
 * reads the latest state at the position from the tracks table (each uid's
 * newest row, numbered by the database too); step 5 is the same; and
 * instead of step 6 the link tails the log: once read to its end, it reads
 * it again every TAIL_MS.  An event reaches the peer at most TAIL_MS and a
 * query after it committed.
 */
#include <stdlib.h>
#include <string.h>

#include "fed/internal.h"

#define PAGE_ROWS 2048
#define HELD_MAX 65536           /* live events held during catch-up */
#define SENT_FLUSH_MS 200        /* the sent log goes to the store this often */
#define SENT_FLUSH_ENTRIES 16384 /* or when this many wait */
#define TAIL_MS 100              /* a shared log is read again this often once read to its end */

/* A store request for the connection of generation `gen` of peer p. */
struct ob_req {
    struct fed_peer *p;
    uint64_t gen;
};

static struct ob_req *req_new(struct fed_conn *c)
{
    struct ob_req *q = kz_xcalloc(1, sizeof(*q));

    q->p = c->peer;
    q->gen = c->ob.gen;
    return q;
}

/* The connection the request was for, when it is still the peer's live one. */
static struct fed_conn *req_conn(struct ob_req *q, int status)
{
    struct fed_conn *c = q->p->conn;

    if (!c || c->closing || c->doomed || c->ob.gen != q->gen || q->p->fed->stopping)
        return NULL;
    if (status != KZ_OK) {
        kz__fed_close(c, "the store could not read the link's outbox");
        return NULL;
    }
    return c;
}

/* ---- the sent log ------------------------------------------------------------------ */

static void record(struct fed_peer *p, uint64_t seq)
{
    if (p->n_log == p->cap_log) {
        p->cap_log = p->cap_log ? 2 * p->cap_log : 1024;
        p->log = kz_xrealloc(p->log, p->cap_log * sizeof(*p->log));
    }
    p->log[p->n_log].seq = seq;
    p->log[p->n_log].sent_us = kz_now_us();
    p->n_log++;
    if (p->n_log >= SENT_FLUSH_ENTRIES)
        kz__fed_sent_flush(p, NULL, NULL);
}

void kz__fed_sent_flush(struct fed_peer *p, kz_store_ack_cb cb, void *ud)
{
    if (!p->fed->store) {
        p->n_log = 0;
        if (cb)
            cb(ud, KZ_OK);
        return;
    }
    if (!p->n_log && p->cursor == p->stored_cursor && !cb)
        return;
    kz_store_fed_sent(p->fed->store, p->conf->name, p->log, p->n_log, p->cursor, cb, ud);
    p->n_log = 0;
    p->stored_cursor = p->cursor;
}

static void flush_tick(uv_timer_t *t)
{
    struct kz_fed *f = t->data;

    for (unsigned i = 0; i < f->n_peers; i++)
        kz__fed_sent_flush(&f->peers[i], NULL, NULL);
}

static void page(struct fed_conn *c);

/* A shared log: every link read to its end reads what committed since. */
static void tail_tick(uv_timer_t *t)
{
    struct kz_fed *f = t->data;

    for (unsigned i = 0; i < f->n_peers; i++) {
        struct fed_conn *c = f->peers[i].conn;
        if (c && c->attached && c->ob.tailing && !c->closing && !c->doomed && !c->ob.wait_write)
            page(c);
    }
}

void kz__fed_outbox_start_timer(struct kz_fed *f)
{
    uv_timer_init(f->loop, &f->flush);
    f->flush.data = f;
    uv_timer_start(&f->flush, flush_tick, SENT_FLUSH_MS, SENT_FLUSH_MS);
    uv_timer_init(f->loop, &f->tail);
    f->tail.data = f;
    if (f->shared_log && f->store)
        uv_timer_start(&f->tail, tail_tick, TAIL_MS, TAIL_MS);
}

void kz__fed_outbox_stop_timer(struct kz_fed *f)
{
    uv_close((uv_handle_t *)&f->flush, NULL);
    uv_close((uv_handle_t *)&f->tail, NULL);
}

/* ---- sending ------------------------------------------------------------------------- */

/* Output beyond which a link stops sending and waits (half of limits.out_queue_bytes). */
static bool backed_up(const struct fed_conn *c)
{
    return kz__fed_conn_backlog(c) > c->fed->out_queue_bytes / 2;
}

/* Hand one encoded event to the connection; false when the link is being dropped. */
static bool send_buf(struct fed_conn *c, struct kz_rbuf *buf)
{
    int rc = c->v1 ? kz__fed_v1_deliver(c, buf) : kz__fed_v2_deliver(c, buf);

    if (rc == KZ_OK && c->v1 && kz__fed_queued(c) > c->fed->out_queue_bytes)
        rc = KZ_ERR_TOOBIG;
    if (rc != KZ_OK) {
        kz__fed_close_later(c);
        return false;
    }
    c->peer->sent++;
    return true;
}

/* An event of the log, in order: sent, recorded, and the position moves. */
static bool send_in_order(struct fed_conn *c, uint64_t seq, struct kz_rbuf *buf)
{
    if (!send_buf(c, buf))
        return false;
    c->ob.pos = seq;
    c->peer->cursor = seq;
    record(c->peer, seq);
    return true;
}

static void held_clear(struct fed_conn *c)
{
    for (size_t i = 0; i < c->ob.n_held; i++)
        kz_rbuf_unref(c->ob.held[i].buf);
    c->ob.n_held = 0;
}

static void hold(struct fed_conn *c, uint64_t seq, struct kz_rbuf *buf)
{
    if (c->ob.overflow)
        return;
    if (c->ob.n_held == HELD_MAX) {
        held_clear(c); /* they are in the log: the pages bring them */
        c->ob.overflow = true;
        return;
    }
    if (c->ob.n_held == c->ob.cap_held) {
        c->ob.cap_held = c->ob.cap_held ? 2 * c->ob.cap_held : 256;
        c->ob.held = kz_xrealloc(c->ob.held, c->ob.cap_held * sizeof(*c->ob.held));
    }
    c->ob.held[c->ob.n_held].seq = seq;
    c->ob.held[c->ob.n_held].buf = kz_rbuf_ref(buf);
    c->ob.n_held++;
}

/*
 * The peer reads slower than events come: stop sending live, and catch up from the log once
 * the output drains, rather than drop the link or grow its queue.
 */
static void fall_behind(struct fed_conn *c)
{
    c->ob.catching_up = true;
    c->ob.overflow = true; /* nothing held: the log has it all */
    held_clear(c);
    kz_log(KZ_LOG_INFO, "federation: link falls behind; it goes on from the log",
           "peer=%s position=%llu", c->peer->conf->name, (unsigned long long)c->ob.pos);
    page(c);
}

int kz__fed_outbox_deliver(struct fed_conn *c, uint64_t seq, bool replay, struct kz_rbuf *buf)
{
    if (replay) {
        if (!send_buf(c, buf))
            return KZ_ERR_TOOBIG;
        record(c->peer, seq);
        return KZ_OK;
    }
    if (c->ob.catching_up) {
        hold(c, seq, buf);
        return KZ_OK;
    }
    if (seq <= c->ob.pos)
        return KZ_OK; /* sent from the log already */
    if (c->fed->store && backed_up(c)) {
        fall_behind(c);
        return KZ_OK;
    }
    return send_in_order(c, seq, buf) ? KZ_OK : KZ_ERR_TOOBIG;
}

/* ---- catching up ------------------------------------------------------------------------ */

static void barrier(struct fed_conn *c);

/* The stored row as the event the router knows, for the release rule and the encoder. */
static bool row_event(struct kz_fed *f, const struct kz_store_row *row, struct kz_event *ev)
{
    if (kz_cot_decode(f->dec, row->xml, row->xml_len, ev, NULL, NULL, 0) != KZ_OK)
        return false;
    ev->seq = row->seq;
    ev->recv_time = row->recv_time;
    ev->origin_input = kz_xstrdup(row->origin_input);
    ev->origin_user = kz_xstrdup(row->origin_user);
    ev->origin_nation = kz_xstrdup(row->origin_nation);
    ev->origin_groups = kz_xstrdup(row->origin_groups);
    free(ev->access);
    ev->access = kz_xstrdup(row->label);
    ev->fed_provenance = kz_xstrdup(row->fed_provenance);
    ev->fed_hops = row->fed_hops;
    ev->fed_max_hops = row->fed_provenance ? row->fed_max_hops : -1;
    return true;
}

static bool send_row(struct fed_conn *c, const struct kz_store_row *row, struct kz_event *ev,
                     struct kz_sbuf *scratch)
{
    struct kz_fed *f = c->fed;
    struct kz_rbuf *buf;
    bool ok = true;

    if (row_event(f, row, ev) && kz_router_visible(f->router, ev, &c->sub, KZ_EXIT_FEDERATION)) {
        kz_sbuf_reset(scratch);
        kz_wire_encode(f->router, KZ_WIRE_FED, ev, scratch);
        buf = kz_rbuf_from_sbuf(scratch);
        ok = send_in_order(c, row->seq, buf);
        kz_rbuf_unref(buf);
    } else {
        c->ob.pos = row->seq; /* not for this link */
        c->peer->cursor = row->seq;
    }
    kz_event_clear(ev);
    return ok;
}

/*
 * The held live events the log did not bring, then the link is live.  A peer that stopped
 * reading meanwhile makes it fall behind again (the log has what was held), never overfill.
 */
static void go_live(struct fed_conn *c)
{
    for (size_t i = 0; i < c->ob.n_held; i++) {
        if (c->ob.held[i].seq <= c->ob.pos)
            continue;
        if (c->fed->store && backed_up(c)) {
            fall_behind(c);
            return;
        }
        if (!send_in_order(c, c->ob.held[i].seq, c->ob.held[i].buf))
            break;
    }
    held_clear(c);
    c->ob.catching_up = false;
    kz_log(KZ_LOG_INFO, "federation: link caught up", "peer=%s sent=%llu position=%llu",
           c->peer->conf->name, (unsigned long long)c->ob.caught_up, (unsigned long long)c->ob.pos);
}

/* A shared log read to its end: read again on the tail timer (the top). */
static void tail(struct fed_conn *c)
{
    if (c->ob.tailing)
        return;
    c->ob.tailing = true;
    c->ob.catching_up = false;
    kz_log(KZ_LOG_INFO, "federation: link caught up; it tails the shared log",
           "peer=%s sent=%llu position=%llu", c->peer->conf->name,
           (unsigned long long)c->ob.caught_up, (unsigned long long)c->ob.pos);
}

static void page_done(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct fed_conn *c = req_conn(ud, status);
    struct kz_sbuf scratch = KZ_SBUF_INIT;
    struct kz_event ev;

    free(ud);
    if (!c)
        return;
    c->ob.reading = false;
    kz_event_init(&ev);
    size_t i;
    for (i = 0; i < n && !backed_up(c); i++) { /* the rest is read again */
        if (!send_row(c, &rows[i], &ev, &scratch))
            break;
        c->ob.caught_up++;
    }
    kz_sbuf_release(&scratch);
    if (c->doomed)
        return;
    if (n && rows[n - 1].seq > c->peer->log_end)
        c->peer->log_end = rows[n - 1].seq;
    if (i < n || n == PAGE_ROWS) {
        page(c);
    } else if (c->fed->shared_log) {
        tail(c);
    } else if (c->ob.overflow) {
        c->ob.overflow = false; /* what was dropped is in the log: read it too */
        barrier(c);
    } else {
        go_live(c);
    }
}

static void page(struct fed_conn *c)
{
    struct kz_store_query q = {.limit = PAGE_ROWS, .forward = true, .after_seq = c->ob.pos};

    if (c->ob.reading)
        return;
    if (backed_up(c)) {
        c->ob.wait_write = true; /* the output drains: kz__fed_outbox_writable() */
        if (c->grpc)
            kz_grpc_notify_writable(c->grpc);
        return;
    }
    c->ob.reading = true;
    kz_store_query(c->fed->store, &q, page_done, req_new(c));
}

void kz__fed_outbox_writable(struct fed_conn *c)
{
    if (c->ob.wait_write && !c->closing && !c->doomed) {
        c->ob.wait_write = false;
        page(c);
    }
}

static void barrier_done(void *ud, int status);

/* ---- a shared log's latest state (see the top) ----------------------------------------- */

static void state_page(struct fed_conn *c);

static void state_done(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct fed_conn *c = req_conn(ud, status);
    struct kz_sbuf scratch = KZ_SBUF_INIT;
    struct kz_event ev;

    free(ud);
    if (!c)
        return;
    kz_event_init(&ev);
    for (size_t i = 0; i < n && !c->doomed; i++) {
        c->ob.state_pos = rows[i].seq;
        if (row_event(c->fed, &rows[i], &ev) &&
            kz_router_visible(c->fed->router, &ev, &c->sub, KZ_EXIT_FEDERATION)) {
            kz_sbuf_reset(&scratch);
            kz_wire_encode(c->fed->router, KZ_WIRE_FED_STATE, &ev, &scratch);
            struct kz_rbuf *buf = kz_rbuf_from_sbuf(&scratch);
            if (send_buf(c, buf))
                record(c->peer, rows[i].seq); /* no part of the log: the cursor stays */
            kz_rbuf_unref(buf);
        }
        kz_event_clear(&ev);
    }
    kz_sbuf_release(&scratch);
    if (c->doomed)
        return;
    if (n == PAGE_ROWS)
        state_page(c);
    else
        page(c);
}

/* The tracks rows at or before the position, oldest first. */
static void state_page(struct fed_conn *c)
{
    struct kz_store_query q = {.limit = PAGE_ROWS,
                               .forward = true,
                               .latest = true,
                               .after_seq = c->ob.state_pos,
                               .before_seq = c->ob.pos + 1};

    kz_store_query(c->fed->store, &q, state_done, req_new(c));
}

/* A peer's point beyond the shared log's end (another database?): from our cursor instead. */
static bool beyond_end(struct fed_conn *c, const struct kz_store_outbox_bound *b)
{
    struct fed_peer *p = c->peer;

    if (c->ob.pos <= b->last_seq)
        return false;
    kz_log(KZ_LOG_WARN, "federation: the peer's resume point is not in this node's log",
           "peer=%s resume=%llu log_end=%llu", p->conf->name, (unsigned long long)c->ob.pos,
           (unsigned long long)b->last_seq);
    c->ob.pos = p->cursor <= b->last_seq ? p->cursor : b->last_seq;
    barrier_done(req_new(c), KZ_OK); /* the bounds again, from there */
    return true;
}

static void bound_done(void *ud, int status, const struct kz_store_outbox_bound *b)
{
    struct fed_conn *c = req_conn(ud, status);

    free(ud);
    if (!c)
        return;
    if (c->fed->shared_log) {
        if (b->last_seq > c->peer->log_end)
            c->peer->log_end = b->last_seq;
        if (beyond_end(c, b))
            return;
    }
    if (b->skipped)
        kz_log(KZ_LOG_WARN, "federation: outbox bounds left events out", "peer=%s events=%llu",
               c->peer->conf->name, (unsigned long long)b->skipped);
    if (b->start_seq > c->ob.pos)
        c->ob.pos = b->start_seq;
    if (!c->ob.replayed && c->ob.pos) { /* from the log's start, the log brings it all */
        c->ob.replayed = true;
        if (c->fed->shared_log) {
            c->ob.state_pos = 0;
            state_page(c);
            return;
        }
        kz_router_replay(c->fed->router, &c->sub, c->ob.pos);
        if (c->doomed)
            return;
    }
    page(c);
}

static void barrier_done(void *ud, int status)
{
    struct fed_conn *c = req_conn(ud, status);
    const struct kz_config_federation *fc = c ? c->fed->cfg->federation : NULL;
    struct kz_store_outbox_bound b = {0};

    free(ud);
    if (!c)
        return;
    b.after_seq = c->ob.pos;
    b.since_us = fc->outbox_max_age_s ? kz_now_us() - fc->outbox_max_age_s * 1000000 : 0;
    b.max_bytes = fc->outbox_max_bytes;
    kz_store_outbox_bound(c->fed->store, &b, bound_done, req_new(c));
}

/* Every event routed so far has committed once the sent log's flush has. */
static void barrier(struct fed_conn *c)
{
    kz__fed_sent_flush(c->peer, barrier_done, req_new(c));
}

void kz__fed_outbox_start(struct fed_conn *c, uint64_t resume)
{
    struct fed_peer *p = c->peer;

    c->ob.gen = ++p->gen;
    c->ob.pos = resume;
    c->ob.catching_up = p->fed->store != NULL;
    c->ob.tailing = false;
    c->ob.replayed = false;
    c->ob.caught_up = 0;
    kz_log(KZ_LOG_INFO, "federation: link resumes", "peer=%s position=%llu cursor=%llu",
           p->conf->name, (unsigned long long)resume, (unsigned long long)p->cursor);
}

void kz__fed_outbox_catch_up(struct fed_conn *c)
{
    if (c->ob.catching_up && !c->closing && !c->doomed)
        barrier(c);
}

void kz__fed_outbox_release(struct fed_conn *c)
{
    held_clear(c);
    KZ_FREE(c->ob.held);
    c->ob.cap_held = 0;
}
