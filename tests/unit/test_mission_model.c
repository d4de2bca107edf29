/*
 * Unit tests for the mission model (src/mission/): roles and their
 * permissions, the role of a request, contents and their change log,
 * squashed changes, the release rule on every view, the JSON shapes TAK
 * clients parse, the request bodies, and the stored documents read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mission/mission.h"

#define NOW 1780000000000000LL

static struct kz_label_policy P;
static struct kz_release_subject US, JP;

static int setup(void **state)
{
    (void)state;
    kz_label_policy_init_default(&P);
    US.nation = kz_nation_index("USA", 3);
    US.clearance = KZ_LEVEL_SECRET;
    JP.nation = kz_nation_index("JPN", 3);
    JP.clearance = KZ_LEVEL_SECRET;
    return 0;
}

static struct kz_label label(const char *banner)
{
    struct kz_label l;

    assert_int_equal(kz_mission_label(&P, banner, "USA", &l), KZ_OK);
    return l;
}

static struct kz_mission *mission(struct kz_mission_book *b, const char *name)
{
    struct kz_label l = label("UNCLASSIFIED");
    struct kz_mission *m = kz_mission_book_add(b, name, "UNCLASSIFIED", &l, NOW);

    assert_non_null(m);
    m->creator_uid = kz_xstrdup("ANDROID-owner");
    kz_mission_log_change(b, m, KZ_MCHANGE_CREATE_MISSION, "ANDROID-owner", NOW);
    return m;
}

static void roles_and_permissions(void **state)
{
    enum kz_mission_role r;
    json_t *j;

    (void)state;
    assert_int_equal(kz_mission_role_perms(KZ_MROLE_OWNER), 0xff);
    assert_int_equal(kz_mission_role_perms(KZ_MROLE_SUBSCRIBER), KZ_MPERM_READ | KZ_MPERM_WRITE);
    assert_int_equal(kz_mission_role_perms(KZ_MROLE_READONLY_SUBSCRIBER), KZ_MPERM_READ);
    assert_int_equal(kz_mission_role_perms(KZ_MROLE_NONE), 0);
    assert_int_equal(kz_mission_role_parse("MISSION_READONLY_SUBSCRIBER", &r), KZ_OK);
    assert_int_equal(r, KZ_MROLE_READONLY_SUBSCRIBER);
    assert_int_equal(kz_mission_role_parse("MISSION_ADMIN", &r), KZ_ERR_PARSE);
    j = kz_mission_role_json(KZ_MROLE_OWNER);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "MISSION_OWNER");
    assert_int_equal(json_array_size(json_object_get(j, "permissions")), 8);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "permissions"), 7)),
                        "MISSION_MANAGE_LAYERS");
    json_decref(j);
}

static void role_per_request(void **state)
{
    struct kz_mission_book *b = kz_mission_book_new();
    struct kz_mission *m = mission(b, "alpha");
    struct kz_mission_token_claims t = {.role = KZ_MROLE_OWNER};

    (void)state;
    snprintf(t.guid, sizeof(t.guid), "%s", m->guid);
    /* A public mission: its default role, without any token. */
    assert_int_equal(kz_mission_role_for(m, NULL, false), KZ_MROLE_SUBSCRIBER);
    assert_int_equal(kz_mission_role_for(m, &t, false), KZ_MROLE_OWNER);
    assert_int_equal(kz_mission_role_for(m, NULL, true), KZ_MROLE_OWNER);
    /* A token of another mission counts for nothing. */
    t.guid[0] = t.guid[0] == 'a' ? 'b' : 'a';
    assert_int_equal(kz_mission_role_for(m, &t, false), KZ_MROLE_SUBSCRIBER);
    m->invite_only = true;
    assert_int_equal(kz_mission_role_for(m, &t, false), KZ_MROLE_NONE);
    assert_int_equal(kz_mission_role_for(m, NULL, true), KZ_MROLE_OWNER);
    m->invite_only = false;
    m->default_role = KZ_MROLE_READONLY_SUBSCRIBER;
    assert_int_equal(kz_mission_role_for(m, NULL, false), KZ_MROLE_READONLY_SUBSCRIBER);
    assert_int_equal(kz_mission_subscribe(m, "ANDROID-1", "alice", KZ_MROLE_OWNER, NULL, NOW, NULL),
                     KZ_OK);
    assert_int_equal(kz_mission_stream_role(m, "ANDROID-1"), KZ_MROLE_OWNER);
    assert_int_equal(kz_mission_stream_role(m, "ANDROID-2"), KZ_MROLE_NONE);
    kz_mission_book_free(b);
}

