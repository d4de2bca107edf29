/*
 * Unit tests for kz_cot_build() through its two callers, kz_fed_decode()
 * (GeoEvent) and kz_cot_decode_proto() (TakMessage): the events they build
 * without XML must be the events the old round trip through XML text gave
 * (typed_roundtrip_ref.h), field for field, with the same accept/reject,
 * reject class and message.  The inputs: the seed corpora, every device
 * capture and CoT seed re-encoded both ways, generated messages mixing
 * valid and invalid fields, and byte mutations of all of them.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "typed_roundtrip_ref.h"

/* Decoders with the default limits and with limits small enough to be met. */
enum { D_DEFAULT, D_SMALL, D_TINY, D__COUNT };
static struct kz_cot_decoder *decs[D__COUNT];
static unsigned compared, accepted;

static int setup(void **state)
{
    struct kz_cot_limits small = {.max_event_bytes = 700, .max_depth = 4, .max_dests = 2};
    struct kz_cot_limits tiny = {.max_event_bytes = 300, .max_depth = 2, .max_dests = 0};

    KZ_UNUSED(state);
    decs[D_DEFAULT] = kz_cot_decoder_new(NULL);
    decs[D_SMALL] = kz_cot_decoder_new(&small);
    decs[D_TINY] = kz_cot_decoder_new(&tiny);
    return 0;
}

static int teardown(void **state)
{
    KZ_UNUSED(state);
    for (unsigned i = 0; i < D__COUNT; i++)
        kz_cot_decoder_free(decs[i]);
    return 0;
}

/* ---- comparison ------------------------------------------------------- */

static void same_str(const char *what, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        fail_msg("%s differs: old '%s', new '%s'", what, a ? a : "(null)", b ? b : "(null)");
}

static void same_num(const char *what, double a, double b)
{
    if (memcmp(&a, &b, sizeof(a)) != 0)
        fail_msg("%s differs: old %.17g, new %.17g", what, a, b);
}

static void same_dests(const struct kz_event *a, const struct kz_event *b)
{
    assert_int_equal(a->n_dests, b->n_dests);
    for (unsigned i = 0; i < a->n_dests; i++) {
        same_str("dest callsign", a->dests[i].callsign, b->dests[i].callsign);
        same_str("dest uid", a->dests[i].uid, b->dests[i].uid);
        same_str("dest mission", a->dests[i].mission, b->dests[i].mission);
    }
}

/* Every field of struct kz_event. */
static void same_event(const struct kz_event *a, const struct kz_event *b)
{
    const char *const names[] = {"version",     "uid",           "type",          "how",
                                 "access",      "qos",           "opex",          "callsign",
                                 "endpoint",    "group_name",    "group_role",    "link_uid",
                                 "chat_room",   "chat_sender",   "remarks",       "origin_input",
                                 "origin_user", "origin_nation", "origin_groups", "fed_provenance"};
    const char *const sa[] = {
        a->version,      a->uid,         a->type,          a->how,           a->access,
        a->qos,          a->opex,        a->callsign,      a->endpoint,      a->group_name,
        a->group_role,   a->link_uid,    a->chat_room,     a->chat_sender,   a->remarks,
        a->origin_input, a->origin_user, a->origin_nation, a->origin_groups, a->fed_provenance};
    const char *const sb[] = {
        b->version,      b->uid,         b->type,          b->how,           b->access,
        b->qos,          b->opex,        b->callsign,      b->endpoint,      b->group_name,
        b->group_role,   b->link_uid,    b->chat_room,     b->chat_sender,   b->remarks,
        b->origin_input, b->origin_user, b->origin_nation, b->origin_groups, b->fed_provenance};

    for (size_t i = 0; i < KZ_ARRAY_LEN(names); i++)
        same_str(names[i], sa[i], sb[i]);
    assert_true(a->time == b->time && a->start == b->start && a->stale == b->stale);
    same_num("lat", a->lat, b->lat), same_num("lon", a->lon, b->lon);
    same_num("hae", a->hae, b->hae), same_num("ce", a->ce, b->ce), same_num("le", a->le, b->le);
    assert_true((a->detail == NULL) == (b->detail == NULL));
    if (a->detail) {
        assert_int_equal(a->detail_len, b->detail_len);
        assert_memory_equal(a->detail, b->detail, a->detail_len);
        assert_int_equal(strlen(b->detail), b->detail_len);
    }
    same_dests(a, b);
    assert_true(a->seq == b->seq && a->recv_time == b->recv_time);
    assert_true(a->fed_hops == b->fed_hops && a->fed_max_hops == b->fed_max_hops);
    assert_true(a->fed_seq == b->fed_seq);
}

