/*
 * test_mission_multipart.c - the multipart/form-data parser: the boundary
 * from Content-Type, parts with their names, filenames and types, data that
 * looks like a boundary but is not one, any split of the body, preamble and
 * epilogue, and the bounds and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mission/files.h"

#define B "XyZ-1"

struct part {
    char name[64], filename[64], ctype[64];
    bool has_filename;
    struct kz_sbuf data;
    bool ended;
};

struct seen {
    struct part parts[4];
    unsigned n;
    int fail_data; /* part_data answers this (KZ_OK normally) */
};

static int on_begin(void *ud, const struct kz_multipart_part *p)
{
    struct seen *s = ud;
    struct part *q = &s->parts[s->n++];

    assert_true(s->n <= 4);
    snprintf(q->name, sizeof(q->name), "%s", p->name);
    snprintf(q->filename, sizeof(q->filename), "%s", p->filename ? p->filename : "");
    snprintf(q->ctype, sizeof(q->ctype), "%s", p->content_type ? p->content_type : "");
    q->has_filename = p->filename != NULL;
    return KZ_OK;
}

static int on_data(void *ud, const char *d, size_t n)
{
    struct seen *s = ud;

    kz_sbuf_add(&s->parts[s->n - 1].data, d, n);
    return s->fail_data;
}

static int on_end(void *ud)
{
    struct seen *s = ud;

    s->parts[s->n - 1].ended = true;
    return KZ_OK;
}

static const struct kz_multipart_ops ops = {on_begin, on_data, on_end};

/* Parse `body` in pieces of `piece` bytes (0: whole); the finish code. */
static int parse(const char *body, size_t piece, struct seen *s)
{
    struct kz_multipart *mp = malloc(sizeof(*mp));
    size_t len = strlen(body);
    int rc = KZ_OK;

    memset(s, 0, sizeof(*s));
    kz_multipart_init(mp, B, &ops, s);
    piece = piece ? piece : len;
    for (size_t off = 0; off < len && rc == KZ_OK; off += piece)
        rc = kz_multipart_feed(mp, body + off, len - off < piece ? len - off : piece);
    rc = kz_multipart_finish(mp);
    free(mp);
    return rc;
}

static void release(struct seen *s)
{
    for (unsigned i = 0; i < 4; i++)
        kz_sbuf_release(&s->parts[i].data);
}

static void assert_data(const struct part *p, const char *want)
{
    assert_int_equal(p->data.len, strlen(want));
    if (p->data.len)
        assert_memory_equal(p->data.buf, want, p->data.len);
}

static void test_boundary(void **state)
{
    char b[KZ_MULTIPART_MAX_BOUNDARY + 1];

    (void)state;
    assert_int_equal(kz_multipart_boundary("multipart/form-data; boundary=abc", b, sizeof(b)),
                     KZ_OK);
    assert_string_equal(b, "abc");
    assert_int_equal(
        kz_multipart_boundary("Multipart/Form-Data;charset=x; BOUNDARY=\"a b:c\"", b, sizeof(b)),
        KZ_OK);
    assert_string_equal(b, "a b:c");
    assert_int_equal(kz_multipart_boundary("application/octet-stream", b, sizeof(b)),
                     KZ_ERR_NOTFOUND);
    assert_int_equal(kz_multipart_boundary(NULL, b, sizeof(b)), KZ_ERR_NOTFOUND);
    assert_int_equal(kz_multipart_boundary("multipart/form-data", b, sizeof(b)), KZ_ERR_PARSE);
    assert_int_equal(kz_multipart_boundary("multipart/form-data; boundary=", b, sizeof(b)),
                     KZ_ERR_PARSE);
    assert_int_equal(kz_multipart_boundary("multipart/form-data; boundary=a\rb", b, sizeof(b)),
                     KZ_ERR_PARSE);
    assert_int_equal(kz_multipart_boundary("multipart/form-data; boundary=\"ab \"", b, sizeof(b)),
                     KZ_ERR_PARSE);
    /* 70 characters are fine, 71 are not (RFC 2046). */
    char ct[160];
    snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%070d", 7);
    assert_int_equal(kz_multipart_boundary(ct, b, sizeof(b)), KZ_OK);
    snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%071d", 7);
    assert_int_equal(kz_multipart_boundary(ct, b, sizeof(b)), KZ_ERR_PARSE);
}

static const char atak[] = "--" B "\r\n"
                           "Content-Disposition: form-data; name=\"assetfile\"; "
                           "filename=\"pkg.zip\"\r\n"
                           "Content-Type: application/x-zip-compressed\r\n"
                           "\r\n"
                           "PK\x03\x04 bytes\r\n-- not a boundary \r\n--XyZ-2 nor this\r\n"
                           "\r\n--" B "--\r\n";

