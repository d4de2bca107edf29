/* Unit tests for configuration loading, defaults and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/core.h"

static char path[64];

static const char *write_yaml(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/kz-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int load(const char *text, struct kz_config **cfg, char *err, size_t len)
{
    int rc = kz_config_load(write_yaml(text), cfg, err, len);
    unlink(path);
    return rc;
}

static const char *good =
    "node: {id: n1}\n"
    "store: {max_delay_ms: 20}\n"
    "inputs:\n"
    "  - name: a\n"
    "    protocol: tcp\n"
    "    listen: 127.0.0.1:0\n"
    "    identity: {user: u, nation: JPN, clearance: SECRET, groups_in: [Cyan, Red],\n"
    "               groups_out: [Cyan]}\n"
    "    default_label: UNCLASSIFIED\n";

static void test_defaults_and_values(void **state)
{
    (void)state;
    struct kz_config *cfg = NULL;
    char err[512];
    assert_int_equal(load(good, &cfg, err, sizeof(err)), KZ_OK);
    assert_string_equal(cfg->node->id, "n1");
    assert_string_equal(cfg->node->nation, "USA"); /* default */
    assert_int_equal(cfg->store->max_delay_ms, 20);
    assert_int_equal(cfg->store->retention_days, 30); /* default */
    assert_int_equal(cfg->limits->max_event_bytes, 65536);
    assert_int_equal(cfg->limits->out_queue_bytes, 4194304);
    assert_string_equal(cfg->log->level, "info");
    assert_int_equal(cfg->inputs_count, 1);
    assert_string_equal(cfg->inputs[0].identity->nation, "JPN");
    assert_int_equal(cfg->inputs[0].identity->groups_in_count, 2);
    assert_string_equal(cfg->inputs[0].identity->groups_in[1], "Red");
    kz_config_free(cfg);
}

static void expect_error(const char *yaml, const char *needle)
{
    struct kz_config *cfg = NULL;
    char err[1024] = "";
    assert_int_equal(load(yaml, &cfg, err, sizeof(err)), KZ_ERR_CONFIG);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("nodes: {id: x}\n", ":1:1: unknown key 'nodes'");
    expect_error("node: {id: x}\nlimits: {max_event_bytes: many}\n", ":2:27: ");
    expect_error("log: {level: loud}\n", "log.level must be debug, info, warn or error");
    expect_error("store: {backend: oracle}\n", "store.backend must be sqlite");
    expect_error("limits: {max_event_bytes: 10}\n", "max_event_bytes");
    expect_error("inputs:\n  - {name: a, protocol: udp, listen: '127.0.0.1:1'}\n",
                 "unknown protocol 'udp'");
    expect_error("inputs:\n  - {name: a, protocol: tcp, listen: nowhere}\n", "HOST:PORT");
    expect_error("inputs:\n  - {name: a, protocol: tcp, listen: '127.0.0.1:1'}\n",
                 "needs an identity");
    expect_error("inputs:\n"
                 "  - {name: a, protocol: tcp, listen: '127.0.0.1:1',\n"
                 "     identity: {user: u, nation: USA, clearance: SECRET}}\n"
                 "  - {name: a, protocol: tcp, listen: '127.0.0.1:2',\n"
                 "     identity: {user: u, nation: USA, clearance: SECRET}}\n",
                 "duplicate input name 'a'");
}

static void test_missing_file(void **state)
{
    (void)state;
    struct kz_config *cfg = NULL;
    char err[256];
    assert_int_equal(kz_config_load("/nonexistent/kizuna.yaml", &cfg, err, sizeof(err)),
                     KZ_ERR_CONFIG);
    assert_non_null(strstr(err, "/nonexistent/kizuna.yaml"));
}

static void test_builtin_default(void **state)
{
    (void)state;
    char err[256];
    struct kz_config *cfg = kz_config_default(err, sizeof(err));
    assert_non_null(cfg);
    assert_int_equal(cfg->inputs_count, 2);
    assert_string_equal(cfg->inputs[0].listen, "127.0.0.1:8087");
    assert_int_equal(cfg->inputs[1].protocol, KZ_PROTO_HTTP);
    assert_string_equal(kz_input_protocol_name(cfg->inputs[1].protocol), "http");
    kz_config_free(cfg);
}

