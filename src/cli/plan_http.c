/*
 * plan_http.c - the HTTP side of `kizuna plan`: one request per call to the
 * server's input (kz__cli_http), refusals printed with the server's rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plan.h"

int kz__plan_http(const struct kz__plan_ctx *c, const char *method, const char *path,
                  const char *body, struct kz_http_reply *r)
{
    char what[64];

    snprintf(what, sizeof(what), "plan %s", c->sub);
    return kz__cli_http(&c->srv, what, method, path, body, r);
}

void kz__plan_refusal(const struct kz__plan_ctx *c, const struct kz_http_reply *r)
{
    const char *text = r->body.buf ? r->body.buf : "";
    json_t *j = json_loadb(text, r->body.len, 0, NULL);
    json_t *raw = json_stringn_nocheck(text, r->body.len);
    const char *e, *rule;

    kz__plan_scrub(j);
    kz__plan_scrub(raw);
    e = json_string_value(json_object_get(j, "error"));
    rule = json_string_value(json_object_get(j, "rule"));
    if (e)
        fprintf(stderr, "kizuna plan %s: %s (HTTP %d%s%s)\n", c->sub, e, r->status,
                rule ? ", rule " : "", rule ? rule : "");
    else
        fprintf(stderr, "kizuna plan %s: HTTP %d: %s\n", c->sub, r->status, json_string_value(raw));
    json_decref(raw);
    json_decref(j);
}

int kz__plan_call(const struct kz__plan_ctx *c, const char *method, const char *path, json_t *body,
                  json_t **answer)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct kz_http_reply r = {0};
    int code = 1;

    *answer = NULL;
    json_decref(body);
    if (kz__plan_http(c, method, path, text, &r) == KZ_OK) {
        if (r.status / 100 != 2)
            kz__plan_refusal(c, &r);
        else if (!(*answer = json_loadb(r.body.buf ? r.body.buf : "", r.body.len, 0, NULL)))
            fprintf(stderr, "kizuna plan %s: the answer is not JSON\n", c->sub);
        else
            code = 0;
    }
    free(text);
    kz_http_reply_release(&r);
    return code;
}

char *kz__plan_path(const char *id, const char *suffix)
{
    struct kz_sbuf p = KZ_SBUF_INIT;

    kz_sbuf_adds(&p, "/api/v1/plans/");
    for (const char *s = id; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            strchr("-_~", ch))
            kz_sbuf_add(&p, s, 1);
        else
            kz_sbuf_addf(&p, "%%%02X", ch);
    }
    kz_sbuf_adds(&p, suffix);
    return kz_sbuf_detach(&p, NULL);
}
