/*
 * reader.c - one stored file read piece by piece with libuv's asynchronous
 * file system calls (thread pool), for a download streamed to its client:
 * the loop never waits for the disk, and one piece is in memory at a time.
 */
#include <fcntl.h>
#include <stdlib.h>

#include "mission/files.h"

struct kz_file_reader {
    uv_loop_t *loop;
    uv_fs_t req;
    uv_file fd;
    bool busy;   /* an operation runs */
    bool closed; /* kz_file_reader_close() was called */
    uint64_t off, size;
    char *buf;
    size_t cap;
    void (*opened)(void *ud, int status, uint64_t size);
    void (*got)(void *ud, int status, const char *data, size_t n);
    void *ud;
};

static void on_closed(uv_fs_t *req)
{
    struct kz_file_reader *r = req->data;

    uv_fs_req_cleanup(req);
    free(r->buf);
    free(r);
}

/* Free now, or close the descriptor first. */
static void finish_close(struct kz_file_reader *r)
{
    if (r->fd < 0) {
        free(r->buf);
        free(r);
        return;
    }
    uv_fs_close(r->loop, &r->req, r->fd, on_closed);
}

/* An operation returned: true when the reader was closed meanwhile (then it is going). */
static bool returned(struct kz_file_reader *r)
{
    uv_fs_req_cleanup(&r->req);
    r->busy = false;
    if (!r->closed)
        return false;
    finish_close(r);
    return true;
}

static void on_stat(uv_fs_t *req)
{
    struct kz_file_reader *r = req->data;
    ssize_t rc = req->result;
    uint64_t size = rc == 0 ? req->statbuf.st_size : 0;

    if (returned(r))
        return;
    r->size = size;
    r->opened(r->ud, rc == 0 ? KZ_OK : KZ_ERR_IO, size);
}

static void on_open(uv_fs_t *req)
{
    struct kz_file_reader *r = req->data;
    ssize_t rc = req->result;

    if (rc >= 0)
        r->fd = (uv_file)rc;
    if (returned(r))
        return;
    if (rc < 0) {
        r->opened(r->ud, rc == UV_ENOENT ? KZ_ERR_NOTFOUND : KZ_ERR_IO, 0);
        return;
    }
    r->busy = true;
    int err = uv_fs_fstat(r->loop, &r->req, r->fd, on_stat);
    KZ_ASSERT(err == 0);
}

struct kz_file_reader *kz_file_reader_open(uv_loop_t *loop, const char *path,
                                           void (*opened)(void *ud, int status, uint64_t size),
                                           void *ud)
{
    struct kz_file_reader *r = kz_xcalloc(1, sizeof(*r));

    r->loop = loop;
    r->fd = -1;
    r->req.data = r;
    r->opened = opened;
    r->ud = ud;
    r->busy = true;
    /* With a callback libuv reports every failure there; it refuses only bad arguments. */
    int rc = uv_fs_open(loop, &r->req, path, O_RDONLY | O_CLOEXEC, 0, on_open);
    KZ_ASSERT(rc == 0);
    return r;
}

static void on_read(uv_fs_t *req)
{
    struct kz_file_reader *r = req->data;
    ssize_t rc = req->result;

    if (returned(r))
        return;
    if (rc < 0) {
        r->got(r->ud, KZ_ERR_IO, NULL, 0);
        return;
    }
    r->off += (uint64_t)rc;
    r->got(r->ud, KZ_OK, r->buf, (size_t)rc);
}

void kz_file_reader_read(struct kz_file_reader *r, size_t want,
                         void (*got)(void *ud, int status, const char *data, size_t n))
{
    uv_buf_t b;

    KZ_ASSERT(!r->busy && r->fd >= 0);
    if (want > r->cap) {
        r->buf = kz_xrealloc(r->buf, want);
        r->cap = want;
    }
    b = uv_buf_init(r->buf, (unsigned)want);
    r->got = got;
    r->busy = true;
    int rc = uv_fs_read(r->loop, &r->req, r->fd, &b, 1, (int64_t)r->off, on_read);
    KZ_ASSERT(rc == 0);
}

void kz_file_reader_close(struct kz_file_reader *r)
{
    if (!r)
        return;
    r->closed = true;
    if (!r->busy)
        finish_close(r);
}
