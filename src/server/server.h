/*
 * server.h - struct kz_server: the composition root.  It owns every piece of
 * runtime state of a running node (the loop, the configuration, the label
 * policy, the group table, the inputs and their listeners, the store, the
 * router, the network and HTTP state, the TLS credentials and users
 * snapshot, the alliance model and the readiness book), wires them together
 * and runs their life cycle:
 *
 *   kz_server_init()    take over a loaded configuration; allocate nothing
 *   kz_server_start()   open the store, restore state, bind every input
 *   kz_server_run()     run the loop until kz_server_stop() (SIGINT/SIGTERM)
 *   kz_server_release() close everything in order and free it
 *
 * Reload (SIGHUP, kz_server_reload()) is nginx-style: the configuration file
 * and the alliance model are read off the loop into new objects; on success
 * the reloadable parts are swapped in, on any problem the running state is
 * kept and the problem logged with file:line.  Changes that need a restart
 * (listen addresses, store path) are logged as such and not applied.
 *
 * Everything here runs on the loop thread except the reload workers, which
 * only read files and build new objects.
 */
#ifndef KZ_SERVER_H
#define KZ_SERVER_H

#include "alliance/alliance.h"
#include "api/api.h"
#include "cluster/cluster.h"
#include "fed/fed.h"
#include "http/http.h"
#include "marti/marti.h"
#include "mission/files.h"
#include "net/net.h"
#include "readiness/readiness.h"
#include "route/route.h"
#include "store/store.h"

struct kz_creds;
struct kz_config_retired;

struct kz_server {
    uv_loop_t loop;
    const char *config_path; /* NULL: built-in defaults; SIGHUP then re-reads nothing */
    const char *data_dir;
    const char *ports_file;
    struct kz_config *cfg;
    struct kz_config_retired *retired; /* replaced configurations (see reload.c) */
    struct kz_label_policy policy;
    struct kz_groups groups;
    struct kz_input *inputs;
    struct kz_listener **listeners;
    unsigned n_inputs;
    /* The server's own input (inputs.c): plans on the map come from it. */
    struct kz_identity own_id;
    struct kz_input_conf own_conf;
    struct kz_input own_input;
    /* Federation (server/fed.c): NULL fed without a `federation:` section. */
    struct kz_fed_tls fed_tls;
    struct kz_fed *fed;
    struct kz_fed_leases *fed_leases; /* in a cluster: the outgoing links' leases (fedlease.c) */
    /* The cluster (server/cluster.c): NULL without a `cluster:` section. */
    struct kz_cluster *cluster;
    struct kz_store *store;
    struct kz_router *router;
    struct kz_net net;
    struct kz_tls_creds tls;      /* contexts + users, swapped by creds.c */
    struct kz_creds *creds;       /* their reloader; NULL without TLS inputs */
    struct kz_alliance *alliance; /* current model, or NULL */
    struct kz_readiness_book *book;
    struct kz_files *files;            /* uploaded files (Marti sync): DATA/files and their index */
    struct kz_stream_opts stream_opts; /* what CoT stream connections see */
    struct kz_http *http;              /* the HTTP engine serving http/https/enroll inputs */
    struct kz_api api;                 /* REST v1 resources */
    struct kz_marti marti;             /* TAK Marti endpoints and enrollment */
    /* Data Sync missions (missions.c): the book, the token key, and the file
     * store's metadata callback (file_meta NULL until a file store is wired). */
    struct kz_mission_book *missions;
    struct kz_mission_signer *mission_signer;
    struct kz_mission_files mission_files;
    struct kz__plan_missions *plan_missions; /* plan_missions.c: plans following as missions */
    char db_path[4096];                      /* the store file (users table for TLS identities) */
    char pki_dir[1024];                      /* the CA directory, for enrollment */
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t watchdog; /* systemd's watchdog ping (notify.c), when watchdog_on */
    bool watchdog_on;
    bool log_level_fixed; /* --log-level given: the file's log.level is not applied */
    bool reloading;       /* one reload at a time */
    bool ready;           /* started: store loaded, every input listening */
    bool stopping;
};

/*
 * Set the server up around a loaded configuration, which it takes over (and
 * frees in kz_server_release()).  config_path is what SIGHUP re-reads (NULL:
 * built-in defaults, nothing to re-read).  Paths are borrowed and must
 * outlive the server.
 */
void kz_server_init(struct kz_server *srv, struct kz_config *cfg, const char *config_path,
                    const char *data_dir, const char *ports_file);

/*
 * Bring the node up: store, restored state, credentials, inputs.  Returns
 * KZ_OK, or an error after logging its cause; the caller then calls
 * kz_server_release() either way.
 */
int kz_server_start(struct kz_server *srv);

/* Run the loop until the server stops. */
void kz_server_run(struct kz_server *srv);

/* Stop accepting, close every connection and let kz_server_run() return. */
void kz_server_stop(struct kz_server *srv, const char *why);

/* Flush the store, close every handle, free everything. */
void kz_server_release(struct kz_server *srv);

