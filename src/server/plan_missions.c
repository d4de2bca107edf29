/*
 * plan_missions.c - every plan follows as its Data Sync mission
 * (docs/missions.md, "Plans as missions"): after each committed plan
 * change, the plan's calendar (plan/ics.c) goes to the file store,
 * labelled with the plan's own label, submitter "kizuna", and then the
 * plan's mission is brought up to date (marti/plan_mission.c).
 *
 * The calendar holds the plan's window and the items its own label covers
 * (kz_label_dominated): an item labelled more narrowly than the plan is in
 * the mission as its uid, with its own label, never in a file labelled
 * more widely.  Plans are taken one at a time, each time as the book holds
 * it then, so a burst of revisions ends with the newest; at start every
 * plan is taken once (a change that committed just before a crash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "plan/ics.h"
#include "server/server.h"

#define AUTHOR "kizuna"

struct kz__plan_missions {
    char (*queue)[KZ_PLAN_ID_MAX]; /* plan ids waiting, oldest first */
    unsigned n;
    bool busy; /* a calendar is being stored */
    char id[KZ_PLAN_ID_MAX];
    char name[KZ_PLAN_ID_MAX + 8];
    struct kz_sbuf ics;
};

static void pump(struct kz_server *srv);

/* The calendar of what the plan's own label covers, labelled with it. */
static int calendar(const struct kz_plan *p, struct kz_sbuf *out)
{
    json_t *doc = kz_plan_to_doc(p), *items = json_array();
    int rc;

    for (unsigned i = 0; i < p->n_items; i++)
        if (kz_label_dominated(&p->items[i].label, &p->label))
            json_array_append(items, json_array_get(json_object_get(doc, "items"), i));
    json_object_set_new(doc, "items", items);
    json_object_set_new(doc, "label", json_string(p->banner));
    rc = kz_plan_ics(doc, out);
    json_decref(doc);
    return rc;
}

