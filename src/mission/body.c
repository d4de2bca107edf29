/*
 * body.c - the JSON request bodies of the mission routes: contents
 * ({"hashes", "uids"}), a LogEntry and a Mission.  Everything a client sends
 * is bounded and type-checked here, before it reaches the model
 * (tests/fuzz/fuzz_mission_body.c).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "mission/mission.h"

#define MAX_KEYWORDS 64
#define KEYWORD_MAX 256

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return KZ_ERR_PARSE;
}

static json_t *load_object(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

    if (!j)
        fail(err, errlen, "body: %s", je.text);
    else if (!json_is_object(j)) {
        fail(err, errlen, "body: not an object");
        json_decref(j);
        j = NULL;
    }
    return j;
}

static bool is_hash(const char *s)
{
    if (strlen(s) != KZ_MISSION_HASH_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

/* A string array under `key` (absent: none) into a vector, each checked by `ok`. */
static int strings(json_t *o, const char *key, bool (*ok)(const char *), unsigned max, char ***out,
                   unsigned *n, char *err, size_t errlen)
{
    json_t *a = json_object_get(o, key), *v;
    size_t i;

    *out = NULL;
    *n = 0;
    if (!a || json_is_null(a))
        return KZ_OK;
    if (!json_is_array(a) || json_array_size(a) > max)
        return fail(err, errlen, "%s: an array of at most %u strings", key, max);
    *out = kz_xcalloc(json_array_size(a) + 1, sizeof(char *));
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !ok(s)) {
            kz_strv_free(*out, *n);
            *out = NULL;
            *n = 0;
            return fail(err, errlen, "%s[%zu]: not a valid entry", key, i);
        }
        (*out)[(*n)++] = kz_xstrdup(s);
    }
    return KZ_OK;
}

static bool uid_ok(const char *s)
{
    return *s && strlen(s) <= KZ_COT_UID_MAX;
}

static bool keyword_ok(const char *s)
{
    return strlen(s) <= KEYWORD_MAX;
}

static bool name_ok(const char *s)
{
    return *s && strlen(s) < KZ_MISSION_NAME_MAX;
}

