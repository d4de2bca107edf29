/*
 * serve.c - `kizuna serve`: parse the arguments, load the configuration,
 * then hand over to the server (src/server/) until SIGINT/SIGTERM.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "server/server.h"

struct serve_args {
    const char *cfg_path;
    const char *data_dir;
    const char *ports_file;
    const char *level;
    bool print;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kizuna serve [-c FILE] [--data DIR] [--ports-file FILE] [--print-config]\n"
            "\n"
            "  -c, --config FILE    configuration (YAML); built-in defaults when absent\n"
            "  -d, --data DIR       data directory for the store (default ./data)\n"
            "  --ports-file FILE    write {\"inputs\": {NAME: PORT}} once every input listens\n"
            "  --print-config       print the effective configuration and exit\n"
            "  --config-docs        print the table of configuration keys (Markdown)\n"
            "  --log-level LEVEL    debug, info, warn or error (overrides log.level)\n");
}

static int parse_args(int argc, char **argv, struct serve_args *a)
{
    enum { OPT_PORTS = 256, OPT_PRINT, OPT_LEVEL, OPT_DOCS };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"ports-file", required_argument, NULL, OPT_PORTS},
        {"print-config", no_argument, NULL, OPT_PRINT},
        {"log-level", required_argument, NULL, OPT_LEVEL},
        {"config-docs", no_argument, NULL, OPT_DOCS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->cfg_path = optarg;
            break;
        case 'd':
            a->data_dir = optarg;
            break;
        case OPT_PORTS:
            a->ports_file = optarg;
            break;
        case OPT_PRINT:
            a->print = true;
            break;
        case OPT_LEVEL:
            a->level = optarg;
            break;
        case OPT_DOCS:
            kz_config_print_docs(stdout);
            return -1;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "kizuna serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

static int load_config(const char *path, struct kz_config **cfg)
{
    char err[1024];

    *cfg = path ? (kz_config_load(path, cfg, err, sizeof(err)) ? NULL : *cfg)
                : kz_config_default(err, sizeof(err));
    if (!*cfg) {
        fprintf(stderr, "kizuna: %s\n", err);
        return KZ_ERR_CONFIG;
    }
    return KZ_OK;
}

int kz_cmd_serve(int argc, char **argv)
{
    struct serve_args a = {.data_dir = "data"};
    struct kz_server srv;
    struct kz_config *cfg;
    int rc = parse_args(argc, argv, &a);

    if (rc)
        return rc < 0 ? 0 : rc;
    if (load_config(a.cfg_path, &cfg) != KZ_OK)
        return 2;
    if (a.print) {
        kz_config_print(cfg, stdout);
        kz_config_free(cfg);
        return 0;
    }
    if (kz_log_level_parse(a.level ? a.level : cfg->log->level, &kz_log_min) != KZ_OK) {
        fprintf(stderr, "kizuna serve: bad log level '%s'\n", a.level);
        kz_config_free(cfg);
        return 2;
    }
    kz_server_init(&srv, cfg, a.cfg_path, a.data_dir, a.ports_file);
    srv.log_level_fixed = a.level != NULL;
    rc = kz_server_start(&srv);
    if (rc == KZ_OK)
        kz_server_run(&srv);
    kz_server_release(&srv);
    kz_log(KZ_LOG_INFO, "stopped", NULL);
    return rc == KZ_OK ? 0 : rc == KZ_ERR_CONFIG ? 2 : 1;
}
