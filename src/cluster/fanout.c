/*
 * fanout.c - an instance in its cluster: every event the router accepts here is published once
 * on PREFIX.cot; every event another instance published is applied to this instance's router
 * (its own subscribers and federation links, by the same recipient check as every event), and
 * never published again.  Own echoes are not delivered (no_echo, and the origin is checked);
 * a message seen before (origin, epoch, seq) is dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"

static void log_too_large(struct kz_cluster *c, const struct kz_event *ev, size_t len)
{
    int64_t s = kz_mono_us() / 1000000;

    if (s == c->too_large_log_s)
        return;
    c->too_large_log_s = s;
    kz_log(KZ_LOG_WARN, "cluster: event larger than NATS' max_payload; not sent to the cluster",
           "type=%s bytes=%zu", ev->type, len);
}

static void on_tap(void *ud, const struct kz_tap *t)
{
    struct kz_cluster *c = ud;
    const struct kz_event *ev = t->ev;
    struct kz_cluster_event ce = {
        .origin = c->node_id,
        .epoch = c->epoch,
        .seq = c->seq + 1,
        .ev = ev,
        .federated = t->input->federated,
        .scope = t->scope,
        .bound = t->bound,
    };

    if (t->first_self)
        kz__cluster_presence(c, ev);
    if (!kz_cluster_joined(c->conn)) {
        c->st.unsent++;
        return;
    }
    kz_sbuf_reset(&c->msg);
    kz_cluster_event_encode(&ce, t->xml->data, t->xml->len, &c->msg);
    switch (kz_cluster_publish(c->conn, KZ_CLUSTER_COT, c->msg.buf, c->msg.len)) {
    case KZ_OK:
        c->seq++;
        c->st.published++;
        break;
    case KZ_ERR_TOOBIG:
        c->st.refused_too_large++;
        log_too_large(c, ev, c->msg.len);
        break;
    default:
        c->st.unsent++;
        break;
    }
}

/* The origin input as this instance knows it: cluster/NODE/INPUT. */
static void rename_origin(struct kz_cluster *c, struct kz_cluster_received *m)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;

    kz_sbuf_adds(&sb, c->in_conf[m->federated].name);
    kz_sbuf_adds(&sb, m->origin);
    kz_sbuf_adds(&sb, "/");
    kz_sbuf_adds(&sb, m->ev.origin_input);
    free(m->ev.origin_input);
    m->ev.origin_input = kz_sbuf_detach(&sb, NULL);
}

void kz__cluster_own_origin(struct kz_cluster *c, uint64_t epoch)
{
    c->st.echoes++;
    if (epoch == c->epoch || c->twin_logged)
        return;
    c->twin_logged = true;
    kz_log(KZ_LOG_ERROR, "cluster: another instance uses this node.id; its events are ignored",
           "node=%s", c->node_id);
}

/* Stored unless the store is behind: the instance's own clients come first. */
static bool store_now(struct kz_cluster *c)
{
    if (!c->o.store_remote)
        return false;
    if (c->o.store && kz_store_busy(c->o.store)) {
        c->st.unstored++;
        return false;
    }
    return true;
}

static void receive_event(struct kz_cluster *c, const uint8_t *data, size_t len)
{
    struct kz_cluster_received m;
    enum kz_reject why;
    char err[256];

    if (kz_cluster_event_decode(c->dec, data, len, &m, err, sizeof(err)) != KZ_OK) {
        c->st.refused++;
        kz_log(KZ_LOG_DEBUG, "cluster: message refused", "error=\"%s\"", err);
        return;
    }
    if (strcmp(m.origin, c->node_id) == 0) {
        kz__cluster_own_origin(c, m.epoch);
    } else if (kz_dedupe_seen(&c->dedupe, m.origin, m.epoch, m.seq)) {
        c->st.duplicates++;
    } else {
        rename_origin(c, &m);
        struct kz_apply how = {.store = store_now(c), .bound = m.bound, .scope = m.scope};
        switch (kz_router_apply(c->o.router, &m.ev, &how, &why)) {
        case KZ_OK:
            c->st.received++;
            break;
        case KZ_ERR_EXISTS:
            c->st.superseded++;
            break;
        default:
            c->st.refused++;
            kz_log(KZ_LOG_DEBUG, "cluster: event refused", "origin=%s reason=%s", m.origin,
                   kz_reject_name(why));
            break;
        }
    }
    kz_event_clear(&m.ev);
}

