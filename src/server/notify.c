/*
 * notify.c - the node's state for its supervisor and load balancers:
 * systemd's notify protocol (READY, RELOADING, STOPPING, the watchdog
 * ping; sd_notify() does nothing when NOTIFY_SOCKET is unset) and the
 * reason GET /readyz gives while the node is not ready.
 *
 * Ready means: the store is open and its startup state loaded, every input
 * listens (the ports file is written), the store keeps up with the writes
 * and the node is not stopping.  The watchdog ping runs on the loop, so a
 * loop that stops turning stops it and systemd restarts the service.
 */
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "server/server.h"

static void on_watchdog(uv_timer_t *t)
{
    KZ_UNUSED(t);
    sd_notify(0, "WATCHDOG=1");
}

/* Ping at half of WatchdogSec= when systemd asked for it (WATCHDOG_USEC). */
static void start_watchdog(struct kz_server *srv)
{
    uint64_t usec = 0;
    uint64_t ms;

    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    ms = usec / 2000 ? usec / 2000 : 1;
    uv_timer_init(&srv->loop, &srv->watchdog);
    uv_timer_start(&srv->watchdog, on_watchdog, ms, ms);
    srv->watchdog_on = true;
    kz_log(KZ_LOG_INFO, "systemd watchdog", "interval_ms=%" PRIu64, ms);
}

void kz__server_notify_ready(struct kz_server *srv)
{
    srv->ready = true;
    sd_notifyf(0, "READY=1\nSTATUS=serving %u inputs", srv->n_inputs);
    start_watchdog(srv);
}

void kz__server_notify_reloading(struct kz_server *srv, bool done)
{
    if (!srv->ready)
        return;
    if (done)
        sd_notify(0, "READY=1\nSTATUS=serving");
    else
        sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%" PRId64, kz_mono_us());
}

void kz__server_notify_stopping(struct kz_server *srv)
{
    if (srv->ready)
        sd_notify(0, "STOPPING=1\nSTATUS=stopping");
    if (srv->watchdog_on) {
        uv_timer_stop(&srv->watchdog);
        uv_close((uv_handle_t *)&srv->watchdog, NULL);
        srv->watchdog_on = false;
    }
}

static const char *not_ready(void *ud)
{
    struct kz_server *srv = ud;

    if (srv->stopping)
        return "stopping";
    if (!srv->ready)
        return "starting: the store is loading or an input is not listening yet";
    if (kz_store_busy(srv->store))
        return "store: the writes queued for the disk are over the limit";
    return NULL;
}

void kz__server_readyz_init(struct kz_server *srv)
{
    srv->api.not_ready = not_ready;
    srv->api.not_ready_ud = srv;
}
