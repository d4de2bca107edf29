/*
 * Unit tests for src/auth/fedtls.c: peers are known by their national CA
 * (a chain from CA A is peer A, from CA B peer B, any other CA nobody), the
 * contexts negotiate h2 over mutual TLS, `ca init` makes a certificate fit
 * for both ends of a link, and the peer checks refuse what they must.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "auth/auth.h"
#include "auth/fedtls.h"
#include "label/label.h"

struct fx {
    char dir[64];
};

static void pki_path(const struct fx *fx, const char *ca, const char *file, char *out, size_t len)
{
    snprintf(out, len, "%s/%s/%s", fx->dir, ca, file);
}

static int setup(void **state)
{
    static const char *const cas[] = {"n", "a", "b", "c"};
    struct fx *fx = calloc(1, sizeof(*fx));
    char err[256], dir[128];

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/kz_fedtls_XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    for (size_t i = 0; i < 4; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", fx->dir, cas[i]);
        if (kz_ca_init(dir, KZ_KEY_EC_P256, "localhost,127.0.0.1", cas[i], false, err,
                       sizeof(err)) != KZ_OK)
            return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

/* A node whose own PKI is `self` federating with peers trusting `peer_cas` (one letter each). */
static struct kz_config *node_config(const struct fx *fx, const char *self, const char *peer_cas)
{
    char yaml[4096], err[512];
    size_t used;
    struct kz_config *cfg = NULL;

    used = (size_t)snprintf(yaml, sizeof(yaml),
                            "tls: {cert: %s/%s/server.pem, key: %s/%s/server.key}\n"
                            "federation:\n  peers:\n",
                            fx->dir, self, fx->dir, self);
    for (const char *c = peer_cas; *c; c++)
        used += (size_t)snprintf(yaml + used, sizeof(yaml) - used,
                                 "    - name: peer-%c\n      ca: %s/%c/ca.pem\n"
                                 "      identity: {nation: JPN, clearance: SECRET}\n"
                                 "      default_label: UNCLASSIFIED\n      ceiling: SECRET\n",
                                 *c, fx->dir, *c);
    if (kz_config_load_mem("fed.yaml", yaml, used, &cfg, err, sizeof(err)) != KZ_OK)
        fail_msg("%s", err);
    return cfg;
}

static STACK_OF(X509) * read_chain(const char *path)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    FILE *f = fopen(path, "r");
    X509 *x;

    assert_non_null(f);
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)))
        sk_X509_push(sk, x);
    fclose(f);
    return sk;
}

static int peer_of_file(const struct kz_fed_tls *t, const struct fx *fx, const char *ca)
{
    char path[160];
    pki_path(fx, ca, "server.pem", path, sizeof(path));
    STACK_OF(X509) *sk = read_chain(path);
    int peer = kz_fed_tls_peer_of(t, sk);
    sk_X509_pop_free(sk, X509_free);
    return peer;
}

static void test_peer_by_ca(void **state)
{
    struct fx *fx = *state;
    struct kz_config *cfg = node_config(fx, "n", "ab");
    struct kz_fed_tls t;
    char err[512], path[160];

    assert_int_equal(kz_fed_tls_build(cfg, &t, err, sizeof(err)), KZ_OK);
    assert_int_equal(t.n, 2);
    assert_non_null(t.server);
    assert_non_null(t.client[0]);
    assert_non_null(t.client[1]);
    assert_int_equal(peer_of_file(&t, fx, "a"), 0);
    assert_int_equal(peer_of_file(&t, fx, "b"), 1);
    assert_int_equal(peer_of_file(&t, fx, "c"), -1);
    assert_int_equal(peer_of_file(&t, fx, "n"), -1);
    assert_int_equal(kz_fed_tls_peer_of(&t, NULL), -1);

    /* C's certificate with A's CA appended names no one. */
    pki_path(fx, "c", "server.pem", path, sizeof(path));
    STACK_OF(X509) *sk = read_chain(path);
    X509_free(sk_X509_pop(sk));
    X509_up_ref(t.peer_ca[0]);
    sk_X509_push(sk, t.peer_ca[0]);
    assert_int_equal(kz_fed_tls_peer_of(&t, sk), -1);
    sk_X509_pop_free(sk, X509_free);
    kz_fed_tls_release(&t);
    kz_config_free(cfg);
}

/* Drive both ends over memory BIOs until the handshake is done. */
static bool handshake(SSL *c, SSL *s)
{
    BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
    BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
    char buf[16384];
    int rc_c = 0, rc_s = 0;

    SSL_set_bio(c, c_in, c_out);
    SSL_set_bio(s, s_in, s_out);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    for (int round = 0; round < 20 && (rc_c != 1 || rc_s != 1); round++) {
        rc_c = SSL_do_handshake(c);
        for (int n; (n = BIO_read(c_out, buf, sizeof(buf))) > 0;)
            BIO_write(s_in, buf, n);
        rc_s = SSL_do_handshake(s);
        for (int n; (n = BIO_read(s_out, buf, sizeof(buf))) > 0;)
            BIO_write(c_in, buf, n);
    }
    return rc_c == 1 && rc_s == 1;
}

