/*
 * Unit tests for the router's side of a cluster (route/remote.c): events of other instances
 * are applied with their origin's stamp, released to this router's subscribers by the same
 * rule as every event, never tapped again; last writer wins on CoT time; what came in over
 * federation never goes to a federation link; a delete removes its track; an unknown origin
 * is refused.  Every locally accepted event passes the tap once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>

#include "route/route.h"

enum { US, JP, CL, CLF, N_IN };

struct probe {
    struct kz_sub sub;
    unsigned n;
    char last[4096];
};

static uv_loop_t loop;
static struct kz_label_policy policy;
static struct kz_groups group_table;
static struct kz_input inputs[N_IN];
static struct kz_input_conf confs[N_IN];
static struct kz_identity ids[N_IN];
static char *cyan[] = {"Cyan"};
static struct kz_router *router;
static unsigned taps;
static char tapped[4096];

static int capture(struct kz_sub *sub, struct kz_rbuf *buf)
{
    struct probe *p = (struct probe *)sub;
    size_t n = buf->len < sizeof(p->last) - 1 ? buf->len : sizeof(p->last) - 1;
    memcpy(p->last, buf->data, n);
    p->last[n] = '\0';
    p->n++;
    return KZ_OK;
}

static char tapped_scope[64];

static void tap(void *ud, const struct kz_tap *t)
{
    (void)ud;
    taps++;
    snprintf(tapped, sizeof(tapped), "%.*s", (int)t->xml->len, t->xml->data);
    snprintf(tapped_scope, sizeof(tapped_scope), "%s", t->scope);
}

static void attach(struct probe *p, int in, bool federation)
{
    memset(p, 0, sizeof(*p));
    p->sub.input = &inputs[in];
    p->sub.identity = inputs[in].identity;
    p->sub.deliver = capture;
    p->sub.federation = federation;
    p->sub.wire = KZ_WIRE_XML;
    kz_router_attach(router, &p->sub);
}

static void make_input(int i, const char *name, const char *nation)
{
    ids[i] = (struct kz_identity){.user = (char *)name,
                                  .nation = (char *)nation,
                                  .clearance = "SECRET",
                                  .groups_in = cyan,
                                  .groups_in_count = 1,
                                  .groups_out = cyan,
                                  .groups_out_count = 1};
    confs[i] = (struct kz_input_conf){.name = (char *)name,
                                      .protocol = KZ_PROTO_TCP,
                                      .identity = &ids[i],
                                      .default_label = "UNCLASSIFIED"};
    assert_int_equal(kz_input_init(&inputs[i], &confs[i], &group_table, &policy, NULL, 0), KZ_OK);
}

/* What src/cluster/ registers: no identity, every event its own. */
static void make_cluster_input(int i, const char *name, bool federated)
{
    confs[i] = (struct kz_input_conf){.name = (char *)name};
    assert_int_equal(kz_input_init(&inputs[i], &confs[i], &group_table, &policy, NULL, 0), KZ_OK);
    inputs[i].federated = federated;
    kz_router_add_input(router, &inputs[i]);
}

