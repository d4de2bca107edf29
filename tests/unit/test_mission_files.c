/*
 * test_mission_files.c - the content-addressed file store: a file is named
 * by its SHA-256 under DATA/files/<h0h1>/, exists only as a temporary until
 * it is whole (then renamed into place), is refused over its size limit or
 * when it does not have the hash asked for (nothing left behind), and the
 * temporaries of a dead process go at the next open; reading it back; the
 * index: an upload is found by hash by those its label and groups allow,
 * and is there again after a restart.  On PostgreSQL (the _pg entry) the
 * store keeps the bytes too: another index over the same store (another
 * instance) fetches an upload it did not see, and its bytes to its disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "store_fixture.h"

#include "mission/files.h"

/* sha256("hello world") */
#define HELLO_HASH "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct done {
    size_t n;
    int status;
    char hash[KZ_FILE_HASH_HEX + 1];
    uint64_t size;
    size_t ready;
};

static void on_done(void *ud, int status, const char *hash, uint64_t size)
{
    struct done *d = ud;

    d->status = status;
    snprintf(d->hash, sizeof(d->hash), "%s", hash ? hash : "");
    d->size = size;
    d->n++;
}

static void on_ready(void *ud)
{
    ((struct done *)ud)->ready++;
}

static void files_dir(struct fx *fx, char *out, size_t len)
{
    snprintf(out, len, "%s/files", fx->dir);
}

/* Entries of dir whose name starts with prefix. */
static unsigned count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* Run the loop until `dir` holds `want` temporaries or 5 s pass; returns how many it holds. */
static unsigned wait_temps(struct fx *fx, const char *dir, unsigned want)
{
    for (unsigned ms = 0; count_entries(dir, ".tmp-") != want && ms < 5000; ms += 10)
        run_until(fx, NULL, 0, 10);
    return count_entries(dir, ".tmp-");
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static struct kz_files *open_files(struct fx *fx, struct kz_label_policy *policy)
{
    struct kz_files_opts o = {&fx->loop, fx->dir, fx->st, policy};
    struct kz_files *fs = NULL;

    assert_int_equal(kz_files_open(&o, &fs), KZ_OK);
    return fs;
}

/* "hello world" at its place under DATA/files, as a writer leaves it. */
static void put_hello(struct fx *fx)
{
    char dir[128], path[256];
    int fd;

    files_dir(fx, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/b9", dir);
    mkdir(path, 0700);
    assert_int_equal(kz_file_path(dir, HELLO_HASH, path, sizeof(path)), KZ_OK);
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello world", 11), 11);
    close(fd);
}

static int setup(void **state)
{
    static struct kz_label_policy policy;

    if (store_fx_setup(state) != 0)
        return -1;
    kz_label_policy_init_default(&policy);
    open_store(*state, 5, 0, 0);
    return 0;
}

static void test_hash_naming(void **state)
{
    struct fx *fx = *state;
    struct kz_label_policy policy;
    struct kz_files *fs;
    struct done d = {0};
    char dir[128], path[256], buf[64] = "";
    struct kz_file_writer *w;

    kz_label_policy_init_default(&policy);
    fs = open_files(fx, &policy);
    files_dir(fx, dir, sizeof(dir));
    assert_string_equal(kz_files_dir(fs), dir);
    w = kz_file_writer_new(&fx->loop, dir, 1024, NULL, on_ready, &d);
    assert_int_equal(kz_file_writer_add(w, "hello", 5), KZ_OK);
    assert_int_equal(kz_file_writer_add(w, " world", 6), KZ_OK);
    kz_file_writer_finish(w, on_done);
    assert_int_equal(run_until(fx, &d.n, 1, 5000), 1);
    assert_int_equal(d.status, KZ_OK);
    assert_string_equal(d.hash, HELLO_HASH);
    assert_int_equal(d.size, 11);
    assert_int_equal(kz_file_path(dir, d.hash, path, sizeof(path)), KZ_OK);
    assert_true(strstr(path, "/files/b9/" HELLO_HASH) != NULL);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf)), 11);
    close(fd);
    assert_string_equal(buf, "hello world");
    assert_int_equal(count_entries(dir, ".tmp-"), 0);
    assert_true(kz_file_hash_valid(HELLO_HASH));
    assert_false(
        kz_file_hash_valid("B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9"));
    assert_false(kz_file_hash_valid("../etc/passwd"));
    assert_false(kz_file_hash_valid(NULL));
    kz_files_free(fs);
}

