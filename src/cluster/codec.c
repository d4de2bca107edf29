/*
 * codec.c - kizuna.cluster.Event (proto/cluster.proto) to and from an event.  The CoT itself
 * travels as its canonical XML and is decoded on receipt under the receiving instance's limits,
 * like any input's; the origin's stamp travels beside it.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "proto/cluster.pb-c.h"

/* protobuf-c wants char * for strings it only reads when packing. */
static char *str(const char *s)
{
    return (char *)(uintptr_t)(s ? s : "");
}

void kz_cluster_event_encode(const struct kz_cluster_event *ce, const char *xml, size_t len,
                             struct kz_sbuf *out)
{
    Kizuna__Cluster__Event m = KIZUNA__CLUSTER__EVENT__INIT;
    const struct kz_event *ev = ce->ev;

    m.origin = str(ce->origin);
    m.epoch = ce->epoch;
    m.seq = ce->seq;
    m.xml.data = (uint8_t *)(uintptr_t)xml;
    m.xml.len = len;
    m.label = str(ev->access);
    m.input = str(ev->origin_input);
    m.user = str(ev->origin_user);
    m.nation = str(ev->origin_nation);
    m.groups = str(ev->origin_groups);
    m.federated = ce->federated;
    m.provenance = str(ev->fed_provenance);
    m.hops = ev->fed_hops;
    m.max_hops = ev->fed_max_hops;
    m.recv_time = ev->recv_time;
    m.scope = str(ce->scope);
    m.bound = ce->bound;
    size_t n = kizuna__cluster__event__get_packed_size(&m);
    kz_sbuf_grow(out, n + 1);
    kizuna__cluster__event__pack(&m, (uint8_t *)out->buf + out->len);
    out->len += n;
    out->buf[out->len] = '\0';
}

static char *dup_or_null(const char *s)
{
    return s && *s ? kz_xstrdup(s) : NULL;
}

/* The origin's stamp onto the decoded event. */
static void stamp(struct kz_event *ev, const Kizuna__Cluster__Event *m)
{
    free(ev->origin_input);
    free(ev->origin_user);
    free(ev->origin_nation);
    free(ev->origin_groups);
    free(ev->fed_provenance);
    ev->origin_input = dup_or_null(m->input);
    ev->origin_user = dup_or_null(m->user);
    ev->origin_nation = dup_or_null(m->nation);
    ev->origin_groups = kz_xstrdup(m->groups ? m->groups : "");
    ev->fed_provenance = dup_or_null(m->provenance);
    ev->fed_hops = m->hops;
    ev->fed_max_hops = m->max_hops;
    ev->recv_time = m->recv_time;
}

static int check(const Kizuna__Cluster__Event *m, char *err, size_t errlen)
{
    const char *missing = !m->origin || !*m->origin             ? "origin"
                          : !m->seq                             ? "seq"
                          : !m->xml.len                         ? "xml"
                          : !m->nation || !*m->nation           ? "nation"
                          : !m->input || !*m->input             ? "input"
                          : strlen(m->origin) >= 128            ? "origin (too long)"
                          : m->scope && strlen(m->scope) >= 128 ? "scope (too long)"
                          : !m->label || !*m->label             ? "label"
                                                                : NULL;
    if (!missing)
        return KZ_OK;
    snprintf(err, errlen, "cluster event without %s", missing);
    return KZ_ERR_PARSE;
}

int kz_cluster_event_decode(struct kz_cot_decoder *dec, const uint8_t *data, size_t len,
                            struct kz_cluster_received *out, char *err, size_t errlen)
{
    Kizuna__Cluster__Event *m = kizuna__cluster__event__unpack(NULL, len, data);
    enum kz_reject why;
    int rc;

    kz_event_init(&out->ev);
    if (!m) {
        snprintf(err, errlen, "not a cluster event (protobuf)");
        return KZ_ERR_PARSE;
    }
    rc = check(m, err, errlen);
    if (rc == KZ_OK)
        rc = kz_cot_decode(dec, (const char *)m->xml.data, m->xml.len, &out->ev, &why, err, errlen);
    if (rc == KZ_OK && (!out->ev.access || strcmp(out->ev.access, m->label) != 0)) {
        snprintf(err, errlen, "cluster event whose access is not its label");
        rc = KZ_ERR_PARSE;
    }
    if (rc == KZ_OK) {
        stamp(&out->ev, m);
        snprintf(out->origin, sizeof(out->origin), "%s", m->origin);
        snprintf(out->scope, sizeof(out->scope), "%s", m->scope ? m->scope : "");
        out->bound = m->bound;
        out->epoch = m->epoch;
        out->seq = m->seq;
        out->federated = m->federated;
    } else {
        kz_event_clear(&out->ev);
        rc = KZ_ERR_PARSE;
    }
    kizuna__cluster__event__free_unpacked(m, NULL);
    return rc;
}
