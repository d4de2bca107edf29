/*
 * v2.c - TAK federation v2 on a connection: the FederatedChannel calls of
 * TAK Server, over one HTTP/2 connection (grpc.c), in both roles.
 *
 * Dialing (TAK's TakFigClient): ServerFederateGroupsStream; when its first
 * answer says SERVING (or the peer does not know the call), ServerEventStream
 * carries our events; ClientEventStream brings the peer's; HealthCheck every
 * 3 s, and any answer but SERVING, or none for 15 s, ends the link.
 *
 * Accepting (TAK's FederationServer): the same calls answered; the first
 * FederateGroups says SERVING, ServerEventStream is answered with our
 * Subscription at once, ClientEventStream carries our events, HealthCheck
 * answers SERVING once the peer subscribed (NOT_CONNECTED before), and a link
 * without a health check for 15 s is closed.
 */
#include <stdint.h>
#include <string.h>

#include "fed/internal.h"

#define SERVICE "/com.atakmap.FederatedChannel/"
/* kizuna's own header: where the sender of the events resumes (see outbox.c).  The dialer
 * sends it on ClientEventStream, the acceptor on its ServerFederateGroupsStream answer. */
#define RESUME "kz-resume"

enum call_kind {
    CALL_UNKNOWN,
    CALL_GROUPS_IN,        /* ServerFederateGroupsStream */
    CALL_GROUPS_OUT,       /* ClientFederateGroupsStream */
    CALL_EVENTS_TO_SERVER, /* ServerEventStream: the client's events to the server */
    CALL_EVENTS_TO_CLIENT, /* ClientEventStream: the server's events to the client */
    CALL_HEALTH,
};

static const struct {
    const char *method;
    enum call_kind kind;
} methods[] = {
    {"ServerFederateGroupsStream", CALL_GROUPS_IN},
    {"ClientFederateGroupsStream", CALL_GROUPS_OUT},
    {"ServerEventStream", CALL_EVENTS_TO_SERVER},
    {"ClientEventStream", CALL_EVENTS_TO_CLIENT},
    {"HealthCheck", CALL_HEALTH},
};

enum { HEALTH_SERVING = 1, HEALTH_NOT_CONNECTED = 3 };
enum { TAK_SERVER = 2, TAK_CLIENT = 3 };
#define GRPC_UNIMPLEMENTED 12

static enum call_kind kind_of(struct kz_grpc_call *call)
{
    return (enum call_kind)(uintptr_t)kz_grpc_call_data(call);
}

/* "kz-resume": the last of the peer's sequence numbers we received (none: no header). */
static const char *resume_of(const struct fed_conn *c, char *buf, size_t len)
{
    if (!c->peer->recv_seq)
        return NULL;
    snprintf(buf, len, "%llu", (unsigned long long)c->peer->recv_seq);
    return buf;
}

static struct kz_grpc_call *start(struct fed_conn *c, enum call_kind k)
{
    char path[96], resume[24];
    const char *value = k == CALL_EVENTS_TO_CLIENT ? resume_of(c, resume, sizeof(resume)) : NULL;
    struct kz_grpc_call *call;

    for (size_t i = 0; i < KZ_ARRAY_LEN(methods); i++)
        if (methods[i].kind == k)
            snprintf(path, sizeof(path), SERVICE "%s", methods[i].method);
    call = kz_grpc_call_start(c->grpc, path, value ? RESUME : NULL, value);
    if (call)
        kz_grpc_call_set_data(call, (void *)(uintptr_t)k);
    return call;
}

static const char *node_id(const struct fed_conn *c)
{
    return c->fed->cfg->node->id;
}

static void send_subscription(struct fed_conn *c, struct kz_grpc_call *call, int type)
{
    struct kz_sbuf m = KZ_SBUF_INIT;

    kz_fed_encode_subscription(node_id(c), node_id(c), node_id(c), type, "", &m);
    kz_grpc_send(call, m.buf, m.len);
    kz_sbuf_release(&m);
}

/* ---- the dialing side ---------------------------------------------------------- */

static void open_events_out(struct fed_conn *c, const char *resume)
{
    if (c->events_out)
        return;
    c->events_out = start(c, CALL_EVENTS_TO_SERVER);
    if (c->events_out)
        kz__fed_attach(c, resume);
}

