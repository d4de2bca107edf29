/*
 * mission_subs.c - who belongs to a mission: subscriptions (PUT answers 201
 * and, with API_VERSION >= 3, the mission and its changes; DELETE only
 * drops the live binding unless disconnectOnly=false), roles (t-x-m-r to
 * the client whose role changed) and invitations (t-x-m-i with a token).
 */
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "marti/internal.h"

#define T_SUB "com.bbn.marti.sync.model.MissionSubscription"
#define T_SUBS "MissionSubscription"
#define T_ROLE "MissionRole"
#define T_INVITATION "MissionInvitation"

static const char *param2(struct kz_http_req *req, const char *a, const char *b)
{
    const char *v = kz__mission_param(req, a);

    return v && *v ? v : b ? kz__mission_param(req, b) : NULL;
}

static char *sign(struct kz_marti *m, const struct kz_mission *mi, const char *uid,
                  enum kz_mission_role role, enum kz_mission_token_type type)
{
    struct kz_mission_token_claims tc = {.role = role, .type = type, .iat = kz_now_us() / 1000000};

    if (!m->opts.signer)
        return NULL;
    snprintf(tc.sub, sizeof(tc.sub), "%s", uid);
    snprintf(tc.mission, sizeof(tc.mission), "%s", mi->name);
    snprintf(tc.guid, sizeof(tc.guid), "%s", mi->guid);
    return kz_mission_token_sign(m->opts.signer, &tc);
}

static const struct kz_mission_invite *invite_of(const struct kz_mission *mi, const char *uid)
{
    for (unsigned i = 0; uid && i < mi->n_invites; i++)
        if (strcmp(mi->invites[i].type, "clientUid") == 0 &&
            strcmp(mi->invites[i].invitee, uid) == 0)
            return &mi->invites[i];
    return NULL;
}

/* Whose a subscription is: the user that made it, or a caller with a token for it. */
static bool holds(const struct kz_mission_sub *s, const struct kz__mcaller *c)
{
    if (c->has_token && c->token.type != KZ_MTOKEN_ACCESS &&
        strcmp(c->token.sub, s->client_uid) == 0)
        return true;
    return s->username && c->id && c->id->user && strcmp(s->username, c->id->user) == 0;
}

/*
 * The role a subscription of `uid` gets: its own when it exists and the
 * caller holds it; else the request's, an invitation's, or the default
 * role after the mission's password.  NONE: refused.
 */
static enum kz_mission_role joining_role(struct kz_marti *m, struct kz_http_req *req,
                                         struct kz_mission *mi, const struct kz__mcaller *c,
                                         const char *uid)
{
    struct kz_mission_sub *s = kz_mission_sub_get(mi, uid);
    const struct kz_mission_invite *inv = invite_of(mi, uid);
    enum kz_mission_role r = kz_mission_role_for(mi, c->has_token ? &c->token : NULL, c->admin);
    if (s && holds(s, c))
        return s->role;
    if (r == KZ_MROLE_NONE && inv)
        r = inv->role;
    if (r == KZ_MROLE_NONE && mi->password_hash && m->pw_req == req && m->pw_ok)
        r = mi->default_role;
    /* Another user may not take over a subscription, nor change its role. */
    if (s && r != s->role)
        return KZ_MROLE_NONE;
    return r;
}

static json_t *sub_answer(struct kz_marti *m, struct kz_http_req *req, const struct kz__mcaller *c,
                          const struct kz_mission *mi, const struct kz_mission_sub *s)
{
    json_t *o = kz_mission_sub_json(s);
    const char *api = kz_http_header(req, "API_VERSION");

    if (api && strtol(api, NULL, 10) >= 3) {
        struct kz_mission_view v = kz__mission_view(m, c);
        v.changes = v.logs = true;
        v.start = kz__mission_window_start(req);
        v.end = kz__mission_time_param(req, "end");
        json_object_set_new(o, "mission", kz_mission_json(mi, &v));
    }
    return o;
}

