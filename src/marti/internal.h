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

/* ---- Data Sync missions (missions.c, mission_subs.c, mission_items.c) ---- */

/* Everything a mission route needs to know about its caller. */
struct kz__mcaller {
    const struct kz_identity *id;         /* may be NULL */
    const struct kz_sub *view;            /* never NULL */
    const struct kz_release_subject *who; /* &view->subject */
    bool admin;                           /* holds the admin role: MISSION_OWNER everywhere */
    bool has_token;                       /* a valid bearer token came with the request */
    struct kz_mission_token_claims token;
};

void kz__mission_caller(struct kz_marti *m, struct kz_http_req *req, struct kz__mcaller *c);
/* A query or path parameter of a mission route; NULL when absent or not valid UTF-8 (JSON
 * and the stored documents hold only valid UTF-8). */
const char *kz__mission_param(const struct kz_http_req *req, const char *name);
const char *kz__mission_path(const struct kz_http_req *req, const char *name);
/* May the caller see the mission at all (its label and groups)? */
bool kz__mission_visible(const struct kz_mission *mi, const struct kz__mcaller *c);
/*
 * The mission named by the path's {name}, if the caller may see it and its
 * role for this request holds every bit of `perms` (0: seeing is enough);
 * NULL after answering 503, 404 (unknown or hidden) or 403.
 */
struct kz_mission *kz__mission_for(struct kz_marti *m, struct kz_http_req *req,
                                   const struct kz__mcaller *c, unsigned perms,
                                   enum kz_mission_role *role);
/*
 * Routes that take the mission's `password` call this before deciding a
 * role: true when the password is being checked off the loop (return; the
 * handler runs again with the result).
 */
bool kz__mission_password_first(struct kz_marti *m, struct kz_http_req *req,
                                const struct kz__mcaller *c, kz_http_handler again);
/* Answer TAK's envelope around `data` (taken) as application/json. */
void kz__mission_respond(struct kz_marti *m, struct kz_http_req *req, int status, const char *type,
                         json_t *data);
/* The envelope's text (malloc'd). */
char *kz__mission_envelope(struct kz_marti *m, const char *type, json_t *data);
/* A view of `mi` for the caller. */
struct kz_mission_view kz__mission_view(struct kz_marti *m, const struct kz__mcaller *c);

/*
 * A mission change in flight: the model has changed; the mission's document
 * and its new changes are committed, and only then is the request answered
 * and are the notifications sent.  new() holds the request (NULL: a change
 * from a CoT stream) and marks the mission's change log; run() commits and
 * frees the task (mi NULL: the mission `guid` was deleted).
 */
struct kz__mcommit;
struct kz__mcommit *kz__mcommit_new(struct kz_marti *m, struct kz_http_req *req,
                                    const struct kz_mission *mi);
/* The answer, sent after COMMIT: the envelope around data (taken), or with type NULL no body. */
void kz__mcommit_answer(struct kz__mcommit *t, int status, const char *type, json_t *data);
/* A notification (ev taken) for the clients bound to client_uid, released per client by label. */
void kz__mcommit_notify(struct kz__mcommit *t, const char *client_uid, struct kz_event *ev,
                        const struct kz_label *label);
/* t-x-m-c for every change logged since new(), to every live subscriber. */
void kz__mcommit_changes(struct kz__mcommit *t, const struct kz_mission *mi, const char *author);
void kz__mcommit_run(struct kz__mcommit *t, const struct kz_mission *mi, const char *guid);
/* Nothing changed after all: free the task, nothing committed, answered or sent. */
void kz__mcommit_drop(struct kz__mcommit *t);
/* Another instance committed the change (mission_reload.c): send the notices now, free t. */
void kz__mcommit_deliver(struct kz__mcommit *t);

/* mission_items.c: the label of an item: its track's, its file's, else the mission's; banner
 * in `out`. */
struct kz_label kz__mission_item_label(struct kz_marti *m, const struct kz_mission *mi,
                                       const char *data, bool is_hash, struct kz_sbuf *out);
/* mission_package.c: PUT .../contents/missionpackage. */
void kz__mission_package(struct kz_http_req *req, void *app);

/* mission_commit.c: the details of a mission uid from the router (kz_mission_uids). */
bool kz__mission_uid_details(void *ud, const char *uid, const struct kz_label *label,
                             struct kz_mission_uid_details *out);

/*
 * mission_password.c: the request's `password` against `hash` (NULL: make
 * a hash of it, found in m->pw_hash), on the thread pool.  NONE: no
 * password given.  PENDING: the work is queued (or refused, answered):
 * return; `again(req, m)` runs once it is done.  OK or BAD: this is that
 * run, and the password matched (or the hash was made) or not.
 */
enum kz__pw { KZ__PW_NONE, KZ__PW_PENDING, KZ__PW_OK, KZ__PW_BAD };
enum kz__pw kz__mission_password(struct kz_marti *m, struct kz_http_req *req, const char *hash,
                                 kz_http_handler again);

/* missions.c: the mission route rows, for kz_marti_init. */
void kz__marti_mission_rows(const struct kz_http_route **out, size_t *n);

/* mission_subs.c and mission_items.c: their handlers, listed in missions.c's rows. */
void kz__mission_subscribe(struct kz_http_req *req, void *app);
void kz__mission_unsubscribe(struct kz_http_req *req, void *app);
void kz__mission_subscription(struct kz_http_req *req, void *app);
void kz__mission_subscriptions(struct kz_http_req *req, void *app);
void kz__mission_subscription_roles(struct kz_http_req *req, void *app);
void kz__mission_role_get(struct kz_http_req *req, void *app);
void kz__mission_role_set(struct kz_http_req *req, void *app);
void kz__mission_invite(struct kz_http_req *req, void *app);
void kz__mission_uninvite(struct kz_http_req *req, void *app);
void kz__mission_invitations(struct kz_http_req *req, void *app);
void kz__mission_contents_add(struct kz_http_req *req, void *app);
void kz__mission_contents_remove(struct kz_http_req *req, void *app);
void kz__mission_changes(struct kz_http_req *req, void *app);
void kz__mission_cot(struct kz_http_req *req, void *app);
void kz__mission_log(struct kz_http_req *req, void *app);
void kz__mission_log_post(struct kz_http_req *req, void *app);
void kz__mission_log_get(struct kz_http_req *req, void *app);
void kz__mission_log_delete(struct kz_http_req *req, void *app);
/* A time query parameter (ISO 8601) or `secago` into a window start; 0: none. */
int64_t kz__mission_window_start(struct kz_http_req *req);
int64_t kz__mission_time_param(struct kz_http_req *req, const char *name);
/* A notice without content (t-x-m-n, t-x-m-d) to every live subscriber, labelled as the mission. */
void kz__mission_announce(struct kz__mcommit *t, const struct kz_mission *mi, const char *cot_type,
                          const char *type, const char *author);

#endif
