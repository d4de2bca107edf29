/*
 * plan_show.c - `kizuna plan` answers for people: the plan with its
 * approvals, consultation and timeline (in UTC, or in every participant's
 * local time), the list, the one-line summary after a change, the audit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alliance/alliance.h"
#include "cli/plan.h"

/* Abbreviations by zone and offset: an offset not listed prints as UTC+hh:mm. */
static const struct zone_abbr {
    const char *zone;
    int32_t off;
    const char *abbr;
} abbrs[] = {
    {"Asia/Tokyo", 9 * 3600, "JST"},
    {"Asia/Seoul", 9 * 3600, "KST"},
    {"Asia/Manila", 8 * 3600, "PHT"},
    {"Pacific/Honolulu", -10 * 3600, "HST"},
    {"Pacific/Guam", 10 * 3600, "ChST"},
    {"Australia/Sydney", 10 * 3600, "AEST"},
    {"Australia/Sydney", 11 * 3600, "AEDT"},
    {"Australia/Canberra", 10 * 3600, "AEST"},
    {"Australia/Canberra", 11 * 3600, "AEDT"},
    {"Australia/Melbourne", 10 * 3600, "AEST"},
    {"Australia/Melbourne", 11 * 3600, "AEDT"},
    {"Australia/Hobart", 10 * 3600, "AEST"},
    {"Australia/Hobart", 11 * 3600, "AEDT"},
    {"Australia/Brisbane", 10 * 3600, "AEST"},
    {"Australia/Adelaide", 34200, "ACST"},
    {"Australia/Adelaide", 37800, "ACDT"},
    {"Australia/Darwin", 34200, "ACST"},
    {"Australia/Perth", 8 * 3600, "AWST"},
    {"America/New_York", -5 * 3600, "EST"},
    {"America/New_York", -4 * 3600, "EDT"},
    {"America/Chicago", -6 * 3600, "CST"},
    {"America/Chicago", -5 * 3600, "CDT"},
    {"America/Denver", -7 * 3600, "MST"},
    {"America/Denver", -6 * 3600, "MDT"},
    {"America/Los_Angeles", -8 * 3600, "PST"},
    {"America/Los_Angeles", -7 * 3600, "PDT"},
    {"America/Anchorage", -9 * 3600, "AKST"},
    {"America/Anchorage", -8 * 3600, "AKDT"},
    {"UTC", 0, "UTC"},
    {"Etc/UTC", 0, "UTC"},
};

static void add_abbr(struct kz_sbuf *out, const char *zone, int32_t off)
{
    for (size_t i = 0; i < sizeof(abbrs) / sizeof(abbrs[0]); i++) {
        if (abbrs[i].off == off && strcmp(abbrs[i].zone, zone) == 0) {
            kz_sbuf_adds(out, abbrs[i].abbr);
            return;
        }
    }
    int32_t a = off < 0 ? -off : off;
    kz_sbuf_addf(out, "UTC%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
}

/* "YYYY-MM-DD HH:MM" of `s` seconds of wall-clock time since the epoch. */
static void add_minute(struct kz_sbuf *out, int64_t s)
{
    int64_t days = s / 86400 - (s % 86400 < 0), sec = s - days * 86400, y;
    unsigned m, d;

    kz_civil_from_days(days, &y, &m, &d);
    kz_sbuf_addf(out, "%04d-%02u-%02u %02d:%02d", (int)y, m, d, (int)(sec / 3600),
                 (int)(sec / 60 % 60));
}

static bool seen_before(const char *const *zones, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (zones[j] && strcmp(zones[j], zones[i]) == 0)
            return true;
    return false;
}

void kz__plan_local_times(int64_t utc_us, const char *const *zones, size_t n, struct kz_sbuf *out)
{
    int64_t s = utc_us / 1000000 - (utc_us % 1000000 < 0);
    bool first = true;

    for (size_t i = 0; i < n; i++) {
        int32_t off;
        if (!zones[i] || seen_before(zones, i))
            continue;
        kz_sbuf_adds(out, first ? "" : " | ");
        first = false;
        if (kz_tz_offset(zones[i], s, &off) != KZ_OK) {
            add_minute(out, s);
            kz_sbuf_addf(out, " UTC (%s: unknown zone)", zones[i]);
            continue;
        }
        add_minute(out, s + off);
        kz_sbuf_adds(out, " ");
        add_abbr(out, zones[i], off);
        kz_sbuf_addf(out, " (%s)", zones[i]);
    }
}

/* ---- what reaches the terminal --------------------------------------------- */

/* Blank the C0 and C1 control characters of one string (same length). */
static void scrub_string(json_t *s)
{
    const char *v = json_string_value(s);
    size_t n = json_string_length(s);
    char *c = NULL;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        bool c1 = ch == 0xc2 && i + 1 < n && (unsigned char)v[i + 1] >= 0x80 &&
                  (unsigned char)v[i + 1] <= 0x9f;
        if (ch >= 0x20 && ch != 0x7f && !c1)
            continue;
        if (!c) {
            c = kz_xmalloc(n + 1);
            memcpy(c, v, n + 1);
        }
        c[i] = ' ';
        if (c1)
            c[++i] = ' ';
    }
    if (c) {
        json_string_setn_nocheck(s, c, n);
        free(c);
    }
}

