/*
 * router.c - accept events, keep the latest state, fan out.
 *
 * The hot path (kz_router_submit -> fan_out) does one encoding per wire
 * format, one group-set AND per subscriber, and one refcount increment per
 * delivery.  Nothing here blocks; persistence is handed to the store thread.
 */
#include <stdlib.h>
#include <string.h>

#include "route/tracks.h"

#define EXPIRE_INTERVAL_MS 5000
#define PONG_STALE_US (20 * 1000000LL)

struct kz_router {
    uv_loop_t *loop;
    struct kz_store *store;
    const struct kz_input *inputs;
    unsigned n_inputs;
    char *node_id;
    struct kz_tracks tracks;
    struct kz_sub *subs;            /* attached subscribers */
    uint64_t n_subs;
    uint64_t next_sub_id;
    uint64_t last_seq;
    uv_timer_t expire_timer;
    struct kz_sbuf scratch;         /* reused for encoding */
};

static void on_expire(uv_timer_t *t)
{
    struct kz_router *r = t->data;
    size_t n = kz__tracks_expire(&r->tracks, kz_now_us());
    if (n)
        kz_log(KZ_LOG_DEBUG, "stale tracks expired", "count=%zu", n);
}

struct kz_router *kz_router_new(uv_loop_t *loop, const struct kz_router_opts *opts)
{
    struct kz_router *r = kz_xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->store = opts->store;
    r->inputs = opts->inputs;
    r->n_inputs = opts->n_inputs;
    r->node_id = kz_xstrdup(opts->node_id ? opts->node_id : "kizuna");
    kz__tracks_init(&r->tracks);
    uv_timer_init(loop, &r->expire_timer);
    r->expire_timer.data = r;
    uv_timer_start(&r->expire_timer, on_expire, EXPIRE_INTERVAL_MS, EXPIRE_INTERVAL_MS);
    uv_unref((uv_handle_t *)&r->expire_timer);
    return r;
}

static void free_after_close(uv_handle_t *h)
{
    struct kz_router *r = h->data;
    kz__tracks_release(&r->tracks);
    kz_sbuf_release(&r->scratch);
    free(r->node_id);
    free(r);
}

void kz_router_free(struct kz_router *r)
{
    if (!r)
        return;
    while (r->subs)
        kz_router_detach(r, r->subs);
    uv_timer_stop(&r->expire_timer);
    uv_close((uv_handle_t *)&r->expire_timer, free_after_close);
}

/* ---- origin and the recipient check ---------------------------------- */

static const struct kz_input *find_input(struct kz_router *r, const char *name)
{
    if (!name)
        return NULL;
    for (unsigned i = 0; i < r->n_inputs; i++)
        if (strcmp(r->inputs[i].conf->name, name) == 0)
            return &r->inputs[i];
    return NULL;
}

static bool dest_matches(const struct kz_event *ev, const struct kz_sub *to)
{
    for (unsigned i = 0; i < ev->n_dests; i++) {
        const struct kz_dest *d = &ev->dests[i];
        if (d->callsign && to->callsign && strcmp(d->callsign, to->callsign) == 0)
            return true;
        if (d->uid && to->uid && strcmp(d->uid, to->uid) == 0)
            return true;
    }
    return false;
}

/*
 * The one place that decides whether an event may go to a recipient:
 * the group rule, then directed delivery.  The release rule on ev->access
 * joins here (labels).
 */
static bool visible(const struct kz_event *ev, const struct kz_groupset *out,
                    const struct kz_sub *to)
{
    if (!kz_groupset_meets(out, &to->in))
        return false;
    if (ev->n_dests && !dest_matches(ev, to))
        return false;
    return true;
}

bool kz_router_visible(struct kz_router *r, const struct kz_event *ev, const struct kz_sub *to)
{
    const struct kz_input *in = find_input(r, ev->origin_input);
    if (!in)
        return false;   /* unknown origin: fail closed */
    return visible(ev, &in->out, to);
}

/* ---- subscribers ------------------------------------------------------ */

static void sub_groups(struct kz_sub *sub)
{
    if (sub->input && sub->identity == sub->input->identity) {
        sub->in = sub->input->in;
        sub->out = sub->input->out;
    } else if (sub->identity) {
        kz_groupset_from(&sub->in, sub->identity->groups_in, sub->identity->groups_in_count);
        kz_groupset_from(&sub->out, sub->identity->groups_out, sub->identity->groups_out_count);
    } else {
        memset(&sub->in, 0, sizeof(sub->in));
        memset(&sub->out, 0, sizeof(sub->out));
    }
}

void kz_sub_viewer(struct kz_sub *sub, const struct kz_input *input)
{
    memset(sub, 0, sizeof(*sub));
    sub->input = input;
    sub->identity = input ? input->identity : NULL;
    sub_groups(sub);
}