/* Until the last byte the file is only a temporary; then only the named file. */
static void test_temp_then_rename(void **state)
{
    struct fx *fx = *state;
    struct kz_label_policy policy;
    struct kz_files *fs;
    struct done d = {0};
    char dir[128], path[256];
    size_t big = 3u << 20;
    char *data = malloc(big);
    struct kz_file_writer *w;
    size_t off = 0;

    kz_label_policy_init_default(&policy);
    fs = open_files(fx, &policy);
    files_dir(fx, dir, sizeof(dir));
    memset(data, 'x', big);
    w = kz_file_writer_new(&fx->loop, dir, big, NULL, on_ready, &d);
    /* Back-pressure: beyond 1 MiB waiting, add() asks to wait for ready(). */
    while (off < big) {
        int rc = kz_file_writer_add(w, data + off, 64 * 1024);
        off += 64 * 1024;
        if (rc == KZ_ERR_AGAIN) {
            size_t before = d.ready;
            assert_int_equal(run_until(fx, &d.ready, before + 1, 5000), before + 1);
        } else {
            assert_int_equal(rc, KZ_OK);
        }
    }
    assert_true(d.ready > 0);
    run_until(fx, NULL, 0, 50);
    assert_int_equal(count_entries(dir, ".tmp-"), 1);
    assert_int_equal(count_entries(dir, ""), 3); /* ".", "..", the temporary: no named file */
    /* One byte over the limit is refused, and nothing is taken. */
    assert_int_equal(kz_file_writer_add(w, "y", 1), KZ_ERR_TOOBIG);
    kz_file_writer_finish(w, on_done);
    assert_int_equal(run_until(fx, &d.n, 1, 5000), 1);
    assert_int_equal(d.status, KZ_OK);
    assert_int_equal(d.size, big);
    assert_int_equal(kz_file_path(dir, d.hash, path, sizeof(path)), KZ_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, big);
    assert_int_equal(count_entries(dir, ".tmp-"), 0);
    free(data);
    kz_files_free(fs);
}

static void test_size_limit_and_abort(void **state)
{
    struct fx *fx = *state;
    struct kz_label_policy policy;
    struct kz_files *fs;
    struct done d = {0};
    char dir[128];
    char chunk[300 * 1024];
    struct kz_file_writer *w;

    kz_label_policy_init_default(&policy);
    fs = open_files(fx, &policy);
    files_dir(fx, dir, sizeof(dir));
    memset(chunk, 'z', sizeof(chunk));
    w = kz_file_writer_new(&fx->loop, dir, sizeof(chunk) + 10, NULL, on_ready, &d);
    assert_int_equal(kz_file_writer_add(w, chunk, sizeof(chunk)), KZ_OK); /* a write starts */
    assert_int_equal(kz_file_writer_add(w, chunk, 11), KZ_ERR_TOOBIG);
    assert_int_equal(wait_temps(fx, dir, 1), 1); /* the write made its temporary */
    kz_file_writer_abort(w);                     /* (its write may still run) */
    assert_int_equal(wait_temps(fx, dir, 0), 0);
    run_until(fx, NULL, 0, 50);
    assert_int_equal(count_entries(dir, ""), 2); /* "." and ".." */
    assert_int_equal(d.n, 0);                    /* abort calls nothing */
    /* An abort before any byte. */
    kz_file_writer_abort(kz_file_writer_new(&fx->loop, dir, 10, NULL, NULL, NULL));
    run_until(fx, NULL, 0, 50);
    assert_int_equal(count_entries(dir, ""), 2);
    kz_files_free(fs);
}

