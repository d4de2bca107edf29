/*
 * backoff.c - how long a login name or a peer must wait after failed
 * passwords (security review F14).
 *
 * Keys are kept only as keyed 64-bit hashes (SipHash, a random key per
 * table), so a peer cannot choose names that collide, and the table never
 * holds a name.  The table is small and bounded (at most max_keys entries,
 * the least recently touched evicted first); a linear scan of a few
 * thousand integers costs less than one request's parse, and far less than
 * the Argon2id check it guards.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

#define FREE_FAILURES 5                 /* failures before the first wait */
#define FIRST_WAIT_US 1000000LL         /* then 1 s, 2 s, 4 s, ... */
#define MAX_WAIT_US (60 * 1000000LL)    /* capped */
#define FORGET_US (15 * 60 * 1000000LL) /* a key quiet this long starts afresh */

struct entry {
    uint64_t hash;
    unsigned failures;
    int64_t until_us; /* back-off ends (monotonic) */
    int64_t last_us;  /* last touched, for eviction and forgetting */
};

struct kz_backoff {
    unsigned char key[crypto_shorthash_KEYBYTES];
    struct entry *v;
    unsigned n, cap;
};

struct kz_backoff *kz_backoff_new(unsigned max_keys)
{
    struct kz_backoff *b = kz_xcalloc(1, sizeof(*b));

    if (sodium_init() < 0)
        kz_oom("sodium_init", 0);
    crypto_shorthash_keygen(b->key);
    b->cap = max_keys ? max_keys : 1;
    b->v = kz_xcalloc(b->cap, sizeof(*b->v));
    return b;
}

void kz_backoff_free(struct kz_backoff *b)
{
    if (!b)
        return;
    sodium_memzero(b->key, sizeof(b->key));
    free(b->v);
    free(b);
}

static uint64_t hash_of(const struct kz_backoff *b, const char *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;

    crypto_shorthash(out, (const unsigned char *)key, strlen(key), b->key);
    memcpy(&h, out, sizeof(h));
    return h;
}

/* The entry of `key`, or NULL; a forgotten one is reset first. */
static struct entry *find(struct kz_backoff *b, const char *key, int64_t now_us)
{
    uint64_t h = hash_of(b, key);

    for (unsigned i = 0; i < b->n; i++) {
        struct entry *e = &b->v[i];
        if (e->hash != h)
            continue;
        if (now_us - e->last_us > FORGET_US && now_us >= e->until_us)
            e->failures = 0;
        return e;
    }
    return NULL;
}

/* A new entry for `key`: a free slot, else the least recently touched one. */
static struct entry *add(struct kz_backoff *b, const char *key, int64_t now_us)
{
    struct entry *e = &b->v[0];

    if (b->n < b->cap) {
        e = &b->v[b->n++];
    } else {
        for (unsigned i = 1; i < b->n; i++)
            if (b->v[i].last_us < e->last_us)
                e = &b->v[i];
    }
    *e = (struct entry){.hash = hash_of(b, key), .last_us = now_us};
    return e;
}

int64_t kz_backoff_wait(struct kz_backoff *b, const char *key, int64_t now_us)
{
    struct entry *e = find(b, key, now_us);

    return e && e->until_us > now_us ? e->until_us - now_us : 0;
}

int64_t kz_backoff_fail(struct kz_backoff *b, const char *key, int64_t now_us)
{
    struct entry *e = find(b, key, now_us);
    int64_t wait = FIRST_WAIT_US;

    if (!e)
        e = add(b, key, now_us);
    e->last_us = now_us;
    if (++e->failures < FREE_FAILURES)
        return 0;
    for (unsigned i = FREE_FAILURES; i < e->failures && wait < MAX_WAIT_US; i++)
        wait *= 2;
    wait = wait < MAX_WAIT_US ? wait : MAX_WAIT_US;
    e->until_us = now_us + wait;
    return wait;
}

void kz_backoff_forget(struct kz_backoff *b, const char *key)
{
    struct entry *e = find(b, key, 0);

    if (e)
        *e = b->v[--b->n];
}
