/*
 * Unit tests for the cluster's messages and duplicate window: an Event round-trips every
 * field the receiving instances need; what is not an Event, lacks its origin or label, or
 * whose XML's access is not its label is refused; (origin, epoch, seq) is seen once, within a
 * bounded window, per origin and incarnation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>

#include "cluster/cluster.h"
#include "proto/cluster.pb-c.h"

static struct kz_cot_decoder *dec;

static int setup(void **state)
{
    struct kz_cot_limits lim;

    (void)state;
    kz_cot_limits_default(&lim);
    dec = kz_cot_decoder_new(&lim);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kz_cot_decoder_free(dec);
    return 0;
}

static void make_event(struct kz_event *ev, const char *access)
{
    int64_t now = kz_now_us() / 1000 * 1000; /* CoT times carry milliseconds */

    kz_event_init(ev);
    ev->uid = kz_xstrdup("ANDROID-1.2.3");
    ev->type = kz_xstrdup("a-f-G-U-C");
    ev->how = kz_xstrdup("m-g");
    ev->access = kz_xstrdup(access);
    ev->time = ev->start = now;
    ev->stale = now + 60000000;
    ev->lat = 35.5;
    ev->lon = 139.25;
    ev->hae = ev->ce = ev->le = 10;
    ev->origin_input = kz_xstrdup("fed:east");
    ev->origin_user = kz_xstrdup("east");
    ev->origin_nation = kz_xstrdup("JPN");
    ev->origin_groups = kz_xstrdup("Cyan,Red");
    ev->fed_provenance = kz_xstrdup("east,south");
    ev->fed_hops = 2;
    ev->fed_max_hops = -1;
    ev->recv_time = now + 5;
}

/* Encode ev (as origin B, epoch 7, seq) into out. */
static void encode(const struct kz_event *ev, uint64_t seq, bool fed, struct kz_sbuf *out)
{
    struct kz_sbuf xml = KZ_SBUF_INIT;
    struct kz_cluster_event ce = {"B", 7, seq, ev, fed, "tcp-in", true};

    kz_cot_encode_xml(ev, &xml);
    kz_cluster_event_encode(&ce, xml.buf, xml.len, out);
    kz_sbuf_release(&xml);
}

static void test_round_trip(void **state)
{
    struct kz_event ev;
    struct kz_sbuf msg = KZ_SBUF_INIT;
    struct kz_cluster_received r;
    char err[256];

    (void)state;
    make_event(&ev, "SECRET//NOFORN");
    encode(&ev, 42, true, &msg);
    assert_int_equal(
        kz_cluster_event_decode(dec, (const uint8_t *)msg.buf, msg.len, &r, err, sizeof(err)),
        KZ_OK);
    assert_string_equal(r.origin, "B");
    assert_int_equal(r.epoch, 7);
    assert_int_equal(r.seq, 42);
    assert_true(r.federated);
    assert_true(r.bound);
    assert_string_equal(r.scope, "tcp-in");
    assert_string_equal(r.ev.uid, ev.uid);
    assert_string_equal(r.ev.access, "SECRET//NOFORN");
    assert_int_equal(r.ev.time, ev.time);
    assert_true(r.ev.lat == ev.lat && r.ev.lon == ev.lon);
    assert_string_equal(r.ev.origin_input, "fed:east");
    assert_string_equal(r.ev.origin_user, "east");
    assert_string_equal(r.ev.origin_nation, "JPN");
    assert_string_equal(r.ev.origin_groups, "Cyan,Red");
    assert_string_equal(r.ev.fed_provenance, "east,south");
    assert_int_equal(r.ev.fed_hops, 2);
    assert_int_equal(r.ev.fed_max_hops, -1);
    assert_int_equal(r.ev.recv_time, ev.recv_time);
    kz_event_clear(&r.ev);
    kz_event_clear(&ev);
    kz_sbuf_release(&msg);
}

