/*
 * sync.c - downloads of uploaded files over Marti, as TAK Server serves
 * them, and the row tables of the file routes (upload.c takes uploads):
 *
 *   GET /Marti/sync/content?hash=       the file, streamed from disk with
 *                                       its stored MIME type
 *   GET /Marti/sync/missionquery?hash=  200 with the content URL when the
 *                                       file is there (ATAK then skips
 *                                       the upload), else 404
 *
 * A caller who may not see any upload of the hash (the release rule on its
 * label, the uploader's OUT groups against the caller's IN groups) gets
 * 404, exactly as for a hash nobody uploaded: the answer says nothing
 * about files the caller may not see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marti/internal.h"

#define PIECE (64u * 1024)

const struct kz_sub *kz__marti_viewer(struct kz_marti *m, const struct kz_http_req *req)
{
    static const struct kz_sub nobody; /* immutable: sees nothing labelled */
    const struct kz_sub *v = m->opts.view ? m->opts.view(req) : NULL;

    return v ? v : &nobody;
}

void kz__marti_content_url(struct kz_sbuf *out, struct kz_http_req *req, const char *hash)
{
    const struct kz_input *in = kz_http_input(req);
    const char *host = kz_http_header(req, "Host");
    bool tls = in && in->conf && in->conf->protocol == KZ_PROTO_HTTPS;

    kz_sbuf_addf(out, "%s://%s/Marti/sync/content?hash=%s", tls ? "https" : "http",
                 host && *host && !strpbrk(host, "/?#@ \t") ? host : "localhost", hash);
}

/* What to do with the upload of ?hash= the caller may see (the request held). */
typedef void (*kz__file_then_fn)(struct kz_marti *m, struct kz_http_req *req,
                                 const struct kz_file *f);

/* A request waiting for the store to say what it holds of a hash. */
struct lookup {
    struct kz_marti *m;
    struct kz_http_req *req;
    kz__file_then_fn then;
    char hash[KZ_FILE_HASH_HEX + 1];
};

/* The upload of `hash` the caller may see, or NULL. */
static const struct kz_file *find_visible(struct kz_marti *m, struct kz_http_req *req,
                                          const char *hash)
{
    const struct kz_identity *id = kz_http_identity(req);
    struct kz_files_viewer v;

    if (!id)
        return NULL;
    v = (struct kz_files_viewer){&kz__marti_viewer(m, req)->subject, id->groups_in,
                                 id->groups_in_count};
    return kz_files_find(m->opts.files, hash, &v);
}

static void on_looked_up(void *ud, int status)
{
    struct lookup *l = ud;
    struct kz_http_req *req = l->req;
    bool read = status == KZ_OK || status == KZ_ERR_NOTFOUND;
    const struct kz_file *f = read && !kz_http_gone(req) ? find_visible(l->m, req, l->hash) : NULL;

    if (f) {
        l->then(l->m, req, f); /* it has the hold now */
    } else {
        if (!kz_http_gone(req))
            kz_http_error(req, read ? 404 : 503, "%s",
                          read ? "not found" : "the store cannot be read");
        kz_http_release(req);
    }
    free(l);
}

/*
 * then(m, req, f) with the upload of ?hash= the caller may see, or answer 400/404/503.  An
 * instance whose store keeps file bytes (PostgreSQL) asks it first about a hash its index
 * lacks: another instance may have taken the upload.
 */
static void with_visible_file(struct kz_marti *m, struct kz_http_req *req, kz__file_then_fn then)
{
    const char *hash = kz_http_param(req, "hash");
    const struct kz_file *f;
    struct lookup *l;
    char lower[KZ_FILE_HASH_HEX + 1] = "";

    if (!m->opts.files) {
        kz_http_error(req, 503, "no file store");
        return;
    }
    for (size_t i = 0; hash && hash[i] && i < KZ_FILE_HASH_HEX; i++)
        lower[i] = (char)(hash[i] >= 'A' && hash[i] <= 'F' ? hash[i] - 'A' + 'a' : hash[i]);
    if (!hash || strlen(hash) != KZ_FILE_HASH_HEX || !kz_file_hash_valid(lower)) {
        kz_http_error(req, 400, "hash: a SHA-256 in hex required");
        return;
    }
    if ((f = find_visible(m, req, lower)) != NULL) {
        kz_http_hold(req);
        then(m, req, f);
        return;
    }
    if (!kz_http_identity(req) || !kz_files_fetches(m->opts.files)) {
        kz_http_error(req, 404, "not found");
        return;
    }
    l = kz_xcalloc(1, sizeof(*l));
    *l = (struct lookup){.m = m, .req = req, .then = then};
    memcpy(l->hash, lower, sizeof(l->hash));
    kz_http_hold(req);
    kz_files_fetch(m->opts.files, lower, false, on_looked_up, l);
}

static void answer_query(struct kz_marti *m, struct kz_http_req *req, const struct kz_file *f)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;

    KZ_UNUSED(m);
    kz__marti_content_url(&sb, req, f->row.hash);
    kz_http_respond(req, 200, "text/plain", NULL, sb.buf, sb.len);
    kz_sbuf_release(&sb);
    kz_http_release(req);
}

void kz__marti_mission_query(struct kz_http_req *req, void *app)
{
    with_visible_file(app, req, answer_query);
}

/* ---- GET /Marti/sync/content: the file, piece by piece --------------------------- */

struct download {
    struct kz_http_req *req;
    struct kz_marti *m;
    struct kz_file_reader *r;
    char *mime, *name;
    char hash[KZ_FILE_HASH_HEX + 1];
    char path[4096];
    bool fetched; /* the bytes were asked of the store already */
    uint64_t size, off;
    struct kz_sbuf piece; /* read, not yet handed to the engine */
    bool reading;
    bool answered;
};

