/*
 * test_api_server.c - the REST API over the HTTP engine: routes, roles,
 * limits, pipelining, the store's answers, SSE, metrics and timeouts
 * (fixture: api_server_fixture.h).
 */
#include "api_server_fixture.h"

static void c_healthz(struct client *c)
{
    exchange(IN_WEB, GET("/healthz"), &c->r[0]);
    /* HTTP/1.0 without keep-alive is closed by the server after one answer. */
    exchange(IN_WEB, "GET /healthz HTTP/1.0\r\n\r\n", &c->r[1]);
}

static void test_healthz(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_healthz);
    assert_int_equal(c.r[0].status, 200);
    assert_string_equal(c.r[0].body, "ok\n");
    assert_non_null(strstr(c.r[0].raw, "Connection: close\r\n"));
    assert_int_equal(c.r[1].status, 200);
    assert_string_equal(c.r[1].body, "ok\n");
    client_free(&c);
}

static const char *why_not(void *ud)
{
    return ud;
}

static void c_readyz(struct client *c)
{
    exchange(IN_WEB, GET("/readyz"), &c->r[0]);
    api.not_ready = why_not;
    api.not_ready_ud = (void *)"store: behind";
    exchange(IN_WEB, GET("/readyz"), &c->r[1]);
    exchange(IN_NOROLE, GET("/readyz"), &c->r[2]);
    api.not_ready = NULL;
    api.not_ready_ud = NULL;
}

/* Readiness is the owner's to say; the answer is JSON either way, and needs no role. */
static void test_readyz(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_readyz);
    assert_int_equal(c.r[0].status, 200);
    assert_string_equal(c.r[0].body, "{\"ready\":true}");
    assert_int_equal(c.r[1].status, 503);
    assert_string_equal(c.r[1].body, "{\"ready\":false,\"reason\":\"store: behind\"}");
    assert_int_equal(c.r[2].status, 503);
    client_free(&c);
}

static void c_post_and_tracks(struct client *c)
{
    post_event(IN_WEB, "HTTP-TEST-1", &c->r[0]);
    exchange(IN_WEB, GET("/api/v1/tracks"), &c->r[1]);
    exchange(IN_RED, GET("/api/v1/tracks"), &c->r[2]);
    exchange(IN_WEB, GET("/api/v1/events"), &c->r[3]);
}

static void test_post_then_tracks(void **state)
{
    struct client c;
    uint64_t in = kz_metrics.events_in;
    (void)state;

    run_client(&c, c_post_and_tracks);
    assert_int_equal(c.r[0].status, 201);
    assert_non_null(strstr(c.r[0].body, "\"uid\":\"HTTP-TEST-1\""));
    assert_non_null(strstr(c.r[0].body, "\"seq\":"));
    assert_true(kz_metrics.events_in == in + 1);

    assert_int_equal(c.r[1].status, 200);
    assert_non_null(strstr(c.r[1].raw, "Content-Type: application/geo+json\r\n"));
    assert_non_null(strstr(c.r[1].body, "\"FeatureCollection\""));
    assert_non_null(strstr(c.r[1].body, "HTTP-TEST-1"));

    /* Another group may not see it. */
    assert_int_equal(c.r[2].status, 200);
    assert_null(strstr(c.r[2].body, "HTTP-TEST-1"));

    /* No store behind this router. */
    assert_int_equal(c.r[3].status, 503);
    assert_non_null(strstr(c.r[3].body, "\"error\""));
    client_free(&c);
}

static void c_bad_post(struct client *c)
{
    const char *req = "POST /api/v1/events HTTP/1.1\r\nContent-Length: 12\r\n"
                      "Connection: close\r\n\r\n<event></ev>";
    exchange(IN_WEB, req, &c->r[0]);
    req = "POST /api/v1/events HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    exchange(IN_WEB, req, &c->r[1]);
}

static void test_bad_post(void **state)
{
    struct client c;
    uint64_t xml = kz_metrics.rejects[KZ_REJ_XML], missing = kz_metrics.rejects[KZ_REJ_MISSING];
    (void)state;

    run_client(&c, c_bad_post);
    assert_int_equal(c.r[0].status, 400);
    assert_non_null(strstr(c.r[0].body, "{\"error\":\"missing: "));
    assert_true(kz_metrics.rejects[KZ_REJ_MISSING] == missing + 1);
    assert_int_equal(c.r[1].status, 400);
    assert_non_null(strstr(c.r[1].body, "{\"error\":\"xml: "));
    assert_true(kz_metrics.rejects[KZ_REJ_XML] == xml + 1);
    client_free(&c);
}

