/* Unit tests for TAK protocol negotiation messages and the streaming-frame reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/negotiate.h"

struct seen {
    size_t n;
    size_t lens[8];
    char first[8];
    int stop_at; /* return an error for this frame (1-based), 0 = never */
};

static int on_frame(void *ud, const char *p, size_t len)
{
    struct seen *s = ud;
    assert_true(s->n < 8);
    s->lens[s->n] = len;
    s->first[s->n] = len ? p[0] : 0;
    s->n++;
    return (int)s->n == s->stop_at ? KZ_ERR_PARSE : KZ_OK;
}

/* Three frames (payloads of 1, 200 and 0 bytes) fed whole and byte by byte. */
static void test_reader_splits(void **state)
{
    unsigned char stream[256];
    size_t n = 0;
    struct kz_takp_reader r;
    struct seen s;

    KZ_UNUSED(state);
    stream[n++] = 0xbf, stream[n++] = 1, stream[n++] = 'a';
    stream[n++] = 0xbf, stream[n++] = 0xc8, stream[n++] = 0x01;
    memset(stream + n, 'b', 200);
    n += 200;
    stream[n++] = 0xbf, stream[n++] = 0;
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        memset(&s, 0, sizeof(s));
        kz_takp_reader_init(&r, 4096);
        if (bytewise) {
            for (size_t i = 0; i < n; i++)
                assert_int_equal(kz_takp_reader_feed(&r, (char *)stream + i, 1, on_frame, &s),
                                 KZ_OK);
        } else {
            assert_int_equal(kz_takp_reader_feed(&r, (char *)stream, n, on_frame, &s), KZ_OK);
        }
        assert_int_equal(s.n, 3);
        assert_int_equal(s.lens[0], 1);
        assert_int_equal(s.first[0], 'a');
        assert_int_equal(s.lens[1], 200);
        assert_int_equal(s.first[1], 'b');
        assert_int_equal(s.lens[2], 0);
        assert_int_equal(r.buf.len, 0);
        kz_takp_reader_release(&r);
    }
}

static void test_reader_errors(void **state)
{
    static const unsigned char no_magic[] = {'<', 'e'};
    static const unsigned char long_varint[] = {0xbf, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const unsigned char too_big[] = {0xbf, 0x81, 0x08}; /* 1025 */
    struct kz_takp_reader r;
    struct seen s = {0};

    KZ_UNUSED(state);
    kz_takp_reader_init(&r, 1024);
    assert_int_equal(kz_takp_reader_feed(&r, (const char *)no_magic, 2, on_frame, &s),
                     KZ_ERR_PARSE);
    assert_non_null(strstr(r.why, "0x3c"));
    assert_int_equal(
        kz_takp_reader_feed(&r, (const char *)long_varint, sizeof(long_varint), on_frame, &s),
        KZ_ERR_PARSE);
    assert_non_null(strstr(r.why, "varint"));
    assert_int_equal(kz_takp_reader_feed(&r, (const char *)too_big, 3, on_frame, &s),
                     KZ_ERR_TOOBIG);
    assert_non_null(strstr(r.why, "over the limit of 1024"));
    assert_int_equal(s.n, 0);
    kz_takp_reader_release(&r);

    /* The callback's status stops the feed and is returned. */
    static const unsigned char two[] = {0xbf, 1, 'x', 0xbf, 1, 'y'};
    s.stop_at = 1;
    kz_takp_reader_init(&r, 1024);
    assert_int_equal(kz_takp_reader_feed(&r, (const char *)two, 6, on_frame, &s), KZ_ERR_PARSE);
    assert_int_equal(s.n, 1);
    kz_takp_reader_release(&r);
}

static void request(struct kz_event *ev, const char *detail)
{
    kz_event_init(ev);
    ev->detail = (char *)detail;
}

static void test_accepts(void **state)
{
    struct kz_event ev;

    KZ_UNUSED(state);
    request(&ev, "<TakControl><TakRequest version=\"1\"/></TakControl>");
    assert_true(kz_takp_accepts(&ev));
    request(&ev, "<TakControl><TakRequest version='1'></TakRequest></TakControl>");
    assert_true(kz_takp_accepts(&ev));
    request(&ev, "<TakControl><TakRequest version=\"2\"/></TakControl>");
    assert_false(kz_takp_accepts(&ev));
    request(&ev, "<TakControl><TakRequest version=\"10\"/></TakControl>");
    assert_false(kz_takp_accepts(&ev));
    request(&ev, "<TakControl><TakRequest xversion=\"1\"/></TakControl>");
    assert_false(kz_takp_accepts(&ev));
    request(&ev, "<TakControl/>");
    assert_false(kz_takp_accepts(&ev));
    request(&ev, NULL);
    assert_false(kz_takp_accepts(&ev));
}

static void test_messages_decode(void **state)
{
    struct kz_sbuf x = KZ_SBUF_INIT;
    struct kz_cot_decoder *dec = kz_cot_decoder_new(NULL);
    struct kz_event ev;
    enum kz_reject why;

    KZ_UNUSED(state);
    kz_takp_offer("protouid-1", &x);
    kz_event_init(&ev);
    assert_int_equal(kz_cot_decode(dec, x.buf, x.len, &ev, &why, NULL, 0), KZ_OK);
    assert_string_equal(ev.type, KZ_TAKP_OFFER);
    assert_string_equal(ev.uid, "protouid-1");
    assert_non_null(strstr(ev.detail, "<TakProtocolSupport version=\"1\"/>"));
    assert_non_null(strstr(ev.detail, "serverVersion=\"kizuna " KZ_VERSION "\""));
    kz_sbuf_reset(&x);
    kz_takp_response("protouid-1", true, &x);
    assert_int_equal(kz_cot_decode(dec, x.buf, x.len, &ev, &why, NULL, 0), KZ_OK);
    assert_string_equal(ev.type, KZ_TAKP_RESPONSE);
    assert_non_null(strstr(ev.detail, "status=\"true\""));
    kz_sbuf_reset(&x);
    kz_takp_response("protouid-1", false, &x);
    assert_non_null(strstr(x.buf, "status=\"false\""));
    kz_event_clear(&ev);
    kz_sbuf_release(&x);
    kz_cot_decoder_free(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_splits),
        cmocka_unit_test(test_reader_errors),
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_messages_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
