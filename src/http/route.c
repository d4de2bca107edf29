/*
 * route.c - the route table: the rows resources add; find the row for a
 * request's method and path on this kind of input, check the caller's
 * role, and call its handler.
 * No row for the path is 404, a row for the path but not the method is 405
 * with Allow, a missing role is 403; all answered here.
 *
 * Rows of a stream table (kz_http_add_stream_routes) are looked up at the
 * end of the headers (kz__http_stream_route); dispatch skips them, but they
 * count for 405 and its Allow.
 *
 * Patterns are literal segments and {name} segments; a {name} matches one
 * non-empty segment and is kept (decoded, in the request's arena) for
 * kz_http_path_param().
 */
#include <string.h>

#include "http/internal.h"

/* ---- the tables ------------------------------------------------------------------ */

static void add_table(struct kz_http *h, const struct kz_http_route *rows, size_t n, void *app,
                      bool stream)
{
    h->tables = kz_xrealloc(h->tables, (h->n_tables + 1) * sizeof(*h->tables));
    h->tables[h->n_tables++] = (struct kz__http_table){rows, n, app, stream};
}

void kz_http_add_routes(struct kz_http *h, const struct kz_http_route *rows, size_t n, void *app)
{
    add_table(h, rows, n, app, false);
}

void kz_http_add_stream_routes(struct kz_http *h, const struct kz_http_route *rows, size_t n,
                               void *app)
{
    add_table(h, rows, n, app, true);
}

/* ---- matching --------------------------------------------------------------------- */

/* One segment of `s` (no leading '/'): its length. */
static size_t seg_len(const char *s)
{
    return strcspn(s, "/");
}

static void keep_param(struct kz_http_req *req, const char *name, size_t nlen, const char *v,
                       size_t vlen)
{
    struct kz__http_param *p;

    if (!req || req->n_path_params == KZ__HTTP_MAX_PATH_PARAMS)
        return;
    p = &req->path_params[req->n_path_params++];
    p->name = kz_arena_strndup(&req->arena, name, nlen);
    p->value = kz_arena_strndup(&req->arena, v, vlen);
}

bool kz__http_route_match(const char *pattern, const char *path, struct kz_http_req *req)
{
    if (req)
        req->n_path_params = 0;
    while (*pattern == '/' && *path == '/') {
        pattern++;
        path++;
        size_t pl = seg_len(pattern), sl = seg_len(path);
        if (pl >= 2 && pattern[0] == '{' && pattern[pl - 1] == '}') {
            if (sl == 0)
                return false;
            keep_param(req, pattern + 1, pl - 2, path, sl);
        } else if (pl != sl || memcmp(pattern, path, pl) != 0) {
            return false;
        }
        pattern += pl;
        path += sl;
    }
    return *pattern == '\0' && *path == '\0';
}

static bool served_here(const struct kz_http_route *rt, const struct kz__http_conn *c)
{
    return (rt->on & (unsigned)c->kind) != 0;
}

static bool has_role(const struct kz_identity *id, const char *role)
{
    for (unsigned i = 0; id && i < id->roles_count; i++)
        if (strcmp(id->roles[i], role) == 0)
            return true;
    return false;
}

static void method_not_allowed(struct kz__http_conn *c, struct kz_http_req *req)
{
    struct kz_sbuf allow = KZ_SBUF_INIT;
    size_t n = 0;

    kz_sbuf_adds(&allow, "Allow: ");
    for (size_t t = 0; t < c->h->n_tables; t++) {
        const struct kz__http_table *tab = &c->h->tables[t];
        for (size_t i = 0; i < tab->n; i++) {
            const struct kz_http_route *rt = &tab->rows[i];
            if (served_here(rt, c) && kz__http_route_match(rt->path, req->target.path, NULL))
                kz_sbuf_addf(&allow, "%s%s", n++ ? ", " : "", rt->method);
        }
    }
    kz_sbuf_adds(&allow, "\r\n");
    kz_http_error_extra(req, 405, allow.buf, "method not allowed");
    kz_sbuf_release(&allow);
}

void kz__http_call(struct kz__http_conn *c, struct kz_http_req *req, const struct kz_http_route *rt,
                   void *app)
{
    if (rt->role && !has_role(c->identity, rt->role)) {
        kz_http_error(req, 403, "role '%s' required", rt->role);
        return;
    }
    rt->fn(req, app);
}

void kz__http_dispatch(struct kz__http_conn *c, struct kz_http_req *req)
{
    const char *method = kz_http_method(req);
    bool path_known = false;

    for (size_t t = 0; t < c->h->n_tables; t++) {
        const struct kz__http_table *tab = &c->h->tables[t];
        for (size_t i = 0; i < tab->n; i++) {
            const struct kz_http_route *rt = &tab->rows[i];
            if (!served_here(rt, c) || !kz__http_route_match(rt->path, req->target.path, req))
                continue;
            path_known = true;
            if (!tab->stream && strcmp(rt->method, method) == 0) {
                kz__http_call(c, req, rt, tab->app);
                return;
            }
        }
    }
    if (path_known)
        method_not_allowed(c, req);
    else
        kz_http_error(req, 404, "not found");
}

const struct kz_http_route *kz__http_stream_route(struct kz__http_conn *c, struct kz_http_req *req,
                                                  void **app)
{
    const char *method = kz_http_method(req);

    for (size_t t = 0; t < c->h->n_tables; t++) {
        const struct kz__http_table *tab = &c->h->tables[t];
        for (size_t i = 0; tab->stream && i < tab->n; i++) {
            const struct kz_http_route *rt = &tab->rows[i];
            if (served_here(rt, c) && strcmp(rt->method, method) == 0 &&
                kz__http_route_match(rt->path, req->target.path, req)) {
                *app = tab->app;
                return rt;
            }
        }
    }
    return NULL;
}