/* A plan's mission (issue 13): only the plan flow writes it, whatever a caller holds. */
static void plan_mission_read_only(void **state)
{
    struct kz_mission_book *b = kz_mission_book_new();
    struct kz_mission *m = mission(b, "p-0a1b2c3d"), *back;
    struct kz_mission_token_claims t = {.role = KZ_MROLE_OWNER};

    (void)state;
    snprintf(t.guid, sizeof(t.guid), "%s", m->guid);
    m->plan = kz_xstrdup("p-0a1b2c3d");
    m->default_role = KZ_MROLE_SUBSCRIBER;
    assert_int_equal(kz_mission_role_for(m, NULL, false), KZ_MROLE_READONLY_SUBSCRIBER);
    assert_int_equal(kz_mission_role_for(m, &t, false), KZ_MROLE_READONLY_SUBSCRIBER);
    assert_int_equal(kz_mission_role_for(m, NULL, true), KZ_MROLE_READONLY_SUBSCRIBER);
    kz_mission_subscribe(m, "ANDROID-1", "alice", KZ_MROLE_OWNER, NULL, NOW, NULL);
    assert_int_equal(kz_mission_stream_role(m, "ANDROID-1"), KZ_MROLE_READONLY_SUBSCRIBER);
    /* Kept in the stored document. */
    char *doc = kz_mission_doc(m);
    assert_int_equal(kz_mission_from_doc(doc, &P, &back), KZ_OK);
    assert_string_equal(back->plan, "p-0a1b2c3d");
    assert_int_equal(kz_mission_role_for(back, NULL, true), KZ_MROLE_READONLY_SUBSCRIBER);
    free(doc);
    kz_mission_free(back);
    kz_mission_book_free(b);
}

static void guid_and_names(void **state)
{
    struct kz_mission_book *b = kz_mission_book_new();
    struct kz_mission *m = mission(b, "alpha");
    struct kz_label l = label("UNCLASSIFIED");

    (void)state;
    assert_int_equal(strlen(m->guid), 36);
    assert_int_equal(m->guid[14], '4');
    assert_true(strchr("89ab", m->guid[19]) != NULL);
    assert_null(kz_mission_book_add(b, "alpha", "UNCLASSIFIED", &l, NOW));
    assert_ptr_equal(kz_mission_book_by_guid(b, m->guid), m);
    kz_mission_book_free(b);
}

static void changes_and_squash(void **state)
{
    struct kz_mission_book *b = kz_mission_book_new();
    struct kz_mission *m = mission(b, "alpha");
    struct kz_label u = label("UNCLASSIFIED");
    const struct kz_mission_change **c;
    unsigned n;

    (void)state;
    assert_int_equal(kz_mission_add_item(b, m, "u1", false, "A", "UNCLASSIFIED", &u, NOW + 1),
                     KZ_OK);
    assert_int_equal(kz_mission_add_item(b, m, "u1", false, "A", "UNCLASSIFIED", &u, NOW + 2),
                     KZ_ERR_EXISTS);
    assert_int_equal(kz_mission_add_item(b, m, "u2", false, NULL, "UNCLASSIFIED", &u, NOW + 3),
                     KZ_OK);
    assert_int_equal(kz_mission_remove_item(b, m, "u2", false, "B", NOW + 4), KZ_OK);
    assert_int_equal(kz_mission_remove_item(b, m, "u2", false, "B", NOW + 5), KZ_ERR_NOTFOUND);
    assert_int_equal(m->n_items, 1);
    n = kz_mission_changes(m, 0, 0, false, &JP, &c);
    assert_int_equal(n, 4);
    assert_int_equal(c[0]->type, KZ_MCHANGE_CREATE_MISSION);
    /* creatorUid is always set (ATAK's timeline crashes without it). */
    assert_string_equal(c[2]->creator_uid, "ANONYMOUS");
    assert_true(c[1]->id < c[2]->id && c[2]->id < c[3]->id);
    free(c);
    /* Squashed: u2 was added and removed in the window: neither shows. */
    n = kz_mission_changes(m, 0, 0, true, &JP, &c);
    assert_int_equal(n, 2);
    assert_string_equal(c[1]->content, "u1");
    free(c);
    /* A window that starts after the add keeps the removal. */
    n = kz_mission_changes(m, NOW + 4, 0, true, &JP, &c);
    assert_int_equal(n, 1);
    assert_int_equal(c[0]->type, KZ_MCHANGE_REMOVE_CONTENT);
    free(c);
    kz_mission_book_free(b);
}

