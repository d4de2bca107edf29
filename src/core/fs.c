/*
 * fs.c - whole writes, and atomic file replacement (mosquitto mosquitto_write_file, git
 * lockfile): write PATH.tmp, fsync it, rename it over PATH, fsync the
 * directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

int kz_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * The rename is durable only once the directory entry is on disk: without
 * this fsync a crash right after rename() can bring back the old file (or
 * no file) although the new one was flushed.
 */
static int sync_dir(const char *path)
{
    char dir[1024];
    const char *slash = strrchr(path, '/');
    int fd, rc;

    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* Some file systems cannot sync a directory (EINVAL): nothing more to do there. */
    rc = fsync(fd) == 0 || errno == EINVAL ? 0 : errno;
    close(fd);
    errno = rc;
    return rc ? -1 : 0;
}

/*
 * A tmp file left by a crash is removed first: O_EXCL then guarantees we
 * write a fresh file with `mode`, not append to or inherit the mode of a
 * stale one.  Readers only ever open PATH, which rename() swaps in one step.
 */
int kz_write_file(const char *path, const void *data, size_t len, unsigned mode, char *err,
                  size_t errlen)
{
    char tmp[1024];
    int fd, saved;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        goto fail;
    }
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        goto fail;
    if (kz_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        goto fail_unlink;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0)
        goto fail_unlink;
    if (sync_dir(path) != 0)
        goto fail;
    return KZ_OK;
fail_unlink:
    saved = errno;
    unlink(tmp);
    errno = saved;
fail:
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return KZ_ERR_IO;
}
