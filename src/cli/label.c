/* label.c - `kizuna label check`: parse banners, print their canonical form. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/core.h"
#include "label/label.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: kizuna label check [-c FILE] STRING...\n"
                 "\n"
                 "Parse each classification/releasability banner under the marking policy\n"
                 "of the configuration FILE (its labels: section; default the built-in US\n"
                 "policy) and print its canonical form, one per line, e.g.\n"
                 "  kizuna label check 'secret // rel to jpn,usa'  ->  SECRET//REL TO USA, JPN\n"
                 "Exit status: 0 if every STRING parses, 2 otherwise (the error is printed\n"
                 "on stderr).  See docs/labels.md for the syntax.\n");
}

int kz__cli_policy(const char *cmd, const char *config, struct kz_label_policy *p)
{
    struct kz_config *cfg = NULL;
    char err[1024];
    int rc = 0;

    if (!config) {
        kz_label_policy_init_default(p);
        return 0;
    }
    if (kz_config_load(config, &cfg, err, sizeof(err)) != KZ_OK ||
        kz_label_policy_from_config(cfg->labels, p, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna %s: %s\n", cmd, err);
        rc = 2;
    } else if (cfg->node && cfg->node->nation) { /* as the server does */
        kz_label_policy_set_home(p, kz_nation_index(cfg->node->nation, strlen(cfg->node->nation)));
    }
    kz_config_free(cfg);
    return rc;
}

static int check(const struct kz_label_policy *p, const char *s)
{
    struct kz_label l;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char err[256];

    if (kz_label_parse(p, s, strlen(s), &l, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna label check: %s\n", err);
        return 2;
    }
    KZ_ASSERT(kz_label_format(p, &l, &sb) == KZ_OK);
    printf("%s\n", sb.buf);
    kz_sbuf_release(&sb);
    return 0;
}

/* -c FILE and --help; the index of the first operand, or -exit code. */
static int parse(int argc, char **argv, const char **config)
{
    static const struct option lo[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    /* '+': a banner may start with '-' only after "--"; options come first. */
    while ((c = getopt_long(argc, argv, "+c:h", lo, NULL)) != -1) {
        if (c == 'c') {
            *config = optarg;
            continue;
        }
        usage(c == 'h' ? stdout : stderr);
        return c == 'h' ? 0 : -2;
    }
    return optind;
}

int kz_cmd_label(int argc, char **argv)
{
    struct kz_label_policy policy;
    const char *config = NULL;
    int rc = 0, first;

    if (argc < 2 || strcmp(argv[1], "check") != 0) {
        bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    if ((first = parse(argc - 1, argv + 1, &config)) <= 0)
        return -first;
    if (first >= argc - 1) {
        usage(stderr);
        return 2;
    }
    if ((rc = kz__cli_policy("label check", config, &policy)) != 0)
        return rc;
    for (int i = first + 1; i < argc; i++)
        if (check(&policy, argv[i]) != 0)
            rc = 2;
    return rc;
}
