/*
 * user.c - `kizuna user add|del|list|passwd`: the users table that maps a
 * certificate CN (or an enrollment login) to an identity.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "store/store.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: kizuna user add USER --nation N --clearance L [--groups G,...]\n"
                 "                       [--groups-in G,...] [--groups-out G,...] [--roles R,...]\n"
                 "                       [--command ID] [--password P | --password-stdin]\n"
                 "       kizuna user del USER\n"
                 "       kizuna user list [--json]\n"
                 "       kizuna user passwd USER [--password P | --password-stdin]\n"
                 "\n"
                 "common: --data DIR      data directory (default ./data)\n"
                 "        -c, --config FILE  the server's configuration: its store.path names the\n"
                 "                           database, and add refuses a USER that one of its\n"
                 "                           inputs has as identity (default: the built-in\n"
                 "                           configuration, identities local and web)\n"
                 "Clearance: UNCLASSIFIED, CONFIDENTIAL, SECRET or \"TOP SECRET\".  --groups sets\n"
                 "both IN (receive) and OUT (send) groups.  A running server sees changes\n"
                 "within two seconds, on open connections too: a deleted user's are closed,\n"
                 "a changed user's re-evaluated.  Passwords are stored as Argon2id hashes.\n");
}

static const char *const clearances[] = {"UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP SECRET"};

void kz__cli_idopts_release(struct kz__cli_idopts *o)
{
    kz_strv_free(o->id.groups_in, o->id.groups_in_count);
    kz_strv_free(o->id.groups_out, o->id.groups_out_count);
    kz_strv_free(o->id.roles, o->id.roles_count);
    memset(&o->id, 0, sizeof(o->id));
}

/* Handle one identity option; false when `c` is not one of them. */
bool kz__cli_idopt(struct kz__cli_idopts *o, int c, const char *arg)
{
    struct kz_identity *id = &o->id;
    switch (c) {
    case KZ__OPT_NATION:
        id->nation = (char *)arg;
        return true;
    case KZ__OPT_CLEARANCE:
        id->clearance = (char *)arg;
        return true;
    case KZ__OPT_COMMAND:
        id->command = (char *)arg;
        return true;
    case KZ__OPT_GROUPS:
        kz_strv_free(id->groups_in, id->groups_in_count);
        kz_strv_free(id->groups_out, id->groups_out_count);
        id->groups_in = kz_strv_split(arg, &id->groups_in_count);
        id->groups_out = kz_strv_split(arg, &id->groups_out_count);
        return true;
    case KZ__OPT_GROUPS_IN:
        kz_strv_free(id->groups_in, id->groups_in_count);
        id->groups_in = kz_strv_split(arg, &id->groups_in_count);
        return true;
    case KZ__OPT_GROUPS_OUT:
        kz_strv_free(id->groups_out, id->groups_out_count);
        id->groups_out = kz_strv_split(arg, &id->groups_out_count);
        return true;
    case KZ__OPT_ROLES:
        kz_strv_free(id->roles, id->roles_count);
        id->roles = kz_strv_split(arg, &id->roles_count);
        return true;
    default:
        return false;
    }
}