static void test_expected_hash(void **state)
{
    struct fx *fx = *state;
    struct kz_label_policy policy;
    struct kz_files *fs;
    struct done bad = {0}, good = {0};
    char dir[128];
    struct kz_file_writer *w;

    kz_label_policy_init_default(&policy);
    fs = open_files(fx, &policy);
    files_dir(fx, dir, sizeof(dir));
    w = kz_file_writer_new(&fx->loop, dir, 100, HELLO_HASH, NULL, &bad);
    assert_int_equal(kz_file_writer_add(w, "hello there", 11), KZ_OK);
    kz_file_writer_finish(w, on_done);
    assert_int_equal(run_until(fx, &bad.n, 1, 5000), 1);
    assert_int_equal(bad.status, KZ_ERR_INVAL);
    assert_string_equal(bad.hash, "");
    assert_int_equal(count_entries(dir, ""), 2); /* nothing kept */
    w = kz_file_writer_new(&fx->loop, dir, 100, HELLO_HASH, NULL, &good);
    assert_int_equal(kz_file_writer_add(w, "hello world", 11), KZ_OK);
    kz_file_writer_finish(w, on_done);
    assert_int_equal(run_until(fx, &good.n, 1, 5000), 1);
    assert_int_equal(good.status, KZ_OK);
    assert_int_equal(count_entries(dir, ".tmp-"), 0);
    assert_int_equal(count_entries(dir, ""), 3); /* ".", "..", "b9" only */
    kz_files_free(fs);
}

