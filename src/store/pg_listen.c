/*
 * pg_listen.c - writes to the users table of a PostgreSQL store, as they commit: a connection
 * of its own LISTENs on the channel the table's trigger notifies (pg_migrate.c, migration 5),
 * so a change made by any writer (the CLI, another instance's API, a store copy) reaches the
 * loop at once instead of at the next periodic users reload.
 *
 * Connecting (name lookup, TCP, TLS, authentication) and the LISTEN block, so they run on a
 * worker thread, as the users reload's own connections do.  Once listening, the socket is
 * watched by the loop (uv_poll) and read without blocking: notices are consumed as they come.
 * A lost connection is opened again after RETRY_MIN_MS, doubling to RETRY_MAX_MS while it
 * fails.  Every LISTEN that succeeds calls fn once as well: a change may have committed while
 * nothing listened.
 *
 * One state at a time: waiting (the retry timer), connecting (the work), listening (the poll)
 * or closing (the poll's close callback finishes the connection and arms the timer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 10000

struct kz_store_users_watch {
    uv_loop_t *loop;
    char *dsn, *where;
    kz_store_users_watch_fn fn;
    void *ud;
    PGconn *conn; /* listening, or the worker's new connection; NULL between */
    uv_work_t work;
    uv_timer_t retry;
    uv_poll_t poll;
    unsigned handles; /* open handles: the timer, and the poll while listening */
    unsigned delay_ms;
    unsigned failures; /* connects failed in a row: the first is logged as a warning */
    bool working, stopping;
    char err[256];
};

static void maybe_free(struct kz_store_users_watch *w)
{
    if (!w->stopping || w->working || w->handles)
        return;
    free(w->dsn);
    free(w->where);
    free(w);
}

static void on_closed(uv_handle_t *h)
{
    struct kz_store_users_watch *w = h->data;

    w->handles--;
    maybe_free(w);
}

/* Runs on a worker thread: the watch's fields but conn and err are the loop's. */
static void do_connect(uv_work_t *work)
{
    struct kz_store_users_watch *w = work->data;
    /* Keepalives: a peer gone silent is noticed in about a minute; the DSN's own keys win. */
    const char *const keys[] = {"connect_timeout",
                                "application_name",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "dbname",
                                NULL};
    const char *const values[] = {"10", "kizuna users watch", "30", "10", "3", w->dsn, NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    PGresult *r = NULL;

    w->err[0] = '\0';
    if (PQstatus(conn) == CONNECTION_OK)
        r = PQexec(conn, "LISTEN " KZ__PG_USERS_CHANNEL);
    if (!kz__pg_ok(r) || PQsetnonblocking(conn, 1) != 0) {
        const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(conn);
        snprintf(w->err, sizeof(w->err), "%.*s", (int)strcspn(m, "\n"), m);
        PQfinish(conn);
        conn = NULL;
    }
    PQclear(r);
    w->conn = conn;
}

static void start_connect(struct kz_store_users_watch *w);

static void on_retry(uv_timer_t *t)
{
    start_connect(t->data);
}

static void wait_retry(struct kz_store_users_watch *w)
{
    uv_timer_start(&w->retry, on_retry, w->delay_ms, 0);
    w->delay_ms = w->delay_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : w->delay_ms * 2;
}

static void on_poll_closed(uv_handle_t *h)
{
    struct kz_store_users_watch *w = h->data;

    PQfinish(w->conn); /* only now: the loop no longer watches its socket */
    w->conn = NULL;
    w->handles--;
    if (w->stopping)
        maybe_free(w);
    else
        wait_retry(w);
}

static void lost(struct kz_store_users_watch *w, const char *why)
{
    char msg[256];

    kz_log(KZ_LOG_WARN, "store: users changes connection lost, reconnecting",
           "db=\"%s\" err=%s retry_ms=%u", w->where,
           kz_log_quote(msg, sizeof(msg), why, strcspn(why, "\n")), w->delay_ms);
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_poll_closed);
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    struct kz_store_users_watch *w = p->data;
    unsigned notices = 0;
    PGnotify *n;

    KZ_UNUSED(events);
    if (status < 0) {
        lost(w, uv_strerror(status));
        return;
    }
    if (!PQconsumeInput(w->conn) || PQstatus(w->conn) != CONNECTION_OK) {
        lost(w, PQerrorMessage(w->conn));
        return;
    }
    while ((n = PQnotifies(w->conn)) != NULL) {
        notices++;
        PQfreemem(n);
    }
    if (notices) {
        kz_log(KZ_LOG_DEBUG, "store: users changed", "notices=%u", notices);
        w->fn(w->ud);
    }
}

