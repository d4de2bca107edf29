/*
 * tz.c - UTC offsets of IANA zones, read from the system's TZif files
 * (RFC 8536) with the POSIX TZ footer for times after the last transition.
 *
 * Why not setenv("TZ") + localtime_r(): that changes process-wide state and
 * races with every other thread that formats a local time.  The files are
 * small, so each zone is read once, bounded, and cached for the process.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alliance/internal.h"

#define TZ_DIR_ENV "KZ_ZONEINFO"
#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_MAX_FILE (256 * 1024)
#define TZ_MAX_ZONES 64

struct rule_date {
    char kind;    /* 'M' month.week.day, 'J' julian 1..365, 'n' zero-based with leap */
    int m, w, d;  /* M: month, week, weekday; J/n: day in d */
    int32_t time; /* seconds after local midnight */
};

struct zone {
    char name[64];
    uint32_t n_trans, n_types;
    int64_t *trans;
    uint8_t *idx;
    int32_t *utoff;
    bool has_rule, has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    struct rule_date start, end;
};

/*
 * Process-wide: a cache of the system's zoneinfo files, which are the same
 * for every model and every server in the process.  Zones are read once,
 * never change, and are shared by the loop and the reload workers, hence
 * the lock.
 */
static pthread_mutex_t zones_lock = PTHREAD_MUTEX_INITIALIZER;
static struct zone *zones[TZ_MAX_ZONES];
static unsigned n_zones;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- POSIX TZ strings ("JST-9", "EST5EDT,M3.2.0,M11.1.0") ------------------ */

static bool parse_name(const char **s)
{
    const char *p = *s;
    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        if (*p != '>')
            return false;
        *s = p + 1;
        return true;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    if (p - *s < 3)
        return false;
    *s = p;
    return true;
}

static int parse_num(const char **s, int max)
{
    int v = 0;
    if (**s < '0' || **s > '9')
        return -1;
    while (**s >= '0' && **s <= '9' && v <= max)
        v = v * 10 + (*(*s)++ - '0');
    return v <= max ? v : -1;
}

/* [+-]hh[:mm[:ss]] in seconds (POSIX sign: positive is west). */
static bool parse_hms(const char **s, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;

    if (**s == '+' || **s == '-')
        sign = *(*s)++ == '-' ? -1 : 1;
    if ((h = parse_num(s, 167)) < 0)
        return false;
    if (**s == ':' && (++*s, (m = parse_num(s, 59)) < 0))
        return false;
    if (**s == ':' && (++*s, (sec = parse_num(s, 59)) < 0))
        return false;
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
}

static bool parse_rule_date(const char **s, struct rule_date *r)
{
    r->time = 7200;
    if (**s == 'M') {
        ++*s;
        r->kind = 'M';
        if ((r->m = parse_num(s, 12)) < 1 || *(*s)++ != '.' || (r->w = parse_num(s, 5)) < 1 ||
            *(*s)++ != '.' || (r->d = parse_num(s, 6)) < 0)
            return false;
    } else {
        r->kind = **s == 'J' ? 'J' : 'n';
        if (**s == 'J')
            ++*s;
        if ((r->d = parse_num(s, 365)) < 0)
            return false;
    }
    return **s != '/' || (++*s, parse_hms(s, &r->time));
}

static bool parse_posix(struct zone *z, const char *s)
{
    int32_t std, dst;

    if (!parse_name(&s) || !parse_hms(&s, &std))
        return false;
    z->std_off = -std;
    z->has_rule = true;
    if (*s == '\0')
        return true;
    if (!parse_name(&s))
        return false;
    dst = std - 3600;
    if (*s != ',' && *s != '\0' && !parse_hms(&s, &dst))
        return false;
    z->dst_off = -dst;
    z->has_dst = true;
    if (*s++ != ',' || !parse_rule_date(&s, &z->start) || *s++ != ',' ||
        !parse_rule_date(&s, &z->end))
        return false;
    return *s == '\0';
}

static bool leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local (wall-clock) seconds since the epoch at which rule date r falls in year y. */
static int64_t rule_local(const struct rule_date *r, int64_t y)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t day;

    if (r->kind == 'J') {
        day = kz_days_from_civil(y, 1, 1) + r->d - 1;
        if (leap_year(y) && r->d >= 60)
            day++;
    } else if (r->kind == 'n') {
        day = kz_days_from_civil(y, 1, 1) + r->d;
    } else {
        int64_t first = kz_days_from_civil(y, (unsigned)r->m, 1);
        int wd1 = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        int mlen = mdays[r->m - 1] + (r->m == 2 && leap_year(y));
        int dom = 1 + (r->d - wd1 + 7) % 7 + 7 * (r->w - 1);
        while (dom > mlen)
            dom -= 7;
        day = first + dom - 1;
    }
    return day * 86400 + r->time;
}

static int32_t rule_offset(const struct zone *z, int64_t t)
{
    int64_t y;
    unsigned m, d;

    if (!z->has_dst)
        return z->std_off;
    int64_t lt = t + z->std_off;
    kz_civil_from_days(lt / 86400 - (lt % 86400 < 0), &y, &m, &d);
    /* The start is written in standard time, the end in daylight time. */
    int64_t start = rule_local(&z->start, y) - z->std_off;
    int64_t end = rule_local(&z->end, y) - z->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? z->dst_off : z->std_off;
}

/* ---- TZif ------------------------------------------------------------------ */

static size_t block_len(const unsigned char *h, size_t tsize)
{
    uint32_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28);
    uint32_t timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
    return timecnt * (tsize + 1) + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
}

