/*
 * In-process tests of the REST API over the HTTP engine: a router (one
 * without a store, one with an in-memory store), an engine and an api
 * context per router, http listeners on 127.0.0.1:0, the uv loop on the
 * test's main thread and a small blocking client on a second thread.
 *
 * The client thread only does socket I/O and records what it saw; every
 * assertion runs on the main thread after the client has finished.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <cmocka.h>

#include "api/api.h"

/* IN_VIEWER holds only the viewer role, IN_NOROLE none; the others viewer and operator. */
enum { IN_WEB, IN_RED, IN_DB, IN_LIMITED, IN_VIEWER, IN_NOROLE, N_INPUTS };

static uv_loop_t loop;
static struct kz_label_policy policy;
static struct kz_groups group_table; /* the intern table a server would own */
static struct kz_net net;
static struct kz_input inputs[N_INPUTS];
static struct kz_input_conf confs[N_INPUTS];
static struct kz_identity ids[N_INPUTS];
static struct kz_listener *listeners[N_INPUTS];
static struct kz_api api, api_db;
static struct kz_http *http, *http_db, *http_limited;
static struct kz_router *router, *router_db;
static struct kz_store *store;
static char *cyan[] = {"Cyan"}, *red[] = {"Red"};
static char *reader_writer[] = {KZ_ROLE_VIEWER, KZ_ROLE_OPERATOR};

/* ---- the blocking client ------------------------------------------------------ */

#define RESP_MAX (1 << 20)

struct resp {
    char *raw; /* everything read, NUL-terminated */
    size_t len;
    int status;
    const char *body; /* after the blank line (de-chunked) */
    bool chunked;     /* sent with Transfer-Encoding: chunked, complete */
};