static void health_tick(uv_timer_t *t)
{
    struct fed_conn *c = t->data;
    struct kz_sbuf m = KZ_SBUF_INIT;
    struct kz_grpc_call *call;
    int64_t now = (int64_t)uv_now(c->fed->loop);

    if (c->closing)
        return;
    if (now - c->last_health_ms > KZ_FED_HEALTH_TIMEOUT_MS) {
        kz__fed_close(c, "no health check answer for 15 s");
        return;
    }
    if (!(call = start(c, CALL_HEALTH)))
        return;
    kz_fed_encode_client_health(HEALTH_SERVING, &m);
    kz_grpc_send(call, m.buf, m.len);
    kz_grpc_half_close(call);
    kz_sbuf_release(&m);
}

static void client_start(struct fed_conn *c)
{
    struct kz_grpc_call *call;

    if ((call = start(c, CALL_GROUPS_IN))) {
        send_subscription(c, call, TAK_CLIENT);
        kz_grpc_half_close(call);
    }
    if ((call = start(c, CALL_EVENTS_TO_CLIENT))) {
        send_subscription(c, call, TAK_CLIENT);
        kz_grpc_half_close(call);
    }
    uv_timer_start(&c->timer, health_tick, KZ_FED_HEALTH_EVERY_MS, KZ_FED_HEALTH_EVERY_MS);
}

static void client_message(struct fed_conn *c, struct kz_grpc_call *call, const uint8_t *msg,
                           size_t len)
{
    int status = 0;

    switch (kind_of(call)) {
    case CALL_GROUPS_IN: /* the first FederateGroups: the server is ready for our events */
        open_events_out(c, kz_grpc_call_header(call));
        break;
    case CALL_EVENTS_TO_CLIENT:
        kz__fed_inbound(c, msg, len);
        break;
    case CALL_HEALTH:
        if (kz_fed_decode_health(msg, len, &status) != KZ_OK || status != HEALTH_SERVING) {
            kz__fed_close(c, "the peer's health check did not answer SERVING");
            return;
        }
        c->last_health_ms = (int64_t)uv_now(c->fed->loop);
        break;
    default:
        break;
    }
}

static void client_end(struct fed_conn *c, struct kz_grpc_call *call, int status)
{
    enum call_kind k = kind_of(call);

    if (k == CALL_GROUPS_IN && status == GRPC_UNIMPLEMENTED)
        open_events_out(c, NULL); /* an older peer without group streams */
    else if (k == CALL_EVENTS_TO_CLIENT || k == CALL_EVENTS_TO_SERVER)
        kz__fed_close(c, "the peer ended an event stream");
}

/* ---- the accepting side ---------------------------------------------------------- */

static void sweep(uv_timer_t *t)
{
    struct fed_conn *c = t->data;

    if (!c->closing && (int64_t)uv_now(c->fed->loop) - c->last_health_ms > KZ_FED_HEALTH_TIMEOUT_MS)
        kz__fed_close(c, "no health check for 15 s");
}

static int on_call(void *ud, struct kz_grpc_call *call, const char *path)
{
    struct fed_conn *c = ud;
    struct kz_sbuf m = KZ_SBUF_INIT;
    enum call_kind k = CALL_UNKNOWN;

    for (size_t i = 0; i < KZ_ARRAY_LEN(methods); i++)
        if (strncmp(path, SERVICE, strlen(SERVICE)) == 0 &&
            strcmp(path + strlen(SERVICE), methods[i].method) == 0)
            k = methods[i].kind;
    if (k == CALL_UNKNOWN)
        return KZ_ERR_NOTFOUND;
    kz_grpc_call_set_data(call, (void *)(uintptr_t)k);
    if (k == CALL_GROUPS_IN) {
        char resume[24];
        if (resume_of(c, resume, sizeof(resume)))
            kz_grpc_call_set_header(call, RESUME, resume);
        kz_fed_encode_groups(HEALTH_SERVING, NULL, 0, &m);
        kz_grpc_send(call, m.buf, m.len);
    } else if (k == CALL_EVENTS_TO_SERVER) {
        send_subscription(c, call, TAK_SERVER);
    } else if (k == CALL_EVENTS_TO_CLIENT && !c->events_out) {
        c->events_out = call;
        c->peer_subscribed = true;
        kz__fed_attach(c, kz_grpc_call_header(call));
    }
    kz_sbuf_release(&m);
    return KZ_OK;
}

