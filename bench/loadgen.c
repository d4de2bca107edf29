/*
 * loadgen.c - fan-out load generator for the kizuna benchmarks.
 *
 * One thread, one epoll loop.  N clients each publish a CoT position report
 * at R Hz (phases spread evenly) over raw CoT/TCP, MQTT 3.1.1 QoS 0 or NATS,
 * and every client reads what the server fans out.  Each event carries
 * "KZB c=<client> g=<group> s=<seq> t=<CLOCK_MONOTONIC ns>" at the end of
 * its <remarks>, so a receiver computes end-to-end latency on arrival.
 * With --storm the clients instead connect at a fixed rate to a server
 * holding --tracks tracks and time the latest-state replay.
 *
 * Output: one JSON line (machine) and one line starting with "# " (human).
 * Built standalone (bench/run.sh or bench/CMakeLists.txt), never by make test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

struct opts o = {.mode = M_COT,
                 .n = 10,
                 .rate = 1,
                 .warm = 3,
                 .dur = 10,
                 .drain = 3,
                 .groups = 1,
                 .conn_rate = 2000,
                 .tracks = 2000,
                 .inflight = 128,
                 .procs = 1};
const char gen_prog[] = "loadgen";
struct stats st;
struct client *cl;
int n_all; /* clients including slow, preload and probe */
int ep;
static char rbuf[1 << 20];                       /* shared read buffer; leftovers go to c->carry */
static char sbuf[1 << 16];                       /* one outgoing event */
static int64_t t_run, t0, w_start, w_end, d_end; /* t_run: program start */
static int64_t send_j, sendable;                 /* next global send index; non-slow senders */
static double send_step;                         /* ns between two sends, all clients together */
static int *gsize;                               /* non-slow clients per group */

/* ---- histogram: 256 sub-buckets per power of two (< 0.4 % error) ----- */

static int hist_idx(uint64_t v)
{
    if (v < 512)
        return (int)v;
    int shift = 63 - __builtin_clzll(v) - 8;
    int i = shift * 256 + (int)(v >> shift);
    return i < HIST_N ? i : HIST_N - 1;
}

static uint64_t hist_val(int i)
{
    if (i < 512)
        return (uint64_t)i;
    int shift = i / 256 - 1;
    uint64_t m = (uint64_t)(i - shift * 256);
    return (m << shift) + (1ull << shift) / 2;
}

void hist_add(struct hist *h, int64_t v)
{
    if (v < 0)
        v = 0;
    h->b[hist_idx((uint64_t)v)]++;
    h->count++;
    if ((uint64_t)v > h->max)
        h->max = (uint64_t)v;
}

double hist_ms(const struct hist *h, double q)
{
    if (!h->count)
        return -1;
    if (q >= 1)
        return (double)h->max / 1e6;
    uint64_t want = (uint64_t)((double)h->count * q) + 1, seen = 0;
    for (int i = 0; i < HIST_N; i++) {
        seen += h->b[i];
        if (seen >= want)
            return (double)(hist_val(i) < h->max ? hist_val(i) : h->max) / 1e6;
    }
    return (double)h->max / 1e6;
}

/* ---- events ------------------------------------------------------------ */

static void iso_time(char out[32], int64_t add_s)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t s = ts.tv_sec + add_s;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

static const char ATAK_DETAIL[] =
    "<takv os=\"34\" version=\"5.2.0.12 (b0b3cc36).1718211290-CIV\" device=\"SAMSUNG SM-S918B\""
    " platform=\"ATAK-CIV\"/><contact endpoint=\"*:-1:stcp\" phone=\"+15555550%03d\""
    " callsign=\"KZB-%05d\"/><uid Droid=\"KZB-%05d\"/><precisionlocation altsrc=\"GPS\""
    " geopointsrc=\"GPS\"/><__group role=\"Team Member\" name=\"Cyan\"/>"
    "<status battery=\"%d\"/><track course=\"%.1f\" speed=\"%.2f\"/>"
    "<_flow-tags_ TAK-Server-f1a8159ef7804f7a8a32d8efc4b2d17f=\"%s\"/>";

