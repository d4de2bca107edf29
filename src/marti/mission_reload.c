/*
 * mission_reload.c - a mission another instance of the cluster changed
 * (docs/cluster.md, "One PostgreSQL for the cluster"): on its notice the
 * server read the mission back from the shared store, and here the book
 * takes that state over and this instance's live subscribers get what a
 * change made here would have sent them: t-x-m-c for every change newer
 * than the book knew, t-x-m-d when the mission is gone.  A notice heard
 * twice finds nothing new and sends nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marti/internal.h"

static void gone(struct kz_marti *m, struct kz_mission *old)
{
    struct kz__mcommit *t = kz__mcommit_new(m, NULL, old);

    kz__mission_announce(t, old, "t-x-m-d", "DELETE", old->creator_uid);
    kz_mission_book_remove(m->opts.missions, old);
    kz__mcommit_deliver(t);
}

/* The stored mission with its changes, or NULL (logged). */
static struct kz_mission *rebuild(struct kz_marti *m, const char *guid, const char *doc,
                                  const char *const *changes, size_t n)
{
    struct kz_mission *mi = NULL;
    struct kz_mission_change c;

    if (kz_mission_from_doc(doc, m->opts.policy, &mi) != KZ_OK || strcmp(mi->guid, guid) != 0) {
        kz_log(KZ_LOG_WARN, "missions: another instance's mission does not load", "guid=%s", guid);
        if (mi)
            kz_mission_free(mi);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (kz_mission_change_from_doc(changes[i], m->opts.policy, &c) != KZ_OK)
            continue;
        kz_mission_book_seen_change(m->opts.missions, c.id);
        kz_mission_push_change(mi, &c);
    }
    return mi;
}

static void fetched(void *ud, int status)
{
    KZ_UNUSED(ud);
    KZ_UNUSED(status); /* logged by the index when it matters */
}

/* The files of the mission that another instance took: their rows into the index, so that
 * later answers describe them (name, type, size) as the instance that took them does. */
static void fetch_files(struct kz_marti *m, const struct kz_mission *mi)
{
    if (!m->opts.files || !kz_files_fetches(m->opts.files))
        return;
    for (unsigned i = 0; i < mi->n_items; i++)
        if (mi->items[i].is_hash && kz_file_hash_valid(mi->items[i].data) &&
            !kz_files_newest(m->opts.files, mi->items[i].data))
            kz_files_fetch(m->opts.files, mi->items[i].data, false, fetched, NULL);
}

void kz_marti_mission_reload(struct kz_marti *m, const char *guid, const char *doc,
                             const char *const *changes, size_t n)
{
    struct kz_mission_book *b = m->opts.missions;
    struct kz_mission *old = b ? kz_mission_book_by_guid(b, guid) : NULL, *mi, *same;
    struct kz__mcommit *t;

    if (!b)
        return;
    if (!doc) {
        if (old)
            gone(m, old);
        return;
    }
    if (!(mi = rebuild(m, guid, doc, changes, n)))
        return;
    fetch_files(m, mi);
    t = kz__mcommit_new(m, NULL, old); /* what is newer than the book's is news */
    if (old)
        kz_mission_book_remove(b, old);
    if ((same = kz_mission_book_get(b, mi->name)) != NULL) { /* a name another guid had */
        kz_log(KZ_LOG_WARN, "missions: a mission renamed over another", "guid=%s other=%s", guid,
               same->guid);
        kz_mission_book_remove(b, same);
    }
    if (kz_mission_book_adopt(b, mi) != KZ_OK) {
        kz_mission_free(mi);
        kz__mcommit_drop(t);
        return;
    }
    kz__mcommit_changes(t, mi, NULL);
    kz__mcommit_deliver(t);
}
