/*
 * audit.c - the append-only audit log, keyed and anchored.
 *
 * Each record carries the HMAC-SHA-256, under DATA/audit.key (32 random
 * bytes, created on first use, mode 0600, never in the database and never
 * logged), of the previous record's MAC and its own id and fields.  After
 * each committed record DATA/audit.head is rewritten atomically with the
 * chain's end {count, last id, last MAC}, itself MACed.  So someone who can
 * write the database but not read the key can neither edit, insert nor
 * remove a record, nor cut the tail or swap in an older copy of the
 * database, without kz_store_audit_verify() saying so.  Records written
 * before the key existed ("legacy": plain SHA-256 chain) stay verifiable as
 * a prefix of the chain, with only the weaker guarantee they had.
 *
 * kz_store_audit writes through the store thread, in its batches (with
 * kz__audit_append, a table's change goes in the same transaction); the
 * reads below borrow the store's connection under its lock on the caller's
 * thread.  All of them block: startup, the CLI and worker threads, never the
 * loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"

#define KEY_BYTES crypto_auth_hmacsha256_KEYBYTES
_Static_assert(KEY_BYTES == KZ__AUDIT_KEY_BYTES, "internal.h names the key size");
#define HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)
#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define KEYED "hmac-sha256:"
/* A keyed record's hash column: KEYED and the hex MAC. */
#define MAC_TEXT (sizeof(KEYED) - 1 + crypto_auth_hmacsha256_BYTES * 2 + 1)
/* The prev_hash of a record appended when the head anchor was lost. */
#define LOST "lost:"
#define PREV_MAX (MAC_TEXT + sizeof(LOST))
#define HEAD_MAX KZ__AUDIT_HEAD_MAX

/* The chain's end as the head anchor records it. */
struct audit_head {
    uint64_t count;
    int64_t id;
    char mac[MAC_TEXT];
};

/* How the head anchor stood when a record was appended. */
enum anchor { ANCHOR_NONE, ANCHOR_OK, ANCHOR_LOST };

static const char *text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t ? (const char *)t : "";
}

static bool keyed(const char *hash)
{
    return strncmp(hash, KEYED, sizeof(KEYED) - 1) == 0;
}

/* ---- the two chains: legacy SHA-256 and keyed HMAC ------------------------ */

static void field(crypto_hash_sha256_state *h, const char *s)
{
    crypto_hash_sha256_update(h, (const unsigned char *)s, strlen(s) + 1); /* with NUL */
}

static void chain_hash(const char *prev, int64_t time, const char *actor, const char *action,
                       const char *object, const char *detail, char out[HASH_HEX])
{
    crypto_hash_sha256_state h;
    unsigned char digest[crypto_hash_sha256_BYTES];
    char t[24];

    snprintf(t, sizeof(t), "%lld", (long long)time);
    crypto_hash_sha256_init(&h);
    field(&h, prev);
    field(&h, t);
    field(&h, actor);
    field(&h, action);
    field(&h, object);
    field(&h, detail);
    crypto_hash_sha256_final(&h, digest);
    sodium_bin2hex(out, HASH_HEX, digest, sizeof(digest));
}

static void mac_field(crypto_auth_hmacsha256_state *h, const char *s)
{
    crypto_auth_hmacsha256_update(h, (const unsigned char *)s, strlen(s) + 1);
}

static void mac_final(crypto_auth_hmacsha256_state *h, char out[MAC_TEXT])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    crypto_auth_hmacsha256_final(h, mac);
    memcpy(out, KEYED, sizeof(KEYED) - 1);
    sodium_bin2hex(out + sizeof(KEYED) - 1, MAC_TEXT - (sizeof(KEYED) - 1), mac, sizeof(mac));
}

struct audit_rec {
    int64_t id, time;
    const char *actor, *action, *object, *detail;
};

static void record_mac(const unsigned char *key, const char *prev, const struct audit_rec *r,
                       char out[MAC_TEXT])
{
    crypto_auth_hmacsha256_state h;
    char id[24], t[24];

    snprintf(id, sizeof(id), "%lld", (long long)r->id);
    snprintf(t, sizeof(t), "%lld", (long long)r->time);
    crypto_auth_hmacsha256_init(&h, key, KEY_BYTES);
    mac_field(&h, "kizuna audit record 1");
    mac_field(&h, prev);
    mac_field(&h, id);
    mac_field(&h, t);
    mac_field(&h, r->actor);
    mac_field(&h, r->action);
    mac_field(&h, r->object);
    mac_field(&h, r->detail);
    mac_final(&h, out);
}

