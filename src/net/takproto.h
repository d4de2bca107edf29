/*
 * takproto.h - TAK protocol streaming frames: 0xbf, an unsigned protobuf
 * varint length, then that many payload bytes (one TakMessage), repeated
 * back to back.  Pure functions; no I/O.
 */
#ifndef KZ_NET_TAKPROTO_H
#define KZ_NET_TAKPROTO_H

#include "core/core.h"

#define KZ_TAKP_MAGIC 0xbf
#define KZ_TAKP_VARINT_MAX 10

/*
 * Parse one frame header at p[0..n).  KZ_OK: *hdr_len bytes of header and a
 * payload of *payload_len follow (the caller checks it has them).
 * KZ_ERR_AGAIN: need more bytes.  KZ_ERR_PARSE: no magic byte or a varint
 * over 10 bytes / 64 bits.  KZ_ERR_TOOBIG: payload over `max`.
 */
int kz_takp_header(const unsigned char *p, size_t n, size_t max, size_t *hdr_len,
                   size_t *payload_len);

/* Write the header for a payload of `len` bytes; returns its length (<= 11). */
size_t kz_takp_put_header(unsigned char *out, uint64_t len);

#endif