static void sha256_hex(const struct kz_sbuf *sb, char out[KZ_FILE_HASH_HEX + 1])
{
    unsigned char md[32];
    unsigned n = 0;

    EVP_Digest(sb->buf, sb->len, md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The plan's mission, as the book holds the plan now. */
static void sync_mission(struct kz_server *srv, const char *id, const char *hash)
{
    const struct kz_plan *p = kz_plan_book_get(srv->api.plans, id);

    if (p)
        kz_marti_plan_mission(&srv->marti, p, hash);
}

static void job_done(struct kz_server *srv, const char *hash)
{
    struct kz__plan_missions *pm = srv->plan_missions;

    sync_mission(srv, pm->id, hash);
    kz_sbuf_reset(&pm->ics);
    pm->busy = false;
    pump(srv);
}

static void on_added(void *ud, int status, const struct kz_file *f)
{
    struct kz_server *srv = ud;

    if (status != KZ_OK)
        kz_log(KZ_LOG_WARN, "plans: calendar not recorded", "plan=%s err=%s",
               srv->plan_missions->id, kz_strerror(status));
    job_done(srv, status == KZ_OK ? f->row.hash : NULL);
}

static void on_written(void *ud, int status, const char *hash, uint64_t size)
{
    struct kz_server *srv = ud;
    struct kz__plan_missions *pm = srv->plan_missions;
    const struct kz_plan *p = kz_plan_book_get(srv->api.plans, pm->id);
    char uid[KZ_FILE_UID_LEN + 1];

    if (status != KZ_OK || !p) {
        kz_log(KZ_LOG_WARN, "plans: calendar not stored", "plan=%s err=%s", pm->id,
               kz_strerror(status));
        job_done(srv, NULL);
        return;
    }
    kz_files_new_uid(uid);
    struct kz_store_file row = {
        .uid = uid,
        .hash = hash,
        .name = pm->name,
        .mime = "text/calendar",
        .size = size,
        .time_us = kz_now_us(),
        .submitter = AUTHOR,
        .creator_uid = AUTHOR,
        .keywords = "plan",
        .label = p->banner,
        .originator = kz_nation_code(p->label.originator),
        .tool = "public",
    };
    /* Every group may download it (as every group receives the plan's markers): the label
     * decides. */
    kz_files_add(srv->files, &row, &p->label, srv->groups.names, srv->groups.n, on_added, srv);
}

/*
 * Store the calendar (unless the store has these bytes already), then the
 * mission.  True: the calendar is being written (job_done follows).
 */
static bool take(struct kz_server *srv, const struct kz_plan *p)
{
    struct kz__plan_missions *pm = srv->plan_missions;
    char hash[KZ_FILE_HASH_HEX + 1];

    snprintf(pm->id, sizeof(pm->id), "%s", p->id);
    snprintf(pm->name, sizeof(pm->name), "%s.ics", p->id);
    kz_sbuf_reset(&pm->ics);
    if (!srv->files || calendar(p, &pm->ics) != KZ_OK) {
        kz_marti_plan_mission(&srv->marti, p, NULL);
        return false;
    }
    sha256_hex(&pm->ics, hash);
    if (kz_files_newest(srv->files, hash)) {
        kz_marti_plan_mission(&srv->marti, p, hash);
        return false;
    }
    struct kz_file_writer *w = kz_file_writer_new(&srv->loop, kz_files_dir(srv->files),
                                                  srv->marti.max_file_bytes, hash, NULL, srv);
    int rc = kz_file_writer_add(w, pm->ics.buf, pm->ics.len);
    if (rc != KZ_OK && rc != KZ_ERR_AGAIN) {
        kz_file_writer_abort(w);
        kz_log(KZ_LOG_WARN, "plans: calendar over limits.max_file_bytes", "plan=%s", p->id);
        kz_marti_plan_mission(&srv->marti, p, NULL);
        return false;
    }
    pm->busy = true;
    kz_file_writer_finish(w, on_written);
    return true;
}

static void pump(struct kz_server *srv)
{
    struct kz__plan_missions *pm = srv->plan_missions;

    while (!pm->busy && pm->n && !srv->stopping) {
        char id[KZ_PLAN_ID_MAX];
        memcpy(id, pm->queue[0], sizeof(id));
        memmove(pm->queue, pm->queue + 1, --pm->n * sizeof(*pm->queue));
        const struct kz_plan *p = kz_plan_book_get(srv->api.plans, id);
        if (p)
            take(srv, p);
    }
}

static void changed(void *ud, const char *id)
{
    struct kz_server *srv = ud;
    struct kz__plan_missions *pm = srv->plan_missions;

    for (unsigned i = 0; i < pm->n; i++)
        if (strcmp(pm->queue[i], id) == 0)
            return; /* taken later, as it will be then */
    pm->queue = kz_xrealloc(pm->queue, (pm->n + 1) * sizeof(*pm->queue));
    snprintf(pm->queue[pm->n++], KZ_PLAN_ID_MAX, "%s", id);
    pump(srv);
}

void kz__server_plan_missions_init(struct kz_server *srv)
{
    srv->plan_missions = kz_xcalloc(1, sizeof(*srv->plan_missions));
    srv->api.plan_changed = changed;
    srv->api.plan_changed_ud = srv;
}

void kz__server_plan_missions_start(struct kz_server *srv)
{
    for (unsigned i = 0; i < kz_plan_book_count(srv->api.plans); i++)
        changed(srv, kz_plan_book_at(srv->api.plans, i)->id);
}

bool kz__server_plan_missions_busy(const struct kz_server *srv)
{
    return srv->plan_missions && srv->plan_missions->busy;
}

void kz__server_plan_missions_release(struct kz_server *srv)
{
    if (!srv->plan_missions)
        return;
    free(srv->plan_missions->queue);
    kz_sbuf_release(&srv->plan_missions->ics);
    free(srv->plan_missions);
    srv->plan_missions = NULL;
    srv->api.plan_changed = NULL;
}
