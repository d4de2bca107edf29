/*
 * kv.c - keys, values and the last-writer-wins write of the latest-state
 * bucket (kv.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cluster/kv.h"
#include "proto/cluster_kv.pb-c.h"

/* ---- keys ------------------------------------------------------------ */

static const char hexdigits[] = "0123456789abcdef";

static void hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[p[i] >> 4];
        out[2 * i + 1] = hexdigits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int kz_kv_key(char key[KZ_KV_KEY_SIZE], const char *uid, size_t len)
{
    if (!uid || len == 0)
        return KZ_ERR_INVAL;
    if (len > KZ_KV_UID_MAX)
        return KZ_ERR_TOOBIG;
    if (len <= KZ_KV_UID_HEX_MAX) {
        key[0] = 'x';
        hex(key + 1, (const uint8_t *)uid, len);
        return KZ_OK;
    }
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *)uid, len);
    key[0] = 's';
    hex(key + 1, h, sizeof(h));
    return KZ_OK;
}

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int kz_kv_key_uid(const char *key, char **uid, size_t *len)
{
    size_t n = key ? strlen(key) : 0;

    if (n == 1 + 2 * crypto_hash_sha256_BYTES && key[0] == 's')
        return KZ_ERR_NOTFOUND;
    if (n < 3 || key[0] != 'x' || (n - 1) % 2 != 0 || (n - 1) / 2 > KZ_KV_UID_HEX_MAX)
        return KZ_ERR_PARSE;
    size_t m = (n - 1) / 2;
    char *out = kz_xmalloc(m + 1);
    for (size_t i = 0; i < m; i++) {
        int hi = unhex(key[1 + 2 * i]), lo = unhex(key[2 + 2 * i]);
        if (hi < 0 || lo < 0) {
            free(out);
            return KZ_ERR_PARSE;
        }
        out[i] = (char)(hi << 4 | lo);
    }
    out[m] = '\0';
    *uid = out;
    *len = m;
    return KZ_OK;
}

/* ---- records ----------------------------------------------------------- */

void kz_latest_rec_clear(struct kz_latest_rec *r)
{
    free(r->uid);
    free(r->xml);
    free(r->label);
    free(r->origin_node);
    free(r->origin_input);
    free(r->origin_user);
    free(r->origin_nation);
    free(r->origin_groups);
    free(r->provenance);
    free(r->scope);
    memset(r, 0, sizeof(*r));
}

