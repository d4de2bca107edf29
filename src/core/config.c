/*
 * config.c - the server configuration: one key table (path, type, default,
 * range, reloadable, doc) read by the table-driven YAML loader, printed by
 * --print-config and --config-docs, and compared for reloads; plus the checks
 * that involve more than one key.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/core.h"

static const char *const protocols[] = {"tcp", "tls", "http", "https", "enroll", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const backends[] = {"sqlite", "postgres", NULL};
static const char *const fed_protocols[] = {"v2", "v1", NULL};

_Static_assert(sizeof(enum kz_input_protocol) == sizeof(int), "ENUM rows are stored as int");

const char *kz_input_protocol_name(enum kz_input_protocol p)
{
    return (unsigned)p < KZ_ARRAY_LEN(protocols) - 1 ? protocols[p] : "?";
}

/* ---- the key table ------------------------------------------------------- */

#define RL KZ_YAML_RELOAD
#define RQ KZ_YAML_REQUIRED

#define SECTION(p, m, st, fl, d)                                                                   \
    {                                                                                              \
        .path = p, .type = KZ_YAML_MAP, .off = offsetof(struct kz_config, m), .size = sizeof(st),  \
        .flags = KZ_YAML_ALWAYS | (fl), .doc = d                                                   \
    }
#define STR(p, st, m, dflt, fl, d)                                                                 \
    {                                                                                              \
        .path = p, .type = KZ_YAML_STR, .off = offsetof(st, m), .def = dflt, .flags = fl, .doc = d \
    }
#define STRN(p, st, m, lo, hi, fl, d)                                                              \
    {                                                                                              \
        .path = p, .type = KZ_YAML_STR, .off = offsetof(st, m), .min = lo, .max = hi, .flags = fl, \
        .doc = d                                                                                   \
    }
#define ONEOF(p, st, m, dflt, names_, fl, d)                                                       \
    {                                                                                              \
        .path = p, .type = KZ_YAML_STR, .off = offsetof(st, m), .def = dflt, .names = names_,      \
        .flags = fl, .doc = d                                                                      \
    }
#define UINT(p, st, m, dflt, lo, hi, fl, d)                                                        \
    {                                                                                              \
        .path = p, .type = KZ_YAML_UINT, .off = offsetof(st, m), .def = dflt, .min = lo,           \
        .max = hi, .flags = fl, .doc = d                                                           \
    }
