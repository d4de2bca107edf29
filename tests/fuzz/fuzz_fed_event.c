/*
 * libFuzzer target: one FederatedEvent through kz_fed_decode().  Nothing may
 * crash, leak or read out of bounds, and whatever decodes as an event or a
 * delete must re-encode to a fixed point: encode(decode(encode(ev))) ==
 * encode(ev), meta included; and an event must be the old round trip's
 * through XML text (tests/unit/typed_roundtrip_ref.h), accepted or refused
 * the same way with the same message.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../unit/typed_roundtrip_ref.h"

static struct kz_cot_decoder *dec;

static void check_fixed_point(const struct kz_event *ev, const struct kz_fed_meta *meta)
{
    struct kz_sbuf a = KZ_SBUF_INIT, b = KZ_SBUF_INIT;
    struct kz_event again;
    struct kz_fed_meta m2;

    kz_fed_encode_event(ev, meta, &a);
    kz_event_init(&again);
    if (kz_fed_decode(dec, a.buf, a.len, &again, &m2, NULL, 0) <= 0)
        __builtin_trap(); /* what we wrote must read back */
    kz_fed_encode_event(&again, &m2, &b);
    if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0)
        __builtin_trap();
    kz_event_clear(&again);
    kz_fed_meta_clear(&m2);
    kz_sbuf_release(&a);
    kz_sbuf_release(&b);
}

static void check_same_as_xml(const uint8_t *data, size_t size, int kind, const char *err,
                              const struct kz_event *ev)
{
    Com__Atakmap__FederatedEvent *fe =
        size <= KZ_FED_MAX_MESSAGE ? com__atakmap__federated_event__unpack(NULL, size, data) : NULL;
    struct kz_event old;
    char oerr[200] = "";

    if (fe && fe->event && ref_meta_ok(fe)) {
        kz_event_init(&old);
        int orc = ref_decode_geo(dec, fe->event, &old, oerr, sizeof(oerr));
        if (orc <= 0)
            kz_event_clear(&old);
        if (orc != kind || (kind <= 0 && strcmp(oerr, err) != 0) || !ref_same_event(&old, ev))
            __builtin_trap();
        kz_event_clear(&old);
    }
    if (fe)
        com__atakmap__federated_event__free_unpacked(fe, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kz_event ev;
    struct kz_fed_meta meta;
    char err[200];

    if (!dec)
        dec = kz_cot_decoder_new(NULL);
    kz_event_init(&ev);
    int kind = kz_fed_decode(dec, data, size, &ev, &meta, err, sizeof(err));
    check_same_as_xml(data, size, kind, err, &ev);
    if (kind == KZ_FED_EVENT || kind == KZ_FED_CONTACT_DELETE)
        check_fixed_point(&ev, &meta);
    kz_event_clear(&ev);
    if (kind > 0)
        kz_fed_meta_clear(&meta);
    return 0;
}