static int client_connect(int input)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct timeval tv = {.tv_sec = 5};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_port = htons((uint16_t)inputs[input].port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

/* Read until EOF (or timeout/reset), appending to r. */
static void read_all(int fd, struct resp *r)
{
    if (!r->raw)
        r->raw = calloc(1, RESP_MAX + 1);
    while (r->len < RESP_MAX) {
        ssize_t n = recv(fd, r->raw + r->len, RESP_MAX - r->len, 0);
        if (n <= 0)
            break;
        r->len += (size_t)n;
    }
    r->raw[r->len] = '\0';
}

/* Read until `needle` appears (or EOF/timeout). */
static bool read_until(int fd, struct resp *r, const char *needle)
{
    if (!r->raw)
        r->raw = calloc(1, RESP_MAX + 1);
    while (!strstr(r->raw, needle) && r->len < RESP_MAX) {
        ssize_t n = recv(fd, r->raw + r->len, RESP_MAX - r->len, 0);
        if (n <= 0)
            return false;
        r->len += (size_t)n;
        r->raw[r->len] = '\0';
    }
    return strstr(r->raw, needle) != NULL;
}

/* Decode a chunked body in place; true when it ended with the last chunk. */
static bool dechunk(char *body)
{
    char *in = body, *out = body;
    unsigned long n;

    for (;;) {
        char *end;
        n = strtoul(in, &end, 16);
        if (end == in || strncmp(end, "\r\n", 2) != 0)
            break;
        in = end + 2;
        if (n == 0) {
            *out = '\0';
            return strcmp(in, "\r\n") == 0;
        }
        if (strlen(in) < n + 2)
            break;
        memmove(out, in, n);
        out += n;
        in += n + 2;
    }
    *out = '\0';
    return false;
}

static void parse_resp(struct resp *r)
{
    const char *end;

    r->status = 0;
    r->body = "";
    if (!r->raw || sscanf(r->raw, "HTTP/1.1 %d", &r->status) != 1)
        return;
    end = strstr(r->raw, "\r\n\r\n");
    r->body = end ? end + 4 : "";
    if (end && strstr(r->raw, "\r\nTransfer-Encoding: chunked\r\n") &&
        strstr(r->raw, "\r\nTransfer-Encoding: chunked\r\n") < end)
        r->chunked = dechunk((char *)r->body);
}

/* One request on a fresh connection; the server closes after it. */
static void exchange(int input, const char *req, struct resp *r)
{
    int fd = client_connect(input);
    if (fd < 0)
        return;
    send_all(fd, req, strlen(req));
    read_all(fd, r);
    close(fd);
    parse_resp(r);
}

static void resp_free(struct resp *r)
{
    free(r->raw);
    memset(r, 0, sizeof(*r));
}

/* ---- running a client against the loop ---------------------------------------- */

struct client {
    void (*fn)(struct client *c);
    uv_async_t done;
    struct resp r[4];
    int n;
    bool ok;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    c->fn(c);
    uv_async_send(&c->done);
    return NULL;
}

static void on_client_done(uv_async_t *a)
{
    uv_stop(a->loop);
}

/* Run fn on a thread while the loop serves it; returns when fn has finished. */
static void run_client(struct client *c, void (*fn)(struct client *c))
{
    pthread_t t;

    memset(c, 0, sizeof(*c));
    c->fn = fn;
    uv_async_init(&loop, &c->done, on_client_done);
    assert_int_equal(pthread_create(&t, NULL, client_main, c), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(t, NULL);
    uv_close((uv_handle_t *)&c->done, NULL);
    for (int i = 0; i < 16; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
}

static void client_free(struct client *c)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(c->r); i++)
        resp_free(&c->r[i]);
}

/* ---- fixtures ------------------------------------------------------------------- */

static void make_input_roles(int i, const char *name, char **groups, unsigned n_roles)
{
    confs[i] = (struct kz_input_conf){.name = (char *)name,
                                      .protocol = KZ_PROTO_HTTP,
                                      .listen = "127.0.0.1:0",
                                      .default_label = "UNCLASSIFIED"};
    ids[i] = (struct kz_identity){.user = (char *)name,
                                  .nation = "USA",
                                  .clearance = "SECRET",
                                  .groups_in = groups,
                                  .groups_in_count = 1,
                                  .groups_out = groups,
                                  .groups_out_count = 1,
                                  .roles = reader_writer,
                                  .roles_count = n_roles};
    confs[i].identity = &ids[i];
    assert_int_equal(kz_input_init(&inputs[i], &confs[i], &group_table, &policy, NULL, 0), KZ_OK);
}

/* Engine features no REST v1 route uses yet: {id} parameters and a required role. */
static void echo_id(struct kz_http_req *req, void *app)
{
    const char *id = kz_http_path_param(req, "id");
    (void)app;
    kz_http_respond(req, 200, "text/plain", NULL, id ? id : "-", id ? strlen(id) : 1);
}

static const struct kz_http_route engine_rows[] = {
    {"GET", "/test/things/{id}", echo_id, NULL, KZ_HTTP_ON_API},
    {"GET", "/test/ops-only", echo_id, "ops", KZ_HTTP_ON_API},
    {"GET", "/test/enroll-only", echo_id, NULL, KZ_HTTP_ON_ENROLL},
};

static void make_input(int i, const char *name, char **groups)
{
    make_input_roles(i, name, groups, 2);
}

static int setup(void **state)
{
    struct kz_store_opts so = {.path = ":memory:", .max_delay_ms = 5};
    (void)state;

    kz_log_min = getenv("KZ_TEST_DEBUG") ? KZ_LOG_DEBUG : KZ_LOG_ERROR;
    signal(SIGPIPE, SIG_IGN); /* as kizuna serve does */
    uv_loop_init(&loop);
    kz_label_policy_init_default(&policy);
    kz_net_init(&net, &loop);
    make_input(IN_WEB, "web", cyan);
    make_input(IN_RED, "red", red);
    make_input(IN_DB, "web-db", cyan);
    make_input(IN_LIMITED, "limited", cyan);
    make_input_roles(IN_VIEWER, "viewer-only", cyan, 1);
    make_input_roles(IN_NOROLE, "no-role", cyan, 0);
    router = kz_router_new(&loop, &(struct kz_router_opts){.policy = &policy,
                                                           .groups = &group_table,
                                                           .inputs = inputs,
                                                           .n_inputs = N_INPUTS,
                                                           .node_id = "test"});
    assert_int_equal(kz_store_open(&loop, &so, &store), KZ_OK);
    router_db = kz_router_new(&loop, &(struct kz_router_opts){.policy = &policy,
                                                              .groups = &group_table,
                                                              .store = store,
                                                              .inputs = inputs,
                                                              .n_inputs = N_INPUTS,
                                                              .node_id = "test"});
    kz_api_init(
        &api, &(struct kz_api_opts){.router = router, .policy = &policy, .max_event_bytes = 65536});
    kz_api_init(&api_db, &(struct kz_api_opts){.router = router_db,
                                               .store = store,
                                               .policy = &policy,
                                               .max_event_bytes = 65536});
    struct kz_http_opts opts = {.max_body = 4096,
                                .max_headers = 16,
                                .timeout_ms = 1000,
                                .out_queue_bytes = 65536,
                                .max_connections = 10000,
                                .net = &net,
                                .caller = kz_api_caller_ops(&api)};
    http = kz_http_new(&opts);
    kz_http_add_routes(http, api.routes, api.n_routes, &api);
    kz_http_add_routes(http, engine_rows, KZ_ARRAY_LEN(engine_rows), NULL);
    opts.max_connections = 1;
    http_limited = kz_http_new(&opts);
    kz_http_add_routes(http_limited, api.routes, api.n_routes, &api);
    opts.max_connections = 10000;
    opts.caller = kz_api_caller_ops(&api_db);
    http_db = kz_http_new(&opts);
    kz_http_add_routes(http_db, api_db.routes, api_db.n_routes, &api_db);
    assert_int_equal(
        kz_listener_start(&loop, &inputs[IN_WEB], kz_http_accept, http, &listeners[IN_WEB]), KZ_OK);
    assert_int_equal(
        kz_listener_start(&loop, &inputs[IN_RED], kz_http_accept, http, &listeners[IN_RED]), KZ_OK);
    assert_int_equal(
        kz_listener_start(&loop, &inputs[IN_DB], kz_http_accept, http_db, &listeners[IN_DB]),
        KZ_OK);
    for (int i = IN_VIEWER; i <= IN_NOROLE; i++)
        assert_int_equal(kz_listener_start(&loop, &inputs[i], kz_http_accept, http, &listeners[i]),
                         KZ_OK);
    assert_int_equal(kz_listener_start(&loop, &inputs[IN_LIMITED], kz_http_accept, http_limited,
                                       &listeners[IN_LIMITED]),
                     KZ_OK);
    return 0;
}

static void submit(struct kz_router *r, int input, const char *uid);

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < N_INPUTS; i++)
        kz_listener_stop(listeners[i]);
    kz_http_close_all(http);
    kz_http_close_all(http_db);
    kz_http_close_all(http_limited);
    for (int i = 0; i < 16; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    kz_store_close(store);
    submit(NULL, 0, NULL);
    kz_router_free(router);
    kz_router_free(router_db);
    kz_net_shutdown(&net);
    uv_run(&loop, UV_RUN_DEFAULT);
    kz_http_free(http);
    kz_http_free(http_db);
    kz_http_free(http_limited);
    kz_api_release(&api);
    kz_api_release(&api_db);
    assert_int_equal(uv_loop_close(&loop), 0);
    return 0;
}

