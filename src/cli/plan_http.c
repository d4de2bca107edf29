/*
 * plan_http.c - the HTTP side of `kizuna plan`: one blocking HTTP/1.0
 * request per call to the server's input, the answer read whole and checked
 * against its Content-Length, refusals printed with the server's rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/plan.h"

#define MAX_REPLY (16u << 20)

void kz__plan_reply_release(struct kz__plan_reply *r)
{
    kz_sbuf_release(&r->raw);
}

/* The body is all there: as long as its Content-Length says, and under MAX_REPLY. */
static bool whole(const struct kz__plan_reply *r)
{
    size_t head = (size_t)(r->body - r->raw.buf);
    unsigned long long want;

    if (r->raw.len >= MAX_REPLY)
        return false;
    for (const char *h = strstr(r->raw.buf, "\r\n"); h && (size_t)(h - r->raw.buf) < head;
         h = strstr(h + 2, "\r\n")) {
        if (strncasecmp(h + 2, "Content-Length:", 15) == 0 && sscanf(h + 17, " %llu", &want) == 1)
            return r->body_len == want;
    }
    return true;
}

/*
 * HTTP/1.0, so the answer is Content-Length framed or ends with the
 * connection, never chunked: reading to EOF is the whole answer.
 */
int kz__plan_http(const struct kz__plan_ctx *c, const char *method, const char *path,
                  const char *body, struct kz__plan_reply *r)
{
    struct kz_sbuf req = KZ_SBUF_INIT;
    char err[256], buf[8192];
    int fd, rc;
    ssize_t n;

    memset(r, 0, sizeof(*r));
    if ((rc = kz__cli_connect(&c->srv, &fd, err, sizeof(err))) != KZ_OK) {
        fprintf(stderr, "kizuna plan %s: %s\n", c->sub, err);
        return rc;
    }
    kz_sbuf_addf(&req, "%s %s HTTP/1.0\r\nHost: %s\r\n", method, path, c->srv.host);
    if (body)
        kz_sbuf_addf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                     strlen(body));
    kz_sbuf_addf(&req, "\r\n%s", body ? body : "");
    rc = kz__cli_write_all(fd, req.buf, req.len);
    while (rc == KZ_OK && (n = read(fd, buf, sizeof(buf))) > 0 && r->raw.len < MAX_REPLY)
        kz_sbuf_add(&r->raw, buf, (size_t)n);
    close(fd);
    kz_sbuf_release(&req);
    const char *end = r->raw.buf ? strstr(r->raw.buf, "\r\n\r\n") : NULL;
    if (rc != KZ_OK || !end || sscanf(r->raw.buf, "HTTP/1.%*d %d", &r->status) != 1) {
        fprintf(stderr, "kizuna plan %s: no HTTP answer from %s:%s\n", c->sub, c->srv.host,
                c->srv.port);
        return KZ_ERR_IO;
    }
    r->body = end + 4;
    r->body_len = r->raw.len - (size_t)(r->body - r->raw.buf);
    if (!whole(r)) {
        fprintf(stderr, "kizuna plan %s: the answer from %s:%s is cut short or too big\n", c->sub,
                c->srv.host, c->srv.port);
        return KZ_ERR_IO;
    }
    return KZ_OK;
}

void kz__plan_refusal(const struct kz__plan_ctx *c, const struct kz__plan_reply *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    json_t *raw = json_stringn_nocheck(r->body, r->body_len);
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
    struct kz__plan_reply r;
    int code = 1;

    *answer = NULL;
    json_decref(body);
    if (kz__plan_http(c, method, path, text, &r) == KZ_OK) {
        if (r.status / 100 != 2)
            kz__plan_refusal(c, &r);
        else if ((*answer = json_loadb(r.body, r.body_len, 0, NULL)) == NULL)
            fprintf(stderr, "kizuna plan %s: the answer is not JSON\n", c->sub);
        else
            code = 0;
    }
    free(text);
    kz__plan_reply_release(&r);
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
