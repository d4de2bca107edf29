/*
 * retention.c - keep the event log (and the federation's sent log) inside
 * its age and size bounds; a uid whose rows are all gone leaves uid_heads.
 *
 * Deletes go in chunks, each its own transaction, and a run stops after
 * MAX_CHUNKS so the batches queued behind it wait milliseconds, not the
 * length of a purge; the thread comes back for the rest at once.
 *
 * The size bound counts pages in use (page_count - freelist_count): SQLite
 * reuses freed pages rather than shrinking the file, so the file itself
 * stays near its high-water mark while the data stays under the cap.
 */
#include "store/internal.h"

#define CHUNK 4096
#define MAX_CHUNKS 16

static const char sql_old_events[] = "DELETE FROM events WHERE seq IN"
                                     " (SELECT seq FROM events WHERE recv_time < ?1 LIMIT ?2)";
/* Stale long past: a track still current always has stale >= now.  A scan
 * of the tracks table (migration 12 dropped its stale index). */
static const char sql_old_tracks[] = "DELETE FROM tracks WHERE rowid IN"
                                     " (SELECT rowid FROM tracks WHERE stale < ?1 LIMIT ?2)";
/* A link's sent log lives as long as the events it names. */
static const char sql_old_sent[] =
    "DELETE FROM fed_sent WHERE (peer, sent, seq) IN"
    " (SELECT peer, sent, seq FROM fed_sent WHERE sent < ?1 LIMIT ?2)";
/* A uid none of whose rows is left (the cutoff is not used). */
static const char sql_old_heads[] =
    "DELETE FROM uid_heads WHERE uid IN (SELECT uid FROM uid_heads WHERE seq <"
    " coalesce((SELECT min(seq) FROM events), 9223372036854775807) LIMIT ?2)";
static const char sql_oldest_events[] =
    "DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?2)";
static const char sql_span[] = "SELECT max(seq) - min(seq) + 1 FROM events";

/* Rows deleted, or -1 on error.  A statement without ?1 ignores `cutoff`. */
static int64_t delete_chunk(struct kz__db *db, sqlite3_stmt *s, int64_t cutoff, int64_t n)
{
    int rc;

    sqlite3_bind_int64(s, 1, cutoff);
    sqlite3_bind_int64(s, 2, n);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        kz__db_fail(db, "retention DELETE", rc);
        return -1;
    }
    return sqlite3_changes64(db->db);
}

/* Delete rows older than `cutoff` until none are left or the budget runs out. */
static int64_t delete_older(struct kz__db *db, const char *sql, int64_t cutoff, int *budget)
{
    sqlite3_stmt *s = NULL;
    int64_t total = 0, n = CHUNK;

    if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK) {
        kz__db_fail(db, "retention prepare", sqlite3_errcode(db->db));
        return 0;
    }
    while (n == CHUNK && *budget > 0) {
        n = delete_chunk(db, s, cutoff, CHUNK);
        (*budget)--;
        if (n > 0)
            total += n;
    }
    sqlite3_finalize(s);
    return total;
}

/* Roughly how many of the oldest rows to drop to shed `excess` of `used` bytes. */
static int64_t rows_to_shed(struct kz__db *db, int64_t used, int64_t excess)
{
    sqlite3_stmt *s = NULL;
    int64_t rows = 0, n;

    if (sqlite3_prepare_v2(db->db, sql_span, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        rows = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    n = used > 0 ? (int64_t)((double)rows * (double)excess / (double)used) + 1 : 1;
    return n < CHUNK ? n : CHUNK;
}

/* Drop the oldest events until the data fits; tracks are never shed for size. */
static int64_t shed_bytes(struct kz__db *db, int64_t cap, int *budget)
{
    sqlite3_stmt *s = NULL;
    int64_t used, total = 0, n;

    if (sqlite3_prepare_v2(db->db, sql_oldest_events, -1, &s, NULL) != SQLITE_OK) {
        kz__db_fail(db, "retention prepare", sqlite3_errcode(db->db));
        return 0;
    }
    while (*budget > 0 && (used = kz__db_used_bytes(db)) > cap) {
        (*budget)--;
        n = delete_chunk(db, s, 0, rows_to_shed(db, used, used - cap));
        if (n <= 0)
            break;
        total += n;
    }
    sqlite3_finalize(s);
    return total;
}

void kz__db_retention(struct kz__db *db, int64_t retention_us, int64_t retention_bytes, bool *more)
{
    int budget = MAX_CHUNKS;
    int64_t events = 0, tracks = 0;

    if (db->pg) {
        kz__pg_retention(db, retention_us, retention_bytes, more);
        return;
    }
    if (retention_us > 0) {
        int64_t cutoff = kz_now_us() - retention_us;
        events = delete_older(db, sql_old_events, cutoff, &budget);
        tracks = delete_older(db, sql_old_tracks, cutoff, &budget);
        delete_older(db, sql_old_sent, cutoff, &budget);
    }
    if (retention_bytes > 0 && budget > 0)
        events += shed_bytes(db, retention_bytes, &budget);
    if (events && budget > 0) {
        delete_older(db, sql_old_heads, 0, &budget);
        kz__heads_forget(db); /* it may name uids just deleted */
    }
    /* Out of budget: there may be more; a run that finds nothing ends it. */
    *more = budget <= 0;
    if (events || tracks) {
        kz_log(KZ_LOG_INFO, "store: retention", "events_deleted=%lld tracks_deleted=%lld",
               (long long)events, (long long)tracks);
    }
}
