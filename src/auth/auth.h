/*
 * auth.h - identities, users, the certificate authority and enrollment.
 *
 * PKI files live in one directory (default DATA/pki):
 *   ca.pem, ca.key         the CA (key mode 0600)
 *   crl.pem                the CA's revocation list, rewritten on revoke
 *   server.pem, server.key the server certificate (+ CA: the chain) for TLS and federation
 *   USER.pem, USER.key, USER.p12   client certificates from `cert issue`
 * Every file is written to a temporary name and renamed into place, so a
 * running server never reads half a file.
 *
 * Users live in the store's database (tables users and certs; the SQL is in
 * store/users.c).  The functions here work through a users connection of
 * the store (struct kz_store_users); they block and are meant for the CLI
 * and for the server's worker threads (kz_users_load, enrollment), never
 * for the loop thread.
 *
 * Errors: KZ_OK or a KZ_ERR_* code with a one-line message in `err`
 * (every function taking err/errlen writes one on failure).
 */
#ifndef KZ_AUTH_H
#define KZ_AUTH_H

#include <stdio.h>

#include "core/core.h"

#define KZ_AUTH_DEFAULT_P12_PASSWORD "atakatak"
#define KZ_AUTH_MAX_CSR_BYTES 16384

/* ---- users --------------------------------------------------------------- */

/*
 * One users-table row.  Owned strings; list fields are comma-separated in
 * the table and split here.  kz_user_clear() frees them.
 */
struct kz_user {
    struct kz_identity id; /* user, nation, clearance, groups, roles, command */
    char *password_hash;   /* Argon2id (libsodium string) or NULL */
};

void kz_user_clear(struct kz_user *u);

/*
 * Open the database at `path` (migrated to the store's schema if needed).
 * kz_userdb_open wants the file to exist (a server's worker: the running
 * store made it); kz_userdb_create makes it (the CLI; the directory must
 * exist).
 */
struct kz_userdb;
int kz_userdb_open(const char *path, struct kz_userdb **out, char *err, size_t errlen);
int kz_userdb_create(const char *path, struct kz_userdb **out, char *err, size_t errlen);
void kz_userdb_close(struct kz_userdb *db); /* NULL is fine */

/*
 * Insert or replace a user's identity.  The password hash is kept unless
 * `password` is not NULL (then it is replaced with a fresh Argon2id hash).
 */
int kz_userdb_put(struct kz_userdb *db, const struct kz_identity *id, const char *password,
                  char *err, size_t errlen);
/* KZ_ERR_NOTFOUND when there is no such user. */
int kz_userdb_get(struct kz_userdb *db, const char *user, struct kz_user *out, char *err,
                  size_t errlen);
int kz_userdb_del(struct kz_userdb *db, const char *user, char *err, size_t errlen);
int kz_userdb_set_password(struct kz_userdb *db, const char *user, const char *password, char *err,
                           size_t errlen);
/* Call fn for each user, by name.  The row is valid during the call. */
int kz_userdb_each(struct kz_userdb *db, void (*fn)(void *ud, const struct kz_user *u), void *ud,
                   char *err, size_t errlen);
/* KZ_OK when `password` matches the stored hash, KZ_ERR_DENIED otherwise. */
int kz_userdb_check_password(struct kz_userdb *db, const char *user, const char *password);

/* Record an issued certificate (serial as upper-case hex). */
int kz_userdb_add_cert(struct kz_userdb *db, const char *user, const char *serial,
                       int64_t not_after_us, char *err, size_t errlen);
/*
 * Mark every unrevoked certificate of `user` revoked; *n = how many.
 * KZ_ERR_NOTFOUND when there was none.
 */
int kz_userdb_revoke_user(struct kz_userdb *db, const char *user, unsigned *n, char *err,
                          size_t errlen);
/* Call fn(serial_hex, revoked_at_us) for every revoked certificate. */
int kz_userdb_each_revoked(struct kz_userdb *db,
                           void (*fn)(void *ud, const char *serial, int64_t revoked_us), void *ud,
                           char *err, size_t errlen);

/* Argon2id (libsodium interactive limits). */
int kz_password_hash(const char *password, char *out, size_t outlen);
bool kz_password_verify(const char *hash, const char *password);

/* ---- password guessing (backoff.c) -------------------------------------- */

/*
 * Failed passwords per key (a login name, a peer address): the first 4
 * cost nothing, the 5th makes the key wait 1 s, each further one doubles
 * the wait up to 60 s; a key quiet for 15 minutes starts afresh.  At most
 * `max_keys` keys are kept (the least recently touched one is dropped for a
 * new one).  Keys are stored only as keyed hashes.  Times are monotonic
 * microseconds (kz_mono_us).  Not thread-safe: one thread (the loop) uses it.
 */
#define KZ_BACKOFF_MAX_KEYS 4096
struct kz_backoff;
struct kz_backoff *kz_backoff_new(unsigned max_keys); /* never NULL */
void kz_backoff_free(struct kz_backoff *b);           /* NULL is fine */
/* How long `key` must still wait before its next try (0: it may try now). */
int64_t kz_backoff_wait(struct kz_backoff *b, const char *key, int64_t now_us);
/* Count a failure; returns the wait it now imposes (0 below 5 failures). */
int64_t kz_backoff_fail(struct kz_backoff *b, const char *key, int64_t now_us);
/* A success: drop what `key` had. */
void kz_backoff_forget(struct kz_backoff *b, const char *key);

