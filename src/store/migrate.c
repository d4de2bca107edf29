/*
 * migrate.c - numbered schema migrations.  PRAGMA user_version holds the
 * number of migrations applied; migration N is migrations[N - 1].  Append
 * new ones at the end and never edit a published one: databases in the
 * field have already run it.
 */
#include <stdio.h>

#include "store/internal.h"

static const char *const migrations[] = {
    /* 1: the event log and the latest event per uid. */
    "CREATE TABLE events ("
    " seq INTEGER PRIMARY KEY,"
    " uid TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " time INTEGER NOT NULL,"
    " start INTEGER NOT NULL,"
    " stale INTEGER NOT NULL,"
    " recv_time INTEGER NOT NULL,"
    " label TEXT,"
    " origin_input TEXT,"
    " origin_user TEXT,"
    " xml TEXT NOT NULL);"
    "CREATE INDEX events_uid ON events(uid);"
    "CREATE INDEX events_recv_time ON events(recv_time);"
    "CREATE INDEX events_type ON events(type);"
    "CREATE TABLE tracks ("
    " uid TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " stale INTEGER NOT NULL,"
    " label TEXT,"
    " origin_input TEXT,"
    " origin_user TEXT,"
    " xml TEXT NOT NULL);"
    "CREATE INDEX tracks_stale ON tracks(stale);",
    /* 2: users (identities for certificate CNs, enrollment passwords) and
     * the certificates issued to them (revocation feeds the CRL). */
    "CREATE TABLE users ("
    " user TEXT PRIMARY KEY,"
    " nation TEXT NOT NULL,"
    " clearance TEXT NOT NULL,"
    " groups_in TEXT NOT NULL DEFAULT '',"
    " groups_out TEXT NOT NULL DEFAULT '',"
    " roles TEXT NOT NULL DEFAULT '',"
    " command TEXT,"
    " password_hash TEXT,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL);"
    "CREATE TABLE certs ("
    " serial TEXT PRIMARY KEY,"
    " user TEXT NOT NULL,"
    " issued INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL,"
    " revoked INTEGER);"
    "CREATE INDEX certs_user ON certs(user);",
    /* 3: the audit log, append-only, each record chained to the previous
     * one by hash (store/audit.c). */
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " time INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " object TEXT NOT NULL,"
    " detail TEXT NOT NULL,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX audit_action ON audit(action, object);",
    /* 4: readiness reports, every one kept (history per unit); rows are
     * read back in id order at startup (readiness/store.c). */
    "CREATE TABLE readiness ("
    " id INTEGER PRIMARY KEY,"
    " unit TEXT NOT NULL,"
    " time INTEGER NOT NULL,"
    " recv_time INTEGER NOT NULL,"
    " p INTEGER NOT NULL CHECK (p BETWEEN 1 AND 5),"
    " s INTEGER NOT NULL CHECK (s BETWEEN 1 AND 5),"
    " r INTEGER NOT NULL CHECK (r BETWEEN 1 AND 5),"
    " t INTEGER NOT NULL CHECK (t BETWEEN 1 AND 5),"
    " overall INTEGER NOT NULL CHECK (overall BETWEEN 1 AND 5),"
    " override_reason TEXT,"
    " remarks TEXT,"
    " label TEXT NOT NULL,"
    " originator TEXT NOT NULL,"
    " reporter TEXT);"
    "CREATE INDEX readiness_unit ON readiness(unit, time);",
    /* 5: the reporter's OUT groups per readiness report (the group rule, as
     * for CoT); older rows have none and are shown to nobody. */
    "ALTER TABLE readiness ADD COLUMN groups_out TEXT;",
    /* 6: each event and track keeps its sender's nation and OUT groups as
     * they were when it was accepted (NULL on older rows). */
    "ALTER TABLE events ADD COLUMN origin_nation TEXT;"
    "ALTER TABLE events ADD COLUMN origin_groups TEXT;"
    "ALTER TABLE tracks ADD COLUMN origin_nation TEXT;"
    "ALTER TABLE tracks ADD COLUMN origin_groups TEXT;",
    /* 7: every revision of every plan, the plan layer's JSON, each written
     * with its audit record (store/plans.c); a plan's audit trail is read
     * by object. */
    "CREATE TABLE plans ("
    " id TEXT NOT NULL,"
    " revision INTEGER NOT NULL,"
    " time INTEGER NOT NULL,"
    " doc TEXT NOT NULL,"
    " PRIMARY KEY (id, revision));"
    "CREATE INDEX audit_object ON audit(object);",
    /* 8: readiness areas may be 6 ("not measured", GSORTS/DRRS-S), and an
     * override carries a reason code; SQLite cannot alter a CHECK, so the
     * table is rebuilt with its rows. */
    "CREATE TABLE readiness7 ("
    " id INTEGER PRIMARY KEY,"
    " unit TEXT NOT NULL,"
    " time INTEGER NOT NULL,"
    " recv_time INTEGER NOT NULL,"
    " p INTEGER NOT NULL CHECK (p BETWEEN 1 AND 6),"
    " s INTEGER NOT NULL CHECK (s BETWEEN 1 AND 6),"
    " r INTEGER NOT NULL CHECK (r BETWEEN 1 AND 6),"
    " t INTEGER NOT NULL CHECK (t BETWEEN 1 AND 6),"
    " overall INTEGER NOT NULL CHECK (overall BETWEEN 1 AND 5),"
    " override_reason TEXT,"
    " remarks TEXT,"
    " label TEXT NOT NULL,"
    " originator TEXT NOT NULL,"
    " reporter TEXT,"
    " groups_out TEXT,"
    " reason_code TEXT);"
    "INSERT INTO readiness7 (id, unit, time, recv_time, p, s, r, t, overall, override_reason,"
    " remarks, label, originator, reporter, groups_out)"
    " SELECT id, unit, time, recv_time, p, s, r, t, overall, override_reason, remarks, label,"
    " originator, reporter, groups_out FROM readiness;"
    "DROP TABLE readiness;"
    "ALTER TABLE readiness7 RENAME TO readiness;"
    "CREATE INDEX readiness_unit ON readiness(unit, time);",
    /* 9: federation.  An event that came over a link keeps the nodes it
     * passed and its hops (so a relay can pass it on from the log) and the
     * sending node's sequence (where a link resumes); each link's sent log
     * (what crossed, and when) and its cursor (the last event of the log it
     * was sent). */
    "ALTER TABLE events ADD COLUMN fed_provenance TEXT;"
    "ALTER TABLE events ADD COLUMN fed_hops INTEGER;"
    "ALTER TABLE events ADD COLUMN fed_max_hops INTEGER;"
    "ALTER TABLE events ADD COLUMN fed_seq INTEGER;"
    "CREATE INDEX events_fed_seq ON events(origin_input, seq) WHERE fed_seq IS NOT NULL;"
    "CREATE TABLE fed_sent ("
    " peer TEXT NOT NULL,"
    " sent INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " PRIMARY KEY (peer, sent, seq)) WITHOUT ROWID;"
    "CREATE TABLE fed_cursor ("
    " peer TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL);",
    /* 10: the metadata of files uploaded over Marti, one row per upload
     * (store/files.c); the bytes are on disk under their hash. */
    "CREATE TABLE files ("
    " uid TEXT PRIMARY KEY,"
    " hash TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " mime TEXT NOT NULL,"
    " size INTEGER NOT NULL,"
    " time INTEGER NOT NULL,"
    " submitter TEXT,"
    " creator_uid TEXT,"
    " keywords TEXT,"
    " label TEXT NOT NULL,"
    " originator TEXT NOT NULL,"
    " groups_out TEXT,"
    " tool TEXT);"
    "CREATE INDEX files_hash ON files(hash);",
    /* 11: Data Sync missions (store/missions.c): one document per mission, and its
     * change log, one row per change (IF NOT EXISTS: tests that undo an
     * earlier migration replay this one on the tables as they are). */
    "CREATE TABLE IF NOT EXISTS missions ("
    " guid TEXT PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS mission_changes ("
    " id INTEGER PRIMARY KEY,"
    " guid TEXT NOT NULL,"
    " doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS mission_changes_guid ON mission_changes(guid, id);",
    /* 12: no index on tracks(stale).  Every upsert moved the row's entry (its
     * stale changes with every report), about a seventh of the store thread's
     * work per event; what read it, the startup load and retention's purge of
     * tracks stale for longer than the retention age, scans the table instead
     * (one row per uid, a few milliseconds every retention run). */
    "DROP INDEX IF EXISTS tracks_stale;",
    /* 13: no index on events(uid): its entry for each event landed on a
     * different leaf page and cost more than the row.  Each row names its
     * uid's previous row instead, and uid_heads each uid's newest
     * (store/heads.c); the rows already stored are linked here. */
    "ALTER TABLE events ADD COLUMN uid_prev INTEGER;"
    "UPDATE events SET uid_prev = p.prev FROM"
    " (SELECT seq, lag(seq) OVER (PARTITION BY uid ORDER BY seq) AS prev FROM events) AS p"
    " WHERE events.seq = p.seq AND p.prev IS NOT NULL;"
    "CREATE TABLE uid_heads ("
    " uid TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO uid_heads(uid, seq) SELECT uid, max(seq) FROM events GROUP BY uid;"
    "DROP INDEX IF EXISTS events_uid;",
    /* 14: the tracks table follows the log lazily (store/tracks.c): it holds
     * every event up to tracks_seq, and a restart rebuilds the rest from the
     * log.  Up to date when this runs. */
    "CREATE TABLE IF NOT EXISTS store_marks ("
    " name TEXT PRIMARY KEY,"
    " value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR REPLACE INTO store_marks(name, value)"
    " VALUES ('tracks_seq', coalesce((SELECT max(seq) FROM events), 0));",
    /* 15: each event's point, exact in lon_e7 and lat_e7 (1e-7 degrees; NULL:
     * no position), and an R*Tree of the points over the log's seqs for the
     * bbox queries (store/geo.c), an entry per cell and batch, its members
     * in a blob; deleting an entry's newest event deletes the entry.  The events stored before are
     * filled after this SQL (migrate_fill). */
    "ALTER TABLE events ADD COLUMN lon_e7 INTEGER;"
    "ALTER TABLE events ADD COLUMN lat_e7 INTEGER;"
    "CREATE VIRTUAL TABLE IF NOT EXISTS events_geo USING rtree("
    " seq, lon0, lon1, lat0, lat1, s0, s1, +members);"
    "CREATE TRIGGER IF NOT EXISTS events_geo_delete AFTER DELETE ON events"
    " BEGIN DELETE FROM events_geo WHERE seq = old.seq; END;",
};

