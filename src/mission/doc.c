/*
 * doc.c - a mission as the store keeps it: one JSON document per mission
 * (everything but its change log) and one per change.  Times are integer
 * microseconds; labels are the canonical banner and the originator's
 * nation code, re-parsed under the running policy when loaded.
 */
#include <stdlib.h>
#include <string.h>

#include "mission/mission.h"

int kz_mission_label(const struct kz_label_policy *policy, const char *banner, const char *nation,
                     struct kz_label *out)
{
    if (!banner || kz_label_parse(policy, banner, strlen(banner), out, NULL, 0) != KZ_OK)
        return KZ_ERR_PARSE;
    out->originator = nation ? kz_nation_index(nation, strlen(nation)) : KZ_NATION_NONE;
    return KZ_OK;
}

static const char *origin(const struct kz_label *l)
{
    const char *c = kz_nation_code(l->originator);
    return c ? c : "";
}

static json_t *strv(char *const *v, unsigned n)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *items_doc(const struct kz_mission *m)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < m->n_items; i++) {
        const struct kz_mission_item *it = &m->items[i];
        json_array_append_new(a, json_pack("{s:s, s:b, s:I, s:s, s:o, s:s, s:s}", "data", it->data,
                                           "hash", it->is_hash, "timestamp",
                                           (json_int_t)it->timestamp, "creatorUid", it->creator_uid,
                                           "keywords", strv(it->keywords, it->n_keywords), "banner",
                                           it->banner, "origin", origin(&it->label)));
    }
    return a;
}

static json_t *subs_doc(const struct kz_mission *m)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < m->n_subs; i++) {
        const struct kz_mission_sub *s = &m->subs[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s?, s:s?, s:s, s:I, s:b}", "clientUid", s->client_uid, "username",
                         s->username, "token", s->token, "role", kz_mission_role_name(s->role),
                         "createTime", (json_int_t)s->create_time, "live", s->live));
    }
    return a;
}

static json_t *invites_doc(const struct kz_mission *m)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < m->n_invites; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "type", m->invites[i].type, "invitee",
                                           m->invites[i].invitee, "role",
                                           kz_mission_role_name(m->invites[i].role)));
    return a;
}

static json_t *logs_doc(const struct kz_mission *m)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < m->n_logs; i++) {
        const struct kz_mission_log *l = &m->logs[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:I, s:I, s:o, s:o, s:s, s:s}", "id", l->id,
                         "content", l->content, "creatorUid", l->creator_uid, "entryUid",
                         l->entry_uid, "dtg", (json_int_t)l->dtg, "created", (json_int_t)l->created,
                         "servertime", (json_int_t)l->servertime, "hashes",
                         strv(l->hashes, l->n_hashes), "keywords", strv(l->keywords, l->n_keywords),
                         "banner", l->banner, "origin", origin(&l->label)));
    }
    return a;
}

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    if (!s)
        KZ_BUG("mission document does not serialise");
    return s;
}

char *kz_mission_doc(const struct kz_mission *m)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s?, s:s?, s:s, s:s?, s:I, s:I, s:I, s:o, s:o, s:s?, s:b, s:s, s:s, s:s}",
        "name", m->name, "guid", m->guid, "description", m->description, "chatRoom", m->chat_room,
        "tool", m->tool, "creatorUid", m->creator_uid, "createTime", (json_int_t)m->create_time,
        "lastEdited", (json_int_t)m->last_edited, "expiration", (json_int_t)m->expiration, "groups",
        strv(m->groups, m->n_groups), "keywords", strv(m->keywords, m->n_keywords), "passwordHash",
        m->password_hash, "inviteOnly", m->invite_only, "defaultRole",
        kz_mission_role_name(m->default_role), "banner", m->banner, "origin", origin(&m->label));

    if (o) {
        json_object_set_new(o, "items", items_doc(m));
        json_object_set_new(o, "subs", subs_doc(m));
        json_object_set_new(o, "invites", invites_doc(m));
        json_object_set_new(o, "logs", logs_doc(m));
        if (m->plan)
            json_object_set_new(o, "plan", json_string(m->plan));
    }
    return dump(o);
}

