/*
 * fuzz_mission_multipart - fuzz the multipart/form-data parser, the body of
 * a POST /Marti/sync/upload or missionupload (kz_multipart_feed, boundary
 * "XyZ-1").  The first byte picks a piece size, the rest is the body.
 * Whatever the bytes: the body parsed whole and parsed in pieces of that
 * size give the same parts (names, filenames, types, data) and the same
 * outcome; part data never exceeds the body; every part that begins ends,
 * except the last one of a refused or unfinished body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mission/files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    struct kz_sbuf log; /* every callback, in order, with its data */
    size_t data_bytes;
    unsigned begun, ended;
};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_mission_multipart: %s\n", what);
        abort();
    }
}

static int on_begin(void *ud, const struct kz_multipart_part *p)
{
    struct seen *s = ud;

    check(s->begun == s->ended, "a part began inside another");
    s->begun++;
    kz_sbuf_addf(&s->log, "B[%s|%s|%s]", p->name, p->filename ? p->filename : "-",
                 p->content_type ? p->content_type : "-");
    s->data_bytes = 0;
    return KZ_OK;
}

static int on_data(void *ud, const char *d, size_t n)
{
    struct seen *s = ud;

    check(n > 0, "an empty data call");
    check(s->begun == s->ended + 1, "data outside a part");
    kz_sbuf_add(&s->log, d, n); /* pieces are joined: the split must not show */
    s->data_bytes += n;
    return KZ_OK;
}

static int on_end(void *ud)
{
    struct seen *s = ud;

    check(s->begun == s->ended + 1, "a part ended twice");
    s->ended++;
    kz_sbuf_addf(&s->log, "E%zu", s->data_bytes);
    return KZ_OK;
}

static int parse(const char *body, size_t len, size_t piece, struct seen *s)
{
    static const struct kz_multipart_ops ops = {on_begin, on_data, on_end};
    struct kz_multipart *mp = kz_xmalloc(sizeof(*mp));
    int rc = KZ_OK;

    kz_multipart_init(mp, "XyZ-1", &ops, s);
    for (size_t off = 0; off < len && rc == KZ_OK; off += piece)
        rc = kz_multipart_feed(mp, body + off, len - off < piece ? len - off : piece);
    rc = kz_multipart_finish(mp);
    free(mp);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen whole = {KZ_SBUF_INIT, 0, 0, 0}, split = {KZ_SBUF_INIT, 0, 0, 0};
    size_t piece;
    int a, b;

    if (size == 0)
        return 0;
    piece = (size_t)data[0] % 17 + 1;
    a = parse((const char *)data + 1, size - 1, size, &whole);
    b = parse((const char *)data + 1, size - 1, piece, &split);
    check(a == b, "the outcome depends on how the body is split");
    check(whole.log.len == split.log.len &&
              (whole.log.len == 0 || memcmp(whole.log.buf, split.log.buf, whole.log.len) == 0),
          "the parts depend on how the body is split");
    check(a != KZ_OK || whole.begun == whole.ended, "a finished body left a part open");
    kz_sbuf_release(&whole.log);
    kz_sbuf_release(&split.log);
    return 0;
}