static void same_outcome(int rc_old, int rc_new, const char *err_old, const char *err_new,
                         const struct kz_event *a, const struct kz_event *b)
{
    compared++;
    if (rc_old != rc_new)
        fail_msg("rc differs: old %d (%s), new %d (%s)", rc_old, err_old, rc_new, err_new);
    same_event(a, b); /* a rejected event is cleared on both paths */
    if (rc_old == KZ_OK || rc_old == KZ_FED_EVENT) {
        accepted++;
        return;
    }
    if (strcmp(err_old, err_new) != 0)
        fail_msg("message differs: old '%s', new '%s'", err_old, err_new);
}

/* ---- one message through both paths ------------------------------------ */

static void check_proto_on(struct kz_cot_decoder *d, const void *buf, size_t len)
{
    struct kz_event a, b;
    enum kz_reject wa = KZ_REJ__COUNT, wb = KZ_REJ__COUNT;
    char ea[256] = "", eb[256] = "";

    kz_event_init(&a), kz_event_init(&b);
    int ra = ref_decode_proto(d, buf, len, &a, &wa, ea, sizeof(ea));
    int rb = kz_cot_decode_proto(d, buf, len, &b, &wb, eb, sizeof(eb));
    same_outcome(ra, rb, ea, eb, &a, &b);
    if (ra != KZ_OK && wa != wb)
        fail_msg("reason differs: old %s, new %s (%s)", kz_reject_name(wa), kz_reject_name(wb), ea);
    kz_event_clear(&a), kz_event_clear(&b);
}

static void check_proto(const void *buf, size_t len)
{
    for (unsigned i = 0; i < D__COUNT; i++)
        check_proto_on(decs[i], buf, len);
}

static void check_fed_on(struct kz_cot_decoder *d, const Com__Atakmap__FederatedEvent *fe,
                         const void *buf, size_t len)
{
    struct kz_event a, b;
    struct kz_fed_meta meta;
    char ea[256] = "", eb[256] = "";

    kz_event_init(&a), kz_event_init(&b);
    int ra = ref_decode_geo(d, fe->event, &a, ea, sizeof(ea));
    if (ra <= 0)
        kz_event_clear(&a);
    int rb = kz_fed_decode(d, buf, len, &b, &meta, eb, sizeof(eb));
    same_outcome(ra, rb, ea, eb, &a, &b);
    if (rb > 0)
        kz_fed_meta_clear(&meta);
    kz_event_clear(&a), kz_event_clear(&b);
}

/* A FederatedEvent: compared when it carries a GeoEvent and meta the decoder takes. */
static void check_fed(const void *buf, size_t len)
{
    if (len > KZ_FED_MAX_MESSAGE)
        return;
    Com__Atakmap__FederatedEvent *fe = com__atakmap__federated_event__unpack(NULL, len, buf);
    if (!fe)
        return;
    if (fe->event && ref_meta_ok(fe))
        for (unsigned i = 0; i < D__COUNT; i++)
            check_fed_on(decs[i], fe, buf, len);
    com__atakmap__federated_event__free_unpacked(fe, NULL);
}

