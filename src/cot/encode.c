/* encode.c - struct kz_event to canonical CoT XML; the number formatter. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/internal.h"

/*
 * Coordinates are decimals with a few fraction digits.  When m / 10^k for
 * the smallest k <= 8 is exactly v, "m with k fraction digits" is the
 * shortest form that reads back (IEEE division rounds m / 10^k the way
 * strtod rounds the decimal), and writing it by hand is ten times cheaper
 * than printf and strtod.  Returns 0 when v is not such a number.
 */
static size_t fmt_fixed(double v, char *buf)
{
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    double a = fabs(v);
    char digits[24];
    size_t n = 0, len = 0;

    if (!(a < 1e9) || (a != 0.0 && a < 1e-4))
        return 0;
    for (int k = 0; k < (int)KZ_ARRAY_LEN(p10); k++) {
        double m = nearbyint(a * p10[k]);
        if (m / p10[k] != a)
            continue;
        uint64_t u = (uint64_t)m;
        do
            digits[n++] = (char)('0' + u % 10);
        while ((u /= 10) != 0);
        while (n <= (size_t)k)
            digits[n++] = '0';
        if (signbit(v))
            buf[len++] = '-';
        while (n > (size_t)k)
            buf[len++] = digits[--n];
        if (k > 0)
            buf[len++] = '.';
        while (n > 0)
            buf[len++] = digits[--n];
        buf[len] = '\0';
        return len;
    }
    return 0;
}

size_t kz__cot_fmt_num(double v, char *buf)
{
    int n = 0;
    size_t len;

    if (v == KZ_POINT_UNKNOWN) {
        memcpy(buf, "9999999.0", 10);
        return 9;
    }
    if (!isfinite(v))
        return (size_t)snprintf(buf, KZ__COT_NUMLEN, "%s", isnan(v) ? "nan" : "inf");
    if ((len = fmt_fixed(v, buf)) != 0)
        return len;
    /*
     * %g trims trailing zeros, so the first precision that reads back is
     * the shortest form; 15 digits cover every value typed as decimal.
     */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, KZ__COT_NUMLEN, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return (size_t)n;
}

/* XML 1.0 has no way to carry these, even as references. */
static bool xml_char(uint32_t c)
{
    return c >= 0x20 ? c != 0xFFFE && c != 0xFFFF : c == 0x9 || c == 0xA || c == 0xD;
}

/*
 * Where encoded XML goes: appended to `out`, or, when it is NULL, only
 * counted, so that kz_cot_xml_size() measures by running the encoder.
 */
struct xw {
    struct kz_sbuf *out;
    size_t n;
};

/* Inline while the buffer has room: an event is some seventy small pieces. */
static inline void put(struct xw *w, const char *s, size_t n)
{
    struct kz_sbuf *o = w->out;

    w->n += n;
    if (!o)
        return;
    if (o->len + n + 1 > o->cap) {
        kz_sbuf_add(o, s, n);
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/* A string literal, its length known at compile time. */
#define PUT_LIT(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_str(struct xw *w, const char *s)
{
    put(w, s, strlen(s));
}

/* 1: a byte an attribute value holds as it is (printable ASCII but & < > "). */
/* clang-format off */
static const unsigned char attr_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

/*
 * Attribute value escaping.  Beyond kz_sbuf_add_xml() this writes tab, CR
 * and LF as references (a parser normalises literal ones to spaces) and
 * replaces what XML cannot carry with U+FFFD, so the output always parses
 * and reads back as the same string.
 */
static void add_attr_value(struct xw *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), run = 0, i = 0;

    while (i < n) {
        uint32_t c = p[i];
        size_t len;
        const char *rep;

        if (attr_plain[c]) {
            i++;
            continue;
        }
        len = kz_utf8_seq(p + i, n - i, &c);
        if (len == 0 || !xml_char(c)) {
            rep = "\xEF\xBF\xBD";
        } else {
            /* clang-format off */
            switch (c) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': rep = "&quot;"; break;
            case '\t': rep = "&#9;"; break;
            case '\n': rep = "&#10;"; break;
            case '\r': rep = "&#13;"; break;
            default: i += len; continue;
            }
            /* clang-format on */
        }
        put(w, s + run, i - run);
        put_str(w, rep);
        i += len ? len : 1;
        run = i;
    }
    put(w, s + run, n - run);
}

static void add_attr(struct xw *w, const char *name, const char *value)
{
    PUT_LIT(w, " ");
    put_str(w, name);
    PUT_LIT(w, "=\"");
    add_attr_value(w, value ? value : "");
    PUT_LIT(w, "\"");
}