void kz__plan_scrub(json_t *j)
{
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_string(j)) {
        scrub_string(j);
    } else if (json_is_object(j)) {
        json_object_foreach(j, key, v)
        {
            kz__plan_scrub(v);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            kz__plan_scrub(v);
        }
    }
}

/* ---- the plan ------------------------------------------------------------ */

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : dflt;
}

/* Strings of an array joined by ", "; "none" for none. */
static void add_list(struct kz_sbuf *sb, const json_t *arr)
{
    size_t i, n = 0;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v))
            kz_sbuf_addf(sb, "%s%s", n++ ? ", " : "", json_string_value(v));
    }
    if (n == 0)
        kz_sbuf_adds(sb, "none");
}

static void print_participants(FILE *out, const json_t *plan)
{
    const json_t *zones = json_object_get(plan, "zones"), *p;
    size_t i;

    fprintf(out, "  %-14s", "participants");
    json_array_foreach(json_object_get(plan, "participants"), i, p)
    {
        const char *tz = json_string_value(json_object_get(zones, json_string_value(p)));
        fprintf(out, "%s%s", i ? ", " : "", json_string_value(p) ? json_string_value(p) : "?");
        if (tz)
            fprintf(out, " (%s)", tz);
    }
    fputc('\n', out);
}

static void print_flags(FILE *out, const json_t *plan)
{
    const char *key;
    json_t *v;
    int n = 0;

    fprintf(out, "  %-14s", "flags");
    json_object_foreach((json_t *)json_object_get(plan, "flags"), key, v)
    {
        if (json_is_true(v))
            fprintf(out, "%s%s", n++ ? ", " : "", key);
    }
    fprintf(out, "%s\n", n ? "" : "none");
}

static void print_header(FILE *out, const json_t *plan)
{
    fprintf(out, "%s  [%s, revision %lld]\n", str(plan, "title"), str(plan, "id"),
            (long long)json_integer_value(json_object_get(plan, "revision")));
    fprintf(out, "  %-14s%s", "label", str_or(plan, "label", "(none)"));
    if (json_is_string(json_object_get(plan, "own_label")))
        fprintf(out, "  (own: %s)", str(plan, "own_label"));
    fprintf(out, "\n  %-14s%s, legal basis %s\n", "kind", str(plan, "kind"),
            str(plan, "legal_basis"));
    fprintf(out, "  %-14s%s\n  %-14s%s\n", "stage", str(plan, "stage"), "lead", str(plan, "lead"));
    print_participants(out, plan);
    fprintf(out, "  %-14s%s .. %s\n", "window", str(plan, "start"), str(plan, "end"));
    print_flags(out, plan);
}

