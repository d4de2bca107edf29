/*
 * Unit tests for Data Sync missions in the router (src/route/mission.c): a
 * CoT with a mission dest from a sender the hook lets write reaches the
 * mission's subscribers only (never the sender, never others) and is handed
 * to the mission layer; from any other sender, or without the hook, it is
 * refused and reaches no one.  Notifications to a bound client pass the
 * release rule (exit mission_notify).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "route/route.h"

#define MAX_GOT 16

struct probe {
    struct kz_sub sub;
    struct kz_rbuf *got[MAX_GOT];
    unsigned n;
};

static uv_loop_t loop;
static struct kz_label_policy policy;
static struct kz_groups group_table;
static struct kz_input input;
static struct kz_input_conf conf;
static struct kz_identity id;
static char *cyan[] = {"Cyan"};
static struct kz_router *router;

struct hook_log {
    unsigned accepted;
    char mission[32], uid[32];
};
static struct hook_log hooked;

static int capture(struct kz_sub *sub, struct kz_rbuf *buf)
{
    struct probe *p = (struct probe *)sub;

    assert_true(p->n < MAX_GOT);
    p->got[p->n++] = kz_rbuf_ref(buf);
    return KZ_OK;
}

static void attach(struct probe *p)
{
    memset(p, 0, sizeof(*p));
    p->sub.input = &input;
    p->sub.identity = input.identity;
    p->sub.wire = KZ_WIRE_XML;
    p->sub.deliver = capture;
    kz_router_attach(router, &p->sub);
}

static void release(struct probe *p)
{
    kz_router_detach(router, &p->sub);
    for (unsigned i = 0; i < p->n; i++)
        kz_rbuf_unref(p->got[i]);
}

static bool saw(const struct probe *p, const char *needle)
{
    for (unsigned i = 0; i < p->n; i++)
        if (memmem(p->got[i]->data, p->got[i]->len, needle, strlen(needle)))
            return true;
    return false;
}

static int setup(void **state)
{
    (void)state;
    uv_loop_init(&loop);
    kz_label_policy_init_default(&policy);
    conf = (struct kz_input_conf){
        .name = "a", .protocol = KZ_PROTO_TCP, .default_label = "UNCLASSIFIED"};
    id = (struct kz_identity){.user = "a",
                              .nation = "USA",
                              .clearance = "SECRET",
                              .groups_in = cyan,
                              .groups_in_count = 1,
                              .groups_out = cyan,
                              .groups_out_count = 1};
    conf.identity = &id;
    assert_int_equal(kz_input_init(&input, &conf, &group_table, &policy, NULL, 0), KZ_OK);
    router = kz_router_new(
        &loop, &(struct kz_router_opts){
                   .policy = &policy, .groups = &group_table, .inputs = &input, .n_inputs = 1});
    memset(&hooked, 0, sizeof(hooked));
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

static void make_event(struct kz_event *ev, const char *uid, const char *mission)
{
    int64_t now = kz_now_us();

    kz_event_init(ev);
    ev->uid = kz_xstrdup(uid);
    ev->type = kz_xstrdup("a-f-G-U-C");
    ev->how = kz_xstrdup("m-g");
    ev->time = ev->start = now;
    ev->stale = now + 60 * 1000000LL;
    ev->lat = 35.7;
    ev->lon = 139.3;
    if (mission) {
        ev->dests = kz_xcalloc(1, sizeof(*ev->dests));
        ev->dests[0].mission = kz_xstrdup(mission);
        ev->n_dests = 1;
    }
}

static int submit(struct probe *from, const char *uid, const char *mission, enum kz_reject *why)
{
    struct kz_event ev;

    make_event(&ev, uid, mission);
    if (!mission) { /* a device's own report: binds its uid */
        ev.callsign = kz_xstrdup(uid);
        ev.endpoint = kz_xstrdup("*:-1:stcp");
    }
    int rc = kz_router_submit(router, &input, &from->sub, &ev, NULL, NULL, why, NULL);
    kz_event_clear(&ev);
    return rc;
}

/* The mission "ops": ALICE may write, BOB is subscribed. */
static bool may_write(void *ud, const struct kz_sub *from, const char *mission)
{
    (void)ud;
    return strcmp(mission, "ops") == 0 && strcmp(from->uid, "ALICE") == 0;
}

static bool subscribed(void *ud, const struct kz_sub *to, const char *mission)
{
    (void)ud;
    return strcmp(mission, "ops") == 0 && strcmp(to->uid, "BOB") == 0;
}

