/*
 * tracks.c - GET /api/v1/tracks: the current (non-stale) state the caller
 * may see, as a GeoJSON FeatureCollection, oldest first.
 */
#include "api/internal.h"

struct features {
    struct kz_sbuf sb;
    unsigned n;
};

static void add_feature(void *ud, const struct kz_event *ev)
{
    struct features *f = ud;

    if (f->n++)
        kz_sbuf_add(&f->sb, ",", 1);
    kz_cot_encode_json(ev, &f->sb);
}

static void get_tracks(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct features f = {KZ_SBUF_INIT, 0};

    if (!kz__api_need_router(api, req))
        return;
    kz_sbuf_adds(&f.sb, "{\"type\":\"FeatureCollection\",\"features\":[");
    kz_router_foreach_track(api->router, kz_api_view(req), KZ_EXIT_REST_TRACKS, add_feature, &f);
    kz_sbuf_adds(&f.sb, "]}\n");
    kz_http_respond(req, 200, "application/geo+json", NULL, f.sb.buf, f.sb.len);
    kz_sbuf_release(&f.sb);
}

static const struct kz_http_route rows[] = {
    {"GET", "/api/v1/tracks", get_tracks, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_tracks_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