/*
 * One position report for client c into out.  uid is stable per client
 * (one track each); the marker is last in <remarks> and <remarks> last in
 * <detail>, so a receiver finds it near the end of the frame.
 */
size_t build_event(const struct client *c, const char *uid_prefix, int64_t t, char *out, size_t cap)
{
    char now[32], stale[32], det[700] = "", pad[4096];
    int id = c->id;
    iso_time(now, 0);
    iso_time(stale, 3600);
    double lat = 35.0 + (id % 1000) * 1e-3, lon = 139.0 + (c->seq % 1000) * 1e-5;
    if (o.atak)
        snprintf(det, sizeof(det), ATAK_DETAIL, id % 1000, id, id, 20 + (int)(c->seq % 80),
                 (double)(c->seq % 3600) / 10.0, 1.0 + (c->seq % 50) / 100.0, now);
    else
        snprintf(det, sizeof(det), "<contact callsign=\"KZB-%05d\"/>", id);
    int np = o.pad < (int)sizeof(pad) - 1 ? o.pad : (int)sizeof(pad) - 1;
    memset(pad, 'x', (size_t)np);
    pad[np] = '\0';
    int n = snprintf(out, cap,
                     "<event version=\"2.0\" uid=\"%s%05d\" type=\"a-f-G-U-C\" how=\"m-g\""
                     " time=\"%s\" start=\"%s\" stale=\"%s\"><point lat=\"%.6f\" lon=\"%.6f\""
                     " hae=\"41.5\" ce=\"9.9\" le=\"9.9\"/><detail>%s<remarks>%s"
                     "KZB c=%d g=%d s=%u t=%lld</remarks></detail></event>",
                     uid_prefix, id, now, now, stale, lat, lon, det, pad, id, c->group, c->seq,
                     (long long)t);
    return (size_t)n;
}

/* ---- sockets ----------------------------------------------------------- */

void ep_set(struct client *c, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.u32 = (uint32_t)c->idx};
    if (events == c->ev_mask)
        return;
    if (epoll_ctl(ep, c->ev_mask || c->in_ep ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) < 0)
        gen_die("epoll_ctl");
    c->in_ep = true;
    c->ev_mask = events;
}

static uint32_t want_events(const struct client *c)
{
    uint32_t e = c->role == R_SLOW ? 0 : EPOLLIN;
    return e | (c->wlen > c->woff ? EPOLLOUT : 0);
}

void client_close(struct client *c)
{
    if (c->fd < 0)
        return;
    if (c->ssl)
        tls_free(c);
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    st.closed++;
}

static void flush_out(struct client *c)
{
    while (c->woff < c->wlen) {
        ssize_t k = c->ssl ? tls_send(c, c->wb + c->woff, c->wlen - c->woff)
                           : send(c->fd, c->wb + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno != EAGAIN && errno != EINTR)
                client_close(c);
            break;
        }
        c->woff += (size_t)k;
    }
    if (c->fd < 0)
        return;
    if (c->woff == c->wlen)
        c->woff = c->wlen = 0;
    ep_set(c, want_events(c));
}

/* Queue bytes for c and try to write them now. */
void client_write(struct client *c, const void *p, size_t n)
{
    if (c->fd < 0)
        return;
    if (c->wlen + n > c->wcap) {
        c->wcap = (c->wlen + n) * 2;
        c->wb = realloc(c->wb, c->wcap);
        if (!c->wb)
            gen_die("realloc");
    }
    memcpy(c->wb + c->wlen, p, n);
    c->wlen += n;
    if (c->connected)
        flush_out(c);
}

void client_connect(struct client *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    int one = 1;

    sa.sin_port = htons((uint16_t)o.ports[(o.split ? c->idx : c->group) % o.n_ports]);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        gen_die("socket (raise ulimit -n)");
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (c->role == R_SLOW) {
        int small = 4096; /* a stuck reader: little room in our kernel buffer */
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    }
    c->t_start = gen_now_ns();
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
        gen_die("connect");
    c->ev_mask = 0;
    c->in_ep = false;
    c->tcp_up = false;
    ep_set(c, EPOLLOUT);
}

