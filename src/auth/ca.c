/*
 * ca.c - `kizuna ca init`, `cert issue` and the CRL.
 */
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/internal.h"

#define CA_DAYS 3650
#define SERVER_DAYS 730
#define CRL_DAYS 365

static int make_dir(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return KZ_OK;
    snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    return KZ_ERR_IO;
}

static int write_empty_crl(const struct kz_pki *p, X509 *ca, EVP_PKEY *key, char *err,
                           size_t errlen);

int kz_ca_init(const char *dir, enum kz_key_alg alg, const char *hosts, const char *org, bool force,
               char *err, size_t errlen)
{
    struct kz_pki p;
    EVP_PKEY *ca_key = NULL, *srv_key = NULL;
    X509 *ca = NULL, *srv = NULL;
    int rc;

    kz_pki_paths(&p, dir);
    if ((rc = make_dir(dir, err, errlen)) != KZ_OK)
        return rc;
    if (!force && access(p.ca, F_OK) == 0) {
        snprintf(err, errlen, "%s exists (use --force to replace the CA)", p.ca);
        return KZ_ERR_EXISTS;
    }
    ca_key = kz__keygen(alg);
    srv_key = kz__keygen(alg);
    if (!ca_key || !srv_key) {
        rc = kz__ssl_fail("key generation", err, errlen);
        goto out;
    }
    struct kz__cert_spec cs = {.kind = KZ__CERT_CA,
                               .cn = "kizuna CA",
                               .org = org,
                               .pubkey = ca_key,
                               .issuer_key = ca_key,
                               .days = CA_DAYS};
    if (!(ca = kz__make_cert(&cs, err, errlen))) {
        rc = KZ_ERR_INVAL;
        goto out;
    }
    struct kz__cert_spec ss = {.kind = KZ__CERT_SERVER,
                               .cn = "kizuna server",
                               .org = org,
                               .hosts = hosts,
                               .pubkey = srv_key,
                               .issuer = ca,
                               .issuer_key = ca_key,
                               .days = SERVER_DAYS};
    if (!(srv = kz__make_cert(&ss, err, errlen))) {
        rc = KZ_ERR_INVAL;
        goto out;
    }
    if ((rc = kz__write_key(ca_key, p.ca_key, err, errlen)) ||
        (rc = kz__write_cert(ca, p.ca, err, errlen)) ||
        (rc = kz__write_key(srv_key, p.server_key, err, errlen)) ||
        (rc = kz__write_chain(srv, ca, p.server, err, errlen)) ||
        (rc = write_empty_crl(&p, ca, ca_key, err, errlen)))
        goto out;
out:
    X509_free(ca);
    X509_free(srv);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    return rc;
}

/* ---- client certificates -------------------------------------------------- */

static int write_client(const struct kz_pki *p, const char *user, const char *pass, EVP_PKEY *key,
                        X509 *cert, X509 *ca, char *err, size_t errlen)
{
    char path[700];
    int rc;

    snprintf(path, sizeof(path), "%s/%s.key", p->dir, user);
    if ((rc = kz__write_key(key, path, err, errlen)) != KZ_OK)
        return rc;
    snprintf(path, sizeof(path), "%s/%s.pem", p->dir, user);
    if ((rc = kz__write_cert(cert, path, err, errlen)) != KZ_OK)
        return rc;
    snprintf(path, sizeof(path), "%s/%s.p12", p->dir, user);
    return kz__write_p12(path, pass, user, key, cert, ca, err, errlen);
}

/* A user name becomes a file name and a CN: keep it to a safe alphabet. */
static bool safe_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 64 && s[0] != '.' && s[0] != '-' &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@") == n;
}