/* ---- the in-memory user table the server looks identities up in ------- */

/*
 * An immutable snapshot of every user (built off the loop, swapped in on it).
 * kz_users_find() returns a pointer valid for the snapshot's lifetime.
 */
struct kz_users;
int kz_users_load(const char *db_path, struct kz_users **out, char *err, size_t errlen);
const struct kz_user *kz_users_find(const struct kz_users *u, const char *user);
unsigned kz_users_count(const struct kz_users *u);
/* Same user name, nation, clearance, command, groups (in order) and roles. */
bool kz_identity_same(const struct kz_identity *a, const struct kz_identity *b);
/* Every identity the same (password hashes are not compared: the snapshot has none). */
bool kz_users_same(const struct kz_users *a, const struct kz_users *b);
/*
 * Every user of `a` that `b` no longer has (deleted true) or has with another identity (deleted
 * false), in name order; users only `b` has are not named.
 */
void kz_users_diff(const struct kz_users *a, const struct kz_users *b,
                   void (*fn)(void *ud, const char *user, bool deleted), void *ud);
void kz_users_ref(struct kz_users *u);
void kz_users_unref(struct kz_users *u); /* NULL is fine */

/* ---- the certificate authority ----------------------------------------- */

struct kz_pki {
    char dir[512];
    char ca[600], ca_key[600], crl[600], server[600], server_key[600];
};

void kz_pki_paths(struct kz_pki *p, const char *dir);

enum kz_key_alg { KZ_KEY_EC_P256, KZ_KEY_RSA3072 };

/*
 * Create ca.pem/ca.key (10 years), an empty crl.pem and server.pem/.key
 * (2 years) for `hosts` ("localhost,127.0.0.1"; DNS names and IP
 * addresses).  server.pem holds the chain (server certificate, then the CA)
 * and the certificate has serverAuth and clientAuth, so it is also the
 * node's federation certificate.  KZ_ERR_EXISTS when ca.pem exists and !force.
 */
int kz_ca_init(const char *dir, enum kz_key_alg alg, const char *hosts, const char *org, bool force,
               char *err, size_t errlen);

/*
 * Issue a client certificate (CN = user, 1 year) and write USER.pem,
 * USER.key and USER.p12 (the key, the certificate and the CA, protected by
 * p12_password).  *serial receives the serial as hex (free it).
 */
int kz_cert_issue(const char *dir, const char *user, int days, const char *p12_password,
                  char **serial, int64_t *not_after_us, char *err, size_t errlen);

/* Rewrite crl.pem listing every revoked serial from the database. */
int kz_crl_write(const char *dir, struct kz_userdb *db, char *err, size_t errlen);

/* What an enrollment asks kz_csr_sign() to sign.  Borrowed for the call. */
struct kz_csr_request {
    const char *dir;                 /* PKI directory (ca.pem, ca.key) */
    const char *csr;                 /* PEM or bare base64 DER, not NUL-terminated */
    size_t len;                      /* at most KZ_AUTH_MAX_CSR_BYTES */
    const char *user;                /* the subject CN must equal it exactly */
    const char *const *allowed_rdns; /* other RDNs allowed: NULL-terminated short
                                        names, e.g. {"O","OU",NULL}; may be NULL */
    int days;                        /* validity of the certificate */
};

/* The signed certificate.  Owned by the caller: kz_csr_result_release(). */
struct kz_csr_result {
    unsigned char *cert_der; /* the client certificate, DER */
    size_t cert_len;
    unsigned char *ca_der; /* the issuing CA, DER */
    size_t ca_len;
    char *serial; /* hex */
    int64_t not_after_us;
};

/*
 * Enrollment: sign req->csr, whose subject CN equals req->user byte for byte
 * and carries no other RDNs than req->allowed_rdns.  The certificate's
 * subject is CN=req->user, whatever else the CSR's subject held.  Key: EC P-256/P-384 or RSA
 * 2048-4096.  `res` is overwritten; on success it holds the certificate,
 * on failure it is empty.  KZ_OK, KZ_ERR_PARSE (not a CSR, bad signature),
 * KZ_ERR_DENIED (wrong CN, key or names), KZ_ERR_TOOBIG, or another error
 * loading the CA; the reason is in err.
 */
int kz_csr_sign(const struct kz_csr_request *req, struct kz_csr_result *res, char *err,
                size_t errlen);
/* Free what a result holds and empty it; an empty result is fine. */
void kz_csr_result_release(struct kz_csr_result *res);

/*
 * Write a data package for `user` to `zip_path`: the client and truststore
 * .p12 files and a connection preference file pointing at host:port (ssl).
 */
int kz_cert_package(const char *dir, const char *user, const char *host, int port,
                    const char *p12_password, const char *zip_path, char *err, size_t errlen);

#endif
