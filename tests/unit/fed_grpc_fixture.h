/*
 * fed_grpc_fixture.h - what the gRPC engine tests share (test_fed_grpc.c,
 * test_fed_grpc_tls.c): one side of a connection (`struct end`, whose
 * first member is a test transport) and the callbacks by which a server
 * engine answers by path (/t.T/Unary, /t.T/Stream, /t.T/Echo) and a client
 * engine records what it received.
 */
#ifndef KZ_TEST_FED_GRPC_FIXTURE_H
#define KZ_TEST_FED_GRPC_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fed/grpc.h"

#define N_STREAM 10000

/* ---- one side of a connection ---------------------------------------------------- */

struct end {
    struct kz_transport t; /* first: the ops get &t */
    struct end *peer;
    struct kz_grpc *g;
    struct kz_sbuf wire; /* written, not yet delivered */
    kz_transport_write_cb cb;
    void *cb_ud;
    bool busy;
    int feed_rc;
    /* what the tests look at */
    struct kz_grpc_call *call;
    char path[128];
    int calls, messages, ends, end_status, againsb, writable, reject, sent;
    char end_msg[256];
    char header[64]; /* the kept header of the last call, as received */
    size_t bytes, max_queued;
    bool ordered, stream_on_end, big_reply;
};

/* ---- callbacks: the server answers by path, the client records ------------------ */

static void stream_more(struct end *e)
{
    char msg[200];

    while (e->sent < N_STREAM) {
        memset(msg, 'x', sizeof(msg));
        snprintf(msg, sizeof(msg), "%d", e->sent);
        e->sent++;
        int rc = kz_grpc_send(e->call, msg, sizeof(msg));
        size_t q = kz_grpc_queued(e->g);
        e->max_queued = q > e->max_queued ? q : e->max_queued;
        if (rc == KZ_ERR_AGAIN) {
            e->againsb++;
            return;
        }
        assert_int_equal(rc, KZ_OK);
    }
    assert_int_equal(kz_grpc_finish(e->call, 0, NULL), KZ_OK);
}

static int on_call(void *ud, struct kz_grpc_call *c, const char *path)
{
    struct end *e = ud;

    e->calls++;
    snprintf(e->path, sizeof(e->path), "%s", path);
    if (e->reject || strncmp(path, "/t.T/", 5) != 0)
        return KZ_ERR_NOTFOUND;
    e->call = c;
    kz_grpc_call_set_data(c, e);
    if (kz_grpc_call_header(c)) { /* answered with a header of its own */
        snprintf(e->header, sizeof(e->header), "%s", kz_grpc_call_header(c));
        kz_grpc_call_set_header(c, "kz-resume", "ack");
    }
    return KZ_OK;
}

static void on_message(void *ud, struct kz_grpc_call *c, const uint8_t *msg, size_t len)
{
    struct end *e = ud;
    char want[16];

    snprintf(want, sizeof(want), "%d", e->messages);
    if (len < strlen(want) + 1 || memcmp(msg, want, strlen(want) + 1) != 0)
        e->ordered = false;
    e->messages++;
    e->bytes += len;
    if (kz_grpc_call_header(c))
        snprintf(e->header, sizeof(e->header), "%s", kz_grpc_call_header(c));
    if (!strcmp(e->path, "/t.T/Echo"))
        kz_grpc_send(c, msg, len);
}

static void on_end(void *ud, struct kz_grpc_call *c, int status, const char *message)
{
    struct end *e = ud;
    char n[32];

    e->ends++;
    e->end_status = status;
    snprintf(e->end_msg, sizeof(e->end_msg), "%s", message ? message : "");
    if (status != 0 || e->g == NULL || !e->stream_on_end)
        return;
    /* Server role: the request stream ended; answer by path. */
    if (!strcmp(e->path, "/t.T/Stream"))
        return stream_more(e);
    if (!strcmp(e->path, "/t.T/Echo")) {
        kz_grpc_finish(c, 0, NULL);
        return;
    }
    if (e->big_reply) {
        static const char big[4096];
        kz_grpc_send(c, big, sizeof(big));
    } else {
        int len = snprintf(n, sizeof(n), "%d:%zu", e->messages, e->bytes);
        kz_grpc_send(c, n, (size_t)len);
    }
    kz_grpc_finish(c, 0, "done\n100%");
}

static void on_writable(void *ud)
{
    struct end *e = ud;

    e->writable++;
    if (e->call && e->sent && e->sent < N_STREAM)
        stream_more(e);
}

static const struct kz_grpc_cbs cbs = {on_call, on_message, on_end, on_writable};

#endif
