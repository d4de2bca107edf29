/*
 * Unit tests for the GET /api/v1/events parameters (api/events.c): limit,
 * since/until, uid, type and cursor, and every malformed form or unknown
 * parameter answered 400.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/internal.h"
#include "http/internal.h"

/* ---- GET /api/v1/events parameters ---------------------------------------------- */

static struct kz_http_req req; /* its arena holds the last query's strings */

static int events_query(const char *url, struct kz_store_query *q, char *err)
{
    kz_arena_release(&req.arena);
    memset(&req, 0, sizeof(req));
    assert_int_equal(kz__http_parse_target(&req.arena, url, strlen(url), &req.target), KZ_OK);
    err[0] = '\0';
    int rc = kz__api_events_query(&req, q, err, 160);
    if (rc == KZ_OK) {
        /* Copy out: the arena is reused by the next call. */
        static char uid[64], type[64];
        if (q->uid) {
            snprintf(uid, sizeof(uid), "%s", q->uid);
            q->uid = uid;
        }
        if (q->type) {
            snprintf(type, sizeof(type), "%s", q->type);
            q->type = type;
        }
    }
    return rc;
}

static void test_events_query(void **state)
{
    struct kz_store_query q;
    char err[160];
    (void)state;

    assert_int_equal(events_query("/api/v1/events", &q, err), KZ_OK);
    assert_int_equal(q.limit, 100);
    assert_null(q.uid);
    assert_null(q.type);
    assert_true(q.since_us == 0 && q.until_us == 0);

    assert_int_equal(events_query("/api/v1/events?uid=ANDROID-1&type=a-f-G*&limit=10000"
                                  "&since=2020-12-16T19:59:34Z&until=2020-12-16T20:00:00.5Z"
                                  "&cursor=9223372036854775807",
                                  &q, err),
                     KZ_OK);
    assert_string_equal(q.uid, "ANDROID-1");
    assert_string_equal(q.type, "a-f-G*");
    assert_int_equal(q.limit, 10000);
    assert_true(q.since_us == 1608148774000000);
    assert_true(q.until_us == 1608148800500000);
    assert_true(q.before_seq == INT64_MAX);
    assert_int_equal(events_query("/e?cursor=42", &q, err), KZ_OK);
    assert_true(q.before_seq == 42);
    assert_int_equal(events_query("/e", &q, err), KZ_OK);
    assert_true(q.before_seq == 0);

    assert_int_equal(events_query("/e?since=2020-12-16T19%3A59%3A34Z", &q, err), KZ_OK);
    assert_true(q.since_us == 1608148774000000);

    const char *bad[] = {
        "/e?limit=0",
        "/e?limit=10001",
        "/e?limit=-1",
        "/e?limit=abc",
        "/e?limit=",
        "/e?limit=99999999999999999999",
        "/e?limit=1.5",
        "/e?since=yesterday",
        "/e?until=2020-12-16",
        "/e?since=",
        "/e?uid=",
        "/e?type=",
        "/e?since=2021-01-01T00:00:00Z&until=2020-01-01T00:00:00Z",
        "/e?cursor=",
        "/e?cursor=0",
        "/e?cursor=007",
        "/e?cursor=-1",
        "/e?cursor=12a",
        "/e?cursor=9223372036854775808",
        "/e?cursor=99999999999999999999",
        /* Any parameter not documented is refused, not ignored. */
        "/e?x=1",
        "/e?limit=5&_=cachebuster",
        "/e?Limit=5",
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad); i++) {
        assert_int_equal(events_query(bad[i], &q, err), KZ_ERR_INVAL);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(events_query("/e?limit=10001", &q, err), KZ_ERR_INVAL);
    assert_non_null(strstr(err, "limit"));
    assert_int_equal(events_query("/e?uid=a&x=1", &q, err), KZ_ERR_INVAL);
    assert_string_equal(err, "unknown parameter 'x'");
    events_query("/", &q, err);
    kz_arena_release(&req.arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
