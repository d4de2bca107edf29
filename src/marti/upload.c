/*
 * upload.c - file uploads over Marti, as TAK Server takes them:
 *
 *   POST /Marti/sync/upload?name=&keywords=&creatorUid=&tool=&label=
 *        the body is the file (its Content-Type the file's), or
 *        multipart/form-data with the file in part "assetfile" (ATAK) or
 *        "resource" (browsers); answers TAK's metadata JSON.
 *   POST /Marti/sync/missionupload?hash=&filename=&creatorUid=&label=
 *        ATAK's mission-package upload, multipart "assetfile"; the bytes
 *        must have `hash`; answers the content URL as text.
 *
 * Both are stream rows: the body goes to disk as it arrives (a file
 * writer, mission/files.h) and is never held whole; over
 * limits.max_file_bytes it is answered 413 and its temporary removed.  The
 * answer comes after the file is in place and its metadata row committed.
 *
 * Every file carries a label: `label=` (a banner the uploader may itself
 * see, under its input's ceiling) or the input's default label, with the
 * uploader's nation as originator; and the uploader's OUT groups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marti/internal.h"

/* JSON, but not exactly application/json: node-tak decodes exactly that itself, and its
 * Files.upload then JSON.parse()s what it got, as TAK Server's answer needs. */
#define CT_META "application/json;charset=UTF-8"

struct upload {
    struct kz_marti *m;
    struct kz_http_req *req;
    struct kz_file_writer *w;
    struct kz_multipart *mp; /* NULL: the body is the file */
    bool mission;            /* missionupload: answer the URL */
    bool in_file;            /* inside the file's part */
    bool got_file;           /* the file's part was seen */
    bool paused;             /* the writer asked to wait */
    struct kz_label label;
    char banner[KZ_LABEL_MAX_LEN + 1];
    char *name, *mime, *keywords, *creator_uid, *tool;
};

static void upload_free(struct upload *u)
{
    free(u->mp);
    free(u->name);
    free(u->mime);
    free(u->keywords);
    free(u->creator_uid);
    free(u->tool);
    free(u);
}

/* Done with the request: the hold taken at the headers goes. */
static void finish(struct upload *u)
{
    struct kz_http_req *req = u->req;

    u->m->uploads--;
    upload_free(u);
    kz_http_release(req);
}

/* ---- the answer -------------------------------------------------------------------- */

static void add_str(struct kz_sbuf *sb, const char *key, const char *v)
{
    kz_sbuf_addf(sb, ",\"%s\":", key);
    kz_json_escape(sb, v ? v : "", v ? strlen(v) : 0);
}

/* TAK's date format, yyyy-MM-dd'T'HH:mm:ss.SSS'Z': a whole millisecond formats so. */
static const char *tak_time(int64_t us, char t[KZ_TIME_STRLEN])
{
    kz_time_format(us - us % 1000, t);
    return t;
}

/* TAK's Metadata JSON (UploadServlet): enum-named keys; what is not set is left out. */
static void metadata_json(struct kz_sbuf *sb, const struct kz_file *f)
{
    const struct kz_store_file *r = &f->row;
    char t[KZ_TIME_STRLEN];
    char **kw;
    unsigned n = 0;

    kz_sbuf_adds(sb, "{\"UID\":");
    kz_json_escape(sb, r->uid, strlen(r->uid));
    add_str(sb, "SubmissionDateTime", tak_time(r->time_us, t));
    kz_sbuf_adds(sb, ",\"Keywords\":[");
    kw = kz_strv_split(r->keywords, &n);
    for (unsigned i = 0; i < n; i++) {
        kz_sbuf_adds(sb, i ? "," : "");
        kz_json_escape(sb, kw[i], strlen(kw[i]));
    }
    kz_strv_free(kw, n);
    kz_sbuf_adds(sb, "]");
    add_str(sb, "MIMEType", r->mime);
    add_str(sb, "SubmissionUser", r->submitter);
    kz_sbuf_addf(sb, ",\"PrimaryKey\":\"%llu\"", (unsigned long long)f->key);
    add_str(sb, "Hash", r->hash);
    if (r->creator_uid)
        add_str(sb, "CreatorUid", r->creator_uid);
    add_str(sb, "Name", r->name);
    if (r->tool)
        add_str(sb, "Tool", r->tool);
    kz_sbuf_addf(sb, ",\"Size\":%llu}\n", (unsigned long long)r->size);
}

static void on_added(void *ud, int status, const struct kz_file *f)
{
    struct upload *u = ud;
    struct kz_sbuf sb = KZ_SBUF_INIT;

    kz_log(KZ_LOG_INFO, "files: uploaded", "hash=%s name=\"%s\" size=%llu user=%s status=%s",
           f ? f->row.hash : "-", u->name, f ? (unsigned long long)f->row.size : 0ULL,
           f ? f->row.submitter : "-", kz_strerror(status));
    if (kz_http_gone(u->req)) {
        finish(u); /* stored all the same: the file is whole and committed */
        return;
    }
    if (status != KZ_OK) {
        kz_http_error(u->req, 500, "store: %s", kz_strerror(status));
    } else if (u->mission) {
        kz__marti_content_url(&sb, u->req, f->row.hash);
        kz_http_respond(u->req, 200, "text/plain", NULL, sb.buf, sb.len);
    } else {
        metadata_json(&sb, f);
        kz_http_respond(u->req, 200, CT_META, NULL, sb.buf, sb.len);
    }
    kz_sbuf_release(&sb);
    finish(u);
}

