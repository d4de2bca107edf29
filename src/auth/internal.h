/*
 * internal.h - OpenSSL helpers shared by src/auth/ files.  Other folders
 * include auth/auth.h only.
 */
#ifndef KZ_AUTH_INTERNAL_H
#define KZ_AUTH_INTERNAL_H

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth/auth.h"

enum kz__cert_kind { KZ__CERT_CA, KZ__CERT_SERVER, KZ__CERT_CLIENT };

struct kz__cert_spec {
    enum kz__cert_kind kind;
    const char *cn;    /* the subject: [O=org,] CN=cn */
    const char *org;   /* optional O= before CN */
    const char *hosts; /* server: "name,ip,..." for subjectAltName */
    EVP_PKEY *pubkey;
    X509 *issuer; /* NULL: self-signed */
    EVP_PKEY *issuer_key;
    long days;
};

/* Log-free error text from the OpenSSL error queue; returns KZ_ERR_INVAL. */
int kz__ssl_fail(const char *what, char *err, size_t errlen);

EVP_PKEY *kz__keygen(enum kz_key_alg alg);
X509 *kz__make_cert(const struct kz__cert_spec *spec, char *err, size_t errlen);
char *kz__serial_hex(X509 *x); /* free() it */
int64_t kz__not_after_us(X509 *x);

int kz__bio_to_file(BIO *b, const char *path, unsigned mode, char *err, size_t errlen);
int kz__write_cert(X509 *x, const char *path, char *err, size_t errlen);
/* The certificate then its CA, so a TLS peer gets the whole chain (federation). */
int kz__write_chain(X509 *leaf, X509 *ca, const char *path, char *err, size_t errlen);
int kz__write_key(EVP_PKEY *k, const char *path, char *err, size_t errlen); /* 0600 */
X509 *kz__read_cert(const char *path, char *err, size_t errlen);
EVP_PKEY *kz__read_key(const char *path, char *err, size_t errlen);
int kz__load_ca(const struct kz_pki *p, X509 **ca, EVP_PKEY **key, char *err, size_t errlen);

/* cert/key may be NULL (a truststore holds only the CA). */
int kz__write_p12(const char *path, const char *pass, const char *name, EVP_PKEY *key, X509 *cert,
                  X509 *ca, char *err, size_t errlen);

#endif
