/*
 * missions.c - Data Sync missions over Marti (reference B.1, B.8;
 * docs/missions.md): the caller and its role per request, TAK's envelope,
 * and the missions themselves (list, get, create or update, delete).  The
 * subscription and role routes are in mission_subs.c, the contents, changes,
 * CoT and logs in mission_items.c, the commit and notifications in
 * mission_commit.c.
 *
 * A mission the caller may not see (its own label, or none of its groups)
 * is 404 and absent from lists; every item in an answer passed the release
 * rule for the caller.  JSON answers are `application/json` exactly
 * (node-tak parses nothing else).
 */
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "marti/internal.h"

#define T_MISSION "Mission"
#define DEFAULT_GROUP "__ANON__"

/* ---- parameters ------------------------------------------------------------------- */

static const char *utf8_or_null(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = s ? strlen(s) : 0, k;
    uint32_t cp;

    for (size_t i = 0; i < n; i += k)
        if ((k = kz_utf8_seq(p + i, n - i, &cp)) == 0 || cp == 0)
            return NULL;
    return s;
}

const char *kz__mission_param(const struct kz_http_req *req, const char *name)
{
    return utf8_or_null(kz_http_param(req, name));
}

const char *kz__mission_path(const struct kz_http_req *req, const char *name)
{
    return utf8_or_null(kz_http_path_param(req, name));
}

/* ---- the caller ------------------------------------------------------------------- */

static bool has_role(const struct kz_identity *id, const char *role)
{
    for (unsigned i = 0; id && i < id->roles_count; i++)
        if (strcmp(id->roles[i], role) == 0)
            return true;
    return false;
}

void kz__mission_caller(struct kz_marti *m, struct kz_http_req *req, struct kz__mcaller *c)
{
    static const struct kz_sub nobody; /* immutable: sees nothing labelled */
    const char *jwt = kz_mission_bearer(kz_http_header(req, "MissionAuthorization"),
                                        kz_http_header(req, "Authorization"));

    memset(c, 0, sizeof(*c));
    c->id = kz_http_identity(req);
    c->view = m->opts.view ? m->opts.view(req) : NULL;
    if (!c->view)
        c->view = &nobody;
    c->who = &c->view->subject;
    c->admin = has_role(c->id, KZ_ROLE_ADMIN);
    c->has_token =
        jwt && m->opts.signer && kz_mission_token_verify(m->opts.signer, jwt, &c->token) == KZ_OK;
}

static bool in_groups(const struct kz_identity *id, const char *g)
{
    for (unsigned i = 0; id && i < id->groups_in_count; i++)
        if (strcmp(id->groups_in[i], g) == 0)
            return true;
    for (unsigned i = 0; id && i < id->groups_out_count; i++)
        if (strcmp(id->groups_out[i], g) == 0)
            return true;
    return false;
}

bool kz__mission_visible(const struct kz_mission *mi, const struct kz__mcaller *c)
{
    bool group = mi->n_groups == 0 || c->admin;

    for (unsigned i = 0; !group && i < mi->n_groups; i++)
        group = in_groups(c->id, mi->groups[i]);
    return group && kz_mission_visible(mi, c->who);
}

/*
 * Role per request (B.6), plus the mission's password when this run of the
 * handler follows a password check that matched (kz__mission_password).
 */
static enum kz_mission_role role_of(struct kz_marti *m, struct kz_http_req *req,
                                    const struct kz_mission *mi, const struct kz__mcaller *c)
{
    enum kz_mission_role r = kz_mission_role_for(mi, c->has_token ? &c->token : NULL, c->admin);

    if (r == KZ_MROLE_NONE && mi->password_hash && !mi->invite_only && m->pw_req == req && m->pw_ok)
        r = mi->default_role;
    return r;
}

/*
 * Before a route that takes the mission's `password` (GET, PUT
 * .../subscription) decides a role: check it off the loop.  True: the
 * handler returns now (it runs again when the check is done).
 */
