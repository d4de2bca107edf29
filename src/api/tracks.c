/*
 * tracks.c - GET /api/v1/tracks: the current (non-stale) state the caller
 * may see, as a GeoJSON FeatureCollection, oldest update first.
 *
 * The answer is produced piecewise while it is sent (kz_http_respond_body;
 * security review F12): each piece holds the next visible tracks in
 * update (sequence) order after the last one sent, so only a cursor is
 * kept between pieces, never a copy of the state.  A track updated while a
 * long answer is being sent is sent again with its newer state, later in
 * the same answer (readers keep the last entry of an id); the answer ends
 * once it has caught up with the updates made while it was sent.
 *
 * bbox=minLon,minLat,maxLon,maxLat keeps the tracks whose point lies in the
 * box (api/events.c parses it); the tracks are the router's, in memory, so
 * the box is a test per track, not an index.
 */
#include <stdlib.h>

#include "api/internal.h"

struct tracks_body {
    struct kz_api *api;
    struct kz_http_req *req;
    uint64_t cursor; /* every visible track up to this seq is sent */
    uint64_t top;    /* this round ends at this seq */
    bool second;     /* in the round of updates made while sending */
    bool opened;     /* the head is sent */
    bool full;       /* the walk stopped: out holds `want` */
    unsigned n;      /* features sent */
    size_t want;     /* stop the walk once out holds this much */
    struct kz_sbuf *out;
    bool has_bbox;
    struct kz_store_bbox bbox;
};

static bool add_feature(void *ud, const struct kz_event *ev)
{
    struct tracks_body *b = ud;

    if (ev->seq > b->top)
        return false; /* this round is over */
    if (b->has_bbox && !kz__api_in_bbox(ev, &b->bbox)) {
        b->cursor = ev->seq;
        return true;
    }
    if (b->n++)
        kz_sbuf_add(b->out, ",", 1);
    kz_cot_encode_json(ev, b->out);
    b->cursor = ev->seq;
    b->full = b->out->len >= b->want;
    return !b->full;
}

/* True when nothing remains: the round of updates made while sending is done too. */
static bool last_round(struct tracks_body *b)
{
    struct kz_router_stats rs;

    kz_router_stats(b->api->router, &rs);
    if (b->second || rs.last_seq == b->top)
        return true;
    b->second = true;
    b->top = rs.last_seq;
    return false;
}

static enum kz_http_body_step tracks_next(void *ud, struct kz_sbuf *out, size_t want)
{
    struct tracks_body *b = ud;

    if (!b->opened) {
        b->opened = true;
        kz_sbuf_adds(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    }
    b->out = out;
    b->want = out->len + want;
    b->full = false;
    kz_router_foreach_track_after(b->api->router, kz_api_view(b->req), KZ_EXIT_REST_TRACKS,
                                  b->cursor, add_feature, b);
    if (b->full || !last_round(b))
        return KZ_HTTP_BODY_MORE;
    kz_sbuf_adds(out, "]}\n");
    return KZ_HTTP_BODY_DONE;
}

static void tracks_close(void *ud)
{
    struct tracks_body *b = ud;

    free(b);
}

static void get_tracks(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct tracks_body *b;
    struct kz_router_stats rs;
    struct kz_store_bbox box = {0};
    bool has_box = false;
    char err[200];

    if (!kz__api_need_router(api, req))
        return;
    if (kz__api_bbox_param(req, &has_box, &box, err, sizeof(err)) != KZ_OK) {
        kz_http_error(req, 400, "%s", err);
        return;
    }
    b = kz_xcalloc(1, sizeof(*b));
    b->has_bbox = has_box;
    b->bbox = box;
    b->api = api;
    b->req = req;
    kz_router_stats(api->router, &rs);
    b->top = rs.last_seq;
    kz_http_respond_body(req, 200, "application/geo+json", NULL,
                         &(struct kz_http_body){tracks_next, tracks_close, b});
}

static const struct kz_http_route rows[] = {
    {"GET", "/api/v1/tracks", get_tracks, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_tracks_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
