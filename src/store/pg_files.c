/*
 * pg_files.c - the bytes of uploaded files on PostgreSQL: table
 * file_content(hash, part, data bytea), each file in parts of PART_BYTES,
 * so that every instance of a cluster (and a node whose store was copied
 * here) can serve a file uploaded anywhere.  On disk the same bytes are
 * DATA/files/<h0h1>/<hash> (mission/files.h), each instance's cache.
 *
 * The bytes go in the transaction of the file's first row, so a committed
 * row always has its bytes; once per hash (the rows of later uploads of the
 * same bytes find part 0 and write nothing; two instances writing the same
 * hash at once meet on the primary key, and ON CONFLICT DO NOTHING lets the
 * second wait for the first and add nothing).  Parts are never updated or
 * deleted, as file rows are not: a part is written whole or not at all, and
 * a reader checks the SHA-256 of what it read against the hash anyway.
 *
 * Parts keep each value far below bytea's 1 GB limit and memory to one part
 * at a time, whatever limits.max_file_bytes allows.
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

#include "store/pg.h"

#define PART_BYTES (1u << 20)
#define HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)

static bool has_part0(struct kz__pg *pg, const char *hash, int *err)
{
    static const char sql[] = "SELECT 1 FROM file_content WHERE hash = $1 AND part = 0";
    PGresult *r = kz__pg_query(pg, sql, 1, &hash);
    bool has = kz__pg_ok(r) && PQntuples(r) == 1;

    *err = kz__pg_ok(r) ? KZ_OK : kz__pg_fail(pg, "SELECT FROM file_content", r);
    PQclear(r);
    return has;
}

static int put_part(struct kz__pg *pg, const char *hash, int64_t part, const char *data, size_t len)
{
    static const char sql[] = "INSERT INTO file_content(hash, part, data) VALUES ($1, $2, $3)"
                              " ON CONFLICT DO NOTHING";
    char n[KZ__PG_NUM];
    const char *v[3] = {hash, kz__pg_i64(n, part), data};
    const int lens[3] = {0, 0, (int)len}, formats[3] = {0, 0, 1};
    PGresult *r = PQexecParams(pg->conn, sql, 3, NULL, v, lens, formats, 0);
    int err = kz__pg_ok(r) ? KZ_OK : kz__pg_fail(pg, "INSERT INTO file_content", r);

    PQclear(r);
    return err;
}

/* read(2) until len bytes or the end; -1 on error. */
static ssize_t read_full(int fd, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static void digest_hex(crypto_hash_sha256_state *sha, char hex[HASH_HEX])
{
    unsigned char md[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_final(sha, md);
    sodium_bin2hex(hex, HASH_HEX, md, sizeof(md));
}

/* The file at fd, `size` bytes, as parts of `hash`; KZ_ERR_EXISTS when the bytes are not those
 * the row says (size or hash): the job is refused alone. */
static int put_parts(struct kz__pg *pg, const char *hash, uint64_t size, int fd, char *buf)
{
    crypto_hash_sha256_state sha;
    char hex[HASH_HEX];
    uint64_t total = 0;
    int64_t part = 0;
    ssize_t n;
    int err = KZ_OK;

    crypto_hash_sha256_init(&sha);
    do {
        if ((n = read_full(fd, buf, PART_BYTES)) < 0) {
            kz_log(KZ_LOG_ERROR, "files: cannot read the bytes to store", "hash=%s err=\"%s\"",
                   hash, strerror(errno));
            return KZ_ERR_EXISTS;
        }
        crypto_hash_sha256_update(&sha, (const unsigned char *)buf, (size_t)n);
        total += (uint64_t)n;
        /* Part 0 even for an empty file: it says the bytes are stored. */
        if (n > 0 || part == 0)
            err = put_part(pg, hash, part++, buf, (size_t)n);
    } while (err == KZ_OK && n == PART_BYTES);
    if (err != KZ_OK)
        return err;
    digest_hex(&sha, hex);
    if (total != size || strcmp(hex, hash) != 0) {
        kz_log(KZ_LOG_ERROR, "files: bytes on disk are not the file's",
               "hash=%s size=%llu got=%llu", hash, (unsigned long long)size,
               (unsigned long long)total);
        return KZ_ERR_EXISTS;
    }
    return KZ_OK;
}

int kz__pg_file_content_put(struct kz__pg *pg, const char *hash, uint64_t size, const char *path)
{
    int err, fd;
    char *buf;

    if (has_part0(pg, hash, &err) || err != KZ_OK)
        return err;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        kz_log(KZ_LOG_ERROR, "files: cannot open the bytes to store", "path=%s err=\"%s\"", path,
               strerror(errno));
        return KZ_ERR_EXISTS;
    }
    buf = kz_xmalloc(PART_BYTES);
    err = put_parts(pg, hash, size, fd, buf);
    free(buf);
    close(fd);
    return err;
}

/* ---- reading ---------------------------------------------------------------------- */

static int parts_of(struct kz__pg *pg, const char *hash, int64_t *n)
{
    static const char sql[] = "SELECT count(*) FROM file_content WHERE hash = $1";
    PGresult *r = kz__pg_query(pg, sql, 1, &hash);
    int err =
        kz__pg_ok(r) && PQntuples(r) == 1 ? KZ_OK : kz__pg_fail(pg, "SELECT FROM file_content", r);

    if (err == KZ_OK)
        *n = kz__pg_int(r, 0, 0);
    PQclear(r);
    return err;
}

static bool write_full(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Part `part` of hash appended to fd and the digest. */
static int get_part(struct kz__pg *pg, const char *hash, int64_t part, int fd,
                    crypto_hash_sha256_state *sha)
{
    static const char sql[] = "SELECT data FROM file_content WHERE hash = $1 AND part = $2";
    char n[KZ__PG_NUM];
    const char *v[2] = {hash, kz__pg_i64(n, part)};
    PGresult *r = PQexecParams(pg->conn, sql, 2, NULL, v, NULL, NULL, 1);
    int err = KZ_OK;

    if (!kz__pg_ok(r)) {
        err = kz__pg_fail(pg, "SELECT FROM file_content", r);
    } else if (PQntuples(r) != 1) {
        kz_log(KZ_LOG_ERROR, "files: stored bytes miss a part", "hash=%s part=%lld", hash,
               (long long)part);
        err = KZ_ERR_INVAL;
    } else {
        const char *data = PQgetvalue(r, 0, 0);
        size_t len = (size_t)PQgetlength(r, 0, 0);
        crypto_hash_sha256_update(sha, (const unsigned char *)data, len);
        if (!write_full(fd, data, len))
            err = KZ_ERR_IO;
    }
    PQclear(r);
    return err;
}

/* The parent directory of path, made when missing. */
static bool make_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;

    if (n == 0 || n >= sizeof(dir))
        return true;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return mkdir(dir, 0700) == 0 || errno == EEXIST;
}

static int place(int fd, const char *tmp, const char *path)
{
    if (fsync(fd) != 0 || !make_parent(path) || rename(tmp, path) != 0) {
        kz_log(KZ_LOG_ERROR, "files: cannot place fetched bytes", "path=%s err=\"%s\"", path,
               strerror(errno));
        return KZ_ERR_IO;
    }
    return KZ_OK;
}

int kz__pg_file_content_get(struct kz__pg *pg, const char *hash, const char *tmp, const char *path)
{
    crypto_hash_sha256_state sha;
    char hex[HASH_HEX];
    int64_t n = 0;
    int err = parts_of(pg, hash, &n), fd;

    if (err != KZ_OK)
        return err;
    if (n == 0)
        return KZ_ERR_NOTFOUND;
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        kz_log(KZ_LOG_ERROR, "files: cannot write fetched bytes", "path=%s err=\"%s\"", tmp,
               strerror(errno));
        return KZ_ERR_IO;
    }
    crypto_hash_sha256_init(&sha);
    for (int64_t i = 0; i < n && err == KZ_OK; i++)
        err = get_part(pg, hash, i, fd, &sha);
    if (err == KZ_ERR_IO)
        kz_log(KZ_LOG_ERROR, "files: cannot write fetched bytes", "path=%s err=\"%s\"", tmp,
               strerror(errno));
    digest_hex(&sha, hex);
    if (err == KZ_OK && strcmp(hex, hash) != 0) {
        kz_log(KZ_LOG_ERROR, "files: stored bytes do not have their hash", "hash=%s got=%s", hash,
               hex);
        err = KZ_ERR_INVAL;
    }
    if (err == KZ_OK)
        err = place(fd, tmp, path);
    close(fd);
    if (err != KZ_OK)
        unlink(tmp);
    return err;
}

