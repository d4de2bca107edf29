/*
 * pg.c - the PostgreSQL connection: connect, set the session up, run
 * statements and report their failures.  The write path is pg_batch.c, the
 * schema pg_migrate.c, each table's SQL its pg_*.c file.
 *
 * The DSN may hold a password: log lines name the server by host, port,
 * database and user only (pg->where), never by the DSN.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

#define BYTES_EVERY_US (1000 * 1000)

char *kz__pg_describe(const char *dsn)
{
    static const char *const shown[] = {"host", "hostaddr", "port", "dbname", "user"};
    PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
    struct kz_sbuf sb = KZ_SBUF_INIT;

    if (!opts)
        return kz_xstrdup("(not a valid connection string)");
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        for (size_t i = 0; i < KZ_ARRAY_LEN(shown); i++)
            if (o->val && o->val[0] && strcmp(o->keyword, shown[i]) == 0)
                kz_sbuf_addf(&sb, "%s%s=%s", sb.len ? " " : "", o->keyword, o->val);
    }
    PQconninfoFree(opts);
    return sb.len ? kz_sbuf_detach(&sb, NULL) : kz_xstrdup("(defaults)");
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    kz_log(KZ_LOG_DEBUG, "store: postgres notice", "msg=\"%.*s\"", (int)strcspn(message, "\n"),
           message);
}

int kz__pg_fail(struct kz__pg *pg, const char *what, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *m = r ? PQresultErrorMessage(r) : "";
    char msg[512];

    if (!m[0])
        m = PQerrorMessage(pg->conn);
    kz_log(KZ_LOG_ERROR, "store: postgres failed", "call=%s db=\"%s\" sqlstate=%s err=%s", what,
           pg->where, state ? state : "-", kz_log_quote(msg, sizeof(msg), m, strcspn(m, "\n")));
    return KZ_ERR_DB;
}

bool kz__pg_refused(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return state && strncmp(state, "23", 2) == 0;
}

bool kz__pg_ok(const PGresult *r)
{
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

int kz__pg_exec(struct kz__pg *pg, const char *sql)
{
    PGresult *r = PQexec(pg->conn, sql);
    int err = kz__pg_ok(r) ? KZ_OK : kz__pg_fail(pg, sql, r);

    PQclear(r);
    return err;
}

PGresult *kz__pg_query(struct kz__pg *pg, const char *sql, int n, const char *const *values)
{
    return PQexecParams(pg->conn, sql, n, NULL, values, NULL, NULL, 0);
}

PGresult *kz__pg_prepared(struct kz__pg *pg, const char *name, int n, const char *const *values)
{
    return PQexecPrepared(pg->conn, name, n, values, NULL, NULL, 0);
}

const char *kz__pg_i64(char buf[KZ__PG_NUM], int64_t v)
{
    snprintf(buf, KZ__PG_NUM, "%" PRId64, v);
    return buf;
}

const char *kz__pg_f64(char buf[KZ__PG_NUM], double v)
{
    snprintf(buf, KZ__PG_NUM, "%.17g", v);
    return buf;
}

int64_t kz__pg_int(const PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? 0 : strtoll(PQgetvalue(r, i, c), NULL, 10);
}

const char *kz__pg_text(const PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
}

/*
 * synchronous_commit on: COMMIT returns once the WAL is flushed, whatever
 * the server's default, so an acknowledged event survives a kill -9 of
 * kizuna and of PostgreSQL.  Times are integers (µs), so the zone is moot.
 */
static int session(struct kz__pg *pg)
{
    PQsetNoticeProcessor(pg->conn, quiet, NULL);
    return kz__pg_exec(pg, "SET synchronous_commit = on; SET client_min_messages = warning");
}

/*
 * A connect (and PQreset's reconnect) gives up after CONNECT_TIMEOUT_S unless the DSN says
 * otherwise: the store thread must not hang on an unreachable server while writes queue.
 * The DSN's own keys come after the defaults and win.
 */
#define CONNECT_TIMEOUT_S "10"

static int connect_to(struct kz__pg *pg, const char *dsn)
{
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const values[] = {CONNECT_TIMEOUT_S, "kizuna", dsn, NULL};

    pg->conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(pg->conn) != CONNECTION_OK)
        return kz__pg_fail(pg, "connect", NULL);
    return session(pg);
}

