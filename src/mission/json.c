/*
 * json.c - the JSON views of missions as TAK Server writes them (its
 * sync/model classes: absent means null), each filtered by the release
 * rule for its reader: an item, change or log entry the reader may not see
 * is absent.
 */
#include <stdlib.h>
#include <string.h>

#include "mission/mission.h"

json_t *kz_mission_time_json(int64_t us)
{
    char buf[KZ_TIME_STRLEN];

    kz_time_format(us - us % 1000, buf);
    return json_string(buf);
}

static json_t *strv_json(char *const *v, unsigned n)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

/* A file's Resource; without metadata (no file store, or no such file) the hash alone. */
static json_t *resource_json(const char *hash, const struct kz_mission_files *files)
{
    struct kz_mission_file f;
    json_t *r = json_pack("{s:s, s:s}", "hash", hash, "uid", hash);

    memset(&f, 0, sizeof(f));
    if (!files || !files->file_meta || files->file_meta(files->ud, hash, &f) != KZ_OK)
        return r;
    set_str(r, "filename", f.filename);
    set_str(r, "name", f.name[0] ? f.name : f.filename);
    set_str(r, "mimeType", f.mime_type);
    set_str(r, "submitter", f.submitter);
    set_str(r, "creatorUid", f.creator_uid);
    set_str(r, "tool", f.tool[0] ? f.tool : "public");
    json_object_set_new(r, "keywords", json_array());
    json_object_set_new(r, "size", json_integer(f.size));
    json_object_set_new(r, "submissionTime", kz_mission_time_json(f.submission_time));
    json_object_set_new(r, "expiration", json_integer(-1));
    return r;
}

/* UidDetails: {type, callsign, location{lat, lon}}, from the uid's track; NULL when unknown. */
static json_t *details_json(const char *uid, const struct kz_label *label,
                            const struct kz_mission_uids *uids)
{
    struct kz_mission_uid_details d;

    memset(&d, 0, sizeof(d));
    if (!uids || !uids->details || !uids->details(uids->ud, uid, label, &d))
        return NULL;
    json_t *o =
        json_pack("{s:s, s:{s:f, s:f}}", "type", d.type, "location", "lat", d.lat, "lon", d.lon);
    if (d.callsign[0])
        json_object_set_new(o, "callsign", json_string(d.callsign));
    return o;
}

static json_t *item_json(const struct kz_mission_item *it, const struct kz_mission_view *v)
{
    const struct kz_mission_files *files = v->files;
    json_t *o = json_pack("{s:o, s:s}", "timestamp", kz_mission_time_json(it->timestamp),
                          "creatorUid", it->creator_uid);

    if (it->is_hash) {
        json_object_set_new(o, "data", resource_json(it->data, files));
    } else {
        json_object_set_new(o, "data", json_string(it->data));
        json_object_set_new(o, "keywords", strv_json(it->keywords, it->n_keywords));
        json_t *d = details_json(it->data, &it->label, v->uids);
        if (d)
            json_object_set_new(o, "details", d);
    }
    return o;
}

static void add_items(json_t *o, const struct kz_mission *m, const struct kz_mission_view *v)
{
    json_t *uids = json_array(), *contents = json_array();

    for (unsigned i = 0; !v->hide_contents && i < m->n_items; i++) {
        const struct kz_mission_item *it = &m->items[i];
        if (kz_mission_item_visible(&it->label, v->who))
            json_array_append_new(it->is_hash ? contents : uids, item_json(it, v));
    }
    json_object_set_new(o, "uids", uids);
    json_object_set_new(o, "contents", contents);
}

static void add_changes(json_t *o, const struct kz_mission *m, const struct kz_mission_view *v)
{
    const struct kz_mission_change **c;
    unsigned n = kz_mission_changes(m, v->start, v->end, true, v->who, &c);
    json_t *a = json_array();

    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, kz_mission_change_json(m, c[i], v));
    free(c);
    json_object_set_new(o, "missionChanges", a);
}

