/*
 * fed.c - the federation: its peers (each an input the router knows, and a
 * subscriber with the peer's identity), the wire format the router encodes
 * for them, what comes in from a peer, the listeners, and the status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed/internal.h"
#include "net/net.h"

/* ---- outbound: what the router hands a link ------------------------------------- */

/*
 * One FederatedEvent per event, shared by every link.  Its provenance is the
 * nodes it passed (a relayed event's) and this node; its hop count one more.
 */
static void encode(struct kz_fed *f, const struct kz_event *ev, uint64_t seq, struct kz_sbuf *out)
{
    struct kz_fed_meta meta = {.hops_current = ev->fed_hops + 1, .hops_max = -1, .seq = seq};
    char *list = kz_xstrdup(ev->fed_provenance), *save = NULL;

    for (char *p = list ? strtok_r(list, ",", &save) : NULL;
         p && meta.n_provenance < KZ_FED_MAX_PROVENANCE - 1; p = strtok_r(NULL, ",", &save))
        meta.provenance[meta.n_provenance++] = p;
    meta.provenance[meta.n_provenance++] = f->cfg->node->id;
    if (ev->fed_provenance)
        meta.hops_max = ev->fed_max_hops;
    kz_fed_encode_event(ev, &meta, out);
    free(list);
}

/* An event of the log carries its sequence; the latest-state replay none. */
static void fed_wire(void *ud, const struct kz_event *ev, struct kz_sbuf *out)
{
    encode(ud, ev, ev->seq, out);
}

static void fed_wire_state(void *ud, const struct kz_event *ev, struct kz_sbuf *out)
{
    encode(ud, ev, 0, out);
}

static int deliver(struct kz_sub *sub, struct kz_rbuf *buf)
{
    struct fed_conn *c = (struct fed_conn *)((char *)sub - offsetof(struct fed_conn, sub));

    if (c->closing || c->doomed)
        return KZ_OK;
    return kz__fed_outbox_deliver(c, sub->seq, sub->replaying, buf);
}

/*
 * Where the peer says it stands, when that is a point of our log; else our cursor.  A shared
 * log's end is the database's: the outbox checks the point against it (outbox.c).
 */
static uint64_t resume_point(struct fed_conn *c, const char *resume)
{
    struct kz_router_stats st;
    char *end = NULL;
    unsigned long long v;

    if (!resume || !*resume || (c->fed->leased && !c->fed->shared_log))
        return c->peer->cursor; /* another instance's log is not this one's */
    v = strtoull(resume, &end, 10);
    kz_router_stats(c->fed->router, &st);
    if (*end || (!c->fed->shared_log && v > st.last_seq)) {
        kz_log(KZ_LOG_WARN, "federation: the peer's resume point is not in this node's log",
               "peer=%s resume=\"%.32s\"", c->peer->conf->name, resume);
        return c->peer->cursor;
    }
    return v;
}

void kz__fed_attach(struct fed_conn *c, const char *resume)
{
    struct fed_peer *p = c->peer;

    if (c->attached || c->closing)
        return;
    kz__fed_outbox_start(c, resume_point(c, resume));
    memset(&c->sub, 0, sizeof(c->sub));
    if (c->fed->shared_log) /* not attached: the shared log brings every event (outbox.c) */
        kz_sub_viewer_as(c->fed->router, &c->sub, &p->input, &p->id);
    c->sub.identity = &p->id;
    c->sub.input = &p->input;
    c->sub.wire = KZ_WIRE_FED;
    c->sub.replay_wire = KZ_WIRE_FED_STATE;
    c->sub.replay_later = c->ob.catching_up;
    c->sub.deliver = deliver;
    c->sub.federation = true;
    c->sub.deny_counts = p->deny;
    c->sub.relay = p->conf->relay;
    c->sub.node = p->conf->name;
    c->attached = true;
    if (!c->fed->shared_log)
        kz_router_attach(c->fed->router, &c->sub);
    kz__fed_outbox_catch_up(c); /* the latest state it may see, what it missed, then live */
}

