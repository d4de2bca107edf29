/*
 * hold.c - readers wait for the store instead of being refused.  When
 * the store's queue of writes is half way to the point where events are
 * refused (KZ_REJ_OVERLOAD), a stream input stops reading after the read
 * it took; the kernel's socket buffers then slow the sender (TCP flow
 * control), and nothing the sender wrote is lost.  The store tells the
 * router once a batch leaves its queue at a quarter, and every held reader
 * reads again.
 */
#include "route/internal.h"

bool kz_router_hold(struct kz_router *r, struct kz_router_hold *h)
{
    if (h->held)
        return true;
    if (!r->store || !kz_store_backlogged(r->store))
        return false;
    h->prev = NULL;
    h->next = r->holds;
    if (r->holds)
        r->holds->prev = h;
    r->holds = h;
    h->held = true;
    return true;
}

void kz_router_unhold(struct kz_router *r, struct kz_router_hold *h)
{
    if (!h->held)
        return;
    if (h->prev)
        h->prev->next = h->next;
    else
        r->holds = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->prev = h->next = NULL;
    h->held = false;
}

void kz__router_drained(void *ud)
{
    struct kz_router *r = ud;

    while (r->holds) {
        struct kz_router_hold *h = r->holds;
        kz_router_unhold(r, h);
        h->resume(h);
    }
}
