/*
 * listener.c - bind an input's listening socket, accept its connections and
 * hand each to the input's protocol as a descriptor.
 *
 * kizuna accepts itself (a poll handle on the listening socket) rather than
 * through uv_listen(): libuv meets EMFILE/ENFILE with its own spare
 * descriptor and closes the pending connections without telling anybody
 * (security review F13).  Here the refusal is logged (at most once a second
 * per input) and counted (kz_metrics.accept_emfile, kizuna_accept_errors_total
 * {reason="emfile"}), with the same trick: each listener keeps one spare
 * descriptor, closes it to accept and close what is pending (so the socket
 * does not stay readable and the loop does not spin), then takes it again.
 * Once descriptors free up, connections, /healthz among them, are served
 * again.
 *
 * On a `proxy_protocol` input an accepted connection first waits for its
 * PROXY header (net/proxy_wait.c) and goes to the protocol with the address
 * the header names; elsewhere with the socket's peer address.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "net/net.h"
#include "net/proxy.h"
#include "route/route.h"

#define BACKLOG 1024
#define ACCEPTS_PER_WAKE 64 /* then let the loop serve the others */
#define EMFILE_LOG_US 1000000

struct kz_listener {
    uv_tcp_t tcp; /* owns the socket */
    uv_poll_t poll;
    struct kz_input *input;
    kz_accept_cb cb;
    void *ud;
    int spare;              /* a descriptor given up when accept() meets EMFILE */
    int64_t last_emfile_us; /* of the last log line about it */
    uint64_t emfile_quiet;  /* refusals since that line */
    int closing;            /* handles still to close, and the waits once stopped */
    struct kz_proxy_waits waits;
};

int kz_parse_hostport(const char *s, struct sockaddr_storage *ss)
{
    char host[128];
    const char *colon = strrchr(s, ':');
    char *end;

    if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
        return KZ_ERR_INVAL;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return KZ_ERR_INVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 3 || host[n - 1] != ']')
            return KZ_ERR_INVAL;
        host[n - 1] = '\0';
        return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)ss) ? KZ_ERR_INVAL : KZ_OK;
    }
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) ? KZ_ERR_INVAL : KZ_OK;
}

static void release(struct kz_listener *l)
{
    if (--l->closing > 0)
        return;
    if (l->spare >= 0)
        close(l->spare);
    free(l);
}

static void free_listener(uv_handle_t *h)
{
    release(h->data);
}

/* A connection's PROXY header was read: on to the protocol. */
static void on_header(void *ud, uv_os_sock_t fd, const struct sockaddr *peer)
{
    struct kz_listener *l = ud;
    l->cb(l->ud, l->input, l->input->conf, l->tcp.loop, fd, peer);
}

static void on_waits_drained(void *ud)
{
    release(ud);
}

static int open_spare(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Out of descriptors: count, log now and then, and shed what is pending. */
static void on_emfile(struct kz_listener *l, int lfd, int err)
{
    int64_t now = kz_mono_us();
    int fd;

    kz_metrics.accept_emfile++;
    l->emfile_quiet++;
    if (now - l->last_emfile_us >= EMFILE_LOG_US) {
        kz_log(KZ_LOG_WARN, "connection refused: out of file descriptors",
               "input=%s error=\"%s\" refused=%llu", l->input->conf->name, strerror(err),
               (unsigned long long)l->emfile_quiet);
        l->last_emfile_us = now;
        l->emfile_quiet = 0;
    }
    if (l->spare >= 0) {
        close(l->spare);
        while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
            close(fd);
        l->spare = open_spare();
    }
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    struct kz_listener *l = p->data;
    int lfd = -1;

    KZ_UNUSED(events);
    if (status < 0 || uv_fileno((uv_handle_t *)&l->tcp, &lfd) != 0)
        return;
    for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (l->input->conf->proxy_protocol)
                kz_proxy_wait(&l->waits, fd, (struct sockaddr *)&peer);
            else
                l->cb(l->ud, l->input, l->input->conf, p->loop, fd, (struct sockaddr *)&peer);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE)
            on_emfile(l, lfd, errno);
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            kz_log(KZ_LOG_WARN, "accept failed", "input=%s error=\"%s\"", l->input->conf->name,
                   strerror(errno));
        return;
    }
}

/* listen() and watch the bound socket.  0 or a libuv error. */
static int start_accepting(uv_loop_t *loop, struct kz_listener *l)
{
    int lfd = -1;
    int rc = uv_fileno((uv_handle_t *)&l->tcp, &lfd);

    if (rc == 0 && listen(lfd, BACKLOG) != 0)
        rc = -errno;
    if (rc == 0)
        rc = uv_poll_init_socket(loop, &l->poll, lfd);
    if (rc != 0)
        return rc;
    l->poll.data = l;
    l->closing++;
    return uv_poll_start(&l->poll, UV_READABLE, on_readable);
}

static int bound_port(uv_tcp_t *tcp)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len))
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int kz_listener_start(uv_loop_t *loop, struct kz_input *input, kz_accept_cb cb, void *ud,
                      struct kz_listener **out)
{
    struct sockaddr_storage ss;
    const char *name = input->conf->name;
    int rc;

    if (kz_parse_hostport(input->conf->listen, &ss) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "bad listen address", "input=%s listen=%s", name, input->conf->listen);
        return KZ_ERR_CONFIG;
    }
    struct kz_listener *l = kz_xcalloc(1, sizeof(*l));
    l->input = input;
    l->cb = cb;
    l->ud = ud;
    l->spare = open_spare();
    l->waits = (struct kz_proxy_waits){
        .loop = loop, .input = input, .done = on_header, .drained = on_waits_drained, .ud = l};
    uv_tcp_init(loop, &l->tcp);
    l->tcp.data = l;
    l->closing = 1;
    if ((rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0)) == 0)
        rc = start_accepting(loop, l);
    if (rc) {
        kz_log(KZ_LOG_ERROR, "listen failed", "input=%s listen=%s error=\"%s\"", name,
               input->conf->listen, uv_strerror(rc));
        kz_listener_stop(l);
        return KZ_ERR_IO;
    }
    input->port = bound_port(&l->tcp);
    kz_log(KZ_LOG_INFO, "listening", "input=%s protocol=%s listen=%s port=%d%s", name,
           kz_input_protocol_name(input->conf->protocol), input->conf->listen, input->port,
           input->conf->proxy_protocol ? " proxy_protocol=true" : "");
    *out = l;
    return KZ_OK;
}

void kz_listener_stop(struct kz_listener *l)
{
    if (!l)
        return;
    l->closing++; /* released once no connection waits for its PROXY header */
    kz_proxy_waits_stop(&l->waits);
    if (l->closing > 1) /* the poll handle was started; it goes before the socket */
        uv_close((uv_handle_t *)&l->poll, free_listener);
    uv_close((uv_handle_t *)&l->tcp, free_listener);
}