/* ---- DATA/audit.key and DATA/audit.head ----------------------------------- */

static int file_path(const struct kz_store *st, const char *name, char *buf, size_t len)
{
    if (!st->audit_dir || (size_t)snprintf(buf, len, "%s/%s", st->audit_dir, name) >= len)
        return KZ_ERR_INVAL;
    return KZ_OK;
}

/* Read at most `len` bytes of `name`: the count, 0 when missing, or -1 (logged). */
static ssize_t read_small(const struct kz_store *st, const char *name, void *buf, size_t len,
                          mode_t *mode)
{
    char path[1024];
    struct stat sb;
    ssize_t n;
    int fd;

    if (file_path(st, name, path, sizeof(path)) != KZ_OK)
        return 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT)
            return 0;
        kz_log(KZ_LOG_ERROR, "audit: cannot read", "path=%s err=%s", path, strerror(errno));
        return -1;
    }
    *mode = fstat(fd, &sb) == 0 ? sb.st_mode : 0;
    n = read(fd, buf, len);
    close(fd);
    if (n < 0)
        kz_log(KZ_LOG_ERROR, "audit: cannot read", "path=%s err=%s", path, strerror(errno));
    return n;
}

/* 1 with the key, 0 when there is none yet, or KZ_ERR_IO (logged). */
static int key_read(const struct kz_store *st, unsigned char key[KEY_BYTES])
{
    unsigned char buf[KEY_BYTES + 1];
    mode_t mode = 0;
    ssize_t n = read_small(st, "audit.key", buf, sizeof(buf), &mode);

    if (n == 0)
        return 0;
    if (n != KEY_BYTES) {
        if (n > 0)
            kz_log(KZ_LOG_ERROR, "audit: audit.key is not 32 bytes", "dir=%s", st->audit_dir);
        sodium_memzero(buf, sizeof(buf));
        return KZ_ERR_IO;
    }
    if (mode & 077)
        kz_log(KZ_LOG_WARN, "audit: audit.key is readable by others (chmod 600 it)", "dir=%s",
               st->audit_dir);
    memcpy(key, buf, KEY_BYTES);
    sodium_memzero(buf, sizeof(buf));
    return 1;
}

static int key_load(const struct kz_store *st, unsigned char key[KEY_BYTES])
{
    char path[1024], err[1200];
    int rc = key_read(st, key);

    if (rc != 0)
        return rc == 1 ? KZ_OK : rc;
    /* A head without its key: the key was lost, and a new one would hide that. */
    if (file_path(st, "audit.head", path, sizeof(path)) != KZ_OK)
        return KZ_ERR_INVAL;
    if (access(path, F_OK) == 0) {
        kz_log(KZ_LOG_ERROR, "audit: audit.key is missing but audit.head exists; restore the key",
               "dir=%s", st->audit_dir);
        return KZ_ERR_IO;
    }
    if (file_path(st, "audit.key", path, sizeof(path)) != KZ_OK)
        return KZ_ERR_INVAL;
    randombytes_buf(key, KEY_BYTES);
    if (kz_write_file(path, key, KEY_BYTES, 0600, err, sizeof(err)) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "audit: cannot create the key", "err=%s", err);
        return KZ_ERR_IO;
    }
    kz_log(KZ_LOG_INFO, "audit: new chain key created", "path=%s", path);
    return KZ_OK;
}

/* The head file's text up to its tag line, which is the HMAC of that text. */
static int head_body(const struct audit_head *h, char *buf, size_t len)
{
    return snprintf(buf, len, "kizuna audit head 1\ncount %" PRIu64 "\nid %" PRId64 "\nmac %s\n",
                    h->count, h->id, h->mac);
}

static void head_tag(const unsigned char *key, const char *body, size_t len, char out[MAC_TEXT])
{
    crypto_auth_hmacsha256_state h;

    crypto_auth_hmacsha256_init(&h, key, KEY_BYTES);
    crypto_auth_hmacsha256_update(&h, (const unsigned char *)body, len);
    mac_final(&h, out);
}