/* The last approval of `nation` among the plan's (current revision) approvals, or NULL. */
static const json_t *approval_of(const json_t *plan, const char *nation)
{
    const json_t *found = NULL, *a;
    size_t i;

    json_array_foreach(json_object_get(plan, "approvals"), i, a)
    {
        if (strcmp(str(a, "nation"), nation) == 0)
            found = a;
    }
    return found;
}

/* Required approvals given (decision "approve") and required in all. */
static void approval_counts(const json_t *plan, size_t *given, size_t *required)
{
    const json_t *req = json_object_get(plan, "required_approvals"), *r;
    size_t i;

    *given = 0;
    *required = json_array_size(req);
    json_array_foreach(req, i, r)
    {
        const json_t *a = approval_of(plan, str(r, "nation"));
        if (a && strcmp(str(a, "decision"), "approve") == 0)
            (*given)++;
    }
}

static void print_approval(FILE *out, const char *nation, const char *command, const json_t *a)
{
    fprintf(out, "  %-4s %-12s ", nation, command);
    if (!a) {
        fprintf(out, "pending\n");
        return;
    }
    fprintf(out, "%s by %s (%s) at %s", str(a, "decision"), str(a, "user"), str(a, "command"),
            str(a, "time"));
    if (json_is_string(json_object_get(a, "reason")))
        fprintf(out, ": %s", str(a, "reason"));
    fputc('\n', out);
}

static void print_approvals(FILE *out, const json_t *plan)
{
    const json_t *req = json_object_get(plan, "required_approvals"), *r;
    size_t i, given, required;

    approval_counts(plan, &given, &required);
    fprintf(out, "approvals (revision %lld): %zu of %zu\n",
            (long long)json_integer_value(json_object_get(plan, "revision")), given, required);
    json_array_foreach(req, i, r)
    {
        print_approval(out, str(r, "nation"), str(r, "command"),
                       approval_of(plan, str(r, "nation")));
    }
}

static void print_consultation(FILE *out, const json_t *plan)
{
    fprintf(out, "consultation: %s", str_or(plan, "consultation", "?"));
    if (json_is_string(json_object_get(plan, "consultation_authority")))
        fprintf(out, " (authority %s)", str(plan, "consultation_authority"));
    if (json_is_string(json_object_get(plan, "consultation_reason")))
        fprintf(out, ": %s", str(plan, "consultation_reason"));
    fputc('\n', out);
}

/* The participants' zones in participant order (pointers into plan). */
static size_t plan_zones(const json_t *plan, const char **zones, size_t max)
{
    const json_t *map = json_object_get(plan, "zones"), *p;
    size_t i, n = 0;

    json_array_foreach(json_object_get(plan, "participants"), i, p)
    {
        const char *tz = json_string_value(json_object_get(map, json_string_value(p)));
        if (tz && n < max)
            zones[n++] = tz;
    }
    return n;
}

static void print_item_time(FILE *out, const json_t *plan, const json_t *item, bool local)
{
    const char *t = str(item, "time"), *zones[32];
    struct kz_sbuf sb = KZ_SBUF_INIT;
    int64_t us;

    if (!local || kz_time_parse(t, strlen(t), &us) != KZ_OK) {
        fputs(t, out);
        return;
    }
    kz__plan_local_times(us, zones, plan_zones(plan, zones, 32), &sb);
    fputs(sb.buf ? sb.buf : t, out);
    kz_sbuf_release(&sb);
}

