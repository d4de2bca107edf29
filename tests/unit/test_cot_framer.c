/* Unit tests for the CoT stream framer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cot/cot.h"

#define EV(uid)                                                                                    \
    "<event version='2.0' uid='" uid "' type='a-f-G' how='m-g' "                                   \
    "time='2020-12-16T19:59:34.913Z' start='2020-12-16T19:59:34.913Z' "                            \
    "stale='2020-12-16T20:05:49.913Z'><point lat='1' lon='2' hae='3' ce='4' le='5'/>"

/* What the callbacks saw, as text: "E<len>:<bytes>\n" and "R:<reason>\n". */
struct rec {
    struct kz_sbuf log;
    const char *data; /* the bytes of the current feed, to spot copies */
    size_t data_len;
    unsigned events, rejects, copied;
    struct kz_framer *f;
    bool accept; /* report every event as decoded */
};

static void on_event(void *ud, const char *xml, size_t len)
{
    struct rec *r = ud;

    kz_sbuf_addf(&r->log, "E%zu:", len);
    kz_sbuf_add(&r->log, xml, len);
    kz_sbuf_adds(&r->log, "\n");
    r->events++;
    if (!(xml >= r->data && xml + len <= r->data + r->data_len))
        r->copied++;
    if (r->accept)
        kz_framer_note_ok(r->f);
}

static void on_reject(void *ud, enum kz_reject why, const char *detail)
{
    struct rec *r = ud;

    assert_non_null(detail);
    assert_null(strchr(detail, '\n'));
    kz_sbuf_addf(&r->log, "R:%s\n", kz_reject_name(why));
    r->rejects++;
}

static void rec_init(struct rec *r, struct kz_framer *f)
{
    memset(r, 0, sizeof(*r));
    r->f = f;
}

static int feed(struct kz_framer *f, struct rec *r, const char *p, size_t n)
{
    r->data = p;
    r->data_len = n;
    int rc = kz_framer_feed(f, p, n, on_event, on_reject, r);
    assert_true(kz_framer_pending(f) <= f->max_event + 2048);
    return rc;
}

/* Feed `s` cut at the given offsets (ascending); returns the log (caller frees). */
static char *run_cuts(const char *s, size_t n, size_t max_event, const size_t *cuts, size_t ncuts,
                      int *rc_out)
{
    struct kz_framer f;
    struct rec r;
    size_t at = 0;
    int rc = KZ_OK;

    kz_framer_init(&f, max_event);
    rec_init(&r, &f);
    for (size_t i = 0; i <= ncuts && rc == KZ_OK; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        rc = feed(&f, &r, s + at, end - at);
        at = end;
    }
    if (rc_out)
        *rc_out = rc;
    kz_framer_release(&f);
    return kz_sbuf_detach(&r.log, NULL);
}

/* Whole, every two-way split, byte by byte and random splits all agree. */
static void check_splits(const char *s, size_t max_event, const char *want)
{
    size_t n = strlen(s);
    char *whole = run_cuts(s, n, max_event, NULL, 0, NULL);
    size_t *cuts = malloc((n + 1) * sizeof(*cuts));

    assert_string_equal(whole, want);
    for (size_t i = 0; i <= n; i++) {
        char *got = run_cuts(s, n, max_event, &i, 1, NULL);
        if (strcmp(got, want) != 0)
            fail_msg("split at %zu of %zu:\n%s\nwant:\n%s", i, n, got, want);
        free(got);
    }
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    char *bytes = run_cuts(s, n, max_event, cuts, n ? n - 1 : 0, NULL);
    assert_string_equal(bytes, want);
    free(bytes);
    srand(7);
    for (int round = 0; round < 200; round++) {
        size_t k = 0;
        for (size_t i = 1; i < n; i++)
            if (rand() % 17 == 0)
                cuts[k++] = i;
        char *got = run_cuts(s, n, max_event, cuts, k, NULL);
        assert_string_equal(got, want);
        free(got);
    }
    free(cuts);
    free(whole);
}

static void test_stream_splits(void **state)
{
    /* Declarations, blank lines, a self-closed ping whose attributes hold
     * "/>" and '>', an end tag with spaces, and a detail holding look-alikes. */
    static const char e1[] = EV("one") "<detail><contact callsign='A'/></detail></event>";
    static const char e2[] = "<event uid='a/>b>' how=\"'>\" type='t-x-c-t'/>";
    static const char e3[] = EV("three") "</event \n >";
    static const char e4[] = EV("four") "<detail><eventual/><events x='</event'/>"
                                        "<remarks>&lt;/event&gt;</remarks></detail></event>";
    char stream[4096], want[8192];

    (void)state;
    snprintf(stream, sizeof(stream),
             "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n%s\n \r\n"
             "<?xml version='1.0'?>%s\t%s<?xml version=\"1.0\"?>\n%s\n",
             e1, e2, e3, e4);
    snprintf(want, sizeof(want), "E%zu:%s\nE%zu:%s\nE%zu:%s\nE%zu:%s\n", strlen(e1), e1, strlen(e2),
             e2, strlen(e3), e3, strlen(e4), e4);
    check_splits(stream, 65536, want);
}

