/*
 * federation.c - GET /api/v1/federation: every configured peer's link state
 * and counters, from the server's status provider (struct kz_api
 * fed_status), or, without one, the configuration with every peer "down";
 * GET /api/v1/federation/{peer}/sent: what crossed to a peer, and when (the
 * store's sent log, for a security officer: role admin).
 */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

#define SENT_LIMIT_DEFAULT 1000
#define SENT_LIMIT_MAX 10000

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

/* ---- what crossed ------------------------------------------------------------------- */

static bool known_peer(const struct kz_config_federation *f, const char *name)
{
    for (unsigned i = 0; f && i < f->peers_count; i++)
        if (strcmp(f->peers[i].name, name) == 0)
            return true;
    return false;
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *sent_json(const struct kz_store_sent_row *r)
{
    char sent[KZ_TIME_STRLEN], time[KZ_TIME_STRLEN];

    kz_time_format(r->sent_us, sent);
    kz_time_format(r->time_us, time);
    return json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "sent", sent, "seq", (json_int_t)r->seq,
                     "uid", opt_str(r->uid), "type", opt_str(r->type), "time",
                     r->uid ? json_string(time) : json_null(), "label", opt_str(r->label),
                     "originator", opt_str(r->origin_nation));
}

static void sent_done(void *ud, int status, const struct kz_store_sent_row *rows, size_t n)
{
    struct kz_http_req *req = ud;
    const char *limit = kz_http_param(req, "limit");
    json_t *arr = json_array(), *next = json_null();
    char cursor[48];

    if (kz_http_gone(req) || status != KZ_OK) {
        json_decref(arr);
        if (!kz_http_gone(req))
            kz_http_error(req, 500, "store query failed: %s", kz_strerror(status));
        kz_http_release(req);
        return;
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, sent_json(&rows[i]));
    if (n && n == (limit ? strtoul(limit, NULL, 10) : SENT_LIMIT_DEFAULT)) {
        snprintf(cursor, sizeof(cursor), "%lld.%llu", (long long)rows[n - 1].sent_us,
                 (unsigned long long)rows[n - 1].seq);
        next = json_string(cursor);
    }
    kz__api_respond_json(req, 200,
                         json_pack("{s:s, s:o, s:o}", "peer", kz_http_path_param(req, "peer"),
                                   "sent", arr, "next", next));
    kz_http_release(req);
}

/* since (ISO 8601), cursor ("<sent µs>.<seq>", a page's `next`), limit 1..10000. */
static int sent_query(struct kz_http_req *req, struct kz_store_sent_query *q, char *err,
                      size_t errlen)
{
    static const char *const known[] = {"since", "cursor", "limit", NULL};
    const char *unknown = kz_http_param_unknown(req, known);
    const char *since = kz_http_param(req, "since"), *cursor = kz_http_param(req, "cursor");
    const char *limit = kz_http_param(req, "limit");
    char *end = NULL;
    unsigned long n = limit ? strtoul(limit, &end, 10) : SENT_LIMIT_DEFAULT;

    q->limit = (unsigned)n;
    if (unknown)
        return snprintf(err, errlen, "unknown parameter '%.64s'", unknown), KZ_ERR_INVAL;
    if ((limit && (*end || n < 1 || n > SENT_LIMIT_MAX)))
        return snprintf(err, errlen, "limit: 1..%d", SENT_LIMIT_MAX), KZ_ERR_INVAL;
    if (since && kz_time_parse(since, strlen(since), &q->after_sent_us) != KZ_OK)
        return snprintf(err, errlen, "since: not an ISO 8601 UTC time"), KZ_ERR_INVAL;
    if (since)
        q->after_sent_us--; /* since is inclusive */
    if (cursor) {
        long long us = strtoll(cursor, &end, 10);
        if (*end != '.' || us < 0)
            return snprintf(err, errlen, "cursor: not a page's next"), KZ_ERR_INVAL;
        q->after_sent_us = us;
        q->after_seq = strtoull(end + 1, &end, 10);
        if (*end)
            return snprintf(err, errlen, "cursor: not a page's next"), KZ_ERR_INVAL;
    }
    return KZ_OK;
}

static void get_sent(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct kz_store_sent_query q = {.peer = kz_http_path_param(req, "peer")};
    char err[160];

    if (!known_peer(api->federation, q.peer)) {
        kz_http_error(req, 404, "no federation peer '%.64s'", q.peer);
        return;
    }
    if (!api->store) {
        kz_http_error(req, 503, "no store configured");
        return;
    }
    if (sent_query(req, &q, err, sizeof(err)) != KZ_OK) {
        kz_http_error(req, 400, "%s", err);
        return;
    }
    kz_http_hold(req);
    kz_store_fed_sent_query(api->store, &q, sent_done, req);
}

static const struct kz_http_route rows[] = {
    {"GET", "/api/v1/federation", get_federation, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/federation/{peer}/sent", get_sent, KZ_ROLE_ADMIN, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_federation_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
