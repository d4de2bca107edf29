/*
 * files.c - the index of uploaded files: every upload's metadata row and
 * its parsed label, in commit order, loaded once at startup and grown as
 * uploads commit; and the directory DATA/files the bytes live in.
 *
 * A file is shown only to callers the release rule gives its label to and
 * whose IN groups meet the uploader's OUT groups, as a CoT event from the
 * uploader would be.  The same bytes uploaded twice are two entries with
 * one hash, each under its own label: a caller sees the file when one of
 * them is visible.
 *
 * On a store that keeps file bytes (PostgreSQL, which a cluster's
 * instances share), the index also takes the uploads another instance
 * committed, and the disk the bytes it lacks, when a caller asks for a hash
 * (kz_files_fetch): the disk is then this instance's cache of the store.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mission/files.h"

/*
 * Uploads are kept in commit order (v, owning) and found by hash through an
 * open-addressing table of the newest upload of each hash (slots, a power
 * of two, at most half full); older uploads of the same hash hang off it
 * (kz_file.older).  A hash is uniformly random, so its first hex digits are
 * the slot.
 */
struct kz_files {
    struct kz_files_opts opts;
    char dir[PATH_MAX];
    struct kz_file **v; /* owned, commit order */
    size_t n, cap;
    struct kz_file **slots; /* newest upload per hash; borrowed from v */
    size_t n_slots, used;
    uint64_t fetches; /* names the temporaries of kz_files_fetch */
};

const char *kz_files_dir(const struct kz_files *fs)
{
    return fs->dir;
}

/* ---- entries ---------------------------------------------------------------- */

static void file_free(struct kz_file *f)
{
    struct kz_store_file *r = &f->row;

    free((char *)r->uid);
    free((char *)r->hash);
    free((char *)r->name);
    free((char *)r->mime);
    free((char *)r->submitter);
    free((char *)r->creator_uid);
    free((char *)r->keywords);
    free((char *)r->label);
    free((char *)r->originator);
    free((char *)r->groups);
    free((char *)r->tool);
    kz_strv_free(f->groups, f->n_groups);
    free(f);
}

static struct kz_file *file_new(const struct kz_store_file *row)
{
    struct kz_file *f = kz_xcalloc(1, sizeof(*f));
    struct kz_store_file *r = &f->row;

    *r = *row;
    r->uid = kz_xstrdup(row->uid);
    r->hash = kz_xstrdup(row->hash);
    r->name = kz_xstrdup(row->name);
    r->mime = kz_xstrdup(row->mime);
    r->submitter = kz_xstrdup(row->submitter);
    r->creator_uid = kz_xstrdup(row->creator_uid);
    r->keywords = kz_xstrdup(row->keywords);
    r->label = kz_xstrdup(row->label);
    r->originator = kz_xstrdup(row->originator);
    r->groups = kz_xstrdup(row->groups);
    r->tool = kz_xstrdup(row->tool);
    f->groups = kz_strv_split(row->groups, &f->n_groups);
    return f;
}

/* The first 16 hex digits of a valid hash, as a number. */
static size_t hash_bits(const char *hash)
{
    size_t h = 0;

    for (int i = 0; i < 16; i++)
        h = h << 4 | (size_t)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return h;
}

/* The slot of `hash` (a valid one): where it is, or the free slot it would take. */
static size_t slot_of(const struct kz_files *fs, const char *hash)
{
    size_t i = hash_bits(hash) & (fs->n_slots - 1);

    while (fs->slots[i] && strcmp(fs->slots[i]->row.hash, hash) != 0)
        i = (i + 1) & (fs->n_slots - 1);
    return i;
}

static void grow_slots(struct kz_files *fs)
{
    struct kz_file **old = fs->slots;
    size_t n = fs->n_slots;

    fs->n_slots = n ? n * 2 : 256;
    fs->slots = kz_xcalloc(fs->n_slots, sizeof(*fs->slots));
    for (size_t i = 0; i < n; i++)
        if (old[i])
            fs->slots[slot_of(fs, old[i]->row.hash)] = old[i];
    free(old);
}