static int setup(void **state)
{
    (void)state;
    uv_loop_init(&loop);
    kz_label_policy_init_default(&policy);
    make_input(US, "us", "USA");
    make_input(JP, "jp", "JPN");
    router = kz_router_new(
        &loop, &(struct kz_router_opts){
                   .policy = &policy, .groups = &group_table, .inputs = inputs, .n_inputs = 2});
    make_cluster_input(CL, "cluster/", false);
    make_cluster_input(CLF, "cluster-fed/", true);
    kz_router_set_tap(router, tap, NULL);
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

/* An event as another instance stamped it. */
static void remote_event(struct kz_event *ev, const char *uid, const char *access,
                         const char *origin_input, int64_t time)
{
    kz_event_init(ev);
    ev->uid = kz_xstrdup(uid);
    ev->type = kz_xstrdup("a-f-G-U-C");
    ev->how = kz_xstrdup("m-g");
    ev->time = ev->start = time;
    ev->stale = kz_now_us() + 60000000;
    ev->access = kz_xstrdup(access);
    ev->origin_input = kz_xstrdup(origin_input);
    ev->origin_user = kz_xstrdup("b-user");
    ev->origin_nation = kz_xstrdup("USA");
    ev->origin_groups = kz_xstrdup("Cyan");
    ev->recv_time = time;
}

static const struct kz_apply plain = {.scope = ""};

static int apply(const char *uid, const char *access, const char *origin, int64_t time)
{
    struct kz_event ev;
    enum kz_reject why;

    remote_event(&ev, uid, access, origin, time);
    int rc = kz_router_apply(router, &ev, &plain, &why);
    assert_null(ev.uid); /* taken over, or cleared */
    return rc;
}

static void test_release_and_no_tap(void **state)
{
    struct probe us, jp, link;
    int64_t now = kz_now_us();

    (void)state;
    attach(&us, US, false);
    attach(&jp, JP, false);
    attach(&link, US, true);
    taps = 0;
    assert_int_equal(apply("nf-1", "SECRET//NOFORN", "cluster/B/us", now), KZ_OK);
    assert_int_equal(us.n, 1);
    assert_non_null(strstr(us.last, "nf-1"));
    assert_int_equal(jp.n, 0);
    assert_int_equal(link.n, 1); /* a link of this instance may have what B's clients sent */
    assert_int_equal(apply("rel-1", "SECRET//REL TO USA, JPN", "cluster/B/us", now), KZ_OK);
    assert_int_equal(jp.n, 1);
    /* Came in over federation on B: never federated again, still for the clients here. */
    assert_int_equal(apply("fed-1", "UNCLASSIFIED", "cluster-fed/B/fed:east", now), KZ_OK);
    assert_int_equal(us.n, 3);
    assert_int_equal(jp.n, 2);
    assert_int_equal(link.n, 2);
    assert_int_equal(taps, 0);
    /* A late viewer's replay has them, under the same rule. */
    struct probe late;
    attach(&late, JP, false);
    assert_int_equal(late.n, 2);
    kz_router_detach(router, &us.sub);
    kz_router_detach(router, &jp.sub);
    kz_router_detach(router, &link.sub);
    kz_router_detach(router, &late.sub);
}

static void test_last_writer_wins(void **state)
{
    struct probe us;
    int64_t t = kz_now_us();

    (void)state;
    attach(&us, US, false);
    unsigned replayed = us.n; /* the tracks of the test before */
    assert_int_equal(apply("lww", "UNCLASSIFIED", "cluster/B/us", t), KZ_OK);
    assert_int_equal(apply("lww", "UNCLASSIFIED", "cluster/C/us", t), KZ_ERR_EXISTS);
    assert_int_equal(apply("lww", "UNCLASSIFIED", "cluster/C/us", t - 1000), KZ_ERR_EXISTS);
    assert_int_equal(us.n, replayed + 1);
    assert_int_equal(apply("lww", "UNCLASSIFIED", "cluster/C/us", t + 1000), KZ_OK);
    assert_int_equal(us.n, replayed + 2);
    kz_router_detach(router, &us.sub);
}

static void test_refused(void **state)
{
    struct kz_event ev;
    enum kz_reject why;

    (void)state;
    remote_event(&ev, "nowhere-1", "UNCLASSIFIED", "elsewhere/B/us", kz_now_us());
    assert_int_equal(kz_router_apply(router, &ev, &plain, &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_LABEL);
    remote_event(&ev, "badlabel-1", "NOT A LABEL", "cluster/B/us", kz_now_us());
    assert_int_equal(kz_router_apply(router, &ev, &plain, &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_LABEL);
}

static void test_delete(void **state)
{
    struct kz_event ev;
    enum kz_reject why;
    int64_t now = kz_now_us();

    (void)state;
    assert_int_equal(apply("doomed", "UNCLASSIFIED", "cluster/B/us", now), KZ_OK);
    remote_event(&ev, "doomed", "UNCLASSIFIED", "cluster/B/us", now);
    assert_true(kz_router_has_latest(router, &ev));
    kz_event_clear(&ev);
    remote_event(&ev, "del-1", "UNCLASSIFIED", "cluster/B/us", now);
    free(ev.type);
    ev.type = kz_xstrdup("t-x-d-d");
    ev.link_uid = kz_xstrdup("doomed");
    assert_int_equal(kz_router_apply(router, &ev, &plain, &why), KZ_OK);
    remote_event(&ev, "doomed", "UNCLASSIFIED", "cluster/B/us", now);
    assert_false(kz_router_has_latest(router, &ev));
    kz_event_clear(&ev);
}

static void test_local_events_tapped_once(void **state)
{
    struct kz_event ev;
    enum kz_reject why;

    (void)state;
    taps = 0;
    remote_event(&ev, "local-1", "UNCLASSIFIED", "us", kz_now_us());
    assert_int_equal(kz_router_submit(router, &inputs[US], NULL, &ev, NULL, NULL, &why, NULL),
                     KZ_OK);
    kz_event_clear(&ev);
    assert_int_equal(taps, 1);
    assert_non_null(strstr(tapped, "uid=\"local-1\""));
    assert_non_null(strstr(tapped, "access=\"UNCLASSIFIED\""));
    assert_string_equal(tapped_scope, "us"); /* a configured identity: its input's */
}

/* A device bound on another instance holds its uid here too, for its sender only. */
static void test_bound_elsewhere(void **state)
{
    struct kz_event ev;
    enum kz_reject why;
    struct kz_apply held = {.scope = "us", .bound = true};
    int64_t now = kz_now_us();

    (void)state;
    remote_event(&ev, "device-9", "UNCLASSIFIED", "cluster/B/us", now);
    free(ev.origin_user);
    ev.origin_user = kz_xstrdup("us"); /* the "us" input's identity, as B stamped it */
    assert_int_equal(kz_router_apply(router, &ev, &held, &why), KZ_OK);
    /* Another identity may not take the uid here... */
    remote_event(&ev, "device-9", "UNCLASSIFIED", "jp", now + 1000);
    assert_int_equal(kz_router_submit(router, &inputs[JP], NULL, &ev, NULL, NULL, &why, NULL),
                     KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CLAIMED);
    kz_event_clear(&ev);
    /* ...its own sender may (the device moved here). */
    remote_event(&ev, "device-9", "UNCLASSIFIED", "us", now + 2000);
    assert_int_equal(kz_router_submit(router, &inputs[US], NULL, &ev, NULL, NULL, &why, NULL),
                     KZ_OK);
    kz_event_clear(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_and_no_tap),
        cmocka_unit_test(test_last_writer_wins),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_local_events_tapped_once),
        cmocka_unit_test(test_bound_elsewhere),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
