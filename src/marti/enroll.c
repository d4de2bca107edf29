/*
 * enroll.c - certificate enrollment on `enroll` inputs (TLS without a
 * client certificate, HTTP Basic auth against the users table):
 *
 *   GET  /Marti/api/tls/config                  certificateConfig XML
 *   POST /Marti/api/tls/signClient/v2?clientUid=&version=
 *        body: CSR (PEM or bare base64 DER) with CN = the Basic-auth user
 *        200: JSON {"signedCert","ca0"} (default) or XML <enrollment> for
 *             Accept: application/xml; 400 other Accept or a refused CSR;
 *             401 + WWW-Authenticate for missing or wrong credentials;
 *             413 CSR over KZ_AUTH_MAX_CSR_BYTES; 503 too many at once.
 *
 * Argon2id and signing take tens of milliseconds and read files, so each
 * request runs on the libuv thread pool: the request is held (kz_http_hold) and
 * answered from after_job() on the loop.  At most MAX_JOBS run at once (per
 * struct kz_marti), which
 * also bounds how fast anyone can guess passwords.  The password never
 * leaves the job and is wiped when the job ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "marti/internal.h"

#define MAX_JOBS 4
#define REALM "WWW-Authenticate: Basic realm=\"kizuna enrollment\"\r\n"
#define MAX_UID 256

enum job_kind { JOB_CONFIG, JOB_SIGN };

struct job {
    uv_work_t work;
    struct kz_http_req *req;
    struct kz_marti *m;
    enum job_kind kind;
    enum kz_http_fmt fmt;
    char user[KZ_HTTP_MAX_USER + 1];
    char pass[KZ_HTTP_MAX_PASSWORD + 1];
    char *csr;
    size_t csr_len;
    char pki_dir[1024], db_path[1024];
    unsigned days;
    /* Results */
    int status; /* HTTP status; 200 when cert_der is set */
    char err[256];
    unsigned char *cert_der, *ca_der;
    size_t cert_len, ca_len;
    char *serial;
};

/* ---- guessing (loop) ----------------------------------------------------------- */

#define KEY_MAX (KZ_HTTP_MAX_USER + 80)

/* "u:NAME" and "p:ADDRESS" (the peer without its port). */
static void guess_keys(const struct kz_http_req *req, const struct job *j, char user[KEY_MAX],
                       char peer[KEY_MAX])
{
    const char *p = kz_http_peer(req), *colon = strrchr(p, ':');
    int host = colon ? (int)(colon - p) : (int)strlen(p);

    snprintf(user, KEY_MAX, "u:%s", j->user);
    snprintf(peer, KEY_MAX, "p:%.*s", host, p);
}

static struct kz_backoff *backoff(struct kz_marti *m)
{
    if (!m->backoff)
        m->backoff = kz_backoff_new(KZ_BACKOFF_MAX_KEYS);
    return m->backoff;
}

/* True (and answered 429) when the name or the peer must wait. */
static bool backing_off(struct kz_http_req *req, struct kz_marti *m, const struct job *j)
{
    char user[KEY_MAX], peer[KEY_MAX], extra[64];
    int64_t now = kz_mono_us();
    int64_t wu, wp;

    guess_keys(req, j, user, peer);
    wu = kz_backoff_wait(backoff(m), user, now);
    wp = kz_backoff_wait(backoff(m), peer, now);
    int64_t wait = wu > wp ? wu : wp;

    if (wait == 0)
        return false;
    kz_metrics.enroll_backoffs++;
    long secs = (long)((wait + 999999) / 1000000);
    snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", secs);
    kz_http_error_extra(req, 429, extra, "too many failed logins: retry later");
    return true;
}

/* After the check: count a wrong password, or clear the name's count. */
static void note_result(struct kz_http_req *req, struct kz_marti *m, const struct job *j)
{
    char user[KEY_MAX], peer[KEY_MAX];
    int64_t now = kz_mono_us(), wu, wp;

    guess_keys(req, j, user, peer);
    if (j->status != 401) {
        if (j->status != 500)
            kz_backoff_forget(backoff(m), user);
        return;
    }
    kz_metrics.enroll_auth_failures++;
    wu = kz_backoff_fail(backoff(m), user, now);
    wp = kz_backoff_fail(backoff(m), peer, now);
    if (wu || wp)
        kz_log(KZ_LOG_WARN, "enroll: backing off", "peer=%s user=%s user_ms=%lld peer_ms=%lld",
               kz_http_peer(req), j->user, (long long)(wu / 1000), (long long)(wp / 1000));
}

void kz_marti_release(struct kz_marti *m)
{
    kz_backoff_free(m->backoff);
    m->backoff = NULL;
}