/* ---- table-driven: the rows come from `kizuna serve --config-docs` ---- */

struct doc_row {
    char path[64];
    char def[64];
    unsigned long long lo, hi; /* hi 0 = no numeric range */
};

/* Cell `i` of a Markdown table line, trimmed. */
static void cell(const char *line, int i, char *out, size_t len)
{
    const char *p = line, *end;

    for (int k = 0; k <= i && p; k++)
        p = strchr(p + 1, '|');
    end = p ? strchr(p + 1, '|') : NULL;
    out[0] = '\0';
    if (!p || !end)
        return;
    for (p++; *p == ' ' && p < end; p++)
        ;
    while (end > p && end[-1] == ' ')
        end--;
    snprintf(out, len, "%.*s", (int)(end - p), p);
}

/* The rows of kz_config_print_docs(). */
static size_t doc_rows(struct doc_row *out, size_t max)
{
    char *text = NULL, *line, *save = NULL;
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&text, &len);

    kz_config_print_docs(f);
    fclose(f);
    for (line = strtok_r(text, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
        struct doc_row *r = &out[n];
        char key[80], type[256], def[80], range[64];
        memset(r, 0, sizeof(*r));
        cell(line, -1, key, sizeof(key));
        if (sscanf(key, "`%63[^`]`", r->path) != 1)
            continue;
        cell(line, 0, type, sizeof(type));
        cell(line, 1, def, sizeof(def));
        cell(line, 2, range, sizeof(range));
        if (def[0] == '`')
            sscanf(def, "`%63[^`]`", r->def);
        if (strstr(type, "integer"))
            sscanf(range, "%llu..%llu", &r->lo, &r->hi);
        n++;
    }
    free(text);
    return n;
}

static struct kz_config *load_mem(const char *yaml, char *err, size_t len)
{
    struct kz_config *cfg = NULL;
    int rc = kz_config_load_mem("t.yaml", yaml, strlen(yaml), &cfg, err, len);
    assert_true(rc == KZ_OK || cfg == NULL);
    return cfg;
}

/* "a.b.c" = v as YAML, one mapping per part. */
static void yaml_for(const char *key, const char *value, char *buf, size_t len)
{
    size_t used = 0;
    int depth = 0;
    const char *dot;

    while ((dot = strchr(key, '.')) && used < len) {
        used += (size_t)snprintf(buf + used, len - used, "%*s%.*s:\n", 2 * depth++, "",
                                 (int)(dot - key), key);
        key = dot + 1;
    }
    if (used < len)
        snprintf(buf + used, len - used, "%*s%s: %s\n", 2 * depth, "", key, value);
}

struct changes {
    char keys[16][80];
    bool reload[16];
    int n;
};

static void on_change(const char *key, bool reloadable, void *ud)
{
    struct changes *c = ud;
    if (c->n < 16) {
        snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", key);
        c->reload[c->n++] = reloadable;
    }
}

/* Every key with a default: writing the default explicitly changes nothing. */
static void test_every_default(void **state)
{
    struct doc_row rows[128];
    size_t n = doc_rows(rows, 128), checked = 0;
    char err[512], yaml[256];
    struct kz_config *empty = load_mem("", err, sizeof(err));
    (void)state;

    assert_non_null(empty);
    assert_true(n > 40);
    for (size_t i = 0; i < n; i++) {
        /* federation: and cluster: are optional (their presence is a change): test_federation_*
         * and test_cluster_section cover them. */
        if (!rows[i].def[0] || strncmp(rows[i].path, "federation.", 11) == 0 ||
            strncmp(rows[i].path, "cluster.", 8) == 0)
            continue;
        yaml_for(rows[i].path, rows[i].def, yaml, sizeof(yaml));
        struct kz_config *cfg = load_mem(yaml, err, sizeof(err));
        if (!cfg)
            fail_msg("%s: default '%s' does not load: %s", rows[i].path, rows[i].def, err);
        struct changes c = {0};
        kz_config_diff(empty, cfg, on_change, &c);
        if (c.n)
            fail_msg("%s: default '%s' differs from the loaded default", rows[i].path, rows[i].def);
        kz_config_free(cfg);
        checked++;
    }
    assert_true(checked >= 20);
    assert_string_equal(empty->labels->policy, "US");
    assert_null(empty->labels->tetragraphs);
    assert_int_equal(empty->limits->max_tracks, 200000);
    assert_int_equal(empty->inputs_count, 0);
    kz_config_free(empty);
}

