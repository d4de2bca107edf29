/*
 * ics.c - a plan as iCalendar (RFC 5545) text: the window and the timeline
 * items as VEVENTs in UTC.  Each content line is built unfolded in a scratch
 * buffer, then folded into the output, so escaping and folding stay apart.
 */
#include <stdio.h>
#include <string.h>

#include "plan/ics.h"

#define ICS_LINE_MAX 75 /* octets per physical line, CRLF excluded (§3.1) */
#define ICS_ITEM_US (3600 * INT64_C(1000000))
#define ICS_STAMP_LEN 32 /* "YYYYMMDDTHHMMSSZ" and room for any int64 year */

/* Append one content line folded at 75 octets, never inside a UTF-8 sequence. */
static void add_folded(struct kz_sbuf *out, const char *line, size_t len)
{
    size_t col = 0;

    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = kz_utf8_seq((const unsigned char *)line + i, len - i, &cp);
        if (n == 0)
            n = 1; /* not reached: add_text() writes valid UTF-8 only */
        if (col + n > ICS_LINE_MAX) {
            kz_sbuf_adds(out, "\r\n ");
            col = 1;
        }
        kz_sbuf_add(out, line + i, n);
        col += n;
        i += n;
    }
    kz_sbuf_adds(out, "\r\n");
}

static void add_ascii_text(struct kz_sbuf *sb, const char *s, size_t i)
{
    switch (s[i]) {
    case '\\':
    case ';':
    case ',':
        kz_sbuf_addf(sb, "\\%c", s[i]);
        break;
    case '\r':
        if (s[i + 1] != '\n')
            kz_sbuf_adds(sb, "\\n");
        break;
    case '\n':
        kz_sbuf_adds(sb, "\\n");
        break;
    default:
        /* TEXT allows no control character but HTAB (§3.3.11). */
        if (((unsigned char)s[i] >= 0x20 && s[i] != 0x7f) || s[i] == '\t')
            kz_sbuf_add(sb, s + i, 1);
    }
}

/* Append `s` as an escaped TEXT value; invalid UTF-8 becomes U+FFFD. */
static void add_text(struct kz_sbuf *sb, const char *s)
{
    size_t len = strlen(s);

    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n;
        if ((unsigned char)s[i] < 0x80) {
            add_ascii_text(sb, s, i++);
            continue;
        }
        n = kz_utf8_seq((const unsigned char *)s + i, len - i, &cp);
        if (n == 0) {
            kz_sbuf_adds(sb, "\xef\xbf\xbd");
            n = 1;
        } else {
            kz_sbuf_add(sb, s + i, n);
        }
        i += n;
    }
}

static void emit(struct kz_sbuf *out, struct kz_sbuf *line)
{
    add_folded(out, line->buf, line->len);
    kz_sbuf_reset(line);
}

static void prop_raw(struct kz_sbuf *out, struct kz_sbuf *line, const char *name, const char *v)
{
    kz_sbuf_addf(line, "%s:%s", name, v);
    emit(out, line);
}

static void prop_text(struct kz_sbuf *out, struct kz_sbuf *line, const char *name, const char *v)
{
    kz_sbuf_addf(line, "%s:", name);
    add_text(line, v);
    emit(out, line);
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

/* "YYYYMMDDTHHMMSSZ" (DATE-TIME, UTC form) of `us`, seconds truncated. */
static void utc_stamp(int64_t us, char buf[static ICS_STAMP_LEN])
{
    int64_t s = us / 1000000 - (us % 1000000 < 0), days = s / 86400 - (s % 86400 < 0);
    int64_t sec = s - days * 86400, y;
    unsigned m, d;

    kz_civil_from_days(days, &y, &m, &d);
    snprintf(buf, ICS_STAMP_LEN, "%04d%02u%02uT%02d%02d%02dZ", (int)y, m, d, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60));
}

static bool get_time(const json_t *o, const char *key, int64_t *us)
{
    const char *s = str(o, key);
    return s && kz_time_parse(s, strlen(s), us) == KZ_OK;
}

