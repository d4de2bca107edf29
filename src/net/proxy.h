/*
 * proxy.h - the PROXY protocol (versions 1 and 2) on inputs with
 * `proxy_protocol: true`: kizuna behind an L4 load balancer (HAProxy in
 * `mode tcp`, `send-proxy` / `send-proxy-v2`) that passes TLS through and
 * prepends the real client's address.  Loop thread only.
 *
 * Every connection of such an input must begin with a header; it is read
 * off the socket (and nothing after it: the TLS ClientHello or the HTTP
 * request stays in the kernel for the input's protocol) before the
 * connection is handed on, with the address it names as the peer's.  A
 * missing, malformed, oversized or late header closes the connection, with
 * a log line and kz_metrics.proxy_refusals.
 */
#ifndef KZ_NET_PROXY_H
#define KZ_NET_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/core.h"

#define KZ_PROXY_V1_MAX 107      /* the longest v1 line, CRLF included (the spec's bound) */
#define KZ_PROXY_V2_HEAD 16      /* signature, version/command, family, length */
#define KZ_PROXY_V2_MAX_LEN 1024 /* addresses and TLVs: longer is refused */
#define KZ_PROXY_MAX (KZ_PROXY_V2_HEAD + KZ_PROXY_V2_MAX_LEN)
#define KZ_PROXY_HEADER_MS 5000   /* the header must be complete within this */
#define KZ_PROXY_PENDING_MAX 1024 /* connections of one input waiting for theirs */

/* ---- the parser (proxy.c): pure, no I/O --------------------------------- */

struct kz_proxy_hdr {
    size_t len;  /* bytes of the header, all of them to be consumed */
    int version; /* 1 or 2 */
    /*
     * No address to take: a v2 LOCAL command (the balancer's own health
     * check), v2 family UNSPEC, v1 UNKNOWN.  The connection keeps the
     * socket's own peer address; src and dst are zeroed.
     */
    bool local;
    struct sockaddr_storage src, dst; /* AF_INET or AF_INET6, ports set */
};

/*
 * Parse the header at the start of buf[0..n) (the bytes read so far).
 * Returns
 *   KZ_OK          a complete header: *h filled, h->len bytes long
 *   KZ_ERR_AGAIN   a valid beginning; nothing more can be told without more bytes
 *   KZ_ERR_PARSE   not a PROXY header, or a malformed one
 *   KZ_ERR_TOOBIG  v1 without CRLF within KZ_PROXY_V1_MAX bytes, or a v2
 *                  length over KZ_PROXY_V2_MAX_LEN
 * On error `why` (may be NULL) says what is wrong.  Bytes after the header
 * are never looked at: on KZ_ERR_AGAIN every byte of buf belongs to the
 * header.
 */
int kz_proxy_parse(const void *buf, size_t n, struct kz_proxy_hdr *h, char *why, size_t whylen);

/* ---- waiting for the header (proxy_wait.c) ------------------------------ */

struct kz_input;
struct kz_proxy_conn;

/* The header is read: the connection goes on with `peer` (borrowed for the call). */
typedef void (*kz_proxy_done_cb)(void *ud, uv_os_sock_t fd, const struct sockaddr *peer);

/*
 * The connections of one input waiting for their header.  Owned by the
 * listener; kz_proxy_waits_stop() closes them, and `drained` is called once
 * the last one is freed (at once when none waits).
 */
struct kz_proxy_waits {
    uv_loop_t *loop;
    struct kz_input *input; /* its conf->name, read at each log line (reload swaps conf) */
    kz_proxy_done_cb done;
    void (*drained)(void *ud);
    void *ud;
    struct kz_proxy_conn *head;
    unsigned count;   /* waiting, at most KZ_PROXY_PENDING_MAX */
    unsigned freeing; /* closed, handles not yet gone */
    bool stopping;
    int64_t log_second; /* refusals logged per second, at most a few */
    unsigned logged, quiet;
};

/*
 * Wait (at most KZ_PROXY_HEADER_MS) for the header of accepted socket `fd`,
 * whose peer is `sock_peer` (the balancer).  Takes `fd`: it is handed to
 * w->done, or closed.
 */
void kz_proxy_wait(struct kz_proxy_waits *w, uv_os_sock_t fd, const struct sockaddr *sock_peer);

/* Close every waiting connection; w->drained(w->ud) once all are freed. */
void kz_proxy_waits_stop(struct kz_proxy_waits *w);

#endif