bool kz__mission_password_first(struct kz_marti *m, struct kz_http_req *req,
                                const struct kz__mcaller *c, kz_http_handler again)
{
    const char *name = kz__mission_path(req, "name");
    struct kz_mission *mi = m->opts.missions ? kz_mission_book_get(m->opts.missions, name) : NULL;

    if (!mi || !mi->password_hash || !kz__mission_visible(mi, c) ||
        kz_mission_role_for(mi, c->has_token ? &c->token : NULL, c->admin) != KZ_MROLE_NONE)
        return false;
    return kz__mission_password(m, req, mi->password_hash, again) == KZ__PW_PENDING;
}

struct kz_mission *kz__mission_for(struct kz_marti *m, struct kz_http_req *req,
                                   const struct kz__mcaller *c, unsigned perms,
                                   enum kz_mission_role *role)
{
    const char *name = kz__mission_path(req, "name");
    struct kz_mission *mi;
    enum kz_mission_role r;

    if (!m->opts.missions) {
        kz_http_error(req, 503, "no missions");
        return NULL;
    }
    mi = kz_mission_book_get(m->opts.missions, name);
    if (!mi || !kz__mission_visible(mi, c)) {
        kz_http_error(req, 404, "no mission '%s'", name ? name : "");
        return NULL;
    }
    r = role_of(m, req, mi, c);
    if ((kz_mission_role_perms(r) & perms) != perms) {
        kz_http_error(req, 403, "the mission role does not allow this");
        return NULL;
    }
    if (role)
        *role = r;
    return mi;
}

/* ---- answers ------------------------------------------------------------------------ */

char *kz__mission_envelope(struct kz_marti *m, const char *type, json_t *data)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char *d = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

    json_decref(data);
    kz__marti_envelope_open(&sb, type);
    kz_sbuf_adds(&sb, d ? d : "null");
    kz__marti_envelope_close(&sb, m->opts.node_id);
    free(d);
    return kz_sbuf_detach(&sb, NULL);
}

void kz__mission_respond(struct kz_marti *m, struct kz_http_req *req, int status, const char *type,
                         json_t *data)
{
    char *s = kz__mission_envelope(m, type, data);

    kz_http_respond(req, status, "application/json", NULL, s, strlen(s));
    free(s);
}

struct kz_mission_view kz__mission_view(struct kz_marti *m, const struct kz__mcaller *c)
{
    return (struct kz_mission_view){
        .who = c->who, .files = m->opts.mission_files, .uids = &m->uids};
}

static bool flag(struct kz_http_req *req, const char *name, bool dflt)
{
    const char *v = kz__mission_param(req, name);

    return v ? strcmp(v, "true") == 0 || strcmp(v, "1") == 0 : dflt;
}

/* ---- GET /Marti/api/missions ----------------------------------------------------------- */

static bool listed(struct kz_http_req *req, const struct kz_mission *mi)
{
    const char *tool = kz__mission_param(req, "tool");

    if (strcmp(mi->tool, tool ? tool : "public") != 0)
        return false;
    if (mi->password_hash && !flag(req, "passwordProtected", false))
        return false;
    return mi->default_role == KZ_MROLE_SUBSCRIBER || flag(req, "defaultRole", false);
}

static void list(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    json_t *a = json_array();

    kz__mission_caller(m, req, &c);
    for (unsigned i = 0; m->opts.missions && i < kz_mission_book_count(m->opts.missions); i++) {
        struct kz_mission *mi = kz_mission_book_at(m->opts.missions, i);
        if (!kz__mission_visible(mi, &c) || !listed(req, mi))
            continue;
        struct kz_mission_view v = kz__mission_view(m, &c);
        v.hide_contents = mi->password_hash != NULL; /* as TAK Server lists them */
        json_array_append_new(a, kz_mission_json(mi, &v));
    }
    kz__mission_respond(m, req, 200, T_MISSION, a);
}

/* ---- GET /Marti/api/missions/{name} ---------------------------------------------------- */

int64_t kz__mission_time_param(struct kz_http_req *req, const char *name)
{
    const char *v = kz__mission_param(req, name);
    int64_t us = 0;

    if (v && kz_time_parse(v, strlen(v), &us) != KZ_OK)
        us = 0;
    return us;
}

