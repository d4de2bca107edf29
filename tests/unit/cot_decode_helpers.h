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

/* Equal strings, both NULL included. */
static inline void assert_str_eq(const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        fail_msg("'%s' != '%s'", a ? a : "(null)", b ? b : "(null)");
}

/* The fields the decoder parses out of <detail> are the same in both events. */
static inline void assert_same_parsed(const struct kz_event *a, const struct kz_event *b)
{
    assert_str_eq(a->callsign, b->callsign);
    assert_str_eq(a->endpoint, b->endpoint);
    assert_str_eq(a->group_name, b->group_name);
    assert_str_eq(a->group_role, b->group_role);
    assert_str_eq(a->link_uid, b->link_uid);
    assert_str_eq(a->chat_room, b->chat_room);
    assert_str_eq(a->chat_sender, b->chat_sender);
    assert_str_eq(a->remarks, b->remarks);
    assert_int_equal(a->n_dests, b->n_dests);
    for (unsigned i = 0; i < a->n_dests; i++) {
        assert_str_eq(a->dests[i].uid, b->dests[i].uid);
        assert_str_eq(a->dests[i].callsign, b->dests[i].callsign);
        assert_str_eq(a->dests[i].mission, b->dests[i].mission);
    }
}

#endif