static int decode_raw(const Kizuna__Cluster__Event *m, char *err, size_t errlen)
{
    size_t n = kizuna__cluster__event__get_packed_size(m);
    uint8_t *buf = malloc(n + 1);
    struct kz_cluster_received r;

    kizuna__cluster__event__pack(m, buf);
    int rc = kz_cluster_event_decode(dec, buf, n, &r, err, errlen);
    if (rc == KZ_OK)
        kz_event_clear(&r.ev);
    free(buf);
    return rc;
}

static void test_refusals(void **state)
{
    static const char xml[] =
        "<event version=\"2.0\" uid=\"u\" type=\"a-f-G\" how=\"m-g\" access=\"UNCLASSIFIED\" "
        "time=\"2026-01-01T00:00:00Z\" start=\"2026-01-01T00:00:00Z\" "
        "stale=\"2026-01-01T00:10:00Z\"><point lat=\"1\" lon=\"2\" hae=\"0\" ce=\"1\" "
        "le=\"1\"/></event>";
    Kizuna__Cluster__Event m = KIZUNA__CLUSTER__EVENT__INIT;
    struct kz_cluster_received r;
    char err[256];

    (void)state;
    assert_int_equal(
        kz_cluster_event_decode(dec, (const uint8_t *)"\xff\xff\xff", 3, &r, err, sizeof(err)),
        KZ_ERR_PARSE);
    m.origin = "B";
    m.seq = 1;
    m.xml.data = (uint8_t *)(uintptr_t)xml;
    m.xml.len = strlen(xml);
    m.label = "UNCLASSIFIED";
    m.input = "us";
    m.nation = "USA";
    assert_int_equal(decode_raw(&m, err, sizeof(err)), KZ_OK);
    m.label = "SECRET"; /* the XML says otherwise */
    assert_int_equal(decode_raw(&m, err, sizeof(err)), KZ_ERR_PARSE);
    assert_non_null(strstr(err, "label"));
    m.label = "UNCLASSIFIED";
    m.origin = "";
    assert_int_equal(decode_raw(&m, err, sizeof(err)), KZ_ERR_PARSE);
    assert_non_null(strstr(err, "origin"));
    m.origin = "B";
    m.nation = "";
    assert_int_equal(decode_raw(&m, err, sizeof(err)), KZ_ERR_PARSE);
    m.nation = "USA";
    m.xml.len = 10; /* cut: not XML */
    assert_int_equal(decode_raw(&m, err, sizeof(err)), KZ_ERR_PARSE);
}

static void test_dedupe_window(void **state)
{
    struct kz_dedupe *d = calloc(1, sizeof(*d));

    (void)state;
    assert_false(kz_dedupe_seen(d, "B", 1, 1));
    assert_true(kz_dedupe_seen(d, "B", 1, 1));
    assert_false(kz_dedupe_seen(d, "B", 1, 3));
    assert_false(kz_dedupe_seen(d, "B", 1, 2)); /* late, within the window */
    assert_true(kz_dedupe_seen(d, "B", 1, 2));
    assert_false(kz_dedupe_seen(d, "C", 1, 2)); /* another origin */
    assert_false(kz_dedupe_seen(d, "B", 1, 3 + KZ_DEDUPE_WINDOW));
    assert_true(kz_dedupe_seen(d, "B", 1, 3)); /* below the window: counted as seen */
    assert_false(kz_dedupe_seen(d, "B", 1, 4 + KZ_DEDUPE_WINDOW));
    assert_true(kz_dedupe_seen(d, "B", 1, 4 + KZ_DEDUPE_WINDOW));
    /* B restarted: a new epoch starts afresh; its old incarnation is not heard again. */
    assert_false(kz_dedupe_seen(d, "B", 2, 1));
    assert_true(kz_dedupe_seen(d, "B", 2, 1));
    assert_true(kz_dedupe_seen(d, "B", 1, 5 + KZ_DEDUPE_WINDOW));
    free(d);
}

