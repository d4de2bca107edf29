/*
 * mission_commit.c - how a mission change becomes durable and known: the
 * model has changed, the mission's document and its new changes are
 * committed through the store, and only after COMMIT is the request
 * answered and are the notifications sent to connected subscribers (each
 * released by the router per recipient).  Also the missions' restore at
 * startup and the router's hook for CoT with a mission dest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "marti/internal.h"

struct notice {
    char *client_uid;
    struct kz_event ev;
    struct kz_label label;
};

struct kz__mcommit {
    struct kz_marti *m;
    struct kz_http_req *req; /* held; NULL: no one waits */
    uint64_t mark;           /* the last change id before this change */
    int64_t stamp;           /* its outbox row (opts.mission_changed), 0: none */
    uint64_t change;         /* the last change id after it */
    char *guid;
    int status;
    char *body; /* the answer, or NULL: no body */
    struct notice *notices;
    unsigned n_notices;
};

static uint64_t last_change(const struct kz_mission *mi)
{
    return mi && mi->n_changes ? mi->changes[mi->n_changes - 1].id : 0;
}

struct kz__mcommit *kz__mcommit_new(struct kz_marti *m, struct kz_http_req *req,
                                    const struct kz_mission *mi)
{
    struct kz__mcommit *t = kz_xcalloc(1, sizeof(*t));

    t->m = m;
    t->req = req;
    t->mark = last_change(mi);
    t->status = 200;
    if (req)
        kz_http_hold(req);
    return t;
}

void kz__mcommit_answer(struct kz__mcommit *t, int status, const char *type, json_t *data)
{
    free(t->body);
    t->body = type ? kz__mission_envelope(t->m, type, data) : (json_decref(data), NULL);
    t->status = status;
}

void kz__mcommit_notify(struct kz__mcommit *t, const char *client_uid, struct kz_event *ev,
                        const struct kz_label *label)
{
    t->notices = kz_xrealloc(t->notices, (t->n_notices + 1) * sizeof(*t->notices));
    struct notice *n = &t->notices[t->n_notices++];
    n->client_uid = kz_xstrdup(client_uid);
    n->ev = *ev;
    n->label = *label;
    kz_event_init(ev);
}

/* One notification per live subscriber. */
static void to_subscribers(struct kz__mcommit *t, const struct kz_mission *mi,
                           const struct kz_mission_notice *n, const struct kz_label *label)
{
    struct kz_event ev;
    int64_t now = kz_now_us();

    for (unsigned i = 0; i < mi->n_subs; i++) {
        if (!mi->subs[i].live)
            continue;
        kz_mission_notice(&ev, mi, n, now);
        kz__mcommit_notify(t, mi->subs[i].client_uid, &ev, label);
    }
}

void kz__mcommit_changes(struct kz__mcommit *t, const struct kz_mission *mi, const char *author)
{
    struct kz_sbuf x = KZ_SBUF_INIT;

    for (unsigned i = 0; i < mi->n_changes; i++) {
        const struct kz_mission_change *c = &mi->changes[i];
        if (c->id <= t->mark || !c->content)
            continue;
        kz_sbuf_reset(&x);
        kz_mission_change_xml(&x, mi, c, t->m->opts.mission_files, &t->m->uids);
        struct kz_mission_notice n = {"t-x-m-c", "CHANGE", author ? author : c->creator_uid,
                                      NULL,      x.buf,    c->banner};
        to_subscribers(t, mi, &n, &c->label);
    }
    kz_sbuf_release(&x);
}

void kz__mission_announce(struct kz__mcommit *t, const struct kz_mission *mi, const char *cot_type,
                          const char *type, const char *author)
{
    struct kz_mission_notice n = {cot_type, type, author, NULL, NULL, mi->banner};

    to_subscribers(t, mi, &n, &mi->label);
}

/* Called by the router only when the track's label is the item's, which the reader passed. */
static void copy_details(void *ud, const struct kz_event *ev)
{
    struct kz_mission_uid_details *d = ud;

    snprintf(d->type, sizeof(d->type), "%s", ev->type);
    snprintf(d->callsign, sizeof(d->callsign), "%s", ev->callsign ? ev->callsign : "");
    d->lat = ev->lat;
    d->lon = ev->lon;
}