/* A temporary of a process killed mid-upload is gone at the next open. */
static void test_stale_temporaries(void **state)
{
    struct fx *fx = *state;
    struct kz_label_policy policy;
    char dir[128], path[256];
    struct kz_files *fs;

    kz_label_policy_init_default(&policy);
    files_dir(fx, dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/.tmp-AbC123", dir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    assert_true(exists(path));
    fs = open_files(fx, &policy);
    assert_false(exists(path));
    kz_files_free(fs);
}

struct added {
    size_t n;
    int status;
};

static void on_added(void *ud, int status, const struct kz_file *f)
{
    struct added *a = ud;

    a->status = status;
    assert_true((status == KZ_OK) == (f != NULL));
    a->n++;
}

static void label_of(struct kz_label_policy *p, const char *banner, const char *nation,
                     struct kz_label *out)
{
    assert_int_equal(kz_label_parse(p, banner, strlen(banner), out, NULL, 0), KZ_OK);
    out->originator = kz_nation_index(nation, strlen(nation));
}

static void test_index_visibility(void **state)
{
    struct fx *fx = *state;
    struct kz_label_policy policy;
    struct kz_files *fs;
    struct kz_label lab;
    struct added a = {0};
    static char *cyan[] = {"Cyan"}, *red[] = {"Red"};
    struct kz_release_subject usa = {kz_nation_index("USA", 3), KZ_LEVEL_SECRET};
    struct kz_release_subject jpn = {kz_nation_index("JPN", 3), KZ_LEVEL_SECRET};
    struct kz_files_viewer us_cyan = {&usa, cyan, 1}, jp_cyan = {&jpn, cyan, 1};
    struct kz_files_viewer us_red = {&usa, red, 1};
    struct kz_store_file row = {.uid = "u-1",
                                .hash = HELLO_HASH,
                                .name = "hello.txt",
                                .mime = "text/plain",
                                .size = 11,
                                .time_us = 1000,
                                .submitter = "alice",
                                .creator_uid = "ANDROID-1",
                                .keywords = "a,b",
                                .label = "SECRET//NOFORN",
                                .originator = "USA"};

    kz_label_policy_init_default(&policy);
    fs = open_files(fx, &policy);
    put_hello(fx);
    label_of(&policy, row.label, "USA", &lab);
    kz_files_add(fs, &row, &lab, cyan, 1, on_added, &a);
    assert_null(kz_files_find(fs, HELLO_HASH, &us_cyan)); /* not before the commit */
    assert_int_equal(run_until(fx, &a.n, 1, 5000), 1);
    assert_int_equal(a.status, KZ_OK);
    const struct kz_file *f = kz_files_find(fs, HELLO_HASH, &us_cyan);
    assert_non_null(f);
    assert_string_equal(f->row.name, "hello.txt");
    assert_string_equal(f->row.groups, "Cyan");
    assert_null(kz_files_find(fs, HELLO_HASH, &jp_cyan)); /* NOFORN */
    assert_null(kz_files_find(fs, HELLO_HASH, &us_red));  /* not in its groups */
    /* The same uid again is refused by the store, and not indexed twice. */
    assert_int_equal(kz_files_add(fs, &row, &lab, cyan, 1, on_added, &a), KZ_OK);
    assert_int_equal(run_until(fx, &a.n, 2, 5000), 2);
    assert_int_equal(a.status, KZ_ERR_DB);
    /* The same bytes uploaded again, released to Japan: JPN sees that upload. */
    struct kz_label rel;
    struct kz_store_file again = row;
    again.uid = "u-2";
    again.name = "for-japan.txt";
    again.label = "SECRET//REL TO USA, JPN";
    label_of(&policy, again.label, "USA", &rel);
    assert_int_equal(kz_files_add(fs, &again, &rel, cyan, 1, on_added, &a), KZ_OK);
    assert_int_equal(run_until(fx, &a.n, 3, 5000), 3);
    assert_int_equal(a.status, KZ_OK);
    assert_string_equal(kz_files_find(fs, HELLO_HASH, &jp_cyan)->row.name, "for-japan.txt");
    assert_int_equal(kz_files_find(fs, HELLO_HASH, &jp_cyan)->key, 2);
    assert_non_null(kz_files_find(fs, HELLO_HASH, &us_cyan));
    /* A hash that is not one is refused before anything is queued. */
    again.uid = "u-3";
    again.hash = "b94d";
    assert_int_equal(kz_files_add(fs, &again, &rel, cyan, 1, on_added, &a), KZ_ERR_INVAL);
    assert_null(kz_files_find(fs, "b94d", &us_cyan));

    kz_files_free(fs);
    /* After a restart the upload is found again, under the same rules. */
    close_store(fx);
    open_store(fx, 5, 0, 0);
    fs = open_files(fx, &policy);
    assert_string_equal(kz_files_find(fs, HELLO_HASH, &us_cyan)->row.name, "for-japan.txt");
    assert_string_equal(kz_files_find(fs, HELLO_HASH, &jp_cyan)->row.name, "for-japan.txt");
    assert_null(kz_files_find(fs, HELLO_HASH, &us_red));
    kz_files_free(fs);
}

/* Many hashes (the table grows several times); each is found, and only it. */
static void test_index_many(void **state)
{
    struct fx *fx = *state;
    struct kz_label_policy policy;
    struct kz_files *fs;
    struct kz_label lab;
    struct added a = {0};
    static char *cyan[] = {"Cyan"};
    struct kz_release_subject usa = {kz_nation_index("USA", 3), KZ_LEVEL_SECRET};
    struct kz_files_viewer v = {&usa, cyan, 1};
    enum { N = 700 };
    char hashes[N][KZ_FILE_HASH_HEX + 1], uid[16];

    /* The index's own machinery; on PostgreSQL each row needs its bytes, which made-up
     * hashes cannot have. */
    if (store_is_pg(fx->path))
        skip();
    kz_label_policy_init_default(&policy);
    fs = open_files(fx, &policy);
    label_of(&policy, "UNCLASSIFIED", "USA", &lab);
    for (unsigned i = 0; i < N; i++) {
        /* The same first digits for many: the probes must walk past them. */
        snprintf(hashes[i], sizeof(hashes[i]), "%016x%048x", i % 7, i);
        snprintf(uid, sizeof(uid), "u%u", i);
        struct kz_store_file row = {.uid = uid,
                                    .hash = hashes[i],
                                    .name = "n",
                                    .mime = "m",
                                    .label = "UNCLASSIFIED",
                                    .originator = "USA"};
        assert_int_equal(kz_files_add(fs, &row, &lab, cyan, 1, on_added, &a), KZ_OK);
    }
    assert_int_equal(run_until(fx, &a.n, N, 10000), N);
    for (unsigned i = 0; i < N; i++) {
        const struct kz_file *f = kz_files_find(fs, hashes[i], &v);
        assert_non_null(f);
        assert_string_equal(f->row.hash, hashes[i]);
    }
    assert_null(kz_files_find(fs, HELLO_HASH, &v));
    kz_files_free(fs);
}

struct fetched {
    size_t n;
    int status;
};

static void on_fetched(void *ud, int status)
{
    struct fetched *f = ud;

    f->status = status;
    f->n++;
}

static int fetch(struct fx *fx, struct kz_files *fs, const char *hash, bool bytes)
{
    struct fetched f = {0};

    kz_files_fetch(fs, hash, bytes, on_fetched, &f);
    assert_int_equal(run_until(fx, &f.n, 1, 5000), 1);
    return f.status;
}

static void read_all(const char *path, char *buf, size_t len, ssize_t *n)
{
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    *n = read(fd, buf, len);
    close(fd);
}

/* On PostgreSQL: the bytes go with the row; another instance fetches the row and the bytes. */
static void test_fetch_from_store(void **state)
{
    struct fx *fx = *state;
    struct kz_label_policy policy;
    struct kz_files *a_fs, *b_fs;
    struct kz_label lab;
    struct added a = {0};
    static char *cyan[] = {"Cyan"};
    struct kz_release_subject usa = {kz_nation_index("USA", 3), KZ_LEVEL_SECRET};
    struct kz_release_subject jpn = {kz_nation_index("JPN", 3), KZ_LEVEL_SECRET};
    struct kz_files_viewer us = {&usa, cyan, 1}, jp = {&jpn, cyan, 1};
    struct kz_store_file row = {.uid = "u-1",
                                .hash = HELLO_HASH,
                                .name = "hello.txt",
                                .mime = "text/plain",
                                .size = 11,
                                .label = "SECRET//NOFORN",
                                .originator = "USA"};
    char dir[128], path[256], buf[64];
    ssize_t n = 0;

    kz_label_policy_init_default(&policy);
    a_fs = open_files(fx, &policy);
    b_fs = open_files(fx, &policy); /* another instance, open before the upload */
    if (!store_is_pg(fx->path)) {
        assert_false(kz_files_fetches(a_fs)); /* SQLite: the disk is all there is */
        kz_files_free(a_fs);
        kz_files_free(b_fs);
        return;
    }
    assert_true(kz_files_fetches(a_fs));
    files_dir(fx, dir, sizeof(dir));
    assert_int_equal(kz_file_path(dir, HELLO_HASH, path, sizeof(path)), KZ_OK);
    /* Bytes missing on disk: the row is refused, nothing half stored. */
    label_of(&policy, row.label, "USA", &lab);
    assert_int_equal(kz_files_add(a_fs, &row, &lab, cyan, 1, on_added, &a), KZ_OK);
    assert_int_equal(run_until(fx, &a.n, 1, 5000), 1);
    assert_int_equal(a.status, KZ_ERR_DB);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM files"), 0);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM file_content"), 0);
    /* Uploaded on A: the bytes are in PostgreSQL with the row. */
    put_hello(fx);
    assert_int_equal(kz_files_add(a_fs, &row, &lab, cyan, 1, on_added, &a), KZ_OK);
    assert_int_equal(run_until(fx, &a.n, 2, 5000), 2);
    assert_int_equal(a.status, KZ_OK);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM file_content WHERE hash = '" HELLO_HASH
                                       "' AND data = 'hello world'::bytea"),
                     1);
    /* The same bytes again: a second row, the bytes stored once. */
    row.uid = "u-2";
    assert_int_equal(kz_files_add(a_fs, &row, &lab, cyan, 1, on_added, &a), KZ_OK);
    assert_int_equal(run_until(fx, &a.n, 3, 5000), 3);
    assert_int_equal(a.status, KZ_OK);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM file_content"), 1);
    /* B did not see it; a fetch brings both rows, under their label, once however often. */
    unlink(path); /* B's disk lacks the bytes */
    assert_null(kz_files_newest(b_fs, HELLO_HASH));
    assert_int_equal(fetch(fx, b_fs, HELLO_HASH, false), KZ_OK);
    assert_int_equal(fetch(fx, b_fs, HELLO_HASH, false), KZ_OK);
    const struct kz_file *f = kz_files_find(b_fs, HELLO_HASH, &us);
    assert_non_null(f);
    assert_string_equal(f->row.uid, "u-2");
    assert_non_null(f->older);
    assert_string_equal(f->older->row.uid, "u-1");
    assert_null(f->older->older);
    assert_null(kz_files_find(b_fs, HELLO_HASH, &jp)); /* NOFORN on B too */
    assert_false(exists(path));
    /* The bytes to B's disk, identical, no temporary left. */
    assert_int_equal(fetch(fx, b_fs, HELLO_HASH, true), KZ_OK);
    read_all(path, buf, sizeof(buf), &n);
    assert_int_equal(n, 11);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(count_entries(dir, ".tmp-"), 0);
    /* A hash nobody stored; stored bytes that are not their hash: nothing written. */
    assert_int_equal(fetch(fx, b_fs, ZERO_HASH, true), KZ_ERR_NOTFOUND);
    sql_exec(fx->path, "UPDATE file_content SET data = 'hello there'::bytea");
    unlink(path);
    assert_int_equal(fetch(fx, b_fs, HELLO_HASH, true), KZ_ERR_INVAL);
    assert_false(exists(path));
    assert_int_equal(count_entries(dir, ".tmp-"), 0);
    kz_files_free(a_fs);
    kz_files_free(b_fs);
}