/* ---- inputs ------------------------------------------------------------- */

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state >> 12, rnd_state ^= rnd_state << 25, rnd_state ^= rnd_state >> 27;
    return (unsigned)((rnd_state * 2685821657736338717ULL) >> 33) % n;
}

#define PICK(a) ((a)[rnd(KZ_ARRAY_LEN(a))])
/* Mostly the first (valid) value, so that accepted events are common too. */
#define SOME(a) (rnd(4) ? (a)[0] : PICK(a))

/* Flip, insert or drop a few bytes of buf and check the result both ways. */
static void mutate_and_check(const struct kz_sbuf *in, bool fed, unsigned rounds)
{
    for (unsigned r = 0; r < rounds; r++) {
        struct kz_sbuf m = KZ_SBUF_INIT;
        kz_sbuf_add(&m, in->buf, in->len);
        for (unsigned k = 1 + rnd(3); k > 0 && m.len; k--) {
            size_t at = rnd((unsigned)m.len);
            switch (rnd(3)) {
            case 0:
                m.buf[at] = (char)(m.buf[at] ^ (1 << rnd(8)));
                break;
            case 1:
                m.buf[at] = (char)rnd(256);
                break;
            default:
                memmove(m.buf + at, m.buf + at + 1, m.len - at - 1);
                m.len--;
                break;
            }
        }
        if (fed)
            check_fed(m.buf, m.len);
        else
            check_proto(m.buf, m.len);
        kz_sbuf_release(&m);
    }
}

static void slurp(const char *path, struct kz_sbuf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;

    assert_non_null(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        kz_sbuf_add(out, chunk, n);
    fclose(f);
}

/* Call fn for every file in KZ_TEST_DATA/sub whose name ends in ext; returns how many. */
static unsigned each_file(const char *sub, const char *ext, void (*fn)(const struct kz_sbuf *))
{
    char dir[512], path[1024];
    const char *root = getenv("KZ_TEST_DATA");
    unsigned n = 0;

    snprintf(dir, sizeof(dir), "%s/%s", root ? root : "tests", sub);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name), x = strlen(ext);
        if (l <= x || strcmp(e->d_name + l - x, ext) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct kz_sbuf b = KZ_SBUF_INIT;
        slurp(path, &b);
        fn(&b);
        kz_sbuf_release(&b);
        n++;
    }
    closedir(d);
    return n;
}

static void seed_fed(const struct kz_sbuf *b)
{
    check_fed(b->buf, b->len);
    mutate_and_check(b, true, 300);
}

static void seed_proto(const struct kz_sbuf *b)
{
    check_proto(b->buf, b->len);
    mutate_and_check(b, false, 300);
}

/* A CoT document: encoded both ways (when it decodes), then as the seeds. */
static void seed_xml(const struct kz_sbuf *b)
{
    struct kz_event ev;
    enum kz_reject why;
    struct kz_sbuf f = KZ_SBUF_INIT, p = KZ_SBUF_INIT;

    kz_event_init(&ev);
    if (kz_cot_decode(decs[D_DEFAULT], b->buf, b->len, &ev, &why, NULL, 0) == KZ_OK) {
        kz_fed_encode_event(&ev, NULL, &f);
        kz_cot_encode_proto(&ev, false, &p);
        seed_fed(&f);
        seed_proto(&p);
    }
    kz_event_clear(&ev);
    kz_sbuf_release(&f);
    kz_sbuf_release(&p);
}

static void test_seed_corpora(void **state)
{
    KZ_UNUSED(state);
    assert_true(each_file("fuzz/corpus/fed_event", ".bin", seed_fed) >= 5);
    assert_true(each_file("fuzz/corpus/cot_proto", ".bin", seed_proto) >= 5);
    assert_true(each_file("fuzz/corpus/cot_decode", ".xml", seed_xml) >= 10);
    assert_true(each_file("interop/corpus/devices", ".xml", seed_xml) >= 10);
    print_message("%u comparisons, %u accepted\n", compared, accepted);
}

