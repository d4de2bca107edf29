/*
 * v1.c - TAK federation v1 on a connection: each message is a 4-byte
 * big-endian length and one FederatedEvent, both ways, with nothing else
 * (no hello: each side knows the other from its certificate).
 */
#include "fed/internal.h"

static void on_message(void *ud, const uint8_t *msg, size_t len)
{
    kz__fed_inbound(ud, msg, len);
}

void kz__fed_v1_start(struct fed_conn *c)
{
    kz__fed_attach(c, NULL); /* v1 has no headers: from our cursor */
}

void kz__fed_v1_data(struct fed_conn *c, const char *data, size_t len)
{
    if (kz_fed_v1_feed(&c->v1r, data, len, on_message, c) != KZ_OK)
        kz__fed_close(c, "v1 message over the size limit");
}

int kz__fed_v1_deliver(struct fed_conn *c, struct kz_rbuf *buf)
{
    kz_fed_v1_frame(buf->data, buf->len, &c->out);
    kz__fed_write(c, NULL, 0); /* what was framed goes out */
    return KZ_OK;
}
