/*
 * marti.c - the Marti REST endpoints TAK clients call after connecting:
 * version, server configuration, connected clients and the caller's groups.
 *
 * JSON answers use TAK's envelope {"version":"3","type":T,"data":D,
 * "nodeId":N}.  clientEndPoints is an exit (KZ_EXIT_MARTI_CLIENTS): a client
 * is listed only when its latest report is visible to the caller.
 */
#include <string.h>
#include <unistd.h>

#include "http/internal.h"

#define CT_JSON "application/json"
#define MARTI_API "3"
#define MAX_CLIENTS 10000

void kz__marti_envelope_open(struct kz_sbuf *out, const char *type)
{
    kz_sbuf_adds(out, "{\"version\":\"" MARTI_API "\",\"type\":");
    kz__json_str(out, type, strlen(type));
    kz_sbuf_adds(out, ",\"data\":");
}

void kz__marti_envelope_close(struct kz_sbuf *out, const char *node_id)
{
    const char *n = node_id ? node_id : "kizuna";

    kz_sbuf_adds(out, ",\"nodeId\":");
    kz__json_str(out, n, strlen(n));
    kz_sbuf_adds(out, "}\n");
}

static void respond_sbuf(struct kz__http_conn *c, struct kz_sbuf *sb)
{
    kz__http_respond(c, 200, CT_JSON, NULL, sb->buf, sb->len);
    kz_sbuf_release(sb);
}

void kz__marti_version(struct kz__http_conn *c)
{
    static const char v[] = "kizuna " KZ_VERSION;
    kz__http_respond(c, 200, "text/plain; charset=utf-8", NULL, v, sizeof(v) - 1);
}

/* The name the client used to reach us (Host without the port), else ours. */
static void host_name(struct kz__http_conn *c, char *out, size_t len)
{
    const char *h = kz__http_header(&c->hp.req, "Host");
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

void kz__marti_version_config(struct kz__http_conn *c)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char host[256];

    host_name(c, host, sizeof(host));
    kz__marti_envelope_open(&sb, "ServerConfig");
    kz_sbuf_adds(&sb,
                 "{\"version\":\"kizuna-" KZ_VERSION "\",\"api\":\"" MARTI_API "\",\"hostname\":");
    kz__json_str(&sb, host, strlen(host));
    kz_sbuf_adds(&sb, "}");
    kz__marti_envelope_close(&sb, c->opts->node_id);
    respond_sbuf(c, &sb);
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
        kz__json_str(sb, v, strlen(v));
    else
        kz_sbuf_adds(sb, "\"\"");
}

/* Called by the router only for clients whose latest report passed the check. */
static void add_client(void *ud, const struct kz_sub *client, const struct kz_event *last)
{
    struct clients *cl = ud;
    char t[KZ_TIME_STRLEN];
    const char *user = client->identity ? client->identity->user : NULL;

    if (cl->n >= MAX_CLIENTS)
        return;
    kz_sbuf_adds(&cl->sb, cl->n++ ? ",{" : "{");
    kz_sbuf_adds(&cl->sb, "\"callsign\":");
    const char *cs = client->callsign ? client->callsign : "";
    kz__json_str(&cl->sb, cs, strlen(cs));
    add_str(&cl->sb, "uid", client->uid);
    add_str(&cl->sb, "username", user);
    add_str(&cl->sb, "team", last->group_name);
    add_str(&cl->sb, "role", last->group_role);
    kz_time_format(last->recv_time, t);
    add_str(&cl->sb, "lastEventTime", t);
    add_str(&cl->sb, "lastStatus", "Connected");
    kz_sbuf_adds(&cl->sb, "}");
}

void kz__marti_client_endpoints(struct kz__http_conn *c)
{
    struct clients cl = {KZ_SBUF_INIT, 0};

    kz__marti_envelope_open(&cl.sb, "com.bbn.marti.remote.ClientEndpoint");
    kz_sbuf_adds(&cl.sb, "[");
    kz_router_foreach_client(c->opts->router, kz__http_viewer(c), KZ_EXIT_MARTI_CLIENTS, add_client,
                             &cl);
    kz_sbuf_adds(&cl.sb, "]");
    kz__marti_envelope_close(&cl.sb, c->opts->node_id);
    respond_sbuf(c, &cl.sb);
}

/* ---- GET /Marti/api/groups/all ------------------------------------------------ */

static void add_groups(struct kz_sbuf *sb, char **names, unsigned n, const char *dir,
                       unsigned *count)
{
    for (unsigned i = 0; i < n; i++) {
        kz_sbuf_adds(sb, (*count)++ ? ",{\"name\":" : "{\"name\":");
        kz__json_str(sb, names[i], strlen(names[i]));
        kz_sbuf_addf(sb,
                     ",\"direction\":\"%s\",\"created\":\"1970-01-01\",\"type\":\"SYSTEM\","
                     "\"bitpos\":%u,\"active\":true,\"description\":\"\"}",
                     dir, i);
    }
}

void kz__marti_groups_all(struct kz__http_conn *c)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    const struct kz_identity *id = c->identity;
    unsigned n = 0;

    /* ATAK recognises the list by this exact type string. */
    kz__marti_envelope_open(&sb, "com.bbn.marti.remote.groups.Group");
    kz_sbuf_adds(&sb, "[");
    if (id) {
        add_groups(&sb, id->groups_in, id->groups_in_count, "IN", &n);
        add_groups(&sb, id->groups_out, id->groups_out_count, "OUT", &n);
    }
    kz_sbuf_adds(&sb, "]");
    kz__marti_envelope_close(&sb, c->opts->node_id);
    respond_sbuf(c, &sb);
}
