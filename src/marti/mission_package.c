/*
 * mission_package.c - PUT /Marti/api/missions/{name}/contents/missionpackage
 * ?creatorUid= (docs/missions.md): the body is a mission package, a zip
 * with MANIFEST/manifest.xml (mission/package.h).  Everything is checked
 * before anything is stored: the zip's entries and sizes against
 * limits.max_file_bytes (413), each .cot entry through the CoT decoder
 * (400).  Then the zip itself and each other file go to the file store,
 * one after the other, labelled with the mission's label; the files'
 * hashes join the mission's contents and the CoT's uids its uids, and the
 * change is committed, answered as TAK Server answers it (the Mission) and
 * announced (t-x-m-c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "marti/internal.h"
#include "mission/package.h"

#define T_MISSION "Mission"

struct file {
    char *name;
    struct kz_sbuf data;
};

struct job {
    struct kz_marti *m;
    struct kz_http_req *req; /* held */
    char *mission, *creator;
    struct kz_label label;
    char banner[KZ_LABEL_MAX_LEN + 1];
    struct file *files; /* [0]: the package itself, kept but not attached */
    unsigned n_files, next;
    char **hashes, **uids;
    unsigned n_hashes, n_uids;
};

static void job_free(struct job *j)
{
    for (unsigned i = 0; i < j->n_files; i++) {
        free(j->files[i].name);
        kz_sbuf_release(&j->files[i].data);
    }
    free(j->files);
    kz_strv_free(j->hashes, j->n_hashes);
    kz_strv_free(j->uids, j->n_uids);
    free(j->mission);
    free(j->creator);
    j->m->uploads--;
    kz_http_release(j->req);
    free(j);
}

static void push(char ***v, unsigned *n, const char *s)
{
    *v = kz_xrealloc(*v, (*n + 2) * sizeof(**v));
    (*v)[(*n)++] = kz_xstrdup(s);
    (*v)[*n] = NULL;
}

static struct file *add_file(struct job *j, const char *name)
{
    j->files = kz_xrealloc(j->files, (j->n_files + 1) * sizeof(*j->files));
    struct file *f = &j->files[j->n_files++];
    f->name = kz_xstrdup(name);
    f->data = (struct kz_sbuf)KZ_SBUF_INIT;
    return f;
}

/* A .cot entry: its uid joins the mission; a CoT that does not decode refuses the package. */
static int take_cot(struct job *j, struct kz_cot_decoder *dec, const struct kz_sbuf *xml)
{
    struct kz_event ev;
    enum kz_reject why;
    int rc;

    kz_event_init(&ev);
    rc = kz_cot_decode(dec, xml->buf ? xml->buf : "", xml->len, &ev, &why, NULL, 0);
    if (rc == KZ_OK)
        push(&j->uids, &j->n_uids, ev.uid);
    kz_event_clear(&ev);
    return rc == KZ_OK ? KZ_OK : KZ_ERR_PARSE;
}

/* Inflate every entry (bounded by the package), decode the CoT ones. */
static int unpack(struct job *j, struct kz_package *pkg, char *err, size_t errlen)
{
    struct kz_cot_decoder *dec = kz_cot_decoder_new(NULL);
    struct kz_sbuf xml = KZ_SBUF_INIT;
    int rc = KZ_OK;

    for (unsigned i = 0; rc == KZ_OK && i < kz_package_count(pkg); i++) {
        bool cot = kz_package_is_cot(pkg, i);
        struct kz_sbuf *out = cot ? &xml : &add_file(j, kz_package_basename(pkg, i))->data;
        kz_sbuf_reset(&xml);
        rc = kz_package_read(pkg, i, out);
        if (rc == KZ_OK && cot)
            rc = take_cot(j, dec, &xml);
        if (rc != KZ_OK)
            snprintf(err, errlen, "%s: %s", kz_package_path(pkg, i),
                     rc == KZ_ERR_TOOBIG ? "the package's files are over the limit"
                     : cot               ? "not a valid CoT event"
                                         : "a corrupt entry");
    }
    kz_sbuf_release(&xml);
    kz_cot_decoder_free(dec);
    return rc;
}

/* ---- after the files are stored: the mission -------------------------------------- */

static void add_items(struct job *j, struct kz_mission *mi, char **v, unsigned n, bool is_hash)
{
    struct kz_sbuf banner = KZ_SBUF_INIT;

    for (unsigned i = 0; i < n; i++) {
        struct kz_label l = kz__mission_item_label(j->m, mi, v[i], is_hash, &banner);
        kz_mission_add_item(j->m->opts.missions, mi, v[i], is_hash, j->creator, banner.buf, &l,
                            kz_now_us());
    }
    kz_sbuf_release(&banner);
}