/* ` name="value"` for a value that needs no escaping (times, numbers). */
static void add_plain(struct xw *w, const char *name, const char *value, size_t len)
{
    PUT_LIT(w, " ");
    put_str(w, name);
    PUT_LIT(w, "=\"");
    put(w, value, len);
    PUT_LIT(w, "\"");
}

void kz__cot_add_attr(struct kz_sbuf *out, const char *name, const char *value)
{
    struct xw w = {out, 0};

    add_attr(&w, name, value);
}

void kz_cot_detail_element(struct kz_sbuf *out, const char *name, const char *const *attrs,
                           const char *text)
{
    struct xw w = {out, 0};

    put_str(&w, "<");
    put_str(&w, name);
    for (size_t i = 0; attrs && attrs[i]; i += 2)
        add_attr(&w, attrs[i], attrs[i + 1]);
    if (!text) {
        put_str(&w, "/>");
        return;
    }
    put_str(&w, ">");
    add_attr_value(&w, text); /* escapes what text needs, and more */
    put_str(&w, "</");
    put_str(&w, name);
    put_str(&w, ">");
}

/* Years 0000-9999, the ones ISO 8601 times in CoT name: 1970 is day 0 here. */
#define YEAR_0_US (-62167219200LL * 1000000)
#define YEAR_10000_US (253402300800LL * 1000000)

static void add_time(struct xw *w, const char *name, int64_t us)
{
    char t[KZ_TIME_STRLEN];

    /* Counting: kz_time_format() writes 24 bytes, or 27 with microseconds. */
    if (!w->out && us >= YEAR_0_US && us < YEAR_10000_US) {
        w->n += strlen(name) + sizeof(" =\"\"") - 1 + (us % 1000 == 0 ? 24 : 27);
        return;
    }
    /* Digits, '-', ':', '.', 'T' and 'Z' only: nothing to escape. */
    add_plain(w, name, t, kz_time_format(us, t));
}

static void add_num(struct xw *w, const char *name, double v)
{
    char b[KZ__COT_NUMLEN];

    /* Digits, sign, point, exponent, "nan", "inf": nothing to escape. */
    add_plain(w, name, b, kz__cot_fmt_num(v, b));
}

/* Optional attributes are written only when set and not empty. */
static void add_opt(struct xw *w, const char *name, const char *value)
{
    if (value && *value)
        add_attr(w, name, value);
}

/* The access attribute; when counting, at least `min` bytes of value. */
static void add_access(struct xw *w, const char *access, size_t min)
{
    size_t before = w->n;

    add_opt(w, "access", access);
    if (!w->out && min) {
        size_t frame = sizeof(" access=\"\"") - 1, value = w->n - before;
        value = value > frame ? value - frame : 0;
        w->n = before + frame + (value > min ? value : min);
    }
}

static void encode(const struct kz_event *ev, struct xw *w, size_t access_min)
{
    PUT_LIT(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<event");
    add_attr(w, "version", ev->version ? ev->version : "2.0");
    add_attr(w, "uid", ev->uid);
    add_attr(w, "type", ev->type);
    add_opt(w, "how", ev->how);
    add_time(w, "time", ev->time);
    add_time(w, "start", ev->start);
    add_time(w, "stale", ev->stale);
    add_access(w, ev->access, access_min);
    add_opt(w, "qos", ev->qos);
    add_opt(w, "opex", ev->opex);
    PUT_LIT(w, "><point");
    add_num(w, "lat", ev->lat);
    add_num(w, "lon", ev->lon);
    add_num(w, "hae", ev->hae);
    add_num(w, "ce", ev->ce);
    add_num(w, "le", ev->le);
    PUT_LIT(w, "/>");
    if (ev->detail) {
        PUT_LIT(w, "<detail>");
        put(w, ev->detail, ev->detail_len);
        PUT_LIT(w, "</detail>");
    }
    PUT_LIT(w, "</event>");
}

void kz_cot_encode_xml(const struct kz_event *ev, struct kz_sbuf *out)
{
    struct xw w = {out, 0};

    kz_sbuf_grow(out, 320 + (ev->detail ? ev->detail_len : 0));
    encode(ev, &w, 0);
}

size_t kz_cot_xml_size(const struct kz_event *ev)
{
    return kz__cot_xml_size_reserved(ev, 0);
}

size_t kz__cot_xml_size_bound(const char *const *values, unsigned n, size_t extra,
                              size_t detail_len)
{
    size_t sum = extra;

    for (unsigned i = 0; i < n; i++)
        sum += values[i] ? strlen(values[i]) : 0;
    return 512 + 6 * sum + 3 * KZ_TIME_STRLEN + 5 * KZ__COT_NUMLEN + detail_len;
}

size_t kz__cot_xml_size_reserved(const struct kz_event *ev, size_t access_min)
{
    struct xw w = {NULL, 0};

    encode(ev, &w, access_min);
    return w.n;
}