size_t kz__audit_head_text(const unsigned char *key, uint64_t count, int64_t id, const char *mac,
                           char buf[KZ__AUDIT_HEAD_MAX])
{
    struct audit_head h = {.count = count, .id = id};
    char tag[MAC_TEXT];
    int n;

    snprintf(h.mac, sizeof(h.mac), "%s", mac);
    n = head_body(&h, buf, KZ__AUDIT_HEAD_MAX);
    head_tag(key, buf, (size_t)n, tag);
    n += snprintf(buf + n, KZ__AUDIT_HEAD_MAX - (size_t)n, "tag %s\n", tag);
    return (size_t)n;
}

static int head_write(const struct kz_store *st, const unsigned char *key,
                      const struct audit_head *h)
{
    char buf[KZ__AUDIT_HEAD_MAX], path[1024], err[1200];
    size_t n = kz__audit_head_text(key, h->count, h->id, h->mac, buf);

    if (file_path(st, "audit.head", path, sizeof(path)) != KZ_OK)
        return KZ_ERR_INVAL;
    if (kz_write_file(path, buf, n, 0600, err, sizeof(err)) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "audit: cannot write the head anchor", "err=%s", err);
        return KZ_ERR_IO;
    }
    return KZ_OK;
}

/* ANCHOR_OK with *h, ANCHOR_NONE (no file) or ANCHOR_LOST (forged, corrupt, unreadable). */
static enum anchor head_read(const struct kz_store *st, const unsigned char *key,
                             struct audit_head *h)
{
    char buf[HEAD_MAX], body[HEAD_MAX], tag[MAC_TEXT] = "", want[MAC_TEXT];
    mode_t mode;
    ssize_t n = read_small(st, "audit.head", buf, sizeof(buf) - 1, &mode);
    char *t;
    int len;

    if (n == 0)
        return ANCHOR_NONE;
    if (n < 0 || !key)
        return ANCHOR_LOST;
    buf[n] = '\0';
    memset(h, 0, sizeof(*h));
    if (!(t = strstr(buf, "tag ")) ||
        sscanf(buf, "kizuna audit head 1\ncount %" SCNu64 "\nid %" SCNd64 "\nmac %76s\n", &h->count,
               &h->id, h->mac) != 3 ||
        sscanf(t, "tag %76s", tag) != 1)
        return ANCHOR_LOST;
    len = head_body(h, body, sizeof(body));
    head_tag(key, body, (size_t)len, want);
    /* The body must be exactly what head_body() writes, and the tag its MAC. */
    if ((size_t)len != (size_t)(t - buf) || memcmp(body, buf, (size_t)len) != 0 ||
        sodium_memcmp(tag, want, MAC_TEXT) != 0)
        return ANCHOR_LOST;
    return ANCHOR_OK;
}

/* ---- appending ------------------------------------------------------------ */

static const char sql_last[] = "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1";
static const char sql_hash_at[] = "SELECT hash FROM audit WHERE id = ?1";
static const char sql_count[] = "SELECT count(*) FROM audit";
static const char sql_insert[] = "INSERT INTO audit(id, time, actor, action, object, detail,"
                                 " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

static const char sql_savepoint[] = "SAVEPOINT audit_change";
static const char sql_release[] = "RELEASE audit_change";
static const char sql_rollback_to[] = "ROLLBACK TO audit_change";

struct audit_job {
    struct kz__job job;
    unsigned char key[KEY_BYTES];
    enum anchor anchor;
    struct audit_head head;     /* the anchor when ANCHOR_OK */
    struct audit_head end;      /* out: the chain's new end */
    bool broke;                 /* out: the record links to the anchor, not the database */
    kz__audit_change_fn change; /* NULL: the record alone */
    void *change_arg;
    bool change_refused;  /* out: the schema refused the change */
    struct audit_rec rec; /* strings in data[] */
    char data[];
};

/* A PostgreSQL answer (pg_audit.c) as the SQLite code the write path speaks. */
static int lite_code(int err)
{
    return err == KZ_OK ? SQLITE_DONE : err == KZ_ERR_EXISTS ? SQLITE_CONSTRAINT : SQLITE_ERROR;
}

