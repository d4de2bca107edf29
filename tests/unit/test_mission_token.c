/*
 * Unit tests for mission tokens (src/mission/token.c): ES256 and RS256
 * JWTs sign and verify, carry their claims, and refuse tampering (payload,
 * signature, algorithm), another key and garbage; the bearer headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "mission/mission.h"

static struct kz_mission_token_claims claims(void)
{
    struct kz_mission_token_claims c = {
        .role = KZ_MROLE_OWNER, .type = KZ_MTOKEN_SUBSCRIPTION, .iat = 1780000000};

    snprintf(c.sub, sizeof(c.sub), "ANDROID-1");
    snprintf(c.mission, sizeof(c.mission), "alpha");
    snprintf(c.guid, sizeof(c.guid), "0a1b2c3d-0000-4000-8000-000000000000");
    return c;
}

static void round_trip(struct kz_mission_signer *s, const char *alg)
{
    struct kz_mission_token_claims c = claims(), out;
    char *jwt = kz_mission_token_sign(s, &c);

    assert_non_null(jwt);
    assert_int_equal(kz_mission_token_verify(s, jwt, &out), KZ_OK);
    assert_string_equal(out.sub, "ANDROID-1");
    assert_string_equal(out.mission, "alpha");
    assert_string_equal(out.guid, c.guid);
    assert_int_equal(out.role, KZ_MROLE_OWNER);
    assert_int_equal(out.type, KZ_MTOKEN_SUBSCRIPTION);
    assert_int_equal(out.iat, 1780000000);
    /* The header names the algorithm: base64url of {"alg":"ES256"... */
    assert_int_equal(strncmp(jwt, alg, strlen(alg)), 0);
    free(jwt);
}

static void es256(void **state)
{
    struct kz_mission_signer *s = kz_mission_signer_ephemeral();

    (void)state;
    round_trip(s, "eyJhbGciOiJFUzI1NiIs");
    kz_mission_signer_free(s);
}

static void rs256_from_pem(void **state)
{
    char path[] = "/tmp/kz-token-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    EVP_PKEY *k = EVP_RSA_gen(2048);
    struct kz_mission_signer *s;

    (void)state;
    assert_non_null(k);
    assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    EVP_PKEY_free(k);
    assert_int_equal(kz_mission_signer_load(path, &s), KZ_OK);
    unlink(path);
    round_trip(s, "eyJhbGciOiJSUzI1NiIs");
    kz_mission_signer_free(s);
    assert_int_equal(kz_mission_signer_load("/nonexistent/key.pem", &s), KZ_ERR_IO);
}

static void tampering(void **state)
{
    struct kz_mission_signer *s = kz_mission_signer_ephemeral(),
                             *other = kz_mission_signer_ephemeral();
    struct kz_mission_token_claims c = claims(), out;
    char *jwt = kz_mission_token_sign(s, &c);
    char *p1 = strchr(jwt, '.') + 1, *p2 = strchr(p1, '.') + 1;

    (void)state;
    assert_int_equal(kz_mission_token_verify(other, jwt, &out), KZ_ERR_DENIED);
    /* Another role in the payload, same signature. */
    c.role = KZ_MROLE_READONLY_SUBSCRIBER;
    char *low = kz_mission_token_sign(s, &c);
    char *forged = NULL;
    char *lp1 = strchr(low, '.') + 1;
    size_t head = (size_t)(p1 - jwt);
    size_t lpay = (size_t)(strchr(lp1, '.') - lp1);
    assert_true(asprintf(&forged, "%.*s%.*s.%s", (int)head, jwt, (int)lpay, lp1, p2) > 0);
    assert_int_equal(kz_mission_token_verify(s, forged, &out), KZ_ERR_DENIED);
    free(forged);
    /* A flipped signature byte. */
    p2[3] = p2[3] == 'A' ? 'B' : 'A';
    assert_int_equal(kz_mission_token_verify(s, jwt, &out), KZ_ERR_DENIED);
    /* alg none */
    assert_true(asprintf(&forged, "eyJhbGciOiJub25lIn0.%.*s.", (int)lpay, lp1) > 0);
    assert_int_not_equal(kz_mission_token_verify(s, forged, &out), KZ_OK);
    free(forged);
    assert_int_equal(kz_mission_token_verify(s, "garbage", &out), KZ_ERR_PARSE);
    assert_int_equal(kz_mission_token_verify(s, "a.b.c.d", &out), KZ_ERR_PARSE);
    assert_int_not_equal(kz_mission_token_verify(s, "..", &out), KZ_OK);
    free(jwt);
    free(low);
    kz_mission_signer_free(s);
    kz_mission_signer_free(other);
}

static void bearer(void **state)
{
    (void)state;
    assert_string_equal(kz_mission_bearer("Bearer abc", "Bearer def"), "abc");
    assert_string_equal(kz_mission_bearer(NULL, "bearer def"), "def");
    assert_null(kz_mission_bearer("Basic xyz", NULL));
    assert_null(kz_mission_bearer("Bearer ", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(es256),
        cmocka_unit_test(rs256_from_pem),
        cmocka_unit_test(tampering),
        cmocka_unit_test(bearer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
