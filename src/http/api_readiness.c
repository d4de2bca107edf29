/*
 * api_readiness.c - POST/GET /api/v1/readiness and GET
 * /api/v1/readiness/rollup.  Reports live in one book on the loop thread,
 * rebuilt from the store at startup (kz_http_readiness_load); every answer
 * goes through the release rule for the input's identity.
 *
 *   POST /api/v1/readiness        {"unit","p","s","r","t",...}: 201 with the report,
 *                                 only after it has committed; 400 bad report or
 *                                 unknown unit; 403 the unit belongs to another
 *                                 nation than the reporter's; 500 the store
 *                                 failed; 503 no store
 *   GET  /api/v1/readiness[?unit=U[&history=1]]   latest per unit, or U's history
 *   GET  /api/v1/readiness/rollup?command=C       counts by C-level under C
 * Stale: older than the alliance file's readiness.stale_after_h (744 h
 * without a model).
 */
#include <stdlib.h>
#include <string.h>

#include "alliance/alliance.h"
#include "http/api_alliance.h"
#include "readiness/readiness.h"

static struct kz_readiness_book *book;
static const struct kz_label_policy *policy; /* the server's, from the config */

static struct kz_readiness_book *get_book(void)
{
    if (!book)
        book = kz_readiness_book_new();
    return book;
}

/* The configured marking policy; the built-in one before the server set it. */
static const struct kz_label_policy *label_policy(void)
{
    static struct kz_label_policy builtin;
    if (!policy) {
        kz_label_policy_init_default(&builtin);
        policy = &builtin;
    }
    return policy;
}

static int64_t stale_us(void)
{
    const struct kz_alliance *a = kz_alliance_current();
    return (int64_t)(a ? a->readiness_stale_h : 744) * 3600 * 1000000;
}

static void respond(struct kz__http_conn *c, int status, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    kz__http_respond(c, status, "application/json", NULL, s, strlen(s));
    free(s);
}

/* With a model loaded, a unit must exist and belong to the reporter's nation. */
static bool unit_ok(struct kz__http_conn *c, const char *unit, const char *nation)
{
    const struct kz_alliance *a = kz_alliance_current();
    const struct kz_command *cmd = a ? kz_alliance_command(a, unit) : NULL;

    if (a && !cmd) {
        kz__http_error(c, 400, "unknown unit '%s'", unit);
        return false;
    }
    if (cmd && strcmp(cmd->nation, nation) != 0) {
        kz__http_error(c, 403, "%s is a %s unit: %s may not report its readiness", unit,
                       cmd->nation, nation);
        return false;
    }
    return true;
}

int kz_http_readiness_load(struct kz_store *st, const struct kz_label_policy *p)
{
    unsigned loaded = 0, skipped = 0;
    policy = p;
    int err = kz_readiness_book_load(get_book(), st, label_policy(), &loaded, &skipped);

    if (err == KZ_OK)
        kz_log(skipped ? KZ_LOG_WARN : KZ_LOG_INFO, "readiness: reports restored",
               "loaded=%u skipped=%u", loaded, skipped);
    else
        kz_log(KZ_LOG_ERROR, "readiness: cannot restore reports", "err=%s", kz_strerror(err));
    return err;
}

/* A report waiting for its commit; owned by the ack, not by the connection. */
struct pending {
    struct kz__http_conn *c;
    struct kz_readiness r;
};

/*
 * A committed report goes into the book even when its client has gone: it
 * is acknowledged, and it would be back after a restart anyway.
 */
static void post_ack(void *ud, int status)
{
    struct pending *p = ud;
    struct kz__http_conn *c = p->c;
    json_t *o = NULL;

    if (status == KZ_OK) {
        kz_log(KZ_LOG_INFO, "readiness: report", "unit=%s overall=%u user=%s", p->r.unit,
               p->r.overall, p->r.reporter ? p->r.reporter : "-");
        if (c->state != KZ__HTTP_CLOSING)
            o = kz_readiness_json(&p->r, kz_now_us(), stale_us());
        kz_readiness_book_add(get_book(), &p->r);
    }
    if (c->state != KZ__HTTP_CLOSING) {
        if (o)
            respond(c, 201, o);
        else
            kz__http_error(c, 500, "store: %s", kz_strerror(status));
    }
    kz_readiness_clear(&p->r);
    free(p);
    kz__http_unref(c);
}

void kz__api_readiness_post(struct kz__http_conn *c)
{
    const struct kz_identity *id = c->identity;
    const struct kz_sbuf *body = &c->hp.req.body;
    struct pending *p;
    struct kz_readiness r;
    char err[300];

    get_book();
    if (!c->opts->store) {
        kz__http_error(c, 503, "no store configured");
        return;
    }
    if (!id || !id->nation) {
        kz__http_error(c, 403, "no identity");
        return;
    }
    if (kz_readiness_parse(body->buf, body->len, label_policy(), id->nation, &r, err,
                           sizeof(err))) {
        kz__http_error(c, 400, "%s", err);
        return;
    }
    if (!unit_ok(c, r.unit, id->nation)) {
        kz_readiness_clear(&r);
        return;
    }
    r.reporter = kz_xstrdup(id->user);
    p = kz_xmalloc(sizeof(*p));
    p->c = c;
    p->r = r;
    /* Answered from post_ack, after the commit (like POST /api/v1/events). */
    kz__http_hold(c);
    kz_readiness_save(c->opts->store, &p->r, post_ack, p);
}

void kz__api_readiness_get(struct kz__http_conn *c)
{
    const char *unit = kz__http_param(&c->hp.req.target, "unit");
    const char *hist = kz__http_param(&c->hp.req.target, "history");
    const struct kz_release_subject *who = &kz__http_viewer(c)->subject;

    if (hist && strcmp(hist, "1") == 0) {
        if (!unit) {
            kz__http_error(c, 400, "history needs unit");
            return;
        }
        respond(c, 200, kz_readiness_history(get_book(), unit, who, kz_now_us(), stale_us()));
        return;
    }
    respond(c, 200, kz_readiness_latest(get_book(), unit, who, kz_now_us(), stale_us()));
}

static bool under(void *ud, const char *unit, const char *command)
{
    const struct kz_alliance *a = ud;
    return a ? kz_alliance_is_under(a, unit, command, kz_day_of_us(kz_now_us()))
             : strcmp(unit, command) == 0;
}

void kz__api_readiness_rollup(struct kz__http_conn *c)
{
    const char *command = kz__http_param(&c->hp.req.target, "command");

    if (!command || !*command) {
        kz__http_error(c, 400, "missing parameter 'command'");
        return;
    }
    struct kz_readiness_rollup_opts o = {
        command,     under,     (void *)kz_alliance_current(), &kz__http_viewer(c)->subject,
        kz_now_us(), stale_us()};
    respond(c, 200, kz_readiness_rollup(get_book(), &o));
}