/* ---- kz_store_file_fetch --------------------------------------------------------------- */

struct fetch_job {
    struct kz__job job;
    kz_store_file_fetch_cb cb;
    const char *hash, *tmp, *path; /* in data[]; tmp and path NULL: rows only */
    PGresult *rows;
    char data[];
};

bool kz_store_keeps_file_bytes(const struct kz_store *st)
{
    return st->db.pg != NULL;
}

static void pg_fetch(struct kz__db *db, struct kz__job *job)
{
    static const char sql[] = "SELECT " KZ__PG_FILE_COLS " FROM files WHERE hash = $1"
                              " ORDER BY seq";
    struct fetch_job *j = (struct fetch_job *)job;
    struct kz__pg *pg = db->pg;

    j->rows = kz__pg_query(pg, sql, 1, &j->hash);
    if (!kz__pg_ok(j->rows)) {
        job->status = kz__pg_fail(pg, "SELECT FROM files", j->rows);
        return;
    }
    job->status = j->path ? kz__pg_file_content_get(pg, j->hash, j->tmp, j->path) : KZ_OK;
}

static void lite_fetch(struct kz__db *db, struct kz__job *job)
{
    KZ_UNUSED(db);
    job->status = KZ_ERR_INVAL; /* SQLite keeps no bytes: they are on disk or nowhere */
}

