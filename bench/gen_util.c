/*
 * gen_util.c - the clock, the exit on error and the CoT framing shared by
 * loadgen and fedgen (see gen_util.h).
 */
#define _GNU_SOURCE
#include <errno.h>
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
