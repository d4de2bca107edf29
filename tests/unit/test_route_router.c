/* Unit tests for router recipient decisions, control messages and replay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "route/route.h"

#define MAX_GOT 32

struct probe {
    struct kz_sub sub;
    struct kz_rbuf *got[MAX_GOT];
    unsigned n;
};

static uv_loop_t loop;
static struct kz_label_policy policy;
static struct kz_groups group_table; /* the intern table a server would own */
static struct kz_input inputs[3];
static struct kz_input_conf confs[3];
static struct kz_identity ids[3];
static char *cyan[] = {"Cyan"}, *red[] = {"Red"};
static struct kz_router *router;

static int capture(struct kz_sub *sub, struct kz_rbuf *buf)
{
    struct probe *p = (struct probe *)sub;
    assert_true(p->n < MAX_GOT);
    p->got[p->n++] = kz_rbuf_ref(buf);
    return KZ_OK;
}

static void probe_attach(struct probe *p, int input)
{
    memset(p, 0, sizeof(*p));
    p->sub.input = &inputs[input];
    p->sub.identity = inputs[input].identity;
    p->sub.wire = KZ_WIRE_XML;
    p->sub.deliver = capture;
    kz_router_attach(router, &p->sub);
}

static void probe_release(struct probe *p)
{
    kz_router_detach(router, &p->sub);
    for (unsigned i = 0; i < p->n; i++)
        kz_rbuf_unref(p->got[i]);
    p->n = 0;
}

static bool probe_saw(const struct probe *p, const char *needle)
{
    for (unsigned i = 0; i < p->n; i++)
        if (memmem(p->got[i]->data, p->got[i]->len, needle, strlen(needle)))
            return true;
    return false;
}

static void make_input(int i, const char *name, char **groups)
{
    confs[i] = (struct kz_input_conf){
        .name = (char *)name, .protocol = KZ_PROTO_TCP, .default_label = "UNCLASSIFIED"};
    ids[i] = (struct kz_identity){.user = (char *)name,
                                  .nation = "USA",
                                  .clearance = "SECRET",
                                  .groups_in = groups,
                                  .groups_in_count = 1,
                                  .groups_out = groups,
                                  .groups_out_count = 1};
    confs[i].identity = &ids[i];
    assert_int_equal(kz_input_init(&inputs[i], &confs[i], &group_table, &policy, NULL, 0), KZ_OK);
}

static int setup(void **state)
{
    (void)state;
    uv_loop_init(&loop);
    kz_label_policy_init_default(&policy);
    make_input(0, "a", cyan);
    make_input(1, "b", cyan);
    make_input(2, "c", red);
    router = kz_router_new(
        &loop, &(struct kz_router_opts){
                   .policy = &policy, .groups = &group_table, .inputs = inputs, .n_inputs = 3});
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kz_router_free(router);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    return 0;
}

static void make_event(struct kz_event *ev, const char *uid, const char *type, int64_t ttl_s)
{
    int64_t now = kz_now_us();
    kz_event_init(ev);
    ev->uid = kz_xstrdup(uid);
    ev->type = kz_xstrdup(type);
    ev->how = kz_xstrdup("m-g");
    ev->time = ev->start = now;
    ev->stale = now + ttl_s * 1000000;
    ev->lat = 35.7;
    ev->lon = 139.3;
}

static void submit(int input, struct probe *from, struct kz_event *ev)
{
    enum kz_reject why;
    assert_int_equal(kz_router_submit(router, &inputs[input], from ? &from->sub : NULL, ev, NULL,
                                      NULL, &why, NULL),
                     KZ_OK);
}

static void test_fanout_groups(void **state)
{
    (void)state;
    struct probe a, b, c;
    struct kz_event ev;
    probe_attach(&a, 0);
    probe_attach(&b, 1);
    probe_attach(&c, 2);
    make_event(&ev, "unit-1", "a-f-G-U-C", 60);
    submit(0, &a, &ev);
    assert_int_equal(a.n, 0); /* never back to the sender */
    assert_int_equal(b.n, 1); /* Cyan -> Cyan */
    assert_int_equal(c.n, 0); /* Cyan -/-> Red */
    assert_true(probe_saw(&b, "uid=\"unit-1\""));
    assert_true(probe_saw(&b, "access=\"UNCLASSIFIED\"")); /* input default label */
    probe_release(&a);
    probe_release(&b);
    probe_release(&c);
}

