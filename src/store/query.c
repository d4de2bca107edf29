/*
 * query.c - GET /api/v1/events on the store thread (events.c's read): one
 * batch of rows, newest first, older than the page's cursor when it has one;
 * or a federation link's outbox: oldest first, newer than its cursor.
 * The statement is built per query: queries are rare next to appends, and
 * each filter left out is one the planner need not consider.  A query for
 * one uid walks that uid's chain instead (heads.c): newest first, row by
 * row, with the other filters applied here.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

enum { P_TYPE = 1, P_TYPE_END, P_SINCE, P_UNTIL, P_LIMIT, P_BEFORE, P_AFTER };

/*
 * The smallest string greater than every string starting with `p`, so a
 * prefix match is a range scan on events_type.  NULL when there is none
 * (the prefix is all 0xff bytes).  Free the result.
 */
static char *prefix_end(const char *p, size_t len)
{
    char *end = kz_xstrndup(p, len);

    while (len > 0 && (unsigned char)end[len - 1] == 0xff)
        end[--len] = '\0';
    if (len == 0) {
        free(end);
        return NULL;
    }
    end[len - 1] = (char)((unsigned char)end[len - 1] + 1);
    return end;
}

struct type_filter {
    const char *value; /* NULL: no filter */
    size_t len;
    bool prefix;
    char *end; /* prefix only; NULL: no upper bound */
};

static void type_filter_init(struct type_filter *tf, const char *type)
{
    memset(tf, 0, sizeof(*tf));
    if (!type)
        return;
    tf->len = strlen(type);
    tf->prefix = tf->len > 0 && type[tf->len - 1] == '*';
    if (tf->prefix && --tf->len == 0)
        return; /* "*" matches everything */
    tf->value = type;
    if (tf->prefix)
        tf->end = prefix_end(type, tf->len);
}

static void build_sql(struct kz_sbuf *sql, const struct kz_store_query *q,
                      const struct type_filter *tf)
{
    kz_sbuf_adds(sql, "SELECT seq, recv_time, label, origin_input, origin_user, xml,"
                      " origin_nation, origin_groups, fed_provenance, fed_hops, fed_max_hops"
                      " FROM events WHERE 1");
    if (tf->value)
        kz_sbuf_adds(sql, tf->prefix ? " AND type >= ?1" : " AND type = ?1");
    if (tf->end)
        kz_sbuf_adds(sql, " AND type < ?2");
    if (q->since_us)
        kz_sbuf_adds(sql, " AND recv_time >= ?3");
    if (q->until_us)
        kz_sbuf_adds(sql, " AND recv_time < ?4");
    if (q->before_seq)
        kz_sbuf_adds(sql, " AND seq < ?6");
    if (q->forward)
        kz_sbuf_adds(sql, " AND seq > ?7 ORDER BY seq LIMIT ?5");
    else
        kz_sbuf_adds(sql, " ORDER BY seq DESC LIMIT ?5");
}

static void bind_all(sqlite3_stmt *s, const struct kz_store_query *q, const struct type_filter *tf)
{
    if (tf->value)
        sqlite3_bind_text64(s, P_TYPE, tf->value, tf->len, SQLITE_STATIC, SQLITE_UTF8);
    if (tf->end)
        sqlite3_bind_text(s, P_TYPE_END, tf->end, -1, SQLITE_STATIC);
    if (q->since_us)
        sqlite3_bind_int64(s, P_SINCE, q->since_us);
    if (q->until_us)
        sqlite3_bind_int64(s, P_UNTIL, q->until_us);
    sqlite3_bind_int64(s, P_LIMIT, q->limit);
    if (q->before_seq)
        sqlite3_bind_int64(s, P_BEFORE, (sqlite3_int64)q->before_seq);
    if (q->forward)
        sqlite3_bind_int64(s, P_AFTER, (sqlite3_int64)q->after_seq);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    return kz_xstrdup((const char *)sqlite3_column_text(s, i));
}

static void add_row(struct kz__query *qq, sqlite3_stmt *s)
{
    struct kz_store_row *r;
    size_t len;

    if (qq->n_rows == qq->cap_rows) {
        qq->cap_rows = qq->cap_rows ? 2 * qq->cap_rows : 16;
        qq->rows = kz_xrealloc(qq->rows, qq->cap_rows * sizeof(*qq->rows));
    }
    r = &qq->rows[qq->n_rows++];
    r->seq = (uint64_t)sqlite3_column_int64(s, 0);
    r->recv_time = sqlite3_column_int64(s, 1);
    r->label = col_dup(s, 2);
    r->origin_input = col_dup(s, 3);
    r->origin_user = col_dup(s, 4);
    len = (size_t)sqlite3_column_bytes(s, 5);
    r->xml = kz_xstrndup((const char *)sqlite3_column_text(s, 5), len);
    r->xml_len = len;
    r->origin_nation = col_dup(s, 6);
    r->origin_groups = col_dup(s, 7);
    r->fed_provenance = sqlite3_column_type(s, 8) == SQLITE_NULL ? NULL : col_dup(s, 8);
    r->fed_hops = sqlite3_column_int64(s, 9);
    r->fed_max_hops = sqlite3_column_int64(s, 10);
}

