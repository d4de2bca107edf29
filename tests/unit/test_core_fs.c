/* Unit tests for the atomic file writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/core.h"

static void slurp_is(const char *path, const char *want)
{
    char buf[64] = {0};
    FILE *f = fopen(path, "rb");

    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), strlen(want));
    fclose(f);
    assert_string_equal(buf, want);
}

static void test_write_replace(void **state)
{
    char dir[] = "/tmp/kz-fs-XXXXXX", path[64], tmp[80], err[256];
    struct stat st;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/f", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_equal(kz_write_file(path, "one", 3, 0600, err, sizeof(err)), KZ_OK);
    slurp_is(path, "one");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A tmp file left by a crash is replaced, not appended to. */
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("stale stale stale", f);
    fclose(f);
    assert_int_equal(kz_write_file(path, "two", 3, 0644, err, sizeof(err)), KZ_OK);
    slurp_is(path, "two");
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_write_error(void **state)
{
    char err[256] = "";

    (void)state;
    assert_int_equal(kz_write_file("/nonexistent-kz/f", "x", 1, 0600, err, sizeof(err)), KZ_ERR_IO);
    assert_non_null(strstr(err, "cannot write /nonexistent-kz/f: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_replace),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
