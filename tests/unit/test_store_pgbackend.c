/*
 * test_store_pgbackend.c - the PostgreSQL backend's own checks, on a real
 * PostgreSQL 15 with PostGIS started for this binary (pg_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pg_fixture.h"

static struct pg_fx server;

static void test_fixture_postgis(void **state)
{
    char dsn[256];

    (void)state;
    assert_int_equal(pg_fx_new_db(&server, dsn, sizeof(dsn)), 0);
    assert_int_equal(pg_fx_int(dsn, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'"),
                     1);
    assert_int_equal(
        pg_fx_int(dsn, "SELECT (ST_Distance('POINT(0 0)'::geography, 'POINT(0 1)'::geography)"
                       " BETWEEN 110000 AND 112000)::int"),
        1); /* one degree of latitude, on the spheroid */
}

static int group_setup(void **state)
{
    (void)state;
    return pg_fx_start(&server);
}

static int group_teardown(void **state)
{
    (void)state;
    pg_fx_stop(&server);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_postgis),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