/* ---- inbound --------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* True when (originating node, uid, time, type) came in recently, over any link. */
static bool duplicate(struct kz_fed *f, const struct kz_event *ev, const struct kz_fed_meta *m)
{
    uint64_t h = fnv1a(14695981039346656037ull, ev->uid, strlen(ev->uid));
    size_t slot;

    h = fnv1a(h, &ev->time, sizeof(ev->time));
    h = fnv1a(h, ev->type, strlen(ev->type));
    if (m->n_provenance && m->provenance[0])
        h = fnv1a(h, m->provenance[0], strlen(m->provenance[0]));
    h |= 1; /* 0 marks an empty slot */
    slot = (size_t)(h >> 17) & (KZ_FED_DEDUPE_SLOTS - 1);
    if (f->seen[slot] == h)
        return true;
    f->seen[slot] = h;
    return false;
}

/*
 * What a relay needs to pass the event on: the nodes it passed (the sending
 * peer when it names none) and its hops.  A provenance too long to extend
 * spends the hops, so the event is not passed on.
 */
static void keep_provenance(const struct fed_peer *p, const struct kz_fed_meta *m,
                            struct kz_event *ev)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;

    for (unsigned i = 0; i < m->n_provenance; i++)
        if (m->provenance[i] && *m->provenance[i] && !strchr(m->provenance[i], ','))
            kz_sbuf_adds(&sb, sb.len ? "," : ""), kz_sbuf_adds(&sb, m->provenance[i]);
    if (!sb.len)
        kz_sbuf_adds(&sb, p->conf->name);
    ev->fed_provenance = kz_sbuf_detach(&sb, NULL);
    ev->fed_hops = m->hops_current > 0 ? m->hops_current : 1;
    ev->fed_max_hops = m->hops_max > 0 ? m->hops_max : -1;
    if (m->n_provenance >= KZ_FED_MAX_PROVENANCE - 1)
        ev->fed_max_hops = ev->fed_hops;
}

/* Came back to us: our own node is on its way. */
static bool looped(const struct kz_fed *f, const struct kz_fed_meta *m)
{
    for (unsigned i = 0; i < m->n_provenance; i++)
        if (m->provenance[i] && strcmp(m->provenance[i], f->cfg->node->id) == 0)
            return true;
    return false;
}

void kz__fed_inbound(struct fed_conn *c, const uint8_t *msg, size_t len)
{
    struct kz_fed *f = c->fed;
    struct fed_peer *p = c->peer;
    struct kz_event ev;
    struct kz_fed_meta meta;
    enum kz_reject why;
    char err[256];
    int kind;

    kz_event_init(&ev);
    memset(&meta, 0, sizeof(meta));
    kind = kz_fed_decode(f->dec, msg, len, &ev, &meta, err, sizeof(err));
    if (kind > 0 && meta.seq)
        p->recv_seq = meta.seq; /* in order: the peer resumes after it */
    if (kind < 0) {
        p->rejected++;
        kz_log(KZ_LOG_WARN, "federation: message refused", "peer=%s error=\"%s\"", p->conf->name,
               err);
        return;
    }
    p->received++;
    if (kind == KZ_FED_CONTACT_CREATE || looped(f, &meta)) {
        /* contacts: positions carry what a contact entry would */
    } else if (duplicate(f, &ev, &meta) || kz_router_has_latest(f->router, &ev)) {
        p->duplicates++;
    } else {
        keep_provenance(p, &meta, &ev);
        ev.fed_seq = meta.seq;
        if (kz_router_submit(f->router, &p->input, NULL, &ev, NULL, NULL, &why, NULL) != KZ_OK) {
            p->rejected++;
            kz_log(KZ_LOG_DEBUG, "federation: event refused", "peer=%s reason=%s", p->conf->name,
                   kz_reject_name(why));
        }
    }
    kz_event_clear(&ev);
    kz_fed_meta_clear(&meta);
}

