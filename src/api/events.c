/*
 * events.c - GET /api/v1/events (the log, newest first, filtered for the
 * caller before the limit, in pages linked by a cursor) and POST
 * /api/v1/events (a CoT XML body, answered 201 {"uid","seq"} only after the
 * router's store committed it).
 *
 * GET parameters: since/until ISO 8601 UTC on receive time, type may end in
 * '*' (prefix), uid, limit 1..10000 (default 100), cursor (the `next` of an
 * earlier page), bbox (minLon,minLat,maxLon,maxLat); a malformed value or
 * any other parameter is 400.
 * POST answers 400 for a body that does not decode or is refused ("<reject
 * reason>: <detail>"), 503 + Retry-After when the store is behind or the
 * state is full, 500 when the store failed.
 *
 * A POST waiting for its commit keeps what its answer needs in the
 * request's own memory (struct post), never on the connection: pipelined
 * POSTs each have theirs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

/* ---- GET /api/v1/events ------------------------------------------------------- */

/*
 * The answer is produced while it is sent (security review F12): the store
 * is asked for the next rows below the last seq read only when what was
 * encoded so far has gone out, so a caller that does not read holds one
 * batch, never the whole answer.  `limit` counts the events the caller may
 * see (F15): rows are read and filtered until the page holds `limit` of
 * them or the log is exhausted.  At most SCAN_BATCHES × max(limit,
 * SCAN_BATCH_MIN) rows are read per request; a page cut short by that still
 * carries a cursor, so the client goes on.
 */
#define SCAN_BATCH_MIN 100
#define SCAN_BATCHES 10
#define PAGE_BYTES 65536 /* aim of one store read */
#define PAGE_ROWS_MAX 256
#define PAGE_ROWS_FIRST 4 /* before the size of a row is known */

struct query {
    struct kz_api *api;
    struct kz_http_req *req;
    struct kz_store_query sq; /* the next read; its strings point into the request */
    unsigned want;            /* the page size (limit): visible events */
    unsigned found;           /* visible events sent or encoded */
    unsigned scan_left;       /* rows this request may still read */
    unsigned asked;           /* rows asked in the read in flight */
    struct kz_sbuf page;      /* encoded, not yet handed out */
    size_t off;               /* of it handed out */
    size_t avg;               /* bytes per stored row so far */
    bool in_flight;           /* a read runs (with a hold on req) */
    bool closed;              /* the body ended: free on the read's return */
    bool streaming;           /* kz_http_respond_body() was called */
    bool last;                /* the page is complete: nothing more to read */
};

/* Rebuild the event from a stored row; false when it no longer decodes. */
bool kz__api_row_event(struct kz_api *api, const struct kz_store_row *row, struct kz_event *ev)
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

/* Close the page: {"events":[...],"next":C}, C the cursor or null (log exhausted). */
static void finish(struct query *q, uint64_t next)
{
    if (next)
        kz_sbuf_addf(&q->page, "],\"next\":\"%llu\"}\n", (unsigned long long)next);
    else
        kz_sbuf_adds(&q->page, "],\"next\":null}\n");
    q->last = true;
}

/* Add the rows the caller may see; the page ends when full, exhausted or out of budget. */
static void take_rows(struct query *q, const struct kz_store_row *rows, size_t n)
{
    struct kz_event ev;
    size_t bytes = 0, i;

    kz_event_init(&ev);
    for (i = 0; i < n && q->found < q->want; i++) {
        bytes += rows[i].xml_len;
        if (kz__api_row_event(q->api, &rows[i], &ev) &&
            kz_router_visible(q->api->router, &ev, kz_api_view(q->req), KZ_EXIT_REST_EVENTS)) {
            if (q->found++)
                kz_sbuf_add(&q->page, ",", 1);
            kz_cot_encode_json(&ev, &q->page);
        }
        kz_event_clear(&ev);
    }
    q->avg = i ? bytes / i + 1 : q->avg;
    q->scan_left -= (unsigned)i;
    if (i)
        q->sq.before_seq = rows[i - 1].seq;
    if (q->found == q->want)
        finish(q, rows[i - 1].seq); /* full: go on below the last event shown */
    else if (n < q->asked)
        finish(q, 0); /* nothing older matches */
    else if (q->scan_left == 0)
        finish(q, q->sq.before_seq); /* the budget is spent: go on below the last row read */
}