/* The database's last record: SQLITE_DONE with id 0 and GENESIS when empty. */
static int last_record(struct kz__db *db, int64_t *id, char prev[PREV_MAX])
{
    sqlite3_stmt *s;
    int rc;

    *id = 0;
    snprintf(prev, PREV_MAX, "%s", GENESIS);
    if (db->pg)
        return lite_code(kz__pg_audit_last(db, id, prev, PREV_MAX));
    if (!(s = kz__db_stmt(db, sql_last)))
        return SQLITE_ERROR;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        snprintf(prev, PREV_MAX, "%s", text(s, 1));
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* One integer or text from a one-row statement bound to `arg` (unless < 0). */
static int scalar(struct kz__db *db, const char *sql, int64_t arg, int64_t *n, char *t, size_t len)
{
    sqlite3_stmt *s;
    int rc;

    if (db->pg) /* the two scalars the write path asks for */
        return lite_code(sql == sql_count ? kz__pg_audit_count(db, n)
                                          : kz__pg_audit_hash_at(db, arg, t, len));
    if (!(s = kz__db_stmt(db, sql)))
        return SQLITE_ERROR;
    if (arg >= 0)
        sqlite3_bind_int64(s, 1, arg);
    if (t)
        t[0] = '\0';
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n)
            *n = sqlite3_column_int64(s, 0);
        if (t)
            snprintf(t, len, "%s", text(s, 0));
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_DONE : rc;
}

/*
 * Where the new record links.  To the database's last record when the
 * anchor vouches for it (the anchored record is still there, unchanged, and
 * at most the records after it are new), or when there is no anchor and no
 * keyed record yet.  Otherwise records were removed or the database was
 * replaced: the new record links to the anchor (or says the anchor was
 * lost), so the gap stays visible to every later verify.
 */
static int link_to(struct kz__db *db, struct audit_job *a, int64_t *id, char prev[PREV_MAX])
{
    char at[MAC_TEXT];
    int64_t last;
    int rc = last_record(db, &last, prev);

    if (rc != SQLITE_DONE)
        return rc;
    *id = last + 1;
    a->broke = false; /* a batch may run its writes again after a rollback */
    if (a->anchor == ANCHOR_OK) {
        if ((rc = scalar(db, sql_hash_at, a->head.id, NULL, at, sizeof(at))) != SQLITE_DONE)
            return rc;
        if (a->head.id == 0 || strcmp(at, a->head.mac) == 0)
            return SQLITE_DONE;
        snprintf(prev, PREV_MAX, "%s", a->head.mac);
        *id = (last > a->head.id ? last : a->head.id) + 1;
        a->broke = true;
    } else if (a->anchor == ANCHOR_LOST || keyed(prev)) {
        char end[PREV_MAX];
        snprintf(end, sizeof(end), "%s", prev);
        snprintf(prev, PREV_MAX, "%s%.*s", LOST, (int)MAC_TEXT - 1, end);
        a->broke = true;
    }
    return SQLITE_DONE;
}

/* In the batch's transaction, so the chain's end cannot change under us. */
static int insert_record(struct kz__db *db, struct audit_job *a)
{
    char prev[PREV_MAX];
    int64_t count = 0;
    sqlite3_stmt *s;
    int rc;

    if ((rc = link_to(db, a, &a->rec.id, prev)) != SQLITE_DONE ||
        (rc = scalar(db, sql_count, -1, &count, NULL, 0)) != SQLITE_DONE)
        return rc;
    record_mac(a->key, prev, &a->rec, a->end.mac);
    a->end.id = a->rec.id;
    a->end.count = (uint64_t)count + 1;
    if (db->pg) {
        struct kz__audit_row row = {a->rec.id,     a->rec.time,   a->rec.actor, a->rec.action,
                                    a->rec.object, a->rec.detail, prev,         a->end.mac};
        return lite_code(kz__pg_audit_insert(db, &row));
    }
    if (!(s = kz__db_stmt(db, sql_insert)))
        return SQLITE_ERROR;
    sqlite3_bind_int64(s, 1, a->rec.id);
    sqlite3_bind_int64(s, 2, a->rec.time);
    kz__bind_text(s, 3, a->rec.actor);
    kz__bind_text(s, 4, a->rec.action);
    kz__bind_text(s, 5, a->rec.object);
    kz__bind_text(s, 6, a->rec.detail);
    kz__bind_text(s, 7, prev);
    kz__bind_text(s, 8, a->end.mac);
    return kz__db_step(s);
}

static int savepoint(struct kz__db *db, const char *sql)
{
    sqlite3_stmt *s = kz__db_stmt(db, sql);

    return s ? kz__db_step(s) : SQLITE_ERROR;
}

/*
 * The change and its record under one savepoint: a row the schema refuses
 * (either of them) refuses this job alone and leaves neither behind, while
 * the rest of the batch commits.
 */
