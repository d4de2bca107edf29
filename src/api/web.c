/*
 * web.c - the browser COP's static files (docs/web.md): GET / answers
 * index.html and GET /web/{file} the other files of the directory given at
 * start (web.root), read once into memory by kz_api_web_load().  Each answer
 * carries an ETag (304 for a matching If-None-Match), Cache-Control:
 * no-cache (revalidate each time), a strict Content-Security-Policy, and
 * the build's precompressed FILE.gz with Content-Encoding: gzip when the
 * client accepts gzip.  Only the regular files directly in the directory
 * whose names are plain ([A-Za-z0-9._-], no leading dot) are served: a name
 * is looked up in that list, never joined to a path, so nothing outside
 * the directory can be reached.  The files carry no event data: no role.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "api/internal.h"

#define MAX_FILES 256
#define MAX_FILE_BYTES (64u << 20)

/* Same origin only.  MapLibre's worker is a module loaded from /web/; the symbols are data: images.
 */
#define CSP                                                                                        \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "           \
    "img-src 'self' data:; connect-src 'self'; worker-src 'self'; font-src 'self'; "               \
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"

struct web_file {
    char *name;
    const char *ctype;
    char *data, *gz; /* gz: the build's NAME.gz, or NULL */
    size_t len, gz_len;
    char etag[24]; /* "\"%016llx\"" of the content */
};

struct kz__api_web {
    struct web_file *files;
    size_t n;
};

