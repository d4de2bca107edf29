/*
 * fuzz_http_request - the HTTP request parser, the target/query parsing
 * behind it and the route matcher.  The input is split in two at a position taken from its first
 * byte, so requests cut across reads are explored too.  Invariants: never
 * crash; a refused request names a 4xx status; a complete request's body
 * respects the body limit and its header count the header limit; its path
 * is a terminated string (or NULL) after any percent-escape.  Requests
 * whose path starts with /up take their bodies as streams (as the upload
 * rows do), pausing every third piece: their bodies never accumulate in the
 * request, and the requests after them parse as usual.
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

static bool stream_up(void *ud, struct kz_http_req *req)
{
    (void)ud;
    return req->target.path && strncmp(req->target.path, "/up", 3) == 0;
}

static int streamed_data(void *ud, const char *at, size_t len)
{
    unsigned *calls = ud;

    (void)at;
    KZ_ASSERT(len > 0);
    return ++*calls % 3 ? KZ_OK : KZ_ERR_AGAIN;
}

/* A pause of a streamed request: take it at its headers, go on after any. */
static bool streamed_step(struct kz__http_parser *hp)
{
    if (!hp->head_ready && !hp->data_paused && !hp->body_done)
        return false;
    if (hp->head_ready)
        kz__http_req_free(kz__http_parser_take(hp));
    KZ_ASSERT(hp->req->body.len == 0);
    kz__http_parser_go_on(hp);
    return true;
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
        if (streamed_step(hp))
            continue;
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
    unsigned calls = 0;

    if (size < 1)
        return 0;
    size_t cut = size > 1 ? data[0] % size : 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (cut > n)
        cut = n;
    kz__http_parser_init(&hp, &lim);
    hp.stream_body = stream_up;
    hp.on_data = streamed_data;
    hp.ud = &calls;
    feed_all(&hp, &lim, p, cut, &dead);
    feed_all(&hp, &lim, p + cut, n - cut, &dead);
    kz__http_parser_release(&hp);
    return 0;
}