#define STRV(p, st, m, fl, d)                                                                      \
    {                                                                                              \
        .path = p, .type = KZ_YAML_STRV, .off = offsetof(st, m),                                   \
        .count_off = offsetof(st, m##_count), .flags = fl, .doc = d                                \
    }
#define LABELS(p, m, d)                                                                            \
    {                                                                                              \
        .path = p, .type = KZ_YAML_CUSTOM, .off = offsetof(struct kz_config_labels, m),            \
        .count_off = offsetof(struct kz_config_labels, m##_count), .ops = &kz__config_label_table, \
        .flags = 0, .doc = d                                                                       \
    }

#define NODE struct kz_config_node
#define STORE struct kz_config_store
#define LIM struct kz_config_limits
#define TLS struct kz_config_tls
#define IN struct kz_input_conf
#define ID struct kz_identity
#define FED struct kz_config_federation
#define PEER struct kz_fed_peer_conf
#define CLU struct kz_config_cluster

static void init_input(void *entry, int line)
{
    ((struct kz_input_conf *)entry)->line = line;
}

static void init_peer(void *entry, int line)
{
    ((struct kz_fed_peer_conf *)entry)->line = line;
}

static const struct kz_yaml_row rows[] = {
    SECTION("node", node, NODE, 0, "This node."),
    STR("node.id", NODE, id, "kizuna-1", 0, "This node's id (stamped on every event's origin)."),
    STR("node.nation", NODE, nation, "USA", 0,
        "The operating nation of this node (ISO 3166 alpha-3): the label policy's home, "
        "which FGI markings are relative to, and the nation plans on the map are sent as."),
    SECTION("store", store, STORE, 0, "Persistence; the store is opened once at start."),
    ONEOF("store.backend", STORE, backend, "sqlite", backends, 0,
          "Persistence backend: `sqlite` (the file `store.path`) or `postgres` (PostgreSQL 15+ "
          "with PostGIS at `store.dsn`, every table; see docs/operations.md)."),
    STR("store.path", STORE, path, "kizuna.db", 0, "Database file, relative to `--data`."),
    STR("store.dsn", STORE, dsn, "", 0,
        "libpq connection string of the PostgreSQL database (`store.backend: postgres`), e.g. "
        "`host=db1 dbname=kizuna user=kizuna`; its password is never logged (prefer "
        "`~/.pgpass` or `PGPASSWORD`)."),
    UINT("store.max_delay_ms", STORE, max_delay_ms, "50", 1, 60000, 0,
         "Longest time an accepted event waits for its batch to commit."),
    UINT("store.max_pending_writes", STORE, max_pending_writes, "131072", 64, 16777216, 0,
         "Writes waiting for the disk at which new events are refused; at half of it CoT "
         "stream inputs stop reading (TCP slows their senders) until a quarter is left."),
    UINT("store.retention_days", STORE, retention_days, "30", 1, 36500, 0,
         "Events older than this are deleted."),
    {.path = "store.retention_bytes",
     .type = KZ_YAML_U64,
     .off = offsetof(STORE, retention_bytes),
     .def = "0",
     .max = INT64_MAX,
     .doc = "Oldest events are deleted while the database is larger (0 = no cap)."},
    SECTION("limits", limits, LIM, RL, "Limits, read for each event, connection or request."),
    UINT("limits.max_event_bytes", LIM, max_event_bytes, "65536", 256, 8u << 20, RL,
         "Largest CoT event accepted (ATAK cannot receive more than 64 KiB); for new connections."),
    UINT("limits.out_queue_bytes", LIM, out_queue_bytes, "4194304", 256, 0, RL,
         "Per-connection output queue (at least `limits.max_event_bytes`); a consumer over it is "
         "disconnected."),
    UINT("limits.max_connections", LIM, max_connections, "10000", 1, 1000000, RL,
         "Open connections, counted apart for the CoT inputs and for the HTTP inputs."),
    UINT("limits.http_max_body", LIM, http_max_body, "1048576", 1024, 1u << 30, RL,
         "Largest HTTP request body."),
    UINT("limits.http_max_headers", LIM, http_max_headers, "64", 1, 1024, RL,
         "Most header fields in one HTTP request."),
    UINT("limits.http_timeout_ms", LIM, http_timeout_ms, "30000", 100, 3600000, RL,
         "An HTTP request must arrive completely within this time; idle keep-alive closes too."),
    UINT("limits.idle_timeout_s", LIM, idle_timeout_s, "0", 0, 86400, RL,
         "Close CoT connections silent for this long (0 = never; TAK clients ping every 15 s)."),
    UINT("limits.max_tracks", LIM, max_tracks, "200000", 1, 100000000, RL,
         "Distinct uids kept in the latest state; events with new uids beyond it are refused."),
    UINT("limits.max_tracks_per_identity", LIM, max_tracks_per_identity, "10000", 1, 100000000, RL,
         "Current uids one sending identity may hold; its events with new uids beyond it are "
         "refused (`budget`), so one sender cannot fill `limits.max_tracks`."),
    UINT("limits.max_stale_s", LIM, max_stale_s, "604800", 1, 315360000, RL,
         "Furthest a `stale` time may lie after receipt; later ones are clamped to it (7 days)."),
    {.path = "limits.max_file_bytes",
     .type = KZ_YAML_U64,
     .off = offsetof(LIM, max_file_bytes),
     .def = "104857600",
     .min = 1,
     .max = INT64_MAX,
     .flags = RL,
     .doc = "Largest file uploaded to `/Marti/sync/upload` (streamed to disk, not held in memory); "
            "a bigger one is answered 413."},
    SECTION("log", log, struct kz_config_log, RL, "Logging."),
    ONEOF("log.level", struct kz_config_log, level, "info", log_levels, RL,
          "debug, info, warn or error (`--log-level` overrides it)."),
    SECTION("tls", tls, TLS, 0, "Credentials of the `tls`, `https` and `enroll` inputs."),
    STR("tls.ca", TLS, ca, "pki/ca.pem", 0,
        "CA that client certificates must chain to (relative to `--data`)."),
    STR("tls.cert", TLS, cert, "pki/server.pem", 0,
        "Server certificate for `tls`, `https` and `enroll` inputs."),
    STR("tls.key", TLS, key, "pki/server.key", 0, "Server private key."),
    STR("tls.crl", TLS, crl, "pki/crl.pem", 0,
        "Revocation list; its contents are reloaded without restart when the file changes."),
    UINT("tls.reload_ms", TLS, reload_ms, "2000", 100, 3600000, 0,
         "How often the CRL file and the users table are re-read. On a PostgreSQL store a users "
         "change is also signalled as it commits (docs/cluster.md); this is then the fallback."),
    SECTION("web", web, struct kz_config_web, 0, "The browser COP (docs/web.md)."),
    STR("web.root", struct kz_config_web, root, NULL, 0,
        "Directory of the built COP (`index.html`, `app.js`, ...), served at `/` and `/web/` on "
        "`http` and `https` inputs. Empty: `web/` beside the `kizuna` binary when it holds an "
        "`index.html` (a build directory), else the install prefix's `share/kizuna/web`."),
    STR("alliance", struct kz_config, alliance, NULL, RL,
        "Path of the alliance model (YAML; see docs/alliance.md), relative to the working "
        "directory. Optional."),
    /* Restart: labels already accepted were parsed under the running policy (tetragraph bits). */
    SECTION("labels", labels, struct kz_config_labels, 0,
            "The marking policy (see docs/labels.md)."),
    STR("labels.policy", struct kz_config_labels, policy, "US", 0, "Name of the marking policy."),
    LABELS("labels.tetragraphs", tetragraphs,
           "`{CODE: [trigraphs]}`; absent = the built-in FVEY and NATO."),
    LABELS("labels.level_names", level_names,
           "`{LEVEL: [names]}`, the first is canonical; the US names stay accepted."),
    {.path = "inputs",
     .type = KZ_YAML_LIST,
     .off = offsetof(struct kz_config, inputs),
     .count_off = offsetof(struct kz_config, inputs_count),
     .size = sizeof(IN),
     .max = 64,
     .init = init_input,
     .doc = "The listeners, one entry each."},
    STRN("inputs.name", IN, name, 1, 64, RQ,
         "Unique name, used in logs, metrics, stored origins and the ports file."),
    {.path = "inputs.protocol",
     .type = KZ_YAML_ENUM,
     .off = offsetof(IN, protocol),
     .names = protocols,
     .flags = RQ,
     .doc = "`tcp` (CoT XML stream), `tls` (CoT over mutual TLS with TAK protocol negotiation, "
            "8089), `http` (REST API, SSE, metrics), `https` (REST API and Marti over TLS with "
            "client certificates, 8443) or `enroll` (certificate enrollment over TLS with Basic "
            "auth, 8446). The TLS kinds use the `tls:` section and take identities from "
            "certificates."},
    STRN("inputs.listen", IN, listen, 1, 128, RQ,
         "`HOST:PORT` or `[IPv6]:PORT`; port 0 picks a free port (see `--ports-file`)."),
    {.path = "inputs.identity",
     .type = KZ_YAML_MAP,
     .off = offsetof(IN, identity),
     .size = sizeof(ID),
     .flags = RL,
     .doc = "Who connections on this input are. Required for `tcp` and `http`; not allowed for "
            "`tls`, `https` and `enroll`, whose identities come from the users table."},
    STR("inputs.identity.user", ID, user, NULL, RL, "User name."),
    STR("inputs.identity.nation", ID, nation, NULL, RL, "ISO 3166 alpha-3."),
    STR("inputs.identity.clearance", ID, clearance, NULL, RL,
        "`UNCLASSIFIED`, `CONFIDENTIAL`, `SECRET` or `TOP SECRET`."),
    STRV("inputs.identity.groups_in", ID, groups_in, RL, "Groups it may receive from."),
    STRV("inputs.identity.groups_out", ID, groups_out, RL, "Groups its events go to."),
    STRV("inputs.identity.roles", ID, roles, RL, "Roles, e.g. `viewer`."),
    STR("inputs.identity.command", ID, command, NULL, RL, "Alliance command id. Optional."),
    STR("inputs.default_label", IN, default_label, NULL, RL,
        "Releasability label given to events that arrive without an `access` attribute. "
        "Required for `tls` and `https` (devices send unlabelled events)."),
    STR("inputs.ceiling", IN, ceiling, NULL, RL, "Highest label accepted on this input."),
    {.path = "inputs.proxy_protocol",
     .type = KZ_YAML_CUSTOM,
     .off = offsetof(IN, proxy_protocol),
     .ops = &kz__config_bool,
     .doc = "`true`: every connection must begin with a PROXY protocol header (v1 or v2, as "
            "HAProxy's `send-proxy` / `send-proxy-v2` write it), whose client address is the "
            "peer's from then on; a connection without one is closed (default `false`). For "
            "inputs behind an L4 load balancer (docs/operations.md)."},
    /* Restart: the links, listeners and TLS contexts are built once (server/reload.c). */
    {.path = "federation",
     .type = KZ_YAML_MAP,
     .off = offsetof(struct kz_config, federation),
     .size = sizeof(FED),
     .doc = "Federation with other national nodes (see docs/federation.md). Optional."},
    STRN("federation.listen", FED, listen, 1, 128, 0,
         "`HOST:PORT` of the federation v2 (gRPC) server; port 0 picks a free port (ports file "
         "key `federation`). Absent: not listening."),
    STRN("federation.listen_v1", FED, listen_v1, 1, 128, 0,
         "`HOST:PORT` of the federation v1 server (ports file key `federation_v1`). Optional."),
    {.path = "federation.outbox",
     .type = KZ_YAML_MAP,
     .doc = "What is kept for a peer that is down."},
    {.path = "federation.outbox.max_age_s",
     .type = KZ_YAML_U64,
     .off = offsetof(FED, outbox_max_age_s),
     .def = "43200",
     .min = 1,
     .max = INT64_MAX,
     .doc = "Events older than this are dropped from a peer's outbox."},
    {.path = "federation.outbox.max_bytes",
     .type = KZ_YAML_U64,
     .off = offsetof(FED, outbox_max_bytes),
     .def = "1073741824",
     .min = 1,
     .max = INT64_MAX,
     .doc = "Largest outbox of one peer; the oldest events go first."},
    {.path = "federation.peers",
     .type = KZ_YAML_LIST,
     .off = offsetof(FED, peers),
     .count_off = offsetof(FED, peers_count),
     .size = sizeof(PEER),
     .max = 64,
     .init = init_peer,
     .doc = "The nodes federated with, one entry each."},
    STRN("federation.peers.name", PEER, name, 1, 64, RQ,
         "The peer's `node.id`: unique, used in logs, metrics and provenance."),
    STR("federation.peers.ca", PEER, ca, NULL, RQ,
        "The peer's national CA certificate (PEM, relative to the working directory); its "
        "certificates are this peer."),
    STRN("federation.peers.connect", PEER, connect, 1, 128, 0,
         "`HOST:PORT` to dial; absent: the peer dials this node."),
    ONEOF("federation.peers.protocol", PEER, protocol, "v2", fed_protocols, 0,
          "`v2` (gRPC, TAK Server 4.x) or `v1` (length-prefixed protobuf)."),
    {.path = "federation.peers.identity",
     .type = KZ_YAML_MAP,
     .off = offsetof(PEER, identity),
     .size = sizeof(ID),
     .flags = RQ,
     .doc = "What the peer may receive and where its events go; its user is the peer's name."},
    STR("federation.peers.identity.nation", ID, nation, NULL, 0, "ISO 3166 alpha-3."),
    STR("federation.peers.identity.clearance", ID, clearance, NULL, 0,
        "A level name of the label policy, e.g. `SECRET`."),
    STRV("federation.peers.identity.groups_in", ID, groups_in, 0,
         "Groups whose events are sent to the peer."),
    STRV("federation.peers.identity.groups_out", ID, groups_out, 0,
         "Groups the peer's events go to."),
    STR("federation.peers.default_label", PEER, default_label, NULL, RQ,
        "Label given to the peer's events that arrive without one (at most `ceiling`)."),
    STR("federation.peers.ceiling", PEER, ceiling, NULL, RQ,
        "Highest label accepted from and sent to the peer."),
    {.path = "federation.peers.relay",
     .type = KZ_YAML_CUSTOM,
     .off = offsetof(PEER, relay),
     .ops = &kz__config_bool,
     .doc = "`true`: this node relays for the link: events from it go on to the other "
            "relaying peers and theirs to it, with provenance and hop limits (default `false`)."},
    /* Restart: the NATS connection is made once (server/cluster.c). */
    {.path = "cluster",
     .type = KZ_YAML_MAP,
     .off = offsetof(struct kz_config, cluster),
     .size = sizeof(CLU),
     .doc = "Instances of one cluster sharing live CoT over NATS (see docs/cluster.md); the "
            "instance is `node.id`, unique per instance. Optional."},
    STRN("cluster.nats", CLU, nats, 1, 512, RQ,
         "The NATS server, `nats://HOST:PORT` (a comma-separated list for a NATS cluster)."),
    STR("cluster.subject_prefix", CLU, subject_prefix, "kz", 0,
        "Subjects `PREFIX.cot` and `PREFIX.ctl`: one prefix per cluster sharing a NATS server."),
    UINT("cluster.latest_interval_ms", CLU, latest_interval_ms, "5000", 0, 3600000, 0,
         "At most this often the instance writes its clients' newest events to the cluster's "
         "latest-state bucket, one per uid (a delete at once); `0`: every event at once. "
         "Shorter: fresher replay on the other instances, more CPU (docs/cluster.md)."),
    UINT("cluster.lease_ttl_s", CLU, lease_ttl_s, "10", 1, 300, 0,
         "Life of an outgoing federation link's lease: an owner that stops renewing (killed, cut "
         "off from NATS) gives the link to another instance after about this long."),
};

static const struct kz_yaml_schema schema = {rows, KZ_ARRAY_LEN(rows)};

/* ---- checks across keys ------------------------------------------------- */

struct problem {
    const char *name;
    char *err;
    size_t errlen;
    bool have;
};

static int fail_at(struct problem *pr, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct problem *pr, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(pr->err, pr->errlen, "%s:%d: %s", pr->name, line > 0 ? line : 1, msg);
    return KZ_ERR_CONFIG;
}

/* tls/https/enroll take identities from certificates or logins. */
static bool cert_protocol(enum kz_input_protocol p)
{
    return p == KZ_PROTO_TLS || p == KZ_PROTO_HTTPS || p == KZ_PROTO_ENROLL;
}

static int check_input(const struct kz_input_conf *in, struct problem *pr)
{
    const char *proto = kz_input_protocol_name(in->protocol);

    if (!strrchr(in->listen, ':'))
        return fail_at(pr, in->line, "input '%s': listen '%s' is not HOST:PORT", in->name,
                       in->listen);
    if (cert_protocol(in->protocol)) {
        if (in->identity)
            return fail_at(pr, in->line,
                           "input '%s': %s takes identities from certificates, not identity:",
                           in->name, proto);
        if (in->protocol != KZ_PROTO_ENROLL && !in->default_label)
            return fail_at(pr, in->line,
                           "input '%s': %s needs default_label: devices (ATAK, WinTAK, iTAK) "
                           "send unlabelled events, which would all be refused",
                           in->name, proto);
        return KZ_OK;
    }
    if (!in->identity)
        return fail_at(pr, in->line, "input '%s': %s needs an identity", in->name, proto);
    if (!in->identity->user || !in->identity->nation || !in->identity->clearance)
        return fail_at(pr, in->line, "input '%s': identity needs user, nation and clearance",
                       in->name);
    return KZ_OK;
}

static int line_of(const int *lines, const char *path)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(rows); i++)
        if (strcmp(rows[i].path, path) == 0)
            return lines[i];
    return 0;
}