/* ---- links ------------------------------------------------------------------------ */

struct audit_job {
    uv_work_t work;
    struct kz_fed *fed;
    struct kz_store *store;
    char object[160], detail[256];
    const char *action;
};

static void audit_work(uv_work_t *w)
{
    struct audit_job *j = w->data;

    if (kz_store_audit(j->store, "kizuna", j->action, j->object, j->detail) != KZ_OK)
        kz_log(KZ_LOG_WARN, "federation: cannot record a link change in the audit log", "object=%s",
               j->object);
}

static void audit_done(uv_work_t *w, int status)
{
    struct audit_job *j = w->data;

    (void)status;
    j->fed->audits--;
    free(j);
}

/* Record a link change in the audit log, off the loop (the write blocks until durable). */
void kz__fed_audit(struct fed_peer *p, const char *action, const char *detail)
{
    struct audit_job *j;

    if (!p->fed->store || p->fed->stopping)
        return; /* a link that closes because the node stops is no policy event */
    j = kz_xcalloc(1, sizeof(*j));
    j->work.data = j;
    j->fed = p->fed;
    j->store = p->fed->store;
    j->action = action;
    snprintf(j->object, sizeof(j->object), "federation:%s", p->conf->name);
    snprintf(j->detail, sizeof(j->detail), "%s", detail);
    if (uv_queue_work(p->fed->loop, &j->work, audit_work, audit_done) != 0)
        free(j);
    else
        p->fed->audits++;
}

void kz__fed_link_up(struct fed_conn *c)
{
    struct fed_peer *p = c->peer;
    struct fed_conn *old = p->conn;

    p->conn = c;
    if (old)
        kz__fed_close(old, "replaced by a new connection of the same peer");
    p->state = FED_UP;
    p->since_us = kz_now_us();
    p->backoff_ms = 0;
    uv_timer_stop(&p->redial);
    kz_log(KZ_LOG_INFO, "federation: link up", "peer=%s protocol=%s direction=%s", p->conf->name,
           c->v1 ? "v1" : "v2", c->client ? "out" : "in");
    kz__fed_audit(p, "federation.up", c->client ? "dialed" : "accepted");
}

/* ---- the peers ----------------------------------------------------------------------- */

static int peer_init(struct kz_fed *f, struct fed_peer *p, unsigned i, struct kz_groups *groups,
                     char *err, size_t errlen)
{
    const struct kz_fed_peer_conf *pc = &f->cfg->federation->peers[i];
    char name[160];

    p->fed = f;
    p->conf = pc;
    p->index = i;
    p->id = *pc->identity;
    p->id.user = pc->name;
    snprintf(name, sizeof(name), "fed:%s", pc->name);
    p->in_conf.name = kz_xstrdup(name);
    p->in_conf.identity = &p->id;
    p->in_conf.default_label = pc->default_label;
    p->in_conf.ceiling = pc->ceiling;
    if (kz_input_init(&p->input, &p->in_conf, groups, f->policy, err, errlen) != KZ_OK)
        return KZ_ERR_CONFIG;
    p->input.federated = true;
    p->input.relay = pc->relay;
    kz_router_add_input(f->router, &p->input);

    p->standby = pc->connect && f->leased; /* until its lease is held */
    p->state = pc->connect && !p->standby ? FED_CONNECTING : FED_DOWN;
    p->since_us = kz_now_us();
    uv_timer_init(f->loop, &p->redial);
    p->redial.data = p;
    return KZ_OK;
}

