/*
 * mission_items.c - what a mission holds: its contents (uids and file
 * hashes, each with its own label: the uid's track's, the file's, else the
 * mission's), its change log (squashed by default), the latest CoT of its
 * uids as XML, and its log entries.  Every answer leaves out what the
 * caller may not see; every change commits before it is answered and
 * announced (t-x-m-c).
 */
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "marti/internal.h"

#define T_MISSION "Mission"
#define T_CHANGE "MissionChange"
#define T_LOG "com.bbn.marti.sync.model.LogEntry"

/* ---- contents ------------------------------------------------------------------------ */

struct kz_label kz__mission_item_label(struct kz_marti *m, const struct kz_mission *mi,
                                       const char *data, bool is_hash, struct kz_sbuf *out)
{
    struct kz_label l = mi->label;
    const struct kz_mission_files *f = m->opts.mission_files;
    struct kz_mission_file meta;

    if (!is_hash && m->opts.router && kz_router_track_label(m->opts.router, data, &l)) {
        /* the track's label, as routed */
    } else if (is_hash && f && f->file_meta && f->file_meta(f->ud, data, &meta) == KZ_OK) {
        l = meta.label;
    }
    kz_sbuf_reset(out);
    if (kz_label_format(m->opts.policy, &l, out) != KZ_OK) {
        l = mi->label;
        kz_sbuf_reset(out);
        kz_sbuf_adds(out, mi->banner);
    }
    return l;
}

static int add_all(struct kz_marti *m, struct kz_mission *mi, char **v, unsigned n, bool is_hash,
                   const char *creator)
{
    struct kz_sbuf banner = KZ_SBUF_INIT;
    int rc = KZ_OK;

    for (unsigned i = 0; i < n && rc != KZ_ERR_TOOBIG; i++) {
        struct kz_label l = kz__mission_item_label(m, mi, v[i], is_hash, &banner);
        rc = kz_mission_add_item(m->opts.missions, mi, v[i], is_hash, creator, banner.buf, &l,
                                 kz_now_us());
    }
    kz_sbuf_release(&banner);
    return rc == KZ_ERR_TOOBIG ? rc : KZ_OK;
}

static void answer_mission(struct kz_marti *m, struct kz__mcommit *t, const struct kz__mcaller *c,
                           struct kz_mission *mi, const char *creator)
{
    struct kz_mission_view v = kz__mission_view(m, c);

    kz__mcommit_answer(t, 200, T_MISSION, kz_mission_json(mi, &v));
    kz__mcommit_changes(t, mi, creator);
    kz__mcommit_run(t, mi, mi->guid);
}

void kz__mission_contents_add(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    char **uids, **hashes, err[160];
    unsigned nu, nh;
    size_t len = 0;
    const char *body = kz_http_body(req, &len), *creator = kz__mission_param(req, "creatorUid");

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_WRITE, NULL)))
        return;
    if (kz_mission_contents_parse(body ? body : "", len, &uids, &nu, &hashes, &nh, err,
                                  sizeof(err)) != KZ_OK) {
        kz_http_error(req, 400, "%s", err);
        return;
    }
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    int rc = add_all(m, mi, uids, nu, false, creator);
    if (rc == KZ_OK)
        rc = add_all(m, mi, hashes, nh, true, creator);
    kz_strv_free(uids, nu);
    kz_strv_free(hashes, nh);
    if (rc != KZ_OK)
        kz_log(KZ_LOG_WARN, "missions: contents over the limit", "mission=%s", mi->name);
    answer_mission(m, t, &c, mi, creator);
}

void kz__mission_contents_remove(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    const char *hash = kz__mission_param(req, "hash"), *uid = kz__mission_param(req, "uid");
    const char *creator = kz__mission_param(req, "creatorUid");
    struct kz_mission_item *it;

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_WRITE, NULL)))
        return;
    it = kz_mission_item_get(mi, hash ? hash : uid, hash != NULL);
    /* An item the caller may not see is not there for it. */
    if (!it || !kz_mission_item_visible(&it->label, c.who)) {
        kz_http_error(req, 404, "no such content");
        return;
    }
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    kz_mission_remove_item(m->opts.missions, mi, it->data, it->is_hash, creator, kz_now_us());
    answer_mission(m, t, &c, mi, creator);
}

