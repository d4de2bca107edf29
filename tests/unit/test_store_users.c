/*
 * Unit tests for the users and certs tables (store/users.c): add, find,
 * list, delete, passwords, certificates, sharing the file with a running
 * store, and (PostgreSQL) the notices of writes to users.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/store.h"
#include "store_fixture.h"

static int setup(void **state)
{
    kz_log_min = KZ_LOG_ERROR;
    return store_fx_setup(state);
}

static int teardown(void **state)
{
    return store_fx_teardown(state);
}

static struct kz_store_users *open_users(struct fx *fx)
{
    struct kz_store_users *u = NULL;
    char err[256];

    assert_int_equal(kz_store_users_open(fx->path, true, &u, err, sizeof(err)), KZ_OK);
    assert_non_null(u);
    return u;
}

/* What a callback saw, copied. */
struct seen {
    unsigned n;
    char user[8][32], groups_in[64], hash[64], command[32];
    bool has_hash, has_command;
};

static void remember(void *ud, const struct kz_store_user *r)
{
    struct seen *s = ud;

    if (s->n < 8)
        snprintf(s->user[s->n], sizeof(s->user[0]), "%s", r->user);
    s->n++;
    snprintf(s->groups_in, sizeof(s->groups_in), "%s", r->groups_in);
    s->has_hash = r->password_hash != NULL;
    snprintf(s->hash, sizeof(s->hash), "%s", r->password_hash ? r->password_hash : "");
    s->has_command = r->command != NULL;
    snprintf(s->command, sizeof(s->command), "%s", r->command ? r->command : "");
}

static void put(struct kz_store_users *u, const char *user, const char *groups, const char *hash)
{
    struct kz_store_user r = {.user = user,
                              .nation = "USA",
                              .clearance = "SECRET",
                              .groups_in = groups,
                              .groups_out = groups,
                              .roles = NULL,
                              .password_hash = hash};
    char err[256];

    assert_int_equal(kz_store_user_put(u, &r, err, sizeof(err)), KZ_OK);
}

