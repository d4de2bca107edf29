/*
 * fuzz_alliance_tz - fuzz the zoneinfo (TZif, RFC 8536) reader with its POSIX
 * TZ footer.  The input is one TZif file.  Whatever the bytes: reading never
 * crashes or reads out of bounds, a file either parses or not whatever the
 * time asked for, and the answer for a time is the same when asked again.
 * Seeds: real zones (fixed, DST north and south, half-hour and negative
 * DST, a version-1 file).
 */
#include <stdio.h>
#include <stdlib.h>

#include "alliance/alliance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_alliance_tz: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Before any transition, around the epoch, now, after the last one (the footer). */
    static const int64_t times[] = {-4102444800LL, -1000000000LL, -1,           0,
                                    1000000000LL,  1700000000LL,  1719792000LL, 4102444800LL,
                                    32503680000LL};
    const size_t n = sizeof(times) / sizeof(times[0]);
    int32_t off, again;
    int first = kz_tz_offset_tzif(data, size, times[0], &off);

    check(first == KZ_OK || first == KZ_ERR_PARSE, "unexpected result code");
    for (size_t i = 0; i < n; i++) {
        int rc = kz_tz_offset_tzif(data, size, times[i], &off);
        check(rc == first, "parses at one time but not at another");
        if (rc != KZ_OK)
            continue;
        check(kz_tz_offset_tzif(data, size, times[i], &again) == KZ_OK && off == again,
              "two answers for one time");
    }
    return 0;
}