static void download_free(struct download *d)
{
    kz_file_reader_close(d->r);
    kz_sbuf_release(&d->piece);
    free(d->mime);
    free(d->name);
    free(d);
}

static void on_piece(void *ud, int status, const char *data, size_t n);

static void read_next(struct download *d)
{
    uint64_t left = d->size - d->off;

    d->reading = true;
    kz_file_reader_read(d->r, left < PIECE ? (size_t)left : PIECE, on_piece);
}

static enum kz_http_body_step next(void *ud, struct kz_sbuf *out, size_t want)
{
    struct download *d = ud;

    KZ_UNUSED(want);
    kz_sbuf_add(out, d->piece.buf, d->piece.len);
    kz_sbuf_reset(&d->piece);
    if (d->off == d->size)
        return KZ_HTTP_BODY_DONE;
    if (!d->reading)
        read_next(d);
    return KZ_HTTP_BODY_WAIT;
}

static void body_close(void *ud)
{
    download_free(ud);
}

/* Content-Disposition with the stored name, minus what could break the header. */
static void disposition(struct kz_sbuf *sb, const char *name)
{
    kz_sbuf_adds(sb, "Content-Disposition: attachment; filename=\"");
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f)
            kz_sbuf_add(sb, p, 1);
    kz_sbuf_adds(sb, "\"\r\n");
}

static void answer(struct download *d)
{
    struct kz_http_req *req = d->req;
    struct kz_sbuf extra = KZ_SBUF_INIT;

    d->answered = true;
    disposition(&extra, d->name);
    kz_http_respond_sized(req, 200, d->mime, extra.buf, d->size,
                          &(struct kz_http_body){next, body_close, d});
    kz_sbuf_release(&extra);
    kz_http_release(req); /* the engine has it now; closing the connection closes d */
}

static void fail(struct download *d, int status)
{
    struct kz_http_req *req = d->req;

    if (d->answered) {
        kz_http_body_fail(req); /* cut short: the client sees it; body_close frees d */
        return;
    }
    if (!kz_http_gone(req))
        kz_http_error(req, status == KZ_ERR_NOTFOUND ? 404 : 500, "%s",
                      status == KZ_ERR_NOTFOUND ? "not found" : "the file cannot be read");
    download_free(d);
    kz_http_release(req);
}

static void on_piece(void *ud, int status, const char *data, size_t n)
{
    struct download *d = ud;

    d->reading = false;
    if (status != KZ_OK || n == 0) {
        fail(d, status == KZ_OK ? KZ_ERR_IO : status); /* shorter than it was */
        return;
    }
    kz_sbuf_add(&d->piece, data, n);
    d->off += n;
    if (!d->answered)
        answer(d);
    else
        kz_http_body_resume(d->req);
}

static void on_opened(void *ud, int status, uint64_t size);

/* The store has written the bytes to disk (or said why not): read them from there. */
static void on_fetched(void *ud, int status)
{
    struct download *d = ud;

    if (status != KZ_OK || kz_http_gone(d->req)) {
        fail(d, status == KZ_ERR_NOTFOUND ? KZ_ERR_NOTFOUND : KZ_ERR_IO);
        return;
    }
    d->r = kz_file_reader_open(kz_http_loop(d->req), d->path, on_opened, d);
}

static void on_opened(void *ud, int status, uint64_t size)
{
    struct download *d = ud;

    /* Not on this instance's disk: the store may keep the bytes (another instance took the
     * upload, or the node's store was copied to PostgreSQL). */
    if (status == KZ_ERR_NOTFOUND && !d->fetched && kz_files_fetches(d->m->opts.files) &&
        !kz_http_gone(d->req)) {
        kz_file_reader_close(d->r);
        d->r = NULL;
        d->fetched = true;
        kz_files_fetch(d->m->opts.files, d->hash, true, on_fetched, d);
        return;
    }
    if (status != KZ_OK || kz_http_gone(d->req)) {
        fail(d, status);
        return;
    }
    d->size = size;
    if (size == 0)
        answer(d);
    else
        read_next(d);
}

static void content_of(struct kz_marti *m, struct kz_http_req *req, const struct kz_file *f)
{
    struct download *d = kz_xcalloc(1, sizeof(*d));

    if (kz_file_path(kz_files_dir(m->opts.files), f->row.hash, d->path, sizeof(d->path)) != KZ_OK) {
        free(d);
        kz_http_error(req, 500, "path too long");
        kz_http_release(req);
        return;
    }
    d->req = req;
    d->m = m;
    d->mime = kz_xstrdup(f->row.mime);
    d->name = kz_xstrdup(f->row.name);
    memcpy(d->hash, f->row.hash, sizeof(d->hash));
    d->r = kz_file_reader_open(kz_http_loop(req), d->path, on_opened, d);
}

void kz__marti_content(struct kz_http_req *req, void *app)
{
    with_visible_file(app, req, content_of);
}

/* ---- the stream rows ------------------------------------------------------------------ */

static const struct kz_http_route stream_rows[] = {
    {"POST", "/Marti/sync/upload", kz__marti_upload, KZ_ROLE_OPERATOR, KZ_HTTP_ON_API},
    {"POST", "/Marti/sync/missionupload", kz__marti_mission_upload, KZ_ROLE_OPERATOR,
     KZ_HTTP_ON_API},
};

void kz__marti_stream_rows(struct kz_marti *m)
{
    m->stream_routes = stream_rows;
    m->n_stream_routes = KZ_ARRAY_LEN(stream_rows);
}
