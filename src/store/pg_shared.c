/*
 * pg_shared.c - one PostgreSQL database shared by the instances of a
 * cluster (docs/cluster.md, "One PostgreSQL for the cluster").
 *
 * Each instance writes only the events it accepted itself.  Their sequence
 * numbers are each instance's own, so they cannot number the rows: the
 * database does (the sequence events_seq, pg_events.c), and an instance's
 * own number is the row's origin_seq, with origin_node the idempotency key
 * that makes a retried batch harmless.  A database one instance used alone
 * before has rows it numbered itself: the sequence is moved past them,
 * under a lock that holds other writers off meanwhile.
 *
 * The rows' numbering is also the order in which they become visible
 * (kz__pg_seq_lock), so a reader paging the log forward by seq (a federation
 * link's outbox) never sees a row numbered below one it has read appear
 * later.
 *
 * The missions' outbox is here too: a committed mission change leaves a
 * row, in the transaction of its change, until its notice is published.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

static const char share_sql[] =
    "BEGIN;"
    "LOCK TABLE events IN EXCLUSIVE MODE;"
    "SELECT setval('events_seq', m) FROM (SELECT greatest("
    " (SELECT max(seq) FROM events), (SELECT max(seq) FROM tracks)) AS m) s"
    " WHERE m > (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_seq);"
    "COMMIT";

int kz__pg_share(struct kz__db *db)
{
    struct kz__pg *pg = db->pg;
    int err = kz__pg_exec(pg, share_sql);

    if (err != KZ_OK && PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
        kz__pg_exec(pg, "ROLLBACK");
    if (err == KZ_OK)
        pg->shared = true;
    return err;
}

/*
 * nextval() hands numbers out in the order the transactions ask, but they
 * commit in their own order: batch A draws 10..19, batch B 20..29, B commits
 * first, and a reader that saw row 25 (and moved its position there) would
 * never read the rows of A.  So every batch that writes events on a shared
 * database holds one lock, from before it draws its first number until its
 * COMMIT (an advisory transaction lock: released when the transaction ends,
 * after its rows are visible).  Batches writing events therefore draw and
 * commit one after the other, and rows become visible in seq order.  It is
 * taken first in its transaction, so its order with the audit chain's lock
 * (pg_audit.c, another key) is always the same: no deadlock.  The cost is
 * that the instances' event batches commit one at a time.
 */
int kz__pg_seq_lock(struct kz__db *db, const struct kz__job *batch)
{
    static const char sql[] = "SELECT pg_advisory_xact_lock(hashtext('kizuna.events_seq'))";
    struct kz__pg *pg = db->pg;
    PGresult *r;
    int err;

    if (!pg->shared)
        return KZ_OK;
    while (batch && batch->ops->pg_write_many != kz__pg_write_events)
        batch = batch->next;
    if (!batch)
        return KZ_OK;
    r = PQexec(pg->conn, sql);
    err = kz__pg_ok(r) ? KZ_OK : kz__pg_fail(pg, "SELECT pg_advisory_xact_lock", r);
    PQclear(r);
    return err;
}

bool kz__pg_is_shared(const struct kz__db *db)
{
    return db->pg && db->pg->shared;
}
