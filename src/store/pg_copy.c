/*
 * pg_copy.c - `kizuna store copy`: every table of a node's SQLite store
 * into PostgreSQL, to move a node onto the shared record.
 *
 * The SQLite file is read in one read transaction (a consistent snapshot,
 * also beside a running server); rows go to PostgreSQL in multi-row INSERTs,
 * CHUNK_ROWS to a transaction, each keyed as in SQLite with ON CONFLICT DO
 * NOTHING: a re-run (after an interruption, or to catch up) copies only
 * what is missing and changes nothing already copied.  Events and tracks
 * get their point from their XML (PostGIS positions), and events the
 * idempotency key (node id, seq) the PostgreSQL backend writes.  Audit
 * records keep their ids and hashes, so the chain still verifies under the
 * node's audit.key.  Then the bytes of every file the store names, from
 * the directory `files` beside the store file (the node's DATA/files), one
 * file to a transaction, each hash once (pg_files.c): a copied node's
 * files are served by every instance of the cluster.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cot/cot.h"
#include "store/pg.h"

/* The first SQLite schema with every column copied here (store_marks, 14). */
#define MIN_SCHEMA 14
#define CHUNK_ROWS 4096
#define POS "ST_SetSRID(ST_MakePoint($%d::float8, $%d::float8, $%d::float8), 4326)::geography"

struct table {
    const char *name;
    const char *select; /* in key order */
    const char *insert; /* "INSERT INTO t(cols) VALUES " */
    int cols;           /* selected columns */
    int extra;          /* parameters after them: 0; tracks 3 (its point); events 5 */
};

static const struct table tables[] = {
    {"events",
     "SELECT seq, uid, type, time, start, stale, recv_time, label, origin_input, origin_user, xml,"
     " origin_nation, origin_groups, fed_provenance, fed_hops, fed_max_hops, fed_seq"
     " FROM events ORDER BY seq",
     "INSERT INTO events(seq, uid, type, time, start, stale, recv_time, label, origin_input,"
     " origin_user, xml, origin_nation, origin_groups, fed_provenance, fed_hops, fed_max_hops,"
     " fed_seq, origin_node, origin_seq, pos) VALUES ",
     17, 5},
    {"tracks",
     "SELECT uid, seq, type, stale, label, origin_input, origin_user, xml, origin_nation,"
     " origin_groups FROM tracks ORDER BY uid",
     "INSERT INTO tracks(uid, seq, type, stale, label, origin_input, origin_user, xml,"
     " origin_nation, origin_groups, pos) VALUES ",
     10, 3},
    {"users",
     "SELECT user, nation, clearance, groups_in, groups_out, roles, command, password_hash,"
     " created, updated FROM users ORDER BY user",
     "INSERT INTO users(\"user\", nation, clearance, groups_in, groups_out, roles, command,"
     " password_hash, created, updated) VALUES ",
     10, 0},
    {"certs", "SELECT serial, user, issued, not_after, revoked FROM certs ORDER BY serial",
     "INSERT INTO certs(serial, \"user\", issued, not_after, revoked) VALUES ", 5, 0},
    {"audit",
     "SELECT id, time, actor, action, object, detail, prev_hash, hash FROM audit ORDER BY id",
     "INSERT INTO audit(id, time, actor, action, object, detail, prev_hash, hash) VALUES ", 8, 0},
    {"readiness",
     "SELECT id, unit, time, recv_time, p, s, r, t, overall, override_reason, remarks, label,"
     " originator, reporter, groups_out, reason_code FROM readiness ORDER BY id",
     "INSERT INTO readiness(id, unit, time, recv_time, p, s, r, t, overall, override_reason,"
     " remarks, label, originator, reporter, groups_out, reason_code) VALUES ",
     16, 0},
    {"plans", "SELECT id, revision, time, doc FROM plans ORDER BY id, revision",
     "INSERT INTO plans(id, revision, time, doc) VALUES ", 4, 0},
    {"files",
     "SELECT uid, hash, name, mime, size, time, submitter, creator_uid, keywords, label,"
     " originator, groups_out, tool FROM files ORDER BY rowid",
     "INSERT INTO files(uid, hash, name, mime, size, time, submitter, creator_uid, keywords,"
     " label, originator, groups_out, tool) VALUES ",
     13, 0},
    {"missions", "SELECT guid, name, doc FROM missions ORDER BY rowid",
     "INSERT INTO missions(guid, name, doc) VALUES ", 3, 0},
    {"mission_changes", "SELECT id, guid, doc FROM mission_changes ORDER BY id",
     "INSERT INTO mission_changes(id, guid, doc) VALUES ", 3, 0},
    {"fed_sent", "SELECT peer, sent, seq FROM fed_sent ORDER BY peer, sent, seq",
     "INSERT INTO fed_sent(peer, sent, seq) VALUES ", 3, 0},
    {"fed_cursor", "SELECT peer, seq FROM fed_cursor ORDER BY peer",
     "INSERT INTO fed_cursor(peer, seq) VALUES ", 2, 0},
};

