/*
 * pg_audit.c - the audit log and plans on PostgreSQL: the rows audit.c and
 * plans.c read and write on SQLite.  The chain itself (MACs, audit.key,
 * audit.head, the verify walk) stays in audit.c, the same for both
 * backends; these calls only move rows.  Writes run in the batch's
 * transaction, under the savepoint pg_batch.c gives the audit job, so a
 * plan and its record commit together or not at all.
 */
#include <stdio.h>

#include "store/pg.h"

/* One row of sql with n parameters; *r NULL (and KZ_OK) when there is none. */
static int one_row(struct kz__pg *pg, const char *sql, int n, const char *const *v, PGresult **out)
{
    PGresult *r = kz__pg_query(pg, sql, n, v);

    if (!kz__pg_ok(r)) {
        kz__pg_fail(pg, "SELECT FROM audit", r);
        PQclear(r);
        return KZ_ERR_DB;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        r = NULL;
    }
    *out = r;
    return KZ_OK;
}

/*
 * The chain's end, read under a lock every writer of this database takes until its transaction
 * ends: instances of a cluster sharing the database append one after another, each linking to
 * the record the previous one committed (not two records on one end).
 */
int kz__pg_audit_last(struct kz__db *db, int64_t *id, char *hash, size_t len)
{
    PGresult *r;
    int err =
        one_row(db->pg, "SELECT pg_advisory_xact_lock(hashtext('kizuna.audit'))", 0, NULL, &r);

    PQclear(r);
    if (err != KZ_OK)
        return err;
    err = one_row(db->pg, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", 0, NULL, &r);

    if (err == KZ_OK && r) {
        *id = kz__pg_int(r, 0, 0);
        snprintf(hash, len, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return err;
}

int kz__pg_audit_hash_at(struct kz__db *db, int64_t id, char *hash, size_t len)
{
    char n[KZ__PG_NUM];
    const char *v[1] = {kz__pg_i64(n, id)};
    PGresult *r;
    int err = one_row(db->pg, "SELECT hash FROM audit WHERE id = $1", 1, v, &r);

    hash[0] = '\0';
    if (err == KZ_OK && r)
        snprintf(hash, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return err;
}

int kz__pg_audit_count(struct kz__db *db, int64_t *count)
{
    PGresult *r;
    int err = one_row(db->pg, "SELECT count(*) FROM audit", 0, NULL, &r);

    *count = err == KZ_OK && r ? kz__pg_int(r, 0, 0) : 0;
    PQclear(r);
    return err;
}

int kz__pg_audit_insert(struct kz__db *db, const struct kz__audit_row *a)
{
    static const char sql[] = "INSERT INTO audit(id, time, actor, action, object, detail,"
                              " prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    char id[KZ__PG_NUM], t[KZ__PG_NUM];
    const char *v[8] = {kz__pg_i64(id, a->id),
                        kz__pg_i64(t, a->time),
                        a->actor,
                        a->action,
                        a->object,
                        a->detail,
                        a->prev_hash,
                        a->hash};

    return kz__pg_run(db->pg, "INSERT INTO audit", sql, 8, v);
}

int kz__pg_audit_last_detail(struct kz__db *db, const char *action, const char *object,
                             char **detail)
{
    const char *v[2] = {action, object};
    PGresult *r;
    int err = one_row(db->pg,
                      "SELECT detail FROM audit WHERE action = $1 AND object = $2"
                      " ORDER BY id DESC LIMIT 1",
                      2, v, &r);

    if (err == KZ_OK && !r)
        err = KZ_ERR_NOTFOUND;
    else if (err == KZ_OK)
        *detail = kz_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return err;
}

int kz__pg_audit_each(struct kz__db *db, const char *object,
                      bool (*fn)(void *ud, const struct kz__audit_row *r), void *ud)
{
    static const char all[] = "SELECT id, time, actor, action, object, detail, prev_hash, hash"
                              " FROM audit ORDER BY id";
    static const char of[] = "SELECT id, time, actor, action, object, detail, prev_hash, hash"
                             " FROM audit WHERE object = $1 ORDER BY id";
    PGresult *r = object ? kz__pg_query(db->pg, of, 1, &object) : PQexec(db->pg->conn, all);

    if (!kz__pg_ok(r)) {
        kz__pg_fail(db->pg, "SELECT FROM audit", r);
        PQclear(r);
        return KZ_ERR_DB;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        struct kz__audit_row row = {kz__pg_int(r, i, 0), kz__pg_int(r, i, 1), PQgetvalue(r, i, 2),
                                    PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
                                    PQgetvalue(r, i, 6), PQgetvalue(r, i, 7)};
        if (!fn(ud, &row))
            break;
    }
    PQclear(r);
    return KZ_OK;
}

/* ---- plans ------------------------------------------------------------------------- */

int kz__pg_plan_insert(struct kz__db *db, const struct kz_store_plan *p)
{
    static const char sql[] = "INSERT INTO plans(id, revision, time, doc) VALUES ($1, $2, $3, $4)";
    char rev[KZ__PG_NUM], t[KZ__PG_NUM];
    const char *v[4] = {p->id, kz__pg_i64(rev, p->revision), kz__pg_i64(t, p->time_us), p->doc};

    return kz__pg_run(db->pg, "INSERT INTO plans", sql, 4, v);
}

int kz__pg_plans_load(struct kz__db *db, kz_store_plan_fn fn, void *ud)
{
    /* By id in strcmp order, as on SQLite. */
    static const char sql[] = "SELECT DISTINCT ON (id COLLATE \"C\") id, revision, time, doc"
                              " FROM plans ORDER BY id COLLATE \"C\", revision DESC";
    PGresult *r = PQexec(db->pg->conn, sql);

    if (!kz__pg_ok(r)) {
        kz__pg_fail(db->pg, "SELECT FROM plans", r);
        PQclear(r);
        return KZ_ERR_DB;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        struct kz_store_plan p = {PQgetvalue(r, i, 0), kz__pg_int(r, i, 1), kz__pg_int(r, i, 2),
                                  PQgetvalue(r, i, 3)};
        fn(ud, &p);
    }
    PQclear(r);
    return KZ_OK;
}