/* ---- changes and CoT --------------------------------------------------------------------- */

void kz__mission_changes(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    const struct kz_mission_change **v;
    const char *sq = kz__mission_param(req, "squashed");

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_READ, NULL)))
        return;
    unsigned n =
        kz_mission_changes(mi, kz__mission_window_start(req), kz__mission_time_param(req, "end"),
                           !sq || strcmp(sq, "false") != 0, c.who, &v);
    json_t *a = json_array();
    struct kz_mission_view view = kz__mission_view(m, &c);
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, kz_mission_change_json(mi, v[i], &view));
    free(v);
    kz__mission_respond(m, req, 200, T_CHANGE, a);
}

struct cot_walk {
    const struct kz_mission *mi;
    const struct kz_release_subject *who;
    struct kz_sbuf sb;
};

/* Called by the router only for tracks that passed the check for the caller (mission_cot). */
static void add_cot(void *ud, const struct kz_event *ev)
{
    struct cot_walk *w = ud;
    const struct kz_mission_item *it =
        kz_mission_item_get((struct kz_mission *)w->mi, ev->uid, false);

    if (it && kz_mission_item_visible(&it->label, w->who))
        kz_cot_encode_xml(ev, &w->sb);
}

void kz__mission_cot(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct cot_walk w = {.sb = KZ_SBUF_INIT};

    kz__mission_caller(m, req, &c);
    if (!(w.mi = kz__mission_for(m, req, &c, KZ_MPERM_READ, NULL)))
        return;
    w.who = c.who;
    kz_sbuf_adds(&w.sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<events>");
    if (m->opts.router)
        kz_router_foreach_track(m->opts.router, c.view, KZ_EXIT_MISSION_COT, add_cot, &w);
    kz_sbuf_adds(&w.sb, "</events>\n");
    kz_http_respond(req, 200, "application/xml", NULL, w.sb.buf, w.sb.len);
    kz_sbuf_release(&w.sb);
}

/* ---- log entries ------------------------------------------------------------------------ */

void kz__mission_log(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_READ, NULL)))
        return;
    json_t *a = json_array();
    for (unsigned i = 0; i < mi->n_logs; i++)
        if (kz_mission_item_visible(&mi->logs[i].label, c.who))
            json_array_append_new(a, kz_mission_log_json(mi, &mi->logs[i]));
    kz__mission_respond(m, req, 200, T_LOG, a);
}

/* The mission `name` if the caller may write to it; NULL after answering. */
static struct kz_mission *writable(struct kz_marti *m, struct kz_http_req *req,
                                   const struct kz__mcaller *c, const char *name, unsigned perm)
{
    struct kz_mission *mi = m->opts.missions ? kz_mission_book_get(m->opts.missions, name) : NULL;

    if (!mi || !kz__mission_visible(mi, c)) {
        kz_http_error(req, 404, "no mission '%s'", name);
        return NULL;
    }
    enum kz_mission_role r = kz_mission_role_for(mi, c->has_token ? &c->token : NULL, c->admin);
    if (!(kz_mission_role_perms(r) & perm)) {
        kz_http_error(req, 403, "the mission role does not allow this");
        return NULL;
    }
    return mi;
}

static void copy_log(struct kz_mission_log *dst, const struct kz_mission_log *src,
                     const struct kz_mission *mi)
{
    *dst = *src;
    dst->id = kz_xstrdup(src->id);
    dst->content = kz_xstrdup(src->content);
    dst->creator_uid = src->creator_uid ? kz_xstrdup(src->creator_uid) : NULL;
    dst->entry_uid = src->entry_uid ? kz_xstrdup(src->entry_uid) : NULL;
    dst->hashes = kz_xcalloc(src->n_hashes + 1, sizeof(char *));
    for (unsigned i = 0; i < src->n_hashes; i++)
        dst->hashes[i] = kz_xstrdup(src->hashes[i]);
    dst->keywords = kz_xcalloc(src->n_keywords + 1, sizeof(char *));
    for (unsigned i = 0; i < src->n_keywords; i++)
        dst->keywords[i] = kz_xstrdup(src->keywords[i]);
    /* A log entry is the mission's: it carries the mission's label. */
    dst->banner = kz_xstrdup(mi->banner);
    dst->label = mi->label;
}