/* ---- generated messages -------------------------------------------------- */

static const char *const uids[] = {
    "U-1",
    "",
    "ANDROID-589520ccfcd20f01",
    "bad\x01uid",
    "caf\xc3\xa9",
    "\xff\xfe",
    "a\tb\nc\rd",
    "x&<>\"'",
    "\xed\xa0\x80",
    "\xef\xbf\xbe",
    "\xf4\x90\x80\x80",
    "sp ace",
    "\x7f\xc2\x85",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};
static const char *const types[] = {
    "a-f-G-U-C",   "",        "b-t-f",           "t-x-d-d", "a-f-G;x y",
    "a--f",        "a f",     "a-f-G;x;y",       "\x01",    "a-\xc3\xa9",
    "b-m-p-s-p-i", "u-d-c-c", "a-h-A-M-F-Q;\xff"};
static const char *const hows[] = {"", "m-g", "h-e", "mg", "m-", "h-g-i-g-o", "\xc3\xa9", "m-g-"};
static const char *const accesses[] = {
    "",
    "Undefined",
    "uNDEFINED",
    "SECRET//REL TO USA, JPN",
    "UNCLASSIFIED",
    "a\x02z",
    "\xff",
    "  ",
    "SECRET//REL TO USA, AUS, CAN, GBR, JPN, NZL, PHL, KOR, FRA, DEU, ITA, ESP, NLD, BEL, NOR, "
    "DNK, SWE, FIN, POL, CZE, SVK, HUN, ROU, BGR, GRC, TUR, PRT, LTU, LVA, EST, SVN, HRV, ALB, "
    "MNE, MKD, ISL, LUX, IND, SGP, MYS, IDN, THA, VNM, BRN, TWN, ISR, EGY, JOR, SAU, ARE, QAT, "
    "BHR, KWT, OMN, MAR, TUN, KEN, NGA, ZAF, BRA, ARG, CHL, COL, PER, MEX, URY, PRY, BOL, ECU, "
    "VEN, CRI, PAN, GTM, HND, SLV, NIC, DOM, JAM, TTO, BRB, BHS, BLZ, GUY, SUR, ATG, DMA, GRD, "
    "LCA, VCT, KNA, MDV, LKA, NPL, BGD, PAK, AFG, IRQ"};
static const char *const qoses[] = {"", "1-r-c", "\x03",
                                    "0123456789012345678901234567890123456789"
                                    "0123456789012345678901234"};
static const int64_t t0 = 1608148774913LL;
static const int64_t dts[] = {0, 1, 60000, -1, -60000, -1608148774913LL, 250000000000000LL};
static const double lats[] = {35.6762,
                              0,
                              -0.0,
                              90,
                              -90,
                              90.0000001,
                              1e-5,
                              0.1 + 0.2,
                              NAN,
                              INFINITY,
                              -INFINITY,
                              9999999.0,
                              1.7976931348623157e308,
                              5e-324};
static const double lons[] = {139.6503, 180, -180, 180.5, 0, NAN, 12.345678901234567};
static const double haes[] = {40.2, 9999999.0, 999999.0, NAN, INFINITY, -1, 0, 1e300, -0.0};

