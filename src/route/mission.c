/*
 * mission.c - Data Sync missions as the router sees them (reference B.4):
 * a CoT with <marti><dest mission="X"/></marti> from a stream client whose
 * subscription to X may write reaches X's connected subscribers only
 * (minus the sender: fan_out skips it) and is handed to the mission layer,
 * which adds its uid to X.  Without the hook, or from a sender that may not
 * write, it is refused (KZ_REJ_MISSION) and never broadcast.  Also the
 * mission layer's way out to stream clients: server-made notifications to
 * the clients bound to a uid, each checked by the release rule.
 */
#include <stdlib.h>
#include <string.h>

#include "route/internal.h"

void kz_router_set_missions(struct kz_router *r, const struct kz_router_missions *m)
{
    if (m)
        r->missions = *m;
    else
        memset(&r->missions, 0, sizeof(r->missions));
}

static bool mission_only(const struct kz_event *ev)
{
    for (unsigned i = 0; i < ev->n_dests; i++)
        if (!ev->dests[i].mission || ev->dests[i].callsign || ev->dests[i].uid)
            return false;
    return ev->n_dests > 0;
}

static bool may_write(struct kz_router *r, const struct kz_sub *from, const char *mission)
{
    return r->missions.may_write && from && from->uid &&
           r->missions.may_write(r->missions.ud, from, mission);
}

bool kz__mission_refused(struct kz_router *r, const struct kz_sub *from, const struct kz_event *ev)
{
    if (!mission_only(ev))
        return false;
    for (unsigned i = 0; i < ev->n_dests; i++)
        if (may_write(r, from, ev->dests[i].mission))
            return false;
    return true;
}

bool kz__mission_member(struct kz_router *r, const char *mission, const struct kz_sub *to)
{
    return r->missions.subscribed && to->uid && r->missions.subscribed(r->missions.ud, to, mission);
}

void kz__mission_accepted(struct kz_router *r, const struct kz_sub *from, const struct kz_track *tr)
{
    const struct kz_event *ev = &tr->ev;

    for (unsigned i = 0; r->missions.accepted && i < ev->n_dests; i++)
        if (ev->dests[i].mission && may_write(r, from, ev->dests[i].mission))
            r->missions.accepted(r->missions.ud, from, ev->dests[i].mission, ev, &tr->label);
}

/* ---- the mission layer's way out ------------------------------------------------ */

bool kz_router_track_label(struct kz_router *r, const char *uid, struct kz_label *out)
{
    struct kz_track *tr = uid ? kz__tracks_get(&r->tracks, uid) : NULL;

    if (tr)
        *out = tr->label;
    return tr != NULL;
}

static bool same_label(const struct kz_label *a, const struct kz_label *b)
{
    return a->policy == b->policy && a->level == b->level && a->flags == b->flags &&
           a->caveats == b->caveats && a->originator == b->originator && a->mark == b->mark &&
           a->tetra == b->tetra && memcmp(a->rel, b->rel, sizeof(a->rel)) == 0 &&
           memcmp(a->release, b->release, sizeof(a->release)) == 0 &&
           memcmp(a->origins, b->origins, sizeof(a->origins)) == 0;
}

bool kz_router_track_with(struct kz_router *r, const char *uid, const struct kz_label *label,
                          void (*fn)(void *ud, const struct kz_event *ev), void *ud)
{
    struct kz_track *tr = uid ? kz__tracks_get(&r->tracks, uid) : NULL;

    if (!tr || tr->ev.stale < kz_now_us() || !same_label(&tr->label, label))
        return false;
    fn(ud, &tr->ev);
    return true;
}

void kz_router_foreach_bound(struct kz_router *r, const char *uid,
                             void (*fn)(void *ud, const struct kz_sub *s), void *ud)
{
    for (struct kz_sub *s = r->subs; uid && s; s = s->next)
        if (!s->federation && s->wire != KZ_WIRE_SSE && s->uid && strcmp(s->uid, uid) == 0)
            fn(ud, s);
}

int kz_router_notify(struct kz_router *r, const struct kz_sub *to, const struct kz_event *ev,
                     const struct kz_label *label)
{
    struct kz_sub *s;
    enum kz_deny why;

    for (s = r->subs; s && s != to; s = s->next)
        ;
    if (!s)
        return KZ_ERR_NOTFOUND;
    r->checks[KZ_EXIT_MISSION_NOTIFY]++;
    if (!kz_may_release(label, &s->subject, &why)) {
        r->denials[KZ_EXIT_MISSION_NOTIFY]++;
        r->deny_reasons[why]++;
        return KZ_ERR_DENIED;
    }
    kz_sbuf_reset(&r->scratch);
    kz_wire_encode(r, s->wire, ev, &r->scratch);
    struct kz_rbuf *buf = kz_rbuf_from_sbuf(&r->scratch);
    if (s->deliver(s, buf) == KZ_OK) {
        kz_metrics.deliveries++;
        kz_metrics.bytes_out += buf->len;
    }
    kz_rbuf_unref(buf);
    return KZ_OK;
}
