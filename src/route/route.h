/*
 * route.h - the router: accepts decoded events, keeps the latest state per
 * uid, and fans each event out to the subscribers allowed to receive it.
 *
 * Everything here runs on the loop thread.
 *
 * Delivery: kz_router_submit() serializes an event at most once per wire
 * format into a refcounted buffer and hands that buffer to each recipient's
 * deliver() callback.  Whether a subscriber may receive an event is decided
 * by one function, kz_router_visible(): the group rule (sender's OUT groups
 * meet the recipient's IN groups), directed delivery (marti/dest), and the
 * release rule on the event's label.
 */
#ifndef KZ_ROUTE_H
#define KZ_ROUTE_H

#include <uv.h>

#include "core/core.h"
#include "cot/cot.h"
#include "label/label.h"
#include "store/store.h"

/* ---- groups: names interned to bit indexes --------------------------- */

#define KZ_MAX_GROUPS 256

struct kz_groupset {
    uint64_t w[KZ_MAX_GROUPS / 64];
};

/*
 * The intern table: group names to bit indexes.  It only grows (names are
 * few: teams, nations, missions); one per server, shared by its inputs and
 * router.  Loop thread only.
 */
struct kz_groups {
    char *names[KZ_MAX_GROUPS];
    unsigned n;
};

/* Free the interned names; the table is empty afterwards. */
void kz_groups_release(struct kz_groups *g);

/*
 * Build a set from names, interning new names in g.  Returns KZ_ERR_TOOBIG
 * when more than KZ_MAX_GROUPS distinct names would exist.
 */
int kz_groupset_from(struct kz_groups *g, struct kz_groupset *gs, char *const *names, unsigned n);
bool kz_groupset_meets(const struct kz_groupset *a, const struct kz_groupset *b);

/* ---- inputs: a listener's runtime view of its configuration ---------- */

struct kz_input {
    const struct kz_input_conf *conf;
    const struct kz_identity *identity; /* conf->identity, or NULL (TLS) */
    struct kz_groupset in;              /* from identity->groups_in */
    struct kz_groupset out;             /* from identity->groups_out */
    struct kz_release_subject subject;  /* identity's nation and clearance */
    struct kz_label default_label;      /* originator = identity's nation */
    struct kz_label ceiling;
    bool has_default_label;
    bool has_ceiling;
    bool federated; /* a partner node's link (fed/): what it sends is not sent on, */
    bool relay;     /* unless the link relays and the next one does too */
    int port;       /* bound port, after listen */
};

/*
 * Build an input from its configuration: intern its groups, pre-parse its
 * identity for the release rule, parse its default label and ceiling.
 * Returns KZ_OK or KZ_ERR_CONFIG with a message naming the input in err.
 */
int kz_input_init(struct kz_input *in, const struct kz_input_conf *conf, struct kz_groups *groups,
                  const struct kz_label_policy *policy, char *err, size_t errlen);

/* ---- exits: every place an event leaves the process ------------------- */

/*
 * Each exit passes its id to kz_router_visible(); /metrics counts checks and
 * denials per exit, and tests/docs/exits.sh fails when event data is
 * encoded for output anywhere that is not one of these.
 */
enum kz_exit {
    KZ_EXIT_FANOUT,         /* live CoT stream */
    KZ_EXIT_DIRECTED,       /* marti/dest addressed delivery */
    KZ_EXIT_REPLAY,         /* latest-state replay on connect */
    KZ_EXIT_SSE,            /* GET /api/v1/stream (live and replay) */
    KZ_EXIT_REST_TRACKS,    /* GET /api/v1/tracks */
    KZ_EXIT_REST_EVENTS,    /* GET /api/v1/events */
    KZ_EXIT_MARTI_CLIENTS,  /* GET /Marti/api/clientEndPoints */
    KZ_EXIT_FEDERATION,     /* a federation link to a partner node (live and replay) */
    KZ_EXIT_MISSION_NOTIFY, /* Data Sync notifications (t-x-m-*) to a mission's subscribers */
    KZ_EXIT_MISSION_COT,    /* GET /Marti/api/missions/{name}/cot */
    KZ_EXIT__COUNT
};