static void free_query(struct query *q)
{
    kz_sbuf_release(&q->page);
    free(q);
}

static void page_done(void *ud, int status, const struct kz_store_row *rows, size_t n);

/* Ask the store for the next page (holding the request until it returns). */
static void ask_page(struct query *q)
{
    unsigned rows = (unsigned)(q->avg ? PAGE_BYTES / q->avg : PAGE_ROWS_FIRST);

    rows = rows < 1 ? 1 : rows > PAGE_ROWS_MAX ? PAGE_ROWS_MAX : rows;
    q->asked = rows < q->scan_left ? rows : q->scan_left;
    q->sq.limit = q->asked;
    q->in_flight = true;
    kz_http_hold(q->req);
    kz_store_query(q->api->store, &q->sq, page_done, q);
}

static enum kz_http_body_step events_next(void *ud, struct kz_sbuf *out, size_t want)
{
    struct query *q = ud;
    size_t n = q->page.len - q->off;

    if (n > want)
        n = want;
    kz_sbuf_add(out, q->page.buf + q->off, n);
    q->off += n;
    if (q->off < q->page.len)
        return KZ_HTTP_BODY_MORE;
    if (q->last)
        return KZ_HTTP_BODY_DONE;
    q->page.len = q->off = 0;
    ask_page(q);
    return q->in_flight ? KZ_HTTP_BODY_WAIT : KZ_HTTP_BODY_MORE;
}

static void events_close(void *ud)
{
    struct query *q = ud;

    q->closed = true;
    if (!q->in_flight)
        free_query(q);
}

static void page_done(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct query *q = ud;
    struct kz_http_req *req = q->req;

    q->in_flight = false;
    if (q->closed || kz_http_gone(req)) {
        free_query(q); /* the body was closed, or never started */
    } else if (status != KZ_OK && !q->streaming) {
        kz_http_error(req, 500, "store query failed: %s", kz_strerror(status));
        free_query(q);
    } else if (status != KZ_OK) {
        kz_log(KZ_LOG_WARN, "store query failed mid-answer", "reason=%s", kz_strerror(status));
        kz_http_body_fail(req); /* closes the body: q is freed */
    } else {
        take_rows(q, rows, n);
        if (!q->streaming) {
            q->streaming = true;
            kz_http_respond_body(req, 200, "application/json", NULL,
                                 &(struct kz_http_body){events_next, events_close, q});
        } else {
            kz_http_body_resume(req);
        }
    }
    kz_http_release(req); /* q may be gone from here */
}

