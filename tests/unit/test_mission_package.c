/*
 * Unit tests for mission packages (src/mission/package.c, issue 13): the
 * files of a zip with a manifest, CoT entries told apart, and the
 * refusals: not a zip, no manifest, too many entries, sizes over the
 * limit (a zip bomb).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include <zip.h>

#include "mission/package.h"

struct entry {
    const char *name;
    const char *data; /* NULL: a directory */
    size_t len;       /* 0: strlen(data) */
};

/* A zip of the entries, made with libzip in a temporary file and read back. */
static struct kz_sbuf make_zip(const struct entry *e, unsigned n)
{
    char path[] = "/tmp/kz-pkg-XXXXXX";
    int fd = mkstemp(path), err = 0;
    struct kz_sbuf out = KZ_SBUF_INIT;
    char buf[4096];
    ssize_t got;

    assert_true(fd >= 0);
    close(fd);
    zip_t *z = zip_open(path, ZIP_TRUNCATE, &err);
    assert_non_null(z);
    for (unsigned i = 0; i < n; i++) {
        if (!e[i].data) {
            assert_true(zip_dir_add(z, e[i].name, 0) >= 0);
            continue;
        }
        size_t len = e[i].len ? e[i].len : strlen(e[i].data);
        zip_source_t *s = zip_source_buffer(z, e[i].data, len, 0);
        assert_true(zip_file_add(z, e[i].name, s, 0) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
    fd = open(path, O_RDONLY);
    while ((got = read(fd, buf, sizeof(buf))) > 0)
        kz_sbuf_add(&out, buf, (size_t)got);
    close(fd);
    unlink(path);
    return out;
}

static int open_zip(const struct kz_sbuf *z, uint64_t max, struct kz_package **p)
{
    char err[200];

    return kz_package_open(z->buf, z->len, max, p, err, sizeof(err));
}

static void files_and_cot(void **state)
{
    const struct entry e[] = {
        {KZ_PACKAGE_MANIFEST, "<MissionPackageManifest/>", 0},
        {"a/", NULL, 0},
        {"a/marker.COT", "<event/>", 0},
        {"b/notes.txt", "harbour notes", 0},
    };
    struct kz_sbuf z = make_zip(e, 4), out = KZ_SBUF_INIT;
    struct kz_package *p;

    (void)state;
    assert_int_equal(open_zip(&z, 1 << 20, &p), KZ_OK);
    assert_int_equal(kz_package_count(p), 2);
    assert_true(kz_package_is_cot(p, 0));
    assert_false(kz_package_is_cot(p, 1));
    assert_string_equal(kz_package_path(p, 1), "b/notes.txt");
    assert_string_equal(kz_package_basename(p, 1), "notes.txt");
    assert_int_equal(kz_package_read(p, 1, &out), KZ_OK);
    assert_int_equal(out.len, 13);
    assert_memory_equal(out.buf, "harbour notes", 13);
    kz_package_free(p);
    kz_sbuf_release(&out);
    kz_sbuf_release(&z);
}

static void refusals(void **state)
{
    const struct entry no_manifest[] = {{"notes.txt", "x", 0}};
    struct kz_sbuf z = make_zip(no_manifest, 1);
    struct kz_package *p;
    char err[200];

    (void)state;
    assert_int_equal(open_zip(&z, 1 << 20, &p), KZ_ERR_PARSE);
    assert_null(p);
    kz_sbuf_release(&z);
    assert_int_equal(kz_package_open("PK", 2, 100, &p, err, sizeof(err)), KZ_ERR_PARSE);
    assert_string_equal(err, "not a zip");
    assert_int_equal(kz_package_open("", 0, 100, &p, err, sizeof(err)), KZ_ERR_PARSE);
}

static void too_many_entries(void **state)
{
    struct entry *e = calloc(KZ_PACKAGE_MAX_ENTRIES + 1, sizeof(*e));
    char(*names)[16] = calloc(KZ_PACKAGE_MAX_ENTRIES + 1, sizeof(*names));
    struct kz_package *p;

    (void)state;
    e[0] = (struct entry){KZ_PACKAGE_MANIFEST, "m", 0};
    for (unsigned i = 1; i <= KZ_PACKAGE_MAX_ENTRIES; i++) {
        snprintf(names[i], sizeof(names[i]), "f/%u", i);
        e[i] = (struct entry){names[i], "x", 0};
    }
    struct kz_sbuf z = make_zip(e, KZ_PACKAGE_MAX_ENTRIES + 1);
    assert_int_equal(open_zip(&z, 1 << 20, &p), KZ_ERR_TOOBIG);
    kz_sbuf_release(&z);
    /* Exactly the limit is fine. */
    z = make_zip(e, KZ_PACKAGE_MAX_ENTRIES);
    assert_int_equal(open_zip(&z, 1 << 20, &p), KZ_OK);
    assert_int_equal(kz_package_count(p), KZ_PACKAGE_MAX_ENTRIES - 1);
    kz_package_free(p);
    kz_sbuf_release(&z);
    free(names);
    free(e);
}

/* A megabyte of zeros deflates to about a kilobyte: refused by its inflated size. */
static void zip_bomb(void **state)
{
    char *zeros = calloc(1, 1 << 20);
    const struct entry e[] = {
        {KZ_PACKAGE_MANIFEST, "m", 0}, {"a.bin", zeros, 1 << 20}, {"b.bin", zeros, 1 << 20}};
    struct kz_sbuf z = make_zip(e, 3);
    struct kz_package *p;

    (void)state;
    assert_true(z.len < 64 * 1024);
    assert_int_equal(open_zip(&z, 1 << 20, &p), KZ_ERR_TOOBIG); /* two files: 2 MiB in all */
    assert_int_equal(open_zip(&z, 1000, &p), KZ_ERR_TOOBIG);
    assert_int_equal(open_zip(&z, 3 << 20, &p), KZ_OK);
    kz_package_free(p);
    kz_sbuf_release(&z);
    free(zeros);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(files_and_cot),
        cmocka_unit_test(refusals),
        cmocka_unit_test(too_many_entries),
        cmocka_unit_test(zip_bomb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
