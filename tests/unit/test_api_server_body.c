/*
 * test_api_server_body.c - answers produced piecewise while they are sent
 * (security review F12): big track lists, a feature larger than the queue,
 * the events log read page by page, and a client that stops reading
 * (fixture: api_server_fixture.h).
 */
#include "api_server_fixture.h"

static void c_big_tracks(struct client *c)
{
    const char *two = "GET /api/v1/tracks HTTP/1.1\r\nHost: t\r\n\r\n" GET("/healthz");
    int fd;

    exchange(IN_WEB, GET("/api/v1/tracks"), &c->r[0]);
    /* HTTP/1.0 has no chunked coding: the body ends when the connection does. */
    exchange(IN_WEB, "GET /api/v1/tracks HTTP/1.0\r\n\r\n", &c->r[1]);
    /* After a chunked answer the connection goes on with the next request (raw, not parsed). */
    fd = client_connect(IN_WEB);
    send_all(fd, two, strlen(two));
    read_all(fd, &c->r[2]);
    close(fd);
}

static void test_big_response(void **state)
{
    struct client c;
    char uid[32];
    (void)state;

    /* 500 tracks make a body several times the 64 KiB queue limit. */
    for (int i = 0; i < 500; i++) {
        snprintf(uid, sizeof(uid), "BIG-%03d", i);
        submit(router, IN_WEB, uid);
    }
    run_client(&c, c_big_tracks);
    assert_int_equal(c.r[0].status, 200);
    assert_true(strlen(c.r[0].body) > 65536);
    assert_non_null(strstr(c.r[0].body, "BIG-000"));
    assert_non_null(strstr(c.r[0].body, "BIG-499"));
    assert_string_equal(c.r[0].body + strlen(c.r[0].body) - 3, "]}\n");
    assert_true(c.r[0].chunked); /* produced in pieces, never whole in the queue (F12) */
    assert_int_equal(c.r[1].status, 200);
    assert_null(strstr(c.r[1].raw, "Transfer-Encoding"));
    assert_null(strstr(c.r[1].raw, "Content-Length"));
    assert_string_equal(c.r[1].body, c.r[0].body);
    assert_int_equal(strncmp(c.r[2].raw, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_non_null(strstr(c.r[2].raw, "0\r\n\r\nHTTP/1.1 200 OK\r\n"));
    assert_string_equal(c.r[2].raw + c.r[2].len - 3, "ok\n");
    client_free(&c);
}

/* One track whose JSON (~100 KB) is bigger than the whole 64 KiB queue: sent in slices. */
static void test_huge_feature(void **state)
{
    static const char head[] =
        "<event version=\"2.0\" uid=\"HUGE-1\" type=\"a-f-G-U-C\" how=\"m-g\" "
        "time=\"2024-01-01T00:00:00Z\" start=\"2024-01-01T00:00:00Z\" "
        "stale=\"2099-01-01T00:00:00Z\"><point lat=\"1\" lon=\"2\" hae=\"0\" ce=\"1\" "
        "le=\"1\"/><detail><remarks>";
    static const char tail[] = "</remarks></detail></event>";
    size_t pad = 50000, n = sizeof(head) - 1 + pad + sizeof(tail) - 1;
    char *xml = malloc(n + 1);
    struct client c;
    (void)state;

    memcpy(xml, head, sizeof(head) - 1);
    memset(xml + sizeof(head) - 1, 'h', pad);
    memcpy(xml + sizeof(head) - 1 + pad, tail, sizeof(tail));
    submit_xml(router, IN_WEB, xml, n);
    free(xml);
    run_client(&c, c_big_tracks);
    assert_int_equal(c.r[0].status, 200);
    assert_true(c.r[0].chunked);
    assert_non_null(strstr(c.r[0].body, "\"id\":\"HUGE-1\""));
    assert_true(strlen(c.r[0].body) > 2 * pad);
    assert_string_equal(c.r[0].body + strlen(c.r[0].body) - 3, "]}\n");
    client_free(&c);
}

static void c_paged_events(struct client *c)
{
    exchange(IN_DB, GET("/api/v1/events?limit=500&type=a-f-G-U-C"), &c->r[0]);
    exchange(IN_DB, GET("/api/v1/events?limit=20&uid=PAGE-007"), &c->r[1]);
}

/* The log is read piece by piece while the answer is sent (F12); limit still holds. */
static void test_paged_events(void **state)
{
    struct client c;
    char uid[32];
    (void)state;

    for (int i = 0; i < 600; i++) {
        snprintf(uid, sizeof(uid), "PAGE-%03d", i);
        submit(router_db, IN_DB, uid);
    }
    for (int i = 0; i < 100; i++) { /* let the store commit them */
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(2000);
    }
    run_client(&c, c_paged_events);
    assert_int_equal(c.r[0].status, 200);
    assert_true(c.r[0].chunked);
    const char *newest = strstr(c.r[0].body, "PAGE-599"), *oldest = strstr(c.r[0].body, "PAGE-100");
    assert_non_null(newest);
    assert_non_null(oldest);
    assert_true(newest < oldest);
    assert_null(strstr(c.r[0].body, "PAGE-099"));
    assert_int_equal(strncmp(c.r[0].body, "{\"events\":[", 11), 0);
    /* 500 of 600 visible: the page is full and says where to go on. */
    assert_non_null(strstr(c.r[0].body, "],\"next\":\""));
    assert_string_equal(c.r[0].body + strlen(c.r[0].body) - 3, "\"}\n");
    assert_int_equal(c.r[1].status, 200);
    assert_false(c.r[1].chunked);
    assert_non_null(strstr(c.r[1].body, "PAGE-007"));
    client_free(&c);
}

static int slow_fd = -1;

static void c_slow_open(struct client *c)
{
    int rcv = 4096;
    const char *req = "GET /api/v1/stream HTTP/1.1\r\n\r\n";
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    /* A small receive window so the server's queue fills quickly. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    sa.sin_port = htons((uint16_t)inputs[IN_WEB].port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return;
    }
    send_all(fd, req, strlen(req));
    c->ok = read_until(fd, &c->r[0], "\r\n\r\n");
    slow_fd = fd;
}

static void test_slow_consumer(void **state)
{
    uint64_t drops = kz_metrics.slow_consumer_drops;
    struct kz_router_stats rs;
    struct client c;
    (void)state;

    run_client(&c, c_slow_open);
    assert_true(c.ok);
    /* Events the client never reads: the connection must be dropped, not grow. */
    for (int i = 0; i < 20000 && kz_metrics.slow_consumer_drops == drops; i++) {
        submit(router, IN_WEB, "SLOW-1");
        if (i % 50 == 0)
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    for (int i = 0; i < 16; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_true(kz_metrics.slow_consumer_drops == drops + 1);
    kz_router_stats(router, &rs);
    assert_true(rs.subscribers == 0);
    close(slow_fd);
    client_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_consumer),
        cmocka_unit_test(test_big_response),
        cmocka_unit_test(test_huge_feature),
        cmocka_unit_test(test_paged_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