static void attach(struct job *j)
{
    struct kz_mission *mi = kz_mission_book_get(j->m->opts.missions, j->mission);
    struct kz__mcaller c;

    if (kz_http_gone(j->req))
        return;
    if (!mi) {
        kz_http_error(j->req, 404, "the mission is gone");
        return;
    }
    kz__mission_caller(j->m, j->req, &c);
    struct kz__mcommit *t = kz__mcommit_new(j->m, j->req, mi);
    add_items(j, mi, j->uids, j->n_uids, false);
    add_items(j, mi, j->hashes, j->n_hashes, true);
    struct kz_mission_view v = kz__mission_view(j->m, &c);
    kz__mcommit_answer(t, 200, T_MISSION, kz_mission_json(mi, &v));
    kz__mcommit_changes(t, mi, j->creator);
    kz__mcommit_run(t, mi, mi->guid);
}

/* ---- storing the files, one after the other -------------------------------------------- */

static void store_next(struct job *j);

static void stored(void *ud, int status, const struct kz_file *f)
{
    struct job *j = ud;

    if (status != KZ_OK) {
        if (!kz_http_gone(j->req))
            kz_http_error(j->req, 500, "store: %s", kz_strerror(status));
        job_free(j);
        return;
    }
    if (j->next > 0)
        push(&j->hashes, &j->n_hashes, f->row.hash);
    j->next++;
    store_next(j);
}

static void written(void *ud, int status, const char *hash, uint64_t size)
{
    struct job *j = ud;
    const struct kz_identity *id = kz_http_identity(j->req);
    char uid[KZ_FILE_UID_LEN + 1];

    if (status != KZ_OK) {
        if (!kz_http_gone(j->req))
            kz_http_error(j->req, 500, "a file of the package could not be stored");
        job_free(j);
        return;
    }
    kz_files_new_uid(uid);
    struct kz_store_file row = {
        .uid = uid,
        .hash = hash,
        .name = j->files[j->next].name,
        .mime = j->next ? "application/octet-stream" : "application/zip",
        .size = size,
        .time_us = kz_now_us(),
        .submitter = id && id->user ? id->user : "anonymous",
        .creator_uid = j->creator,
        .keywords = "missionpackage",
        .label = j->banner,
        .originator = id ? id->nation : NULL,
        .tool = "public",
    };
    kz_files_add(j->m->opts.files, &row, &j->label, id ? id->groups_out : NULL,
                 id ? id->groups_out_count : 0, stored, j);
}

static void store_next(struct job *j)
{
    if (j->next == j->n_files) {
        attach(j);
        job_free(j);
        return;
    }
    const struct file *f = &j->files[j->next];
    struct kz_file_writer *w = kz_file_writer_new(
        kz_http_loop(j->req), kz_files_dir(j->m->opts.files), j->m->max_file_bytes, NULL, NULL, j);
    int rc = kz_file_writer_add(w, f->data.buf ? f->data.buf : "", f->data.len);
    if (rc != KZ_OK && rc != KZ_ERR_AGAIN) {
        kz_file_writer_abort(w);
        if (!kz_http_gone(j->req))
            kz_http_error(j->req, 413, "%s: over limits.max_file_bytes", f->name);
        job_free(j);
        return;
    }
    kz_file_writer_finish(w, written);
}

/* ---- the handler --------------------------------------------------------------------- */

static struct job *job_new(struct kz_marti *m, struct kz_http_req *req, const struct kz_mission *mi)
{
    const char *creator = kz__mission_param(req, "creatorUid");
    struct job *j = kz_xcalloc(1, sizeof(*j));
    char name[KZ_MISSION_NAME_MAX + 8];

    j->m = m;
    j->req = req;
    j->mission = kz_xstrdup(mi->name);
    j->creator = kz_xstrdup(creator && *creator ? creator : "ANONYMOUS");
    j->label = mi->label;
    snprintf(j->banner, sizeof(j->banner), "%s", mi->banner);
    snprintf(name, sizeof(name), "%.255s.zip", mi->name);
    add_file(j, name);
    kz_http_hold(req);
    m->uploads++;
    return j;
}

void kz__mission_package(struct kz_http_req *req, void *app)
{
    struct kz_marti *m = app;
    struct kz__mcaller c;
    struct kz_mission *mi;
    struct kz_package *pkg = NULL;
    size_t len = 0;
    const char *body = kz_http_body(req, &len);
    char err[300];

    kz__mission_caller(m, req, &c);
    if (!(mi = kz__mission_for(m, req, &c, KZ_MPERM_WRITE, NULL)))
        return;
    if (!m->opts.files) {
        kz_http_error(req, 503, "no file store");
        return;
    }
    int rc = kz_package_open(body, len, m->max_file_bytes, &pkg, err, sizeof(err));
    struct job *j = rc == KZ_OK ? job_new(m, req, mi) : NULL;
    if (j && (rc = unpack(j, pkg, err, sizeof(err))) == KZ_OK)
        kz_sbuf_add(&j->files[0].data, body, len);
    kz_package_free(pkg);
    if (rc != KZ_OK) {
        kz_http_error(req, rc == KZ_ERR_TOOBIG ? 413 : 400, "mission package: %s", err);
        if (j)
            job_free(j);
        return;
    }
    store_next(j);
}
