/*
 * fed.c - `kizuna fed status`: a small HTTP client of GET
 * /api/v1/federation printing each federation peer's link state and
 * counters, as a table or as the server's JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/client.h"

#define DEFAULT_HTTP "127.0.0.1:8080"

static void usage(FILE *out)
{
    fprintf(out, "usage: kizuna fed status [-s HOST:PORT] [--json]\n"
                 "\n"
                 "  -s, --server HOST:PORT   the server's HTTP input (default " DEFAULT_HTTP ")\n"
                 "  --json                   print the server's JSON as it came\n"
                 "\n"
                 "Prints every federation peer: its state (up, connecting or down), protocol,\n"
                 "the time of its last state change and the events sent, received, denied,\n"
                 "duplicate and queued.  Exit 0 on success, 1 when the server refuses or\n"
                 "cannot be reached, 2 on usage errors.\n");
}

static long long num(json_t *p, const char *key)
{
    return json_integer_value(json_object_get(p, key));
}

static const char *str(json_t *p, const char *key)
{
    const char *s = json_string_value(json_object_get(p, key));
    return s ? s : "-";
}

static int print_table(const char *body, size_t len)
{
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je), *peers = json_object_get(o, "peers"), *p;
    size_t i;

    if (!json_is_array(peers)) {
        fprintf(stderr, "kizuna fed: the server's answer has no peers list\n");
        json_decref(o);
        return 1;
    }
    printf("%-20s %-11s %-5s %-20s %10s %10s %8s %10s %8s\n", "PEER", "STATE", "PROTO", "SINCE",
           "SENT", "RECEIVED", "DENIED", "DUPLICATES", "QUEUED");
    json_array_foreach(peers, i, p)
    {
        printf("%-20s %-11s %-5s %-20s %10lld %10lld %8lld %10lld %8lld\n", str(p, "name"),
               str(p, "state"), str(p, "protocol"), str(p, "since"), num(p, "sent"),
               num(p, "received"), num(p, "denied"), num(p, "duplicates"), num(p, "queued"));
    }
    json_decref(o);
    return 0;
}

static int status(const struct kz_cli_server *srv, bool as_json)
{
    struct kz_http_reply reply = {0};
    int rc = kz__cli_http(srv, "fed", "GET", "/api/v1/federation", NULL, &reply);
    bool ok = rc == KZ_OK && reply.status / 100 == 2;

    if (rc == KZ_OK && !ok)
        fwrite(reply.body.buf, 1, reply.body.len, stderr);
    else if (ok && as_json)
        printf("%.*s\n", (int)reply.body.len, reply.body.buf);
    else if (ok)
        ok = print_table(reply.body.buf, reply.body.len) == 0;
    kz_http_reply_release(&reply);
    return ok ? 0 : 1;
}

int kz_cmd_fed(int argc, char **argv)
{
    enum { OPT_JSON = 256 };
    static const struct option lo[] = {
        {"server", required_argument, NULL, 's'},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct kz_cli_server srv;
    const char *server = DEFAULT_HTTP;
    bool as_json = false;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "s:h", lo, NULL)) != -1) {
        if (c == 's') {
            server = optarg;
        } else if (c == OPT_JSON) {
            as_json = true;
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (argc - optind != 1 || strcmp(argv[optind], "status") != 0 ||
        kz__cli_parse_server(server, &srv) != KZ_OK) {
        usage(stderr);
        return 2;
    }
    kz__cli_signals();
    return status(&srv, as_json);
}
