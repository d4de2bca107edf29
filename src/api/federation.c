/*
 * federation.c - GET /api/v1/federation: every configured peer's link state
 * and counters, from the server's status provider (struct kz_api
 * fed_status), or, without one, the configuration with every peer "down".
 */
#include "api/internal.h"

static json_t *peer_down(const struct kz_fed_peer_conf *p)
{
    return json_pack("{s:s, s:s, s:s, s:n, s:i, s:i, s:i, s:i, s:i}", "name", p->name, "state",
                     "down", "protocol", p->protocol, "since", "sent", 0, "received", 0, "denied",
                     0, "duplicates", 0, "queued", 0);
}

static json_t *from_config(const struct kz_config_federation *f)
{
    json_t *peers = json_array();

    for (unsigned i = 0; f && i < f->peers_count; i++)
        json_array_append_new(peers, peer_down(&f->peers[i]));
    return json_pack("{s:o}", "peers", peers);
}

json_t *kz__api_fed_status(struct kz_api *api)
{
    json_t *o = api->fed_status ? api->fed_status(api->fed_status_ud) : NULL;

    if (o && json_is_array(json_object_get(o, "peers")))
        return o;
    json_decref(o);
    return from_config(api->federation);
}

static void get_federation(struct kz_http_req *req, void *app)
{
    kz__api_respond_json(req, 200, kz__api_fed_status(app));
}

static const struct kz_http_route rows[] = {
    {"GET", "/api/v1/federation", get_federation, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_federation_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
