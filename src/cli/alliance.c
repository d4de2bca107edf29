/*
 * alliance.c - `kizuna alliance check|show|chain|can-task|counterpart|
 * forums|path`: the alliance model from the command line.  Text for
 * people, --json for scripts (the same objects as the REST API).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "alliance/alliance.h"
#include "cli/cli.h"

#define DEFAULT_FILE "config/alliance/us-japan.yaml"

struct opts {
    const char *file;
    const char *config;
    const char *at;
    const char *hub;
    const char *via;
    bool json, compare;
    unsigned routes;
    int32_t day;
    int64_t t0;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kizuna alliance check FILE...\n"
            "       kizuna alliance show [--at DATE]\n"
            "       kizuna alliance chain UNIT [--at DATE]\n"
            "       kizuna alliance can-task A B [--at DATE]\n"
            "       kizuna alliance counterpart UNIT [--at DATE]\n"
            "       kizuna alliance forums [--at DATE]\n"
            "       kizuna alliance path FROM TO [--at TIME] [--routes N] [--via ID]\n"
            "       kizuna alliance path --compare-topology [--at TIME] [--hub ID]\n"
            "\n"
            "  -f, --file FILE   alliance model (default " DEFAULT_FILE ")\n"
            "  -c, --config FILE parse labels under the marking policy of this server\n"
            "                    configuration (its labels: section; default built-in)\n"
            "  --at DATE|TIME    YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss](Z|+hh:mm) for path;\n"
            "                    default now\n"
            "  --json            print JSON (what /api/v1/alliance/... returns)\n"
            "\n"
            "check prints every problem as FILE:LINE: message and exits 2 when there is one.\n");
}

/* YYYY-MM-DD[Thh:mm[:ss]](Z|+hh:mm|-hh:mm) -> UTC seconds; a bare date is 00:00Z. */
static int parse_at(const char *s, int64_t *out)
{
    int32_t day;
    unsigned h = 0, m = 0, sec = 0, oh = 0, om = 0;
    int n = 0, sign = 1;

    if (kz_day_parse(s, &day) != KZ_OK)
        return KZ_ERR_PARSE;
    s += 10;
    if (*s == 'T') {
        if (sscanf(s, "T%2u:%2u%n", &h, &m, &n) != 2 || h > 23 || m > 59)
            return KZ_ERR_PARSE;
        s += n;
        if (*s == ':' && (sscanf(s, ":%2u%n", &sec, &n) != 1 || sec > 59 || (s += n, false)))
            return KZ_ERR_PARSE;
        if (*s == 'Z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            sign = *s == '-' ? -1 : 1;
            if (sscanf(s + 1, "%2u:%2u%n", &oh, &om, &n) != 2 || oh > 14 || om > 59)
                return KZ_ERR_PARSE;
            s += 1 + n;
        } else {
            return KZ_ERR_PARSE;
        }
    }
    if (*s)
        return KZ_ERR_PARSE;
    *out = (int64_t)day * 86400 + h * 3600 + m * 60 + sec - sign * (int64_t)(oh * 3600 + om * 60);
    return KZ_OK;
}

static int cmd_check(int argc, char **argv, const struct kz_label_policy *p)
{
    int rc = 0;

    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
        struct kz_alliance *a = NULL;
        int err = kz_alliance_load(argv[i], p, &a, &d);
        if (err == KZ_OK) {
            printf("%s: ok (%u nations, %u commands, %u relationships, %u forums)\n", argv[i],
                   a->n_nations, a->n_commands, a->n_relations, a->n_forums);
        } else {
            fputs(d.text.buf ? d.text.buf : "", stdout);
            fprintf(stderr, "%s: %u problem%s\n", argv[i], d.count, d.count == 1 ? "" : "s");
            rc = err == KZ_ERR_IO ? (rc ? rc : 1) : 2;
        }
        kz_alliance_free(a);
        kz_alliance_diag_release(&d);
    }
    return rc;
}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
    puts(s);
    free(s);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ---- text output -------------------------------------------------------------- */