int64_t kz__mission_window_start(struct kz_http_req *req)
{
    const char *secago = kz__mission_param(req, "secago");
    long long s = secago ? strtoll(secago, NULL, 10) : 0;

    if (s > 0)
        return kz_now_us() - s * 1000000LL;
    return kz__mission_time_param(req, "start");
}

/* An ACCESS token for a caller who gave the mission's password. */
static char *access_token(struct kz_marti *m, struct kz_http_req *req, const struct kz_mission *mi,
                          enum kz_mission_role role)
{
    struct kz_mission_token_claims tc = {
        .role = role, .type = KZ_MTOKEN_ACCESS, .iat = kz_now_us() / 1000000};
    const char *uid = kz__mission_param(req, "uid");

    if (!mi->password_hash || m->pw_req != req || !m->pw_ok || !m->opts.signer)
        return NULL;
    snprintf(tc.sub, sizeof(tc.sub), "%s", uid ? uid : "");
    snprintf(tc.mission, sizeof(tc.mission), "%s", mi->name);
    snprintf(tc.guid, sizeof(tc.guid), "%s", mi->guid);
    return kz_mission_token_sign(m->opts.signer, &tc);
}

static void get(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    enum kz_mission_role role;
    struct kz_mission *mi;

    kz__mission_caller(m, req, &c);
    if (kz__mission_password_first(m, req, &c, get))
        return;
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_READ, &role)))
        return;
    char *token = access_token(m, req, mi, role);
    struct kz_mission_view v = kz__mission_view(m, &c);
    v.token = token;
    v.changes = flag(req, "changes", false);
    v.logs = flag(req, "logs", false);
    v.start = kz__mission_window_start(req);
    v.end = kz__mission_time_param(req, "end");
    json_t *a = json_array();
    json_array_append_new(a, kz_mission_json(mi, &v));
    kz__mission_respond(m, req, 200, T_MISSION, a);
    free(token);
}

/* ---- PUT and POST /Marti/api/missions/{name} ------------------------------------------ */

/* The mission's label: `classification` within the creator's reach, else its default label. */
static int mission_label(struct kz_marti *m, struct kz_http_req *req, const struct kz__mcaller *c,
                         struct kz_label *out, struct kz_sbuf *banner)
{
    const char *cls = kz__mission_param(req, "classification");
    const struct kz_input *in = kz_http_input(req);

    if (cls && *cls) {
        if (kz_label_parse(m->opts.policy, cls, strlen(cls), out, NULL, 0) != KZ_OK)
            return KZ_ERR_PARSE;
    } else if (in && in->has_default_label) {
        *out = in->default_label;
    } else {
        return KZ_ERR_PARSE;
    }
    out->originator = c->who->nation;
    if (!kz_may_release(out, c->who, NULL) ||
        (in && in->has_ceiling && !kz_label_dominated(out, &in->ceiling)))
        return KZ_ERR_DENIED;
    return kz_label_format(m->opts.policy, out, banner) == KZ_OK ? KZ_OK : KZ_ERR_PARSE;
}

/* `group` (repeatable or comma-joined; default __ANON__) as TAK Server takes it. */
static int mission_groups(struct kz_http_req *req, const struct kz__mcaller *c,
                          struct kz_mission *mi)
{
    const char *g = kz__mission_param(req, "group");
    unsigned n = 0;
    char **v = kz_strv_split(g && *g ? g : DEFAULT_GROUP, &n);

    if (n == 1 && strcmp(v[0], DEFAULT_GROUP) == 0 && c->id && !in_groups(c->id, DEFAULT_GROUP)) {
        /* A default-group mission of a caller outside __ANON__ gets the caller's groups. */
        kz_strv_free(v, n);
        n = c->id->groups_out_count;
        v = kz_xcalloc(n + 1, sizeof(*v));
        for (unsigned i = 0; i < n; i++)
            v[i] = kz_xstrdup(c->id->groups_out[i]);
    }
    for (unsigned i = 0; i < n; i++)
        if (!c->admin && !in_groups(c->id, v[i]) && strcmp(v[i], DEFAULT_GROUP) != 0) {
            kz_strv_free(v, n);
            return KZ_ERR_DENIED;
        }
    kz_strv_free(mi->groups, mi->n_groups);
    mi->groups = v;
    mi->n_groups = n;
    return KZ_OK;
}

