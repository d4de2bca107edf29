/*
 * libFuzzer target: the PROXY protocol header (v1 and v2) as a
 * proxy_protocol input reads it.  Parses the input whole and at every
 * length the reader may stop at; a header found must lie inside the bytes
 * given, be found again with the same length in a longer read, name an
 * address of a family kizuna prints, and every shorter prefix of it must
 * wait for more.  Nothing may crash or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net.h"
#include "net/proxy.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kz_proxy_hdr h, again;
    char why[128], name[64];
    int rc = kz_proxy_parse(data, size, &h, why, sizeof(why));

    check(rc == KZ_OK || rc == KZ_ERR_AGAIN || rc == KZ_ERR_PARSE || rc == KZ_ERR_TOOBIG);
    if (rc == KZ_ERR_PARSE || rc == KZ_ERR_TOOBIG)
        check(why[0] != '\0');
    if (rc != KZ_OK)
        return 0;
    check(h.len > 0 && h.len <= size && h.len <= KZ_PROXY_MAX);
    check(h.version == 1 || h.version == 2);
    if (!h.local) {
        check(h.src.ss_family == AF_INET || h.src.ss_family == AF_INET6);
        check(h.dst.ss_family == h.src.ss_family);
    }
    kz_sockaddr_name((const struct sockaddr *)&h.src, name, sizeof(name));
    check(kz_proxy_parse(data, h.len, &again, why, sizeof(why)) == KZ_OK && again.len == h.len);
    check(memcmp(&again.src, &h.src, sizeof(h.src)) == 0);
    for (size_t i = 0; i < h.len; i++)
        check(kz_proxy_parse(data, i, &again, why, sizeof(why)) == KZ_ERR_AGAIN);
    return 0;
}
