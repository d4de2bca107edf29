/*
 * fuzz_http_reply - fuzz the response parser of the command-line clients
 * (kz_http_reply_parse).  The input is everything a server sent before it
 * closed.  Whatever the bytes: a refusal has a reason and leaves no status
 * and no body; an accepted answer has a status of three digits and a body
 * no longer than the limit nor than the input.
 */
#include <stdio.h>
#include <stdlib.h>

#include "http/http.h"

#define MAX_BODY 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_http_reply: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kz_http_reply r;
    char err[200] = "";

    if (kz_http_reply_parse((const char *)data, size, MAX_BODY, &r, err, sizeof(err)) != KZ_OK) {
        check(err[0] != '\0', "refusal without a reason");
        check(r.status == 0 && r.body.len == 0, "a refused answer kept a status or body");
    } else {
        check(r.status >= 100 && r.status <= 999, "status out of range");
        check(r.body.len <= MAX_BODY && r.body.len <= size, "body over its bounds");
    }
    kz_http_reply_release(&r);
    return 0;
}