/* SIGHUP: re-read the configuration and the alliance model (reload.c). */
void kz_server_reload(struct kz_server *srv);

/* ---- private to src/server/ ------------------------------------------------ */

/* inputs.c: build the inputs from srv->cfg, bind them, write the ports file. */
int kz__server_inputs_init(struct kz_server *srv);
/* Refuse (KZ_ERR_CONFIG, or KZ_ERR_IO) a cfg whose input identity is a user of db_path. */
int kz__server_identities_check(const char *db_path, const struct kz_config *cfg, char *err,
                                size_t errlen);
int kz__server_inputs_start(struct kz_server *srv);
/* inputs.c: the server's own input (srv->own_input), and what it holds. */
int kz__server_own_input_init(struct kz_server *srv);
void kz__server_own_input_release(struct kz_server *srv);

/* fed.c: build, start (before the ports file is written), stop and free the federation. */
int kz__server_fed_init(struct kz_server *srv);
int kz__server_fed_start(struct kz_server *srv);
void kz__server_fed_stop(struct kz_server *srv);
void kz__server_fed_release(struct kz_server *srv);
/* fedlease.c: contend for each outgoing link's lease (a cluster); stop contending (release). */
void kz__server_fed_leases_start(struct kz_server *srv);
void kz__server_fed_leases_stop(struct kz_server *srv);
void kz__server_inputs_stop(struct kz_server *srv);

/* cluster.c: join the cluster (before the state is restored: its inputs resolve stored events
 * of other instances), leave it at stop, free it after the router; and tell the other
 * instances the certificates revoked by a CRL this instance loaded (creds.c). */
int kz__server_cluster_init(struct kz_server *srv);
void kz__server_cluster_stop(struct kz_server *srv);
void kz__server_cluster_release(struct kz_server *srv);
void kz__server_cluster_crl_changed(struct kz_server *srv);
/* cluster_missions.c: missions on a PostgreSQL the cluster shares (docs/cluster.md). */
bool kz__server_cluster_missions(const struct kz_server *srv);
void kz__server_mission_changed(void *ud, const char *guid, uint64_t change_id, int64_t stamp);
void kz__server_cluster_missions_opts(struct kz_server *srv, struct kz_cluster_opts *o);

/* web.c: read the browser COP's files (web.root or its defaults) into srv->api. */
int kz__server_web_init(struct kz_server *srv);

/* missions.c: the book and token key (before the HTTP engine), the restore and router
 * hook (once store, router and engine exist), and their release (after the engine). */
void kz__server_missions_init(struct kz_server *srv);
int kz__server_missions_start(struct kz_server *srv);
void kz__server_missions_release(struct kz_server *srv);

/* plan_missions.c: every committed plan change brings the plan's mission up to date; init
 * after the REST resources, start once plans and missions are restored, busy while a calendar
 * is being stored, release after the engine. */
void kz__server_plan_missions_init(struct kz_server *srv);
void kz__server_plan_missions_start(struct kz_server *srv);
bool kz__server_plan_missions_busy(const struct kz_server *srv);
void kz__server_plan_missions_release(struct kz_server *srv);

/* audit.c: record the labels and input identities when they changed. */
void kz__server_audit_config(struct kz_server *srv, const char *who);

/* creds.c: TLS contexts, CRL and users snapshot, reloaded every 2 s. */
int kz__creds_start(struct kz_server *srv);
void kz__creds_stop(struct kz_server *srv);
/* Another instance named users changed: re-read the users table at once (creds.c). */
void kz__creds_reload_now(struct kz_server *srv);

/*
 * limits.c: raise the soft RLIMIT_NOFILE to the hard limit; KZ_ERR_CONFIG
 * (logged with the numbers) when limits.max_connections of CoT and of HTTP
 * plus a reserve do not fit under it.
 */
int kz__server_limits_apply(struct kz_server *srv);
/* Reload: does cfg fit the descriptor limit in force?  KZ_OK, or KZ_ERR_CONFIG logged. */
int kz__server_limits_check(const struct kz_config *cfg);

/* server.c: the HTTP engine's limits from srv->cfg. */
struct kz_http_opts kz__server_http_opts(struct kz_server *srv);

/*
 * notify.c: systemd's notify protocol (no-ops without NOTIFY_SOCKET) and
 * the /readyz provider.  ready: once every input listens (sets srv->ready,
 * starts the watchdog ping); reloading: around a SIGHUP reload (done false
 * at its start, true at its end); stopping: at shutdown (stops the ping).
 * readyz_init: after kz_api_init(), points srv->api at the provider.
 */
void kz__server_notify_ready(struct kz_server *srv);
void kz__server_notify_reloading(struct kz_server *srv, bool done);
void kz__server_notify_stopping(struct kz_server *srv);
void kz__server_readyz_init(struct kz_server *srv);

/* reload.c */
int kz__server_alliance_load(struct kz_server *srv);
void kz__server_retired_free(struct kz_server *srv);

#endif