static void print_item(FILE *out, const json_t *plan, const json_t *item, bool local)
{
    struct kz_sbuf units = KZ_SBUF_INIT;
    const json_t *lat = json_object_get(item, "lat"), *lon = json_object_get(item, "lon");

    fprintf(out, "  #%lld  ", (long long)json_integer_value(json_object_get(item, "id")));
    print_item_time(out, plan, item, local);
    fprintf(out, "\n        %s\n", str(item, "description"));
    if (json_is_string(json_object_get(item, "place")) || json_is_number(lat)) {
        fprintf(out, "        at %s", str_or(item, "place", ""));
        if (json_is_number(lat) && json_is_number(lon))
            fprintf(out, "%s(%.4f, %.4f)",
                    json_is_string(json_object_get(item, "place")) ? " " : "",
                    json_number_value(lat), json_number_value(lon));
        fputc('\n', out);
    }
    add_list(&units, json_object_get(item, "units"));
    fprintf(out, "        units: %s\n", units.buf);
    fprintf(out, "        label: %s\n", str_or(item, "label", str_or(plan, "own_label", "(plan)")));
    kz_sbuf_release(&units);
}

void kz__plan_print(FILE *out, const json_t *plan, bool local)
{
    const json_t *items = json_object_get(plan, "items"), *item;
    size_t i;

    print_header(out, plan);
    print_approvals(out, plan);
    print_consultation(out, plan);
    fprintf(out, "timeline (%zu item%s%s)\n", json_array_size(items),
            json_array_size(items) == 1 ? "" : "s", local ? ", local times" : ", UTC");
    json_array_foreach(items, i, item)
    {
        print_item(out, plan, item, local);
    }
}

/* ---- list, summary, audit ------------------------------------------------ */

void kz__plan_print_list(FILE *out, const json_t *answer)
{
    const json_t *plans = json_object_get(answer, "plans"), *p;
    size_t i;

    if (json_array_size(plans) == 0) {
        fprintf(out, "no plans\n");
        return;
    }
    fprintf(out, "%-14s %-16s %4s  %-20s  %-20s  %s\n", "ID", "STAGE", "REV", "START", "END",
            "TITLE [LABEL]");
    json_array_foreach(plans, i, p)
    {
        fprintf(out, "%-14s %-16s %4lld  %-20s  %-20s  %s [%s]\n", str(p, "id"), str(p, "stage"),
                (long long)json_integer_value(json_object_get(p, "revision")), str(p, "start"),
                str(p, "end"), str(p, "title"), str(p, "label"));
    }
}

void kz__plan_print_summary(FILE *out, const json_t *plan, const char *verb)
{
    size_t given, required;

    approval_counts(plan, &given, &required);
    fprintf(out, "%s%s%s: revision %lld, stage %s, consultation %s, approvals %zu/%zu\n",
            verb ? verb : "", verb ? " " : "", str(plan, "id"),
            (long long)json_integer_value(json_object_get(plan, "revision")), str(plan, "stage"),
            str(plan, "consultation"), given, required);
}

/* detail is an object: {"user","identity","command","revision","reason",...}. */
static void print_record(FILE *out, const json_t *rec)
{
    json_t *d = json_deep_copy(json_object_get(rec, "detail"));

    kz__plan_scrub(d);

    fprintf(out, "%-24s %-13s %s", str(rec, "time"), str(rec, "action"),
            str_or(d, "user", str(rec, "actor")));
    if (json_is_string(json_object_get(d, "identity")) ||
        json_is_string(json_object_get(d, "command")))
        fprintf(out, " (identity %s, command %s)", str_or(d, "identity", "-"),
                str_or(d, "command", "-"));
    if (json_is_integer(json_object_get(d, "revision")))
        fprintf(out, " revision %lld",
                (long long)json_integer_value(json_object_get(d, "revision")));
    if (json_is_string(json_object_get(d, "reason")))
        fprintf(out, ": %s", str(d, "reason"));
    fputc('\n', out);
    json_decref(d);
}

bool kz__plan_print_audit(FILE *out, const json_t *answer)
{
    const json_t *rec;
    bool ok = json_is_true(json_object_get(answer, "verified"));
    size_t i;

    json_array_foreach(json_object_get(answer, "records"), i, rec)
    {
        print_record(out, rec);
    }
    fprintf(out, "verified: %s", ok ? "yes" : "no");
    if (!ok && json_is_string(json_object_get(answer, "problem")))
        fprintf(out, " (%s)", str(answer, "problem"));
    fputc('\n', out);
    return ok;
}