static int write_with_change(struct kz__db *db, struct audit_job *a)
{
    int rc = savepoint(db, sql_savepoint);

    if (rc != SQLITE_DONE)
        return rc;
    rc = a->change(db, a->change_arg);
    a->change_refused = (rc & 0xff) == SQLITE_CONSTRAINT;
    if (rc == SQLITE_DONE)
        rc = insert_record(db, a);
    if (rc == SQLITE_DONE)
        return savepoint(db, sql_release);
    /* An error that ended the transaction took the savepoint with it. */
    if (!sqlite3_get_autocommit(db->db)) {
        savepoint(db, sql_rollback_to);
        savepoint(db, sql_release);
    }
    return rc;
}

static int write_record(struct kz__db *db, struct kz__job *job)
{
    struct audit_job *a = (struct audit_job *)job;

    return a->change ? write_with_change(db, a) : insert_record(db, a);
}

/* PostgreSQL: pg_batch.c runs the job under a savepoint, refused (KZ_ERR_EXISTS) alone. */
static int pg_write_record(struct kz__db *db, struct kz__job *job)
{
    struct audit_job *a = (struct audit_job *)job;
    int rc = a->change ? a->change(db, a->change_arg) : SQLITE_DONE;

    a->change_refused = (rc & 0xff) == SQLITE_CONSTRAINT;
    if (rc == SQLITE_DONE)
        rc = insert_record(db, a);
    return rc == SQLITE_DONE ? KZ_OK : (rc & 0xff) == SQLITE_CONSTRAINT ? KZ_ERR_EXISTS : KZ_ERR_DB;
}

static const struct kz__job_ops append_ops = {
    .table = "audit",
    .write = write_record,
    .pg_write = pg_write_record,
};

/* The same, named for the log lines of a refused change. */
static const struct kz__job_ops change_ops = {
    .table = "audit (with the change it records)",
    .write = write_record,
    .pg_write = pg_write_record,
};

static struct audit_job *job_new(const struct kz_store_audit_rec *r, kz__audit_change_fn change,
                                 void *arg)
{
    struct audit_job *a = kz__job_new(change ? &change_ops : &append_ops, sizeof(*a),
                                      kz__str_size(r->actor) + kz__str_size(r->action) +
                                          kz__str_size(r->object) + kz__str_size(r->detail));
    char *p = a->data;

    a->change = change;
    a->change_arg = arg;
    a->rec.time = kz_now_us();
    a->rec.actor = kz__pack_str(&p, r->actor);
    a->rec.action = kz__pack_str(&p, r->action);
    a->rec.object = kz__pack_str(&p, r->object);
    a->rec.detail = kz__pack_str(&p, r->detail);
    return a;
}

static int append_locked(struct kz_store *st, struct audit_job *a)
{
    int rc = key_load(st, a->key);

    if (rc != KZ_OK)
        return rc;
    a->anchor = head_read(st, a->key, &a->head);
    if (a->anchor == ANCHOR_LOST)
        kz_log(KZ_LOG_ERROR, "audit: audit.head is forged or corrupt; run kizuna audit verify",
               "dir=%s", st->audit_dir);
    if ((rc = kz__store_run_sync(st, &a->job)) != KZ_OK)
        return rc == KZ_ERR_DB && a->change_refused ? KZ_ERR_EXISTS : rc;
    if (a->broke)
        kz_log(KZ_LOG_ERROR,
               "audit: the chain does not end where audit.head says; "
               "run kizuna audit verify",
               "id=%lld", (long long)a->end.id);
    return head_write(st, a->key, &a->end);
}

int kz__audit_append(struct kz_store *st, const struct kz_store_audit_rec *r,
                     kz__audit_change_fn change, void *arg)
{
    struct audit_job *a;
    int rc;

    if (!r->actor || !r->action || !r->object || !r->detail || !st->audit_dir)
        return KZ_ERR_INVAL;
    if (sodium_init() < 0)
        return KZ_ERR_IO;
    a = job_new(r, change, arg);
    uv_mutex_lock(&st->audit_mu);
    rc = append_locked(st, a);
    uv_mutex_unlock(&st->audit_mu);
    sodium_memzero(a->key, sizeof(a->key));
    kz__job_free(&a->job);
    return rc;
}

int kz_store_audit(struct kz_store *st, const char *actor, const char *action, const char *object,
                   const char *detail)
{
    struct kz_store_audit_rec r = {actor, action, object, detail};

    return kz__audit_append(st, &r, NULL, NULL);
}

