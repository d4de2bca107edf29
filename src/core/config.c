/*
 * config.c - YAML configuration: libcyaml schema for loading, one key table
 * for defaults and documentation, and validation with precise messages.
 */
#include <cyaml/cyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* ---- schema --------------------------------------------------------- */

#define STR(key, st, mem)                                                                          \
    CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, st, mem, 0, 4096)
#define UINT(key, st, mem) CYAML_FIELD_UINT(key, CYAML_FLAG_OPTIONAL, st, mem)

static const cyaml_schema_value_t string_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 256),
};

#define STRLIST(key, st, mem)                                                                      \
    CYAML_FIELD_SEQUENCE(key, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, st, mem, &string_entry, 0, \
                         256)

static const cyaml_schema_field_t node_fields[] = {
    STR("id", struct kz_config_node, id),
    STR("nation", struct kz_config_node, nation),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t store_fields[] = {
    STR("backend", struct kz_config_store, backend),
    STR("path", struct kz_config_store, path),
    UINT("max_delay_ms", struct kz_config_store, max_delay_ms),
    UINT("retention_days", struct kz_config_store, retention_days),
    UINT("retention_bytes", struct kz_config_store, retention_bytes),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t limits_fields[] = {
    UINT("max_event_bytes", struct kz_config_limits, max_event_bytes),
    UINT("out_queue_bytes", struct kz_config_limits, out_queue_bytes),
    UINT("max_connections", struct kz_config_limits, max_connections),
    UINT("http_max_body", struct kz_config_limits, http_max_body),
    UINT("http_max_headers", struct kz_config_limits, http_max_headers),
    UINT("http_timeout_ms", struct kz_config_limits, http_timeout_ms),
    UINT("idle_timeout_s", struct kz_config_limits, idle_timeout_s),
    UINT("max_tracks", struct kz_config_limits, max_tracks),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t log_fields[] = {
    STR("level", struct kz_config_log, level),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t tls_fields[] = {
    STR("ca", struct kz_config_tls, ca),
    STR("cert", struct kz_config_tls, cert),
    STR("key", struct kz_config_tls, key),
    STR("crl", struct kz_config_tls, crl),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t identity_fields[] = {
    STR("user", struct kz_identity, user),
    STR("nation", struct kz_identity, nation),
    STR("clearance", struct kz_identity, clearance),
    STRLIST("groups_in", struct kz_identity, groups_in),
    STRLIST("groups_out", struct kz_identity, groups_out),
    STRLIST("roles", struct kz_identity, roles),
    STR("command", struct kz_identity, command),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t input_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct kz_input_conf, name, 1, 64),
    CYAML_FIELD_STRING_PTR("protocol", CYAML_FLAG_POINTER, struct kz_input_conf, protocol, 1, 16),
    CYAML_FIELD_STRING_PTR("listen", CYAML_FLAG_POINTER, struct kz_input_conf, listen, 1, 128),
    CYAML_FIELD_MAPPING_PTR("identity", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
                            struct kz_input_conf, identity, identity_fields),
    STR("default_label", struct kz_input_conf, default_label),
    STR("ceiling", struct kz_input_conf, ceiling),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t input_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct kz_input_conf, input_fields),
};

#define SECTION(key, st, mem, fields)                                                              \
    CYAML_FIELD_MAPPING_PTR(key, CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, st, mem, fields)

static const cyaml_schema_field_t top_fields[] = {
    SECTION("node", struct kz_config, node, node_fields),
    SECTION("store", struct kz_config, store, store_fields),
    SECTION("limits", struct kz_config, limits, limits_fields),
    SECTION("log", struct kz_config, log, log_fields),
    SECTION("tls", struct kz_config, tls, tls_fields),
    CYAML_FIELD_SEQUENCE("inputs", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct kz_config,
                         inputs, &input_entry, 0, 64),
    STR("alliance", struct kz_config, alliance),
    CYAML_FIELD_IGNORE("labels", CYAML_FLAG_OPTIONAL), /* config_labels.c */
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t top_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct kz_config, top_fields),
};

/* ---- the key table: defaults and documentation ---------------------- */

enum key_kind { K_STR, K_UINT, K_U64 };

struct key {
    const char *path;
    enum key_kind kind;
    const char *def; /* default as text; NULL = none */
    size_t section;  /* offset of the section pointer in kz_config */
    size_t offset;   /* offset of the field in its section */
    const char *doc;
};

#define SEC(s) offsetof(struct kz_config, s)
#define OFF(st, m) offsetof(st, m)

static const struct key keys[] = {
    {"node.id", K_STR, "kizuna-1", SEC(node), OFF(struct kz_config_node, id),
     "This node's id (stamped on every event's origin)."},
    {"node.nation", K_STR, "USA", SEC(node), OFF(struct kz_config_node, nation),
     "The operating nation of this node (ISO 3166 alpha-3)."},
    {"store.backend", K_STR, "sqlite", SEC(store), OFF(struct kz_config_store, backend),
     "Persistence backend. Only `sqlite` today."},
    {"store.path", K_STR, "kizuna.db", SEC(store), OFF(struct kz_config_store, path),
     "Database file, relative to `--data`."},
    {"store.max_delay_ms", K_UINT, "50", SEC(store), OFF(struct kz_config_store, max_delay_ms),
     "Longest time an accepted event waits for its batch to commit."},
    {"store.retention_days", K_UINT, "30", SEC(store), OFF(struct kz_config_store, retention_days),
     "Events older than this are deleted."},
    {"store.retention_bytes", K_U64, "0", SEC(store), OFF(struct kz_config_store, retention_bytes),
     "Oldest events are deleted while the database is larger (0 = no cap)."},
    {"limits.max_event_bytes", K_UINT, "65536", SEC(limits),
     OFF(struct kz_config_limits, max_event_bytes),
     "Largest CoT event accepted (ATAK cannot receive more than 64 KiB)."},
    {"limits.out_queue_bytes", K_UINT, "4194304", SEC(limits),
     OFF(struct kz_config_limits, out_queue_bytes),
     "Per-connection output queue; a consumer over it is disconnected."},
    {"limits.max_connections", K_UINT, "10000", SEC(limits),
     OFF(struct kz_config_limits, max_connections), "Open CoT connections across all inputs."},
    {"limits.http_max_body", K_UINT, "1048576", SEC(limits),
     OFF(struct kz_config_limits, http_max_body), "Largest HTTP request body."},
    {"limits.http_max_headers", K_UINT, "64", SEC(limits),
     OFF(struct kz_config_limits, http_max_headers), "Most header fields in one HTTP request."},
    {"limits.http_timeout_ms", K_UINT, "30000", SEC(limits),
     OFF(struct kz_config_limits, http_timeout_ms),
     "An HTTP request must arrive completely within this time; idle keep-alive closes too."},
    {"limits.idle_timeout_s", K_UINT, "0", SEC(limits),
     OFF(struct kz_config_limits, idle_timeout_s),
     "Close CoT connections silent for this long (0 = never; TAK clients ping every 15 s)."},
    {"limits.max_tracks", K_UINT, "200000", SEC(limits), OFF(struct kz_config_limits, max_tracks),
     "Distinct uids kept in the latest state; events with new uids beyond it are refused."},
    {"log.level", K_STR, "info", SEC(log), OFF(struct kz_config_log, level),
     "debug, info, warn or error."},
    {"tls.ca", K_STR, "pki/ca.pem", SEC(tls), OFF(struct kz_config_tls, ca),
     "CA that client certificates must chain to (relative to `--data`)."},
    {"tls.cert", K_STR, "pki/server.pem", SEC(tls), OFF(struct kz_config_tls, cert),
     "Server certificate for `tls`, `https` and `enroll` inputs."},
    {"tls.key", K_STR, "pki/server.key", SEC(tls), OFF(struct kz_config_tls, key),
     "Server private key."},
    {"tls.crl", K_STR, "pki/crl.pem", SEC(tls), OFF(struct kz_config_tls, crl),
     "Revocation list; reloaded without restart when the file changes."},
};

static const size_t section_size[] = {
    [SEC(node) / sizeof(void *)] = sizeof(struct kz_config_node),
    [SEC(store) / sizeof(void *)] = sizeof(struct kz_config_store),
    [SEC(limits) / sizeof(void *)] = sizeof(struct kz_config_limits),
    [SEC(log) / sizeof(void *)] = sizeof(struct kz_config_log),
    [SEC(tls) / sizeof(void *)] = sizeof(struct kz_config_tls),
};

static void *section_of(struct kz_config *cfg, size_t sec)
{
    void **slot = (void **)((char *)cfg + sec);
    if (!*slot)
        *slot = kz_xcalloc(1, section_size[sec / sizeof(void *)]);
    return *slot;
}

/*
 * Fill defaults for every absent key.  A numeric 0 counts as absent except
 * for keys whose default is 0.
 */
static void apply_defaults(struct kz_config *cfg)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(keys); i++) {
        const struct key *k = &keys[i];
        char *field = (char *)section_of(cfg, k->section) + k->offset;
        if (k->kind == K_STR && !*(char **)field)
            *(char **)field = kz_xstrdup(k->def);
        else if (k->kind == K_UINT && !*(unsigned *)field)
            *(unsigned *)field = (unsigned)strtoul(k->def, NULL, 10);
        else if (k->kind == K_U64 && !*(uint64_t *)field)
            *(uint64_t *)field = strtoull(k->def, NULL, 10);
    }
}

