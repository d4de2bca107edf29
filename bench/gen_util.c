/*
 * gen_util.c - the clocks, CoT times, the exit on error, the CoT framing and
 * the option table shared by the load generators (see gen_util.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_util.h"

int64_t gen_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t gen_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void gen_iso_ms(struct gen_sec_cache *c, int64_t ms, char out[32])
{
    int64_t sec = ms / 1000;
    if (sec != c->sec || !c->txt[0]) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(c->txt, sizeof(c->txt), "%Y-%m-%dT%H:%M:%S", &tm);
        c->sec = sec;
    }
    snprintf(out, 32, "%s.%03dZ", c->txt, (int)(ms % 1000));
}

void gen_die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", gen_prog, what, errno ? strerror(errno) : "failed");
    exit(2);
}

const char *gen_cot_next(const char *p, size_t n, size_t *off, size_t *len)
{
    const char *start = p + *off;
    const char *e = memmem(start, n - *off, "</event>", 8);
    if (!e)
        return NULL;
    *len = (size_t)(e - start) + 8;
    *off += *len;
    return start;
}

static bool set_opt(const struct gen_opt *opt, const char *v)
{
    switch (opt->type) {
    case GEN_INT:
        *(int *)opt->dst = atoi(v);
        break;
    case GEN_LONG:
        *(long *)opt->dst = atol(v);
        break;
    case GEN_DOUBLE:
        *(double *)opt->dst = atof(v);
        break;
    case GEN_STR:
        *(const char **)opt->dst = v;
        break;
    case GEN_TRUE:
        *(bool *)opt->dst = true;
        break;
    case GEN_CALL:
        opt->call(v);
        break;
    case GEN_HELP:
        return false;
    }
    return true;
}

/* getopt_long's value of option i: its letter, or past every char for a long-only one. */
static int opt_key(const struct gen_opt *opts, size_t i)
{
    return opts[i].letter ? opts[i].letter : 256 + (int)i;
}

/* The short option string and the long options of opts[0..n) for getopt_long. */
static void opt_spec(const struct gen_opt *opts, size_t n, char *shorts, struct option *lo)
{
    size_t ns = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        bool arg = opts[i].type != GEN_TRUE && opts[i].type != GEN_HELP;
        if (opts[i].letter) {
            shorts[ns++] = (char)opts[i].letter;
            if (arg)
                shorts[ns++] = ':';
        }
        if (opts[i].name)
            lo[nl++] = (struct option){opts[i].name, arg ? required_argument : no_argument, NULL,
                                       opt_key(opts, i)};
    }
    shorts[ns] = '\0';
    lo[nl] = (struct option){0};
}

bool gen_parse_opts(int argc, char **argv, const struct gen_opt *opts, size_t n)
{
    char shorts[2 * GEN_OPTS_MAX + 1];
    struct option lo[GEN_OPTS_MAX + 1];
    int ch;

    if (n > GEN_OPTS_MAX)
        return false;
    opt_spec(opts, n, shorts, lo);
    while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        size_t i = 0;
        while (i < n && opt_key(opts, i) != ch)
            i++;
        if (i == n || !set_opt(&opts[i], optarg))
            return false;
    }
    return true;
}
