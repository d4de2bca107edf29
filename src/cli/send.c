/*
 * send.c - `kizuna send`: validate CoT events from a file or stdin and send
 * them to a server over plain TCP.
 *
 * All-or-nothing: every event is decoded before anything is sent, so a
 * file with one bad event never leaves half of its events on the server.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cot/cot.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define DRAIN_TIMEOUT_MS 5000

struct send_ctx {
    struct kz_cot_decoder *dec;
    struct kz_framer *fr;
    struct kz_sbuf wire; /* every valid event, ready to write */
    unsigned n_events;   /* events seen, valid or not (1-based index) */
    unsigned n_bad;      /* events and junk runs rejected */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kizuna send [-s HOST:PORT] [FILE|-]\n"
            "\n"
            "Read CoT XML events (one or many, any whitespace between) from FILE or\n"
            "stdin, check every one, and send them to a kizuna server over TCP.\n"
            "If any event is invalid nothing is sent.\n"
            "\n"
            "  -s, --server HOST:PORT   server to send to (default %s)\n"
            "  -h, --help               show this help\n"
            "\n"
            "Exit status: 0 sent, 1 invalid input or network error, 2 usage.\n",
            KZ_CLI_DEFAULT_SERVER);
}

static void on_event(void *ud, const char *xml, size_t len)
{
    struct send_ctx *c = ud;
    struct kz_event ev;
    enum kz_reject why;
    char err[256];

    c->n_events++;
    /* send reports every bad event itself instead of giving up after a run
     * of them, so the framer's strike count is never allowed to build up. */
    kz_framer_note_ok(c->fr);
    kz_event_init(&ev);
    if (kz_cot_decode(c->dec, xml, len, &ev, &why, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna send: event %u is invalid (%s): %s\n", c->n_events,
                kz_reject_name(why), err);
        c->n_bad++;
    } else {
        kz_sbuf_adds(&c->wire, XML_DECL);
        kz_sbuf_add(&c->wire, xml, len);
    }
    kz_event_clear(&ev);
}

static void on_reject(void *ud, enum kz_reject why, const char *detail)
{
    struct send_ctx *c = ud;

    kz_framer_note_ok(c->fr);
    if (why == KZ_REJ_TOO_BIG)
        c->n_events++;
    fprintf(stderr, "kizuna send: %s at event %u (%s): %s\n",
            why == KZ_REJ_TOO_BIG ? "oversized event" : "bad input", c->n_events + 1,
            kz_reject_name(why), detail);
    c->n_bad++;
}

static bool only_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Feed the whole input through the framer; returns KZ_OK or KZ_ERR_IO. */
static int read_events(FILE *in, const char *name, size_t max_event, struct send_ctx *c)
{
    struct kz_framer fr;
    char chunk[16384];
    size_t n;

    kz_framer_init(&fr, max_event);
    c->fr = &fr;
    while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
        kz_framer_feed(&fr, chunk, n, on_event, on_reject, c);
    if (!only_space(fr.buf, fr.len)) {
        fprintf(stderr, "kizuna send: event %u is incomplete at end of input\n", c->n_events + 1);
        c->n_bad++;
    }
    kz_framer_release(&fr);
    c->fr = NULL;
    if (ferror(in)) {
        fprintf(stderr, "kizuna send: read %s: %s\n", name, strerror(errno));
        return KZ_ERR_IO;
    }
    return KZ_OK;
}

static int deliver(const struct kz_cli_server *srv, const struct send_ctx *c)
{
    char err[512];
    int fd;

    if (kz__cli_connect(srv, &fd, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna send: %s\n", err);
        return 1;
    }
    if (kz__cli_write_all(fd, c->wire.buf, c->wire.len) != KZ_OK) {
        fprintf(stderr, "kizuna send: write to %s:%s failed: %s\n", srv->host, srv->port,
                strerror(errno));
        close(fd);
        return 1;
    }
    kz__cli_finish(fd, DRAIN_TIMEOUT_MS);
    close(fd);
    fprintf(stderr, "sent %u events\n", c->n_events);
    return 0;
}

static int parse_args(int argc, char **argv, struct kz_cli_server *srv, const char **path)
{
    static const struct option opts[] = {
        {"server", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return 0;
        }
        if (ch != 's' || kz__cli_parse_server(optarg, srv) != KZ_OK) {
            fprintf(stderr, "kizuna send: bad option or value '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "kizuna send: at most one input file\n");
        usage(stderr);
        return 2;
    }
    *path = optind < argc ? argv[optind] : "-";
    return -1;
}

int kz_cmd_send(int argc, char **argv)
{
    struct kz_cli_server srv;
    struct kz_cot_limits lim;
    struct send_ctx c = {.wire = KZ_SBUF_INIT};
    const char *path;
    FILE *in;
    int rc;

    kz__cli_parse_server(KZ_CLI_DEFAULT_SERVER, &srv);
    rc = parse_args(argc, argv, &srv, &path);
    if (rc >= 0)
        return rc;
    kz__cli_signals();
    in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (in == NULL) {
        fprintf(stderr, "kizuna send: open %s: %s\n", path, strerror(errno));
        return 1;
    }
    kz_cot_limits_default(&lim);
    c.dec = kz_cot_decoder_new(&lim);
    rc = read_events(in, path, lim.max_event_bytes, &c) == KZ_OK ? 0 : 1;
    if (in != stdin)
        fclose(in);
    if (rc == 0 && c.n_bad > 0) {
        fprintf(stderr, "kizuna send: %u problem(s) in the input; nothing sent\n", c.n_bad);
        rc = 1;
    } else if (rc == 0 && c.n_events > 0) {
        rc = deliver(&srv, &c);
    } else if (rc == 0) {
        fprintf(stderr, "sent 0 events\n");
    }
    kz_cot_decoder_free(c.dec);
    kz_sbuf_release(&c.wire);
    return rc;
}
