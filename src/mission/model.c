/*
 * model.c - the mission book: missions by name, their subscriptions, their
 * contents and their change log.  Loop thread only; the caller commits a
 * change through the store before it answers (marti/missions.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "mission/mission.h"

struct kz_mission_book {
    struct kz_mission **m;
    unsigned n, cap;
    uint64_t last_change;
};

struct kz_mission_book *kz_mission_book_new(void)
{
    return kz_xcalloc(1, sizeof(struct kz_mission_book));
}

void kz_mission_book_free(struct kz_mission_book *b)
{
    if (!b)
        return;
    for (unsigned i = 0; i < b->n; i++)
        kz_mission_free(b->m[i]);
    free(b->m);
    free(b);
}

unsigned kz_mission_book_count(const struct kz_mission_book *b)
{
    return b->n;
}

struct kz_mission *kz_mission_book_at(struct kz_mission_book *b, unsigned i)
{
    return i < b->n ? b->m[i] : NULL;
}

struct kz_mission *kz_mission_book_get(struct kz_mission_book *b, const char *name)
{
    for (unsigned i = 0; name && i < b->n; i++)
        if (strcmp(b->m[i]->name, name) == 0)
            return b->m[i];
    return NULL;
}

struct kz_mission *kz_mission_book_by_guid(struct kz_mission_book *b, const char *guid)
{
    for (unsigned i = 0; guid && i < b->n; i++)
        if (strcmp(b->m[i]->guid, guid) == 0)
            return b->m[i];
    return NULL;
}

void kz_mission_uuid(char out[KZ_MISSION_GUID_LEN + 1])
{
    unsigned char r[16];

    if (RAND_bytes(r, sizeof(r)) != 1)
        KZ_BUG("RAND_bytes failed");
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, KZ_MISSION_GUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
}

static void push(struct kz_mission_book *b, struct kz_mission *m)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->m = kz_xrealloc(b->m, b->cap * sizeof(*b->m));
    }
    b->m[b->n++] = m;
}

struct kz_mission *kz_mission_book_add(struct kz_mission_book *b, const char *name,
                                       const char *banner, const struct kz_label *label,
                                       int64_t now_us)
{
    char guid[KZ_MISSION_GUID_LEN + 1];
    struct kz_mission *m;

    if (kz_mission_book_get(b, name) || b->n >= KZ_MISSION_MAX)
        return NULL;
    kz_mission_uuid(guid);
    m = kz_xcalloc(1, sizeof(*m));
    m->name = kz_xstrdup(name);
    m->guid = kz_xstrdup(guid);
    m->tool = kz_xstrdup("public");
    m->banner = kz_xstrdup(banner);
    m->label = *label;
    m->create_time = m->last_edited = now_us;
    m->expiration = -1;
    m->default_role = KZ_MROLE_SUBSCRIBER;
    push(b, m);
    return m;
}

int kz_mission_book_adopt(struct kz_mission_book *b, struct kz_mission *m)
{
    if (kz_mission_book_get(b, m->name) || kz_mission_book_by_guid(b, m->guid))
        return KZ_ERR_EXISTS;
    for (unsigned i = 0; i < m->n_changes; i++)
        if (m->changes[i].id > b->last_change)
            b->last_change = m->changes[i].id;
    push(b, m);
    return KZ_OK;
}

void kz_mission_book_remove(struct kz_mission_book *b, struct kz_mission *m)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->m[i] == m) {
            memmove(&b->m[i], &b->m[i + 1], (b->n - i - 1) * sizeof(*b->m));
            b->n--;
            kz_mission_free(m);
            return;
        }
}

void kz_mission_book_seen_change(struct kz_mission_book *b, uint64_t id)
{
    if (id > b->last_change)
        b->last_change = id;
}

uint64_t kz_mission_book_next_change(struct kz_mission_book *b)
{
    return ++b->last_change;
}

static void item_clear(struct kz_mission_item *it)
{
    free(it->data);
    free(it->creator_uid);
    free(it->banner);
    kz_strv_free(it->keywords, it->n_keywords);
}

static void sub_clear(struct kz_mission_sub *s)
{
    free(s->client_uid);
    free(s->username);
    free(s->token);
}

void kz_mission_change_clear(struct kz_mission_change *c)
{
    free(c->creator_uid);
    free(c->content);
    free(c->banner);
    memset(c, 0, sizeof(*c));
}

void kz_mission_free(struct kz_mission *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->n_items; i++)
        item_clear(&m->items[i]);
    for (unsigned i = 0; i < m->n_subs; i++)
        sub_clear(&m->subs[i]);
    for (unsigned i = 0; i < m->n_invites; i++) {
        free(m->invites[i].type);
        free(m->invites[i].invitee);
    }
    for (unsigned i = 0; i < m->n_changes; i++)
        kz_mission_change_clear(&m->changes[i]);
    for (unsigned i = 0; i < m->n_logs; i++)
        kz_mission_log_clear(&m->logs[i]);
    free(m->items);
    free(m->subs);
    free(m->invites);
    free(m->changes);
    free(m->logs);
    kz_strv_free(m->groups, m->n_groups);
    kz_strv_free(m->keywords, m->n_keywords);
    free(m->name);
    free(m->guid);
    free(m->description);
    free(m->tool);
    free(m->chat_room);
    free(m->creator_uid);
    free(m->password_hash);
    free(m->banner);
    free(m->plan);
    free(m);
}

/* ---- subscriptions ------------------------------------------------------- */