/* What a migration's SQL cannot do, run after it in its transaction. */
static int migrate_fill(struct kz__db *db, int64_t version)
{
    return version == 15 ? kz__geo_backfill(db) : KZ_OK;
}

static int user_version(struct kz__db *db, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db->db, "PRAGMA user_version", -1, &s, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? KZ_OK : kz__db_fail(db, "PRAGMA user_version", rc);
}

static int exec(struct kz__db *db, const char *sql, const char *what)
{
    int rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? KZ_OK : kz__db_fail(db, what, rc);
}

/*
 * Apply the next migration, if any, in its own transaction.  The version is
 * read inside the write transaction so two processes opening the same new
 * file cannot both apply it.  Sets *done when the schema is current.
 */
static int step(struct kz__db *db, bool *done)
{
    const int64_t latest = (int64_t)KZ_ARRAY_LEN(migrations);
    char sql[64];
    int64_t v = 0;
    int err;

    if ((err = exec(db, "BEGIN IMMEDIATE", "BEGIN")) != KZ_OK)
        return err;
    if ((err = user_version(db, &v)) != KZ_OK)
        goto out;
    if (v > latest) {
        kz_log(KZ_LOG_ERROR, "store: database schema is newer than this build",
               "user_version=%lld known=%lld", (long long)v, (long long)latest);
        err = KZ_ERR_DB;
        goto out;
    }
    *done = v == latest;
    if (*done)
        goto out;
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%lld", (long long)v + 1);
    if ((err = exec(db, migrations[v], "migration")) != KZ_OK ||
        (err = migrate_fill(db, v + 1)) != KZ_OK ||
        (err = exec(db, sql, "PRAGMA user_version")) != KZ_OK)
        goto out;
    if ((err = exec(db, "COMMIT", "COMMIT")) == KZ_OK)
        kz_log(KZ_LOG_INFO, "store: schema migrated", "user_version=%lld", (long long)v + 1);
    return err;
out:
    if (!sqlite3_get_autocommit(db->db))
        sqlite3_exec(db->db, err == KZ_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return err;
}

int64_t kz__db_schema_latest(void)
{
    return (int64_t)KZ_ARRAY_LEN(migrations);
}

int kz__db_migrate(struct kz__db *db)
{
    int64_t v = 0;
    bool done = false;
    int err = user_version(db, &v);

    /* Current already (every open but the first): no write lock needed. */
    if (err != KZ_OK || v == (int64_t)KZ_ARRAY_LEN(migrations))
        return err;

    while (!done && err == KZ_OK)
        err = step(db, &done);
    return err;
}