void kz_latest_rec_copy(struct kz_latest_rec *dst, const struct kz_latest_rec *src)
{
    *dst = *src;
    dst->uid = src->uid ? kz_xstrndup(src->uid, src->uid_len) : NULL;
    dst->xml = src->xml ? kz_xmemdup(src->xml, src->xml_len) : NULL;
    dst->label = kz_xstrdup(src->label);
    dst->origin_node = kz_xstrdup(src->origin_node);
    dst->origin_input = kz_xstrdup(src->origin_input);
    dst->origin_user = kz_xstrdup(src->origin_user);
    dst->origin_nation = kz_xstrdup(src->origin_nation);
    dst->origin_groups = kz_xstrdup(src->origin_groups);
    dst->provenance = kz_xstrdup(src->provenance);
    dst->scope = kz_xstrdup(src->scope);
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

int kz_latest_cmp(const struct kz_latest_rec *a, const struct kz_latest_rec *b)
{
    int c = cmp_i64(a->time, b->time);
    if (c == 0)
        c = cmp_i64(a->start, b->start);
    if (c == 0)
        c = (int)a->deleted - (int)b->deleted;
    if (c == 0) {
        size_t n = a->xml_len < b->xml_len ? a->xml_len : b->xml_len;
        c = n ? memcmp(a->xml, b->xml, n) : 0;
        if (c == 0)
            c = cmp_i64((int64_t)a->xml_len, (int64_t)b->xml_len);
    }
    return c < 0 ? -1 : c > 0;
}

/* protobuf-c wants char *; an absent string is the empty one. */
static char *pb_str(const char *s)
{
    return (char *)(s ? s : "");
}

/* The empty string (protobuf's absent) as NULL, else a copy. */
static char *opt_str(const char *s)
{
    return s && *s ? kz_xstrdup(s) : NULL;
}

int kz_latest_rec_encode(const struct kz_latest_rec *r, uint8_t **out, size_t *len)
{
    Kizuna__Cluster__LatestValue v = KIZUNA__CLUSTER__LATEST_VALUE__INIT;

    if (!r->uid || r->uid_len == 0 || strlen(r->uid) != r->uid_len)
        return KZ_ERR_INVAL;
    v.uid = r->uid;
    v.time = r->time;
    v.start = r->start;
    v.stale = r->stale;
    v.xml.data = (uint8_t *)r->xml;
    v.xml.len = r->xml ? r->xml_len : 0;
    v.label = pb_str(r->label);
    v.origin_node = pb_str(r->origin_node);
    v.origin_input = pb_str(r->origin_input);
    v.origin_user = pb_str(r->origin_user);
    v.origin_nation = pb_str(r->origin_nation);
    v.origin_groups = pb_str(r->origin_groups);
    v.deleted = r->deleted;
    v.federated = r->federated;
    v.provenance = pb_str(r->provenance);
    v.hops = r->hops;
    v.max_hops = r->max_hops;
    v.recv_time = r->recv_time;
    v.scope = pb_str(r->scope);
    v.bound = r->bound;
    size_t n = kizuna__cluster__latest_value__get_packed_size(&v);
    if (n > KZ_KV_VALUE_MAX)
        return KZ_ERR_TOOBIG;
    *out = kz_xmalloc(n ? n : 1);
    *len = kizuna__cluster__latest_value__pack(&v, *out);
    return KZ_OK;
}

int kz_latest_rec_decode(struct kz_latest_rec *r, const void *data, size_t len)
{
    memset(r, 0, sizeof(*r));
    if (len > KZ_KV_VALUE_MAX)
        return KZ_ERR_PARSE;
    Kizuna__Cluster__LatestValue *v =
        kizuna__cluster__latest_value__unpack(NULL, len, (const uint8_t *)data);
    if (!v)
        return KZ_ERR_PARSE;
    int rc = KZ_ERR_PARSE;
    if (!v->uid || !*v->uid || strlen(v->uid) > KZ_KV_UID_MAX)
        goto out;
    r->uid = kz_xstrdup(v->uid);
    r->uid_len = strlen(v->uid);
    r->time = v->time;
    r->start = v->start;
    r->stale = v->stale;
    if (v->xml.len) {
        r->xml = kz_xmemdup(v->xml.data, v->xml.len);
        r->xml_len = v->xml.len;
    }
    r->label = opt_str(v->label);
    r->origin_node = opt_str(v->origin_node);
    r->origin_input = opt_str(v->origin_input);
    r->origin_user = opt_str(v->origin_user);
    r->origin_nation = opt_str(v->origin_nation);
    r->origin_groups = opt_str(v->origin_groups);
    r->deleted = v->deleted;
    r->federated = v->federated;
    r->provenance = opt_str(v->provenance);
    r->hops = v->hops;
    r->max_hops = v->max_hops;
    r->recv_time = v->recv_time;
    r->scope = opt_str(v->scope);
    r->bound = v->bound;
    rc = KZ_OK;
out:
    kizuna__cluster__latest_value__free_unpacked(v, NULL);
    return rc;
}

/* ---- the bucket -------------------------------------------------------- */

static bool bucket_name_ok(const char *b)
{
    size_t n = strlen(b);
    if (n == 0 || n >= sizeof(((struct kz_kv *)0)->bucket))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z') ||
              (b[i] >= '0' && b[i] <= '9') || b[i] == '_' || b[i] == '-'))
            return false;
    return true;
}