static void test_one_part(void **state)
{
    struct seen s;

    (void)state;
    assert_int_equal(parse(atak, 0, &s), KZ_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.parts[0].name, "assetfile");
    assert_string_equal(s.parts[0].filename, "pkg.zip");
    assert_string_equal(s.parts[0].ctype, "application/x-zip-compressed");
    assert_true(s.parts[0].ended);
    assert_data(&s.parts[0], "PK\x03\x04 bytes\r\n-- not a boundary \r\n--XyZ-2 nor this\r\n");
    release(&s);
}

/* Every piece size gives the same parts: held-back bytes are never lost or doubled. */
static void test_any_split(void **state)
{
    (void)state;
    for (size_t piece = 1; piece < sizeof(atak); piece++) {
        struct seen s;
        assert_int_equal(parse(atak, piece, &s), KZ_OK);
        assert_int_equal(s.n, 1);
        assert_data(&s.parts[0], "PK\x03\x04 bytes\r\n-- not a boundary \r\n--XyZ-2 nor this\r\n");
        release(&s);
    }
}

static void test_parts_preamble_epilogue(void **state)
{
    static const char body[] = "a preamble\r\n--" B " \t\r\n"
                               "content-disposition: form-data; name=\"name\"\r\n\r\n"
                               "report.txt\r\n--" B "\r\n"
                               "\r\n"
                               "no headers\r\n--" B "\r\n"
                               "Content-Disposition: form-data; name=\"f\"; filename=\"a\\\"b\"\r\n"
                               "X-Other: ignored\r\n\r\n"
                               "\r\n--" B "--and an epilogue\r\n--" B "\r\n";
    struct seen s;

    (void)state;
    assert_int_equal(parse(body, 0, &s), KZ_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.parts[0].name, "name");
    assert_false(s.parts[0].has_filename);
    assert_data(&s.parts[0], "report.txt");
    assert_string_equal(s.parts[1].name, "");
    assert_data(&s.parts[1], "no headers");
    assert_string_equal(s.parts[2].filename, "a\"b");
    assert_data(&s.parts[2], "");
    assert_true(s.parts[2].ended);
    release(&s);
}

static void test_refusals(void **state)
{
    struct seen s;
    char *big;

    (void)state;
    /* No close delimiter. */
    assert_int_equal(parse("--" B "\r\n\r\ndata", 0, &s), KZ_ERR_PARSE);
    release(&s);
    /* No boundary at all: nothing but preamble. */
    assert_int_equal(parse("just bytes", 0, &s), KZ_ERR_PARSE);
    assert_int_equal(s.n, 0);
    /* Garbage after a delimiter, a header line without a colon, a foreign disposition. */
    assert_int_equal(parse("--" B "x\r\n\r\n--" B "--", 0, &s), KZ_ERR_PARSE);
    assert_int_equal(parse("--" B "\r\nbad header\r\n\r\n--" B "--", 0, &s), KZ_ERR_PARSE);
    assert_int_equal(parse("--" B "\r\nContent-Disposition: attachment\r\n\r\n--" B "--", 0, &s),
                     KZ_ERR_PARSE);
    /* Header block over the bound. */
    big = malloc(KZ_MULTIPART_MAX_HEADER + 64);
    memset(big, 'a', KZ_MULTIPART_MAX_HEADER + 63);
    big[KZ_MULTIPART_MAX_HEADER + 63] = '\0';
    memcpy(big, "--" B "\r\nX: ", 11);
    assert_int_equal(parse(big, 100, &s), KZ_ERR_TOOBIG);
    free(big);
    /* A name over KZ_MULTIPART_MAX_NAME. */
    char hdr[600];
    snprintf(hdr, sizeof(hdr), "--" B "\r\nContent-Disposition: form-data; name=\"%0300d\"\r\n\r\n",
             1);
    assert_int_equal(parse(hdr, 0, &s), KZ_ERR_TOOBIG);
}

static void test_callback_error(void **state)
{
    struct kz_multipart *mp = malloc(sizeof(*mp));
    struct seen s;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.fail_data = KZ_ERR_TOOBIG;
    kz_multipart_init(mp, B, &ops, &s);
    assert_int_equal(kz_multipart_feed(mp, atak, sizeof(atak) - 1), KZ_ERR_TOOBIG);
    assert_int_equal(kz_multipart_feed(mp, "more", 4), KZ_ERR_TOOBIG);
    assert_int_equal(kz_multipart_finish(mp), KZ_ERR_TOOBIG);
    release(&s);
    free(mp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary),  cmocka_unit_test(test_one_part),
        cmocka_unit_test(test_any_split), cmocka_unit_test(test_parts_preamble_epilogue),
        cmocka_unit_test(test_refusals),  cmocka_unit_test(test_callback_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
