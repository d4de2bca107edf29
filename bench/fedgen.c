/*
 * fedgen.c - load generator of the federation workload (F) of the kizuna
 * benchmarks: CoT pushed into kz-usa over a plain TCP input, counted on
 * arrival at a plain TCP input of kz-jpn after crossing the federation link.
 *
 * Events are W1's shape (~400 B) with an `access` label: uid kzf-r-NNNNN
 * ("SECRET//REL TO USA, JPN") or kzf-n-NNNNN ("SECRET//NOFORN", which the
 * release rule must keep on kz-usa), from a pool of --tracks uids per class.
 * Each uid's time grows by at least a millisecond per event: the link
 * carries milliseconds, and the receiver drops an event whose originator,
 * uid and time it has seen.  "KZF s=<seq>" is last in <remarks>.
 *
 * This file: options, the batch builder, the two connections and the loop.
 * The modes and their results are fg_run.c, the HTTP readings and the poller
 * thread fg_poll.c.  Built by bench/run.sh (cc) or bench/CMakeLists.txt,
 * never by make test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fedgen.h"

#define BATCH_BYTES (256 * 1024)
#define EVENT_MAX 1024

struct fg_opts fo = {.tracks = 5000,
                     .max_pending = 65536,
                     .max_inflight = 4000,
                     .events = 100000,
                     .warm = 3,
                     .dur = 10,
                     .drain = 5,
                     .noforn = 0.1,
                     .deadline = 20,
                     .src_peer = "kz-jpn",
                     .dst_peer = "kz-usa"};
const char gen_prog[] = "fedgen";
struct fg_pusher fp = {.fd = -1};
struct fg_sub fs = {.fd = -1};
static int ep = -1;
static char rbuf[1 << 20]; /* the subscriber's reads; leftovers go to fs.carry */

/* A blocking connect to 127.0.0.1:port, then non-blocking with TCP_NODELAY. */
int fg_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_port = htons((uint16_t)port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        gen_die("connect (is the server up?)");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
        gen_die("fcntl");
    return fd;
}

/* ---- events -------------------------------------------------------------------- */

/* How many events the pacing allows now (all of a batch when unpaced). */
static uint64_t allowance(int64_t now)
{
    static int64_t t_start;
    uint64_t cap = BATCH_BYTES / 400;
    if (fg_poll_held())
        return 0;
    if (fo.rate <= 0)
        return cap;
    if (!t_start)
        t_start = now;
    double due = (double)(now - t_start) / 1e9 * fo.rate;
    uint64_t ahead = (uint64_t)due > fp.built ? (uint64_t)due - fp.built : 0;
    return ahead < cap ? ahead : cap;
}

/* A new batch of up to n events, stopping at --events in backlog mode. */
static void fill_batch(uint64_t n)
{
    fp.len = fp.off = 0;
    fp.batch_n = fp.batch_noforn = 0;
    for (uint64_t i = 0; i < n && fp.len + EVENT_MAX <= fp.cap; i++) {
        if (fo.mode == FG_BACKLOG && fp.built >= (uint64_t)fo.events) {
            fp.active = false;
            break;
        }
        bool nf = fo.mode == FG_RATE && fg_is_noforn(fp.built, fo.noforn);
        fp.len +=
            fg_build_event(fp.built++, nf, fo.tracks, fp.last_ms, fp.buf + fp.len, fp.cap - fp.len);
        fp.batch_n++;
        fp.batch_noforn += nf;
    }
}

/* ---- the pusher ------------------------------------------------------------------ */

void fg_pusher_open(void)
{
    fp.fd = fg_connect(fo.push_port);
    fp.cap = BATCH_BYTES + EVENT_MAX;
    fp.buf = malloc(fp.cap);
    fp.last_ms = calloc(2 * (size_t)fo.tracks, sizeof(*fp.last_ms));
    if (!fp.buf || !fp.last_ms)
        gen_die("malloc");
    fp.active = true;
}

/* kz-usa closed the push connection: what was measured so far still counts. */
static void push_closed(const char *why)
{
    fprintf(stderr, "fedgen: kz-usa closed the push connection after %llu events: %s\n",
            (unsigned long long)fp.written, why);
    epoll_ctl(ep, EPOLL_CTL_DEL, fp.fd, NULL);
    close(fp.fd);
    fp.fd = -1;
    fp.active = false;
    fp.off = fp.len = 0;
    fp.closed = true;
}

/* Write what the socket takes; a batch counts once its last byte is written. */
static void push_some(int64_t now)
{
    for (;;) {
        if (fp.off == fp.len) {
            uint64_t n = fp.active ? allowance(now) : 0;
            if (!n)
                return;
            fill_batch(n);
            if (!fp.len)
                return;
        }
        ssize_t k = send(fp.fd, fp.buf + fp.off, fp.len - fp.off, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno != EAGAIN && errno != EINTR)
                push_closed(strerror(errno));
            return;
        }
        fp.off += (size_t)k;
        if (fp.off == fp.len) {
            fp.written += fp.batch_n;
            fp.noforn_written += fp.batch_noforn;
            fp.batch_n = fp.batch_noforn = 0;
        }
    }
}

