/*
 * Unit tests for label enforcement in the router: labelling on input
 * (default, canonical form, unparseable, ceiling) and the release rule at
 * the live, directed, replay and query exits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "route/route.h"

enum { US, JP, PH, N_IN };

struct probe {
    struct kz_sub sub;
    unsigned n;
    char last[4096];
};

static uv_loop_t loop;
static struct kz_label_policy policy;
static struct kz_groups group_table; /* the intern table a server would own */
static struct kz_input inputs[N_IN];
static struct kz_input_conf confs[N_IN];
static struct kz_identity ids[N_IN];
static char *cyan[] = {"Cyan"};
static struct kz_router *router;

static int capture(struct kz_sub *sub, struct kz_rbuf *buf)
{
    struct probe *p = (struct probe *)sub;
    size_t n = buf->len < sizeof(p->last) - 1 ? buf->len : sizeof(p->last) - 1;
    memcpy(p->last, buf->data, n);
    p->last[n] = '\0';
    p->n++;
    return KZ_OK;
}

static void attach(struct probe *p, int in)
{
    memset(p, 0, sizeof(*p));
    p->sub.input = &inputs[in];
    p->sub.identity = inputs[in].identity;
    p->sub.deliver = capture;
    kz_router_attach(router, &p->sub);
}

static void make_input(int i, const char *name, const char *nation, const char *clearance,
                       const char *ceiling)
{
    ids[i] = (struct kz_identity){.user = (char *)name,
                                  .nation = (char *)nation,
                                  .clearance = (char *)clearance,
                                  .groups_in = cyan,
                                  .groups_in_count = 1,
                                  .groups_out = cyan,
                                  .groups_out_count = 1};
    confs[i] = (struct kz_input_conf){.name = (char *)name,
                                      .protocol = KZ_PROTO_TCP,
                                      .identity = &ids[i],
                                      .default_label = "UNCLASSIFIED",
                                      .ceiling = (char *)ceiling};
    assert_int_equal(kz_input_init(&inputs[i], &confs[i], &group_table, &policy, NULL, 0), KZ_OK);
}

