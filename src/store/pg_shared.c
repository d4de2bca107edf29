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

bool kz__pg_is_shared(const struct kz__db *db)
{
    return db->pg && db->pg->shared;
}