/* What one copy holds. */
struct copy {
    sqlite3 *lite;
    struct kz__db db; /* the PostgreSQL side */
    struct kz_cot_decoder *dec;
    const char *node_id;
    kz_store_copy_progress_fn progress;
    void *ud;
    char *err;
    size_t errlen;
};

static int fail(struct copy *c, int code, const char *what, const char *why)
{
    snprintf(c->err, c->errlen, "%s: %s", what, why);
    return code;
}

/* "($1,...,$cols" then the table's extra parameters ")". */
static char *row_sql(const struct table *t)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    int n = t->cols;

    kz_sbuf_adds(&sb, "(");
    for (int i = 1; i <= n; i++)
        kz_sbuf_addf(&sb, "%s$%d", i > 1 ? "," : "", i);
    if (t->extra == 5) { /* origin_node, origin_seq = seq, the point */
        kz_sbuf_addf(&sb, ",$%d,$1,", n + 1);
        n += 1;
    } else if (t->extra == 3) {
        kz_sbuf_adds(&sb, ",");
    }
    if (t->extra)
        kz_sbuf_addf(&sb, POS, n + 1, n + 2, n + 3);
    kz_sbuf_adds(&sb, ")");
    return kz_sbuf_detach(&sb, NULL);
}

/* A batch of rows read from SQLite, as PostgreSQL parameters (copies). */
struct rows {
    char **v; /* KZ__PG_ROWS_MAX rows of `width` values */
    int width;
    size_t n;
};

static void rows_clear(struct rows *r)
{
    for (size_t i = 0; i < r->n * (size_t)r->width; i++)
        free(r->v[i]);
    r->n = 0;
}

static char *num(double v)
{
    char buf[KZ__PG_NUM];
    return kz_xstrdup(kz__pg_f64(buf, v));
}

/* The event's point from its XML: lon, lat, hae into v[0..3) (NULL when it has none, as
 * geo.c decides for the store). */
static void point_of(struct copy *c, const char *xml, size_t len, char **v)
{
    struct kz_event ev;
    struct kz__rec r = {0};
    enum kz_reject reason;

    kz_event_init(&ev);
    if (xml && kz_cot_decode(c->dec, xml, len, &ev, &reason, NULL, 0) == KZ_OK) {
        kz__geo_point(&ev, &r);
        if (r.has_point) {
            v[0] = num(ev.lon);
            v[1] = num(ev.lat);
            v[2] = num(ev.hae);
        }
    }
    kz_event_clear(&ev);
}

static void take_row(struct copy *c, const struct table *t, sqlite3_stmt *s, struct rows *r)
{
    char **v = r->v + r->n++ * (size_t)r->width;
    int xml_col = t->extra == 5 ? 10 : 7;

    memset(v, 0, (size_t)r->width * sizeof(*v));
    for (int i = 0; i < t->cols; i++)
        if (sqlite3_column_type(s, i) != SQLITE_NULL)
            v[i] = kz_xstrdup((const char *)sqlite3_column_text(s, i));
    if (t->extra == 5)
        v[t->cols] = kz_xstrdup(c->node_id);
    if (t->extra)
        point_of(c, v[xml_col], v[xml_col] ? strlen(v[xml_col]) : 0, v + r->width - 3);
}

/* rows[0..n) into PostgreSQL, in power-of-two statements. */
static int flush_rows(struct copy *c, const struct kz__pg_rows *spec, struct rows *r)
{
    int err = KZ_OK;

    for (size_t first = 0, k; first < r->n && err == KZ_OK; first += k) {
        k = kz__pg_chunk(r->n - first);
        PGresult *res = kz__pg_rows_exec(c->db.pg, spec, k,
                                         (const char *const *)r->v + first * (size_t)r->width);
        if (!kz__pg_ok(res))
            err = fail(c, KZ_ERR_DB, spec->name, PQresultErrorMessage(res));
        PQclear(res);
    }
    rows_clear(r);
    return err;
}