static void index_add(struct kz_files *fs, struct kz_file *f)
{
    size_t i;

    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 64;
        fs->v = kz_xrealloc(fs->v, fs->cap * sizeof(*fs->v));
    }
    fs->v[fs->n++] = f;
    f->key = fs->n;
    if (2 * (fs->used + 1) > fs->n_slots)
        grow_slots(fs);
    i = slot_of(fs, f->row.hash);
    f->older = fs->slots[i];
    fs->used += f->older == NULL;
    fs->slots[i] = f;
}

void kz_files_new_uid(char out[KZ_FILE_UID_LEN + 1])
{
    unsigned char b[16];

    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, KZ_FILE_UID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

bool kz_file_visible(const struct kz_file *f, const struct kz_files_viewer *v)
{
    if (!v->who || !kz_may_release(&f->label, v->who, NULL))
        return false;
    for (unsigned i = 0; i < f->n_groups; i++)
        for (unsigned j = 0; j < v->n_groups_in; j++)
            if (strcmp(f->groups[i], v->groups_in[j]) == 0)
                return true;
    return false;
}

const struct kz_file *kz_files_newest(const struct kz_files *fs, const char *hash)
{
    if (!kz_file_hash_valid(hash) || fs->n_slots == 0)
        return NULL;
    return fs->slots[slot_of(fs, hash)];
}

const struct kz_file *kz_files_find(const struct kz_files *fs, const char *hash,
                                    const struct kz_files_viewer *v)
{
    const struct kz_file *f;

    if (!kz_file_hash_valid(hash) || fs->n_slots == 0)
        return NULL;
    for (f = fs->slots[slot_of(fs, hash)]; f; f = f->older)
        if (kz_file_visible(f, v))
            return f;
    return NULL;
}

/* ---- startup ------------------------------------------------------------------ */

/* A row as stored: its label is re-parsed; one that no longer parses is shown to nobody. */
static void on_row(void *ud, const struct kz_store_file *row)
{
    struct kz_files *fs = ud;
    struct kz_file *f;
    const char *orig = row->originator ? row->originator : "";

    if (!kz_file_hash_valid(row->hash)) {
        kz_log(KZ_LOG_WARN, "files: stored row without a valid hash", "uid=%s", row->uid);
        return;
    }
    f = file_new(row);
    if (kz_label_parse(fs->opts.policy, row->label, strlen(row->label), &f->label, NULL, 0) ==
        KZ_OK)
        f->label.originator = kz_nation_index(orig, strlen(orig));
    else
        kz_log(KZ_LOG_WARN, "files: stored label does not parse", "uid=%s", row->uid);
    index_add(fs, f);
}

/* Temporaries of a process that died mid-upload (never renamed into place). */
static int remove_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];
    unsigned n = 0;

    if (!d)
        return KZ_ERR_IO;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".tmp-", 5) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (unlink(path) == 0)
            n++;
    }
    closedir(d);
    if (n)
        kz_log(KZ_LOG_INFO, "files: removed unfinished uploads", "dir=%s n=%u", dir, n);
    return KZ_OK;
}

int kz_files_open(const struct kz_files_opts *opts, struct kz_files **out)
{
    struct kz_files *fs = kz_xcalloc(1, sizeof(*fs));
    int n = snprintf(fs->dir, sizeof(fs->dir), "%s/files", opts->data_dir);
    int err = KZ_ERR_IO;

    fs->opts = *opts;
    if (n <= 0 || (size_t)n >= sizeof(fs->dir) || (mkdir(fs->dir, 0700) != 0 && errno != EEXIST) ||
        remove_temporaries(fs->dir) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "files: cannot use the directory", "dir=%s err=\"%s\"", fs->dir,
               strerror(errno));
        goto out;
    }
    if ((err = kz_store_files_load(opts->store, on_row, fs)) != KZ_OK)
        goto out;
    *out = fs;
    return KZ_OK;
out:
    kz_files_free(fs);
    return err;
}

