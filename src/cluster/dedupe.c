/*
 * dedupe.c - which (origin, epoch, seq) were seen: per origin the highest seq of its current
 * epoch and a bitmap of the KZ_DEDUPE_WINDOW below it.  Core NATS keeps one publisher's order,
 * so duplicates are rare (a client library resending after a reconnect); the window bounds the
 * memory whatever arrives.
 */
#include <string.h>

#include "cluster/cluster.h"

static struct kz_dedupe_origin *origin_slot(struct kz_dedupe *d, const char *name)
{
    struct kz_dedupe_origin *oldest = &d->o[0];

    for (unsigned i = 0; i < KZ_DEDUPE_ORIGINS; i++) {
        struct kz_dedupe_origin *o = &d->o[i];
        if (o->used && strcmp(o->name, name) == 0)
            return o;
        if (o->used < oldest->used)
            oldest = o;
    }
    memset(oldest, 0, sizeof(*oldest));
    snprintf(oldest->name, sizeof(oldest->name), "%s", name);
    return oldest;
}

static bool bit(const struct kz_dedupe_origin *o, uint64_t i)
{
    return (o->bits[i / 64] >> (i % 64)) & 1u;
}

static void set_bit(struct kz_dedupe_origin *o, uint64_t i)
{
    o->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Move the window up so that `seq` is its top: bit i (seq top-i) becomes bit i+shift. */
static void advance(struct kz_dedupe_origin *o, uint64_t seq)
{
    enum { WORDS = KZ_DEDUPE_WINDOW / 64 };
    uint64_t shift = seq - o->top;
    size_t words = (size_t)(shift / 64);
    unsigned bits = (unsigned)(shift % 64);

    o->top = seq;
    if (shift >= KZ_DEDUPE_WINDOW) {
        memset(o->bits, 0, sizeof(o->bits));
        return;
    }
    for (size_t w = WORDS; w-- > 0;) {
        uint64_t hi = w >= words ? o->bits[w - words] << bits : 0;
        uint64_t lo = bits && w > words ? o->bits[w - words - 1] >> (64 - bits) : 0;
        o->bits[w] = hi | lo;
    }
}

bool kz_dedupe_seen(struct kz_dedupe *d, const char *origin, uint64_t epoch, uint64_t seq)
{
    struct kz_dedupe_origin *o = origin_slot(d, origin);

    o->used = ++d->tick;
    if (o->epoch != epoch) {
        if (o->epoch > epoch && o->top)
            return true; /* an older incarnation's message, after the new one spoke */
        o->epoch = epoch;
        o->top = 0;
        memset(o->bits, 0, sizeof(o->bits));
    }
    if (seq > o->top) {
        advance(o, seq);
        set_bit(o, 0);
        return false;
    }
    uint64_t i = o->top - seq;
    if (i >= KZ_DEDUPE_WINDOW || bit(o, i))
        return true;
    set_bit(o, i);
    return false;
}