/* Per attempt, so at debug level: the threads that retry say it once (latest.c, lease.c). */
static void log_nats(const char *what, const char *bucket, natsStatus s)
{
    char q[256];
    const char *text = nats_GetLastError(NULL);
    kz_log(KZ_LOG_DEBUG, what, "bucket=%s status=%d error=%s", bucket, (int)s,
           kz_log_quote(q, sizeof(q), text ? text : natsStatus_GetText(s),
                        strlen(text ? text : natsStatus_GetText(s))));
}

int kz_kv_open(struct kz_kv *kv, natsConnection *nc, const char *bucket, int64_t ttl_us)
{
    memset(kv, 0, sizeof(*kv));
    if (!nc || !bucket || !bucket_name_ok(bucket) || ttl_us < 0)
        return KZ_ERR_INVAL;
    snprintf(kv->bucket, sizeof(kv->bucket), "%s", bucket);
    kv->nc = nc;
    natsStatus s = natsConnection_JetStream(&kv->js, nc, NULL);
    if (s == NATS_OK)
        s = js_KeyValue(&kv->kv, kv->js, bucket);
    if (s == NATS_NOT_FOUND) {
        kvConfig cfg;
        kvConfig_Init(&cfg);
        cfg.Bucket = bucket;
        cfg.History = 1;
        cfg.StorageType = js_FileStorage;
        cfg.MaxValueSize = KZ_KV_VALUE_MAX;
        cfg.TTL = ttl_us * 1000; /* ns */
        s = js_CreateKeyValue(&kv->kv, kv->js, &cfg);
    }
    if (s != NATS_OK) {
        log_nats("cluster: opening the KV bucket failed", bucket, s);
        kz_kv_close(kv);
        return KZ_ERR_AGAIN;
    }
    return KZ_OK;
}

void kz_kv_close(struct kz_kv *kv)
{
    if (kv->kv)
        kvStore_Destroy(kv->kv);
    if (kv->js)
        jsCtx_Destroy(kv->js);
    kv->kv = NULL;
    kv->js = NULL;
}

/* The entry under key: KZ_OK with *e, KZ_ERR_NOTFOUND, or KZ_ERR_AGAIN. */
static int get_entry(struct kz_kv *kv, const char *key, kvEntry **e)
{
    natsStatus s = kvStore_Get(e, kv->kv, key);
    if (s == NATS_NOT_FOUND)
        return KZ_ERR_NOTFOUND;
    if (s != NATS_OK) {
        log_nats("cluster: kvStore_Get() failed", kv->bucket, s);
        return KZ_ERR_AGAIN;
    }
    return KZ_OK;
}

static int decode_entry(kvEntry *e, const char *uid, size_t len, struct kz_latest_rec *r)
{
    int vl = kvEntry_ValueLen(e);
    int rc = kz_latest_rec_decode(r, kvEntry_Value(e), vl > 0 ? (size_t)vl : 0);
    if (rc == KZ_OK && (r->uid_len != len || memcmp(r->uid, uid, len) != 0)) {
        kz_latest_rec_clear(r);
        rc = KZ_ERR_PARSE; /* a SHA-256 collision, or a foreign writer */
    }
    if (rc == KZ_OK)
        r->revision = kvEntry_Revision(e);
    return rc;
}

int kz_kv_latest_get(struct kz_kv *kv, const char *uid, size_t len, struct kz_latest_rec *r)
{
    char key[KZ_KV_KEY_SIZE];
    kvEntry *e = NULL;

    memset(r, 0, sizeof(*r));
    int rc = kz_kv_key(key, uid, len);
    if (rc != KZ_OK)
        return rc;
    rc = get_entry(kv, key, &e);
    if (rc != KZ_OK)
        return rc;
    rc = decode_entry(e, uid, len, r);
    kvEntry_Destroy(e);
    return rc;
}

static void hint_set(struct kz_kv_hint *h, const struct kz_latest_rec *r, uint64_t rev)
{
    if (!h)
        return;
    h->known = rev != 0;
    h->rev = rev;
    h->time = r->time;
    h->start = r->start;
    h->deleted = r->deleted;
}

