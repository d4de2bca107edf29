/*
 * plans.c - /api/v1/plans: joint plans and exercises (docs/plans.md).
 *
 *   POST  /api/v1/plans                      create (planner)          201 plan
 *   GET   /api/v1/plans                      {"plans": [...]}          (viewer)
 *   GET   /api/v1/plans/{id}                 plan; {id}.ics: iCalendar (viewer)
 *   PATCH /api/v1/plans/{id}                 edit: a new revision      (planner)
 *   POST  /api/v1/plans/{id}/items           an item: a new revision   (planner)  201
 *   POST  /api/v1/plans/{id}/approvals       approve or reject         (approver)
 *   POST  /api/v1/plans/{id}/consultation    prior consultation state  (approver)
 *   POST  /api/v1/plans/{id}/stage           the next stage            (planner)
 *   GET   /api/v1/plans/{id}/audit           the plan's audit records, verified (viewer)
 *
 * Every plan answered carries "allowed": the changes its caller may make
 * now, found by running the same rules on the plan without committing.
 * A plan the caller may not see (its own label) is 404, like an unknown
 * one.  Changes run one at a time, in arrival order: each is checked
 * against the plan as it is when its turn comes (kz_plan_apply), then the
 * new revision and its audit record are committed together on a worker
 * thread (kz_store_plan_save), and only then swapped in and answered.
 */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "plan/ics.h"

enum task_kind { TASK_CHANGE, TASK_AUDIT };

struct task {
    struct task *next;
    struct kz_api *api;
    struct kz_http_req *req;
    enum task_kind kind;
    enum kz_plan_op_type op;
    json_t *body;
    char id[KZ_PLAN_ID_MAX];
    uv_work_t work;
    /* A change: what the worker commits. */
    struct kz_plan *plan;
    const char *action;
    char *detail, *doc;
    int status;
    /* An audit read: what the worker found. */
    json_t *records;
    struct kz_store_audit_check check;
    int verify;
};

struct kz__plan_queue {
    struct task *head, *tail;
    bool busy;
};

static void pump(struct kz_api *api);
static void task_free(struct task *t);

void kz__api_plans_init(struct kz_api *api)
{
    api->plans = kz_plan_book_new();
    api->plan_queue = kz_xcalloc(1, sizeof(*api->plan_queue));
}

/* After the HTTP engine is gone (or when it never started): queued tasks are dropped. */
void kz__api_plans_release(struct kz_api *api)
{
    struct task *t = api->plan_queue ? api->plan_queue->head : NULL, *next;

    for (; t; t = next) {
        next = t->next;
        task_free(t);
    }
    kz_plan_book_free(api->plans);
    free(api->plan_queue);
}

int kz_api_plans_load(struct kz_api *api)
{
    unsigned loaded = 0, skipped = 0;
    int err = kz_plan_book_load(api->plans, api->store, api->policy, &loaded, &skipped);

    if (err == KZ_OK)
        kz_log(skipped ? KZ_LOG_WARN : KZ_LOG_INFO, "plans: restored", "loaded=%u skipped=%u",
               loaded, skipped);
    else
        kz_log(KZ_LOG_ERROR, "plans: cannot restore", "err=%s", kz_strerror(err));
    return err;
}

bool kz_api_plans_busy(const struct kz_api *api)
{
    return api->plan_queue && api->plan_queue->busy;
}

void kz_api_plans_publish(struct kz_api *api)
{
    for (unsigned i = 0; i < kz_plan_book_count(api->plans); i++) {
        const struct kz_plan *p = kz_plan_book_at(api->plans, i);
        if (p->stage != KZ_STAGE_CLOSED)
            kz_plan_publish(api->router, api->own_input, p);
    }
}

static const struct kz_release_subject *who(const struct kz_http_req *req)
{
    return &kz_api_view(req)->subject;
}