/* Fragments of <detail> content, valid and not. */
static const char *const frags[] = {
    "<contact callsign=\"A\" endpoint=\"*:-1:stcp\"/>",
    "<contact callsign=\"\"/>",
    "<contact callsign=\"B\" phone=\"+1\"/>",
    "<contact endpoint=\"e\"/>",
    "<__group name=\"Cyan\" role=\"Team Member\"/>",
    "<__group name=\"\" role=\"\"/>",
    "<link uid=\"L1\" type=\"a-f\" relation=\"p-p\"/>",
    "<link uid=\"\"/>",
    "<__chat chatroom=\"R\" senderCallsign=\"S\" id=\"x\"/>",
    "<remarks>hi &amp; <b>bold</b> there&#10;</remarks>",
    "<remarks source=\"x\"/>",
    "<remarks>second</remarks>",
    "<marti><dest callsign=\"B\"/><dest uid=\"U\"/><dest mission=\"m\"/><dest/></marti>",
    "<marti><dest uid=\"V\"/><dest uid=\"W\"/><dest uid=\"X\"/></marti>",
    "<!-- a comment -->",
    "<?pi data?>",
    "<![CDATA[x<y]]>",
    "<![CDATA[</event>]]>",
    "<!-- </event> -->",
    "<x><y><z/></y></x>",
    "<a1><a2><a3><a4><a5><a6><a7><a8><a9><a10><a11><a12><a13><a14><a15><a16><a17><a18><a19>"
    "<a20><a21><a22><a23><a24><a25><a26><a27><a28><a29><a30><a31/></a30></a29></a28></a27>"
    "</a26></a25></a24></a23></a22></a21></a20></a19></a18></a17></a16></a15></a14></a13>"
    "</a12></a11></a10></a9></a8></a7></a6></a5></a4></a3></a2></a1>",
    "&bogus;",
    "<a>",
    "</b>",
    "<takv device=\"d\" platform=\"p\" os=\"o\" version=\"v\"/>",
    "<status battery=\"5\"/>",
    "<status battery=\"0\"/>",
    "<track speed=\"1.5\" course=\"2\"/>",
    "<track speed=\"0.0\" course=\"0\"/>",
    "<precisionlocation geopointsrc=\"GPS\" altsrc=\"DTED\"/>",
    "\r\n  ",
    "text",
    "<uid Droid=\"x\"/>",
    "\xff",
    "<contact callsign=\"a&#9;b&lt;\"/>",
    "<detail/>",
    "</detail><detail>",
    "<?xml version=\"1.0\"?>",
    "<!DOCTYPE x>",
    "<x a=\"1\" a=\"2\"/>",
    "<events/></events>",
    "<remarks><![CDATA[cd]]>&#x1F600;</remarks>",
    "<contact callsign=\"\xc3\xa9\"/>",
    "<__group name=\"N\"><x/></__group>",
    "<marti/>",
};

static const char *const texts[] = {"",     "A",     "Team Member",  "\x01", "\xff",
                                    "a\tb", "&<>\"", "\xef\xbf\xbf", "GPS",  "x y"};

/* The fragments before this one are well-formed. */
#define N_GOOD_FRAGS 20

static void gen_detail(struct kz_sbuf *d)
{
    for (unsigned n = rnd(5); n > 0; n--)
        kz_sbuf_adds(d, rnd(3) ? frags[rnd(N_GOOD_FRAGS)] : PICK(frags));
}

static void gen_times(int64_t *send, int64_t *start, int64_t *stale)
{
    *send = t0 + SOME(dts), *start = t0 + SOME(dts), *stale = *start + SOME(dts);
    if (rnd(4) == 0) { /* anywhere in 1970-9999, to the millisecond */
        uint64_t a = (uint64_t)rnd(1u << 31) << 24 ^ rnd(1u << 24), z = 253402300800000ULL;
        *start = (int64_t)(a % z), *stale = *start + (rnd(2) ? 1 : -1) * (int64_t)rnd(100000);
        *send = (int64_t)((a * 7) % z);
    }
    if (rnd(20) == 0)
        *stale = 253402300799999LL + rnd(2);
    if (rnd(50) == 0) /* far out of range: refused before any arithmetic on it */
        *send = rnd(2) ? INT64_MAX - rnd(1000) : INT64_MIN + rnd(1000);
}

