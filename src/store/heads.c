/*
 * heads.c - each uid's history as a chain through the log: every events row
 * names the seq of its uid's previous row (uid_prev), and uid_heads holds
 * each uid's newest seq.  A uid's history is a walk from its head (query.c)
 * instead of a B-tree index on events(uid), whose entry for each event lands
 * on a different leaf page and cost more than the row itself.
 *
 * The store thread keeps the heads it has used in memory.  A batch links its
 * rows as it writes them (kz__heads_link: the row's uid_prev, then the new
 * head); a statement that writes fewer rows than it linked undoes the rest
 * (kz__heads_undo).  Before COMMIT the batch's new heads go to uid_heads, one
 * row per uid (kz__heads_write); a batch that fails forgets the cache, which
 * then refills from the table, rolled back with it.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

/* Past this many cached uids the cache is emptied after a commit. */
#define HEADS_MAX 262144
#define UNDO_MAX 256

struct head {
    struct kz__uident e; /* e.uid: the copy after the struct */
    uint64_t seq;        /* 0: the uid has no row */
    bool dirty;          /* newer than uid_heads */
    bool listed;         /* on heads->dirty */
    struct head *dnext;
    char uid[];
};

struct undo {
    struct head *h;
    uint64_t seq;
    bool dirty;
};

struct kz__heads {
    struct kz__uidtab t;
    struct head *dirty;
    struct undo undo[UNDO_MAX];
    size_t n_undo;
    struct head **list; /* kz__heads_write's rows */
    size_t list_cap;
};

static const char sql_get[] = "SELECT seq FROM uid_heads WHERE uid = ?1";

static const char *const sql_put[KZ__ROWS_N] =
    KZ__ROWS_SQL("INSERT INTO uid_heads(uid, seq) VALUES ", "(?,?)",
                 " ON CONFLICT(uid) DO UPDATE SET seq = excluded.seq");

static struct kz__heads *heads_of(struct kz__db *db)
{
    if (!db->heads)
        db->heads = kz_xcalloc(1, sizeof(*db->heads));
    return db->heads;
}

/* The uid's newest seq in uid_heads, 0 when it has none; an SQLite code. */
static int load_seq(struct kz__db *db, const char *uid, uint64_t *seq)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_get);
    int rc;

    *seq = 0;
    if (!s)
        return SQLITE_ERROR;
    kz__bind_text(s, 1, uid);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        *seq = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* The cached head of `uid`, loaded on first use; NULL (*rc set) on error. */
static struct head *find(struct kz__db *db, const char *uid, int *rc)
{
    struct kz__heads *hs = heads_of(db);
    struct kz__uident **slot = kz__uidtab_slot(&hs->t, uid);
    size_t len = strlen(uid);
    struct head *h;
    uint64_t seq;

    if (*slot)
        return (struct head *)*slot;
    if ((*rc = load_seq(db, uid, &seq)) != SQLITE_DONE)
        return NULL;
    h = kz_xcalloc(1, sizeof(*h) + len + 1);
    memcpy(h->uid, uid, len + 1);
    h->e.uid = h->uid;
    h->seq = seq;
    *slot = &h->e;
    kz__uidtab_added(&hs->t);
    return h;
}

int kz__heads_get(struct kz__db *db, const char *uid, uint64_t *seq)
{
    int rc = SQLITE_DONE;
    struct head *h = find(db, uid, &rc);

    *seq = h ? h->seq : 0;
    return rc;
}

int kz__heads_link(struct kz__db *db, const char *uid, uint64_t seq, uint64_t *prev)
{
    int rc = SQLITE_DONE;
    struct head *h = find(db, uid, &rc);
    struct kz__heads *hs = db->heads;

    if (!h)
        return rc;
    KZ_ASSERT(hs->n_undo < UNDO_MAX);
    hs->undo[hs->n_undo++] = (struct undo){h, h->seq, h->dirty};
    *prev = h->seq;
    h->seq = seq;
    h->dirty = true;
    if (!h->listed) {
        h->listed = true;
        h->dnext = hs->dirty;
        hs->dirty = h;
    }
    return SQLITE_DONE;
}

void kz__heads_undo(struct kz__db *db, size_t n)
{
    struct kz__heads *hs = db->heads;

    KZ_ASSERT(hs ? n <= hs->n_undo : n == 0);
    for (; n > 0; n--) {
        struct undo *u = &hs->undo[--hs->n_undo];
        u->h->seq = u->seq;
        u->h->dirty = u->dirty;
    }
    if (hs)
        hs->n_undo = 0;
}

static void bind_head(sqlite3_stmt *s, int b, const void *rows, size_t i)
{
    const struct head *h = ((struct head *const *)rows)[i];

    kz__bind_text(s, b + 1, h->uid);
    sqlite3_bind_int64(s, b + 2, (sqlite3_int64)h->seq);
}

int kz__heads_write(struct kz__db *db)
{
    struct kz__heads *hs = db->heads;
    size_t n = 0;

    if (!hs)
        return SQLITE_DONE;
    for (struct head *h = hs->dirty; h; h = h->dnext) {
        if (!h->dirty)
            continue;
        if (n == hs->list_cap) {
            hs->list_cap = hs->list_cap ? 2 * hs->list_cap : 256;
            hs->list = kz_xrealloc(hs->list, hs->list_cap * sizeof(*hs->list));
        }
        hs->list[n++] = h;
    }
    return kz__db_rows(db, sql_put, 2, hs->list, n, bind_head);
}

static void free_one(struct kz__uident *e, void *ud)
{
    KZ_UNUSED(ud);
    free(e);
}

void kz__heads_forget(struct kz__db *db)
{
    struct kz__heads *hs = db->heads;

    if (!hs)
        return;
    kz__uidtab_release(&hs->t, free_one);
    free(hs->list);
    KZ_FREE(db->heads);
}

void kz__heads_committed(struct kz__db *db)
{
    struct kz__heads *hs = db->heads;

    if (!hs)
        return;
    if (hs->t.count > HEADS_MAX) {
        kz__heads_forget(db);
        return;
    }
    for (struct head *h = hs->dirty, *next; h; h = next) {
        next = h->dnext;
        h->dirty = h->listed = false;
        h->dnext = NULL;
    }
    hs->dirty = NULL;
    hs->n_undo = 0;
}
