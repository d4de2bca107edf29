/*
 * Unit tests for what the federation keeps in the store (store/fedlog.c):
 * the outbox read forward from a cursor with the federation columns, the
 * outbox bounds (age, bytes), the sent log and cursor, the marks a node
 * loads at startup, and the sent log's pages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_fixture.h"

#define SEC 1000000LL

static int setup(void **state)
{
    if (store_fx_setup(state) != 0)
        return -1;
    open_store(*state, 0, 0, 0);
    return 0;
}

static int teardown(void **state)
{
    return store_fx_teardown(state);
}

static void on_ack(void *ud, int status)
{
    assert_int_equal(status, KZ_OK);
    (*(size_t *)ud)++;
}

/* Event seq `seq`, received at `recv`, with `pad` bytes of XML beyond its head; from fed:kz-jpn
 * with sequence fed_seq when that is not 0. */
static void append(struct fx *fx, uint64_t seq, int64_t recv, size_t pad, uint64_t fed_seq)
{
    struct kz_event ev;
    char uid[32], xml[4096];
    size_t acks = 0;
    int n;

    memset(&ev, 0, sizeof(ev));
    snprintf(uid, sizeof(uid), "u-%llu", (unsigned long long)seq);
    ev.uid = uid;
    ev.type = (char *)"a-f-G";
    ev.access = (char *)"SECRET//REL TO USA, JPN";
    ev.time = ev.start = recv;
    ev.stale = recv + 60 * SEC;
    ev.seq = seq;
    ev.recv_time = recv;
    ev.origin_input = (char *)(fed_seq ? "fed:kz-jpn" : "web");
    ev.origin_user = (char *)"u";
    ev.origin_nation = (char *)(fed_seq ? "JPN" : "USA");
    if (fed_seq) {
        ev.fed_provenance = (char *)"kz-phl,kz-jpn";
        ev.fed_hops = 2;
        ev.fed_max_hops = 5;
        ev.fed_seq = fed_seq;
    }
    n = snprintf(xml, sizeof(xml), "<event uid=\"%s\"/>%*s", uid, (int)pad, "");
    kz_store_append(fx->st, &ev, xml, (size_t)n, on_ack, &acks);
    assert_int_equal(run_until(fx, &acks, 1, 5000), 1);
}

struct rows {
    size_t calls, n;
    uint64_t seq[64];
    char prov[64][32];
    int64_t hops[64];
};

static void on_rows(void *ud, int status, const struct kz_store_row *rows, size_t n)
{
    struct rows *r = ud;

    assert_int_equal(status, KZ_OK);
    r->calls++;
    for (size_t i = 0; i < n && r->n < 64; i++, r->n++) {
        r->seq[r->n] = rows[i].seq;
        snprintf(r->prov[r->n], sizeof(r->prov[0]), "%s",
                 rows[i].fed_provenance ? rows[i].fed_provenance : "-");
        r->hops[r->n] = rows[i].fed_hops;
    }
}

/* The outbox: oldest first, after the cursor, with the nodes a federated event passed. */
static void test_forward(void **state)
{
    struct fx *fx = *state;
    struct kz_store_query q = {.limit = 3, .forward = true, .after_seq = 2};
    struct rows r = {0};
    int64_t now = kz_now_us();

    for (uint64_t s = 1; s <= 6; s++)
        append(fx, s, now, 0, s == 4 ? 77 : 0);
    kz_store_query(fx->st, &q, on_rows, &r);
    assert_int_equal(run_until(fx, &r.calls, 1, 5000), 1);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.seq[0], 3);
    assert_int_equal(r.seq[1], 4);
    assert_int_equal(r.seq[2], 5);
    assert_string_equal(r.prov[0], "-");
    assert_string_equal(r.prov[1], "kz-phl,kz-jpn");
    assert_int_equal(r.hops[1], 2);
    /* From the very start (after 0): all six. */
    memset(&r, 0, sizeof(r));
    q.after_seq = 0;
    q.limit = 100;
    kz_store_query(fx->st, &q, on_rows, &r);
    assert_int_equal(run_until(fx, &r.calls, 1, 5000), 1);
    assert_int_equal(r.n, 6);
    assert_int_equal(r.seq[0], 1);
}

struct bound {
    size_t calls;
    struct kz_store_outbox_bound b;
};

static void on_bound(void *ud, int status, const struct kz_store_outbox_bound *b)
{
    struct bound *x = ud;

    assert_int_equal(status, KZ_OK);
    x->b = *b;
    x->calls++;
}

