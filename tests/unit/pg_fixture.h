/*
 * pg_fixture.h - a real PostgreSQL 15 with PostGIS for a test binary.
 *
 * pg_fx_start() runs initdb into a fresh temporary directory (as the
 * `postgres` user when the test runs as root: PostgreSQL refuses root),
 * starts `postgres` on a free 127.0.0.1 port with its socket in that
 * directory, waits (bounded) until it accepts and creates the postgis
 * extension in template1, so every database made by pg_fx_new_db() has it.
 * pg_fx_stop() stops the server by pid (SIGINT: fast shutdown; SIGKILL after
 * a bounded wait) and removes the directory; the server also gets SIGINT
 * when the test process dies (PR_SET_PDEATHSIG), so a crashed test leaves
 * nothing running.  Include after <cmocka.h>.
 */
#ifndef KZ_TEST_PG_FIXTURE_H
#define KZ_TEST_PG_FIXTURE_H

#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define PG_FX_BIN "/usr/lib/postgresql/15/bin"
#define PG_FX_START_MS 30000
#define PG_FX_STOP_MS 10000

struct pg_fx {
    char dir[64]; /* data in dir/data, the socket in dir */
    int port;
    pid_t pid; /* the postmaster; 0 = not running */
    uid_t uid; /* who runs the server */
    gid_t gid;
    unsigned n_db; /* databases made so far */
};