static void server_message(struct fed_conn *c, struct kz_grpc_call *call, const uint8_t *msg,
                           size_t len)
{
    struct kz_sbuf m = KZ_SBUF_INIT;
    int status;

    switch (kind_of(call)) {
    case CALL_EVENTS_TO_SERVER:
        kz__fed_inbound(c, msg, len);
        break;
    case CALL_HEALTH:
        if (kz_fed_decode_health(msg, len, &status) != KZ_OK)
            break;
        c->last_health_ms = (int64_t)uv_now(c->fed->loop);
        kz_fed_encode_server_health(c->peer_subscribed ? HEALTH_SERVING : HEALTH_NOT_CONNECTED, &m);
        kz_grpc_send(call, m.buf, m.len);
        kz_grpc_finish(call, 0, NULL);
        break;
    default:
        break; /* Subscription requests and FederateGroups: nothing to do */
    }
    kz_sbuf_release(&m);
}

static void server_end(struct fed_conn *c, struct kz_grpc_call *call, int status)
{
    enum call_kind k = kind_of(call);

    if (status < 0 && (k == CALL_EVENTS_TO_CLIENT || k == CALL_EVENTS_TO_SERVER)) {
        kz__fed_close(c, "the peer ended an event stream");
        return;
    }
    /* The request stream ended: a client stream's single answer, then the trailers. */
    if (status == 0 && k == CALL_GROUPS_OUT) {
        send_subscription(c, call, TAK_SERVER);
        kz_grpc_finish(call, 0, NULL);
    }
}

/* ---- both ------------------------------------------------------------------------ */

static void on_message(void *ud, struct kz_grpc_call *call, const uint8_t *msg, size_t len)
{
    struct fed_conn *c = ud;

    if (c->closing)
        return;
    if (c->client)
        client_message(c, call, msg, len);
    else
        server_message(c, call, msg, len);
}

static void on_end(void *ud, struct kz_grpc_call *call, int status, const char *message)
{
    struct fed_conn *c = ud;

    (void)message;
    if (call == c->events_out && status < 0)
        c->events_out = NULL;
    if (c->closing)
        return;
    if (c->client)
        client_end(c, call, status);
    else
        server_end(c, call, status);
    if (call == c->events_out && (c->client || status < 0))
        c->events_out = NULL;
}

static void on_writable(void *ud)
{
    struct fed_conn *c = ud;

    if (c->attached)
        kz__fed_outbox_writable(c); /* a paused catch-up goes on */
}

int kz__fed_v2_start(struct fed_conn *c)
{
    static const struct kz_grpc_cbs cbs = {on_call, on_message, on_end, on_writable};

    c->grpc = kz_grpc_new(c->client, &c->t, &cbs, c, KZ_FED_MAX_MESSAGE);
    if (!c->grpc)
        return KZ_ERR_DENIED;
    kz_grpc_keep_header(c->grpc, RESUME);
    c->last_health_ms = (int64_t)uv_now(c->fed->loop);
    if (c->client)
        client_start(c);
    else
        uv_timer_start(&c->timer, sweep, 5000, 5000);
    return KZ_OK;
}

void kz__fed_v2_data(struct fed_conn *c, const char *data, size_t len)
{
    if (kz_grpc_feed(c->grpc, data, len) != KZ_OK)
        kz__fed_close(c, "HTTP/2 protocol error");
}

int kz__fed_v2_deliver(struct fed_conn *c, struct kz_rbuf *buf)
{
    int rc;

    if (!c->events_out)
        return KZ_OK;
    rc = kz_grpc_send(c->events_out, buf->data, buf->len);
    if (rc == KZ_ERR_AGAIN && kz_grpc_queued(c->grpc) > c->fed->out_queue_bytes)
        return KZ_ERR_TOOBIG; /* a partner that cannot keep up: the router drops the link */
    return rc == KZ_ERR_CLOSED ? KZ_ERR_TOOBIG : KZ_OK;
}
