/*
 * package.c - reading a mission package (package.h) with libzip, from
 * memory, every size bounded: the declared ones when it opens, the bytes
 * inflated as they come.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zip.h>

#include "mission/package.h"

#define READ_CHUNK 65536

struct kz_package {
    zip_t *z;
    zip_uint64_t *index; /* the zip index of each file entry */
    unsigned n;
    uint64_t max_total, inflated;
};

static int fail(char *err, size_t errlen, int rc, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return rc;
}

static bool is_dir(const char *name)
{
    size_t n = strlen(name);
    return n == 0 || name[n - 1] == '/';
}

/* Check every entry and list the files; KZ_OK or the refusal. */
static int scan(struct kz_package *p, zip_int64_t n, char *err, size_t errlen)
{
    uint64_t declared = 0;
    bool manifest = false;
    zip_stat_t st;

    p->index = kz_xcalloc((size_t)n + 1, sizeof(*p->index));
    for (zip_int64_t i = 0; i < n; i++) {
        if (zip_stat_index(p->z, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
            !(st.valid & ZIP_STAT_SIZE))
            return fail(err, errlen, KZ_ERR_PARSE, "an entry without a name or size");
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
            return fail(err, errlen, KZ_ERR_PARSE, "an encrypted entry");
        declared += st.size;
        if (st.size > p->max_total || declared > p->max_total)
            return fail(err, errlen, KZ_ERR_TOOBIG, "the package's files are over the limit");
        if (strcmp(st.name, KZ_PACKAGE_MANIFEST) == 0)
            manifest = true;
        else if (!is_dir(st.name))
            p->index[p->n++] = (zip_uint64_t)i;
    }
    return manifest ? KZ_OK : fail(err, errlen, KZ_ERR_PARSE, "no " KZ_PACKAGE_MANIFEST);
}

int kz_package_open(const void *buf, size_t len, uint64_t max_total, struct kz_package **out,
                    char *err, size_t errlen)
{
    struct kz_package *p = kz_xcalloc(1, sizeof(*p));
    zip_error_t ze;
    zip_source_t *src;
    int rc;

    *out = NULL;
    p->max_total = max_total;
    zip_error_init(&ze);
    src = len ? zip_source_buffer_create(buf, len, 0, &ze) : NULL;
    if (src && !(p->z = zip_open_from_source(src, ZIP_RDONLY, &ze)))
        zip_source_free(src);
    zip_error_fini(&ze);
    if (!p->z) {
        rc = fail(err, errlen, KZ_ERR_PARSE, "not a zip");
        goto out;
    }
    zip_int64_t n = zip_get_num_entries(p->z, 0);
    if (n > KZ_PACKAGE_MAX_ENTRIES) {
        rc = fail(err, errlen, KZ_ERR_TOOBIG, "too many entries in the package");
        goto out;
    }
    if ((rc = scan(p, n, err, errlen)) == KZ_OK) {
        *out = p;
        return KZ_OK;
    }
out:
    kz_package_free(p);
    return rc;
}

void kz_package_free(struct kz_package *p)
{
    if (!p)
        return;
    if (p->z)
        zip_discard(p->z);
    free(p->index);
    free(p);
}

unsigned kz_package_count(const struct kz_package *p)
{
    return p->n;
}

const char *kz_package_path(const struct kz_package *p, unsigned i)
{
    return zip_get_name(p->z, p->index[i], 0);
}

const char *kz_package_basename(const struct kz_package *p, unsigned i)
{
    const char *path = kz_package_path(p, i), *slash = path ? strrchr(path, '/') : NULL;

    return slash ? slash + 1 : path;
}

bool kz_package_is_cot(const struct kz_package *p, unsigned i)
{
    const char *path = kz_package_path(p, i);
    size_t n = path ? strlen(path) : 0;

    return n > 4 && strcasecmp(path + n - 4, ".cot") == 0;
}

int kz_package_read(struct kz_package *p, unsigned i, struct kz_sbuf *out)
{
    zip_file_t *f = zip_fopen_index(p->z, p->index[i], 0);
    char *chunk = kz_xmalloc(READ_CHUNK);
    zip_int64_t got;
    int rc = KZ_OK;

    if (!f) {
        free(chunk);
        return KZ_ERR_PARSE;
    }
    while ((got = zip_fread(f, chunk, READ_CHUNK)) > 0) {
        p->inflated += (uint64_t)got;
        if (p->inflated > p->max_total) {
            rc = KZ_ERR_TOOBIG;
            break;
        }
        kz_sbuf_add(out, chunk, (size_t)got);
    }
    if (got < 0)
        rc = KZ_ERR_PARSE;
    zip_fclose(f);
    free(chunk);
    return rc;
}