/*
 * One attempt: read, compare, write on the revision read.  KZ_OK with
 * *outcome; KZ_ERR_EXISTS when another writer got in between (try again);
 * KZ_ERR_AGAIN for NATS.
 */
static int put_once(struct kz_kv *kv, const char *key, const struct kz_latest_rec *r,
                    const uint8_t *val, size_t n, struct kz_kv_hint *hint, enum kz_kv_put *outcome,
                    uint64_t *rev)
{
    kvEntry *e = NULL;
    uint64_t last = 0;
    int rc = get_entry(kv, key, &e);

    if (rc == KZ_ERR_AGAIN)
        return rc;
    if (rc == KZ_OK) {
        struct kz_latest_rec cur;
        last = kvEntry_Revision(e);
        /* An entry that does not decode, or holds another uid, is overwritten. */
        if (decode_entry(e, r->uid, r->uid_len, &cur) == KZ_OK) {
            bool older = kz_latest_cmp(r, &cur) <= 0;
            if (older)
                hint_set(hint, &cur, last);
            kz_latest_rec_clear(&cur);
            if (older) {
                kvEntry_Destroy(e);
                *outcome = KZ_KV_OLDER;
                return KZ_OK;
            }
        }
        kvEntry_Destroy(e);
    }
    natsStatus s = last ? kvStore_Update(rev, kv->kv, key, val, (int)n, last)
                        : kvStore_Create(rev, kv->kv, key, val, (int)n);
    if (s != NATS_OK)
        return KZ_ERR_EXISTS;
    hint_set(hint, r, *rev);
    *outcome = KZ_KV_WRITTEN;
    return KZ_OK;
}

/*
 * Without a read: the entry is at least what the hint says (the bucket only
 * moves forward), so a record older than the hint is older than the entry,
 * and a newer one is written on the hint's revision.  KZ_ERR_EXISTS: the
 * hint says too little (the same times) or is out of date: read.
 */
static int put_hinted(struct kz_kv *kv, const char *key, const struct kz_latest_rec *r,
                      const uint8_t *val, size_t n, struct kz_kv_hint *hint,
                      enum kz_kv_put *outcome, uint64_t *rev)
{
    int c = cmp_i64(r->time, hint->time);
    if (c == 0)
        c = cmp_i64(r->start, hint->start);
    if (c == 0)
        c = (int)r->deleted - (int)hint->deleted;
    if (c < 0) {
        *outcome = KZ_KV_OLDER;
        return KZ_OK;
    }
    if (c == 0 || kvStore_Update(rev, kv->kv, key, val, (int)n, hint->rev) != NATS_OK) {
        hint->known = false;
        return KZ_ERR_EXISTS;
    }
    hint_set(hint, r, *rev);
    *outcome = KZ_KV_WRITTEN;
    return KZ_OK;
}

int kz_kv_latest_put(struct kz_kv *kv, const struct kz_latest_rec *r, enum kz_kv_put *outcome,
                     uint64_t *rev)
{
    return kz_kv_latest_put_hinted(kv, r, NULL, outcome, rev);
}

int kz_kv_latest_put_hinted(struct kz_kv *kv, const struct kz_latest_rec *r,
                            struct kz_kv_hint *hint, enum kz_kv_put *outcome, uint64_t *rev)
{
    char key[KZ_KV_KEY_SIZE];
    uint8_t *val = NULL;
    size_t n = 0;
    uint64_t written = 0;