static void labels_filter_every_view(void **state)
{
    struct kz_mission_book *b = kz_mission_book_new();
    struct kz_mission *m = mission(b, "alpha");
    struct kz_label u = label("UNCLASSIFIED"), nf = label("SECRET//NOFORN");
    const struct kz_mission_change **c;
    struct kz_mission_view v = {.who = &JP, .changes = true};
    char *s;

    (void)state;
    kz_mission_add_item(b, m, "visible", false, "A", "UNCLASSIFIED", &u, NOW + 1);
    kz_mission_add_item(b, m, "us-only", false, "A", "SECRET//NOFORN", &nf, NOW + 2);
    assert_int_equal(kz_mission_changes(m, 0, 0, true, &JP, &c), 2);
    free(c);
    assert_int_equal(kz_mission_changes(m, 0, 0, true, &US, &c), 3);
    free(c);
    json_t *j = kz_mission_json(m, &v);
    s = json_dumps(j, JSON_COMPACT);
    assert_null(strstr(s, "us-only"));
    assert_non_null(strstr(s, "visible"));
    free(s);
    json_decref(j);
    v.who = &US;
    j = kz_mission_json(m, &v);
    s = json_dumps(j, JSON_COMPACT);
    assert_non_null(strstr(s, "us-only"));
    free(s);
    json_decref(j);
    /* A NOFORN mission is hidden from JPN. */
    m->label = nf;
    assert_false(kz_mission_visible(m, &JP));
    assert_true(kz_mission_visible(m, &US));
    kz_mission_book_free(b);
}

static int fake_meta(void *ud, const char *hash, struct kz_mission_file *out)
{
    (void)ud;
    if (strncmp(hash, "ab", 2) != 0)
        return KZ_ERR_NOTFOUND;
    snprintf(out->filename, sizeof(out->filename), "map.kmz");
    snprintf(out->mime_type, sizeof(out->mime_type), "application/vnd.google-earth.kmz");
    snprintf(out->submitter, sizeof(out->submitter), "alice");
    out->size = 1234;
    out->submission_time = NOW;
    return KZ_OK;
}

/* The router's view of a uid: only "u1", and only under its own label. */
static bool fake_details(void *ud, const char *uid, const struct kz_label *label,
                         struct kz_mission_uid_details *out)
{
    (void)ud;
    if (strcmp(uid, "u1") != 0 || label->level != KZ_LEVEL_UNCLASSIFIED)
        return false;
    snprintf(out->type, sizeof(out->type), "a-f-G");
    snprintf(out->callsign, sizeof(out->callsign), "ALPHA");
    out->lat = 35.5;
    out->lon = 139.5;
    return true;
}

static void json_shapes(void **state)
{
    struct kz_mission_book *b = kz_mission_book_new();
    struct kz_mission *m = mission(b, "alpha");
    struct kz_label u = label("UNCLASSIFIED");
    struct kz_mission_files files = {fake_meta, NULL};
    struct kz_mission_uids uids = {fake_details, NULL};
    struct kz_mission_view v = {
        .who = &JP, .files = &files, .uids = &uids, .token = "T", .owner_role = KZ_MROLE_OWNER};
    char hash[65];

    (void)state;
    memset(hash, 'a', 64);
    hash[1] = 'b';
    hash[64] = '\0';
    kz_mission_add_item(b, m, hash, true, "A", "UNCLASSIFIED", &u, NOW + 1);
    kz_mission_add_item(b, m, "u1", false, "A", "UNCLASSIFIED", &u, NOW + 2);
    json_t *j = kz_mission_json(m, &v);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "alpha");
    assert_string_equal(json_string_value(json_object_get(j, "classification")), "UNCLASSIFIED");
    assert_string_equal(json_string_value(json_object_get(j, "tool")), "public");
    assert_string_equal(json_string_value(json_object_get(j, "token")), "T");
    assert_string_equal(json_string_value(json_object_get(j, "createTime")),
                        "2026-05-28T20:26:40.000Z");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "ownerRole"), "type")),
                        "MISSION_OWNER");
    json_t *uid = json_array_get(json_object_get(j, "uids"), 0);
    assert_string_equal(json_string_value(json_object_get(uid, "data")), "u1");
    assert_string_equal(json_string_value(json_object_get(uid, "creatorUid")), "A");
    json_t *d = json_object_get(uid, "details");
    assert_string_equal(json_string_value(json_object_get(d, "callsign")), "ALPHA");
    assert_true(json_real_value(json_object_get(json_object_get(d, "location"), "lat")) == 35.5);
    json_t *res = json_object_get(json_array_get(json_object_get(j, "contents"), 0), "data");
    assert_string_equal(json_string_value(json_object_get(res, "filename")), "map.kmz");
    assert_string_equal(json_string_value(json_object_get(res, "hash")), hash);
    assert_int_equal(json_integer_value(json_object_get(res, "size")), 1234);
    assert_null(json_object_get(j, "missionChanges"));
    json_decref(j);
    json_t *c = kz_mission_change_json(m, &m->changes[2], &v);
    assert_string_equal(json_string_value(json_object_get(c, "type")), "ADD_CONTENT");
    assert_string_equal(json_string_value(json_object_get(c, "contentUid")), "u1");
    assert_string_equal(json_string_value(json_object_get(c, "missionGuid")), m->guid);
    assert_true(json_is_false(json_object_get(c, "isFederatedChange")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "details"), "type")),
                        "a-f-G");
    assert_non_null(json_object_get(c, "serverTime"));
    json_decref(c);
    kz_mission_book_free(b);
}

