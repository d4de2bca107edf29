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
    expect_error("nodes: {id: x}\n", "Unexpected key: nodes");
    expect_error("node: {id: x}\nlimits: {max_event_bytes: many}\n", "line: 2");
    expect_error("log: {level: loud}\n", "log.level 'loud'");
    expect_error("store: {backend: oracle}\n", "not supported");
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
    assert_string_equal(cfg->inputs[1].protocol, "http");
    kz_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_builtin_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
