/* listener.c - bind an input's listening socket and hand out connections. */
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "route/route.h"

#define BACKLOG 1024

struct kz_listener {
    uv_tcp_t tcp;
    struct kz_input *input;
    kz_accept_cb cb;
    void *ud;
};

int kz_parse_hostport(const char *s, struct sockaddr_storage *ss)
{
    char host[128];
    const char *colon = strrchr(s, ':');
    char *end;

    if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
        return KZ_ERR_INVAL;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return KZ_ERR_INVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 3 || host[n - 1] != ']')
            return KZ_ERR_INVAL;
        host[n - 1] = '\0';
        return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)ss) ? KZ_ERR_INVAL : KZ_OK;
    }
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) ? KZ_ERR_INVAL : KZ_OK;
}

static void free_listener(uv_handle_t *h)
{
    free(h->data);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct kz_listener *l = server->data;
    if (status < 0) {
        kz_log(KZ_LOG_WARN, "accept failed", "input=%s error=\"%s\"", l->input->conf->name,
               uv_strerror(status));
        return;
    }
    l->cb(l->ud, l->input, l->input->conf, server);
}

static int bound_port(uv_tcp_t *tcp)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len))
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int kz_listener_start(uv_loop_t *loop, struct kz_input *input, kz_accept_cb cb, void *ud,
                      struct kz_listener **out)
{
    struct sockaddr_storage ss;
    const char *name = input->conf->name;
    int rc;

    if (kz_parse_hostport(input->conf->listen, &ss) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "bad listen address", "input=%s listen=%s", name, input->conf->listen);
        return KZ_ERR_CONFIG;
    }
    struct kz_listener *l = kz_xcalloc(1, sizeof(*l));
    l->input = input;
    l->cb = cb;
    l->ud = ud;
    uv_tcp_init(loop, &l->tcp);
    l->tcp.data = l;
    if ((rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0)) == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, BACKLOG, on_connection);
    if (rc) {
        kz_log(KZ_LOG_ERROR, "listen failed", "input=%s listen=%s error=\"%s\"", name,
               input->conf->listen, uv_strerror(rc));
        uv_close((uv_handle_t *)&l->tcp, free_listener);
        return KZ_ERR_IO;
    }
    input->port = bound_port(&l->tcp);
    kz_log(KZ_LOG_INFO, "listening", "input=%s protocol=%s listen=%s port=%d", name,
           kz_input_protocol_name(input->conf->protocol), input->conf->listen, input->port);
    *out = l;
    return KZ_OK;
}

void kz_listener_stop(struct kz_listener *l)
{
    if (l)
        uv_close((uv_handle_t *)&l->tcp, free_listener);
}
