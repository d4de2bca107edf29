/*
 * arena.c - many small allocations released together: a chain of 4 KiB
 * chunks (bigger requests get a chunk of their own).  Used per HTTP
 * request; single-threaded by whoever owns the arena.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define ARENA_CHUNK 4096
#define ARENA_ALIGN 16

struct kz_arena_chunk {
    struct kz_arena_chunk *next;
    size_t used, cap;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void *kz_arena_alloc(struct kz_arena *a, size_t n)
{
    struct kz_arena_chunk *c = a->head;

    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = kz_xmalloc(sizeof(*c) + cap);
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *kz_arena_strndup(struct kz_arena *a, const char *s, size_t n)
{
    char *p = kz_arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void kz_arena_release(struct kz_arena *a)
{
    while (a->head) {
        struct kz_arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}