static void test_mutual_h2(void **state)
{
    struct fx *fx = *state;
    struct kz_config *cn = node_config(fx, "n", "a"), *ca = node_config(fx, "a", "bn");
    struct kz_fed_tls tn, ta;
    char err[512];
    const unsigned char *proto;
    unsigned len;

    assert_int_equal(kz_fed_tls_build(cn, &tn, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_fed_tls_build(ca, &ta, err, sizeof(err)), KZ_OK);
    SSL *c = SSL_new(tn.client[0]), *s = SSL_new(ta.server);
    assert_true(handshake(c, s));
    SSL_get0_alpn_selected(s, &proto, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(proto, "h2", 2);
    /* Each end knows the other by its CA: N is A's peer 1, A is N's peer 0. */
    assert_int_equal(kz_fed_tls_peer_of(&ta, SSL_get0_verified_chain(s)), 1);
    assert_int_equal(kz_fed_tls_peer_of(&tn, SSL_get0_verified_chain(c)), 0);
    SSL_free(c);
    SSL_free(s);

    /* N's client context for A does not trust B: B's server is refused. */
    struct kz_config *cb = node_config(fx, "b", "n");
    struct kz_fed_tls tb;
    assert_int_equal(kz_fed_tls_build(cb, &tb, err, sizeof(err)), KZ_OK);
    c = SSL_new(tn.client[0]);
    s = SSL_new(tb.server);
    assert_false(handshake(c, s));
    SSL_free(c);
    SSL_free(s);
    kz_fed_tls_release(&tb);
    kz_fed_tls_release(&ta);
    kz_fed_tls_release(&tn);
    kz_config_free(cb);
    kz_config_free(ca);
    kz_config_free(cn);
}

static void test_ca_init_eku_and_chain(void **state)
{
    struct fx *fx = *state;
    char path[160];

    pki_path(fx, "a", "server.pem", path, sizeof(path));
    STACK_OF(X509) *sk = read_chain(path);
    assert_int_equal(sk_X509_num(sk), 2);
    X509 *leaf = sk_X509_value(sk, 0), *ca = sk_X509_value(sk, 1);
    uint32_t eku = X509_get_extended_key_usage(leaf);
    assert_true(eku & XKU_SSL_SERVER);
    assert_true(eku & XKU_SSL_CLIENT);
    assert_true(X509_check_ca(ca) >= 1);
    pki_path(fx, "a", "ca.pem", path, sizeof(path));
    STACK_OF(X509) *ca_file = read_chain(path);
    assert_int_equal(X509_cmp(ca, sk_X509_value(ca_file, 0)), 0);
    sk_X509_pop_free(ca_file, X509_free);
    sk_X509_pop_free(sk, X509_free);
}

static void expect_build_error(struct fx *fx, const char *ca_file, const char *needle)
{
    struct kz_config *cfg = node_config(fx, "n", "a");
    struct kz_fed_tls t;
    char err[512] = "";

    free(cfg->federation->peers[0].ca);
    cfg->federation->peers[0].ca = strdup(ca_file);
    assert_int_equal(kz_fed_tls_build(cfg, &t, err, sizeof(err)), KZ_ERR_CONFIG);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
    assert_null(t.server);
    kz_config_free(cfg);
}

static void test_bad_ca(void **state)
{
    struct fx *fx = *state;
    char path[160], want[256];

    expect_build_error(fx, "/nonexistent/ca.pem",
                       "fed.yaml:4: federation peer 'peer-a': ca "
                       "'/nonexistent/ca.pem' cannot be read");
    pki_path(fx, "a", "server.pem", path, sizeof(path));
    snprintf(want, sizeof(want), "'%s' is not a CA certificate", path);
    expect_build_error(fx, path, want);
    pki_path(fx, "a", "server.key", path, sizeof(path));
    expect_build_error(fx, path, "holds no PEM certificate");
}

static void expect_refused(struct fx *fx, const char *field, const char *value, const char *needle)
{
    struct kz_config *cfg = node_config(fx, "n", "a");
    struct kz_fed_peer_conf *p = &cfg->federation->peers[0];
    struct kz_label_policy pol;
    char **slot = strcmp(field, "nation") == 0      ? &p->identity->nation
                  : strcmp(field, "clearance") == 0 ? &p->identity->clearance
                  : strcmp(field, "ceiling") == 0   ? &p->ceiling
                                                    : &p->default_label;
    char err[512] = "";

    kz_label_policy_init_default(&pol);
    assert_int_equal(kz_fed_conf_check(cfg, &pol, err, sizeof(err)), KZ_OK);
    free(*slot);
    *slot = strdup(value);
    assert_int_equal(kz_fed_conf_check(cfg, &pol, err, sizeof(err)), KZ_ERR_CONFIG);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
    kz_config_free(cfg);
}

static void test_conf_check(void **state)
{
    struct fx *fx = *state;

    expect_refused(fx, "nation", "XYZ",
                   "fed.yaml:4: federation peer 'peer-a': identity nation is not an ISO 3166 code: "
                   "XYZ");
    expect_refused(fx, "clearance", "COSMIC", "identity clearance is not a level name: COSMIC");
    expect_refused(fx, "default_label", "BOGUS//X", "federation peer 'peer-a': default_label");
    expect_refused(fx, "ceiling", "NOPE", "federation peer 'peer-a': ceiling \"NOPE\"");
    expect_refused(fx, "default_label", "TOP SECRET", "default_label is above ceiling");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_by_ca),
        cmocka_unit_test(test_mutual_h2),
        cmocka_unit_test(test_ca_init_eku_and_chain),
        cmocka_unit_test(test_bad_ca),
        cmocka_unit_test(test_conf_check),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