static void bodies(void **state)
{
    char **u, **h, err[128];
    unsigned nu, nh;
    char ok[160];

    snprintf(ok, sizeof(ok), "{\"uids\":[\"a\",\"b\"],\"hashes\":[\"%064d\"],\"paths\":{}}", 0);
    memset(strstr(ok, "0000"), 'A', 1);
    (void)state;
    assert_int_equal(kz_mission_contents_parse(ok, strlen(ok), &u, &nu, &h, &nh, err, sizeof(err)),
                     KZ_OK);
    assert_int_equal(nu, 2);
    assert_int_equal(nh, 1);
    assert_int_equal(h[0][0], 'a'); /* lowercased */
    kz_strv_free(u, nu);
    kz_strv_free(h, nh);
    assert_int_equal(
        kz_mission_contents_parse("{\"hashes\":[\"x\"]}", 16, &u, &nu, &h, &nh, err, sizeof(err)),
        KZ_ERR_PARSE);
    assert_int_equal(kz_mission_contents_parse("[1]", 3, &u, &nu, &h, &nh, err, sizeof(err)),
                     KZ_ERR_PARSE);
    struct kz_mission_log l;
    char **names;
    unsigned nn;
    static const char log[] = "{\"content\":\"hi\",\"creatorUid\":\"A\",\"missionNames\":[\"m\"],"
                              "\"dtg\":\"2026-01-01T00:00:00Z\",\"keywords\":[\"k\"]}";
    assert_int_equal(kz_mission_log_parse(log, strlen(log), &l, &names, &nn, err, sizeof(err)),
                     KZ_OK);
    assert_string_equal(l.content, "hi");
    assert_int_equal(nn, 1);
    kz_mission_log_clear(&l);
    kz_strv_free(names, nn);
    assert_int_equal(
        kz_mission_log_parse("{\"content\":\"hi\"}", 16, &l, &names, &nn, err, sizeof(err)),
        KZ_ERR_PARSE);
}

static void documents_round_trip(void **state)
{
    struct kz_mission_book *b = kz_mission_book_new();
    struct kz_mission *m = mission(b, "alpha"), *back;
    struct kz_label nf = label("SECRET//NOFORN");
    struct kz_mission_change c;

    (void)state;
    kz_mission_add_item(b, m, "us-only", false, "A", "SECRET//NOFORN", &nf, NOW + 1);
    kz_mission_subscribe(m, "ANDROID-1", "alice", KZ_MROLE_OWNER, "tok", NOW, NULL);
    char *doc = kz_mission_doc(m);
    assert_int_equal(kz_mission_from_doc(doc, &P, &back), KZ_OK);
    assert_string_equal(back->guid, m->guid);
    assert_int_equal(back->n_items, 1);
    assert_false(kz_mission_item_visible(&back->items[0].label, &JP));
    assert_true(kz_mission_item_visible(&back->items[0].label, &US));
    assert_int_equal(back->subs[0].role, KZ_MROLE_OWNER);
    char *cdoc = kz_mission_change_doc(&m->changes[1]);
    assert_int_equal(kz_mission_change_from_doc(cdoc, &P, &c), KZ_OK);
    assert_int_equal(c.type, KZ_MCHANGE_ADD_CONTENT);
    assert_string_equal(c.content, "us-only");
    assert_false(kz_mission_item_visible(&c.label, &JP));
    kz_mission_change_clear(&c);
    free(doc);
    free(cdoc);
    kz_mission_free(back);
    kz_mission_book_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roles_and_permissions),
        cmocka_unit_test(role_per_request),
        cmocka_unit_test(plan_mission_read_only),
        cmocka_unit_test(guid_and_names),
        cmocka_unit_test(changes_and_squash),
        cmocka_unit_test(labels_filter_every_view),
        cmocka_unit_test(json_shapes),
        cmocka_unit_test(bodies),
        cmocka_unit_test(documents_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