bool kz__mission_uid_details(void *ud, const char *uid, const struct kz_label *label,
                             struct kz_mission_uid_details *out)
{
    struct kz_marti *m = ud;

    return m->opts.router && kz_router_track_with(m->opts.router, uid, label, copy_details, out);
}

/* ---- after COMMIT ------------------------------------------------------------ */

struct delivery {
    struct kz_router *router;
    const struct notice *n;
};

static void deliver_one(void *ud, const struct kz_sub *s)
{
    struct delivery *d = ud;

    kz_router_notify(d->router, s, &d->n->ev, &d->n->label);
}

static void send_notices(struct kz__mcommit *t)
{
    struct delivery d = {t->m->opts.router, NULL};

    for (unsigned i = 0; d.router && i < t->n_notices; i++) {
        d.n = &t->notices[i];
        kz_router_foreach_bound(d.router, d.n->client_uid, deliver_one, &d);
    }
}

static void task_free(struct kz__mcommit *t)
{
    for (unsigned i = 0; i < t->n_notices; i++) {
        free(t->notices[i].client_uid);
        kz_event_clear(&t->notices[i].ev);
    }
    free(t->notices);
    free(t->body);
    free(t->guid);
    free(t);
}

static void committed(void *ud, int status)
{
    struct kz__mcommit *t = ud;
    struct kz_http_req *req = t->req;

    t->m->mission_commits--;
    if (status == KZ_OK) {
        if (req && !kz_http_gone(req))
            kz_http_respond(req, t->status, t->body ? "application/json" : "text/plain", NULL,
                            t->body ? t->body : "", t->body ? strlen(t->body) : 0);
        send_notices(t);
        if (t->stamp && t->m->opts.mission_changed)
            t->m->opts.mission_changed(t->m->opts.mission_ud, t->guid, t->change, t->stamp);
    } else {
        kz_log(KZ_LOG_ERROR, "missions: change not committed", "err=%s", kz_strerror(status));
        if (req && !kz_http_gone(req))
            kz_http_error(req, 500, "store: %s", kz_strerror(status));
    }
    if (req)
        kz_http_release(req);
    task_free(t);
}

void kz__mcommit_deliver(struct kz__mcommit *t)
{
    send_notices(t);
    task_free(t);
}

void kz__mcommit_drop(struct kz__mcommit *t)
{
    if (t->req)
        kz_http_release(t->req);
    task_free(t);
}

void kz__mcommit_run(struct kz__mcommit *t, const struct kz_mission *mi, const char *guid)
{
    struct kz_store_mission w = {.guid = guid};
    int64_t *ids = NULL;
    char **docs = NULL;
    size_t n = 0;

    t->m->mission_commits++;
    if (!t->m->opts.store) {
        committed(t, KZ_OK);
        return;
    }
    if (mi) {
        ids = kz_xcalloc(mi->n_changes + 1, sizeof(*ids));
        docs = kz_xcalloc(mi->n_changes + 1, sizeof(*docs));
        for (unsigned i = 0; i < mi->n_changes; i++)
            if (mi->changes[i].id > t->mark) {
                ids[n] = (int64_t)mi->changes[i].id;
                docs[n++] = kz_mission_change_doc(&mi->changes[i]);
            }
        w = (struct kz_store_mission){
            guid, mi->name, kz_mission_doc(mi), ids, (const char *const *)docs, n, 0, 0};
    }
    if (t->m->opts.mission_changed) { /* the outbox row, unique per instance */
        int64_t now = kz_now_us();
        t->stamp = t->m->outbox_stamp = now > t->m->outbox_stamp ? now : t->m->outbox_stamp + 1;
        t->change = mi ? last_change(mi) : t->mark;
        t->guid = kz_xstrdup(guid);
        w.outbox_stamp = t->stamp;
        w.outbox_change = t->change;
    }
    kz_store_mission_write(t->m->opts.store, &w, committed, t);
    free((char *)w.doc);
    for (size_t i = 0; i < n; i++)
        free(docs[i]);
    free(docs);
    free(ids);
}

