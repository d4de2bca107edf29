/*
 * internal.h - private to src/api/: each resource file's route rows and the
 * helpers they share.  Loop thread only.
 */
#ifndef KZ_API_INTERNAL_H
#define KZ_API_INTERNAL_H

#include "api/api.h"

/* Each resource's rows (static storage); *n receives their count. */
const struct kz_http_route *kz__api_metrics_routes(size_t *n);
const struct kz_http_route *kz__api_tracks_routes(size_t *n);
const struct kz_http_route *kz__api_events_routes(size_t *n);
const struct kz_http_route *kz__api_stream_routes(size_t *n);
const struct kz_http_route *kz__api_alliance_routes(size_t *n);
const struct kz_http_route *kz__api_readiness_routes(size_t *n);
const struct kz_http_route *kz__api_plans_routes(size_t *n);
const struct kz_http_route *kz__api_federation_routes(size_t *n);
const struct kz_http_route *kz__api_web_routes(size_t *n);

/* web.c: free the files kz_api_web_load() read. */
void kz__api_web_release(struct kz_api *api);

/* federation.c: the peers' status (a new reference), from the provider or the configuration. */
json_t *kz__api_fed_status(struct kz_api *api);

/* plans.c: the plan book and its queue of changes, from kz_api_init to kz_api_release. */
void kz__api_plans_init(struct kz_api *api);
void kz__api_plans_release(struct kz_api *api);

/* Register the SSE wire format with the router (stream.c). */
void kz__api_stream_init(struct kz_api *api);

/* False (and 503 answered) when the server runs without a router. */
bool kz__api_need_router(struct kz_api *api, struct kz_http_req *req);

/* The CoT decoder for POST bodies and stored rows (created on first use). */
struct kz_cot_decoder *kz__api_decoder(struct kz_api *api);

/* Answer with o as compact JSON (takes over the reference to o). */
void kz__api_respond_json(struct kz_http_req *req, int status, json_t *o);

/*
 * The `bbox` parameter, minLon,minLat,maxLon,maxLat in degrees (WGS84, the
 * GeoJSON order), into *b; *has false when there is none.  minLon > maxLon
 * crosses the antimeridian.  KZ_OK, or KZ_ERR_INVAL with a message for the
 * client (events.c).
 */
int kz__api_bbox_param(const struct kz_http_req *req, bool *has, struct kz_store_bbox *b,
                       char *errbuf, size_t errlen);
/* Is the event's point inside the box (an event without a position never is)? */
bool kz__api_in_bbox(const struct kz_event *ev, const struct kz_store_bbox *b);

/*
 * Parse the GET /api/v1/events parameters (uid, type, since, until, limit,
 * cursor, bbox) into `q` (strings point into the request).  Any other parameter
 * is refused.  Returns KZ_OK or KZ_ERR_INVAL with a message for the client.
 */
int kz__api_events_query(const struct kz_http_req *req, struct kz_store_query *q, char *errbuf,
                         size_t errlen);

/* Rebuild a stored row's event into `ev` (initialized; the caller clears it), its seq, receive
 * time, origin and label the row's (events.c); false when it no longer decodes. */
bool kz__api_row_event(struct kz_api *api, const struct kz_store_row *row, struct kz_event *ev);

#endif
