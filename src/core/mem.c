/*
 * mem.c - allocation wrappers.  Out of memory logs and aborts: the server
 * is restartable and its store durable, so every other path stays simple.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

_Noreturn void kz_oom(const char *what, size_t bytes)
{
    fprintf(stderr, "level=error msg=\"out of memory\" in=%s bytes=%zu\n", what, bytes);
    abort();
}

static _Noreturn void oom(size_t n)
{
    kz_oom("malloc", n);
}

void *kz_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *kz_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *kz_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *kz_xstrdup(const char *s)
{
    return s ? kz_xmemdup(s, strlen(s) + 1) : NULL;
}

char *kz_xstrndup(const char *s, size_t n)
{
    char *p = kz_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *kz_xmemdup(const void *p, size_t n)
{
    void *q = kz_xmalloc(n);
    memcpy(q, p, n);
    return q;
}
