/*
 * router.c - accept events, keep the latest state, fan out.
 *
 * The hot path (kz_router_submit -> fan_out) does one encoding per wire
 * format, one group-set AND per subscriber, and one refcount increment per
 * delivery.  Nothing here blocks; persistence is handed to the store thread.
 */
#include <stdlib.h>
#include <string.h>

#include "route/internal.h"

#define EXPIRE_INTERVAL_MS 5000
#define PONG_STALE_US (20 * 1000000LL)

static void on_expire(uv_timer_t *t)
{
    struct kz_router *r = t->data;
    size_t n = kz__tracks_expire(&r->tracks, kz_now_us());
    if (n)
        kz_log(KZ_LOG_DEBUG, "stale tracks expired", "count=%zu", n);
}

void kz_router_set_max_tracks(struct kz_router *r, unsigned max_tracks)
{
    r->max_tracks = max_tracks ? max_tracks : SIZE_MAX;
}

void kz_router_set_identity_limits(struct kz_router *r, unsigned max_tracks_per_identity,
                                   unsigned max_stale_s)
{
    r->max_tracks_per_identity = max_tracks_per_identity ? max_tracks_per_identity : SIZE_MAX;
    r->max_stale_us = max_stale_s ? (int64_t)max_stale_s * 1000000 : INT64_MAX;
}