static void get_events(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct query *q;
    char err[160];

    if (!kz__api_need_router(api, req))
        return;
    if (!api->store) {
        kz_http_error(req, 503, "no store configured");
        return;
    }
    q = kz_xcalloc(1, sizeof(*q));
    if (kz__api_events_query(req, &q->sq, err, sizeof(err)) != KZ_OK) {
        kz_http_error(req, 400, "%s", err);
        free(q);
        return;
    }
    q->api = api;
    q->req = req;
    q->want = q->sq.limit;
    q->scan_left = SCAN_BATCHES * (q->want < SCAN_BATCH_MIN ? SCAN_BATCH_MIN : q->want);
    kz_sbuf_adds(&q->page, "{\"events\":[");
    ask_page(q);
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
    {"GET", "/api/v1/events", get_events, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"POST", "/api/v1/events", post_events, KZ_ROLE_OPERATOR, KZ_HTTP_ON_API},
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

/* A `next` from an earlier page: the seq to continue below, 1..INT64_MAX in decimal. */
static int parse_cursor(const struct kz_http_req *req, uint64_t *out, char *errbuf, size_t errlen)
{
    const char *s = kz_http_param(req, "cursor");
    size_t len = s ? strlen(s) : 0;

    *out = 0;
    if (!s)
        return KZ_OK;
    if (len > 0 && len <= 19 && s[0] != '0' && strspn(s, "0123456789") == len)
        *out = strtoull(s, NULL, 10);
    if (*out == 0 || *out > INT64_MAX) {
        snprintf(errbuf, errlen, "cursor: expected the 'next' of an earlier page");
        return KZ_ERR_INVAL;
    }
    return KZ_OK;
}

#define BBOX_MAX_LEN 256

/* The next of the four numbers at *s, then the comma (or the end for the last). */
static bool bbox_number(const char **s, bool last, double *out)
{
    char *end = NULL;

    if (!**s || strchr(" \t\n\r\f\v+", **s))
        return false; /* strtod would skip spaces; a bare "," is no number */
    *out = strtod(*s, &end);
    if (end == *s || !isfinite(*out) || (last ? *end != '\0' : *end != ','))
        return false;
    *s = last ? end : end + 1;
    return true;
}

int kz__api_bbox_param(const struct kz_http_req *req, bool *has, struct kz_store_bbox *b,
                       char *errbuf, size_t errlen)
{
    const char *s = kz_http_param(req, "bbox");
    double v[4];

    *has = false;
    if (!s)
        return KZ_OK;
    for (int i = 0; i < 4; i++) {
        if (strlen(s) > BBOX_MAX_LEN || !bbox_number(&s, i == 3, &v[i])) {
            snprintf(errbuf, errlen,
                     "bbox: expected minLon,minLat,maxLon,maxLat: four finite numbers in degrees");
            return KZ_ERR_INVAL;
        }
    }
    *b = (struct kz_store_bbox){v[0], v[1], v[2], v[3]};
    if (!kz_store_bbox_valid(b)) {
        snprintf(errbuf, errlen,
                 "bbox: longitudes must be in [-180, 180], latitudes in [-90, 90] with "
                 "minLat <= maxLat (minLon > maxLon crosses the antimeridian)");
        return KZ_ERR_INVAL;
    }
    *has = true;
    return KZ_OK;
}

/* Degrees at 1e-7, as the store compares them (store/geo.c). */
static long long e7(double deg)
{
    return llround(deg * 1e7);
}

bool kz__api_in_bbox(const struct kz_event *ev, const struct kz_store_bbox *b)
{
    long long lon = e7(ev->lon), lat = e7(ev->lat);
    long long lon0 = e7(b->min_lon), lon1 = e7(b->max_lon);
    bool lon_in = lon0 <= lon1 ? lon >= lon0 && lon <= lon1 : lon >= lon0 || lon <= lon1;

    /* TAK's "no position" (0, 0 with an unknown height), as the store reads it. */
    if (ev->lat == 0.0 && ev->lon == 0.0 && ev->hae == KZ_POINT_UNKNOWN)
        return false;
    return lon_in && lat >= e7(b->min_lat) && lat <= e7(b->max_lat);
}

int kz__api_events_query(const struct kz_http_req *req, struct kz_store_query *q, char *errbuf,
                         size_t errlen)
{
    static const char *const known[] = {"uid",   "type",   "since", "until",
                                        "limit", "cursor", "bbox",  NULL};
    const char *limit = kz_http_param(req, "limit");
    const char *unknown = kz_http_param_unknown(req, known);

    memset(q, 0, sizeof(*q));
    q->limit = EVENTS_LIMIT_DEFAULT;
    if (unknown) {
        snprintf(errbuf, errlen, "unknown parameter '%.64s'", unknown);
        return KZ_ERR_INVAL;
    }
    if (parse_cursor(req, &q->before_seq, errbuf, errlen) != KZ_OK ||
        nonempty_param(req, "uid", &q->uid, errbuf, errlen) != KZ_OK ||
        nonempty_param(req, "type", &q->type, errbuf, errlen) != KZ_OK ||
        parse_time_param(req, "since", &q->since_us, errbuf, errlen) != KZ_OK ||
        parse_time_param(req, "until", &q->until_us, errbuf, errlen) != KZ_OK ||
        kz__api_bbox_param(req, &q->has_bbox, &q->bbox, errbuf, errlen) != KZ_OK)
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