static int check_all(struct kz_marti *m, struct kz_http_req *req, const struct kz__mcaller *c,
                     char **names, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct kz_mission *mi = writable(m, req, c, names[i], KZ_MPERM_WRITE);
        if (!mi)
            return KZ_ERR_DENIED;
        if (mi->n_logs >= KZ_MISSION_MAX_LOGS) {
            kz_http_error(req, 409, "too many log entries in '%s'", names[i]);
            return KZ_ERR_TOOBIG;
        }
    }
    return KZ_OK;
}

void kz__mission_log_post(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission_log l;
    char **names, err[160], id[KZ_MISSION_GUID_LEN + 1];
    unsigned n;
    size_t len = 0;
    const char *body = kz_http_body(req, &len);

    kz__mission_caller(m, req, &c);
    if (kz_mission_log_parse(body ? body : "", len, &l, &names, &n, err, sizeof(err)) != KZ_OK) {
        kz_http_error(req, 400, "%s", err);
        return;
    }
    if (check_all(m, req, &c, names, n) == KZ_OK) {
        int64_t now = kz_now_us();
        kz_mission_uuid(id);
        l.id = kz_xstrdup(id);
        l.created = l.servertime = now;
        l.dtg = l.dtg ? l.dtg : now;
        for (unsigned i = 0; i < n; i++) {
            struct kz_mission *mi = kz_mission_book_get(m->opts.missions, names[i]);
            struct kz__mcommit *t = kz__mcommit_new(m, i + 1 == n ? req : NULL, mi);
            mi->logs = kz_xrealloc(mi->logs, (mi->n_logs + 1) * sizeof(*mi->logs));
            copy_log(&mi->logs[mi->n_logs++], &l, mi);
            if (i + 1 == n)
                kz__mcommit_answer(t, 200, T_LOG,
                                   kz_mission_log_json(mi, &mi->logs[mi->n_logs - 1]));
            kz__mcommit_run(t, mi, mi->guid);
        }
    }
    kz_mission_log_clear(&l);
    kz_strv_free(names, n);
}

/* The first mission the caller may see holding log entry `id`, and the entry's index. */
static struct kz_mission *log_home(struct kz_marti *m, const struct kz__mcaller *c, const char *id,
                                   unsigned *at)
{
    for (unsigned i = 0; id && m->opts.missions && i < kz_mission_book_count(m->opts.missions);
         i++) {
        struct kz_mission *mi = kz_mission_book_at(m->opts.missions, i);
        for (unsigned j = 0; kz__mission_visible(mi, c) && j < mi->n_logs; j++)
            if (strcmp(mi->logs[j].id, id) == 0 &&
                kz_mission_item_visible(&mi->logs[j].label, c->who)) {
                *at = j;
                return mi;
            }
    }
    return NULL;
}

void kz__mission_log_get(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    unsigned at = 0;
    struct kz_mission *mi;

    kz__mission_caller(m, req, &c);
    if (!(mi = log_home(m, &c, kz__mission_path(req, "id"), &at))) {
        kz_http_error(req, 404, "no such log entry");
        return;
    }
    kz__mission_respond(m, req, 200, T_LOG, kz_mission_log_json(mi, &mi->logs[at]));
}

void kz__mission_log_delete(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    unsigned at = 0;
    struct kz_mission *mi;

    kz__mission_caller(m, req, &c);
    if (!(mi = log_home(m, &c, kz__mission_path(req, "id"), &at))) {
        kz_http_error(req, 404, "no such log entry");
        return;
    }
    if (!writable(m, req, &c, mi->name, KZ_MPERM_WRITE))
        return;
    struct kz__mcommit *t = kz__mcommit_new(m, req, mi);
    kz__mcommit_answer(t, 200, T_LOG, kz_mission_log_json(mi, &mi->logs[at]));
    kz_mission_log_clear(&mi->logs[at]);
    memmove(&mi->logs[at], &mi->logs[at + 1], (mi->n_logs - at - 1) * sizeof(*mi->logs));
    mi->n_logs--;
    kz__mcommit_run(t, mi, mi->guid);
}
