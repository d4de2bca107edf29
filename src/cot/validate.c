/*
 * validate.c - the <event> and <point> attribute rules: presence, type and
 * how syntax, ISO 8601 UTC times, stale >= start, coordinate ranges.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cot/internal.h"

int kz__cot_fail(struct kz__cot_err *e, enum kz_reject reason, const char *fmt, ...)
{
    va_list ap;

    e->reason = reason;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return KZ_ERR_PARSE;
}

/*
 * A peer's value made fit for a one-line message: control bytes replaced,
 * cut at a character boundary after 40 bytes.
 */
static const char *shown(char buf[48], const char *s)
{
    size_t n = strlen(s), keep = n > 40 ? 40 : n;

    while (keep < n && keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
        keep--;
    for (size_t i = 0; i < keep; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    memcpy(buf + keep, keep < n ? "..." : "", keep < n ? 4 : 1);
    return buf;
}

static bool is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* \w+(-\w+)*, returning the end of the match or NULL. */
static const char *words(const char *s)
{
    for (;;) {
        if (!is_word(*s))
            return NULL;
        while (is_word(*s))
            s++;
        if (*s != '-')
            return s;
        s++;
    }
}

/* type: \w+(-\w+)*(;[^;]*)? */
static bool type_ok(const char *s)
{
    s = words(s);
    if (!s)
        return false;
    if (*s == ';')
        return strchr(s + 1, ';') == NULL;
    return *s == '\0';
}

/* how: \w(-\w+)* - the first segment is one character. */
static bool how_ok(const char *s)
{
    if (!is_word(s[0]) || (s[1] != '\0' && s[1] != '-'))
        return false;
    if (s[1] == '\0')
        return true;
    s = words(s + 2);
    return s && *s == '\0';
}

enum {
    A_VERSION,
    A_UID,
    A_TYPE,
    A_HOW,
    A_TIME,
    A_START,
    A_STALE,
    A_ACCESS,
    A_QOS,
    A_OPEX,
    A__COUNT
};

static const char *const event_attr_names[A__COUNT] = {
    "version", "uid", "type", "how", "time", "start", "stale", "access", "qos", "opex",
};

/*
 * Each attribute's value into out[k] for names[k].  The search for a name
 * starts after the last one found: attributes mostly come in the order of
 * `names`, so most take one comparison.
 */
static void pick(const char **atts, const char *const *names, size_t n, const char **out)
{
    size_t next = 0;

    for (size_t i = 0; atts[i]; i += 2) {
        for (size_t j = 0; j < n; j++) {
            size_t k = (next + j) % n;
            if (strcmp(atts[i], names[k]) == 0) {
                out[k] = atts[i + 1];
                next = k + 1;
                break;
            }
        }
    }
}

/* The three times; `known` (or NULL): what they read as, without reading them. */
static int parse_times(struct kz_event *ev, const char **v, const int64_t *known,
                       struct kz__cot_err *e)
{
    int64_t *dst[] = {&ev->time, &ev->start, &ev->stale};
    char b1[48], b2[48];

    for (int i = 0; i < 3; i++) {
        const char *s = v[A_TIME + i];
        if (known)
            *dst[i] = known[i];
        else if (kz_time_parse(s, strlen(s), dst[i]) != KZ_OK)
            return kz__cot_fail(e, KZ_REJ_TIME, "%s '%s' is not an ISO 8601 UTC time",
                                event_attr_names[A_TIME + i], shown(b1, s));
    }
    if (ev->stale < ev->start)
        return kz__cot_fail(e, KZ_REJ_STALE, "stale %s before start %s", shown(b1, v[A_STALE]),
                            shown(b2, v[A_START]));
    return KZ_OK;
}

/* Optional attributes: empty means absent (node-cot sends qos="" and the like). */
static char *optional(const char *s)
{
    return s && *s ? kz_xstrdup(s) : NULL;
}

/*
 * access="Undefined" is what ATAK 5.x, WinTAK and iTAK write when the user
 * chose no marking: no label at all, so the input's default applies.
 */
static char *access_of(const char *s)
{
    return s && strcasecmp(s, "Undefined") == 0 ? NULL : optional(s);
}

/* Bytes each free attribute may hold (the rest have a syntax): see docs/api.md. */
static const size_t attr_cap[A__COUNT] = {
    [A_VERSION] = KZ_COT_VERSION_MAX, [A_UID] = KZ_COT_UID_MAX,   [A_ACCESS] = KZ_COT_ACCESS_MAX,
    [A_QOS] = KZ_COT_QOS_MAX,         [A_OPEX] = KZ_COT_OPEX_MAX,
};

static int check_present(const char **v, struct kz__cot_err *e)
{
    for (int i = A_VERSION; i <= A_STALE; i++) {
        /* Some iTAK tools send no how: accepted, and left out on output. */
        if (i == A_HOW && (!v[i] || !*v[i]))
            continue;
        if (!v[i])
            return kz__cot_fail(e, KZ_REJ_MISSING, "missing attribute '%s'", event_attr_names[i]);
        if (!*v[i])
            return kz__cot_fail(e, KZ_REJ_MISSING, "empty attribute '%s'", event_attr_names[i]);
    }
    for (int i = 0; i < A__COUNT; i++) {
        if (attr_cap[i] && v[i] && strlen(v[i]) > attr_cap[i]) {
            kz__cot_fail(e, KZ_REJ_TOO_BIG, "attribute '%s' is longer than %zu bytes",
                         event_attr_names[i], attr_cap[i]);
            return KZ_ERR_TOOBIG;
        }
    }
    return KZ_OK;
}

int kz__cot_event_attrs(struct kz_event *ev, const char **atts, struct kz__cot_err *e)
{
    return kz__cot_event_attrs_timed(ev, atts, NULL, e);
}

int kz__cot_event_attrs_timed(struct kz_event *ev, const char **atts, const int64_t *times,
                              struct kz__cot_err *e)
{
    const char *v[A__COUNT] = {0};
    char b[48];
    int rc;

    pick(atts, event_attr_names, A__COUNT, v);
    if ((rc = check_present(v, e)) != KZ_OK)
        return rc;
    if (!type_ok(v[A_TYPE]))
        return kz__cot_fail(e, KZ_REJ_TYPE, "type '%s' is not a CoT type", shown(b, v[A_TYPE]));
    if (v[A_HOW] && *v[A_HOW] && !how_ok(v[A_HOW]))
        return kz__cot_fail(e, KZ_REJ_TYPE, "how '%s' is not a CoT how", shown(b, v[A_HOW]));
    if ((rc = parse_times(ev, v, times, e)) != KZ_OK)
        return rc;
    ev->version = kz_xstrdup(v[A_VERSION]);
    ev->uid = kz_xstrdup(v[A_UID]);
    ev->type = kz_xstrdup(v[A_TYPE]);
    ev->how = optional(v[A_HOW]);
    ev->access = access_of(v[A_ACCESS]);
    ev->qos = optional(v[A_QOS]);
    ev->opex = optional(v[A_OPEX]);
    return KZ_OK;
}

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * [-]digits[.digits] with at most 15 digits, then blanks: the shape every
 * coordinate has.  The digits are exact as an integer m and 10^k is exact,
 * so m / 10^k (IEEE division rounds correctly) is the double strtod reads,
 * at a tenth of its cost.  False, with *out untouched, for anything else.
 */
static bool parse_short_decimal(const char *p, double *out)
{
    static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    bool neg = *p == '-';
    uint64_t m = 0;
    unsigned digits = 0, frac = 0;

    p += neg;
    for (; *p >= '0' && *p <= '9' && digits <= 15; p++, digits++)
        m = m * 10 + (uint64_t)(*p - '0');
    if (!digits)
        return false;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && digits <= 15; p++, digits++, frac++)
            m = m * 10 + (uint64_t)(*p - '0');
        if (!frac)
            return false;
    }
    if (digits > 15)
        return false;
    while (xml_space(*p))
        p++;
    if (*p)
        return false;
    double v = (double)m / p10[frac];
    *out = neg ? -v : v;
    return true;
}