static void test_junk_splits(void **state)
{
    static const char e1[] = "<event a='1'/>";
    static const char e2[] = EV("two") "</event>";
    char stream[2048], want[4096];

    (void)state;
    /* Junk runs (reported once each, however the bytes arrive), a look-alike
     * start tag, a comment, an unfinished declaration. */
    snprintf(stream, sizeof(stream),
             "GET / HTTP/1.1\r\n\r\n<eventx>%s<!-- c -->  <events>%s<?xml\x01", e1, e2);
    snprintf(want, sizeof(want), "R:junk\nE%zu:%s\nR:junk\nE%zu:%s\n", strlen(e1), e1, strlen(e2),
             e2);
    check_splits(stream, 65536, want);
}

static void test_oversized_splits(void **state)
{
    static const char small[] = "<event uid='s'/>";
    char big[1024], stream[4096], want[1024];

    (void)state;
    /* A complete oversized event, then one that never ends before the next. */
    memset(big, 'x', sizeof(big));
    snprintf(stream, sizeof(stream),
             "%s<event uid='big'><detail>%.600s</detail></event>%s"
             "<event uid='open'><detail>%.600s%s \n",
             small, big, small, big, small);
    snprintf(want, sizeof(want), "E%zu:%s\nR:too_big\nE%zu:%s\nR:too_big\nE%zu:%s\n", strlen(small),
             small, strlen(small), small, strlen(small), small);
    check_splits(stream, 256, want);
}

static void test_size_boundary(void **state)
{
    char ev[400], want[1024];

    (void)state;
    for (size_t size = 200; size <= 202; size++) {
        /* An event of exactly `size` bytes. */
        size_t pad = size - strlen("<event><detail></detail></event>");
        snprintf(ev, sizeof(ev), "<event><detail>%*s</detail></event>", (int)pad, "");
        assert_int_equal(strlen(ev), size);
        if (size <= 201)
            snprintf(want, sizeof(want), "E%zu:%s\n", size, ev);
        else
            snprintf(want, sizeof(want), "R:too_big\n");
        check_splits(ev, 201, want);
    }
}

static void test_many_per_read_zero_copy(void **state)
{
    struct kz_sbuf s = KZ_SBUF_INIT;
    struct kz_framer f;
    struct rec r;

    (void)state;
    for (int i = 0; i < 2000; i++)
        kz_sbuf_addf(&s, "<?xml version='1.0'?>\n" EV("u%d") "</event>\n", i);
    kz_framer_init(&f, 65536);
    rec_init(&r, &f);
    assert_int_equal(feed(&f, &r, s.buf, s.len), KZ_OK);
    assert_int_equal(r.events, 2000);
    assert_int_equal(r.rejects, 0);
    assert_int_equal(r.copied, 0);
    assert_int_equal(kz_framer_pending(&f), 0);
    assert_non_null(strstr(r.log.buf, "uid='u1999'"));

    /* Cut mid-event: only the partial event is copied and held. */
    kz_sbuf_reset(&r.log);
    r.events = 0;
    size_t cut = s.len / 2;
    assert_int_equal(feed(&f, &r, s.buf, cut), KZ_OK);
    size_t held = kz_framer_pending(&f);
    assert_true(held > 0 && held < 300);
    unsigned first = r.events;
    assert_int_equal(feed(&f, &r, s.buf + cut, s.len - cut), KZ_OK);
    assert_int_equal(r.events, 2000);
    assert_int_equal(r.copied, 1);
    assert_true(first > 900 && first < 1100);
    kz_framer_release(&f);
    kz_sbuf_release(&r.log);
    kz_sbuf_release(&s);
}

static void test_strikes_close(void **state)
{
    struct kz_framer f;
    struct rec r;
    int rc = KZ_OK;
    int rounds = 0;

    (void)state;
    kz_framer_init(&f, 65536);
    rec_init(&r, &f);
    /* Junk runs separated by events nobody confirmed: the 16th closes. */
    while (rc == KZ_OK && rounds < 100) {
        rc = feed(&f, &r, "junk\n<event/>", 13);
        rounds++;
    }
    assert_int_equal(rc, KZ_ERR_CLOSED);
    assert_int_equal(rounds, KZ_FRAMER_MAX_STRIKES);
    assert_int_equal(r.rejects, KZ_FRAMER_MAX_STRIKES);
    assert_int_equal(r.events, KZ_FRAMER_MAX_STRIKES - 1);
    /* Closed stays closed, silently. */
    assert_int_equal(feed(&f, &r, "<event/>", 8), KZ_ERR_CLOSED);
    assert_int_equal(r.events, KZ_FRAMER_MAX_STRIKES - 1);
    kz_framer_release(&f);
    kz_sbuf_release(&r.log);

    /* The same stream with every event accepted never closes. */
    kz_framer_init(&f, 65536);
    rec_init(&r, &f);
    r.accept = true;
    for (int i = 0; i < 100; i++)
        assert_int_equal(feed(&f, &r, "junk\n<event/>", 13), KZ_OK);
    assert_int_equal(r.rejects, 100);
    kz_framer_release(&f);
    kz_sbuf_release(&r.log);

    /* Rejects the caller reports count the same way. */
    kz_framer_init(&f, 65536);
    for (int i = 1; i < KZ_FRAMER_MAX_STRIKES; i++)
        assert_int_equal(kz_framer_note_reject(&f), KZ_OK);
    kz_framer_note_ok(&f);
    for (int i = 1; i < KZ_FRAMER_MAX_STRIKES; i++)
        assert_int_equal(kz_framer_note_reject(&f), KZ_OK);
    assert_int_equal(kz_framer_note_reject(&f), KZ_ERR_CLOSED);
    kz_framer_release(&f);
}

