/*
 * fuzz_http_request - the HTTP request parser, the target/query parsing
 * behind it and the route matcher.  The input is split in two at a position taken from its first
 * byte, so requests cut across reads are explored too.  Invariants: never
 * crash; a refused request names a 4xx status; a complete request's body
 * respects the body limit and its header count the header limit; its path
 * is a terminated string (or NULL) after any percent-escape.
 */
#include <stdint.h>
#include <string.h>

#include "http/internal.h"

static void check_request(const struct kz__http_parser *hp, const struct kz__http_limits *lim)
{
    struct kz_http_req *req = hp->req;

    KZ_ASSERT(req->body.len <= lim->max_body);
    KZ_ASSERT(req->n_headers <= lim->max_headers);
    KZ_ASSERT(req->target.path && strlen(req->target.path) < 65536);
    kz__http_route_match("/api/v1/alliance/commands/{id}", req->target.path, req);
    kz_http_param(req, "limit");
    kz_http_path_param(req, "id");
}

static void feed_all(struct kz__http_parser *hp, const struct kz__http_limits *lim,
                     const char *data, size_t len, bool *dead)
{
    while (len && !*dead) {
        size_t used = 0;
        if (kz__http_parser_feed(hp, data, len, &used) != KZ_OK) {
            KZ_ASSERT(hp->error_status >= 400 && hp->error_status < 500);
            *dead = true;
            return;
        }
        KZ_ASSERT(used <= len);
        data += used;
        len -= used;
        if (!hp->ready) {
            KZ_ASSERT(len == 0);
            return;
        }
        check_request(hp, lim);
        kz__http_parser_next(hp);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kz__http_limits lim = {.max_header_bytes = 16384, .max_headers = 64, .max_body = 65536};
    struct kz__http_parser hp;
    bool dead = false;

    if (size < 1)
        return 0;
    size_t cut = size > 1 ? data[0] % size : 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (cut > n)
        cut = n;
    kz__http_parser_init(&hp, &lim);
    feed_all(&hp, &lim, p, cut, &dead);
    feed_all(&hp, &lim, p + cut, n - cut, &dead);
    kz__http_parser_release(&hp);
    return 0;
}