/*
 * A decimal number as xs:double writes it, without INF/NaN: strtod alone
 * would also take hex, "inf" and "nan".  Assumes the "C" numeric locale,
 * which the server never changes.
 */
static bool parse_num(const char *s, double *out)
{
    const char *p = s;
    char *end;
    bool digit = false;

    while (xml_space(*p))
        p++;
    if (parse_short_decimal(p, out))
        return true;
    for (const char *q = p; *q && !xml_space(*q); q++) {
        if (*q >= '0' && *q <= '9')
            digit = true;
        else if (!strchr("+-.eE", *q))
            return false;
    }
    if (!digit)
        return false;
    *out = strtod(p, &end);
    while (xml_space(*end))
        end++;
    return end != p && *end == '\0' && isfinite(*out);
}

/* "NaN" in any case, blanks around it allowed. */
static bool is_nan(const char *s)
{
    while (xml_space(*s))
        s++;
    if (strncasecmp(s, "nan", 3) != 0)
        return false;
    for (s += 3; xml_space(*s);)
        s++;
    return *s == '\0';
}

enum { P_LAT, P_LON, P_HAE, P_CE, P_LE, P__COUNT };

static const char *const point_attr_names[P__COUNT] = {"lat", "lon", "hae", "ce", "le"};

static bool in_range(int which, double v)
{
    switch (which) {
    case P_LAT:
        return v >= -90.0 && v <= 90.0;
    case P_LON:
        return v >= -180.0 && v <= 180.0;
    case P_CE:
    case P_LE:
        return v >= 0.0;
    default:
        return true;
    }
}

int kz__cot_point_attrs(struct kz_event *ev, const char **atts, struct kz__cot_err *e)
{
    const char *v[P__COUNT] = {0};
    double *dst[P__COUNT] = {&ev->lat, &ev->lon, &ev->hae, &ev->ce, &ev->le};
    char b[48];

    pick(atts, point_attr_names, P__COUNT, v);
    for (int i = 0; i < P__COUNT; i++) {
        double d;
        if (!v[i]) {
            /* Everyone sends all five, but only a position is essential. */
            if (i <= P_LON)
                return kz__cot_fail(e, KZ_REJ_MISSING, "missing attribute '%s' on <point>",
                                    point_attr_names[i]);
            continue;
        }
        if (i >= P_HAE && is_nan(v[i])) {
            /* ATAK's file-transfer events carry hae="NaN": unknown, as 9999999. */
            *dst[i] = KZ_POINT_UNKNOWN;
            continue;
        }
        if (!parse_num(v[i], &d))
            return kz__cot_fail(e, KZ_REJ_POINT, "%s '%s' is not a number", point_attr_names[i],
                                shown(b, v[i]));
        if (i >= P_HAE && (d == KZ_POINT_UNKNOWN || d == 999999.0)) {
            /* Six nines is the .proto comments' spelling of unknown; keep one. */
            *dst[i] = KZ_POINT_UNKNOWN;
            continue;
        }
        if (!in_range(i, d))
            return kz__cot_fail(e, KZ_REJ_POINT, "%s %s out of range", point_attr_names[i],
                                shown(b, v[i]));
        *dst[i] = d;
    }
    return KZ_OK;
}
