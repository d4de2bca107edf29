/*
 * nats_fixture.h - a real nats-server with JetStream for the cluster tests:
 * started on a free loopback port with its store in a temporary directory,
 * waited for (bounded), stopped by pid (also at exit, and by the kernel when
 * the test process dies: PR_SET_PDEATHSIG), and
 * restartable on the same port and store.  Plus the loop helpers the tests
 * share.  NATS_SERVER overrides the binary (default: nats-server on PATH).
 */
#ifndef KZ_TEST_NATS_FIXTURE_H
#define KZ_TEST_NATS_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>
#include <uv.h>

struct nats_fx {
    pid_t pid;
    int port;
    char dir[128]; /* the store and the log */
    char url[64];
};

static pid_t nats_fx_pids[8]; /* stopped at exit if still running */

static void nats_fx_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void nats_fx_kill(pid_t pid)
{
    int st;

    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* 5 s */
        if (waitpid(pid, &st, WNOHANG) == pid)
            return;
        nats_fx_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

static void nats_fx_atexit(void)
{
    for (size_t i = 0; i < sizeof(nats_fx_pids) / sizeof(nats_fx_pids[0]); i++)
        if (nats_fx_pids[i] > 0)
            nats_fx_kill(nats_fx_pids[i]);
}

static void nats_fx_track(pid_t pid, pid_t old)
{
    static int registered;

    if (!registered) {
        atexit(nats_fx_atexit);
        registered = 1;
    }
    for (size_t i = 0; i < sizeof(nats_fx_pids) / sizeof(nats_fx_pids[0]); i++)
        if (nats_fx_pids[i] == old) {
            nats_fx_pids[i] = pid;
            return;
        }
}

static int nats_fx_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        fprintf(stderr, "nats_fixture: no free port: %s\n", strerror(errno));
        abort();
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int nats_fx_listening(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Start (or restart, same port and store) the server; aborts when it does not come up in 10 s. */
static void nats_fx_start(struct nats_fx *fx)
{
    char port[16], store[160], log[160];
    const char *bin = getenv("NATS_SERVER") ? getenv("NATS_SERVER") : "nats-server";

    if (!fx->dir[0]) {
        snprintf(fx->dir, sizeof(fx->dir), "%s/kz-nats-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(fx->dir)) {
            fprintf(stderr, "nats_fixture: mkdtemp: %s\n", strerror(errno));
            abort();
        }
        fx->port = nats_fx_free_port();
        snprintf(fx->url, sizeof(fx->url), "nats://127.0.0.1:%d", fx->port);
    }
    snprintf(port, sizeof(port), "%d", fx->port);
    snprintf(store, sizeof(store), "%s/store", fx->dir);
    snprintf(log, sizeof(log), "%s/nats.log", fx->dir);
    char *argv[] = {(char *)bin, "-js", "-a", "127.0.0.1", "-p", port,
                    "-sd",       store, "-l", log,         NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "nats_fixture: fork: %s\n", strerror(errno));
        abort();
    }
    if (pid == 0) {
        /* The server dies with the test, even when the test aborts (a sanitizer, a crash). */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        execvp(bin, argv);
        _exit(127);
    }
    nats_fx_track(pid, 0);
    fx->pid = pid;
    for (int i = 0; i < 200; i++) { /* 10 s */
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "nats_fixture: %s exited at start (see %s)\n", bin, log);
            abort();
        }
        if (nats_fx_listening(fx->port))
            return;
        nats_fx_sleep_ms(50);
    }
    fprintf(stderr, "nats_fixture: %s did not listen on %d in 10 s\n", bin, fx->port);
    abort();
}

/* Stop the server by its pid (the store stays for a restart). */
static void nats_fx_stop(struct nats_fx *fx)
{
    if (fx->pid <= 0)
        return;
    nats_fx_kill(fx->pid);
    nats_fx_track(0, fx->pid);
    fx->pid = 0;
}

/* Stop it and remove its directory. */
static void nats_fx_destroy(struct nats_fx *fx)
{
    char cmd[200];

    nats_fx_stop(fx);
    if (fx->dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "nats_fixture: could not remove %s\n", fx->dir);
    }
    memset(fx, 0, sizeof(*fx));
}

/*
 * A connection that reconnects for ever every `reconnect_ms`, calling
 * on_reconnected(nc, arg) (a libnats thread) after each reconnect.
 */
static natsConnection *nats_fx_connect(const struct nats_fx *fx, int64_t reconnect_ms,
                                       natsConnectionHandler on_reconnected, void *arg)
{
    natsOptions *o = NULL;
    natsConnection *nc = NULL;

    if (natsOptions_Create(&o) != NATS_OK || natsOptions_SetURL(o, fx->url) != NATS_OK ||
        natsOptions_SetMaxReconnect(o, -1) != NATS_OK ||
        natsOptions_SetReconnectWait(o, reconnect_ms) != NATS_OK ||
        natsOptions_SetTimeout(o, 2000) != NATS_OK ||
        (on_reconnected && natsOptions_SetReconnectedCB(o, on_reconnected, arg) != NATS_OK)) {
        fprintf(stderr, "nats_fixture: options: %s\n", nats_GetLastError(NULL));
        abort();
    }
    natsStatus s = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        fprintf(stderr, "nats_fixture: connect %s: %s\n", fx->url, nats_GetLastError(NULL));
        abort();
    }
    return nc;
}

/* Run the loop until done(arg) or ms pass; returns done(arg). */
static int nats_fx_run_until(uv_loop_t *loop, int (*done)(void *), void *arg, long ms)
{
    for (long t = 0; t < ms; t += 10) {
        uv_run(loop, UV_RUN_NOWAIT);
        if (done(arg))
            return 1;
        nats_fx_sleep_ms(10);
    }
    uv_run(loop, UV_RUN_NOWAIT);
    return done(arg);
}

/* Run the loop for ms. */
static void nats_fx_run_for(uv_loop_t *loop, long ms)
{
    for (long t = 0; t < ms; t += 10) {
        uv_run(loop, UV_RUN_NOWAIT);
        nats_fx_sleep_ms(10);
    }
}

#endif
