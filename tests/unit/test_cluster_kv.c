/*
 * test_cluster_kv.c - the latest-state bucket (cluster/kv.h) and its RAM
 * mirror (cluster/latest.h) against a real nats-server with JetStream
 * (nats_fixture.h): keys, the value codec, last-writer-wins between racing
 * writers, tombstones, the mirror's snapshot and live changes, and its
 * resync after a nats-server restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/resource.h>

#include "cluster/latest.h"
#include "nats_fixture.h"

static struct nats_fx fx;

static int setup(void **state)
{
    (void)state;
    nats_fx_start(&fx);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nats_fx_destroy(&fx);
    nats_CloseAndWait(5000);
    return 0;
}

/* A record of uid with times in seconds; its XML names the time. */
static void rec_make(struct kz_latest_rec *r, const char *uid, int64_t t, bool deleted)
{
    char xml[128];

    memset(r, 0, sizeof(*r));
    r->uid = kz_xstrdup(uid);
    r->uid_len = strlen(uid);
    r->time = t * 1000000;
    r->start = t * 1000000;
    r->stale = (t + 3600) * 1000000;
    snprintf(xml, sizeof(xml), "<event uid='u' time='%lld'/>", (long long)t);
    if (!deleted) {
        r->xml = kz_xstrdup(xml);
        r->xml_len = strlen(xml);
    }
    r->label = kz_xstrdup("NATO SECRET");
    r->origin_node = kz_xstrdup("node-a");
    r->origin_groups = kz_xstrdup("Cyan,Red");
    r->deleted = deleted;
}

static int put(struct kz_kv *kv, const char *uid, int64_t t, bool deleted)
{
    struct kz_latest_rec r;
    enum kz_kv_put out = KZ_KV_OLDER;

    rec_make(&r, uid, t, deleted);
    int rc = kz_kv_latest_put(kv, &r, &out, NULL);
    kz_latest_rec_clear(&r);
    assert_int_equal(rc, KZ_OK);
    return out;
}

/* The entry's time in seconds, -1 when absent; *deleted its flag. */
static int64_t entry_time(struct kz_kv *kv, const char *uid, bool *deleted)
{
    struct kz_latest_rec r;
    int rc = kz_kv_latest_get(kv, uid, strlen(uid), &r);
    if (rc == KZ_ERR_NOTFOUND)
        return -1;
    assert_int_equal(rc, KZ_OK);
    int64_t t = r.time / 1000000;
    if (deleted)
        *deleted = r.deleted;
    kz_latest_rec_clear(&r);
    return t;
}

/* ---- keys and values ---------------------------------------------------- */

