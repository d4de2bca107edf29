/*
 * queue.c - jobs and the lists that carry them between threads.  A job is
 * one allocation: the table's struct (the generic head first) followed by
 * copies of its strings, so queueing costs one malloc on the loop thread
 * and one free later.  Also the write barrier, a write job that writes
 * nothing.
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

void *kz__job_new(const struct kz__job_ops *ops, size_t size, size_t extra)
{
    struct kz__job *job;

    KZ_ASSERT(size >= sizeof(*job));
    KZ_ASSERT((ops->write != NULL) != (ops->read != NULL));
    job = kz_xmalloc(size + extra);
    memset(job, 0, size);
    job->ops = ops;
    job->queued_us = kz_mono_us();
    return job;
}

void kz__job_free(struct kz__job *job)
{
    if (job->ops->release)
        job->ops->release(job);
    free(job);
}

size_t kz__str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

const char *kz__pack(char **p, const char *s, size_t len)
{
    char *r = *p;

    if (!s)
        return NULL;
    memcpy(r, s, len);
    r[len] = '\0';
    *p += len + 1;
    return r;
}

const char *kz__pack_str(char **p, const char *s)
{
    return s ? kz__pack(p, s, strlen(s)) : NULL;
}

/* ---- the write barrier --------------------------------------------------------------- */

static int write_nothing(struct kz__db *db, struct kz__job *job)
{
    (void)db;
    (void)job;
    return SQLITE_DONE;
}

static const struct kz__job_ops barrier_ops = {
    .table = "barrier",
    .write = write_nothing,
    .pg_write = kz__pg_write_nothing,
};

void kz_store_barrier(struct kz_store *st, kz_store_ack_cb cb, void *ud)
{
    struct kz__job *j = kz__job_new(&barrier_ops, sizeof(*j), 0);

    j->ack = cb;
    j->ud = ud;
    j->notify = true;
    kz__store_submit(st, j);
}