struct kz_router *kz_router_new(uv_loop_t *loop, const struct kz_router_opts *opts)
{
    struct kz_router *r = kz_xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->policy = opts->policy;
    r->groups = opts->groups;
    r->user_identity = opts->user_identity;
    r->user_ud = opts->user_ud;
    r->store = opts->store;
    r->inputs = opts->inputs;
    r->n_inputs = opts->n_inputs;
    r->node_id = kz_xstrdup(opts->node_id ? opts->node_id : "kizuna");
    kz_router_set_max_tracks(r, opts->max_tracks);
    kz_router_set_identity_limits(r, opts->max_tracks_per_identity, opts->max_stale_s);
    kz__tracks_init(&r->tracks);
    if (r->store)
        kz_store_on_drain(r->store, kz__router_drained, r);
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
    kz_sbuf_release(&r->key);
    kz_sbuf_release(&r->other_key);
    kz_label_memo_release(&r->labels);
    free(r->node_id);
    free(r->extra);
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

static bool dest_matches(struct kz_router *r, const struct kz_event *ev, const struct kz_sub *to)
{
    for (unsigned i = 0; i < ev->n_dests; i++) {
        const struct kz_dest *d = &ev->dests[i];
        if (d->callsign && to->callsign && strcmp(d->callsign, to->callsign) == 0)
            return true;
        if (d->uid && to->uid && strcmp(d->uid, to->uid) == 0)
            return true;
        if (d->mission && kz__mission_member(r, d->mission, to))
            return true;
    }
    return false;
}

/* One log line per second at most; the counters carry the totals. */
static void log_denial(struct kz_router *r, const struct kz_event *ev, const struct kz_sub *to,
                       enum kz_exit exit, enum kz_deny why)
{
    int64_t sec = kz_mono_us() / 1000000;
    if (sec == r->deny_log_second) {
        r->deny_unlogged++;
        return;
    }
    r->deny_log_second = sec;
    kz_log(KZ_LOG_INFO, "release denied", "uid=%s exit=%s reason=%s to=%s unlogged=%llu", ev->uid,
           kz_exit_name(exit), kz_deny_name(why),
           to->identity && to->identity->user ? to->identity->user : "-",
           (unsigned long long)r->deny_unlogged);
    r->deny_unlogged = 0;
}

/*
 * The one place that decides whether an event may go to a recipient:
 * the group rule, directed delivery, then the release rule on its label.
 * `again`: the subscriber had the event judged once already (its denial counted).
 */
static bool visible(struct kz_router *r, const struct kz_event *ev, const struct kz_label *label,
                    const struct kz_groupset *out, const struct kz_sub *to, enum kz_exit exit,
                    bool again)
{
    enum kz_deny why;

    if (!kz_groupset_meets(out, &to->in))
        return false;
    if (ev->n_dests && !dest_matches(r, ev, to))
        return false;
    if (to->federation && !kz__router_link_may_have(r, ev, to))
        return false;
    r->checks[exit]++;
    if (kz_may_release(label, &to->subject, &why))
        return true;
    r->denials[exit]++;
    r->deny_reasons[why]++;
    if (to->deny_counts && !again)
        to->deny_counts[why]++;
    log_denial(r, ev, to, exit, why);
    return false;
}

/* The sender's nation and OUT groups as recorded with the event when it was accepted. */
static bool recorded_origin(struct kz_router *r, const struct kz_event *ev, struct kz_groupset *out,
                            uint16_t *nation)
{
    unsigned n = 0;
    char **groups = kz_strv_split(ev->origin_groups, &n);
    int rc = kz_groupset_from(r->groups, out, groups, n);

    kz_strv_free(groups, n);
    *nation = kz_nation_index(ev->origin_nation, strlen(ev->origin_nation));
    return rc == KZ_OK && *nation != KZ_NATION_NONE;
}

/*
 * Who sent a stored or queried event: the nation and groups recorded with
 * it.  Events stored before those were recorded: its input's identity, or,
 * on inputs whose identities come from certificates, the sender's own
 * (resolved by user name).  False when neither is known, or the input is
 * gone: nobody sees the event.
 */
bool kz__router_origin_of(struct kz_router *r, const struct kz_event *ev, struct kz_groupset *out,
                          uint16_t *nation)
{
    const struct kz_input *in = kz__router_input(r, ev->origin_input);
    const struct kz_identity *id;
    struct kz_release_subject who;

    if (in && ev->origin_nation)
        return recorded_origin(r, ev, out, nation);
    if (in && in->identity) {
        *out = in->out;
        *nation = in->subject.nation;
        return true;
    }
    if (!in || !r->user_identity || !ev->origin_user ||
        !(id = r->user_identity(r->user_ud, ev->origin_user)))
        return false;
    if (kz_groupset_from(r->groups, out, id->groups_out, id->groups_out_count) ||
        kz_release_subject_from(id, r->policy, &who))
        return false;
    *nation = who.nation;
    return true;
}

/* Parse a stored or queried event's label with the given originator. */
void kz__router_label_of(struct kz_router *r, const struct kz_event *ev, uint16_t originator,
                         struct kz_label *out)
{
    memset(out, 0, sizeof(*out)); /* invalid: releases nothing */
    if (ev->access &&
        kz_label_parse(r->policy, ev->access, strlen(ev->access), out, NULL, 0) == KZ_OK)
        out->originator = originator;
}

bool kz_router_visible(struct kz_router *r, const struct kz_event *ev, const struct kz_sub *to,
                       enum kz_exit exit)
{
    struct kz_groupset out;
    struct kz_label label;
    uint16_t nation;