void kz__mission_subscribe(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    struct kz_mission_sub *s;
    const char *uid = param2(req, "uid", "topic");

    kz__mission_caller(m, req, &c);
    if (kz__mission_password_first(m, req, &c, kz__mission_subscribe))
        return;
    if (!(mi = kz__mission_for(m, req, &c, 0, NULL)))
        return;
    if (!uid || !*uid || strlen(uid) > KZ_COT_UID_MAX) {
        kz_http_error(req, 400, "uid: required");
        return;
    }
    enum kz_mission_role role = joining_role(m, req, mi, &c, uid);
    if (!(kz_mission_role_perms(role) & KZ_MPERM_READ)) {
        kz_http_error(req, 403, "the mission role does not allow this");
        return;
    }
    char *token = sign(m, mi, uid, role, KZ_MTOKEN_SUBSCRIPTION);
    if (kz_mission_subscribe(mi, uid, c.id ? c.id->user : NULL, role, token, kz_now_us(), &s)) {
        free(token);
        kz_http_error(req, 409, "too many subscriptions");
        return;
    }
    free(token);
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    kz__mcommit_answer(t, 201, T_SUB, sub_answer(m, req, &c, mi, s));
    kz__mcommit_run(t, mi, mi->guid);
}

void kz__mission_unsubscribe(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    const char *uid = param2(req, "uid", "topic"), *only = kz__mission_param(req, "disconnectOnly");
    struct kz_mission_sub *s;
    enum kz_mission_role role;

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, 0, &role)))
        return;
    if (!(s = kz_mission_sub_get(mi, uid))) {
        kz_http_error(req, 404, "no subscription of '%s'", uid ? uid : "");
        return;
    }
    /* Only its holder, or a caller who may set roles, ends a subscription. */
    if (!holds(s, &c) && !(kz_mission_role_perms(role) & KZ_MPERM_SET_ROLE)) {
        kz_http_error(req, 403, "the subscription of '%s' is another user's", uid);
        return;
    }
    /* disconnectOnly defaults to true: the subscription stays, the binding goes. */
    if (only && strcmp(only, "false") == 0)
        kz_mission_unsubscribe(mi, uid);
    else
        s->live = false;
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    kz__mcommit_run(t, mi, mi->guid);
}

void kz__mission_subscription(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    const struct kz_mission_sub *s;
    const char *uid = param2(req, "uid", "clientUid");

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_READ, NULL)))
        return;
    if (!(s = kz_mission_sub_get(mi, uid))) {
        kz_http_error(req, 404, "no subscription of '%s'", uid ? uid : "");
        return;
    }
    json_t *o = kz_mission_sub_json(s);
    if (!holds(s, &c))
        json_object_del(o, "token"); /* a token is its holder's alone */
    kz__mission_respond(m, req, 200, T_SUB, o);
}

void kz__mission_subscriptions(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_READ, NULL)))
        return;
    json_t *a = json_array();
    for (unsigned i = 0; i < mi->n_subs; i++)
        json_array_append_new(a, json_string(mi->subs[i].client_uid));
    kz__mission_respond(m, req, 200, T_SUBS, a);
}

void kz__mission_subscription_roles(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_READ, NULL)))
        return;
    json_t *a = json_array();
    for (unsigned i = 0; i < mi->n_subs; i++) {
        json_t *o = kz_mission_sub_json(&mi->subs[i]);
        json_object_del(o, "token"); /* another client's token is its own */
        json_array_append_new(a, o);
    }
    kz__mission_respond(m, req, 200, T_SUBS, a);
}

void kz__mission_role_get(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    enum kz_mission_role role;

    kz__mission_caller(m, req, &c);
    if (kz__mission_for(m, req, &c, 0, &role))
        kz__mission_respond(m, req, 200, T_ROLE, kz_mission_role_json(role));
}

/* t-x-m-r to the client, with its new role. */
static void tell_role(struct kz__mcommit *t, const struct kz_mission *mi, const char *uid,
                      enum kz_mission_role role, const char *author)
{
    struct kz_sbuf x = KZ_SBUF_INIT;
    struct kz_event ev;

    kz_mission_role_xml(&x, role);
    struct kz_mission_notice n = {"t-x-m-r", "ROLE", author, NULL, x.buf, mi->banner};
    kz_mission_notice(&ev, mi, &n, kz_now_us());
    kz__mcommit_notify(t, uid, &ev, &mi->label);
    kz_sbuf_release(&x);
}

void kz__mission_role_set(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    struct kz_mission_sub *s;
    const char *uid = kz__mission_param(req, "clientUid"), *name = kz__mission_param(req, "role");
    enum kz_mission_role role = KZ_MROLE_NONE;

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_SET_ROLE, NULL)))
        return;
    if (!(s = kz_mission_sub_get(mi, uid))) {
        kz_http_error(req, 404, "no subscription of '%s'", uid ? uid : "");
        return;
    }
    if (name && *name && kz_mission_role_parse(name, &role) != KZ_OK) {
        kz_http_error(req, 400, "role: unknown");
        return;
    }
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    if (role == KZ_MROLE_NONE) {
        kz_mission_unsubscribe(mi, uid); /* no role: the client is removed, and not told */
    } else {
        s->role = role;
        char *token = sign(m, mi, uid, role, KZ_MTOKEN_SUBSCRIPTION);
        free(s->token);
        s->token = token;
        tell_role(t, mi, uid, role, c.id ? c.id->user : NULL);
    }
    kz__mcommit_run(t, mi, mi->guid);
}

