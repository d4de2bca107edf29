/*
 * remote.c - the router's side of a cluster: the tap every accepted event passes (the cluster
 * publishes it), and events other instances accepted, applied here without being judged again:
 * the origin admitted, labelled and stamped them.  Only the recipient check runs, for this
 * instance's own subscribers, as for every event.
 */
#include <stdlib.h>
#include <string.h>

#include "route/internal.h"

void kz_router_set_tap(struct kz_router *r, kz_router_tap_fn fn, void *ud)
{
    r->tap = fn;
    r->tap_ud = ud;
}

void kz__router_tap(struct kz_router *r, const struct kz_input *input, const struct kz_sub *from,
                    const char *key, struct kz_track *tr, bool first_self)
{
    char scope[256];
    size_t n = strcspn(key, "\x1f");

    if (!r->tap)
        return;
    if (n >= sizeof(scope))
        n = 0; /* no input name is that long */
    memcpy(scope, key, n);
    scope[n] = '\0';
    r->tap(r->tap_ud, &(struct kz_tap){
                          .input = input,
                          .from = from,
                          .ev = &tr->ev,
                          .xml = kz__router_track_wire(r, tr, KZ_WIRE_XML),
                          .scope = scope,
                          .bound = tr->bound,
                          .first_self = first_self,
                      });
}

/* Last writer wins on CoT time, then start: an older report never replaces a newer one. */
static bool older_or_same(struct kz_router *r, const struct kz_event *ev)
{
    struct kz_track *tr = kz__tracks_get(&r->tracks, ev->uid);

    if (!tr)
        return false;
    if (tr->ev.time != ev->time)
        return tr->ev.time > ev->time;
    return tr->ev.start >= ev->start;
}

/* A delete reaches the removed track's groups only, and removes it (and itself). */
static void apply_delete(struct kz_router *r, struct kz_track *tr)
{
    struct kz_track *gone = tr->ev.link_uid ? kz__tracks_get(&r->tracks, tr->ev.link_uid) : NULL;

    if (gone && gone != tr) {
        struct kz_groupset out = gone->out;
        kz__router_fan_out(r, tr, NULL, &out);
        kz__router_forget(r, tr->ev.link_uid);
    } else {
        kz__router_fan_out(r, tr, NULL, NULL);
    }
    kz__router_forget(r, tr->ev.uid);
}

int kz_router_apply(struct kz_router *r, struct kz_event *ev, const struct kz_apply *how,
                    enum kz_reject *why)
{
    struct kz_groupset out;
    struct kz_label label;
    uint16_t nation;
    int rc = KZ_OK;

    *why = KZ_REJ__COUNT;
    if (!kz__router_origin_of(r, ev, &out, &nation) || !ev->access) {
        *why = KZ_REJ_LABEL;
        rc = KZ_ERR_DENIED;
    } else if (older_or_same(r, ev)) {
        rc = KZ_ERR_EXISTS;
    } else if (!kz__tracks_get(&r->tracks, ev->uid) && r->tracks.count >= r->max_tracks) {
        *why = KZ_REJ_STATE_FULL;
        rc = KZ_ERR_DENIED;
    }
    if (rc == KZ_OK) {
        const struct kz_sbuf *canon;
        if (kz_label_memo_parse(&r->labels, r->policy, ev->access, strlen(ev->access), &label,
                                &canon) != KZ_OK) {
            *why = KZ_REJ_LABEL;
            rc = KZ_ERR_DENIED;
        }
        label.originator = nation;
    }
    if (rc != KZ_OK) {
        kz_event_clear(ev);
        return rc;
    }
    /* The sender's owner key as on its instance: a device that moves keeps its tracks. */
    const char *key =
        kz__owner_key_scoped(how->scope ? how->scope : "", ev->origin_user, nation, &r->key);
    ev->seq = ++r->last_seq;
    struct kz_track *tr = kz__tracks_put(&r->tracks, ev, &label, &out, key);
    tr->bound = how->bound && !kz_cot_type_is(&tr->ev, "t-x-d-d");
    if (how->store)
        kz__router_persist(r, tr, NULL, NULL);
    if (kz_cot_type_is(&tr->ev, "t-x-d-d"))
        apply_delete(r, tr);
    else
        kz__router_fan_out(r, tr, NULL, NULL);
    return KZ_OK;
}