/* The plan of the path's {id}, or NULL after a 404 (unknown, or hidden from the caller). */
static const struct kz_plan *plan_or_404(struct kz_api *api, struct kz_http_req *req,
                                         const char *id)
{
    const struct kz_plan *p = kz_plan_book_get(api->plans, id);

    if (p && kz_plan_visible(p, who(req)))
        return p;
    kz_http_error(req, 404, "no plan '%s'", id);
    return NULL;
}

/* The rules' context for the caller of `req` acting on plan `id` now. */
static struct kz_plan_ctx ctx_of(struct kz_api *api, struct kz_http_req *req, const char *id)
{
    const struct kz_input *in = kz_http_input(req);

    return (struct kz_plan_ctx){
        .alliance = api->alliance,
        .policy = api->policy,
        .actor = kz_http_identity(req),
        .who = who(req),
        .via = in ? in->conf->name : NULL,
        .id = id,
        .now_us = kz_now_us(),
    };
}

/*
 * Would the caller's `op` with `body` (taken) pass kz_plan_apply?  Nothing is
 * committed.  A refusal by a gate the plan's state lifts later (approvals
 * missing, consultation pending or declined) still counts: the caller may
 * ask, and the server says why not yet.
 */
static bool may(struct kz_api *api, struct kz_http_req *req, const struct kz_plan *p,
                enum kz_plan_op_type op, json_t *body)
{
    static const char *const gates[] = {"approvals_missing", "consultation_required",
                                        "consultation_declined"};
    struct kz_plan_ctx ctx = ctx_of(api, req, p->id);
    struct kz_plan_refusal why = {0};
    struct kz_plan *next = NULL;
    const char *action;
    char *detail = NULL;
    bool ok = kz_plan_apply(p, op, body, &ctx, &next, &action, &detail, &why) == KZ_OK;

    for (unsigned i = 0; !ok && why.rule && i < KZ_ARRAY_LEN(gates); i++)
        ok = strcmp(why.rule, gates[i]) == 0;
    kz_plan_free(next);
    free(detail);
    json_decref(body);
    return ok;
}

/* "allowed": the changes the caller may make to the plan now (docs/api.md). */
static json_t *allowed(struct kz_api *api, struct kz_http_req *req, const struct kz_plan *p)
{
    json_int_t rev = (json_int_t)p->revision;
    json_t *out = json_array();

    if (!api->store)
        return out; /* every change is answered 503 */
    if (may(api, req, p, KZ_PLAN_OP_APPROVE,
            json_pack("{s:I, s:s}", "revision", rev, "decision", "approve")))
        json_array_append_new(out, json_string("approve"));
    if (may(api, req, p, KZ_PLAN_OP_APPROVE,
            json_pack("{s:I, s:s, s:s}", "revision", rev, "decision", "reject", "reason", "-")))
        json_array_append_new(out, json_string("reject"));
    if (may(api, req, p, KZ_PLAN_OP_CONSULT,
            json_pack("{s:s, s:s}", "state", "requested", "reason", "-")))
        json_array_append_new(out, json_string("consult"));
    if (p->stage < KZ_STAGE_CLOSED &&
        may(api, req, p, KZ_PLAN_OP_STAGE,
            json_pack("{s:s}", "to", kz_plan_stage_name((enum kz_plan_stage)(p->stage + 1)))))
        json_array_append_new(out, json_string("advance"));
    return out;
}

static json_t *view(struct kz_api *api, struct kz_http_req *req, const struct kz_plan *p)
{
    json_t *v = kz_plan_view(p, api->alliance, api->policy, who(req));

    json_object_set_new(v, "allowed", allowed(api, req, p));
    return v;
}

static void refuse(struct kz_http_req *req, const struct kz_plan_refusal *why)
{
    if (why->rule)
        kz__api_respond_json(req, why->status,
                             json_pack("{s:s, s:s}", "error", why->msg, "rule", why->rule));
    else
        kz_http_error(req, why->status, "%s", why->msg);
}

/* ---- the queue ----------------------------------------------------------------- */

static void task_free(struct task *t)
{
    json_decref(t->body);
    json_decref(t->records);
    kz_plan_free(t->plan);
    free(t->detail);
    free(t->doc);
    free(t);
}