static void text_chain(json_t *o)
{
    json_t *u = json_object_get(o, "unit"), *chains = json_object_get(o, "chains"), *arr;
    const char *type;

    printf("%s (%s) on %s%s%s\n", str(u, "id"), str(u, "name"), str(o, "date"),
           *str(u, "phase") ? ", phase: " : "", str(u, "phase"));
    json_object_foreach(chains, type, arr)
    {
        size_t i;
        json_t *r;
        printf("  %-10s", type);
        if (json_array_size(arr) == 0)
            printf(" (none)");
        json_array_foreach(arr, i, r) printf(" %s %s", i ? "<-" : "<-", str(r, "from"));
        putchar('\n');
    }
}

static void text_can_task(json_t *o)
{
    size_t i;
    json_t *r;

    printf("%s %s task %s on %s\n", str(o, "from"),
           json_is_true(json_object_get(o, "allowed")) ? "MAY" : "may NOT", str(o, "to"),
           str(o, "date"));
    json_array_foreach(json_object_get(o, "path"), i, r) printf(
        "  %s %s over %s%s%s%s\n", str(r, "from"), str(r, "type"), str(r, "to"),
        *str(r, "directive") ? "  (" : "", str(r, "directive"), *str(r, "directive") ? ")" : "");
    if (*str(o, "reason"))
        printf("  why not: %s\n", str(o, "reason"));
}

static void text_path(json_t *o)
{
    size_t i, k;
    json_t *r, *h;

    printf("request %s -> %s%s%s, sent %s\n", str(o, "from"), str(o, "to"),
           *str(o, "via") ? " via " : "", str(o, "via"), str(o, "start_local"));
    json_array_foreach(json_object_get(o, "routes"), i, r)
    {
        json_int_t s = json_integer_value(json_object_get(r, "response_s"));
        printf("\nroute %zu: ", i + 1);
        json_array_foreach(json_object_get(r, "via"), k, h)
            printf("%s%s", k ? " -> " : "", json_string_value(h));
        printf("\n  %-16s %-16s %-27s %-27s %-27s %5s\n", "node", "link", "arrives (local)",
               "starts (local)", "done (local)", "wait");
        json_array_foreach(json_object_get(r, "hops"), k, h)
        {
            json_int_t w = json_integer_value(json_object_get(h, "wait_s"));
            printf("  %-16s %-16s %-27s %-27s %-27s %2lldh%02lld\n", str(h, "node"), str(h, "link"),
                   str(h, "arrive_local"), str(h, "start_local"), str(h, "done_local"),
                   (long long)(w / 3600), (long long)(w / 60 % 60));
        }
        printf("  answer back at %s: %s after %lldh%02lld\n", str(o, "from"),
               str(r, "answer_local"), (long long)(s / 3600), (long long)(s / 60 % 60));
    }
}

static void hm(const char *label, json_t *o, const char *key)
{
    json_int_t s = json_integer_value(json_object_get(o, key));
    printf(" %s %3lldh%02lld", label, (long long)(s / 3600), (long long)(s / 60 % 60));
}

static void text_compare(json_t *o)
{
    size_t i;
    json_t *p;

    printf("hub-and-spokes (all through %s) versus lattice (direct links), %s, from %s\n",
           str(o, "hub"), str(o, "samples"), str(o, "start"));
    json_array_foreach(json_object_get(o, "pairs"), i, p)
    {
        printf("  %-9s <-> %-9s", str(p, "a"), str(p, "b"));
        hm("hub mean", p, "hub_mean_s");
        hm("worst", p, "hub_worst_s");
        hm("| lattice mean", p, "lattice_mean_s");
        hm("worst", p, "lattice_worst_s");
        printf("%s\n", json_is_true(json_object_get(p, "direct_link_in_model"))
                           ? ""
                           : "  (no direct link in the model yet)");
    }
    printf("  %-23s", "all pairs");
    hm("hub mean", o, "hub_mean_s");
    hm("worst", o, "hub_worst_s");
    hm("| lattice mean", o, "lattice_mean_s");
    hm("worst", o, "lattice_worst_s");
    putchar('\n');
}

/* ---- dispatch ----------------------------------------------------------------- */