static bool header_ok(const unsigned char *h, size_t left)
{
    if (left < 44 || memcmp(h, "TZif", 4) != 0)
        return false;
    uint32_t timecnt = be32(h + 32), typecnt = be32(h + 36);
    return timecnt <= 4096 && typecnt >= 1 && typecnt <= 256 && be32(h + 28) <= 1024 &&
           be32(h + 40) <= 4096 && be32(h + 20) <= 256 && be32(h + 24) <= 256;
}

static bool read_block(struct zone *z, const unsigned char *h, size_t tsize, size_t left)
{
    uint32_t timecnt = be32(h + 32), typecnt = be32(h + 36);
    const unsigned char *p = h + 44;

    if (left < 44 + block_len(h, tsize))
        return false;
    z->n_trans = timecnt;
    z->n_types = typecnt;
    z->trans = kz_xcalloc(timecnt + 1, sizeof(int64_t));
    z->idx = kz_xcalloc(timecnt + 1, 1);
    z->utoff = kz_xcalloc(typecnt, sizeof(int32_t));
    for (uint32_t i = 0; i < timecnt; i++, p += tsize)
        z->trans[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
    for (uint32_t i = 0; i < timecnt; i++) {
        z->idx[i] = *p++;
        if (z->idx[i] >= typecnt)
            return false;
    }
    for (uint32_t i = 0; i < typecnt; i++, p += 6)
        z->utoff[i] = (int32_t)be32(p);
    return true;
}

static bool parse_tzif(struct zone *z, const unsigned char *buf, size_t len)
{
    if (!header_ok(buf, len))
        return false;
    if (buf[4] < '2')
        return read_block(z, buf, 4, len);
    size_t skip = 44 + block_len(buf, 4);
    if (skip > len || !header_ok(buf + skip, len - skip) ||
        !read_block(z, buf + skip, 8, len - skip))
        return false;
    size_t foot = skip + 44 + block_len(buf + skip, 8);
    if (foot < len && buf[foot] == '\n') {
        const unsigned char *nl = memchr(buf + foot + 1, '\n', len - foot - 1);
        char tzs[128];
        size_t n = nl ? (size_t)(nl - buf - foot - 1) : 0;
        if (n > 0 && n < sizeof(tzs)) {
            memcpy(tzs, buf + foot + 1, n);
            tzs[n] = '\0';
            if (!parse_posix(z, tzs))
                z->has_rule = z->has_dst = false;
        }
    }
    return true;
}

static void zone_free(struct zone *z)
{
    if (z) {
        free(z->trans);
        free(z->idx);
        free(z->utoff);
        free(z);
    }
}

static bool name_ok(const char *tz)
{
    size_t n = strlen(tz);
    if (n == 0 || n >= sizeof(((struct zone *)0)->name) || tz[0] == '/' || strstr(tz, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((tz[i] >= 'A' && tz[i] <= 'Z') || (tz[i] >= 'a' && tz[i] <= 'z') ||
              (tz[i] >= '0' && tz[i] <= '9') || strchr("/_-+", tz[i])))
            return false;
    return true;
}

static struct zone *zone_read(const char *tz)
{
    const char *dir = getenv(TZ_DIR_ENV);
    unsigned char *buf = kz_xmalloc(TZ_MAX_FILE);
    struct zone *z = kz_xcalloc(1, sizeof(*z));
    char path[512];
    size_t len = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : TZ_DIR, tz);
    if ((f = fopen(path, "rb")) != NULL) {
        len = fread(buf, 1, TZ_MAX_FILE, f);
        fclose(f);
    }
    if (!len || !parse_tzif(z, buf, len)) {
        zone_free(z);
        z = NULL;
    } else {
        snprintf(z->name, sizeof(z->name), "%s", tz);
    }
    free(buf);
    return z;
}

static const struct zone *zone_get(const char *tz)
{
    struct zone *z = NULL;

    pthread_mutex_lock(&zones_lock);
    for (unsigned i = 0; i < n_zones && !z; i++)
        if (strcmp(zones[i]->name, tz) == 0)
            z = zones[i];
    if (!z && n_zones < TZ_MAX_ZONES && (z = zone_read(tz)) != NULL)
        zones[n_zones++] = z;
    pthread_mutex_unlock(&zones_lock);
    return z;
}

static int32_t zone_offset(const struct zone *z, int64_t utc_s)
{
    if (z->n_trans == 0 || utc_s < z->trans[0])
        return z->n_trans == 0 && z->has_rule ? rule_offset(z, utc_s) : z->utoff[0];
    if (utc_s >= z->trans[z->n_trans - 1] && z->has_rule)
        return rule_offset(z, utc_s);
    uint32_t lo = 0, hi = z->n_trans; /* last transition <= utc_s */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= utc_s)
            lo = mid;
        else
            hi = mid;
    }
    return z->utoff[z->idx[lo]];
}

int kz_tz_offset(const char *tz, int64_t utc_s, int32_t *off_s)
{
    const struct zone *z;

    if (!tz || !name_ok(tz))
        return KZ_ERR_PARSE;
    if ((z = zone_get(tz)) == NULL)
        return KZ_ERR_NOTFOUND;
    *off_s = zone_offset(z, utc_s);
    return KZ_OK;
}

int kz_tz_offset_tzif(const void *buf, size_t len, int64_t utc_s, int32_t *off_s)
{
    struct zone *z = kz_xcalloc(1, sizeof(*z));
    int rc = KZ_ERR_PARSE;

    if (len <= TZ_MAX_FILE && parse_tzif(z, buf, len)) {
        *off_s = zone_offset(z, utc_s);
        rc = KZ_OK;
    }
    zone_free(z);
    return rc;
}
