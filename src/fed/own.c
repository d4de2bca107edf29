/*
 * own.c - which outgoing links this instance dials, in a cluster: the one that holds a link's
 * lease owns it (server/fedlease.c); the others keep it configured but idle (`standby`).
 */
#include <stdio.h>

#include "fed/internal.h"

unsigned kz_fed_peers(const struct kz_fed *f)
{
    return f ? f->n_peers : 0;
}

const char *kz_fed_outgoing(const struct kz_fed *f, unsigned i)
{
    return f && i < f->n_peers && f->peers[i].conf->connect ? f->peers[i].conf->name : NULL;
}

/*
 * Where the link stands in the store: another instance that owned it may have moved the cursor
 * on (a shared store), and so did this one before (its own).  Never backwards.
 */
static void take_marks(struct fed_peer *p)
{
    struct kz_store_fed_marks m;

    if (!p->fed->store ||
        kz_store_fed_marks(p->fed->store, p->conf->name, p->in_conf.name, &m) != KZ_OK)
        return;
    if (m.has_cursor && m.cursor > p->cursor)
        p->cursor = p->stored_cursor = m.cursor;
    if (m.received > p->recv_seq)
        p->recv_seq = m.received;
}

static void give_up(struct fed_peer *p)
{
    p->standby = true;
    uv_timer_stop(&p->redial);
    for (struct fed_conn *c = p->fed->conns; c; c = c->next)
        if (c->client && c->peer == p && !c->closing)
            kz__fed_close(c, "another instance owns the link");
    p->state = FED_DOWN;
    p->since_us = kz_now_us();
    p->backoff_ms = 0;
    kz__fed_sent_flush(p, NULL, NULL); /* what it sent, for the next owner (a shared store) */
}

void kz_fed_own(struct kz_fed *f, unsigned i, bool own)
{
    struct fed_peer *p;

    if (!f || f->stopping || !kz_fed_outgoing(f, i))
        return;
    p = &f->peers[i];
    if (own == !p->standby)
        return;
    kz_log(own ? KZ_LOG_INFO : KZ_LOG_WARN,
           own ? "federation: this instance owns the link; dialling"
               : "federation: the link is no longer this instance's; standing by",
           "peer=%s", p->conf->name);
    if (!own) {
        give_up(p);
        return;
    }
    p->standby = false;
    take_marks(p);
    kz__fed_dial(p);
}

void kz_fed_set_owner(struct kz_fed *f, unsigned i, const char *owner)
{
    if (f && i < f->n_peers)
        snprintf(f->peers[i].owner, sizeof(f->peers[i].owner), "%s", owner ? owner : "");
}