void kz__query_rows_free(struct kz__query *q)
{
    for (size_t i = 0; i < q->n_rows; i++) {
        free(q->rows[i].label);
        free(q->rows[i].origin_input);
        free(q->rows[i].origin_user);
        free(q->rows[i].origin_nation);
        free(q->rows[i].origin_groups);
        free(q->rows[i].xml);
        free(q->rows[i].fed_provenance);
    }
    KZ_FREE(q->rows);
    q->n_rows = q->cap_rows = 0;
}

/* ---- one uid: a walk down its chain ------------------------------------------ */

static const char sql_link[] =
    "SELECT uid, uid_prev, type, recv_time, lon_e7, lat_e7 FROM events WHERE seq = ?1";
static const char sql_row[] = "SELECT seq, recv_time, label, origin_input, origin_user, xml,"
                              " origin_nation, origin_groups, fed_provenance, fed_hops,"
                              " fed_max_hops FROM events WHERE seq = ?1";

/* Does a row of this type and receive time pass the query's other filters? */
static bool wanted(const struct kz_store_query *q, const struct type_filter *tf, const char *type,
                   int64_t recv_time)
{
    if (tf->value &&
        (tf->prefix ? strncmp(type, tf->value, tf->len) != 0 : strcmp(type, tf->value) != 0))
        return false;
    return !(q->until_us && recv_time >= q->until_us);
}

/*
 * The seqs of the uid's rows that match, newest first, into *out (at most
 * `max`, 0 = all); stops where the rest are too old.  An SQLite code.
 */
static int walk(struct kz__db *db, const struct kz_store_query *q, const struct type_filter *tf,
                size_t max, uint64_t **out, size_t *n)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql_link);
    uint64_t seq, prev;
    size_t cap = 0;
    int rc;

    if (!s)
        return SQLITE_ERROR;
    if ((rc = kz__heads_get(db, q->uid, &seq)) != SQLITE_DONE)
        return rc;
    for (*n = 0; seq && (max == 0 || *n < max); seq = prev) {
        if (q->forward && seq <= q->after_seq)
            break;
        sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
        if ((rc = sqlite3_step(s)) != SQLITE_ROW ||
            strcmp(q->uid, (const char *)sqlite3_column_text(s, 0)) != 0)
            break; /* the rest of the chain is gone (retention) */
        int64_t recv_time = sqlite3_column_int64(s, 3);
        bool take = (!q->before_seq || seq < q->before_seq) &&
                    wanted(q, tf, (const char *)sqlite3_column_text(s, 2), recv_time) &&
                    (!q->has_bbox || kz__geo_row_in(s, 4, &q->bbox));
        prev = (uint64_t)sqlite3_column_int64(s, 1);
        sqlite3_reset(s);
        if (q->since_us && recv_time < q->since_us)
            break; /* older rows were received earlier */
        if (!take)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = kz_xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = seq;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_DONE : rc;
}

/* Newest first, or oldest first after `after_seq` (the oldest `limit` of them). */
static int query_uid(struct kz__db *db, struct kz__query *qq, const struct type_filter *tf)
{
    const struct kz_store_query *q = &qq->q;
    sqlite3_stmt *s = kz__db_stmt(db, sql_row);
    uint64_t *seqs = NULL;
    size_t n = 0;
    int rc;

    if (!s)
        return SQLITE_ERROR;
    rc = walk(db, q, tf, q->forward ? 0 : q->limit, &seqs, &n);
    for (size_t k = 0; rc == SQLITE_DONE && k < n && k < q->limit; k++) {
        sqlite3_bind_int64(s, 1, (sqlite3_int64)seqs[q->forward ? n - 1 - k : k]);
        if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            add_row(qq, s);
            rc = SQLITE_DONE;
        }
        sqlite3_reset(s);
    }
    free(seqs);
    return rc;
}

/* ---- a box: events_geo's seqs, newest first (geo.c) ---------------------------------- */

static const char sql_max_seq[] = "SELECT max(seq) FROM events";
static const char sql_first_since[] =
    "SELECT seq FROM events WHERE recv_time >= ?1 ORDER BY recv_time, seq LIMIT 1";
static const char sql_last_until[] =
    "SELECT seq FROM events WHERE recv_time < ?1 ORDER BY recv_time DESC, seq DESC LIMIT 1";
