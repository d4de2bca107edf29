/*
 * api.c - the route table and its handlers.  Every object that leaves goes
 * through kz_router_visible() for the input's identity (kz_sub_viewer).
 *
 * A handler either answers at once (kz__http_respond / kz__http_error) or
 * takes a hold on the connection and answers from its callback; a callback
 * that finds the connection closing only drops its reference.
 */
#include <stdlib.h>
#include <string.h>

#include "http/api_alliance.h"
#include "http/internal.h"

#define CT_JSON "application/json"

static void respond_json(struct kz__http_conn *c, int status, struct kz_sbuf *sb)
{
    kz__http_respond(c, status, CT_JSON, NULL, sb->buf, sb->len);
}

static struct kz_cot_decoder *decoder(struct kz__http_conn *c)
{
    if (!c->dec) {
        struct kz_cot_limits lim;
        kz_cot_limits_default(&lim);
        lim.max_event_bytes = c->lim.max_event_bytes;
        c->dec = kz_cot_decoder_new(&lim);
    }
    return c->dec;
}

/* ---- GET /healthz, GET /metrics --------------------------------------------- */

static void get_healthz(struct kz__http_conn *c)
{
    kz__http_respond(c, 200, "text/plain; charset=utf-8", NULL, "ok\n", 3);
}

static void get_metrics(struct kz__http_conn *c)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;

    kz__http_metrics(&sb, c->opts->router, c->opts->store);
    kz__http_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, sb.buf, sb.len);
    kz_sbuf_release(&sb);
}

/* ---- GET /api/v1/tracks ------------------------------------------------------- */

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

static void get_tracks(struct kz__http_conn *c)
{
    struct features f = {KZ_SBUF_INIT, 0};

    kz_sbuf_adds(&f.sb, "{\"type\":\"FeatureCollection\",\"features\":[");
    kz_router_foreach_track(c->opts->router, kz__http_viewer(c), KZ_EXIT_REST_TRACKS, add_feature,
                            &f);
    kz_sbuf_adds(&f.sb, "]}\n");
    kz__http_respond(c, 200, "application/geo+json", NULL, f.sb.buf, f.sb.len);
    kz_sbuf_release(&f.sb);
}

/* ---- GET /api/v1/events ------------------------------------------------------- */

