/*
 * marti.c - the Marti REST endpoints TAK clients call after connecting:
 * version, server configuration, connected clients and the caller's groups;
 * the route table, with the file downloads of sync.c.
 *
 * JSON answers use TAK's envelope {"version":"3","type":T,"data":D,
 * "nodeId":N}.  clientEndPoints is an exit (KZ_EXIT_MARTI_CLIENTS): a client
 * is listed only when its latest report is visible to the caller.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "marti/internal.h"

#define CT_JSON "application/json"
#define MARTI_API "3"
#define MAX_CLIENTS 10000

void kz__marti_envelope_open(struct kz_sbuf *out, const char *type)
{
    kz_sbuf_adds(out, "{\"version\":\"" MARTI_API "\",\"type\":");
    kz_json_escape(out, type, strlen(type));
    kz_sbuf_adds(out, ",\"data\":");
}

void kz__marti_envelope_close(struct kz_sbuf *out, const char *node_id)
{
    const char *n = node_id ? node_id : "kizuna";

    kz_sbuf_adds(out, ",\"nodeId\":");
    kz_json_escape(out, n, strlen(n));
    kz_sbuf_adds(out, "}\n");
}

static void respond_sbuf(struct kz_http_req *req, struct kz_sbuf *sb)
{
    kz_http_respond(req, 200, CT_JSON, NULL, sb->buf, sb->len);
    kz_sbuf_release(sb);
}

static void version(struct kz_http_req *req, void *app)
{
    static const char v[] = "kizuna " KZ_VERSION;

    KZ_UNUSED(app);
    kz_http_respond(req, 200, "text/plain; charset=utf-8", NULL, v, sizeof(v) - 1);
}

/* The name the client used to reach us (Host without the port), else ours. */
static void host_name(struct kz_http_req *req, char *out, size_t len)
{
    const char *h = kz_http_header(req, "Host");
    size_t n;

    if (h && *h) {
        n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
        n = n < strlen(h) ? n : strlen(h);
        snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), h);
        return;
    }
    if (gethostname(out, len) != 0)
        snprintf(out, len, "localhost");
    out[len - 1] = '\0';
}

static void version_config(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char host[256];

    host_name(req, host, sizeof(host));
    kz__marti_envelope_open(&sb, "ServerConfig");
    kz_sbuf_adds(&sb,
                 "{\"version\":\"kizuna-" KZ_VERSION "\",\"api\":\"" MARTI_API "\",\"hostname\":");
    kz_json_escape(&sb, host, strlen(host));
    kz_sbuf_adds(&sb, "}");
    kz__marti_envelope_close(&sb, m->opts.node_id);
    respond_sbuf(req, &sb);
}

/* ---- GET /Marti/api/clientEndPoints ------------------------------------------ */

struct clients {
    struct kz_sbuf sb;
    unsigned n;
};

static void add_str(struct kz_sbuf *sb, const char *key, const char *v)
{
    kz_sbuf_addf(sb, ",\"%s\":", key);
    if (v)
        kz_json_escape(sb, v, strlen(v));
    else
        kz_sbuf_adds(sb, "\"\"");
}

/*
 * Called by the router only for clients whose latest report passed the
 * check: every fact printed comes from that report, never from the client.
 */
static void add_client(void *ud, const struct kz_sub *client, const struct kz_event *last)
{
    struct clients *cl = ud;
    char t[KZ_TIME_STRLEN];
    const char *user = client->identity ? client->identity->user : NULL;

    if (cl->n >= MAX_CLIENTS)
        return;
    kz_sbuf_adds(&cl->sb, cl->n++ ? ",{" : "{");
    kz_sbuf_adds(&cl->sb, "\"callsign\":");
    const char *cs = last->callsign ? last->callsign : "";
    kz_json_escape(&cl->sb, cs, strlen(cs));
    add_str(&cl->sb, "uid", last->uid);
    add_str(&cl->sb, "username", user);
    add_str(&cl->sb, "team", last->group_name);
    add_str(&cl->sb, "role", last->group_role);
    kz_time_format(last->recv_time, t);
    add_str(&cl->sb, "lastEventTime", t);
    add_str(&cl->sb, "lastStatus", "Connected");
    kz_sbuf_adds(&cl->sb, "}");
}

