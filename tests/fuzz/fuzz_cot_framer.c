/*
 * Fuzz the stream framer.  The first four bytes seed how the rest is cut
 * into reads and the event size limit; the callbacks must see exactly the
 * same events and rejects as when the stream arrives in one read, every
 * event must be a plausible <event> document within the limit, and the
 * framer must never hold more than it is allowed to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"

struct rec {
    struct kz_sbuf log;
    size_t max_event;
};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_cot_framer: %s\n", what);
        abort();
    }
}

static bool plausible_end(const char *xml, size_t len)
{
    if (len >= 2 && xml[len - 2] == '/' && xml[len - 1] == '>')
        return true;
    for (size_t i = len; i-- > 7;)
        if (memcmp(xml + i - 7, "</event", 7) == 0)
            return true;
    return false;
}

static void on_event(void *ud, const char *xml, size_t len)
{
    struct rec *r = ud;

    check(len <= r->max_event, "event over the limit");
    check(len >= 8 && memcmp(xml, "<event", 6) == 0, "event does not start with <event");
    check(strchr(" \t\r\n>/", xml[6]) != NULL, "start tag name continues");
    check(xml[len - 1] == '>' && plausible_end(xml, len), "event does not end with its end tag");
    kz_sbuf_addf(&r->log, "E%zu:", len);
    kz_sbuf_add(&r->log, xml, len);
}

static void on_reject(void *ud, enum kz_reject why, const char *detail)
{
    struct rec *r = ud;

    check(why == KZ_REJ_JUNK || why == KZ_REJ_TOO_BIG, "unexpected reject reason");
    check(detail && !strchr(detail, '\n'), "reject detail");
    kz_sbuf_addf(&r->log, "R%d;", (int)why);
}

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Feed p[0..n) in reads whose sizes come from `seed` (0: one read). */
static char *run(const char *p, size_t n, size_t max_event, uint32_t seed)
{
    struct kz_framer f;
    struct rec r = {KZ_SBUF_INIT, 0};
    size_t at = 0;
    int rc = KZ_OK;

    kz_framer_init(&f, max_event);
    r.max_event = f.max_event;
    while (at < n && rc == KZ_OK) {
        size_t k = seed ? 1 + next(&seed) % (next(&seed) % 8 == 0 ? 4096 : 16) : n;
        if (k > n - at)
            k = n - at;
        rc = kz_framer_feed(&f, p + at, k, on_event, on_reject, &r);
        check(kz_framer_pending(&f) <= (f.max_event > 1100 ? f.max_event : 1100),
              "framer holds too much");
        at += k;
    }
    kz_sbuf_addf(&r.log, "rc%d", rc);
    kz_framer_release(&f);
    return kz_sbuf_detach(&r.log, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed;

    if (size < 4)
        return 0;
    memcpy(&seed, data, 4);
    seed |= 1;
    const char *p = (const char *)data + 4;
    size_t n = size - 4;
    /* Small limits reach the oversized paths; the default is the real one. */
    size_t max_event = seed % 4 == 0 ? 65536 : 32 + (seed >> 8) % 2048;
    char *whole = run(p, n, max_event, 0);
    char *split = run(p, n, max_event, seed);
    if (strcmp(whole, split) != 0) {
        fprintf(stderr, "whole: %s\nsplit: %s\n", whole, split);
        check(false, "result depends on how the stream is cut");
    }
    free(whole);
    free(split);
    return 0;
}