const char *kz_exit_name(enum kz_exit e);

/* ---- subscribers ------------------------------------------------------ */

enum kz_wire {
    KZ_WIRE_XML,       /* canonical CoT XML (TAK stream, version 0) */
    KZ_WIRE_SSE,       /* Server-Sent Events: framed by api/stream.c (kz_router_set_wire) */
    KZ_WIRE_PROTO,     /* TAK protocol v1 stream: 0xbf, varint length, TakMessage */
    KZ_WIRE_FED,       /* one FederatedEvent, unframed: set by fed/ (kz_router_set_wire) */
    KZ_WIRE_FED_STATE, /* the same for a link's latest-state replay: no node sequence */
    KZ_WIRE__COUNT
};

struct kz_sub;
struct kz_router;

/*
 * Queue `buf` for the subscriber.  The callee takes its own reference if it
 * keeps the buffer.  It must not detach or free the subscriber from inside
 * this call; to drop a slow consumer it schedules its own close and returns
 * KZ_ERR_TOOBIG.
 */
typedef int (*kz_deliver_fn)(struct kz_sub *sub, struct kz_rbuf *buf);

struct kz_sub {
    /* Set by the owner before kz_router_attach(). */
    const struct kz_identity *identity;
    const struct kz_input *input;
    enum kz_wire wire;
    /* The latest-state replay's wire format when it differs from `wire` (a federation link's
     * replay is no part of its ordered log); KZ_WIRE_XML (0) = the same as wire. */
    enum kz_wire replay_wire;
    /* The owner calls kz_router_replay() itself, later (a federation link, once it knows
     * where its outbox starts); attach replays nothing. */
    bool replay_later;
    kz_deliver_fn deliver;
    /* A federation link: events that came from a federated input are not for it,
     * and its denials are counted here too (by enum kz_deny; may be NULL), once per
     * event: an event newer than the attach was judged live, and kz_router_visible()
     * checking it again (a link reading its log) does not count it twice. */
    bool federation;
    uint64_t *deny_counts;
    /* A federation link that relays (`relay: true`): events from other partners pass on to it,
     * unless `node` (the partner's node id) is on their provenance or their hops are spent. */
    bool relay;
    const char *node;

    /* Maintained by the router. */
    uint64_t id;
    struct kz_groupset in;
    struct kz_groupset out;
    struct kz_release_subject subject;
    char *callsign; /* bound from the subscriber's own accepted position reports */
    char *uid;      /* (route/claims.c); NULL until one was accepted */
    bool uid_self;  /* uid bound from a report with its endpoint or team */
    struct kz_sub *prev, *next;
    bool attached;
    bool replaying;      /* deliver() is called with latest-state replay */
    uint64_t attach_seq; /* the router's last seq when it attached */
    uint64_t seq;        /* the seq of the event deliver() is handed */
};

/*
 * Fill a subscriber that is only used to ask kz_router_visible() (REST
 * handlers).  It is never attached and owns nothing.
 */
void kz_sub_viewer(struct kz_router *r, struct kz_sub *sub, const struct kz_input *input);
/* The same for a connection whose identity is not its input's (a client certificate). */
void kz_sub_viewer_as(struct kz_router *r, struct kz_sub *sub, const struct kz_input *input,
                      const struct kz_identity *id);

/* ---- the router ------------------------------------------------------- */

struct kz_router;

struct kz_router_opts {
    const struct kz_label_policy *policy; /* labels; must outlive the router */
    struct kz_groups *groups;             /* the server's intern table */
    /*
     * Identity of a user by name, for events from inputs whose identities
     * come from certificates (stored or queried events carry only the user
     * name).  May be NULL; the result is borrowed for the call.
     */
    const struct kz_identity *(*user_identity)(void *ud, const char *user);
    void *user_ud;
    struct kz_store *store;        /* may be NULL (no persistence) */
    const struct kz_input *inputs; /* every input, for origin lookup */
    unsigned n_inputs;
    const char *node_id;
    unsigned max_tracks;              /* limits.max_tracks; 0 = no cap */
    unsigned max_tracks_per_identity; /* limits.max_tracks_per_identity; 0 = no cap */
    unsigned max_stale_s;             /* limits.max_stale_s; 0 = no clamp */
};

