/*
 * pg_retention.c - keep the event log (and the federation's sent log)
 * inside its age and size bounds on PostgreSQL, as retention.c does on
 * SQLite: deletes in chunks, each its own transaction, at most MAX_CHUNKS a
 * run so queued batches wait milliseconds, not the length of a purge.
 *
 * The size bound counts the events' data: their number (the seq span)
 * times the mean size of the newest rows.  PostgreSQL, like SQLite, keeps
 * freed space for reuse rather than shrinking its files, so the files stay
 * near their high-water mark while the data stays under the cap.
 */
#include <stdlib.h>

#include "store/pg.h"

#define CHUNK 4096
#define MAX_CHUNKS 16

static const char sql_old_events[] = "DELETE FROM events WHERE seq IN"
                                     " (SELECT seq FROM events WHERE recv_time < $1 LIMIT $2)";
static const char sql_old_tracks[] = "DELETE FROM tracks WHERE uid IN"
                                     " (SELECT uid FROM tracks WHERE stale < $1 LIMIT $2)";
static const char sql_old_sent[] =
    "DELETE FROM fed_sent WHERE (peer, sent, seq) IN"
    " (SELECT peer, sent, seq FROM fed_sent WHERE sent < $1 LIMIT $2)";
static const char sql_oldest_events[] = "DELETE FROM events WHERE seq IN"
                                        " (SELECT seq FROM events ORDER BY seq LIMIT $2)"
                                        " AND $1::bigint IS NOT NULL";
/* The data bytes of the events: the seq span times the newest 1000 rows' mean. */
static const char sql_used[] = "SELECT coalesce((SELECT max(seq) - min(seq) + 1 FROM events), 0) *"
                               " coalesce((SELECT avg(pg_column_size(e.*)) FROM"
                               " (SELECT * FROM events ORDER BY seq DESC LIMIT 1000) e), 0),"
                               " coalesce((SELECT max(seq) - min(seq) + 1 FROM events), 0)";

/* Rows deleted, or -1 on error.  A statement's $1 is the cutoff, $2 the chunk. */
static int64_t delete_chunk(struct kz__pg *pg, const char *sql, int64_t cutoff, int64_t n)
{
    char a[KZ__PG_NUM], b[KZ__PG_NUM];
    const char *v[2] = {kz__pg_i64(a, cutoff), kz__pg_i64(b, n)};
    PGresult *r = kz__pg_query(pg, sql, 2, v);
    int64_t done = -1;

    if (kz__pg_ok(r))
        done = strtoll(PQcmdTuples(r), NULL, 10);
    else
        kz__pg_fail(pg, "retention DELETE", r);
    PQclear(r);
    return done;
}

static int64_t delete_older(struct kz__pg *pg, const char *sql, int64_t cutoff, int *budget)
{
    int64_t total = 0, n = CHUNK;

    while (n == CHUNK && *budget > 0) {
        n = delete_chunk(pg, sql, cutoff, CHUNK);
        (*budget)--;
        if (n > 0)
            total += n;
    }
    return total;
}

/* The events' data bytes and rows (estimates), or -1. */
static int64_t used_bytes(struct kz__pg *pg, int64_t *rows)
{
    PGresult *r = PQexec(pg->conn, sql_used);
    int64_t used = -1;

    if (kz__pg_ok(r) && PQntuples(r) == 1) {
        used = (int64_t)strtod(PQgetvalue(r, 0, 0), NULL);
        *rows = kz__pg_int(r, 0, 1);
    } else {
        kz__pg_fail(pg, "retention size", r);
    }
    PQclear(r);
    return used;
}

static int64_t shed_bytes(struct kz__pg *pg, int64_t cap, int *budget)
{
    int64_t used, rows = 0, total = 0, n;

    while (*budget > 0 && (used = used_bytes(pg, &rows)) > cap) {
        (*budget)--;
        n = (int64_t)((double)rows * (double)(used - cap) / (double)used) + 1;
        n = delete_chunk(pg, sql_oldest_events, 0, n < CHUNK ? n : CHUNK);
        if (n <= 0)
            break;
        total += n;
    }
    return total;
}

void kz__pg_retention(struct kz__db *db, int64_t retention_us, int64_t retention_bytes, bool *more)
{
    struct kz__pg *pg = db->pg;
    int budget = MAX_CHUNKS;
    int64_t events = 0, tracks = 0;

    kz__pg_revive(pg);
    if (retention_us > 0) {
        int64_t cutoff = kz_now_us() - retention_us;
        events = delete_older(pg, sql_old_events, cutoff, &budget);
        tracks = delete_older(pg, sql_old_tracks, cutoff, &budget);
        delete_older(pg, sql_old_sent, cutoff, &budget);
    }
    if (retention_bytes > 0 && budget > 0)
        events += shed_bytes(pg, retention_bytes, &budget);
    *more = budget <= 0;
    if (events || tracks) {
        kz_log(KZ_LOG_INFO, "store: retention", "events_deleted=%lld tracks_deleted=%lld",
               (long long)events, (long long)tracks);
    }
}