/* The task is answered (or its client gone): drop it and start the next. */
static void task_done(struct task *t)
{
    struct kz_api *api = t->api;

    kz_http_release(t->req);
    task_free(t);
    api->plan_queue->busy = false;
    pump(api);
}

static void save_work(uv_work_t *w)
{
    struct task *t = w->data;
    struct kz_store_plan row = {t->plan->id, t->plan->version, t->plan->updated_us, t->doc};
    char object[KZ_PLAN_ID_MAX + 8];

    snprintf(object, sizeof(object), "plan:%s", t->plan->id);
    struct kz_store_audit_rec rec = {t->plan->created_by, t->action, object, t->detail};
    const struct kz_identity *id = kz_http_identity(t->req);
    if (id && id->user)
        rec.actor = id->user;
    t->status = kz_store_plan_save(t->api->store, &row, &rec);
}

static void save_done(uv_work_t *w, int status)
{
    struct task *t = w->data;
    struct kz_http_req *req = t->req;
    int code = t->op == KZ_PLAN_OP_CREATE || t->op == KZ_PLAN_OP_ITEM ? 201 : 200;

    (void)status;
    if (t->status == KZ_OK) {
        kz_log(KZ_LOG_INFO, "plans: change committed", "plan=%s action=%s revision=%lld",
               t->plan->id, t->action, (long long)t->plan->revision);
        if (!kz_http_gone(req))
            kz__api_respond_json(req, code, view(t->api, req, t->plan));
        if (t->op == KZ_PLAN_OP_CREATE || t->op == KZ_PLAN_OP_EDIT || t->op == KZ_PLAN_OP_ITEM ||
            t->plan->stage == KZ_STAGE_CLOSED)
            kz_plan_publish(t->api->router, t->api->own_input, t->plan);
        kz_plan_book_put(t->api->plans, t->plan);
        t->plan = NULL;
        /* Approvals and consultations leave what the plan's mission holds as it is. */
        if (t->api->plan_changed && t->op != KZ_PLAN_OP_APPROVE && t->op != KZ_PLAN_OP_CONSULT)
            t->api->plan_changed(t->api->plan_changed_ud, t->id);
    } else if (!kz_http_gone(req)) {
        kz_http_error(req, 500, "store: %s", kz_strerror(t->status));
    }
    task_done(t);
}

static void run_change(struct task *t)
{
    struct kz_api *api = t->api;
    struct kz_http_req *req = t->req;
    const struct kz_plan *cur = NULL;
    struct kz_plan_refusal why;

    if (t->op != KZ_PLAN_OP_CREATE && !(cur = plan_or_404(api, req, t->id)))
        return task_done(t);
    if (t->op == KZ_PLAN_OP_CREATE)
        kz_plan_book_new_id(api->plans, t->id);
    struct kz_plan_ctx ctx = ctx_of(api, req, t->id);
    if (kz_plan_apply(cur, t->op, t->body, &ctx, &t->plan, &t->action, &t->detail, &why)) {
        refuse(req, &why);
        return task_done(t);
    }
    json_t *doc = kz_plan_to_doc(t->plan);
    t->doc = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    t->work.data = t;
    if (uv_queue_work(kz_http_loop(req), &t->work, save_work, save_done) != 0) {
        kz_http_error(req, 503, "no worker for the store");
        task_done(t);
    }
}

static json_t *time_json(int64_t us)
{
    char buf[KZ_TIME_STRLEN];

    kz_time_format(us, buf);
    return json_string(buf);
}

static void audit_row(void *ud, int64_t id, int64_t time, const char *actor, const char *action,
                      const char *object, const char *detail)
{
    struct task *t = ud;
    json_t *d = json_loads(detail, 0, NULL);

    json_array_append_new(t->records,
                          json_pack("{s:I, s:o, s:s, s:s, s:s, s:o}", "id", (json_int_t)id, "time",
                                    time_json(time), "actor", actor, "action", action, "object",
                                    object, "detail", d ? d : json_string(detail)));
}