/* TCP is up: plain clients are connected, TLS clients start the handshake. */
static void on_tcp_up(struct client *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        errno = err;
        gen_die("connect (is the server up?)");
    }
    c->tcp_up = true;
    if (o.tls)
        tls_start(c);
    else
        mark_connected(c);
}

/* Ready to talk (with --tls: handshake done); t_conn includes the handshake. */
void mark_connected(struct client *c)
{
    c->connected = true;
    c->t_conn = gen_now_ns();
    st.n_connected++;
    proto_hello(c);
    if (o.mode == M_COT || c->role == R_SLOW)
        c->ready = true;
    flush_out(c);
}

/* ---- receiving --------------------------------------------------------- */

static const char *find_marker(const char *p, size_t n)
{
    size_t tail = n > 256 ? 256 : n;
    const char *m = memmem(p + n - tail, tail, "KZB c=", 6);
    return m ? m : memmem(p, n, "KZB c=", 6);
}

/* One event payload p[0..n) has arrived at client c. */
void on_event(struct client *c, const char *p, size_t n, int64_t now)
{
    st.rx_bytes += n;
    st.rx_events++;
    if (c->role == R_STORM || c->role == R_PROBE) {
        if (c->got++ == 0)
            c->t_first = now;
        if (c->got == (uint64_t)o.tracks)
            c->t_done = now;
        return;
    }
    const char *m = find_marker(p, n);
    char *end;
    if (!m) {
        st.bad++;
        return;
    }
    long from = strtol(m + 6, &end, 10);
    long grp = strtol(end + 3, &end, 10);
    strtoul(end + 3, &end, 10);
    long long t = strtoll(end + 3, &end, 10);
    if (t < t_run) {
        st.replayed++; /* latest state of an earlier run, sent on connect */
        return;
    }
    if (from == c->id) {
        st.self++; /* MQTT has no "no local" in 3.1.1 */
        return;
    }
    if (grp != c->group)
        st.cross++;
    if (now >= w_start && now < w_end)
        st.recv_win++;
    if (t >= w_start && t < w_end) {
        st.recv_of_win++;
        hist_add(&st.lat, now - t);
    }
}

static size_t frame_cot(struct client *c, const char *p, size_t n, int64_t now)
{
    size_t off = 0, len;
    for (const char *ev; (ev = gen_cot_next(p, n, &off, &len)) != NULL;)
        on_event(c, ev, len, now);
    return off;
}

static void read_once(struct client *c)
{
    size_t have = c->clen;
    if (have)
        memcpy(rbuf, c->carry, have);
    ssize_t k = c->ssl ? tls_recv(c, rbuf + have, sizeof(rbuf) - have)
                       : read(c->fd, rbuf + have, sizeof(rbuf) - have);
    if (k <= 0) {
        if (k == 0 || (errno != EAGAIN && errno != EINTR))
            client_close(c);
        return;
    }
    size_t n = have + (size_t)k;
    int64_t now = gen_now_ns();
    size_t used = o.mode == M_COT ? frame_cot(c, rbuf, n, now) : proto_frame(c, rbuf, n, now);
    c->clen = n - used;
    if (c->clen > c->ccap) {
        c->ccap = c->clen * 2;
        free(c->carry);
        c->carry = malloc(c->ccap);
        if (!c->carry)
            gen_die("malloc");
    }
    memcpy(c->carry, rbuf + used, c->clen);
    if (c->clen == sizeof(rbuf))
        gen_die("frame larger than the read buffer");
}

static void on_readable(struct client *c)
{
    do
        read_once(c);
    while (c->fd >= 0 && c->tls_more);
}

/* ---- the schedule ------------------------------------------------------ */

static void send_report(struct client *c, int64_t now)
{
    size_t n = build_event(c, "kzb-", now, sbuf, sizeof(sbuf));
    c->seq++;
    if (now >= w_start && now < w_end) {
        st.sent_win++;
        st.expected += (uint64_t)(gsize[c->group] - 1);
    }
    proto_publish(c, sbuf, n);
}

/* Global send j goes to sender j % N at t0 + j * step: phases spread evenly. */
static int64_t run_sends(int64_t now)
{
    for (;;) {
        int64_t due = t0 + (int64_t)((double)send_j * send_step);
        if (due >= w_end)
            return INT64_MAX;
        if (due > now)
            return due;
        if (now - due > st.send_lag_max)
            st.send_lag_max = now - due;
        struct client *c = &cl[send_j % sendable];
        if (c->fd >= 0)
            send_report(c, now);
        send_j++;
    }
}