/* ---- validation ----------------------------------------------------- */

/* Write "FILE: message" to errbuf and evaluate to KZ_ERR_CONFIG. */
#define FAIL(fmt, ...) (snprintf(errbuf, errlen, "%s: " fmt, path, __VA_ARGS__), KZ_ERR_CONFIG)

static bool known_protocol(const char *p)
{
    return strcmp(p, "tcp") == 0 || strcmp(p, "http") == 0 || strcmp(p, "tls") == 0 ||
           strcmp(p, "https") == 0 || strcmp(p, "enroll") == 0;
}

/* tls/https/enroll take identities from certificates or logins. */
static bool cert_protocol(const char *p)
{
    return strcmp(p, "tls") == 0 || strcmp(p, "https") == 0 || strcmp(p, "enroll") == 0;
}

static int validate_input(const struct kz_input_conf *in, const char *path, char *errbuf,
                          size_t errlen)
{
    if (!known_protocol(in->protocol))
        return FAIL("input '%s': unknown protocol '%s' (tcp, http, tls, https, enroll)", in->name,
                    in->protocol);
    if (!strrchr(in->listen, ':'))
        return FAIL("input '%s': listen '%s' is not HOST:PORT", in->name, in->listen);
    if (cert_protocol(in->protocol)) {
        if (in->identity)
            return FAIL("input '%s': %s takes identities from certificates, not identity:",
                        in->name, in->protocol);
        return KZ_OK;
    }
    if (!in->identity)
        return FAIL("input '%s': %s needs an identity", in->name, in->protocol);
    if (!in->identity->user || !in->identity->nation || !in->identity->clearance)
        return FAIL("input '%s': identity needs user, nation and clearance", in->name);
    return KZ_OK;
}