/* ---- requests ------------------------------------------------------------------------ */

#define EVENT_FMT                                                                                  \
    "<?xml version=\"1.0\"?><event version=\"2.0\" uid=\"%s\" type=\"a-f-G-U-C\" "                 \
    "how=\"m-g\" time=\"2024-01-01T00:00:00Z\" start=\"2024-01-01T00:00:00Z\" "                    \
    "stale=\"2099-01-01T00:00:00Z\"><point lat=\"35.5\" lon=\"139.7\" hae=\"10\" "                 \
    "ce=\"5\" le=\"5\"/><detail><contact callsign=\"%s\"/></detail></event>"

static void post_event(int input, const char *uid, struct resp *r)
{
    char body[1024], req[2048];
    int n = snprintf(body, sizeof(body), EVENT_FMT, uid, uid);

    snprintf(req, sizeof(req),
             "POST /api/v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/xml\r\n"
             "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
             n, body);
    exchange(input, req, r);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"

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

/* Submit an event straight to a router (no HTTP). */
static void submit_xml(struct kz_router *r, int input, const char *xml, size_t n)
{
    static struct kz_cot_decoder *dec;
    struct kz_cot_limits lim;
    struct kz_event ev;
    enum kz_reject why;

    if (!dec) {
        kz_cot_limits_default(&lim);
        dec = kz_cot_decoder_new(&lim);
    }
    if (!r) {
        kz_cot_decoder_free(dec);
        dec = NULL;
        return;
    }
    kz_event_init(&ev);
    assert_int_equal(kz_cot_decode(dec, xml, n, &ev, &why, NULL, 0), KZ_OK);
    assert_int_equal(kz_router_submit(r, &inputs[input], NULL, &ev, NULL, NULL, &why, NULL), KZ_OK);
    kz_event_clear(&ev);
}

static void submit(struct kz_router *r, int input, const char *uid)
{
    char xml[1024];
    int n = r ? snprintf(xml, sizeof(xml), EVENT_FMT, uid, uid) : 0;

    submit_xml(r, input, xml, (size_t)n);
}

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
        cmocka_unit_test(test_healthz),
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
        cmocka_unit_test(test_slow_consumer),
        cmocka_unit_test(test_big_response),
        cmocka_unit_test(test_huge_feature),
        cmocka_unit_test(test_paged_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
