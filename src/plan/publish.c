/*
 * publish.c - a plan's items on the common operational picture: each item
 * with a place is a marker, labelled like the item, sent through the router
 * from the server's own input, so the group rule and the release rule
 * decide who receives it (docs/plans.md, "On the map").  When the plan
 * closes, each marker is removed with t-x-d-d.
 */
#include <stdio.h>
#include <string.h>

#include "plan/internal.h"

#define MARKER_TYPE "b-m-p-s-m" /* a spot map marker (ATAK "Spot") */
#define STALE_AFTER_END_US (24LL * 3600 * 1000000)

void kz_plan_item_uid(const struct kz_plan *p, const struct kz_plan_item *it, char *buf, size_t len)
{
    snprintf(buf, len, "kizuna.plan.%s.%lld", p->id, (long long)it->id);
}

/* The marker's callsign goes to `callsign` (160 bytes) too: the event's own field. */
static void marker_detail(const struct kz_plan *p, const struct kz_plan_item *it,
                          struct kz_sbuf *out, char callsign[160])
{
    char when[KZ_TIME_STRLEN];
    struct kz_sbuf remarks = KZ_SBUF_INIT;

    snprintf(callsign, 160, "%.60s #%lld%s%.60s", p->title, (long long)it->id, it->place ? " " : "",
             it->place ? it->place : "");
    kz_time_format(it->time_us, when);
    kz_sbuf_addf(&remarks, "%s %s", when, it->description);
    for (unsigned i = 0; i < it->n_units; i++)
        kz_sbuf_addf(&remarks, "%s%s", i ? ", " : " (", it->units[i]);
    if (it->n_units)
        kz_sbuf_adds(&remarks, ")");
    kz_cot_detail_element(out, "contact", (const char *const[]){"callsign", callsign, NULL}, NULL);
    kz_cot_detail_element(out, "remarks", NULL, remarks.buf);
    kz_sbuf_release(&remarks);
}

static void submit(struct kz_router *r, const struct kz_input *in, struct kz_event *ev)
{
    enum kz_reject why;

    if (kz_router_submit(r, in, NULL, ev, NULL, NULL, &why, NULL) != KZ_OK)
        kz_log(KZ_LOG_WARN, "plans: marker refused", "uid=%s reason=%s", ev->uid,
               kz_reject_name(why));
    kz_event_clear(ev);
}

static void marker(struct kz_router *r, const struct kz_input *in, const struct kz_plan *p,
                   const struct kz_plan_item *it, int64_t now)
{
    struct kz_event ev;
    struct kz_sbuf detail = KZ_SBUF_INIT;
    char uid[96], callsign[160];

    kz_plan_item_uid(p, it, uid, sizeof(uid));
    kz_event_init(&ev);
    ev.uid = kz_xstrdup(uid);
    ev.type = kz_xstrdup(MARKER_TYPE);
    ev.how = kz_xstrdup("h-g-i-g-o");
    ev.access = kz_xstrdup(it->banner);
    ev.time = ev.start = now;
    ev.stale = (p->end_us > now ? p->end_us : now) + STALE_AFTER_END_US;
    ev.lat = it->lat;
    ev.lon = it->lon;
    marker_detail(p, it, &detail, callsign);
    ev.detail = kz_sbuf_detach(&detail, &ev.detail_len);
    ev.callsign = kz_xstrdup(callsign); /* the GeoJSON views read it from here */
    submit(r, in, &ev);
}

static void removal(struct kz_router *r, const struct kz_input *in, const struct kz_plan *p,
                    const struct kz_plan_item *it, int64_t now)
{
    struct kz_event ev;
    struct kz_sbuf detail = KZ_SBUF_INIT;
    char uid[96], del[112];

    kz_plan_item_uid(p, it, uid, sizeof(uid));
    snprintf(del, sizeof(del), "%s.delete", uid);
    kz_event_init(&ev);
    ev.uid = kz_xstrdup(del);
    ev.type = kz_xstrdup("t-x-d-d");
    ev.how = kz_xstrdup("h-g-i-g-o");
    ev.access = kz_xstrdup(it->banner);
    ev.time = ev.start = now;
    ev.stale = now + 60 * 1000000LL;
    ev.lat = ev.lon = 0;
    kz_cot_detail_element(
        &detail, "link",
        (const char *const[]){"uid", uid, "relation", "none", "type", MARKER_TYPE, NULL}, NULL);
    kz_cot_detail_element(&detail, "__forcedelete", NULL, NULL);
    ev.detail = kz_sbuf_detach(&detail, &ev.detail_len);
    ev.link_uid = kz_xstrdup(uid);
    submit(r, in, &ev);
}

void kz_plan_publish(struct kz_router *r, const struct kz_input *in, const struct kz_plan *p)
{
    int64_t now = kz_now_us();

    for (unsigned i = 0; r && in && i < p->n_items; i++) {
        const struct kz_plan_item *it = &p->items[i];
        if (!it->has_pos)
            continue;
        if (p->stage == KZ_STAGE_CLOSED)
            removal(r, in, p, it, now);
        else
            marker(r, in, p, it, now);
    }
}