int kz__cli_idopts_check(const char *cmd, struct kz__cli_idopts *o)
{
    if (o->id.roles_count == 0) {
        kz_strv_free(o->id.roles, o->id.roles_count);
        o->id.roles = kz_strv_split(KZ_ROLE_VIEWER "," KZ_ROLE_OPERATOR, &o->id.roles_count);
    }
    if (!o->id.user || !o->id.nation || !o->id.clearance) {
        fprintf(stderr, "kizuna %s: --user, --nation and --clearance are required\n", cmd);
        return 2;
    }
    if (strlen(o->id.nation) != 3 || strspn(o->id.nation, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3) {
        fprintf(stderr, "kizuna %s: --nation '%s' is not an ISO 3166 alpha-3 code\n", cmd,
                o->id.nation);
        return 2;
    }
    for (size_t i = 0; i < KZ_ARRAY_LEN(clearances); i++)
        if (strcmp(o->id.clearance, clearances[i]) == 0)
            return 0;
    fprintf(stderr,
            "kizuna %s: --clearance '%s' is not one of UNCLASSIFIED, CONFIDENTIAL, "
            "SECRET, TOP SECRET\n",
            cmd, o->id.clearance);
    return 2;
}

/* ---- the database -------------------------------------------------------- */

int kz__cli_db_path(const char *cmd, const char *config, const char *data, char *buf, size_t len)
{
    struct kz_config *cfg = NULL;
    char err[1024];
    int rc = 1;

    if (config ? kz_config_load(config, &cfg, err, sizeof(err)) != KZ_OK
               : !(cfg = kz_config_default(err, sizeof(err)))) {
        fprintf(stderr, "kizuna %s: %s\n", cmd, err);
        return 2;
    }
    if (kz_store_locator(cfg->store->backend, cfg->store->dsn, data, cfg->store->path, buf, len) ==
        KZ_OK)
        rc = 0;
    else
        fprintf(stderr, "kizuna %s: the database path is too long\n", cmd);
    kz_config_free(cfg);
    return rc;
}

int kz__cli_name_free(const char *cmd, const char *config, const struct kz_identity *id)
{
    struct kz_config *cfg = NULL;
    char err[1024];
    int rc = 0;

    if (config ? kz_config_load(config, &cfg, err, sizeof(err)) != KZ_OK
               : !(cfg = kz_config_default(err, sizeof(err)))) {
        fprintf(stderr, "kizuna %s: %s\n", cmd, err);
        return 2;
    }
    for (unsigned i = 0; i < cfg->inputs_count && rc == 0; i++) {
        const struct kz_input_conf *in = &cfg->inputs[i];
        if (in->identity && in->identity->user && strcmp(in->identity->user, id->user) == 0) {
            fprintf(stderr,
                    "kizuna %s: '%s' is the identity of input '%s' in %s; configuration "
                    "identities and users share one namespace, choose another name\n",
                    cmd, id->user, in->name, config ? config : "the built-in configuration");
            rc = 2;
        }
    }
    kz_config_free(cfg);
    return rc;
}

int kz__cli_userdb_open(const char *cmd, const char *config, const char *data,
                        struct kz_userdb **db)
{
    char path[4096], err[512];
    int rc;

    *db = NULL;
    if ((rc = kz__cli_db_path(cmd, config, data, path, sizeof(path))) != 0)
        return rc;
    if (mkdir(data, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "kizuna %s: cannot create %s: %s\n", cmd, data, strerror(errno));
        return 1;
    }
    /* The store's open/migrate chatter is noise for a CLI command. */
    if (kz_log_min < KZ_LOG_WARN)
        kz_log_min = KZ_LOG_WARN;
    if (kz_userdb_create(path, db, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna %s: %s\n", cmd, err);
        return 1;
    }
    return 0;
}

/* ---- password input ------------------------------------------------------ */

static char *read_password_stdin(void)
{
    char buf[1024];
    if (!fgets(buf, sizeof(buf), stdin))
        return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? kz_xstrdup(buf) : NULL;
}

/* ---- subcommands --------------------------------------------------------- */

struct uopts {
    const char *data, *config;
    const char *password;
    bool password_stdin;
    bool json;
    struct kz__cli_idopts ido;
};

static int parse(int argc, char **argv, struct uopts *o)
{
    enum { OPT_DATA = 300, OPT_PASS, OPT_PASS_STDIN, OPT_JSON };
    static const struct option opts[] = {
        KZ__CLI_IDOPTS,
        {"data", required_argument, NULL, OPT_DATA},
        {"config", required_argument, NULL, 'c'},
        {"password", required_argument, NULL, OPT_PASS},
        {"password-stdin", no_argument, NULL, OPT_PASS_STDIN},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (kz__cli_idopt(&o->ido, c, optarg))
            continue;
        switch (c) {
        case OPT_DATA:
            o->data = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case OPT_PASS:
            o->password = optarg;
            break;
        case OPT_PASS_STDIN:
            o->password_stdin = true;
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

static void print_user(void *ud, const struct kz_user *u)
{
    const struct kz_identity *id = &u->id;
    bool json = *(bool *)ud;

    if (!json) {
        printf("%s\t%s\t%s\tin=", id->user, id->nation, id->clearance);
        for (unsigned i = 0; i < id->groups_in_count; i++)
            printf("%s%s", i ? "," : "", id->groups_in[i]);
        printf("\tout=");
        for (unsigned i = 0; i < id->groups_out_count; i++)
            printf("%s%s", i ? "," : "", id->groups_out[i]);
        printf("\troles=");
        for (unsigned i = 0; i < id->roles_count; i++)
            printf("%s%s", i ? "," : "", id->roles[i]);
        printf("\tpassword=%s\n", u->password_hash ? "yes" : "no");
        return;
    }
    /* Names are restricted by `cert issue`; groups come from operators. */
    printf("{\"user\":\"%s\",\"nation\":\"%s\",\"clearance\":\"%s\",\"password\":%s}\n", id->user,
           id->nation, id->clearance, u->password_hash ? "true" : "false");
}

static int run(const char *sub, const char *user, struct uopts *o, struct kz_userdb *db)
{
    char err[512] = "";
    char *pw = NULL;
    int rc = KZ_OK;

    if (o->password_stdin && !(pw = read_password_stdin())) {
        fprintf(stderr, "kizuna user %s: no password on stdin\n", sub);
        return 2;
    }
    const char *password = pw ? pw : o->password;
    if (strcmp(sub, "add") == 0) {
        o->ido.id.user = (char *)user;
        if ((rc = kz__cli_idopts_check("user add", &o->ido)) != 0 ||
            (rc = kz__cli_name_free("user add", o->config, &o->ido.id)) != 0)
            goto out;
        rc = kz_userdb_put(db, &o->ido.id, password, err, sizeof(err));
    } else if (strcmp(sub, "del") == 0) {
        rc = kz_userdb_del(db, user, err, sizeof(err));
    } else if (strcmp(sub, "passwd") == 0) {
        if (!password) {
            fprintf(stderr, "kizuna user passwd: --password or --password-stdin required\n");
            rc = 2;
            goto out;
        }
        rc = kz_userdb_set_password(db, user, password, err, sizeof(err));
    } else {
        rc = kz_userdb_each(db, print_user, &o->json, err, sizeof(err));
    }
    if (rc > 0 && err[0]) {
        fprintf(stderr, "kizuna user %s: %s\n", sub, err);
        rc = 1;
    }
out:
    free(pw);
    return rc;
}

int kz_cmd_user(int argc, char **argv)
{
    struct uopts o = {.data = "data"};
    struct kz_userdb *db = NULL;
    int rc;

    if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "del") && strcmp(argv[1], "list") &&
                     strcmp(argv[1], "passwd"))) {
        bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    const char *sub = argv[1];
    bool list = strcmp(sub, "list") == 0;
    if ((rc = parse(argc - 1, argv + 1, &o)) != 0)
        goto out;
    if (optind + (list ? 0 : 1) != argc - 1) {
        usage(stderr);
        rc = 2;
        goto out;
    }
    if ((rc = kz__cli_userdb_open("user", o.config, o.data, &db)) != 0)
        goto out;
    rc = run(sub, list ? NULL : argv[optind + 1], &o, db);
    kz_userdb_close(db);
out:
    kz__cli_idopts_release(&o.ido);
    return rc < 0 ? 0 : rc;
}
