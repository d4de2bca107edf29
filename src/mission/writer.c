/*
 * writer.c - one file written into the content-addressed store: bytes are
 * gathered on the loop and written, hashed (SHA-256), fsync'd and renamed
 * into place on libuv's thread pool, one job at a time, so the loop never
 * waits for the disk and the bytes reach the file in order.
 *
 * The temporary is made with mkstemp() in DATA/files, the same file system
 * as its final place, so the rename is atomic: a reader (or a restart after
 * kill -9) sees the whole file under its hash or nothing.  After the rename
 * both directories are fsync'd, so the entry survives a power cut too.
 *
 * Memory: at most KZ__WRITE_HIGH bytes wait on the loop (beyond it add()
 * answers KZ_ERR_AGAIN and the caller stops reading its client) and as
 * many are being written.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mission/files.h"

#define KZ__WRITE_FLUSH (256u << 10) /* start a write at this much */
#define KZ__WRITE_HIGH (1u << 20)    /* ask the caller to wait beyond this */

enum job { JOB_WRITE, JOB_FINISH, JOB_ABORT };

struct kz_file_writer {
    uv_loop_t *loop;
    uv_work_t work;
    enum job job;
    bool busy;      /* a job is on the thread pool */
    bool finishing; /* finish() was called */
    bool aborted;   /* abort() was called */
    bool want_ready;
    void (*ready)(void *ud);
    kz_file_done_fn done;
    void *ud;
    uint64_t size, max;
    struct kz_sbuf fill; /* loop: gathered, not yet handed to a job */
    struct kz_sbuf out;  /* the running job's bytes */
    int err;             /* loop: the first job error, copied from job_err */
    /* Written by the thread pool while busy, read by the loop after. */
    int fd;
    int job_err;        /* KZ_ERR_IO or KZ_ERR_INVAL (hash mismatch) */
    int errno_;         /* of the failed call */
    const char *failed; /* the failed call's name, static */
    crypto_hash_sha256_state sha;
    char dir[PATH_MAX - 128]; /* room for "/ab/<hash>" after it */
    char tmp[PATH_MAX];
    char expect[KZ_FILE_HASH_HEX + 1];
    char hash[KZ_FILE_HASH_HEX + 1];
};