static const struct {
    const char *ext, *ctype;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *ctype_of(const char *name)
{
    size_t nl = strlen(name);

    for (size_t i = 0; i < KZ_ARRAY_LEN(types); i++) {
        size_t el = strlen(types[i].ext);
        if (nl > el && strcmp(name + nl - el, types[i].ext) == 0)
            return types[i].ctype;
    }
    return "application/octet-stream";
}

static bool name_ok(const char *name)
{
    if (name[0] == '\0' || name[0] == '.' || strlen(name) > 128)
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
           strlen(name);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t sl = strlen(s), xl = strlen(suffix);
    return sl >= xl && strcmp(s + sl - xl, suffix) == 0;
}

/* FNV-1a: an ETag only has to change with the content. */
static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* The whole regular file dir/name: KZ_OK, KZ_ERR_NOTFOUND (absent or not a regular file),
 * KZ_ERR_TOOBIG or KZ_ERR_IO. */
static int read_file(const char *dir, const char *name, char **data, size_t *len)
{
    char path[4096];
    struct stat st;
    FILE *f;
    int rc = KZ_ERR_IO;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return KZ_ERR_TOOBIG;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return KZ_ERR_NOTFOUND;
    if ((uint64_t)st.st_size > MAX_FILE_BYTES)
        return KZ_ERR_TOOBIG;
    if (!(f = fopen(path, "rb")))
        return KZ_ERR_IO;
    *len = (size_t)st.st_size;
    *data = kz_xmalloc(*len ? *len : 1);
    if (fread(*data, 1, *len, f) == *len)
        rc = KZ_OK;
    else
        free(*data);
    fclose(f);
    return rc;
}

static int load_one(struct kz__api_web *w, const char *dir, const char *name)
{
    struct web_file *f;
    char gz[160];
    int rc;

    if (w->n == MAX_FILES)
        return KZ_ERR_TOOBIG;
    f = &w->files[w->n];
    memset(f, 0, sizeof(*f));
    if ((rc = read_file(dir, name, &f->data, &f->len)) != KZ_OK)
        return rc == KZ_ERR_NOTFOUND ? KZ_OK : rc; /* a subdirectory: not served */
    snprintf(gz, sizeof(gz), "%s.gz", name);
    if (read_file(dir, gz, &f->gz, &f->gz_len) != KZ_OK)
        f->gz = NULL;
    f->name = kz_xstrdup(name);
    f->ctype = ctype_of(name);
    snprintf(f->etag, sizeof(f->etag), "\"%016llx\"", (unsigned long long)fnv1a(f->data, f->len));
    w->n++;
    return KZ_OK;
}

static void web_free(struct kz__api_web *w)
{
    for (size_t i = 0; w && i < w->n; i++) {
        free(w->files[i].name);
        free(w->files[i].data);
        free(w->files[i].gz);
    }
    if (w)
        free(w->files);
    free(w);
}

static int load_dir(struct kz__api_web *w, const char *root, DIR *d, char *err, size_t errlen)
{
    struct dirent *e;
    int rc;

    while ((e = readdir(d)) != NULL) {
        if (!name_ok(e->d_name) || ends_with(e->d_name, ".gz"))
            continue;
        if ((rc = load_one(w, root, e->d_name)) != KZ_OK) {
            snprintf(err, errlen, "%s/%s: %s", root, e->d_name, kz_strerror(rc));
            return rc;
        }
    }
    return KZ_OK;
}

int kz_api_web_load(struct kz_api *api, const char *root, char *err, size_t errlen)
{
    struct kz__api_web *w = kz_xcalloc(1, sizeof(*w));
    DIR *d = opendir(root);
    int rc;

    if (!d) {
        snprintf(err, errlen, "%s: %s", root, strerror(errno));
        web_free(w);
        return errno == ENOENT ? KZ_ERR_NOTFOUND : KZ_ERR_IO;
    }
    w->files = kz_xcalloc(MAX_FILES, sizeof(*w->files));
    rc = load_dir(w, root, d, err, errlen);
    closedir(d);
    if (rc != KZ_OK) {
        web_free(w);
        return rc;
    }
    web_free(api->web);
    api->web = w;
    return KZ_OK;
}

void kz__api_web_release(struct kz_api *api)
{
    web_free(api->web);
    api->web = NULL;
}

/* ---- answering ------------------------------------------------------------------- */

/* One Accept-Encoding element [b, e): gzip (or *) and not refused with q=0. */
static bool element_gzip(const char *b, const char *e)
{
    const char *semi = memchr(b, ';', (size_t)(e - b)), *name_end = semi ? semi : e;
    const char *q;

    b += strspn(b, " \t");
    while (name_end > b && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
    if (!((name_end - b == 4 && strncasecmp(b, "gzip", 4) == 0) ||
          (name_end - b == 1 && *b == '*')))
        return false;
    if (!semi)
        return true;
    q = semi + 1 + strspn(semi + 1, " \t");
    if (e - q < 3 || strncasecmp(q, "q=0", 3) != 0)
        return true;
    for (q += 3; q < e && (*q == '.' || *q == '0'); q++)
        ;
    return q < e && *q != ' ' && *q != '\t'; /* q=0, q=0.0, q=0.000: refused */
}

static bool accepts_gzip(const char *ae)
{
    for (const char *b = ae, *e; *b; b = *e ? e + 1 : e) {
        e = b + strcspn(b, ",");
        if (element_gzip(b, e))
            return true;
    }
    return false;
}

/* If-None-Match names this ETag (weak or strong) or is "*". */
static bool etag_matches(const char *inm, const char *etag)
{
    return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

static const struct web_file *find(const struct kz__api_web *w, const char *name)
{
    for (size_t i = 0; w && i < w->n; i++)
        if (strcmp(w->files[i].name, name) == 0)
            return &w->files[i];
    return NULL;
}

static void serve(struct kz_http_req *req, struct kz_api *api, const char *name)
{
    const struct web_file *f = name_ok(name) ? find(api->web, name) : NULL;
    const char *ae = kz_http_header(req, "Accept-Encoding");
    bool gz = f && f->gz && ae && accepts_gzip(ae);
    char etag[32], extra[768];

    if (!f) {
        kz_http_error(req, 404, api->web ? "not found" : "the COP is not installed (web.root)");
        return;
    }
    /* Each representation has its own tag, so a cache never mixes them up. */
    snprintf(etag, sizeof(etag), gz ? "%.17s-gz\"" : "%s", f->etag);
    snprintf(extra, sizeof(extra),
             "ETag: %s\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\n" CSP
             "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n%s",
             etag, gz ? "Content-Encoding: gzip\r\n" : "");
    if (etag_matches(kz_http_header(req, "If-None-Match"), etag))
        kz_http_respond(req, 304, NULL, extra, NULL, 0);
    else if (gz)
        kz_http_respond(req, 200, f->ctype, extra, f->gz, f->gz_len);
    else
        kz_http_respond(req, 200, f->ctype, extra, f->data, f->len);
}

static void get_index(struct kz_http_req *req, void *app)
{
    serve(req, app, "index.html");
}

static void get_file(struct kz_http_req *req, void *app)
{
    serve(req, app, kz_http_path_param(req, "file"));
}

static const struct kz_http_route rows[] = {
    {"GET", "/", get_index, NULL, KZ_HTTP_ON_API},
    {"GET", "/web/{file}", get_file, NULL, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_web_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
