/*
 * json.c - struct kz_event as a GeoJSON Feature for REST and SSE.
 *
 * Written by hand rather than through a jansson tree: one pass, no
 * allocation per field.  Strings go through kz_json_escape(), so fields that
 * are not valid UTF-8 (an event built by other code) still give valid JSON.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "cot/internal.h"

static void add_num(struct kz_sbuf *out, double v)
{
    char b[KZ__COT_NUMLEN];

    /* JSON has no NaN or infinity. */
    if (!isfinite(v)) {
        kz_sbuf_adds(out, "null");
        return;
    }
    /* The XML spelling of unknown, "9999999.0", is fine JSON but not minimal. */
    if (v == KZ_POINT_UNKNOWN) {
        kz_sbuf_adds(out, "9999999");
        return;
    }
    kz_sbuf_add(out, b, kz__cot_fmt_num(v, b));
}

/* Properties writer: keeps track of the comma. */
struct props {
    struct kz_sbuf *out;
    bool any;
};

static void key(struct props *pr, const char *k)
{
    kz_sbuf_adds(pr->out, pr->any ? ",\"" : "\"");
    kz_sbuf_adds(pr->out, k);
    kz_sbuf_adds(pr->out, "\":");
    pr->any = true;
}

static void prop_str(struct props *pr, const char *k, const char *v)
{
    if (!v)
        return;
    key(pr, k);
    kz_json_escape(pr->out, v, strlen(v));
}

static void prop_time(struct props *pr, const char *k, int64_t us)
{
    char t[KZ_TIME_STRLEN];
    size_t n = kz_time_format(us, t);

    key(pr, k);
    kz_json_escape(pr->out, t, n);
}

static void prop_num(struct props *pr, const char *k, double v)
{
    if (v == KZ_POINT_UNKNOWN)
        return;
    key(pr, k);
    add_num(pr->out, v);
}

static void add_geometry(struct kz_sbuf *out, const struct kz_event *ev)
{
    kz_sbuf_adds(out, "\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
    add_num(out, ev->lon);
    kz_sbuf_adds(out, ",");
    add_num(out, ev->lat);
    if (ev->hae != KZ_POINT_UNKNOWN) {
        kz_sbuf_adds(out, ",");
        add_num(out, ev->hae);
    }
    kz_sbuf_adds(out, "]}");
}

void kz_cot_encode_json(const struct kz_event *ev, struct kz_sbuf *out)
{
    struct props pr = {out, false};

    kz_sbuf_grow(out, 384 + (ev->detail ? ev->detail_len : 0));
    kz_sbuf_adds(out, "{\"type\":\"Feature\",\"id\":");
    if (ev->uid)
        kz_json_escape(out, ev->uid, strlen(ev->uid));
    else
        kz_sbuf_adds(out, "null");
    kz_sbuf_adds(out, ",");
    add_geometry(out, ev);
    kz_sbuf_adds(out, ",\"properties\":{");
    prop_str(&pr, "uid", ev->uid);
    prop_str(&pr, "type", ev->type);
    prop_str(&pr, "how", ev->how);
    prop_time(&pr, "time", ev->time);
    prop_time(&pr, "start", ev->start);
    prop_time(&pr, "stale", ev->stale);
    prop_str(&pr, "access", ev->access);
    prop_str(&pr, "originator", ev->origin_nation);
    prop_str(&pr, "callsign", ev->callsign);
    prop_str(&pr, "group", ev->group_name);
    prop_str(&pr, "role", ev->group_role);
    prop_num(&pr, "ce", ev->ce);
    prop_num(&pr, "le", ev->le);
    if (ev->seq) {
        key(&pr, "seq");
        kz_sbuf_addf(out, "%" PRIu64, ev->seq);
    }
    prop_str(&pr, "remarks", ev->remarks);
    if (ev->detail) {
        key(&pr, "detail");
        kz_json_escape(out, ev->detail, ev->detail_len);
    }
    kz_sbuf_adds(out, "}}");
}