/* Every integer key: one past each end of its range is an error at file:line:col. */
static void test_every_range(void **state)
{
    struct doc_row rows[128];
    size_t n = doc_rows(rows, 128), checked = 0;
    char err[512], yaml[256], v[32], want[256];
    (void)state;

    for (size_t i = 0; i < n; i++) {
        if (!rows[i].hi || rows[i].hi == UINT64_MAX)
            continue;
        for (int end = 0; end < 2; end++) {
            if (end == 0 && rows[i].lo == 0)
                continue;
            snprintf(v, sizeof(v), "%llu", end ? rows[i].hi + 1 : rows[i].lo - 1);
            yaml_for(rows[i].path, v, yaml, sizeof(yaml));
            if (load_mem(yaml, err, sizeof(err)))
                fail_msg("%s = %s loads", rows[i].path, v);
            snprintf(want, sizeof(want), "%.63s must be a whole number in %llu..%llu", rows[i].path,
                     rows[i].lo, rows[i].hi);
            if (strncmp(err, "t.yaml:", 7) != 0 || !strstr(err, want))
                fail_msg("%s = %s: error '%s'", rows[i].path, v, err);
            checked++;
        }
    }
    assert_true(checked >= 10);
}

static void test_positions(void **state)
{
    char err[512];
    (void)state;

    assert_null(load_mem("node: {id: x}\nlimits:\n  max_connections: 0\n", err, sizeof(err)));
    assert_string_equal(err, "t.yaml:3:20: limits.max_connections must be a whole number in "
                             "1..1000000, not '0'");
    assert_null(load_mem("limits:\n  max_conections: 5\n", err, sizeof(err)));
    assert_string_equal(err, "t.yaml:2:3: unknown key 'max_conections' in limits");
    assert_null(load_mem("inputs:\n  - {name: a, protocol: tcp, listen: '1:1', colour: red}\n", err,
                         sizeof(err)));
    assert_string_equal(err, "t.yaml:2:45: unknown key 'colour' in inputs");
    assert_null(load_mem("log: {level: info}\nlog: {level: info}\n", err, sizeof(err)));
    assert_string_equal(err, "t.yaml:2:1: key 'log' repeated");
    assert_null(load_mem("inputs:\n  - {name: a, listen: '1:1'}\n", err, sizeof(err)));
    assert_string_equal(err, "t.yaml:2:5: missing 'protocol' in inputs");
    assert_null(load_mem("a: &x [1]\nb: *x\n", err, sizeof(err)));
    assert_non_null(strstr(err, "t.yaml:1:1: unknown key 'a'"));
    assert_null(
        load_mem("labels: {tetragraphs: &t {A: [USA]}, level_names: *t}\n", err, sizeof(err)));
    assert_non_null(strstr(err, "aliases are not supported"));
    assert_null(load_mem("node: [\n", err, sizeof(err)));
    assert_int_equal(strncmp(err, "t.yaml:2:1: ", 12), 0);
    assert_null(load_mem("inputs:\n  - {name: a, protocol: tcp, listen: x}\n", err, sizeof(err)));
    assert_string_equal(err, "t.yaml:2: input 'a': listen 'x' is not HOST:PORT");
}

