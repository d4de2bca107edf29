/* event.c - lifetime of struct kz_event, type helpers, decoder limits. */
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"

void kz_event_init(struct kz_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->lat = ev->lon = ev->hae = ev->ce = ev->le = KZ_POINT_UNKNOWN;
}

static void free_dests(struct kz_dest *d, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        free(d[i].callsign);
        free(d[i].uid);
    }
    free(d);
}

void kz_event_clear(struct kz_event *ev)
{
    char **strs[] = {
        &ev->version,    &ev->uid,          &ev->type,        &ev->how,       &ev->access,
        &ev->qos,        &ev->opex,         &ev->detail,      &ev->callsign,  &ev->endpoint,
        &ev->group_name, &ev->group_role,   &ev->link_uid,    &ev->chat_room, &ev->chat_sender,
        &ev->remarks,    &ev->origin_input, &ev->origin_user,
    };

    for (size_t i = 0; i < KZ_ARRAY_LEN(strs); i++)
        free(*strs[i]);
    free_dests(ev->dests, ev->n_dests);
    kz_event_init(ev);
}

/*
 * `dst` is treated as uninitialised: whatever it held is overwritten, not
 * freed, so pass a fresh or cleared event.
 */
void kz_event_copy(struct kz_event *dst, const struct kz_event *src)
{
    *dst = *src;
    dst->version = kz_xstrdup(src->version);
    dst->uid = kz_xstrdup(src->uid);
    dst->type = kz_xstrdup(src->type);
    dst->how = kz_xstrdup(src->how);
    dst->access = kz_xstrdup(src->access);
    dst->qos = kz_xstrdup(src->qos);
    dst->opex = kz_xstrdup(src->opex);
    dst->callsign = kz_xstrdup(src->callsign);
    dst->endpoint = kz_xstrdup(src->endpoint);
    dst->group_name = kz_xstrdup(src->group_name);
    dst->group_role = kz_xstrdup(src->group_role);
    dst->link_uid = kz_xstrdup(src->link_uid);
    dst->chat_room = kz_xstrdup(src->chat_room);
    dst->chat_sender = kz_xstrdup(src->chat_sender);
    dst->remarks = kz_xstrdup(src->remarks);
    dst->origin_input = kz_xstrdup(src->origin_input);
    dst->origin_user = kz_xstrdup(src->origin_user);
    if (src->detail) {
        /* Sized by detail_len: the detail is bytes, not a C string. */
        dst->detail = kz_xmalloc(src->detail_len + 1);
        memcpy(dst->detail, src->detail, src->detail_len);
        dst->detail[src->detail_len] = '\0';
    }
    dst->dests = NULL;
    if (src->n_dests) {
        dst->dests = kz_xcalloc(src->n_dests, sizeof(*dst->dests));
        for (unsigned i = 0; i < src->n_dests; i++) {
            dst->dests[i].callsign = kz_xstrdup(src->dests[i].callsign);
            dst->dests[i].uid = kz_xstrdup(src->dests[i].uid);
        }
    }
}

bool kz_cot_type_is(const struct kz_event *ev, const char *type)
{
    return ev->type && strcmp(ev->type, type) == 0;
}

bool kz_cot_type_has_prefix(const struct kz_event *ev, const char *prefix)
{
    return ev->type && strncmp(ev->type, prefix, strlen(prefix)) == 0;
}

void kz_cot_limits_default(struct kz_cot_limits *lim)
{
    lim->max_event_bytes = 65536;
    lim->max_depth = 32;
    lim->max_dests = 64;
}
