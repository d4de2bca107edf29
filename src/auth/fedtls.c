/*
 * fedtls.c - federation TLS: one server context trusting every peer's CA,
 * one client context per peer trusting only that peer's CA, the mapping of
 * a verified chain to its peer, and the peer checks that need labels.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "auth/fedtls.h"
#include "label/label.h"

static const unsigned char alpn_h2[] = {2, 'h', '2'};

static int ssl_fail(const char *what, char *err, size_t errlen)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";

    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    snprintf(err, errlen, "federation: %s: %s", what, buf);
    return KZ_ERR_CONFIG;
}

static void resolve(char *out, size_t len, const char *dir, const char *path)
{
    if (!dir || path[0] == '/')
        snprintf(out, len, "%s", path);
    else
        snprintf(out, len, "%s/%s", dir, path);
}

/* The peer's CA file: readable, PEM, a CA certificate. */
static struct x509_st *load_ca(const struct kz_config_federation *f,
                               const struct kz_fed_peer_conf *p, char *err, size_t errlen)
{
    FILE *fp = fopen(p->ca, "r");
    X509 *x = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;

    if (fp)
        fclose(fp);
    ERR_clear_error();
    if (!fp || !x || X509_check_ca(x) < 1) {
        snprintf(err, errlen, "%s:%d: federation peer '%s': ca '%s' %s", f->file, p->line, p->name,
                 p->ca,
                 !fp  ? "cannot be read"
                 : !x ? "holds no PEM certificate"
                      : "is not a CA certificate");
        X509_free(x);
        return NULL;
    }
    return x;
}

static int select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                     const unsigned char *in, unsigned int inlen, void *arg)
{
    unsigned char *sel;

    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, alpn_h2, sizeof(alpn_h2), in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* v1 peers offer no ALPN */
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* A context with the node's certificate chain and key, peers verified. */
static SSL_CTX *new_ctx(bool server, const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_fail("node certificate/key (tls.cert, tls.key)", err, errlen);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    if (server) {
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_alpn_select_cb(ctx, select_h2, NULL);
    }
    return ctx;
}

static int trust(SSL_CTX *ctx, X509 *ca, char *err, size_t errlen)
{
    if (X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca) != 1)
        return ssl_fail("cannot trust a peer CA", err, errlen);
    return KZ_OK;
}

static int build_peer(struct kz_fed_tls *t, const struct kz_config_federation *f, unsigned i,
                      const char *cert, const char *key, char *err, size_t errlen)
{
    const struct kz_fed_peer_conf *p = &f->peers[i];

    if (!(t->peer_ca[i] = load_ca(f, p, err, errlen)))
        return KZ_ERR_CONFIG;
    if (!(t->client[i] = new_ctx(false, cert, key, err, errlen)))
        return KZ_ERR_CONFIG;
    if (strcmp(p->protocol, "v2") == 0 &&
        SSL_CTX_set_alpn_protos(t->client[i], alpn_h2, sizeof(alpn_h2)) != 0)
        return ssl_fail("ALPN", err, errlen);
    if (trust(t->client[i], t->peer_ca[i], err, errlen) != KZ_OK)
        return KZ_ERR_CONFIG;
    return trust(t->server, t->peer_ca[i], err, errlen);
}

int kz_fed_tls_build_in(const struct kz_config *cfg, const char *data_dir, struct kz_fed_tls *out,
                        char *err, size_t errlen)
{
    const struct kz_config_federation *f = cfg->federation;
    char cert[1024], key[1024];
    int rc = KZ_OK;

    memset(out, 0, sizeof(*out));
    if (!f)
        return KZ_OK;
    resolve(cert, sizeof(cert), data_dir, cfg->tls->cert);
    resolve(key, sizeof(key), data_dir, cfg->tls->key);
    out->client = kz_xcalloc(f->peers_count + 1, sizeof(*out->client));
    out->peer_ca = kz_xcalloc(f->peers_count + 1, sizeof(*out->peer_ca));
    out->n = f->peers_count;
    if (!(out->server = new_ctx(true, cert, key, err, errlen)))
        rc = KZ_ERR_CONFIG;
    for (unsigned i = 0; rc == KZ_OK && i < f->peers_count; i++)
        rc = build_peer(out, f, i, cert, key, err, errlen);
    if (rc != KZ_OK)
        kz_fed_tls_release(out);
    return rc;
}

