/*
 * Unit tests for src/auth: CA and certificates, CRL, users and passwords,
 * and the CSR checks of enrollment (bad input must be refused, not signed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/auth.h"

struct fx {
    char dir[64], pki[96];
    struct kz_userdb *db;
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    char err[256], path[128];

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/kz_auth_XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->pki, sizeof(fx->pki), "%s/pki", fx->dir);
    snprintf(path, sizeof(path), "%s/kizuna.db", fx->dir);
    if (kz_userdb_create(path, &fx->db, err, sizeof(err)) != KZ_OK)
        return -1;
    if (kz_ca_init(fx->pki, KZ_KEY_EC_P256, "localhost,127.0.0.1", NULL, false, err, sizeof(err)) !=
        KZ_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    char cmd[128];
    kz_userdb_close(fx->db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

static X509 *load(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return x;
}

static void test_ca_files(void **state)
{
    struct fx *fx = *state;
    char path[160], err[256];
    struct stat st;

    snprintf(path, sizeof(path), "%s/ca.key", fx->pki);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(kz_ca_init(fx->pki, KZ_KEY_EC_P256, "x", NULL, false, err, sizeof(err)),
                     KZ_ERR_EXISTS);
}

static void test_issue_and_revoke(void **state)
{
    struct fx *fx = *state;
    char path[160], err[256], *serial = NULL;
    int64_t not_after = 0;
    unsigned n = 0;

    assert_int_equal(
        kz_cert_issue(fx->pki, "alice", 30, "atakatak", &serial, &not_after, err, sizeof(err)),
        KZ_OK);
    assert_true(not_after > kz_now_us());
    snprintf(path, sizeof(path), "%s/alice.pem", fx->pki);
    X509 *cert = load(path);
    snprintf(path, sizeof(path), "%s/ca.pem", fx->pki);
    X509 *ca = load(path);
    assert_non_null(cert);
    assert_int_equal(X509_verify(cert, X509_get0_pubkey(ca)), 1);
    assert_int_equal(kz_userdb_add_cert(fx->db, "alice", serial, not_after, err, sizeof(err)),
                     KZ_OK);
    assert_int_equal(kz_userdb_revoke_user(fx->db, "alice", &n, err, sizeof(err)), KZ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(kz_userdb_revoke_user(fx->db, "alice", &n, err, sizeof(err)), KZ_ERR_NOTFOUND);
    assert_int_equal(kz_crl_write(fx->pki, fx->db, err, sizeof(err)), KZ_OK);
    /* Names that would escape the directory are refused. */
    assert_int_equal(kz_cert_issue(fx->pki, "../x", 30, "p", &serial, &not_after, err, sizeof(err)),
                     KZ_ERR_INVAL);
    free(serial);
    X509_free(cert);
    X509_free(ca);
}

