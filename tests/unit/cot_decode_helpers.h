/*
 * cot_decode_helpers.h - decoder fixture shared by the CoT unit tests:
 * one decoder per test group, and decode-must-succeed / decode-must-fail
 * helpers that report the reason on failure.  Include after <cmocka.h>.
 */
#ifndef KZ_TEST_COT_DECODE_HELPERS_H
#define KZ_TEST_COT_DECODE_HELPERS_H

#include <string.h>

#include "cot/cot.h"

static struct kz_cot_decoder *dec;

static inline int setup(void **state)
{
    (void)state;
    dec = kz_cot_decoder_new(NULL);
    return 0;
}

static inline int teardown(void **state)
{
    (void)state;
    kz_cot_decoder_free(dec);
    return 0;
}

static inline void decode_ok(const char *xml, struct kz_event *ev)
{
    enum kz_reject why = KZ_REJ__COUNT;
    char err[256] = "";

    kz_event_init(ev);
    int rc = kz_cot_decode(dec, xml, strlen(xml), ev, &why, err, sizeof(err));
    if (rc != KZ_OK)
        fail_msg("decode failed (%s): %s", kz_reject_name(why), err);
}

/* Decoding must fail with `want`; returns the message for further checks. */
static inline const char *decode_bad(const char *xml, enum kz_reject want)
{
    static char err[256];
    struct kz_event ev;
    enum kz_reject why = KZ_REJ__COUNT;

    kz_event_init(&ev);
    err[0] = '\0';
    int rc = kz_cot_decode(dec, xml, strlen(xml), &ev, &why, err, sizeof(err));
    if (rc == KZ_OK)
        fail_msg("decoded, expected reject %s", kz_reject_name(want));
    if (why != want)
        fail_msg("reject %s (%s), expected %s", kz_reject_name(why), err, kz_reject_name(want));
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    assert_null(ev.uid);
    assert_null(ev.detail);
    return err;
}

#endif
