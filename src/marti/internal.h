/*
 * internal.h - private to src/marti/: the enrollment handlers and the TAK
 * response envelope.  Loop thread only.
 */
#ifndef KZ_MARTI_INTERNAL_H
#define KZ_MARTI_INTERNAL_H

#include "marti/marti.h"

void kz__enroll_tls_config(struct kz_http_req *req, void *app);
void kz__enroll_sign(struct kz_http_req *req, void *app);

/* Append the TAK response envelope's head / tail around `data`. */
void kz__marti_envelope_open(struct kz_sbuf *out, const char *type);
void kz__marti_envelope_close(struct kz_sbuf *out, const char *node_id);

#endif