int kz_fed_new(const struct kz_fed_opts *o, struct kz_fed **out, char *err, size_t errlen)
{
    struct kz_fed *f = kz_xcalloc(1, sizeof(*f));
    const struct kz_config_federation *fc = o->cfg->federation;
    struct kz_cot_limits lim;

    f->loop = o->loop;
    f->router = o->router;
    f->policy = o->policy;
    f->cfg = o->cfg;
    f->tls = o->tls;
    f->store = o->store;
    f->out_queue_bytes = o->out_queue_bytes;
    f->leased = o->leased;
    f->shared_log = o->shared_log;
    kz_cot_limits_default(&lim);
    if (o->max_event_bytes)
        lim.max_event_bytes = o->max_event_bytes;
    f->dec = kz_cot_decoder_new(&lim);
    f->seen = kz_xcalloc(KZ_FED_DEDUPE_SLOTS, sizeof(*f->seen));
    f->n_peers = fc ? fc->peers_count : 0;
    f->peers = kz_xcalloc(f->n_peers + 1, sizeof(*f->peers));
    *out = f;
    for (unsigned i = 0; i < f->n_peers; i++)
        if (peer_init(f, &f->peers[i], i, o->groups, err, errlen) != KZ_OK)
            return KZ_ERR_CONFIG;
    kz_router_set_wire(f->router, KZ_WIRE_FED, fed_wire, f);
    kz_router_set_wire(f->router, KZ_WIRE_FED_STATE, fed_wire_state, f);
    return KZ_OK;
}

static void on_conn_v2(uv_stream_t *s, int status)
{
    if (status == 0)
        kz__fed_accept(s->data, s, false);
}

static void on_conn_v1(uv_stream_t *s, int status)
{
    if (status == 0)
        kz__fed_accept(s->data, s, true);
}

static int listen_on(struct kz_fed *f, uv_tcp_t *tcp, const char *where, uv_connection_cb cb,
                     int *port)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    int rc;

    if (kz_parse_hostport(where, &ss) != KZ_OK)
        return KZ_ERR_CONFIG;
    uv_tcp_init(f->loop, tcp);
    tcp->data = f;
    if ((rc = uv_tcp_bind(tcp, (struct sockaddr *)&ss, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)tcp, 128, cb)) != 0) {
        kz_log(KZ_LOG_ERROR, "federation: cannot listen", "listen=%s error=\"%s\"", where,
               uv_strerror(rc));
        return KZ_ERR_IO;
    }
    uv_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len);
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    kz_log(KZ_LOG_INFO, "federation: listening", "listen=%s port=%d", where, *port);
    return KZ_OK;
}

/*
 * Where each link stands in the log and what it last received.  A peer with no cursor yet
 * starts at the log's end: what happens from now on is kept for it.  A shared log's end is
 * the database's (the router numbers this instance's events alone).
 */
static int load_marks(struct kz_fed *f)
{
    struct kz_router_stats rs;
    struct kz_store_fed_marks m;

    kz_router_stats(f->router, &rs);
    for (unsigned i = 0; f->store && i < f->n_peers; i++) {
        struct fed_peer *p = &f->peers[i];
        if (kz_store_fed_marks(f->store, p->conf->name, p->in_conf.name, &m) != KZ_OK)
            return KZ_ERR_DB;
        p->cursor = m.has_cursor ? m.cursor : f->shared_log ? m.last_seq : rs.last_seq;
        p->log_end = m.last_seq;
        p->stored_cursor = m.has_cursor ? m.cursor : 0;
        p->recv_seq = m.received;
        kz__fed_sent_flush(p, NULL, NULL);
    }
    return KZ_OK;
}