static void c_not_found(struct client *c)
{
    exchange(IN_WEB, GET("/nope"), &c->r[0]);
    exchange(IN_WEB, "DELETE /api/v1/events HTTP/1.1\r\nConnection: close\r\n\r\n", &c->r[1]);
    exchange(IN_WEB, "POST /healthz HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
             &c->r[2]);
    exchange(IN_WEB, GET("/api/v1/tracks/"), &c->r[3]);
}

static void test_not_found_and_method(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_not_found);
    assert_int_equal(c.r[0].status, 404);
    assert_non_null(strstr(c.r[0].raw, "Content-Type: application/json\r\n"));
    assert_string_equal(c.r[0].body, "{\"error\":\"not found\"}\n");
    assert_int_equal(c.r[1].status, 405);
    assert_non_null(strstr(c.r[1].raw, "\r\nAllow: GET, POST\r\n"));
    assert_int_equal(c.r[2].status, 405);
    assert_non_null(strstr(c.r[2].raw, "\r\nAllow: GET\r\n"));
    assert_int_equal(c.r[3].status, 404);
    client_free(&c);
}

static void c_engine_routes(struct client *c)
{
    exchange(IN_WEB, GET("/test/things/42"), &c->r[0]);
    exchange(IN_WEB, GET("/test/ops-only"), &c->r[1]);
    exchange(IN_WEB, GET("/test/enroll-only"), &c->r[2]);
    exchange(IN_WEB,
             "POST /test/things/7 HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
             &c->r[3]);
}

static void test_engine_routes(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_engine_routes);
    assert_int_equal(c.r[0].status, 200);
    assert_string_equal(c.r[0].body, "42");
    assert_int_equal(c.r[1].status, 403);
    assert_non_null(strstr(c.r[1].body, "role 'ops' required"));
    assert_int_equal(c.r[2].status, 404); /* not served on http inputs */
    assert_int_equal(c.r[3].status, 405);
    assert_non_null(strstr(c.r[3].raw, "\r\nAllow: GET\r\n"));
    client_free(&c);
}

static void c_roles(struct client *c)
{
    post_event(IN_VIEWER, "ROLE-1", &c->r[0]);
    exchange(IN_NOROLE, GET("/api/v1/tracks"), &c->r[1]);
    exchange(IN_NOROLE, GET("/healthz"), &c->r[2]);
    exchange(IN_VIEWER, GET("/api/v1/tracks"), &c->r[3]);
}

/* Roles are enforced: each route row names the one it needs (issue 10 §2). */
static void test_roles(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_roles);
    assert_int_equal(c.r[0].status, 403);
    assert_non_null(strstr(c.r[0].body, "{\"error\":\"role 'operator' required\"}"));
    assert_int_equal(c.r[1].status, 403);
    assert_non_null(strstr(c.r[1].body, "role 'viewer' required"));
    assert_int_equal(c.r[2].status, 200); /* /healthz needs none */
    assert_int_equal(c.r[3].status, 200);
    assert_null(strstr(c.r[3].body, "ROLE-1"));
    client_free(&c);
}

static void c_limits(struct client *c)
{
    char *big = malloc(200000);
    int n = snprintf(big, 200000, "POST /api/v1/events HTTP/1.1\r\nContent-Length: 150000\r\n\r\n");
    int fd;

    /* 413: the answer must arrive even though we keep sending the body. */
    memset(big + n, 'x', 150000);
    fd = client_connect(IN_WEB);
    send_all(fd, big, (size_t)n + 150000);
    read_all(fd, &c->r[0]);
    close(fd);
    parse_resp(&c->r[0]);

    /* 431: more header fields than max_headers (16). */
    n = snprintf(big, 200000, "GET /healthz HTTP/1.1\r\n");
    for (int i = 0; i < 20; i++)
        n += snprintf(big + n, (size_t)(200000 - n), "X-Field-%d: %d\r\n", i, i);
    snprintf(big + n, (size_t)(200000 - n), "\r\n");
    exchange(IN_WEB, big, &c->r[1]);

    /* 431: header bytes over 16 KiB. */
    n = snprintf(big, 200000, "GET /healthz HTTP/1.1\r\nX-Big: ");
    memset(big + n, 'y', 20000);
    snprintf(big + n + 20000, 100, "\r\n\r\n");
    exchange(IN_WEB, big, &c->r[2]);

    /* 400: garbage. */
    exchange(IN_WEB, "HELLO THERE\r\n\r\n", &c->r[3]);
    free(big);
}

static void test_limits(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_limits);
    assert_int_equal(c.r[0].status, 413);
    assert_non_null(strstr(c.r[0].raw, "Connection: close\r\n"));
    assert_int_equal(c.r[1].status, 431);
    assert_int_equal(c.r[2].status, 431);
    assert_int_equal(c.r[3].status, 400);
    assert_non_null(strstr(c.r[3].body, "\"error\""));
    client_free(&c);
}