static void test_encoded_once(void **state)
{
    (void)state;
    struct probe a, b1, b2;
    struct kz_event ev;
    probe_attach(&a, 0);
    probe_attach(&b1, 1);
    probe_attach(&b2, 1);
    unsigned before1 = b1.n, before2 = b2.n;
    make_event(&ev, "unit-2", "a-f-G-U-C", 60);
    submit(0, &a, &ev);
    assert_int_equal(b1.n, before1 + 1);
    assert_int_equal(b2.n, before2 + 1);
    assert_ptr_equal(b1.got[b1.n - 1], b2.got[b2.n - 1]); /* one shared buffer */
    probe_release(&a);
    probe_release(&b1);
    probe_release(&b2);
}

static void test_directed(void **state)
{
    (void)state;
    struct probe a, bob, carol;
    struct kz_event ev;
    probe_attach(&a, 0);
    probe_attach(&bob, 1);
    probe_attach(&carol, 1);

    make_event(&ev, "bob-sa", "a-f-G-U-C", 60); /* learn callsign + uid */
    ev.callsign = kz_xstrdup("BOB");
    submit(1, &bob, &ev);
    make_event(&ev, "carol-sa", "a-f-G-U-C", 60);
    ev.callsign = kz_xstrdup("CAROL");
    submit(1, &carol, &ev);
    probe_release(&bob);
    probe_release(&carol);
    probe_attach(&bob, 1);
    probe_attach(&carol, 1);
    bob.sub.callsign = kz_xstrdup("BOB");
    carol.sub.uid = kz_xstrdup("carol-sa");

    make_event(&ev, "chat-1", "b-t-f", 60);
    ev.n_dests = 1;
    ev.dests = kz_xcalloc(1, sizeof(*ev.dests));
    ev.dests[0].callsign = kz_xstrdup("BOB");
    unsigned nb = bob.n, nc = carol.n;
    submit(0, &a, &ev);
    assert_int_equal(bob.n, nb + 1);
    assert_int_equal(carol.n, nc);

    make_event(&ev, "chat-2", "b-t-f", 60);
    ev.n_dests = 1;
    ev.dests = kz_xcalloc(1, sizeof(*ev.dests));
    ev.dests[0].uid = kz_xstrdup("carol-sa");
    submit(0, &a, &ev);
    assert_int_equal(bob.n, nb + 1);
    assert_int_equal(carol.n, nc + 1);
    assert_true(probe_saw(&carol, "chat-2"));
    probe_release(&a);
    probe_release(&bob);
    probe_release(&carol);
}

static void test_ping(void **state)
{
    (void)state;
    struct probe a, b;
    struct kz_event ev;
    probe_attach(&a, 0);
    probe_attach(&b, 1);
    unsigned na = a.n, nb = b.n;
    struct kz_router_stats st0, st1;
    kz_router_stats(router, &st0);
    make_event(&ev, "a-ping", "t-x-c-t", 10);
    submit(0, &a, &ev);
    kz_router_stats(router, &st1);
    assert_int_equal(a.n, na + 1);
    assert_true(probe_saw(&a, "type=\"t-x-c-t-r\""));
    assert_int_equal(b.n, nb);
    assert_int_equal(st1.tracks, st0.tracks); /* pings are not state */
    probe_release(&a);
    probe_release(&b);
}

static void count_uid(void *ud, const struct kz_event *ev)
{
    struct {
        const char *uid;
        int n;
    } *c = ud;
    if (strcmp(ev->uid, c->uid) == 0)
        c->n++;
}

