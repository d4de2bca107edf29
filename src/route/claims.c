/*
 * claims.c - identities are bound, never claimed.  A client is known by the
 * uid and callsign of its own position reports, learned only once such a
 * report was accepted.  A uid or callsign belongs to its first holder until
 * that holder has disconnected and its track is stale; another identity
 * that claims it is refused (KZ_REJ_CLAIMED), so directed delivery reaches
 * only the holder.
 */
#include <stdlib.h>
#include <string.h>

#include "route/internal.h"

/* Separates the parts of a key; names from config or certificates hold none. */
#define SEP "\x1f"

const char *kz__owner_key_scoped(const char *scope, const char *user, uint16_t nation,
                                 struct kz_sbuf *buf)
{
    char num[8], *at = num + sizeof(num);
    unsigned n = nation;

    /* Not kz_sbuf_addf(): this runs for every event, and printf costs more than the rest. */
    do
        *--at = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    kz_sbuf_reset(buf);
    kz_sbuf_adds(buf, scope);
    kz_sbuf_adds(buf, SEP);
    kz_sbuf_adds(buf, user ? user : "");
    kz_sbuf_adds(buf, SEP);
    kz_sbuf_add(buf, at, (size_t)(num + sizeof(num) - at));
    return buf->buf;
}

const char *kz__owner_key(struct kz_router *r, const char *input, const char *user, uint16_t nation,
                          struct kz_sbuf *buf)
{
    const struct kz_input *in = kz__router_input(r, input);
    /* Certificate inputs have no identity of their own: the user is the identity. */
    const char *scope = !input || (in && !in->identity) ? "" : input;

    return kz__owner_key_scoped(scope, user, nation, buf);
}

const char *kz__sender_key(struct kz_router *r, const struct kz_input *input,
                           const struct kz_sub *from, uint16_t nation, struct kz_sbuf *buf)
{
    const struct kz_identity *id = from && from->identity ? from->identity : input->identity;
    const char *name = input->conf->name;

    return kz__owner_key(r, name, id && id->user ? id->user : name, nation, buf);
}

static bool is_position(const struct kz_event *ev)
{
    return ev->type && ev->type[0] == 'a' && ev->type[1] == '-';
}

/* A device's own report carries its endpoint or team; a marker it places does not. */
static bool is_self_report(const struct kz_event *ev)
{
    return ev->endpoint || ev->group_name;
}

/* Whether `ev`, once accepted, is the client's own report (binds uid and callsign). */
static bool binds(const struct kz_sub *from, const struct kz_event *ev)
{
    if (!from || !from->attached || !is_position(ev))
        return false;
    return !from->uid || strcmp(from->uid, ev->uid) == 0 || (is_self_report(ev) && !from->uid_self);
}

/*
 * Another connection of the same identity is the same holder: a device
 * reconnecting while its old connection lingers, or devices sharing a tcp
 * input's identity, which receive the same releases anyway.
 */
static bool same_holder(struct kz_router *r, const struct kz_sub *s, const char *key)
{
    return s->input &&
           strcmp(kz__sender_key(r, s->input, s, s->subject.nation, &r->other_key), key) == 0;
}

static bool held_by_track(const struct kz_track *tr, const char *key, int64_t now)
{
    return tr->bound && tr->ev.stale >= now && strcmp(tr->owner->key, key) != 0;
}

static bool uid_held(struct kz_router *r, const struct kz_sub *from, const char *key,
                     const char *uid)
{
    struct kz_track *tr = uid ? kz__tracks_get(&r->tracks, uid) : NULL;

    if (!uid)
        return false;
    /* The common case, a sender updating its own track, needs no scan. */
    if (tr && strcmp(tr->owner->key, key) == 0)
        return false;
    if (tr && held_by_track(tr, key, kz_now_us()))
        return true;
    for (const struct kz_sub *s = r->subs; s; s = s->next)
        if (s != from && s->uid && strcmp(s->uid, uid) == 0 && !same_holder(r, s, key))
            return true;
    return false;
}

static bool callsign_held(struct kz_router *r, const struct kz_sub *from, const char *key,
                          const char *cs)
{
    int64_t now = kz_now_us();

    for (const struct kz_sub *s = r->subs; s; s = s->next)
        if (s != from && s->callsign && strcmp(s->callsign, cs) == 0 && !same_holder(r, s, key))
            return true;
    /* A scan, but only when a client takes a new callsign (connect, rename). */
    for (const struct kz_track *tr = r->tracks.head; tr; tr = tr->next)
        if (tr->ev.callsign && strcmp(tr->ev.callsign, cs) == 0 && held_by_track(tr, key, now))
            return true;
    return false;
}

bool kz__claims_allow(struct kz_router *r, const struct kz_sub *from, const char *key,
                      const struct kz_event *ev)
{
    if (uid_held(r, from, key, ev->uid))
        return false;
    if (kz_cot_type_is(ev, "t-x-d-d") && uid_held(r, from, key, ev->link_uid))
        return false;
    /* The callsign it would take, or one a device's report (not a marker) shows. */
    bool names_client = binds(from, ev) || (is_position(ev) && is_self_report(ev));
    if (!names_client || !ev->callsign)
        return true;
    if (from && from->callsign && strcmp(from->callsign, ev->callsign) == 0)
        return true;
    return !callsign_held(r, from, key, ev->callsign);
}

void kz__claims_learn(struct kz_sub *from, struct kz_track *tr)
{
    const struct kz_event *ev = &tr->ev;

    if (!binds(from, ev))
        return;
    if (!from->uid || strcmp(from->uid, ev->uid) != 0) {
        free(from->uid);
        from->uid = kz_xstrdup(ev->uid);
        KZ_FREE(from->callsign); /* a callsign belongs to the uid it came with */
    }
    from->uid_self = from->uid_self || is_self_report(ev);
    tr->bound = true;
    if (ev->callsign && (!from->callsign || strcmp(from->callsign, ev->callsign) != 0)) {
        free(from->callsign);
        from->callsign = kz_xstrdup(ev->callsign);
    }
}