static struct kz_rbuf *track_wire(struct kz_router *r, struct kz_track *tr, enum kz_wire w)
{
    if (!tr->wire[w]) {
        kz_sbuf_reset(&r->scratch);
        kz_wire_encode(w, &tr->ev, &r->scratch);
        tr->wire[w] = kz_rbuf_from_sbuf(&r->scratch);
    }
    return tr->wire[w];
}

static void deliver(struct kz_sub *sub, struct kz_rbuf *buf)
{
    if (sub->deliver(sub, buf) == KZ_OK) {
        kz_metrics.deliveries++;
        kz_metrics.bytes_out += buf->len;
    }
}

void kz_router_attach(struct kz_router *r, struct kz_sub *sub)
{
    int64_t now = kz_now_us();

    KZ_ASSERT(!sub->attached && sub->deliver);
    sub_groups(sub);
    sub->id = ++r->next_sub_id;
    sub->prev = NULL;
    sub->next = r->subs;
    if (r->subs)
        r->subs->prev = sub;
    r->subs = sub;
    sub->attached = true;
    r->n_subs++;
    for (struct kz_track *tr = r->tracks.head; tr; tr = tr->next)
        if (tr->ev.stale >= now && visible(&tr->ev, &tr->out, sub))
            deliver(sub, track_wire(r, tr, sub->wire));
}

void kz_router_detach(struct kz_router *r, struct kz_sub *sub)
{
    if (sub->attached) {
        if (sub->prev)
            sub->prev->next = sub->next;
        else
            r->subs = sub->next;
        if (sub->next)
            sub->next->prev = sub->prev;
        sub->attached = false;
        r->n_subs--;
    }
    KZ_FREE(sub->callsign);
    KZ_FREE(sub->uid);
    sub->prev = sub->next = NULL;
}

/* A subscriber is known by the callsign and uid of its own reports. */
static void learn_identity(struct kz_sub *from, const struct kz_event *ev)
{
    if (ev->callsign && (!from->callsign || strcmp(from->callsign, ev->callsign) != 0)) {
        free(from->callsign);
        from->callsign = kz_xstrdup(ev->callsign);
    }
    if (ev->type[0] == 'a' && ev->type[1] == '-' &&
        (!from->uid || strcmp(from->uid, ev->uid) != 0)) {
        free(from->uid);
        from->uid = kz_xstrdup(ev->uid);
    }
}

/* ---- control messages ------------------------------------------------- */

static void answer_ping(struct kz_router *r, struct kz_sub *from)
{
    struct kz_event pong;
    int64_t now = kz_now_us();

    if (!from)
        return;
    kz_event_init(&pong);
    pong.uid = kz_xstrdup("takPong");
    pong.type = kz_xstrdup("t-x-c-t-r");
    pong.how = kz_xstrdup("h-g-i-g-o");
    pong.time = pong.start = now;
    pong.stale = now + PONG_STALE_US;
    pong.lat = pong.lon = pong.hae = 0;
    kz_sbuf_reset(&r->scratch);
    kz_wire_encode(from->wire, &pong, &r->scratch);
    struct kz_rbuf *buf = kz_rbuf_from_sbuf(&r->scratch);
    deliver(from, buf);
    kz_rbuf_unref(buf);
    kz_event_clear(&pong);
}

static void forget_uid(struct kz_router *r, const char *uid)
{
    if (!uid)
        return;
    /* Store first: `uid` may belong to the track that is about to be freed. */
    if (r->store)
        kz_store_delete_track(r->store, uid);
    kz__tracks_del(&r->tracks, uid);
}

/* ---- submit and fan-out ---------------------------------------------- */

static void stamp(struct kz_router *r, const struct kz_input *input, struct kz_event *ev)
{
    const struct kz_input_conf *conf = input->conf;
    const struct kz_identity *id = input->identity;

    if (!ev->access && conf->default_label)
        ev->access = kz_xstrdup(conf->default_label);
    ev->seq = ++r->last_seq;
    ev->recv_time = kz_now_us();
    free(ev->origin_input);
    ev->origin_input = kz_xstrdup(conf->name);
    free(ev->origin_user);
    ev->origin_user = kz_xstrdup(id && id->user ? id->user : conf->name);
}

/*
 * Deliver to every attached subscriber but the sender.  Encodings are made
 * on first need and shared by every recipient of that wire format.
 */
static void fan_out(struct kz_router *r, struct kz_track *tr, const struct kz_sub *from)
{
    for (struct kz_sub *s = r->subs; s; s = s->next)
        if (s != from && visible(&tr->ev, &tr->out, s))
            deliver(s, track_wire(r, tr, s->wire));
}

