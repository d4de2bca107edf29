/*
 * client.h - what the CoT client subcommands (send, tail, sim) share:
 * parsing -s HOST:PORT, connecting, writing whole buffers, and the stop flag
 * set by SIGINT/SIGTERM.  Internal to src/cli/.
 *
 * Every call here is blocking and meant for a single-threaded command; none
 * of it is used by the server.
 */
#ifndef KZ_CLI_CLIENT_H
#define KZ_CLI_CLIENT_H

#include <signal.h>
#include <stddef.h>

#include "core/core.h"
#include "http/http.h"

#define KZ_CLI_DEFAULT_SERVER "127.0.0.1:8087"

struct kz_cli_server {
    char host[256];
    char port[16];
};

/*
 * Parse "HOST:PORT" or "[V6ADDR]:PORT" into `out`.  Returns KZ_OK or
 * KZ_ERR_INVAL (port missing, not a number in 1..65535, or host too long).
 */
int kz__cli_parse_server(const char *arg, struct kz_cli_server *out);

/*
 * Resolve and connect (blocking).  On success stores a connected TCP socket
 * in *fd and returns KZ_OK; the caller closes it.  On failure returns
 * KZ_ERR_IO (or KZ_ERR_CLOSED when a stop signal interrupted the attempt)
 * and writes the reason to errbuf.
 */
int kz__cli_connect(const struct kz_cli_server *srv, int *fd, char *errbuf, size_t errlen);

/*
 * Write all `len` bytes, retrying partial writes and EINTR.  Returns KZ_OK,
 * KZ_ERR_CLOSED when a stop signal interrupted it, or KZ_ERR_IO with errno
 * set (EPIPE/ECONNRESET when the server went away).
 */
int kz__cli_write_all(int fd, const char *buf, size_t len);

/*
 * Wait until fd is readable or `timeout_ms` passes (-1 = forever).  Returns
 * 1 readable, 0 timeout or interrupted by a signal, -1 error.  The caller
 * re-checks kz__cli_stop after 0.
 */
int kz__cli_wait_readable(int fd, int timeout_ms);

/*
 * Half-close and read (discarding) until the server closes or `timeout_ms`
 * passes.  Closing with unread bytes in our receive buffer would send a
 * reset, and a reset can make the server's kernel discard events it has not
 * read yet.  The caller still closes fd.
 */
void kz__cli_finish(int fd, int timeout_ms);

#define KZ_CLI_MAX_REPLY (16u << 20) /* bytes of an HTTP answer the clients read */

/*
 * One HTTP request to the server's HTTP input (Connection: close; `body`, if
 * not NULL, sent as JSON) and its whole answer, parsed by the HTTP engine's
 * parser.  KZ_OK with *reply set (any status; release it), or an error
 * printed to stderr as "kizuna WHAT: ..." (cannot connect, not HTTP, cut
 * short, over KZ_CLI_MAX_REPLY).
 */
int kz__cli_http(const struct kz_cli_server *srv, const char *what, const char *method,
                 const char *path, const char *body, struct kz_http_reply *reply);

/* Sleep up to `ms`, returning early when a stop signal arrives. */
void kz__cli_sleep_ms(int ms);

/*
 * Ignore SIGPIPE (a vanished server must show up as EPIPE, not kill us) and
 * make SIGINT/SIGTERM set kz__cli_stop.  The handlers are installed without
 * SA_RESTART so blocking calls return EINTR and the loops notice the flag.
 */
void kz__cli_signals(void);

extern volatile sig_atomic_t kz__cli_stop;

/* Next reconnect delay: doubles from 250 ms up to 8 s. */
int kz__cli_backoff_next(int prev_ms);

#endif
