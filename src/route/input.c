/*
 * input.c - an input's runtime form (groups, release subject, labels), and
 * the router's lookup of inputs by name.
 */
#include <stdio.h>
#include <string.h>

#include "route/internal.h"

static const char *const exit_names[KZ_EXIT__COUNT] = {
    [KZ_EXIT_FANOUT] = "fanout",
    [KZ_EXIT_DIRECTED] = "directed",
    [KZ_EXIT_REPLAY] = "replay",
    [KZ_EXIT_SSE] = "sse",
    [KZ_EXIT_REST_TRACKS] = "rest_tracks",
    [KZ_EXIT_REST_EVENTS] = "rest_events",
    [KZ_EXIT_MARTI_CLIENTS] = "marti_clients",
    [KZ_EXIT_FEDERATION] = "federation",
    [KZ_EXIT_MISSION_NOTIFY] = "mission_notify",
    [KZ_EXIT_MISSION_COT] = "mission_cot",
};

const char *kz_exit_name(enum kz_exit e)
{
    return (unsigned)e < KZ_EXIT__COUNT ? exit_names[e] : "unknown";
}

static int parse_label(const struct kz_label_policy *p, const char *name, const char *what,
                       const char *text, uint16_t originator, struct kz_label *out, char *err,
                       size_t errlen)
{
    struct kz_sbuf canon = KZ_SBUF_INIT;
    char why[256];
    int rc = KZ_OK;

    if (kz_label_parse(p, text, strlen(text), out, why, sizeof(why)) != KZ_OK) {
        snprintf(err, errlen, "input '%s': %s \"%s\": %s", name, what, text, why);
        return KZ_ERR_CONFIG;
    }
    out->originator = originator;
    /* The router writes this label into events, which keep room for no longer one. */
    if (kz_label_format(p, out, &canon) != KZ_OK || canon.len > KZ_COT_ACCESS_MAX) {
        snprintf(err, errlen, "input '%s': %s is longer than %d bytes in its canonical form", name,
                 what, KZ_COT_ACCESS_MAX);
        rc = KZ_ERR_CONFIG;
    }
    kz_sbuf_release(&canon);
    return rc;
}

/* The groups and release subject of an input with a configured identity. */
static int init_identity(struct kz_input *in, const struct kz_identity *id,
                         struct kz_groups *groups, const struct kz_label_policy *policy, char *err,
                         size_t errlen)
{
    const struct kz_input_conf *conf = in->conf;

    if (kz_groupset_from(groups, &in->in, id->groups_in, id->groups_in_count) ||
        kz_groupset_from(groups, &in->out, id->groups_out, id->groups_out_count)) {
        snprintf(err, errlen, "input '%s': more than %d distinct groups", conf->name,
                 KZ_MAX_GROUPS);
        return KZ_ERR_CONFIG;
    }
    if (kz_release_subject_from(id, policy, &in->subject) != KZ_OK) {
        snprintf(err, errlen, "input '%s': identity nation '%s' or clearance '%s' is unknown",
                 conf->name, id->nation ? id->nation : "", id->clearance ? id->clearance : "");
        return KZ_ERR_CONFIG;
    }
    return KZ_OK;
}

int kz_input_init(struct kz_input *in, const struct kz_input_conf *conf, struct kz_groups *groups,
                  const struct kz_label_policy *policy, char *err, size_t errlen)
{
    const struct kz_identity *id = conf->identity;

    memset(in, 0, sizeof(*in));
    in->conf = conf;
    in->identity = id;
    /* Without one, identities come from certificates; originator per sender. */
    if (id && init_identity(in, id, groups, policy, err, errlen) != KZ_OK)
        return KZ_ERR_CONFIG;
    if (conf->default_label) {
        if (parse_label(policy, conf->name, "default_label", conf->default_label,
                        in->subject.nation, &in->default_label, err, errlen))
            return KZ_ERR_CONFIG;
        in->has_default_label = true;
    }
    if (conf->ceiling) {
        if (parse_label(policy, conf->name, "ceiling", conf->ceiling, in->subject.nation,
                        &in->ceiling, err, errlen))
            return KZ_ERR_CONFIG;
        in->has_ceiling = true;
        if (in->has_default_label && !kz_label_dominated(&in->default_label, &in->ceiling)) {
            snprintf(err, errlen, "input '%s': default_label is above its ceiling", conf->name);
            return KZ_ERR_CONFIG;
        }
    }
    return KZ_OK;
}

const struct kz_input *kz__router_input(struct kz_router *r, const char *name)
{
    if (!name)
        return NULL;
    for (unsigned i = 0; i < r->n_extra; i++)
        if (strcmp(r->extra[i]->conf->name, name) == 0)
            return r->extra[i];
    for (unsigned i = 0; i < r->n_inputs; i++)
        if (strcmp(r->inputs[i].conf->name, name) == 0)
            return &r->inputs[i];
    /* "cluster/": every origin of another instance (cluster/NODE/INPUT). */
    for (unsigned i = 0; i < r->n_extra; i++) {
        const char *n = r->extra[i]->conf->name;
        size_t len = strlen(n);
        if (len && n[len - 1] == '/' && strncmp(n, name, len) == 0)
            return r->extra[i];
    }
    return NULL;
}

void kz_router_add_input(struct kz_router *r, const struct kz_input *in)
{
    r->extra = kz_xrealloc(r->extra, (r->n_extra + 1) * sizeof(*r->extra));
    r->extra[r->n_extra++] = in;
}