/* nats://HOST:PORT, comma-separated (a NATS cluster's seeds). */
static bool nats_urls(const char *s)
{
    for (;;) {
        size_t n = strcspn(s, ",");
        size_t scheme = strncmp(s, "nats://", 7) == 0 ? 7 : 0;
        if (!scheme || n <= scheme || memchr(s, ' ', n))
            return false;
        if (!s[n])
            return true;
        s += n + 1; /* past the comma: another URL must follow */
    }
}

/* A NATS subject without wildcards or empty tokens. */
static bool subject_token(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (!n || n > 64 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
            return false;
    return true;
}

static int check(struct kz_config *cfg, const int *lines, struct problem *pr)
{
    if (cfg->limits->out_queue_bytes < cfg->limits->max_event_bytes) {
        int line = line_of(lines, "limits.out_queue_bytes");
        return fail_at(pr, line ? line : line_of(lines, "limits.max_event_bytes"),
                       "limits.out_queue_bytes must be >= limits.max_event_bytes");
    }
    for (unsigned i = 0; i < cfg->inputs_count; i++) {
        int rc = check_input(&cfg->inputs[i], pr);
        if (rc)
            return rc;
        for (unsigned j = 0; j < i; j++)
            if (strcmp(cfg->inputs[i].name, cfg->inputs[j].name) == 0)
                return fail_at(pr, cfg->inputs[i].line, "duplicate input name '%s'",
                               cfg->inputs[i].name);
    }
    if (cfg->cluster && (!cfg->cluster->nats || !nats_urls(cfg->cluster->nats)))
        return fail_at(pr, line_of(lines, "cluster.nats"),
                       "cluster.nats must be nats://HOST:PORT, comma-separated");
    if (cfg->cluster && !subject_token(cfg->cluster->subject_prefix))
        return fail_at(pr, line_of(lines, "cluster.subject_prefix"),
                       "cluster.subject_prefix must be letters, digits, '-', '_' and inner dots");
    if (cfg->federation) {
        cfg->federation->file = kz_xstrdup(pr->name);
        return kz__config_check_federation(cfg->federation, line_of(lines, "federation"), pr->err,
                                           pr->errlen);
    }
    return KZ_OK;
}

/* ---- loading --------------------------------------------------------------- */

/* Keep the first problem as "NAME:LINE:COL: message". */
static void keep_first(void *ud, int line, int col, const char *msg)
{
    struct problem *pr = ud;

    if (pr->have)
        return;
    pr->have = true;
    snprintf(pr->err, pr->errlen, "%s:%d:%d: %s", pr->name, line, col, msg);
}

int kz_config_load_mem(const char *name, const char *text, size_t len, struct kz_config **out,
                       char *errbuf, size_t errlen)
{
    struct problem pr = {name, errbuf, errlen, false};
    int lines[KZ_ARRAY_LEN(rows)] = {0};
    struct kz_yaml_opts o = {.report = keep_first, .ud = &pr, .lines = lines, .empty_ok = true};
    struct kz_config *cfg = kz_xcalloc(1, sizeof(*cfg));
    int rc = kz_yaml_load(&schema, text, len, cfg, &o);

    *out = NULL;
    if (rc == KZ_OK)
        rc = check(cfg, lines, &pr);
    if (rc != KZ_OK) {
        kz_config_free(cfg);
        return KZ_ERR_CONFIG;
    }
    *out = cfg;
    return KZ_OK;
}

int kz_config_load(const char *path, struct kz_config **out, char *errbuf, size_t errlen)
{
    char *text;
    size_t len;
    int rc = kz_yaml_read_file(path, &text, &len);

    *out = NULL;
    if (rc != KZ_OK) {
        snprintf(errbuf, errlen, "%s: cannot read: %s", path,
                 rc == KZ_ERR_TOOBIG ? "too large" : strerror(errno));
        return KZ_ERR_CONFIG;
    }
    rc = kz_config_load_mem(path, text, len, out, errbuf, errlen);
    free(text);
    return rc;
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
    "               groups_in: [Cyan], groups_out: [Cyan], roles: [viewer, operator]}\n"
    "    default_label: UNCLASSIFIED\n";

struct kz_config *kz_config_default(char *errbuf, size_t errlen)
{
    struct kz_config *cfg;

    if (kz_config_load_mem("(built-in)", default_yaml, sizeof(default_yaml) - 1, &cfg, errbuf,
                           errlen) != KZ_OK)
        return NULL;
    return cfg;
}

void kz_config_free(struct kz_config *cfg)
{
    if (!cfg)
        return;
    kz__config_release_federation(cfg->federation);
    kz_yaml_release(&schema, cfg);
    free(cfg);
}

/* ---- printing and comparing ---------------------------------------------- */

void kz_config_print(const struct kz_config *cfg, FILE *out)
{
    kz_yaml_print(&schema, cfg, out);
}

static void doc_type(const struct kz_yaml_row *r, char *buf, size_t len)
{
    static const char *const kinds[] = {
        [KZ_YAML_STR] = "string",
        [KZ_YAML_UINT] = "integer",
        [KZ_YAML_U64] = "integer",
        [KZ_YAML_DOUBLE] = "number",
        [KZ_YAML_STRV] = "list of strings",
        [KZ_YAML_MAP] = "mapping",
        [KZ_YAML_LIST] = "list of mappings",
        [KZ_YAML_CUSTOM] = "mapping of lists",
    };
    size_t used;

    if (r->ops == &kz__config_bool) {
        snprintf(buf, len, "boolean");
        return;
    }
    if (!r->names) {
        snprintf(buf, len, "%s", kinds[r->type]);
        return;
    }
    used = (size_t)snprintf(buf, len, "one of");
    for (size_t i = 0; r->names[i] && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s `%s`", i ? "," : "", r->names[i]);
}

static void doc_range(const struct kz_yaml_row *r, char *buf, size_t len)
{
    buf[0] = '\0';
    if (r->type == KZ_YAML_UINT || r->type == KZ_YAML_U64)
        snprintf(buf, len, "%llu..%llu", (unsigned long long)r->min,
                 (unsigned long long)(r->max                   ? r->max
                                      : r->type == KZ_YAML_U64 ? UINT64_MAX
                                                               : UINT32_MAX));
    else if (r->type == KZ_YAML_STR && r->max)
        snprintf(buf, len, "%llu..%llu chars", (unsigned long long)r->min,
                 (unsigned long long)r->max);
    else if (r->type == KZ_YAML_LIST && r->max)
        snprintf(buf, len, "at most %llu", (unsigned long long)r->max);
    if (r->flags & KZ_YAML_REQUIRED)
        snprintf(buf + strlen(buf), len - strlen(buf), "%srequired", buf[0] ? ", " : "");
}

void kz_config_print_docs(FILE *out)
{
    char type[128], range[64], def[64];

    fprintf(out, "| key | type | default | range | reload | meaning |\n"
                 "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < KZ_ARRAY_LEN(rows); i++) {
        const struct kz_yaml_row *r = &rows[i];
        doc_type(r, type, sizeof(type));
        doc_range(r, range, sizeof(range));
        if (r->def)
            snprintf(def, sizeof(def), "`%s`", r->def);
        else
            def[0] = '\0';
        fprintf(out, "| `%s` | %s | %s | %s | %s | %s |\n", r->path, type, def, range,
                r->flags & KZ_YAML_RELOAD ? "yes" : "restart", r->doc);
    }
}

struct diff_ctx {
    void (*cb)(const char *key, bool reloadable, void *ud);
    void *ud;
};

static void on_diff(const char *path, const struct kz_yaml_row *r, void *ud)
{
    struct diff_ctx *d = ud;
    d->cb(path, (r->flags & KZ_YAML_RELOAD) != 0, d->ud);
}

void kz_config_diff(const struct kz_config *old, const struct kz_config *new,
                    void (*cb)(const char *key, bool reloadable, void *ud), void *ud)
{
    struct diff_ctx d = {cb, ud};
    kz_yaml_diff(&schema, old, new, on_diff, &d);
}
