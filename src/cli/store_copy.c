/*
 * store_copy.c - `kizuna store copy --from sqlite:DIR --to postgres:DSN`:
 * move a node's store onto PostgreSQL (store/pg_copy.c does the copy).
 * Progress goes to stderr; a re-run copies only what is missing.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "store/store.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: kizuna store copy --from sqlite:PATH --to postgres:DSN [--node ID]\n"
                 "\n"
                 "Copy every table of a node's SQLite store into a PostgreSQL database with\n"
                 "PostGIS (created or migrated first).  Rows keep their keys; a re-run copies\n"
                 "only what is missing.  Progress on stderr.\n"
                 "\n"
                 "  --from sqlite:PATH  the data directory (its kizuna.db) or the store file\n"
                 "  --to postgres:DSN   libpq connection string, e.g. \"host=db1 dbname=kizuna\"\n"
                 "                      (a password is better in ~/.pgpass or PGPASSWORD)\n"
                 "  --node ID           the node that wrote the events (its node.id; default\n"
                 "                      kizuna-1): with each seq their idempotency key\n");
}

/* After "scheme:", or NULL when arg does not start with it. */
static const char *after_scheme(const char *arg, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncmp(arg, scheme, n) == 0 && arg[n] == ':' && arg[n + 1] ? arg + n + 1 : NULL;
}

static void on_progress(void *ud, const char *table, int64_t done, int64_t total)
{
    KZ_UNUSED(ud);
    fprintf(stderr, "kizuna store copy: %s %lld/%lld\n", table, (long long)done, (long long)total);
}

static int copy(const char *from, const char *dsn, const char *node)
{
    char path[4096], err[512];
    struct stat sb;

    if (stat(from, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        if (kz_store_path(from, "kizuna.db", path, sizeof(path)) != KZ_OK) {
            fprintf(stderr, "kizuna store copy: path too long: %s\n", from);
            return 2;
        }
        from = path;
    }
    if (kz_store_copy(from, dsn, node, on_progress, NULL, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna store copy: %s\n", err);
        return 1;
    }
    fprintf(stderr, "kizuna store copy: done, every table of %s is in postgres\n", from);
    return 0;
}

static int cmd_copy(int argc, char **argv)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         {"node", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *from = NULL, *to = NULL, *node = "kizuna-1";
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            from = after_scheme(optarg, "sqlite");
            break;
        case 't':
            to = after_scheme(optarg, "postgres");
            break;
        case 'n':
            node = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!from || !to || optind != argc) {
        fprintf(stderr, "kizuna store copy: need --from sqlite:PATH and --to postgres:DSN\n");
        usage(stderr);
        return 2;
    }
    return copy(from, to, node);
}

int kz_cmd_store(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "copy") == 0)
        return cmd_copy(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
