/*
 * limits.c - the process's descriptor budget (security review F13).  At
 * start the soft RLIMIT_NOFILE is raised to the hard limit, and a
 * configuration whose connections could need more descriptors than that is
 * refused, so idle CoT sockets can never starve HTTP, the store or a TLS
 * reload of descriptors.
 *
 * The budget: limits.max_connections CoT streams, plus two descriptors per
 * input (its listening socket and its spare, see net/listener.c), plus
 * KZ__SERVER_HTTP_RESERVE for HTTP (the REST API and /healthz must still
 * answer when CoT sockets fill the budget), plus KZ__SERVER_FD_RESERVE for
 * everything else: stdio and the log, the store's database, journal and
 * users connection, the TLS reload reading certificates and the CRL,
 * libuv's own handles (epoll, signals, async wake-ups, its thread pool) and
 * the alliance model file on reload.  HTTP connections beyond the reserve
 * share what CoT leaves; when descriptors run out anyway, accept refusals
 * are logged and counted (net/listener.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "server/server.h"

#define KZ__SERVER_FD_RESERVE 64
#define KZ__SERVER_HTTP_RESERVE 128
#define KZ__SERVER_RESERVE (KZ__SERVER_FD_RESERVE + KZ__SERVER_HTTP_RESERVE)

/* Descriptors the configuration may need at once. */
static rlim_t budget(const struct kz_config *cfg)
{
    return (rlim_t)cfg->limits->max_connections + 2 * (rlim_t)cfg->inputs_count +
           KZ__SERVER_RESERVE;
}

/* Raise the soft limit as far as the hard one allows; the limit now in force. */
static rlim_t raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return RLIM_INFINITY;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t soft = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            kz_log(KZ_LOG_WARN, "could not raise the descriptor limit",
                   "soft=%llu hard=%llu error=\"%s\"", (unsigned long long)soft,
                   (unsigned long long)rl.rlim_max, strerror(errno));
            rl.rlim_cur = soft;
        }
    }
    return rl.rlim_cur;
}

/* KZ_OK when cfg fits in `have` descriptors; else the error is logged. */
static int check(const struct kz_config *cfg, rlim_t have)
{
    rlim_t need = budget(cfg);
    rlim_t spare = 2 * (rlim_t)cfg->inputs_count + KZ__SERVER_RESERVE;

    if (have == RLIM_INFINITY || need <= have) {
        kz_log(KZ_LOG_INFO, "descriptor budget", "needed=%llu limit=%llu", (unsigned long long)need,
               (unsigned long long)have);
        return KZ_OK;
    }
    kz_log(KZ_LOG_ERROR, "descriptor limit too low for limits.max_connections",
           "max_connections=%u needed=%llu (%u CoT + %llu reserve for HTTP and the rest) "
           "limit=%llu hint=\"lower limits.max_connections to %llu or raise the limit (ulimit "
           "-n, systemd LimitNOFILE=)\"",
           cfg->limits->max_connections, (unsigned long long)need, cfg->limits->max_connections,
           (unsigned long long)spare, (unsigned long long)have,
           have > spare ? (unsigned long long)(have - spare) : 0ull);
    return KZ_ERR_CONFIG;
}

int kz__server_limits_apply(struct kz_server *srv)
{
    return check(srv->cfg, raise_nofile());
}

int kz__server_limits_check(const struct kz_config *cfg)
{
    struct rlimit rl;

    return check(cfg, getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : RLIM_INFINITY);
}