/* ---- reading and verifying ------------------------------------------------ */

int kz_store_audit_last(struct kz_store *st, const char *action, const char *object, char **detail)
{
    sqlite3_stmt *s = NULL;
    int rc;

    *detail = NULL;
    uv_mutex_lock(&st->db_mu);
    if (st->db.pg) {
        rc = kz__pg_audit_last_detail(&st->db, action, object, detail);
        uv_mutex_unlock(&st->db_mu);
        return rc;
    }
    rc = sqlite3_prepare_v2(st->db.db,
                            "SELECT detail FROM audit WHERE action = ? AND object = ? "
                            "ORDER BY id DESC LIMIT 1",
                            -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, action, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, object, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *detail = kz_xstrdup(text(s, 0));
    }
    sqlite3_finalize(s);
    uv_mutex_unlock(&st->db_mu);
    return rc == SQLITE_ROW ? KZ_OK : rc == SQLITE_DONE ? KZ_ERR_NOTFOUND : KZ_ERR_DB;
}

/* What the verify walk knows so far. */
struct walk {
    unsigned char key[KEY_BYTES];
    bool have_key, seen_keyed;
    bool shared; /* a cluster's instances write the chain: this one's anchor may lag its end */
    char prev[PREV_MAX];
    int64_t last_id;
    enum anchor anchor;
    struct audit_head head;
    char at_head[MAC_TEXT]; /* the hash of the record the anchor names */
    struct kz_store_audit_check *c;
};

static const char *check_hash(struct walk *w, const struct audit_rec *r, const char *prev,
                              const char *hash)
{
    char want[MAC_TEXT];

    if (!keyed(hash)) {
        if (w->seen_keyed)
            return "an unkeyed record follows keyed ones: forged";
        chain_hash(prev, r->time, r->actor, r->action, r->object, r->detail, want);
        if (strcmp(want, hash) != 0)
            return "the record was edited: its hash does not match";
        w->c->legacy++;
        return NULL;
    }
    if (strlen(hash) != MAC_TEXT - 1)
        return "the record's MAC is malformed";
    if (!w->have_key)
        return "the chain has keyed records but audit.key is missing or unreadable";
    record_mac(w->key, prev, r, want);
    if (sodium_memcmp(want, hash, MAC_TEXT) != 0)
        return "the record was edited or forged: its MAC does not match";
    w->seen_keyed = true;
    return NULL;
}

static const char *check_row(struct walk *w, const struct kz__audit_row *row)
{
    struct audit_rec r = {row->id, row->time, row->actor, row->action, row->object, row->detail};
    const char *prev = row->prev_hash, *hash = row->hash;
    const char *problem =
        strlen(hash) >= MAC_TEXT ? "the record's MAC is malformed" : check_hash(w, &r, prev, hash);

    if (!problem && strcmp(prev, w->prev) != 0)
        problem = strncmp(prev, LOST, sizeof(LOST) - 1) == 0
                      ? "the record was appended while audit.head was missing or forged"
                      : "records before this one were removed: it does not link to its "
                        "predecessor";
    if (problem) {
        w->c->bad_id = r.id;
        return problem;
    }
    snprintf(w->prev, sizeof(w->prev), "%s", hash);
    w->last_id = r.id;
    if (r.id == w->head.id)
        snprintf(w->at_head, sizeof(w->at_head), "%s", hash);
    w->c->records++;
    return NULL;
}

/* The chain's end against the head anchor. */
static const char *check_end(const struct walk *w)
{
    if (w->anchor == ANCHOR_NONE)
        return w->seen_keyed ? "audit.head is missing: the end of the chain cannot be checked"
                             : NULL;
    if (w->anchor == ANCHOR_LOST)
        return "audit.head is forged or corrupt (or audit.key is missing): its MAC does not "
               "match";
    if (w->c->records < w->head.count || w->last_id < w->head.id)
        return "the chain ends before audit.head: records were removed from the end, or the "
               "database was replaced by an older copy";
    if (strcmp(w->at_head, w->head.mac) != 0)
        return "the record audit.head names differs: the database was replaced";
    if (w->c->records > w->head.count && !w->shared)
        return "audit.head is behind the chain: it was rolled back (or the server stopped "
               "between a commit and the head update)";
    return NULL;
}

/*
 * Each record (of `object`, or every one when NULL), oldest first, to fn until it says
 * false; on the store's connection under its lock.
 */