struct kz_mission_sub *kz_mission_sub_get(struct kz_mission *m, const char *client_uid)
{
    for (unsigned i = 0; client_uid && i < m->n_subs; i++)
        if (strcmp(m->subs[i].client_uid, client_uid) == 0)
            return &m->subs[i];
    return NULL;
}

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? kz_xstrdup(src) : NULL;
}

int kz_mission_subscribe(struct kz_mission *m, const char *client_uid, const char *username,
                         enum kz_mission_role role, const char *token, int64_t now_us,
                         struct kz_mission_sub **out)
{
    struct kz_mission_sub *s = kz_mission_sub_get(m, client_uid);

    if (!s) {
        if (m->n_subs >= KZ_MISSION_MAX_SUBS)
            return KZ_ERR_TOOBIG;
        m->subs = kz_xrealloc(m->subs, (m->n_subs + 1) * sizeof(*m->subs));
        s = &m->subs[m->n_subs++];
        memset(s, 0, sizeof(*s));
        s->client_uid = kz_xstrdup(client_uid);
        s->create_time = now_us;
    }
    set_str(&s->username, username);
    set_str(&s->token, token);
    s->role = role;
    s->live = true;
    if (out)
        *out = s;
    return KZ_OK;
}

bool kz_mission_unsubscribe(struct kz_mission *m, const char *client_uid)
{
    struct kz_mission_sub *s = kz_mission_sub_get(m, client_uid);

    if (!s)
        return false;
    sub_clear(s);
    unsigned i = (unsigned)(s - m->subs);
    memmove(s, s + 1, (m->n_subs - i - 1) * sizeof(*s));
    m->n_subs--;
    return true;
}

/* ---- contents and changes ------------------------------------------------ */

struct kz_mission_item *kz_mission_item_get(struct kz_mission *m, const char *data, bool is_hash)
{
    for (unsigned i = 0; data && i < m->n_items; i++)
        if (m->items[i].is_hash == is_hash && strcmp(m->items[i].data, data) == 0)
            return &m->items[i];
    return NULL;
}

void kz_mission_push_change(struct kz_mission *m, const struct kz_mission_change *c)
{
    if (m->n_changes >= KZ_MISSION_MAX_CHANGES) {
        kz_mission_change_clear(&m->changes[0]);
        memmove(m->changes, m->changes + 1, (m->n_changes - 1) * sizeof(*c));
        m->n_changes--;
    }
    m->changes = kz_xrealloc(m->changes, (m->n_changes + 1) * sizeof(*c));
    m->changes[m->n_changes++] = *c;
}

static struct kz_mission_change *log_item(struct kz_mission_book *b, struct kz_mission *m,
                                          enum kz_mission_change_type t, const char *data,
                                          bool is_hash, const char *creator, const char *banner,
                                          const struct kz_label *label, int64_t now_us)
{
    struct kz_mission_change c = {
        .id = kz_mission_book_next_change(b),
        .type = t,
        .timestamp = now_us,
        .server_time = now_us,
        .creator_uid = kz_xstrdup(creator && *creator ? creator : "ANONYMOUS"),
        .content = data ? kz_xstrdup(data) : NULL,
        .is_hash = is_hash,
        .banner = kz_xstrdup(banner),
        .label = *label,
    };
    m->last_edited = now_us;
    kz_mission_push_change(m, &c);
    return &m->changes[m->n_changes - 1];
}

