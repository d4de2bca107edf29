/*
 * internal.h - private to src/marti/: the enrollment handlers and the TAK
 * response envelope.  Loop thread only.
 */
#ifndef KZ_MARTI_INTERNAL_H
#define KZ_MARTI_INTERNAL_H

#include "marti/marti.h"
#include "mission/files.h"

void kz__enroll_tls_config(struct kz_http_req *req, void *app);
void kz__enroll_sign(struct kz_http_req *req, void *app);

/* Files (sync.c, upload.c): the handlers, and the upload rows into m->stream_routes. */
void kz__marti_content(struct kz_http_req *req, void *app);
void kz__marti_mission_query(struct kz_http_req *req, void *app);
void kz__marti_upload(struct kz_http_req *req, void *app);
void kz__marti_mission_upload(struct kz_http_req *req, void *app);
void kz__marti_stream_rows(struct kz_marti *m);
/* "https://HOST/Marti/sync/content?hash=HASH" for this request's input and Host. */
void kz__marti_content_url(struct kz_sbuf *out, struct kz_http_req *req, const char *hash);
/* The caller's viewer for the release rule (never NULL: nobody sees nothing labelled). */
const struct kz_sub *kz__marti_viewer(struct kz_marti *m, const struct kz_http_req *req);

/* Append the TAK response envelope's head / tail around `data`. */
void kz__marti_envelope_open(struct kz_sbuf *out, const char *type);
void kz__marti_envelope_close(struct kz_sbuf *out, const char *node_id);

#endif