static void audit_work(uv_work_t *w)
{
    struct task *t = w->data;
    char object[KZ_PLAN_ID_MAX + 8];

    snprintf(object, sizeof(object), "plan:%s", t->id);
    t->records = json_array();
    t->status = kz_store_audit_list_object(t->api->store, object, audit_row, t);
    t->verify = kz_store_audit_verify(t->api->store, &t->check);
}

static void audit_done(uv_work_t *w, int status)
{
    struct task *t = w->data;
    bool ok = t->verify == KZ_OK;

    (void)status;
    if (kz_http_gone(t->req)) {
    } else if (t->status != KZ_OK) {
        kz_http_error(t->req, 500, "store: %s", kz_strerror(t->status));
    } else {
        kz__api_respond_json(t->req, 200,
                             json_pack("{s:O, s:b, s:s?}", "records", t->records, "verified", ok,
                                       "problem", ok ? NULL : t->check.problem));
    }
    task_done(t);
}

static void run_audit(struct task *t)
{
    if (!plan_or_404(t->api, t->req, t->id))
        return task_done(t);
    t->work.data = t;
    if (uv_queue_work(kz_http_loop(t->req), &t->work, audit_work, audit_done) != 0) {
        kz_http_error(t->req, 503, "no worker for the store");
        task_done(t);
    }
}

static void pump(struct kz_api *api)
{
    struct kz__plan_queue *q = api->plan_queue;
    struct task *t = q->head;

    if (q->busy || !t)
        return;
    q->head = t->next;
    if (!q->head)
        q->tail = NULL;
    q->busy = true;
    if (t->kind == TASK_AUDIT)
        run_audit(t);
    else
        run_change(t);
}

static void enqueue(struct kz_api *api, struct kz_http_req *req, enum task_kind kind,
                    enum kz_plan_op_type op, json_t *body)
{
    struct task *t = kz_xcalloc(1, sizeof(*t));
    const char *id = kz_http_path_param(req, "id");

    t->api = api;
    t->req = req;
    t->kind = kind;
    t->op = op;
    t->body = body;
    snprintf(t->id, sizeof(t->id), "%s", id ? id : "");
    kz_http_hold(req);
    if (api->plan_queue->tail)
        api->plan_queue->tail->next = t;
    else
        api->plan_queue->head = t;
    api->plan_queue->tail = t;
    pump(api);
}

/* ---- handlers -------------------------------------------------------------------- */

static bool need_store(struct kz_api *api, struct kz_http_req *req)
{
    if (api->store)
        return true;
    kz_http_error(req, 503, "no store configured");
    return false;
}

/* A change: the body must be a JSON object; an id longer than any plan's is unknown. */
static void change(struct kz_http_req *req, struct kz_api *api, enum kz_plan_op_type op)
{
    const char *id = kz_http_path_param(req, "id");
    size_t len;
    const char *text = kz_http_body(req, &len);
    json_error_t jerr;
    json_t *body;

    if (!need_store(api, req))
        return;
    if (id && strlen(id) >= KZ_PLAN_ID_MAX) {
        kz_http_error(req, 404, "no plan '%s'", id);
        return;
    }
    body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(body)) {
        kz_http_error(req, 400, "the body must be a JSON object%s%s", body ? "" : ": ",
                      body ? "" : jerr.text);
        json_decref(body);
        return;
    }
    enqueue(api, req, TASK_CHANGE, op, body);
}

static void create(struct kz_http_req *req, void *app)
{
    change(req, app, KZ_PLAN_OP_CREATE);
}

static void edit(struct kz_http_req *req, void *app)
{
    change(req, app, KZ_PLAN_OP_EDIT);
}

static void add_item(struct kz_http_req *req, void *app)
{
    change(req, app, KZ_PLAN_OP_ITEM);
}

static void approve(struct kz_http_req *req, void *app)
{
    change(req, app, KZ_PLAN_OP_APPROVE);
}

static void consult(struct kz_http_req *req, void *app)
{
    change(req, app, KZ_PLAN_OP_CONSULT);
}

