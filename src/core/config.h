/*
 * config.h - the server configuration (YAML, see docs/config.md).
 *
 * One table (config.c, one row per key: path, type, default, range,
 * reloadable, doc) drives loading with the table-driven YAML loader
 * (core/yaml.h), defaults, `kizuna serve --print-config`, `--config-docs`
 * (docs/config.md) and kz_config_diff().  A loaded config is immutable;
 * reload builds a new one, compares and swaps.
 */
#ifndef KZ_CORE_CONFIG_H
#define KZ_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Who a connection is: from an input's `identity:` or a client certificate.
 * It lives in core because it is the configuration's identity type (an
 * input's `identity:` is read into it); label/, auth/ and route/ use it too,
 * and core/ may not include them.
 */
struct kz_identity {
    char *user;
    char *nation;     /* ISO 3166 alpha-3, e.g. USA */
    char *clearance;  /* UNCLASSIFIED | CONFIDENTIAL | SECRET | TOP SECRET */
    char **groups_in; /* may receive from these groups */
    unsigned groups_in_count;
    char **groups_out; /* sends into these groups */
    unsigned groups_out_count;
    char **roles;
    unsigned roles_count;
    char *command; /* alliance command id, optional */
};

/* An input's `protocol:`, parsed once by the loader. */
enum kz_input_protocol {
    KZ_PROTO_TCP,    /* CoT XML stream */
    KZ_PROTO_TLS,    /* CoT over mutual TLS with TAK protocol negotiation */
    KZ_PROTO_HTTP,   /* REST API, SSE, metrics */
    KZ_PROTO_HTTPS,  /* REST API and Marti over TLS with client certificates */
    KZ_PROTO_ENROLL, /* certificate enrollment over TLS with Basic auth */
};

/* "tcp", "tls", "http", "https" or "enroll". */
const char *kz_input_protocol_name(enum kz_input_protocol p);

struct kz_input_conf {
    char *name; /* unique key used in logs, metrics, ports file */
    enum kz_input_protocol protocol;
    char *listen; /* HOST:PORT; port 0 picks a free port */
    struct kz_identity *identity;
    char *default_label; /* label for events without `access` */
    char *ceiling;       /* highest label accepted on this input */
    bool proxy_protocol; /* connections begin with a PROXY v1/v2 header (net/proxy.h) */
    int line;            /* of the entry in the file, for messages */
};

struct kz_config_node {
    char *id;
    char *nation;
};

struct kz_config_store {
    char *backend; /* sqlite | postgres */
    char *path;    /* relative to --data; default kizuna.db */
    char *dsn;     /* postgres: the libpq connection string */
    unsigned max_delay_ms;
    unsigned max_pending_writes; /* kz_store_set_max_pending() */
    unsigned retention_days;
    uint64_t retention_bytes; /* 0 = no size cap */
};

struct kz_config_limits {
    unsigned max_event_bytes;
    unsigned out_queue_bytes;
    unsigned max_connections;
    unsigned http_max_body;
    unsigned http_max_headers;
    unsigned http_timeout_ms;
    unsigned idle_timeout_s;          /* 0 = never */
    unsigned max_tracks;              /* distinct uids in the latest state */
    unsigned max_tracks_per_identity; /* current uids of one sending identity */
    unsigned max_stale_s;             /* stale times further ahead are clamped */
    uint64_t max_file_bytes;          /* one file uploaded over Marti (streamed to disk) */
};

struct kz_config_log {
    char *level;
};

/* `web:` the browser COP's static files (docs/web.md); restart to change. */
struct kz_config_web {
    char *root; /* directory of the built COP; NULL or "": beside the binary, else the prefix */
};

/* Paths relative to --data; used by tls, https and enroll inputs. */
struct kz_config_tls {
    char *ca;
    char *cert;
    char *key;
    char *crl;
    unsigned reload_ms; /* how often the CRL and the users table are re-read */
};

/* One row of a data-keyed table: FVEY: [USA, AUS, ...]. */
struct kz_config_label_row {
    char *key;
    char **values;
    unsigned values_count;
};

/* `labels:`; defaults: policy US, the built-in tetragraphs and level names. */
struct kz_config_labels {
    char *policy;
    struct kz_config_label_row *tetragraphs; /* NULL = built-in set */
    unsigned tetragraphs_count;
    struct kz_config_label_row *level_names; /* LEVEL: [names], first is canonical */
    unsigned level_names_count;
};

/* One `federation.peers` entry: a national node this node federates with. */
struct kz_fed_peer_conf {
    char *name, *ca, *connect, *protocol; /* protocol "v2" (default) or "v1" */
    struct kz_identity *identity;         /* user = the peer's name */
    char *default_label, *ceiling;
    bool relay;
    int line; /* of the entry in the file, for messages */
};

/* `federation:`; every key needs a restart. */
struct kz_config_federation {
    char *listen, *listen_v1; /* NULL: not listening */
    uint64_t outbox_max_age_s, outbox_max_bytes;
    struct kz_fed_peer_conf *peers;
    unsigned peers_count;
    char *file; /* the configuration file's name, for messages */
};

/* `cluster:` (docs/cluster.md); every key needs a restart. */
struct kz_config_cluster {
    char *nats;           /* nats://HOST:PORT */
    char *subject_prefix; /* subjects PREFIX.cot and PREFIX.ctl */
    /* Rounds of writes to the latest-state bucket; 0: every event at once. */
    unsigned latest_interval_ms;
    unsigned lease_ttl_s; /* an outgoing federation link's lease (server/fedlease.c) */
};

/* Field names (and the *_count members) are fixed by the YAML schema. */
struct kz_config {
    struct kz_config_node *node;
    struct kz_config_store *store;
    struct kz_config_limits *limits;
    struct kz_config_log *log;
    struct kz_config_tls *tls;
    struct kz_config_web *web;
    struct kz_input_conf *inputs;
    unsigned inputs_count;
    char *alliance;                          /* alliance model file (YAML), optional */
    struct kz_config_labels *labels;         /* never NULL after load */
    struct kz_config_federation *federation; /* NULL when absent */
    struct kz_config_cluster *cluster;       /* NULL when absent: a single instance */
};

/*
 * Load and validate `path`.  On error returns KZ_ERR_CONFIG and writes
 * "FILE:LINE:COL: message" (the first problem) to errbuf.  Free the result
 * with kz_config_free().
 */
int kz_config_load(const char *path, struct kz_config **out, char *errbuf, size_t errlen);

/* The same from `len` bytes of YAML; `name` stands for the file in messages. */
int kz_config_load_mem(const char *name, const char *text, size_t len, struct kz_config **out,
                       char *errbuf, size_t errlen);

/*
 * The built-in configuration: every default, a plain CoT input on
 * 127.0.0.1:8087 and HTTP on 127.0.0.1:8080.
 */
struct kz_config *kz_config_default(char *errbuf, size_t errlen);

void kz_config_free(struct kz_config *cfg);

/* Write the effective configuration as YAML (for --print-config). */
void kz_config_print(const struct kz_config *cfg, FILE *out);

/* Write the key table as a Markdown table (docs/config.md). */
void kz_config_print_docs(FILE *out);

/*
 * Call `cb` for every key whose value differs between `old` and `new`
 * ("limits.max_connections", "inputs[0].listen"; a changed number of inputs
 * is reported once as "inputs"), saying whether the change applies without
 * a restart.  Driven by the key table's reloadable column.
 */
void kz_config_diff(const struct kz_config *old, const struct kz_config *new,
                    void (*cb)(const char *key, bool reloadable, void *ud), void *ud);

#endif
