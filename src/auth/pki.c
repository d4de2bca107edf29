/*
 * pki.c - the certificate authority: keys, certificates, PKCS#12 files and
 * the CRL, with the OpenSSL 3 API (no shell-outs).
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "auth/internal.h"

void kz_pki_paths(struct kz_pki *p, const char *dir)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "%s", dir);
    snprintf(p->ca, sizeof(p->ca), "%s/ca.pem", dir);
    snprintf(p->ca_key, sizeof(p->ca_key), "%s/ca.key", dir);
    snprintf(p->crl, sizeof(p->crl), "%s/crl.pem", dir);
    snprintf(p->server, sizeof(p->server), "%s/server.pem", dir);
    snprintf(p->server_key, sizeof(p->server_key), "%s/server.key", dir);
}

int kz__ssl_fail(const char *what, char *err, size_t errlen)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";

    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    snprintf(err, errlen, "%s: %s", what, buf);
    return KZ_ERR_INVAL;
}

/* ---- files -------------------------------------------------------------- */

/* Write whatever a PEM writer puts into a memory BIO to `path`. */
int kz__bio_to_file(BIO *b, const char *path, unsigned mode, char *err, size_t errlen)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    return kz_write_file(path, data, n > 0 ? (size_t)n : 0, mode, err, errlen);
}

int kz__write_cert(X509 *x, const char *path, char *err, size_t errlen)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rc = PEM_write_bio_X509(b, x) ? kz__bio_to_file(b, path, 0644, err, errlen)
                                      : kz__ssl_fail("PEM_write_bio_X509", err, errlen);
    BIO_free(b);
    return rc;
}

int kz__write_chain(X509 *leaf, X509 *ca, const char *path, char *err, size_t errlen)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rc = PEM_write_bio_X509(b, leaf) && PEM_write_bio_X509(b, ca)
                 ? kz__bio_to_file(b, path, 0644, err, errlen)
                 : kz__ssl_fail("PEM_write_bio_X509", err, errlen);
    BIO_free(b);
    return rc;
}

int kz__write_key(EVP_PKEY *k, const char *path, char *err, size_t errlen)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rc = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
                 ? kz__bio_to_file(b, path, 0600, err, errlen)
                 : kz__ssl_fail("PEM_write_bio_PrivateKey", err, errlen);
    BIO_free(b);
    return rc;
}

X509 *kz__read_cert(const char *path, char *err, size_t errlen)
{
    BIO *b = BIO_new_file(path, "r");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    if (!x)
        kz__ssl_fail(path, err, errlen);
    BIO_free(b);
    return x;
}

EVP_PKEY *kz__read_key(const char *path, char *err, size_t errlen)
{
    BIO *b = BIO_new_file(path, "r");
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    if (!k)
        kz__ssl_fail(path, err, errlen);
    BIO_free(b);
    return k;
}

/* ---- keys and certificates ---------------------------------------------- */

EVP_PKEY *kz__keygen(enum kz_key_alg alg)
{
    if (alg == KZ_KEY_RSA3072)
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* 128 random bits, top bit clear so the INTEGER stays positive. */
static int random_serial(X509 *x)
{
    unsigned char raw[16];
    BIGNUM *bn = NULL;
    int ok = 0;

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return 0;
    raw[0] &= 0x7f;
    raw[0] |= 0x01;
    if ((bn = BN_bin2bn(raw, sizeof(raw), NULL)) != NULL)
        ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

char *kz__serial_hex(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    char *out = kz_xstrdup(hex ? hex : "");
    OPENSSL_free(hex);
    BN_free(bn);
    return out;
}

int64_t kz__not_after_us(X509 *x)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm) * 1000000;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* "a,b,1.2.3.4" -> "DNS:a,DNS:b,IP:1.2.3.4" */
static void san_list(const char *hosts, char *out, size_t outlen)
{
    size_t used = 0;
    char **v;
    unsigned n;

    out[0] = '\0';
    v = kz_strv_split(hosts, &n);
    for (unsigned i = 0; i < n && used < outlen; i++) {
        bool ip = strspn(v[i], "0123456789.") == strlen(v[i]) || strchr(v[i], ':');
        int w =
            snprintf(out + used, outlen - used, "%s%s:%s", i ? "," : "", ip ? "IP" : "DNS", v[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    kz_strv_free(v, n);
}

static int set_extensions(X509 *x, X509 *issuer, const struct kz__cert_spec *spec)
{
    char san[1024];
    int ok = add_ext(x, issuer, NID_subject_key_identifier, "hash");

    if (spec->kind == KZ__CERT_CA) {
        ok = ok && add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
             add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
        return ok;
    }
    ok = ok && add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") &&
         add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    if (spec->kind == KZ__CERT_SERVER) {
        san_list(spec->hosts ? spec->hosts : "localhost,127.0.0.1", san, sizeof(san));
        ok = ok && add_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth") &&
             (!san[0] || add_ext(x, issuer, NID_subject_alt_name, san));
    } else {
        ok = ok && add_ext(x, issuer, NID_ext_key_usage, "clientAuth");
    }
    return ok;
}

X509 *kz__make_cert(const struct kz__cert_spec *spec, char *err, size_t errlen)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509 *issuer = spec->issuer ? spec->issuer : x;

    if (!x || !name)
        goto fail;
    if (spec->org && !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                                 (const unsigned char *)spec->org, -1, -1, 0))
        goto fail;
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)spec->cn, -1,
                                    -1, 0))
        goto fail;
    if (!X509_set_version(x, 2) || !random_serial(x) || !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, X509_get_subject_name(issuer)) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), (int)spec->days, 0, NULL) ||
        !X509_set_pubkey(x, spec->pubkey) || !set_extensions(x, issuer, spec) ||
        !X509_sign(x, spec->issuer_key, EVP_sha256()))
        goto fail;
    X509_NAME_free(name);
    return x;
fail:
    kz__ssl_fail("cannot build certificate", err, errlen);
    X509_NAME_free(name);
    X509_free(x);
    return NULL;
}

int kz__load_ca(const struct kz_pki *p, X509 **ca, EVP_PKEY **key, char *err, size_t errlen)
{
    *ca = kz__read_cert(p->ca, err, errlen);
    *key = *ca ? kz__read_key(p->ca_key, err, errlen) : NULL;
    if (*ca && *key)
        return KZ_OK;
    X509_free(*ca);
    *ca = NULL;
    return KZ_ERR_NOTFOUND;
}

/* ---- PKCS#12 ------------------------------------------------------------ */

/*
 * 3DES/SHA1 PBE rather than OpenSSL 3's AES default: Android keystores (ATAK)
 * read it, and it needs no legacy provider to open.
 */
int kz__write_p12(const char *path, const char *pass, const char *name, EVP_PKEY *key, X509 *cert,
                  X509 *ca, char *err, size_t errlen)
{
    STACK_OF(X509) *cas = sk_X509_new_null();
    PKCS12 *p12 = NULL;
    unsigned char *der = NULL;
    int len, rc;

    sk_X509_push(cas, ca);
    p12 = PKCS12_create(pass, name, key, cert, cas, NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
                        NID_pbe_WithSHA1And3_Key_TripleDES_CBC, 0, 0, 0);
    sk_X509_free(cas);
    if (!p12)
        return kz__ssl_fail("PKCS12_create", err, errlen);
    len = i2d_PKCS12(p12, &der);
    rc = len > 0 ? kz_write_file(path, der, (size_t)len, 0600, err, errlen)
                 : kz__ssl_fail("i2d_PKCS12", err, errlen);
    OPENSSL_free(der);
    PKCS12_free(p12);
    return rc;
}
