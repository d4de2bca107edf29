/*
 * api_server_fixture.h - in-process REST API over the HTTP engine, shared by
 * the test_api_server*.c tests: a router (one without a store, one with an
 * in-memory store), an engine and an api context per router, http listeners
 * on 127.0.0.1:0, the uv loop on the test's main thread and a small blocking
 * client on a second thread.  Include it once, as the first header.
 *
 * The client thread only does socket I/O and records what it saw; every
 * assertion runs on the main thread after the client has finished.
 */
#ifndef KZ_TEST_API_SERVER_FIXTURE_H
#define KZ_TEST_API_SERVER_FIXTURE_H

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

static inline int client_connect(int input)
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

static inline void send_all(int fd, const char *s, size_t len)
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
static inline void read_all(int fd, struct resp *r)
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
static inline bool read_until(int fd, struct resp *r, const char *needle)
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
static inline bool dechunk(char *body)
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

static inline void parse_resp(struct resp *r)
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
static inline void exchange(int input, const char *req, struct resp *r)
{
    int fd = client_connect(input);
    if (fd < 0)
        return;
    send_all(fd, req, strlen(req));
    read_all(fd, r);
    close(fd);
    parse_resp(r);
}

static inline void resp_free(struct resp *r)
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

static inline void *client_main(void *arg)
{
    struct client *c = arg;
    c->fn(c);
    uv_async_send(&c->done);
    return NULL;
}

static inline void on_client_done(uv_async_t *a)
{
    uv_stop(a->loop);
}

/* Run fn on a thread while the loop serves it; returns when fn has finished. */
static inline void run_client(struct client *c, void (*fn)(struct client *c))
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

static inline void client_free(struct client *c)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(c->r); i++)
        resp_free(&c->r[i]);
}

/* ---- fixtures ------------------------------------------------------------------- */

static inline void make_input_roles(int i, const char *name, char **groups, unsigned n_roles)
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
static inline void echo_id(struct kz_http_req *req, void *app)
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

static inline void make_input(int i, const char *name, char **groups)
{
    make_input_roles(i, name, groups, 2);
}

static inline int setup(void **state)
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

#define EVENT_FMT                                                                                  \
    "<?xml version=\"1.0\"?><event version=\"2.0\" uid=\"%s\" type=\"a-f-G-U-C\" "                 \
    "how=\"m-g\" time=\"2024-01-01T00:00:00Z\" start=\"2024-01-01T00:00:00Z\" "                    \
    "stale=\"2099-01-01T00:00:00Z\"><point lat=\"35.5\" lon=\"139.7\" hae=\"10\" "                 \
    "ce=\"5\" le=\"5\"/><detail><contact callsign=\"%s\"/></detail></event>"

/* Submit an event straight to a router (no HTTP). */
static inline void submit_xml(struct kz_router *r, int input, const char *xml, size_t n)
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

static inline void submit(struct kz_router *r, int input, const char *uid)
{
    char xml[1024];
    int n = r ? snprintf(xml, sizeof(xml), EVENT_FMT, uid, uid) : 0;

    submit_xml(r, input, xml, (size_t)n);
}

static inline int teardown(void **state)
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

static inline void post_event(int input, const char *uid, struct resp *r)
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

#endif