static const char *full =
    "node: {id: n1, nation: JPN}\n"
    "alliance: config/alliance/us-japan.yaml\n"
    "labels:\n"
    "  policy: JP\n"
    "  tetragraphs: {FVEY: [USA, AUS, CAN, GBR, NZL], QUAD: [USA, JPN, AUS, IND]}\n"
    "  level_names: {SECRET: [\"JP SECRET\", S], TOP SECRET: [\"KIMITSU: x\"]}\n"
    "inputs:\n"
    "  - name: a\n"
    "    protocol: tcp\n"
    "    listen: 127.0.0.1:0\n"
    "    identity: {user: \"u #1\", nation: JPN, clearance: TOP SECRET, groups_in: [Cyan, Red],\n"
    "               groups_out: [], roles: [viewer], command: JSDF-JJOC}\n"
    "    default_label: \"SECRET//REL TO USA, JPN\"\n"
    "    ceiling: \"TOP SECRET\"\n"
    "  - {name: t, protocol: tls, listen: '[::1]:0', default_label: UNCLASSIFIED}\n";

static char *print(const struct kz_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    kz_config_print(cfg, f);
    fclose(f);
    return text;
}

/* --print-config writes everything, and what it writes loads back identically. */
static void test_print_round_trip(void **state)
{
    char err[512];
    struct kz_config *a = load_mem(full, err, sizeof(err)), *b;
    char *ta, *tb;
    struct changes c = {0};
    (void)state;

    if (!a)
        fail_msg("%s", err);
    ta = print(a);
    assert_non_null(strstr(ta, "command: JSDF-JJOC"));
    assert_non_null(strstr(ta, "QUAD: [USA, JPN, AUS, IND]"));
    assert_non_null(strstr(ta, "ceiling: TOP SECRET"));
    assert_non_null(strstr(ta, "alliance: config/alliance/us-japan.yaml"));
    b = load_mem(ta, err, sizeof(err));
    if (!b)
        fail_msg("printed config does not load: %s\n%s", err, ta);
    tb = print(b);
    assert_string_equal(ta, tb);
    kz_config_diff(a, b, on_change, &c);
    assert_int_equal(c.n, 0);
    assert_string_equal(b->inputs[0].identity->user, "u #1");
    assert_string_equal(b->labels->level_names[1].values[0], "KIMITSU: x");
    assert_int_equal(b->inputs[0].identity->groups_out_count, 0);
    free(ta);
    free(tb);
    kz_config_free(a);
    kz_config_free(b);
}

static bool has_change(const struct changes *c, const char *key, bool reload)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->keys[i], key) == 0)
            return c->reload[i] == reload;
    return false;
}

static void test_diff(void **state)
{
    char err[512];
    struct kz_config *a = load_mem(full, err, sizeof(err)), *b;
    struct changes c = {0};
    char *text;
    (void)state;

    assert_non_null(a);
    size_t cap = strlen(full) + 200;
    text = malloc(cap);
    snprintf(text, cap, "%slimits: {max_connections: 5}\nstore: {path: other.db}\n", full);
    memcpy(strstr(text, "127.0.0.1:0"), "127.0.0.1:8", 11);
    memcpy(strstr(text, "QUAD"), "QUAT", 4);
    memcpy(strstr(text, "SECRET//REL"), "SECRET//RAL", 11);
    b = load_mem(text, err, sizeof(err));
    if (!b)
        fail_msg("%s", err);
    kz_config_diff(a, b, on_change, &c);
    assert_int_equal(c.n, 5);
    assert_true(has_change(&c, "limits.max_connections", true));
    assert_true(has_change(&c, "store.path", false));
    assert_true(has_change(&c, "inputs[0].listen", false));
    assert_true(has_change(&c, "inputs[0].default_label", true));
    assert_true(has_change(&c, "labels.tetragraphs", false));
    kz_config_free(b);

    b = load_mem("inputs:\n  - {name: t, protocol: tls, listen: '[::1]:0', default_label: U}\n",
                 err, sizeof(err));
    assert_non_null(b);
    c.n = 0;
    kz_config_diff(a, b, on_change, &c);
    assert_true(has_change(&c, "inputs", false));
    assert_true(has_change(&c, "alliance", true));
    kz_config_free(b);
    kz_config_free(a);
    free(text);
}