/* The file is in place under its hash: record it. */
static void on_written(void *ud, int status, const char *hash, uint64_t size)
{
    struct upload *u = ud;
    const struct kz_identity *id = kz_http_identity(u->req);
    char uid[KZ_FILE_UID_LEN + 1];

    u->w = NULL; /* freed after this returns */
    if (status != KZ_OK) {
        if (!kz_http_gone(u->req))
            kz_http_error(u->req, status == KZ_ERR_INVAL ? 400 : 500, "%s",
                          status == KZ_ERR_INVAL ? "the file does not have the hash given"
                                                 : "the file could not be stored");
        finish(u);
        return;
    }
    kz_files_new_uid(uid);
    struct kz_store_file row = {
        .uid = uid,
        .hash = hash,
        .name = u->name,
        .mime = u->mime ? u->mime : "application/octet-stream",
        .size = size,
        .time_us = kz_now_us(),
        .submitter = id->user,
        .creator_uid = u->creator_uid,
        .keywords = u->keywords,
        .label = u->banner,
        .originator = id->nation,
        .tool = u->tool,
    };
    /* The hash comes from the writer: always valid. */
    int rc = kz_files_add(u->m->opts.files, &row, &u->label, id->groups_out, id->groups_out_count,
                          on_added, u);
    KZ_ASSERT(rc == KZ_OK);
}

/* ---- the body -------------------------------------------------------------------------- */

static int to_writer(struct upload *u, const char *data, size_t len)
{
    int rc = kz_file_writer_add(u->w, data, len);

    if (rc == KZ_ERR_AGAIN) {
        u->paused = true;
        return KZ_OK;
    }
    return rc;
}

static int part_begin(void *ud, const struct kz_multipart_part *p)
{
    struct upload *u = ud;

    /* The first "assetfile" or "resource" part is the file; other parts are skipped. */
    u->in_file =
        !u->got_file && (strcmp(p->name, "assetfile") == 0 || strcmp(p->name, "resource") == 0);
    if (!u->in_file)
        return KZ_OK;
    u->got_file = true;
    if (!u->name && p->filename && p->filename[0])
        u->name = kz_xstrdup(p->filename);
    if (p->content_type) {
        free(u->mime);
        u->mime = kz_xstrdup(p->content_type);
    }
    return KZ_OK;
}

static int part_data(void *ud, const char *data, size_t len)
{
    struct upload *u = ud;
    return u->in_file ? to_writer(u, data, len) : KZ_OK;
}

static int part_end(void *ud)
{
    ((struct upload *)ud)->in_file = false;
    return KZ_OK;
}

static int sink_data(void *ud, const char *data, size_t len)
{
    struct upload *u = ud;
    int rc = u->mp ? kz_multipart_feed(u->mp, data, len) : to_writer(u, data, len);

    if (rc == KZ_OK && u->paused)
        return KZ_ERR_AGAIN; /* resumed from on_ready */
    return rc;
}

static void on_ready(void *ud)
{
    struct upload *u = ud;

    u->paused = false;
    kz_http_sink_resume(u->req);
}

static void sink_end(void *ud)
{
    struct upload *u = ud;
    const char *why = NULL;

    if (u->mp && kz_multipart_finish(u->mp) != KZ_OK)
        why = "malformed multipart body";
    else if (u->mp && !u->got_file)
        why = "no \"assetfile\" or \"resource\" part";
    else if (!u->name || !u->name[0])
        why = "name required";
    if (why) {
        kz_file_writer_abort(u->w);
        kz_http_error(u->req, 400, "%s", why);
        finish(u);
        return;
    }
    kz_file_writer_finish(u->w, on_written);
}

static void sink_abort(void *ud, int err)
{
    struct upload *u = ud;

    KZ_UNUSED(err);
    kz_file_writer_abort(u->w);
    finish(u);
}

/* ---- the headers ------------------------------------------------------------------------ */

/* The file's label: label= within the uploader's reach, else the input's default. */
static bool take_label(struct kz_marti *m, struct kz_http_req *req, struct upload *u)
{
    const struct kz_identity *id = kz_http_identity(req);
    const struct kz_input *in = kz_http_input(req);
    const char *given = kz_http_param(req, "label");
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char err[200];

    if (given) {
        if (kz_label_parse(m->opts.policy, given, strlen(given), &u->label, err, sizeof(err))) {
            kz_http_error(req, 400, "label: %s", err);
            return false;
        }
    } else if (in && in->has_default_label) {
        u->label = in->default_label;
    } else {
        kz_http_error(req, 400, "label required: this input has no default label");
        return false;
    }
    u->label.originator = kz_nation_index(id->nation, strlen(id->nation));
    if (!kz_may_release(&u->label, &kz__marti_viewer(m, req)->subject, NULL) ||
        (in && in->has_ceiling && !kz_label_dominated(&u->label, &in->ceiling))) {
        kz_http_error(req, 403, "label beyond the uploader's reach");
        return false;
    }
    if (kz_label_format(m->opts.policy, &u->label, &sb) != KZ_OK || sb.len > KZ_LABEL_MAX_LEN) {
        kz_sbuf_release(&sb);
        kz_http_error(req, 400, "label cannot be formatted");
        return false;
    }
    memcpy(u->banner, sb.buf, sb.len + 1);
    kz_sbuf_release(&sb);
    return true;
}