static int run_query(struct kz_alliance *a, const char *sub, int argc, char **argv, struct opts *o)
{
    json_t *out = NULL;
    int rc = KZ_OK;
    void (*text)(json_t *) = NULL;

    if (strcmp(sub, "show") == 0 && argc == 0) {
        out = kz_alliance_show(a, o->day, NULL);
    } else if (strcmp(sub, "forums") == 0 && argc == 0) {
        out = kz_alliance_forums(a, o->day, NULL);
    } else if (strcmp(sub, "chain") == 0 && argc == 1) {
        rc = kz_alliance_chain(a, argv[0], o->day, NULL, &out);
        text = text_chain;
    } else if (strcmp(sub, "counterpart") == 0 && argc == 1) {
        rc = kz_alliance_counterpart(a, argv[0], o->day, NULL, &out);
    } else if (strcmp(sub, "can-task") == 0 && argc == 2) {
        rc = kz_alliance_can_task(a, argv[0], argv[1], o->day, NULL, &out);
        text = text_can_task;
    } else if (strcmp(sub, "path") == 0 && o->compare && argc == 0) {
        rc = kz_alliance_compare_topology(a, o->hub, o->t0, &out);
        text = text_compare;
    } else if (strcmp(sub, "path") == 0 && argc == 2) {
        rc = kz_alliance_paths(a, argv[0], argv[1], o->via, o->t0, o->routes, &out);
        text = text_path;
    } else {
        usage(stderr);
        return 2;
    }
    if (rc != KZ_OK) {
        fprintf(stderr, "kizuna alliance %s: %s\n", sub,
                rc == KZ_ERR_NOTFOUND ? "unknown command id" : kz_strerror(rc));
        return 2;
    }
    if (o->json || !text)
        print_json(out);
    else
        text(out);
    json_decref(out);
    return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    enum { OPT_AT = 256, OPT_JSON, OPT_CMP, OPT_HUB, OPT_ROUTES, OPT_VIA };
    static const struct option lo[] = {
        {"file", required_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, OPT_AT},
        {"json", no_argument, NULL, OPT_JSON},
        {"compare-topology", no_argument, NULL, OPT_CMP},
        {"hub", required_argument, NULL, OPT_HUB},
        {"routes", required_argument, NULL, OPT_ROUTES},
        {"via", required_argument, NULL, OPT_VIA},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f:c:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->file = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case OPT_AT:
            o->at = optarg;
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_CMP:
            o->compare = true;
            break;
        case OPT_HUB:
            o->hub = optarg;
            break;
        case OPT_VIA:
            o->via = optarg;
            break;
        case OPT_ROUTES:
            o->routes = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    o->t0 = kz_now_us() / 1000000;
    if (o->at && parse_at(o->at, &o->t0) != KZ_OK) {
        fprintf(stderr, "kizuna alliance: bad --at '%s'\n", o->at);
        return 2;
    }
    if (o->routes < 1 || o->routes > 50) {
        fprintf(stderr, "kizuna alliance: --routes must be 1..50\n");
        return 2;
    }
    o->day = kz_day_of_us(o->t0 * 1000000);
    return 0;
}

int kz_cmd_alliance(int argc, char **argv)
{
    struct opts o = {.file = DEFAULT_FILE, .routes = 3};
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = NULL;
    int rc = parse_opts(argc, argv, &o);

    if (rc)
        return rc < 0 ? 0 : rc;
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[optind++];
    struct kz_label_policy policy;
    if ((rc = kz__cli_policy("alliance", o.config, &policy)) != 0)
        return rc;
    if (strcmp(sub, "check") == 0)
        return cmd_check(argc - optind, argv + optind, &policy);
    if (kz_alliance_load(o.file, &policy, &a, &d) != KZ_OK) {
        fputs(d.text.buf ? d.text.buf : "", stderr);
        kz_alliance_diag_release(&d);
        return 1;
    }
    rc = run_query(a, sub, argc - optind, argv + optind, &o);
    kz_alliance_free(a);
    kz_alliance_diag_release(&d);
    return rc;
}
