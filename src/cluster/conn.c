/*
 * conn.c - the NATS connection of an instance (libnats).
 *
 * libnats runs its own threads: message and connection callbacks arrive on them.  They only
 * lock `shared`, append a copy to a bounded queue (beyond max_queue messages or 64 MiB the
 * message is dropped and counted) or note the new state, and wake the loop with a uv_async; the
 * loop takes the whole queue at once and hands each message to on_message.  The connection retries
 * forever (first connect too) with a backoff of 100 ms doubling to 5 s; while it is down the
 * instance is an island and nothing it publishes is buffered for later.
 *
 * `shared` outlives the connection: it is freed after libnats' threads were waited for
 * (kz_cluster_conn_free), and a callback that comes after the close finds `closed` set.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define MAX_QUEUE_BYTES (64u << 20) /* as NATS' own pending limit per subscription */

struct qmsg {
    struct qmsg *next;
    enum kz_cluster_subject subj;
    size_t len;
    uint8_t data[];
};

/* What libnats' threads and the loop share; under `lock`. */
struct shared {
    pthread_mutex_t lock;
    uv_async_t *async; /* NULL once closed */
    struct qmsg *head, *tail;
    size_t queued, max_queue, bytes;
    uint64_t dropped;
    int state;            /* 1 joined, 0 island; the loop compares with its own */
    uint64_t disconnects; /* so that a loss and a reconnect between two wake-ups is seen */
    bool closed;
};

struct kz_cluster_conn {
    struct kz_cluster_conn_opts o;
    struct shared *sh;
    uv_async_t async;
    natsConnection *nc;
    natsSubscription *sub_cot, *sub_ctl;
    char subj[2][160];
    bool joined; /* as the loop last saw it */
    bool ever;   /* joined once */
    uint64_t partitions;
    uint64_t disconnects; /* shared->disconnects the loop has seen */
    int64_t max_payload;  /* last known; libnats answers 0 while not connected */
};

static void wake(struct shared *sh)
{
    if (!sh->closed && sh->async)
        uv_async_send(sh->async);
}

static void set_state(struct shared *sh, int state)
{
    pthread_mutex_lock(&sh->lock);
    sh->state = state;
    wake(sh);
    pthread_mutex_unlock(&sh->lock);
}

static void on_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    set_state(closure, 1);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    struct shared *sh = closure;

    (void)nc;
    pthread_mutex_lock(&sh->lock);
    sh->disconnects++;
    pthread_mutex_unlock(&sh->lock);
    set_state(sh, 0);
}

static void enqueue(struct shared *sh, enum kz_cluster_subject subj, const char *data, int len)
{
    size_t n = len > 0 ? (size_t)len : 0;
    struct qmsg *m;

    pthread_mutex_lock(&sh->lock);
    if (sh->closed || sh->queued >= sh->max_queue || sh->bytes + n > MAX_QUEUE_BYTES) {
        sh->dropped++;
        pthread_mutex_unlock(&sh->lock);
        return;
    }
    pthread_mutex_unlock(&sh->lock);
    m = kz_xmalloc(sizeof(*m) + n);
    m->next = NULL;
    m->subj = subj;
    m->len = n;
    memcpy(m->data, data, n);
    pthread_mutex_lock(&sh->lock);
    if (sh->tail)
        sh->tail->next = m;
    else
        sh->head = m;
    sh->tail = m;
    sh->queued++;
    sh->bytes += n;
    wake(sh);
    pthread_mutex_unlock(&sh->lock);
}