static int validate(const struct kz_config *cfg, const char *path, char *errbuf, size_t errlen)
{
    enum kz_log_level lvl;

    if (kz_log_level_parse(cfg->log->level, &lvl) != KZ_OK)
        return FAIL("log.level '%s' is not one of %s", cfg->log->level, "debug, info, warn, error");
    if (strcmp(cfg->store->backend, "sqlite") != 0)
        return FAIL("store.backend '%s' is not supported (%s)", cfg->store->backend, "sqlite");
    if (cfg->limits->max_event_bytes < 256 || cfg->limits->max_event_bytes > 8 << 20)
        return FAIL("%s", "limits.max_event_bytes must be in 256..8388608");
    if (cfg->limits->out_queue_bytes < cfg->limits->max_event_bytes)
        return FAIL("%s", "limits.out_queue_bytes must be >= limits.max_event_bytes");
    for (unsigned i = 0; i < cfg->inputs_count; i++) {
        int rc = validate_input(&cfg->inputs[i], path, errbuf, errlen);
        if (rc)
            return rc;
        for (unsigned j = 0; j < i; j++)
            if (strcmp(cfg->inputs[i].name, cfg->inputs[j].name) == 0)
                return FAIL("duplicate input name '%s'", cfg->inputs[i].name);
    }
    return KZ_OK;
}

