/*
 * files.h - files for TAK Data Sync: a streaming multipart/form-data
 * parser (multipart.c), the content-addressed file store on disk
 * (writer.c, reader.c) and the index of uploaded files with their labels
 * (files.c).  The Marti routes (marti/sync.c) put them together.
 * On PostgreSQL the store keeps the bytes too (store/pg_files.c) and the
 * disk is each instance's cache of them (kz_files_fetch).
 *
 * On disk a file is DATA/files/<h0h1>/<hash>, <hash> its SHA-256 in
 * lower-case hex: the same bytes are stored once.  A file is written to a
 * temporary DATA/files/.tmp-<pid>-<n>, fsync'd, and renamed into place
 * only when whole and, if the uploader named a hash, when it matches; the
 * directory is fsync'd after.  A kill -9 during an upload leaves at most a
 * temporary, which kz_files_open() removes at the next start.  Blocking
 * file system calls run on libuv's thread pool, never on the loop.
 *
 * Loop thread only, unless noted.
 */
#ifndef KZ_MISSION_FILES_H
#define KZ_MISSION_FILES_H

#include <uv.h>

#include "core/core.h"
#include "label/label.h"
#include "store/store.h"

/* ---- multipart/form-data (RFC 7578, RFC 2046 5.1) ------------------------ */

#define KZ_MULTIPART_MAX_BOUNDARY 70 /* RFC 2046 */
#define KZ_MULTIPART_MAX_HEADER 8192 /* one part's header block */
#define KZ_MULTIPART_MAX_NAME 256    /* a name, filename or content type */

/* A part's headers; the strings live until part_end(). */
struct kz_multipart_part {
    const char *name;         /* Content-Disposition name; "" when absent */
    const char *filename;     /* its filename; NULL when absent */
    const char *content_type; /* NULL when absent */
};

/*
 * What the parser calls (each may be NULL).  A callback's code other than
 * KZ_OK stops the parse: kz_multipart_feed() returns it from then on.
 */
struct kz_multipart_ops {
    int (*part_begin)(void *ud, const struct kz_multipart_part *p);
    int (*part_data)(void *ud, const char *data, size_t len); /* valid during the call */
    int (*part_end)(void *ud);
};

/* The parser's state (about 9 KiB, no allocation); fields private. */
struct kz_multipart {
    struct kz_multipart_ops ops;
    void *ud;
    char delim[4 + KZ_MULTIPART_MAX_BOUNDARY]; /* CRLF "--" boundary */
    size_t dlen;
    int state;
    size_t matched; /* delimiter bytes matched so far */
    size_t held;    /* of those, the ones from earlier input */
    unsigned after;
    int err;
    bool done; /* the close delimiter was seen */
    unsigned parts;
    size_t hlen;
    char hdr[KZ_MULTIPART_MAX_HEADER + 1];
    char name[KZ_MULTIPART_MAX_NAME], filename[KZ_MULTIPART_MAX_NAME];
    char ctype[KZ_MULTIPART_MAX_NAME];
    bool has_filename;
};

/*
 * The boundary parameter of a Content-Type value into out (1..70 bchars,
 * NUL-terminated).  KZ_OK; KZ_ERR_NOTFOUND when the type is not
 * multipart/...; KZ_ERR_PARSE for a missing, empty, too long or invalid
 * boundary, or one that does not fit in outlen.
 */
int kz_multipart_boundary(const char *content_type, char *out, size_t outlen);
/* Start a parse (boundary as kz_multipart_boundary() gave it). */
void kz_multipart_init(struct kz_multipart *mp, const char *boundary,
                       const struct kz_multipart_ops *ops, void *ud);
/*
 * Feed the next bytes of the body, split anywhere.  Returns KZ_OK,
 * KZ_ERR_PARSE (malformed), KZ_ERR_TOOBIG (a part's headers over the
 * limits) or a callback's error; once an error is returned every later call
 * returns it too.  Bytes after the close delimiter are ignored.
 */
int kz_multipart_feed(struct kz_multipart *mp, const char *buf, size_t len);
/* The body has ended: KZ_OK when the close delimiter was seen, else the error or KZ_ERR_PARSE. */
int kz_multipart_finish(struct kz_multipart *mp);

/* ---- writing one file ------------------------------------------------------ */

#define KZ_FILE_HASH_HEX 64

struct kz_file_writer;

/*
 * How a write ends: KZ_OK with the file in place under `hash` (lower-case
 * hex) and its `size`; KZ_ERR_TOOBIG (over max_bytes), KZ_ERR_INVAL (the
 * bytes do not have the expected hash) or KZ_ERR_IO (logged), with the
 * temporary removed.  The writer is freed after this returns.
 */
typedef void (*kz_file_done_fn)(void *ud, int status, const char *hash, uint64_t size);

/*
 * A new file under `dir` (DATA/files, made by kz_files_open()): up to
 * `max_bytes` bytes; `expect` (may be NULL) is the hash the bytes must
 * have, e.g. a client's.  `ready(ud)` (may be NULL) is called when a write
 * that answered KZ_ERR_AGAIN has drained.  Never NULL.
 */
struct kz_file_writer *kz_file_writer_new(uv_loop_t *loop, const char *dir, uint64_t max_bytes,
                                          const char *expect, void (*ready)(void *ud), void *ud);
/*
 * Add bytes (copied).  KZ_OK: send more; KZ_ERR_AGAIN: taken, but wait for
 * ready() before the next; KZ_ERR_TOOBIG: over max_bytes (nothing taken:
 * abort the writer); KZ_ERR_IO: a write failed (abort it).
 */