struct kz_router *kz_router_new(uv_loop_t *loop, const struct kz_router_opts *opts);
void kz_router_free(struct kz_router *r);

/*
 * Flow control for inputs (hold.c).  A reader embeds a kz_router_hold and,
 * after taking a read's events, asks kz_router_hold(): true when the store
 * is behind (kz_store_backlogged) — the reader stops reading, and
 * h->resume(h) runs on the loop once the store has caught up.  `resume`
 * must not ask again synchronously (it restarts reading; the next read
 * asks).  A sender is slowed this way long before events would be refused.
 */
struct kz_router_hold {
    struct kz_router_hold *prev, *next;
    void (*resume)(struct kz_router_hold *h);
    bool held;
};
bool kz_router_hold(struct kz_router *r, struct kz_router_hold *h);
/* Forget a held reader (it closes); nothing when it is not held. */
void kz_router_unhold(struct kz_router *r, struct kz_router_hold *h);
/* Reload: new uids beyond max_tracks (0 = no cap) are refused from now on. */
void kz_router_set_max_tracks(struct kz_router *r, unsigned max_tracks);
/*
 * An input that is not a listener (the server's own, for plans on the map; a
 * federation link's): its events are looked up like any configured input's.
 * `in` must outlive the router.
 */
void kz_router_add_input(struct kz_router *r, const struct kz_input *in);
/*
 * Reload: the budget of current tracks per sending identity and the
 * furthest stale time accepted (later ones are clamped); 0 = none.
 */
void kz_router_set_identity_limits(struct kz_router *r, unsigned max_tracks_per_identity,
                                   unsigned max_stale_s);

/*
 * Rebuild the latest state from the store (startup, before any attach).
 * Returns KZ_OK or the store's error.
 */
int kz_router_restore(struct kz_router *r);

/*
 * Attach a subscriber and replay to it every current, non-stale event it may
 * see (latest-state replay), oldest first; unless it replays later itself.
 */
void kz_router_attach(struct kz_router *r, struct kz_sub *sub);
/* Detach; frees router-owned fields.  Safe on a never-attached sub. */
void kz_router_detach(struct kz_router *r, struct kz_sub *sub);
/* Deliver the latest state the subscriber may see (what attach does), only of the tracks whose
 * latest event is at most max_seq (0: all). */
void kz_router_replay(struct kz_router *r, struct kz_sub *sub, uint64_t max_seq);

/*
 * Accept one decoded event from `input` (and subscriber `from`, NULL for
 * REST).  Takes over the contents of *ev (ev is left cleared).  Labels the
 * event (its `access`, else the input's default label; unparseable, absent
 * or above the input's ceiling is a reject), rewrites `access` in canonical
 * form, clamps `stale` to max_stale_s, assigns seq and recv_time, updates
 * state, hands the event to the store, and fans it out.  Also refused: a
 * client's control message (KZ_REJ_CONTROL), an event addressed to missions
 * only that the sender may not write to (KZ_REJ_MISSION; see
 * kz_router_set_missions), the uid of a track the sender may not see
 * (KZ_REJ_CONFLICT), a uid or callsign another identity holds
 * (KZ_REJ_CLAIMED), and a new uid over the sender's budget (KZ_REJ_BUDGET)
 * or over max_tracks (KZ_REJ_STATE_FULL).  Control types are handled here:
 * t-x-c-t (ping) is answered to `from` only; t-x-d-d removes its link uid
 * and reaches only recipients who may see the track it removes.  An
 * accepted position report of an attached `from` binds its uid and
 * callsign (directed delivery, clientEndPoints).
 *
 * `ack` (may be NULL) is called once the event is committed (KZ_OK) or the
 * store failed; with no store it is called before this returns.  `seq` (may
 * be NULL) receives the event's sequence number before `ack` can run (0 for
 * a ping, which is answered, not stored).
 * Returns KZ_OK, or a reject (KZ_ERR_DENIED with *why set) in which case
 * nothing was stored or delivered and `ack` is not called.
 */