static void deliver_fetch(struct kz__job *job)
{
    struct fetch_job *j = (struct fetch_job *)job;
    int n = job->status == KZ_OK && j->rows ? PQntuples(j->rows) : 0;
    struct kz_store_file *rows = n ? kz_xcalloc((size_t)n, sizeof(*rows)) : NULL;

    for (int i = 0; i < n; i++)
        kz__pg_file_row(j->rows, i, &rows[i]);
    j->cb(job->ud, job->status, rows, (size_t)n);
    free(rows);
}

static void release_fetch(struct kz__job *job)
{
    PQclear(((struct fetch_job *)job)->rows);
}

static const struct kz__job_ops fetch_ops = {
    .table = "files",
    .read = lite_fetch,
    .pg_read = pg_fetch,
    .deliver = deliver_fetch,
    .release = release_fetch,
};

void kz_store_file_fetch(struct kz_store *st, const char *hash, const char *tmp, const char *path,
                         kz_store_file_fetch_cb cb, void *ud)
{
    bool bytes = tmp && path;
    struct fetch_job *j =
        kz__job_new(&fetch_ops, sizeof(*j),
                    kz__str_size(hash) + (bytes ? kz__str_size(tmp) + kz__str_size(path) : 0));
    char *p = j->data;

    j->hash = kz__pack_str(&p, hash);
    j->tmp = bytes ? kz__pack_str(&p, tmp) : NULL;
    j->path = bytes ? kz__pack_str(&p, path) : NULL;
    j->cb = cb;
    j->job.ud = ud;
    j->job.notify = true;
    if (!hash) {
        kz__store_finish_early(st, &j->job, KZ_ERR_INVAL);
        return;
    }
    kz__store_submit(st, &j->job);
}
