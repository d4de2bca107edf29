/*
 * test_store_plans.c - the plans table: revisions saved with their audit
 * record in one transaction (both or neither), the newest revision per plan
 * loaded back (also after a reopen), a plan's audit trail read by object,
 * and a database from before the table (migration 7) upgraded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store_fixture.h"

/* The migration that added the plans table (store/migrate.c). */
#define PLANS_MIGRATION 7

/* The contents of DIR/audit.head, to see that a refused save left it alone. */
static void read_head(const struct fx *fx, char *buf, size_t len)
{
    char path[128];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/audit.head", fx->dir);
    assert_non_null(f = fopen(path, "r"));
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static int save(struct fx *fx, const char *id, int64_t rev, const char *doc, const char *action)
{
    char object[64];
    struct kz_store_plan p = {id, rev, 1000 + rev, doc};
    struct kz_store_audit_rec a = {"planner-us", action, object, "rev"};

    snprintf(object, sizeof(object), "plan:%s", id);
    return kz_store_plan_save(fx->st, &p, &a);
}

/* ---- what the callbacks saw ------------------------------------------- */

struct plans_seen {
    size_t n;
    char id[8][16], doc[8][64];
    int64_t rev[8], time[8];
};

static void on_plan(void *ud, const struct kz_store_plan *p)
{
    struct plans_seen *s = ud;

    assert_true(s->n < 8);
    snprintf(s->id[s->n], sizeof(s->id[0]), "%s", p->id);
    snprintf(s->doc[s->n], sizeof(s->doc[0]), "%s", p->doc);
    s->rev[s->n] = p->revision;
    s->time[s->n] = p->time_us;
    s->n++;
}

struct records_seen {
    size_t n;
    int64_t id[16];
    char object[16][16], action[16][16];
};

static void on_record(void *ud, int64_t id, int64_t time, const char *actor, const char *action,
                      const char *object, const char *detail)
{
    struct records_seen *r = ud;

    (void)time, (void)actor, (void)detail;
    assert_true(r->n < 16);
    r->id[r->n] = id;
    snprintf(r->object[r->n], sizeof(r->object[0]), "%s", object);
    snprintf(r->action[r->n], sizeof(r->action[0]), "%s", action);
    r->n++;
}

static uint64_t records(struct fx *fx)
{
    struct records_seen r = {0};

    assert_int_equal(kz_store_audit_list(fx->st, on_record, &r), KZ_OK);
    return r.n;
}

/* The chain verifies, anchored, with `n` records. */
static void assert_chain(struct fx *fx, uint64_t n)
{
    struct kz_store_audit_check c;

    assert_int_equal(kz_store_audit_verify(fx->st, &c), KZ_OK);
    assert_true(c.anchored);
    assert_int_equal(c.records, n);
}

static void assert_loaded(struct fx *fx)
{
    struct plans_seen s = {0};

    assert_int_equal(kz_store_plans_load(fx->st, on_plan, &s), KZ_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.id[0], "A");
    assert_int_equal(s.rev[0], 3);
    assert_int_equal(s.time[0], 1003);
    assert_string_equal(s.doc[0], "{\"rev\":\"A3\"}");
    assert_string_equal(s.id[1], "B");
    assert_int_equal(s.rev[1], 2);
    assert_string_equal(s.doc[1], "{\"rev\":\"B2\"}");
}

/* A then B, saved interleaved: A 1..3, B 1..2; one audit record each after `base` ones. */
static void save_five(struct fx *fx, uint64_t base)
{
    static const struct {
        const char *id;
        int64_t rev;
        const char *doc;
    } saves[] = {{"B", 1, "{\"rev\":\"B1\"}"},
                 {"A", 1, "{\"rev\":\"A1\"}"},
                 {"A", 2, "{\"rev\":\"A2\"}"},
                 {"B", 2, "{\"rev\":\"B2\"}"},
                 {"A", 3, "{\"rev\":\"A3\"}"}};

    for (size_t i = 0; i < KZ_ARRAY_LEN(saves); i++) {
        assert_int_equal(save(fx, saves[i].id, saves[i].rev, saves[i].doc, "edit"), KZ_OK);
        assert_int_equal(records(fx), base + i + 1);
        assert_chain(fx, base + i + 1);
    }
}

/* ---- tests ------------------------------------------------------------ */

/* The newest revision of each plan, by id; each save added one verifying record. */
static void test_save_load(void **state)
{
    struct fx *fx = *state;

    open_store(fx, 5, 0, 0);
    save_five(fx, 0);
    assert_loaded(fx);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM plans"), 5);
}

/* A stored (id, revision) is refused whole: no row, no record, audit.head as it was. */
static void test_duplicate(void **state)
{
    struct fx *fx = *state;
    char before[512], after[512];
    struct plans_seen s = {0};

    open_store(fx, 5, 0, 0);
    assert_int_equal(save(fx, "A", 1, "{\"first\":true}", "create"), KZ_OK);
    read_head(fx, before, sizeof(before));
    assert_int_equal(save(fx, "A", 1, "{\"second\":true}", "edit"), KZ_ERR_EXISTS);
    read_head(fx, after, sizeof(after));
    assert_string_equal(before, after);
    assert_int_equal(records(fx), 1);
    assert_chain(fx, 1);
    assert_int_equal(kz_store_plans_load(fx->st, on_plan, &s), KZ_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.doc[0], "{\"first\":true}");

    /* The chain goes on from where it was. */
    assert_int_equal(save(fx, "A", 2, "{\"second\":true}", "edit"), KZ_OK);
    assert_chain(fx, 2);
}

/* A record the schema refuses takes its change with it: no plan without its record. */
static void test_record_refused(void **state)
{
    struct fx *fx = *state;
    struct plans_seen s = {0};

    open_store(fx, 5, 0, 0);
    assert_int_equal(save(fx, "A", 1, "{}", "create"), KZ_OK);
    close_store(fx);
    if (store_is_pg(fx->path))
        sql_exec(fx->path, "CREATE FUNCTION no_b() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                           " IF NEW.object = 'plan:B' THEN RAISE EXCEPTION 'refused'; END IF;"
                           " RETURN NEW; END $$;"
                           "CREATE TRIGGER no_b BEFORE INSERT ON audit FOR EACH ROW"
                           " EXECUTE FUNCTION no_b()");
    else
        sql_exec(fx->path, "CREATE TRIGGER no_b BEFORE INSERT ON audit WHEN NEW.object = 'plan:B'"
                           " BEGIN SELECT RAISE(ABORT, 'refused'); END;");
    open_store(fx, 5, 0, 0);
    assert_int_equal(save(fx, "B", 1, "{}", "create"), KZ_ERR_DB);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM plans WHERE id = 'B'"), 0);
    assert_int_equal(kz_store_plans_load(fx->st, on_plan, &s), KZ_OK);
    assert_int_equal(s.n, 1);
    assert_chain(fx, 1);
    assert_int_equal(save(fx, "A", 2, "{}", "edit"), KZ_OK);
    assert_chain(fx, 2);
}

static void test_invalid(void **state)
{
    struct fx *fx = *state;
    struct kz_store_plan p = {"A", 1, 1000, "{}"};
    struct kz_store_audit_rec a = {"planner-us", "create", "plan:A", "rev"};

    open_store(fx, 5, 0, 0);
    p.revision = 0;
    assert_int_equal(kz_store_plan_save(fx->st, &p, &a), KZ_ERR_INVAL);
    p.revision = 1;
    p.doc = NULL;
    assert_int_equal(kz_store_plan_save(fx->st, &p, &a), KZ_ERR_INVAL);
    p.doc = "{}";
    a.detail = NULL;
    assert_int_equal(kz_store_plan_save(fx->st, &p, &a), KZ_ERR_INVAL);
    assert_int_equal(kz_store_audit_list_object(fx->st, NULL, on_record, NULL), KZ_ERR_INVAL);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM plans"), 0);
    assert_int_equal(records(fx), 0);
}

/* Only the object's records, oldest first, among other objects' records. */
static void test_list_object(void **state)
{
    struct fx *fx = *state;
    struct records_seen r = {0};

    open_store(fx, 5, 0, 0);
    assert_int_equal(kz_store_audit(fx->st, "admin", "config", "labels", "policy=US"), KZ_OK);
    save_five(fx, 1);
    assert_int_equal(kz_store_audit(fx->st, "admin", "approve", "plan:AA", "x"), KZ_OK);
    assert_int_equal(save(fx, "A", 4, "{}", "stage"), KZ_OK);
    assert_int_equal(kz_store_audit_list_object(fx->st, "plan:A", on_record, &r), KZ_OK);
    assert_int_equal(r.n, 4);
    for (size_t i = 0; i < r.n; i++) {
        assert_string_equal(r.object[i], "plan:A");
        assert_true(i == 0 || r.id[i] > r.id[i - 1]);
    }
    assert_string_equal(r.action[3], "stage");
    r = (struct records_seen){0};
    assert_int_equal(kz_store_audit_list_object(fx->st, "plan:none", on_record, &r), KZ_OK);
    assert_int_equal(r.n, 0);
}

/* A plan's audit trail that was edited or cut short no longer verifies. */
static void test_tampered(void **state)
{
    struct fx *fx = *state;
    struct kz_store_audit_check c;

    open_store(fx, 5, 0, 0);
    save_five(fx, 0);
    close_store(fx);
    sql_exec(fx->path, "UPDATE audit SET detail = 'approved by someone else' WHERE id = 3");
    open_store(fx, 5, 0, 0);
    assert_int_equal(kz_store_audit_verify(fx->st, &c), KZ_ERR_INVAL);
    assert_int_equal(c.bad_id, 3);
    close_store(fx);

    /* Cut the tail, edited record included: what is left verifies record by record,
     * but the anchor in audit.head says the chain was longer. */
    sql_exec(fx->path, "DELETE FROM audit WHERE id > 2; DELETE FROM plans;");
    open_store(fx, 5, 0, 0);
    assert_int_equal(kz_store_audit_verify(fx->st, &c), KZ_ERR_INVAL);
    assert_non_null(c.problem);
}

/* The plans and their chain survive a restart. */
static void test_reopen(void **state)
{
    struct fx *fx = *state;

    open_store(fx, 5, 0, 0);
    save_five(fx, 0);
    close_store(fx);
    open_store(fx, 5, 0, 0);
    assert_loaded(fx);
    assert_chain(fx, 5);
    assert_int_equal(save(fx, "A", 3, "{}", "edit"), KZ_ERR_EXISTS);
}

/* A database of schema 6 (before plans) opens, migrates, and keeps its audit chain. */
static void test_migration(void **state)
{
    struct fx *fx = *state;
    struct plans_seen s = {0};
    char sql[1024];
    int64_t version;

    sqlite_only(fx); /* SQLite's migrations */
    open_store(fx, 5, 0, 0);
    assert_int_equal(kz_store_audit(fx->st, "admin", "config", "labels", "policy=US"), KZ_OK);
    close_store(fx);
    version = sql_int(fx->path, "PRAGMA user_version");
    assert_true(version >= PLANS_MIGRATION);
    /* Undo this migration and the later ones (9: federation, 10: files; 8 runs again on the
     * table as it is). */
    snprintf(sql, sizeof(sql),
             UNDO_MIGRATIONS_9_ON
             "DROP TABLE plans; DROP INDEX audit_object; PRAGMA user_version=%d;",
             PLANS_MIGRATION - 1);
    sql_exec(fx->path, sql);

    open_store(fx, 5, 0, 0);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), version);
    assert_int_equal(
        sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE name = 'audit_object'"), 1);
    assert_int_equal(kz_store_plans_load(fx->st, on_plan, &s), KZ_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(save(fx, "A", 1, "{}", "create"), KZ_OK);
    assert_chain(fx, 2);
}

static int setup(void **state)
{
    kz_log_min = KZ_LOG_ERROR + 1; /* refusals log errors */
    return store_fx_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_load, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_record_refused, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_list_object, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_tampered, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, store_fx_teardown),
        cmocka_unit_test_setup_teardown(test_migration, setup, store_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