static void persist(struct kz_router *r, struct kz_track *tr, kz_store_ack_cb ack, void *ud)
{
    if (!r->store) {
        if (ack)
            ack(ud, KZ_OK);
        return;
    }
    struct kz_rbuf *xml = track_wire(r, tr, KZ_WIRE_XML);
    kz_store_append(r->store, &tr->ev, xml->data, xml->len, ack, ud);
}

int kz_router_submit(struct kz_router *r, const struct kz_input *input, struct kz_sub *from,
                     struct kz_event *ev, kz_store_ack_cb ack, void *ack_ud,
                     enum kz_reject *why)
{
    KZ_UNUSED(why);
    if (from)
        learn_identity(from, ev);
    if (kz_cot_type_is(ev, "t-x-c-t")) {
        answer_ping(r, from);
        kz_event_clear(ev);
        if (ack)
            ack(ack_ud, KZ_OK);
        return KZ_OK;
    }
    stamp(r, input, ev);
    kz_metrics.events_in++;

    bool is_delete = kz_cot_type_is(ev, "t-x-d-d");
    if (is_delete)
        forget_uid(r, ev->link_uid);

    struct kz_track *tr = kz__tracks_put(&r->tracks, ev, &input->out);
    persist(r, tr, ack, ack_ud);
    fan_out(r, tr, from);
    if (is_delete)
        forget_uid(r, tr->ev.uid);  /* a delete is logged and sent, never state */
    return KZ_OK;
}

/* ---- state access ----------------------------------------------------- */

void kz_router_foreach_track(struct kz_router *r, const struct kz_sub *viewer,
                             void (*fn)(void *ud, const struct kz_event *ev), void *ud)
{
    int64_t now = kz_now_us();
    for (struct kz_track *tr = r->tracks.head; tr; tr = tr->next)
        if (tr->ev.stale >= now && visible(&tr->ev, &tr->out, viewer))
            fn(ud, &tr->ev);
}

void kz_router_stats(struct kz_router *r, struct kz_router_stats *out)
{
    out->subscribers = r->n_subs;
    out->tracks = r->tracks.count;
    out->last_seq = r->last_seq;
}

/* ---- restore from the store ------------------------------------------ */

struct restore_ctx {
    struct kz_router *r;
    struct kz_cot_decoder *dec;
    size_t loaded, skipped;
};

static void restore_one(void *ud, uint64_t seq, const char *xml, size_t len, const char *label,
                        const char *origin_input, const char *origin_user)
{
    struct restore_ctx *c = ud;
    struct kz_event ev;
    enum kz_reject why;
    char err[160];

    kz_event_init(&ev);
    const struct kz_input *in = find_input(c->r, origin_input);
    if (kz_cot_decode(c->dec, xml, len, &ev, &why, err, sizeof(err)) != KZ_OK) {
        kz_log(KZ_LOG_WARN, "stored track does not decode; skipped", "seq=%llu reason=%s",
               (unsigned long long)seq, kz_reject_name(why));
        c->skipped++;
        return;
    }
    ev.seq = seq;
    if (!ev.access && label)
        ev.access = kz_xstrdup(label);
    ev.origin_input = kz_xstrdup(origin_input);
    ev.origin_user = kz_xstrdup(origin_user);
    /* An input that no longer exists has no OUT groups: nobody sees it. */
    struct kz_groupset none = {{0}};
    kz__tracks_put(&c->r->tracks, &ev, in ? &in->out : &none);
    c->loaded++;
}

int kz_router_restore(struct kz_router *r)
{
    struct kz_cot_limits lim;
    struct restore_ctx c = {.r = r};
    uint64_t max_seq = 0;

    if (!r->store)
        return KZ_OK;
    kz_cot_limits_default(&lim);
    lim.max_event_bytes = 8u << 20;
    c.dec = kz_cot_decoder_new(&lim);
    int rc = kz_store_load(r->store, kz_now_us(), restore_one, &c, &max_seq);
    kz_cot_decoder_free(c.dec);
    if (rc)
        return rc;
    if (max_seq > r->last_seq)
        r->last_seq = max_seq;
    kz_log(KZ_LOG_INFO, "state restored", "tracks=%zu skipped=%zu last_seq=%llu", c.loaded,
           c.skipped, (unsigned long long)r->last_seq);
    return KZ_OK;
}

/* ---- wire formats ----------------------------------------------------- */

void kz_wire_encode(enum kz_wire wire, const struct kz_event *ev, struct kz_sbuf *out)
{
    switch (wire) {
    case KZ_WIRE_XML:
        kz_cot_encode_xml(ev, out);
        break;
    case KZ_WIRE_SSE:
        kz_sbuf_addf(out, "event: cot\nid: %llu\ndata: ", (unsigned long long)ev->seq);
        kz_cot_encode_json(ev, out);
        kz_sbuf_add(out, "\n\n", 2);
        break;
    default:
        kz__bug(__FILE__, __LINE__, "unknown wire format");
    }
}