static void prop_time(struct kz_sbuf *out, struct kz_sbuf *line, const char *name, int64_t us)
{
    char buf[ICS_STAMP_LEN];

    utc_stamp(us, buf);
    prop_raw(out, line, name, buf);
}

/* SUMMARY: "(BANNER) text", the banner only when there is a label. */
static void summary(struct kz_sbuf *out, struct kz_sbuf *line, const char *banner, const char *text)
{
    struct kz_sbuf v = KZ_SBUF_INIT;

    if (banner)
        kz_sbuf_addf(&v, "(%s) ", banner);
    kz_sbuf_adds(&v, text);
    prop_text(out, line, "SUMMARY", v.buf);
    kz_sbuf_release(&v);
}

/* "A, B, C" of a JSON array of strings into sb; false when it has none. */
static bool join(struct kz_sbuf *sb, const json_t *arr)
{
    size_t i, n = 0;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v))
            kz_sbuf_addf(sb, "%s%s", n++ ? ", " : "", json_string_value(v));
    }
    return n > 0;
}

static void add_field(struct kz_sbuf *d, const char *name, const char *v)
{
    if (v)
        kz_sbuf_addf(d, "%s%s: %s", d->len ? "\n" : "", name, v);
}

static void window_description(const json_t *plan, struct kz_sbuf *d)
{
    struct kz_sbuf parts = KZ_SBUF_INIT;

    add_field(d, "Kind", str(plan, "kind"));
    add_field(d, "Legal basis", str(plan, "legal_basis"));
    add_field(d, "Stage", str(plan, "stage"));
    add_field(d, "Lead", str(plan, "lead"));
    if (join(&parts, json_object_get(plan, "participants")))
        add_field(d, "Participants", parts.buf);
    add_field(d, "Consultation", str(plan, "consultation"));
    add_field(d, "Label", str(plan, "label"));
    kz_sbuf_release(&parts);
}

static void window_event(const json_t *plan, const char *stamp, int64_t start, int64_t end,
                         struct kz_sbuf *out, struct kz_sbuf *line)
{
    struct kz_sbuf d = KZ_SBUF_INIT;

    prop_raw(out, line, "BEGIN", "VEVENT");
    kz_sbuf_adds(line, "UID:");
    add_text(line, str(plan, "id"));
    kz_sbuf_adds(line, "@kizuna");
    emit(out, line);
    prop_raw(out, line, "DTSTAMP", stamp);
    prop_time(out, line, "DTSTART", start);
    prop_time(out, line, "DTEND", end);
    summary(out, line, str(plan, "label"), str(plan, "title"));
    window_description(plan, &d);
    if (d.len)
        prop_text(out, line, "DESCRIPTION", d.buf);
    prop_raw(out, line, "END", "VEVENT");
    kz_sbuf_release(&d);
}

/* The item's own label, else the plan's own label (the contract's default). */
static const char *item_label(const json_t *plan, const json_t *item)
{
    const char *l = str(item, "label");
    return l ? l : str(plan, "own_label") ? str(plan, "own_label") : str(plan, "label");
}

static void item_uid(const json_t *plan, const json_t *item, size_t index, struct kz_sbuf *line)
{
    const json_t *id = json_object_get(item, "id");

    kz_sbuf_adds(line, "UID:");
    add_text(line, str(plan, "id"));
    if (json_is_integer(id))
        kz_sbuf_addf(line, "-%lld", (long long)json_integer_value(id));
    else if (json_is_string(id)) {
        kz_sbuf_adds(line, "-");
        add_text(line, json_string_value(id));
    } else
        kz_sbuf_addf(line, "-%zu", index + 1);
    kz_sbuf_adds(line, "@kizuna");
}

/* LOCATION and GEO; GEO only for a position on the globe (§3.8.1.6). */
static void item_place(const json_t *item, struct kz_sbuf *out, struct kz_sbuf *line)
{
    const json_t *lat = json_object_get(item, "lat"), *lon = json_object_get(item, "lon");

    if (str(item, "place"))
        prop_text(out, line, "LOCATION", str(item, "place"));
    if (!json_is_number(lat) || !json_is_number(lon))
        return;
    double la = json_number_value(lat), lo = json_number_value(lon);
    if (la < -90 || la > 90 || lo < -180 || lo > 180)
        return;
    kz_sbuf_addf(line, "GEO:%.6f;%.6f", la, lo);
    emit(out, line);
}