char *kz_mission_change_doc(const struct kz_mission_change *c)
{
    return dump(json_pack("{s:I, s:i, s:I, s:I, s:s, s:s?, s:b, s:s, s:s}", "id", (json_int_t)c->id,
                          "type", (int)c->type, "timestamp", (json_int_t)c->timestamp, "serverTime",
                          (json_int_t)c->server_time, "creatorUid", c->creator_uid, "content",
                          c->content, "hash", c->is_hash, "banner", c->banner, "origin",
                          origin(&c->label)));
}

/* ---- loading ---------------------------------------------------------------- */

static char *dup(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? kz_xstrdup(s) : NULL;
}

static int64_t num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static char **strv_load(json_t *a, unsigned *n)
{
    size_t i;
    json_t *v;
    char **out = kz_xcalloc(json_array_size(a) + 1, sizeof(char *));

    *n = 0;
    json_array_foreach(a, i, v) if (json_is_string(v)) out[(*n)++] =
        kz_xstrdup(json_string_value(v));
    return out;
}

static int label_of(json_t *o, const struct kz_label_policy *p, struct kz_label *out)
{
    return kz_mission_label(p, json_string_value(json_object_get(o, "banner")),
                            json_string_value(json_object_get(o, "origin")), out);
}

static void load_items(struct kz_mission *m, json_t *a, const struct kz_label_policy *p)
{
    size_t i;
    json_t *v;

    m->items = kz_xcalloc(json_array_size(a) + 1, sizeof(*m->items));
    json_array_foreach(a, i, v)
    {
        struct kz_mission_item *it = &m->items[m->n_items];
        if (!json_is_string(json_object_get(v, "data")) || label_of(v, p, &it->label) != KZ_OK)
            continue;
        it->data = dup(v, "data");
        it->is_hash = json_is_true(json_object_get(v, "hash"));
        it->timestamp = num(v, "timestamp");
        it->creator_uid = dup(v, "creatorUid");
        it->banner = dup(v, "banner");
        it->keywords = strv_load(json_object_get(v, "keywords"), &it->n_keywords);
        if (!it->creator_uid)
            it->creator_uid = kz_xstrdup("ANONYMOUS");
        m->n_items++;
    }
}

static void load_subs(struct kz_mission *m, json_t *a)
{
    size_t i;
    json_t *v;

    m->subs = kz_xcalloc(json_array_size(a) + 1, sizeof(*m->subs));
    json_array_foreach(a, i, v)
    {
        struct kz_mission_sub *s = &m->subs[m->n_subs];
        if (!json_is_string(json_object_get(v, "clientUid")) ||
            kz_mission_role_parse(json_string_value(json_object_get(v, "role")), &s->role))
            continue;
        s->client_uid = dup(v, "clientUid");
        s->username = dup(v, "username");
        s->token = dup(v, "token");
        s->create_time = num(v, "createTime");
        s->live = json_is_true(json_object_get(v, "live"));
        m->n_subs++;
    }
}

static void load_invites(struct kz_mission *m, json_t *a)
{
    size_t i;
    json_t *v;

    m->invites = kz_xcalloc(json_array_size(a) + 1, sizeof(*m->invites));
    json_array_foreach(a, i, v)
    {
        struct kz_mission_invite *in = &m->invites[m->n_invites];
        if (!json_is_string(json_object_get(v, "type")) ||
            !json_is_string(json_object_get(v, "invitee")) ||
            kz_mission_role_parse(json_string_value(json_object_get(v, "role")), &in->role))
            continue;
        in->type = dup(v, "type");
        in->invitee = dup(v, "invitee");
        m->n_invites++;
    }
}