static void on_message(void *ud, enum kz_cluster_subject subj, const uint8_t *data, size_t len)
{
    struct kz_cluster *c = ud;

    if (subj == KZ_CLUSTER_COT)
        receive_event(c, data, len);
    else
        kz__cluster_control(c, data, len);
}

void kz__cluster_resync(struct kz_cluster *c)
{
    /* The latest-state KV bucket (latest.c) reloads the mirror here; until then what was
     * published while this instance was an island is lost to it, as core NATS promises. */
    kz_log(KZ_LOG_DEBUG, "cluster: resync", "node=%s partitions=%llu", c->node_id,
           (unsigned long long)c->st.partitions);
}

static void on_state(void *ud, bool joined)
{
    struct kz_cluster *c = ud;

    if (joined)
        kz__cluster_resync(c);
}

/* The two inputs other instances' events are known by; no identity: each event's own. */
static int add_inputs(struct kz_cluster *c)
{
    static const char *names[2] = {"cluster/", "cluster-fed/"};
    char err[256];

    for (int i = 0; i < 2; i++) {
        c->in_conf[i].name = kz_xstrdup(names[i]);
        if (kz_input_init(&c->in[i], &c->in_conf[i], c->o.groups, c->o.policy, err, sizeof(err)) !=
            KZ_OK) {
            kz_log(KZ_LOG_ERROR, "cluster: cannot build its inputs", "error=\"%s\"", err);
            return KZ_ERR_CONFIG;
        }
        c->in[i].federated = i == 1; /* never federated again, by any instance */
        kz_router_add_input(c->o.router, &c->in[i]);
    }
    return KZ_OK;
}

int kz_cluster_new(const struct kz_cluster_opts *o, struct kz_cluster **out)
{
    struct kz_cluster *c = kz_xcalloc(1, sizeof(*c));
    struct kz_cot_limits lim;

    *out = NULL;
    c->o = *o;
    c->url = kz_xstrdup(o->url);
    c->prefix = kz_xstrdup(o->prefix && *o->prefix ? o->prefix : "kz");
    c->node_id = kz_xstrdup(o->node_id);
    c->epoch = (uint64_t)kz_now_us();
    kz_cot_limits_default(&lim);
    if (o->max_event_bytes)
        lim.max_event_bytes = o->max_event_bytes;
    c->dec = kz_cot_decoder_new(&lim);
    if (add_inputs(c) != KZ_OK)
        goto fail;
    kz_router_set_tap(o->router, on_tap, c);
    struct kz_cluster_conn_opts co = {
        .loop = o->loop,
        .url = c->url,
        .prefix = c->prefix,
        .node_id = c->node_id,
        .max_queue = o->max_queue,
        .on_message = on_message,
        .on_state = on_state,
        .ud = c,
    };
    if (kz_cluster_conn_new(&co, &c->conn) != KZ_OK)
        goto fail;
    *out = c;
    return KZ_OK;
fail:
    kz_cluster_stop(c);
    kz_cluster_free(c);
    return KZ_ERR_CONFIG;
}

bool kz_cluster_is_joined(const struct kz_cluster *c)
{
    return c && kz_cluster_joined(c->conn);
}

void kz_cluster_stats(const struct kz_cluster *c, struct kz_cluster_stats *out)
{
    struct kz_cluster_conn_stats cs;

    *out = c->st;
    kz_cluster_conn_stats(c->conn, &cs);
    out->joined = cs.joined;
    out->dropped = cs.dropped;
    out->partitions = cs.partitions;
}

void kz_cluster_stop(struct kz_cluster *c)
{
    if (!c)
        return;
    kz_router_set_tap(c->o.router, NULL, NULL);
    kz_cluster_conn_free(c->conn);
    c->conn = NULL;
}

void kz_cluster_free(struct kz_cluster *c)
{
    if (!c)
        return;
    kz_cluster_conn_free(c->conn);
    kz__cluster_ctl_release(c);
    kz_cot_decoder_free(c->dec);
    for (int i = 0; i < 2; i++)
        free(c->in_conf[i].name);
    kz_sbuf_release(&c->msg);
    free(c->url);
    free(c->prefix);
    free(c->node_id);
    free(c);
}
