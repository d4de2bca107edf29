/*
 * negotiate.c - TAK protocol negotiation on CoT streams, and the reader of
 * the streaming frames that follow it (see negotiate.h).
 */
#include <stdio.h>
#include <string.h>

#include "net/negotiate.h"

#define OFFER_STALE_US (60 * 1000000LL)

/* A server-made control event (no client data), canonical XML into `out`. */
static void control_event(const char *type, const char *uid, const char *detail,
                          struct kz_sbuf *out)
{
    struct kz_event ev;
    int64_t now = kz_now_us();

    kz_event_init(&ev);
    /* Borrowed strings: the event is encoded and dropped, never cleared. */
    ev.type = (char *)type;
    ev.uid = (char *)uid;
    ev.how = (char *)"m-g";
    ev.time = ev.start = now;
    ev.stale = now + OFFER_STALE_US;
    ev.lat = ev.lon = ev.hae = 0;
    ev.ce = ev.le = 999999;
    ev.detail = (char *)detail;
    ev.detail_len = strlen(detail);
    kz_cot_encode_xml(&ev, out);
}

void kz_takp_offer(const char *protouid, struct kz_sbuf *out)
{
    control_event(KZ_TAKP_OFFER, protouid,
                  "<TakControl><TakProtocolSupport version=\"1\"/><TakServerVersionInfo "
                  "serverVersion=\"kizuna " KZ_VERSION "\" apiVersion=\"3\"/></TakControl>",
                  out);
}

void kz_takp_response(const char *protouid, bool accept, struct kz_sbuf *out)
{
    control_event(KZ_TAKP_RESPONSE, protouid,
                  accept ? "<TakControl><TakResponse status=\"true\"/></TakControl>"
                         : "<TakControl><TakResponse status=\"false\"/></TakControl>",
                  out);
}

/* The value of version= in the first <TakRequest> of the detail, or 0. */
static unsigned requested_version(const struct kz_event *ev)
{
    const char *p = ev->detail ? strstr(ev->detail, "<TakRequest") : NULL;
    const char *end = p ? strchr(p, '>') : NULL;
    const char *v;

    if (!end)
        return 0;
    for (v = p; (v = strstr(v, "version=")) && v < end; v += 8) {
        if (v[-1] != ' ' && v[-1] != '\t' && v[-1] != '\n' && v[-1] != '\r')
            continue;
        if ((v[8] == '"' || v[8] == '\'') && v[9] == '1' && v[10] == v[8])
            return 1;
        return 2; /* any other version: we speak only 1 */
    }
    return 0;
}

bool kz_takp_accepts(const struct kz_event *ev)
{
    return requested_version(ev) == 1;
}

/* ---- streaming frames -------------------------------------------------- */

void kz_takp_reader_init(struct kz_takp_reader *r, size_t max_payload)
{
    memset(r, 0, sizeof(*r));
    r->max = max_payload;
}

void kz_takp_reader_release(struct kz_takp_reader *r)
{
    kz_sbuf_release(&r->buf);
}

/* Complete frames at p[0..n) to cb; returns the bytes used or sets *rc. */
static size_t frames(struct kz_takp_reader *r, const unsigned char *p, size_t n,
                     kz_takp_frame_cb cb, void *ud, int *rc)
{
    size_t used = 0, hdr, len;

    while (*rc == KZ_OK && used < n) {
        int h = kz_takp_header(p + used, n - used, r->max, &hdr, &len);
        if (h == KZ_ERR_AGAIN)
            break;
        if (h != KZ_OK) {
            if (h == KZ_ERR_TOOBIG)
                snprintf(r->why, sizeof(r->why), "frame length over the limit of %zu bytes",
                         r->max);
            else if (p[used] != KZ_TAKP_MAGIC)
                snprintf(r->why, sizeof(r->why), "byte 0x%02x where a frame must start (0xbf)",
                         p[used]);
            else
                snprintf(r->why, sizeof(r->why), "frame length is not a valid varint");
            *rc = h;
            break;
        }
        if (n - used - hdr < len)
            break;
        *rc = cb(ud, (const char *)p + used + hdr, len);
        used += hdr + len;
    }
    return used;
}

int kz_takp_reader_feed(struct kz_takp_reader *r, const char *data, size_t n, kz_takp_frame_cb cb,
                        void *ud)
{
    int rc = KZ_OK;
    size_t used;

    r->why[0] = '\0';
    if (r->buf.len == 0) {
        /* Common case: whole frames straight from the read buffer, no copy. */
        used = frames(r, (const unsigned char *)data, n, cb, ud, &rc);
        if (rc == KZ_OK && used < n)
            kz_sbuf_add(&r->buf, data + used, n - used);
        return rc;
    }
    kz_sbuf_add(&r->buf, data, n);
    used = frames(r, (const unsigned char *)r->buf.buf, r->buf.len, cb, ud, &rc);
    if (rc != KZ_OK) {
        kz_sbuf_reset(&r->buf);
        return rc;
    }
    memmove(r->buf.buf, r->buf.buf + used, r->buf.len - used);
    r->buf.len -= used;
    return rc;
}
