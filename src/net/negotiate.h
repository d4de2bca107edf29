/*
 * negotiate.h - TAK protocol negotiation on a `tls` CoT stream and the
 * streaming-frame reader used after it.  Loop thread only; no I/O here.
 *
 * After authentication the server offers version 1 (t-x-takp-v).  A client
 * that answers t-x-takp-q with version 1 within KZ_TAKP_WATCH_US gets
 * t-x-takp-r status="true", and from the next byte on both directions carry
 * streaming frames (0xbf, varint length, one TakMessage).  Any other
 * request gets status="false" and the stream stays XML.  Requests are
 * control messages: never routed.
 */
#ifndef KZ_NET_NEGOTIATE_H
#define KZ_NET_NEGOTIATE_H

#include "core/core.h"
#include "cot/cot.h"

#define KZ_TAKP_OFFER "t-x-takp-v"
#define KZ_TAKP_REQUEST "t-x-takp-q"
#define KZ_TAKP_RESPONSE "t-x-takp-r"
/* How long after the offer a request is accepted (TAK Server: 60 s). */
#define KZ_TAKP_WATCH_US (60 * 1000000LL)

/* Append the offer (version 1 and the server version) as XML to `out`. */
void kz_takp_offer(const char *protouid, struct kz_sbuf *out);
/* Append the response to a request (status true/false) as XML to `out`. */
void kz_takp_response(const char *protouid, bool accept, struct kz_sbuf *out);
/* A t-x-takp-q event asks for version 1 (the only one spoken here). */
bool kz_takp_accepts(const struct kz_event *ev);

/* ---- reading streaming frames ------------------------------------------ */

/*
 * One frame's payload (a TakMessage), valid only during the call.  Return
 * KZ_OK to go on; anything else stops the feed, which returns it.
 */
typedef int (*kz_takp_frame_cb)(void *ud, const char *payload, size_t len);

struct kz_takp_reader {
    struct kz_sbuf buf; /* a partial frame: at most header + max + one read */
    size_t max;         /* payload limit */
    char why[96];       /* the last framing error, for the log */
};

void kz_takp_reader_init(struct kz_takp_reader *r, size_t max_payload);
void kz_takp_reader_release(struct kz_takp_reader *r);

/*
 * Feed stream bytes; calls cb once per complete frame, in order.  Returns
 * KZ_OK, cb's status, or a framing error with r->why set: KZ_ERR_PARSE (no
 * 0xbf where a frame starts, or a varint over 10 bytes / 64 bits),
 * KZ_ERR_TOOBIG (payload over the limit).  After an error the stream cannot
 * be resynchronised: close it.
 */
int kz_takp_reader_feed(struct kz_takp_reader *r, const char *data, size_t n, kz_takp_frame_cb cb,
                        void *ud);

#endif