static void set_param(struct kz_http_req *req, const char *name, char **field)
{
    const char *v = kz__mission_param(req, name);

    if (v) {
        free(*field);
        *field = kz_xstrdup(v);
    }
}

/* Whether the optional JSON body applies cleanly: tried on a scratch mission first. */
static int body_ok(const char *body, size_t len, char *err, size_t errlen)
{
    struct kz_mission *scratch = kz_xcalloc(1, sizeof(*scratch));
    int rc = kz_mission_body_apply(scratch, body, len, err, errlen);

    kz_mission_free(scratch);
    return rc;
}

/*
 * The query parameters and the optional JSON body that describe a mission;
 * checked before anything is applied, so a refusal changes nothing.
 */
static int describe(struct kz_http_req *req, struct kz_mission *mi, char *err, size_t errlen)
{
    const char *role = kz__mission_param(req, "defaultRole"),
               *exp = kz__mission_param(req, "expiration");
    size_t len = 0;
    const char *body = kz_http_body(req, &len);
    enum kz_mission_role dr = mi->default_role;
    /* A mission package (zip) body is not read here: contents/missionpackage is. */
    bool json = body && len && body[0] == '{';

    if (role && kz_mission_role_parse(role, &dr) != KZ_OK) {
        snprintf(err, errlen, "defaultRole: unknown role");
        return KZ_ERR_PARSE;
    }
    if (json && body_ok(body, len, err, errlen) != KZ_OK)
        return KZ_ERR_PARSE;
    set_param(req, "description", &mi->description);
    set_param(req, "chatRoom", &mi->chat_room);
    set_param(req, "tool", &mi->tool);
    mi->default_role = dr;
    if (exp)
        mi->expiration = strtoll(exp, NULL, 10);
    if (kz__mission_param(req, "inviteOnly"))
        mi->invite_only = flag(req, "inviteOnly", false);
    return json ? kz_mission_body_apply(mi, body, len, err, errlen) : KZ_OK;
}

static char *owner_token(struct kz_marti *m, const struct kz_mission *mi, const char *uid)
{
    struct kz_mission_token_claims tc = {
        .role = KZ_MROLE_OWNER, .type = KZ_MTOKEN_SUBSCRIPTION, .iat = kz_now_us() / 1000000};

    if (!m->opts.signer)
        return NULL;
    snprintf(tc.sub, sizeof(tc.sub), "%s", uid);
    snprintf(tc.mission, sizeof(tc.mission), "%s", mi->name);
    snprintf(tc.guid, sizeof(tc.guid), "%s", mi->guid);
    return kz_mission_token_sign(m->opts.signer, &tc);
}

/* The password's hash, made off the loop before create() ran again (kz__mission_password). */
static void set_password(struct kz_marti *m, struct kz_http_req *req, struct kz_mission *mi)
{
    if (m->pw_req != req || !m->pw_hash)
        return;
    free(mi->password_hash);
    mi->password_hash = kz_xstrdup(m->pw_hash);
}

static struct kz_mission *new_mission(struct kz_marti *m, struct kz_http_req *req,
                                      const struct kz__mcaller *c, const char *name)
{
    struct kz_label label;
    struct kz_sbuf banner = KZ_SBUF_INIT;
    struct kz_mission *mi = NULL;
    int rc = mission_label(m, req, c, &label, &banner);

    if (rc == KZ_OK)
        mi = kz_mission_book_add(m->opts.missions, name, banner.buf, &label, kz_now_us());
    kz_sbuf_release(&banner);
    if (rc == KZ_ERR_DENIED)
        kz_http_error(req, 403, "classification: beyond what the creator may see or send");
    else if (rc != KZ_OK)
        kz_http_error(req, 400, "classification: none given, and the input has no default label");
    else if (!mi)
        kz_http_error(req, 409, "too many missions");
    return mi;
}

static void created(struct kz_marti *m, struct kz_http_req *req, const struct kz__mcaller *c,
                    struct kz_mission *mi)
{
    const char *uid = kz__mission_param(req, "creatorUid");
    struct kz__mcommit *t = kz__mcommit_new(m, req, NULL);
    char *token;