/* Against the plain definition: seen before, or below the window of the highest seen. */
static void test_dedupe_model(void **state)
{
    enum { RANGE = 4 * KZ_DEDUPE_WINDOW };
    struct kz_dedupe *d = calloc(1, sizeof(*d));
    bool *seen = calloc(RANGE + 1, sizeof(*seen));
    uint64_t top = 0, x = 12345;

    (void)state;
    for (unsigned i = 0; i < 200000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        /* Mostly forward with jitter, sometimes a jump back or ahead. */
        uint64_t r = x >> 33, seq;
        if (r % 16 == 0)
            seq = 1 + r % RANGE;
        else
            seq = top + 1 > 70 ? top + 1 - (r % 70) + (r % 3) : 1 + r % 70;
        if (seq > RANGE)
            seq = 1 + r % RANGE;
        bool want = seen[seq] || (top >= KZ_DEDUPE_WINDOW && seq <= top - KZ_DEDUPE_WINDOW);
        assert_int_equal(kz_dedupe_seen(d, "B", 1, seq), want);
        seen[seq] = true;
        if (seq > top)
            top = seq;
        if (top == RANGE) { /* start a new epoch to keep going */
            memset(seen, 0, (RANGE + 1) * sizeof(*seen));
            top = 0;
            memset(d, 0, sizeof(*d));
        }
    }
    free(seen);
    free(d);
}

static void test_dedupe_origins_bounded(void **state)
{
    struct kz_dedupe *d = calloc(1, sizeof(*d));
    char name[32];

    (void)state;
    for (unsigned i = 0; i < 3 * KZ_DEDUPE_ORIGINS; i++) {
        snprintf(name, sizeof(name), "node-%u", i);
        assert_false(kz_dedupe_seen(d, name, 1, 1));
        assert_true(kz_dedupe_seen(d, name, 1, 1));
        assert_false(kz_dedupe_seen(d, "busy", 1, i + 1)); /* heard all along: kept */
    }
    assert_true(kz_dedupe_seen(d, "busy", 1, 1));
    free(d);
}

/* What kz_cluster_users_encode emitted, decoded: every name in order, and per message. */
struct users_seen {
    char *deleted[512], *changed[512];
    size_t nd, nc, messages, max_names, max_bytes;
};

static void users_emit(void *ud, const uint8_t *buf, size_t len)
{
    struct users_seen *u = ud;
    Kizuna__Cluster__Control *m = kizuna__cluster__control__unpack(NULL, len, buf);
    size_t bytes = 0;

    assert_non_null(m);
    assert_string_equal(m->origin, "kz-a");
    assert_int_equal(m->epoch, 42);
    assert_null(m->claim);
    assert_null(m->revoked);
    assert_non_null(m->users);
    for (size_t i = 0; i < m->users->n_deleted; i++) {
        assert_true(u->nd < 512);
        bytes += strlen(m->users->deleted[i]);
        u->deleted[u->nd++] = kz_xstrdup(m->users->deleted[i]);
    }
    for (size_t i = 0; i < m->users->n_changed; i++) {
        assert_true(u->nc < 512);
        bytes += strlen(m->users->changed[i]);
        u->changed[u->nc++] = kz_xstrdup(m->users->changed[i]);
    }
    if (m->users->n_deleted + m->users->n_changed > u->max_names)
        u->max_names = m->users->n_deleted + m->users->n_changed;
    if (bytes > u->max_bytes)
        u->max_bytes = bytes;
    u->messages++;
    kizuna__cluster__control__free_unpacked(m, NULL);
}

static void users_seen_free(struct users_seen *u)
{
    for (size_t i = 0; i < u->nd; i++)
        free(u->deleted[i]);
    for (size_t i = 0; i < u->nc; i++)
        free(u->changed[i]);
}

