/*
 * events.c - GET /api/v1/events (the log, newest first, filtered for the
 * caller after the limit) and POST /api/v1/events (a CoT XML body, answered
 * 201 {"uid","seq"} only after the router's store committed it).
 *
 * GET parameters: since/until ISO 8601 UTC on receive time, type may end in
 * '*' (prefix), uid, limit 1..10000 (default 100; anything else is 400).
 * POST answers 400 for a body that does not decode or is refused ("<reject
 * reason>: <detail>"), 503 + Retry-After when the store is behind or the
 * state is full, 500 when the store failed.
 *
 * A POST waiting for its commit keeps what its answer needs in the
 * request's own memory (struct post), never on the connection: pipelined
 * POSTs each have theirs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

/* ---- GET /api/v1/events ------------------------------------------------------- */

struct query {
    struct kz_api *api;
    struct kz_http_req *req;
};

/* Rebuild the event from a stored row; false when it no longer decodes. */
static bool row_event(struct kz_api *api, const struct kz_store_row *row, struct kz_event *ev)
{
    enum kz_reject why;
    char err[160];

    if (kz_cot_decode(kz__api_decoder(api), row->xml, row->xml_len, ev, &why, err, sizeof(err)) !=
        KZ_OK) {
        kz_log(KZ_LOG_WARN, "stored event does not decode", "seq=%llu reason=%s",
               (unsigned long long)row->seq, kz_reject_name(why));
        return false;
    }
    ev->seq = row->seq;
    ev->recv_time = row->recv_time;
    free(ev->origin_input);
    ev->origin_input = kz_xstrdup(row->origin_input);
    free(ev->origin_user);
    ev->origin_user = kz_xstrdup(row->origin_user);
    free(ev->origin_nation);
    ev->origin_nation = kz_xstrdup(row->origin_nation);
    free(ev->origin_groups);
    ev->origin_groups = kz_xstrdup(row->origin_groups);
    if (row->label) {
        free(ev->access);
        ev->access = kz_xstrdup(row->label);
    }
    return true;
}

static void answer_rows(struct query *q, const struct kz_store_row *rows, size_t n)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    struct kz_event ev;
    unsigned count = 0;

    kz_event_init(&ev);
    kz_sbuf_adds(&sb, "{\"events\":[");
    for (size_t i = 0; i < n; i++) {
        if (row_event(q->api, &rows[i], &ev) &&
            kz_router_visible(q->api->router, &ev, kz_api_view(q->req), KZ_EXIT_REST_EVENTS)) {
            if (count++)
                kz_sbuf_add(&sb, ",", 1);
            kz_cot_encode_json(&ev, &sb);
        }
        kz_event_clear(&ev);
    }
    kz_sbuf_adds(&sb, "]}\n");
    kz_http_respond(q->req, 200, "application/json", NULL, sb.buf, sb.len);
    kz_sbuf_release(&sb);
}

static void events_done(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct query *q = ud;
    struct kz_http_req *req = q->req;

    if (kz_http_gone(req))
        ;
    else if (status != KZ_OK)
        kz_http_error(req, 500, "store query failed: %s", kz_strerror(status));
    else
        answer_rows(q, rows, n);
    kz_http_release(req);
}

static void get_events(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct kz_store_query sq;
    struct query *q;
    char err[160];

    if (!kz__api_need_router(api, req))
        return;
    if (!api->store) {
        kz_http_error(req, 503, "no store configured");
        return;
    }
    if (kz__api_events_query(req, &sq, err, sizeof(err)) != KZ_OK) {
        kz_http_error(req, 400, "%s", err);
        return;
    }
    q = kz_http_alloc(req, sizeof(*q));
    q->api = api;
    q->req = req;
    kz_http_hold(req);
    kz_store_query(api->store, &sq, events_done, q);
}

/* ---- POST /api/v1/events ------------------------------------------------------ */

/* What the answer needs, in the request's arena: valid until kz_http_release(). */
struct post {
    struct kz_http_req *req;
    char *uid;
    uint64_t seq; /* set by kz_router_submit() before the ack can run */
};

static void post_ack(void *ud, int status)
{
    struct post *p = ud;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    if (kz_http_gone(p->req)) {
        /* nobody to answer */
    } else if (status != KZ_OK) {
        kz_http_error(p->req, 500, "store: %s", kz_strerror(status));
    } else {
        kz_sbuf_adds(&sb, "{\"uid\":");
        kz_json_escape(&sb, p->uid, strlen(p->uid));
        kz_sbuf_addf(&sb, ",\"seq\":%llu}\n", (unsigned long long)p->seq);
        kz_http_respond(p->req, 201, "application/json", NULL, sb.buf, sb.len);
    }
    kz_sbuf_release(&sb);
    kz_http_release(p->req);
}

static void refused(struct kz_http_req *req, enum kz_reject why)
{
    kz_metrics.rejects[why < KZ_REJ__COUNT ? why : KZ_REJ_XML]++;
    if (why == KZ_REJ_OVERLOAD || why == KZ_REJ_STATE_FULL)
        kz_http_error_extra(req, 503, "Retry-After: 5\r\n",
                            why == KZ_REJ_OVERLOAD ? "overload: the store is behind"
                                                   : "state_full: too many current uids");
    else
        kz_http_error(req, 400, "%s: refused", kz_reject_name(why));
}