static void lower(char **v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        for (char *p = v[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
}

int kz_mission_contents_parse(const char *body, size_t len, char ***uids, unsigned *n_uids,
                              char ***hashes, unsigned *n_hashes, char *err, size_t errlen)
{
    json_t *o = load_object(body, len, err, errlen);
    int rc;

    *uids = *hashes = NULL;
    *n_uids = *n_hashes = 0;
    if (!o)
        return KZ_ERR_PARSE;
    rc = strings(o, "uids", uid_ok, KZ_MISSION_MAX_ITEMS, uids, n_uids, err, errlen);
    if (rc == KZ_OK)
        rc = strings(o, "hashes", is_hash, KZ_MISSION_MAX_ITEMS, hashes, n_hashes, err, errlen);
    if (rc == KZ_OK && *n_uids + *n_hashes > KZ_MISSION_MAX_ITEMS)
        rc = fail(err, errlen, "at most %d items", KZ_MISSION_MAX_ITEMS);
    if (rc != KZ_OK) {
        kz_strv_free(*uids, *n_uids);
        kz_strv_free(*hashes, *n_hashes);
        *uids = *hashes = NULL;
        *n_uids = *n_hashes = 0;
    }
    lower(*hashes, *n_hashes);
    json_decref(o);
    return rc;
}

void kz_mission_log_clear(struct kz_mission_log *l)
{
    free(l->id);
    free(l->content);
    free(l->creator_uid);
    free(l->entry_uid);
    free(l->banner);
    kz_strv_free(l->hashes, l->n_hashes);
    kz_strv_free(l->keywords, l->n_keywords);
    memset(l, 0, sizeof(*l));
}

/* An optional string field of at most `max` bytes; KZ_OK when absent. */
static int opt_str(json_t *o, const char *key, size_t max, char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        return KZ_OK;
    if (!json_is_string(v) || json_string_length(v) > max)
        return fail(err, errlen, "%s: a string of at most %zu bytes", key, max);
    free(*out);
    *out = kz_xstrdup(json_string_value(v));
    return KZ_OK;
}

static int log_fields(json_t *o, struct kz_mission_log *l, char *err, size_t errlen)
{
    json_t *dtg = json_object_get(o, "dtg");

    if (!json_is_string(json_object_get(o, "content")))
        return fail(err, errlen, "content: required");
    if (opt_str(o, "content", KZ_MISSION_TEXT_MAX, &l->content, err, errlen) ||
        opt_str(o, "creatorUid", KZ_COT_UID_MAX, &l->creator_uid, err, errlen) ||
        opt_str(o, "entryUid", KZ_COT_UID_MAX, &l->entry_uid, err, errlen))
        return KZ_ERR_PARSE;
    if (dtg && json_is_string(dtg)) {
        if (kz_time_parse(json_string_value(dtg), json_string_length(dtg), &l->dtg) != KZ_OK)
            return fail(err, errlen, "dtg: not an ISO 8601 UTC time");
    } else if (dtg && !json_is_null(dtg)) {
        return fail(err, errlen, "dtg: not a time");
    }
    if (strings(o, "contentHashes", is_hash, MAX_KEYWORDS, &l->hashes, &l->n_hashes, err, errlen) ||
        strings(o, "keywords", keyword_ok, MAX_KEYWORDS, &l->keywords, &l->n_keywords, err, errlen))
        return KZ_ERR_PARSE;
    lower(l->hashes, l->n_hashes);
    return KZ_OK;
}

int kz_mission_log_parse(const char *body, size_t len, struct kz_mission_log *out, char ***names,
                         unsigned *n_names, char *err, size_t errlen)
{
    json_t *o = load_object(body, len, err, errlen);
    int rc;

    memset(out, 0, sizeof(*out));
    *names = NULL;
    *n_names = 0;
    if (!o)
        return KZ_ERR_PARSE;
    rc = log_fields(o, out, err, errlen);
    if (rc == KZ_OK)
        rc = strings(o, "missionNames", name_ok, 64, names, n_names, err, errlen);
    if (rc == KZ_OK && *n_names == 0)
        rc = fail(err, errlen, "missionNames: at least one");
    if (rc != KZ_OK) {
        kz_mission_log_clear(out);
        kz_strv_free(*names, *n_names);
        *names = NULL;
        *n_names = 0;
    }
    json_decref(o);
    return rc;
}

static int mission_flags(json_t *o, struct kz_mission *m, char *err, size_t errlen)
{
    json_t *inv = json_object_get(o, "inviteOnly"), *exp = json_object_get(o, "expiration");

    if (inv && !json_is_boolean(inv) && !json_is_null(inv))
        return fail(err, errlen, "inviteOnly: a boolean");
    if (exp && !json_is_integer(exp) && !json_is_null(exp))
        return fail(err, errlen, "expiration: an integer");
    if (json_is_boolean(inv))
        m->invite_only = json_is_true(inv);
    if (json_is_integer(exp))
        m->expiration = json_integer_value(exp);
    return KZ_OK;
}

static int replace_strv(json_t *o, const char *key, char ***v, unsigned *n, char *err,
                        size_t errlen)
{
    char **nv;
    unsigned nn;

    if (!json_object_get(o, key))
        return KZ_OK;
    if (strings(o, key, keyword_ok, MAX_KEYWORDS, &nv, &nn, err, errlen))
        return KZ_ERR_PARSE;
    kz_strv_free(*v, *n);
    *v = nv;
    *n = nn;
    return KZ_OK;
}

int kz_mission_body_apply(struct kz_mission *m, const char *body, size_t len, char *err,
                          size_t errlen)
{
    json_t *o = load_object(body, len, err, errlen);
    int rc = KZ_ERR_PARSE;

    if (!o)
        return KZ_ERR_PARSE;
    if (opt_str(o, "description", KZ_MISSION_TEXT_MAX, &m->description, err, errlen) ||
        opt_str(o, "chatRoom", KZ_MISSION_NAME_MAX, &m->chat_room, err, errlen) ||
        opt_str(o, "tool", 64, &m->tool, err, errlen) || mission_flags(o, m, err, errlen) ||
        replace_strv(o, "keywords", &m->keywords, &m->n_keywords, err, errlen) ||
        replace_strv(o, "groups", &m->groups, &m->n_groups, err, errlen))
        goto out;
    rc = KZ_OK;
out:
    json_decref(o);
    return rc;
}