int kz_cert_issue(const char *dir, const char *user, int days, const char *p12_password,
                  char **serial, int64_t *not_after_us, char *err, size_t errlen)
{
    struct kz_pki p;
    X509 *ca = NULL, *cert = NULL;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    int rc;

    if (!safe_name(user)) {
        snprintf(err, errlen, "user name '%s' must be 1-64 of [A-Za-z0-9._-@]", user);
        return KZ_ERR_INVAL;
    }
    kz_pki_paths(&p, dir);
    if ((rc = kz__load_ca(&p, &ca, &ca_key, err, errlen)) != KZ_OK)
        return rc;
    if (!(key = kz__keygen(EVP_PKEY_is_a(ca_key, "RSA") ? KZ_KEY_RSA3072 : KZ_KEY_EC_P256))) {
        rc = kz__ssl_fail("key generation", err, errlen);
        goto out;
    }
    struct kz__cert_spec spec = {.kind = KZ__CERT_CLIENT,
                                 .cn = user,
                                 .pubkey = key,
                                 .issuer = ca,
                                 .issuer_key = ca_key,
                                 .days = days};
    if (!(cert = kz__make_cert(&spec, err, errlen))) {
        rc = KZ_ERR_INVAL;
        goto out;
    }
    if ((rc = write_client(&p, user, p12_password, key, cert, ca, err, errlen)) != KZ_OK)
        goto out;
    *serial = kz__serial_hex(cert);
    *not_after_us = kz__not_after_us(cert);
out:
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- CRL ------------------------------------------------------------------ */

static void add_revoked(void *ud, const char *serial, int64_t revoked_us)
{
    X509_CRL *crl = ud;
    X509_REVOKED *r = X509_REVOKED_new();
    BIGNUM *bn = NULL;
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)(revoked_us / 1000000));
    ASN1_INTEGER *sn = NULL;

    if (r && t && BN_hex2bn(&bn, serial) && (sn = BN_to_ASN1_INTEGER(bn, NULL)) &&
        X509_REVOKED_set_serialNumber(r, sn) && X509_REVOKED_set_revocationDate(r, t) &&
        X509_CRL_add0_revoked(crl, r))
        r = NULL;
    X509_REVOKED_free(r);
    ASN1_INTEGER_free(sn);
    ASN1_TIME_free(t);
    BN_free(bn);
}

static int sign_crl(const struct kz_pki *p, X509 *ca, EVP_PKEY *key, struct kz_userdb *db,
                    char *err, size_t errlen)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *now = ASN1_TIME_set(NULL, time(NULL) - 60);
    ASN1_TIME *next = X509_time_adj_ex(NULL, CRL_DAYS, 0, NULL);
    BIO *b = BIO_new(BIO_s_mem());
    int rc = KZ_OK;

    if (!crl || !now || !next || !b || !X509_CRL_set_version(crl, 1) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
        !X509_CRL_set1_lastUpdate(crl, now) || !X509_CRL_set1_nextUpdate(crl, next)) {
        rc = kz__ssl_fail("cannot build CRL", err, errlen);
        goto out;
    }
    if (db && (rc = kz_userdb_each_revoked(db, add_revoked, crl, err, errlen)) != KZ_OK)
        goto out;
    X509_CRL_sort(crl);
    if (!X509_CRL_sign(crl, key, EVP_sha256()) || !PEM_write_bio_X509_CRL(b, crl)) {
        rc = kz__ssl_fail("cannot sign CRL", err, errlen);
        goto out;
    }
    rc = kz__bio_to_file(b, p->crl, 0644, err, errlen);
out:
    BIO_free(b);
    ASN1_TIME_free(now);
    ASN1_TIME_free(next);
    X509_CRL_free(crl);
    return rc;
}

static int write_empty_crl(const struct kz_pki *p, X509 *ca, EVP_PKEY *key, char *err,
                           size_t errlen)
{
    return sign_crl(p, ca, key, NULL, err, errlen);
}

int kz_crl_write(const char *dir, struct kz_userdb *db, char *err, size_t errlen)
{
    struct kz_pki p;
    X509 *ca = NULL;
    EVP_PKEY *key = NULL;
    int rc;

    kz_pki_paths(&p, dir);
    if ((rc = kz__load_ca(&p, &ca, &key, err, errlen)) != KZ_OK)
        return rc;
    rc = sign_crl(&p, ca, key, db, err, errlen);
    X509_free(ca);
    EVP_PKEY_free(key);
    return rc;
}