bool kz_file_hash_valid(const char *s)
{
    size_t n = 0;

    for (; s && s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == KZ_FILE_HASH_HEX;
}

int kz_file_path(const char *dir, const char *hash, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%.2s/%s", dir, hash, hash);
    return n > 0 && (size_t)n < len ? KZ_OK : KZ_ERR_TOOBIG;
}

/* ---- the thread pool's side ---------------------------------------------------- */

static bool io_fail(struct kz_file_writer *w, const char *call)
{
    w->job_err = KZ_ERR_IO;
    w->errno_ = errno;
    w->failed = call;
    return false;
}

static bool write_all(struct kz_file_writer *w)
{
    const char *p = w->out.buf;
    size_t left = w->out.len;

    if (w->fd < 0) {
        snprintf(w->tmp, sizeof(w->tmp), "%s/.tmp-XXXXXX", w->dir);
        if ((w->fd = mkstemp(w->tmp)) < 0)
            return io_fail(w, "mkstemp");
    }
    crypto_hash_sha256_update(&w->sha, (const unsigned char *)p, left);
    while (left > 0) {
        ssize_t n = write(w->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return io_fail(w, "write");
        p += n;
        left -= (size_t)n;
    }
    return true;
}

static bool fsync_dir(struct kz_file_writer *w, const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = fd >= 0 && fsync(fd) == 0;

    if (!ok)
        io_fail(w, "fsync(dir)");
    if (fd >= 0)
        close(fd);
    return ok;
}

/* The whole file is in the temporary: make it durable and give it its name. */
static bool place(struct kz_file_writer *w)
{
    unsigned char md[crypto_hash_sha256_BYTES];
    char sub[PATH_MAX], final[PATH_MAX];

    if (fsync(w->fd) != 0)
        return io_fail(w, "fsync");
    close(w->fd);
    w->fd = -1;
    crypto_hash_sha256_final(&w->sha, md);
    sodium_bin2hex(w->hash, sizeof(w->hash), md, sizeof(md));
    if (w->expect[0] && strcmp(w->expect, w->hash) != 0) {
        w->job_err = KZ_ERR_INVAL;
        return false;
    }
    snprintf(sub, sizeof(sub), "%s/%.2s", w->dir, w->hash);
    if (mkdir(sub, 0700) != 0 && errno != EEXIST)
        return io_fail(w, "mkdir");
    if (kz_file_path(w->dir, w->hash, final, sizeof(final)) != KZ_OK) {
        errno = ENAMETOOLONG;
        return io_fail(w, "path");
    }
    if (rename(w->tmp, final) != 0)
        return io_fail(w, "rename");
    w->tmp[0] = '\0';
    return fsync_dir(w, sub) && fsync_dir(w, w->dir);
}

/* Close and remove the temporary (an abort, or a finish that failed). */
static void discard(struct kz_file_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->tmp[0])
        unlink(w->tmp);
    w->tmp[0] = '\0';
}

static void work(uv_work_t *req)
{
    struct kz_file_writer *w = req->data;

    switch (w->job) {
    case JOB_WRITE:
        if (w->job_err == KZ_OK)
            write_all(w);
        break;
    case JOB_FINISH:
        if (w->job_err != KZ_OK || !write_all(w) || !place(w))
            discard(w);
        break;
    case JOB_ABORT:
        discard(w);
        break;
    }
}

/* ---- the loop's side --------------------------------------------------------------- */

static void after_work(uv_work_t *req, int status);

static void start(struct kz_file_writer *w, enum job job)
{
    struct kz_sbuf t = w->out;

    w->out = w->fill; /* the gathered bytes go to the job; the old buffer is reused */
    w->fill = t;
    kz_sbuf_reset(&w->fill);
    w->job = job;
    w->busy = true;
    uv_queue_work(w->loop, &w->work, work, after_work);
}

static void writer_free(struct kz_file_writer *w)
{
    kz_sbuf_release(&w->fill);
    kz_sbuf_release(&w->out);
    free(w);
}

static void log_failure(const struct kz_file_writer *w)
{
    if (w->err == KZ_ERR_IO && w->failed)
        kz_log(KZ_LOG_ERROR, "files: write failed", "call=%s dir=%s err=\"%s\"", w->failed, w->dir,
               strerror(w->errno_));
}

static void ended(struct kz_file_writer *w)
{
    log_failure(w);
    w->done(w->ud, w->err, w->err == KZ_OK ? w->hash : NULL, w->size);
    writer_free(w);
}

static void after_work(uv_work_t *req, int status)
{
    struct kz_file_writer *w = req->data;
    enum job job = w->job;

    KZ_UNUSED(status);
    w->busy = false;
    w->err = w->job_err;
    if (job == JOB_ABORT) {
        writer_free(w);
        return;
    }
    if (w->aborted) {
        start(w, JOB_ABORT);
        return;
    }
    if (job == JOB_FINISH) {
        ended(w);
        return;
    }
    if (w->finishing)
        start(w, JOB_FINISH);
    else if (w->err == KZ_OK && w->fill.len >= KZ__WRITE_FLUSH)
        start(w, JOB_WRITE);
    if (w->want_ready && (w->err != KZ_OK || w->fill.len < KZ__WRITE_HIGH)) {
        w->want_ready = false;
        if (w->ready)
            w->ready(w->ud); /* may abort w: nothing of w is used after */
    }
}

struct kz_file_writer *kz_file_writer_new(uv_loop_t *loop, const char *dir, uint64_t max_bytes,
                                          const char *expect, void (*ready)(void *ud), void *ud)
{
    struct kz_file_writer *w = kz_xcalloc(1, sizeof(*w));

    w->loop = loop;
    w->work.data = w;
    w->max = max_bytes;
    w->ready = ready;
    w->ud = ud;
    w->fd = -1;
    crypto_hash_sha256_init(&w->sha);
    snprintf(w->dir, sizeof(w->dir), "%s", dir);
    if (expect)
        snprintf(w->expect, sizeof(w->expect), "%s", expect);
    return w;
}

int kz_file_writer_add(struct kz_file_writer *w, const char *data, size_t len)
{
    if (w->err != KZ_OK)
        return w->err;
    if (len > w->max - w->size)
        return KZ_ERR_TOOBIG;
    w->size += len;
    kz_sbuf_add(&w->fill, data, len);
    if (!w->busy && w->fill.len >= KZ__WRITE_FLUSH)
        start(w, JOB_WRITE);
    if (w->fill.len < KZ__WRITE_HIGH)
        return KZ_OK;
    w->want_ready = true;
    return KZ_ERR_AGAIN;
}

void kz_file_writer_finish(struct kz_file_writer *w, kz_file_done_fn done)
{
    KZ_ASSERT(!w->finishing && !w->aborted);
    w->done = done;
    w->finishing = true;
    if (!w->busy)
        start(w, JOB_FINISH);
}

void kz_file_writer_abort(struct kz_file_writer *w)
{
    if (!w)
        return;
    w->aborted = true;
    if (!w->busy)
        start(w, JOB_ABORT);
}