static inline void pg_fx_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A port nobody listens on now (the kernel's pick for an ephemeral bind). */
static inline int pg_fx_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* In a forked child: drop to the server's user, then exec argv. */
static inline void pg_fx_exec(const struct pg_fx *p, char *const argv[], bool die_with_parent)
{
    if (getuid() == 0 && (setgid(p->gid) != 0 || setuid(p->uid) != 0))
        _exit(126);
    if (die_with_parent)
        prctl(PR_SET_PDEATHSIG, SIGINT); /* after setuid, which clears it */
    execv(argv[0], argv);
    _exit(127);
}

/* Run argv as the server's user and wait; its exit status, or -1. */
static inline int pg_fx_run(const struct pg_fx *p, char *const argv[])
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(125);
        pg_fx_exec(p, argv, true);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* The DSN of database `db` (NULL: the server's own "postgres"). */
static inline void pg_fx_dsn(const struct pg_fx *p, const char *db, char *buf, size_t len)
{
    snprintf(buf, len, "host=127.0.0.1 port=%d user=kizuna dbname=%s connect_timeout=5", p->port,
             db ? db : "postgres");
}

/* Run sql on database db; 0 or -1 (the error on stderr). */
static inline int pg_fx_sql(const struct pg_fx *p, const char *db, const char *sql)
{
    char dsn[256];
    PGconn *c;
    PGresult *r;
    int rc = -1;

    pg_fx_dsn(p, db, dsn, sizeof(dsn));
    c = PQconnectdb(dsn);
    if (PQstatus(c) == CONNECTION_OK) {
        r = PQexec(c, sql);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
        PQclear(r);
    }
    if (rc != 0)
        fprintf(stderr, "pg_fixture: %s: %s\n", sql, PQerrorMessage(c));
    PQfinish(c);
    return rc;
}

static inline bool pg_fx_accepting(const struct pg_fx *p)
{
    char dsn[256];

    pg_fx_dsn(p, NULL, dsn, sizeof(dsn));
    return PQping(dsn) == PQPING_OK;
}

/* Stop the server (fast shutdown, then SIGKILL) and remove its directory. */
static inline void pg_fx_stop(struct pg_fx *p)
{
    char cmd[128];
    int status;

    if (p->pid > 0) {
        kill(p->pid, SIGINT);
        for (int waited = 0; waitpid(p->pid, &status, WNOHANG) == 0; waited += 20) {
            if (waited >= PG_FX_STOP_MS) {
                kill(p->pid, SIGKILL);
                waitpid(p->pid, &status, 0);
                break;
            }
            pg_fx_sleep_ms(20);
        }
        p->pid = 0;
    }
    if (p->dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "pg_fixture: cannot remove %s\n", p->dir);
        p->dir[0] = '\0';
    }
}

static inline int pg_fx_initdb(struct pg_fx *p)
{
    char data[96];
    char *argv[] = {PG_FX_BIN "/initdb", "-D", data, "-U", "kizuna", "-A", "trust", "-E", "UTF8",
                    "--no-sync",         NULL};
    struct passwd *pw = getuid() == 0 ? getpwnam("postgres") : NULL;

    p->uid = pw ? pw->pw_uid : getuid();
    p->gid = pw ? pw->pw_gid : getgid();
    if (getuid() == 0 && !pw)
        return -1;
    if (chown(p->dir, p->uid, p->gid) != 0)
        return -1;
    snprintf(data, sizeof(data), "%s/data", p->dir);
    return pg_fx_run(p, argv) == 0 ? 0 : -1;
}

static inline int pg_fx_spawn(struct pg_fx *p)
{
    char data[96], port[16], log[96];
    char *argv[] = {PG_FX_BIN "/postgres", "-D", data, "-p", port, "-k", p->dir, "-c",
                    "listen_addresses=127.0.0.1", "-c",
                    /* The tests kill kizuna, never the machine; KZ_TEST_PG_FSYNC=on measures
                     * with the WAL flushed as in production. */
                    getenv("KZ_TEST_PG_FSYNC") ? "fsync=on" : "fsync=off", "-c",
                    "max_connections=50", NULL};

    snprintf(data, sizeof(data), "%s/data", p->dir);
    snprintf(log, sizeof(log), "%s/postgres.log", p->dir);
    if (!p->port && (p->port = pg_fx_free_port()) < 0) /* a restart keeps its port */
        return -1;
    snprintf(port, sizeof(port), "%d", p->port);
    if ((p->pid = fork()) < 0)
        return -1;
    if (p->pid == 0) {
        if (!freopen(log, "a", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(125);
        pg_fx_exec(p, argv, true);
    }
    for (int waited = 0; !pg_fx_accepting(p); waited += 50) {
        int status;
        if (waited >= PG_FX_START_MS || waitpid(p->pid, &status, WNOHANG) == p->pid) {
            fprintf(stderr, "pg_fixture: postgres did not start (see %s)\n", log);
            return -1;
        }
        pg_fx_sleep_ms(50);
    }
    return 0;
}

/* 0, or -1 with the reason on stderr (and nothing left running). */
static inline int pg_fx_start(struct pg_fx *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "/tmp/kz_pg_XXXXXX");
    if (!mkdtemp(p->dir)) {
        p->dir[0] = '\0';
        return -1;
    }
    if (pg_fx_initdb(p) != 0) {
        fprintf(stderr, "pg_fixture: initdb failed in %s\n", p->dir);
        goto fail;
    }
    if (pg_fx_spawn(p) != 0 || pg_fx_sql(p, "template1", "CREATE EXTENSION postgis") != 0)
        goto fail;
    return 0;
fail:
    pg_fx_stop(p);
    return -1;
}

/*
 * Crash the server (SIGQUIT: immediate shutdown, no checkpoint: the next start recovers from
 * the WAL, as after a kill -9) and start it again on the same directory and port.  0 or -1.
 */
static inline int pg_fx_crash_restart(struct pg_fx *p)
{
    int status;

    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGQUIT);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    return pg_fx_spawn(p);
}

/* A fresh database with postgis; its DSN in buf.  0 or -1. */
static inline int pg_fx_new_db(struct pg_fx *p, char *buf, size_t len)
{
    char name[32], sql[64];

    snprintf(name, sizeof(name), "kz_test_%u", ++p->n_db);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    if (pg_fx_sql(p, NULL, sql) != 0)
        return -1;
    pg_fx_dsn(p, name, buf, len);
    return 0;
}

/* The first column of the first row of sql on `dsn` as an integer (a boolean as 1 or 0); -1
 * for no row or NULL. */
static inline int64_t pg_fx_int(const char *dsn, const char *sql)
{
    PGconn *c = PQconnectdb(dsn);
    PGresult *r = PQexec(c, sql);
    int64_t v = -1;

    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "pg_fixture: %s: %s\n", sql, PQerrorMessage(c));
    else if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) && PQftype(r, 0) == 16) /* bool */
        v = PQgetvalue(r, 0, 0)[0] == 't';
    else if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

/* Run sql on `dsn`; 0 or -1 (the error on stderr). */
static inline int pg_fx_exec_dsn(const char *dsn, const char *sql)
{
    PGconn *c = PQconnectdb(dsn);
    PGresult *r = PQexec(c, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;

    if (rc != 0)
        fprintf(stderr, "pg_fixture: %s: %s\n", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

#endif