    if (!kz__router_origin_of(r, ev, &out, &nation))
        return false; /* unknown origin: fail closed */
    kz__router_label_of(r, ev, nation, &label);
    /* Newer than the attach: judged live already, its denial counted then. */
    return visible(r, ev, &label, &out, to, exit, to->attached && ev->seq > to->attach_seq);
}

bool kz_router_has_latest(struct kz_router *r, const struct kz_event *ev)
{
    const struct kz_track *tr = ev->uid ? kz__tracks_get(&r->tracks, ev->uid) : NULL;

    return tr && tr->ev.time == ev->time && tr->ev.type && ev->type &&
           strcmp(tr->ev.type, ev->type) == 0;
}

/* ---- subscribers ------------------------------------------------------ */

/* Groups and release subject; an identity that does not resolve sees nothing. */
static void sub_identity(struct kz_router *r, struct kz_sub *sub)
{
    memset(&sub->in, 0, sizeof(sub->in));
    memset(&sub->out, 0, sizeof(sub->out));
    memset(&sub->subject, 0, sizeof(sub->subject));
    if (sub->input && sub->identity == sub->input->identity) {
        sub->in = sub->input->in;
        sub->out = sub->input->out;
        sub->subject = sub->input->subject;
    } else if (sub->identity) {
        if (kz_groupset_from(r->groups, &sub->in, sub->identity->groups_in,
                             sub->identity->groups_in_count) ||
            kz_groupset_from(r->groups, &sub->out, sub->identity->groups_out,
                             sub->identity->groups_out_count) ||
            kz_release_subject_from(sub->identity, r->policy, &sub->subject)) {
            memset(&sub->in, 0, sizeof(sub->in));
            memset(&sub->subject, 0, sizeof(sub->subject));
        }
    }
}

void kz_sub_viewer_as(struct kz_router *r, struct kz_sub *sub, const struct kz_input *input,
                      const struct kz_identity *id)
{
    memset(sub, 0, sizeof(*sub));
    sub->input = input;
    sub->identity = id;
    sub_identity(r, sub);
}

void kz_sub_viewer(struct kz_router *r, struct kz_sub *sub, const struct kz_input *input)
{
    kz_sub_viewer_as(r, sub, input, input ? input->identity : NULL);
}

struct kz_rbuf *kz__router_track_wire(struct kz_router *r, struct kz_track *tr, enum kz_wire w)
{
    if (!tr->wire[w]) {
        kz_sbuf_reset(&r->scratch);
        kz_wire_encode(r, w, &tr->ev, &r->scratch);
        tr->wire[w] = kz_rbuf_from_sbuf(&r->scratch);
    }
    return tr->wire[w];
}

static void deliver(struct kz_sub *sub, const struct kz_track *tr, struct kz_rbuf *buf)
{
    sub->seq = tr ? tr->ev.seq : 0;
    if (sub->deliver(sub, buf) == KZ_OK) {
        kz_metrics.deliveries++;
        kz_metrics.bytes_out += buf->len;
    }
}

void kz_router_attach(struct kz_router *r, struct kz_sub *sub)
{
    KZ_ASSERT(!sub->attached && sub->deliver);
    sub_identity(r, sub);
    sub->id = ++r->next_sub_id;
    sub->prev = NULL;
    sub->next = r->subs;
    if (r->subs)
        r->subs->prev = sub;
    r->subs = sub;
    sub->attached = true;
    sub->attach_seq = r->last_seq;
    r->n_subs++;
    if (!sub->replay_later)
        kz_router_replay(r, sub, 0);
}

void kz_router_replay(struct kz_router *r, struct kz_sub *sub, uint64_t max_seq)
{
    int64_t now = kz_now_us();
    enum kz_exit exit = sub->federation            ? KZ_EXIT_FEDERATION
                        : sub->wire == KZ_WIRE_SSE ? KZ_EXIT_SSE
                                                   : KZ_EXIT_REPLAY;
    enum kz_wire wire = sub->replay_wire ? sub->replay_wire : sub->wire;

    sub->replaying = true;
    for (struct kz_track *tr = r->tracks.head; tr; tr = tr->next)
        if (tr->ev.stale >= now && (!max_seq || tr->ev.seq <= max_seq) &&
            visible(r, &tr->ev, &tr->label, &tr->out, sub, exit, false))
            deliver(sub, tr, kz__router_track_wire(r, tr, wire));
    sub->replaying = false;
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
    sub->uid_self = false;
    sub->prev = sub->next = NULL;
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
    kz_wire_encode(r, from->wire, &pong, &r->scratch);
    struct kz_rbuf *buf = kz_rbuf_from_sbuf(&r->scratch);
    deliver(from, NULL, buf);
    kz_rbuf_unref(buf);
    kz_event_clear(&pong);
}

void kz__router_forget(struct kz_router *r, const char *uid)
{
    if (!uid)
        return;
    /* Store first: `uid` may belong to the track that is about to be freed. */
    if (r->store)
        kz_store_delete_track(r->store, uid);
    kz__tracks_del(&r->tracks, uid);
}

/* ---- submit and fan-out ---------------------------------------------- */

/* Record the sender with the event: who, and its nation and OUT groups now. */
static void stamp(struct kz_router *r, const struct kz_input *input, const struct kz_sub *from,
                  const struct kz_sub *sender, struct kz_event *ev)
{
    const struct kz_input_conf *conf = input->conf;
    const struct kz_identity *id = from && from->identity ? from->identity : input->identity;

    ev->seq = ++r->last_seq;
    ev->recv_time = kz_now_us();
    free(ev->origin_input);
    ev->origin_input = kz_xstrdup(conf->name);
    free(ev->origin_user);
    ev->origin_user = kz_xstrdup(id && id->user ? id->user : conf->name);
    free(ev->origin_nation);
    ev->origin_nation = kz_xstrdup(kz_nation_code(sender->subject.nation));
    KZ_FREE(ev->origin_groups);
    if (!id)
        return;
    struct kz_sbuf g = KZ_SBUF_INIT;
    for (unsigned i = 0; i < id->groups_out_count; i++) {
        kz_sbuf_adds(&g, i ? "," : "");
        kz_sbuf_adds(&g, id->groups_out[i]);
    }
    ev->origin_groups = kz_sbuf_detach(&g, NULL);
}

/*
 * Deliver to every attached subscriber but the sender.  Encodings are made
 * on first need and shared by every recipient of that wire format.
 */
void kz__router_fan_out(struct kz_router *r, struct kz_track *tr, const struct kz_sub *from,
                        const struct kz_groupset *also_out)
{
    enum kz_exit live = tr->ev.n_dests ? KZ_EXIT_DIRECTED : KZ_EXIT_FANOUT;
    for (struct kz_sub *s = r->subs; s; s = s->next) {
        enum kz_exit exit = s->federation            ? KZ_EXIT_FEDERATION
                            : s->wire == KZ_WIRE_SSE ? KZ_EXIT_SSE
                                                     : live;
        if (s == from || (also_out && !kz_groupset_meets(also_out, &s->in)))
            continue;
        if (visible(r, &tr->ev, &tr->label, &tr->out, s, exit, false))
            deliver(s, tr, kz__router_track_wire(r, tr, s->wire));
    }
}

void kz__router_persist(struct kz_router *r, struct kz_track *tr, kz_store_ack_cb ack, void *ud)
{
    if (!r->store) {
        if (ack)
            ack(ud, KZ_OK);
        return;
    }
    struct kz_rbuf *xml = kz__router_track_wire(r, tr, KZ_WIRE_XML);
    kz_store_append(r->store, &tr->ev, xml->data, xml->len, ack, ud);
}

/*
 * A sender may replace or delete only a track it could receive: otherwise
 * anyone who learned a uid could overwrite or remove another nation's
 * withheld track.  Its own tracks are those of its identity (input, user
 * and nation: kz__owner_key), never of another identity with the same name.
 */
static bool may_touch(struct kz_router *r, const struct kz_sub *from, const char *key,
                      const char *uid)
{
    struct kz_track *tr = uid ? kz__tracks_get(&r->tracks, uid) : NULL;

    if (!tr || strcmp(tr->owner->key, key) == 0)
        return true; /* nothing in state (the store forgets it too), or its own */
    if (kz_groupset_meets(&tr->out, &from->in) && kz_may_release(&tr->label, &from->subject, NULL))
        return true;
    kz_log(KZ_LOG_WARN, "uid of a track the sender may not see; refused", "uid=%s", uid);
    return false;
}

/* Client control messages are answered or consumed by the stream, never events. */
static bool is_client_control(const struct kz_event *ev)
{
    return ev->type && (strncmp(ev->type, "t-x-takp-", 9) == 0 || kz_cot_type_is(ev, "t-x-c-t-r"));
}

/* No stale time beyond max_stale_s from now: state must drain. */
static void clamp_stale(struct kz_router *r, struct kz_event *ev)
{
    int64_t now = kz_now_us();

    if (ev->stale - now <= r->max_stale_us)
        return;
    ev->stale = now + r->max_stale_us;
    if (ev->start > ev->stale)
        ev->start = ev->stale;
}

/* Whether a new uid fits the sender's budget and the whole state. */
static int room_for(struct kz_router *r, const char *key, const char *uid, enum kz_reject *why)
{
    if (kz__tracks_get(&r->tracks, uid))
        return KZ_OK;
    /* Every uid costs memory until it is stale: a sender must not grow it without bound. */
    if (kz__tracks_owned(&r->tracks, key) >= r->max_tracks_per_identity) {
        *why = KZ_REJ_BUDGET;
        return KZ_ERR_DENIED;
    }
    if (r->tracks.count >= r->max_tracks) {
        *why = KZ_REJ_STATE_FULL;
        return KZ_ERR_DENIED;
    }
    return KZ_OK;
}

enum removal { REMOVES_NOTHING, REMOVES_TRACK, REMOVES_FORBIDDEN };

struct removal_plan {
    enum removal what;
    struct kz_groupset out; /* the removed track's groups (REMOVES_TRACK) */
};

/*
 * A delete removes its link uid only when the sender may touch that track.
 * It then carries the roll-up of its own label and the track's (sent,
 * stored and queried so) and reaches only the track's groups: a delete
 * without `access` takes the default label, yet must not carry a NOFORN
 * track's uid and type abroad.  A delete of a track the sender may not see
 * is logged, but removes nothing and reaches no one: it would erase the
 * track from its viewers' screens.
 */
static int plan_removal(struct kz_router *r, const struct kz_sub *sender, const char *key,
                        struct kz_event *ev, struct kz_label *label, struct removal_plan *plan)
{
    struct kz_track *tr = ev->link_uid ? kz__tracks_get(&r->tracks, ev->link_uid) : NULL;

