/*
 * mission_password.c - mission passwords (Argon2id, as users' passwords)
 * are hashed and checked on the thread pool, never on the loop: a handler
 * that meets a `password` parameter queues the work, holds the request and
 * returns; when the work is done the same handler runs again for that
 * request, and this time finds the result (kz__mission_password).
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "marti/internal.h"

#define MAX_JOBS 16 /* password jobs at once; more are 503 */

struct pw_job {
    uv_work_t work;
    struct kz_marti *m;
    struct kz_http_req *req;
    kz_http_handler again;
    char *hash; /* verify against this; NULL: make a hash */
    char *pw;
    char out[128]; /* the new hash */
    bool ok;
};

static void run(uv_work_t *w)
{
    struct pw_job *j = w->data;

    if (j->hash)
        j->ok = kz_password_verify(j->hash, j->pw);
    else
        j->ok = kz_password_hash(j->pw, j->out, sizeof(j->out)) == KZ_OK;
}

static void job_free(struct pw_job *j)
{
    if (j->pw)
        explicit_bzero(j->pw, strlen(j->pw));
    free(j->pw);
    free(j->hash);
    free(j);
}

static void done(uv_work_t *w, int status)
{
    struct pw_job *j = w->data;
    struct kz_marti *m = j->m;

    m->jobs_running--;
    if (!kz_http_gone(j->req)) {
        m->pw_req = j->req;
        m->pw_ok = status == 0 && j->ok;
        m->pw_hash = j->hash ? NULL : j->out;
        j->again(j->req, m);
        m->pw_req = NULL;
        m->pw_hash = NULL;
    }
    kz_http_release(j->req);
    job_free(j);
}

enum kz__pw kz__mission_password(struct kz_marti *m, struct kz_http_req *req, const char *hash,
                                 kz_http_handler again)
{
    const char *pw = kz__mission_param(req, "password");
    struct pw_job *j;

    if (m->pw_req == req)
        return m->pw_ok ? KZ__PW_OK : KZ__PW_BAD;
    if (!pw || !*pw)
        return KZ__PW_NONE;
    if (m->jobs_running >= MAX_JOBS) {
        kz_http_error(req, 503, "too many password checks at once");
        return KZ__PW_PENDING;
    }
    j = kz_xcalloc(1, sizeof(*j));
    *j = (struct pw_job){.m = m, .req = req, .again = again, .pw = kz_xstrdup(pw)};
    j->hash = hash ? kz_xstrdup(hash) : NULL;
    j->work.data = j;
    kz_http_hold(req);
    if (uv_queue_work(kz_http_loop(req), &j->work, run, done) != 0) {
        kz_http_error(req, 503, "no worker for the password");
        kz_http_release(req);
        job_free(j);
        return KZ__PW_PENDING;
    }
    m->jobs_running++;
    return KZ__PW_PENDING;
}
