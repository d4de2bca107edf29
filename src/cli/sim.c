/*
 * sim.c - `kizuna sim`: allied units (US, Japan's three services and the
 * Armed Forces of the Philippines) orbiting or patrolling around their real
 * bases, sent to a server as CoT position reports over one TCP connection.
 *
 * The simulator only talks: whatever the server sends is read and dropped,
 * because a client that never reads is a slow consumer and gets cut off.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cot/cot.h"

#define KM_PER_DEG 111.32
#define PROGRESS_US (10 * 1000000LL)
#define MIN_STALE_US (30 * 1000000LL)
#define MAX_UNITS 100000
#define MAX_HZ 100.0

/*
 * Base coordinates from the project's headquarters table
 * (shared/data/headquarters.csv, columns id, lat, lon).
 */
static const struct base {
    const char *id;
    double lat, lon;
} bases[] = {
    {"USFJ", 35.748, 139.348},         /* Yokota AB, Fussa, Tokyo */
    {"USARJ", 35.50, 139.39},          /* Camp Zama, Kanagawa */
    {"C7F", 35.283, 139.667},          /* Fleet Activities Yokosuka */
    {"JMSDF-SDF", 35.30, 139.64},      /* Funakoshi, Yokosuka */
    {"JGSDF-GCC", 35.80, 139.60},      /* Camp Asaka, Tokyo/Saitama */
    {"IIIMEF", 26.39, 127.86},         /* Camp Courtney, Okinawa */
    {"18WG", 26.356, 127.768},         /* Kadena AB, Okinawa */
    {"35FW", 40.703, 141.368},         /* Misawa AB, Aomori (also JASDF) */
    {"CFAS", 33.16, 129.72},           /* Fleet Activities Sasebo */
    {"MCAS-IWAKUNI", 34.146, 132.236}, /* MCAS Iwakuni, Yamaguchi */
    {"JGSDF-WA", 32.80, 130.76},       /* Camp Kengun, Kumamoto */
    {"AFP-GHQ", 14.609, 121.062},      /* Camp Aguinaldo, Quezon City */
};

enum motion { ORBIT, PATROL };

/*
 * One kind of unit.  Offsets are km east/north of the base: the orbit's
 * centre, or the two ends of a patrol line (chosen so that ships stay at
 * sea and aircraft orbit off the coast).
 */
static const struct force {
    const char *callsign; /* units are "<callsign>-<n>" */
    const char *base;
    const char *type;
    const char *team; /* __group colour */
    enum motion motion;
    double ae, an;    /* orbit centre / patrol start */
    double be, bn;    /* patrol end */
    double radius_km; /* orbit only */
    double speed;     /* m/s */
    double hae;       /* m; KZ_POINT_UNKNOWN for ground units */
} forces[] = {
    {"USFJ", "USFJ", "a-f-G-U-C", "Cyan", ORBIT, 0, 0, 0, 0, 2.5, 8, KZ_POINT_UNKNOWN},
    {"USARJ", "USARJ", "a-f-G-U-C-I", "Cyan", PATROL, -2, 0, 4, -8, 0, 10, KZ_POINT_UNKNOWN},
    {"C7F", "C7F", "a-f-S-C", "Cyan", PATROL, 8.4, 8.5, 8.4, -9.3, 0, 8, 0},
    {"JMSDF-SDF", "JMSDF-SDF", "a-f-S-C", "Dark Blue", PATROL, 12.7, 11.1, 12.7, -8.9, 0, 7, 0},
    {"JGSDF-GCC", "JGSDF-GCC", "a-f-G-U-C", "Green", ORBIT, 0, 0, 0, 0, 4, 12, KZ_POINT_UNKNOWN},
    {"IIIMEF", "IIIMEF", "a-f-G-U-C-I", "Cyan", ORBIT, 0, 0, 0, 0, 3, 6, KZ_POINT_UNKNOWN},
    {"18WG", "18WG", "a-f-A-M-F", "Cyan", ORBIT, -30, 0, 0, 0, 25, 220, 7500},
    {"JASDF-MISAWA", "35FW", "a-f-A-M-F", "Blue", ORBIT, 30, 0, 0, 0, 30, 230, 9000},
    {"CFAS", "CFAS", "a-f-S-C", "Cyan", PATROL, -11.2, -12.2, -25.2, -28.9, 0, 8, 0},
    {"MCAS-IWAKUNI", "MCAS-IWAKUNI", "a-f-A-M-H", "Cyan", ORBIT, 5, 0, 0, 0, 12, 60, 500},
    {"JGSDF-WA", "JGSDF-WA", "a-f-G-U-C-I", "Green", PATROL, 0, 0, 10, -6, 0, 9, KZ_POINT_UNKNOWN},
    {"AFP", "AFP-GHQ", "a-f-G-U-C", "Yellow", ORBIT, 0, 0, 0, 0, 3, 7, KZ_POINT_UNKNOWN},
};