/* keywords=a&keywords=b or keywords=a,b: joined with commas. */
static char *keywords(const struct kz_http_req *req, const char *fixed)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;

    if (fixed)
        kz_sbuf_adds(&sb, fixed);
    for (unsigned i = 0;; i++) {
        const char *k = kz_http_param_nth(req, "keywords", i);
        if (!k)
            break;
        if (*k)
            kz_sbuf_addf(&sb, "%s%s", sb.len ? "," : "", k);
    }
    return sb.len ? sb.buf : (kz_sbuf_release(&sb), NULL);
}

static struct upload *upload_new(struct kz_marti *m, struct kz_http_req *req, bool mission)
{
    struct upload *u = kz_xcalloc(1, sizeof(*u));
    const char *creator = kz_http_param(req, "creatorUid");

    u->m = m;
    u->req = req;
    u->mission = mission;
    /* Older iTAK writes CreatorUid. */
    creator = creator ? creator : kz_http_param(req, "CreatorUid");
    u->creator_uid = kz_xstrdup(creator);
    u->name = kz_xstrdup(kz_http_param(req, mission ? "filename" : "name"));
    u->tool = kz_xstrdup(kz_http_param(req, "tool"));
    u->keywords = keywords(req, mission ? "missionpackage" : NULL);
    return u;
}

/* The body's framing: multipart (its parser) or the file itself (its type). */
static bool take_framing(struct kz_http_req *req, struct upload *u)
{
    static const struct kz_multipart_ops ops = {part_begin, part_data, part_end};
    const char *ct = kz_http_header(req, "Content-Type");
    char boundary[KZ_MULTIPART_MAX_BOUNDARY + 1];
    int rc = kz_multipart_boundary(ct, boundary, sizeof(boundary));

    if (rc == KZ_ERR_NOTFOUND && !u->mission) {
        u->mime = ct && *ct ? kz_xstrndup(ct, strcspn(ct, ";")) : NULL;
        return true;
    }
    if (rc != KZ_OK) {
        kz_http_error(req, 400, "%s",
                      rc == KZ_ERR_NOTFOUND ? "multipart/form-data required"
                                            : "bad multipart boundary");
        return false;
    }
    u->mp = kz_xmalloc(sizeof(*u->mp));
    kz_multipart_init(u->mp, boundary, &ops, u);
    return true;
}

/* What can be refused before any byte of the body is read; true when answered. */
static bool refused(struct kz_http_req *req, struct kz_marti *m, bool mission, const char *hash)
{
    const struct kz_identity *id = kz_http_identity(req);

    if (!m->opts.files)
        kz_http_error(req, 503, "no file store");
    else if (!id || !id->nation)
        kz_http_error(req, 403, "no identity");
    else if (mission && !kz_file_hash_valid(hash))
        kz_http_error(req, 400, "hash: 64 lower-case hex digits required");
    else
        return false;
    return true;
}

/* A body the file store would refuse anyway: a raw one without a name, or declared too big. */
static bool refused_body(struct kz_http_req *req, struct upload *u)
{
    const char *cl = kz_http_header(req, "Content-Length");

    if (u->mp)
        return false; /* the file is one part: its size is known as it comes */
    if (!u->name || !u->name[0]) {
        kz_http_error(req, 400, "name required");
        return true;
    }
    if (cl && strtoull(cl, NULL, 10) > u->m->max_file_bytes) {
        kz_http_error(req, 413, "request body too large"); /* before the client sends it */
        return true;
    }
    return false;
}

static void start(struct kz_http_req *req, struct kz_marti *m, bool mission)
{
    const char *hash = mission ? kz_http_param(req, "hash") : NULL;
    struct upload *u;

    if (refused(req, m, mission, hash))
        return;
    u = upload_new(m, req, mission);
    if (!take_label(m, req, u) || !take_framing(req, u) || refused_body(req, u)) {
        upload_free(u);
        return;
    }
    u->w = kz_file_writer_new(kz_http_loop(req), kz_files_dir(m->opts.files), m->max_file_bytes,
                              hash, on_ready, u);
    kz_http_hold(req);
    m->uploads++;
    if (kz_http_sink_start(req, &(struct kz_http_sink){sink_data, sink_end, sink_abort, u}) !=
        KZ_OK) {
        kz_file_writer_abort(u->w);
        finish(u);
    }
}

void kz__marti_upload(struct kz_http_req *req, void *app)
{
    start(req, app, false);
}

void kz__marti_mission_upload(struct kz_http_req *req, void *app)
{
    start(req, app, true);
}