/* ---- on the worker -------------------------------------------------------------- */

/* Record the certificate so `kizuna cert revoke USER` covers it. */
static int record_cert(struct job *j, struct kz_userdb *db, int64_t not_after)
{
    return kz_userdb_add_cert(db, j->user, j->serial, not_after, j->err, sizeof(j->err));
}

static void sign(struct job *j, struct kz_userdb *db)
{
    static const char *const rdns[] = {"O", "OU", NULL};
    struct kz_csr_request req = {j->pki_dir, j->csr, j->csr_len, j->user, rdns, (int)j->days};
    struct kz_csr_result res;
    int rc = kz_csr_sign(&req, &res, j->err, sizeof(j->err));
    int64_t not_after = res.not_after_us;

    /* The job owns the result now and frees it with itself. */
    j->cert_der = res.cert_der, j->cert_len = res.cert_len;
    j->ca_der = res.ca_der, j->ca_len = res.ca_len;
    j->serial = res.serial;

    if (rc == KZ_ERR_TOOBIG) {
        j->status = 413;
    } else if (rc == KZ_ERR_PARSE || rc == KZ_ERR_DENIED) {
        j->status = 400;
    } else if (rc != KZ_OK) {
        j->status = 500;
    } else if (record_cert(j, db, not_after) != KZ_OK) {
        j->status = 500;
    } else {
        j->status = 200;
    }
}

/* Password hashes live only in the database (the users snapshot has none). */
static void run_job(uv_work_t *w)
{
    struct job *j = w->data;
    struct kz_userdb *db = NULL;

    j->status = 500;
    if (kz_userdb_open(j->db_path, &db, j->err, sizeof(j->err)) != KZ_OK)
        return;
    if (kz_userdb_check_password(db, j->user, j->pass) != KZ_OK) {
        j->status = 401;
        snprintf(j->err, sizeof(j->err), "wrong username or password");
    } else if (j->kind == JOB_SIGN) {
        sign(j, db);
    } else {
        j->status = 200;
    }
    kz_userdb_close(db);
}

/* ---- answers (loop) ----------------------------------------------------------- */

static void xml_escaped(struct kz_sbuf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            kz_sbuf_adds(out, "&lt;");
            break;
        case '>':
            kz_sbuf_adds(out, "&gt;");
            break;
        case '&':
            kz_sbuf_adds(out, "&amp;");
            break;
        case '"':
            kz_sbuf_adds(out, "&quot;");
            break;
        case '\'':
            kz_sbuf_adds(out, "&apos;");
            break;
        default:
            kz_sbuf_add(out, s, 1);
            break;
        }
    }
}

/* The subject fields a CSR may carry besides CN (both optional for us). */
static void answer_config(struct kz_http_req *req, const struct kz_marti *m)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    const char *ou = m->opts.node_id ? m->opts.node_id : "kizuna";

    kz_sbuf_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                      "<ns2:certificateConfig xmlns=\"http://bbn.com/marti/xml/config\" "
                      "xmlns:ns2=\"com.bbn.marti.config\"><nameEntries>"
                      "<nameEntry name=\"O\" value=\"kizuna\"/><nameEntry name=\"OU\" value=\"");
    xml_escaped(&sb, ou);
    kz_sbuf_adds(&sb, "\"/></nameEntries></ns2:certificateConfig>\n");
    kz_http_respond(req, 200, "application/xml", NULL, sb.buf, sb.len);
    kz_sbuf_release(&sb);
}

static void answer_cert(struct kz_http_req *req, const struct job *j)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    bool xml = j->fmt == KZ_HTTP_FMT_XML;

    kz_sbuf_adds(&sb, xml ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<enrollment><signedCert>"
                          : "{\"signedCert\":\"");
    kz_base64_append(&sb, j->cert_der, j->cert_len);
    kz_sbuf_adds(&sb, xml ? "</signedCert><ca>" : "\",\"ca0\":\"");
    kz_base64_append(&sb, j->ca_der, j->ca_len);
    kz_sbuf_adds(&sb, xml ? "</ca></enrollment>\n" : "\"}\n");
    kz_http_respond(req, 200, xml ? "application/xml" : "application/json", NULL, sb.buf, sb.len);
    kz_sbuf_release(&sb);
}