struct unit {
    const struct force *force;
    const struct base *base;
    struct kz_event ev; /* uid, type, how and callsign fixed; the rest per report */
    double phase;       /* orbit: start angle (rad); patrol: start fraction 0..1 */
    double speed;       /* m/s, the force's speed varied per unit */
    int dir;            /* orbit: +1 clockwise, -1 counter-clockwise */
    int64_t due;        /* monotonic µs of the next report */
};

struct sim {
    struct kz_cli_server srv;
    unsigned n_units;
    double hz;
    double duration; /* seconds, 0 = until stopped */
    uint64_t rng;
    struct unit *units;
    struct kz_sbuf batch;
    struct kz_sbuf detail;
    int fd;
    int64_t t0;     /* monotonic start */
    int64_t period; /* µs between reports of one unit */
    int64_t reconnect_at;
    int backoff;
    uint64_t sent;
    bool ever_connected;
};

/* splitmix64: small, seedable, good enough to scatter units. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static const struct base *find_base(const char *id)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(bases); i++)
        if (strcmp(bases[i].id, id) == 0)
            return &bases[i];
    KZ_BUG("a force names an unknown base");
}

static void unit_init(struct sim *s, struct unit *u, unsigned i)
{
    char callsign[64], uid[96];
    size_t nf = KZ_ARRAY_LEN(forces);

    u->force = &forces[i % nf];
    u->base = find_base(u->force->base);
    snprintf(callsign, sizeof(callsign), "%s-%u", u->force->callsign, (unsigned)(i / nf + 1));
    /* The uid depends only on the callsign so a restarted simulator moves
     * the same tracks instead of leaving a second set behind. */
    snprintf(uid, sizeof(uid), "kizuna-sim-%s", callsign);
    kz_event_init(&u->ev);
    u->ev.uid = kz_xstrdup(uid);
    u->ev.type = kz_xstrdup(u->force->type);
    u->ev.how = kz_xstrdup("m-s");
    u->ev.callsign = kz_xstrdup(callsign);
    u->phase = u->force->motion == ORBIT ? rng_unit(&s->rng) * 2 * M_PI : rng_unit(&s->rng);
    u->speed = u->force->speed * (0.8 + 0.4 * rng_unit(&s->rng));
    u->dir = (rng_next(&s->rng) & 1) ? 1 : -1;
    /* Spread the units over one period so reports do not come in bursts. */
    u->due = s->t0 + s->period * (int64_t)i / (int64_t)s->n_units;
}

static double bearing_deg(double de, double dn)
{
    double b = atan2(de, dn) * 180.0 / M_PI;
    return b < 0 ? b + 360.0 : b;
}

/* Position (km east/north of the base) and course at `t` seconds. */
static void unit_place(const struct unit *u, double t, double *e, double *n, double *course)
{
    const struct force *f = u->force;

    if (f->motion == ORBIT) {
        double th = u->phase + u->dir * (u->speed / (f->radius_km * 1000.0)) * t;
        *e = f->ae + f->radius_km * sin(th);
        *n = f->an + f->radius_km * cos(th);
        *course = fmod(th * 180.0 / M_PI + 90.0 * u->dir + 720.0, 360.0);
    } else {
        double de = f->be - f->ae, dn = f->bn - f->an;
        double len = sqrt(de * de + dn * dn);
        double s = fmod(u->phase * 2 * len + u->speed * t / 1000.0, 2 * len);
        double k = s < len ? s / len : 2.0 - s / len;
        *e = f->ae + de * k;
        *n = f->an + dn * k;
        *course = s < len ? bearing_deg(de, dn) : bearing_deg(-de, -dn);
    }
}

/* 1e-7 degrees is about a centimetre: more digits would only be noise on the wire. */
static double round7(double deg)
{
    return round(deg * 1e7) / 1e7;
}