/* ---- startup ---------------------------------------------------------------- */

struct restore {
    struct kz_marti *m;
    unsigned loaded, skipped;
};

static void restore_mission(void *ud, const char *guid, const char *doc)
{
    struct restore *r = ud;
    struct kz_mission *mi;

    if (kz_mission_from_doc(doc, r->m->opts.policy, &mi) != KZ_OK ||
        kz_mission_book_adopt(r->m->opts.missions, mi) != KZ_OK) {
        kz_log(KZ_LOG_WARN, "missions: stored mission skipped", "guid=%s", guid);
        if (mi)
            kz_mission_free(mi);
        r->skipped++;
        return;
    }
    r->loaded++;
}

static void restore_change(void *ud, const char *guid, const char *doc)
{
    struct restore *r = ud;
    struct kz_mission *mi = kz_mission_book_by_guid(r->m->opts.missions, guid);
    struct kz_mission_change c;

    if (!mi || kz_mission_change_from_doc(doc, r->m->opts.policy, &c) != KZ_OK)
        return;
    kz_mission_book_seen_change(r->m->opts.missions, c.id);
    kz_mission_push_change(mi, &c);
}

int kz_marti_missions_load(struct kz_marti *m)
{
    struct restore r = {m, 0, 0};
    int err;

    if (!m->opts.missions || !m->opts.store)
        return KZ_OK;
    err = kz_store_missions_load(m->opts.store, restore_mission, restore_change, &r);
    if (err == KZ_OK)
        kz_log(r.skipped ? KZ_LOG_WARN : KZ_LOG_INFO, "missions: restored", "loaded=%u skipped=%u",
               r.loaded, r.skipped);
    return err;
}

/* ---- CoT with <marti><dest mission=.../> (reference B.4) ------------------------ */

static bool may_write(void *ud, const struct kz_sub *from, const char *name)
{
    struct kz_marti *m = ud;
    struct kz_mission *mi = kz_mission_book_get(m->opts.missions, name);

    return mi && kz_mission_visible(mi, &from->subject) &&
           (kz_mission_role_perms(kz_mission_stream_role(mi, from->uid)) & KZ_MPERM_WRITE);
}

static bool subscribed(void *ud, const struct kz_sub *to, const char *name)
{
    struct kz_marti *m = ud;
    struct kz_mission *mi = kz_mission_book_get(m->opts.missions, name);
    const struct kz_mission_sub *s = mi ? kz_mission_sub_get(mi, to->uid) : NULL;

    return s && s->live && kz_mission_visible(mi, &to->subject);
}

/* The uid joins the mission (a t-x-d-d leaves it): committed, then t-x-m-c. */
static void accepted(void *ud, const struct kz_sub *from, const char *name,
                     const struct kz_event *ev, const struct kz_label *label)
{
    struct kz_marti *m = ud;
    struct kz_mission *mi = kz_mission_book_get(m->opts.missions, name);
    bool del = kz_cot_type_is(ev, "t-x-d-d");
    const char *uid = del ? ev->link_uid : ev->uid;
    struct kz__mcommit *t;
    int rc;

    if (!mi || !uid)
        return;
    t = kz__mcommit_new(m, NULL, mi);
    rc = del ? kz_mission_remove_item(m->opts.missions, mi, uid, false, from->uid, kz_now_us())
             : kz_mission_add_item(m->opts.missions, mi, uid, false, from->uid, ev->access, label,
                                   kz_now_us());
    if (rc != KZ_OK) {
        task_free(t); /* already there (or not): nothing changed */
        return;
    }
    kz__mcommit_changes(t, mi, from->uid);
    kz__mcommit_run(t, mi, mi->guid);
}

void kz_marti_missions_hook(struct kz_marti *m, struct kz_router_missions *out)
{
    *out = (struct kz_router_missions){may_write, subscribed, accepted, m};
}