    uid = uid && *uid ? uid : c->id && c->id->user ? c->id->user : "ANONYMOUS";
    mi->creator_uid = kz_xstrdup(uid);
    token = owner_token(m, mi, uid);
    kz_mission_subscribe(mi, uid, c->id ? c->id->user : NULL, KZ_MROLE_OWNER, token, kz_now_us(),
                         NULL);
    kz_mission_log_change(m->opts.missions, mi, KZ_MCHANGE_CREATE_MISSION, uid, kz_now_us());
    struct kz_mission_view v = kz__mission_view(m, c);
    v.token = token;
    v.owner_role = KZ_MROLE_OWNER;
    json_t *a = json_array();
    json_array_append_new(a, kz_mission_json(mi, &v));
    kz__mcommit_answer(t, 201, T_MISSION, a);
    kz__mission_announce(t, mi, "t-x-m-n", "CREATE", uid);
    kz__mcommit_run(t, mi, mi->guid);
    free(token);
}

static void update(struct kz_marti *m, struct kz_http_req *req, const struct kz__mcaller *c)
{
    struct kz_mission *mi = kz__mission_for(m, req, c, KZ_MPERM_WRITE, NULL);
    char err[160];

    if (!mi)
        return;
    if (describe(req, mi, err, sizeof(err)) != KZ_OK) {
        kz_http_error(req, 400, "%s", err);
        return;
    }
    mi->last_edited = kz_now_us();
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    struct kz_mission_view v = kz__mission_view(m, c);
    json_t *a = json_array();
    json_array_append_new(a, kz_mission_json(mi, &v));
    kz__mcommit_answer(t, 200, T_MISSION, a);
    kz__mcommit_run(t, mi, mi->guid);
}

static void create(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    const char *name = kz__mission_path(req, "name");
    struct kz__mcaller c;
    struct kz_mission *mi;
    char err[160];

    kz__mission_caller(m, req, &c);
    if (!m->opts.missions) {
        kz_http_error(req, 503, "no missions");
        return;
    }
    if (!name || strlen(name) >= KZ_MISSION_NAME_MAX) {
        kz_http_error(req, 400, "a mission name is 1 to %d bytes", KZ_MISSION_NAME_MAX - 1);
        return;
    }
    if (kz_mission_book_get(m->opts.missions, name))
        return update(m, req, &c);
    enum kz__pw pw = kz__mission_password(m, req, NULL, create);
    if (pw == KZ__PW_PENDING)
        return;
    if (pw == KZ__PW_BAD) {
        kz_http_error(req, 500, "cannot hash the password");
        return;
    }
    if (!(mi = new_mission(m, req, &c, name)))
        return;
    int rc = mission_groups(req, &c, mi);
    if (rc == KZ_OK)
        rc = describe(req, mi, err, sizeof(err));
    set_password(m, req, mi);
    if (rc != KZ_OK) {
        if (rc == KZ_ERR_DENIED)
            kz_http_error(req, 403, "group: not one of the caller's groups");
        else
            kz_http_error(req, 400, "%s", err);
        kz_mission_book_remove(m->opts.missions, mi);
        return;
    }
    created(m, req, &c, mi);
}

/* ---- DELETE /Marti/api/missions/{name} and /Marti/api/missions?guid= ------------------ */

static void delete_mission(struct kz_marti *m, struct kz_http_req *req, const struct kz__mcaller *c,
                           struct kz_mission *mi)
{
    const char *uid = kz__mission_param(req, "creatorUid");
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    struct kz_mission_view v = kz__mission_view(m, c);
    char *guid = kz_xstrdup(mi->guid);
    json_t *a = json_array();

    json_array_append_new(a, kz_mission_json(mi, &v));
    kz__mcommit_answer(t, 200, T_MISSION, a);
    kz__mission_announce(t, mi, "t-x-m-d", "DELETE", uid);
    kz_mission_book_remove(m->opts.missions, mi);
    kz__mcommit_run(t, NULL, guid);
    free(guid);
}

static void delete_named(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;

    kz__mission_caller(m, req, &c);
    if ((mi = kz__mission_for(m, req, &c, KZ_MPERM_DELETE, NULL)))
        delete_mission(m, req, &c, mi);
}