static void test_add_find_delete(void **state)
{
    struct fx *fx = *state;
    struct kz_store_users *u = open_users(fx);
    struct seen s = {0};
    char err[256];

    put(u, "bob", "Cyan,Red", "hash-1");
    put(u, "alice", "", NULL);
    assert_int_equal(kz_store_user_get(u, "bob", remember, &s, err, sizeof(err)), KZ_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.groups_in, "Cyan,Red");
    assert_string_equal(s.hash, "hash-1");
    assert_false(s.has_command);

    /* Replacing keeps the hash when none is given. */
    put(u, "bob", "Cyan", NULL);
    s = (struct seen){0};
    assert_int_equal(kz_store_user_get(u, "bob", remember, &s, err, sizeof(err)), KZ_OK);
    assert_string_equal(s.groups_in, "Cyan");
    assert_string_equal(s.hash, "hash-1");

    s = (struct seen){0};
    assert_int_equal(kz_store_users_each(u, remember, &s, err, sizeof(err)), KZ_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.user[0], "alice"); /* by name */
    assert_string_equal(s.user[1], "bob");

    assert_int_equal(kz_store_user_del(u, "bob", err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_store_user_del(u, "bob", err, sizeof(err)), KZ_ERR_NOTFOUND);
    assert_string_equal(err, "no user 'bob'");
    s = (struct seen){0};
    assert_int_equal(kz_store_user_get(u, "bob", remember, &s, err, sizeof(err)), KZ_ERR_NOTFOUND);
    assert_int_equal(s.n, 0);
    kz_store_users_close(u);
}

static void test_password(void **state)
{
    struct fx *fx = *state;
    struct kz_store_users *u = open_users(fx);
    struct seen s = {0};
    char err[256];

    put(u, "carol", "", NULL);
    assert_int_equal(kz_store_user_get(u, "carol", remember, &s, err, sizeof(err)), KZ_OK);
    assert_false(s.has_hash);
    assert_int_equal(kz_store_user_set_password(u, "carol", "hash-2", err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_store_user_get(u, "carol", remember, &s, err, sizeof(err)), KZ_OK);
    assert_string_equal(s.hash, "hash-2");
    assert_int_equal(kz_store_user_set_password(u, "nobody", "h", err, sizeof(err)),
                     KZ_ERR_NOTFOUND);
    kz_store_users_close(u);
}

struct revoked {
    unsigned n;
    char serial[4][16];
};

static void on_revoked(void *ud, const char *serial, int64_t revoked_us)
{
    struct revoked *r = ud;

    assert_true(revoked_us > 0);
    if (r->n < 4)
        snprintf(r->serial[r->n], sizeof(r->serial[0]), "%s", serial);
    r->n++;
}

static void test_certs(void **state)
{
    struct fx *fx = *state;
    struct kz_store_users *u = open_users(fx);
    struct revoked r = {0};
    unsigned n = 0;
    char err[256];

    assert_int_equal(kz_store_cert_add(u, "dave", "0A", 1, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_store_cert_add(u, "dave", "0B", 2, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_store_cert_add(u, "erin", "0C", 3, err, sizeof(err)), KZ_OK);
    assert_int_equal(kz_store_cert_add(u, "erin", "0C", 3, err, sizeof(err)), KZ_ERR_DB);
    assert_int_equal(kz_store_certs_each_revoked(u, on_revoked, &r, err, sizeof(err)), KZ_OK);
    assert_int_equal(r.n, 0);

    assert_int_equal(kz_store_certs_revoke(u, "dave", &n, err, sizeof(err)), KZ_OK);
    assert_int_equal(n, 2);
    assert_int_equal(kz_store_certs_revoke(u, "dave", &n, err, sizeof(err)), KZ_ERR_NOTFOUND);
    assert_int_equal(n, 0);
    assert_int_equal(kz_store_certs_each_revoked(u, on_revoked, &r, err, sizeof(err)), KZ_OK);
    assert_int_equal(r.n, 2);
    assert_true(strcmp(r.serial[0], "0C") != 0 && strcmp(r.serial[1], "0C") != 0);
    kz_store_users_close(u);
}

/* A worker's open does not create the file; the CLI's does, with the schema. */
static void test_open(void **state)
{
    struct fx *fx = *state;
    struct kz_store_users *u = NULL;
    char err[256];

    sqlite_only(fx); /* a file to create or not; PostgreSQL's database is there */
    assert_int_not_equal(kz_store_users_open(fx->path, false, &u, err, sizeof(err)), KZ_OK);
    assert_null(u);
    assert_non_null(strstr(err, fx->path));
    u = open_users(fx);
    kz_store_users_close(u);
    assert_int_equal(kz_store_users_open(fx->path, false, &u, err, sizeof(err)), KZ_OK);
    kz_store_users_close(u);
    kz_store_users_close(NULL);
}

static void on_ack(void *ud, int status)
{
    size_t *n = ud;

    assert_int_equal(status, KZ_OK);
    (*n)++;
}

/* The store thread and a users connection share the file. */
static void test_beside_a_running_store(void **state)
{
    struct fx *fx = *state;
    struct kz_store_users *u;
    struct kz_event ev;
    struct seen s = {0};
    size_t acked = 0;
    char err[256];

    open_store(fx, 5, 0, 0);
    u = open_users(fx);
    kz_event_init(&ev);
    ev.uid = "u1";
    ev.type = "a-f-G";
    ev.seq = 1;
    ev.recv_time = ev.time = ev.start = kz_now_us();
    ev.stale = ev.time + 60000000;
    kz_store_append(fx->st, &ev, "<event/>", 8, on_ack, &acked);
    put(u, "frank", "Cyan", NULL);
    assert_int_equal(run_until(fx, &acked, 1, 5000), 1);
    assert_int_equal(kz_store_user_get(u, "frank", remember, &s, err, sizeof(err)), KZ_OK);
    kz_store_users_close(u);
}

static void on_users_written(void *ud)
{
    (*(size_t *)ud)++;
}

/* Every write to users is heard by a watch as it commits, whatever the call (PostgreSQL). */
static void test_watch(void **state)
{
    struct fx *fx = *state;
    struct kz_store_users_watch *w = NULL;
    struct kz_store_users *u;
    size_t heard = 0;
    unsigned n = 0;
    char err[256];

    if (!store_is_pg(fx->path)) {
        assert_int_equal(kz_store_users_watch(&fx->loop, fx->path, on_users_written, &heard, &w),
                         KZ_ERR_INVAL);
        assert_null(w);
        return;
    }
    u = open_users(fx);
    assert_int_equal(kz_store_users_watch(&fx->loop, fx->path, on_users_written, &heard, &w),
                     KZ_OK);
    assert_non_null(w);
    /* Once when listening: what committed before it may have been missed. */
    assert_int_equal(run_until(fx, &heard, 1, 10000), 1);
    put(u, "gina", "Cyan", NULL);
    assert_int_equal(run_until(fx, &heard, 2, 5000), 2);
    put(u, "gina", "Red", NULL);
    assert_int_equal(run_until(fx, &heard, 3, 5000), 3);
    assert_int_equal(kz_store_user_set_password(u, "gina", "$argon2id$x", err, sizeof(err)), KZ_OK);
    assert_int_equal(run_until(fx, &heard, 4, 5000), 4);
    assert_int_equal(kz_store_certs_revoke(u, "gina", &n, err, sizeof(err)), KZ_ERR_NOTFOUND);
    assert_int_equal(kz_store_user_del(u, "gina", err, sizeof(err)), KZ_OK);
    assert_int_equal(run_until(fx, &heard, 5, 5000), 5);
    /* The certs table is not the users table: nothing more was heard. */
    assert_int_equal(run_until(fx, NULL, 0, 300), 0);
    assert_int_equal(heard, 5);
    kz_store_users_watch_stop(w);
    uv_run(&fx->loop, UV_RUN_DEFAULT); /* it frees itself once its handles closed */
    kz_store_users_close(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_find_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_beside_a_running_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