/* Rebuild the event from a stored row; false when it no longer decodes. */
static bool row_event(struct kz__http_conn *c, const struct kz_store_row *row, struct kz_event *ev)
{
    enum kz_reject why;
    char err[160];

    if (kz_cot_decode(decoder(c), row->xml, row->xml_len, ev, &why, err, sizeof(err)) != KZ_OK) {
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
    if (row->label) {
        free(ev->access);
        ev->access = kz_xstrdup(row->label);
    }
    return true;
}

static void events_done(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct kz__http_conn *c = ud;
    struct features f = {KZ_SBUF_INIT, 0};
    struct kz_event ev;

    if (c->state == KZ__HTTP_CLOSING)
        goto out;
    if (status != KZ_OK) {
        kz__http_error(c, 500, "store query failed: %s", kz_strerror(status));
        goto out;
    }
    kz_event_init(&ev);
    kz_sbuf_adds(&f.sb, "{\"events\":[");
    for (size_t i = 0; i < n; i++) {
        if (row_event(c, &rows[i], &ev) &&
            kz_router_visible(c->opts->router, &ev, kz__http_viewer(c), KZ_EXIT_REST_EVENTS))
            add_feature(&f, &ev);
        kz_event_clear(&ev);
    }
    kz_sbuf_adds(&f.sb, "]}\n");
    respond_json(c, 200, &f.sb);
out:
    kz_sbuf_release(&f.sb);
    kz__http_unref(c);
}

static void get_events(struct kz__http_conn *c)
{
    struct kz_store_query q;
    char err[160];

    if (!c->opts->store) {
        kz__http_error(c, 503, "no store configured");
        return;
    }
    if (kz__http_events_query(&c->hp.req.target, &q, err, sizeof(err)) != KZ_OK) {
        kz__http_error(c, 400, "%s", err);
        return;
    }
    kz__http_hold(c);
    kz_store_query(c->opts->store, &q, events_done, c);
}

/* ---- POST /api/v1/events ------------------------------------------------------ */

/*
 * The router tells the ack only a status.  The event's sequence number is
 * the router's last_seq right after it accepted the event: read inside a
 * synchronous ack (no store) or when kz_router_submit() returns.
 */
static uint64_t router_last_seq(struct kz__http_conn *c)
{
    struct kz_router_stats rs;

    kz_router_stats(c->opts->router, &rs);
    return rs.last_seq;
}

static void post_ack(void *ud, int status)
{
    struct kz__http_conn *c = ud;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    if (c->post.in_submit && !c->post.ping)
        c->post.seq = router_last_seq(c);
    c->post.acked = true;
    if (c->state == KZ__HTTP_CLOSING)
        goto out;
    if (status != KZ_OK) {
        kz__http_error(c, 500, "store: %s", kz_strerror(status));
        goto out;
    }
    kz_sbuf_adds(&sb, "{\"uid\":");
    kz__json_str(&sb, c->post.uid, strlen(c->post.uid));
    kz_sbuf_addf(&sb, ",\"seq\":%llu}\n", (unsigned long long)c->post.seq);
    respond_json(c, 201, &sb);
out:
    kz_sbuf_release(&sb);
    KZ_FREE(c->post.uid);
    kz__http_unref(c);
}

static void post_events(struct kz__http_conn *c)
{
    const struct kz_sbuf *body = &c->hp.req.body;
    enum kz_reject why = KZ_REJ_XML;
    struct kz_event ev;
    char err[200] = "";
    int rc;

    kz_event_init(&ev);
    rc = kz_cot_decode(decoder(c), body->buf ? body->buf : "", body->len, &ev, &why, err,
                       sizeof(err));
    if (rc != KZ_OK) {
        kz_metrics.rejects[why < KZ_REJ__COUNT ? why : KZ_REJ_XML]++;
        kz__http_error(c, 400, "%s: %s", kz_reject_name(why), err);
        return;
    }
    c->post.uid = kz_xstrdup(ev.uid);
    c->post.seq = 0;
    c->post.acked = false;
    /* A ping is answered, not stored: it gets no sequence number. */
    c->post.ping = kz_cot_type_is(&ev, "t-x-c-t");
    kz__http_hold(c);
    /* A certificate identity sends as itself (a ping has no sender to answer). */
    struct kz_sub from = *kz__http_viewer(c);
    bool own = c->identity && c->identity != c->input->identity && !c->post.ping;
    c->post.in_submit = true;
    rc = kz_router_submit(c->opts->router, c->input, own ? &from : NULL, &ev, post_ack, c, &why);
    c->post.in_submit = false;
    KZ_FREE(from.callsign);
    KZ_FREE(from.uid);
    kz_event_clear(&ev);
    if (rc != KZ_OK) {
        /* Refused: the ack will never come, so answer and drop the hold here. */
        KZ_FREE(c->post.uid);
        kz_metrics.rejects[why < KZ_REJ__COUNT ? why : KZ_REJ_XML]++;
        if (why == KZ_REJ_OVERLOAD || why == KZ_REJ_STATE_FULL)
            kz__http_error_extra(c, 503, "Retry-After: 5\r\n",
                                 why == KZ_REJ_OVERLOAD ? "overload: the store is behind"
                                                        : "state_full: too many current uids");
        else
            kz__http_error(c, 400, "%s: refused", kz_reject_name(why));
        kz__http_unref(c);
        return;
    }
    if (!c->post.acked && !c->post.ping)
        c->post.seq = router_last_seq(c);
}

/* ---- GET /api/v1/stream --------------------------------------------------------- */

static void get_stream(struct kz__http_conn *c)
{
    kz__http_sse_start(c);
}

/* ---- routing -------------------------------------------------------------------- */

struct route {
    const char *path;
    llhttp_method_t method;
    bool needs_router;
    void (*fn)(struct kz__http_conn *c);
    unsigned on; /* enum kz__http_kind bits: which inputs serve it */
};

#define API (KZ__HTTP_PLAIN | KZ__HTTP_HTTPS)
#define ANY (KZ__HTTP_PLAIN | KZ__HTTP_HTTPS | KZ__HTTP_ENROLL)

static const struct route routes[] = {
    {"/healthz", HTTP_GET, false, get_healthz, ANY},
    {"/metrics", HTTP_GET, false, get_metrics, API},
    {"/api/v1/tracks", HTTP_GET, true, get_tracks, API},
    {"/api/v1/events", HTTP_GET, true, get_events, API},
    {"/api/v1/events", HTTP_POST, true, post_events, API},
    {"/api/v1/stream", HTTP_GET, true, get_stream, API},
    {"/api/v1/alliance/show", HTTP_GET, false, kz__api_alliance_show, API},
    {"/api/v1/alliance/chain", HTTP_GET, false, kz__api_alliance_chain, API},
    {"/api/v1/alliance/can-task", HTTP_GET, false, kz__api_alliance_can_task, API},
    {"/api/v1/alliance/counterpart", HTTP_GET, false, kz__api_alliance_counterpart, API},
    {"/api/v1/alliance/forums", HTTP_GET, false, kz__api_alliance_forums, API},
    {"/api/v1/alliance/path", HTTP_GET, false, kz__api_alliance_path, API},
    {"/api/v1/readiness", HTTP_POST, false, kz__api_readiness_post, API},
    {"/api/v1/readiness", HTTP_GET, false, kz__api_readiness_get, API},
    {"/api/v1/readiness/rollup", HTTP_GET, false, kz__api_readiness_rollup, API},
    {"/Marti/api/version", HTTP_GET, false, kz__marti_version, ANY},
    {"/Marti/api/version/config", HTTP_GET, false, kz__marti_version_config, ANY},
    {"/Marti/api/clientEndPoints", HTTP_GET, true, kz__marti_client_endpoints, API},
    {"/Marti/api/groups/all", HTTP_GET, false, kz__marti_groups_all, API},
    {"/Marti/api/tls/config", HTTP_GET, false, kz__enroll_tls_config, KZ__HTTP_ENROLL},
    {"/Marti/api/tls/signClient/v2", HTTP_POST, false, kz__enroll_sign, KZ__HTTP_ENROLL},
};

/* Enrollment inputs serve only enrollment: they know no caller identity. */
static bool served_here(const struct route *rt, const struct kz__http_conn *c)
{
    return (rt->on & (unsigned)c->kind) != 0;
}

static void method_not_allowed(struct kz__http_conn *c, const char *path)
{
    struct kz_sbuf allow = KZ_SBUF_INIT;

    kz_sbuf_adds(&allow, "Allow: ");
    for (size_t i = 0, n = 0; i < KZ_ARRAY_LEN(routes); i++) {
        if (strcmp(routes[i].path, path) != 0 || !served_here(&routes[i], c))
            continue;
        kz_sbuf_addf(&allow, "%s%s", n++ ? ", " : "", llhttp_method_name(routes[i].method));
    }
    kz_sbuf_adds(&allow, "\r\n");
    kz__http_error_extra(c, 405, allow.buf, "method not allowed");
    kz_sbuf_release(&allow);
}

void kz__http_dispatch(struct kz__http_conn *c)
{
    const char *path = c->hp.req.target.path;
    bool path_known = false;

    for (size_t i = 0; i < KZ_ARRAY_LEN(routes); i++) {
        const struct route *rt = &routes[i];
        if (strcmp(rt->path, path) != 0 || !served_here(rt, c))
            continue;
        path_known = true;
        if (rt->method != c->hp.req.method)
            continue;
        if (rt->needs_router && !c->opts->router) {
            kz__http_error(c, 503, "no router");
            return;
        }
        rt->fn(c);
        return;
    }
    if (path_known)
        method_not_allowed(c, path);
    else
        kz__http_error(c, 404, "not found");
}