int kz_router_submit(struct kz_router *r, const struct kz_input *input, struct kz_sub *from,
                     struct kz_event *ev, kz_store_ack_cb ack, void *ack_ud, enum kz_reject *why,
                     uint64_t *seq);

/*
 * The one recipient check for events that are not in the latest state
 * (REST queries of the log): the group rule of ev->origin_input, directed
 * delivery, and the release rule on ev->access (re-parsed; originator = the
 * origin input's nation).  Unknown origin or label: false.
 */
/* Is this event (uid, time, type) the latest state of its uid already?  (A federation link's
 * replay of what this node has.) */
bool kz_router_has_latest(struct kz_router *r, const struct kz_event *ev);

bool kz_router_visible(struct kz_router *r, const struct kz_event *ev, const struct kz_sub *to,
                       enum kz_exit exit);

/*
 * Call fn for every current (non-stale) track visible to `viewer` through
 * `exit`, oldest first.  The event is valid only during the call.
 */
void kz_router_foreach_track(struct kz_router *r, const struct kz_sub *viewer, enum kz_exit exit,
                             void (*fn)(void *ud, const struct kz_event *ev), void *ud);
/*
 * The same in pieces (a streamed answer): the tracks whose seq is above
 * `after`, ascending (update order is seq order), until fn returns false.
 * Tracks at or below `after` are skipped before any check, so each track
 * is checked about once per answer however many pieces it takes.
 */
void kz_router_foreach_track_after(struct kz_router *r, const struct kz_sub *viewer,
                                   enum kz_exit exit, uint64_t after,
                                   bool (*fn)(void *ud, const struct kz_event *ev), void *ud);

/*
 * Call fn for every attached subscriber that has reported a position (its
 * uid) whose latest event is visible to `viewer` through `exit`.  Both
 * pointers are valid only during the call; print facts of `last` (the
 * event that was checked), never the subscriber's.
 */
void kz_router_foreach_client(struct kz_router *r, const struct kz_sub *viewer, enum kz_exit exit,
                              void (*fn)(void *ud, const struct kz_sub *client,
                                         const struct kz_event *last),
                              void *ud);

/* Counts for /metrics. */
struct kz_router_stats {
    uint64_t subscribers;
    uint64_t tracks;
    uint64_t last_seq;
    uint64_t checks[KZ_EXIT__COUNT];       /* release-rule checks per exit */
    uint64_t denials[KZ_EXIT__COUNT];      /* ... that said no */
    uint64_t deny_reasons[KZ_DENY__COUNT]; /* all denials by reason */
};
void kz_router_stats(struct kz_router *r, struct kz_router_stats *out);

/* An encoder for one wire format: appends the framed event to out. */
typedef void (*kz_wire_fn)(void *ud, const struct kz_event *ev, struct kz_sbuf *out);
/*
 * Set the encoder of a wire format framed above the router (KZ_WIRE_SSE is
 * set by api/stream.c), before any subscriber of that format attaches.
 */
void kz_router_set_wire(struct kz_router *r, enum kz_wire wire, kz_wire_fn fn, void *ud);

/* Encode an event in a wire format (the router's cache and pongs). */
void kz_wire_encode(struct kz_router *r, enum kz_wire wire, const struct kz_event *ev,
                    struct kz_sbuf *out);

/* ---- other instances of a cluster (route/remote.c) ------------------------------------ */

/* What the tap sees of an accepted event; everything is valid during the call only. */
struct kz_tap {
    const struct kz_input *input;
    const struct kz_sub *from; /* the sending subscriber; NULL: REST or a server input */
    const struct kz_event *ev; /* stamped */
    const struct kz_rbuf *xml; /* its canonical encoding */
    const char *scope;         /* the sender's identity scope: its input's name, or "" */
    bool bound;                /* it binds `from` to its uid (a device's report: a claim) */
    bool first_self;           /* ... by the device's own report, for the first time */
};