static void accepted(void *ud, const struct kz_sub *from, const char *mission,
                     const struct kz_event *ev, const struct kz_label *label)
{
    struct hook_log *h = ud;

    assert_string_equal(from->uid, "ALICE");
    assert_int_equal(label->level, KZ_LEVEL_UNCLASSIFIED);
    h->accepted++;
    snprintf(h->mission, sizeof(h->mission), "%s", mission);
    snprintf(h->uid, sizeof(h->uid), "%s", ev->uid);
}

static void test_without_hook_refused(void **state)
{
    struct probe alice, bob;
    enum kz_reject why;

    (void)state;
    attach(&alice);
    attach(&bob);
    assert_int_equal(submit(&alice, "ALICE", NULL, &why), KZ_OK);
    assert_int_equal(submit(&bob, "BOB", NULL, &why), KZ_OK);
    unsigned before = bob.n;
    assert_int_equal(submit(&alice, "dm-1", "ops", &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_MISSION);
    assert_int_equal(bob.n, before);
    release(&alice);
    release(&bob);
}

static void test_to_subscribers_only(void **state)
{
    struct probe alice, bob, carol;
    enum kz_reject why;
    struct kz_router_missions hook = {may_write, subscribed, accepted, &hooked};

    (void)state;
    kz_router_set_missions(router, &hook);
    attach(&alice);
    attach(&bob);
    attach(&carol);
    assert_int_equal(submit(&alice, "ALICE", NULL, &why), KZ_OK);
    assert_int_equal(submit(&bob, "BOB", NULL, &why), KZ_OK);
    assert_int_equal(submit(&carol, "CAROL", NULL, &why), KZ_OK);
    assert_int_equal(submit(&alice, "dm-1", "ops", &why), KZ_OK);
    assert_true(saw(&bob, "uid=\"dm-1\""));
    assert_false(saw(&carol, "uid=\"dm-1\""));
    assert_false(saw(&alice, "uid=\"dm-1\""));
    assert_int_equal(hooked.accepted, 1);
    assert_string_equal(hooked.mission, "ops");
    assert_string_equal(hooked.uid, "dm-1");
    /* BOB may not write, and no one may write to another mission. */
    assert_int_equal(submit(&bob, "dm-2", "ops", &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_MISSION);
    assert_int_equal(submit(&alice, "dm-3", "other", &why), KZ_ERR_DENIED);
    assert_int_equal(hooked.accepted, 1);
    assert_false(saw(&carol, "dm-2") || saw(&bob, "dm-3"));
    release(&alice);
    release(&bob);
    release(&carol);
}

struct found {
    const struct kz_sub *s;
    unsigned n;
};

static void found_one(void *ud, const struct kz_sub *s)
{
    struct found *f = ud;

    f->s = s;
    f->n++;
}

static void test_notify_releases(void **state)
{
    struct probe bob;
    enum kz_reject why;
    struct kz_event ev;
    struct kz_label u, ts;
    struct found f = {0};
    struct kz_router_stats st;

    (void)state;
    attach(&bob);
    assert_int_equal(submit(&bob, "BOB", NULL, &why), KZ_OK);
    kz_router_foreach_bound(router, "BOB", found_one, &f);
    assert_int_equal(f.n, 1);
    assert_ptr_equal(f.s, &bob.sub);
    assert_int_equal(kz_label_parse(&policy, "UNCLASSIFIED", 12, &u, NULL, 0), KZ_OK);
    assert_int_equal(kz_label_parse(&policy, "TOP SECRET", 10, &ts, NULL, 0), KZ_OK);
    u.originator = ts.originator = kz_nation_index("USA", 3);
    make_event(&ev, "note-1", NULL);
    assert_int_equal(kz_router_notify(router, f.s, &ev, &u), KZ_OK);
    assert_true(saw(&bob, "uid=\"note-1\""));
    kz_event_clear(&ev);
    make_event(&ev, "note-2", NULL);
    /* BOB is cleared SECRET: a TOP SECRET notification does not reach him. */
    assert_int_equal(kz_router_notify(router, f.s, &ev, &ts), KZ_ERR_DENIED);
    assert_false(saw(&bob, "note-2"));
    kz_event_clear(&ev);
    kz_router_stats(router, &st);
    assert_int_equal(st.checks[KZ_EXIT_MISSION_NOTIFY], 2);
    assert_int_equal(st.denials[KZ_EXIT_MISSION_NOTIFY], 1);
    assert_true(kz_router_track_label(router, "BOB", &u));
    assert_false(kz_router_track_label(router, "nobody", &u));
    release(&bob);
    assert_int_equal(kz_router_notify(router, &bob.sub, &ev, &u), KZ_ERR_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_without_hook_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_to_subscribers_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_releases, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
