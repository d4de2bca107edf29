/*
 * Unit tests for label enforcement in the router: labelling on input
 * (default, canonical form, unparseable, ceiling) and the release rule at
 * the live, directed, replay, query and client-list exits, for events that
 * originate in each nation.
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

enum { US, JP, PH, JX, N_IN }; /* JX: a JPN input without a ceiling */

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
    make_input(JX, "jx", "JPN", "SECRET", NULL);
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

/* An input label must fit where the router writes it (KZ_COT_ACCESS_MAX). */
static void test_input_label_too_long(void **state)
{
    struct kz_label_policy pol;
    struct kz_input_conf conf = {.name = "long"};
    struct kz_groups groups = {0};
    struct kz_input in;
    struct kz_sbuf text = KZ_SBUF_INIT;
    char err[256];
    (void)state;

    kz_label_policy_init_default(&pol);
    kz_sbuf_adds(&text, "UNCLASSIFIED//REL TO USA");
    for (uint16_t i = 1; i <= 120; i++) /* 0 is KZ_NATION_NONE */
        kz_sbuf_addf(&text, ", %s", kz_nation_code(i));
    conf.default_label = text.buf;
    assert_int_equal(kz_input_init(&in, &conf, &groups, &pol, err, sizeof(err)), KZ_ERR_CONFIG);
    if (!strstr(err, "longer than 512 bytes"))
        fail_msg("%s", err);
    conf.default_label = "UNCLASSIFIED//REL TO USA, JPN";
    assert_int_equal(kz_input_init(&in, &conf, &groups, &pol, err, sizeof(err)), KZ_OK);
    kz_groups_release(&groups);
    kz_sbuf_release(&text);
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

/* An event from a connected client, which then learns its uid and callsign. */
static int send_from(struct probe *p, int in, const char *uid, const char *type, const char *access,
                     const char *callsign, const char *to)
{
    struct kz_event ev;
    enum kz_reject why;
    make_event(&ev, uid, access);
    free(ev.type);
    ev.type = kz_xstrdup(type);
    if (callsign) {
        ev.callsign = kz_xstrdup(callsign);
        ev.endpoint = kz_xstrdup("*:-1:stcp");
    }
    if (to) {
        ev.n_dests = 1;
        ev.dests = kz_xcalloc(1, sizeof(*ev.dests));
        ev.dests[0].callsign = kz_xstrdup(to);
    }
    int rc = kz_router_submit(router, &inputs[in], &p->sub, &ev, NULL, NULL, &why, NULL);
    kz_event_clear(&ev);
    return rc;
}

/* S1-3: the directed exit applies the release rule, whichever nation sends. */
static void test_directed_exit(void **state)
{
    (void)state;
    struct probe us, jx, ph;
    attach(&us, US);
    attach(&jx, JX);
    attach(&ph, PH);
    assert_int_equal(send_from(&us, US, "us-sa", "a-f-G-U-C", NULL, "USA1", NULL), KZ_OK);
    assert_int_equal(send_from(&jx, JX, "jx-sa", "a-f-G-U-C", NULL, "JPN1", NULL), KZ_OK);
    assert_int_equal(send_from(&ph, PH, "ph-sa", "a-f-G-U-C", NULL, "PHL1", NULL), KZ_OK);
    struct kz_router_stats st0, st1;
    kz_router_stats(router, &st0);
    unsigned u = us.n, j = jx.n, p = ph.n;

    /* Japan's national-only message to a USA callsign is withheld. */
    assert_int_equal(send_from(&jx, JX, "dm-1", "b-t-f", "//JPN SECRET", NULL, "USA1"), KZ_OK);
    assert_int_equal(us.n, u);
    /* Japan's NOFORN (originator only) is withheld too. */
    assert_int_equal(send_from(&jx, JX, "dm-2", "b-t-f", "SECRET//NOFORN", NULL, "USA1"), KZ_OK);
    assert_int_equal(us.n, u);
    /* A USA NOFORN message to a JPN callsign is withheld. */
    assert_int_equal(send_from(&us, US, "dm-3", "b-t-f", "SECRET//NOFORN", NULL, "JPN1"), KZ_OK);
    assert_int_equal(jx.n, j);
    /* Releasable ones arrive, at their addressee only. */
    assert_int_equal(send_from(&jx, JX, "dm-4", "b-t-f", "SECRET//REL TO USA, JPN", NULL, "USA1"),
                     KZ_OK);
    assert_int_equal(us.n, u + 1);
    assert_non_null(strstr(us.last, "dm-4"));
    assert_int_equal(send_from(&us, US, "dm-5", "b-t-f", "UNCLASSIFIED", NULL, "PHL1"), KZ_OK);
    assert_int_equal(ph.n, p + 1);
    assert_int_equal(jx.n, j);
    /* A Philippine uncleared recipient never gets a SECRET message. */
    assert_int_equal(send_from(&us, US, "dm-6", "b-t-f", "SECRET//REL TO USA, PHL", NULL, "PHL1"),
                     KZ_OK);
    assert_int_equal(ph.n, p + 1);

    kz_router_stats(router, &st1);
    assert_int_equal(st1.checks[KZ_EXIT_DIRECTED] - st0.checks[KZ_EXIT_DIRECTED], 6);
    assert_int_equal(st1.denials[KZ_EXIT_DIRECTED] - st0.denials[KZ_EXIT_DIRECTED], 4);
    kz_router_detach(router, &us.sub);
    kz_router_detach(router, &jx.sub);
    kz_router_detach(router, &ph.sub);
}

struct listed {
    char callsigns[8][32];
    unsigned n;
};

static void list_cb(void *ud, const struct kz_sub *client, const struct kz_event *last)
{
    struct listed *l = ud;
    (void)client;
    assert_true(l->n < 8);
    snprintf(l->callsigns[l->n++], sizeof(l->callsigns[0]), "%s",
             last->callsign ? last->callsign : "");
}

static bool listed(int viewer_in, const char *callsign)
{
    struct kz_sub viewer;
    struct listed l = {.n = 0};
    kz_sub_viewer(router, &viewer, &inputs[viewer_in]);
    kz_router_foreach_client(router, &viewer, KZ_EXIT_MARTI_CLIENTS, list_cb, &l);
    for (unsigned i = 0; i < l.n; i++)
        if (strcmp(l.callsigns[i], callsign) == 0)
            return true;
    return false;
}

/* S1-3: the client list shows a client only to those who may see its report. */
static void test_marti_clients_exit(void **state)
{
    (void)state;
    struct probe us, jx, ph;
    attach(&us, US);
    attach(&jx, JX);
    attach(&ph, PH);
    assert_int_equal(send_from(&us, US, "us-sa", "a-f-G-U-C", "SECRET//NOFORN", "USA-NF", NULL),
                     KZ_OK);
    assert_int_equal(send_from(&jx, JX, "jx-sa", "a-f-G-U-C", "//JPN SECRET", "JPN-NAT", NULL),
                     KZ_OK);
    assert_int_equal(send_from(&ph, PH, "ph-sa", "a-f-G-U-C", "UNCLASSIFIED", "PHL-PUB", NULL),
                     KZ_OK);
    assert_true(listed(US, "USA-NF"));
    assert_false(listed(US, "JPN-NAT")); /* JPN national-only: withheld from the USA */
    assert_true(listed(US, "PHL-PUB"));
    assert_false(listed(JX, "USA-NF"));
    assert_true(listed(JX, "JPN-NAT"));
    assert_false(listed(PH, "USA-NF"));
    assert_false(listed(PH, "JPN-NAT"));
    assert_true(listed(PH, "PHL-PUB"));
    struct kz_router_stats st;
    kz_router_stats(router, &st);
    assert_true(st.denials[KZ_EXIT_MARTI_CLIENTS] >= 4);
    kz_router_detach(router, &us.sub);
    kz_router_detach(router, &jx.sub);
    kz_router_detach(router, &ph.sub);
}

/* F16: a delete reaches only recipients who may see the track it removes. */
static void test_delete_reaches_only_viewers(void **state)
{
    (void)state;
    enum kz_reject why;
    struct probe us, jp;
    attach(&us, US);
    attach(&jp, JP);
    assert_int_equal(submit(US, "nf-hostile", "SECRET//NOFORN", &why), KZ_OK);
    unsigned u = us.n, j = jp.n;
    delete_from(US, "nf-hostile"); /* no access: the UNCLASSIFIED default label */
    assert_int_equal(us.n, u + 1);
    assert_non_null(strstr(us.last, "t-x-d-d"));
    /* It carries the roll-up of its label and the track's: so it is stored and queried. */
    assert_non_null(strstr(us.last, "access=\"SECRET//NOFORN\""));
    assert_int_equal(jp.n, j); /* Japan never saw the track, nor gets its uid now */
    assert_int_equal(count_uid("nf-hostile", US), 0);
    /* A delete of a track the sender may not see removes nothing and reaches no one. */
    assert_int_equal(submit(US, "nf-2", "SECRET//NOFORN", &why), KZ_OK);
    u = us.n;
    delete_from(JP, "nf-2");
    assert_int_equal(us.n, u);
    assert_int_equal(count_uid("nf-2", US), 1);
    kz_router_detach(router, &us.sub);
    kz_router_detach(router, &jp.sub);
}

static void count_ack(void *ud, int status)
{
    assert_int_equal(status, KZ_OK);
    (*(int *)ud)++;
}

static struct kz_router *router_with(struct kz_store *st)
{
    return kz_router_new(&loop, &(struct kz_router_opts){.policy = &policy,
                                                         .groups = &group_table,
                                                         .store = st,
                                                         .inputs = inputs,
                                                         .n_inputs = N_IN});
}

static void store_from(struct kz_router *rt, int in, const char *uid, const char *access, int *acks)
{
    struct kz_event ev;
    enum kz_reject why;
    make_event(&ev, uid, access);
    ev.lat = 35.7; /* stored events are decoded again at restore */
    ev.lon = 139.3;
    assert_int_equal(kz_router_submit(rt, &inputs[in], NULL, &ev, count_ack, acks, &why, NULL),
                     KZ_OK);
    kz_event_clear(&ev);
}

/* S1-3: the state restored after a restart keeps each event's label and originator. */
static void test_labels_across_restart(void **state)
{
    (void)state;
    char dir[] = "/tmp/kz_route_XXXXXX", path[64], cmd[96];
    struct kz_store *st;
    int acks = 0;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/kizuna.db", dir);
    assert_int_equal(
        kz_store_open(&loop, &(struct kz_store_opts){path, 1, 0, 0, NULL, NULL, false}, &st),
        KZ_OK);
    struct kz_router *saved = router;
    router = router_with(st);
    store_from(router, US, "r-us", "SECRET//NOFORN", &acks);
    store_from(router, JX, "r-jx", "//JPN SECRET", &acks);
    store_from(router, JX, "r-jx-us", "SECRET//REL TO USA, JPN", &acks);
    while (acks < 3)
        uv_run(&loop, UV_RUN_ONCE);
    kz_router_free(router);

    router = router_with(st);
    assert_int_equal(kz_router_restore(router), KZ_OK);
    assert_int_equal(count_uid("r-us", US), 1);
    assert_int_equal(count_uid("r-us", JX), 0);
    assert_int_equal(count_uid("r-jx", JX), 1);
    assert_int_equal(count_uid("r-jx", US), 0); /* JPN national-only, withheld from the USA */
    assert_int_equal(count_uid("r-jx-us", US), 1);
    assert_int_equal(count_uid("r-jx-us", PH), 0);
    kz_router_free(router);
    router = saved;
    kz_store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_input_labelling, setup, teardown),
        cmocka_unit_test(test_input_label_too_long),
        cmocka_unit_test_setup_teardown(test_release_on_every_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_needs_sight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directed_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marti_clients_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_reaches_only_viewers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_labels_across_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