int kz_file_writer_add(struct kz_file_writer *w, const char *data, size_t len);
/* All bytes are in: write, fsync, check, rename into place, then done(). */
void kz_file_writer_finish(struct kz_file_writer *w, kz_file_done_fn done);
/* Give up: the temporary is removed and the writer freed (now or when its last write returns). */
void kz_file_writer_abort(struct kz_file_writer *w);

/* DIR/<h0h1>/<hash> into buf; KZ_OK or KZ_ERR_TOOBIG (does not fit). */
int kz_file_path(const char *dir, const char *hash, char *buf, size_t len);
/* True when s is 64 lower-case hex digits. */
bool kz_file_hash_valid(const char *s);

/* ---- reading one file -------------------------------------------------------- */

struct kz_file_reader;

/*
 * Open `path` for reading on the thread pool; `opened(ud, status, size)`
 * follows (KZ_OK, KZ_ERR_NOTFOUND or KZ_ERR_IO).  Then kz_file_reader_read()
 * fills the reader's buffer and calls `got` when the piece is in.  Free with
 * kz_file_reader_close() (also while an operation runs: it is freed when
 * that returns, and no callback follows).  Never NULL.
 */
struct kz_file_reader *kz_file_reader_open(uv_loop_t *loop, const char *path,
                                           void (*opened)(void *ud, int status, uint64_t size),
                                           void *ud);
/*
 * Read up to `want` bytes; `got(ud, status, data, n)` follows (n == 0 at
 * the end; data valid during the call).  One read at a time.
 */
void kz_file_reader_read(struct kz_file_reader *r, size_t want,
                         void (*got)(void *ud, int status, const char *data, size_t n));
void kz_file_reader_close(struct kz_file_reader *r);

/* ---- the index of uploaded files ---------------------------------------------- */

/* One upload: the stored row and its label, parsed.  Owned by the index. */
struct kz_file {
    uint64_t key;             /* 1, 2, ...: its place in commit order (TAK's PrimaryKey) */
    struct kz_store_file row; /* strings owned by the index */
    struct kz_label label;
    char **groups; /* the uploader's OUT groups (who may see it, as for CoT) */
    unsigned n_groups;
    struct kz_file *older; /* the previous upload of the same hash, or NULL */
};

struct kz_files_opts {
    uv_loop_t *loop;
    const char *data_dir;                 /* files go to DATA/files */
    struct kz_store *store;               /* metadata; must outlive the index */
    const struct kz_label_policy *policy; /* labels are parsed under it; outlives the index */
};

struct kz_files;

/*
 * Startup, before the loop runs: make DATA/files, remove temporaries left
 * by a dead process, and load every stored row.  KZ_OK, KZ_ERR_IO or
 * KZ_ERR_DB (logged).
 */
int kz_files_open(const struct kz_files_opts *opts, struct kz_files **out);
/* No writer or reader may be running.  NULL is fine. */
void kz_files_free(struct kz_files *fs);
/* DATA/files, for writers and readers. */
const char *kz_files_dir(const struct kz_files *fs);

/* Who asks: the release subject and IN groups of the caller. */
struct kz_files_viewer {
    const struct kz_release_subject *who;
    char *const *groups_in;
    unsigned n_groups_in;
};

/*
 * A file may be shown when the release rule gives its label to the viewer
 * and one of the uploader's OUT groups is one of the viewer's IN groups.
 */
bool kz_file_visible(const struct kz_file *f, const struct kz_files_viewer *v);
/* The newest upload of `hash` whoever may see it (a mission judges its items itself), or NULL. */
const struct kz_file *kz_files_newest(const struct kz_files *fs, const char *hash);
/* The newest upload of `hash` the viewer may see, or NULL (none, or none visible). */
const struct kz_file *kz_files_find(const struct kz_files *fs, const char *hash,
                                    const struct kz_files_viewer *v);

/*
 * Record an upload: the row is committed, then added to the index and
 * counted (kz_metrics.files_stored, file_bytes), then `cb(ud, status, f)`
 * runs with the indexed file (NULL on error: KZ_ERR_DB, KZ_ERR_CLOSED).
 * `row` and its label are copied; row->label must be the canonical banner
 * of `label`.  Returns KZ_OK, or KZ_ERR_INVAL (row->hash is not a valid
 * hash; cb is not called).
 */
typedef void (*kz_files_added_fn)(void *ud, int status, const struct kz_file *f);
int kz_files_add(struct kz_files *fs, const struct kz_store_file *row, const struct kz_label *label,
                 char *const *groups, unsigned n_groups, kz_files_added_fn cb, void *ud);

/*
 * Does kz_files_fetch do anything here?  True on a store that keeps file bytes
 * (kz_store_keeps_file_bytes: PostgreSQL, which a cluster's instances share).
 */
bool kz_files_fetches(const struct kz_files *fs);
/*
 * `hash` as the store holds it now: its rows that the index lacks (uploads another instance
 * committed) join the index, and with `bytes`, its bytes are written to DATA/files/<h0h1>/<hash>
 * (through a temporary, checked against the hash).  Then `cb(ud, status)`: KZ_OK,
 * KZ_ERR_NOTFOUND (the store holds no bytes of it), or KZ_ERR_INVAL / KZ_ERR_IO /
 * KZ_ERR_DB / KZ_ERR_CLOSED (logged).  `hash` must be valid.
 */
typedef void (*kz_files_fetched_fn)(void *ud, int status);
void kz_files_fetch(struct kz_files *fs, const char *hash, bool bytes, kz_files_fetched_fn cb,
                    void *ud);

/* A fresh random (version 4) UUID for an upload's uid, lower-case. */
#define KZ_FILE_UID_LEN 36
void kz_files_new_uid(char out[KZ_FILE_UID_LEN + 1]);

#endif
