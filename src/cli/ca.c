/* ca.c - `kizuna ca init`: the CA, an empty CRL and the server certificate. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: kizuna ca init [--dir DIR] [--data DATA] [--host H,...] [--org O]\n"
                 "                      [--rsa] [--force]\n"
                 "\n"
                 "Write DIR/ca.pem, ca.key (mode 0600), crl.pem and a server certificate\n"
                 "server.pem/server.key for the given host names and IP addresses.\n"
                 "  --dir DIR      PKI directory (default DATA/pki)\n"
                 "  --data DATA    data directory (default ./data)\n"
                 "  --host LIST    server names/addresses (default localhost,127.0.0.1)\n"
                 "  --org O        organisation (O=) in the CA and server subjects\n"
                 "  --rsa          RSA 3072 keys instead of EC P-256\n"
                 "  --force        replace an existing CA (every issued certificate dies)\n");
}

struct ca_args {
    const char *dir, *data, *hosts, *org;
    bool rsa, force;
};

/* 0 to go on, else the exit code (-1: help printed, exit 0). */
static int parse_args(int argc, char **argv, struct ca_args *a)
{
    enum { OPT_DIR = 300, OPT_DATA, OPT_HOST, OPT_ORG, OPT_RSA, OPT_FORCE };
    static const struct option opts[] = {
        {"dir", required_argument, NULL, OPT_DIR},
        {"data", required_argument, NULL, OPT_DATA},
        {"host", required_argument, NULL, OPT_HOST},
        {"org", required_argument, NULL, OPT_ORG},
        {"rsa", no_argument, NULL, OPT_RSA},
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DIR:
            a->dir = optarg;
            break;
        case OPT_DATA:
            a->data = optarg;
            break;
        case OPT_HOST:
            a->hosts = optarg;
            break;
        case OPT_ORG:
            a->org = optarg;
            break;
        case OPT_RSA:
            a->rsa = true;
            break;
        case OPT_FORCE:
            a->force = true;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    return 0;
}

int kz_cmd_ca(int argc, char **argv)
{
    struct ca_args a = {.data = "data", .hosts = "localhost,127.0.0.1"};
    char dirbuf[512], err[512];
    int rc;

    if (argc < 2 || strcmp(argv[1], "init") != 0) {
        bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    if ((rc = parse_args(argc - 1, argv + 1, &a)) != 0)
        return rc < 0 ? 0 : rc;
    if (!a.dir) {
        snprintf(dirbuf, sizeof(dirbuf), "%s/pki", a.data);
        a.dir = dirbuf;
    }
    /* Creates DATA and the users table, so `cert issue` can record users. */
    struct kz_userdb *db = NULL;
    if (kz__cli_userdb_open("ca init", NULL, a.data, &db) != 0)
        return 1;
    kz_userdb_close(db);
    rc = kz_ca_init(a.dir, a.rsa ? KZ_KEY_RSA3072 : KZ_KEY_EC_P256, a.hosts, a.org, a.force, err,
                    sizeof(err));
    if (rc != KZ_OK) {
        fprintf(stderr, "kizuna ca init: %s\n", err);
        return 1;
    }
    printf("CA created in %s (ca.pem, ca.key, crl.pem, server.pem, server.key)\n", a.dir);
    return 0;
}