static void delete_guid(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi =
        m->opts.missions ? kz_mission_book_by_guid(m->opts.missions, kz__mission_param(req, "guid"))
                         : NULL;

    kz__mission_caller(m, req, &c);
    if (!mi || !kz__mission_visible(mi, &c)) {
        kz_http_error(req, 404, "no such mission");
        return;
    }
    if (!(kz_mission_role_perms(role_of(m, req, mi, &c)) & KZ_MPERM_DELETE)) {
        kz_http_error(req, 403, "the mission role does not allow this");
        return;
    }
    delete_mission(m, req, &c, mi);
}

/* GET /Marti/api/missions/guid/{guid}: the mission by guid, as GET by name. */
static void get_guid(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi =
        m->opts.missions ? kz_mission_book_by_guid(m->opts.missions, kz__mission_path(req, "guid"))
                         : NULL;

    kz__mission_caller(m, req, &c);
    if (!mi || !kz__mission_visible(mi, &c)) {
        kz_http_error(req, 404, "no such mission");
        return;
    }
    if (!(kz_mission_role_perms(role_of(m, req, mi, &c)) & KZ_MPERM_READ)) {
        kz_http_error(req, 403, "the mission role does not allow this");
        return;
    }
    struct kz_mission_view v = kz__mission_view(m, &c);
    json_t *a = json_array();
    json_array_append_new(a, kz_mission_json(mi, &v));
    kz__mission_respond(m, req, 200, T_MISSION, a);
}

/* ---- the route rows: literal paths before {name} ones (the first match wins) ---------- */

#define V KZ_ROLE_VIEWER
#define ON KZ_HTTP_ON_API
#define M "/Marti/api/missions"

static const struct kz_http_route rows[] = {
    {"GET", M, list, V, ON},
    {"DELETE", M, delete_guid, V, ON},
    {"GET", M "/all/invitations", kz__mission_invitations, V, ON},
    {"POST", M "/logs/entries", kz__mission_log_post, V, ON},
    {"PUT", M "/logs/entries", kz__mission_log_post, V, ON},
    {"GET", M "/logs/entries/{id}", kz__mission_log_get, V, ON},
    {"DELETE", M "/logs/entries/{id}", kz__mission_log_delete, V, ON},
    {"GET", M "/guid/{guid}", get_guid, V, ON},
    {"GET", M "/{name}", get, V, ON},
    {"PUT", M "/{name}", create, V, ON},
    {"POST", M "/{name}", create, V, ON},
    {"DELETE", M "/{name}", delete_named, V, ON},
    {"PUT", M "/{name}/subscription", kz__mission_subscribe, V, ON},
    {"DELETE", M "/{name}/subscription", kz__mission_unsubscribe, V, ON},
    {"GET", M "/{name}/subscription", kz__mission_subscription, V, ON},
    {"GET", M "/{name}/subscriptions", kz__mission_subscriptions, V, ON},
    {"GET", M "/{name}/subscriptions/roles", kz__mission_subscription_roles, V, ON},
    {"GET", M "/{name}/role", kz__mission_role_get, V, ON},
    {"PUT", M "/{name}/role", kz__mission_role_set, V, ON},
    {"PUT", M "/{name}/invite/{type}/{invitee}", kz__mission_invite, V, ON},
    {"DELETE", M "/{name}/invite/{type}/{invitee}", kz__mission_uninvite, V, ON},
    {"PUT", M "/{name}/contents", kz__mission_contents_add, V, ON},
    {"DELETE", M "/{name}/contents", kz__mission_contents_remove, V, ON},
    {"PUT", M "/{name}/contents/missionpackage", kz__mission_package, V, ON},
    {"GET", M "/{name}/changes", kz__mission_changes, V, ON},
    {"GET", M "/{name}/cot", kz__mission_cot, V, ON},
    {"GET", M "/{name}/log", kz__mission_log, V, ON},
};

void kz__marti_mission_rows(const struct kz_http_route **out, size_t *n)
{
    *out = rows;
    *n = KZ_ARRAY_LEN(rows);
}