/* A reject reported from inside the event callback stops the feed at once. */
static void reject_each(void *ud, const char *xml, size_t len)
{
    struct rec *r = ud;

    on_event(ud, xml, len);
    kz_framer_note_reject(r->f);
}

static void test_strike_from_callback(void **state)
{
    struct kz_sbuf s = KZ_SBUF_INIT;
    struct kz_framer f;
    struct rec r;

    (void)state;
    for (int i = 0; i < 40; i++)
        kz_sbuf_adds(&s, "<event/>");
    kz_framer_init(&f, 65536);
    rec_init(&r, &f);
    assert_int_equal(kz_framer_feed(&f, s.buf, s.len, reject_each, on_reject, &r), KZ_ERR_CLOSED);
    assert_int_equal(r.events, KZ_FRAMER_MAX_STRIKES);
    kz_framer_release(&f);
    kz_sbuf_release(&r.log);
    kz_sbuf_release(&s);
}

static void test_events_not_matched(void **state)
{
    char *got;

    (void)state;
    got = run_cuts("<events><event a='1'/></events>", 31, 65536, NULL, 0, NULL);
    assert_string_equal(got, "R:junk\nE14:<event a='1'/>\nR:junk\n");
    free(got);
    /* Names that merely start with "event" are not events either. */
    got = run_cuts("<event_log/><eventX></eventX>", 29, 65536, NULL, 0, NULL);
    assert_string_equal(got, "R:junk\n");
    free(got);
}

/* An unquoted '<' ends a broken start tag, so the event after it is not swallowed. */
static void test_broken_start_tag(void **state)
{
    static const char s[] = "<event a='1' <event b=\"it's\"/></event><event c='2'/>";
    char *got;

    (void)state;
    got = run_cuts(s, strlen(s), 65536, NULL, 0, NULL);
    assert_string_equal(got, "E38:<event a='1' <event b=\"it's\"/></event>\nE14:<event c='2'/>\n");
    free(got);
    /* The caller's retry helper finds the next start token only. */
    assert_int_equal(kz_cot_find_event(s, strlen(s)), 0);
    assert_int_equal(kz_cot_find_event(s + 1, strlen(s) - 1) + 1, 13);
    assert_int_equal(kz_cot_find_event("<events><event", 14), 14);
    assert_int_equal(kz_cot_find_event("x<event>", 8), 1);
}

static void test_pending_bounded(void **state)
{
    struct kz_framer f;
    struct rec r;
    char chunk[97];

    (void)state;
    memset(chunk, 'a', sizeof(chunk));
    kz_framer_init(&f, 1000);
    rec_init(&r, &f);
    assert_int_equal(feed(&f, &r, "<event x='", 10), KZ_OK);
    /* An endless start tag, then an endless PI: held bytes stay bounded. */
    for (int i = 0; i < 200; i++) {
        assert_int_equal(feed(&f, &r, chunk, sizeof(chunk)), KZ_OK);
        assert_true(kz_framer_pending(&f) <= 1000);
    }
    assert_int_equal(r.rejects, 1);
    /* Skipping ends at the next event. */
    assert_int_equal(feed(&f, &r, "'/>\n<event/>\n<?pi ", 19), KZ_OK);
    assert_int_equal(r.events, 1);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(feed(&f, &r, chunk, sizeof(chunk)), KZ_OK);
        assert_true(kz_framer_pending(&f) <= 1100);
    }
    assert_int_equal(r.rejects, 2);
    assert_int_equal(feed(&f, &r, "?><event/>", 10), KZ_OK);
    assert_int_equal(r.events, 2);
    assert_int_equal(kz_framer_pending(&f), 0);
    kz_framer_release(&f);
    kz_sbuf_release(&r.log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_splits),           cmocka_unit_test(test_junk_splits),
        cmocka_unit_test(test_oversized_splits),        cmocka_unit_test(test_size_boundary),
        cmocka_unit_test(test_many_per_read_zero_copy), cmocka_unit_test(test_strikes_close),
        cmocka_unit_test(test_strike_from_callback),    cmocka_unit_test(test_events_not_matched),
        cmocka_unit_test(test_broken_start_tag),        cmocka_unit_test(test_pending_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