static void add_logs(json_t *o, const struct kz_mission *m, const struct kz_mission_view *v)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < m->n_logs; i++)
        if (kz_mission_item_visible(&m->logs[i].label, v->who))
            json_array_append_new(a, kz_mission_log_json(m, &m->logs[i]));
    json_object_set_new(o, "logs", a);
}

json_t *kz_mission_json(const struct kz_mission *m, const struct kz_mission_view *v)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:s, s:o, s:o, s:o, s:b, s:b, s:s, s:o}", "name",
        m->name, "description", m->description ? m->description : "", "chatRoom",
        m->chat_room ? m->chat_room : "", "classification", m->banner, "tool", m->tool,
        "expiration", (json_int_t)m->expiration, "keywords", strv_json(m->keywords, m->n_keywords),
        "creatorUid", m->creator_uid ? m->creator_uid : "", "createTime",
        kz_mission_time_json(m->create_time), "lastEdited", kz_mission_time_json(m->last_edited),
        "groups", strv_json(m->groups, m->n_groups), "passwordProtected", m->password_hash != NULL,
        "inviteOnly", m->invite_only, "guid", m->guid, "defaultRole",
        kz_mission_role_json(m->default_role));

    json_object_set_new(o, "baseLayer", json_string(""));
    json_object_set_new(o, "path", json_string(""));
    json_object_set_new(o, "externalData", json_array());
    json_object_set_new(o, "feeds", json_array());
    json_object_set_new(o, "mapLayers", json_array());
    add_items(o, m, v);
    if (v->token)
        json_object_set_new(o, "token", json_string(v->token));
    if (v->owner_role != KZ_MROLE_NONE)
        json_object_set_new(o, "ownerRole", kz_mission_role_json(v->owner_role));
    if (v->changes)
        add_changes(o, m, v);
    if (v->logs)
        add_logs(o, m, v);
    return o;
}

json_t *kz_mission_change_json(const struct kz_mission *m, const struct kz_mission_change *c,
                               const struct kz_mission_view *v)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:b}", "type",
                          kz_mission_change_name(c->type), "missionName", m->name, "missionGuid",
                          m->guid, "timestamp", kz_mission_time_json(c->timestamp), "serverTime",
                          kz_mission_time_json(c->server_time), "creatorUid", c->creator_uid,
                          "isFederatedChange", 0);

    if (c->content && c->is_hash) {
        json_object_set_new(o, "contentResource", resource_json(c->content, v->files));
    } else if (c->content) {
        json_object_set_new(o, "contentUid", json_string(c->content));
        json_t *d = details_json(c->content, &c->label, v->uids);
        if (d)
            json_object_set_new(o, "details", d);
    }
    return o;
}

json_t *kz_mission_sub_json(const struct kz_mission_sub *s)
{
    return json_pack("{s:s?, s:s, s:s?, s:o, s:o}", "token", s->token, "clientUid", s->client_uid,
                     "username", s->username, "createTime", kz_mission_time_json(s->create_time),
                     "role", kz_mission_role_json(s->role));
}

json_t *kz_mission_log_json(const struct kz_mission *m, const struct kz_mission_log *l)
{
    json_t *names = json_array();

    json_array_append_new(names, json_string(m->name));
    return json_pack(
        "{s:s, s:s, s:s?, s:s?, s:o, s:o, s:o, s:o, s:o, s:o}", "id", l->id, "content", l->content,
        "creatorUid", l->creator_uid, "entryUid", l->entry_uid, "missionNames", names, "dtg",
        kz_mission_time_json(l->dtg), "created", kz_mission_time_json(l->created), "servertime",
        kz_mission_time_json(l->servertime), "contentHashes", strv_json(l->hashes, l->n_hashes),
        "keywords", strv_json(l->keywords, l->n_keywords));
}