static int tracks_with(const char *uid, int input)
{
    struct kz_sub viewer;
    struct {
        const char *uid;
        int n;
    } c = {uid, 0};
    kz_sub_viewer(router, &viewer, &inputs[input]);
    kz_router_foreach_track(router, &viewer, KZ_EXIT_REST_TRACKS, count_uid, &c);
    return c.n;
}

static void test_delete_and_replay(void **state)
{
    (void)state;
    struct probe a, b, late;
    struct kz_event ev;
    probe_attach(&a, 0);
    probe_attach(&b, 1);
    make_event(&ev, "marker-1", "b-m-p-s-m", 60);
    submit(0, &a, &ev);
    make_event(&ev, "marker-1", "b-m-p-s-m", 60); /* update: still one track */
    ev.lat = 10;
    submit(0, &a, &ev);
    make_event(&ev, "old-1", "a-f-G", -1); /* already stale */
    ev.start = ev.stale - 1;
    submit(0, &a, &ev);
    assert_int_equal(tracks_with("marker-1", 1), 1);
    assert_int_equal(tracks_with("marker-1", 2), 0); /* Red cannot see Cyan */
    assert_int_equal(tracks_with("old-1", 1), 0);

    probe_attach(&late, 1); /* replay */
    assert_true(probe_saw(&late, "marker-1"));
    assert_true(probe_saw(&late, "lat=\"10\""));
    assert_false(probe_saw(&late, "old-1"));
    probe_release(&late);

    make_event(&ev, "del-1", "t-x-d-d", 60);
    ev.link_uid = kz_xstrdup("marker-1");
    unsigned nb = b.n;
    submit(0, &a, &ev);
    assert_int_equal(b.n, nb + 1); /* delete is forwarded */
    assert_int_equal(tracks_with("marker-1", 1), 0);
    assert_int_equal(tracks_with("del-1", 1), 0); /* and is not state */
    probe_attach(&late, 1);
    assert_false(probe_saw(&late, "marker-1"));
    probe_release(&late);
    probe_release(&a);
    probe_release(&b);
}

static void test_visible_unknown_origin(void **state)
{
    (void)state;
    struct kz_sub viewer;
    struct kz_event ev;
    make_event(&ev, "x", "a-f-G", 60);
    kz_sub_viewer(router, &viewer, &inputs[1]);
    ev.origin_input = kz_xstrdup("a");
    assert_false(kz_router_visible(router, &ev, &viewer, KZ_EXIT_REST_EVENTS)); /* no label */
    ev.access = kz_xstrdup("UNCLASSIFIED");
    assert_true(kz_router_visible(router, &ev, &viewer, KZ_EXIT_REST_EVENTS));
    free(ev.origin_input);
    ev.origin_input = kz_xstrdup("gone");
    assert_false(kz_router_visible(router, &ev, &viewer, KZ_EXIT_REST_EVENTS)); /* fail closed */
    kz_event_clear(&ev);
}

static void test_state_is_bounded(void **state)
{
    (void)state;
    struct kz_router *small = kz_router_new(&loop, &(struct kz_router_opts){.policy = &policy,
                                                                            .groups = &group_table,
                                                                            .inputs = inputs,
                                                                            .n_inputs = 3,
                                                                            .max_tracks = 2});
    struct kz_event ev;
    enum kz_reject why = KZ_REJ__COUNT;
    const char *uids[] = {"t1", "t2", "t1"};

    for (size_t i = 0; i < KZ_ARRAY_LEN(uids); i++) {
        make_event(&ev, uids[i], "a-f-G", 60);
        assert_int_equal(kz_router_submit(small, &inputs[0], NULL, &ev, NULL, NULL, &why, NULL),
                         KZ_OK);
    }
    make_event(&ev, "t3", "a-f-G", 60); /* a third uid: refused */
    assert_int_equal(kz_router_submit(small, &inputs[0], NULL, &ev, NULL, NULL, &why, NULL),
                     KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_STATE_FULL);
    kz_event_clear(&ev);
    kz_router_free(small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fanout_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encoded_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visible_unknown_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_is_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