struct kz_mission_change *kz_mission_log_change(struct kz_mission_book *b, struct kz_mission *m,
                                                enum kz_mission_change_type t,
                                                const char *creator_uid, int64_t now_us)
{
    return log_item(b, m, t, NULL, false, creator_uid, m->banner, &m->label, now_us);
}

int kz_mission_add_item(struct kz_mission_book *b, struct kz_mission *m, const char *data,
                        bool is_hash, const char *creator_uid, const char *banner,
                        const struct kz_label *label, int64_t now_us)
{
    if (kz_mission_item_get(m, data, is_hash))
        return KZ_ERR_EXISTS;
    if (m->n_items >= KZ_MISSION_MAX_ITEMS)
        return KZ_ERR_TOOBIG;
    m->items = kz_xrealloc(m->items, (m->n_items + 1) * sizeof(*m->items));
    struct kz_mission_item *it = &m->items[m->n_items++];
    memset(it, 0, sizeof(*it));
    it->data = kz_xstrdup(data);
    it->is_hash = is_hash;
    it->timestamp = now_us;
    it->creator_uid = kz_xstrdup(creator_uid && *creator_uid ? creator_uid : "ANONYMOUS");
    it->banner = kz_xstrdup(banner);
    it->label = *label;
    log_item(b, m, KZ_MCHANGE_ADD_CONTENT, data, is_hash, creator_uid, banner, label, now_us);
    return KZ_OK;
}

int kz_mission_remove_item(struct kz_mission_book *b, struct kz_mission *m, const char *data,
                           bool is_hash, const char *creator_uid, int64_t now_us)
{
    struct kz_mission_item *it = kz_mission_item_get(m, data, is_hash);

    if (!it)
        return KZ_ERR_NOTFOUND;
    log_item(b, m, KZ_MCHANGE_REMOVE_CONTENT, data, is_hash, creator_uid, it->banner, &it->label,
             now_us);
    item_clear(it);
    unsigned i = (unsigned)(it - m->items);
    memmove(it, it + 1, (m->n_items - i - 1) * sizeof(*it));
    m->n_items--;
    return KZ_OK;
}

const char *kz_mission_change_name(enum kz_mission_change_type t)
{
    static const char *const names[] = {"CREATE_MISSION", "DELETE_MISSION", "ADD_CONTENT",
                                        "REMOVE_CONTENT"};
    return (unsigned)t < KZ_ARRAY_LEN(names) ? names[t] : "UNKNOWN";
}

static bool in_window(const struct kz_mission_change *c, int64_t start, int64_t end)
{
    return (!start || c->timestamp >= start) && (!end || c->timestamp < end);
}

/* Squashed: a later change of the same content in the window supersedes this one. */
static bool superseded(const struct kz_mission *m, unsigned i, int64_t start, int64_t end)
{
    const struct kz_mission_change *c = &m->changes[i];

    if (!c->content)
        return false;
    for (unsigned j = i + 1; j < m->n_changes; j++) {
        const struct kz_mission_change *d = &m->changes[j];
        if (d->content && d->is_hash == c->is_hash && in_window(d, start, end) &&
            strcmp(d->content, c->content) == 0)
            return true;
    }
    return false;
}

/* Squashed: a removal of content whose addition is in the window cancels both. */
static bool added_in_window(const struct kz_mission *m, unsigned i, int64_t start, int64_t end)
{
    const struct kz_mission_change *c = &m->changes[i];

    for (unsigned j = 0; j < i; j++) {
        const struct kz_mission_change *d = &m->changes[j];
        if (d->type == KZ_MCHANGE_ADD_CONTENT && d->is_hash == c->is_hash &&
            in_window(d, start, end) && strcmp(d->content, c->content) == 0)
            return true;
    }
    return false;
}

unsigned kz_mission_changes(const struct kz_mission *m, int64_t start, int64_t end, bool squashed,
                            const struct kz_release_subject *who,
                            const struct kz_mission_change ***out)
{
    const struct kz_mission_change **v = kz_xcalloc(m->n_changes + 1, sizeof(*v));
    unsigned n = 0;

    for (unsigned i = 0; i < m->n_changes; i++) {
        const struct kz_mission_change *c = &m->changes[i];
        if (!in_window(c, start, end) || !kz_may_release(&c->label, who, NULL))
            continue;
        if (squashed && superseded(m, i, start, end))
            continue;
        if (squashed && c->type == KZ_MCHANGE_REMOVE_CONTENT && added_in_window(m, i, start, end))
            continue;
        v[n++] = c;
    }
    *out = v;
    return n;
}