static struct kz_store_outbox_bound bound(struct fx *fx, uint64_t after, int64_t since,
                                          int64_t max_bytes)
{
    struct kz_store_outbox_bound b = {
        .after_seq = after, .since_us = since, .max_bytes = max_bytes};
    struct bound x = {0};

    kz_store_outbox_bound(fx->st, &b, on_bound, &x);
    assert_int_equal(run_until(fx, &x.calls, 1, 5000), 1);
    return x.b;
}

/* max_age_s and max_bytes: the oldest events beyond either are left out, and counted. */
static void test_bounds(void **state)
{
    struct fx *fx = *state;
    int64_t t0 = kz_now_us() - 100 * SEC;
    struct kz_store_outbox_bound b;

    /* Ten events, one per 10 s, each with about 1000 bytes of XML. */
    for (uint64_t s = 1; s <= 10; s++)
        append(fx, s, t0 + (int64_t)s * 10 * SEC, 1000, 0);
    b = bound(fx, 0, 0, 0); /* no bounds */
    assert_int_equal(b.start_seq, 0);
    assert_int_equal(b.skipped, 0);
    b = bound(fx, 2, t0 + 55 * SEC, 0); /* events 3..5 are older than the age bound */
    assert_int_equal(b.start_seq, 5);
    assert_int_equal(b.skipped, 3);
    b = bound(fx, 0, 0, 3500); /* the newest three fit in 3500 bytes, not four */
    assert_int_equal(b.start_seq, 7);
    assert_int_equal(b.skipped, 7);
    b = bound(fx, 8, t0, 3500); /* inside both bounds already */
    assert_int_equal(b.start_seq, 8);
    assert_int_equal(b.skipped, 0);
}

struct sent {
    size_t calls, n;
    uint64_t seq[16];
    char uid[16][32];
    int64_t sent[16];
};

static void on_sent(void *ud, int status, const struct kz_store_sent_row *rows, size_t n)
{
    struct sent *x = ud;

    assert_int_equal(status, KZ_OK);
    x->calls++;
    for (size_t i = 0; i < n && x->n < 16; i++, x->n++) {
        x->seq[x->n] = rows[i].seq;
        x->sent[x->n] = rows[i].sent_us;
        snprintf(x->uid[x->n], sizeof(x->uid[0]), "%s", rows[i].uid ? rows[i].uid : "-");
    }
}

static struct sent sent_page(struct fx *fx, int64_t after_us, uint64_t after_seq, unsigned limit)
{
    struct kz_store_sent_query q = {"kz-jpn", after_us, after_seq, limit};
    struct sent x = {0};

    kz_store_fed_sent_query(fx->st, &q, on_sent, &x);
    assert_int_equal(run_until(fx, &x.calls, 1, 5000), 1);
    return x;
}

/* The sent log and the cursor commit together; the marks come back after a restart. */
static void test_sent_log_and_marks(void **state)
{
    struct fx *fx = *state;
    struct kz_store_fed_marks m;
    struct kz_store_sent items[] = {{1000, 2}, {1000, 1}, {2000, 3}, {2000, 3}};
    int64_t now = kz_now_us();
    size_t acks = 0;
    struct sent x;

    assert_int_equal(kz_store_fed_marks(fx->st, "kz-jpn", "fed:kz-jpn", &m), KZ_OK);
    assert_false(m.has_cursor);
    assert_int_equal(m.received, 0);
    for (uint64_t s = 1; s <= 4; s++)
        append(fx, s, now, 0, s == 2 ? 41 : s == 4 ? 40 : 0);
    kz_store_fed_sent(fx->st, "kz-jpn", items, 4, 3, on_ack, &acks);
    kz_store_fed_sent(fx->st, "kz-jpn", NULL, 0, 2, on_ack, &acks); /* never backwards */
    assert_int_equal(run_until(fx, &acks, 2, 5000), 2);

    x = sent_page(fx, 0, 0, 10); /* oldest first; the duplicate entry once */
    assert_int_equal(x.n, 3);
    assert_int_equal(x.seq[0], 1);
    assert_int_equal(x.seq[1], 2);
    assert_int_equal(x.seq[2], 3);
    assert_string_equal(x.uid[2], "u-3");
    x = sent_page(fx, 1000, 2, 10); /* after a page's last row */
    assert_int_equal(x.n, 1);
    assert_int_equal(x.seq[0], 3);

    close_store(fx);
    open_store(fx, 0, 0, 0);
    assert_int_equal(kz_store_fed_marks(fx->st, "kz-jpn", "fed:kz-jpn", &m), KZ_OK);
    assert_true(m.has_cursor);
    assert_int_equal(m.cursor, 3);
    assert_int_equal(m.received, 40); /* the peer's sequence of the last event it sent */
    assert_int_equal(kz_store_fed_marks(fx->st, "kz-phl", "fed:kz-phl", &m), KZ_OK);
    assert_false(m.has_cursor);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sent_log_and_marks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
