/*
 * Unit tests for the route matcher: literal segments, {name} parameters
 * (one non-empty segment each, kept in the request's arena), and paths that
 * must not match (prefixes, extra or empty segments).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/internal.h"

static void test_literal(void **state)
{
    (void)state;
    assert_true(kz__http_route_match("/healthz", "/healthz", NULL));
    assert_true(kz__http_route_match("/", "/", NULL));
    assert_true(kz__http_route_match("/api/v1/events", "/api/v1/events", NULL));
    assert_false(kz__http_route_match("/api/v1/events", "/api/v1/event", NULL));
    assert_false(kz__http_route_match("/api/v1/events", "/api/v1/events/", NULL));
    assert_false(kz__http_route_match("/api/v1/events", "/api/v1/events/x", NULL));
    assert_false(kz__http_route_match("/api/v1/events", "/api/v1", NULL));
    assert_false(kz__http_route_match("/api/v1/events", "/API/v1/events", NULL));
    assert_false(kz__http_route_match("/healthz", "/", NULL));
}

static void test_params(void **state)
{
    struct kz_http_req req = {0};
    const char *pat = "/api/v1/alliance/commands/{id}";
    (void)state;

    assert_true(kz__http_route_match(pat, "/api/v1/alliance/commands/C7F", &req));
    assert_int_equal(req.n_path_params, 1);
    assert_string_equal(kz_http_path_param(&req, "id"), "C7F");
    assert_null(kz_http_path_param(&req, "other"));

    assert_false(kz__http_route_match(pat, "/api/v1/alliance/commands/", &req));
    assert_false(kz__http_route_match(pat, "/api/v1/alliance/commands", &req));
    assert_false(kz__http_route_match(pat, "/api/v1/alliance/commands/C7F/x", &req));

    assert_true(kz__http_route_match("/a/{x}/b/{y}", "/a/1/b/two words", &req));
    assert_int_equal(req.n_path_params, 2);
    assert_string_equal(kz_http_path_param(&req, "x"), "1");
    assert_string_equal(kz_http_path_param(&req, "y"), "two words");
    assert_false(kz__http_route_match("/a/{x}/b/{y}", "/a/1/c/2", &req));
    kz_arena_release(&req.arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