/* Devices send unlabelled events: a TLS or HTTPS input without default_label would refuse all. */
static void test_tls_needs_default_label(void **state)
{
    static const char *const protos[] = {"tls", "https"};
    char err[512], yaml[200];
    struct kz_config *c;
    (void)state;

    for (size_t i = 0; i < 2; i++) {
        snprintf(yaml, sizeof(yaml), "inputs:\n  - {name: t, protocol: %s, listen: ':0'}\n",
                 protos[i]);
        assert_null(load_mem(yaml, err, sizeof(err)));
        assert_non_null(strstr(err, "t.yaml:2: input 't': "));
        assert_non_null(strstr(err, "needs default_label"));
        assert_non_null(strstr(err, "send unlabelled events"));
    }
    c = load_mem("inputs:\n  - {name: e, protocol: enroll, listen: ':0'}\n", err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    kz_config_free(c);
}

/* ---- federation ---------------------------------------------------------- */

static const char *fed_head = "federation:\n"
                              "  listen: 127.0.0.1:0\n"
                              "  peers:\n";

static char *fed_yaml(const char *peers)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf), "%s%s", fed_head, peers);
    return buf;
}

#define PEER_JPN                                                                                   \
    "    - name: kz-jpn\n"                                                                         \
    "      ca: pki-jpn/ca.pem\n"                                                                   \
    "      connect: 127.0.0.1:19001\n"                                                             \
    "      identity: {nation: JPN, clearance: SECRET, groups_in: [Cyan], groups_out: [Cyan]}\n"    \
    "      default_label: \"UNCLASSIFIED//REL TO USA, JPN\"\n"                                     \
    "      ceiling: \"SECRET//REL TO USA, JPN\"\n"

static void test_federation_values(void **state)
{
    struct kz_config *cfg = NULL;
    char err[512] = "";
    (void)state;
    assert_int_equal(load(fed_yaml(PEER_JPN "      relay: true\n"), &cfg, err, sizeof(err)), KZ_OK);
    assert_non_null(cfg->federation);
    assert_string_equal(cfg->federation->listen, "127.0.0.1:0");
    assert_null(cfg->federation->listen_v1);
    assert_int_equal(cfg->federation->outbox_max_age_s, 43200);
    assert_int_equal(cfg->federation->outbox_max_bytes, 1073741824);
    assert_int_equal(cfg->federation->peers_count, 1);
    const struct kz_fed_peer_conf *p = &cfg->federation->peers[0];
    assert_string_equal(p->name, "kz-jpn");
    assert_string_equal(p->protocol, "v2");
    assert_string_equal(p->identity->user, "kz-jpn");
    assert_string_equal(p->identity->nation, "JPN");
    assert_true(p->relay);
    assert_int_equal(p->line, 4);
    kz_config_free(cfg);
    assert_int_equal(load(good, &cfg, err, sizeof(err)), KZ_OK);
    assert_null(cfg->federation);
    kz_config_free(cfg);
}

static void test_federation_errors(void **state)
{
    (void)state;
    expect_error(fed_yaml(PEER_JPN PEER_JPN), ":10: duplicate federation peer name 'kz-jpn'");
    expect_error(fed_yaml("    - name: \"\"\n      ca: a.pem\n"),
                 "federation.peers.name must be 1..64");
    expect_error(fed_yaml("    - name: x\n      identity: {nation: JPN, clearance: SECRET}\n"
                          "      default_label: U\n      ceiling: U\n"),
                 "ca");
    expect_error(fed_yaml(PEER_JPN "      protocol: v3\n"), "federation.peers.protocol must be");
    expect_error(fed_yaml("    - name: x\n      ca: a.pem\n      connect: nowhere\n"
                          "      identity: {nation: JPN, clearance: SECRET}\n"
                          "      default_label: U\n      ceiling: U\n"),
                 ":4: federation peer 'x': connect 'nowhere' is not HOST:PORT");
    expect_error(fed_yaml("    - name: x\n      ca: a.pem\n      identity: {nation: JPN}\n"
                          "      default_label: U\n      ceiling: U\n"),
                 "federation peer 'x': identity needs nation and clearance");
    expect_error(fed_yaml(PEER_JPN "      relay: yes please\n"),
                 "federation.peers.relay must be true or false");
    expect_error("federation:\n  listen: 9001\n", ":1: federation: listen address '9001' is not");
    expect_error("federation:\n  listen_v1: h:99999\n",
                 "listen address 'h:99999' is not HOST:PORT");
    expect_error("federation:\n  outbox: {max_age_s: 0}\n", "federation.outbox.max_age_s must be");
    expect_error("federation:\n  outbox: {max_bytes: 0}\n", "federation.outbox.max_bytes must be");
    expect_error(fed_yaml("    - name: x\n      ca: a.pem\n      identity: {nation: JPN, "
                          "clearance: SECRET}\n      ceiling: U\n"),
                 "default_label");
}

