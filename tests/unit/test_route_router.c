/*
 * Unit tests for router recipient decisions, control messages, replay, and
 * the binding of client identities (uid, callsign) and sender budgets.
 */
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

static int try_submit(int input, struct probe *from, struct kz_event *ev, enum kz_reject *why)
{
    int rc = kz_router_submit(router, &inputs[input], from ? &from->sub : NULL, ev, NULL, NULL, why,
                              NULL);
    kz_event_clear(ev);
    return rc;
}

/* A device's own report: its uid, callsign and endpoint. */
static void make_sa(struct kz_event *ev, const char *uid, const char *callsign)
{
    make_event(ev, uid, "a-f-G-U-C", 60);
    ev->callsign = kz_xstrdup(callsign);
    ev->endpoint = kz_xstrdup("*:-1:stcp");
}

static void add_dest(struct kz_event *ev, const char *callsign, const char *uid,
                     const char *mission)
{
    ev->dests = kz_xrealloc(ev->dests, (ev->n_dests + 1) * sizeof(*ev->dests));
    ev->dests[ev->n_dests++] = (struct kz_dest){
        .callsign = callsign ? kz_xstrdup(callsign) : NULL,
        .uid = uid ? kz_xstrdup(uid) : NULL,
        .mission = mission ? kz_xstrdup(mission) : NULL,
    };
}

/* S1-1, F4, F8: facts are learned only from accepted own position reports. */
static void test_learn_only_accepted_reports(void **state)
{
    (void)state;
    struct probe a;
    struct kz_event ev;
    enum kz_reject why;
    probe_attach(&a, 0);
    make_sa(&ev, "alpha-sa", "ALPHA");
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_OK);
    assert_string_equal(a.sub.callsign, "ALPHA");
    assert_string_equal(a.sub.uid, "alpha-sa");

    make_sa(&ev, "alpha-sa", "REFUSED-NAME"); /* refused: its callsign is not learned */
    ev.access = kz_xstrdup("SECRET//REL TO XYZ");
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_ERR_DENIED);
    assert_string_equal(a.sub.callsign, "ALPHA");

    make_event(&ev, "marker-n", "b-m-p-s-m", 60); /* a marker's name is not the client's */
    ev.callsign = kz_xstrdup("OPERATION NIGHTFALL");
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_OK);
    assert_string_equal(a.sub.callsign, "ALPHA");

    make_event(&ev, "hostile-1", "a-h-G", 60); /* nor a placed a-* marker's uid */
    ev.callsign = kz_xstrdup("HOSTILE");
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_OK);
    assert_string_equal(a.sub.uid, "alpha-sa");
    assert_string_equal(a.sub.callsign, "ALPHA");

    make_sa(&ev, "alpha-sa", "ALPHA-2"); /* a rename in its own report is */
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_OK);
    assert_string_equal(a.sub.callsign, "ALPHA-2");
    probe_release(&a);
}

struct client_seen {
    const char *sub_callsign, *last_callsign;
    int n;
};

static void client_cb(void *ud, const struct kz_sub *client, const struct kz_event *last)
{
    struct client_seen *c = ud;
    c->sub_callsign = client->callsign;
    c->last_callsign = last->callsign;
    c->n++;
}

/* F4: the client list prints the checked report's callsign, nothing else. */
static void test_client_list_prints_checked_report(void **state)
{
    (void)state;
    struct probe a;
    struct kz_event ev;
    struct kz_sub viewer;
    struct client_seen seen = {0};
    enum kz_reject why;
    probe_attach(&a, 0);
    make_sa(&ev, "alpha-sa", "ANDROID-us1");
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_OK);
    make_event(&ev, "nf-marker", "b-m-p-s-m", 60);
    ev.callsign = kz_xstrdup("OPERATION NIGHTFALL");
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_OK);
    kz_sub_viewer(router, &viewer, &inputs[1]);
    kz_router_foreach_client(router, &viewer, KZ_EXIT_MARTI_CLIENTS, client_cb, &seen);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.last_callsign, "ANDROID-us1");
    assert_string_equal(seen.sub_callsign, "ANDROID-us1");
    probe_release(&a);
}