static void answer(struct kz_http_req *req, const struct job *j)
{
    const char *input = kz_http_input(req)->conf->name, *peer = kz_http_peer(req);

    if (j->status == 401) {
        kz_log(KZ_LOG_WARN, "enroll: authentication failed", "input=%s peer=%s user=%s", input,
               peer, j->user);
        kz_http_error_extra(req, 401, REALM, j->err);
    } else if (j->status != 200) {
        kz_log(KZ_LOG_WARN, "enroll: refused", "input=%s peer=%s user=%s reason=\"%s\"", input,
               peer, j->user, j->err);
        kz_http_error(req, j->status, "%s", j->err);
    } else if (j->kind == JOB_CONFIG) {
        answer_config(req, j->m);
    } else {
        kz_log(KZ_LOG_INFO, "enroll: certificate issued", "input=%s peer=%s user=%s serial=%s",
               input, peer, j->user, j->serial);
        answer_cert(req, j);
    }
}

static void job_free(struct job *j)
{
    explicit_bzero(j->pass, sizeof(j->pass));
    free(j->csr);
    free(j->cert_der);
    free(j->ca_der);
    free(j->serial);
    free(j);
}

static void after_job(uv_work_t *w, int status)
{
    struct job *j = w->data;
    struct kz_http_req *req = j->req;

    KZ_UNUSED(status);
    j->m->jobs_running--;
    note_result(req, j->m, j);
    if (!kz_http_gone(req))
        answer(req, j);
    job_free(j);
    kz_http_release(req);
}

/* ---- request handling (loop) ------------------------------------------------- */

static bool credentials(struct kz_http_req *req, struct job *j)
{
    const char *h = kz_http_header(req, "Authorization");
    int rc = kz_http_basic_auth(h, j->user, j->pass);

    if (rc == KZ_OK)
        return true;
    kz_http_error_extra(req, 401, REALM,
                        rc == KZ_ERR_NOTFOUND ? "Basic authentication required"
                                              : "malformed Basic credentials");
    return false;
}

static void start(struct kz_http_req *req, struct kz_marti *m, struct job *j)
{
    if (backing_off(req, m, j)) {
        job_free(j);
        return;
    }
    if (m->jobs_running >= MAX_JOBS) {
        job_free(j);
        kz_http_error_extra(req, 503, "Retry-After: 1\r\n", "too many enrollments at once");
        return;
    }
    j->req = req;
    j->m = m;
    j->work.data = j;
    snprintf(j->pki_dir, sizeof(j->pki_dir), "%s", m->opts.pki_dir ? m->opts.pki_dir : "");
    snprintf(j->db_path, sizeof(j->db_path), "%s", m->opts.db_path ? m->opts.db_path : "");
    j->days = m->opts.enroll_days ? m->opts.enroll_days : 365;
    kz_http_hold(req);
    if (uv_queue_work(kz_http_loop(req), &j->work, run_job, after_job) != 0) {
        job_free(j);
        kz_http_error(req, 500, "cannot queue the enrollment");
        kz_http_release(req);
        return;
    }
    m->jobs_running++;
}

void kz__enroll_tls_config(struct kz_http_req *req, void *app)
{
    struct job *j = kz_xcalloc(1, sizeof(*j));

    j->kind = JOB_CONFIG;
    if (!credentials(req, j)) {
        job_free(j);
        return;
    }
    start(req, app, j);
}

/* What can be refused without a worker: format, size, parameters. */
static bool sign_request_ok(struct kz_http_req *req, struct job *j)
{
    size_t len;
    const char *uid = kz_http_param(req, "clientUid");

    kz_http_body(req, &len);
    j->fmt = kz_http_accept_fmt(kz_http_header(req, "Accept"));
    if (j->fmt == KZ_HTTP_FMT_NONE) {
        kz_http_error(req, 400, "Accept must allow application/json or application/xml");
        return false;
    }
    if (len > KZ_AUTH_MAX_CSR_BYTES) {
        kz_http_error(req, 413, "CSR over %d bytes", KZ_AUTH_MAX_CSR_BYTES);
        return false;
    }
    if (len == 0) {
        kz_http_error(req, 400, "empty body: expected a certificate signing request");
        return false;
    }
    if (uid && strlen(uid) > MAX_UID) {
        kz_http_error(req, 400, "clientUid over %d bytes", MAX_UID);
        return false;
    }
    return true;
}

void kz__enroll_sign(struct kz_http_req *req, void *app)
{
    struct job *j = kz_xcalloc(1, sizeof(*j));
    size_t len;
    const char *body = kz_http_body(req, &len);

    j->kind = JOB_SIGN;
    if (!credentials(req, j) || !sign_request_ok(req, j)) {
        job_free(j);
        return;
    }
    j->csr = kz_xmalloc(len + 1);
    memcpy(j->csr, body, len);
    j->csr[len] = '\0';
    j->csr_len = len;
    start(req, app, j);
}
