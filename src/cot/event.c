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
        free(d[i].mission);
    }
    free(d);
}

void kz_event_clear(struct kz_event *ev)
{
    char **strs[] = {
        &ev->version,        &ev->uid,         &ev->type,          &ev->how,
        &ev->access,         &ev->qos,         &ev->opex,          &ev->detail,
        &ev->callsign,       &ev->endpoint,    &ev->group_name,    &ev->group_role,
        &ev->link_uid,       &ev->chat_room,   &ev->chat_sender,   &ev->remarks,
        &ev->origin_input,   &ev->origin_user, &ev->origin_nation, &ev->origin_groups,
        &ev->fed_provenance,
    };

    for (size_t i = 0; i < KZ_ARRAY_LEN(strs); i++)
        free(*strs[i]);
    free_dests(ev->dests, ev->n_dests);
    kz_event_init(ev);
}

bool kz_cot_type_is(const struct kz_event *ev, const char *type)
{
    return ev->type && strcmp(ev->type, type) == 0;
}

void kz_cot_limits_default(struct kz_cot_limits *lim)
{
    lim->max_event_bytes = 65536;
    lim->max_depth = 32;
    lim->max_dests = 64;
}