static int each_record(struct kz_store *st, const char *object,
                       bool (*fn)(void *ud, const struct kz__audit_row *r), void *ud)
{
    static const char all[] = "SELECT id, time, actor, action, object, detail, prev_hash, hash"
                              " FROM audit ORDER BY id";
    static const char of[] = "SELECT id, time, actor, action, object, detail, prev_hash, hash"
                             " FROM audit WHERE object = ?1 ORDER BY id";
    sqlite3_stmt *s = NULL;
    int rc;

    uv_mutex_lock(&st->db_mu);
    if (st->db.pg) {
        rc = kz__pg_audit_each(&st->db, object, fn, ud);
        uv_mutex_unlock(&st->db_mu);
        return rc;
    }
    rc = sqlite3_prepare_v2(st->db.db, object ? of : all, -1, &s, NULL);
    if (rc == SQLITE_OK && object)
        rc = sqlite3_bind_text(s, 1, object, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct kz__audit_row r = {sqlite3_column_int64(s, 0),
                                  sqlite3_column_int64(s, 1),
                                  text(s, 2),
                                  text(s, 3),
                                  text(s, 4),
                                  text(s, 5),
                                  text(s, 6),
                                  text(s, 7)};
        rc = fn(ud, &r) ? SQLITE_OK : SQLITE_DONE;
    }
    sqlite3_finalize(s);
    uv_mutex_unlock(&st->db_mu);
    return rc == SQLITE_DONE ? KZ_OK : KZ_ERR_DB;
}

static bool walk_row(void *ud, const struct kz__audit_row *row)
{
    struct walk *w = ud;
    return !(w->c->problem = check_row(w, row));
}

int kz_store_audit_verify(struct kz_store *st, struct kz_store_audit_check *c)
{
    struct walk w = {.prev = GENESIS, .c = c};
    int rc;

    memset(c, 0, sizeof(*c));
    if (sodium_init() < 0)
        return KZ_ERR_IO;
    w.have_key = st->audit_dir && key_read(st, w.key) == 1;
    w.anchor = head_read(st, w.have_key ? w.key : NULL, &w.head);
    w.shared = kz__pg_is_shared(&st->db);
    rc = each_record(st, NULL, walk_row, &w);
    if (rc == KZ_OK && !c->problem)
        c->problem = check_end(&w);
    c->anchored = w.anchor == ANCHOR_OK && !c->problem;
    sodium_memzero(w.key, sizeof(w.key));
    if (rc != KZ_OK)
        return rc;
    return c->problem ? KZ_ERR_INVAL : KZ_OK;
}

struct list_ctx {
    kz_store_audit_fn fn;
    void *ud;
};

static bool list_row(void *ud, const struct kz__audit_row *r)
{
    struct list_ctx *l = ud;

    l->fn(l->ud, r->id, r->time, r->actor, r->action, r->object, r->detail);
    return true;
}

int kz_store_audit_list(struct kz_store *st, kz_store_audit_fn fn, void *ud)
{
    struct list_ctx l = {fn, ud};
    return each_record(st, NULL, list_row, &l);
}

int kz_store_audit_list_object(struct kz_store *st, const char *object, kz_store_audit_fn fn,
                               void *ud)
{
    struct list_ctx l = {fn, ud};
    return object ? each_record(st, object, list_row, &l) : KZ_ERR_INVAL;
}

/* ---- the store's audit state ---------------------------------------------- */

void kz__audit_init(struct kz_store *st, const char *db_path)
{
    const char *slash = strrchr(db_path, '/');

    KZ_ASSERT(uv_mutex_init(&st->audit_mu) == 0);
    if (slash) /* "/kizuna.db" lives in "/" */
        st->audit_dir = kz_xstrndup(db_path, slash == db_path ? 1 : (size_t)(slash - db_path));
    else if (db_path[0] && strcmp(db_path, ":memory:") != 0)
        st->audit_dir = kz_xstrdup(".");
}

void kz_store_set_audit_dir(struct kz_store *st, const char *dir)
{
    uv_mutex_lock(&st->audit_mu);
    free(st->audit_dir);
    st->audit_dir = kz_xstrdup(dir);
    uv_mutex_unlock(&st->audit_mu);
}

void kz__audit_free(struct kz_store *st)
{
    uv_mutex_destroy(&st->audit_mu);
    free(st->audit_dir);
}
