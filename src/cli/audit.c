/*
 * audit.c - `kizuna audit list|verify`: read the audit log of a data
 * directory (the server may be running: SQLite WAL allows a second reader).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: kizuna audit list|verify [-c FILE] [--data DIR] [--db FILE]\n"
                 "\n"
                 "  list      print every audit record, oldest first\n"
                 "  verify    check the keyed chain and its end against DATA/audit.head;\n"
                 "            exit 1 if a record was edited, inserted or removed, the tail was\n"
                 "            cut or the database replaced by an older copy\n"
                 "  -c, --config FILE  configuration whose store.path names the database\n"
                 "  -d, --data DIR     data directory (default ./data)\n"
                 "  --db FILE          the database file itself (audit.key and audit.head\n"
                 "                     are read from --data if given, else next to it)\n");
}

static void print_record(void *ud, int64_t id, int64_t time, const char *actor, const char *action,
                         const char *object, const char *detail)
{
    char ts[KZ_TIME_STRLEN];
    KZ_UNUSED(ud);
    kz_time_format(time, ts);
    printf("%lld %s actor=\"%s\" action=%s object=%s %s\n", (long long)id, ts, actor, action,
           object, detail);
}

static int verify(struct kz_store *st)
{
    struct kz_store_audit_check c;
    int rc = kz_store_audit_verify(st, &c);

    if (rc == KZ_OK)
        printf("audit chain intact: %llu records (%llu legacy, unkeyed)%s\n",
               (unsigned long long)c.records, (unsigned long long)c.legacy,
               c.anchored ? ", end matches audit.head" : ", no keyed records yet");
    else if (rc == KZ_ERR_INVAL && c.bad_id)
        printf("audit chain BROKEN at record %lld: %s (%llu records before it verify)\n",
               (long long)c.bad_id, c.problem, (unsigned long long)c.records);
    else if (rc == KZ_ERR_INVAL)
        printf("audit chain BROKEN at its end: %s (%llu records verify)\n", c.problem,
               (unsigned long long)c.records);
    return rc;
}

static int run(const char *cmd, const char *db, const char *dir)
{
    uv_loop_t loop;
    struct kz_store *st;
    /* Nothing is written: the batch window does not matter. */
    struct kz_store_opts o = {.path = db};
    int rc;

    uv_loop_init(&loop);
    if (kz_store_open(&loop, &o, &st) != KZ_OK) {
        fprintf(stderr, "kizuna audit: cannot open %s\n", db);
        uv_loop_close(&loop);
        return 1;
    }
    if (dir)
        kz_store_set_audit_dir(st, dir);
    if (strcmp(cmd, "list") == 0) {
        rc = kz_store_audit_list(st, print_record, NULL);
    } else {
        rc = verify(st);
    }
    kz_store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc == KZ_OK ? 0 : 1;
}

int kz_cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"db", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *config = NULL, *db = NULL;
    char path[4096];
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 'b':
            db = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc ||
        (strcmp(argv[optind], "list") != 0 && strcmp(argv[optind], "verify") != 0)) {
        usage(stderr);
        return 2;
    }
    if (!db) {
        if (!data)
            data = "data";
        int rc = kz__cli_db_path("audit", config, data, path, sizeof(path));
        if (rc != 0)
            return rc;
        db = path;
    }
    kz_log_min = KZ_LOG_WARN;
    return run(argv[optind], db, data);
}
