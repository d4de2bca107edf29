/*
 * queue.c - jobs and the lists that carry them between threads.  A job is
 * one allocation: the struct followed by copies of its strings, so queueing
 * an event costs one malloc on the loop thread and one free later.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

void kz__jobq_init(struct kz__jobq *q)
{
    q->head = NULL;
    q->tail = &q->head;
    q->n = 0;
}

void kz__jobq_push(struct kz__jobq *q, struct kz__job *job)
{
    job->next = NULL;
    *q->tail = job;
    q->tail = &job->next;
    q->n++;
}

struct kz__job *kz__jobq_take(struct kz__jobq *q, size_t max)
{
    struct kz__job *first = q->head, **link = &q->head;
    size_t n = 0;

    while (*link && n < max) {
        link = &(*link)->next;
        n++;
    }
    q->head = *link;
    *link = NULL;
    q->n -= n;
    if (!q->head)
        q->tail = &q->head;
    return first;
}

void kz__job_free(struct kz__job *job)
{
    if (job->kind == KZ__JOB_QUERY)
        kz__query_rows_free(&job->u.query);
    free(job);
}

static size_t size_of(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copy `s` to *p and advance it; NULL stays NULL. */
static const char *pack(char **p, const char *s, size_t len)
{
    char *r = *p;

    if (!s)
        return NULL;
    memcpy(r, s, len);
    r[len] = '\0';
    *p += len + 1;
    return r;
}

static const char *pack_str(char **p, const char *s)
{
    return s ? pack(p, s, strlen(s)) : NULL;
}

static struct kz__job *job_new(enum kz__job_kind kind, size_t extra)
{
    struct kz__job *job = kz_xmalloc(sizeof(*job) + extra);

    memset(job, 0, sizeof(*job));
    job->kind = kind;
    job->queued_us = kz_mono_us();
    return job;
}

struct kz__job *kz__job_append(const struct kz_event *ev, const char *xml, size_t xml_len)
{
    size_t extra = size_of(ev->uid) + size_of(ev->type) + size_of(ev->access) +
                   size_of(ev->origin_input) + size_of(ev->origin_user) + xml_len + 1;
    struct kz__job *job = job_new(KZ__JOB_APPEND, extra);
    struct kz__rec *r = &job->u.rec;
    char *p = job->data;

    r->seq = ev->seq;
    r->time = ev->time;
    r->start = ev->start;
    r->stale = ev->stale;
    r->recv_time = ev->recv_time;
    r->uid = pack_str(&p, ev->uid);
    r->type = pack_str(&p, ev->type);
    r->label = pack_str(&p, ev->access);
    r->origin_input = pack_str(&p, ev->origin_input);
    r->origin_user = pack_str(&p, ev->origin_user);
    r->xml = pack(&p, xml ? xml : "", xml ? xml_len : 0);
    r->xml_len = xml ? xml_len : 0;
    return job;
}

struct kz__job *kz__job_delete(const char *uid)
{
    struct kz__job *job = job_new(KZ__JOB_DELETE, size_of(uid));
    char *p = job->data;

    job->u.rec.uid = pack_str(&p, uid);
    return job;
}

struct kz__job *kz__job_query(const struct kz_store_query *q)
{
    struct kz__job *job = job_new(KZ__JOB_QUERY, size_of(q->uid) + size_of(q->type));
    struct kz_store_query *c = &job->u.query.q;
    char *p = job->data;

    *c = *q;
    c->uid = pack_str(&p, q->uid);
    c->type = pack_str(&p, q->type);
    return job;
}

struct kz__job *kz__job_readiness(const struct kz_store_readiness *r)
{
    size_t extra = size_of(r->unit) + size_of(r->override_reason) + size_of(r->remarks) +
                   size_of(r->label) + size_of(r->originator) + size_of(r->reporter);
    struct kz__job *job = job_new(KZ__JOB_READINESS, extra);
    struct kz_store_readiness *c = &job->u.rd;
    char *p = job->data;

    *c = *r;
    c->unit = pack_str(&p, r->unit);
    c->override_reason = pack_str(&p, r->override_reason);
    c->remarks = pack_str(&p, r->remarks);
    c->label = pack_str(&p, r->label);
    c->originator = pack_str(&p, r->originator);
    c->reporter = pack_str(&p, r->reporter);
    return job;
}