static void gen_proto(struct kz_sbuf *out)
{
    Takproto__TakMessage m = TAKPROTO__TAK_MESSAGE__INIT;
    Takproto__CotEvent c = TAKPROTO__COT_EVENT__INIT;
    Takproto__Detail d = TAKPROTO__DETAIL__INIT;
    Takproto__Contact ct = TAKPROTO__CONTACT__INIT;
    Takproto__Group g = TAKPROTO__GROUP__INIT;
    Takproto__Status st = TAKPROTO__STATUS__INIT;
    Takproto__Takv tv = TAKPROTO__TAKV__INIT;
    Takproto__Track tr = TAKPROTO__TRACK__INIT;
    Takproto__PrecisionLocation pl = TAKPROTO__PRECISION_LOCATION__INIT;
    struct kz_sbuf xd = KZ_SBUF_INIT;
    int64_t send, start, stale;

    m.cotevent = &c;
    c.uid = (char *)SOME(uids), c.type = (char *)SOME(types), c.how = (char *)SOME(hows);
    c.access = (char *)SOME(accesses), c.qos = (char *)SOME(qoses), c.opex = (char *)SOME(qoses);
    gen_times(&send, &start, &stale);
    c.sendtime = (uint64_t)send, c.starttime = (uint64_t)start, c.staletime = (uint64_t)stale;
    c.lat = SOME(lats), c.lon = SOME(lons), c.hae = SOME(haes), c.ce = SOME(haes);
    c.le = SOME(haes);
    if (rnd(8)) {
        c.detail = &d;
        gen_detail(&xd);
        d.xmldetail = xd.buf ? xd.buf : (char *)"";
        if (rnd(2))
            ct.endpoint = (char *)PICK(texts), ct.callsign = (char *)PICK(texts), d.contact = &ct;
        if (rnd(2))
            g.name = (char *)PICK(texts), g.role = (char *)PICK(texts), d.group = &g;
        if (rnd(3) == 0)
            st.battery = rnd(3) ? rnd(101) : 4000000000u, d.status = &st;
        if (rnd(3) == 0)
            tv.device = (char *)PICK(texts), tv.platform = (char *)PICK(texts),
            tv.os = (char *)PICK(texts), tv.version = (char *)PICK(texts), d.takv = &tv;
        if (rnd(3) == 0)
            tr.speed = SOME(haes), tr.course = SOME(lons), d.track = &tr;
        if (rnd(3) == 0)
            pl.geopointsrc = (char *)PICK(texts), pl.altsrc = (char *)PICK(texts),
            d.precisionlocation = &pl;
    }
    size_t n = takproto__tak_message__get_packed_size(&m);
    kz_sbuf_grow(out, n + 1);
    takproto__tak_message__pack(&m, (uint8_t *)out->buf);
    out->len = n;
    kz_sbuf_release(&xd);
}

static void gen_geo_typed(Com__Atakmap__GeoEvent *g, char **lists)
{
    if (rnd(2))
        g->screenname = (char *)PICK(texts), g->phone = (char *)PICK(texts);
    if (rnd(2))
        g->groupname = (char *)PICK(texts), g->grouprole = (char *)PICK(texts);
    if (rnd(3) == 0)
        g->ploc = (char *)PICK(texts), g->palt = (char *)PICK(texts);
    if (rnd(3) == 0)
        g->battery = rnd(3) ? rnd(101) : 4000000000u;
    if (rnd(3) == 0)
        g->speed = SOME(haes), g->course = SOME(lons);
    if (rnd(2)) {
        for (unsigned i = 0; i < 12; i++)
            lists[i] = (char *)PICK(texts);
        g->ptpuids = lists, g->n_ptpuids = rnd(4);
        g->ptpcallsigns = lists + 4, g->n_ptpcallsigns = rnd(4);
        g->missionnames = lists + 8, g->n_missionnames = rnd(3);
    }
}