static int64_t count_rows(struct copy *c, const char *table)
{
    char sql[96];
    sqlite3_stmt *s = NULL;
    int64_t n = -1;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    if (sqlite3_prepare_v2(c->lite, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* One table, CHUNK_ROWS rows to a PostgreSQL transaction. */
static int copy_rows(struct copy *c, const struct table *t, sqlite3_stmt *s, unsigned id)
{
    char *row = row_sql(t), name[32];
    struct rows r = {.width = t->cols + t->extra - (t->extra == 5 ? 1 : 0)};
    struct kz__pg_rows spec = {name, t->insert, row, " ON CONFLICT DO NOTHING", 0, id};
    int64_t total = count_rows(c, t->name), done = 0;
    int err = kz__pg_exec(c->db.pg, "BEGIN"), rc = SQLITE_ROW;

    spec.cols = r.width;
    snprintf(name, sizeof(name), "kz_cp_%u", id);
    r.v = kz_xcalloc(KZ__PG_ROWS_MAX * (size_t)r.width, sizeof(*r.v));
    while (err == KZ_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        take_row(c, t, s, &r);
        if (r.n == KZ__PG_ROWS_MAX)
            err = flush_rows(c, &spec, &r);
        if (err == KZ_OK && ++done % CHUNK_ROWS == 0) {
            if ((err = kz__pg_exec(c->db.pg, "COMMIT")) == KZ_OK)
                err = kz__pg_exec(c->db.pg, "BEGIN");
            if (c->progress)
                c->progress(c->ud, t->name, done, total);
        }
    }
    if (err == KZ_OK && rc != SQLITE_DONE)
        err = fail(c, KZ_ERR_DB, t->name, sqlite3_errmsg(c->lite));
    if (err == KZ_OK)
        err = flush_rows(c, &spec, &r);
    rows_clear(&r);
    if (err == KZ_OK && (err = kz__pg_exec(c->db.pg, "COMMIT")) != KZ_OK)
        fail(c, err, t->name, "COMMIT failed");
    if (err != KZ_OK && PQtransactionStatus(c->db.pg->conn) != PQTRANS_IDLE)
        kz__pg_exec(c->db.pg, "ROLLBACK");
    if (err == KZ_OK && c->progress)
        c->progress(c->ud, t->name, done, total);
    free(r.v);
    free(row);
    return err;
}

static int copy_table(struct copy *c, const struct table *t, unsigned id)
{
    sqlite3_stmt *s = NULL;
    int err;

    if (sqlite3_prepare_v2(c->lite, t->select, -1, &s, NULL) != SQLITE_OK)
        return fail(c, KZ_ERR_DB, t->name, sqlite3_errmsg(c->lite));
    err = copy_rows(c, t, s, id);
    sqlite3_finalize(s);
    return err;
}

/* The SQLite file, read-only, with a schema this copy knows. */
static int open_source(struct copy *c, const char *from)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    char why[96];

    kz__sqlite_configure();
    if (sqlite3_open_v2(from, &c->lite, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return fail(c, KZ_ERR_IO, from, sqlite3_errmsg(c->lite));
    sqlite3_busy_timeout(c->lite, 5000);
    if (sqlite3_prepare_v2(c->lite, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (v < MIN_SCHEMA || v > kz__db_schema_latest()) {
        snprintf(why, sizeof(why), "schema version %lld (this build copies %d to %lld)",
                 (long long)v, MIN_SCHEMA, (long long)kz__db_schema_latest());
        return fail(c, v < 0 ? KZ_ERR_IO : KZ_ERR_DB, from, v < 0 ? "not a kizuna store" : why);
    }
    /* One snapshot for every table. */
    if (sqlite3_exec(c->lite, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return fail(c, KZ_ERR_DB, from, sqlite3_errmsg(c->lite));
    return KZ_OK;
}

/* SQLite's tracks table holds the log up to tracks_seq (tracks.c); 0 when unknown. */
static int64_t tracks_seq(struct copy *c)
{
    sqlite3_stmt *s = NULL;
    int64_t v = 0;

    if (sqlite3_prepare_v2(c->lite, "SELECT value FROM store_marks WHERE name = 'tracks_seq'", -1,
                           &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/*
 * The tracks table brought up to the log, as SQLite's open does (events after tracks_seq:
 * each uid's newest, never over a newer row); identity columns continue after the copied ids.
 */
static int after_copy(struct copy *c)
{
    static const char sql_tracks[] =
        "INSERT INTO tracks(uid, seq, type, stale, label, origin_input, origin_user, xml,"
        " origin_nation, origin_groups, pos)"
        " SELECT DISTINCT ON (uid) uid, seq, type, stale, label, origin_input, origin_user, xml,"
        " origin_nation, origin_groups, pos FROM events WHERE seq > $1 ORDER BY uid, seq DESC"
        " ON CONFLICT (uid) DO UPDATE SET seq = excluded.seq, type = excluded.type,"
        " stale = excluded.stale, label = excluded.label, origin_input = excluded.origin_input,"
        " origin_user = excluded.origin_user, xml = excluded.xml,"
        " origin_nation = excluded.origin_nation, origin_groups = excluded.origin_groups,"
        " pos = excluded.pos WHERE excluded.seq > tracks.seq";
    char seq[KZ__PG_NUM];
    const char *v[1] = {kz__pg_i64(seq, tracks_seq(c))};
    int err = kz__pg_run(c->db.pg, "tracks from the log", sql_tracks, 1, v);

    if (err != KZ_OK)
        return fail(c, err, "tracks", "cannot bring them up to the log");
    err = kz__pg_exec(c->db.pg, "SELECT setval(pg_get_serial_sequence('readiness', 'id'),"
                                " coalesce(max(id), 0) + 1, false) FROM readiness");
    return err == KZ_OK ? KZ_OK : fail(c, err, "readiness", "cannot reset its id sequence");
}

/* Each distinct hash of the files table: its bytes from DIR/files/<h0h1>/<hash> beside `from`,
 * unless PostgreSQL has them.  A file missing on disk is logged and skipped (its rows are
 * copied; no instance can serve it, as the node could not). */
static int copy_bytes_of(struct copy *c, const char *dir, const char *hash, int64_t size,
                         bool *missing)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/files/%.2s/%s", dir, hash, hash);
    int err;

    *missing = false;
    if (n <= 0 || (size_t)n >= sizeof(path))
        return fail(c, KZ_ERR_IO, dir, "path too long");
    if (strlen(hash) != 64) { /* no file can have it: the index ignores such a row too */
        *missing = true;
        return KZ_OK;
    }
    if ((err = kz__pg_exec(c->db.pg, "BEGIN")) != KZ_OK)
        return fail(c, err, "file_content", "BEGIN failed");
    err = kz__pg_file_content_put(c->db.pg, hash, (uint64_t)size, path);
    *missing = err == KZ_ERR_EXISTS;
    if (err == KZ_OK)
        return kz__pg_exec(c->db.pg, "COMMIT") == KZ_OK ? KZ_OK
                                                        : fail(c, KZ_ERR_DB, hash, "COMMIT failed");
    kz__pg_exec(c->db.pg, "ROLLBACK");
    return *missing ? KZ_OK : fail(c, err, "file_content", hash);
}

static int copy_bytes(struct copy *c, const char *from)
{
    static const char sql[] = "SELECT hash, max(size) FROM files GROUP BY hash ORDER BY hash";
    char dir[PATH_MAX];
    const char *slash = strrchr(from, '/');
    sqlite3_stmt *s = NULL;
    int64_t total = count_rows(c, "(SELECT DISTINCT hash FROM files)"), done = 0, missing = 0;
    int err = KZ_OK, rc = SQLITE_ROW;
    bool miss = false;

    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - from) : 1, slash ? from : ".");
    if (sqlite3_prepare_v2(c->lite, sql, -1, &s, NULL) != SQLITE_OK)
        return fail(c, KZ_ERR_DB, "files", sqlite3_errmsg(c->lite));
    while (err == KZ_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        err = copy_bytes_of(c, dir, (const char *)sqlite3_column_text(s, 0),
                            sqlite3_column_int64(s, 1), &miss);
        missing += miss;
        if (err == KZ_OK && c->progress && (++done % 64 == 0 || done == total))
            c->progress(c->ud, "file_content", done, total);
    }
    if (err == KZ_OK && rc != SQLITE_DONE)
        err = fail(c, KZ_ERR_DB, "files", sqlite3_errmsg(c->lite));
    sqlite3_finalize(s);
    if (missing)
        kz_log(KZ_LOG_WARN, "store copy: files without their bytes on disk", "dir=%s/files n=%lld",
               dir, (long long)missing);
    return err;
}

int kz_store_copy(const char *from, const char *dsn, const char *node_id,
                  kz_store_copy_progress_fn progress, void *ud, char *err, size_t errlen)
{
    struct kz_cot_limits lim;
    struct copy c = {.node_id = node_id ? node_id : "",
                     .progress = progress,
                     .ud = ud,
                     .err = err,
                     .errlen = errlen};
    int rc;

    err[0] = '\0';
    kz_cot_limits_default(&lim);
    lim.max_event_bytes = 16u << 20; /* stored events passed their limit already */
    if ((rc = open_source(&c, from)) == KZ_OK && (rc = kz__pg_open(&c.db, dsn, c.node_id)) != KZ_OK)
        fail(&c, rc, "postgres", "cannot connect or migrate (see the log line above)");
    c.dec = rc == KZ_OK ? kz_cot_decoder_new(&lim) : NULL;
    for (size_t i = 0; rc == KZ_OK && i < KZ_ARRAY_LEN(tables); i++)
        rc = copy_table(&c, &tables[i], 3 + (unsigned)i);
    if (rc == KZ_OK)
        rc = after_copy(&c);
    if (rc == KZ_OK)
        rc = copy_bytes(&c, from);
    if (c.dec)
        kz_cot_decoder_free(c.dec);
    kz__pg_close(&c.db);
    sqlite3_close(c.lite);
    return rc;
}