int kz_fed_tls_build(const struct kz_config *cfg, struct kz_fed_tls *out, char *err, size_t errlen)
{
    return kz_fed_tls_build_in(cfg, NULL, out, err, errlen);
}

void kz_fed_tls_release(struct kz_fed_tls *t)
{
    for (unsigned i = 0; i < t->n; i++) {
        if (t->client)
            SSL_CTX_free(t->client[i]);
        if (t->peer_ca)
            X509_free(t->peer_ca[i]);
    }
    SSL_CTX_free(t->server);
    free(t->client);
    free(t->peer_ca);
    memset(t, 0, sizeof(*t));
}

static bool signed_by(X509 *x, X509 *issuer)
{
    EVP_PKEY *pk = X509_get0_pubkey(issuer);
    bool ok = pk && X509_check_issued(issuer, x) == X509_V_OK && X509_verify(x, pk) == 1;

    ERR_clear_error();
    return ok;
}

int kz_fed_tls_peer_of(const struct kz_fed_tls *t, struct stack_st_X509 *chain)
{
    int n = chain ? sk_X509_num(chain) : 0;

    for (int k = 0; k < n; k++) {
        X509 *cur = sk_X509_value(chain, k);
        for (unsigned i = 0; i < t->n; i++)
            if (signed_by(cur, t->peer_ca[i]))
                return (int)i;
        /* Up one step only along a real signature. */
        if (k + 1 >= n || !signed_by(cur, sk_X509_value(chain, k + 1)))
            return -1;
    }
    return -1;
}

/* ---- checks that need the label policy ------------------------------------------------ */

static int peer_fail(const struct kz_config_federation *f, const struct kz_fed_peer_conf *p,
                     char *err, size_t errlen, const char *what, const char *why)
{
    snprintf(err, errlen, "%s:%d: federation peer '%s': %s%s", f->file, p->line, p->name, what,
             why);
    return KZ_ERR_CONFIG;
}

static int parse_label(const struct kz_label_policy *pol, const char *text, struct kz_label *out,
                       char *why, size_t len)
{
    char msg[256];

    if (kz_label_parse(pol, text, strlen(text), out, msg, sizeof(msg)) == KZ_OK)
        return KZ_OK;
    snprintf(why, len, " \"%s\": %s", text, msg);
    return KZ_ERR_CONFIG;
}

static int check_peer(const struct kz_config_federation *f, const struct kz_fed_peer_conf *p,
                      const struct kz_label_policy *pol, char *err, size_t errlen)
{
    struct kz_release_subject subj;
    struct kz_label def, ceil;
    char why[400];
    const struct kz_identity *id = p->identity;

    if (kz_nation_index(id->nation, strlen(id->nation)) == KZ_NATION_NONE)
        return peer_fail(f, p, err, errlen,
                         "identity nation is not an ISO 3166 code: ", id->nation);
    if (kz_release_subject_from(id, pol, &subj) != KZ_OK)
        return peer_fail(f, p, err, errlen,
                         "identity clearance is not a level name: ", id->clearance);
    if (parse_label(pol, p->default_label, &def, why, sizeof(why)) != KZ_OK)
        return peer_fail(f, p, err, errlen, "default_label", why);
    if (parse_label(pol, p->ceiling, &ceil, why, sizeof(why)) != KZ_OK)
        return peer_fail(f, p, err, errlen, "ceiling", why);
    if (!kz_label_dominated(&def, &ceil))
        return peer_fail(f, p, err, errlen, "default_label is above ceiling", "");
    return KZ_OK;
}

int kz_fed_conf_check(const struct kz_config *cfg, const struct kz_label_policy *policy, char *err,
                      size_t errlen)
{
    const struct kz_config_federation *f = cfg->federation;

    for (unsigned i = 0; f && i < f->peers_count; i++) {
        int rc = check_peer(f, &f->peers[i], policy, err, errlen);
        if (rc)
            return rc;
    }
    return KZ_OK;
}
