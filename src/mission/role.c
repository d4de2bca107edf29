/*
 * role.c - mission roles, their permissions and the role of one request
 * (TAK Server's MissionServiceDefaultImpl.getRoleForRequest), and the
 * release rule as missions apply it.
 */
#include <string.h>

#include "mission/mission.h"

static const char *const role_names[] = {
    [KZ_MROLE_NONE] = NULL,
    [KZ_MROLE_READONLY_SUBSCRIBER] = "MISSION_READONLY_SUBSCRIBER",
    [KZ_MROLE_SUBSCRIBER] = "MISSION_SUBSCRIBER",
    [KZ_MROLE_OWNER] = "MISSION_OWNER",
};

static const char *const perm_names[KZ_MPERM_COUNT] = {
    "MISSION_READ",         "MISSION_WRITE",         "MISSION_DELETE",
    "MISSION_SET_ROLE",     "MISSION_SET_PASSWORD",  "MISSION_UPDATE_GROUPS",
    "MISSION_MANAGE_FEEDS", "MISSION_MANAGE_LAYERS",
};

const char *kz_mission_role_name(enum kz_mission_role r)
{
    return (unsigned)r < KZ_ARRAY_LEN(role_names) ? role_names[r] : NULL;
}

int kz_mission_role_parse(const char *name, enum kz_mission_role *out)
{
    for (unsigned i = 1; name && i < KZ_ARRAY_LEN(role_names); i++)
        if (strcmp(name, role_names[i]) == 0) {
            *out = (enum kz_mission_role)i;
            return KZ_OK;
        }
    return KZ_ERR_PARSE;
}

unsigned kz_mission_role_perms(enum kz_mission_role r)
{
    switch (r) {
    case KZ_MROLE_OWNER:
        return (1u << KZ_MPERM_COUNT) - 1;
    case KZ_MROLE_SUBSCRIBER:
        return KZ_MPERM_READ | KZ_MPERM_WRITE;
    case KZ_MROLE_READONLY_SUBSCRIBER:
        return KZ_MPERM_READ;
    default:
        return 0;
    }
}

const char *kz_mission_perm_name(unsigned i)
{
    return i < KZ_MPERM_COUNT ? perm_names[i] : NULL;
}

json_t *kz_mission_role_json(enum kz_mission_role r)
{
    unsigned perms = kz_mission_role_perms(r);
    json_t *arr;

    if (!kz_mission_role_name(r))
        return json_null();
    arr = json_array();
    for (unsigned i = 0; i < KZ_MPERM_COUNT; i++)
        if (perms & (1u << i))
            json_array_append_new(arr, json_string(perm_names[i]));
    return json_pack("{s:s, s:o}", "type", kz_mission_role_name(r), "permissions", arr);
}

bool kz_mission_visible(const struct kz_mission *m, const struct kz_release_subject *who)
{
    return kz_may_release(&m->label, who, NULL);
}

bool kz_mission_item_visible(const struct kz_label *label, const struct kz_release_subject *who)
{
    return kz_may_release(label, who, NULL);
}

/* A plan's mission is written by the plan flow only: read-only for everyone else. */
static enum kz_mission_role capped(const struct kz_mission *m, enum kz_mission_role r)
{
    return m->plan && r > KZ_MROLE_READONLY_SUBSCRIBER ? KZ_MROLE_READONLY_SUBSCRIBER : r;
}

static enum kz_mission_role role_for(const struct kz_mission *m,
                                     const struct kz_mission_token_claims *t, bool admin)
{
    if (t && strcmp(t->guid, m->guid) == 0 && t->role != KZ_MROLE_NONE)
        return t->role;
    if (admin)
        return KZ_MROLE_OWNER;
    if (m->password_hash || m->invite_only)
        return KZ_MROLE_NONE;
    return m->default_role;
}

enum kz_mission_role kz_mission_role_for(const struct kz_mission *m,
                                         const struct kz_mission_token_claims *t, bool admin)
{
    return capped(m, role_for(m, t, admin));
}

enum kz_mission_role kz_mission_stream_role(const struct kz_mission *m, const char *client_uid)
{
    for (unsigned i = 0; client_uid && i < m->n_subs; i++)
        if (strcmp(m->subs[i].client_uid, client_uid) == 0)
            return capped(m, m->subs[i].role);
    return KZ_MROLE_NONE;
}
