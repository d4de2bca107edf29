/*
 * wire.h - the federation wire: TAK Server's fig.proto messages
 * (FederatedEvent, Subscription, ClientHealth/ServerHealth, FederateGroups)
 * to and from kizuna's types, and the federation v1 stream framing.
 *
 * Ownership: struct kz_fed_meta owns its strings (kz_fed_meta_clear() frees
 * them); encoders append to the caller's kz_sbuf; decoders fill the caller's
 * event and meta, which the caller clears.  No state, no I/O.
 */
#ifndef KZ_FED_WIRE_H
#define KZ_FED_WIRE_H

#include <stdint.h>

#include "cot/cot.h"

#define KZ_FED_MAX_MESSAGE (4u << 20) /* bytes of one message accepted (TAK allows 256 MiB) */
#define KZ_FED_MAX_PROVENANCE 32
#define KZ_FED_MAX_GROUPS 256  /* federateGroups entries accepted */
#define KZ_FED_MAX_DESTS 256   /* ptpUids + ptpCallsigns + missionNames entries accepted */
#define KZ_FED_MAX_STRING 1024 /* bytes of a group name, server id or contact field */

enum kz_fed_kind { KZ_FED_EVENT = 1, KZ_FED_CONTACT_CREATE, KZ_FED_CONTACT_DELETE };

/* Health statuses (ClientHealth / ServerHealth). */
enum { KZ_FED_UNKNOWN = 0, KZ_FED_SERVING = 1, KZ_FED_NOT_SERVING = 2, KZ_FED_NOT_CONNECTED = 3 };
/* Identity types (Identity.ConnectionType). */
enum {
    KZ_FED_HUB_SERVER = 0,
    KZ_FED_HUB_CLIENT = 1,
    KZ_FED_TAK_SERVER = 2,
    KZ_FED_TAK_CLIENT = 3,
};

struct kz_fed_meta {
    char *provenance[KZ_FED_MAX_PROVENANCE]; /* federationServerId of each node passed, oldest first
                                              */
    unsigned n_provenance;
    int64_t hops_current, hops_max; /* federateHops; 0, 0 when absent; max -1 = unlimited */
    char **groups;                  /* federateGroups */
    unsigned n_groups;
    uint64_t seq; /* nodeSequence: the sender's event sequence (kizuna peers); 0 = none */
};
void kz_fed_meta_clear(struct kz_fed_meta *m);

/* One serialized FederatedEvent for `ev` (appended to out): event = GeoEvent (TAK's mapping:
 * typed fields moved out of <detail>, the rest in `other`; access kept), or, for a t-x-d-d, a
 * contact{DELETE, uid = link uid, callsign = link type} as TAK Server sends it; with meta. */
void kz_fed_encode_event(const struct kz_event *ev, const struct kz_fed_meta *meta,
                         struct kz_sbuf *out);
/* contact{op, uid, callsign} (op KZ_FED_CONTACT_CREATE or _DELETE). */
void kz_fed_encode_contact(enum kz_fed_kind op, const char *uid, const char *callsign,
                           const struct kz_fed_meta *meta, struct kz_sbuf *out);
/* Decode one FederatedEvent (len <= KZ_FED_MAX_MESSAGE).  Returns the kind (> 0) with *ev and
 * *meta filled -- KZ_FED_EVENT: the CoT event, checked like any decoded CoT (dec's limits);
 * KZ_FED_CONTACT_DELETE: *ev is the equivalent t-x-d-d (uid "<link uid>.delete", link type from
 * the contact's callsign); KZ_FED_CONTACT_CREATE: ev->uid and ev->callsign only -- or, NEGATED
 * (the kinds and the KZ_ERR_* codes share values), -KZ_ERR_PARSE / -KZ_ERR_TOOBIG with a message
 * in err (ev, meta cleared).  So: rc > 0 a kind, rc < 0 an error.  `ev` must be initialised. */
int kz_fed_decode(struct kz_cot_decoder *dec, const void *buf, size_t len, struct kz_event *ev,
                  struct kz_fed_meta *meta, char *err, size_t errlen);

/* Federation v1 framing: u32 big-endian length + one FederatedEvent. */
void kz_fed_v1_frame(const void *msg, size_t len, struct kz_sbuf *out);
/* Initialise with {KZ_SBUF_INIT, max}; max 0 reads as KZ_FED_MAX_MESSAGE. */
struct kz_fed_v1_reader {
    struct kz_sbuf buf;
    size_t max;
};
/* Feed bytes; for each whole message call fn(ud, msg, len).  KZ_OK, or KZ_ERR_TOOBIG (a length over
 * max: the link is closed).  */
int kz_fed_v1_feed(struct kz_fed_v1_reader *r, const char *data, size_t len,
                   void (*fn)(void *ud, const uint8_t *msg, size_t len), void *ud);
void kz_fed_v1_reader_release(struct kz_fed_v1_reader *r);

/* Other fig.proto messages the link needs, serialized into out / parsed from bytes: */
void kz_fed_encode_subscription(const char *name, const char *uid, const char *server_id,
                                int identity_type, const char *filter, struct kz_sbuf *out);
int kz_fed_decode_subscription(const void *buf, size_t len, char *server_id, size_t cap);
void kz_fed_encode_client_health(int status, struct kz_sbuf *out);  /* ClientHealth */
void kz_fed_encode_server_health(int status, struct kz_sbuf *out);  /* ServerHealth */
int kz_fed_decode_health(const void *buf, size_t len, int *status); /* either; KZ_ERR_PARSE */
void kz_fed_encode_groups(int health_status, char *const *groups, unsigned n,
                          struct kz_sbuf *out); /* FederateGroups */

#endif
