/*
 * config.h - the server configuration (YAML, see docs/config.md).
 *
 * Loaded with libcyaml against a schema; the same key table drives loading,
 * defaults, `kizuna serve --print-config` and docs/config.md.  A loaded
 * config is immutable; reload builds a new one and swaps.
 */
#ifndef KZ_CORE_CONFIG_H
#define KZ_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Who a connection is: from an input's `identity:` or a client certificate. */
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

struct kz_input_conf {
    char *name;     /* unique key used in logs, metrics, ports file */
    char *protocol; /* tcp | http | tls | https | enroll */
    char *listen;   /* HOST:PORT; port 0 picks a free port */
    struct kz_identity *identity;
    char *default_label; /* label for events without `access` */
    char *ceiling;       /* highest label accepted on this input */
};

struct kz_config_node {
    char *id;
    char *nation;
};

struct kz_config_store {
    char *backend; /* sqlite */
    char *path;    /* relative to --data; default kizuna.db */
    unsigned max_delay_ms;
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
    unsigned idle_timeout_s; /* 0 = never */
    unsigned max_tracks;     /* distinct uids in the latest state */
};

struct kz_config_log {
    char *level;
};

/* Paths relative to --data; used by tls, https and enroll inputs. */
struct kz_config_tls {
    char *ca;
    char *cert;
    char *key;
    char *crl;
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

/* Field names (and the *_count members) are fixed by the YAML schema. */
struct kz_config {
    struct kz_config_node *node;
    struct kz_config_store *store;
    struct kz_config_limits *limits;
    struct kz_config_log *log;
    struct kz_config_tls *tls;
    struct kz_input_conf *inputs;
    unsigned inputs_count;
    char *alliance;                  /* alliance model file (YAML), optional */
    struct kz_config_labels *labels; /* never NULL after load */
};

/* Internal to core: the `labels:` reader (text NULL = read `path`). */
int kz__config_load_labels(const char *path, const char *text, size_t len,
                           struct kz_config_labels **out, char *err, size_t errlen);
void kz__config_free_labels(struct kz_config_labels *l);

/*
 * Load and validate `path`.  On error returns KZ_ERR_CONFIG and writes a
 * message naming the file (and line where known) to errbuf.  Free the result
 * with kz_config_free().
 */
int kz_config_load(const char *path, struct kz_config **out, char *errbuf, size_t errlen);

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

#endif
