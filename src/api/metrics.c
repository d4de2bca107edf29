/*
 * metrics.c - GET /metrics: the global counters, router and store figures
 * in the Prometheus text exposition format, version 0.0.4; and each
 * federation peer's counters from the same status as GET /api/v1/federation.
 */
#include <string.h>

#include "api/internal.h"
#include "cluster/cluster.h"

static void head(struct kz_sbuf *out, const char *name, const char *type, const char *help)
{
    kz_sbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric(struct kz_sbuf *out, const char *name, const char *type, const char *help,
                   uint64_t v)
{
    head(out, name, type, help);
    kz_sbuf_addf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void connections(struct kz_sbuf *out)
{
    head(out, "kizuna_connections", "gauge", "Open connections by kind.");
    kz_sbuf_addf(out, "kizuna_connections{kind=\"cot\"} %llu\n",
                 (unsigned long long)kz_metrics.conns_open);
    kz_sbuf_addf(out, "kizuna_connections{kind=\"http\"} %llu\n",
                 (unsigned long long)kz_metrics.http_conns_open);
    metric(out, "kizuna_connections_total", "counter", "CoT stream connections accepted.",
           kz_metrics.conns_total);
}

static void rejects(struct kz_sbuf *out)
{
    head(out, "kizuna_rejects_total", "counter", "Inputs refused, by reason.");
    for (unsigned i = 0; i < KZ_REJ__COUNT; i++) {
        kz_sbuf_addf(out, "kizuna_rejects_total{reason=\"%s\"} %llu\n",
                     kz_reject_name((enum kz_reject)i), (unsigned long long)kz_metrics.rejects[i]);
    }
}

static void store(struct kz_sbuf *out, struct kz_store *st)
{
    struct kz_store_stats ss;

    kz_store_stats(st, &ss);
    metric(out, "kizuna_store_committed_total", "counter", "Records committed to the store.",
           ss.committed);
    metric(out, "kizuna_store_errors_total", "counter", "Store errors.", ss.errors);
    head(out, "kizuna_store_lag_seconds", "gauge", "Age of the oldest uncommitted record.");
    kz_sbuf_addf(out, "kizuna_store_lag_seconds %.6f\n", (double)ss.lag_us / 1e6);
    metric(out, "kizuna_store_bytes", "gauge", "Size of the database.",
           ss.db_bytes > 0 ? (uint64_t)ss.db_bytes : 0);
}

static void release(struct kz_sbuf *out, const struct kz_router_stats *rs)
{
    head(out, "kizuna_release_checks_total", "counter",
         "Release-rule checks, by exit (every place data leaves).");
    for (int e = 0; e < KZ_EXIT__COUNT; e++)
        kz_sbuf_addf(out, "kizuna_release_checks_total{exit=\"%s\"} %llu\n",
                     kz_exit_name((enum kz_exit)e), (unsigned long long)rs->checks[e]);
    head(out, "kizuna_release_denials_total", "counter", "Release-rule denials, by exit.");
    for (int e = 0; e < KZ_EXIT__COUNT; e++)
        kz_sbuf_addf(out, "kizuna_release_denials_total{exit=\"%s\"} %llu\n",
                     kz_exit_name((enum kz_exit)e), (unsigned long long)rs->denials[e]);
    head(out, "kizuna_release_denial_reasons_total", "counter", "Release-rule denials, by reason.");
    for (int d = 1; d < KZ_DENY__COUNT; d++)
        kz_sbuf_addf(out, "kizuna_release_denial_reasons_total{reason=\"%s\"} %llu\n",
                     kz_deny_name((enum kz_deny)d), (unsigned long long)rs->deny_reasons[d]);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct kz_sbuf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            kz_sbuf_addf(out, "\\%c", *s);
        else if (*s == '\n')
            kz_sbuf_add(out, "\\n", 2);
        else
            kz_sbuf_add(out, s, 1);
    }
}

/* A peer's value of `field`, or for NULL 1 when its state is "up". */
static long long fed_value(json_t *peer, const char *field)
{
    const char *state = json_string_value(json_object_get(peer, "state"));

    if (field)
        return json_integer_value(json_object_get(peer, field));
    return state && strcmp(state, "up") == 0;
}

static void fed_family(struct kz_sbuf *out, json_t *peers, const char *name, const char *type,
                       const char *help, const char *field)
{
    size_t i;
    json_t *p;

    head(out, name, type, help);
    json_array_foreach(peers, i, p)
    {
        const char *peer = json_string_value(json_object_get(p, "name"));
        if (!peer)
            continue;
        kz_sbuf_addf(out, "%s{peer=\"", name);
        label_value(out, peer);
        kz_sbuf_addf(out, "\"} %lld\n", fed_value(p, field));
    }
}

static void federation(struct kz_sbuf *out, struct kz_api *api)
{
    json_t *st = kz__api_fed_status(api), *peers = json_object_get(st, "peers");

    if (json_array_size(peers)) {
        fed_family(out, peers, "kizuna_fed_up", "gauge", "1 while the link to the peer is up.",
                   NULL);
        fed_family(out, peers, "kizuna_fed_sent_total", "counter", "Events sent to the peer.",
                   "sent");
        fed_family(out, peers, "kizuna_fed_received_total", "counter",
                   "Events received from the peer.", "received");
        fed_family(out, peers, "kizuna_fed_denied_total", "counter",
                   "Events refused on the link (release rule, ceiling, provenance).", "denied");
        fed_family(out, peers, "kizuna_fed_duplicates_total", "counter",
                   "Events from the peer already seen.", "duplicates");
    }
    json_decref(st);
}

static void cluster(struct kz_sbuf *out, const struct kz_cluster *c)
{
    struct kz_cluster_stats cs;
    struct kz_cluster_mission_stats ms;

    if (!c)
        return;
    kz_cluster_stats(c, &cs);
    metric(out, "kizuna_cluster_joined", "gauge", "1 while joined to the cluster's NATS, 0 island.",
           cs.joined);
    metric(out, "kizuna_cluster_partitions_total", "counter", "Times the NATS server was lost.",
           cs.partitions);
    metric(out, "kizuna_cluster_published_total", "counter", "Events published to the cluster.",
           cs.published);
    metric(out, "kizuna_cluster_unsent_total", "counter",
           "Events accepted while an island, not published.", cs.unsent);
    metric(out, "kizuna_cluster_refused_too_large_total", "counter",
           "Events not published: larger than NATS' max_payload.", cs.refused_too_large);
    metric(out, "kizuna_cluster_received_total", "counter",
           "Events of other instances applied here.", cs.received);
    metric(out, "kizuna_cluster_duplicates_total", "counter",
           "Messages of other instances seen before (origin, sequence).", cs.duplicates);
    metric(out, "kizuna_cluster_superseded_total", "counter",
           "Events of other instances older than their uid's latest state.", cs.superseded);
    metric(out, "kizuna_cluster_echoes_total", "counter", "Own messages that came back.",
           cs.echoes);
    metric(out, "kizuna_cluster_dropped_total", "counter",
           "Messages dropped: a queue to the event loop was full.", cs.dropped);
    metric(out, "kizuna_cluster_refused_total", "counter",
           "Messages refused here (malformed, unknown label, state full).", cs.refused);
    metric(out, "kizuna_cluster_unstored_total", "counter",
           "Events of other instances applied but not stored: the store was behind.", cs.unstored);
    metric(out, "kizuna_cluster_presence_closes_total", "counter",
           "Sessions closed: their device connected to another instance.", cs.presence_closes);
    metric(out, "kizuna_cluster_revocation_closes_total", "counter",
           "Sessions closed: their certificate was revoked on another instance.",
           cs.revocation_closes);
    metric(out, "kizuna_cluster_ident_published_total", "counter",
           "Identity-change notices sent: users deleted or changed here.", cs.ident_published);
    metric(out, "kizuna_cluster_ident_received_total", "counter",
           "Identity-change notices received from other instances.", cs.ident_received);
    metric(out, "kizuna_cluster_ident_closes_total", "counter",
           "Sessions closed: their user was deleted or changed on another instance.",
           cs.ident_closes);
    kz_cluster_mission_stats(c, &ms);
    metric(out, "kizuna_cluster_mission_notices_published_total", "counter",
           "Mission changes committed to the shared PostgreSQL, told to the cluster.",
           ms.published);
    metric(out, "kizuna_cluster_mission_notices_received_total", "counter",
           "Other instances' mission changes read back from the shared PostgreSQL.", ms.received);
    metric(out, "kizuna_cluster_mission_notices_refused_total", "counter",
           "Malformed mission notices.", ms.refused);
    metric(out, "kizuna_cluster_latest_entries", "gauge",
           "Entries in the latest-state mirror (tombstones included).", cs.latest_entries);
    metric(out, "kizuna_cluster_latest_written_total", "counter",
           "This instance's events written to the latest-state bucket.", cs.latest_written);
    metric(out, "kizuna_cluster_latest_dropped_total", "counter",
           "Events not written to the latest-state bucket: its queue was full.", cs.latest_dropped);
    metric(out, "kizuna_cluster_latest_snapshots_total", "counter",
           "Latest-state snapshots loaded (at start and after every rejoin).", cs.latest_snapshots);
    metric(out, "kizuna_cluster_latest_applied_total", "counter",
           "Latest-state entries that became this instance's latest state.", cs.latest_applied);
    metric(out, "kizuna_cluster_latest_forgotten_total", "counter",
           "Tracks removed: deleted or vanished in the latest-state bucket.", cs.latest_forgotten);
    metric(out, "kizuna_cluster_latest_refused_total", "counter",
           "Latest-state entries that did not decode or apply here.", cs.latest_refused);
}

static void exposition(struct kz_sbuf *out, struct kz_router *r, struct kz_store *st)
{
    struct kz_router_stats rs = {0};

    if (r)
        kz_router_stats(r, &rs);
    connections(out);
    metric(out, "kizuna_http_requests_total", "counter", "HTTP requests received.",
           kz_metrics.http_requests);
    metric(out, "kizuna_events_in_total", "counter", "Events accepted.", kz_metrics.events_in);
    metric(out, "kizuna_deliveries_total", "counter", "Event copies queued to recipients.",
           kz_metrics.deliveries);
    metric(out, "kizuna_bytes_out_total", "counter", "Bytes queued to clients.",
           kz_metrics.bytes_out);
    rejects(out);
    metric(out, "kizuna_slow_consumer_drops_total", "counter",
           "Clients dropped for not reading fast enough.", kz_metrics.slow_consumer_drops);
    metric(out, "kizuna_garbage_closes_total", "counter",
           "Stream connections closed for sending garbage.", kz_metrics.garbage_closes);
    metric(out, "kizuna_input_holds_total", "counter",
           "Stream inputs that stopped reading until the store caught up.", kz_metrics.input_holds);
    metric(out, "kizuna_connection_refusals_total", "counter",
           "Connections refused at limits.max_connections.", kz_metrics.conn_limit_refusals);
    metric(out, "kizuna_enroll_auth_failures_total", "counter",
           "Enrollment logins with a wrong password or an unknown user.",
           kz_metrics.enroll_auth_failures);
    metric(out, "kizuna_enroll_backoff_total", "counter",
           "Enrollment logins refused (429) while the user name or peer backs off.",
           kz_metrics.enroll_backoffs);
    metric(out, "kizuna_credential_closes_total", "counter",
           "Authenticated TLS connections closed because the user was deleted or the "
           "certificate revoked.",
           kz_metrics.credential_closes);
    head(out, "kizuna_accept_errors_total", "counter",
         "Connections refused by accept(), by reason (emfile: out of file descriptors).");
    kz_sbuf_addf(out, "kizuna_accept_errors_total{reason=\"emfile\"} %llu\n",
                 (unsigned long long)kz_metrics.accept_emfile);
    metric(out, "kizuna_proxy_refusals_total", "counter",
           "Connections of proxy_protocol inputs closed for a missing, malformed, oversized or "
           "late PROXY header.",
           kz_metrics.proxy_refusals);
    metric(out, "kizuna_files_stored_total", "counter", "Files uploaded over Marti and stored.",
           kz_metrics.files_stored);
    metric(out, "kizuna_file_bytes_stored_total", "counter", "Bytes of the files stored.",
           kz_metrics.file_bytes);
    metric(out, "kizuna_tracks", "gauge", "Current tracks (latest state per uid).", rs.tracks);
    metric(out, "kizuna_subscribers", "gauge", "Attached subscribers.", rs.subscribers);
    release(out, &rs);
    if (st)
        store(out, st);
}

static void get_metrics(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    exposition(&sb, api->router, api->store);
    federation(&sb, api);
    cluster(&sb, api->cluster);
    kz_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, sb.buf, sb.len);
    kz_sbuf_release(&sb);
}

static const struct kz_http_route rows[] = {
    {"GET", "/metrics", get_metrics, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_metrics_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
