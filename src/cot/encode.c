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
 * Attribute value escaping.  Beyond kz_sbuf_add_xml() this writes tab, CR
 * and LF as references (a parser normalises literal ones to spaces) and
 * replaces what XML cannot carry with U+FFFD, so the output always parses
 * and reads back as the same string.
 */
static void add_attr_value(struct kz_sbuf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), run = 0, i = 0;

    while (i < n) {
        uint32_t c = p[i];
        size_t len;
        const char *rep;

        if (c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' && c != '"') {
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
        kz_sbuf_add(out, s + run, i - run);
        kz_sbuf_adds(out, rep);
        i += len ? len : 1;
        run = i;
    }
    kz_sbuf_add(out, s + run, n - run);
}

void kz__cot_add_attr(struct kz_sbuf *out, const char *name, const char *value)
{
    kz_sbuf_adds(out, " ");
    kz_sbuf_adds(out, name);
    kz_sbuf_adds(out, "=\"");
    add_attr_value(out, value ? value : "");
    kz_sbuf_adds(out, "\"");
}

static void add_time(struct kz_sbuf *out, const char *name, int64_t us)
{
    char t[KZ_TIME_STRLEN];

    kz_time_format(us, t);
    kz__cot_add_attr(out, name, t);
}

static void add_num(struct kz_sbuf *out, const char *name, double v)
{
    char b[KZ__COT_NUMLEN];

    kz__cot_fmt_num(v, b);
    kz__cot_add_attr(out, name, b);
}

void kz_cot_encode_xml(const struct kz_event *ev, struct kz_sbuf *out)
{
    kz_sbuf_grow(out, 320 + (ev->detail ? ev->detail_len : 0));
    kz_sbuf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<event");
    kz__cot_add_attr(out, "version", ev->version ? ev->version : "2.0");
    kz__cot_add_attr(out, "uid", ev->uid);
    kz__cot_add_attr(out, "type", ev->type);
    kz__cot_add_attr(out, "how", ev->how);
    add_time(out, "time", ev->time);
    add_time(out, "start", ev->start);
    add_time(out, "stale", ev->stale);
    if (ev->access && *ev->access)
        kz__cot_add_attr(out, "access", ev->access);
    if (ev->qos && *ev->qos)
        kz__cot_add_attr(out, "qos", ev->qos);
    if (ev->opex && *ev->opex)
        kz__cot_add_attr(out, "opex", ev->opex);
    kz_sbuf_adds(out, "><point");
    add_num(out, "lat", ev->lat);
    add_num(out, "lon", ev->lon);
    add_num(out, "hae", ev->hae);
    add_num(out, "ce", ev->ce);
    add_num(out, "le", ev->le);
    kz_sbuf_adds(out, "/>");
    if (ev->detail) {
        kz_sbuf_adds(out, "<detail>");
        kz_sbuf_add(out, ev->detail, ev->detail_len);
        kz_sbuf_adds(out, "</detail>");
    }
    kz_sbuf_adds(out, "</event>");
}