int kz__pg_open(struct kz__db *db, const char *dsn, const char *node_id)
{
    struct kz__pg *pg = kz_xcalloc(1, sizeof(*pg));
    int err;

    memset(db, 0, sizeof(*db));
    db->pg = pg;
    pg->where = kz__pg_describe(dsn);
    pg->node_id = kz_xstrdup(node_id ? node_id : "");
    if ((err = connect_to(pg, dsn)) == KZ_OK && (err = kz__pg_migrate(pg)) == KZ_OK) {
        kz_log(KZ_LOG_INFO, "store: postgres connected", "db=\"%s\" server_version=%d", pg->where,
               PQserverVersion(pg->conn));
        return KZ_OK;
    }
    kz_log(KZ_LOG_ERROR, "store: cannot open postgres", "db=\"%s\"", pg->where);
    kz__pg_close(db);
    return err;
}

void kz__pg_close(struct kz__db *db)
{
    struct kz__pg *pg = db->pg;

    if (!pg)
        return;
    PQfinish(pg->conn);
    free(pg->where);
    free(pg->node_id);
    free(pg);
    db->pg = NULL;
}

void kz__pg_revive(struct kz__pg *pg)
{
    if (PQstatus(pg->conn) == CONNECTION_OK)
        return;
    kz_log(KZ_LOG_WARN, "store: postgres connection lost, reconnecting", "db=\"%s\"", pg->where);
    PQreset(pg->conn);
    memset(pg->prepared_rows, 0, sizeof(pg->prepared_rows)); /* a new session has none */
    if (PQstatus(pg->conn) == CONNECTION_OK)
        session(pg);
}

int64_t kz__pg_db_bytes(struct kz__db *db)
{
    struct kz__pg *pg = db->pg;
    int64_t now = kz_mono_us();
    PGresult *r;

    if (pg->bytes_us && now - pg->bytes_us < BYTES_EVERY_US)
        return pg->bytes;
    r = PQexec(pg->conn, "SELECT pg_database_size(current_database())");
    pg->bytes = kz__pg_ok(r) && PQntuples(r) == 1 ? kz__pg_int(r, 0, 0) : -1;
    pg->bytes_us = now;
    PQclear(r);
    return pg->bytes;
}

/* ---- multi-row statements ------------------------------------------------------ */

/* s->row with its $1..$cols renumbered from base + 1. */
static void add_row(struct kz_sbuf *sb, const char *row, int base)
{
    for (const char *p = row; *p;) {
        if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            char *end;
            long k = strtol(p + 1, &end, 10);
            kz_sbuf_addf(sb, "$%ld", k + base);
            p = end;
        } else {
            kz_sbuf_add(sb, p++, 1);
        }
    }
}

PGresult *kz__pg_rows_exec(struct kz__pg *pg, const struct kz__pg_rows *s, size_t n,
                           const char *const *values)
{
    size_t k = 0;
    char name[64];

    while (((size_t)1 << k) < n)
        k++;
    KZ_ASSERT(((size_t)1 << k) == n && n <= KZ__PG_ROWS_MAX &&
              s->id < KZ_ARRAY_LEN(pg->prepared_rows));
    snprintf(name, sizeof(name), "%s_%zu", s->name, n);
    if (!(pg->prepared_rows[s->id] & (1u << k))) {
        struct kz_sbuf sql = KZ_SBUF_INIT;
        PGresult *r;

        kz_sbuf_adds(&sql, s->head);
        for (size_t i = 0; i < n; i++) {
            if (i)
                kz_sbuf_adds(&sql, ",");
            add_row(&sql, s->row, (int)i * s->cols);
        }
        kz_sbuf_adds(&sql, s->tail);
        r = PQprepare(pg->conn, name, sql.buf, (int)n * s->cols, NULL);
        kz_sbuf_release(&sql);
        if (!kz__pg_ok(r))
            return r;
        PQclear(r);
        pg->prepared_rows[s->id] |= 1u << k;
    }
    return kz__pg_prepared(pg, name, (int)n * s->cols, values);
}

size_t kz__pg_chunk(size_t n)
{
    size_t c = KZ__PG_ROWS_MAX;

    while (c > n)
        c /= 2;
    return c;
}

int kz__pg_run(struct kz__pg *pg, const char *what, const char *sql, int n,
               const char *const *values)
{
    PGresult *r = kz__pg_query(pg, sql, n, values);
    int err = KZ_OK;

    if (!kz__pg_ok(r)) {
        err = kz__pg_refused(r) ? KZ_ERR_EXISTS : KZ_ERR_DB;
        kz__pg_fail(pg, what, r);
    }
    PQclear(r);
    return err;
}
