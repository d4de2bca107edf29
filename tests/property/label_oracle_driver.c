/*
 * label_oracle_driver.c - feeds the label property test (label.test.mjs).
 *
 * Reads lines "LABEL\tNATION\tCLEARANCE\tORIGINATOR" on stdin (ORIGINATOR
 * "-" = none) and writes one line per input: "1" if kz_may_release() lets the
 * labelled object go to that identity under the default policy, "0" if not
 * (including labels that do not parse).  A line without four fields is a bug
 * in the test: exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label/label.h"

static int decide(const struct kz_label_policy *p, char *line, size_t len)
{
    char *f[4], *tab;
    struct kz_label l;
    struct kz_identity id;
    struct kz_release_subject who;

    f[0] = line;
    for (int i = 1; i < 4; i++) {
        tab = memchr(f[i - 1], '\t', len - (size_t)(f[i - 1] - line));
        if (tab == NULL)
            return -1;
        *tab = '\0';
        f[i] = tab + 1;
    }
    if (memchr(f[3], '\t', len - (size_t)(f[3] - line)) != NULL)
        return -1;
    if (kz_label_parse(p, f[0], strlen(f[0]), &l, NULL, 0) != KZ_OK)
        return 0;
    l.originator = strcmp(f[3], "-") == 0 ? KZ_NATION_NONE : kz_nation_index(f[3], strlen(f[3]));
    memset(&id, 0, sizeof(id));
    id.nation = f[1];
    id.clearance = f[2];
    kz_release_subject_from(&id, p, &who); /* a failure leaves a deny-all subject */
    return kz_may_release(&l, &who, NULL) ? 1 : 0;
}

int main(void)
{
    struct kz_label_policy policy;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;

    kz_label_policy_init_default(&policy);
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        int r;
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        r = decide(&policy, line, (size_t)n);
        if (r < 0) {
            fprintf(stderr, "label_oracle_driver: line %lu: want 4 tab-separated fields\n", lineno);
            free(line);
            return 1;
        }
        fputs(r ? "1\n" : "0\n", stdout);
    }
    free(line);
    return fflush(stdout) == 0 ? 0 : 1;
}
