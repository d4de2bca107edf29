/*
 * readiness.c - `kizuna readiness report|list|history|rollup`: a small
 * HTTP client of /api/v1/readiness.  What comes back is what the server's
 * release rule lets the input's identity see.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/client.h"

#define DEFAULT_HTTP "127.0.0.1:8080"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kizuna readiness report UNIT P S R T [--remarks TEXT] [--label BANNER]\n"
            "                                [--time ISO]\n"
            "                                [--overall N --reason-code CODE --reason TEXT]\n"
            "       kizuna readiness list [UNIT]\n"
            "       kizuna readiness history UNIT\n"
            "       kizuna readiness rollup COMMAND\n"
            "\n"
            "  -s, --server HOST:PORT   the server's HTTP input (default " DEFAULT_HTTP ")\n"
            "\n"
            "P, S, R, T: personnel, equipment on hand, equipment condition, training, 1 (best)\n"
            "to 5, or 6 (not measured); overall is the worst measured area.  An --overall\n"
            "that differs needs --reason-code (P, S, R, T, MISSION, OTHER) and --reason, and\n"
            "may not be 5.  Without --label a report is SECRET//NOFORN: releasable\n"
            "to the reporter's nation only.  Prints the server's JSON; exit 0 on success,\n"
            "1 when the server refuses or cannot be reached, 2 on usage errors.\n");
}

static int run(const struct kz_cli_server *srv, const char *method, const char *path,
               const char *body)
{
    struct kz_http_reply reply = {0};
    int rc = kz__cli_http(srv, "readiness", method, path, body, &reply);
    bool ok = rc == KZ_OK && reply.status / 100 == 2;

    if (rc == KZ_OK && reply.body.len)
        fwrite(reply.body.buf, 1, reply.body.len, ok ? stdout : stderr);
    kz_http_reply_release(&reply);
    return ok ? 0 : 1;
}

/* Percent-encode a query value (ids are plain, but do not trust argv). */
static void add_param(struct kz_sbuf *sb, const char *v)
{
    for (; *v; v++) {
        unsigned char ch = (unsigned char)*v;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            strchr("-_.~", ch))
            kz_sbuf_add(sb, v, 1);
        else
            kz_sbuf_addf(sb, "%%%02X", ch);
    }
}

/* 1..max from one digit, else -1. */
static int level(const char *s, char max)
{
    return s[0] >= '1' && s[0] <= max && s[1] == '\0' ? s[0] - '0' : -1;
}

struct report_opts {
    const char *remarks, *label, *time, *reason, *reason_code;
    int overall;
};

static int report(const struct kz_cli_server *srv, char **argv, const struct report_opts *o)
{
    static const char *const keys[] = {"p", "s", "r", "t"};
    json_t *body = json_object();
    int rc;

    json_object_set_new(body, "unit", json_string(argv[0]));
    for (int i = 0; i < 4; i++) {
        int lv = level(argv[1 + i], '6');
        if (lv < 0) {
            fprintf(stderr, "kizuna readiness: %s must be 1..6\n", keys[i]);
            json_decref(body);
            return 2;
        }
        json_object_set_new(body, keys[i], json_integer(lv));
    }
    if (o->remarks)
        json_object_set_new(body, "remarks", json_string(o->remarks));
    if (o->label)
        json_object_set_new(body, "label", json_string(o->label));
    if (o->time)
        json_object_set_new(body, "time", json_string(o->time));
    if (o->overall > 0)
        json_object_set_new(body, "overall", json_integer(o->overall));
    if (o->reason)
        json_object_set_new(body, "override_reason", json_string(o->reason));
    if (o->reason_code)
        json_object_set_new(body, "reason_code", json_string(o->reason_code));
    char *s = json_dumps(body, JSON_COMPACT);
    rc = run(srv, "POST", "/api/v1/readiness", s);
    free(s);
    json_decref(body);
    return rc;
}

static int query(const struct kz_cli_server *srv, const char *sub, int argc, char **argv)
{
    struct kz_sbuf p = KZ_SBUF_INIT;
    int rc = 2;

    if (strcmp(sub, "list") == 0 && argc <= 1) {
        kz_sbuf_adds(&p, "/api/v1/readiness");
        if (argc == 1) {
            kz_sbuf_adds(&p, "?unit=");
            add_param(&p, argv[0]);
        }
    } else if (strcmp(sub, "history") == 0 && argc == 1) {
        kz_sbuf_adds(&p, "/api/v1/readiness?history=1&unit=");
        add_param(&p, argv[0]);
    } else if (strcmp(sub, "rollup") == 0 && argc == 1) {
        kz_sbuf_adds(&p, "/api/v1/readiness/rollup?command=");
        add_param(&p, argv[0]);
    } else {
        usage(stderr);
        return 2;
    }
    rc = run(srv, "GET", p.buf, NULL);
    kz_sbuf_release(&p);
    return rc;
}

int kz_cmd_readiness(int argc, char **argv)
{
    enum { OPT_REMARKS = 256, OPT_LABEL, OPT_TIME, OPT_OVERALL, OPT_REASON, OPT_CODE };
    static const struct option lo[] = {
        {"server", required_argument, NULL, 's'},
        {"remarks", required_argument, NULL, OPT_REMARKS},
        {"label", required_argument, NULL, OPT_LABEL},
        {"time", required_argument, NULL, OPT_TIME},
        {"overall", required_argument, NULL, OPT_OVERALL},
        {"reason", required_argument, NULL, OPT_REASON},
        {"reason-code", required_argument, NULL, OPT_CODE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct report_opts ro = {0};
    struct kz_cli_server srv;
    const char *server = DEFAULT_HTTP;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "s:h", lo, NULL)) != -1) {
        switch (c) {
        case 's':
            server = optarg;
            break;
        case OPT_REMARKS:
            ro.remarks = optarg;
            break;
        case OPT_LABEL:
            ro.label = optarg;
            break;
        case OPT_TIME:
            ro.time = optarg;
            break;
        case OPT_OVERALL:
            ro.overall = level(optarg, '5');
            break;
        case OPT_REASON:
            ro.reason = optarg;
            break;
        case OPT_CODE:
            ro.reason_code = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc || kz__cli_parse_server(server, &srv) != KZ_OK) {
        usage(stderr);
        return 2;
    }
    kz__cli_signals();
    const char *sub = argv[optind++];
    if (strcmp(sub, "report") == 0) {
        if (argc - optind != 5) {
            usage(stderr);
            return 2;
        }
        return report(&srv, argv + optind, &ro);
    }
    return query(&srv, sub, argc - optind, argv + optind);
}