struct readback {
    size_t n;
    int status;
    uint64_t size;
    struct kz_sbuf data;
    struct kz_file_reader *r;
    bool eof;
};

static void on_got(void *ud, int status, const char *data, size_t n)
{
    struct readback *b = ud;

    b->status = status;
    kz_sbuf_add(&b->data, data, n);
    if (status == KZ_OK && n > 0) {
        kz_file_reader_read(b->r, 4, on_got);
        return;
    }
    b->eof = true;
    b->n++;
}

static void on_opened(void *ud, int status, uint64_t size)
{
    struct readback *b = ud;

    b->status = status;
    b->size = size;
    if (status == KZ_OK)
        kz_file_reader_read(b->r, 4, on_got);
    else
        b->n++;
}

static void test_reader(void **state)
{
    struct fx *fx = *state;
    char dir[128], path[256];
    struct readback b = {0};
    int fd;

    files_dir(fx, dir, sizeof(dir));
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/x", dir);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_int_equal(write(fd, "hello world", 11), 11);
    close(fd);
    b.r = kz_file_reader_open(&fx->loop, path, on_opened, &b);
    assert_int_equal(run_until(fx, &b.n, 1, 5000), 1);
    assert_int_equal(b.status, KZ_OK);
    assert_int_equal(b.size, 11);
    assert_int_equal(b.data.len, 11);
    assert_memory_equal(b.data.buf, "hello world", 11);
    kz_file_reader_close(b.r);
    kz_sbuf_release(&b.data);
    /* A missing file; and a reader closed while it opens calls nothing. */
    memset(&b, 0, sizeof(b));
    b.r = kz_file_reader_open(&fx->loop, "/nonexistent/kz", on_opened, &b);
    assert_int_equal(run_until(fx, &b.n, 1, 5000), 1);
    assert_int_equal(b.status, KZ_ERR_NOTFOUND);
    kz_file_reader_close(b.r);
    memset(&b, 0, sizeof(b));
    kz_file_reader_close(kz_file_reader_open(&fx->loop, path, on_opened, &b));
    run_until(fx, NULL, 0, 100);
    assert_int_equal(b.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hash_naming, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_temp_then_rename, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_size_limit_and_abort, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_expected_hash, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_stale_temporaries, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_index_visibility, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_index_many, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_reader, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_fetch_from_store, setup, store_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