static void load_logs(struct kz_mission *m, json_t *a, const struct kz_label_policy *p)
{
    size_t i;
    json_t *v;

    m->logs = kz_xcalloc(json_array_size(a) + 1, sizeof(*m->logs));
    json_array_foreach(a, i, v)
    {
        struct kz_mission_log *l = &m->logs[m->n_logs];
        if (!json_is_string(json_object_get(v, "id")) ||
            !json_is_string(json_object_get(v, "content")) || label_of(v, p, &l->label) != KZ_OK)
            continue;
        l->id = dup(v, "id");
        l->content = dup(v, "content");
        l->creator_uid = dup(v, "creatorUid");
        l->entry_uid = dup(v, "entryUid");
        l->banner = dup(v, "banner");
        l->dtg = num(v, "dtg");
        l->created = num(v, "created");
        l->servertime = num(v, "servertime");
        l->hashes = strv_load(json_object_get(v, "hashes"), &l->n_hashes);
        l->keywords = strv_load(json_object_get(v, "keywords"), &l->n_keywords);
        m->n_logs++;
    }
}

static void load_fields(struct kz_mission *m, json_t *o)
{
    m->name = dup(o, "name");
    m->guid = dup(o, "guid");
    m->description = dup(o, "description");
    m->chat_room = dup(o, "chatRoom");
    m->tool = dup(o, "tool");
    m->creator_uid = dup(o, "creatorUid");
    m->password_hash = dup(o, "passwordHash");
    m->banner = dup(o, "banner");
    m->plan = dup(o, "plan");
    m->create_time = num(o, "createTime");
    m->last_edited = num(o, "lastEdited");
    m->expiration = num(o, "expiration");
    m->invite_only = json_is_true(json_object_get(o, "inviteOnly"));
    m->groups = strv_load(json_object_get(o, "groups"), &m->n_groups);
    m->keywords = strv_load(json_object_get(o, "keywords"), &m->n_keywords);
    if (kz_mission_role_parse(json_string_value(json_object_get(o, "defaultRole")),
                              &m->default_role))
        m->default_role = KZ_MROLE_SUBSCRIBER;
    if (!m->tool)
        m->tool = kz_xstrdup("public");
}

int kz_mission_from_doc(const char *doc, const struct kz_label_policy *policy,
                        struct kz_mission **out)
{
    json_t *o = json_loads(doc, 0, NULL);
    struct kz_mission *m = NULL;
    int rc = KZ_ERR_PARSE;

    *out = NULL;
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "name")) ||
        !json_is_string(json_object_get(o, "guid")))
        goto out;
    m = kz_xcalloc(1, sizeof(*m));
    if (label_of(o, policy, &m->label) != KZ_OK) {
        free(m);
        goto out;
    }
    load_fields(m, o);
    load_items(m, json_object_get(o, "items"), policy);
    load_subs(m, json_object_get(o, "subs"));
    load_invites(m, json_object_get(o, "invites"));
    load_logs(m, json_object_get(o, "logs"), policy);
    *out = m;
    rc = KZ_OK;
out:
    json_decref(o);
    return rc;
}

int kz_mission_change_from_doc(const char *doc, const struct kz_label_policy *policy,
                               struct kz_mission_change *out)
{
    json_t *o = json_loads(doc, 0, NULL);
    int rc = KZ_ERR_PARSE;
    json_int_t type = json_integer_value(json_object_get(o, "type"));

    memset(out, 0, sizeof(*out));
    if (!json_is_object(o) || type < 0 || type > KZ_MCHANGE_REMOVE_CONTENT ||
        label_of(o, policy, &out->label) != KZ_OK)
        goto out;
    out->id = (uint64_t)num(o, "id");
    out->type = (enum kz_mission_change_type)type;
    out->timestamp = num(o, "timestamp");
    out->server_time = num(o, "serverTime");
    out->creator_uid = dup(o, "creatorUid");
    out->content = dup(o, "content");
    out->is_hash = json_is_true(json_object_get(o, "hash"));
    out->banner = dup(o, "banner");
    if (!out->creator_uid)
        out->creator_uid = kz_xstrdup("ANONYMOUS");
    rc = KZ_OK;
out:
    json_decref(o);
    return rc;
}