    int rc = kz_kv_key(key, r->uid, r->uid_len);
    if (rc == KZ_OK)
        rc = kz_latest_rec_encode(r, &val, &n);
    if (rc == KZ_OK && hint && hint->known)
        rc = put_hinted(kv, key, r, val, n, hint, outcome, &written);
    else if (rc == KZ_OK)
        rc = KZ_ERR_EXISTS; /* no hint: read first */
    for (int i = 0; rc == KZ_ERR_EXISTS; i++) {
        if (i == KZ_KV_PUT_TRIES) {
            kz_log(KZ_LOG_WARN, "cluster: a latest-state key stayed contended",
                   "bucket=%s key=%.64s", kv->bucket, key);
            rc = KZ_ERR_AGAIN;
            break;
        }
        rc = put_once(kv, key, r, val, n, hint, outcome, &written);
    }
    if (rc != KZ_OK && hint)
        hint->known = false;
    free(val);
    if (rev)
        *rev = rc == KZ_OK ? written : 0;
    return rc;
}

int kz_kv_remove_at(struct kz_kv *kv, const char *key, uint64_t rev, bool purge)
{
    char subj[KZ_KV_KEY_SIZE + 128];
    natsMsg *msg = NULL;
    jsPubOptions po;
    jsErrCode jerr = 0;

    if (!key || !*key || strlen(key) >= KZ_KV_KEY_SIZE || rev == 0)
        return KZ_ERR_INVAL;
    snprintf(subj, sizeof(subj), "$KV.%s.%s", kv->bucket, key);
    natsStatus s = natsMsg_Create(&msg, subj, NULL, NULL, 0);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "KV-Operation", purge ? "PURGE" : "DEL");
    if (s == NATS_OK && purge)
        s = natsMsgHeader_Set(msg, "Nats-Rollup", "sub");
    jsPubOptions_Init(&po);
    po.ExpectLastSubjectSeq = rev;
    if (s == NATS_OK)
        s = js_PublishMsg(NULL, kv->js, msg, &po, &jerr);
    natsMsg_Destroy(msg);
    if (s != NATS_OK) {
        return KZ_ERR_EXISTS;
    }
    return KZ_OK;
}

bool kz_latest_expired(const struct kz_latest_rec *r, int64_t now, int64_t stale_grace,
                       int64_t tombstone_ttl)
{
    if (r->deleted)
        return now - r->time > tombstone_ttl && now - r->stale > tombstone_ttl;
    return now - r->stale > stale_grace;
}

static int sweep_key(struct kz_kv *kv, const char *key, int64_t now, int64_t stale_grace,
                     int64_t tombstone_ttl, size_t *purged)
{
    kvEntry *e = NULL;
    struct kz_latest_rec r;
    int rc = get_entry(kv, key, &e);

    if (rc != KZ_OK)
        return rc == KZ_ERR_NOTFOUND ? KZ_OK : rc;
    int vl = kvEntry_ValueLen(e);
    if (kz_latest_rec_decode(&r, kvEntry_Value(e), vl > 0 ? (size_t)vl : 0) == KZ_OK) {
        if (kz_latest_expired(&r, now, stale_grace, tombstone_ttl) &&
            kz_kv_remove_at(kv, key, kvEntry_Revision(e), true) == KZ_OK)
            (*purged)++;
        kz_latest_rec_clear(&r);
    }
    kvEntry_Destroy(e);
    return KZ_OK;
}

int kz_kv_latest_sweep(struct kz_kv *kv, int64_t now, int64_t stale_grace, int64_t tombstone_ttl,
                       size_t *purged)
{
    kvKeysList keys = {0};
    kvWatchOptions o;
    size_t n = 0;
    int rc = KZ_OK;

    kvWatchOptions_Init(&o);
    o.Timeout = 10000;
    natsStatus s = kvStore_Keys(&keys, kv->kv, &o);
    if (s == NATS_NOT_FOUND) { /* an empty bucket */
        s = NATS_OK;
    }
    if (s != NATS_OK) {
        log_nats("cluster: kvStore_Keys() failed", kv->bucket, s);
        return KZ_ERR_AGAIN;
    }
    for (int i = 0; i < keys.Count && rc == KZ_OK; i++)
        rc = sweep_key(kv, keys.Keys[i], now, stale_grace, tombstone_ttl, &n);
    kvKeysList_Destroy(&keys);
    if (n)
        kz_log(KZ_LOG_INFO, "cluster: latest state swept", "bucket=%s purged=%zu", kv->bucket, n);
    if (purged)
        *purged = n;
    return rc;
}

