/*
 * lg_proto.c - just enough MQTT 3.1.1 (QoS 0) and NATS to run the same
 * fan-out workload against mosquitto and nats-server.
 *
 * Each group publishes and subscribes on its own topic ("cot/g<G>" or
 * "cot.g<G>").  A client is ready once the server confirmed its
 * subscription: SUBACK for MQTT, the PONG that follows SUB for NATS.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen.h"

static char pbuf[1 << 17]; /* one outgoing packet */

static int topic(const struct client *c, char *out, size_t cap)
{
    return snprintf(out, cap, o.mode == M_MQTT ? "cot/g%d" : "cot.g%d", c->group);
}

/* ---- MQTT -------------------------------------------------------------- */

static size_t mqtt_remlen(unsigned char *p, size_t len)
{
    size_t i = 0;
    do {
        unsigned char b = len % 128;
        len /= 128;
        p[i++] = (unsigned char)(b | (len ? 0x80 : 0));
    } while (len);
    return i;
}

static size_t mqtt_str(unsigned char *p, const char *s, size_t n)
{
    p[0] = (unsigned char)(n >> 8);
    p[1] = (unsigned char)n;
    memcpy(p + 2, s, n);
    return n + 2;
}

static void mqtt_hello(struct client *c)
{
    unsigned char *p = (unsigned char *)pbuf, body[256];
    char id[48], t[32];
    size_t n = 0, b = 0;
    int idn = snprintf(id, sizeof(id), "kzb-%d-%d", (int)getpid(), c->id);
    int tn = topic(c, t, sizeof(t));

    /* CONNECT: protocol "MQTT" level 4, clean session, keep-alive off. */
    b += mqtt_str(body, "MQTT", 4);
    memcpy(body + b, "\x04\x02\x00\x00", 4);
    b += 4;
    b += mqtt_str(body + b, id, (size_t)idn);
    p[n++] = 0x10;
    n += mqtt_remlen(p + n, b);
    memcpy(p + n, body, b);
    n += b;
    /* SUBSCRIBE packet id 1, one filter at QoS 0. */
    p[n++] = 0x82;
    n += mqtt_remlen(p + n, 2 + 2 + (size_t)tn + 1);
    p[n++] = 0;
    p[n++] = 1;
    n += mqtt_str(p + n, t, (size_t)tn);
    p[n++] = 0;
    client_write(c, pbuf, n);
}

static void mqtt_publish(struct client *c, const char *ev, size_t len)
{
    unsigned char *p = (unsigned char *)pbuf;
    char t[32];
    int tn = topic(c, t, sizeof(t));
    size_t n = 0;

    p[n++] = 0x30;
    n += mqtt_remlen(p + n, 2 + (size_t)tn + len);
    n += mqtt_str(p + n, t, (size_t)tn);
    memcpy(p + n, ev, len);
    client_write(c, pbuf, n + len);
}

static size_t mqtt_frame(struct client *c, const char *buf, size_t n, int64_t now)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t off = 0;

    for (;;) {
        size_t h = off + 1, len = 0, mul = 1;
        if (h >= n)
            return off;
        do {
            if (h >= n)
                return off;
            len += (p[h] & 0x7f) * mul;
            mul *= 128;
        } while (p[h++] & 0x80);
        if (h + len > n)
            return off;
        unsigned type = p[off] >> 4;
        if (type == 3 && len >= 2) {
            size_t skip = 2 + (size_t)(p[h] << 8 | p[h + 1]) + ((p[off] & 6) ? 2 : 0);
            if (skip <= len)
                on_event(c, buf + h + skip, len - skip, now);
        } else if (type == 2 && len >= 2 && p[h + 1] != 0) {
            fprintf(stderr, "loadgen: CONNACK refused, code %u\n", p[h + 1]);
            exit(2);
        } else if (type == 9) {
            c->ready = true;
        }
        off = h + len;
    }
}

/* ---- NATS -------------------------------------------------------------- */

static void nats_hello(struct client *c)
{
    char t[32];
    topic(c, t, sizeof(t));
    int n = snprintf(pbuf, sizeof(pbuf),
                     "CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false,"
                     "\"name\":\"kzb-%d\"}\r\nSUB %s 1\r\nPING\r\n",
                     c->id, t);
    client_write(c, pbuf, (size_t)n);
}

static void nats_publish(struct client *c, const char *ev, size_t len)
{
    char t[32];
    topic(c, t, sizeof(t));
    int h = snprintf(pbuf, sizeof(pbuf), "PUB %s %zu\r\n", t, len);
    memcpy(pbuf + h, ev, len);
    memcpy(pbuf + (size_t)h + len, "\r\n", 2);
    client_write(c, pbuf, (size_t)h + len + 2);
}

static size_t nats_frame(struct client *c, const char *p, size_t n, int64_t now)
{
    size_t off = 0;

    for (;;) {
        const char *crlf = memmem(p + off, n - off, "\r\n", 2);
        if (!crlf)
            return off;
        size_t line = (size_t)(crlf - p) - off, body = off + line + 2;
        if (line > 4 && memcmp(p + off, "MSG ", 4) == 0) {
            const char *sp = memrchr(p + off, ' ', line);
            size_t size = sp ? strtoul(sp + 1, NULL, 10) : 0;
            if (body + size + 2 > n)
                return off;
            on_event(c, p + body, size, now);
            off = body + size + 2;
            continue;
        }
        if (line == 4 && memcmp(p + off, "PING", 4) == 0)
            client_write(c, "PONG\r\n", 6);
        else if (line == 4 && memcmp(p + off, "PONG", 4) == 0)
            c->ready = true;
        else if (line > 4 && memcmp(p + off, "-ERR", 4) == 0)
            fprintf(stderr, "loadgen: nats: %.*s\n", (int)line, p + off);
        off = body;
    }
}

/* ---- dispatch ---------------------------------------------------------- */

void proto_hello(struct client *c)
{
    if (o.mode == M_MQTT)
        mqtt_hello(c);
    else if (o.mode == M_NATS)
        nats_hello(c);
}

void proto_publish(struct client *c, const char *ev, size_t n)
{
    if (o.mode == M_MQTT)
        mqtt_publish(c, ev, n);
    else if (o.mode == M_NATS)
        nats_publish(c, ev, n);
    else
        client_write(c, ev, n);
}

size_t proto_frame(struct client *c, const char *p, size_t n, int64_t now)
{
    return o.mode == M_MQTT ? mqtt_frame(c, p, n, now) : nats_frame(c, p, n, now);
}