static struct post *new_post(struct kz_http_req *req, const char *uid)
{
    struct post *p = kz_http_alloc(req, sizeof(*p));
    size_t n = strlen(uid);

    p->req = req;
    p->uid = kz_http_alloc(req, n + 1);
    memcpy(p->uid, uid, n + 1);
    p->seq = 0;
    return p;
}

/* Hand the event to the router; the answer comes from post_ack (maybe already). */
static void submit(struct kz_api *api, struct kz_http_req *req, struct kz_event *ev)
{
    const struct kz_input *input = kz_http_input(req);
    const struct kz_identity *id = kz_http_identity(req);
    /* A ping is answered, not stored: it has no sender to answer. */
    bool ping = kz_cot_type_is(ev, "t-x-c-t");
    /* A certificate identity sends as itself. */
    bool own = id && id != input->identity && !ping;
    struct kz_sub from = *kz_api_view(req);
    struct post *p = new_post(req, ev->uid);
    enum kz_reject why = KZ_REJ_XML;

    kz_http_hold(req);
    int rc =
        kz_router_submit(api->router, input, own ? &from : NULL, ev, post_ack, p, &why, &p->seq);
    KZ_FREE(from.callsign);
    KZ_FREE(from.uid);
    if (rc != KZ_OK) {
        /* Refused: the ack never comes, so answer and drop the hold here. */
        refused(req, why);
        kz_http_release(req);
    }
}

static void post_events(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    enum kz_reject why = KZ_REJ_XML;
    struct kz_event ev;
    char err[200] = "";
    size_t len;
    const char *body = kz_http_body(req, &len);

    if (!kz__api_need_router(api, req))
        return;
    kz_event_init(&ev);
    if (kz_cot_decode(kz__api_decoder(api), body, len, &ev, &why, err, sizeof(err)) != KZ_OK) {
        kz_metrics.rejects[why < KZ_REJ__COUNT ? why : KZ_REJ_XML]++;
        kz_http_error(req, 400, "%s: %s", kz_reject_name(why), err);
        kz_event_clear(&ev);
        return;
    }
    submit(api, req, &ev);
    kz_event_clear(&ev);
}

static const struct kz_http_route rows[] = {
    {"GET", "/api/v1/events", get_events, NULL, KZ_HTTP_ON_API},
    {"POST", "/api/v1/events", post_events, NULL, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_events_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}

/* ---- GET /api/v1/events parameters ---------------------------------------- */

#define EVENTS_LIMIT_DEFAULT 100
#define EVENTS_LIMIT_MAX 10000

static int parse_limit(const char *s, unsigned *out)
{
    unsigned long v = 0;

    if (!*s)
        return KZ_ERR_INVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return KZ_ERR_INVAL;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > EVENTS_LIMIT_MAX)
            return KZ_ERR_INVAL;
    }
    if (v == 0)
        return KZ_ERR_INVAL;
    *out = (unsigned)v;
    return KZ_OK;
}

static int parse_time_param(const struct kz_http_req *req, const char *name, int64_t *out,
                            char *errbuf, size_t errlen)
{
    const char *s = kz_http_param(req, name);

    *out = 0;
    if (!s)
        return KZ_OK;
    if (kz_time_parse(s, strlen(s), out) != KZ_OK || *out <= 0) {
        snprintf(errbuf, errlen, "%s: expected an ISO 8601 UTC time", name);
        return KZ_ERR_INVAL;
    }
    return KZ_OK;
}

static int nonempty_param(const struct kz_http_req *req, const char *name, const char **out,
                          char *errbuf, size_t errlen)
{
    const char *s = kz_http_param(req, name);

    *out = NULL;
    if (!s)
        return KZ_OK;
    if (!*s || strlen(s) > 1024) {
        snprintf(errbuf, errlen, "%s: must be 1 to 1024 bytes", name);
        return KZ_ERR_INVAL;
    }
    *out = s;
    return KZ_OK;
}

int kz__api_events_query(const struct kz_http_req *req, struct kz_store_query *q, char *errbuf,
                         size_t errlen)
{
    const char *limit = kz_http_param(req, "limit");

    memset(q, 0, sizeof(*q));
    q->limit = EVENTS_LIMIT_DEFAULT;
    if (nonempty_param(req, "uid", &q->uid, errbuf, errlen) != KZ_OK ||
        nonempty_param(req, "type", &q->type, errbuf, errlen) != KZ_OK ||
        parse_time_param(req, "since", &q->since_us, errbuf, errlen) != KZ_OK ||
        parse_time_param(req, "until", &q->until_us, errbuf, errlen) != KZ_OK)
        return KZ_ERR_INVAL;
    if (limit && parse_limit(limit, &q->limit) != KZ_OK) {
        snprintf(errbuf, errlen, "limit: expected an integer from 1 to %d", EVENTS_LIMIT_MAX);
        return KZ_ERR_INVAL;
    }
    if (q->since_us && q->until_us && q->since_us > q->until_us) {
        snprintf(errbuf, errlen, "since: must not be after until");
        return KZ_ERR_INVAL;
    }
    return KZ_OK;
}
