/*
 * stream.c - GET /api/v1/stream: the connection becomes a router
 * subscriber whose wire format is Server-Sent Events, one per CoT event:
 *
 *   event: cot
 *   id: SEQ
 *   data: <GeoJSON Feature>
 *
 * The router serializes each event once per wire format (KZ_WIRE_SSE, with
 * the encoder registered here) and hands the shared buffer to deliver(),
 * which only queues it on the engine's event stream.  Latest-state replay
 * comes first, then live events; both go through the release rule for the
 * caller (KZ_EXIT_SSE).
 *
 * Resume: a request with Last-Event-ID N (what a browser's EventSource sends
 * when it reconnects) gets, instead of the replay, the events of the log
 * after N that the caller may see, in order, then live events:
 *
 *   1. the stream attaches without replay; live events are held from now on
 *      (at most HELD_MAX; past that, step 4 falls back);
 *   2. a store barrier makes sure every event routed before has committed;
 *   3. the log is read forward from N up to the last seq routed before the
 *      attach, each event checked by the release rule as it goes out;
 *   4. the held events follow, and the stream is live.
 *
 * When the log cannot say what was missed (N is beyond this node's last
 * event, the log no longer holds the event after N, more than RESUME_MAX
 * events were missed, or the store failed), the stream falls back to the
 * latest-state replay, as without Last-Event-ID.
 *
 * On a PostgreSQL shared by a cluster's instances (kz_store_shared) the ids
 * are this instance's router's numbers while the log's rows are numbered by
 * the database: an id names no row, and the client may have been served by
 * another instance before.  Last-Event-ID is then not used: the stream
 * starts with the latest-state replay, as without it.
 */
#include <errno.h>
#include <stdlib.h>

#include "api/internal.h"

#define PAGE_ROWS 1000
#define RESUME_MAX 20000 /* events of the log read at most for one resume */
#define HELD_MAX 20000   /* live events held while the log is read */

struct stream {
    struct kz_sub sub; /* first: deliver() gets &sub */
    struct kz_api *api;
    struct kz_http_sse *sse;
    /* Resume (Last-Event-ID) */
    bool catching_up;      /* live events are held */
    bool pending;          /* a store request runs: free on its return once closed */
    bool closed;           /* the connection went */
    bool overflow;         /* held events were dropped: fall back to the replay */
    uint64_t pos;          /* the last seq of the log read */
    uint64_t until;        /* the last seq routed before the attach */
    unsigned scanned;      /* rows of the log read */
    struct kz_rbuf **held; /* live events, in order */
    size_t n_held, cap_held;
};

static void sse_encode(void *ud, const struct kz_event *ev, struct kz_sbuf *out)
{
    (void)ud;
    kz_http_sse_frame_open(out, "cot", ev->seq);
    kz_cot_encode_json(ev, out);
    kz_http_sse_frame_close(out);
}

void kz__api_stream_init(struct kz_api *api)
{
    if (api->router)
        kz_router_set_wire(api->router, KZ_WIRE_SSE, sse_encode, NULL);
}

static int hold(struct stream *st, struct kz_rbuf *buf)
{
    if (st->n_held == HELD_MAX) {
        st->overflow = true;
        return KZ_OK;
    }
    if (st->n_held == st->cap_held) {
        st->cap_held = st->cap_held ? 2 * st->cap_held : 256;
        st->held = kz_xrealloc(st->held, st->cap_held * sizeof(*st->held));
    }
    st->held[st->n_held++] = kz_rbuf_ref(buf);
    return KZ_OK;
}

static int deliver(struct kz_sub *sub, struct kz_rbuf *buf)
{
    struct stream *st = (struct stream *)sub;

    if (st->catching_up)
        return hold(st, buf);
    return kz_http_sse_push(st->sse, buf, sub->replaying);
}

static void drop_held(struct stream *st)
{
    for (size_t i = 0; i < st->n_held; i++)
        kz_rbuf_unref(st->held[i]);
    free(st->held);
    st->held = NULL;
    st->n_held = st->cap_held = 0;
}

static void free_stream(struct stream *st)
{
    drop_held(st);
    free(st);
}

/* The log cannot say what was missed: the latest state instead, then live. */
static void fall_back(struct stream *st)
{
    st->catching_up = false;
    drop_held(st);
    kz_router_replay(st->api->router, &st->sub, 0);
}

/* Caught up: the events held meanwhile, then live. */
static void go_live(struct stream *st)
{
    st->catching_up = false;
    if (st->overflow) {
        fall_back(st);
        return;
    }
    for (size_t i = 0; i < st->n_held; i++)
        if (kz_http_sse_push(st->sse, st->held[i], false) != KZ_OK)
            break;
    drop_held(st);
}

