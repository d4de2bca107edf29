/*
 * libFuzzer target: one TakMessage payload through kz_cot_decode_proto().
 * Nothing may crash, leak or read out of bounds, and whatever decodes must
 * re-encode to a fixed point: encode(decode(encode(ev))) == encode(ev); and
 * the result, accepted or refused, must be the old round trip's through XML
 * text (tests/unit/typed_roundtrip_ref.h): same code, reason, message, event.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../unit/typed_roundtrip_ref.h"

static struct kz_cot_decoder *dec;

static void check_fixed_point(const struct kz_event *ev)
{
    struct kz_sbuf a = KZ_SBUF_INIT, b = KZ_SBUF_INIT;
    struct kz_event again;
    enum kz_reject why;

    kz_cot_encode_proto(ev, false, &a);
    kz_event_init(&again);
    if (kz_cot_decode_proto(dec, a.buf, a.len, &again, &why, NULL, 0) != KZ_OK)
        __builtin_trap(); /* what we wrote must read back */
    kz_cot_encode_proto(&again, false, &b);
    if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0)
        __builtin_trap();
    kz_event_clear(&again);
    kz_sbuf_release(&a);
    kz_sbuf_release(&b);
}

static void check_same_as_xml(const uint8_t *data, size_t size, int rc, enum kz_reject why,
                              const char *err, const struct kz_event *ev)
{
    struct kz_event old;
    enum kz_reject owhy = KZ_REJ__COUNT;
    char oerr[200] = "";

    kz_event_init(&old);
    int orc = ref_decode_proto(dec, data, size, &old, &owhy, oerr, sizeof(oerr));
    if (orc != rc || (rc != KZ_OK && (owhy != why || strcmp(oerr, err) != 0)) ||
        !ref_same_event(&old, ev))
        __builtin_trap();
    kz_event_clear(&old);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kz_event ev;
    enum kz_reject why;
    char err[200];

    if (!dec)
        dec = kz_cot_decoder_new(NULL);
    kz_event_init(&ev);
    int rc = kz_cot_decode_proto(dec, data, size, &ev, &why, err, sizeof(err));
    check_same_as_xml(data, size, rc, why, err, &ev);
    if (rc == KZ_OK)
        check_fixed_point(&ev);
    kz_event_clear(&ev);
    return 0;
}