/* Deleted and changed user names round-trip, in order, at most 256 names to a message. */
static void test_users_round_trip(void **state)
{
    char *del[300], *chg[10], name[32];
    struct users_seen seen = {0};

    (void)state;
    for (size_t i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "user-%03zu", i);
        del[i] = kz_xstrdup(name);
    }
    for (size_t i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "changed-%zu", i);
        chg[i] = kz_xstrdup(name);
    }
    kz_cluster_users_encode("kz-a", 42, del, 300, chg, 10, users_emit, &seen);
    assert_int_equal(seen.messages, 2);
    assert_int_equal(seen.max_names, KZ_CLUSTER_USERS_PER_MESSAGE);
    assert_int_equal(seen.nd, 300);
    assert_int_equal(seen.nc, 10);
    for (size_t i = 0; i < 300; i++)
        assert_string_equal(seen.deleted[i], del[i]);
    for (size_t i = 0; i < 10; i++)
        assert_string_equal(seen.changed[i], chg[i]);
    users_seen_free(&seen);
    memset(&seen, 0, sizeof(seen));
    /* Nothing changed: nothing sent. */
    kz_cluster_users_encode("kz-a", 42, del, 0, chg, 0, users_emit, &seen);
    assert_int_equal(seen.messages, 0);
    for (size_t i = 0; i < 300; i++)
        free(del[i]);
    for (size_t i = 0; i < 10; i++)
        free(chg[i]);
}

/* Long names: the byte budget splits them; one longer than the budget goes alone. */
static void test_users_bytes_bounded(void **state)
{
    char *names[4];
    struct users_seen seen = {0};
    size_t lens[4] = {10000, 10000, 3000, KZ_CLUSTER_USERS_BYTES + 100};

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        names[i] = kz_xcalloc(lens[i] + 1, 1);
        memset(names[i], 'a' + (int)i, lens[i]);
    }
    kz_cluster_users_encode("kz-a", 42, names, 2, names + 2, 2, users_emit, &seen);
    /* [10000] [10000, 3000] [16484] */
    assert_int_equal(seen.messages, 3);
    assert_int_equal(seen.max_bytes, KZ_CLUSTER_USERS_BYTES + 100);
    assert_int_equal(seen.nd, 2);
    assert_int_equal(seen.nc, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(seen.deleted[i], names[i]);
        assert_string_equal(seen.changed[i], names[i + 2]);
    }
    users_seen_free(&seen);
    for (size_t i = 0; i < 4; i++)
        free(names[i]);
}

/* A Users message from a foreign encoder decodes with its fields; garbage does not decode. */
static void test_users_decode(void **state)
{
    Kizuna__Cluster__Control m = KIZUNA__CLUSTER__CONTROL__INIT;
    Kizuna__Cluster__Users u = KIZUNA__CLUSTER__USERS__INIT;
    char *del[] = {"alice"}, *chg[] = {"bob", "carol"};
    uint8_t buf[256];
    Kizuna__Cluster__Control *d;
    static const uint8_t junk[] = {0x2a, 0x05, 0x0a, 0xff, 0xff, 0xff, 0xff};

    (void)state;
    u.deleted = del;
    u.n_deleted = 1;
    u.changed = chg;
    u.n_changed = 2;
    m.origin = "kz-b";
    m.epoch = 7;
    m.users = &u;
    assert_true(kizuna__cluster__control__get_packed_size(&m) < sizeof(buf));
    size_t n = kizuna__cluster__control__pack(&m, buf);
    d = kizuna__cluster__control__unpack(NULL, n, buf);
    assert_non_null(d);
    assert_non_null(d->users);
    assert_int_equal(d->users->n_deleted, 1);
    assert_string_equal(d->users->deleted[0], "alice");
    assert_int_equal(d->users->n_changed, 2);
    assert_string_equal(d->users->changed[1], "carol");
    kizuna__cluster__control__free_unpacked(d, NULL);
    assert_null(kizuna__cluster__control__unpack(NULL, sizeof(junk), junk));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_dedupe_window),
        cmocka_unit_test(test_dedupe_model),
        cmocka_unit_test(test_dedupe_origins_bounded),
        cmocka_unit_test(test_users_round_trip),
        cmocka_unit_test(test_users_bytes_bounded),
        cmocka_unit_test(test_users_decode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