bool fg_pushed_all(void)
{
    return fp.fd < 0 || (!fp.active && fp.off == fp.len);
}

/* kz-usa may send to its input's connection (nothing in this workload): discard it. */
static void push_discard(void)
{
    ssize_t k;
    while ((k = read(fp.fd, rbuf, sizeof(rbuf))) > 0)
        ;
    if (k == 0 || (errno != EAGAIN && errno != EINTR))
        push_closed(k == 0 ? "end of stream" : strerror(errno));
}

/* ---- the subscriber -------------------------------------------------------------- */

void fg_sub_open(bool bitmaps)
{
    int big = 32 << 20;

    fs.fd = fg_connect(fo.sub_port);
    /* Room for a second of arrivals while a blocking /metrics scrape holds the loop. */
    if (setsockopt(fs.fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
        setsockopt(fs.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    fs.carry = malloc(sizeof(rbuf));
    if (!fs.carry)
        gen_die("malloc");
    if (bitmaps) {
        fs.seen = calloc((size_t)fo.events / 8 + 1, 1);
        fs.uid_seen = calloc((size_t)fo.tracks / 8 + 1, 1);
        if (!fs.seen || !fs.uid_seen)
            gen_die("calloc");
    }
}

static bool test_and_set(uint8_t *map, uint64_t i)
{
    bool was = map[i / 8] & (1u << (i % 8));
    map[i / 8] |= (uint8_t)(1u << (i % 8));
    return was;
}

/* One event p[0..n) arrived on kz-jpn. */
static void on_event(const char *p, size_t n, int64_t now)
{
    size_t tail = n > 96 ? 96 : n;
    const char *m = memmem(p + n - tail, tail, "KZF s=", 6);
    const char *u = memmem(p, n > 160 ? 160 : n, "uid=\"kzf-", 9);

    fs.events++;
    if (!m || !u) {
        fs.bad++;
        return;
    }
    if (u[9] == 'n')
        fs.leaked++; /* NOFORN on kz-jpn: the release rule failed */
    if (!fs.seen)
        return;
    uint64_t s = strtoull(m + 6, NULL, 10);
    if (s >= (uint64_t)fo.events) {
        fs.bad++;
        return;
    }
    if (!test_and_set(fs.seen, s)) {
        fs.distinct++;
        fs.t_last_new = now;
    }
    if (!test_and_set(fs.uid_seen, (uint64_t)strtol(u + 11, NULL, 10) % (uint64_t)fo.tracks))
        fs.uids++;
}

static size_t frame(const char *p, size_t n, int64_t now)
{
    size_t off = 0, len;
    for (const char *ev; (ev = gen_cot_next(p, n, &off, &len)) != NULL;)
        on_event(ev, len, now);
    return off;
}

static void sub_read(void)
{
    for (;;) {
        memcpy(rbuf, fs.carry, fs.clen);
        ssize_t k = read(fs.fd, rbuf + fs.clen, sizeof(rbuf) - fs.clen);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
            fprintf(stderr, "fedgen: kz-jpn closed the subscriber after %llu events: %s\n",
                    (unsigned long long)fs.events, k == 0 ? "end of stream" : strerror(errno));
            epoll_ctl(ep, EPOLL_CTL_DEL, fs.fd, NULL);
            fs.closed = true; /* the fd stays open (and unwatched): fs.fd >= 0 means a link run */
            return;
        }
        if (k < 0)
            return;
        size_t n = fs.clen + (size_t)k, used = frame(rbuf, n, gen_now_ns());
        fs.clen = n - used;
        if (fs.clen == sizeof(rbuf))
            gen_die("frame larger than the read buffer");
        memcpy(fs.carry, rbuf + used, fs.clen);
    }
}

/* ---- the loop -------------------------------------------------------------------- */

static void watch(int fd, uint32_t events, uint32_t *cur)
{
    struct epoll_event e = {.events = events, .data.fd = fd};
    if (fd < 0 || events == *cur)
        return;
    if (epoll_ctl(ep, *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e) < 0)
        gen_die("epoll_ctl");
    *cur = events;
}

static void dispatch(int timeout_ms)
{
    static uint32_t push_ev, sub_ev;
    struct epoll_event evs[16];
    bool pending =
        fp.fd >= 0 && (fp.off < fp.len || (fp.active && fo.rate <= 0 && !fg_poll_held()));

    watch(fp.fd, EPOLLIN | (pending ? EPOLLOUT : 0), &push_ev);
    if (!fs.closed)
        watch(fs.fd, EPOLLIN, &sub_ev);
    int k = epoll_wait(ep, evs, 16, timeout_ms);
    if (k < 0 && errno != EINTR)
        gen_die("epoll_wait");
    for (int i = 0; i < k; i++) {
        int fd = evs[i].data.fd;
        if (fd == fs.fd)
            sub_read();
        else if (fd == fp.fd && fd >= 0) {
            if (evs[i].events & EPOLLIN)
                push_discard();
        } else {
            fg_relay_event(ep, fd);
        }
    }
}

void fg_open_gate(void)
{
    if (fo.relay_gate > 0)
        fg_relay_open(ep);
}

void fg_loop(int64_t until_ns, bool (*stop)(int64_t now))
{
    for (;;) {
        int64_t now = gen_now_ns();
        if (now >= until_ns || (stop && stop(now)))
            return;
        if (fp.fd >= 0)
            push_some(now);
        int64_t wait_ms = (until_ns - now) / 1000000;
        dispatch(fo.rate > 0 || fg_poll_held() ? 1 : (int)(wait_ms < 10 ? wait_ms : 10));
    }
}

/* ---- options --------------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: fedgen rate --push PORT [--sub PORT] --src-web PORT [--dst-web PORT]\n"
          "              [--src-pid PID] [--dst-pid PID] [-w S] [-d S] [--drain S]\n"
          "              [--noforn FRACTION] [--tracks N] [--rate EV_PER_S] [--label TEXT]\n"
          "       fedgen backlog --push PORT --src-web PORT [--events N] [--tracks N]\n"
          "              [--rate EV_PER_S] [--deadline S]\n"
          "       fedgen catchup --sub PORT --src-web PORT [--dst-web PORT] [--events N]\n"
          "              [--tracks N] [--deadline S] [--label TEXT] [--gate PORT --to PORT]\n"
          "  --gate/--to: listen on --gate once the subscriber is connected and relay each\n"
          "  connection to kz-jpn's federation port --to (kz-usa dials --gate).\n"
          "  --src-peer/--dst-peer: kz-usa's name for kz-jpn and back (kz-jpn, kz-usa).\n"
          "  --max-pending N: hold while kz-usa has N events not yet committed, until half\n"
          "  of that (default 65536; kizuna refuses from 131072 and closes the connection\n"
          "  after a run of refusals); 0 with --max-inflight 0: never hold.\n"
          "  --max-inflight N: with --sub, hold too while N events are sent by kz-usa and\n"
          "  not yet received by kz-jpn (default 4000: ~1.2 MB; past half of\n"
          "  limits.out_queue_bytes queued kizuna's link falls behind and sends from its\n"
          "  log); 0: only the store.\n",
          stderr);
    exit(2);
}

static const struct gen_opt opts[] = {
    {0, "push", GEN_INT, &fo.push_port, NULL},
    {0, "sub", GEN_INT, &fo.sub_port, NULL},
    {0, "src-web", GEN_INT, &fo.src_web, NULL},
    {0, "dst-web", GEN_INT, &fo.dst_web, NULL},
    {0, "src-pid", GEN_INT, &fo.src_pid, NULL},
    {0, "dst-pid", GEN_INT, &fo.dst_pid, NULL},
    {'w', NULL, GEN_DOUBLE, &fo.warm, NULL},
    {'d', NULL, GEN_DOUBLE, &fo.dur, NULL},
    {0, "drain", GEN_DOUBLE, &fo.drain, NULL},
    {0, "noforn", GEN_DOUBLE, &fo.noforn, NULL},
    {0, "tracks", GEN_INT, &fo.tracks, NULL},
    {0, "events", GEN_LONG, &fo.events, NULL},
    {0, "rate", GEN_DOUBLE, &fo.rate, NULL},
    {0, "deadline", GEN_DOUBLE, &fo.deadline, NULL},
    {0, "max-pending", GEN_DOUBLE, &fo.max_pending, NULL},
    {0, "max-inflight", GEN_DOUBLE, &fo.max_inflight, NULL},
    {0, "gate", GEN_INT, &fo.relay_gate, NULL},
    {0, "to", GEN_INT, &fo.relay_to, NULL},
    {0, "label", GEN_STR, &fo.label, NULL},
    {0, "src-peer", GEN_STR, &fo.src_peer, NULL},
    {0, "dst-peer", GEN_STR, &fo.dst_peer, NULL},
};

static void parse_args(int argc, char **argv)
{
    if (argc < 2)
        usage();
    fo.mode = !strcmp(argv[1], "rate")      ? FG_RATE
              : !strcmp(argv[1], "backlog") ? FG_BACKLOG
              : !strcmp(argv[1], "catchup") ? FG_CATCHUP
                                            : (usage(), FG_RATE);
    optind = 2;
    if (!gen_parse_opts(argc, argv, opts, sizeof(opts) / sizeof(opts[0])))
        usage();
    bool ok = fo.tracks > 0 && fo.events > 0 && fo.dur > 0 && fo.src_web > 0 && fo.noforn >= 0 &&
              fo.noforn < 1;
    if (fo.mode != FG_CATCHUP)
        ok = ok && fo.push_port > 0;
    if (fo.mode == FG_CATCHUP)
        ok = ok && fo.sub_port > 0 && (fo.relay_gate > 0) == (fo.relay_to > 0);
    if (!ok)
        usage();
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        gen_die("epoll_create1");
    if (fo.mode != FG_CATCHUP)
        fg_pusher_open();
    if (fo.mode == FG_RATE)
        fg_run_rate();
    else if (fo.mode == FG_BACKLOG)
        fg_run_backlog();
    else
        fg_run_catchup();
    return 0;
}
