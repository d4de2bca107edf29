/*
 * token.c - mission tokens: JWTs (RFC 7519) signed with the server's TLS
 * private key, ES256 for an EC P-256 key and RS256 for RSA, as TAK Server's
 * MissionTokenUtils signs them with its own key.  Claims: sub (clientUid),
 * mission, missionGuid, role, type, iat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "mission/mission.h"

#define JWT_MAX 8192

struct kz_mission_signer {
    EVP_PKEY *key;
    bool ec; /* ES256, else RS256 */
};

static const char *const type_names[] = {"SUBSCRIPTION", "INVITATION", "ACCESS"};

/* ---- the key --------------------------------------------------------------- */

static int adopt(EVP_PKEY *key, struct kz_mission_signer **out)
{
    int id = EVP_PKEY_base_id(key);
    char group[32] = "";
    size_t glen = 0;

    if (id == EVP_PKEY_EC &&
        (!EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &glen) ||
         strcmp(group, "prime256v1") != 0))
        id = EVP_PKEY_NONE;
    if (id != EVP_PKEY_EC && id != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        return KZ_ERR_INVAL;
    }
    *out = kz_xcalloc(1, sizeof(**out));
    (*out)->key = key;
    (*out)->ec = id == EVP_PKEY_EC;
    return KZ_OK;
}

int kz_mission_signer_load(const char *key_path, struct kz_mission_signer **out)
{
    FILE *f = fopen(key_path, "r");
    EVP_PKEY *key;

    *out = NULL;
    if (!f)
        return KZ_ERR_IO;
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return key ? adopt(key, out) : KZ_ERR_INVAL;
}

struct kz_mission_signer *kz_mission_signer_ephemeral(void)
{
    struct kz_mission_signer *s = NULL;
    EVP_PKEY *key = EVP_EC_gen("P-256");

    if (!key || adopt(key, &s) != KZ_OK)
        KZ_BUG("cannot make a P-256 key");
    return s;
}

void kz_mission_signer_free(struct kz_mission_signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    free(s);
}

/* ---- base64url ---------------------------------------------------------------- */

static void b64url(struct kz_sbuf *out, const unsigned char *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t k = n - i < 3 ? n - i : 3;
        if (k > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (k > 2)
            v |= p[i + 2];
        for (size_t j = 0; j < k + 1; j++)
            kz_sbuf_add(out, &a[(v >> (18 - 6 * j)) & 63], 1);
    }
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Decode s[0..n) into out (at least n bytes); -1 on a bad character or length. */
static long unb64url(const char *s, size_t n, unsigned char *out)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    long len = 0;

    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (unsigned char)(acc >> bits);
        }
    }
    return len;
}

/* ---- signing ------------------------------------------------------------------ */

/* ES256 signatures are r||s, 32 bytes each (RFC 7518 3.4), not DER. */
static int der_to_raw(const unsigned char *der, size_t len, unsigned char raw[64])
{
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)len);
    const BIGNUM *r, *s;
    int ok;

    if (!sig)
        return KZ_ERR_INVAL;
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok ? KZ_OK : KZ_ERR_INVAL;
}

static unsigned char *raw_to_der(const unsigned char raw[64], size_t *len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    unsigned char *der = NULL;
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
    int n;

    if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return NULL;
    }
    n = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    *len = n > 0 ? (size_t)n : 0;
    return n > 0 ? der : NULL;
}

static int sign(const struct kz_mission_signer *s, const char *msg, size_t len, struct kz_sbuf *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[1024], raw[64];
    size_t n = sizeof(sig);
    int err = KZ_ERR_INVAL;

    if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, s->key) != 1 ||
        EVP_DigestSign(ctx, sig, &n, (const unsigned char *)msg, len) != 1)
        goto out;
    if (s->ec) {
        if (der_to_raw(sig, n, raw) != KZ_OK)
            goto out;
        b64url(out, raw, sizeof(raw));
    } else {
        b64url(out, sig, n);
    }
    err = KZ_OK;
out:
    EVP_MD_CTX_free(ctx);
    return err;
}

static json_t *claims_json(const struct kz_mission_token_claims *c)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "sub", c->sub, "mission", c->mission,
                     "missionGuid", c->guid, "role",
                     kz_mission_role_name(c->role) ? kz_mission_role_name(c->role) : "", "type",
                     type_names[c->type], "iat", (json_int_t)c->iat);
}

