/*
 * fedtls.h - the TLS contexts of federation (issue 12) and the checks of the
 * `federation:` section that need certificates, nations and labels.
 *
 * Owned by auth; used by the link manager (src/fed) and the server.  The
 * node's own federation certificate is its server certificate (tls.cert,
 * tls.key; `kizuna ca init` gives it serverAuth and clientAuth and writes the
 * chain with the CA).  Every peer is known by its national CA: a link's
 * certificate issued by peer i's CA is peer i, whatever its subject says.
 * OpenSSL types are named by their struct tags so this header needs no
 * OpenSSL include.
 */
#ifndef KZ_AUTH_FEDTLS_H
#define KZ_AUTH_FEDTLS_H

#include "core/core.h"

struct kz_label_policy;
struct ssl_ctx_st;
struct x509_st;
struct stack_st_X509;

/* Built once at start; every pointer is owned (kz_fed_tls_release). */
struct kz_fed_tls {
    /* Mutual TLS; trusts every peer CA; ALPN: selects "h2" if offered (v1 peers offer none). */
    struct ssl_ctx_st *server;
    /* Per peer (config order): trusts that peer's CA only; ALPN "h2" for v2. */
    struct ssl_ctx_st **client;
    struct x509_st **peer_ca; /* per peer: its CA certificate */
    unsigned n;
};

/*
 * Build from the configuration (the node's cert/key/chain from tls.*, each
 * peer's `ca` file, relative to the working directory).  KZ_OK or
 * KZ_ERR_CONFIG with a message ("FILE:LINE: federation peer 'x': ..." for a
 * peer's CA that is unreadable or not a CA certificate).  A configuration
 * without `federation:` gives an empty *out (KZ_OK).
 */
int kz_fed_tls_build(const struct kz_config *cfg, struct kz_fed_tls *out, char *err, size_t errlen);

/* The same with tls.* relative to `data_dir` (`--data`), as the TLS inputs read them; NULL = the
 * working directory.  Peers' `ca` files stay relative to the working directory. */
int kz_fed_tls_build_in(const struct kz_config *cfg, const char *data_dir, struct kz_fed_tls *out,
                        char *err, size_t errlen);

/* Free every context and certificate in *t (connections made from a context keep their own
 * reference to it, so links may outlive the release) and zero it. */
void kz_fed_tls_release(struct kz_fed_tls *t);

/*
 * The peer (index) whose CA issued this verified chain, or -1 (unknown CA:
 * refuse, log).  chain[0] must be the peer's own certificate (OpenSSL's
 * SSL_get0_verified_chain on either side); the walk follows signatures from
 * it, so a CA certificate merely appended to a chain names no one.  `chain` is borrowed.
 */
int kz_fed_tls_peer_of(const struct kz_fed_tls *t, struct stack_st_X509 *chain);

/*
 * The checks of `federation.peers` that need the label policy: identity
 * nation a known ISO 3166 code, clearance a level name, default_label and
 * ceiling valid labels with default_label not above ceiling.  KZ_OK or
 * KZ_ERR_CONFIG with "FILE:LINE: federation peer 'x': ...".
 */
int kz_fed_conf_check(const struct kz_config *cfg, const struct kz_label_policy *policy, char *err,
                      size_t errlen);

#endif
