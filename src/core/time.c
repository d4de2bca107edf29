/* time.c - clocks and the ISO 8601 UTC codec used by CoT. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

int64_t kz_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t kz_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant). */
int64_t kz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void kz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned month_days(unsigned y, unsigned m)
{
    static const unsigned char md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : md[m - 1];
}

int kz_time_parse(const char *s, size_t len, int64_t *out_us)
{
    unsigned y, mo, d, h, mi, se, frac = 0, scale = 1000000;
    size_t i = 19;

    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return KZ_ERR_PARSE;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return KZ_ERR_PARSE;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 ||
        se > 60)
        return KZ_ERR_PARSE;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (unsigned)(s[i] - '0') * scale;
            }
            i++;
        }
        if (i == start)
            return KZ_ERR_PARSE;
    }
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
        /* UTC */
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 1] == '0' && s[i + 2] == '0' &&
               s[i + 3] == ':' && s[i + 4] == '0' && s[i + 5] == '0') {
        /* +00:00 is UTC too; other offsets are not CoT */
    } else {
        return KZ_ERR_PARSE;
    }
    if (se == 60)
        se = 59; /* leap second: clamp, CoT clients do the same */
    int64_t days = kz_days_from_civil(y, mo, d);
    *out_us = ((days * 86400) + h * 3600 + mi * 60 + se) * (int64_t)1000000 + frac;
    return KZ_OK;
}

/* "00" to "99": two digits a lookup. */
static const char pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "7475767778798081828384858687888990919293949596979899";

/* Write v < 100 as two digits. */
static char *put2(char *at, unsigned v)
{
    memcpy(at, pairs + 2 * v, 2);
    return at + 2;
}

/* The years 1970-9999, every event's: by hand, ten times cheaper than snprintf. */
static size_t format_fast(int64_t us, char *buf)
{
    int64_t secs = us / 1000000, rem = secs % 86400, y;
    unsigned sub = (unsigned)(us % 1000000), m, d;

    kz_civil_from_days(secs / 86400, &y, &m, &d);
    char *at = put2(put2(buf, (unsigned)y / 100), (unsigned)y % 100);
    *at++ = '-', at = put2(at, m), *at++ = '-', at = put2(at, d), *at++ = 'T';
    at = put2(at, (unsigned)(rem / 3600)), *at++ = ':';
    at = put2(at, (unsigned)(rem / 60 % 60)), *at++ = ':';
    at = put2(at, (unsigned)(rem % 60)), *at++ = '.';
    if (sub % 1000 == 0) {
        *at++ = (char)('0' + sub / 100000), at = put2(at, sub / 1000 % 100);
    } else {
        at = put2(put2(put2(at, sub / 10000), sub / 100 % 100), sub % 100);
    }
    *at++ = 'Z';
    *at = '\0';
    return (size_t)(at - buf);
}

size_t kz_time_format(int64_t us, char *buf)
{
    if (us >= 0 && us < KZ__YEAR_10000_US)
        return format_fast(us, buf);
    return kz__time_format_printf(us, buf);
}

size_t kz__time_format_printf(int64_t us, char *buf)
{
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t sub = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    int n;

    kz_civil_from_days(days, &y, &m, &d);
    if (sub % 1000 == 0)
        n = snprintf(buf, KZ_TIME_STRLEN, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y, m,
                     d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
                     (unsigned)(sub / 1000));
    else
        n = snprintf(buf, KZ_TIME_STRLEN, "%04lld-%02u-%02uT%02u:%02u:%02u.%06uZ", (long long)y, m,
                     d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
                     (unsigned)sub);
    return n > 0 ? (size_t)n : 0;
}