static void client_endpoints(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct clients cl = {KZ_SBUF_INIT, 0};

    if (!m->opts.router) {
        kz_http_error(req, 503, "no router");
        return;
    }
    kz__marti_envelope_open(&cl.sb, "com.bbn.marti.remote.ClientEndpoint");
    kz_sbuf_adds(&cl.sb, "[");
    kz_router_foreach_client(m->opts.router, kz__marti_viewer(m, req), KZ_EXIT_MARTI_CLIENTS,
                             add_client, &cl);
    kz_sbuf_adds(&cl.sb, "]");
    kz__marti_envelope_close(&cl.sb, m->opts.node_id);
    respond_sbuf(req, &cl.sb);
}

/* ---- GET /Marti/api/groups/all ------------------------------------------------ */

static void add_groups(struct kz_sbuf *sb, char **names, unsigned n, const char *dir,
                       unsigned *count)
{
    for (unsigned i = 0; i < n; i++) {
        kz_sbuf_adds(sb, (*count)++ ? ",{\"name\":" : "{\"name\":");
        kz_json_escape(sb, names[i], strlen(names[i]));
        kz_sbuf_addf(sb,
                     ",\"direction\":\"%s\",\"created\":\"1970-01-01\",\"type\":\"SYSTEM\","
                     "\"bitpos\":%u,\"active\":true,\"description\":\"\"}",
                     dir, i);
    }
}

static void groups_all(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    const struct kz_identity *id = kz_http_identity(req);
    unsigned n = 0;

    /* ATAK recognises the list by this exact type string. */
    kz__marti_envelope_open(&sb, "com.bbn.marti.remote.groups.Group");
    kz_sbuf_adds(&sb, "[");
    if (id) {
        add_groups(&sb, id->groups_in, id->groups_in_count, "IN", &n);
        add_groups(&sb, id->groups_out, id->groups_out_count, "OUT", &n);
    }
    kz_sbuf_adds(&sb, "]");
    kz__marti_envelope_close(&sb, m->opts.node_id);
    respond_sbuf(req, &sb);
}

/* ---- the route rows --------------------------------------------------------------- */

static const struct kz_http_route rows[] = {
    {"GET", "/Marti/api/version", version, NULL, KZ_HTTP_ON_ANY},
    {"GET", "/Marti/api/version/config", version_config, NULL, KZ_HTTP_ON_ANY},
    {"GET", "/Marti/api/clientEndPoints", client_endpoints, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/Marti/api/groups/all", groups_all, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/Marti/api/tls/config", kz__enroll_tls_config, NULL, KZ_HTTP_ON_ENROLL},
    {"POST", "/Marti/api/tls/signClient/v2", kz__enroll_sign, NULL, KZ_HTTP_ON_ENROLL},
    {"GET", "/Marti/sync/content", kz__marti_content, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/Marti/sync/missionquery", kz__marti_mission_query, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

void kz_marti_init(struct kz_marti *m, const struct kz_marti_opts *opts)
{
    memset(m, 0, sizeof(*m));
    m->opts = *opts;
    m->routes = rows;
    m->n_routes = KZ_ARRAY_LEN(rows);
    m->max_file_bytes = opts->max_file_bytes;
    kz__marti_stream_rows(m);
    kz__marti_mission_rows(&m->mission_routes, &m->n_mission_routes);
    m->uids = (struct kz_mission_uids){kz__mission_uid_details, m};
}

bool kz_marti_busy(const struct kz_marti *m)
{
    return m->uploads > 0;
}

void kz_marti_set_max_file_bytes(struct kz_marti *m, uint64_t n)
{
    m->max_file_bytes = n;
}
