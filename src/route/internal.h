/*
 * internal.h - the router's state, shared by the files of src/route only:
 * router.c (submit, fan-out, restore), claims.c (who holds which uid and
 * callsign) and mission.c (Data Sync mission dests and notifications).  Loop thread only.
 */
#ifndef KZ_ROUTE_INTERNAL_H
#define KZ_ROUTE_INTERNAL_H

#include "route/tracks.h"

struct kz_router {
    uv_loop_t *loop;
    const struct kz_label_policy *policy;
    struct kz_groups *groups;
    const struct kz_identity *(*user_identity)(void *ud, const char *user);
    void *user_ud;
    struct kz_store *store;
    const struct kz_input *inputs;
    unsigned n_inputs;
    const struct kz_input **extra; /* kz_router_add_input(), in the order added */
    unsigned n_extra;
    char *node_id;
    struct kz_tracks tracks;
    struct kz_sub *subs; /* attached subscribers */
    uint64_t n_subs;
    uint64_t next_sub_id;
    uint64_t last_seq;
    size_t max_tracks;
    size_t max_tracks_per_identity; /* SIZE_MAX: no budget */
    int64_t max_stale_us;           /* INT64_MAX: stale times are not clamped */
    uv_timer_t expire_timer;
    struct kz_sbuf scratch;             /* reused for encoding */
    struct kz_sbuf key, other_key;      /* reused for owner keys */
    struct kz_label_memo labels;        /* the events' banners, parsed and formatted */
    kz_wire_fn wire_fn[KZ_WIRE__COUNT]; /* formats framed above the router (SSE, FED) */
    void *wire_ud[KZ_WIRE__COUNT];
    uint64_t checks[KZ_EXIT__COUNT];
    uint64_t denials[KZ_EXIT__COUNT];
    uint64_t deny_reasons[KZ_DENY__COUNT];
    struct kz_router_missions missions; /* mission.c: the mission layer's hook (zeroed: none) */
    struct kz_router_hold *holds;       /* hold.c: readers waiting for the store */
    kz_router_tap_fn tap;               /* remote.c: every accepted event (the cluster) */
    void *tap_ud;
    int64_t deny_log_second; /* rate limit for denial log lines */
    uint64_t deny_unlogged;
};

const struct kz_input *kz__router_input(struct kz_router *r, const char *name);
/* hold.c: the store caught up; every held reader resumes. */
void kz__router_drained(void *ud);
/* federation.c: may the federation link `to` have this event (before the release rule)? */
bool kz__router_link_may_have(struct kz_router *r, const struct kz_event *ev,
                              const struct kz_sub *to);

/*
 * The key of a sending identity, for ownership, claims and budgets: the
 * user, its nation, and its input for identities from the configuration
 * (certificate users share one namespace across the TLS inputs).  Written
 * into `buf`; returns buf->buf.
 */
const char *kz__owner_key(struct kz_router *r, const char *input, const char *user, uint16_t nation,
                          struct kz_sbuf *buf);
/* The same with the scope given: the input's name, or "" for a certificate identity. */
const char *kz__owner_key_scoped(const char *scope, const char *user, uint16_t nation,
                                 struct kz_sbuf *buf);
/* The key of whoever sends as `from` on `input` (from may be NULL: REST). */
const char *kz__sender_key(struct kz_router *r, const struct kz_input *input,
                           const struct kz_sub *from, uint16_t nation, struct kz_sbuf *buf);

/*
 * False when `ev` claims what another identity holds: its uid (or the uid a
 * delete removes) is a connected client's own, or the callsign it would
 * bind to `from`, or shows in a device's own report, is held by another
 * client or by a current track of another identity's client.
 */
bool kz__claims_allow(struct kz_router *r, const struct kz_sub *from, const char *key,
                      const struct kz_event *ev);
/*
 * After `tr` was accepted from `from`: bind the client's uid and callsign
 * when tr is its own position report.
 */
void kz__claims_learn(struct kz_sub *from, struct kz_track *tr);

/*
 * router.c, shared with remote.c: who sent a stored or received event (its recorded nation and
 * OUT groups; false: nobody may see it), its label with that originator, a track's encoding in
 * a wire format (cached), storing a track, delivering it to every attached subscriber but
 * `from` (only to those whose IN groups meet also_out, when given), and forgetting a uid.
 */
bool kz__router_origin_of(struct kz_router *r, const struct kz_event *ev, struct kz_groupset *out,
                          uint16_t *nation);
void kz__router_label_of(struct kz_router *r, const struct kz_event *ev, uint16_t originator,
                         struct kz_label *out);
struct kz_rbuf *kz__router_track_wire(struct kz_router *r, struct kz_track *tr, enum kz_wire w);
void kz__router_persist(struct kz_router *r, struct kz_track *tr, kz_store_ack_cb ack, void *ud);
void kz__router_fan_out(struct kz_router *r, struct kz_track *tr, const struct kz_sub *from,
                        const struct kz_groupset *also_out);
void kz__router_forget(struct kz_router *r, const char *uid);
/* remote.c: hand an accepted track to the tap (when set); `key` its sender's owner key. */
void kz__router_tap(struct kz_router *r, const struct kz_input *input, const struct kz_sub *from,
                    const char *key, struct kz_track *tr, bool first_self);

/*
 * mission.c: an event addressed to missions only that no dest lets `from`
 * write to (refused: KZ_REJ_MISSION); whether `to` is a connected
 * subscriber of `mission` (dest_matches); hand an accepted event with
 * mission dests to the mission layer.
 */
bool kz__mission_refused(struct kz_router *r, const struct kz_sub *from, const struct kz_event *ev);
bool kz__mission_member(struct kz_router *r, const char *mission, const struct kz_sub *to);
void kz__mission_accepted(struct kz_router *r, const struct kz_sub *from,
                          const struct kz_track *tr);

/*
 * labels.c: label an event being accepted, its own access or else the
 * input's default, refused (KZ_ERR_DENIED, *why) when it does not parse,
 * is above the input's ceiling or has no canonical form that fits; the
 * event's access becomes that form.  kz__router_relabel: access becomes the
 * canonical form of `label` (KZ_ERR_DENIED when it has none).
 */
int kz__router_label_event(struct kz_router *r, const struct kz_input *input, struct kz_event *ev,
                           const struct kz_release_subject *sender, struct kz_label *label,
                           enum kz_reject *why);
int kz__router_relabel(struct kz_router *r, struct kz_event *ev, const struct kz_label *label);

#endif
