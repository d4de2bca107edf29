/*
 * kvstate.c - an instance's side of the latest-state bucket (latest.h, docs/cluster.md):
 *
 *   - every event the router accepts here (the tap: this instance is its origin) is written to
 *     the bucket, last-writer-wins on its CoT time; a delete writes its link uid's tombstone;
 *   - every change of the mirror (but this instance's own writes coming back live: the router
 *     has them) becomes this router's latest state of its uid, quietly (live delivery is the
 *     core NATS fan-out's; fanout.c): an entry newer than the router's replaces it, a
 *     tombstone or a vanished entry removes an older one.  A new client's latest-state
 *     replay, which reads the router's latest state under the release rule per client, is so
 *     the bucket's on every instance — after a restart too, once the first snapshot is in;
 *   - NATS rejoined: the mirror resyncs from a fresh snapshot (kz__cluster_resync).
 *
 * Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"

/* ---- this instance's events to the bucket -------------------------------------------------- */

/* A record borrowing the event's strings (kz_latest_write copies what it keeps). */
static void rec_of(struct kz_cluster *c, const struct kz_tap *t, struct kz_latest_rec *r)
{
    const struct kz_event *ev = t->ev;

    memset(r, 0, sizeof(*r));
    r->uid = ev->uid;
    r->uid_len = strlen(ev->uid);
    r->time = ev->time;
    r->start = ev->start;
    r->stale = ev->stale;
    r->xml = t->xml ? (char *)t->xml->data : NULL;
    r->xml_len = t->xml ? t->xml->len : 0;
    r->label = ev->access;
    r->origin_node = c->node_id;
    r->origin_input = ev->origin_input;
    r->origin_user = ev->origin_user;
    r->origin_nation = ev->origin_nation;
    r->origin_groups = ev->origin_groups;
    r->federated = t->input->federated;
    r->provenance = ev->fed_provenance;
    r->hops = ev->fed_hops;
    r->max_hops = ev->fed_max_hops;
    r->recv_time = ev->recv_time;
    r->scope = (char *)t->scope;
    r->bound = t->bound;
}

void kz__cluster_latest_tap(struct kz_cluster *c, const struct kz_tap *t)
{
    struct kz_latest_rec r;

    if (!c->latest || !t->ev->uid)
        return;
    rec_of(c, t, &r);
    if (kz_cot_type_is(t->ev, "t-x-d-d")) {
        if (!t->ev->link_uid)
            return;
        /* The deleted uid's tombstone, at the delete's time. */
        r.uid = t->ev->link_uid;
        r.uid_len = strlen(r.uid);
        r.xml = NULL;
        r.xml_len = 0;
        r.deleted = true;
        r.bound = false;
    }
    if (kz_latest_write(c->latest, &r) != KZ_OK)
        c->st.latest_refused++;
}

/* ---- the mirror to this router ------------------------------------------------------------- */

/* The record's event as the origin stamped it; its input known here as cluster/NODE/INPUT. */
static int event_of(struct kz_cluster *c, const struct kz_latest_rec *r, struct kz_event *ev)
{
    char err[256];
    enum kz_reject why;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    if (!r->xml || !r->label || !r->origin_node || !r->origin_input ||
        kz_cot_decode(c->dec, r->xml, r->xml_len, ev, &why, err, sizeof(err)) != KZ_OK)
        return KZ_ERR_PARSE;
    if (!ev->access || strcmp(ev->access, r->label) != 0 || strcmp(ev->uid, r->uid) != 0) {
        kz_event_clear(ev);
        return KZ_ERR_PARSE;
    }
    kz_sbuf_adds(&sb, c->in_conf[r->federated].name);
    kz_sbuf_adds(&sb, r->origin_node);
    kz_sbuf_adds(&sb, "/");
    kz_sbuf_adds(&sb, r->origin_input);
    free(ev->origin_input);
    free(ev->origin_user);
    free(ev->origin_nation);
    free(ev->origin_groups);
    free(ev->fed_provenance);
    ev->origin_input = kz_sbuf_detach(&sb, NULL);
    ev->origin_user = kz_xstrdup(r->origin_user);
    ev->origin_nation = kz_xstrdup(r->origin_nation);
    ev->origin_groups = kz_xstrdup(r->origin_groups ? r->origin_groups : "");
    ev->fed_provenance = kz_xstrdup(r->provenance);
    ev->fed_hops = r->hops;
    ev->fed_max_hops = r->max_hops;
    ev->recv_time = r->recv_time;
    return KZ_OK;
}

static void apply(struct kz_cluster *c, const struct kz_latest_rec *r)
{
    struct kz_event ev;
    enum kz_reject why;

    kz_event_init(&ev);
    if (r->stale < kz_now_us())
        return; /* nothing to replay; the router expires its own copy */
    if (event_of(c, r, &ev) != KZ_OK) {
        c->st.latest_refused++;
        kz_log(KZ_LOG_DEBUG, "cluster: a latest-state entry refused", "origin=%s",
               r->origin_node ? r->origin_node : "");
        return;
    }
    struct kz_apply how = {.store = false, .bound = r->bound, .scope = r->scope, .quiet = true};
    switch (kz_router_apply(c->o.router, &ev, &how, &why)) {
    case KZ_OK:
        c->st.latest_applied++;
        break;
    case KZ_ERR_EXISTS:
        break; /* the router has it, or newer (core NATS was first) */
    default:
        c->st.latest_refused++;
        break;
    }
}

static void on_latest(void *arg, enum kz_latest_change what, const struct kz_latest_rec *r)
{
    struct kz_cluster *c = arg;

    if (what == KZ_LATEST_SET && !r->deleted && r->origin_node &&
        strcmp(r->origin_node, c->node_id) == 0)
        return; /* this instance's own write coming back: its router has it, or newer */
    if (what != KZ_LATEST_GONE && !r->deleted)
        apply(c, r);
    else if (kz_router_forget_older(c->o.router, r->uid, r->time, r->start))
        c->st.latest_forgotten++;
}

int kz__cluster_latest_start(struct kz_cluster *c)
{
    natsConnection *nc = kz__cluster_conn_nats(c->conn);
    char bucket[96];

    if (!nc)
        return KZ_OK; /* no connection object: nothing to mirror */
    /* One bucket per cluster: PREFIX_latest (kz_latest), a '.' of the prefix as '_'. */
    int n = snprintf(bucket, sizeof(bucket), "%s_latest", c->prefix);
    for (char *p = bucket; *p; p++)
        if (*p == '.')
            *p = '_';
    struct kz_latest_opts o = {
        .bucket = bucket,
        .write_interval = c->o.latest_interval_ms ? (int64_t)c->o.latest_interval_ms * 1000 : -1,
    };
    if (n < 0 || (size_t)n >= sizeof(bucket) ||
        kz_latest_start(&c->latest, c->o.loop, nc, &o, on_latest, c) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "cluster: the subject prefix makes no KV bucket name",
               "prefix=%s bucket=%s", c->prefix, bucket);
        return KZ_ERR_CONFIG;
    }
    return KZ_OK;
}

void kz__cluster_latest_stop(struct kz_cluster *c)
{
    kz_latest_stop(c->latest);
    c->latest = NULL;
}

void kz__cluster_latest_stats(const struct kz_cluster *c, struct kz_cluster_stats *out)
{
    struct kz_latest_stats ls;

    if (!c->latest)
        return;
    kz_latest_stats(c->latest, &ls);
    out->latest_entries = ls.entries;
    out->latest_written = ls.written;
    out->latest_dropped = ls.dropped;
    out->latest_snapshots = ls.snapshots;
}