/* ---- loading -------------------------------------------------------- */

struct log_capture {
    char *buf;
    size_t len;
    size_t used;
};

/* Collect cyaml's error lines (they carry line and column) for the caller. */
__attribute__((format(printf, 3, 0))) static void capture_log(cyaml_log_t level, void *ctx,
                                                              const char *fmt, va_list args)
{
    struct log_capture *c = ctx;
    if (level < CYAML_LOG_ERROR || c->used + 2 >= c->len)
        return;
    int n = vsnprintf(c->buf + c->used, c->len - c->used, fmt, args);
    if (n > 0)
        c->used += (size_t)n < c->len - c->used ? (size_t)n : c->len - c->used - 1;
}

static int finish_load(cyaml_err_t err, struct kz_config *cfg, const char *path, const char *text,
                       size_t len, struct kz_config **out, char *errbuf, size_t errlen, size_t used)
{
    if (err != CYAML_OK) {
        if (used == 0)
            snprintf(errbuf, errlen, "%s: %s", path, cyaml_strerror(err));
        return KZ_ERR_CONFIG;
    }
    if (!cfg) {
        cfg = kz_xcalloc(1, sizeof(*cfg));
    }
    apply_defaults(cfg);
    int rc = kz__config_load_labels(path, text, len, &cfg->labels, errbuf, errlen);
    if (rc == KZ_OK)
        rc = validate(cfg, path, errbuf, errlen);
    if (rc) {
        kz_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return KZ_OK;
}

static void init_cyaml(cyaml_config_t *cc, struct log_capture *cap, char *errbuf, size_t errlen,
                       const char *path)
{
    int n = snprintf(errbuf, errlen, "%s: ", path);
    cap->buf = errbuf;
    cap->len = errlen;
    cap->used = n > 0 && (size_t)n < errlen ? (size_t)n : 0;
    memset(cc, 0, sizeof(*cc));
    cc->log_fn = capture_log;
    cc->log_ctx = cap;
    cc->log_level = CYAML_LOG_ERROR;
    cc->mem_fn = cyaml_mem;
    cc->flags = CYAML_CFG_NO_ALIAS;
}

int kz_config_load(const char *path, struct kz_config **out, char *errbuf, size_t errlen)
{
    cyaml_config_t cc;
    struct log_capture cap;
    struct kz_config *cfg = NULL;
    size_t prefix;

    init_cyaml(&cc, &cap, errbuf, errlen, path);
    prefix = cap.used;
    cyaml_err_t err = cyaml_load_file(path, &cc, &top_schema, (cyaml_data_t **)&cfg, NULL);
    return finish_load(err, cfg, path, NULL, 0, out, errbuf, errlen, cap.used - prefix);
}

static const char default_yaml[] =
    "inputs:\n"
    "  - name: cot\n"
    "    protocol: tcp\n"
    "    listen: 127.0.0.1:8087\n"
    "    identity: {user: local, nation: USA, clearance: UNCLASSIFIED,\n"
    "               groups_in: [Cyan], groups_out: [Cyan]}\n"
    "    default_label: UNCLASSIFIED\n"
    "  - name: web\n"
    "    protocol: http\n"
    "    listen: 127.0.0.1:8080\n"
    "    identity: {user: web, nation: USA, clearance: UNCLASSIFIED,\n"
    "               groups_in: [Cyan], groups_out: [Cyan], roles: [viewer]}\n"
    "    default_label: UNCLASSIFIED\n";

struct kz_config *kz_config_default(char *errbuf, size_t errlen)
{
    cyaml_config_t cc;
    struct log_capture cap;
    struct kz_config *cfg = NULL, *out = NULL;

    init_cyaml(&cc, &cap, errbuf, errlen, "(built-in)");
    cyaml_err_t err = cyaml_load_data((const uint8_t *)default_yaml, sizeof(default_yaml) - 1, &cc,
                                      &top_schema, (cyaml_data_t **)&cfg, NULL);
    if (finish_load(err, cfg, "(built-in)", default_yaml, sizeof(default_yaml) - 1, &out, errbuf,
                    errlen, 0) != KZ_OK)
        return NULL;
    return out;
}

void kz_config_free(struct kz_config *cfg)
{
    cyaml_config_t cc = {.mem_fn = cyaml_mem, .log_level = CYAML_LOG_ERROR};
    if (!cfg)
        return;
    kz__config_free_labels(cfg->labels);
    cfg->labels = NULL;
    cyaml_free(&cc, &top_schema, cfg, 0);
}

/* ---- printing ------------------------------------------------------- */

static void print_list(FILE *out, const char *key, char **v, unsigned n)
{
    if (!n)
        return;
    fprintf(out, ", %s: [", key);
    for (unsigned i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", v[i]);
    fputc(']', out);
}

static void print_inputs(const struct kz_config *cfg, FILE *out)
{
    fprintf(out, "inputs:\n");
    for (unsigned i = 0; i < cfg->inputs_count; i++) {
        const struct kz_input_conf *in = &cfg->inputs[i];
        fprintf(out, "  - name: %s\n    protocol: %s\n    listen: %s\n", in->name, in->protocol,
                in->listen);
        if (in->identity) {
            const struct kz_identity *id = in->identity;
            fprintf(out, "    identity: {user: %s, nation: %s, clearance: \"%s\"", id->user,
                    id->nation, id->clearance);
            print_list(out, "groups_in", id->groups_in, id->groups_in_count);
            print_list(out, "groups_out", id->groups_out, id->groups_out_count);
            print_list(out, "roles", id->roles, id->roles_count);
            fprintf(out, "}\n");
        }
        if (in->default_label)
            fprintf(out, "    default_label: \"%s\"\n", in->default_label);
        if (in->ceiling)
            fprintf(out, "    ceiling: \"%s\"\n", in->ceiling);
    }
}

void kz_config_print(const struct kz_config *cfg, FILE *out)
{
    const char *section = "";
    for (size_t i = 0; i < KZ_ARRAY_LEN(keys); i++) {
        const struct key *k = &keys[i];
        const char *dot = strchr(k->path, '.');
        const char *field =
            (const char *)*(void *const *)((const char *)cfg + k->section) + k->offset;
        if (strncmp(section, k->path, (size_t)(dot - k->path)) != 0 ||
            section[dot - k->path] != '.') {
            fprintf(out, "%.*s:\n", (int)(dot - k->path), k->path);
            section = k->path;
        }
        if (k->kind == K_STR)
            fprintf(out, "  %s: %s\n", dot + 1, *(char *const *)field);
        else if (k->kind == K_UINT)
            fprintf(out, "  %s: %u\n", dot + 1, *(const unsigned *)field);
        else
            fprintf(out, "  %s: %llu\n", dot + 1, (unsigned long long)*(const uint64_t *)field);
    }
    if (cfg->alliance)
        fprintf(out, "alliance: %s\n", cfg->alliance);
    print_inputs(cfg, out);
}

void kz_config_print_docs(FILE *out)
{
    fprintf(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < KZ_ARRAY_LEN(keys); i++) {
        const struct key *k = &keys[i];
        fprintf(out, "| `%s` | %s | `%s` | %s |\n", k->path,
                k->kind == K_STR ? "string" : "integer", k->def, k->doc);
    }
}