static void listening(struct kz_store_users_watch *w)
{
    int rc = uv_poll_init_socket(w->loop, &w->poll, PQsocket(w->conn));

    if (rc == 0) {
        w->poll.data = w;
        w->handles++;
        uv_unref((uv_handle_t *)&w->poll);
        rc = uv_poll_start(&w->poll, UV_READABLE, on_readable);
        if (rc != 0) {
            lost(w, uv_strerror(rc));
            return;
        }
    } else {
        kz_log(KZ_LOG_WARN, "store: cannot watch the users changes connection", "db=\"%s\" err=%s",
               w->where, uv_strerror(rc));
        PQfinish(w->conn);
        w->conn = NULL;
        wait_retry(w);
        return;
    }
    kz_log(KZ_LOG_INFO, "store: listening for users changes", "db=\"%s\" channel=%s", w->where,
           KZ__PG_USERS_CHANNEL);
    w->delay_ms = RETRY_MIN_MS;
    w->failures = 0;
    w->fn(w->ud); /* whatever committed while nothing listened */
}

static void after_connect(uv_work_t *work, int status)
{
    struct kz_store_users_watch *w = work->data;
    char msg[256];

    KZ_UNUSED(status);
    w->working = false;
    if (w->stopping) {
        PQfinish(w->conn);
        w->conn = NULL;
        maybe_free(w);
        return;
    }
    if (w->conn) {
        listening(w);
        return;
    }
    kz_log(w->failures++ ? KZ_LOG_DEBUG : KZ_LOG_WARN,
           "store: cannot listen for users changes, retrying", "db=\"%s\" err=%s retry_ms=%u",
           w->where, kz_log_quote(msg, sizeof(msg), w->err, strlen(w->err)), w->delay_ms);
    wait_retry(w);
}

static void start_connect(struct kz_store_users_watch *w)
{
    w->working = true;
    if (uv_queue_work(w->loop, &w->work, do_connect, after_connect) != 0) {
        w->working = false;
        wait_retry(w);
    }
}

int kz_store_users_watch(uv_loop_t *loop, const char *locator, kz_store_users_watch_fn fn, void *ud,
                         struct kz_store_users_watch **out)
{
    const char *dsn = kz_store_pg_dsn(locator);
    struct kz_store_users_watch *w;

    *out = NULL;
    if (!dsn)
        return KZ_ERR_INVAL;
    w = kz_xcalloc(1, sizeof(*w));
    w->loop = loop;
    w->dsn = kz_xstrdup(dsn);
    w->where = kz__pg_describe(dsn);
    w->fn = fn;
    w->ud = ud;
    w->work.data = w;
    w->delay_ms = RETRY_MIN_MS;
    uv_timer_init(loop, &w->retry);
    w->retry.data = w;
    w->handles = 1;
    /* Neither the timer nor the socket keeps the loop running: the server's inputs do. */
    uv_unref((uv_handle_t *)&w->retry);
    start_connect(w);
    *out = w;
    return KZ_OK;
}

void kz_store_users_watch_stop(struct kz_store_users_watch *w)
{
    if (!w)
        return;
    w->stopping = true;
    uv_timer_stop(&w->retry);
    uv_close((uv_handle_t *)&w->retry, on_closed);
    /* Connecting: after_connect finishes; closing: on_poll_closed does. */
    if (!w->working && w->conn && uv_is_active((uv_handle_t *)&w->poll)) {
        uv_poll_stop(&w->poll);
        uv_close((uv_handle_t *)&w->poll, on_poll_closed);
    }
}
