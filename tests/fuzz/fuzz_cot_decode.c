/*
 * Fuzz the CoT decoder.  Beyond "no crash, no leak": a rejected input
 * leaves the event empty with a one-line reason; an accepted one encodes to
 * XML that fits max_event_bytes, has no "</event" before its end, and
 * decodes to the same event, and to JSON that jansson accepts with the same
 * strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cot/cot.h"

static struct kz_cot_decoder *dec, *roomy;

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_cot_decode: %s\n", what);
        abort();
    }
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_event(const struct kz_event *a, const struct kz_event *b)
{
    if (!same_str(a->version, b->version) || !same_str(a->uid, b->uid) ||
        !same_str(a->type, b->type) || !same_str(a->how, b->how) ||
        !same_str(a->access, b->access) || !same_str(a->qos, b->qos) ||
        !same_str(a->opex, b->opex) || !same_str(a->callsign, b->callsign) ||
        !same_str(a->endpoint, b->endpoint) || !same_str(a->group_name, b->group_name) ||
        !same_str(a->group_role, b->group_role) || !same_str(a->link_uid, b->link_uid) ||
        !same_str(a->chat_room, b->chat_room) || !same_str(a->chat_sender, b->chat_sender) ||
        !same_str(a->remarks, b->remarks))
        return false;
    if (a->time != b->time || a->start != b->start || a->stale != b->stale || a->lat != b->lat ||
        a->lon != b->lon || a->hae != b->hae || a->ce != b->ce || a->le != b->le)
        return false;
    if ((a->detail == NULL) != (b->detail == NULL) || a->detail_len != b->detail_len ||
        (a->detail && memcmp(a->detail, b->detail, a->detail_len) != 0))
        return false;
    if (a->n_dests != b->n_dests)
        return false;
    for (unsigned i = 0; i < a->n_dests; i++)
        if (!same_str(a->dests[i].callsign, b->dests[i].callsign) ||
            !same_str(a->dests[i].uid, b->dests[i].uid) ||
            !same_str(a->dests[i].mission, b->dests[i].mission))
            return false;
    return true;
}

static void check_rejected(const struct kz_event *ev, enum kz_reject why, const char *err)
{
    check((unsigned)why < KZ_REJ__COUNT, "reject reason out of range");
    check(err[0] != '\0' && !strchr(err, '\n'), "reject message empty or multi-line");
    check(!ev->uid && !ev->detail && !ev->dests && ev->lat == KZ_POINT_UNKNOWN,
          "rejected event not cleared");
}

/* The only "</event" a stream reader can split at is the last one. */
static void check_one_end(const struct kz_sbuf *sb)
{
    const char *end = memmem(sb->buf, sb->len, "</event", 7);

    while (end && end[7] != '>' && end[7] != ' ' && end[7] != '\t' && end[7] != '\n' &&
           end[7] != '\r' && end[7] != '/')
        end = memmem(end + 7, sb->len - (size_t)(end + 7 - sb->buf), "</event", 7);
    check(end == sb->buf + sb->len - 8, "\"</event\" before the end of the encoding");
}

static void check_xml(const struct kz_event *ev, size_t max)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_event back;
    char err[256];

    kz_cot_encode_xml(ev, &sb);
    check(sb.len == kz_cot_xml_size(ev), "kz_cot_xml_size() is not the encoded size");
    check(sb.len <= max, "canonical form over max_event_bytes");
    check_one_end(&sb);
    kz_event_init(&back);
    if (kz_cot_decode(roomy, sb.buf, sb.len, &back, NULL, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "re-decode: %s\n%s\n", err, sb.buf);
        check(false, "encoded event does not decode");
    }
    check(same_event(ev, &back), "XML round trip changed the event");
    kz_event_clear(&back);
    kz_sbuf_release(&sb);
}

static void check_json_str(json_t *obj, const char *key, const char *want)
{
    json_t *v = json_object_get(obj, key);

    if (!want) {
        check(v == NULL, "absent field present in JSON");
        return;
    }
    check(json_is_string(v) && strcmp(json_string_value(v), want) == 0, "JSON string differs");
}

static void check_json(const struct kz_event *ev)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    json_error_t jerr;

    kz_cot_encode_json(ev, &sb);
    json_t *j = json_loadb(sb.buf, sb.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        fprintf(stderr, "JSON: %s\n%s\n", jerr.text, sb.buf);
        check(false, "invalid JSON");
    }
    json_t *p = json_object_get(j, "properties");
    check_json_str(j, "id", ev->uid);
    check_json_str(p, "type", ev->type);
    check_json_str(p, "callsign", ev->callsign);
    check_json_str(p, "remarks", ev->remarks);
    check_json_str(p, "detail", ev->detail);
    json_decref(j);
    kz_sbuf_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kz_event ev;
    enum kz_reject why = KZ_REJ__COUNT;
    char err[256] = "";

    if (!dec) {
        struct kz_cot_limits lim;
        kz_cot_limits_default(&lim);
        dec = kz_cot_decoder_new(&lim);
        /* The re-decode must not fail on a limit: any refusal there is a bug. */
        lim.max_event_bytes = 64u << 20;
        roomy = kz_cot_decoder_new(&lim);
    }
    kz_event_init(&ev);
    if (kz_cot_decode(dec, (const char *)data, size, &ev, &why, err, sizeof(err)) != KZ_OK) {
        check_rejected(&ev, why, err);
        return 0;
    }
    check(ev.uid && ev.type && ev.version && ev.stale >= ev.start, "missing fields");
    check(!ev.how || *ev.how, "empty how kept");
    check(ev.lat >= -90 && ev.lat <= 90 && ev.lon >= -180 && ev.lon <= 180, "point range");
    check_xml(&ev, 65536);
    check_json(&ev);
    kz_event_clear(&ev);
    return 0;
}
