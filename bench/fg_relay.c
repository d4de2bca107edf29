/*
 * fg_relay.c - F2's gate: the port kz-usa dials for kz-jpn is fedgen's.
 *
 * kz-jpn must be "down" while the backlog builds, and back only once the
 * subscriber listens on it: a link that came up first would deliver part of
 * the backlog before anybody counted it.  So kz-usa dials --gate, where
 * nothing listens until fg_relay_open() (the subscriber is connected by
 * then); each connection it makes is then relayed byte for byte to kz-jpn's
 * real federation port --to.  TLS runs end to end through it; the relay only
 * copies.  Runs on the loop thread (fg_relay_event from dispatch).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fedgen.h"

#define RELAY_BUF (256 * 1024)
#define MAX_PAIRS 16

/* One direction: what was read from `from` and not yet written to `to`. */
struct pipe {
    int from, to;
    char *buf;
    size_t len, off;
};

struct pair {
    struct pipe up, down; /* kz-usa -> kz-jpn, kz-jpn -> kz-usa */
};

static int lfd = -1;
static struct pair pairs[MAX_PAIRS];
static int n_pairs;

/* Interest of one fd: read while its outgoing pipe is empty, write while its incoming has data. */
static void rewatch(int ep, int fd, const struct pipe *out, const struct pipe *in)
{
    struct epoll_event e = {.events = 0, .data.fd = fd};
    if (fd < 0)
        return;
    if (out->len == out->off)
        e.events |= EPOLLIN;
    if (in->len > in->off)
        e.events |= EPOLLOUT;
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

static void pair_close(int ep, struct pair *p)
{
    int fds[2] = {p->up.from, p->up.to};
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) {
            epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
            close(fds[i]);
        }
    free(p->up.buf);
    free(p->down.buf);
    memset(p, 0, sizeof(*p));
    p->up.from = p->up.to = p->down.from = p->down.to = -1;
}

/* Move what `from` has into `to`; false when either side is gone. */
static bool pump(struct pipe *d)
{
    for (;;) {
        if (d->off < d->len) {
            ssize_t k = send(d->to, d->buf + d->off, d->len - d->off, MSG_NOSIGNAL);
            if (k < 0)
                return errno == EAGAIN || errno == EINTR;
            d->off += (size_t)k;
            if (d->off < d->len)
                return true;
        }
        d->len = d->off = 0;
        ssize_t k = read(d->from, d->buf, RELAY_BUF);
        if (k == 0)
            return false;
        if (k < 0)
            return errno == EAGAIN || errno == EINTR;
        d->len = (size_t)k;
    }
}

static void add(int ep, int fd)
{
    struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
        gen_die("epoll_ctl (relay)");
}

static void accept_one(int ep)
{
    int a = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (a < 0)
        return;
    struct pair *p = NULL;
    for (int i = 0; i < n_pairs && !p; i++)
        if (pairs[i].up.from < 0)
            p = &pairs[i];
    if (!p && n_pairs < MAX_PAIRS)
        p = &pairs[n_pairs++];
    if (!p) {
        close(a);
        return;
    }
    int b = fg_connect(fo.relay_to);
    p->up = (struct pipe){.from = a, .to = b, .buf = malloc(RELAY_BUF)};
    p->down = (struct pipe){.from = b, .to = a, .buf = malloc(RELAY_BUF)};
    if (!p->up.buf || !p->down.buf)
        gen_die("malloc");
    add(ep, a);
    add(ep, b);
}

void fg_relay_open(int ep)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    int one = 1;

    for (int i = 0; i < MAX_PAIRS; i++)
        pairs[i].up.from = -1;
    sa.sin_port = htons((uint16_t)fo.relay_gate);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        gen_die("socket (relay)");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0)
        gen_die("bind/listen on the gate port");
    add(ep, lfd);
}

bool fg_relay_event(int ep, int fd)
{
    if (fd == lfd && lfd >= 0) {
        accept_one(ep);
        return true;
    }
    for (int i = 0; i < n_pairs; i++) {
        struct pair *p = &pairs[i];
        if (p->up.from < 0 || (fd != p->up.from && fd != p->down.from))
            continue;
        if (!pump(&p->up) || !pump(&p->down)) {
            pair_close(ep, p);
            return true;
        }
        rewatch(ep, p->up.from, &p->up, &p->down);
        rewatch(ep, p->down.from, &p->down, &p->up);
        return true;
    }
    return false;
}