static void stage(struct kz_http_req *req, void *app)
{
    change(req, app, KZ_PLAN_OP_STAGE);
}

static void audit(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    const char *id = kz_http_path_param(req, "id");

    if (!need_store(api, req))
        return;
    if (strlen(id) >= KZ_PLAN_ID_MAX) {
        kz_http_error(req, 404, "no plan '%s'", id);
        return;
    }
    enqueue(api, req, TASK_AUDIT, KZ_PLAN_OP_CREATE, NULL);
}

static int by_creation(const void *a, const void *b)
{
    const struct kz_plan *x = *(const struct kz_plan *const *)a;
    const struct kz_plan *y = *(const struct kz_plan *const *)b;

    if (x->created_us != y->created_us)
        return x->created_us < y->created_us ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Every plan the caller may see, oldest first. */
static void list(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    unsigned n = kz_plan_book_count(api->plans), k = 0;
    const struct kz_plan **v = kz_xcalloc(n + 1, sizeof(*v));
    json_t *arr = json_array();

    for (unsigned i = 0; i < n; i++) {
        const struct kz_plan *p = kz_plan_book_at(api->plans, i);
        if (kz_plan_visible(p, who(req)))
            v[k++] = p;
    }
    qsort(v, k, sizeof(*v), by_creation);
    for (unsigned i = 0; i < k; i++)
        json_array_append_new(arr, view(api, req, v[i]));
    free(v);
    kz__api_respond_json(req, 200, json_pack("{s:o}", "plans", arr));
}

static void ics(struct kz_http_req *req, struct kz_api *api, const char *id)
{
    const struct kz_plan *p = plan_or_404(api, req, id);
    struct kz_sbuf sb = KZ_SBUF_INIT;
    json_t *v;

    if (!p)
        return;
    v = view(api, req, p);
    if (kz_plan_ics(v, &sb) == KZ_OK)
        kz_http_respond(req, 200, "text/calendar; charset=utf-8", NULL, sb.buf, sb.len);
    else
        kz_http_error(req, 500, "plan %s: no calendar", id);
    json_decref(v);
    kz_sbuf_release(&sb);
}

static void get(struct kz_http_req *req, void *app)
{
    struct kz_api *api = app;
    const char *id = kz_http_path_param(req, "id");
    size_t n = strlen(id);
    char plain[KZ_PLAN_ID_MAX];
    const struct kz_plan *p;

    if (n > 4 && n - 4 < sizeof(plain) && strcmp(id + n - 4, ".ics") == 0) {
        snprintf(plain, sizeof(plain), "%.*s", (int)(n - 4), id);
        ics(req, api, plain);
        return;
    }
    if ((p = plan_or_404(api, req, id)))
        kz__api_respond_json(req, 200, view(api, req, p));
}

static const struct kz_http_route rows[] = {
    {"POST", "/api/v1/plans", create, KZ_ROLE_PLANNER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/plans", list, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/plans/{id}", get, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
    {"PATCH", "/api/v1/plans/{id}", edit, KZ_ROLE_PLANNER, KZ_HTTP_ON_API},
    {"POST", "/api/v1/plans/{id}/items", add_item, KZ_ROLE_PLANNER, KZ_HTTP_ON_API},
    {"POST", "/api/v1/plans/{id}/approvals", approve, KZ_ROLE_APPROVER, KZ_HTTP_ON_API},
    {"POST", "/api/v1/plans/{id}/consultation", consult, KZ_ROLE_APPROVER, KZ_HTTP_ON_API},
    {"POST", "/api/v1/plans/{id}/stage", stage, KZ_ROLE_PLANNER, KZ_HTTP_ON_API},
    {"GET", "/api/v1/plans/{id}/audit", audit, KZ_ROLE_VIEWER, KZ_HTTP_ON_API},
};

const struct kz_http_route *kz__api_plans_routes(size_t *n)
{
    *n = KZ_ARRAY_LEN(rows);
    return rows;
}
