/*
 * label_oracle_driver.c - feeds the label property test (label.test.mjs).
 *
 * usage: label_oracle_driver [-c CONFIG]
 *
 * Parses under the policy of CONFIG's `labels:` section (default: the
 * built-in policy).  Reads lines "LABEL\tNATION\tCLEARANCE\tORIGIN\tCEILING\t
 * CEILORIGIN" on stdin, LABEL and CEILING hex-encoded so that any byte (tab,
 * newline, NUL) can be drawn; an ORIGIN "-" is none.  Writes one line per
 * input, "RDF\tCANON":
 *   R  1 if kz_may_release() lets LABEL go to the identity, else 0 (also for
 *      a label that does not parse);
 *   D  1 if kz_label_dominated(LABEL, CEILING), else 0;
 *   F  1 if CANON, kz_label_format() of LABEL, parses back to the same label
 *      and formats to itself (a fixed point), else 0;
 *   CANON  the canonical banner, or "-" when LABEL does not parse.
 * A malformed line is a bug in the test: exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "label/label.h"

#define FIELDS 6

/* Split `line` at tabs into exactly FIELDS fields; false if it has another count. */
static bool split(char *line, char **f)
{
    f[0] = line;
    for (int i = 1; i < FIELDS; i++) {
        char *tab = strchr(f[i - 1], '\t');
        if (tab == NULL)
            return false;
        *tab = '\0';
        f[i] = tab + 1;
    }
    return strchr(f[FIELDS - 1], '\t') == NULL;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode lower-case hex `s` in place; its byte length, or -1 if it is not hex. */
static long unhex(char *s)
{
    size_t n = strlen(s);
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = nibble(s[i]), lo = nibble(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        s[i / 2] = (char)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

static uint16_t origin(const char *code)
{
    return strcmp(code, "-") == 0 ? KZ_NATION_NONE : kz_nation_index(code, strlen(code));
}

/* Parse hex banner `hex` with originator `org`; false if it is refused. */
static bool parse(const struct kz_label_policy *p, char *hex, const char *org, struct kz_label *l,
                  bool *bad)
{
    long n = unhex(hex);
    *bad = n < 0;
    if (n < 0 || kz_label_parse(p, hex, (size_t)n, l, NULL, 0) != KZ_OK)
        return false;
    l->originator = origin(org);
    return true;
}

/* 1 if the canonical form of `l` is a fixed point of parse + format. */
static int fixed_point(const struct kz_label_policy *p, const struct kz_label *l, const char *canon)
{
    struct kz_label again;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    int ok = 0;

    if (kz_label_parse(p, canon, strlen(canon), &again, NULL, 0) != KZ_OK)
        goto out;
    again.originator = l->originator;
    if (memcmp(&again, l, sizeof(again)) != 0 || kz_label_format(p, &again, &sb) != KZ_OK)
        goto out;
    ok = strcmp(sb.buf, canon) == 0;
out:
    kz_sbuf_release(&sb);
    return ok;
}

/* Answer one line into `out`; -1 if the line is malformed. */
static int answer(const struct kz_label_policy *p, char *line, FILE *out)
{
    char *f[FIELDS];
    struct kz_label l, ceil;
    struct kz_identity id;
    struct kz_release_subject who;
    struct kz_sbuf sb = KZ_SBUF_INIT;
    bool bad, ok, cok;
    int r = 0, d = 0, fp = 0;

    if (!split(line, f))
        return -1;
    ok = parse(p, f[0], f[3], &l, &bad);
    if (bad)
        return -1;
    cok = parse(p, f[4], f[5], &ceil, &bad);
    if (bad)
        return -1;
    memset(&id, 0, sizeof(id));
    id.nation = f[1];
    id.clearance = f[2];
    kz_release_subject_from(&id, p, &who); /* a failure leaves a deny-all subject */
    if (ok) {
        r = kz_may_release(&l, &who, NULL);
        d = cok && kz_label_dominated(&l, &ceil);
        KZ_ASSERT(kz_label_format(p, &l, &sb) == KZ_OK);
        fp = fixed_point(p, &l, sb.buf);
    }
    fprintf(out, "%d%d%d\t%s\n", r, d, fp, ok ? sb.buf : "-");
    kz_sbuf_release(&sb);
    return 0;
}

/* The policy named by -c CONFIG, or the built-in one; 0 or an exit code. */
static int policy(int argc, char **argv, struct kz_label_policy *p)
{
    struct kz_config *cfg = NULL;
    char err[1024];
    int rc = 0;

    if (argc == 1) {
        kz_label_policy_init_default(p);
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: label_oracle_driver [-c CONFIG]\n");
        return 2;
    }
    if (kz_config_load(argv[2], &cfg, err, sizeof(err)) != KZ_OK ||
        kz_label_policy_from_config(cfg->labels, p, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "label_oracle_driver: %s\n", err);
        rc = 2;
    }
    kz_config_free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    struct kz_label_policy p;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    int rc = policy(argc, argv, &p);

    while (rc == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (answer(&p, line, stdout) < 0) {
            fprintf(stderr,
                    "label_oracle_driver: line %lu: want %d tab-separated fields, "
                    "LABEL and CEILING in hex\n",
                    lineno, FIELDS);
            rc = 1;
        }
    }
    free(line);
    return fflush(stdout) == 0 ? rc : 1;
}
