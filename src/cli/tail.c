/*
 * tail.c - `kizuna tail`: print every event a server sends, one per line,
 * as canonical CoT XML or as GeoJSON Features (--json).  Reconnects with
 * backoff when the server goes away; SIGINT/SIGTERM end it with status 0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cot/cot.h"

struct tail_ctx {
    struct kz_cot_decoder *dec;
    struct kz_framer fr;
    struct kz_sbuf line;
    size_t max_event;
    bool json;
    bool out_failed; /* stdout is gone: stop */
    int out_errno;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kizuna tail [-s HOST:PORT] [--json]\n"
            "\n"
            "Connect to a kizuna server and print every CoT event it sends, one per\n"
            "line: canonical XML, or a GeoJSON Feature with --json.  Reconnects when\n"
            "the server goes away; Ctrl-C stops.\n"
            "\n"
            "  -s, --server HOST:PORT   server to read from (default %s)\n"
            "  -j, --json               print GeoJSON Features instead of XML\n"
            "  -h, --help               show this help\n",
            KZ_CLI_DEFAULT_SERVER);
}

/*
 * One event per line: line breaks become spaces.  That keeps the XML
 * well-formed wherever they occur (inside tags, between elements, and in
 * attribute values, which XML normalises to spaces anyway).
 */
static void one_line(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\n' || s[i] == '\r')
            s[i] = ' ';
}

static void print_event(struct tail_ctx *c, const struct kz_event *ev)
{
    const char *start;

    kz_sbuf_reset(&c->line);
    if (c->json)
        kz_cot_encode_json(ev, &c->line);
    else
        kz_cot_encode_xml(ev, &c->line);
    start = strstr(c->line.buf, "<event");
    if (c->json || start == NULL)
        start = c->line.buf;
    one_line((char *)start, c->line.len - (size_t)(start - c->line.buf));
    if (fputs(start, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
        c->out_failed = true;
        c->out_errno = errno;
    }
}

static void on_event(void *ud, const char *xml, size_t len)
{
    struct tail_ctx *c = ud;
    struct kz_event ev;
    enum kz_reject why;
    char err[256];

    kz_framer_note_ok(&c->fr);
    kz_event_init(&ev);
    if (kz_cot_decode(c->dec, xml, len, &ev, &why, err, sizeof(err)) == KZ_OK)
        print_event(c, &ev);
    else
        fprintf(stderr, "kizuna tail: skipped an event that does not decode (%s): %s\n",
                kz_reject_name(why), err);
    kz_event_clear(&ev);
}

static void on_reject(void *ud, enum kz_reject why, const char *detail)
{
    KZ_UNUSED(ud);
    fprintf(stderr, "kizuna tail: skipped bytes from the server (%s): %s\n", kz_reject_name(why),
            detail);
}

/* Read until the server closes, an error, a stop signal or stdout fails. */
static void stream(struct tail_ctx *c, int fd)
{
    char buf[65536];

    kz_framer_init(&c->fr, c->max_event);
    while (!kz__cli_stop && !c->out_failed) {
        int ready = kz__cli_wait_readable(fd, 200);
        ssize_t n;

        if (ready < 0)
            break;
        if (ready == 0)
            continue;
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "kizuna tail: connection closed%s%s\n", n < 0 ? ": " : "",
                    n < 0 ? strerror(errno) : "");
            break;
        }
        if (kz_framer_feed(&c->fr, buf, (size_t)n, on_event, on_reject, c) != KZ_OK)
            break;
    }
    kz_framer_release(&c->fr);
}

static void run(struct tail_ctx *c, const struct kz_cli_server *srv)
{
    int delay = 0;
    char err[512];

    while (!kz__cli_stop && !c->out_failed) {
        int fd;

        if (kz__cli_connect(srv, &fd, err, sizeof(err)) != KZ_OK) {
            if (kz__cli_stop)
                break;
            delay = kz__cli_backoff_next(delay);
            fprintf(stderr, "kizuna tail: %s; retrying in %d ms\n", err, delay);
            kz__cli_sleep_ms(delay);
            continue;
        }
        delay = 0;
        fprintf(stderr, "kizuna tail: connected to %s:%s\n", srv->host, srv->port);
        stream(c, fd);
        close(fd);
        if (!kz__cli_stop && !c->out_failed)
            kz__cli_sleep_ms(kz__cli_backoff_next(0));
    }
}

static int parse_args(int argc, char **argv, struct kz_cli_server *srv, bool *json)
{
    static const struct option opts[] = {
        {"server", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return 0;
        }
        if (ch == 'j') {
            *json = true;
            continue;
        }
        if (ch != 's' || kz__cli_parse_server(optarg, srv) != KZ_OK) {
            fprintf(stderr, "kizuna tail: bad option or value '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kizuna tail: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

int kz_cmd_tail(int argc, char **argv)
{
    struct kz_cli_server srv;
    struct kz_cot_limits lim;
    struct tail_ctx c = {.line = KZ_SBUF_INIT};
    int rc;

    kz__cli_parse_server(KZ_CLI_DEFAULT_SERVER, &srv);
    rc = parse_args(argc, argv, &srv, &c.json);
    if (rc >= 0)
        return rc;
    kz__cli_signals();
    kz_cot_limits_default(&lim);
    /* The server may relay events up to its own limit; accept up to 8 MiB
     * (the TAK per-message ceiling) rather than guess its configuration. */
    lim.max_event_bytes = 8u << 20;
    c.max_event = lim.max_event_bytes;
    c.dec = kz_cot_decoder_new(&lim);
    run(&c, &srv);
    kz_cot_decoder_free(c.dec);
    kz_sbuf_release(&c.line);
    /* A closed stdout (tail | head) is a normal way to stop reading. */
    if (!c.out_failed || c.out_errno == EPIPE)
        return 0;
    fprintf(stderr, "kizuna tail: write to stdout failed: %s\n", strerror(c.out_errno));
    return 1;
}