/* ---- invitations ----------------------------------------------------------------------- */

static bool invite_type_ok(const char *type)
{
    static const char *const types[] = {"clientUid", "callsign", "userName", "group", "team"};

    for (size_t i = 0; type && i < KZ_ARRAY_LEN(types); i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return false;
}

static void tell_invite(struct kz_marti *m, struct kz__mcommit *t, const struct kz_mission *mi,
                        const char *uid, enum kz_mission_role role, const char *author)
{
    struct kz_sbuf x = KZ_SBUF_INIT;
    struct kz_event ev;
    char *token = sign(m, mi, uid, role, KZ_MTOKEN_INVITATION);

    kz_mission_role_xml(&x, role);
    struct kz_mission_notice n = {"t-x-m-i", "INVITE", author, token, x.buf, mi->banner};
    kz_mission_notice(&ev, mi, &n, kz_now_us());
    kz__mcommit_notify(t, uid, &ev, &mi->label);
    kz_sbuf_release(&x);
    free(token);
}

static struct kz_mission_invite *find_invite(struct kz_mission *mi, const char *type,
                                             const char *invitee)
{
    for (unsigned i = 0; i < mi->n_invites; i++)
        if (strcmp(mi->invites[i].type, type) == 0 && strcmp(mi->invites[i].invitee, invitee) == 0)
            return &mi->invites[i];
    return NULL;
}

void kz__mission_invite(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    const char *type = kz__mission_path(req, "type"), *who = kz__mission_path(req, "invitee");
    const char *name = kz__mission_param(req, "role");
    enum kz_mission_role role;

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_WRITE, NULL)))
        return;
    role = mi->default_role;
    if (!invite_type_ok(type) || (name && kz_mission_role_parse(name, &role) != KZ_OK) ||
        strlen(who) > KZ_COT_UID_MAX || role == KZ_MROLE_NONE) {
        kz_http_error(req, 400, "invite: a type of clientUid|callsign|userName|group|team, a role");
        return;
    }
    struct kz_mission_invite *inv = find_invite(mi, type, who);
    if (!inv && mi->n_invites >= KZ_MISSION_MAX_SUBS) {
        kz_http_error(req, 409, "too many invitations");
        return;
    }
    if (!inv) {
        mi->invites = kz_xrealloc(mi->invites, (mi->n_invites + 1) * sizeof(*mi->invites));
        inv = &mi->invites[mi->n_invites++];
        inv->type = kz_xstrdup(type);
        inv->invitee = kz_xstrdup(who);
    }
    inv->role = role;
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    if (strcmp(type, "clientUid") == 0)
        tell_invite(m, t, mi, who, role, kz__mission_param(req, "creatorUid"));
    kz__mcommit_run(t, mi, mi->guid);
}

void kz__mission_uninvite(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    struct kz_mission_invite *inv;
    const char *type = kz__mission_path(req, "type"), *who = kz__mission_path(req, "invitee");

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_WRITE, NULL)))
        return;
    if (!(inv = find_invite(mi, type, who))) {
        kz_http_error(req, 404, "no such invitation");
        return;
    }
    free(inv->type);
    free(inv->invitee);
    unsigned i = (unsigned)(inv - mi->invites);
    memmove(inv, inv + 1, (mi->n_invites - i - 1) * sizeof(*inv));
    mi->n_invites--;
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    kz__mcommit_run(t, mi, mi->guid);
}

void kz__mission_invitations(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    const char *uid = kz__mission_param(req, "clientUid");
    json_t *a = json_array();

    kz__mission_caller(m, req, &c);
    for (unsigned i = 0; m->opts.missions && i < kz_mission_book_count(m->opts.missions); i++) {
        const struct kz_mission *mi = kz_mission_book_at(m->opts.missions, i);
        if (kz__mission_visible(mi, &c) && invite_of(mi, uid))
            json_array_append_new(a, json_string(mi->name));
    }
    kz__mission_respond(m, req, 200, T_INVITATION, a);
}