/* Send one row of the log when the caller may see it. */
static void send_row(struct stream *st, const struct kz_store_row *row)
{
    struct kz_router *r = st->api->router;
    struct kz_event ev;
    struct kz_sbuf out = KZ_SBUF_INIT;
    struct kz_rbuf *b;

    kz_event_init(&ev);
    if (kz__api_row_event(st->api, row, &ev) && kz_router_visible(r, &ev, &st->sub, KZ_EXIT_SSE)) {
        kz_wire_encode(r, KZ_WIRE_SSE, &ev, &out);
        b = kz_rbuf_from_sbuf(&out);
        /* Bounded by RESUME_MAX: not held to the live output limit. */
        kz_http_sse_push(st->sse, b, true);
        kz_rbuf_unref(b);
    }
    kz_sbuf_release(&out);
    kz_event_clear(&ev);
}

static void read_page(struct stream *st);

/* One page of the log after st->pos: send it, then the next page, go live or fall back. */
static void page_done(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct stream *st = ud;
    size_t i;

    st->pending = false;
    if (st->closed) {
        free_stream(st);
        return;
    }
    if (status != KZ_OK || (n && st->scanned == 0 && rows[0].seq > st->pos + 1)) {
        fall_back(st); /* the store failed, or the log no longer holds the next event */
        return;
    }
    for (i = 0; i < n && rows[i].seq <= st->until; i++) {
        send_row(st, &rows[i]);
        st->pos = rows[i].seq;
        st->scanned++;
    }
    if (i < n || n < PAGE_ROWS || st->pos >= st->until)
        go_live(st);
    else if (st->scanned >= RESUME_MAX)
        fall_back(st);
    else
        read_page(st);
}

static void read_page(struct stream *st)
{
    struct kz_store_query q = {.limit = PAGE_ROWS, .forward = true, .after_seq = st->pos};

    st->pending = true;
    kz_store_query(st->api->store, &q, page_done, st);
}

static void barrier_done(void *ud, int status)
{
    struct stream *st = ud;

    st->pending = false;
    if (st->closed)
        free_stream(st);
    else if (status != KZ_OK)
        fall_back(st);
    else
        read_page(st);
}

/* The connection is closing: leave the router and go (once a store request returns). */
static void on_close(void *ud)
{
    struct stream *st = ud;

    kz_router_detach(st->api->router, &st->sub);
    st->closed = true;
    if (!st->pending)
        free_stream(st);
}

/* Last-Event-ID: a decimal sequence number; false when absent or anything else. */
static bool last_event_id(struct kz_http_req *req, uint64_t *out)
{
    const char *v = kz_http_header(req, "Last-Event-ID");
    char *end;

    if (!v || *v < '0' || *v > '9')
        return false;
    errno = 0;
    *out = strtoull(v, &end, 10);
    return errno == 0 && *end == '\0';
}

/* Attach: with the latest-state replay, or resuming after `from` (see the top). */
static void attach(struct stream *st, bool resume, uint64_t from)
{
    struct kz_router_stats rs;

    kz_router_stats(st->api->router, &rs);
    if (!resume || !st->api->store || kz_store_shared(st->api->store) || from > rs.last_seq) {
        kz_router_attach(st->api->router, &st->sub);
        return;
    }
    st->sub.replay_later = true;
    st->pos = from;
    st->until = rs.last_seq;
    st->catching_up = from < rs.last_seq;
    kz_router_attach(st->api->router, &st->sub);
    if (!st->catching_up)
        return; /* nothing missed: live */
    st->pending = true;
    kz_store_barrier(st->api->store, barrier_done, st);
}

static void get_stream(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct stream *st;
    uint64_t from = 0;
    bool resume;

    if (!kz__api_need_router(api, req))
        return;
    resume = last_event_id(req, &from);
    st = kz_xcalloc(1, sizeof(*st));
    st->api = api;
    /* The request is gone after kz_http_sse_start(); the caller stays with the connection. */
    st->sub.identity = kz_http_identity(req);
    st->sub.input = kz_http_input(req);
    st->sub.wire = KZ_WIRE_SSE;
    st->sub.deliver = deliver;
    st->sse = kz_http_sse_start(req, on_close, st);
    if (!st->sse) {
        free(st);
        return;
    }
    attach(st, resume, from);
}

static const struct kz_http_route rows[] = {
    {"GET", "/api/v1/stream", get_stream, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_stream_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