/* Every federation key needs a restart (the links and TLS contexts are built once). */
static void test_federation_restart_only(void **state)
{
    char err[512], text[2048];
    struct kz_config *a, *b;
    struct changes c = {0};
    (void)state;

    a = load_mem(fed_yaml(PEER_JPN), err, sizeof(err));
    assert_non_null(a);
    snprintf(text, sizeof(text), "%s", fed_yaml(PEER_JPN "      relay: true\n"));
    memcpy(strstr(text, "19001"), "19002", 5);
    memcpy(strstr(text, "SECRET, groups"), "TOPSEC, groups", 6);
    b = load_mem(text, err, sizeof(err));
    if (!b)
        fail_msg("%s", err);
    kz_config_diff(a, b, on_change, &c);
    assert_int_equal(c.n, 3);
    assert_true(has_change(&c, "federation.peers[0].connect", false));
    assert_true(has_change(&c, "federation.peers[0].relay", false));
    assert_true(has_change(&c, "federation.peers[0].identity.clearance", false));
    kz_config_free(b);
    b = load_mem("", err, sizeof(err));
    c.n = 0;
    kz_config_diff(a, b, on_change, &c);
    assert_true(has_change(&c, "federation", false));
    kz_config_free(b);
    kz_config_free(a);
}

/* cluster: absent is a single node; nats is required; the prefix is one NATS subject. */
static void test_cluster_section(void **state)
{
    char err[512];
    struct kz_config *cfg;

    (void)state;
    cfg = load_mem("", err, sizeof(err));
    assert_null(cfg->cluster);
    kz_config_free(cfg);
    cfg = load_mem("cluster:\n  nats: nats://127.0.0.1:4222\n", err, sizeof(err));
    assert_non_null(cfg);
    assert_string_equal(cfg->cluster->nats, "nats://127.0.0.1:4222");
    assert_string_equal(cfg->cluster->subject_prefix, "kz");
    kz_config_free(cfg);
    cfg = load_mem("cluster:\n  nats: nats://h:1\n  subject_prefix: prod.kz-1\n", err, sizeof(err));
    assert_non_null(cfg);
    kz_config_free(cfg);
    assert_null(load_mem("cluster:\n  subject_prefix: kz\n", err, sizeof(err)));
    assert_non_null(strstr(err, "nats"));
    cfg = load_mem("cluster:\n  nats: nats://a:1,nats://b:2\n", err, sizeof(err));
    assert_non_null(cfg);
    kz_config_free(cfg);
    static const char *bad_urls[] = {"notaurl", "nats://", "tls://h:1", "nats://a:1,",
                                     "nats://a b"};
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        char yaml[128];
        snprintf(yaml, sizeof(yaml), "cluster:\n  nats: \"%s\"\n", bad_urls[i]);
        assert_null(load_mem(yaml, err, sizeof(err)));
        assert_non_null(strstr(err, "cluster.nats"));
    }
    static const char *bad[] = {"kz.>", "kz.*", ".kz", "kz.", "a..b", "k z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char yaml[128];
        snprintf(yaml, sizeof(yaml), "cluster:\n  nats: nats://h:1\n  subject_prefix: \"%s\"\n",
                 bad[i]);
        assert_null(load_mem(yaml, err, sizeof(err)));
        assert_non_null(strstr(err, "cluster.subject_prefix"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_builtin_default),
        cmocka_unit_test(test_every_default),
        cmocka_unit_test(test_every_range),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_print_round_trip),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_tls_needs_default_label),
        cmocka_unit_test(test_federation_values),
        cmocka_unit_test(test_federation_errors),
        cmocka_unit_test(test_federation_restart_only),
        cmocka_unit_test(test_cluster_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