static const char sql_row_typed[] = "SELECT seq, recv_time, label, origin_input, origin_user, xml,"
                                    " origin_nation, origin_groups, fed_provenance, fed_hops,"
                                    " fed_max_hops, type, lon_e7, lat_e7 FROM events"
                                    " WHERE seq = ?1";

/* *out: the seq the statement answers (bound to `arg` unless 0), 0 for none. */
static int seq_of(struct kz__db *db, const char *sql, int64_t arg, uint64_t *out)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql);
    int rc;

    *out = 0;
    if (!s)
        return SQLITE_ERROR;
    if (arg)
        sqlite3_bind_int64(s, 1, arg);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *out = (uint64_t)sqlite3_column_int64(s, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(s);
    return rc;
}

/* The seqs [lo, hi] the query may answer from (lo > hi: none), by the recv_time index. */
static int box_range(struct kz__db *db, const struct kz_store_query *q, uint64_t *lo, uint64_t *hi)
{
    uint64_t v;
    int rc;

    *lo = 1;
    if ((rc = seq_of(db, sql_max_seq, 0, hi)) != SQLITE_DONE)
        return rc;
    if (q->before_seq && q->before_seq - 1 < *hi)
        *hi = q->before_seq - 1;
    if (q->until_us) {
        if ((rc = seq_of(db, sql_last_until, q->until_us, &v)) != SQLITE_DONE)
            return rc;
        *hi = v < *hi ? v : *hi;
    }
    if (q->since_us) {
        if ((rc = seq_of(db, sql_first_since, q->since_us, &v)) != SQLITE_DONE)
            return rc;
        *lo = v ? v : *hi + 1;
    }
    return SQLITE_DONE;
}

struct box_walk {
    struct kz__query *qq;
    const struct type_filter *tf;
    sqlite3_stmt *s;
    int rc;
};

/* One seq in the box: its row, when the other filters take it.  False: stop. */
static bool take_in_box(void *ud, uint64_t seq)
{
    struct box_walk *w = ud;
    const struct kz_store_query *q = &w->qq->q;

    sqlite3_bind_int64(w->s, 1, (sqlite3_int64)seq);
    if ((w->rc = sqlite3_step(w->s)) == SQLITE_ROW) {
        int64_t recv_time = sqlite3_column_int64(w->s, 1);
        const char *type = (const char *)sqlite3_column_text(w->s, 11);
        if (type && wanted(q, w->tf, type, recv_time) &&
            !(q->since_us && recv_time < q->since_us) && kz__geo_row_in(w->s, 12, &q->bbox))
            add_row(w->qq, w->s);
        w->rc = SQLITE_DONE;
    }
    sqlite3_reset(w->s);
    return w->rc == SQLITE_DONE && w->qq->n_rows < q->limit;
}

static int query_box(struct kz__db *db, struct kz__query *qq, const struct type_filter *tf)
{
    struct box_walk w = {qq, tf, kz__db_stmt(db, sql_row_typed), SQLITE_DONE};
    uint64_t lo, hi;
    int rc;

    if (!w.s)
        return SQLITE_ERROR;
    if ((rc = box_range(db, &qq->q, &lo, &hi)) != SQLITE_DONE)
        return rc;
    rc = kz__geo_each(db, &qq->q.bbox, lo, hi, qq->q.limit, take_in_box, &w);
    return rc != SQLITE_DONE ? rc : w.rc;
}

int kz__db_query(struct kz__db *db, struct kz__query *qq)
{
    struct kz_sbuf sql = KZ_SBUF_INIT;
    struct type_filter tf;
    sqlite3_stmt *s = NULL;
    int rc, err;

    if (db->pg)
        return kz__pg_events_query(db, qq);
    if (qq->q.latest) {
        kz__query_rows_free(qq);
        return KZ_ERR_INVAL; /* store.h: PostgreSQL only */
    }
    type_filter_init(&tf, qq->q.type);
    if (qq->q.uid || qq->q.has_bbox) {
        rc = qq->q.uid ? query_uid(db, qq, &tf) : query_box(db, qq, &tf);
        goto out;
    }
    build_sql(&sql, &qq->q, &tf);
    rc = sqlite3_prepare_v2(db->db, sql.buf, (int)sql.len, &s, NULL);
    if (rc != SQLITE_OK)
        goto out;
    bind_all(s, &qq->q, &tf);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        add_row(qq, s);
out:
    err = rc == SQLITE_DONE ? KZ_OK : kz__db_fail(db, "SELECT FROM events", rc);
    if (err != KZ_OK)
        kz__query_rows_free(qq);
    sqlite3_finalize(s);
    free(tf.end);
    kz_sbuf_release(&sql);
    return err;
}
