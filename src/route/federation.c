/*
 * federation.c - which events a federation link may have: what this node's
 * own inputs sent, and what a partner sent only on a relaying link that it
 * has not passed yet, within its hop limit (Federation Hub rules), so a mesh
 * of nodes cannot loop.  The release rule is applied afterwards, as for
 * every exit.
 */
#include <string.h>

#include "route/internal.h"

/* Is `node` one of the comma-separated provenance? */
static bool passed(const char *provenance, const char *node)
{
    size_t n = strlen(node);

    for (const char *p = provenance; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && memcmp(p, node, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/*
 * May a federation link have this event?  Anything a partner sent goes on only from a relaying
 * link to a relaying link, never back to a node it passed, and not beyond its hop limit
 * (Federation Hub rules): so a mesh cannot loop.  An event whose provenance is unknown
 * (restored from the store) is not relayed.
 */
bool kz__router_link_may_have(struct kz_router *r, const struct kz_event *ev,
                              const struct kz_sub *to)
{
    const struct kz_input *in = kz__router_input(r, ev->origin_input);

    if (in && !in->federated)
        return true;
    if (!in || !in->relay || !to->relay || !ev->fed_provenance || !to->node)
        return false;
    if (ev->fed_max_hops >= 0 && ev->fed_hops + 1 >= ev->fed_max_hops)
        return false;
    return !passed(ev->fed_provenance, to->node);
}