static void test_users_and_passwords(void **state)
{
    struct fx *fx = *state;
    char *groups[] = {"Cyan", "Red"};
    struct kz_identity id = {.user = "bob",
                             .nation = "JPN",
                             .clearance = "SECRET",
                             .groups_in = groups,
                             .groups_in_count = 2,
                             .groups_out = groups,
                             .groups_out_count = 1};
    struct kz_user u;
    struct kz_users *snap = NULL;
    char err[256], path[160];

    assert_int_equal(kz_userdb_put(fx->db, &id, "s3cret", err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_userdb_check_password(fx->db, "bob", "s3cret"), KZ_OK);
    assert_int_equal(kz_userdb_check_password(fx->db, "bob", "wrong"), KZ_ERR_DENIED);
    assert_int_equal(kz_userdb_check_password(fx->db, "nobody", "s3cret"), KZ_ERR_DENIED);
    /* Updating the identity keeps the password. */
    assert_int_equal(kz_userdb_put(fx->db, &id, NULL, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_userdb_check_password(fx->db, "bob", "s3cret"), KZ_OK);
    assert_int_equal(kz_userdb_get(fx->db, "bob", &u, err, sizeof(err)), KZ_OK);
    assert_int_equal(u.id.groups_in_count, 2);
    assert_string_equal(u.id.groups_in[1], "Red");
    assert_int_equal(u.id.groups_out_count, 1);
    assert_non_null(strstr(u.password_hash, "argon2id"));
    kz_user_clear(&u);

    snprintf(path, sizeof(path), "%s/kizuna.db", fx->dir);
    assert_int_equal(kz_users_load(path, &snap, err, sizeof(err)), KZ_OK);
    assert_non_null(kz_users_find(snap, "bob"));
    assert_null(kz_users_find(snap, "bo"));
    kz_users_unref(snap);

    assert_int_equal(kz_userdb_del(fx->db, "bob", err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_userdb_del(fx->db, "bob", err, sizeof(err)), KZ_ERR_NOTFOUND);
}

/* A CSR made here with OpenSSL: EC P-256 (or a weak RSA key), subject [O=org,] CN. */
static char *make_csr_org(const char *cn, const char *org, bool weak)
{
    EVP_PKEY *k = weak ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024)
                       : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509_REQ *req = X509_REQ_new();
    X509_NAME *n = X509_REQ_get_subject_name(req);
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out;

    if (org)
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_REQ_set_pubkey(req, k);
    X509_REQ_sign(req, k, EVP_sha256());
    PEM_write_bio_X509_REQ(b, req);
    long len = BIO_get_mem_data(b, &data);
    out = strndup(data, (size_t)len);
    BIO_free(b);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
    return out;
}

static char *make_csr(const char *cn, bool weak)
{
    return make_csr_org(cn, NULL, weak);
}

static int sign(struct fx *fx, const char *csr, size_t len, const char *user)
{
    static const char *const rdns[] = {"O", "OU", NULL};
    struct kz_csr_request req = {fx->pki, csr, len, user, rdns, 30};
    struct kz_csr_result res;
    char err[256];

    int rc = kz_csr_sign(&req, &res, err, sizeof(err));
    if (rc == KZ_OK) {
        assert_true(res.cert_len > 100 && res.ca_len > 100);
        assert_non_null(res.serial);
    } else {
        assert_null(res.cert_der);
        assert_null(res.serial);
    }
    kz_csr_result_release(&res);
    return rc;
}

/* F7: what the server compares to find users whose open connections changed. */
static void test_users_same(void **state)
{
    struct fx *fx = *state;
    char *groups[] = {"Cyan"};
    struct kz_identity id = {.user = "dan",
                             .nation = "USA",
                             .clearance = "SECRET",
                             .groups_in = groups,
                             .groups_in_count = 1};
    struct kz_users *a = NULL, *b = NULL, *c = NULL;
    char err[256], path[160];

    snprintf(path, sizeof(path), "%s/kizuna.db", fx->dir);
    assert_int_equal(kz_userdb_put(fx->db, &id, NULL, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_users_load(path, &a, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_users_load(path, &b, err, sizeof(err)), KZ_OK);
    assert_true(kz_users_same(a, b));
    assert_true(kz_identity_same(&kz_users_find(a, "dan")->id, &kz_users_find(b, "dan")->id));
    id.clearance = "UNCLASSIFIED";
    assert_int_equal(kz_userdb_put(fx->db, &id, NULL, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_users_load(path, &c, err, sizeof(err)), KZ_OK);
    assert_false(kz_users_same(a, c));
    assert_false(kz_identity_same(&kz_users_find(a, "dan")->id, &kz_users_find(c, "dan")->id));
    kz_users_unref(c);
    assert_int_equal(kz_userdb_del(fx->db, "dan", err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_users_load(path, &c, err, sizeof(err)), KZ_OK);
    assert_false(kz_users_same(a, c));
    kz_users_unref(a);
    kz_users_unref(b);
    kz_users_unref(c);
}

struct diff_seen {
    char names[8][16];
    bool deleted[8];
    unsigned n;
};

static void diff_note(void *ud, const char *user, bool deleted)
{
    struct diff_seen *d = ud;

    assert_true(d->n < 8);
    snprintf(d->names[d->n], sizeof(d->names[d->n]), "%s", user);
    d->deleted[d->n++] = deleted;
}

/* Cluster identity notices: which users a reload found deleted or changed, never added ones. */
static void test_users_diff(void **state)
{
    struct fx *fx = *state;
    char *groups[] = {"Cyan"};
    struct kz_identity id = {
        .nation = "USA", .clearance = "SECRET", .groups_in = groups, .groups_in_count = 1};
    char *names[] = {"amy", "bea", "cid", "dov"};
    struct kz_users *a = NULL, *b = NULL;
    struct diff_seen d = {0};
    char err[256], path[160];

    snprintf(path, sizeof(path), "%s/kizuna.db", fx->dir);
    for (unsigned i = 0; i < 4; i++) {
        id.user = names[i];
        assert_int_equal(kz_userdb_put(fx->db, &id, NULL, err, sizeof(err)), KZ_OK);
    }
    assert_int_equal(kz_users_load(path, &a, err, sizeof(err)), KZ_OK);
    kz_users_diff(a, a, diff_note, &d);
    assert_int_equal(d.n, 0);
    assert_int_equal(kz_userdb_del(fx->db, "amy", err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_userdb_del(fx->db, "dov", err, sizeof(err)), KZ_OK);
    id.user = "cid";
    id.clearance = "UNCLASSIFIED";
    assert_int_equal(kz_userdb_put(fx->db, &id, NULL, err, sizeof(err)), KZ_OK);
    id.user = "eve"; /* added: named to nobody */
    assert_int_equal(kz_userdb_put(fx->db, &id, NULL, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_users_load(path, &b, err, sizeof(err)), KZ_OK);
    kz_users_diff(a, b, diff_note, &d);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.names[0], "amy");
    assert_true(d.deleted[0]);
    assert_string_equal(d.names[1], "cid");
    assert_false(d.deleted[1]);
    assert_string_equal(d.names[2], "dov");
    assert_true(d.deleted[2]);
    d.n = 0;
    kz_users_diff(NULL, b, diff_note, &d); /* the first load: nothing to name */
    assert_int_equal(d.n, 0);
    kz_users_unref(a);
    kz_users_unref(b);
}

static void test_csr(void **state)
{
    struct fx *fx = *state;
    char *good = make_csr("alice", false), *weak = make_csr("alice", true);
    char big[KZ_AUTH_MAX_CSR_BYTES + 10];

    assert_int_equal(sign(fx, good, strlen(good), "alice"), KZ_OK);
    assert_int_equal(sign(fx, good, strlen(good), "mallory"), KZ_ERR_DENIED);
    /* F2: the CN must be the user exactly; "alice" and "Alice" are two users. */
    assert_int_equal(sign(fx, good, strlen(good), "Alice"), KZ_ERR_DENIED);
    assert_int_equal(sign(fx, good, strlen(good), "alic"), KZ_ERR_DENIED);
    assert_int_equal(sign(fx, weak, strlen(weak), "alice"), KZ_ERR_DENIED);
    /* Bare base64 (what ATAK sends): strip the PEM armour lines. */
    char *b64 = strchr(good, '\n') + 1;
    *strstr(b64, "-----END") = '\0';
    assert_int_equal(sign(fx, b64, strlen(b64), "alice"), KZ_OK);
    assert_int_equal(sign(fx, "garbage", 7, "alice"), KZ_ERR_PARSE);
    assert_int_equal(sign(fx, "", 0, "alice"), KZ_ERR_PARSE);
    memset(big, 'A', sizeof(big));
    assert_int_equal(sign(fx, big, sizeof(big), "alice"), KZ_ERR_TOOBIG);
    free(good);
    free(weak);
}

/* F2: the certificate's subject comes from the user, never from the CSR. */
static void test_csr_subject(void **state)
{
    static const char *const rdns[] = {"O", "OU", NULL};
    struct fx *fx = *state;
    char *csr = make_csr_org("ops", "Some Other Org", false), err[256], text[256];
    struct kz_csr_request req = {fx->pki, csr, strlen(csr), "ops", rdns, 30};
    struct kz_csr_result res;

    assert_int_equal(kz_csr_sign(&req, &res, err, sizeof(err)), KZ_OK);
    const unsigned char *p = res.cert_der;
    X509 *x = d2i_X509(NULL, &p, (long)res.cert_len);
    assert_non_null(x);
    X509_NAME_oneline(X509_get_subject_name(x), text, sizeof(text));
    assert_string_equal(text, "/CN=ops");
    X509_free(x);
    kz_csr_result_release(&res);
    free(csr);
}

static void test_package(void **state)
{
    struct fx *fx = *state;
    char err[256], zip[160], cmd[300], *serial = NULL;
    int64_t na;

    assert_int_equal(
        kz_cert_issue(fx->pki, "carol", 30, "atakatak", &serial, &na, err, sizeof(err)), KZ_OK);
    snprintf(zip, sizeof(zip), "%s/carol.zip", fx->dir);
    assert_int_equal(
        kz_cert_package(fx->pki, "carol", "tak.example", 8089, "atakatak", zip, err, sizeof(err)),
        KZ_OK);
    snprintf(cmd, sizeof(cmd), "unzip -tq %s >/dev/null", zip);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(kz_cert_package(fx->pki, "nobody", "h", 8089, "p", zip, err, sizeof(err)),
                     KZ_ERR_NOTFOUND);
    free(serial);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ca_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_and_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_and_passwords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_diff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csr_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
