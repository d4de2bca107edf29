/*
 * Unit tests for the mission tables (src/store/missions.c): a mission's
 * document and its changes commit together and are acknowledged after
 * COMMIT, an update replaces the document, a refused change leaves nothing
 * behind, a deletion takes the changes with it, and startup reads it all
 * back in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "store_fixture.h"

static void put(struct fx *fx, struct store_acks *a, const char *guid, const char *name,
                const char *doc, int64_t first_id, size_t n)
{
    int64_t ids[4];
    const char *docs[4] = {"{\"c\":1}", "{\"c\":2}", "{\"c\":3}", "{\"c\":4}"};
    struct kz_store_mission w = {guid, name, doc, ids, docs, n, 0, 0};
    size_t want = a->n + 1;

    for (size_t i = 0; i < n; i++)
        ids[i] = first_id + (int64_t)i;
    kz_store_mission_write(fx->st, &w, store_on_ack, a);
    assert_int_equal(a->n, want - 1); /* never from inside the call */
    assert_int_equal(run_until(fx, &a->n, want, 5000), want);
}

static void test_write_update_delete(void **state)
{
    struct fx *fx = *state;
    struct store_acks a = {0};

    open_store(fx, 50, 0, 0);
    put(fx, &a, "g1", "alpha", "{\"v\":1}", 1, 2);
    assert_int_equal(a.last, KZ_OK);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM missions"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM mission_changes"), 2);
    put(fx, &a, "g1", "alpha", "{\"v\":2}", 3, 1);
    assert_int_equal(a.last, KZ_OK);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM missions WHERE doc = '{\"v\":2}'"), 1);
    /* A duplicate change id: refused, and the document stays as it was. */
    put(fx, &a, "g1", "alpha", "{\"v\":3}", 3, 1);
    assert_int_equal(a.last, KZ_ERR_DB);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM missions WHERE doc = '{\"v\":2}'"), 1);
    put(fx, &a, "g2", "bravo", "{\"v\":1}", 10, 1);
    put(fx, &a, "g1", NULL, NULL, 0, 0);
    assert_int_equal(a.last, KZ_OK);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM missions"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM mission_changes"), 1);
    /* A missing name with a document: refused before the store thread. */
    put(fx, &a, "g3", NULL, "{}", 20, 0);
    assert_int_equal(a.last, KZ_ERR_INVAL);
}

struct loaded {
    unsigned missions, changes;
    char last_change[32];
};

static void on_mission(void *ud, const char *guid, const char *doc)
{
    struct loaded *l = ud;

    (void)doc;
    assert_string_equal(guid, "g2");
    l->missions++;
}

static void on_change(void *ud, const char *guid, const char *doc)
{
    struct loaded *l = ud;

    assert_string_equal(guid, "g2");
    snprintf(l->last_change, sizeof(l->last_change), "%s", doc);
    l->changes++;
}

static void test_load(void **state)
{
    struct fx *fx = *state;
    struct store_acks a = {0};
    struct loaded l = {0};

    open_store(fx, 5, 0, 0);
    put(fx, &a, "g2", "bravo", "{\"v\":1}", 10, 3);
    close_store(fx);
    open_store(fx, 5, 0, 0);
    assert_int_equal(kz_store_missions_load(fx->st, on_mission, on_change, &l), KZ_OK);
    assert_int_equal(l.missions, 1);
    assert_int_equal(l.changes, 3);
    assert_string_equal(l.last_change, "{\"c\":3}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_update_delete, store_fx_setup,
                                        store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_load, store_fx_setup, store_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
