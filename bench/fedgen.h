/*
 * fedgen.h - shared state of the federation workload generator (bench/ only).
 *
 * fedgen.c holds the options, the connections and the loop; fg_run.c the
 * three modes and their reports; fg_poll.c the HTTP readings and the poller
 * thread; fg_relay.c F2's gate in front of kz-jpn's federation port; the
 * clock, gen_die() and the cutting of a CoT stream are gen_util.c's, shared
 * with loadgen.  Everything but fg_poll_*() belongs to the loop thread.
 */
#ifndef KZ_BENCH_FEDGEN_H
#define KZ_BENCH_FEDGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gen_util.h"

/*
 * One event's text, printf'd by fg_build_event() for fedgen and fedfloor: class letter ('r' or
 * 'n'), uid number, time, start, stale, access, lat and lon digits (int), uid number again,
 * sequence (unsigned long long).
 */
#define FG_EVENT_FORMAT                                                                            \
    "<event version=\"2.0\" uid=\"kzf-%c-%05d\" type=\"a-f-G-U-C\" how=\"m-g\""                    \
    " time=\"%s\" start=\"%s\" stale=\"%s\" access=\"%s\"><point lat=\"35.%06d\""                  \
    " lon=\"139.%06d\" hae=\"41.5\" ce=\"9.9\" le=\"9.9\"/><detail><contact"                       \
    " callsign=\"KZF-%05d\"/><remarks>KZF s=%llu</remarks></detail></event>"
#define FG_RELEASABLE "SECRET//REL TO USA, JPN"
#define FG_NOFORN "SECRET//NOFORN"

/* fg_event.c: is event number s NOFORN (it carries the running fraction past an integer)? */
bool fg_is_noforn(uint64_t s, double fraction);
/*
 * Event number s into out (at most cap bytes; returns its length): uid s % tracks of its
 * class, times now (each uid's at least a millisecond after its last, kept in
 * last_ms[2 * tracks]), stale an hour later.
 */
size_t fg_build_event(uint64_t s, bool noforn, int tracks, int64_t *last_ms, char *out, size_t cap);

enum fg_mode { FG_RATE, FG_BACKLOG, FG_CATCHUP };

struct fg_opts {
    enum fg_mode mode;
    int push_port, sub_port; /* kz-usa's and kz-jpn's CoT TCP inputs */
    int src_web, dst_web;    /* their HTTP inputs (role viewer) */
    int src_pid, dst_pid;    /* for /proc CPU and RSS */
    const char *src_peer;    /* kz-usa's name for kz-jpn, and back */
    const char *dst_peer;
    const char *label;
    int tracks;               /* uids per label class */
    long events;              /* backlog and catchup: how many */
    double warm, dur, drain;  /* rate: seconds */
    double noforn;            /* rate: fraction of SECRET//NOFORN events */
    double rate;              /* events/s to push; 0: as fast as the input takes them */
    double deadline;          /* catchup: seconds after link up; backlog: to be stored */
    double max_pending;       /* hold above this many uncommitted events at kz-usa; 0: never */
    double max_inflight;      /* and above this many events sent to kz-jpn, not yet received */
    int relay_gate, relay_to; /* catchup: the port kz-usa dials, kz-jpn's federation port */
};

/* The one connection into kz-usa.  Counts move when a batch is fully written. */
struct fg_pusher {
    int fd;
    char *buf; /* the batch being written, buf[off..len) */
    size_t len, off, cap;
    uint64_t built, batch_n, batch_noforn;
    uint64_t written, noforn_written;
    int64_t *last_ms; /* per uid and class: time of its previous event */
    bool active;      /* still building batches */
    bool closed;      /* kz-usa closed the connection (fd is -1 then) */
};

/* The subscriber on kz-jpn: what arrives, and (catchup) which. */
struct fg_sub {
    int fd;
    char *carry;
    size_t clen;
    uint64_t events, leaked, bad;
    bool closed;              /* kz-jpn closed it */
    uint8_t *seen, *uid_seen; /* catchup: bitmaps by sequence and by uid */
    uint64_t distinct, uids;
    int64_t t_last_new; /* ns of the last sequence not seen before */
};

extern struct fg_opts fo;
extern struct fg_pusher fp;
extern struct fg_sub fs;

int fg_connect(int port);
void fg_pusher_open(void);
void fg_sub_open(bool bitmaps);
/* True once every built event is written. */
bool fg_pushed_all(void);
/* catchup with --gate: start listening there and relaying to --to (fg_relay.c). */
void fg_open_gate(void);
/* Run the loop until gen_now_ns() >= until_ns or stop() says so; stop may be NULL. */
void fg_loop(int64_t until_ns, bool (*stop)(int64_t now));

/* A peer's row of kz-usa's GET /api/v1/federation. */
struct fg_link {
    bool ok; /* the row was read */
    char state[16], since[40];
    double sent, received, denied, duplicates;
};

/* What kz-usa and kz-jpn said about themselves (-1: no answer). */
struct fg_remote {
    int64_t t; /* when kz-usa answered */
    double src_in, src_committed, src_refused, src_lag;
    double dst_recv, dst_dups, dst_lag;
    struct fg_link link;
};

/* fg_poll.c: blocking reads (loop thread only while the poller is stopped)... */
bool fg_link_read(struct fg_link *l);
void fg_remote_read(struct fg_remote *r, bool with_link);
/* ...and the poller thread: the latest answers, and the hold (see fg_poll.c). */
void fg_poll_start(bool with_link);
void fg_poll_stop(void);
void fg_poll_latest(struct fg_remote *r);
bool fg_poll_held(void);
unsigned long fg_poll_holds(void);

/* fg_relay.c */
void fg_relay_open(int ep);
/* An epoll event on fd for the relay; false when fd is not the relay's. */
bool fg_relay_event(int ep, int fd);

/* fg_run.c */
void fg_run_rate(void);
void fg_run_backlog(void);
void fg_run_catchup(void);

#endif
