/*
 * fg_event.c - the events of workload F, built the same way by fedgen (which
 * pushes them) and fedfloor (which times building them): see FG_EVENT_FORMAT
 * in fedgen.h.  bench/ only.
 */
#include <stdio.h>

#include "fedgen.h"

bool fg_is_noforn(uint64_t s, double fraction)
{
    return fraction > 0 &&
           (uint64_t)((double)(s + 1) * fraction) > (uint64_t)((double)s * fraction);
}

size_t fg_build_event(uint64_t s, bool noforn, int tracks, int64_t *last_ms, char *out, size_t cap)
{
    static struct gen_sec_cache now_c, stale_c;
    char now[32], stale[32];
    int uid = (int)(s % (uint64_t)tracks);
    int64_t *last = &last_ms[(noforn ? tracks : 0) + uid];
    int64_t ms = gen_wall_ms();

    if (ms <= *last)
        ms = *last + 1;
    *last = ms;
    gen_iso_ms(&now_c, ms, now);
    gen_iso_ms(&stale_c, ms + 3600 * 1000, stale);
    int n = snprintf(out, cap, FG_EVENT_FORMAT, noforn ? 'n' : 'r', uid, now, now, stale,
                     noforn ? FG_NOFORN : FG_RELEASABLE, uid * 97 % 1000000, (int)(s % 1000000),
                     uid, (unsigned long long)s);
    return (size_t)n;
}
