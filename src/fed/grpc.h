/*
 * grpc.h - gRPC over HTTP/2 (nghttp2) on a kz_transport, in the client or the
 * server role.  The engine frames messages (1-byte compressed flag, u32
 * big-endian length) and speaks the grpc-status trailers; nghttp2 does HTTP/2.
 * Loop thread only.
 *
 * Ownership: the engine (struct kz_grpc) is the caller's, freed with
 * kz_grpc_free; it borrows the transport, which must outlive it.  Calls are
 * the engine's.  Client role: a call is valid until its on_end returns.
 * Server role: on_end(c, 0, NULL) says the request stream ended (the call
 * stays valid: answer with kz_grpc_finish); after kz_grpc_finish the caller
 * must not touch the call again; if the stream goes away before that,
 * on_end(c, -1, why) comes and the call is freed when it returns.
 *
 * Output goes through t->ops->write, one write in flight; the rest waits in
 * the engine.  More than KZ_GRPC_HIGH_WATER queued makes kz_grpc_send answer
 * KZ_ERR_AGAIN (the message is queued); on_writable follows once the queue
 * is under KZ_GRPC_LOW_WATER.
 */
#ifndef KZ_FED_GRPC_H
#define KZ_FED_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/transport.h"

#define KZ_GRPC_HIGH_WATER (1u << 20)
#define KZ_GRPC_LOW_WATER (256u << 10)

/* grpc-status codes the engine itself answers with. */
#define KZ_GRPC_OK 0
#define KZ_GRPC_CANCELLED 1
#define KZ_GRPC_RESOURCE_EXHAUSTED 8
#define KZ_GRPC_UNIMPLEMENTED 12
#define KZ_GRPC_INTERNAL 13

struct kz_grpc;      /* one HTTP/2 connection in the client or the server role, over a transport */
struct kz_grpc_call; /* one RPC (an HTTP/2 stream); see the ownership note above */

struct kz_grpc_cbs {
    /* Server role: a new call for `path` ("/com.atakmap.FederatedChannel/HealthCheck").  KZ_OK
     * accepts it (messages follow); anything else answers grpc-status 12 (UNIMPLEMENTED). */
    int (*on_call)(void *ud, struct kz_grpc_call *c, const char *path);
    /* One whole message of a call (de-framed; compressed flag 0 only, else the call fails). */
    void (*on_message)(void *ud, struct kz_grpc_call *c, const uint8_t *msg, size_t len);
    /* The call ended: the peer's grpc-status (0 OK; client role), 0 when the peer half-closed
     * (server role: the request stream ended; answer with kz_grpc_finish), -1 reset or
     * connection gone.  Client role: a received message over max_message ends the call with
     * 8 (RESOURCE_EXHAUSTED), a compressed one with 13 (INTERNAL); the server role answers
     * those itself and reports -1. */
    void (*on_end)(void *ud, struct kz_grpc_call *c, int status, const char *message);
    /* Output drained below the low-water mark after kz_grpc_send said KZ_ERR_AGAIN. */
    void (*on_writable)(void *ud);
};

/* An engine on an established (ready) transport; `client` picks the role.  max_message bounds
 * every received message (larger: the call fails with RESOURCE_EXHAUSTED).  The client sends
 * its connection preface at once. */
struct kz_grpc *kz_grpc_new(bool client, struct kz_transport *t, const struct kz_grpc_cbs *cbs,
                            void *ud, size_t max_message);
/* Client role: the :authority of the calls started after (default "localhost"). */
void kz_grpc_set_authority(struct kz_grpc *g, const char *authority);
/* Plaintext from the transport (its data callback).  KZ_OK; KZ_ERR_PARSE (HTTP/2 error: close);
 * KZ_ERR_CLOSED (the peer said GOAWAY and nothing is left to do: close). */
int kz_grpc_feed(struct kz_grpc *g, const char *data, size_t len);
/* Client role: open a call (HEADERS with :path, content-type application/grpc, te: trailers,
 * and the header hname: hvalue when both are set; names lower case).  NULL when the connection
 * is closing. */
struct kz_grpc_call *kz_grpc_call_start(struct kz_grpc *g, const char *path, const char *hname,
                                        const char *hvalue);
/* Keep the value (up to 63 bytes) of the header `name` (lower case) of every call's received
 * headers: the request's (server role), the response's (client role). */
void kz_grpc_keep_header(struct kz_grpc *g, const char *name);
/* The kept header's value for this call, NULL when it had none (yet). */
const char *kz_grpc_call_header(const struct kz_grpc_call *c);
/* Server role, before the first send: one more response header (copied; name < 32 bytes, value
 * < 64). */
void kz_grpc_call_set_header(struct kz_grpc_call *c, const char *name, const char *value);
/* Queue one message.  KZ_OK; KZ_ERR_AGAIN when more than the high-water mark (1 MiB) is queued
 * (the message IS queued; wait for on_writable before sending more); KZ_ERR_CLOSED. */
int kz_grpc_send(struct kz_grpc_call *c, const void *msg, size_t len);
/* Client role: end the request stream (END_STREAM). */
int kz_grpc_half_close(struct kz_grpc_call *c);
/* Server role: the response HEADERS were sent on first send; finish with trailers grpc-status
 * (message NULL: no grpc-message). */
int kz_grpc_finish(struct kz_grpc_call *c, int status, const char *message);
/* Cancel a call (RST_STREAM CANCEL); on_end follows with -1. */
void kz_grpc_cancel(struct kz_grpc_call *c);
void *kz_grpc_call_data(struct kz_grpc_call *c); /* a pointer the user may set */
void kz_grpc_call_set_data(struct kz_grpc_call *c, void *p);
/* Ask for on_writable once the queue is under the low-water mark (after a write completes),
 * without a send having said KZ_ERR_AGAIN. */
void kz_grpc_notify_writable(struct kz_grpc *g);
/* Bytes queued and not yet handed to the transport's completed writes. */
size_t kz_grpc_queued(const struct kz_grpc *g);
/* GOAWAY, on_end(-1) for every live call, then free (at once, or when the write in flight
 * completes -- closing the transport completes it).  NULL is fine.  Not from a callback
 * raised inside kz_grpc_send/half_close/finish/cancel/call_start (from those of kz_grpc_feed
 * and on_writable it is fine). */
void kz_grpc_free(struct kz_grpc *g);

#endif
