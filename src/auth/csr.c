/*
 * csr.c - enrollment: check a client's certificate signing request and
 * sign it with the CA.  Everything about the request is untrusted input:
 * size, encoding, signature, subject and key are checked before signing,
 * and only the public key is taken from it: the certificate's subject is
 * built from the authenticated user (security review F2).
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "auth/internal.h"

/* PEM as sent by node-tak, or bare base64 DER as sent by ATAK. */
static X509_REQ *parse_csr(const char *csr, size_t len)
{
    X509_REQ *req = NULL;
    unsigned char *der = NULL;
    BIO *b;

    if (memmem(csr, len, "-----BEGIN", 10)) {
        b = BIO_new_mem_buf(csr, (int)len);
        req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        return req;
    }
    /* Strip whitespace and line breaks; EVP_DecodeBlock wants one run. */
    char *clean = kz_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (csr[i] != '\r' && csr[i] != '\n' && csr[i] != ' ' && csr[i] != '\t')
            clean[n++] = csr[i];
    clean[n] = '\0';
    if (n == 0 || n % 4 != 0)
        goto out;
    der = kz_xmalloc(n);
    int dlen = EVP_DecodeBlock(der, (const unsigned char *)clean, (int)n);
    if (dlen <= 0)
        goto out;
    /* EVP_DecodeBlock counts the '=' padding as zero bytes. */
    while (n > 0 && clean[--n] == '=')
        dlen--;
    const unsigned char *p = der;
    req = d2i_X509_REQ(NULL, &p, dlen);
out:
    free(clean);
    free(der);
    return req;
}

static bool allowed(const char *sn, const char *const *rdns)
{
    for (; rdns && *rdns; rdns++)
        if (strcmp(sn, *rdns) == 0)
            return true;
    return false;
}

static int check_subject(X509_REQ *req, const char *user, const char *const *rdns, char *err,
                         size_t errlen)
{
    const X509_NAME *name = X509_REQ_get_subject_name(req);
    int n = X509_NAME_entry_count(name), cns = 0;

    for (int i = 0; i < n; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
        if (nid == NID_commonName) {
            const char *cn = (const char *)ASN1_STRING_get0_data(v);
            size_t cn_len = (size_t)ASN1_STRING_length(v);
            /* Exactly: users are looked up case-sensitively, and "ops" and
             * "OPS" may be two users (F2). */
            if (cn_len != strlen(user) || memcmp(cn, user, cn_len) != 0) {
                snprintf(err, errlen, "CSR common name is not the user '%s'", user);
                return KZ_ERR_DENIED;
            }
            cns++;
        } else if (!allowed(OBJ_nid2sn(nid), rdns)) {
            snprintf(err, errlen, "CSR subject has an unexpected %s", OBJ_nid2sn(nid));
            return KZ_ERR_DENIED;
        }
    }
    if (cns != 1) {
        snprintf(err, errlen, "CSR subject needs exactly one CN");
        return KZ_ERR_DENIED;
    }
    return KZ_OK;
}

static int check_key(EVP_PKEY *k, char *err, size_t errlen)
{
    int bits = EVP_PKEY_get_bits(k);

    if (EVP_PKEY_is_a(k, "RSA") && bits >= 2048 && bits <= 4096)
        return KZ_OK;
    if (EVP_PKEY_is_a(k, "EC") && (bits == 256 || bits == 384))
        return KZ_OK;
    snprintf(err, errlen, "CSR key must be RSA 2048-4096 or EC P-256/P-384 (got %s %d)",
             EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "?", bits);
    return KZ_ERR_DENIED;
}

static int check_csr(X509_REQ *req, const char *user, const char *const *rdns, char *err,
                     size_t errlen)
{
    EVP_PKEY *k = X509_REQ_get0_pubkey(req);
    int rc;

    if (!k) {
        snprintf(err, errlen, "CSR has no usable public key");
        return KZ_ERR_PARSE;
    }
    if ((rc = check_key(k, err, errlen)) != KZ_OK)
        return rc;
    if (X509_REQ_verify(req, k) != 1) {
        kz__ssl_fail("CSR signature does not verify", err, errlen);
        return KZ_ERR_PARSE;
    }
    return check_subject(req, user, rdns, err, errlen);
}

static int to_der(X509 *x, unsigned char **out, size_t *len)
{
    *out = NULL;
    int n = i2d_X509(x, out);
    if (n <= 0)
        return KZ_ERR_INVAL;
    *len = (size_t)n;
    return KZ_OK;
}

/* Sign the checked request `x509_req` with the CA in `dir` into `res`. */
static int issue(const struct kz_csr_request *req, X509_REQ *x509_req, struct kz_csr_result *res,
                 char *err, size_t errlen)
{
    struct kz_pki p;
    X509 *ca = NULL, *cert = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc;

    kz_pki_paths(&p, req->dir);
    if ((rc = kz__load_ca(&p, &ca, &ca_key, err, errlen)) != KZ_OK)
        goto out;
    struct kz__cert_spec spec = {.kind = KZ__CERT_CLIENT,
                                 .cn = req->user,
                                 .pubkey = X509_REQ_get0_pubkey(x509_req),
                                 .issuer = ca,
                                 .issuer_key = ca_key,
                                 .days = req->days};
    if (!(cert = kz__make_cert(&spec, err, errlen))) {
        rc = KZ_ERR_INVAL;
        goto out;
    }
    if ((rc = to_der(cert, &res->cert_der, &res->cert_len)) != KZ_OK ||
        (rc = to_der(ca, &res->ca_der, &res->ca_len)) != KZ_OK) {
        snprintf(err, errlen, "cannot encode the certificate");
        goto out;
    }
    res->serial = kz__serial_hex(cert);
    res->not_after_us = kz__not_after_us(cert);
out:
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(ca_key);
    return rc;
}

int kz_csr_sign(const struct kz_csr_request *req, struct kz_csr_result *res, char *err,
                size_t errlen)
{
    X509_REQ *x509_req;
    int rc;

    memset(res, 0, sizeof(*res));
    if (req->len > KZ_AUTH_MAX_CSR_BYTES) {
        snprintf(err, errlen, "CSR over %d bytes", KZ_AUTH_MAX_CSR_BYTES);
        return KZ_ERR_TOOBIG;
    }
    if (!(x509_req = parse_csr(req->csr, req->len))) {
        ERR_clear_error();
        snprintf(err, errlen, "body is not a PEM or base64 DER certificate request");
        return KZ_ERR_PARSE;
    }
    rc = check_csr(x509_req, req->user, req->allowed_rdns, err, errlen);
    if (rc == KZ_OK)
        rc = issue(req, x509_req, res, err, errlen);
    X509_REQ_free(x509_req);
    if (rc != KZ_OK)
        kz_csr_result_release(res);
    return rc;
}

void kz_csr_result_release(struct kz_csr_result *res)
{
    OPENSSL_free(res->cert_der);
    OPENSSL_free(res->ca_der);
    free(res->serial);
    memset(res, 0, sizeof(*res));
}