/* ---- watching --------------------------------------------------------- */

int kz_kv_watch_start(struct kz_kv_watch *w, struct kz_kv *kv, const char *keys)
{
    char subj[KZ_KV_KEY_SIZE + 128], stream[128];
    jsSubOptions so;
    jsConsumerInfo *ci = NULL;

    memset(w, 0, sizeof(*w));
    snprintf(subj, sizeof(subj), "$KV.%s.%s", kv->bucket, keys);
    snprintf(stream, sizeof(stream), "KV_%s", kv->bucket);
    w->prefix_len = strlen(kv->bucket) + 5;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Config.DeliverPolicy = js_DeliverLastPerSubject;
    so.Config.AckPolicy = js_AckNone;
    natsStatus s = js_SubscribeSync(&w->sub, kv->js, subj, NULL, &so, NULL);
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(w->sub, -1, -1);
    if (s == NATS_OK)
        s = natsSubscription_GetConsumerInfo(&ci, w->sub, NULL, NULL);
    if (s != NATS_OK) {
        log_nats("cluster: watching the KV bucket failed", kv->bucket, s);
        kz_kv_watch_stop(w);
        return KZ_ERR_AGAIN;
    }
    /* Nothing to deliver and nothing delivered: the snapshot is empty. */
    if (ci->NumPending == 0 && ci->Delivered.Consumer == 0)
        w->marker_due = true;
    jsConsumerInfo_Destroy(ci);
    return KZ_OK;
}

static enum kz_kv_op op_of(natsMsg *m)
{
    const char *v = NULL;
    if (natsMsgHeader_Get(m, "KV-Operation", &v) == NATS_OK && v &&
        (strcmp(v, "DEL") == 0 || strcmp(v, "PURGE") == 0))
        return KZ_KV_OP_DEL;
    return KZ_KV_OP_PUT;
}

int kz_kv_watch_next(struct kz_kv_watch *w, int64_t timeout_ms, struct kz_kv_change *c)
{
    natsMsg *m = NULL;
    jsMsgMetaData *meta = NULL;

    memset(c, 0, sizeof(*c));
    if (w->marker_due) {
        w->marker_due = false;
        w->snapshot_done = true;
        c->op = KZ_KV_OP_SNAPSHOT;
        return KZ_OK;
    }
    natsStatus s = natsSubscription_NextMsg(&m, w->sub, timeout_ms > 0 ? timeout_ms : 1);
    if (s == NATS_TIMEOUT)
        return KZ_ERR_AGAIN;
    if (s == NATS_OK)
        s = natsMsg_GetMetaData(&meta, m);
    if (s != NATS_OK || strlen(natsMsg_GetSubject(m)) <= w->prefix_len) {
        natsMsg_Destroy(m);
        return KZ_ERR_IO;
    }
    c->msg = m;
    c->op = op_of(m);
    c->key = natsMsg_GetSubject(m) + w->prefix_len;
    c->data = natsMsg_GetData(m);
    c->len = (size_t)natsMsg_GetDataLength(m);
    c->rev = meta->Sequence.Stream;
    /* The last message pending when it was sent ends the snapshot. */
    if (!w->snapshot_done && meta->NumPending == 0)
        w->marker_due = true;
    jsMsgMetaData_Destroy(meta);
    return KZ_OK;
}

void kz_kv_change_clear(struct kz_kv_change *c)
{
    natsMsg_Destroy(c->msg);
    memset(c, 0, sizeof(*c));
}

void kz_kv_watch_stop(struct kz_kv_watch *w)
{
    if (w->sub) {
        natsSubscription_Unsubscribe(w->sub);
        natsSubscription_Destroy(w->sub);
    }
    memset(w, 0, sizeof(*w));
}