static void c_pipeline(struct client *c)
{
    /* Three requests in one write, including an asynchronous POST in the middle. */
    char body[1024], req[4096];
    int n = snprintf(body, sizeof(body), EVENT_FMT, "PIPE-1", "PIPE-1");
    snprintf(req, sizeof(req),
             "GET /healthz HTTP/1.1\r\n\r\n"
             "POST /api/v1/events HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s"
             "GET /nope HTTP/1.1\r\n\r\n"
             "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
             n, body);
    exchange(IN_DB, req, &c->r[0]);
}

static void test_pipelining(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_pipeline);
    const char *p = c.r[0].raw;
    assert_non_null(p);
    int want[] = {200, 201, 404, 200};
    for (int i = 0; i < 4; i++) {
        int status = 0;
        p = strstr(p, "HTTP/1.1 ");
        assert_non_null(p);
        assert_int_equal(sscanf(p, "HTTP/1.1 %d", &status), 1);
        assert_int_equal(status, want[i]);
        p += 9;
    }
    assert_null(strstr(p, "HTTP/1.1 "));
    client_free(&c);
}

/* Security review F1: POSTs back to back in one write, each answered with its own uid. */
static void pipelined_posts(int input, int n, struct resp *r)
{
    struct kz_sbuf req = KZ_SBUF_INIT;
    char body[1024], uid[32];

    for (int i = 0; i < n; i++) {
        snprintf(uid, sizeof(uid), "PIPE-%d-%d", input, i);
        int len = snprintf(body, sizeof(body), EVENT_FMT, uid, uid);
        kz_sbuf_addf(&req, "POST /api/v1/events HTTP/1.1\r\nContent-Length: %d\r\n%s\r\n%s", len,
                     i == n - 1 ? "Connection: close\r\n" : "", body);
    }
    exchange(input, req.buf, r);
    kz_sbuf_release(&req);
}

static void c_pipelined_posts(struct client *c)
{
    pipelined_posts(IN_DB, 2, &c->r[0]);
    pipelined_posts(IN_DB, 3, &c->r[1]);
    pipelined_posts(IN_WEB, 3, &c->r[2]); /* no store: acknowledged inside the submit */
}

static void assert_posts(const struct resp *r, int input, int n)
{
    const char *p = r->raw;
    char want[64];

    assert_non_null(p);
    for (int i = 0; i < n; i++) {
        int status = 0;
        p = strstr(p, "HTTP/1.1 ");
        assert_non_null(p);
        assert_int_equal(sscanf(p, "HTTP/1.1 %d", &status), 1);
        assert_int_equal(status, 201);
        snprintf(want, sizeof(want), "{\"uid\":\"PIPE-%d-%d\",\"seq\":", input, i);
        p = strstr(p, "\r\n\r\n");
        assert_non_null(p);
        assert_memory_equal(p + 4, want, strlen(want));
    }
    assert_null(strstr(p, "HTTP/1.1 "));
}

static void test_pipelined_posts(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_pipelined_posts);
    assert_posts(&c.r[0], IN_DB, 2);
    assert_posts(&c.r[1], IN_DB, 3);
    assert_posts(&c.r[2], IN_WEB, 3);
    client_free(&c);
}

static void c_store_events(struct client *c)
{
    post_event(IN_DB, "DB-1", &c->r[0]);
    post_event(IN_DB, "DB-2", &c->r[1]);
    exchange(IN_DB, GET("/api/v1/events?limit=10&type=a-f-*"), &c->r[2]);
    exchange(IN_DB, GET("/api/v1/events?limit=0"), &c->r[3]);
}

static void test_store_events(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_store_events);
    assert_int_equal(c.r[0].status, 201);
    assert_int_equal(c.r[1].status, 201);
    assert_int_equal(c.r[2].status, 200);
    const char *a = strstr(c.r[2].body, "DB-1"), *b = strstr(c.r[2].body, "DB-2");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(b < a); /* newest first */
    assert_int_equal(strncmp(c.r[2].body, "{\"events\":[", 11), 0);
    assert_int_equal(c.r[3].status, 400);
    assert_non_null(strstr(c.r[3].body, "limit"));
    client_free(&c);
}

static void c_sse(struct client *c)
{
    int fd = client_connect(IN_WEB);
    const char *req = "GET /api/v1/stream HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n";

    send_all(fd, req, strlen(req));
    if (!read_until(fd, &c->r[0], "\r\n\r\n"))
        goto out;
    post_event(IN_WEB, "SSE-TEST-1", &c->r[1]);
    c->ok = read_until(fd, &c->r[0], "SSE-TEST-1");
    exchange(IN_WEB, GET("/metrics"), &c->r[2]);
out:
    close(fd);
}