static void valid_key(const char *k)
{
    assert_true(strlen(k) > 1);
    for (const char *p = k; *p; p++)
        assert_true((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'));
}

static void test_key_roundtrip(void **state)
{
    (void)state;
    static char long_uid[1025], max_hex[KZ_KV_UID_HEX_MAX + 1];
    memset(long_uid, 'q', 1024);
    long_uid[7] = '.';
    memset(max_hex, '>', KZ_KV_UID_HEX_MAX);
    const char *uids[] = {"ANDROID-abc.def",
                          "GeoChat.u1.All Chat Rooms.42",
                          "*",
                          ">",
                          "a b\tc",
                          "東京.ユニット",
                          "a.*.>",
                          max_hex,
                          long_uid};
    char keys[KZ_ARRAY_LEN(uids)][KZ_KV_KEY_SIZE];
    natsConnection *nc = nats_fx_connect(&fx, 100, NULL, NULL);
    struct kz_kv kv;
    assert_int_equal(kz_kv_open(&kv, nc, "t_keys", 0), KZ_OK);

    for (size_t i = 0; i < KZ_ARRAY_LEN(uids); i++) {
        size_t n = strlen(uids[i]);
        assert_int_equal(kz_kv_key(keys[i], uids[i], n), KZ_OK);
        valid_key(keys[i]);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(keys[i], keys[j]);
        char *back = NULL;
        size_t blen = 0;
        int rc = kz_kv_key_uid(keys[i], &back, &blen);
        if (n <= KZ_KV_UID_HEX_MAX) {
            assert_int_equal(rc, KZ_OK);
            assert_int_equal(blen, n);
            assert_memory_equal(back, uids[i], n);
            free(back);
        } else {
            assert_int_equal(rc, KZ_ERR_NOTFOUND); /* hashed: the uid is in the value */
            assert_int_equal(strlen(keys[i]), 65);
        }
        /* The bucket takes the key, and the value gives the uid back. */
        assert_int_equal(put(&kv, uids[i], 100, false), KZ_KV_WRITTEN);
        struct kz_latest_rec r;
        assert_int_equal(kz_kv_latest_get(&kv, uids[i], n, &r), KZ_OK);
        assert_int_equal(r.uid_len, n);
        assert_memory_equal(r.uid, uids[i], n);
        assert_true(r.revision > 0);
        kz_latest_rec_clear(&r);
    }
    char k[KZ_KV_KEY_SIZE], *u = NULL;
    size_t ul;
    assert_int_equal(kz_kv_key(k, "", 0), KZ_ERR_INVAL);
    static char huge[KZ_KV_UID_MAX + 1];
    memset(huge, 'h', sizeof(huge));
    assert_int_equal(kz_kv_key(k, huge, sizeof(huge)), KZ_ERR_TOOBIG);
    assert_int_equal(kz_kv_key_uid("x4", &u, &ul), KZ_ERR_PARSE);
    assert_int_equal(kz_kv_key_uid("xzz", &u, &ul), KZ_ERR_PARSE);
    assert_int_equal(kz_kv_key_uid("a.b", &u, &ul), KZ_ERR_PARSE);
    kz_kv_close(&kv);
    natsConnection_Destroy(nc);
}

static void test_value_codec(void **state)
{
    (void)state;
    struct kz_latest_rec r, back;
    uint8_t *buf = NULL;
    size_t n = 0;

    rec_make(&r, "u.1", 1700000000, false);
    r.origin_user = kz_xstrdup("alice");
    r.origin_nation = kz_xstrdup("FRA");
    assert_int_equal(kz_latest_rec_encode(&r, &buf, &n), KZ_OK);
    assert_int_equal(kz_latest_rec_decode(&back, buf, n), KZ_OK);
    assert_string_equal(back.uid, "u.1");
    assert_int_equal(back.time, r.time);
    assert_int_equal(back.stale, r.stale);
    assert_int_equal(back.xml_len, r.xml_len);
    assert_memory_equal(back.xml, r.xml, r.xml_len);
    assert_string_equal(back.label, "NATO SECRET");
    assert_string_equal(back.origin_node, "node-a");
    assert_string_equal(back.origin_user, "alice");
    assert_string_equal(back.origin_nation, "FRA");
    assert_string_equal(back.origin_groups, "Cyan,Red");
    assert_null(back.origin_input);
    assert_false(back.deleted);
    assert_int_equal(kz_latest_cmp(&r, &back), 0);
    kz_latest_rec_clear(&back);
    free(buf);
    assert_int_equal(kz_latest_rec_decode(&back, "\xff\xff\xff", 3), KZ_ERR_PARSE);
    assert_int_equal(kz_latest_rec_decode(&back, "", 0), KZ_ERR_PARSE); /* no uid */
    /* The order: time, then start, then a tombstone over a live record. */
    struct kz_latest_rec t;
    rec_make(&t, "u.1", 1700000000, true);
    assert_true(kz_latest_cmp(&t, &r) > 0);
    t.start -= 1;
    assert_true(kz_latest_cmp(&t, &r) < 0);
    t.time += 1;
    assert_true(kz_latest_cmp(&t, &r) > 0);
    kz_latest_rec_clear(&t);
    kz_latest_rec_clear(&r);
}

/* ---- last-writer-wins ----------------------------------------------------- */

#define RACE_N 200

struct racer {
    natsConnection *nc;
    int64_t times[RACE_N];
    int written, older, failed;
};

static void race_main(void *arg)
{
    struct racer *r = arg;
    struct kz_kv kv;

    if (kz_kv_open(&kv, r->nc, "t_race", 0) != KZ_OK) {
        r->failed = RACE_N;
        return;
    }
    for (int i = 0; i < RACE_N; i++) {
        struct kz_latest_rec rec;
        enum kz_kv_put out;
        rec_make(&rec, "race.uid", r->times[i], false);
        if (kz_kv_latest_put(&kv, &rec, &out, NULL) == KZ_OK)
            *(out == KZ_KV_WRITTEN ? &r->written : &r->older) += 1;
        else
            r->failed++;
        kz_latest_rec_clear(&rec);
    }
    kz_kv_close(&kv);
}

/* times[] = a shuffle of first, first + 1, ... */
static void shuffle(int64_t *times, int64_t first, unsigned seed)
{
    for (int i = 0; i < RACE_N; i++)
        times[i] = first + i;
    for (int i = RACE_N - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        int j = (int)((seed >> 16) % (unsigned)(i + 1));
        int64_t t = times[i];
        times[i] = times[j];
        times[j] = t;
    }
}

static void race(struct kz_kv *kv, struct racer *a, struct racer *b, int64_t want)
{
    uv_thread_t ta, tb;

    a->written = a->older = a->failed = b->written = b->older = b->failed = 0;
    assert_int_equal(uv_thread_create(&ta, race_main, a), 0);
    assert_int_equal(uv_thread_create(&tb, race_main, b), 0);
    uv_thread_join(&ta);
    uv_thread_join(&tb);
    assert_int_equal(a->failed + b->failed, 0);
    assert_int_equal(a->written + a->older, RACE_N);
    assert_int_equal(b->written + b->older, RACE_N);
    assert_true(a->written + b->written >= 1);
    assert_true(a->older + b->older >= RACE_N); /* a shuffle is older than its own maximum often */
    assert_int_equal(entry_time(kv, "race.uid", NULL), want);
}

static void test_lww_race(void **state)
{
    (void)state;
    static struct racer a, b;
    struct kz_kv kv;

    a.nc = nats_fx_connect(&fx, 100, NULL, NULL);
    b.nc = nats_fx_connect(&fx, 100, NULL, NULL);
    assert_int_equal(kz_kv_open(&kv, a.nc, "t_race", 0), KZ_OK); /* create before the race */
    /* Two writers, the same times in two random orders: the newest wins. */
    shuffle(a.times, 1001, 1);
    shuffle(b.times, 1001, 2);
    race(&kv, &a, &b, 1000 + RACE_N);
    /* One climbs, the other falls from just below the top: whatever the interleaving, the top. */
    for (int i = 0; i < RACE_N; i++) {
        a.times[i] = 2001 + i;
        b.times[i] = 2000 + RACE_N - 1 - i;
    }
    race(&kv, &a, &b, 2000 + RACE_N);

    /* Sequentially: an older update after a newer one is ignored. */
    assert_int_equal(put(&kv, "seq.uid", 50, false), KZ_KV_WRITTEN);
    assert_int_equal(put(&kv, "seq.uid", 40, false), KZ_KV_OLDER);
    assert_int_equal(put(&kv, "seq.uid", 50, false), KZ_KV_OLDER); /* the same: no write */
    assert_int_equal(entry_time(&kv, "seq.uid", NULL), 50);
    kz_kv_close(&kv);
    natsConnection_Destroy(a.nc);
    natsConnection_Destroy(b.nc);
}

static void test_tombstone(void **state)
{
    (void)state;
    natsConnection *nc = nats_fx_connect(&fx, 100, NULL, NULL);
    struct kz_kv kv;
    bool deleted = false;
    size_t purged = 99;

    assert_int_equal(kz_kv_open(&kv, nc, "t_tomb", 0), KZ_OK);
    assert_int_equal(put(&kv, "m.1", 10, false), KZ_KV_WRITTEN);
    assert_int_equal(put(&kv, "m.1", 20, true), KZ_KV_WRITTEN); /* the delete */
    assert_int_equal(put(&kv, "m.1", 15, false), KZ_KV_OLDER);  /* late, older: no resurrection */
    assert_int_equal(entry_time(&kv, "m.1", &deleted), 20);
    assert_true(deleted);
    assert_int_equal(put(&kv, "m.1", 30, false), KZ_KV_WRITTEN); /* newer: revives */
    assert_int_equal(entry_time(&kv, "m.1", &deleted), 30);
    assert_false(deleted);

    /* The sweep: a tombstone goes after the ttl, a live entry after its stale time. */
    int64_t now = 100000 * 1000000LL; /* the records' times are near 0 */
    assert_int_equal(put(&kv, "m.2", 40, true), KZ_KV_WRITTEN);
    assert_int_equal(put(&kv, "m.3", 99990, false), KZ_KV_WRITTEN); /* stale at 99990 + 3600 */
    assert_int_equal(kz_kv_latest_sweep(&kv, now, 0, 3600 * 1000000LL, &purged), KZ_OK);
    assert_int_equal(purged, 2);
    assert_int_equal(entry_time(&kv, "m.1", NULL), -1);
    assert_int_equal(entry_time(&kv, "m.2", NULL), -1);
    assert_int_equal(entry_time(&kv, "m.3", NULL), 99990);
    /* A purged uid is new again. */
    assert_int_equal(put(&kv, "m.2", 5, false), KZ_KV_WRITTEN);
    /* A removal conditional on a revision that moved on does nothing. */
    char key[KZ_KV_KEY_SIZE];
    struct kz_latest_rec r;
    assert_int_equal(kz_kv_latest_get(&kv, "m.3", 3, &r), KZ_OK);
    assert_int_equal(kz_kv_key(key, "m.3", 3), KZ_OK);
    assert_int_equal(put(&kv, "m.3", 99995, false), KZ_KV_WRITTEN);
    assert_int_equal(kz_kv_remove_at(&kv, key, r.revision, true), KZ_ERR_EXISTS);
    assert_int_equal(entry_time(&kv, "m.3", NULL), 99995);
    kz_latest_rec_clear(&r);
    kz_kv_close(&kv);
    natsConnection_Destroy(nc);
}

static int put_hint(struct kz_kv *kv, const char *uid, int64_t t, struct kz_kv_hint *h)
{
    struct kz_latest_rec r;
    enum kz_kv_put out = KZ_KV_OLDER;

    rec_make(&r, uid, t, false);
    int rc = kz_kv_latest_put_hinted(kv, &r, h, &out, NULL);
    kz_latest_rec_clear(&r);
    assert_int_equal(rc, KZ_OK);
    return out;
}

/* A writer's hint saves the read; an out-of-date one costs a read, never a wrong answer. */
static void test_hint(void **state)
{
    (void)state;
    natsConnection *nc = nats_fx_connect(&fx, 100, NULL, NULL);
    struct kz_kv kv;
    struct kz_kv_hint h = {0};

    assert_int_equal(kz_kv_open(&kv, nc, "t_hint", 0), KZ_OK);
    assert_int_equal(put_hint(&kv, "h.1", 10, &h), KZ_KV_WRITTEN);
    assert_true(h.known);
    assert_int_equal(h.time, 10 * 1000000LL);
    uint64_t rev = h.rev;
    assert_int_equal(put_hint(&kv, "h.1", 11, &h), KZ_KV_WRITTEN); /* on the hint's revision */
    assert_true(h.rev > rev);
    assert_int_equal(put(&kv, "h.1", 20, false), KZ_KV_WRITTEN); /* another writer */
    assert_int_equal(put_hint(&kv, "h.1", 15, &h), KZ_KV_OLDER); /* the hint was out of date */
    assert_int_equal(h.time, 20 * 1000000LL);                    /* and now is not */
    assert_int_equal(put_hint(&kv, "h.1", 5, &h), KZ_KV_OLDER);
    assert_int_equal(put_hint(&kv, "h.1", 20, &h), KZ_KV_OLDER); /* the same: read, then older */
    assert_int_equal(put_hint(&kv, "h.1", 30, &h), KZ_KV_WRITTEN);
    assert_int_equal(entry_time(&kv, "h.1", NULL), 30);
    kz_kv_close(&kv);
    natsConnection_Destroy(nc);
}

/* ---- the mirror ------------------------------------------------------------ */

struct seen {
    int set, gone, tomb;
    char last[64];
    int64_t last_time;
};

static void on_change(void *arg, enum kz_latest_change what, const struct kz_latest_rec *r)
{
    struct seen *s = arg;

    if (what == KZ_LATEST_GONE)
        s->gone++;
    else if (r->deleted)
        s->tomb++;
    else
        s->set++;
    snprintf(s->last, sizeof(s->last), "%s", r->uid);
    s->last_time = r->time / 1000000;
}

struct wait_for {
    struct seen *s;
    int set, gone, tomb;
    struct kz_latest *m;
    uint64_t snapshots;
};

static int seen_enough(void *arg)
{
    struct wait_for *w = arg;
    struct kz_latest_stats st = {0};
    if (w->m)
        kz_latest_stats(w->m, &st);
    return w->s->set >= w->set && w->s->gone >= w->gone && w->s->tomb >= w->tomb &&
           st.snapshots >= w->snapshots;
}

static void count_live(void *arg, const struct kz_latest_rec *r)
{
    int64_t *prev = arg;
    assert_true(r->time >= *prev); /* oldest first */
    *prev = r->time;
}

static void test_mirror(void **state)
{
    (void)state;
    uv_loop_t loop;
    natsConnection *a = nats_fx_connect(&fx, 100, NULL, NULL);
    natsConnection *b = nats_fx_connect(&fx, 100, NULL, NULL);
    struct kz_kv kv;
    struct seen s = {0};
    struct kz_latest *m = NULL;
    struct kz_latest_opts o = {.bucket = "t_mirror", .sweep_interval = -1};

    uv_loop_init(&loop);
    assert_int_equal(kz_kv_open(&kv, a, "t_mirror", 0), KZ_OK);
    for (int i = 0; i < 50; i++) {
        char uid[32];
        snprintf(uid, sizeof(uid), "snap.%d", i);
        put(&kv, uid, 1000 + i, false);
    }
    put(&kv, "snap.gone", 1000, true);
    /* B's mirror: the snapshot first... */
    assert_int_equal(kz_latest_start(&m, &loop, b, &o, on_change, &s), KZ_OK);
    struct wait_for w = {.s = &s, .set = 50, .tomb = 1, .m = m, .snapshots = 1};
    assert_true(nats_fx_run_until(&loop, seen_enough, &w, 10000));
    assert_true(kz_latest_synced(m));
    assert_int_equal(s.set, 50);
    assert_non_null(kz_latest_find(m, "snap.7", 6));
    assert_true(kz_latest_find(m, "snap.gone", 9)->deleted);
    int64_t prev = 0;
    /* Entries stale before now do not replay: these are stale after 1000 + i + 3600 s. */
    assert_int_equal(kz_latest_foreach(m, 1040 * 1000000LL, count_live, &prev), 50);
    prev = 0;
    assert_int_equal(kz_latest_foreach(m, (1000 + 3600 + 25) * 1000000LL, count_live, &prev), 25);

    /* ...then live changes, written on A. */
    put(&kv, "snap.3", 2000, false);
    put(&kv, "snap.4", 2000, true);
    put(&kv, "live.1", 2000, false);
    put(&kv, "snap.5", 500, false); /* older: not written, not seen */
    w = (struct wait_for){.s = &s, .set = 52, .tomb = 2};
    assert_true(nats_fx_run_until(&loop, seen_enough, &w, 10000));
    assert_int_equal(kz_latest_find(m, "snap.3", 6)->time, 2000 * 1000000LL);
    assert_true(kz_latest_find(m, "snap.4", 6)->deleted);
    assert_int_equal(kz_latest_find(m, "snap.5", 6)->time, 1005 * 1000000LL);

    /* Writes through the mirror's own writer reach the bucket, and come back. */
    struct kz_latest_rec r;
    rec_make(&r, "own.1", 3000, false);
    assert_int_equal(kz_latest_write(m, &r), KZ_OK);
    r.time -= 1000000; /* an older one queued after it collapses into it */
    assert_int_equal(kz_latest_write(m, &r), KZ_OK);
    kz_latest_rec_clear(&r);
    w = (struct wait_for){.s = &s, .set = 53, .tomb = 2};
    assert_true(nats_fx_run_until(&loop, seen_enough, &w, 10000));
    assert_string_equal(s.last, "own.1");
    assert_int_equal(s.last_time, 3000);
    assert_int_equal(entry_time(&kv, "own.1", NULL), 3000);

    /* A purge on A is a GONE on B. */
    char key[KZ_KV_KEY_SIZE];
    assert_int_equal(kz_kv_key(key, "live.1", 6), KZ_OK);
    assert_int_equal(kz_kv_remove_at(&kv, key, kz_latest_find(m, "live.1", 6)->revision, true),
                     KZ_OK);
    w = (struct wait_for){.s = &s, .set = 53, .tomb = 2, .gone = 1};
    assert_true(nats_fx_run_until(&loop, seen_enough, &w, 10000));
    assert_null(kz_latest_find(m, "live.1", 6));
    /* An explicit resync changes nothing when nothing changed. */
    kz_latest_resync(m);
    w = (struct wait_for){.s = &s, .set = 53, .tomb = 2, .gone = 1, .m = m, .snapshots = 2};
    assert_true(nats_fx_run_until(&loop, seen_enough, &w, 10000));
    nats_fx_run_for(&loop, 200);
    assert_int_equal(s.set, 53);
    assert_int_equal(s.gone, 1);
    assert_int_equal(s.tomb, 2);

    struct kz_latest_stats st;
    kz_latest_stats(m, &st);
    assert_int_equal(st.written, 1);
    assert_int_equal(st.dropped, 0);
    kz_latest_stop(m);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kz_kv_close(&kv);
    natsConnection_Destroy(a);
    natsConnection_Destroy(b);
}

/* The loop's sweep of the mirror purges what expired, and every mirror sees it go. */
static void test_mirror_sweep(void **state)
{
    (void)state;
    uv_loop_t loop;
    natsConnection *nc = nats_fx_connect(&fx, 100, NULL, NULL);
    struct kz_kv kv;
    struct seen s = {0};
    struct kz_latest *m = NULL;
    struct kz_latest_opts o = {.bucket = "t_sweep", .sweep_interval = 200000};
    int64_t now_s = kz_now_us() / 1000000;

    uv_loop_init(&loop);
    assert_int_equal(kz_kv_open(&kv, nc, "t_sweep", 0), KZ_OK);
    put(&kv, "old.1", 1000, false); /* stale at 1000 + 3600 s after the epoch */
    put(&kv, "old.2", 1000, false);
    put(&kv, "old.gone", 1000, true);    /* a tombstone an hour old */
    put(&kv, "fresh", now_s, false);     /* stale in an hour */
    put(&kv, "fresh.gone", now_s, true); /* a tombstone younger than the ttl */
    assert_int_equal(kz_latest_start(&m, &loop, nc, &o, on_change, &s), KZ_OK);
    struct wait_for w = {.s = &s, .set = 3, .tomb = 2, .gone = 3};
    assert_true(nats_fx_run_until(&loop, seen_enough, &w, 10000));
    nats_fx_run_for(&loop, 500); /* more sweeps: nothing else goes */
    assert_int_equal(s.gone, 3);
    assert_non_null(kz_latest_find(m, "fresh", 5));
    assert_non_null(kz_latest_find(m, "fresh.gone", 10));
    assert_null(kz_latest_find(m, "old.1", 5));
    assert_int_equal(entry_time(&kv, "old.2", NULL), -1);
    assert_int_equal(entry_time(&kv, "fresh", NULL), now_s);
    struct kz_latest_stats st;
    kz_latest_stats(m, &st);
    assert_int_equal(st.purged, 3);
    kz_latest_stop(m);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kz_kv_close(&kv);
    natsConnection_Destroy(nc);
}

static int written_at_least(void *arg)
{
    struct wait_for *w = arg;
    struct kz_latest_stats st;
    kz_latest_stats(w->m, &st);
    return st.written >= w->snapshots; /* snapshots: the writes wanted */
}

/* Writes go in rounds: a uid reporting often is written once a round; a tombstone at once. */
static void test_write_rounds(void **state)
{
    (void)state;
    uv_loop_t loop;
    natsConnection *nc = nats_fx_connect(&fx, 100, NULL, NULL);
    struct kz_kv kv;
    struct seen s = {0};
    struct kz_latest *m = NULL;
    struct kz_latest_opts o = {
        .bucket = "t_rounds", .sweep_interval = -1, .write_interval = 1500000};
    struct kz_latest_rec r;

    uv_loop_init(&loop);
    assert_int_equal(kz_kv_open(&kv, nc, "t_rounds", 0), KZ_OK);
    assert_int_equal(kz_latest_start(&m, &loop, nc, &o, on_change, &s), KZ_OK);
    struct wait_for w = {.m = m, .snapshots = 1};
    rec_make(&r, "round.1", 100, false);
    assert_int_equal(kz_latest_write(m, &r), KZ_OK); /* the first round goes at once */
    kz_latest_rec_clear(&r);
    assert_true(nats_fx_run_until(&loop, written_at_least, &w, 5000));
    int64_t t0 = kz_mono_us();
    for (int t = 101; t <= 110; t++) { /* ten reports within the round */
        rec_make(&r, "round.1", t, false);
        assert_int_equal(kz_latest_write(m, &r), KZ_OK);
        kz_latest_rec_clear(&r);
    }
    w.snapshots = 2;
    assert_true(nats_fx_run_until(&loop, written_at_least, &w, 5000));
    assert_true(kz_mono_us() - t0 >= 1000000); /* held back to the next round */
    assert_int_equal(entry_time(&kv, "round.1", NULL), 110);
    /* A tombstone does not wait for the round. */
    t0 = kz_mono_us();
    rec_make(&r, "round.1", 200, true);
    assert_int_equal(kz_latest_write(m, &r), KZ_OK);
    kz_latest_rec_clear(&r);
    w.snapshots = 3;
    assert_true(nats_fx_run_until(&loop, written_at_least, &w, 5000));
    assert_true(kz_mono_us() - t0 < 1000000);
    struct kz_latest_stats st;
    kz_latest_stats(m, &st);
    assert_int_equal(st.written, 3);
    kz_latest_stop(m);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kz_kv_close(&kv);
    natsConnection_Destroy(nc);
}

/* ---- resync after a nats-server restart ------------------------------------ */

static void on_reconnected(natsConnection *nc, void *arg)
{
    (void)nc;
    struct kz_latest **m = arg;
    if (*m)
        kz_latest_resync(*m);
}

static void test_restart_resync(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct kz_latest *m = NULL;
    /* The mirror's connection comes back 3 s after the server: the others write meanwhile. */
    natsConnection *b = nats_fx_connect(&fx, 3000, on_reconnected, &m);
    natsConnection *a = nats_fx_connect(&fx, 100, NULL, NULL);
    struct kz_kv kv;
    struct seen s = {0};
    struct kz_latest_opts o = {.bucket = "t_restart", .sweep_interval = -1};

    uv_loop_init(&loop);
    assert_int_equal(kz_kv_open(&kv, a, "t_restart", 0), KZ_OK);
    put(&kv, "keep", 100, false);
    put(&kv, "change", 100, false);
    put(&kv, "purge", 100, false);
    assert_int_equal(kz_latest_start(&m, &loop, b, &o, on_change, &s), KZ_OK);
    struct wait_for w = {.s = &s, .set = 3, .m = m, .snapshots = 1};
    assert_true(nats_fx_run_until(&loop, seen_enough, &w, 10000));
    uint64_t purge_rev = kz_latest_find(m, "purge", 5)->revision;

    nats_fx_stop(&fx);
    nats_fx_run_for(&loop, 300);
    nats_fx_start(&fx); /* same port, same store */
    /* A (reconnecting every 100 ms) writes while B is still away. */
    char key[KZ_KV_KEY_SIZE];
    assert_int_equal(kz_kv_key(key, "purge", 5), KZ_OK);
    int rc = KZ_ERR_AGAIN;
    for (int i = 0; i < 100 && rc != KZ_OK; i++) {
        struct kz_latest_rec r;
        enum kz_kv_put out;
        rec_make(&r, "change", 200, false);
        rc = kz_kv_latest_put(&kv, &r, &out, NULL);
        kz_latest_rec_clear(&r);
        if (rc != KZ_OK)
            nats_fx_sleep_ms(100);
    }
    assert_int_equal(rc, KZ_OK);
    put(&kv, "new", 200, false);
    assert_int_equal(kz_kv_remove_at(&kv, key, purge_rev, true), KZ_OK);

    /* B reconnects, resyncs, and reports what changed while it was away. */
    w = (struct wait_for){.s = &s, .set = 5, .gone = 1, .m = m, .snapshots = 2};
    assert_true(nats_fx_run_until(&loop, seen_enough, &w, 20000));
    nats_fx_run_for(&loop, 300);
    assert_int_equal(s.set, 5); /* keep, change, purge, then change and new */
    assert_int_equal(s.gone, 1);
    assert_int_equal(kz_latest_find(m, "change", 6)->time, 200 * 1000000LL);
    assert_non_null(kz_latest_find(m, "new", 3));
    assert_non_null(kz_latest_find(m, "keep", 4));
    assert_null(kz_latest_find(m, "purge", 5));

    kz_latest_stop(m);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    m = NULL;
    kz_kv_close(&kv);
    natsConnection_Destroy(a);
    natsConnection_Destroy(b);
}

static int64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
           (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

/* One round of the rate test: n uids at time t through the writer, until the mirror has them. */
static double rate_round(uv_loop_t *loop, struct kz_latest *m, struct seen *s, int n, int64_t t,
                         double *cpu_each)
{
    int64_t t0 = kz_mono_us(), cpu0 = cpu_us();
    int want = s->set + n;

    for (int i = 0; i < n; i++) {
        char uid[32];
        struct kz_latest_rec r;
        snprintf(uid, sizeof(uid), "rate.%d", i);
        rec_make(&r, uid, t, false);
        assert_int_equal(kz_latest_write(m, &r), KZ_OK);
        kz_latest_rec_clear(&r);
    }
    struct wait_for w = {.s = s, .set = want};
    assert_true(nats_fx_run_until(loop, seen_enough, &w, 60000));
    *cpu_each = (double)(cpu_us() - cpu0) / n;
    return n / ((double)(kz_mono_us() - t0) / 1e6);
}

/*
 * Figures (printed): records through the writer and back through the mirror, first writes of
 * new uids (a read and a conditional write each), then updates of the same uids (the
 * writer's hint: one conditional write each).
 */
static void test_writer_rate(void **state)
{
    (void)state;
    enum { N = 2000, ROUNDS = 3 };
    uv_loop_t loop;
    natsConnection *nc = nats_fx_connect(&fx, 100, NULL, NULL);
    struct seen s = {0};
    struct kz_latest *m = NULL;
    struct kz_latest_opts o = {.bucket = "t_rate", .sweep_interval = -1, .write_interval = -1};
    double cpu;

    uv_loop_init(&loop);
    assert_int_equal(kz_latest_start(&m, &loop, nc, &o, on_change, &s), KZ_OK);
    struct wait_for w = {.s = &s, .m = m, .snapshots = 1};
    assert_true(nats_fx_run_until(&loop, seen_enough, &w, 10000));
    double rate = rate_round(&loop, m, &s, N, 5000, &cpu);
    printf("# %d new uids written and mirrored: %.0f/s, %.0f µs of this process's CPU each "
           "(nats-server's not counted)\n",
           N, rate, cpu);
    for (int r = 1; r <= ROUNDS; r++) {
        rate = rate_round(&loop, m, &s, N, 5000 + r, &cpu);
        printf("# %d updates of known uids written and mirrored: %.0f/s, %.0f µs of CPU each\n", N,
               rate, cpu);
    }
    struct kz_latest_stats st;
    kz_latest_stats(m, &st);
    assert_int_equal(st.written, N * (ROUNDS + 1));
    assert_int_equal(st.dropped, 0);
    kz_latest_stop(m);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    natsConnection_Destroy(nc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_roundtrip), cmocka_unit_test(test_value_codec),
        cmocka_unit_test(test_lww_race),      cmocka_unit_test(test_tombstone),
        cmocka_unit_test(test_mirror),        cmocka_unit_test(test_restart_resync),
        cmocka_unit_test(test_writer_rate),   cmocka_unit_test(test_mirror_sweep),
        cmocka_unit_test(test_hint),          cmocka_unit_test(test_write_rounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