static int setup(void **state)
{
    (void)state;
    uv_loop_init(&loop);
    kz_label_policy_init_default(&policy);
    make_input(US, "us", "USA", "SECRET", "SECRET");
    make_input(JP, "jp", "JPN", "SECRET", "SECRET//REL TO USA, JPN");
    make_input(PH, "ph", "PHL", "UNCLASSIFIED", NULL);
    router = kz_router_new(
        &loop, &(struct kz_router_opts){
                   .policy = &policy, .groups = &group_table, .inputs = inputs, .n_inputs = N_IN});
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

static void make_event(struct kz_event *ev, const char *uid, const char *access)
{
    int64_t now = kz_now_us();
    kz_event_init(ev);
    ev->uid = kz_xstrdup(uid);
    ev->type = kz_xstrdup("a-f-G-U-C");
    ev->how = kz_xstrdup("m-g");
    ev->time = ev->start = now;
    ev->stale = now + 60000000;
    ev->access = kz_xstrdup(access);
}

static int submit(int in, const char *uid, const char *access, enum kz_reject *why)
{
    struct kz_event ev;
    make_event(&ev, uid, access);
    int rc = kz_router_submit(router, &inputs[in], NULL, &ev, NULL, NULL, why, NULL);
    kz_event_clear(&ev);
    return rc;
}

static void test_input_labelling(void **state)
{
    (void)state;
    enum kz_reject why;
    struct probe us;
    attach(&us, US);
    assert_int_equal(submit(JP, "canon", "secret // rel to jpn,usa", &why), KZ_OK);
    assert_non_null(strstr(us.last, "access=\"SECRET//REL TO USA, JPN\""));
    assert_int_equal(submit(JP, "none", NULL, &why), KZ_OK); /* input default */
    assert_non_null(strstr(us.last, "access=\"UNCLASSIFIED\""));
    assert_int_equal(submit(JP, "bad", "SECRET//REL TO XYZ", &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_LABEL);
    assert_int_equal(submit(JP, "over", "TOP SECRET//REL TO USA, JPN", &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CEILING);
    /* NOFORN from Japan releases to fewer nations than the JPN ceiling. */
    assert_int_equal(submit(JP, "nf", "SECRET//NOFORN", &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CEILING);
    kz_router_detach(router, &us.sub);
}

static void test_release_on_every_exit(void **state)
{
    (void)state;
    enum kz_reject why;
    struct probe us, jp, ph;
    attach(&us, US);
    attach(&jp, JP);
    attach(&ph, PH);
    unsigned u = us.n, j = jp.n, p = ph.n;

    assert_int_equal(submit(US, "relusjp", "SECRET//REL TO USA, JPN", &why), KZ_OK);
    assert_int_equal(jp.n, j + 1);
    assert_int_equal(ph.n, p); /* PHL: not in REL TO, and uncleared */
    assert_int_equal(submit(US, "nf", "SECRET//NOFORN", &why), KZ_OK);
    assert_int_equal(jp.n, j + 1); /* NOFORN stays home */
    assert_int_equal(submit(US, "pub", "UNCLASSIFIED", &why), KZ_OK);
    assert_int_equal(ph.n, p + 1); /* public information reaches all */
    assert_int_equal(jp.n, j + 2);
    assert_int_equal(submit(US, "conf", "CONFIDENTIAL//REL TO USA, PHL", &why), KZ_OK);
    assert_int_equal(ph.n, p + 1); /* PHL identity is UNCLASSIFIED only */
    assert_int_equal(jp.n, j + 2); /* JPN not in REL TO */
    assert_int_equal(us.n, u + 4); /* the originator nation sees all four */
    kz_router_detach(router, &us.sub);

    /* Replay applies the same rule. */
    struct probe jp2;
    attach(&jp2, JP);
    assert_int_equal(jp2.n, 2); /* relusjp and pub */
    kz_router_detach(router, &jp2.sub);

    struct kz_router_stats st;
    kz_router_stats(router, &st);
    assert_true(st.denials[KZ_EXIT_FANOUT] >= 4);
    assert_true(st.denials[KZ_EXIT_REPLAY] >= 2);
    assert_true(st.deny_reasons[KZ_DENY_NOFORN] >= 1);
    assert_true(st.deny_reasons[KZ_DENY_CLEARANCE] >= 1);
    kz_router_detach(router, &jp.sub);
    kz_router_detach(router, &ph.sub);
}

static void test_query_exit(void **state)
{
    (void)state;
    struct kz_sub viewer;
    struct kz_event ev;
    make_event(&ev, "q", "SECRET//REL TO USA, JPN");
    ev.origin_input = kz_xstrdup("us");
    kz_sub_viewer(router, &viewer, &inputs[JP]);
    assert_true(kz_router_visible(router, &ev, &viewer, KZ_EXIT_REST_EVENTS));
    kz_sub_viewer(router, &viewer, &inputs[PH]);
    assert_false(kz_router_visible(router, &ev, &viewer, KZ_EXIT_REST_EVENTS));
    free(ev.access);
    ev.access = kz_xstrdup("garbage");
    kz_sub_viewer(router, &viewer, &inputs[US]);
    assert_false(kz_router_visible(router, &ev, &viewer, KZ_EXIT_REST_EVENTS));
    kz_event_clear(&ev);
}

static void count_cb(void *ud, const struct kz_event *ev)
{
    struct {
        const char *uid;
        int n;
    } *c = ud;
    if (strcmp(ev->uid, c->uid) == 0)
        c->n++;
}

static int count_uid(const char *uid, int in)
{
    struct kz_sub viewer;
    struct {
        const char *uid;
        int n;
    } c = {uid, 0};
    kz_sub_viewer(router, &viewer, &inputs[in]);
    kz_router_foreach_track(router, &viewer, KZ_EXIT_REST_TRACKS, count_cb, &c);
    return c.n;
}

static void delete_from(int in, const char *target)
{
    struct kz_event ev;
    enum kz_reject why;
    make_event(&ev, "del", "UNCLASSIFIED");
    free(ev.type);
    ev.type = kz_xstrdup("t-x-d-d");
    ev.link_uid = kz_xstrdup(target);
    assert_int_equal(kz_router_submit(router, &inputs[in], NULL, &ev, NULL, NULL, &why, NULL),
                     KZ_OK);
    kz_event_clear(&ev);
}

static void test_delete_needs_sight(void **state)
{
    (void)state;
    enum kz_reject why;
    assert_int_equal(submit(US, "nf-track", "SECRET//NOFORN", &why), KZ_OK);
    delete_from(PH, "nf-track"); /* PHL may not see it: ignored */
    assert_int_equal(count_uid("nf-track", US), 1);
    delete_from(JP, "nf-track"); /* nor may Japan */
    assert_int_equal(count_uid("nf-track", US), 1);
    /* Nor may they overwrite it under the same uid. */
    assert_int_equal(submit(JP, "nf-track", "UNCLASSIFIED", &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CONFLICT);
    assert_int_equal(count_uid("nf-track", JP), 0);
    assert_int_equal(submit(US, "nf-track", "UNCLASSIFIED", &why), KZ_OK); /* the owner may */
    assert_int_equal(count_uid("nf-track", JP), 1);
    assert_int_equal(submit(JP, "nf-track", "UNCLASSIFIED", &why), KZ_OK); /* now visible */
    delete_from(US, "nf-track");
    assert_int_equal(count_uid("nf-track", US), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_input_labelling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_on_every_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_needs_sight, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