static void gen_geo(struct kz_sbuf *out)
{
    Com__Atakmap__FederatedEvent fe = COM__ATAKMAP__FEDERATED_EVENT__INIT;
    Com__Atakmap__GeoEvent g = COM__ATAKMAP__GEO_EVENT__INIT;
    struct kz_sbuf other = KZ_SBUF_INIT, content = KZ_SBUF_INIT;
    char *lists[12];

    fe.event = &g;
    g.uid = (char *)SOME(uids), g.type = (char *)SOME(types), g.coordsource = (char *)SOME(hows);
    g.access = (char *)SOME(accesses);
    gen_times(&g.sendtime, &g.starttime, &g.staletime);
    g.lat = SOME(lats), g.lon = SOME(lons), g.hae = SOME(haes), g.ce = SOME(haes);
    g.le = SOME(haes);
    gen_detail(&content);
    switch (rnd(5)) {
    case 0:
        break; /* no other */
    case 1:
        kz_sbuf_add(&other, content.buf ? content.buf : "", content.len); /* bare content */
        break;
    case 2:
        kz_sbuf_adds(&other, rnd(2) ? "<detail/>" : "<detail a=\"1\">x</detail>");
        break;
    default:
        kz_sbuf_adds(&other, "<detail>");
        kz_sbuf_add(&other, content.buf ? content.buf : "", content.len);
        kz_sbuf_adds(&other, "</detail>");
    }
    g.other = other.buf ? other.buf : (char *)"";
    gen_geo_typed(&g, lists);
    size_t n = com__atakmap__federated_event__get_packed_size(&fe);
    kz_sbuf_grow(out, n + 1);
    com__atakmap__federated_event__pack(&fe, (uint8_t *)out->buf);
    out->len = n;
    kz_sbuf_release(&other);
    kz_sbuf_release(&content);
}

static void test_generated(void **state)
{
    unsigned before = compared, ok = accepted;

    KZ_UNUSED(state);
    for (unsigned i = 0; i < 6000; i++) {
        struct kz_sbuf p = KZ_SBUF_INIT, f = KZ_SBUF_INIT;
        gen_proto(&p);
        gen_geo(&f);
        check_proto(p.buf, p.len);
        check_fed(f.buf, f.len);
        if (i % 20 == 0) {
            mutate_and_check(&p, false, 5);
            mutate_and_check(&f, true, 5);
        }
        kz_sbuf_release(&p);
        kz_sbuf_release(&f);
    }
    print_message("%u comparisons, %u accepted\n", compared - before, accepted - ok);
    /* Both outcomes are exercised in bulk. */
    assert_true(accepted - ok > 1000);
    assert_true((compared - before) - (accepted - ok) > 1000);
}

/* ---- contact DELETE ------------------------------------------------------ */

/* The t-x-d-d the old path built for a DELETE, parsed by kz_cot_decode(). */
static int ref_delete(struct kz_cot_decoder *d, const char *uid, const char *callsign,
                      struct kz_event *ev, char *err, size_t errlen)
{
    struct kz_event t;
    struct kz_sbuf detail = KZ_SBUF_INIT, id = KZ_SBUF_INIT, xml = KZ_SBUF_INIT;
    enum kz_reject why;
    int64_t now = kz_now_us();

    kz_sbuf_addf(&id, "%s.delete", uid);
    kz_event_init(&t);
    t.uid = id.buf, t.type = (char *)"t-x-d-d", t.how = (char *)"h-g-i-g-o";
    t.time = t.start = now;
    t.stale = now + 60 * 1000000LL;
    t.lat = t.lon = 0;
    kz_cot_detail_element(&detail, "link",
                          (const char *const[]){"uid", uid, "relation", "none", "type",
                                                *callsign ? callsign : "none", NULL},
                          NULL);
    kz_cot_detail_element(&detail, "__forcedelete", NULL, NULL);
    t.detail = detail.buf, t.detail_len = detail.len;
    kz_cot_encode_xml(&t, &xml);
    int rc = kz_cot_decode(d, xml.buf, xml.len, ev, &why, err, errlen);
    kz_sbuf_release(&xml);
    kz_sbuf_release(&detail);
    kz_sbuf_release(&id);
    return rc == KZ_OK ? KZ_FED_CONTACT_DELETE : -rc;
}

