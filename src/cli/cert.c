/*
 * cert.c - `kizuna cert issue|revoke|package`: client certificates, the
 * CRL a running server reloads, and ATAK/iTAK data packages.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: kizuna cert issue --user U --nation N --clearance L [--groups G,...]\n"
                 "                         [--roles R,...] [--command ID] [--days D]\n"
                 "                         [--p12-password P]\n"
                 "       kizuna cert revoke USER\n"
                 "       kizuna cert package --user U --host H [--port P] [--out FILE]\n"
                 "                           [--p12-password P]\n"
                 "\n"
                 "common: --dir DIR (PKI, default DATA/pki), --data DATA (default ./data),\n"
                 "        -c, --config FILE (its store.path names the database)\n"
                 "issue    writes DIR/U.pem, U.key, U.p12 (password default \"atakatak\") and\n"
                 "         records the identity in the users table (same options as user add)\n"
                 "revoke   revokes every certificate of USER (and of names that differ only in\n"
                 "         case) and rewrites DIR/crl.pem; a running server reloads it\n"
                 "         and closes their connections within two seconds\n"
                 "package  writes a data package (default U-kizuna.zip) with U.p12, the\n"
                 "         truststore and a connection to H:P (default 8089) over ssl\n");
}

struct copts {
    const char *dir, *data, *config, *user, *host, *out, *pass;
    int port, days;
    struct kz__cli_idopts ido;
    char dirbuf[512];
};

/* A whole decimal number in [min, max]; false for anything else. */
static bool int_arg(const char *s, long min, long max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

static int range_error(void)
{
    fprintf(stderr, "kizuna cert: --port must be 1-65535 and --days 1-3650\n");
    return 2;
}

static int parse(int argc, char **argv, struct copts *o)
{
    enum { OPT_DIR = 300, OPT_DATA, OPT_USER, OPT_HOST, OPT_PORT, OPT_OUT, OPT_PASS, OPT_DAYS };
    static const struct option opts[] = {
        KZ__CLI_IDOPTS,
        {"dir", required_argument, NULL, OPT_DIR},
        {"data", required_argument, NULL, OPT_DATA},
        {"config", required_argument, NULL, 'c'},
        {"user", required_argument, NULL, OPT_USER},
        {"host", required_argument, NULL, OPT_HOST},
        {"port", required_argument, NULL, OPT_PORT},
        {"out", required_argument, NULL, OPT_OUT},
        {"p12-password", required_argument, NULL, OPT_PASS},
        {"days", required_argument, NULL, OPT_DAYS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (kz__cli_idopt(&o->ido, c, optarg))
            continue;
        switch (c) {
        case OPT_DIR:
            o->dir = optarg;
            break;
        case OPT_DATA:
            o->data = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case OPT_USER:
            o->user = optarg;
            break;
        case OPT_HOST:
            o->host = optarg;
            break;
        case OPT_PORT:
            if (!int_arg(optarg, 1, 65535, &o->port))
                return range_error();
            break;
        case OPT_OUT:
            o->out = optarg;
            break;
        case OPT_PASS:
            o->pass = optarg;
            break;
        case OPT_DAYS:
            if (!int_arg(optarg, 1, 3650, &o->days))
                return range_error();
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o->dir) {
        snprintf(o->dirbuf, sizeof(o->dirbuf), "%s/pki", o->data);
        o->dir = o->dirbuf;
    }
    if (o->port <= 0 || o->port > 65535 || o->days <= 0 || o->days > 3650)
        return range_error();
    return 0;
}

static int issue(struct copts *o, struct kz_userdb *db, char *err, size_t errlen)
{
    char *serial = NULL;
    int64_t not_after = 0;
    int rc;

    o->ido.id.user = (char *)o->user;
    if ((rc = kz__cli_idopts_check("cert issue", &o->ido)) != 0 ||
        (rc = kz__cli_name_free("cert issue", o->config, &o->ido.id)) != 0)
        return rc;
    if ((rc = kz_cert_issue(o->dir, o->user, o->days, o->pass, &serial, &not_after, err, errlen)) !=
        KZ_OK)
        return 1;
    if (kz_userdb_put(db, &o->ido.id, NULL, err, errlen) != KZ_OK ||
        kz_userdb_add_cert(db, o->user, serial, not_after, err, errlen) != KZ_OK) {
        free(serial);
        return 1;
    }
    printf("issued %s/%s.pem (serial %s), %s.key, %s.p12\n", o->dir, o->user, serial, o->user,
           o->user);
    free(serial);
    return 0;
}

/* Users whose name differs from o->user only in case. */
struct variants {
    const char *user;
    char **names;
    unsigned n;
};

static void add_variant(void *ud, const struct kz_user *u)
{
    struct variants *v = ud;

    if (strcasecmp(u->id.user, v->user) != 0 || strcmp(u->id.user, v->user) == 0)
        return;
    v->names = kz_xrealloc(v->names, (v->n + 1) * sizeof(*v->names));
    v->names[v->n++] = kz_xstrdup(u->id.user);
}

/*
 * Enrollment once compared a CSR's CN with the user ignoring case, so a
 * certificate recorded under "OPS" may carry CN=ops (security review F2):
 * revoking "ops" revokes those too.
 */
static unsigned revoke_variants(struct copts *o, struct kz_userdb *db, char *err, size_t errlen)
{
    struct variants v = {o->user, NULL, 0};
    unsigned total = 0, n;

    if (kz_userdb_each(db, add_variant, &v, err, errlen) != KZ_OK)
        v.n = 0;
    for (unsigned i = 0; i < v.n; i++) {
        if (kz_userdb_revoke_user(db, v.names[i], &n, err, errlen) == KZ_OK) {
            printf("revoked %u certificate%s of %s too: its name differs from %s only in case, "
                   "and older enrollments could give it CN=%s\n",
                   n, n == 1 ? "" : "s", v.names[i], o->user, o->user);
            total += n;
        }
        free(v.names[i]);
    }
    free(v.names);
    return total;
}

static int revoke(struct copts *o, struct kz_userdb *db, char *err, size_t errlen)
{
    unsigned n = 0, others;
    int rc = kz_userdb_revoke_user(db, o->user, &n, err, errlen);

    if (rc != KZ_OK && rc != KZ_ERR_NOTFOUND)
        return 1;
    others = revoke_variants(o, db, err, errlen);
    if (n + others == 0) {
        snprintf(err, errlen, "user '%s' has no unrevoked certificate", o->user);
        return 1;
    }
    if (kz_crl_write(o->dir, db, err, errlen) != KZ_OK)
        return 1;
    printf("revoked %u certificate%s of %s; %s/crl.pem updated\n", n, n == 1 ? "" : "s", o->user,
           o->dir);
    return 0;
}

static int package(struct copts *o, char *err, size_t errlen)
{
    char out[600];

    if (!o->host) {
        fprintf(stderr, "kizuna cert package: --host is required\n");
        return 2;
    }
    if (!o->out) {
        snprintf(out, sizeof(out), "%s-kizuna.zip", o->user);
        o->out = out;
    }
    if (kz_cert_package(o->dir, o->user, o->host, o->port, o->pass, o->out, err, errlen) != KZ_OK)
        return 1;
    printf("wrote %s (connect %s:%d ssl, keystore password as issued)\n", o->out, o->host, o->port);
    return 0;
}

static int dispatch(const char *sub, struct copts *o)
{
    struct kz_userdb *db = NULL;
    char err[512] = "";
    int rc;

    if (!o->user) {
        fprintf(stderr, "kizuna cert %s: the user is required\n", sub);
        return 2;
    }
    if (strcmp(sub, "package") == 0) {
        rc = package(o, err, sizeof(err));
    } else if ((rc = kz__cli_userdb_open("cert", o->config, o->data, &db)) != 0) {
        return rc;
    } else {
        rc = strcmp(sub, "issue") == 0 ? issue(o, db, err, sizeof(err))
                                       : revoke(o, db, err, sizeof(err));
        kz_userdb_close(db);
    }
    if (rc == 1)
        fprintf(stderr, "kizuna cert %s: %s\n", sub, err);
    return rc;
}

int kz_cmd_cert(int argc, char **argv)
{
    struct copts o = {
        .data = "data", .port = 8089, .days = 365, .pass = KZ_AUTH_DEFAULT_P12_PASSWORD};
    int rc;

    if (argc < 2 ||
        (strcmp(argv[1], "issue") && strcmp(argv[1], "revoke") && strcmp(argv[1], "package"))) {
        bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    const char *sub = argv[1];
    if ((rc = parse(argc - 1, argv + 1, &o)) != 0)
        goto out;
    if (strcmp(sub, "revoke") == 0 && optind == argc - 2)
        o.user = argv[argc - 1];
    else if (optind != argc - 1) {
        usage(stderr);
        rc = 2;
        goto out;
    }
    rc = dispatch(sub, &o);
out:
    kz__cli_idopts_release(&o.ido);
    return rc < 0 ? 0 : rc;
}