static void item_description(const json_t *plan, const json_t *item, struct kz_sbuf *d)
{
    struct kz_sbuf units = KZ_SBUF_INIT;

    if (str(item, "description"))
        kz_sbuf_adds(d, str(item, "description"));
    if (join(&units, json_object_get(item, "units")))
        add_field(d, "Units", units.buf);
    add_field(d, "Label", item_label(plan, item));
    kz_sbuf_release(&units);
}

/* The first line of the item's description, for its SUMMARY. */
static void item_summary(const json_t *plan, const json_t *item, struct kz_sbuf *out,
                         struct kz_sbuf *line)
{
    const char *desc = str(item, "description");
    struct kz_sbuf first = KZ_SBUF_INIT;

    if (desc)
        kz_sbuf_add(&first, desc, strcspn(desc, "\r\n"));
    if (first.len == 0)
        kz_sbuf_adds(&first, str(item, "place") ? str(item, "place") : str(plan, "title"));
    summary(out, line, item_label(plan, item), first.buf);
    kz_sbuf_release(&first);
}

static int item_event(const json_t *plan, const json_t *item, size_t index, const char *stamp,
                      struct kz_sbuf *out, struct kz_sbuf *line)
{
    struct kz_sbuf d = KZ_SBUF_INIT;
    int64_t t;

    if (!json_is_object(item) || !get_time(item, "time", &t))
        return KZ_ERR_INVAL;
    prop_raw(out, line, "BEGIN", "VEVENT");
    item_uid(plan, item, index, line);
    emit(out, line);
    prop_raw(out, line, "DTSTAMP", stamp);
    prop_time(out, line, "DTSTART", t);
    prop_time(out, line, "DTEND", t + ICS_ITEM_US);
    item_summary(plan, item, out, line);
    item_place(item, out, line);
    item_description(plan, item, &d);
    if (d.len)
        prop_text(out, line, "DESCRIPTION", d.buf);
    prop_raw(out, line, "END", "VEVENT");
    kz_sbuf_release(&d);
    return KZ_OK;
}

static int calendar(const json_t *plan, int64_t start, int64_t end, struct kz_sbuf *out)
{
    struct kz_sbuf line = KZ_SBUF_INIT;
    const json_t *item;
    char stamp[ICS_STAMP_LEN];
    int64_t updated;
    size_t i;
    int rc = KZ_OK;

    utc_stamp(get_time(plan, "updated", &updated) ? updated : kz_now_us(), stamp);
    prop_raw(out, &line, "BEGIN", "VCALENDAR");
    prop_raw(out, &line, "VERSION", "2.0");
    prop_raw(out, &line, "PRODID", "-//kizuna//plans//EN");
    prop_raw(out, &line, "CALSCALE", "GREGORIAN");
    window_event(plan, stamp, start, end, out, &line);
    json_array_foreach(json_object_get(plan, "items"), i, item)
    {
        if ((rc = item_event(plan, item, i, stamp, out, &line)) != KZ_OK)
            break;
    }
    prop_raw(out, &line, "END", "VCALENDAR");
    kz_sbuf_release(&line);
    return rc;
}

int kz_plan_ics(const json_t *plan, struct kz_sbuf *out)
{
    struct kz_sbuf text = KZ_SBUF_INIT;
    int64_t start, end;
    int rc;

    if (!json_is_object(plan) || !str(plan, "id") || !str(plan, "title") ||
        !get_time(plan, "start", &start) || !get_time(plan, "end", &end))
        return KZ_ERR_INVAL;
    rc = calendar(plan, start, end, &text);
    if (rc == KZ_OK)
        kz_sbuf_add(out, text.buf, text.len);
    kz_sbuf_release(&text);
    return rc;
}