int kz_fed_start(struct kz_fed *f)
{
    const struct kz_config_federation *fc = f->cfg->federation;
    int rc;

    if ((rc = load_marks(f)) != KZ_OK)
        return rc;
    kz__fed_outbox_start_timer(f);
    f->flush_live = true;
    if (fc && fc->listen) {
        if ((rc = listen_on(f, &f->listen_v2, fc->listen, on_conn_v2, &f->port_v2)) != KZ_OK)
            return rc;
        f->has_v2 = true;
    }
    if (fc && fc->listen_v1) {
        if ((rc = listen_on(f, &f->listen_v1, fc->listen_v1, on_conn_v1, &f->port_v1)) != KZ_OK)
            return rc;
        f->has_v1 = true;
    }
    for (unsigned i = 0; i < f->n_peers; i++)
        if (f->peers[i].conf->connect && !f->peers[i].standby)
            kz__fed_dial(&f->peers[i]);
    return KZ_OK;
}

unsigned kz_fed_pending(const struct kz_fed *f)
{
    return f ? f->audits : 0;
}

int kz_fed_port(const struct kz_fed *f, bool v1)
{
    return !f ? 0 : v1 ? f->port_v1 : f->port_v2;
}

void kz_fed_stop(struct kz_fed *f)
{
    if (!f || f->stopping)
        return;
    f->stopping = true;
    if (f->has_v2)
        uv_close((uv_handle_t *)&f->listen_v2, NULL);
    if (f->has_v1)
        uv_close((uv_handle_t *)&f->listen_v1, NULL);
    kz__fed_close_all(f);
    for (unsigned i = 0; i < f->n_peers; i++) {
        kz__fed_sent_flush(&f->peers[i], NULL, NULL);
        uv_close((uv_handle_t *)&f->peers[i].redial, NULL);
    }
    if (f->flush_live)
        kz__fed_outbox_stop_timer(f);
}

void kz_fed_free(struct kz_fed *f)
{
    if (!f)
        return;
    for (unsigned i = 0; i < f->n_peers; i++) {
        free(f->peers[i].in_conf.name);
        free(f->peers[i].log);
    }
    free(f->peers);
    free(f->seen);
    if (f->dec)
        kz_cot_decoder_free(f->dec);
    free(f);
}

/* ---- status ------------------------------------------------------------------------- */

static const char *state_name(enum fed_state s)
{
    return s == FED_UP ? "up" : s == FED_CONNECTING ? "connecting" : "down";
}

/* Events of the log after the last one the link was sent (before the release rule); none
 * once the link is live (each goes out as it is routed) or, on a shared log, caught up. */
static uint64_t queued(const struct fed_peer *p)
{
    struct kz_router_stats rs;
    uint64_t end = p->log_end;

    if (p->conn && p->conn->attached && !p->conn->ob.catching_up)
        return 0;
    if (!p->fed->shared_log) {
        kz_router_stats(p->fed->router, &rs);
        end = rs.last_seq;
    }
    return end > p->cursor ? end - p->cursor : 0;
}

static json_t *peer_json(const struct fed_peer *p)
{
    char since[KZ_TIME_STRLEN];
    uint64_t denied = 0;

    for (int i = 0; i < KZ_DENY__COUNT; i++)
        denied += p->deny[i];
    kz_time_format(p->since_us, since);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "name", p->conf->name, "state",
                  state_name(p->state), "protocol", p->conf->protocol ? p->conf->protocol : "v2",
                  "since", since, "sent", (json_int_t)p->sent, "received", (json_int_t)p->received,
                  "denied", (json_int_t)denied, "duplicates", (json_int_t)p->duplicates, "queued",
                  (json_int_t)queued(p));
    if (p->fed->leased && p->conf->connect) {
        const char *owner = !p->standby ? p->fed->cfg->node->id : p->owner[0] ? p->owner : NULL;
        json_object_set_new(o, "owner", owner ? json_string(owner) : json_null());
        json_object_set_new(o, "standby", json_boolean(p->standby));
    }
    return o;
}

json_t *kz_fed_status(void *fed)
{
    const struct kz_fed *f = fed;
    json_t *arr = json_array();

    for (unsigned i = 0; f && i < f->n_peers; i++)
        json_array_append_new(arr, peer_json(&f->peers[i]));
    return json_pack("{s:o}", "peers", arr);
}