static void test_sse(void **state)
{
    struct client c;
    struct kz_router_stats rs;
    (void)state;

    run_client(&c, c_sse);
    parse_resp(&c.r[0]);
    assert_int_equal(c.r[0].status, 200);
    assert_non_null(strstr(c.r[0].raw, "Content-Type: text/event-stream\r\n"));
    assert_non_null(strstr(c.r[0].raw, "Cache-Control: no-cache\r\n"));
    assert_int_equal(c.r[1].status, 201);
    assert_true(c.ok);
    assert_non_null(strstr(c.r[0].body, "event: cot\n"));
    assert_non_null(strstr(c.r[0].body, "data: {"));
    /* While the stream was open it was a subscriber. */
    assert_non_null(strstr(c.r[2].body, "\nkizuna_subscribers 1\n"));
    kz_router_stats(router, &rs);
    assert_true(rs.subscribers == 0);
    client_free(&c);
}

static void c_metrics(struct client *c)
{
    exchange(IN_DB, GET("/metrics"), &c->r[0]);
}

static void test_metrics(void **state)
{
    static const char *names[] = {
        "# TYPE kizuna_connections gauge\n",
        "\nkizuna_connections{kind=\"cot\"} ",
        "\nkizuna_connections{kind=\"http\"} ",
        "\nkizuna_connections_total ",
        "\nkizuna_http_requests_total ",
        "\nkizuna_events_in_total ",
        "\nkizuna_deliveries_total ",
        "\nkizuna_bytes_out_total ",
        "\nkizuna_rejects_total{reason=\"xml\"} ",
        "\nkizuna_rejects_total{reason=\"label\"} ",
        "\nkizuna_slow_consumer_drops_total ",
        "\nkizuna_garbage_closes_total ",
        "\nkizuna_tracks ",
        "\nkizuna_subscribers ",
        "\nkizuna_store_committed_total ",
        "\nkizuna_store_errors_total ",
        "\nkizuna_store_lag_seconds ",
        "\nkizuna_store_bytes ",
        "# HELP kizuna_http_requests_total ",
    };
    struct client c;
    (void)state;

    run_client(&c, c_metrics);
    assert_int_equal(c.r[0].status, 200);
    assert_non_null(strstr(c.r[0].raw, "Content-Type: text/plain; version=0.0.4"));
    for (size_t i = 0; i < KZ_ARRAY_LEN(names); i++) {
        if (!strstr(c.r[0].body, names[i]))
            fail_msg("missing %s", names[i]);
    }
    client_free(&c);
}

static void c_timeout_and_limit(struct client *c)
{
    int hold = client_connect(IN_WEB);
    int fd;

    /* max_connections = 1 on this input, and one connection is already open. */
    exchange(IN_LIMITED, GET("/healthz"), &c->r[0]);

    /* A request that never completes is answered 408 after timeout_ms. */
    fd = client_connect(IN_WEB);
    send_all(fd, "GET /healthz HTTP/1.1\r\nHost: ", 29);
    read_all(fd, &c->r[1]);
    close(fd);
    parse_resp(&c->r[1]);

    /* An idle connection is closed without a word. */
    read_all(hold, &c->r[2]);
    close(hold);
}

static void test_timeout_and_limit(void **state)
{
    struct client c;
    uint64_t refusals = kz_metrics.conn_limit_refusals;
    (void)state;

    run_client(&c, c_timeout_and_limit);
    assert_int_equal(c.r[0].status, 503);
    assert_true(kz_metrics.conn_limit_refusals == refusals + 1);
    assert_int_equal(c.r[1].status, 408);
    assert_int_equal(c.r[2].len, 0);
    client_free(&c);
}

static void c_disconnect_before_ack(struct client *c)
{
    char body[1024], req[2048];
    int n = snprintf(body, sizeof(body), EVENT_FMT, "GONE-1", "GONE-1");
    int fd = client_connect(IN_DB);

    snprintf(req, sizeof(req), "POST /api/v1/events HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", n,
             body);
    /* Reset right away: the ack arrives for a connection that is gone. */
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    send_all(fd, req, strlen(req));
    close(fd);
    usleep(100000);
    exchange(IN_DB, GET("/healthz"), &c->r[0]);
}

static void test_disconnect_before_ack(void **state)
{
    struct client c;
    (void)state;

    run_client(&c, c_disconnect_before_ack);
    assert_int_equal(c.r[0].status, 200);
    client_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_readyz),
        cmocka_unit_test(test_post_then_tracks),
        cmocka_unit_test(test_bad_post),
        cmocka_unit_test(test_not_found_and_method),
        cmocka_unit_test(test_engine_routes),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_pipelined_posts),
        cmocka_unit_test(test_store_events),
        cmocka_unit_test(test_sse),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_timeout_and_limit),
        cmocka_unit_test(test_disconnect_before_ack),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