static void build_detail(struct sim *s, const struct unit *u, double course)
{
    const char *cs = u->ev.callsign;
    bool lead = strcmp(cs + strlen(cs) - 2, "-1") == 0;

    kz_sbuf_reset(&s->detail);
    kz_sbuf_adds(&s->detail, "<contact callsign=\"");
    kz_sbuf_add_xml(&s->detail, cs, strlen(cs));
    kz_sbuf_addf(&s->detail,
                 "\" endpoint=\"*:-1:stcp\"/><__group name=\"%s\" role=\"%s\"/>"
                 "<track course=\"%.1f\" speed=\"%.1f\"/>"
                 "<takv platform=\"kizuna-sim\" version=\"%s\" device=\"simulator\" os=\"%s\"/>"
                 "<uid Droid=\"",
                 u->force->team, lead ? "Team Lead" : "Team Member", course, u->speed, KZ_VERSION,
                 "linux");
    kz_sbuf_add_xml(&s->detail, cs, strlen(cs));
    kz_sbuf_adds(&s->detail, "\"/>");
}

static void unit_report(struct sim *s, struct unit *u, int64_t mono_now)
{
    double e, n, course, t = (double)(mono_now - s->t0) / 1e6;
    /* Whole milliseconds, as TAK clients write their times. */
    int64_t now = kz_now_us() / 1000 * 1000;
    int64_t life = 3 * s->period > MIN_STALE_US ? 3 * s->period : MIN_STALE_US;
    bool air = u->force->hae > 100 && u->force->hae != KZ_POINT_UNKNOWN;

    unit_place(u, t, &e, &n, &course);
    u->ev.time = u->ev.start = now;
    u->ev.stale = now + life;
    u->ev.lat = round7(u->base->lat + n / KM_PER_DEG);
    u->ev.lon = round7(u->base->lon + e / (KM_PER_DEG * cos(u->ev.lat * M_PI / 180.0)));
    u->ev.hae = u->force->hae;
    u->ev.ce = air ? 50.0 : 10.0;
    u->ev.le = air ? 50.0 : KZ_POINT_UNKNOWN;
    build_detail(s, u, course);
    free(u->ev.detail);
    u->ev.detail = kz_sbuf_detach(&s->detail, &u->ev.detail_len);
    kz_cot_encode_xml(&u->ev, &s->batch);
}

static void disconnect(struct sim *s, const char *why)
{
    fprintf(stderr, "kizuna sim: connection lost (%s); reconnecting\n", why);
    close(s->fd);
    s->fd = -1;
    s->backoff = kz__cli_backoff_next(0);
    s->reconnect_at = kz_mono_us() + (int64_t)s->backoff * 1000;
}

static void try_connect(struct sim *s)
{
    char err[512];

    if (kz__cli_connect(&s->srv, &s->fd, err, sizeof(err)) == KZ_OK) {
        fprintf(stderr, "kizuna sim: connected to %s:%s\n", s->srv.host, s->srv.port);
        s->ever_connected = true;
        s->backoff = 0;
        return;
    }
    s->backoff = kz__cli_backoff_next(s->backoff);
    s->reconnect_at = kz_mono_us() + (int64_t)s->backoff * 1000;
    if (!kz__cli_stop)
        fprintf(stderr, "kizuna sim: %s; retrying in %d ms\n", err, s->backoff);
}

/* Queue a report for every unit that is due; returns how many. */
static unsigned report_due(struct sim *s, int64_t now)
{
    unsigned count = 0;

    for (unsigned i = 0; i < s->n_units; i++) {
        struct unit *u = &s->units[i];
        if (u->due > now)
            continue;
        if (s->fd >= 0) {
            unit_report(s, u, now);
            count++;
        }
        /* After a stall, skip missed reports instead of sending a burst. */
        u->due += s->period;
        if (u->due <= now)
            u->due = now + s->period;
    }
    return count;
}

static void flush_batch(struct sim *s, unsigned count)
{
    if (s->fd < 0 || s->batch.len == 0)
        return;
    if (kz__cli_write_all(s->fd, s->batch.buf, s->batch.len) == KZ_OK)
        s->sent += count;
    else if (!kz__cli_stop)
        disconnect(s, strerror(errno));
    kz_sbuf_reset(&s->batch);
}

/* Read and drop whatever the server sent; notice when it closed. */
static void drain(struct sim *s)
{
    char sink[16384];
    ssize_t n = read(s->fd, sink, sizeof(sink));

    if (n == 0)
        disconnect(s, "closed by server");
    else if (n < 0 && errno != EINTR && errno != EAGAIN)
        disconnect(s, strerror(errno));
}

static int64_t next_wake(const struct sim *s, int64_t now, int64_t next_progress, int64_t end)
{
    int64_t wake = next_progress;

    for (unsigned i = 0; i < s->n_units; i++)
        if (s->units[i].due < wake)
            wake = s->units[i].due;
    if (s->fd < 0 && s->reconnect_at < wake)
        wake = s->reconnect_at;
    if (end > 0 && end < wake)
        wake = end;
    return wake > now ? wake : now;
}

