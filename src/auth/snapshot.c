/*
 * snapshot.c - an immutable, refcounted copy of the users table.
 *
 * The server loads it on a worker thread (the database read may block) and
 * swaps it in on the loop; connections keep a reference to the snapshot
 * their identity points into, so a reload never frees an identity in use.
 * The reference count is touched on the loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

struct kz_users {
    unsigned refs;
    struct kz_user *v; /* sorted by user name */
    unsigned n, cap;
};

static void add(void *ud, const struct kz_user *u)
{
    struct kz_users *us = ud;
    struct kz_user *dst;

    if (us->n == us->cap) {
        us->cap = us->cap ? us->cap * 2 : 16;
        us->v = kz_xrealloc(us->v, us->cap * sizeof(*us->v));
    }
    dst = &us->v[us->n++];
    /* Steal nothing: the row is freed by the caller, so copy it. */
    memset(dst, 0, sizeof(*dst));
    dst->id.user = kz_xstrdup(u->id.user);
    dst->id.nation = kz_xstrdup(u->id.nation);
    dst->id.clearance = kz_xstrdup(u->id.clearance);
    dst->id.command = kz_xstrdup(u->id.command);
    dst->id.groups_in = kz_xcalloc(u->id.groups_in_count + 1, sizeof(char *));
    for (unsigned i = 0; i < u->id.groups_in_count; i++)
        dst->id.groups_in[i] = kz_xstrdup(u->id.groups_in[i]);
    dst->id.groups_in_count = u->id.groups_in_count;
    dst->id.groups_out = kz_xcalloc(u->id.groups_out_count + 1, sizeof(char *));
    for (unsigned i = 0; i < u->id.groups_out_count; i++)
        dst->id.groups_out[i] = kz_xstrdup(u->id.groups_out[i]);
    dst->id.groups_out_count = u->id.groups_out_count;
    dst->id.roles = kz_xcalloc(u->id.roles_count + 1, sizeof(char *));
    for (unsigned i = 0; i < u->id.roles_count; i++)
        dst->id.roles[i] = kz_xstrdup(u->id.roles[i]);
    dst->id.roles_count = u->id.roles_count;
}

int kz_users_load(const char *db_path, struct kz_users **out, char *err, size_t errlen)
{
    struct kz_userdb *db = NULL;
    struct kz_users *us;
    int rc = kz_userdb_open(db_path, &db, err, errlen);

    if (rc)
        return rc;
    us = kz_xcalloc(1, sizeof(*us));
    us->refs = 1;
    rc = kz_userdb_each(db, add, us, err, errlen);
    kz_userdb_close(db);
    if (rc) {
        kz_users_unref(us);
        return rc;
    }
    *out = us;
    return KZ_OK;
}

const struct kz_user *kz_users_find(const struct kz_users *us, const char *user)
{
    unsigned lo = 0, hi = us ? us->n : 0;

    /* Rows come sorted by SQLite's binary collation, i.e. strcmp order. */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(us->v[mid].id.user, user);
        if (c == 0)
            return &us->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool str_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool strv_same(char *const *a, unsigned na, char *const *b, unsigned nb)
{
    if (na != nb)
        return false;
    for (unsigned i = 0; i < na; i++)
        if (!str_same(a[i], b[i]))
            return false;
    return true;
}

bool kz_identity_same(const struct kz_identity *a, const struct kz_identity *b)
{
    return str_same(a->user, b->user) && str_same(a->nation, b->nation) &&
           str_same(a->clearance, b->clearance) && str_same(a->command, b->command) &&
           strv_same(a->groups_in, a->groups_in_count, b->groups_in, b->groups_in_count) &&
           strv_same(a->groups_out, a->groups_out_count, b->groups_out, b->groups_out_count) &&
           strv_same(a->roles, a->roles_count, b->roles, b->roles_count);
}

bool kz_users_same(const struct kz_users *a, const struct kz_users *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (!kz_identity_same(&a->v[i].id, &b->v[i].id))
            return false;
    return true;
}

void kz_users_diff(const struct kz_users *a, const struct kz_users *b,
                   void (*fn)(void *ud, const char *user, bool deleted), void *ud)
{
    unsigned i = 0, j = 0, na = a ? a->n : 0, nb = b ? b->n : 0;

    while (i < na) {
        int c = j < nb ? strcmp(a->v[i].id.user, b->v[j].id.user) : -1;
        if (c > 0) {
            j++; /* only b has it */
            continue;
        }
        if (c < 0)
            fn(ud, a->v[i].id.user, true);
        else if (!kz_identity_same(&a->v[i].id, &b->v[j].id))
            fn(ud, a->v[i].id.user, false);
        if (c == 0)
            j++;
        i++;
    }
}

unsigned kz_users_count(const struct kz_users *us)
{
    return us ? us->n : 0;
}

void kz_users_ref(struct kz_users *us)
{
    us->refs++;
}

void kz_users_unref(struct kz_users *us)
{
    if (!us || --us->refs)
        return;
    for (unsigned i = 0; i < us->n; i++)
        kz_user_clear(&us->v[i]);
    free(us->v);
    free(us);
}