static void on_cot(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc, (void)sub;
    enqueue(closure, KZ_CLUSTER_COT, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

static void on_ctl(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc, (void)sub;
    enqueue(closure, KZ_CLUSTER_CTL, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

/* libnats' own queue of a subscription overflowed (a slow loop): those messages are gone. */
static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    struct shared *sh = closure;

    (void)nc, (void)sub;
    if (err != NATS_SLOW_CONSUMER)
        return;
    pthread_mutex_lock(&sh->lock);
    sh->dropped++;
    pthread_mutex_unlock(&sh->lock);
}

static int64_t reconnect_delay(natsConnection *nc, int attempts, void *closure)
{
    int64_t ms = BACKOFF_MIN_MS;

    (void)nc, (void)closure;
    for (int i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

/* The loop's side of a state change: log a partition and a rejoin once each. */
static void loop_state(struct kz_cluster_conn *c, bool joined)
{
    if (joined == c->joined)
        return;
    c->joined = joined;
    if (joined) {
        int64_t mp = natsConnection_GetMaxPayload(c->nc);
        if (mp > 0)
            c->max_payload = mp;
        kz_log(KZ_LOG_INFO, c->ever ? "cluster: rejoined" : "cluster: joined",
               "nats=%s max_payload=%lld", c->o.url, (long long)c->max_payload);
        c->ever = true;
    } else {
        c->partitions++;
        kz_log(KZ_LOG_WARN, "cluster: NATS lost; serving this instance's clients as an island",
               "nats=%s", c->o.url);
    }
    if (c->o.on_state)
        c->o.on_state(c->o.ud, joined);
}

static void on_async(uv_async_t *a)
{
    struct kz_cluster_conn *c = a->data;
    struct qmsg *m;
    uint64_t disconnects;
    int state;

    pthread_mutex_lock(&c->sh->lock);
    m = c->sh->head;
    c->sh->head = c->sh->tail = NULL;
    c->sh->queued = c->sh->bytes = 0;
    state = c->sh->state;
    disconnects = c->sh->disconnects;
    pthread_mutex_unlock(&c->sh->lock);
    /* A loss since the last wake-up counts even when the connection is back already. */
    if (disconnects != c->disconnects) {
        c->disconnects = disconnects;
        loop_state(c, false);
    }
    /* State first: messages that arrived came after the connection did. */
    if (state && !c->joined)
        loop_state(c, true);
    while (m) {
        struct qmsg *next = m->next;
        c->o.on_message(c->o.ud, m->subj, m->data, m->len);
        free(m);
        m = next;
    }
    if (!state && c->joined)
        loop_state(c, false);
}

static int set_options(struct kz_cluster_conn *c, natsOptions *no)
{
    natsStatus s = natsOptions_SetURL(no, c->o.url);

    if (s == NATS_OK)
        s = natsOptions_SetName(no, c->o.node_id);
    if (s == NATS_OK)
        s = natsOptions_SetNoEcho(no, true); /* our own messages do not come back */
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(no, -1);
    if (s == NATS_OK)
        s = natsOptions_SetCustomReconnectDelay(no, reconnect_delay, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(no, true, on_connected, c->sh);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(no, on_connected, c->sh);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(no, on_disconnected, c->sh);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(no, on_error, c->sh);
    if (s == NATS_OK)
        s = natsOptions_SetPingInterval(no, 2000); /* a dead server is noticed in seconds */
    if (s == NATS_OK)
        s = natsOptions_SetMaxPingsOut(no, 2);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(no, 2000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxPendingMsgs(no, 65536);
    if (s != NATS_OK)
        kz_log(KZ_LOG_ERROR, "cluster: bad NATS options", "nats=%s error=\"%s\"", c->o.url,
               natsStatus_GetText(s));
    return s == NATS_OK ? KZ_OK : KZ_ERR_CONFIG;
}

static int connect_nats(struct kz_cluster_conn *c)
{
    natsOptions *no = NULL;
    natsStatus s;
    int rc;

    if (natsOptions_Create(&no) != NATS_OK)
        return KZ_ERR_NOMEM;
    rc = set_options(c, no);
    if (rc == KZ_OK) {
        s = natsConnection_Connect(&c->nc, no);
        if (s == NATS_OK) {
            set_state(c->sh, 1);
        } else if (s == NATS_NOT_YET_CONNECTED) {
            kz_log(KZ_LOG_WARN, "cluster: NATS unreachable; an island until it answers", "nats=%s",
                   c->o.url);
        } else {
            kz_log(KZ_LOG_ERROR, "cluster: cannot use NATS", "nats=%s error=\"%s\"", c->o.url,
                   natsStatus_GetText(s));
            rc = KZ_ERR_CONFIG;
        }
    }
    if (rc == KZ_OK &&
        (natsConnection_Subscribe(&c->sub_cot, c->nc, c->subj[0], on_cot, c->sh) != NATS_OK ||
         natsConnection_Subscribe(&c->sub_ctl, c->nc, c->subj[1], on_ctl, c->sh) != NATS_OK)) {
        kz_log(KZ_LOG_ERROR, "cluster: cannot subscribe", "subject=%s error=\"%s\"", c->subj[0],
               nats_GetLastError(NULL));
        rc = KZ_ERR_CONFIG;
    }
    natsOptions_Destroy(no);
    return rc;
}

int kz_cluster_conn_new(const struct kz_cluster_conn_opts *o, struct kz_cluster_conn **out)
{
    struct kz_cluster_conn *c = kz_xcalloc(1, sizeof(*c));

    *out = NULL;
    c->o = *o;
    c->max_payload = 1 << 20; /* NATS' default until the server says */
    snprintf(c->subj[0], sizeof(c->subj[0]), "%s.cot", o->prefix);
    snprintf(c->subj[1], sizeof(c->subj[1]), "%s.ctl", o->prefix);
    c->sh = kz_xcalloc(1, sizeof(*c->sh));
    pthread_mutex_init(&c->sh->lock, NULL);
    c->sh->max_queue = o->max_queue ? o->max_queue : 65536;
    uv_async_init(o->loop, &c->async, on_async);
    c->async.data = c;
    c->sh->async = &c->async;
    if (connect_nats(c) != KZ_OK) {
        kz_cluster_conn_free(c);
        return KZ_ERR_CONFIG;
    }
    *out = c;
    return KZ_OK;
}

int kz_cluster_publish(struct kz_cluster_conn *c, enum kz_cluster_subject subj, const void *data,
                       size_t len)
{
    if (!c->joined || natsConnection_Status(c->nc) != NATS_CONN_STATUS_CONNECTED)
        return KZ_ERR_AGAIN;
    if ((int64_t)len > c->max_payload)
        return KZ_ERR_TOOBIG;
    if (natsConnection_Publish(c->nc, c->subj[subj], data, (int)len) != NATS_OK)
        return KZ_ERR_AGAIN;
    return KZ_OK;
}

natsConnection *kz__cluster_conn_nats(struct kz_cluster_conn *c)
{
    return c ? c->nc : NULL;
}

bool kz_cluster_joined(const struct kz_cluster_conn *c)
{
    return c && c->joined;
}

void kz_cluster_conn_stats(const struct kz_cluster_conn *c, struct kz_cluster_conn_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!c)
        return;
    out->joined = c->joined;
    out->partitions = c->partitions;
    pthread_mutex_lock(&c->sh->lock);
    out->dropped = c->sh->dropped;
    pthread_mutex_unlock(&c->sh->lock);
}

static void free_shared(struct shared *sh)
{
    struct qmsg *m = sh->head;

    while (m) {
        struct qmsg *next = m->next;
        free(m);
        m = next;
    }
    pthread_mutex_destroy(&sh->lock);
    free(sh);
}

static void on_async_closed(uv_handle_t *h)
{
    free(h->data);
}

void kz_cluster_conn_free(struct kz_cluster_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->sh->lock);
    c->sh->closed = true;
    c->sh->async = NULL;
    pthread_mutex_unlock(&c->sh->lock);
    natsSubscription_Destroy(c->sub_cot);
    natsSubscription_Destroy(c->sub_ctl);
    if (c->nc) {
        natsConnection_Close(c->nc);
        natsConnection_Destroy(c->nc);
    }
    /* Once every libnats thread has ended nothing touches `sh`; if one has not, it is left. */
    if (nats_CloseAndWait(5000) == NATS_OK)
        free_shared(c->sh);
    else
        kz_log(KZ_LOG_WARN, "cluster: NATS threads did not end in 5 s", NULL);
    uv_close((uv_handle_t *)&c->async, on_async_closed);
}