void kz_files_free(struct kz_files *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n; i++)
        file_free(fs->v[i]);
    free(fs->v);
    free(fs->slots);
    free(fs);
}

/* ---- adding ----------------------------------------------------------------------- */

struct adding {
    struct kz_files *fs;
    struct kz_file *f;
    kz_files_added_fn cb;
    void *ud;
};

static void on_committed(void *ud, int status)
{
    struct adding *a = ud;
    struct kz_file *f = a->f;

    if (status == KZ_OK) {
        index_add(a->fs, f);
        kz_metrics.files_stored++;
        kz_metrics.file_bytes += f->row.size;
    } else {
        kz_log(KZ_LOG_ERROR, "files: metadata not stored", "uid=%s hash=%s err=%s", f->row.uid,
               f->row.hash, kz_strerror(status));
        file_free(f);
        f = NULL;
    }
    a->cb(a->ud, status, f);
    free(a);
}

int kz_files_add(struct kz_files *fs, const struct kz_store_file *row, const struct kz_label *label,
                 char *const *groups, unsigned n_groups, kz_files_added_fn cb, void *ud)
{
    struct adding *a;
    struct kz_sbuf csv = KZ_SBUF_INIT;
    struct kz_store_file r = *row, put;
    char bytes[PATH_MAX];

    if (!kz_file_hash_valid(row->hash) || kz_file_path(fs->dir, row->hash, bytes, sizeof(bytes)))
        return KZ_ERR_INVAL;
    a = kz_xcalloc(1, sizeof(*a));
    for (unsigned i = 0; i < n_groups; i++)
        kz_sbuf_addf(&csv, "%s%s", i ? "," : "", groups[i]);
    r.groups = csv.len ? csv.buf : NULL;
    r.bytes_path = NULL;
    a->fs = fs;
    a->f = file_new(&r);
    a->f->label = *label;
    a->cb = cb;
    a->ud = ud;
    kz_sbuf_release(&csv);
    put = a->f->row;
    put.bytes_path = bytes; /* a store that keeps bytes takes them from there */
    kz_store_file_put(fs->opts.store, &put, on_committed, a);
    return KZ_OK;
}

/* ---- from the store: what another instance committed ---------------------------------- */

bool kz_files_fetches(const struct kz_files *fs)
{
    return kz_store_keeps_file_bytes(fs->opts.store);
}

struct fetching {
    struct kz_files *fs;
    kz_files_fetched_fn cb;
    void *ud;
};

static bool known_uid(const struct kz_files *fs, const struct kz_store_file *row)
{
    for (const struct kz_file *f = kz_files_newest(fs, row->hash); f; f = f->older)
        if (strcmp(f->row.uid, row->uid) == 0)
            return true;
    return false;
}

static void on_fetched(void *ud, int status, const struct kz_store_file *rows, size_t n)
{
    struct fetching *g = ud;

    for (size_t i = 0; i < n; i++)
        if (!known_uid(g->fs, &rows[i]))
            on_row(g->fs, &rows[i]);
    if (status != KZ_OK && status != KZ_ERR_NOTFOUND)
        kz_log(KZ_LOG_WARN, "files: cannot fetch from the store", "err=%s", kz_strerror(status));
    g->cb(g->ud, status);
    free(g);
}

void kz_files_fetch(struct kz_files *fs, const char *hash, bool bytes, kz_files_fetched_fn cb,
                    void *ud)
{
    struct fetching *g = kz_xcalloc(1, sizeof(*g));
    char tmp[PATH_MAX], path[PATH_MAX];
    int n =
        snprintf(tmp, sizeof(tmp), "%s/.tmp-pg-%llu", fs->dir, (unsigned long long)++fs->fetches);

    g->fs = fs;
    g->cb = cb;
    g->ud = ud;
    bytes = bytes && n > 0 && (size_t)n < sizeof(tmp) &&
            kz_file_path(fs->dir, hash, path, sizeof(path)) == KZ_OK;
    kz_store_file_fetch(fs->opts.store, hash, bytes ? tmp : NULL, bytes ? path : NULL, on_fetched,
                        g);
}
