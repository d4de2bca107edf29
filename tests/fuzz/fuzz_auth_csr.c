/*
 * libFuzzer target: the enrollment CSR handler.  The input is a request
 * body as POST /Marti/api/tls/signClient/v2 receives it (PEM, bare base64
 * or anything else), checked and signed by kz_csr_sign() against a CA made
 * once in a temporary directory.  Nothing may crash, leak or read out of
 * bounds; a certificate may come out only for CN = the enrolling user.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

static char dir[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    char tmpl[] = "/tmp/kz-fuzz-csr-XXXXXX";

    (void)argc;
    (void)argv;
    if (!mkdtemp(tmpl))
        abort();
    snprintf(dir, sizeof(dir), "%s/pki", tmpl);
    if (kz_ca_init(dir, KZ_KEY_EC_P256, "localhost", "kizuna", false, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "fuzz_auth_csr: ca init: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const rdns[] = {"O", "OU", NULL};
    struct kz_csr_request req = {dir, (const char *)data, size, "alpha2", rdns, 30};
    struct kz_csr_result res;
    char err[256] = "";

    int rc = kz_csr_sign(&req, &res, err, sizeof(err));
    if (rc == KZ_OK && (!res.cert_der || !res.ca_der || !res.serial || res.cert_len == 0))
        abort();
    if (rc != KZ_OK && (res.cert_der || err[0] == '\0'))
        abort(); /* a refusal always says why and hands out nothing */
    kz_csr_result_release(&res);
    return 0;
}