static void dispatch(int timeout_ns)
{
    struct epoll_event evs[1024];
    struct timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
    int k = epoll_pwait2(ep, evs, 1024, &ts, NULL);
    if (k < 0 && errno != EINTR)
        gen_die("epoll_pwait2");
    for (int i = 0; i < k; i++) {
        struct client *c = &cl[evs[i].data.u32];
        if (c->fd < 0)
            continue;
        if (!c->connected) {
            if (c->tcp_up)
                tls_handshake(c);
            else if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                on_tcp_up(c);
            continue;
        }
        if (evs[i].events & EPOLLOUT)
            flush_out(c);
        if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            on_readable(c);
    }
}

/* Run the loop until stop() says so; connections of [from, to) follow the rate. */
void loop_until(bool (*stop)(int64_t now), int from, int to, double rate)
{
    int64_t start = gen_now_ns(), step = (int64_t)(1e9 / rate);
    int next = from;
    for (;;) {
        int64_t now = gen_now_ns(), wake = now + 50000000;
        while (next < to && start + (next - from) * step <= now)
            client_connect(&cl[next++]);
        if (next < to && start + (next - from) * step < wake)
            wake = start + (next - from) * step;
        if (t0 && sendable) {
            int64_t due = run_sends(now);
            wake = due < wake ? due : wake;
        }
        sample_tick(now);
        if (next >= to && stop(now))
            return;
        int64_t wait = wake - gen_now_ns();
        dispatch(wait > 0 ? (int)(wait < 999999999 ? wait : 999999999) : 0);
    }
}

static bool all_ready(int64_t now)
{
    static int64_t deadline;
    if (!deadline)
        deadline = now + 60 * 1000000000LL;
    int ready = 0;
    for (int i = 0; i < n_all; i++)
        ready += cl[i].ready;
    if (now > deadline) {
        fprintf(stderr, "loadgen: only %d of %d clients ready after 60 s\n", ready, n_all);
        exit(2);
    }
    return ready == n_all;
}

static bool reached_window(int64_t now)
{
    return now >= w_start;
}

static bool fanout_done(int64_t now)
{
    if (now < w_end)
        return false;
    if (!st.window_closed) {
        st.window_closed = true;
        window_mark(now, 1);
    }
    return now >= d_end || st.recv_of_win >= st.expected;
}

static void run_fanout(void)
{
    n_all = o.n + o.slow;
    gsize = calloc((size_t)o.groups, sizeof(*gsize));
    cl = calloc((size_t)n_all, sizeof(*cl));
    for (int i = 0; i < n_all; i++) {
        cl[i] = (struct client){.idx = i,
                                .id = i,
                                .fd = -1,
                                .group = i % o.groups,
                                .role = i < o.n ? R_NORMAL : R_SLOW};
        if (i >= o.n)
            cl[i].group = 0;
        else
            gsize[cl[i].group]++;
    }
    loop_until(all_ready, 0, n_all, o.conn_rate);
    sendable = o.n;
    send_step = 1e9 / ((double)o.n * o.rate);
    t0 = gen_now_ns();
    w_start = t0 + (int64_t)(o.warm * 1e9);
    w_end = w_start + (int64_t)(o.dur * 1e9);
    d_end = w_end + (int64_t)(o.drain * 1e9);
    loop_until(reached_window, n_all, n_all, 1);
    window_mark(gen_now_ns(), 0);
    loop_until(fanout_done, n_all, n_all, 1);
    report_fanout();
}