    plan->what = REMOVES_NOTHING;
    if (!tr)
        return KZ_OK;
    if (!may_touch(r, sender, key, ev->link_uid)) {
        plan->what = REMOVES_FORBIDDEN;
        return KZ_OK;
    }
    plan->what = REMOVES_TRACK;
    plan->out = tr->out;
    if (kz_label_aggregate(r->policy, label, &tr->label) != KZ_OK)
        return KZ_ERR_DENIED;
    return kz__router_relabel(r, ev, label);
}

/* Refusals that leave state as it is: claims, room (a delete needs none), the store. */
static int may_add(struct kz_router *r, const struct kz_sub *from, const char *key,
                   const struct kz_event *ev, enum kz_reject *why)
{
    if (!kz__claims_allow(r, from, key, ev)) {
        *why = KZ_REJ_CLAIMED;
        return KZ_ERR_DENIED;
    }
    if (!kz_cot_type_is(ev, "t-x-d-d") && room_for(r, key, ev->uid, why) != KZ_OK)
        return KZ_ERR_DENIED;
    /* Refused, not acknowledged: better than memory growing behind a stalled disk. */
    if (r->store && kz_store_busy(r->store)) {
        *why = KZ_REJ_OVERLOAD;
        return KZ_ERR_DENIED;
    }
    return KZ_OK;
}

/*
 * Every check before an event is accepted: kind, label, ownership, claims,
 * room.  `sender` is `from`, or the input's viewer for REST; `key` is the
 * sender's kz__owner_key.
 */
static int admit(struct kz_router *r, const struct kz_input *input, const struct kz_sub *sender,
                 const struct kz_sub *from, const char *key, struct kz_event *ev,
                 struct kz_label *label, struct removal_plan *plan, enum kz_reject *why)
{
    *why = is_client_control(ev)              ? KZ_REJ_CONTROL
           : kz__mission_refused(r, from, ev) ? KZ_REJ_MISSION
                                              : KZ_REJ__COUNT;
    if (*why != KZ_REJ__COUNT)
        return KZ_ERR_DENIED;
    if (kz__router_label_event(r, input, ev, &sender->subject, label, why) != KZ_OK)
        return KZ_ERR_DENIED;
    if (!may_touch(r, sender, key, ev->uid)) {
        *why = KZ_REJ_CONFLICT;
        return KZ_ERR_DENIED;
    }
    plan->what = REMOVES_NOTHING;
    if (kz_cot_type_is(ev, "t-x-d-d") && plan_removal(r, sender, key, ev, label, plan) != KZ_OK) {
        *why = KZ_REJ_LABEL;
        return KZ_ERR_DENIED;
    }
    return may_add(r, from, key, ev, why);
}

/* A delete is logged and sent, never state. */
static void accept_delete(struct kz_router *r, struct kz_sub *from, struct kz_track *tr,
                          const struct removal_plan *plan)
{
    if (plan->what != REMOVES_FORBIDDEN)
        kz__router_fan_out(r, tr, from, plan->what == REMOVES_TRACK ? &plan->out : NULL);
    if (plan->what == REMOVES_TRACK && strcmp(tr->ev.link_uid, tr->ev.uid) != 0)
        kz__router_forget(r, tr->ev.link_uid);
    kz__router_forget(r, tr->ev.uid);
}

static void accept_event(struct kz_router *r, const struct kz_input *input, struct kz_sub *from,
                         const struct kz_sub *sender, const char *key, struct kz_event *ev,
                         const struct kz_label *label, const struct removal_plan *plan,
                         kz_store_ack_cb ack, void *ack_ud)
{
    bool is_delete = kz_cot_type_is(ev, "t-x-d-d");

    stamp(r, input, from, sender, ev);
    kz_metrics.events_in++;
    struct kz_track *tr = kz__tracks_put(&r->tracks, ev, label, &sender->out, key);
    kz__router_persist(r, tr, ack, ack_ud);
    kz__mission_accepted(r, from, tr);
    if (is_delete) {
        kz__router_tap(r, input, from, key, tr, false); /* before the track is freed */
        accept_delete(r, from, tr, plan);
        return;
    }
    kz__router_fan_out(r, tr, from, NULL);
    bool self = from && from->uid_self;
    if (from)
        kz__claims_learn(from, tr);
    kz__router_tap(r, input, from, key, tr, from && !self && from->uid_self);
}

int kz_router_submit(struct kz_router *r, const struct kz_input *input, struct kz_sub *from,
                     struct kz_event *ev, kz_store_ack_cb ack, void *ack_ud, enum kz_reject *why,
                     uint64_t *seq)
{
    struct kz_label label;
    struct kz_sub viewer;

    if (seq)
        *seq = 0;
    if (kz_cot_type_is(ev, "t-x-c-t")) {
        answer_ping(r, from);
        kz_event_clear(ev);
        if (ack)
            ack(ack_ud, KZ_OK);
        return KZ_OK;
    }
    /* A certificate identity (TLS inputs) sends as itself, not as its input. */
    bool own = from && from->identity && from->identity != input->identity;
    if (!own)
        kz_sub_viewer(r, &viewer, input);
    const struct kz_sub *sender = own ? from : &viewer;
    struct removal_plan plan;
    /* A copy: the key buffer is reused by the checks of other holders. */
    char *key = kz_xstrdup(kz__sender_key(r, input, from, sender->subject.nation, &r->key));
    clamp_stale(r, ev);
    int rc = admit(r, input, sender, from, key, ev, &label, &plan, why);
    if (rc == KZ_OK) {
        if (seq)
            *seq = r->last_seq + 1; /* before persist(): a synchronous ack may read it */
        accept_event(r, input, from, sender, key, ev, &label, &plan, ack, ack_ud);
    }
    free(key);
    return rc;
}

/* ---- state access ----------------------------------------------------- */

void kz_router_foreach_track(struct kz_router *r, const struct kz_sub *viewer, enum kz_exit exit,
                             void (*fn)(void *ud, const struct kz_event *ev), void *ud)
{
    int64_t now = kz_now_us();
    for (struct kz_track *tr = r->tracks.head; tr; tr = tr->next)
        if (tr->ev.stale >= now && visible(r, &tr->ev, &tr->label, &tr->out, viewer, exit, false))
            fn(ud, &tr->ev);
}

void kz_router_foreach_track_after(struct kz_router *r, const struct kz_sub *viewer,
                                   enum kz_exit exit, uint64_t after,
                                   bool (*fn)(void *ud, const struct kz_event *ev), void *ud)
{
    int64_t now = kz_now_us();
    for (struct kz_track *tr = r->tracks.head; tr; tr = tr->next)
        if (tr->ev.seq > after && tr->ev.stale >= now &&
            visible(r, &tr->ev, &tr->label, &tr->out, viewer, exit, false) && !fn(ud, &tr->ev))
            return;
}

void kz_router_foreach_client(struct kz_router *r, const struct kz_sub *viewer, enum kz_exit exit,
                              void (*fn)(void *ud, const struct kz_sub *client,
                                         const struct kz_event *last),
                              void *ud)
{
    for (struct kz_sub *s = r->subs; s; s = s->next) {
        struct kz_track *tr = s->uid ? kz__tracks_get(&r->tracks, s->uid) : NULL;
        if (tr && visible(r, &tr->ev, &tr->label, &tr->out, viewer, exit, false))
            fn(ud, s, &tr->ev);
    }
}

void kz_router_stats(struct kz_router *r, struct kz_router_stats *out)
{
    out->subscribers = r->n_subs;
    out->tracks = r->tracks.count;
    out->last_seq = r->last_seq;
    memcpy(out->checks, r->checks, sizeof(out->checks));
    memcpy(out->denials, r->denials, sizeof(out->denials));
    memcpy(out->deny_reasons, r->deny_reasons, sizeof(out->deny_reasons));
}

/* ---- restore from the store ------------------------------------------ */

struct restore_ctx {
    struct kz_router *r;
    struct kz_cot_decoder *dec;
    size_t loaded, skipped;
};

static void restore_one(void *ud, uint64_t seq, const char *xml, size_t len,
                        const char *stored_label, const struct kz_store_origin *origin)
{
    struct restore_ctx *c = ud;
    struct kz_event ev;
    enum kz_reject why;
    char err[160];

    kz_event_init(&ev);
    if (kz_cot_decode(c->dec, xml, len, &ev, &why, err, sizeof(err)) != KZ_OK) {
        kz_log(KZ_LOG_WARN, "stored track does not decode; skipped", "seq=%llu reason=%s",
               (unsigned long long)seq, kz_reject_name(why));
        c->skipped++;
        return;
    }
    ev.seq = seq;
    if (!ev.access && stored_label)
        ev.access = kz_xstrdup(stored_label);
    ev.origin_input = kz_xstrdup(origin->input);
    ev.origin_user = kz_xstrdup(origin->user);
    ev.origin_nation = kz_xstrdup(origin->nation);
    ev.origin_groups = kz_xstrdup(origin->groups);
    /* A sender that no longer exists has no groups and no label: nobody
     * sees its events. */
    struct kz_groupset out = {{0}};
    struct kz_label label = {0};
    uint16_t nation = KZ_NATION_NONE;
    if (kz__router_origin_of(c->r, &ev, &out, &nation))
        kz__router_label_of(c->r, &ev, nation, &label);
    clamp_stale(c->r, &ev); /* also what was stored before limits.max_stale_s */
    const char *key = kz__owner_key(c->r, origin->input, origin->user, nation, &c->r->key);
    kz__tracks_put(&c->r->tracks, &ev, &label, &out, key);
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

void kz_router_set_wire(struct kz_router *r, enum kz_wire wire, kz_wire_fn fn, void *ud)
{
    KZ_ASSERT(wire < KZ_WIRE__COUNT);
    r->wire_fn[wire] = fn;
    r->wire_ud[wire] = ud;
}

void kz_wire_encode(struct kz_router *r, enum kz_wire wire, const struct kz_event *ev,
                    struct kz_sbuf *out)
{
    switch (wire) {
    case KZ_WIRE_XML:
        kz_cot_encode_xml(ev, out);
        break;
    case KZ_WIRE_PROTO:
        kz_cot_encode_proto(ev, true, out);
        break;
    default:
        if (wire >= KZ_WIRE__COUNT || !r->wire_fn[wire])
            KZ_BUG("wire format without an encoder");
        r->wire_fn[wire](r->wire_ud[wire], ev, out);
        break;
    }
}
