/*
 * fanout_ref.c - the calibration peer: a framing-only CoT fan-out server.
 *
 * It splits each connection's stream after "</event>" and appends every
 * complete event to every other client's output buffer, which is flushed
 * once per epoll_wait batch.  No parsing, groups, persistence or replay:
 * what it reaches on the machine at the time of a run is the ceiling for
 * that run, so kizuna's rows can be read against it despite other load.
 *
 *   fanout_ref PORT        listens on 127.0.0.1:PORT until SIGTERM
 *
 * A client whose output backlog passes 4 MiB loses further copies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUT_MAX (4u << 20)
#define IN_MAX (1u << 16)

struct conn {
    int fd;
    char in[IN_MAX];
    size_t in_len;
    char *out;
    size_t out_len, out_cap;
    struct conn *next_dirty;
    int dirty, idx, pollout;
};

static struct conn **conns;
static int n_conns, cap_conns, ep;
static struct conn *dirty;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void queue_copy(struct conn *c, const char *p, size_t n)
{
    if (c->out_len + n > OUT_MAX)
        return;
    if (c->out_len + n > c->out_cap) {
        c->out_cap = (c->out_len + n) * 2;
        c->out = realloc(c->out, c->out_cap);
        if (!c->out)
            fail("realloc");
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    if (!c->dirty) {
        c->dirty = 1;
        c->next_dirty = dirty;
        dirty = c;
    }
}

static void drop(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
}

static void fan_out(struct conn *from, const char *p, size_t n)
{
    for (int i = 0; i < n_conns; i++)
        if (conns[i] != from && conns[i]->fd >= 0)
            queue_copy(conns[i], p, n);
}

static void on_read(struct conn *c)
{
    ssize_t k = read(c->fd, c->in + c->in_len, IN_MAX - c->in_len);
    if (k <= 0) {
        if (k == 0 || errno != EAGAIN)
            drop(c);
        return;
    }
    c->in_len += (size_t)k;
    size_t off = 0;
    const char *e;
    while ((e = memmem(c->in + off, c->in_len - off, "</event>", 8)) != NULL) {
        size_t end = (size_t)(e - c->in) + 8;
        fan_out(c, c->in + off, end - off);
        off = end;
    }
    if (off == 0 && c->in_len == IN_MAX)
        off = c->in_len; /* an event larger than the buffer: discard */
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
}

static void flush_dirty(void)
{
    for (struct conn *c = dirty, *next; c; c = next) {
        next = c->next_dirty;
        c->dirty = 0;
        if (c->fd < 0)
            continue;
        ssize_t k = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (k < 0 && errno != EAGAIN) {
            drop(c);
            continue;
        }
        size_t sent = k > 0 ? (size_t)k : 0;
        memmove(c->out, c->out + sent, c->out_len - sent);
        c->out_len -= sent;
        if ((c->out_len != 0) != c->pollout) {
            struct epoll_event ev = {.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0u),
                                     .data.u32 = (uint32_t)c->idx};
            c->pollout = c->out_len != 0;
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
    }
    dirty = NULL;
}

static void on_accept(int lfd)
{
    int fd, one = 1;
    while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        struct conn *c = calloc(1, sizeof(*c));
        if (!c)
            fail("calloc");
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (n_conns == cap_conns) {
            cap_conns = cap_conns ? cap_conns * 2 : 256;
            conns = realloc(conns, (size_t)cap_conns * sizeof(*conns));
            if (!conns)
                fail("realloc");
        }
        c->fd = fd;
        c->idx = n_conns;
        conns[n_conns++] = c;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)c->idx};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
}

static int listen_on(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(0x7f000001),
                             .sin_port = htons((uint16_t)port)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0)
        fail("bind/listen");
    return fd;
}

int main(int argc, char **argv)
{
    struct epoll_event evs[1024];
    struct rlimit rl;

    if (argc != 2) {
        fprintf(stderr, "usage: fanout_ref PORT\n");
        return 2;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    int lfd = listen_on(atoi(argv[1]));
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    while (!stop) {
        int k = epoll_wait(ep, evs, 1024, 200);
        for (int i = 0; i < k; i++) {
            if (evs[i].data.u32 == UINT32_MAX) {
                on_accept(lfd);
                continue;
            }
            struct conn *c = conns[evs[i].data.u32];
            if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_read(c);
            if (c->fd >= 0 && (evs[i].events & EPOLLOUT) && !c->dirty) {
                c->dirty = 1;
                c->next_dirty = dirty;
                dirty = c;
            }
        }
        flush_dirty();
    }
    return 0;
}