char *kz_mission_token_sign(const struct kz_mission_signer *s,
                            const struct kz_mission_token_claims *c)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    json_t *claims = claims_json(c);
    char *payload = claims ? json_dumps(claims, JSON_COMPACT) : NULL;
    const char *head =
        s->ec ? "{\"alg\":\"ES256\",\"typ\":\"JWT\"}" : "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    char *jwt = NULL;

    json_decref(claims);
    if (!payload || (unsigned)c->type >= KZ_ARRAY_LEN(type_names))
        goto out;
    b64url(&sb, (const unsigned char *)head, strlen(head));
    kz_sbuf_adds(&sb, ".");
    b64url(&sb, (const unsigned char *)payload, strlen(payload));
    size_t signed_len = sb.len;
    kz_sbuf_adds(&sb, ".");
    if (sign(s, sb.buf, signed_len, &sb) == KZ_OK)
        jwt = kz_xstrndup(sb.buf, sb.len);
out:
    free(payload);
    kz_sbuf_release(&sb);
    return jwt;
}

/* ---- verifying ---------------------------------------------------------------- */

static int check_sig(const struct kz_mission_signer *s, const char *msg, size_t len,
                     const unsigned char *sig, size_t n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    size_t der_len = n;
    int ok = 0;

    if (s->ec) {
        if (n != 64 || !(der = raw_to_der(sig, &der_len)))
            goto out;
        sig = der;
    }
    ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, s->key) == 1 &&
         EVP_DigestVerify(ctx, sig, der_len, (const unsigned char *)msg, len) == 1;
out:
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    return ok ? KZ_OK : KZ_ERR_DENIED;
}

static json_t *part_json(const char *p, size_t n)
{
    unsigned char *buf = kz_xmalloc(n + 1);
    long len = unb64url(p, n, buf);
    json_t *j = len >= 0 ? json_loadb((const char *)buf, (size_t)len, 0, NULL) : NULL;

    free(buf);
    return json_is_object(j) ? j : (json_decref(j), NULL);
}

static int copy_claim(json_t *o, const char *key, char *dst, size_t cap)
{
    const char *v = json_string_value(json_object_get(o, key));

    if (!v || strlen(v) >= cap)
        return KZ_ERR_PARSE;
    memcpy(dst, v, strlen(v) + 1);
    return KZ_OK;
}

static int read_claims(json_t *o, struct kz_mission_token_claims *out)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    unsigned t;

    if (copy_claim(o, "sub", out->sub, sizeof(out->sub)) ||
        copy_claim(o, "mission", out->mission, sizeof(out->mission)) ||
        copy_claim(o, "missionGuid", out->guid, sizeof(out->guid)) ||
        !json_is_integer(json_object_get(o, "iat")))
        return KZ_ERR_PARSE;
    out->iat = json_integer_value(json_object_get(o, "iat"));
    if (kz_mission_role_parse(json_string_value(json_object_get(o, "role")), &out->role))
        return KZ_ERR_DENIED;
    for (t = 0; type && t < KZ_ARRAY_LEN(type_names); t++)
        if (strcmp(type, type_names[t]) == 0)
            break;
    if (!type || t == KZ_ARRAY_LEN(type_names))
        return KZ_ERR_DENIED;
    out->type = (enum kz_mission_token_type)t;
    return KZ_OK;
}

static int check_head(const struct kz_mission_signer *s, const char *jwt, size_t n)
{
    json_t *h = part_json(jwt, n);
    const char *alg = json_string_value(json_object_get(h, "alg"));
    int err = !h                                                   ? KZ_ERR_PARSE
              : alg && strcmp(alg, s->ec ? "ES256" : "RS256") == 0 ? KZ_OK
                                                                   : KZ_ERR_DENIED;
    json_decref(h);
    return err;
}

int kz_mission_token_verify(const struct kz_mission_signer *s, const char *jwt,
                            struct kz_mission_token_claims *out)
{
    const char *d1 = jwt ? strchr(jwt, '.') : NULL, *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    size_t slen = d2 ? strlen(d2 + 1) : 0;
    unsigned char sig[1024];
    long n;
    int err;

    memset(out, 0, sizeof(*out));
    if (!d2 || strlen(jwt) > JWT_MAX || strchr(d2 + 1, '.') || slen > 4 * sizeof(sig) / 3)
        return KZ_ERR_PARSE;
    if ((err = check_head(s, jwt, (size_t)(d1 - jwt))) != KZ_OK)
        return err;
    if ((n = unb64url(d2 + 1, slen, sig)) < 0)
        return KZ_ERR_PARSE;
    if ((err = check_sig(s, jwt, (size_t)(d2 - jwt), sig, (size_t)n)) != KZ_OK)
        return err;
    json_t *c = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
    err = c ? read_claims(c, out) : KZ_ERR_PARSE;
    json_decref(c);
    return err;
}

static const char *bearer(const char *v)
{
    if (!v || strncasecmp(v, "Bearer ", 7) != 0)
        return NULL;
    v += 7;
    while (*v == ' ')
        v++;
    return *v ? v : NULL;
}

const char *kz_mission_bearer(const char *mission_authorization, const char *authorization)
{
    const char *t = bearer(mission_authorization);

    return t ? t : bearer(authorization);
}