static void run(struct sim *s)
{
    int64_t end = s->duration > 0 ? s->t0 + (int64_t)(s->duration * 1e6) : 0;
    int64_t next_progress = s->t0 + PROGRESS_US;

    while (!kz__cli_stop) {
        int64_t now = kz_mono_us(), wake;
        int timeout;

        if (end > 0 && now >= end)
            break;
        if (s->fd < 0 && now >= s->reconnect_at)
            try_connect(s);
        flush_batch(s, report_due(s, now));
        if (now >= next_progress) {
            fprintf(stderr, "kizuna sim: %llu events sent\n", (unsigned long long)s->sent);
            next_progress += PROGRESS_US;
        }
        wake = next_wake(s, kz_mono_us(), next_progress, end);
        timeout = (int)((wake - kz_mono_us() + 999) / 1000);
        timeout = timeout < 0 ? 0 : timeout > 200 ? 200 : timeout;
        if (s->fd < 0)
            kz__cli_sleep_ms(timeout);
        else if (kz__cli_wait_readable(s->fd, timeout) > 0)
            drain(s);
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kizuna sim [-s HOST:PORT] [-n UNITS] [-r HZ] [--duration S] [--seed N]\n"
            "\n"
            "Simulate allied units (US forces in Japan, JGSDF, JMSDF, JASDF and the AFP)\n"
            "moving around their bases and send their positions to a kizuna server.\n"
            "\n"
            "  -s, --server HOST:PORT   server to send to (default %s)\n"
            "  -n, --units N            number of units, 1..%d (default 12)\n"
            "  -r, --rate HZ            reports per second per unit, up to %g (default 1)\n"
            "  -d, --duration S         stop after S seconds (default: run until Ctrl-C)\n"
            "      --seed N             seed for the units' starting positions\n"
            "  -h, --help               show this help\n",
            KZ_CLI_DEFAULT_SERVER, MAX_UNITS, MAX_HZ);
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0' && *out >= lo && *out <= hi;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;

    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

static bool apply_opt(struct sim *s, int ch, const char *arg)
{
    double v;

    switch (ch) {
    case 's':
        return kz__cli_parse_server(arg, &s->srv) == KZ_OK;
    case 'n':
        if (!parse_double(arg, 1, MAX_UNITS, &v) || v != floor(v))
            return false;
        s->n_units = (unsigned)v;
        return true;
    case 'r':
        return parse_double(arg, 1e-3, MAX_HZ, &s->hz);
    case 'd':
        return parse_double(arg, 0, 1e9, &s->duration);
    case 'S':
        return parse_u64(arg, &s->rng);
    default:
        return false;
    }
}

static int parse_args(int argc, char **argv, struct sim *s)
{
    static const struct option opts[] = {
        {"server", required_argument, NULL, 's'},
        {"units", required_argument, NULL, 'n'},
        {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:n:r:d:h", opts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return 0;
        }
        if (!apply_opt(s, ch, optarg)) {
            fprintf(stderr, "kizuna sim: bad option or value '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kizuna sim: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

int kz_cmd_sim(int argc, char **argv)
{
    struct sim s = {
        .n_units = 12, .hz = 1.0, .fd = -1, .batch = KZ_SBUF_INIT, .detail = KZ_SBUF_INIT};
    int rc;

    kz__cli_parse_server(KZ_CLI_DEFAULT_SERVER, &s.srv);
    s.rng = (uint64_t)kz_now_us() ^ ((uint64_t)getpid() << 32);
    rc = parse_args(argc, argv, &s);
    if (rc >= 0)
        return rc;
    kz__cli_signals();
    s.t0 = kz_mono_us();
    s.period = (int64_t)(1e6 / s.hz);
    s.reconnect_at = s.t0;
    s.units = kz_xcalloc(s.n_units, sizeof(*s.units));
    for (unsigned i = 0; i < s.n_units; i++)
        unit_init(&s, &s.units[i], i);
    run(&s);
    if (s.fd >= 0) {
        kz__cli_finish(s.fd, 1000);
        close(s.fd);
    }
    fprintf(stderr, "kizuna sim: %llu events sent\n", (unsigned long long)s.sent);
    for (unsigned i = 0; i < s.n_units; i++)
        kz_event_clear(&s.units[i].ev);
    free(s.units);
    kz_sbuf_release(&s.batch);
    kz_sbuf_release(&s.detail);
    return s.ever_connected || kz__cli_stop ? 0 : 1;
}