static void test_contact_delete(void **state)
{
    const char *const cuids[] = {"ANDROID-9", "a b", "\xff", "x&y", "<", "\x01"};
    const char *const calls[] = {"", "a-f-G", "\xff\xfe", "b-m-p-s-p-i"};

    KZ_UNUSED(state);
    for (size_t i = 0; i < KZ_ARRAY_LEN(cuids); i++) {
        for (size_t j = 0; j < KZ_ARRAY_LEN(calls); j++) {
            Com__Atakmap__FederatedEvent fe = COM__ATAKMAP__FEDERATED_EVENT__INIT;
            Com__Atakmap__ContactListEntry c = COM__ATAKMAP__CONTACT_LIST_ENTRY__INIT;
            struct kz_sbuf b = KZ_SBUF_INIT;
            struct kz_event x, y;
            struct kz_fed_meta meta;
            char ex[256] = "", ey[256] = "";

            c.operation = COM__ATAKMAP__CONTACT_LIST_ENTRY__CRUD__DELETE;
            c.uid = (char *)cuids[i], c.callsign = (char *)calls[j];
            fe.contact = &c;
            kz_sbuf_grow(&b, com__atakmap__federated_event__get_packed_size(&fe) + 1);
            b.len = com__atakmap__federated_event__pack(&fe, (uint8_t *)b.buf);
            kz_event_init(&x), kz_event_init(&y);
            int rx = ref_delete(decs[D_DEFAULT], cuids[i], calls[j], &x, ex, sizeof(ex));
            int ry = kz_fed_decode(decs[D_DEFAULT], b.buf, b.len, &y, &meta, ey, sizeof(ey));
            /* Both stamp the time they run: equal within a second, then compared as equal. */
            assert_true(llabs(x.time - y.time) < 1000000 && llabs(x.stale - y.stale) < 1000000);
            y.time = x.time, y.start = x.start, y.stale = x.stale;
            same_outcome(rx == KZ_FED_CONTACT_DELETE ? KZ_OK : rx,
                         ry == KZ_FED_CONTACT_DELETE ? KZ_OK : ry, ex, ey, &x, &y);
            if (ry > 0)
                kz_fed_meta_clear(&meta);
            kz_event_clear(&x), kz_event_clear(&y);
            kz_sbuf_release(&b);
        }
    }
}

/* ---- attribute read-back ------------------------------------------------- */

/* What kz_cot_build() assumes of the encoder: a value reads back as the documented one. */
static void test_readback_matches_xml(void **state)
{
    KZ_UNUSED(state);
    for (unsigned i = 0; i < 20000; i++) {
        char v[12];
        unsigned n = rnd(sizeof(v));
        for (unsigned k = 0; k < n; k++)
            v[k] = (char)(rnd(4) ? 0x80 + rnd(0x80) : 1 + rnd(0x7f));
        v[n] = '\0';
        Takproto__TakMessage m = TAKPROTO__TAK_MESSAGE__INIT;
        Takproto__CotEvent c = TAKPROTO__COT_EVENT__INIT;
        m.cotevent = &c;
        c.uid = v, c.type = (char *)"a-f-G", c.sendtime = c.starttime = c.staletime = 1;
        c.access = v, c.qos = v;
        struct kz_sbuf b = KZ_SBUF_INIT;
        kz_sbuf_grow(&b, takproto__tak_message__get_packed_size(&m) + 1);
        b.len = takproto__tak_message__pack(&m, (uint8_t *)b.buf);
        check_proto(b.buf, b.len);
        kz_sbuf_release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_corpora),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_contact_delete),
        cmocka_unit_test(test_readback_matches_xml),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
