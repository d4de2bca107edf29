/* client.c - blocking TCP helpers for the CoT client subcommands. */
#include "cli/client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

volatile sig_atomic_t kz__cli_stop;

static int copy_part(char *dst, size_t cap, const char *src, size_t len)
{
    if (len == 0 || len >= cap)
        return KZ_ERR_INVAL;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return KZ_OK;
}

static int valid_port(const char *s)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    return errno == 0 && *end == '\0' && end != s && v >= 1 && v <= 65535;
}

int kz__cli_parse_server(const char *arg, struct kz_cli_server *out)
{
    const char *host = arg, *colon;
    size_t host_len;

    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (close == NULL || close[1] != ':')
            return KZ_ERR_INVAL;
        host = arg + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(arg, ':');
        if (colon == NULL)
            return KZ_ERR_INVAL;
        host_len = (size_t)(colon - arg);
    }
    if (copy_part(out->host, sizeof(out->host), host, host_len) != KZ_OK ||
        copy_part(out->port, sizeof(out->port), colon + 1, strlen(colon + 1)) != KZ_OK)
        return KZ_ERR_INVAL;
    return valid_port(out->port) ? KZ_OK : KZ_ERR_INVAL;
}

static int connect_one(const struct addrinfo *ai, int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    *err = errno;
    close(fd);
    return -1;
}

int kz__cli_connect(const struct kz_cli_server *srv, int *fd, char *errbuf, size_t errlen)
{
    struct addrinfo hints = {0}, *res, *ai;
    int rc, err = 0;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(srv->host, srv->port, &hints, &res);
    if (rc != 0) {
        snprintf(errbuf, errlen, "cannot resolve %s: %s", srv->host, gai_strerror(rc));
        return KZ_ERR_IO;
    }
    *fd = -1;
    for (ai = res; ai != NULL && *fd < 0 && !kz__cli_stop; ai = ai->ai_next)
        *fd = connect_one(ai, &err);
    freeaddrinfo(res);
    if (*fd >= 0)
        return KZ_OK;
    if (kz__cli_stop)
        return KZ_ERR_CLOSED;
    snprintf(errbuf, errlen, "connect() to %s:%s failed: %s", srv->host, srv->port, strerror(err));
    return KZ_ERR_IO;
}

int kz__cli_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        /* MSG_NOSIGNAL as well as the ignored SIGPIPE: belt and braces for
         * callers that forgot kz__cli_signals(). */
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            /* A stop signal must be able to end a write the server stopped
             * reading, so EINTR is retried only while no stop is pending. */
            if (errno == EINTR && !kz__cli_stop)
                continue;
            return errno == EINTR ? KZ_ERR_CLOSED : KZ_ERR_IO;
        }
        buf += n;
        len -= (size_t)n;
    }
    return KZ_OK;
}

int kz__cli_wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc = poll(&p, 1, timeout_ms);

    if (rc < 0)
        return errno == EINTR ? 0 : -1;
    return rc > 0 ? 1 : 0;
}

void kz__cli_finish(int fd, int timeout_ms)
{
    char sink[4096];
    int64_t deadline = kz_mono_us() + (int64_t)timeout_ms * 1000;

    shutdown(fd, SHUT_WR);
    /* Not bounded by kz__cli_stop: after Ctrl-C the events already written
     * still deserve their drain; a new signal interrupts the wait. */
    for (;;) {
        int64_t left_ms = (deadline - kz_mono_us()) / 1000;
        if (left_ms <= 0 || kz__cli_wait_readable(fd, (int)left_ms) <= 0)
            break;
        if (read(fd, sink, sizeof(sink)) <= 0)
            break;
    }
}

void kz__cli_sleep_ms(int ms)
{
    /* Short slices bound how long a signal that lands just before poll()
     * can go unnoticed. */
    while (ms > 0 && !kz__cli_stop) {
        int slice = ms < 200 ? ms : 200;
        poll(NULL, 0, slice);
        ms -= slice;
    }
}

static void on_stop_signal(int sig)
{
    KZ_UNUSED(sig);
    kz__cli_stop = 1;
}

void kz__cli_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int kz__cli_backoff_next(int prev_ms)
{
    if (prev_ms <= 0)
        return 250;
    return prev_ms >= 4000 ? 8000 : prev_ms * 2;
}

/* Read until the peer closes, up to KZ_CLI_MAX_REPLY + 1 bytes (more is refused anyway). */
static int read_all(int fd, struct kz_sbuf *out)
{
    char buf[8192];
    ssize_t n;

    while (out->len <= KZ_CLI_MAX_REPLY) {
        n = read(fd, buf, sizeof(buf));
        if (n == 0)
            return KZ_OK;
        if (n < 0 && errno != EINTR)
            return KZ_ERR_IO;
        if (n < 0 && kz__cli_stop)
            return KZ_ERR_CLOSED;
        if (n > 0)
            kz_sbuf_add(out, buf, (size_t)n);
    }
    return KZ_OK;
}

int kz__cli_http(const struct kz_cli_server *srv, const char *what, const char *method,
                 const char *path, const char *body, struct kz_http_reply *reply)
{
    struct kz_sbuf req = KZ_SBUF_INIT, raw = KZ_SBUF_INIT;
    char err[256];
    int fd, rc;

    memset(reply, 0, sizeof(*reply));
    if ((rc = kz__cli_connect(srv, &fd, err, sizeof(err))) != KZ_OK) {
        fprintf(stderr, "kizuna %s: %s\n", what, err);
        return rc;
    }
    kz_sbuf_addf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path,
                 srv->host);
    if (body)
        kz_sbuf_addf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                     strlen(body));
    kz_sbuf_addf(&req, "\r\n%s", body ? body : "");
    rc = kz__cli_write_all(fd, req.buf, req.len);
    if (rc == KZ_OK)
        rc = read_all(fd, &raw);
    close(fd);
    if (rc == KZ_OK && kz_http_reply_parse(raw.buf ? raw.buf : "", raw.len, KZ_CLI_MAX_REPLY, reply,
                                           err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna %s: the answer from %s:%s: %s\n", what, srv->host, srv->port, err);
        rc = KZ_ERR_IO;
    } else if (rc != KZ_OK) {
        fprintf(stderr, "kizuna %s: no HTTP answer from %s:%s\n", what, srv->host, srv->port);
    }
    kz_sbuf_release(&req);
    kz_sbuf_release(&raw);
    return rc;
}