static void usage(void)
{
    fputs("usage: loadgen -m cot|mqtt|nats -p PORT[,PORT...] -n CLIENTS -r HZ -w WARMUP_S\n"
          "               -d DURATION_S [-s PAD_BYTES] [--atak] [-g GROUPS] [-P PID[,PID]]\n"
          "               [--drain S] [--slow K] [--metrics HTTP_PORT] [--label TEXT] [--split]\n"
          "               [--conn-rate PER_S] [--storm PER_S --tracks T]\n"
          "               [--tls --cert PEM --key PEM --ca PEM [--idle S [--inflight K]\n"
          "               [--procs P]]]\n"
          "  --idle: open -n TLS connections, K handshakes at a time, hold them S s;\n"
          "  --procs: from P processes (a full handshake costs the client as much as the server).\n"
          "  -p takes one port per group (round-robin) or one port for all groups;\n"
          "  with one port, mqtt/nats groups use one topic per group;\n"
          "  --split: clients round-robin over the ports (instances of one cluster).\n"
          "  -P PID[,PID...]: server CPU is the sum of these processes' (RSS: the first's).\n",
          stderr);
    exit(2);
}

static void parse_ports(const char *s)
{
    char *end;
    while (*s && o.n_ports < MAX_PORTS) {
        o.ports[o.n_ports++] = (int)strtol(s, &end, 10);
        if (end == s || (*end && *end != ','))
            usage();
        s = *end ? end + 1 : end;
    }
}

static void parse_pids(const char *s)
{
    char *end;
    while (*s && o.n_pids < MAX_PORTS) {
        o.pids[o.n_pids++] = (int)strtol(s, &end, 10);
        if (end == s || (*end && *end != ','))
            usage();
        s = *end ? end + 1 : end;
    }
    o.pid = o.pids[0];
}

static void parse_mode(const char *s)
{
    o.mode = !strcmp(s, "mqtt") ? M_MQTT : !strcmp(s, "nats") ? M_NATS : M_COT;
}

static const struct gen_opt opts[] = {
    {'m', NULL, GEN_CALL, NULL, parse_mode},  {'p', NULL, GEN_CALL, NULL, parse_ports},
    {'n', NULL, GEN_INT, &o.n, NULL},         {'r', NULL, GEN_DOUBLE, &o.rate, NULL},
    {'w', NULL, GEN_DOUBLE, &o.warm, NULL},   {'d', NULL, GEN_DOUBLE, &o.dur, NULL},
    {'s', NULL, GEN_INT, &o.pad, NULL},       {'g', NULL, GEN_INT, &o.groups, NULL},
    {'P', NULL, GEN_CALL, NULL, parse_pids},  {'h', NULL, GEN_HELP, NULL, NULL},
    {0, "atak", GEN_TRUE, &o.atak, NULL},     {0, "drain", GEN_DOUBLE, &o.drain, NULL},
    {0, "slow", GEN_INT, &o.slow, NULL},      {0, "metrics", GEN_INT, &o.metrics_port, NULL},
    {0, "label", GEN_STR, &o.label, NULL},    {0, "conn-rate", GEN_DOUBLE, &o.conn_rate, NULL},
    {0, "storm", GEN_DOUBLE, &o.storm, NULL}, {0, "tracks", GEN_INT, &o.tracks, NULL},
    {0, "tls", GEN_TRUE, &o.tls, NULL},       {0, "cert", GEN_STR, &o.tls_cert, NULL},
    {0, "key", GEN_STR, &o.tls_key, NULL},    {0, "ca", GEN_STR, &o.tls_ca, NULL},
    {0, "idle", GEN_DOUBLE, &o.idle, NULL},   {0, "inflight", GEN_INT, &o.inflight, NULL},
    {0, "procs", GEN_INT, &o.procs, NULL},    {0, "split", GEN_TRUE, &o.split, NULL},
};

static void parse_args(int argc, char **argv)
{
    if (!gen_parse_opts(argc, argv, opts, sizeof(opts) / sizeof(opts[0])))
        usage();
    if (!o.n_ports || o.n < 1 || o.rate <= 0 || o.groups < 1 || o.dur <= 0 || o.inflight < 1 ||
        o.procs < 1 || o.procs > 64)
        usage();
    if (o.tls && (o.mode != M_COT || !o.tls_cert || !o.tls_key || !o.tls_ca))
        usage();
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    t_run = gen_now_ns();
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        gen_die("epoll_create1");
    if (o.tls)
        tls_setup();
    if (o.idle > 0)
        run_tls_idle();
    else if (o.storm > 0)
        run_storm();
    else
        run_fanout();
    return 0;
}