/*
 * Called once for every event accepted by kz_router_submit() (any input, REST, the server's
 * own, federation), after it was stamped and handed to the store: the cluster publishes it.
 */
typedef void (*kz_router_tap_fn)(void *ud, const struct kz_tap *t);
/* Set (or with NULL clear) the tap. */
void kz_router_set_tap(struct kz_router *r, kz_router_tap_fn fn, void *ud);

/* How kz_router_apply() takes an event of another instance. */
struct kz_apply {
    bool store;        /* hand it to the store */
    bool bound;        /* its sender's device holds its uid (struct kz_tap.bound) */
    const char *scope; /* the sender's identity scope there (struct kz_tap.scope) */
};

/*
 * Apply an event another instance accepted: it keeps that instance's stamp (origin_input,
 * user, nation, groups, recv_time, label in canonical form) and its sender's identity (`scope`,
 * user, nation: the same owner as there, so a device that moves keeps its tracks), takes this
 * router's next seq, becomes the latest state of its uid unless that is newer (last writer wins
 * on CoT time), holds its uid and callsign for its sender when `bound` (until stale, as a
 * disconnected client's), is stored when `store`, and goes to this instance's subscribers by
 * the same recipient check as every event — but never to the tap.  Its origin_input must
 * resolve to an input added with kz_router_add_input() (a name ending in '/' stands for every
 * name it begins).  A delete removes its link uid.  Takes over *ev (left cleared).  KZ_OK;
 * KZ_ERR_EXISTS when its uid's latest state is as new or newer (nothing done); KZ_ERR_DENIED
 * with *why: KZ_REJ_LABEL (unknown origin or label), KZ_REJ_STATE_FULL (a new uid over
 * limits.max_tracks).
 */
int kz_router_apply(struct kz_router *r, struct kz_event *ev, const struct kz_apply *how,
                    enum kz_reject *why);

/* ---- Data Sync missions (route/mission.c) ------------------------------ */

/*
 * The mission layer's hook, wired by the server.  An event whose dests
 * are all missions is accepted only when `may_write` says its sender (an
 * attached stream client with a bound uid) may write to one of them; it
 * then reaches only the subscribers `subscribed` names (minus the sender),
 * and `accepted` is called once per such mission after it was accepted
 * (before it commits).  Pointers are valid during the call only.
 */
struct kz_router_missions {
    bool (*may_write)(void *ud, const struct kz_sub *from, const char *mission);
    bool (*subscribed)(void *ud, const struct kz_sub *to, const char *mission);
    void (*accepted)(void *ud, const struct kz_sub *from, const char *mission,
                     const struct kz_event *ev, const struct kz_label *label);
    void *ud;
};

/* Set (or with NULL clear) the hook; copied. */
void kz_router_set_missions(struct kz_router *r, const struct kz_router_missions *m);
/* The label of uid's current track; false when the uid is not in state. */
bool kz_router_track_label(struct kz_router *r, const char *uid, struct kz_label *out);
/*
 * Call fn with uid's current track only when its label is exactly `label`
 * (a mission item's label, which the reader already passed), so what fn
 * shows is covered by that check; false when it was not called.
 */
bool kz_router_track_with(struct kz_router *r, const char *uid, const struct kz_label *label,
                          void (*fn)(void *ud, const struct kz_event *ev), void *ud);
/* Call fn for every attached stream client (not SSE, not federation) bound to `uid`. */
void kz_router_foreach_bound(struct kz_router *r, const char *uid,
                             void (*fn)(void *ud, const struct kz_sub *s), void *ud);
/*
 * Deliver a server-made event (a mission notification labelled `label`)
 * to the attached subscriber `to`, if the release rule lets it have it
 * (exit mission_notify).  KZ_OK, KZ_ERR_DENIED or KZ_ERR_NOTFOUND (`to`
 * is not attached).
 */
int kz_router_notify(struct kz_router *r, const struct kz_sub *to, const struct kz_event *ev,
                     const struct kz_label *label);

#endif
