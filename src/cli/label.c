/* label.c - `kizuna label check`: parse banners, print their canonical form. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "label/label.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: kizuna label check STRING...\n"
                 "\n"
                 "Parse each classification/releasability banner under the default US\n"
                 "policy and print its canonical form, one per line, e.g.\n"
                 "  kizuna label check 'secret // rel to jpn,usa'  ->  SECRET//REL TO USA, JPN\n"
                 "Exit status: 0 if every STRING parses, 2 otherwise (the error is printed\n"
                 "on stderr).  See docs/labels.md for the syntax.\n");
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

int kz_cmd_label(int argc, char **argv)
{
    struct kz_label_policy policy;
    int rc = 0;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "check") != 0) {
        usage(stderr);
        return 2;
    }
    kz_label_policy_init_default(&policy);
    for (int i = 2; i < argc; i++)
        if (check(&policy, argv[i]) != 0)
            rc = 2;
    return rc;
}