/* F8: a uid or callsign belongs to its holder; directed delivery reaches only it. */
static void test_claims_are_refused(void **state)
{
    (void)state;
    struct probe us2, kor, chat;
    struct kz_event ev;
    enum kz_reject why;
    probe_attach(&us2, 0);
    probe_attach(&kor, 1);
    probe_attach(&chat, 1);
    make_sa(&ev, "us2-sa", "US2");
    assert_int_equal(try_submit(0, &us2, &ev, &why), KZ_OK);

    make_sa(&ev, "kor-sa", "US2"); /* another identity claims the callsign */
    assert_int_equal(try_submit(1, &kor, &ev, &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CLAIMED);
    assert_null(kor.sub.callsign);
    make_sa(&ev, "us2-sa", "KOR1"); /* or the uid */
    assert_int_equal(try_submit(1, &kor, &ev, &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CLAIMED);
    assert_null(kor.sub.uid);
    make_event(&ev, "del", "t-x-d-d", 60); /* or deletes it */
    ev.link_uid = kz_xstrdup("us2-sa");
    assert_int_equal(try_submit(1, NULL, &ev, &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CLAIMED);
    make_sa(&ev, "kor-sa", "KOR1");
    assert_int_equal(try_submit(1, &kor, &ev, &why), KZ_OK);

    unsigned n_us2 = us2.n, n_kor = kor.n;
    make_event(&ev, "dm-cs", "b-t-f", 60);
    add_dest(&ev, "US2", NULL, NULL);
    assert_int_equal(try_submit(1, &chat, &ev, &why), KZ_OK);
    make_event(&ev, "dm-uid", "b-t-f", 60);
    add_dest(&ev, NULL, "us2-sa", NULL);
    assert_int_equal(try_submit(1, &chat, &ev, &why), KZ_OK);
    assert_int_equal(us2.n, n_us2 + 2);
    assert_int_equal(kor.n, n_kor);

    /* Disconnected, its current track still holds the claim. */
    probe_release(&us2);
    make_sa(&ev, "kor2-sa", "US2");
    assert_int_equal(try_submit(1, &chat, &ev, &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CLAIMED);
    /* Its own identity may take it back (a reconnect). */
    probe_attach(&us2, 0);
    make_sa(&ev, "us2-sa", "US2");
    assert_int_equal(try_submit(0, &us2, &ev, &why), KZ_OK);
    assert_string_equal(us2.sub.callsign, "US2");
    probe_release(&us2);
    probe_release(&kor);
    probe_release(&chat);
}

/* A claim ends when its holder has gone and its track is stale. */
static void test_claim_released_when_stale(void **state)
{
    (void)state;
    struct probe a, b;
    struct kz_event ev;
    enum kz_reject why;
    probe_attach(&a, 0);
    probe_attach(&b, 1);
    make_sa(&ev, "a-sa", "ALPHA");
    ev.stale = kz_now_us() + 30000; /* 30 ms */
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_OK);
    probe_release(&a);
    make_sa(&ev, "b-sa", "ALPHA");
    assert_int_equal(try_submit(1, &b, &ev, &why), KZ_ERR_DENIED);
    uv_sleep(60);
    make_sa(&ev, "b-sa", "ALPHA");
    assert_int_equal(try_submit(1, &b, &ev, &why), KZ_OK);
    assert_string_equal(b.sub.callsign, "ALPHA");
    probe_release(&b);
}

/* F5: a sender with the user name of another identity owns none of its tracks. */
static void test_ownership_is_the_identity(void **state)
{
    (void)state;
    struct kz_identity same_name = {.user = "a", /* input 0's identity user */
                                    .nation = "KOR",
                                    .clearance = "UNCLASSIFIED",
                                    .groups_in = cyan,
                                    .groups_in_count = 1,
                                    .groups_out = cyan,
                                    .groups_out_count = 1};
    struct probe cert;
    struct kz_event ev;
    enum kz_reject why;
    make_event(&ev, "nf-track", "a-f-G", 60);
    ev.access = kz_xstrdup("SECRET//NOFORN");
    assert_int_equal(try_submit(0, NULL, &ev, &why), KZ_OK);

    memset(&cert, 0, sizeof(cert));
    cert.sub.input = &inputs[1];
    cert.sub.identity = &same_name; /* a certificate user, not the input's identity */
    cert.sub.deliver = capture;
    kz_router_attach(router, &cert.sub);
    make_event(&ev, "nf-track", "a-f-G", 60);
    ev.access = kz_xstrdup("UNCLASSIFIED");
    assert_int_equal(try_submit(1, &cert, &ev, &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CONFLICT);
    make_event(&ev, "del", "t-x-d-d", 60);
    ev.link_uid = kz_xstrdup("nf-track");
    assert_int_equal(try_submit(1, &cert, &ev, &why), KZ_OK); /* logged, removes nothing */
    assert_int_equal(tracks_with("nf-track", 0), 1);
    probe_release(&cert);
}

/* F17: control messages from clients are never routed, stored or replayed. */
static void test_client_control_not_routed(void **state)
{
    (void)state;
    const char *types[] = {"t-x-takp-r", "t-x-takp-v", "t-x-takp-q", "t-x-c-t-r"};
    struct probe a, b, late;
    struct kz_event ev;
    enum kz_reject why;
    probe_attach(&a, 0);
    probe_attach(&b, 1);
    unsigned nb = b.n;
    for (size_t i = 0; i < KZ_ARRAY_LEN(types); i++) {
        make_event(&ev, "ctl", types[i], 365 * 86400);
        assert_int_equal(try_submit(0, &a, &ev, &why), KZ_ERR_DENIED);
        assert_int_equal(why, KZ_REJ_CONTROL);
        make_event(&ev, "ctl", types[i], 60);
        assert_int_equal(try_submit(0, NULL, &ev, &why), KZ_ERR_DENIED); /* REST too */
    }
    assert_int_equal(b.n, nb);
    probe_attach(&late, 1);
    assert_false(probe_saw(&late, "t-x-takp"));
    assert_false(probe_saw(&late, "t-x-c-t-r"));
    probe_release(&late);
    probe_release(&a);
    probe_release(&b);
}

/* Mission-addressed events are never broadcast; until missions exist they reach no one. */
static void test_mission_dest(void **state)
{
    (void)state;
    struct probe a, b, bob;
    struct kz_event ev;
    enum kz_reject why;
    probe_attach(&a, 0);
    probe_attach(&b, 1);
    probe_attach(&bob, 1);
    make_sa(&ev, "bob-sa", "BOB");
    assert_int_equal(try_submit(1, &bob, &ev, &why), KZ_OK);
    unsigned nb = b.n, nbob = bob.n;
    make_event(&ev, "to-mission", "b-m-p-s-m", 60);
    add_dest(&ev, NULL, NULL, "ops");
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_MISSION);
    assert_int_equal(tracks_with("to-mission", 1), 0);
    make_event(&ev, "to-bob-and-mission", "b-t-f", 60);
    add_dest(&ev, NULL, NULL, "ops");
    add_dest(&ev, "BOB", NULL, NULL);
    assert_int_equal(try_submit(0, &a, &ev, &why), KZ_OK);
    assert_int_equal(bob.n, nbob + 1);
    assert_int_equal(b.n, nb); /* only the callsign is a recipient */
    probe_release(&a);
    probe_release(&b);
    probe_release(&bob);
}

static void latest_stale(void *ud, const struct kz_event *ev)
{
    if (strcmp(ev->uid, "far") == 0)
        *(int64_t *)ud = ev->stale;
}

/* F11: one sender cannot fill the state; stale times are clamped. */
static void test_identity_budget_and_stale_cap(void **state)
{
    (void)state;
    struct kz_router *small =
        kz_router_new(&loop, &(struct kz_router_opts){.policy = &policy,
                                                      .groups = &group_table,
                                                      .inputs = inputs,
                                                      .n_inputs = 3,
                                                      .max_tracks = 10,
                                                      .max_tracks_per_identity = 2,
                                                      .max_stale_s = 3600});
    struct kz_event ev;
    enum kz_reject why = KZ_REJ__COUNT;
    const char *uids[] = {"t1", "t2", "t1"};

    for (size_t i = 0; i < KZ_ARRAY_LEN(uids); i++) {
        make_event(&ev, uids[i], "a-f-G", 60);
        assert_int_equal(kz_router_submit(small, &inputs[0], NULL, &ev, NULL, NULL, &why, NULL),
                         KZ_OK);
    }
    make_event(&ev, "t3", "a-f-G", 60); /* a third uid of the same sender: refused */
    assert_int_equal(kz_router_submit(small, &inputs[0], NULL, &ev, NULL, NULL, &why, NULL),
                     KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_BUDGET);
    kz_event_clear(&ev);
    make_event(&ev, "far", "a-f-G", 400LL * 86400 * 365); /* another sender: room */
    assert_int_equal(kz_router_submit(small, &inputs[1], NULL, &ev, NULL, NULL, &why, NULL), KZ_OK);
    int64_t stale = 0;
    struct kz_sub viewer;
    kz_sub_viewer(small, &viewer, &inputs[1]);
    kz_router_foreach_track(small, &viewer, KZ_EXIT_REST_TRACKS, latest_stale, &stale);
    assert_true(stale > kz_now_us() + 3500LL * 1000000);
    assert_true(stale <= kz_now_us() + 3600LL * 1000000);
    /* Reloaded: a larger budget admits the third uid. */
    kz_router_set_identity_limits(small, 3, 3600);
    make_event(&ev, "t3", "a-f-G", 60);
    assert_int_equal(kz_router_submit(small, &inputs[0], NULL, &ev, NULL, NULL, &why, NULL), KZ_OK);
    kz_router_free(small);
}

static struct kz_identity reused_user = {.user = "liaison", /* re-created: now KOR */
                                         .nation = "KOR",
                                         .clearance = "SECRET",
                                         .groups_in = cyan,
                                         .groups_in_count = 1,
                                         .groups_out = cyan,
                                         .groups_out_count = 1};

static const struct kz_identity *users_now(void *ud, const char *user)
{
    (void)ud;
    return strcmp(user, reused_user.user) == 0 ? &reused_user : NULL;
}

/* F6: a stored event keeps its sender's nation; a later user of the name inherits nothing. */
static void test_recorded_origin(void **state)
{
    (void)state;
    struct kz_input_conf conf = {.name = "tls", .protocol = KZ_PROTO_TLS};
    struct kz_input cert_input;
    assert_int_equal(kz_input_init(&cert_input, &conf, &group_table, &policy, NULL, 0), KZ_OK);
    struct kz_router *rt =
        kz_router_new(&loop, &(struct kz_router_opts){.policy = &policy,
                                                      .groups = &group_table,
                                                      .inputs = &cert_input,
                                                      .n_inputs = 1,
                                                      .user_identity = users_now});
    struct kz_identity jpn = reused_user;
    jpn.user = "other";
    jpn.nation = "JPN";
    struct kz_sub kor_viewer, jpn_viewer;
    kz_sub_viewer_as(rt, &kor_viewer, &cert_input, &reused_user);
    kz_sub_viewer_as(rt, &jpn_viewer, &cert_input, &jpn);
    struct kz_event ev;
    make_event(&ev, "jpn-only", "a-f-G", 60);
    ev.access = kz_xstrdup("SECRET//NOFORN");
    ev.origin_input = kz_xstrdup("tls");
    ev.origin_user = kz_xstrdup("liaison");
    ev.origin_nation = kz_xstrdup("JPN"); /* sent by the JPN liaison, since deleted */
    ev.origin_groups = kz_xstrdup("Cyan");
    assert_false(kz_router_visible(rt, &ev, &kor_viewer, KZ_EXIT_REST_EVENTS));
    assert_true(kz_router_visible(rt, &ev, &jpn_viewer, KZ_EXIT_REST_EVENTS));
    free(ev.origin_groups); /* its recorded groups, not the user's groups now */
    ev.origin_groups = kz_xstrdup("Red");
    assert_false(kz_router_visible(rt, &ev, &jpn_viewer, KZ_EXIT_REST_EVENTS));
    kz_event_clear(&ev);
    kz_router_free(rt);
}

static void cert_attach(struct probe *p, const struct kz_input *in, const struct kz_identity *id)
{
    memset(p, 0, sizeof(*p));
    p->sub.input = in;
    p->sub.identity = id;
    p->sub.wire = KZ_WIRE_XML;
    p->sub.deliver = capture;
    kz_router_attach(router, &p->sub);
}

/* F8 on TLS: a certificate user holds its callsign; another user's claim is refused. */
static void test_certificate_holder(void **state)
{
    (void)state;
    struct kz_input_conf conf = {
        .name = "tls", .protocol = KZ_PROTO_TLS, .default_label = "UNCLASSIFIED"};
    struct kz_input tls_in;
    struct kz_identity alpha = {.user = "alpha",
                                .nation = "USA",
                                .clearance = "SECRET",
                                .groups_in = cyan,
                                .groups_in_count = 1,
                                .groups_out = cyan,
                                .groups_out_count = 1};
    struct kz_identity bravo = alpha;
    bravo.user = "bravo";
    bravo.nation = "JPN";
    assert_int_equal(kz_input_init(&tls_in, &conf, &group_table, &policy, NULL, 0), KZ_OK);
    struct kz_router *saved = router;
    router = kz_router_new(
        &loop, &(struct kz_router_opts){
                   .policy = &policy, .groups = &group_table, .inputs = &tls_in, .n_inputs = 1});
    struct probe a, b, a2, sender;
    struct kz_event ev;
    enum kz_reject why;
    cert_attach(&a, &tls_in, &alpha);
    cert_attach(&b, &tls_in, &bravo);
    make_sa(&ev, "alpha-sa", "ALPHA");
    assert_int_equal(kz_router_submit(router, &tls_in, &a.sub, &ev, NULL, NULL, &why, NULL), KZ_OK);
    kz_event_clear(&ev);
    make_sa(&ev, "bravo-sa", "ALPHA");
    assert_int_equal(kz_router_submit(router, &tls_in, &b.sub, &ev, NULL, NULL, &why, NULL),
                     KZ_ERR_DENIED);
    assert_int_equal(why, KZ_REJ_CLAIMED);
    kz_event_clear(&ev);
    /* The same certificate user reconnecting while the old connection lingers is its holder. */
    cert_attach(&a2, &tls_in, &alpha);
    make_sa(&ev, "alpha-sa", "ALPHA");
    assert_int_equal(kz_router_submit(router, &tls_in, &a2.sub, &ev, NULL, NULL, &why, NULL),
                     KZ_OK);
    kz_event_clear(&ev);
    cert_attach(&sender, &tls_in, &alpha);
    unsigned nb = b.n;
    make_event(&ev, "dm", "b-t-f", 60);
    add_dest(&ev, "ALPHA", NULL, NULL);
    assert_int_equal(kz_router_submit(router, &tls_in, &sender.sub, &ev, NULL, NULL, &why, NULL),
                     KZ_OK);
    assert_int_equal(b.n, nb); /* bravo never gets ALPHA's messages */
    kz_event_clear(&ev);
    probe_release(&a);
    probe_release(&b);
    probe_release(&a2);
    probe_release(&sender);
    kz_router_free(router);
    router = saved;
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
        cmocka_unit_test_setup_teardown(test_learn_only_accepted_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_list_prints_checked_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_released_when_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ownership_is_the_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_control_not_routed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mission_dest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_budget_and_stale_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recorded_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_holder, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
