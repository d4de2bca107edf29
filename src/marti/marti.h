/*
 * marti.h - the TAK Marti REST endpoints (marti.c) and certificate
 * enrollment (enroll.c), served by the HTTP engine through their route rows:
 *
 *   GET  /Marti/api/version, /Marti/api/version/config       every input
 *   GET  /Marti/api/clientEndPoints, /Marti/api/groups/all   http, https
 *   GET  /Marti/api/tls/config                               enroll
 *   POST /Marti/api/tls/signClient/v2?clientUid=&version=    enroll
 *   POST /Marti/sync/upload?name=&keywords=&creatorUid=&tool=&label=   http, https
 *   POST /Marti/sync/missionupload?hash=&filename=&creatorUid=&label=  http, https
 *   GET  /Marti/sync/content?hash=, /Marti/sync/missionquery?hash=     http, https
 *   /Marti/api/missions...   Data Sync missions (missions.c, mission_subs.c,
 *                            mission_items.c; docs/missions.md)  http, https
 *
 * Wiring: kz_marti_init(&m, &opts); kz_http_add_routes(h, m.routes,
 * m.n_routes, &m) and the same for m.mission_routes;
 * kz_http_add_stream_routes(h, m.stream_routes, m.n_stream_routes, &m) (the
 * uploads take their bodies as streams); kz_marti_missions_load at start and
 * kz_marti_missions_hook for the router; kz_marti_release(&m) once the engine
 * is gone.  Loop thread only.
 */
#ifndef KZ_MARTI_H
#define KZ_MARTI_H

#include "http/http.h"
#include "mission/mission.h"
#include "route/route.h"

struct kz_files;

struct kz_marti_opts {
    struct kz_router *router; /* NULL: clientEndPoints answers 503 */
    const char *node_id;      /* Marti envelopes' nodeId (NULL: "kizuna"); borrowed */
    unsigned enroll_days;     /* validity of enrolled certificates, default 365 */
    const char *pki_dir;      /* enrollment: the CA's directory; borrowed */
    const char *db_path;      /* enrollment: the users table; borrowed */
    /* The caller's viewer for the release rule (kz_api_view); NULL: nobody. */
    const struct kz_sub *(*view)(const struct kz_http_req *req);
    /* Files: the index and directory (NULL: the file routes answer 503), the
     * policy labels are parsed under (files' and missions'), and limits.max_file_bytes. */
    struct kz_files *files;
    const struct kz_label_policy *policy;
    uint64_t max_file_bytes;
    /* Data Sync missions, all owned by the server; a NULL book: the mission routes answer 503. */
    struct kz_mission_book *missions;
    struct kz_store *store;                 /* commits mission changes; NULL: answered at once */
    const struct kz_mission_signer *signer; /* mission tokens */
    const struct kz_mission_files *mission_files; /* file metadata; NULL: hashes only */
    /* A cluster on one PostgreSQL (docs/cluster.md): every committed change of mission `guid`
     * wrote its outbox row (stamp); this publishes its notice, after COMMIT.  NULL: none. */
    void (*mission_changed)(void *ud, const char *guid, uint64_t change_id, int64_t stamp);
    void *mission_ud;
};

struct kz_backoff;

/* The context the Marti and enrollment handlers get; fields borrowed unless noted. */
struct kz_marti {
    struct kz_marti_opts opts;
    unsigned jobs_running; /* enrollments and mission passwords on the thread pool */
    /* Failed logins per user name and per peer address (enroll.c, F14);
     * made on first use, bounded to KZ_BACKOFF_MAX_KEYS keys.  Owned. */
    struct kz_backoff *backoff;
    const struct kz_http_route *routes;
    size_t n_routes;
    const struct kz_http_route *stream_routes; /* the uploads */
    size_t n_stream_routes;
    uint64_t max_file_bytes; /* reloadable (kz_marti_set_max_file_bytes) */
    unsigned uploads;        /* uploads under way (upload.c) */
    const struct kz_http_route *mission_routes;
    size_t n_mission_routes;
    unsigned mission_commits;    /* mission changes waiting for the store */
    int64_t outbox_stamp;        /* the last outbox stamp given (mission_changed) */
    struct kz_mission_uids uids; /* mission uids' details, from the router's state */
    /* mission_password.c: while a handler runs again after its password job, the request,
     * whether the password matched, and the new hash (borrowed for that call only). */
    const struct kz_http_req *pw_req;
    bool pw_ok;
    const char *pw_hash;
};

void kz_marti_init(struct kz_marti *m, const struct kz_marti_opts *opts);
/*
 * An upload is under way: its file may still be written or its row handed
 * to the store.  The server runs the loop until this is false before it
 * closes the store.
 */
bool kz_marti_busy(const struct kz_marti *m);
/* Reload: uploads started from now on are bounded by `n` bytes. */
void kz_marti_set_max_file_bytes(struct kz_marti *m, uint64_t n);
/* Free what the endpoints hold (the back-off table).  No job may be running. */
void kz_marti_release(struct kz_marti *m);

/*
 * Restore the missions and their change logs from the store (startup,
 * before the loop runs).  A mission whose document no longer loads is
 * skipped and logged.  KZ_OK or the store's error.
 */
int kz_marti_missions_load(struct kz_marti *m);
/*
 * Another instance committed a change of mission `guid` (mission_reload.c): `doc` and
 * `changes` are the mission as the shared store holds it now (doc NULL: deleted).  The book
 * takes it over and this instance's subscribers are notified of what is new, as for a change
 * made here.
 */
void kz_marti_mission_reload(struct kz_marti *m, const char *guid, const char *doc,
                             const char *const *changes, size_t n);
/* The router hook for CoT with a mission dest (kz_router_set_missions). */
void kz_marti_missions_hook(struct kz_marti *m, struct kz_router_missions *out);

/*
 * Publish plan `p` as its mission (plan_mission.c, docs/missions.md): the
 * mission named like the plan's id is made or brought up to date: the
 * plan's title as description, its own label as classification, the uids
 * of its placed items (each with the item's label) and `ics_hash` (the
 * plan's calendar in the file store, labelled like the plan; NULL: none);
 * archived (keyword "archived") once the plan is closed.  The change is
 * committed, then announced to the live subscribers (t-x-m-n, t-x-m-c).
 * KZ_OK (also when nothing changed), KZ_ERR_EXISTS (a mission not of this
 * plan has the name), KZ_ERR_TOOBIG (the book is full) or KZ_ERR_CLOSED
 * (no missions).
 */
struct kz_plan;
int kz_marti_plan_mission(struct kz_marti *m, const struct kz_plan *p, const char *ics_hash);

#endif
